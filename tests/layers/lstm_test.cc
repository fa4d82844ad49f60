// LSTM layer tests: finite-difference gradients (with and without projection, several steps,
// non-zero initial state given as parameters so d(initial state) is checked too), a naive host
// reference of the forward pass, carried state across executor runs (two runs of T == one run of
// 2T), and bad shapes.
#include "layers/lstm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "engine/backend.h"
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

// Forward and backward with the CPU recurrences' packed weights (lstm.h, cpu_packed) against the
// same graph reading the weights in place: every output and gradient bitwise equal, on 2 threads,
// with cell blocks whose widths are not multiples of 32 (H = 300: blocks of 160 and 140) and
// batches on both sides of sgemm_avx512's in-place limit (48 rows). The packed graph plans the
// larger workspaces.
void check_packed_equals_in_place(const Case& k) {
  const int64_t R = k.P > 0 ? k.P : k.H;
  struct Run {
    std::vector<std::vector<float>> values;
    size_t workspace = 0;
  };
  const auto run = [&](bool packed) {
    Graph g;
    std::vector<ValueId> p{g.parameter("x", {k.T * k.B, k.I}), g.parameter("W", {k.I + R, 4 * k.H}),
                           g.parameter("b", {4 * k.H}), g.parameter("h0", {k.B, R}),
                           g.parameter("c0", {k.B, k.H})};
    if (k.P > 0) p.push_back(g.parameter("P", {k.H, k.P}));
    const ValueId y = lstm(g, p[0], p[1], p[2], k.P > 0 ? p[5] : kNoValue, p[3], p[4], k.T, packed);
    const ValueId loss = mean(g, mul(g, y, y));
    g.keep(y);
    g.keep(loss);
    const auto grads = g.backward(loss);
    for (const auto& [v, gr] : grads) g.keep(gr.dense);
    auto be = Backend::create("cpu", 2);
    Executor ex(g, *be);
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> u(-0.6f, 0.6f);
    for (ValueId v : p) {
      std::vector<float> host(g.value(v).shape.numel());
      for (float& x : host) x = u(rng);
      ex.upload(v, host.data(), host.size() * sizeof(float));
    }
    ex.run(1, 1, true);
    Run r;
    r.values.push_back(ex.read_f32(y));
    for (ValueId v : p) r.values.push_back(ex.read_f32(grads.at(v).dense));
    for (const auto& q : ex.requests())
      if (q.category == Category::Workspace) r.workspace += q.bytes;
    return r;
  };
  const Run packed = run(true), in_place = run(false);
  EXPECT_GT(packed.workspace, in_place.workspace);
  ASSERT_EQ(packed.values.size(), in_place.values.size());
  for (size_t i = 0; i < packed.values.size(); ++i) {
    ASSERT_EQ(packed.values[i].size(), in_place.values[i].size());
    for (size_t j = 0; j < packed.values[i].size(); ++j)
      ASSERT_EQ(packed.values[i][j], in_place.values[i][j]) << "value " << i << " at " << j;
  }
}

TEST(Lstm, PackedRecurrentWeightsGiveTheSameBits) {
  check_packed_equals_in_place({3, 40, 24, 300, 70});
  check_packed_equals_in_place({2, 64, 16, 256, 0});
}

TEST(Lstm, GradCheckNoProjection) { check_lstm_grads({4, 3, 5, 6, 0}); }
TEST(Lstm, GradCheckProjection) { check_lstm_grads({4, 2, 3, 7, 4}); }
TEST(Lstm, GradCheckOneStep) { check_lstm_grads({1, 2, 3, 4, 2}); }

}  // namespace
}  // namespace sg
