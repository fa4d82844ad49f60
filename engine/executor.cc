// Executor: graph -> buffer requests -> plan -> two arena allocations -> bound tensors -> op
// sequence (see executor.h for the lifetime rules). All per-op contexts are built once here, so
// run() allocates nothing.
#include "engine/executor.h"

#include <algorithm>
#include <chrono>
#include <map>

namespace sg {

GraphRequests collect_requests(const Graph& g, const ExecutorOptions& opts) {
  const auto& values = g.values();
  const auto& nodes = g.nodes();
  const int n_nodes = static_cast<int>(nodes.size());
  GraphRequests out;

  // Last use of every value.
  std::vector<int> last(values.size(), -1);
  for (int i = 0; i < n_nodes; ++i)
    for (ValueId v : nodes[i].inputs) last[v] = std::max(last[v], i);
  for (ValueId v : g.kept()) last[v] = n_nodes;
  for (ValueId v : opts.grads_to_keep) last[v] = n_nodes;

  out.value_request.assign(values.size(), -1);
  for (size_t v = 0; v < values.size(); ++v) {
    const Value& val = values[v];
    if (opts.external.count(val.name)) continue;
    BufferRequest r;
    r.name = val.name;
    r.layer = val.layer.empty() ? "model" : val.layer;
    r.bytes = static_cast<size_t>(val.shape.numel()) * dtype_size(val.dtype);
    r.category = val.category;
    if (category_is_persistent(val.category)) {
      r.arena = Arena::Persistent;
    } else {
      r.arena = Arena::Step;
      r.first = val.producer < 0 ? 0 : val.producer;
      r.last = std::max(r.first, last[v]);
    }
    out.value_request[v] = static_cast<int>(out.requests.size());
    out.requests.push_back(std::move(r));
  }
  out.workspace_request.assign(nodes.size(), -1);
  for (int i = 0; i < n_nodes; ++i) {
    size_t ws = nodes[i].op->workspace_bytes(g, nodes[i]);
    if (ws == 0) continue;
    BufferRequest r;
    r.name = nodes[i].op->type() + "#" + std::to_string(i) + ".workspace";
    r.layer = nodes[i].layer.empty() ? "model" : nodes[i].layer;
    r.bytes = ws;
    r.category = Category::Workspace;
    r.arena = Arena::Step;
    r.first = r.last = i;
    out.workspace_request[i] = static_cast<int>(out.requests.size());
    out.requests.push_back(std::move(r));
  }
  if (opts.gemm_scratch_bytes > 0) {
    BufferRequest r;
    r.name = "gemm workspace";
    r.layer = "gemm workspace";
    r.bytes = opts.gemm_scratch_bytes;
    r.category = Category::Workspace;
    r.arena = Arena::Step;
    r.first = 0;
    r.last = std::max(n_nodes - 1, 0);
    out.gemm_workspace_request = static_cast<int>(out.requests.size());
    out.requests.push_back(std::move(r));
  }
  out.extra_begin = out.requests.size();
  for (BufferRequest r : opts.extra) {
    if (r.arena == Arena::Step) {
      if (r.first == kOptimizerPhase) r.first = n_nodes;
      if (r.last == kOptimizerPhase) r.last = n_nodes;
    }
    out.requests.push_back(std::move(r));
  }
  return out;
}

Executor::Executor(const Graph& g, Backend& be, ExecutorOptions opts)
    : g_(g), be_(be), opts_(std::move(opts)) {
  opts_.gemm_scratch_bytes =
      opts_.share_gemm_scratch ? 0 : gemm_workspace_bytes(be.device(), be.threads());
  const auto& values = g.values();
  const auto& nodes = g.nodes();
  const int n_nodes = static_cast<int>(nodes.size());
  bound_.resize(values.size());
  for (size_t v = 0; v < values.size(); ++v) {
    auto ext = opts_.external.find(values[v].name);
    if (ext == opts_.external.end()) continue;
    const Tensor& t = ext->second;
    SG_CHECK(t.shape == values[v].shape && t.dtype == values[v].dtype && t.device == be.device(),
             "external tensor for '", values[v].name, "' has shape ", t.shape.str(),
             " but the graph expects ", values[v].shape.str());
    bound_[v] = t;
  }
  GraphRequests gr = collect_requests(g, opts_);
  requests_ = std::move(gr.requests);
  value_request_ = std::move(gr.value_request);
  workspace_request_ = std::move(gr.workspace_request);
  const size_t extra_begin = gr.extra_begin;

  // Checked before the arenas exist: a throwing constructor runs no destructor to free them.
  SG_CHECK(!opts_.share_gemm_scratch || &opts_.share_gemm_scratch->be_ == &be_,
           "an executor can share GEMM scratch only with one on the same backend");
  plan_ = plan_memory(requests_);
  auto arena = [&](size_t bytes, const char* which) {
    try {
      return be_.allocate(bytes);
    } catch (const Error& e) {
      SG_FAIL("the planned ", which, " arena of ", format_bytes(bytes), " cannot be allocated (",
              e.what(),
              "); `sketchgrad plan` with the same flags shows where the memory goes, and "
              "`plan --budget SIZE` finds the largest batch that fits");
    }
  };
  persistent_ = arena(plan_.persistent_bytes, "persistent");
  try {
    step_ = arena(plan_.step_bytes, "per-step");
  } catch (...) {
    be_.deallocate(persistent_, plan_.persistent_bytes);
    throw;
  }
  be_.fill_zero(persistent_, plan_.persistent_bytes);
  be_.fill_zero(step_, plan_.step_bytes);

  auto address = [&](size_t req) {
    char* base =
        static_cast<char*>(requests_[req].arena == Arena::Persistent ? persistent_ : step_);
    return static_cast<void*>(base + plan_.offsets[req]);
  };
  for (size_t v = 0; v < values.size(); ++v) {
    if (value_request_[v] < 0) continue;
    bound_[v] = Tensor{values[v].shape, values[v].dtype, be.device(), address(value_request_[v])};
  }
  extra_ptrs_.resize(opts_.extra.size());
  for (size_t i = 0; i < opts_.extra.size(); ++i) extra_ptrs_[i] = address(extra_begin + i);
  if (opts_.share_gemm_scratch) {
    gemm_scratch_ = opts_.share_gemm_scratch->gemm_scratch_;
    gemm_scratch_bytes_ = opts_.share_gemm_scratch->gemm_scratch_bytes_;
  } else if (opts_.gemm_scratch_bytes > 0) {
    gemm_scratch_ = address(static_cast<size_t>(gr.gemm_workspace_request));
    gemm_scratch_bytes_ = opts_.gemm_scratch_bytes;
  }

  contexts_.reserve(nodes.size());
  for (int i = 0; i < n_nodes; ++i) {
    OpContext ctx{be_, nodes[i], {}, {}, nullptr, 0, 0, 0, true};
    for (ValueId v : nodes[i].inputs) ctx.inputs.push_back(bound_[v]);
    for (ValueId v : nodes[i].outputs) ctx.outputs.push_back(bound_[v]);
    if (workspace_request_[i] >= 0) {
      ctx.workspace = address(workspace_request_[i]);
      ctx.workspace_bytes = requests_[workspace_request_[i]].bytes;
    }
    contexts_.push_back(std::move(ctx));
  }
}

Executor::~Executor() {
  be_.deallocate(step_, plan_.step_bytes);
  be_.deallocate(persistent_, plan_.persistent_bytes);
}

void Executor::run(int64_t step, uint64_t seed, bool training, bool forward_only) {
  int end = static_cast<int>(contexts_.size());
  if (forward_only && g_.num_forward_nodes() >= 0) end = g_.num_forward_nodes();
  // This executor's products pack into its planned scratch while it runs (unbound after, also when
  // an op throws, so no pointer into a freed arena is left behind).
  struct ScratchBinding {
    Backend& be;
    ScratchBinding(Backend& b, void* p, size_t n) : be(b) { be.bind_gemm_scratch(p, n); }
    ~ScratchBinding() { be.bind_gemm_scratch(nullptr, 0); }
  } binding(be_, gemm_scratch_, gemm_scratch_bytes_);
  for (int i = 0; i < end; ++i) {
    OpContext& ctx = contexts_[i];
    ctx.step = step;
    ctx.seed = seed;
    ctx.training = training;
    if (!profiling_) {
      ctx.node.op->run(ctx);
      continue;
    }
    auto t0 = std::chrono::steady_clock::now();
    ctx.node.op->run(ctx);
    be_.synchronize();
    op_seconds_[i] += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ++op_calls_[i];
  }
}

void Executor::set_profiling(bool on) {
  profiling_ = on;
  op_seconds_.assign(contexts_.size(), 0.0);
  op_calls_.assign(contexts_.size(), 0);
}

std::vector<OpProfile> Executor::profile() const {
  std::map<std::string, OpProfile> by_key;
  for (size_t i = 0; i < op_calls_.size(); ++i) {
    if (!op_calls_[i]) continue;
    const Node& n = g_.nodes()[i];
    std::string key = n.op->type() + (n.backward ? " (backward)" : "");
    OpProfile& p = by_key[key];
    p.op = key;
    p.calls += op_calls_[i];
    p.seconds += op_seconds_[i];
  }
  std::vector<OpProfile> out;
  for (auto& kv : by_key) out.push_back(kv.second);
  std::sort(out.begin(), out.end(),
            [](const OpProfile& a, const OpProfile& b) { return a.seconds > b.seconds; });
  return out;
}

Tensor Executor::tensor(ValueId v) const {
  SG_CHECK(v >= 0 && static_cast<size_t>(v) < bound_.size(), "invalid value id ", v);
  return bound_[v];
}

Tensor Executor::tensor(const std::string& name) const {
  const auto& values = g_.values();
  for (size_t v = 0; v < values.size(); ++v)
    if (values[v].name == name) return bound_[v];
  SG_FAIL("no value named '", name, "' in the graph");
}

void* Executor::extra(size_t i) const {
  SG_CHECK(i < extra_ptrs_.size(), "extra buffer ", i, " out of range");
  return extra_ptrs_[i];
}

Tensor Executor::extra_tensor(size_t i, Shape shape, DType dtype) const {
  SG_CHECK(static_cast<size_t>(shape.numel()) * dtype_size(dtype) <= opts_.extra.at(i).bytes,
           "extra buffer '", opts_.extra[i].name, "' is smaller than shape ", shape.str());
  return Tensor{std::move(shape), dtype, be_.device(), extra(i)};
}

void Executor::upload(ValueId v, const void* host, size_t bytes) {
  Tensor t = tensor(v);
  SG_CHECK(bytes == t.nbytes(), "upload of ", bytes, " bytes into '", g_.value(v).name, "' of ",
           t.nbytes());
  be_.upload(t.data, host, bytes);
}

void Executor::download(ValueId v, void* host, size_t bytes) const {
  Tensor t = tensor(v);
  SG_CHECK(bytes == t.nbytes(), "download of ", bytes, " bytes from '", g_.value(v).name, "' of ",
           t.nbytes());
  be_.copy_to_host(host, t.data, bytes);
}

std::vector<float> Executor::read_f32(ValueId v) const {
  Tensor t = tensor(v);
  std::vector<float> out(static_cast<size_t>(t.numel()));
  be_.copy_to_host(out.data(), t.data, t.nbytes());
  return out;
}

}  // namespace sg
