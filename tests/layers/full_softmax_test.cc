// The fused full-softmax op (layers/softmax.cc) against finite differences and against the same
// loss built from engine ops (keep_logits: matmul + bias_add + log_softmax_cross_entropy), with an
// upstream gradient other than 1 (the backward GEMMs take it as a device scalar) and N = 70 rows,
// more than one chunk of the kernel's column sums.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/executor.h"
#include "engine/kernels/softmax_xent_kernels.h"
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

// The evaluation form (loss_only: no gradient, no column sums, no workspace) gives bit for bit the
// training form's losses, and refuses to be differentiated.
TEST(FullSoftmax, LossOnlyMatchesTheTrainingForward) {
  auto be = Backend::create("cpu", 2);
  const int64_t n = kB * kT;
  std::vector<float> h(n * kD), W(kV * kD), b(kV);
  for (size_t i = 0; i < h.size(); ++i) h[i] = std::sin(0.37f * float(i));
  for (size_t i = 0; i < W.size(); ++i) W[i] = std::cos(0.91f * float(i));
  for (size_t i = 0; i < b.size(); ++i) b[i] = 0.1f * float(i % 5);
  const std::vector<int32_t> t = targets();
  std::vector<float> loss[2], rows[2];
  size_t workspace[2] = {0, 0};
  for (int loss_only = 0; loss_only < 2; ++loss_only) {
    Graph g;
    const ValueId vh = g.parameter("h", {n, kD}), vW = g.parameter("W", {kV, kD}),
                  vb = g.parameter("b", {kV}), vt = g.input("t", {n}, DType::I32);
    const FullSoftmax fs = full_softmax_loss(g, vh, vW, vb, vt, false, loss_only == 1);
    Executor ex(g, *be);
    ex.upload(vh, h.data(), h.size() * 4);
    ex.upload(vW, W.data(), W.size() * 4);
    ex.upload(vb, b.data(), b.size() * 4);
    ex.upload(vt, t.data(), t.size() * 4);
    ex.run(0, 0, /*training=*/false);
    loss[loss_only].resize(1);
    rows[loss_only].resize(n);
    ex.download(fs.loss, loss[loss_only].data(), 4);
    ex.download(fs.row_loss, rows[loss_only].data(), n * 4);
    workspace[loss_only] = g.nodes().back().op->workspace_bytes(g, g.nodes().back());
    if (loss_only) EXPECT_THROW(g.backward(fs.loss), Error);
  }
  EXPECT_EQ(loss[0], loss[1]);
  EXPECT_EQ(rows[0], rows[1]);
  EXPECT_GT(loss[0][0], 0.f);
  EXPECT_GT(workspace[0], 0u);
  EXPECT_EQ(workspace[1], 0u);
}

// A graph built for CUDA (cpu_workspace false) plans no chunk column sums, which only the CPU
// kernel uses (at LM1B's V = 793,471 they were up to 203 MB planned and never touched on a GPU);
// run on a CPU anyway, the kernel refuses with one line instead of overrunning.
TEST(FullSoftmax, ColumnSumWorkspaceIsPlannedOnlyForTheCpu) {
  const int64_t n = kB * kT;
  size_t workspace[2] = {0, 0};
  for (int cpu = 0; cpu < 2; ++cpu) {
    Graph g;
    const ValueId vh = g.parameter("h", {n, kD}), vW = g.parameter("W", {kV, kD}),
                  vb = g.parameter("b", {kV}), vt = g.input("t", {n}, DType::I32);
    full_softmax_loss(g, vh, vW, vb, vt, false, false, /*cpu_workspace=*/cpu == 1);
    workspace[cpu] = g.nodes().back().op->workspace_bytes(g, g.nodes().back());
    if (!cpu) {
      auto be = Backend::create("cpu", 2);
      Executor ex(g, *be);
      try {
        ex.run(0, 0, /*training=*/false);
        ADD_FAILURE() << "ran without its workspace";
      } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("workspace of 0 bytes is too small"),
                  std::string::npos)
            << e.what();
      }
    }
  }
  EXPECT_EQ(workspace[0], 0u);
  EXPECT_EQ(workspace[1], softmax_xent_delta_workspace_bytes(n, kV));
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
