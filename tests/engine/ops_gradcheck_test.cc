// Finite-difference gradient checks of every differentiable op in engine/ops/ops.h (CPU backend),
// through the real graph, autograd and executor (tests/engine/gradcheck.h).
#include <gtest/gtest.h>

#include "engine/ops/ops.h"
#include "tests/engine/gradcheck.h"

namespace sg {
namespace {

using testing::grad_check;
using testing::GradCheckInput;
using testing::GradCheckOptions;
using testing::GradCheckParam;

using V = std::vector<ValueId>;

TEST(OpsGradCheck, AddSubMul) {
  auto r = grad_check({{"a", {3, 4}}, {"b", {3, 4}}}, {}, [](Graph& g, const V& p, const V&) {
    return mul(g, add(g, p[0], p[1]), sub(g, p[0], scale(g, p[1], 0.5f)));
  });
  EXPECT_EQ(r.failures, 0);
  EXPECT_EQ(r.checked, 24);
}

TEST(OpsGradCheck, SameValueUsedTwice) {
  // x * x and x + x: autograd sums the two contributions with add ops.
  auto r = grad_check({{"x", {5}}}, {}, [](Graph& g, const V& p, const V&) {
    return add(g, mul(g, p[0], p[0]), add(g, p[0], p[0]));
  });
  EXPECT_EQ(r.failures, 0);
}

TEST(OpsGradCheck, SigmoidTanh) {
  auto r = grad_check({{"x", {4, 6}, -3.0f, 3.0f}}, {}, [](Graph& g, const V& p, const V&) {
    return tanh(g, sigmoid(g, tanh(g, p[0])));
  });
  EXPECT_EQ(r.failures, 0);
}

TEST(OpsGradCheck, BiasAdd) {
  auto r = grad_check({{"x", {2, 3, 5}}, {"b", {5}}}, {},
                      [](Graph& g, const V& p, const V&) { return bias_add(g, p[0], p[1]); });
  EXPECT_EQ(r.failures, 0);
}

class MatmulGrad : public ::testing::TestWithParam<std::tuple<bool, bool>> {};

TEST_P(MatmulGrad, AllTransposes) {
  const auto [ta, tb] = GetParam();
  const int64_t m = 3, k = 4, n = 5;
  Shape sa = ta ? Shape{k, m} : Shape{m, k};
  Shape sb = tb ? Shape{n, k} : Shape{k, n};
  auto r = grad_check(
      {{"a", sa}, {"b", sb}}, {},
      [ta = ta, tb = tb](Graph& g, const V& p, const V&) { return matmul(g, p[0], p[1], ta, tb); });
  EXPECT_EQ(r.failures, 0);
}

TEST_P(MatmulGrad, Batched) {
  const auto [ta, tb] = GetParam();
  const int64_t P = 2, m = 3, k = 4, n = 2;
  Shape sa = ta ? Shape{P, k, m} : Shape{P, m, k};
  Shape sb = tb ? Shape{P, n, k} : Shape{P, k, n};
  auto r =
      grad_check({{"a", sa}, {"b", sb}}, {}, [ta = ta, tb = tb](Graph& g, const V& p, const V&) {
        return batched_matmul(g, p[0], p[1], ta, tb);
      });
  EXPECT_EQ(r.failures, 0);
}

INSTANTIATE_TEST_SUITE_P(Transposes, MatmulGrad,
                         ::testing::Combine(::testing::Bool(), ::testing::Bool()));

TEST(OpsGradCheck, MatmulFoldsLeadingDims) {
  // [B, T, K] x [K, N] -> [B, T, N] (and the transposed weight variant).
  auto r = grad_check({{"x", {2, 3, 4}}, {"w", {4, 5}}, {"wt", {5, 4}}}, {},
                      [](Graph& g, const V& p, const V&) {
                        return add(g, matmul(g, p[0], p[1]), matmul(g, p[0], p[2], false, true));
                      });
  EXPECT_EQ(r.failures, 0);
}

TEST(OpsGradCheck, SliceAndConcatAnyAxis) {
  for (int axis : {0, 1, -1}) {
    auto r = grad_check({{"x", {4, 6, 3}}, {"y", {4, 6, 3}}}, {},
                        [axis](Graph& g, const V& p, const V&) {
                          const int ax = axis < 0 ? 2 : axis;
                          const int64_t len = ax == 2 ? 2 : 3;
                          ValueId a = slice(g, p[0], axis, 1, len);
                          ValueId b = slice(g, p[1], axis, 0, 1);
                          return tanh(g, concat(g, {a, b, a}, axis));
                        });
    EXPECT_EQ(r.failures, 0) << "axis " << axis;
  }
}

TEST(OpsGradCheck, ReshapeSumMean) {
  auto r = grad_check({{"x", {2, 6}}}, {}, [](Graph& g, const V& p, const V&) {
    ValueId y = reshape(g, sigmoid(g, p[0]), Shape{3, 4});
    return add(g, scale(g, sum(g, y), 0.3f), mean(g, mul(g, y, y)));
  });
  EXPECT_EQ(r.failures, 0);
}

TEST(OpsGradCheck, GatherGivesRowSparseGradient) {
  // Duplicate ids (3 appears three times) and unused rows (0, 2, 5).
  GradCheckInput ids{"ids", {2, 3}, {}, {3, 1, 3, 4, 3, 1}};
  auto r = grad_check({{"table", {6, 4}}}, {ids},
                      [](Graph& g, const V& p, const V& in) { return gather(g, p[0], in[0]); });
  EXPECT_EQ(r.failures, 0);
  EXPECT_TRUE(r.saw_sparse);
  const auto& dt = r.analytic.at("table");
  for (int row : {0, 2, 5})
    for (int c = 0; c < 4; ++c) EXPECT_EQ(dt[row * 4 + c], 0.0f);
}

TEST(OpsGradCheck, GatherFromComputedTableIsDense) {
  GradCheckInput ids{"ids", {4}, {}, {2, 0, 2, 1}};
  auto r = grad_check({{"t", {3, 2}}}, {ids}, [](Graph& g, const V& p, const V& in) {
    return gather(g, tanh(g, p[0]), in[0]);  // table is an activation: gradient densified
  });
  EXPECT_EQ(r.failures, 0);
  EXPECT_FALSE(r.saw_sparse);
}

TEST(OpsGradCheck, LogSoftmaxCrossEntropy) {
  GradCheckInput targets{"targets", {2, 3}, {}, {0, 4, 2, 2, 1, 3}};
  auto r = grad_check(
      {{"logits", {2, 3, 5}, -3.0f, 3.0f}}, {targets},
      [](Graph& g, const V& p, const V& in) { return log_softmax_cross_entropy(g, p[0], in[0]); });
  EXPECT_EQ(r.failures, 0);
}

TEST(OpsGradCheck, DropoutTrainingAndEval) {
  for (bool training : {true, false}) {
    GradCheckOptions opt;
    opt.training = training;
    auto r = grad_check(
        {{"x", {8, 16}}}, {},
        [](Graph& g, const V& p, const V&) { return dropout(g, tanh(g, p[0]), 0.3f); }, opt);
    EXPECT_EQ(r.failures, 0) << "training " << training;
    int zeros = 0;
    for (float v : r.analytic.at("x")) zeros += v == 0.0f;
    if (training)
      EXPECT_GT(zeros, 10);  // about 30% of 128 dropped
    else
      EXPECT_EQ(zeros, 0);
  }
}

TEST(OpsGradCheck, SmallLstmCellFromPrimitives) {
  // One LSTM step built from the primitive ops: gates = x W + h U + b; i, f, o = sigmoid, g = tanh;
  // c' = f * c + i * g; h' = o * tanh(c'). Exercises slice/matmul/bias_add/mul/add together.
  const int64_t B = 2, X = 3, H = 2;
  auto r = grad_check({{"W", {X, 4 * H}},
                       {"U", {H, 4 * H}},
                       {"b", {4 * H}},
                       {"x", {B, X}},
                       {"h", {B, H}},
                       {"c", {B, H}}},
                      {}, [&](Graph& g, const V& p, const V&) {
                        ValueId gates =
                            bias_add(g, add(g, matmul(g, p[3], p[0]), matmul(g, p[4], p[1])), p[2]);
                        ValueId i = sigmoid(g, slice(g, gates, 1, 0, H));
                        ValueId f = sigmoid(g, slice(g, gates, 1, H, H));
                        ValueId gg = tanh(g, slice(g, gates, 1, 2 * H, H));
                        ValueId o = sigmoid(g, slice(g, gates, 1, 3 * H, H));
                        ValueId c2 = add(g, mul(g, f, p[5]), mul(g, i, gg));
                        return concat(g, {mul(g, o, tanh(g, c2)), c2}, 1);
                      });
  EXPECT_EQ(r.failures, 0);
}

}  // namespace
}  // namespace sg
