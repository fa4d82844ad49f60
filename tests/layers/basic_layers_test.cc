// Linear / embedding / dropout layer tests, the LSTM forward pass against a naive host reference,
// the row-sparse embedding gradient against a dense (one-hot matmul) reference, and LSTM shape
// errors.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "engine/executor.h"
#include "engine/ops/ops.h"
#include "layers/linear.h"
#include "layers/lstm.h"
#include "tests/engine/gradcheck.h"

namespace sg {
namespace {

TEST(Linear, GradCheck) {
  auto res =
      testing::grad_check({{"x", {3, 2, 4}}, {"W", {4, 5}}, {"b", {5}}}, {},
                          [](Graph& g, const std::vector<ValueId>& p, const std::vector<ValueId>&) {
                            return linear(g, p[0], p[1], p[2]);
                          });
  EXPECT_EQ(res.checked, 49);
  EXPECT_EQ(res.failures, 0);
}

TEST(Linear, BadShapesThrow) {
  Graph g;
  ValueId x = g.parameter("x", {3, 4}), W = g.parameter("W", {5, 2}), b = g.parameter("b", {3});
  EXPECT_THROW(linear(g, x, W, kNoValue), Error);
  ValueId W2 = g.parameter("W2", {4, 2});
  EXPECT_THROW(linear(g, x, W2, b), Error);
  EXPECT_THROW(dropout_layer(g, x, 1.0f, true), Error);
  EXPECT_EQ(dropout_layer(g, x, 0.5f, false), x);
}

TEST(Embedding, RowSparseGradientEqualsDenseReference) {
  const int64_t V = 9, E = 3, n = 7;
  const std::vector<int32_t> ids{4, 1, 4, 8, 0, 4, 1};
  std::vector<float> onehot(n * V, 0.0f);
  for (int64_t i = 0; i < n; ++i) onehot[i * V + ids[i]] = 1.0f;
  // Sparse path: gather from a parameter table. Dense reference: onehot [n, V] x table [V, E].
  auto sparse =
      testing::grad_check({{"T", {V, E}}}, {{"ids", {n}, {}, ids}},
                          [](Graph& g, const std::vector<ValueId>& p,
                             const std::vector<ValueId>& in) { return embedding(g, p[0], in[0]); });
  auto dense =
      testing::grad_check({{"T", {V, E}}}, {{"onehot", {n, V}, onehot, {}}},
                          [](Graph& g, const std::vector<ValueId>& p,
                             const std::vector<ValueId>& in) { return matmul(g, in[0], p[0]); });
  EXPECT_TRUE(sparse.saw_sparse);
  EXPECT_FALSE(dense.saw_sparse);
  EXPECT_EQ(sparse.failures, 0);
  const auto& a = sparse.analytic.at("T");
  const auto& b = dense.analytic.at("T");
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-6) << i;
}

TEST(Dropout, GradCheckTraining) {
  testing::GradCheckOptions opt;
  auto res = testing::grad_check(
      {{"x", {6, 5}}}, {},
      [](Graph& g, const std::vector<ValueId>& p, const std::vector<ValueId>&) {
        return dropout_layer(g, p[0], 0.4f, true);
      },
      opt);
  EXPECT_EQ(res.failures, 0);
  int zeros = 0;
  for (float v : res.analytic.at("x")) zeros += v == 0.0f;
  EXPECT_GT(zeros, 3);
  EXPECT_LT(zeros, 27);
}

double sigm(double x) { return 1.0 / (1.0 + std::exp(-x)); }

TEST(Lstm, ForwardMatchesNaiveReference) {
  const int64_t T = 3, B = 2, I = 3, H = 4, P = 2, R = P;
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-0.8f, 0.8f);
  auto rnd = [&](int64_t n) {
    std::vector<float> v(n);
    for (auto& x : v) x = u(rng);
    return v;
  };
  auto x = rnd(T * B * I), W = rnd((I + R) * 4 * H), b = rnd(4 * H), Pm = rnd(H * P),
       h0 = rnd(B * R), c0 = rnd(B * H);
  Graph g;
  ValueId vx = g.input("x", {T * B, I}), vW = g.parameter("W", {I + R, 4 * H}),
          vb = g.parameter("b", {4 * H}), vP = g.parameter("P", {H, P}), vh = g.state("h", {B, R}),
          vc = g.state("c", {B, H});
  ValueId y = lstm(g, vx, vW, vb, vP, vh, vc, T);
  g.keep(y);
  auto be = Backend::create("cpu", 2);
  Executor ex(g, *be);
  ex.upload(vx, x.data(), x.size() * 4);
  ex.upload(vW, W.data(), W.size() * 4);
  ex.upload(vb, b.data(), b.size() * 4);
  ex.upload(vP, Pm.data(), Pm.size() * 4);
  ex.upload(vh, h0.data(), h0.size() * 4);
  ex.upload(vc, c0.data(), c0.size() * 4);
  ex.run(1, 1, false);
  const auto got = ex.read_f32(y);
  std::vector<double> h(h0.begin(), h0.end()), c(c0.begin(), c0.end());
  for (int64_t t = 0; t < T; ++t) {
    std::vector<double> hn(B * R), cn(B * H);
    for (int64_t r = 0; r < B; ++r) {
      std::vector<double> m(H);
      for (int64_t j = 0; j < H; ++j) {
        double z[4];
        for (int q = 0; q < 4; ++q) {
          const int64_t col = q * H + j;
          double s = b[col];
          for (int64_t k = 0; k < I; ++k) s += x[(t * B + r) * I + k] * W[k * 4 * H + col];
          for (int64_t k = 0; k < R; ++k) s += h[r * R + k] * W[(I + k) * 4 * H + col];
          z[q] = s;
        }
        const double cv = sigm(z[1]) * c[r * H + j] + sigm(z[0]) * std::tanh(z[2]);
        cn[r * H + j] = cv;
        m[j] = sigm(z[3]) * std::tanh(cv);
      }
      for (int64_t k = 0; k < P; ++k) {
        double s = 0;
        for (int64_t j = 0; j < H; ++j) s += m[j] * Pm[j * P + k];
        hn[r * R + k] = s;
        EXPECT_NEAR(got[(t * B + r) * R + k], s, 1e-5) << "t " << t << " r " << r;
      }
    }
    h = hn, c = cn;
  }
  // The State values now hold the final h and c.
  const auto hs = ex.read_f32(vh), cs = ex.read_f32(vc);
  for (size_t i = 0; i < hs.size(); ++i) EXPECT_NEAR(hs[i], h[i], 1e-5);
  for (size_t i = 0; i < cs.size(); ++i) EXPECT_NEAR(cs[i], c[i], 1e-5);
}

TEST(Lstm, BadShapesThrow) {
  Graph g;
  ValueId x = g.input("x", {6, 3}), W = g.parameter("W", {7, 16}), b = g.parameter("b", {16}),
          h = g.state("h", {2, 4}), c = g.state("c", {2, 4});
  EXPECT_NO_THROW(lstm(g, x, W, b, kNoValue, h, c, 3));
  EXPECT_THROW(lstm(g, x, W, b, kNoValue, h, c, 4), Error);  // 6 rows != 4 * 2
  ValueId W2 = g.parameter("W2", {6, 16});
  try {
    lstm(g, x, W2, b, kNoValue, h, c, 3);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("W must be"), std::string::npos) << e.what();
  }
  ValueId P = g.parameter("P", {4, 2});  // h must then be [B, 2]
  EXPECT_THROW(lstm(g, x, W, b, P, h, c, 3), Error);
  ValueId b2 = g.parameter("b2", {15});
  EXPECT_THROW(lstm(g, x, W, b2, kNoValue, h, c, 3), Error);
  EXPECT_THROW(lstm(g, x, W, b, kNoValue, h, c, 0), Error);
}

}  // namespace
}  // namespace sg
