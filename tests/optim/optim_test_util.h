// Shared fixtures for the optimizer tests: a tiny graph whose gradients are real (a row-sparse
// embedding gradient with colliding ids and a dense matrix gradient), and a trainer that runs
// Executor + Optimizer for a few steps on a given backend and returns the final parameters and
// optimizer state.
//   loss = sum(gather(E, ids) * C) + sum(P * C2),  E [R, D] (row-sparse grad), P [R2, D] (dense
//   grad)
#pragma once
#include <cctype>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "engine/executor.h"
#include "engine/ops/ops.h"
#include "engine/rng.h"
#include "optimizers/optimizer.h"
#include "sketch/bf16.h"

namespace sg::testing_optim {

inline std::vector<float> uniform(int64_t n, uint64_t seed, float lo = -1.f, float hi = 1.f) {
  std::vector<float> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = lo + (hi - lo) * rng_uniform(seed, 7, i);
  return v;
}

struct Tiny {
  int64_t R = 40, D = 8, R2 = 12, n = 24;
  Graph g;
  ValueId E, P, ids, C, C2, loss;
  std::map<ValueId, Grad> grads;
  Tiny(int64_t rows = 40, int64_t dim = 8) : R(rows), D(dim) {
    E = g.parameter("emb/W", {R, D});
    P = g.parameter("dense/W", {R2, D});
    ids = g.input("ids", {n}, DType::I32);
    C = g.input("C", {n, D});
    C2 = g.input("C2", {R2, D});
    ValueId a = sum(g, mul(g, gather(g, E, ids), C));
    ValueId b = sum(g, mul(g, P, C2));
    loss = add(g, a, b);
    g.keep(loss);
    grads = g.backward(loss);
  }
};

// A Tiny graph with an Optimizer bound to an Executor on its own backend, ready for
// upload / run / step.
struct TinyRun {
  Tiny t;
  Optimizer opt;
  std::unique_ptr<Backend> be;
  Executor ex;
  TinyRun(const OptimizerConfig& cfg, const std::string& device, int threads, int64_t dim = 8)
      : t(40, dim),
        opt(cfg, t.g, t.grads),
        be(Backend::create(device, threads)),
        ex(t.g, *be, executor_options(opt)) {
    opt.bind(ex, 0);
  }
  static ExecutorOptions executor_options(const Optimizer& o) {
    ExecutorOptions eo;
    eo.extra = o.requests();
    eo.grads_to_keep = o.grads_to_keep();
    return eo;
  }
};

struct TrainResult {
  std::vector<float> E, P;
  std::vector<std::pair<std::string, std::vector<float>>> state;  // bf16 stores decoded
  std::set<std::string> bf16_state;                               // names of the bf16 ones
  float norm = 0;
};

// Runs `steps` optimizer steps on backend `device`; ids collide (drawn from R / id_range rows).
inline TrainResult train_tiny(const OptimizerConfig& cfg, int steps,
                              const std::string& device = "cpu", int threads = 2,
                              int64_t id_range = 0, int64_t dim = 8) {
  TinyRun run(cfg, device, threads, dim);
  Tiny& t = run.t;
  Optimizer& opt = run.opt;
  Executor& ex = run.ex;
  Backend* be = run.be.get();
  auto e0 = uniform(t.R * t.D, 1 + 100 * (dim != 8)), p0 = uniform(t.R2 * t.D, 2);
  ex.upload(t.E, e0.data(), e0.size() * 4);
  ex.upload(t.P, p0.data(), p0.size() * 4);
  const int64_t range = id_range > 0 ? id_range : t.R;
  TrainResult r;
  for (int s = 1; s <= steps; ++s) {
    std::vector<int32_t> ids(t.n);
    for (int64_t i = 0; i < t.n; ++i) ids[i] = static_cast<int32_t>(rng_u64(3, s, i) % range);
    auto c = uniform(t.n * t.D, 100 + s), c2 = uniform(t.R2 * t.D, 200 + s);
    ex.upload(t.ids, ids.data(), ids.size() * 4);
    ex.upload(t.C, c.data(), c.size() * 4);
    ex.upload(t.C2, c2.data(), c2.size() * 4);
    ex.run(s, 9, true);
    opt.step(s);
  }
  be->synchronize();
  r.E = ex.read_f32(t.E);
  r.P = ex.read_f32(t.P);
  r.norm = opt.last_grad_norm();
  for (auto& [name, tensor] : opt.state_tensors()) {
    std::vector<float> host(tensor.numel());
    if (tensor.dtype == DType::BF16) {
      std::vector<uint16_t> bits(tensor.numel());
      be->copy_to_host(bits.data(), tensor.data, tensor.nbytes());
      for (size_t i = 0; i < bits.size(); ++i) host[i] = bf16_to_float(bits[i]);
      r.bf16_state.insert(name);
    } else {
      be->copy_to_host(host.data(), tensor.data, tensor.nbytes());
    }
    r.state.push_back({name, host});
  }
  return r;
}

inline bool bitwise_equal(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::memcmp(&a[i], &b[i], 4) != 0) return false;
  return true;
}

// A readable gtest parameter name: every character outside [A-Za-z0-9] becomes '_', then "_<index>"
// keeps names unique ("emb/W=m:cs:5x" -> "emb_W_m_cs_5x_1").
inline std::string param_test_name(const std::string& text, size_t index) {
  std::string s = text;
  for (char& ch : s)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return s + "_" + std::to_string(index);
}

}  // namespace sg::testing_optim
