// bf16 optimizer stores (sketch/bf16.h): exact values stay exact, stochastic rounding is unbiased
// over its 2^16 random offsets, inf/NaN survive, an EMA kept in bf16 decays as in fp32 (where
// round-to-nearest would freeze it), the vectorised CPU Adam path equals the generic element maths
// bit for bit, and Adam with bf16 moments tracks Adam in fp32.
#include "sketch/bf16.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "engine/backend.h"
#include "engine/executor.h"
#include "optimizers/optim_kernels.h"
#include "optimizers/optimizer.h"
#include "optimizers/rule_math.h"
#include "tests/optim/optim_test_util.h"

namespace sg {
namespace {

TEST(Bf16, RepresentableValuesAreExactForEveryOffset) {
  // 0, 1, -2, 0.15625, the largest finite bf16, a negative subnormal.
  for (uint16_t h : {0x0000, 0x3f80, 0xc000, 0x3e20, 0x7f7f, 0x8001}) {
    const float x = bf16_to_float(h);
    for (uint32_t r : {0u, 1u, 0x7fffu, 0x8000u, 0xffffu})
      EXPECT_EQ(bf16_round(x, r), h) << x << " r " << r;
  }
  EXPECT_EQ(bf16_to_float(0x3f80), 1.f);
  EXPECT_EQ(bf16_to_float(0xc000), -2.f);
}

TEST(Bf16, StochasticRoundingIsUnbiasedAndBracketsTheValue) {
  for (float x : {1.001f, 0.1f, 3.14159265f, -2.7e-5f, 123456.7f, 1e-38f}) {
    double sum = 0;
    float lo = INFINITY, hi = -INFINITY;
    for (uint32_t r = 0; r < 65536; ++r) {
      const float y = bf16_to_float(bf16_round(x, r));
      sum += y;
      lo = std::min(lo, y);
      hi = std::max(hi, y);
    }
    EXPECT_NEAR(sum / 65536, x, std::abs(x) * 1e-7) << x;  // exact up to the double sum
    EXPECT_LE(lo, x);
    EXPECT_GE(hi, x);
    EXPECT_LE(hi - lo, std::abs(x) / 64) << x;  // the two neighbours, 2^-7 apart at most
  }
}

TEST(Bf16, InfinityAndNanSurvive) {
  const float inf = std::numeric_limits<float>::infinity();
  for (uint32_t r : {0u, 0xffffu}) {
    EXPECT_EQ(bf16_to_float(bf16_round(inf, r)), inf);
    EXPECT_EQ(bf16_to_float(bf16_round(-inf, r)), -inf);
    EXPECT_TRUE(std::isnan(bf16_to_float(bf16_round(std::nanf(""), r))));
    EXPECT_TRUE(std::isnan(bf16_to_float(bf16_round(std::nanf("1"), r))));  // low mantissa only
  }
}

// v of Adam after one step of g = 1 and then `zeros` steps of g = 0, as the optimizer stores it.
std::vector<float> adam_v_after_decay(const std::string& state, int zeros) {
  testing_optim::Tiny t;
  OptimizerConfig cfg;
  cfg.state = state;
  cfg.lr = 1e-3f;
  cfg.clip = 0.f;
  Optimizer opt(cfg, t.g, t.grads);
  auto be = Backend::create("cpu", 2);
  ExecutorOptions eo;
  eo.extra = opt.requests();
  eo.grads_to_keep = opt.grads_to_keep();
  Executor ex(t.g, *be, eo);
  opt.bind(ex, 0);
  const std::vector<float> ones(t.R2 * t.D, 1.f), none(t.R2 * t.D, 0.f);
  const std::vector<int32_t> ids(t.n, 0);
  const std::vector<float> c(t.n * t.D, 0.f);
  ex.upload(t.ids, ids.data(), ids.size() * 4);
  ex.upload(t.C, c.data(), c.size() * 4);
  for (int s = 1; s <= 1 + zeros; ++s) {
    ex.upload(t.C2, (s == 1 ? ones : none).data(), ones.size() * 4);
    ex.run(s, 9, true);
    opt.step(s);
  }
  for (auto& [name, tensor] : opt.state_tensors()) {
    if (name != "dense/W/v") continue;
    std::vector<float> out(tensor.numel());
    if (tensor.dtype == DType::BF16) {
      std::vector<uint16_t> h(tensor.numel());
      be->copy_to_host(h.data(), tensor.data, tensor.nbytes());
      for (size_t i = 0; i < h.size(); ++i) out[i] = bf16_to_float(h[i]);
    } else {
      be->copy_to_host(out.data(), tensor.data, tensor.nbytes());
    }
    return out;
  }
  ADD_FAILURE() << "no dense/W/v state";
  return {};
}

TEST(Bf16, AdamSecondMomentDecaysAsInFp32) {
  // 0.999 v moves v by 0.1 %, under half a bf16 ulp (0.2 - 0.4 %): rounded to nearest, v would
  // stay at its first value forever. Stochastic rounding follows 0.999^2000 = 0.135 on average.
  const auto exact = adam_v_after_decay("dense", 2000);
  const auto bf = adam_v_after_decay("bf16", 2000);
  ASSERT_EQ(exact.size(), bf.size());
  ASSERT_FALSE(exact.empty());
  double sum_exact = 0, sum_bf = 0;
  for (size_t i = 0; i < exact.size(); ++i) sum_exact += exact[i], sum_bf += bf[i];
  EXPECT_GT(sum_exact, 0);
  EXPECT_NEAR(sum_bf / sum_exact, 1.0, 0.1);
  const double first = 0.001;  // v after the first step (g = 1)
  EXPECT_LT(sum_bf / bf.size(), 0.3 * first);
}

TEST(Bf16, CpuFastPathEqualsTheGenericElementMaths) {
  // cpu::apply_rule takes its vectorised bf16 Adam path; the reference applies rule_math.h's
  // apply_element<Adam> (what the generic path and the CUDA kernel run) element by element.
  const int64_t rows = 50, d = 37;
  const std::vector<int32_t> ids = {0, 3, 4, 9, 17, 18, 30, 41, 49};
  const int32_t count = static_cast<int32_t>(ids.size());
  const int64_t n = count;
  std::vector<float> g(n * d), w(rows * d);
  std::vector<uint16_t> m(rows * d), v(rows * d);
  for (size_t i = 0; i < g.size(); ++i) g[i] = float(rng_uniform_double(1, 0, i) - 0.5);
  for (size_t i = 0; i < w.size(); ++i) {
    w[i] = float(rng_uniform_double(2, 0, i) - 0.5);
    m[i] = bf16_round(float(rng_uniform_double(3, 0, i) - 0.5) * 0.1f, 0);
    v[i] = bf16_round(float(rng_uniform_double(4, 0, i)) * 0.01f, 0);
  }
  RuleParams r;
  r.rule = RuleKind::Adam;
  r.lr = 0.01f;
  r.step_size = 0.0123f;
  r.eps = 1e-8f;
  r.wd_factor = 0.999f;
  r.m_decay = 0.9f, r.m_scale = 0.1f, r.v_decay = 0.999f, r.v_scale = 0.001f;
  auto view = [&](std::vector<uint16_t>& data, uint64_t seed) {
    StoreView s;
    s.kind = StoreKind::Bf16;
    s.data = reinterpret_cast<float*>(data.data());
    s.rows = rows;
    s.dim = d;
    s.round_seed = seed;
    s.round_step = 7;
    return s;
  };
  auto w1 = w, w2 = w;
  auto m1 = m, m2 = m, v1 = v, v2 = v;
  auto be = Backend::create("cpu", 2);
  cpu::apply_rule(*be, r, w1.data(), ids.data(), &count, n, d, g.data(), view(m1, 21),
                  view(v1, 22));
  const StoreView mv2 = view(m2, 21), vv2 = view(v2, 22);
  for (int64_t p = 0; p < n; ++p)
    for (int64_t c = 0; c < d; ++c) {
      float& wc = w2[ids[p] * d + c];
      wc = apply_element<RuleKind::Adam>(r, wc, g[p * d + c], mv2, vv2, MomentRows{}, ids[p], c);
    }
  EXPECT_EQ(0, std::memcmp(w1.data(), w2.data(), w1.size() * sizeof(float)));
  EXPECT_EQ(m1, m2);
  EXPECT_EQ(v1, v2);
  EXPECT_NE(m1, m);  // the rows were updated
}

TEST(Bf16, AdamWithBf16MomentsTracksFp32) {
  OptimizerConfig cfg;
  cfg.lr = 0.01f;
  auto fp32 = testing_optim::train_tiny(cfg, 30, "cpu", 2, 5);
  cfg.state = "bf16";
  auto bf = testing_optim::train_tiny(cfg, 30, "cpu", 2, 5);
  auto again = testing_optim::train_tiny(cfg, 30, "cpu", 1, 5);  // one thread: the same bits
  EXPECT_TRUE(testing_optim::bitwise_equal(bf.E, again.E));
  EXPECT_TRUE(testing_optim::bitwise_equal(bf.P, again.P));
  EXPECT_FALSE(testing_optim::bitwise_equal(bf.P, fp32.P));
  const auto start = testing_optim::train_tiny(cfg, 0, "cpu", 2, 5);
  double moved = 0, diff = 0;
  for (size_t i = 0; i < fp32.P.size(); ++i) {
    moved += std::abs(fp32.P[i] - start.P[i]);
    diff += std::abs(bf.P[i] - fp32.P[i]);
  }
  EXPECT_GT(moved, 0);
  EXPECT_LT(diff, 0.02 * moved);  // within 2 % of how far fp32 Adam moved the weights
}

}  // namespace
}  // namespace sg
