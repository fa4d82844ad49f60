// The fused full-softmax op (layers/softmax.cc) against finite differences and against the same
// loss built from engine ops (keep_logits: matmul + bias_add + log_softmax_cross_entropy), with an
// upstream gradient other than 1 (the backward GEMMs take it as a device scalar) and N = 70 rows,
// more than one chunk of the kernel's column sums.
#include <gtest/gtest.h>

#include "engine/executor.h"
#include "engine/ops/ops.h"
#include "layers/softmax.h"
#include "tests/engine/gradcheck.h"

namespace sg {
namespace {

constexpr int64_t kB = 2, kT = 35, kD = 4, kV = 11;

std::vector<int32_t> targets() {
  std::vector<int32_t> t(kB * kT);
  for (size_t i = 0; i < t.size(); ++i) t[i] = static_cast<int32_t>((i * 5 + i / 3) % kV);
  return t;
}

testing::GradCheckResult check(bool keep_logits) {
  testing::GradCheckOptions opt;
  opt.max_elements = 60;
  return testing::grad_check(
      {{"h", {kB, kT, kD}, -2.0f, 2.0f}, {"W", {kV, kD}, -2.0f, 2.0f}, {"b", {kV}}},
      {{"targets", {kB, kT}, {}, targets()}},
      [keep_logits](Graph& g, const std::vector<ValueId>& p, const std::vector<ValueId>& in) {
        FullSoftmax fs = full_softmax_loss(g, p[0], p[1], p[2], in[0], keep_logits);
        EXPECT_EQ(fs.logits == kNoValue, !keep_logits);
        return scale(g, fs.loss, 2.5f);
      },
      opt);
}

TEST(FullSoftmax, FusedGradCheck) {
  const auto r = check(false);
  EXPECT_GT(r.checked, 100);
  EXPECT_EQ(r.failures, 0);
}

TEST(FullSoftmax, FusedMatchesComposite) {
  const auto fused = check(false), composite = check(true);
  ASSERT_EQ(fused.analytic.size(), 3u);
  for (const auto& [name, a] : fused.analytic) {
    const auto& b = composite.analytic.at(name);
    ASSERT_EQ(a.size(), b.size()) << name;
    for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-5) << name << " " << i;
  }
}

TEST(FullSoftmax, BadShapesThrow) {
  Graph g;
  const ValueId h = g.parameter("h", {6, 4}), W = g.parameter("W", {9, 4}),
                b = g.parameter("b", {9});
  const ValueId t = g.input("t", {6}, DType::I32), t5 = g.input("t5", {5}, DType::I32);
  const ValueId W3 = g.parameter("W3", {9, 3}), b8 = g.parameter("b8", {8});
  const ValueId tf = g.input("tf", {6});
  EXPECT_THROW(full_softmax_loss(g, h, W3, b, t), Error);
  EXPECT_THROW(full_softmax_loss(g, h, W, b8, t), Error);
  EXPECT_THROW(full_softmax_loss(g, h, W, b, t5), Error);
  EXPECT_THROW(full_softmax_loss(g, h, W, b, tf), Error);
  EXPECT_NO_THROW(full_softmax_loss(g, h, W, b, t));
}

}  // namespace
}  // namespace sg
