// Optimizer and sketch benchmarks at the paper's LM1B sizes (Spring et al. 2019): vocabulary
// V = 793,471, embedding/softmax width d = 256, batch 1024 x BPTT 20 = 20,480 tokens per step.
//   memcpy/<dev>                 the machine's memory bandwidth (bytes read + written per second)
//   sketch_update_query/<dev>    Count-Sketch [3, 52898, 256] (V at 5x): lazy update of 20,480
//                                active rows, then the query of those rows. Traffic model per
//                                iteration: x read (n d) + 3 bucket reads and writes (6 n d) + 3
//                                bucket reads and one output write for the query (4 n d), 4 bytes
//                                each. sketch_update/<dev> and sketch_query/<dev> time the two
//                                halves alone (traffic 7 n d and 4 n d), sketch_update_cu/<dev>
//                                the Count-Min conservative update (one more 3-bucket read).
//   adam_step/<dev>/<layer>/<state>   Optimizer::step only (gradients computed once), Adam, with
//                                dense state, cs-mv (m Count-Sketch, v Count-Min, 5x) or bf16:
//                                embedding: row-sparse gradient of 20,480 rows; sampled softmax:
//                                row-sparse gradient of 28,672 rows (8,192 samples + targets);
//                                full softmax: dense [V, 256] gradient (every row active; V scaled
//                                to SG_BENCH_DENSE_V, default 100,000 on the CPU and 793,471 on
//                                CUDA).
// Rows are unique random ids (the row-sparse format). CUDA entries appear only with a GPU; every
// iteration synchronises the device.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "engine/dispatch.h"
#include "engine/executor.h"
#include "engine/ops/ops.h"
#include "engine/rng.h"
#include "optimizers/optimizer.h"
#include "sketch/sketch_kernels.h"

namespace {
constexpr int64_t kVocab = 793471, kDim = 256, kTokens = 20480, kSampled = 8192;

std::vector<int32_t> unique_ids(int64_t n, int64_t rows, uint64_t seed) {
  std::vector<char> used(rows, 0);
  std::vector<int32_t> ids;
  for (uint64_t k = 0; static_cast<int64_t>(ids.size()) < n; ++k) {
    const int64_t i = sg::rng_u64(seed, 0, k) % rows;
    if (!used[i]) {
      used[i] = 1;
      ids.push_back(static_cast<int32_t>(i));
    }
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::vector<float> randoms(int64_t n, uint64_t seed) {
  std::vector<float> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = sg::rng_uniform(seed, 1, i) - 0.5f;
  return v;
}

void bm_memcpy(benchmark::State& st, const std::string& dev) {
  auto be = sg::Backend::create(dev, 0);
  const size_t bytes = size_t(1) << 28;
  void* a = be->allocate(bytes);
  void* b = be->allocate(bytes);
  be->fill_zero(a, bytes);
  be->fill_zero(b, bytes);
  for (auto _ : st) {
    be->copy(b, a, bytes);
    be->synchronize();
  }
  st.counters["GB/s"] =
      benchmark::Counter(2.0 * bytes * st.iterations() / 1e9, benchmark::Counter::kIsRate);
  st.SetLabel(be->description());
  be->deallocate(b, bytes);
  be->deallocate(a, bytes);
}

// What bm_sketch times: the update and the query, one of them, or the conservative update.
enum class SketchPart { UpdateQuery, Update, Query, UpdateConservative };

void bm_sketch(benchmark::State& st, const std::string& dev, SketchPart part) {
  auto be = sg::Backend::create(dev, 0);
  const int depth = 3;
  const int64_t width = sg::sketch_width(kVocab, 5.0, depth), n = kTokens;
  const size_t table = size_t(depth) * width * kDim * 4, rows = size_t(n) * kDim * 4;
  const sg::SketchUpdate mode = part == SketchPart::UpdateConservative
                                    ? sg::SketchUpdate::Conservative
                                    : sg::SketchUpdate::Lazy;
  const size_t ws = sg::sketch_update_workspace_bytes(depth, n, kDim, mode);
  void* t = be->allocate(table);
  void* x = be->allocate(rows);
  void* out = be->allocate(rows);
  void* ids = be->allocate(n * 4);
  void* count = be->allocate(4);
  void* w = be->allocate(ws);
  be->fill_zero(t, table);
  auto h_ids = unique_ids(n, kVocab, 5);
  auto h_x = randoms(n * kDim, 6);
  const int32_t h_count = static_cast<int32_t>(n);
  be->copy_from_host(ids, h_ids.data(), n * 4);
  be->copy_from_host(x, h_x.data(), rows);
  be->copy_from_host(count, &h_count, 4);
  sg::StoreView s;
  s.kind =
      mode == sg::SketchUpdate::Conservative ? sg::StoreKind::CountMin : sg::StoreKind::CountSketch;
  s.data = static_cast<float*>(t);
  s.rows = kVocab;
  s.dim = kDim;
  s.hash = sg::make_sketch_hash(depth, static_cast<uint32_t>(width));
  const bool update = part != SketchPart::Query,
             query = part == SketchPart::UpdateQuery || part == SketchPart::Query;
  auto run_update = [&] {
    SG_DISPATCH(*be, sketch_update, s, static_cast<int32_t*>(ids), static_cast<int32_t*>(count), n,
                static_cast<float*>(x), mode == sg::SketchUpdate::Conservative, 0.9f, 0.1f, mode, w,
                ws);
  };
  if (!update) run_update();  // the query reads a filled sketch
  for (auto _ : st) {
    if (update) run_update();
    if (query)
      SG_DISPATCH(*be, sketch_query_rows, s, static_cast<int32_t*>(ids),
                  static_cast<int32_t*>(count), n, static_cast<float*>(out));
    be->synchronize();
  }
  const double traffic = part == SketchPart::UpdateQuery ? 11.0
                         : part == SketchPart::Update    ? 7.0
                         : part == SketchPart::Query     ? 4.0
                                                         : 10.0;
  st.counters["rows/s"] =
      benchmark::Counter(double(n) * st.iterations(), benchmark::Counter::kIsRate);
  st.counters["GB/s"] = benchmark::Counter(traffic * n * kDim * 4 * st.iterations() / 1e9,
                                           benchmark::Counter::kIsRate);
  st.SetLabel(be->description() + ", sketch " + std::to_string(depth) + "x" +
              std::to_string(width) + "x256");
  be->deallocate(t, table);
  be->deallocate(x, rows);
  be->deallocate(out, rows);
  be->deallocate(ids, n * 4);
  be->deallocate(count, 4);
  be->deallocate(w, ws);
}

// layer: 0 embedding (20,480 sparse rows), 1 sampled softmax (28,672 sparse rows), 2 full softmax
// (dense)
void bm_adam(benchmark::State& st, const std::string& dev, int layer, const std::string& state) {
  auto be = sg::Backend::create(dev, 0);
  int64_t V = kVocab;
  if (layer == 2) {
    const char* env = std::getenv("SG_BENCH_DENSE_V");
    V = env ? std::atoll(env) : (dev == "cpu" ? 100000 : kVocab);
  }
  sg::Graph g;
  const std::string name = layer == 0 ? "embedding/W" : "softmax/W";
  sg::ValueId W = g.parameter(name, {V, kDim});
  sg::ValueId loss, ids = sg::kNoValue, C;
  const int64_t n = layer == 0 ? kTokens : kTokens + kSampled;
  if (layer < 2) {
    ids = g.input("ids", {n}, sg::DType::I32);
    C = g.input("C", {n, kDim});
    loss = sg::sum(g, sg::mul(g, sg::gather(g, W, ids), C));
  } else {
    C = g.input("C", {V, kDim});
    loss = sg::sum(g, sg::mul(g, W, C));
  }
  auto grads = g.backward(loss);
  sg::OptimizerConfig cfg;
  cfg.lr = 4e-3f;
  cfg.state = state;
  sg::Optimizer opt(cfg, g, grads);
  sg::Executor ex(g, *be, sg::ExecutorOptions{{}, opt.requests(), opt.grads_to_keep()});
  opt.bind(ex, 0);
  if (layer < 2) {
    auto h = unique_ids(n, V, 7);
    ex.upload(ids, h.data(), n * 4);
    auto c = randoms(n * kDim, 8);
    ex.upload(C, c.data(), c.size() * 4);
  } else {
    auto c = randoms(V * kDim, 8);
    ex.upload(C, c.data(), c.size() * 4);
  }
  ex.run(1, 1, true);
  int64_t t = 1;
  for (auto _ : st) {
    opt.step(t++);
    be->synchronize();
  }
  size_t state_bytes = 0;
  for (auto& [nm, tensor] : opt.state_tensors()) state_bytes += tensor.nbytes();
  st.counters["rows/s"] =
      benchmark::Counter(double(layer < 2 ? n : V) * st.iterations(), benchmark::Counter::kIsRate);
  st.counters["state_MB"] = double(state_bytes) / 1e6;
  st.SetLabel(be->description() + ", V=" + std::to_string(V));
}
}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> devices = {"cpu"};
  if (sg::Backend::cuda_available()) devices.push_back("cuda");
  const char* layers[] = {"embedding_sparse", "softmax_sampled_sparse", "softmax_full_dense"};
  for (const std::string& dev : devices) {
    benchmark::RegisterBenchmark(("memcpy/" + dev).c_str(), bm_memcpy, dev)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
    const std::pair<const char*, SketchPart> parts[] = {
        {"sketch_update_query/", SketchPart::UpdateQuery},
        {"sketch_update/", SketchPart::Update},
        {"sketch_query/", SketchPart::Query},
        {"sketch_update_cu/", SketchPart::UpdateConservative}};
    for (const auto& [name, part] : parts)
      benchmark::RegisterBenchmark((name + dev).c_str(), bm_sketch, dev, part)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
    for (int layer = 0; layer < 3; ++layer)
      for (const char* state : {"dense", "cs-mv", "bf16"})
        benchmark::RegisterBenchmark(
            ("adam_step/" + dev + "/" + layers[layer] + "/" + state).c_str(), bm_adam, dev, layer,
            std::string(state))
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime();
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
