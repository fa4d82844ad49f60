// Reusable finite-difference gradient checker for graph ops and layers (CPU backend).
//
// grad_check(params, inputs, build) builds a graph: parameters (random values in [lo, hi]), fixed
// data inputs, out = build(g, params, inputs), and the scalar loss L = sum(out * W) with W a fixed
// random input of out's shape. It runs forward + backward through sg::Executor, then compares every
// analytic dL/dp (dense, or row-sparse densified on the host) with the central difference (L(p +
// eps) - L(p - eps)) / (2 eps) of a forward-only run, element by element (all elements, or an
// evenly spaced subset of max_elements per parameter). An element passes when |analytic - numeric|
// <= atol + rtol * |numeric|; failures are reported through ADD_FAILURE with the parameter name,
// index and both values.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "engine/backend.h"
#include "engine/executor.h"
#include "engine/graph.h"
#include "engine/ops/ops.h"
#include "tests/engine/grad_to_host.h"

namespace sg::testing {

struct GradCheckParam {
  std::string name;
  Shape shape;
  float lo = -1.0f, hi = 1.0f;
};

// A fixed data input: f32 values, or i32 values (ids, targets) when i32 is non-empty.
struct GradCheckInput {
  std::string name;
  Shape shape;
  std::vector<float> f32;
  std::vector<int32_t> i32;
};

struct GradCheckOptions {
  float eps = 1e-2f;
  double atol = 2e-3;
  double rtol = 2e-2;
  uint64_t seed = 1234;    // parameter and weight values; also the run seed (dropout)
  int max_elements = 200;  // per parameter
  bool training = true;
  int threads = 2;
};

struct GradCheckResult {
  int checked = 0;
  int failures = 0;
  double max_abs_err = 0.0;
  bool saw_sparse = false;
  std::map<std::string, std::vector<float>> analytic;  // dense host gradient per parameter name
};

using GradCheckBuild = std::function<ValueId(Graph&, const std::vector<ValueId>& params,
                                             const std::vector<ValueId>& inputs)>;

inline GradCheckResult grad_check(const std::vector<GradCheckParam>& params,
                                  const std::vector<GradCheckInput>& inputs,
                                  const GradCheckBuild& build, const GradCheckOptions& opt = {}) {
  GradCheckResult res;
  std::mt19937 rng(static_cast<uint32_t>(opt.seed));
  Graph g;
  std::vector<ValueId> pids, iids;
  for (const auto& p : params) pids.push_back(g.parameter(p.name, p.shape));
  for (const auto& in : inputs)
    iids.push_back(g.input(in.name, in.shape, in.i32.empty() ? DType::F32 : DType::I32));
  const ValueId out = build(g, pids, iids);
  const Shape out_shape = g.value(out).shape;
  const ValueId w = g.input("gradcheck.weights", out_shape);
  const ValueId loss = sum(g, mul(g, out, w));
  auto grads = g.backward(loss);

  ExecutorOptions eo;
  eo.grads_to_keep = grad_values(grads);
  auto be = Backend::create("cpu", opt.threads);
  Executor ex(g, *be, eo);

  std::vector<std::vector<float>> pvals;
  for (size_t i = 0; i < params.size(); ++i) {
    std::uniform_real_distribution<float> u(params[i].lo, params[i].hi);
    std::vector<float> v(static_cast<size_t>(params[i].shape.numel()));
    for (float& x : v) x = u(rng);
    ex.upload(pids[i], v.data(), v.size() * sizeof(float));
    pvals.push_back(std::move(v));
  }
  // Data inputs live in the step arena only until their last use (their bytes are reused
  // afterwards), so they are uploaded again before every run, as a training loop uploads each
  // batch.
  std::uniform_real_distribution<float> uw(-1.0f, 1.0f);
  std::vector<float> wv(static_cast<size_t>(out_shape.numel()));
  for (float& x : wv) x = uw(rng);
  auto upload_inputs = [&]() {
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (inputs[i].i32.empty())
        ex.upload(iids[i], inputs[i].f32.data(), inputs[i].f32.size() * sizeof(float));
      else
        ex.upload(iids[i], inputs[i].i32.data(), inputs[i].i32.size() * sizeof(int32_t));
    }
    ex.upload(w, wv.data(), wv.size() * sizeof(float));
  };

  const int64_t step = 3;
  upload_inputs();
  ex.run(step, opt.seed, opt.training);
  auto loss_at = [&]() {
    upload_inputs();
    ex.run(step, opt.seed, opt.training, /*forward_only=*/true);
    return static_cast<double>(ex.read_f32(loss)[0]);
  };

  // Gradient buffers may share bytes with forward activations (disjoint lifetimes), so every
  // analytic gradient is read now, before the forward-only runs below overwrite them.
  for (size_t i = 0; i < params.size(); ++i) {
    const int64_t n = params[i].shape.numel();
    std::vector<float> analytic(static_cast<size_t>(n), 0.0f);
    auto it = grads.find(pids[i]);
    if (it != grads.end()) {
      const Grad& gr = it->second;
      res.saw_sparse = res.saw_sparse || gr.is_sparse();
      analytic = grad_to_host(ex, g, gr, n);
    }
    res.analytic[params[i].name] = std::move(analytic);
  }

  for (size_t i = 0; i < params.size(); ++i) {
    const int64_t n = params[i].shape.numel();
    const std::vector<float>& analytic = res.analytic[params[i].name];
    const int64_t stride = n > opt.max_elements ? (n + opt.max_elements - 1) / opt.max_elements : 1;
    for (int64_t j = 0; j < n; j += stride) {
      std::vector<float>& v = pvals[i];
      const float saved = v[j];
      v[j] = saved + opt.eps;
      ex.upload(pids[i], v.data(), v.size() * sizeof(float));
      const double lp = loss_at();
      v[j] = saved - opt.eps;
      ex.upload(pids[i], v.data(), v.size() * sizeof(float));
      const double lm = loss_at();
      v[j] = saved;
      ex.upload(pids[i], v.data(), v.size() * sizeof(float));
      const double numeric = (lp - lm) / (2.0 * opt.eps);
      const double err = std::fabs(analytic[j] - numeric);
      res.max_abs_err = std::max(res.max_abs_err, err);
      ++res.checked;
      if (err > opt.atol + opt.rtol * std::fabs(numeric)) {
        ++res.failures;
        ADD_FAILURE() << "gradient of '" << params[i].name << "' at index " << j << ": analytic "
                      << analytic[j] << " vs numeric " << numeric;
      }
    }
  }
  return res;
}

}  // namespace sg::testing
