// Optimizer: planning of state and temporaries, binding, and the step (see optimizer.h).
#include "optimizers/optimizer.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "engine/dispatch.h"
#include "optimizers/optim_kernels.h"
#include "sketch/sketch_kernels.h"

namespace sg {

namespace {
Category category_of(StoreKind k) {
  if (k == StoreKind::CountSketch || k == StoreKind::CountMin) return Category::OptStateSketch;
  if (k == StoreKind::Cover) return Category::OptStateCover;
  return Category::OptStateDense;
}
void check_config(const OptimizerConfig& c) {
  auto finite = [](float x) { return std::isfinite(x); };
  SG_CHECK(finite(c.lr) && c.lr >= 0, "optimizer: lr must be finite and >= 0, got ", c.lr);
  SG_CHECK(c.beta1 >= 0 && c.beta1 < 1, "optimizer: beta1 must be in [0, 1), got ", c.beta1);
  SG_CHECK(c.beta2 >= 0 && c.beta2 < 1, "optimizer: beta2 must be in [0, 1), got ", c.beta2);
  SG_CHECK(finite(c.eps) && c.eps > 0, "optimizer: eps must be > 0, got ", c.eps);
  SG_CHECK(c.momentum >= 0 && c.momentum < 1, "optimizer: momentum must be in [0, 1), got ",
           c.momentum);
  SG_CHECK(finite(c.weight_decay) && c.weight_decay >= 0, "optimizer: weight_decay must be >= 0");
  SG_CHECK(finite(c.clip) && c.clip >= 0, "optimizer: clip must be >= 0 (0 = off), got ", c.clip);
  SG_CHECK(finite(c.clip_per_param) && c.clip_per_param >= 0,
           "optimizer: clip_per_param must be >= 0 (0 = off), got ", c.clip_per_param);
  SG_CHECK(c.sparsify > 0 && c.sparsify <= 1, "optimizer: sparsify must be in (0, 1], got ",
           c.sparsify);
}
}  // namespace

Optimizer::Optimizer(const OptimizerConfig& cfg, const Graph& g,
                     const std::map<ValueId, Grad>& grads)
    : cfg_(cfg),
      rule_(parse_rule(cfg.rule)),
      schedule_(LrSchedule::parse(cfg.schedule, cfg.total_steps)),
      policy_(StatePolicy::parse(cfg.state)) {
  check_config(cfg);
  SG_CHECK(!grads.empty(), "optimizer: no parameter has a gradient");
  for (const auto& [name, ms] : policy_.entries()) {
    bool found = false;
    for (const auto& kv : grads) found = found || g.value(kv.first).name == name;
    SG_CHECK(found, "state policy names '", name, "', which is not a trained parameter");
  }
  size_t ws = 256;
  for (const auto& [vid, grad] : grads) {
    const Value& val = g.value(vid);
    SG_CHECK(val.dtype == DType::F32, "optimizer: parameter '", val.name, "' is not f32");
    SG_CHECK(grad.defined(), "optimizer: parameter '", val.name, "' has an undefined gradient");
    Param p;
    p.name = val.name;
    p.value = vid;
    p.grad = grad;
    p.rank = val.shape.rank();
    p.rows = p.rank == 0 ? 1 : val.shape[0];
    p.dim = p.rows > 0 ? val.shape.numel() / p.rows : 0;
    p.sparse = grad.is_sparse();
    if (p.sparse) {
      const Shape& rs = g.value(grad.sparse.rows).shape;
      SG_CHECK(rs.rank() == 2 && rs[1] == p.dim, "optimizer: row-sparse gradient of '", p.name,
               "' has rows ", rs.str(), " for a parameter of shape ", val.shape.str());
      p.n = rs[0];
    } else {
      SG_CHECK(g.value(grad.dense).shape == val.shape, "optimizer: gradient of '", p.name,
               "' has shape ", g.value(grad.dense).shape.str(), ", parameter ", val.shape.str());
      p.n = p.rows;
    }
    p.rule = rule_;
    if ((rule_ == RuleKind::Sm3 || rule_ == RuleKind::Sm3Momentum) && p.rank < 2)
      p.rule = RuleKind::Adagrad;  // vectors: dense adagrad
    const bool sparsified =
        rule_ == RuleKind::TopK || rule_ == RuleKind::RandK || rule_ == RuleKind::TopKNoFeedback;
    if (sparsified && p.sparse)
      p.rule = RuleKind::Sgd;  // row-sparse rows are exchanged, not compressed
    const ParamShapeInfo info{p.rows, p.dim, p.rank, p.sparse};
    const MomentStores ms = policy_.resolve(p.name, info, rule_has_m(p.rule), rule_has_v(p.rule),
                                            p.rule == RuleKind::Adam || p.rule == RuleKind::AdamW);
    const std::string layer = val.layer.empty() ? "model" : val.layer;
    if (rule_has_m(p.rule)) {
      p.m.spec = ms.m;
      add_state(p, p.m, "m", layer);
    }
    if (rule_has_v(p.rule)) {
      p.v.spec = ms.v;
      if (p.v.spec.kind == StoreKind::CountMin && p.v.spec.clean_every < 0) {
        const bool ema =
            p.rule == RuleKind::Adam || p.rule == RuleKind::AdamW || p.rule == RuleKind::RmsProp;
        p.v.spec.clean_every = ema ? 1000 : 0;  // authors' code: x0.25 every 1000 steps
      }
      add_state(p, p.v, "v", layer);
    }
    if (p.rule == RuleKind::Sm3 || p.rule == RuleKind::Sm3Momentum) {
      p.v.spec.kind = StoreKind::Cover;
      add_state(p, p.v, "v", layer);
      if (!p.sparse) ws = std::max(ws, static_cast<size_t>(p.dim) * sizeof(float));
    }
    if (sparsified && !p.sparse) {
      p.e.spec.kind = StoreKind::Residual;
      add_state(p, p.e, "e", layer);
      ws = std::max(ws, ef_workspace_bytes());
    }
    for (const Slot* s : {&p.m, &p.v})
      if (s->view.is_sketch())
        ws = std::max(ws, sketch_update_workspace_bytes(s->spec.depth, p.n, p.dim, s->spec.update));
    params_.push_back(std::move(p));
  }
  BufferRequest w{"optimizer/workspace", "optimizer",    ws, Category::Workspace, Arena::Step,
                  kOptimizerPhase,       kOptimizerPhase};
  workspace_req_ = static_cast<int>(requests_.size());
  requests_.push_back(w);
  BufferRequest nr{"optimizer/grad_norm",
                   "optimizer",
                   (params_.size() * (kNormPartials + 2) + 2) * sizeof(float),
                   Category::Workspace,
                   Arena::Step,
                   kOptimizerPhase,
                   kOptimizerPhase};
  norm_req_ = static_cast<int>(requests_.size());
  requests_.push_back(nr);
}

void Optimizer::add_state(Param& p, Slot& s, const std::string& moment, const std::string& layer) {
  const StoreKind k = s.spec.kind;
  s.view.kind = k;
  s.view.rows = p.rows;
  s.view.dim = p.dim;
  if (k == StoreKind::None) return;  // no memory: the rule uses m = g (step_param)
  if (k == StoreKind::CountSketch || k == StoreKind::CountMin) {
    const int64_t width = sketch_width(p.rows, s.spec.compression, s.spec.depth);
    SG_CHECK(static_cast<uint64_t>(width) * s.spec.depth < (1ull << 32), "sketch of '", p.name,
             "' is too wide");
    s.view.hash =
        make_sketch_hash(s.spec.depth, static_cast<uint32_t>(width), 0, s.spec.identity_hash);
    s.shape = Shape{s.spec.depth, width, p.dim};
    s.host_seeds.resize(2 * s.spec.depth);
    for (int j = 0; j < s.spec.depth; ++j) {
      s.host_seeds[2 * j] = static_cast<int32_t>(s.view.hash.a[j]);
      s.host_seeds[2 * j + 1] = static_cast<int32_t>(s.view.hash.b[j]);
    }
  } else if (k == StoreKind::Bf16) {
    s.shape = Shape{p.rows, p.dim};
    // Its own rounding stream: parameter index and moment (m, v) under the run's seed.
    s.view.round_seed =
        mix64(cfg_.seed * 0x9e3779b97f4a7c15ull + 2 * params_.size() + (moment == "v" ? 1 : 0));
  } else if (k == StoreKind::Cover) {
    s.shape = Shape{p.rows};
    if (!p.sparse) s.col_shape = Shape{p.dim};
  } else {
    s.shape = Shape{p.rows, p.dim};
  }
  const std::string base = p.name + "/" + moment;
  const size_t elem = k == StoreKind::Bf16 ? sizeof(uint16_t) : sizeof(float);
  auto add = [&](const std::string& name, const Shape& shape, Category cat) {
    // Whole 4-byte words (bind views every buffer as f32 words; bf16 stores of odd size).
    const size_t bytes = (static_cast<size_t>(shape.numel()) * elem + 3) / 4 * 4;
    BufferRequest r{name, layer, bytes, cat, Arena::Persistent, 0, 0};
    requests_.push_back(r);
    return static_cast<int>(requests_.size()) - 1;
  };
  if (k == StoreKind::Cover) {
    s.req = add(base + ".row", s.shape, Category::OptStateCover);
    if (!p.sparse) s.col_req = add(base + ".col", s.col_shape, Category::OptStateCover);
  } else {
    s.req = add(base, s.shape, category_of(k));
  }
  if (s.view.is_sketch()) s.hash_req = add(base + ".hash", Shape{s.spec.depth, 2}, category_of(k));
}

std::vector<ValueId> Optimizer::grads_to_keep() const {
  std::vector<ValueId> out;
  for (const Param& p : params_)
    for (ValueId v : p.grad.values()) out.push_back(v);
  return out;
}

void Optimizer::bind(Executor& ex, size_t first_extra) {
  be_ = &ex.backend();
  auto ptr = [&](int req) {  // extra_tensor checks that the executor's buffer is large enough
    const size_t words = (requests_[req].bytes + 3) / 4;
    return ex.extra_tensor(first_extra + req, Shape{static_cast<int64_t>(words)}).data;
  };
  workspace_ = ptr(workspace_req_);
  workspace_bytes_ = requests_[workspace_req_].bytes;
  norm_ = static_cast<float*>(ptr(norm_req_));
  for (Param& p : params_) {
    p.w = ex.tensor(p.value).f32();
    if (p.sparse) {
      p.ids = ex.tensor(p.grad.sparse.ids).i32();
      p.g = ex.tensor(p.grad.sparse.rows).f32();
      p.count = ex.tensor(p.grad.sparse.count).i32();
    } else {
      p.g = ex.tensor(p.grad.dense).f32();
    }
    for (Slot* s : {&p.m, &p.v, &p.e}) {
      if (s->req < 0) continue;
      s->view.data = static_cast<float*>(ptr(s->req));
      if (s->col_req >= 0) s->view.col = static_cast<float*>(ptr(s->col_req));
      if (s->hash_req >= 0) {
        s->seeds = static_cast<int32_t*>(ptr(s->hash_req));
        be_->copy_from_host(s->seeds, s->host_seeds.data(), s->host_seeds.size() * sizeof(int32_t));
      }
    }
  }
  seeds_synced_ = false;
}

void Optimizer::sync_seeds() {
  for (Param& p : params_)
    for (Slot* s : {&p.m, &p.v}) {
      if (!s->seeds) continue;
      be_->copy_to_host(s->host_seeds.data(), s->seeds, s->host_seeds.size() * sizeof(int32_t));
      for (int j = 0; j < s->spec.depth; ++j) {
        s->view.hash.a[j] = static_cast<uint32_t>(s->host_seeds[2 * j]);
        s->view.hash.b[j] = static_cast<uint32_t>(s->host_seeds[2 * j + 1]);
      }
    }
  seeds_synced_ = true;
}

float Optimizer::learning_rate(int64_t step) const {
  return static_cast<float>(cfg_.lr * schedule_.factor(step));
}

void Optimizer::step(int64_t t) {
  SG_CHECK(be_, "Optimizer::step called before bind");
  SG_CHECK(t >= 1, "Optimizer::step: steps count from 1, got ", t);
  if (!seeds_synced_) sync_seeds();  // once after bind: picks up seeds loaded from a checkpoint
  Backend& be = *be_;
  const int64_t np = static_cast<int64_t>(params_.size());
  for (int64_t i = 0; i < np; ++i) {
    const Param& p = params_[i];
    SG_DISPATCH(be, grad_sum_squares, p.g, p.count, p.n, p.dim, norm_ + i * kNormPartials);
  }
  float* norm_out = norm_ + np * kNormPartials;
  SG_DISPATCH(be, grad_clip_scale, norm_, np * kNormPartials, cfg_.clip, norm_out);
  // Per-group clipping (one group per parameter, as the LM1B recipes clip the LSTM and the softmax
  // separately): each gradient is first scaled to at most clip_per_param by its own norm. Both
  // clips use the norms of the raw gradients, so their order does not matter.
  if (cfg_.clip_per_param > 0)
    for (int64_t i = 0; i < np; ++i) {
      Param& p = params_[i];
      float* own = norm_out + 2 + 2 * i;
      SG_DISPATCH(be, grad_clip_scale, norm_ + i * kNormPartials, kNormPartials,
                  cfg_.clip_per_param, own);
      SG_DISPATCH(be, prepare_grad, p.g, p.ids, p.count, p.n, p.dim, own + 1, 0.f, p.w);
    }
  const float lr = learning_rate(t);
  for (Param& p : params_) step_param(p, t, lr, cfg_.clip > 0 ? norm_out + 1 : nullptr);
}

void Optimizer::step_param(Param& p, int64_t t, float lr, const float* gscale) {
  Backend& be = *be_;
  p.m.view.round_step = p.v.view.round_step = t;  // bf16 stores: this step's rounding bits
  const float l2 = p.rule == RuleKind::AdamW ? 0.f : cfg_.weight_decay;
  if (gscale || l2 != 0.f)
    SG_DISPATCH(be, prepare_grad, p.g, p.ids, p.count, p.n, p.dim, gscale, l2, p.w);

  if (p.rule == RuleKind::Sm3 || p.rule == RuleKind::Sm3Momentum) {
    // sm3-momentum: the covers turn g into u = g / (sqrt(nu) + eps) in place, then the momentum
    // rule in its EMA form runs on u with m in its store (dense or sketched).
    float* u = p.rule == RuleKind::Sm3Momentum ? p.g : nullptr;
    if (p.sparse)
      SG_DISPATCH(be, sm3_rows_step, lr, cfg_.eps, p.w, p.ids, p.count, p.n, p.dim, p.g,
                  p.v.view.data, u);
    else
      SG_DISPATCH(be, sm3_dense_step, lr, cfg_.eps, p.w, p.g, p.rows, p.dim, p.v.view.data,
                  p.v.view.col, static_cast<float*>(workspace_), u);
    if (!u) return;
    RuleParams r;
    r.rule = RuleKind::Momentum;
    r.lr = r.step_size = lr;
    r.m_decay = cfg_.momentum;
    r.m_scale = 1.f - cfg_.momentum;
    if (p.m.view.is_sketch())
      SG_DISPATCH(be, sketch_update, p.m.view, p.ids, p.count, p.n, p.g, false, r.m_decay,
                  r.m_scale, p.m.spec.update, workspace_, workspace_bytes_);
    SG_DISPATCH(be, apply_rule, r, p.w, p.ids, p.count, p.n, p.dim, p.g, p.m.view, StoreView{});
    return;
  }
  if (p.e.req >= 0) {
    const int64_t numel = p.rows * p.dim;
    const int64_t k =
        std::max<int64_t>(1, std::llround(cfg_.sparsify * static_cast<double>(numel)));
    SG_DISPATCH(be, ef_sparsified_step, p.rule, lr, p.w, p.g, p.e.view.data, numel, k,
                cfg_.sparsify, cfg_.seed, t, workspace_, workspace_bytes_);
    return;
  }
  RuleParams r;
  r.rule = p.rule;
  r.lr = lr;
  r.step_size = lr;
  r.eps = cfg_.eps;
  r.momentum = cfg_.momentum;
  if (p.rule == RuleKind::Momentum || p.rule == RuleKind::Nesterov) {
    r.m_decay = cfg_.momentum;
    r.m_scale = 1.f;
  } else if (p.rule == RuleKind::Adam || p.rule == RuleKind::AdamW) {
    // m:none keeps no first moment: m = g, exactly Adam with beta1 = 0 for this parameter.
    const float beta1 = p.m.view.kind == StoreKind::None ? 0.f : cfg_.beta1;
    r.m_decay = beta1;
    r.m_scale = 1.f - beta1;
    r.v_decay = cfg_.beta2;
    r.v_scale = 1.f - cfg_.beta2;
    const double bc1 = 1.0 - std::pow(static_cast<double>(beta1), static_cast<double>(t));
    const double bc2 = 1.0 - std::pow(static_cast<double>(cfg_.beta2), static_cast<double>(t));
    r.step_size = static_cast<float>(lr * std::sqrt(bc2) / bc1);
    if (p.rule == RuleKind::AdamW) r.wd_factor = 1.f - lr * cfg_.weight_decay;
    const double b1 = beta1, b2 = cfg_.beta2;
    const bool sketched = p.m.view.is_sketch() || p.v.view.is_sketch();
    if (sketched && b1 * b1 < b2 && !p.m.spec.unbounded && !p.v.spec.unbounded)
      r.m_bound =
          static_cast<float>(std::sqrt((1 - b1) * (1 - b1) / ((1 - b2) * (1 - b1 * b1 / b2))));
  } else if (p.rule == RuleKind::RmsProp) {
    r.v_decay = cfg_.beta2;
    r.v_scale = 1.f - cfg_.beta2;
  } else if (p.rule == RuleKind::Adagrad) {
    r.v_decay = 1.f;
    r.v_scale = 1.f;
  }
  // m and v sketches with the same hash and the Lazy update (cs-mv) share one sort and one pass
  // over g; bitwise the same as the two updates below.
  const bool paired =
      p.m.view.is_sketch() && p.v.view.is_sketch() && p.m.spec.update == SketchUpdate::Lazy &&
      p.v.spec.update == SketchUpdate::Lazy && same_buckets(p.m.view.hash, p.v.view.hash);
  if (paired)
    SG_DISPATCH(be, sketch_update_pair, p.m.view, r.m_decay, r.m_scale, p.v.view, r.v_decay,
                r.v_scale, p.ids, p.count, p.n, p.g, workspace_, workspace_bytes_);
  if (p.m.view.is_sketch() && !paired)
    SG_DISPATCH(be, sketch_update, p.m.view, p.ids, p.count, p.n, p.g, false, r.m_decay, r.m_scale,
                p.m.spec.update, workspace_, workspace_bytes_);
  if (p.v.view.is_sketch() && !paired)
    SG_DISPATCH(be, sketch_update, p.v.view, p.ids, p.count, p.n, p.g, true, r.v_decay, r.v_scale,
                p.v.spec.update, workspace_, workspace_bytes_);
  SG_DISPATCH(be, apply_rule, r, p.w, p.ids, p.count, p.n, p.dim, p.g, p.m.view, p.v.view);
  if (p.v.view.kind == StoreKind::CountMin && p.v.spec.clean_every > 0 &&
      t % p.v.spec.clean_every == 0)
    SG_DISPATCH(be, scale_inplace, p.v.view.data, p.v.shape.numel(), p.v.spec.clean_alpha);
}

std::vector<std::string> Optimizer::nonnegative_state() const {
  std::vector<std::string> out;
  for (const Param& p : params_) {
    const Slot& s = p.v;
    if (s.req < 0) continue;
    const std::string base = p.name + "/v";
    if (s.view.kind == StoreKind::Cover) {
      out.push_back(base + ".row");
      if (s.view.col) out.push_back(base + ".col");
    } else if (s.view.kind != StoreKind::CountSketch &&
               !(s.view.kind == StoreKind::CountMin && s.spec.update == SketchUpdate::Paper)) {
      out.push_back(base);
    }
  }
  return out;
}

std::vector<std::pair<std::string, Tensor>> Optimizer::state_tensors() const {
  SG_CHECK(be_, "Optimizer::state_tensors called before bind");
  std::vector<std::pair<std::string, Tensor>> out;
  const Device dev = be_->device();
  for (const Param& p : params_) {
    const std::pair<const Slot*, const char*> slots[] = {{&p.m, "m"}, {&p.v, "v"}, {&p.e, "e"}};
    for (const auto& [s, moment] : slots) {
      if (s->req < 0) continue;
      const std::string base = p.name + "/" + moment;
      if (s->view.kind == StoreKind::Cover) {
        out.push_back({base + ".row", Tensor{s->shape, DType::F32, dev, s->view.data}});
        if (s->view.col)
          out.push_back({base + ".col", Tensor{s->col_shape, DType::F32, dev, s->view.col}});
      } else {
        const DType dt = s->view.kind == StoreKind::Bf16 ? DType::BF16 : DType::F32;
        out.push_back({base, Tensor{s->shape, dt, dev, s->view.data}});
      }
      if (s->seeds)
        out.push_back({base + ".hash", Tensor{Shape{s->spec.depth, 2}, DType::I32, dev, s->seeds}});
    }
  }
  return out;
}

std::vector<std::string> Optimizer::policy_notes() const {
  if (policy_.text() == "dense") return {};
  bool any_state = false;
  std::string kept;  // what the rule keeps, e.g. "m (dense)"
  for (const Param& p : params_) {
    const std::pair<const Slot*, const char*> moments[] = {{&p.m, "m"}, {&p.v, "v"}, {&p.e, "e"}};
    for (const auto& [s, moment] : moments) {
      const StoreKind k = s->spec.kind;  // Dense unless a policy or the rule chose otherwise
      if (k != StoreKind::Dense && k != StoreKind::Cover && k != StoreKind::Residual) return {};
      if (s->req < 0) continue;
      any_state = true;
      const std::string what =
          k == StoreKind::Cover
              ? "SM3 covers"
              : (k == StoreKind::Residual ? "error feedback" : std::string(moment) + " (dense)");
      if (kept.find(what) == std::string::npos) kept += (kept.empty() ? "" : ", ") + what;
    }
  }
  if (!any_state) return {};  // nothing to hold: the app says so (settings_notes)
  return {"note: --state " + policy_.text() + " changes nothing for --optimizer " + cfg_.rule +
          ", which keeps " + kept + ": this run is the same as with --state dense"};
}

std::vector<std::string> Optimizer::sketch_load_notes() const {
  std::vector<std::string> out;
  for (const Param& p : params_) {
    const std::pair<const Slot*, const char*> moments[] = {{&p.m, "m"}, {&p.v, "v"}};
    for (const auto& [s, moment] : moments) {
      // A compression at or under 1x is legal (the lossless sketches of the tests need it) but
      // saves nothing: say so, since it is more likely a typo for 5x than a wish.
      if (s->req < 0 || !s->view.is_sketch() || s->spec.identity_hash) continue;
      const int64_t buckets = static_cast<int64_t>(s->spec.depth) * s->view.hash.width;
      if (buckets < p.rows) continue;
      std::ostringstream os;
      os << "note: " << p.name << "/" << moment << ": its sketch has " << buckets
         << " rows of buckets (" << s->spec.depth << " x " << s->view.hash.width << ") for "
         << p.rows << " rows of the matrix, so it takes at least the memory of dense state "
         << "(compression " << s->spec.compression << "x; above 1x saves memory)";
      out.push_back(os.str());
    }
  }
  for (const Param& p : params_) {
    uint32_t width = 0;
    const Slot* narrowest = nullptr;
    for (const Slot* s : {&p.m, &p.v})
      if (s->req >= 0 && s->view.is_sketch() && (width == 0 || s->view.hash.width < width)) {
        width = s->view.hash.width;
        narrowest = s;
      }
    // A step touches at most every row once: p.n (ids gathered per step) can exceed the rows.
    const int64_t touched = std::min<int64_t>(p.n, p.rows);
    if (width == 0 || touched <= static_cast<int64_t>(width)) continue;
    std::ostringstream os;
    os.precision(2);
    os << "note: " << p.name << ": a step can touch " << (touched < p.n ? "all " : "up to ")
       << touched << " of its " << p.rows << " rows, more than the " << width
       << (width == 1 ? " bucket" : " buckets")  // a tiny table at 5x has one bucket a row
       << " per hash row of its sketch (load " << std::fixed << static_cast<double>(touched) / width
       << "; the paper's LM1B model: 0.39-0.54), so sketched estimates will be noisy and cost "
          "perplexity; ";
    // The largest compression whose width, round(rows / (c * depth)), holds every touched row,
    // rounded down to a tenth so the advice clears the note.
    const int depth = narrowest->spec.depth;
    const double fits =
        std::floor(10.0 * static_cast<double>(p.rows) / (static_cast<double>(depth) * touched)) /
        10.0;
    if (fits > 1.0)
      os << "compression at most " << std::defaultfloat << fits << "x at depth " << depth
         << " (now " << narrowest->spec.compression << "x) keeps the load at or under 1";
    else
      os << "no compression above 1x at depth " << depth
         << " keeps the load under 1: dense state for this table, fewer rows per step (a smaller "
            "batch or sampled softmax) or a larger vocabulary do";
    out.push_back(os.str());
  }
  return out;
}

std::string Optimizer::describe() const {
  std::ostringstream os;
  for (const Param& p : params_) {
    os << p.name << " [" << p.rows << "x" << p.dim << "]" << (p.sparse ? " row-sparse" : "") << " "
       << rule_name(p.rule) << ":";
    const std::pair<const Slot*, const char*> slots[] = {{&p.m, "m"}, {&p.v, "v"}, {&p.e, "e"}};
    bool any = false;
    for (const auto& [s, moment] : slots) {
      if (s == &p.m && s->view.kind == StoreKind::None) {
        os << " m=none (beta1 0)";
        continue;
      }
      if (s->req < 0) continue;
      any = true;
      size_t bytes = requests_[s->req].bytes + (s->col_req >= 0 ? requests_[s->col_req].bytes : 0);
      os << " " << moment << "=" << store_kind_name(s->view.kind);
      if (s->view.is_sketch()) {
        os << "(" << s->spec.depth << "x" << s->view.hash.width << ", "
           << sketch_update_name(s->spec.update);
        if (s->view.kind == StoreKind::CountMin && s->spec.clean_every > 0)
          os << ", clean x" << s->spec.clean_alpha << "/" << s->spec.clean_every;
        os << ")";
      }
      os << " " << format_bytes(bytes);
    }
    if (!any) os << " no state";
    os << "\n";
  }
  return os.str();
}

float Optimizer::last_grad_norm() const {
  SG_CHECK(be_, "Optimizer::last_grad_norm called before bind");
  float v = 0.f;
  be_->copy_to_host(&v, norm_ + params_.size() * kNormPartials, sizeof(float));
  return v;
}

}  // namespace sg
