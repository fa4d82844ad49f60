// Per-group (per-parameter) gradient clipping: with SGD at lr 1 a step moves each parameter by
// exactly its prepared gradient, so every parameter's step norm must be min(its raw gradient norm,
// clip_per_param); the global clip then scales everything by clip / max(global raw norm, clip).
#include <gtest/gtest.h>

#include <cmath>

#include "optim_test_util.h"

namespace sg::testing_optim {
namespace {

struct StepNorms {
  double emb = 0, dense = 0;
};

StepNorms sgd_step_norms(float clip, float clip_per_param) {
  OptimizerConfig cfg;
  cfg.rule = "sgd";
  cfg.lr = 1.f;
  cfg.clip = clip;
  cfg.clip_per_param = clip_per_param;
  TinyRun run(cfg, "cpu", 2);  // emb/W [40, 8]
  Tiny& t = run.t;
  Optimizer& opt = run.opt;
  Executor& ex = run.ex;
  std::vector<int32_t> ids(t.n);
  for (int64_t i = 0; i < t.n; ++i) ids[i] = static_cast<int32_t>(i % 7);  // repeated rows
  auto c = uniform(t.n * t.D, 5), c2 = uniform(t.R2 * t.D, 6);
  for (float& x : c2) x *= 0.01f;  // the dense parameter's gradient is small: norm ~0.06
  ex.upload(t.ids, ids.data(), ids.size() * 4);
  ex.upload(t.C, c.data(), c.size() * 4);
  ex.upload(t.C2, c2.data(), c2.size() * 4);
  std::vector<float> e0 = ex.read_f32(t.E), p0 = ex.read_f32(t.P);
  ex.run(1, 1, true);
  opt.step(1);
  std::vector<float> e1 = ex.read_f32(t.E), p1 = ex.read_f32(t.P);
  StepNorms n;
  for (size_t i = 0; i < e0.size(); ++i) n.emb += (e1[i] - e0[i]) * double(e1[i] - e0[i]);
  for (size_t i = 0; i < p0.size(); ++i) n.dense += (p1[i] - p0[i]) * double(p1[i] - p0[i]);
  n.emb = std::sqrt(n.emb);
  n.dense = std::sqrt(n.dense);
  return n;
}

TEST(ClipPerParam, EachParameterIsClippedByItsOwnNorm) {
  const StepNorms raw = sgd_step_norms(0.f, 0.f);
  ASSERT_GT(raw.emb, 1.0);    // large embedding gradient
  ASSERT_LT(raw.dense, 0.5);  // small dense gradient
  const StepNorms per = sgd_step_norms(0.f, 0.5f);
  EXPECT_NEAR(per.emb, 0.5, 1e-4);          // clipped to 0.5
  EXPECT_NEAR(per.dense, raw.dense, 1e-6);  // under the threshold: untouched
  // Global clip on top, computed from the raw norms: both scaled by clip / global raw norm.
  const double global = std::sqrt(raw.emb * raw.emb + raw.dense * raw.dense);
  const StepNorms both = sgd_step_norms(1.0f, 0.5f);
  EXPECT_NEAR(both.emb, 0.5 * 1.0 / global, 1e-4);
  EXPECT_NEAR(both.dense, raw.dense * 1.0 / global, 1e-5);
}

TEST(ClipPerParam, NegativeIsRejected) {
  Tiny t;
  OptimizerConfig cfg;
  cfg.clip_per_param = -1.f;
  EXPECT_THROW(Optimizer(cfg, t.g, t.grads), Error);
}

}  // namespace
}  // namespace sg::testing_optim
