// Rules against hand-computed numbers (one step each), SM3 covers (hand example, singleton covers
// equal Adagrad), and error-feedback top-k SGD on logistic regression (reaches plain SGD's loss;
// top-k without feedback does measurably worse).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "tests/optim/optim_test_util.h"

namespace sg {
namespace {

// loss = sum(w * c): the gradient of w is c, uploaded per step.
struct Linear {
  Graph g;
  ValueId w, c, loss;
  std::map<ValueId, Grad> grads;
  explicit Linear(Shape shape) {
    w = g.parameter("w", shape);
    c = g.input("c", shape);
    loss = sum(g, mul(g, w, c));
    grads = g.backward(loss);
  }
};

std::vector<float> run_linear(const OptimizerConfig& cfg, Shape shape, std::vector<float> w0,
                              const std::vector<std::vector<float>>& grads) {
  Linear m(shape);
  Optimizer opt(cfg, m.g, m.grads);
  auto be = Backend::create("cpu", 2);
  Executor ex(m.g, *be, ExecutorOptions{{}, opt.requests(), opt.grads_to_keep()});
  opt.bind(ex, 0);
  ex.upload(m.w, w0.data(), w0.size() * 4);
  for (size_t s = 0; s < grads.size(); ++s) {
    ex.upload(m.c, grads[s].data(), grads[s].size() * 4);
    ex.run(int64_t(s) + 1, 1, true);
    opt.step(int64_t(s) + 1);
  }
  return ex.read_f32(m.w);
}

// Gradients of `steps` steps, n values each, step s drawn from seed + s.
std::vector<std::vector<float>> uniform_steps(int steps, int64_t n, uint64_t seed) {
  std::vector<std::vector<float>> g;
  for (int s = 0; s < steps; ++s) g.push_back(testing_optim::uniform(n, seed + s));
  return g;
}

void expect_near(const std::vector<float>& got, const std::vector<double>& want,
                 double tol = 1e-5) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "element " << i;
}

TEST(Rules, OneStepHandComputed) {
  // w = [1, -2], g = [0.5, -1], lr = 0.1, beta1 0.9, beta2 0.999, momentum 0.9.
  const std::vector<float> w0 = {1.f, -2.f};
  const std::vector<std::vector<float>> g = {{0.5f, -1.f}};
  auto one = [&](const std::string& rule, float wd = 0.f, float sparsify = 0.01f) {
    OptimizerConfig cfg;
    cfg.rule = rule;
    cfg.lr = 0.1f;
    cfg.weight_decay = wd;
    cfg.sparsify = sparsify;
    return run_linear(cfg, Shape{2}, w0, g);
  };
  expect_near(one("sgd"), {0.95, -1.9});
  expect_near(one("sgd", 0.1f), {0.94, -1.88});  // L2: g + 0.1 w = [0.6, -1.2]
  expect_near(one("momentum"), {0.95, -1.9});    // buf = g
  expect_near(one("nesterov"), {0.905, -1.81});  // w - lr (g + 0.9 g)
  expect_near(one("adagrad"), {0.9, -1.9});      // lr g / |g|
  expect_near(one("sm3"), {0.9, -1.9});          // vector: adagrad
  const double r = 0.1 / std::sqrt(0.001);       // rmsprop: v = 0.001 g^2
  expect_near(one("rmsprop"), {1 - r, -2 + r}, 1e-4);
  expect_near(one("adam"), {0.9, -1.9});                  // bias-corrected m / sqrt(v) = sign(g)
  expect_near(one("adamw", 0.1f), {0.89, -1.88});         // w (1 - 0.01) - 0.1 sign(g)
  expect_near(one("randk-sgd", 0.f, 1.f), {0.95, -1.9});  // keeps everything
  expect_near(one("topk-sgd", 0.f, 0.5f), {1.0, -1.9});   // k = 1: only |lr g| = 0.1 goes out
  expect_near(one("topk-sgd-nofeedback", 0.f, 0.5f), {1.0, -1.9});
}

TEST(Rules, TopKResidualCarriesOver) {
  OptimizerConfig cfg;
  cfg.rule = "topk-sgd";
  cfg.lr = 0.1f;
  cfg.sparsify = 0.5f;
  const std::vector<std::vector<float>> g = {{0.5f, -1.f}, {0.5f, -1.f}};
  // step 1: e = [0.05, -0.1] -> send [0, -0.1], e = [0.05, 0]; step 2: e = [0.1, -0.1]: a tie, both
  // go.
  expect_near(run_linear(cfg, Shape{2}, {1.f, -2.f}, g), {0.9, -1.8});
  cfg.rule = "topk-sgd-nofeedback";  // step 2: e = [0.05, -0.1] again
  expect_near(run_linear(cfg, Shape{2}, {1.f, -2.f}, g), {1.0, -1.8});
}

TEST(Rules, Sm3HandComputedCovers) {
  OptimizerConfig cfg;
  cfg.rule = "sm3";
  cfg.lr = 1.f;
  cfg.eps = 1e-30f;
  const std::vector<std::vector<float>> g = {{1, 2, 0, 0, 1, 3}, {1, 1, 1, 1, 1, 1}};
  // Step 1 (accumulators 0): nu = g^2 = [[1,4,0],[0,1,9]]: w -= sign(g); rows [4, 9], cols [1, 4,
  // 9]. Step 2: nu = min(row_i, col_j) + 1 = [[2,5,5],[2,5,10]].
  const std::vector<float> w0(6, 0.f);
  std::vector<double> want = {-1, -1, 0, 0, -1, -1};
  const double nu2[6] = {2, 5, 5, 2, 5, 10};
  for (int i = 0; i < 6; ++i) want[i] -= 1.0 / std::sqrt(nu2[i]);
  expect_near(run_linear(cfg, Shape{2, 3}, w0, g), want);

  Linear m(Shape{2, 3});
  Optimizer opt(cfg, m.g, m.grads);
  auto be = Backend::create("cpu", 1);
  Executor ex(m.g, *be, ExecutorOptions{{}, opt.requests(), opt.grads_to_keep()});
  opt.bind(ex, 0);
  for (int s = 0; s < 2; ++s) {
    ex.upload(m.c, g[s].data(), 24);
    ex.run(s + 1, 1, true);
    opt.step(s + 1);
  }
  std::map<std::string, std::vector<float>> st;
  for (auto& [name, t] : opt.state_tensors()) {
    std::vector<float> h(t.numel());
    be->copy_to_host(h.data(), t.data, t.nbytes());
    st[name] = h;
  }
  EXPECT_EQ(st["w/v.row"], (std::vector<float>{5, 10}));
  EXPECT_EQ(st["w/v.col"], (std::vector<float>{2, 5, 10}));
}

TEST(Rules, Sm3MomentumHandComputed) {
  // The covers of Sm3HandComputedCovers; u = g / sqrt(nu), m = 0.5 m + 0.5 u, w -= m.
  OptimizerConfig cfg;
  cfg.rule = "sm3-momentum";
  cfg.lr = 1.f;
  cfg.eps = 1e-30f;
  cfg.momentum = 0.5f;
  const std::vector<std::vector<float>> g = {{1, 2, 0, 0, 1, 3}, {1, 1, 1, 1, 1, 1}};
  const double sign1[6] = {1, 1, 0, 0, 1, 1}, nu2[6] = {2, 5, 5, 2, 5, 10};
  std::vector<double> want(6);
  for (int i = 0; i < 6; ++i) {
    const double m1 = 0.5 * sign1[i], m2 = 0.5 * m1 + 0.5 / std::sqrt(nu2[i]);
    want[i] = -m1 - m2;
  }
  expect_near(run_linear(cfg, Shape{2, 3}, std::vector<float>(6, 0.f), g), want);
}

TEST(Rules, Sm3MomentumWithZeroMomentumIsSm3) {
  // m = u: w -= lr * (g / (sqrt(nu) + eps)) against sm3's w -= lr * g / (sqrt(nu) + eps), the same
  // up to the order of one multiplication and one division.
  const auto g = uniform_steps(6, 20, 70);
  const auto w0 = testing_optim::uniform(20, 69);
  OptimizerConfig cfg;
  cfg.lr = 0.05f;
  cfg.rule = "sm3";
  const auto sm3 = run_linear(cfg, Shape{5, 4}, w0, g);
  cfg.rule = "sm3-momentum";
  cfg.momentum = 0.f;
  const auto mom = run_linear(cfg, Shape{5, 4}, w0, g);
  std::vector<double> want(sm3.begin(), sm3.end());
  expect_near(mom, want, 1e-6);
  cfg.momentum = 0.9f;  // and momentum does change the result
  EXPECT_GT(std::abs(run_linear(cfg, Shape{5, 4}, w0, g)[0] - sm3[0]), 1e-3);
}

TEST(Rules, Sm3MomentumLosslessSketchedMomentumEqualsDense) {
  // Row-sparse (emb/W, row cover only) and dense (dense/W, row and column covers) parameters: m in
  // a lossless Count-Sketch (identity hash, width >= rows) gives exactly the dense-m result.
  OptimizerConfig cfg;
  cfg.rule = "sm3-momentum";
  cfg.lr = 0.1f;
  auto dense = testing_optim::train_tiny(cfg, 5, "cpu", 2, 5);  // colliding ids
  cfg.state = "emb/W=m:cs:1x:d1:identity;dense/W=m:cs:0.25x:d3:identity";
  auto sketched = testing_optim::train_tiny(cfg, 5, "cpu", 2, 5);
  EXPECT_TRUE(testing_optim::bitwise_equal(dense.E, sketched.E));
  EXPECT_TRUE(testing_optim::bitwise_equal(dense.P, sketched.P));
  const auto start = testing_optim::train_tiny(cfg, 0, "cpu", 2, 5);  // the initial weights
  EXPECT_FALSE(testing_optim::bitwise_equal(start.E, dense.E));
  EXPECT_FALSE(testing_optim::bitwise_equal(start.P, dense.P));
  for (float x : dense.E) ASSERT_TRUE(std::isfinite(x));
}

TEST(Rules, Sm3WithSingletonCoversIsAdagrad) {
  // A [n, 1] matrix: each row accumulator covers one entry and the column accumulator is the
  // maximum, so nu = row_i + g^2: exactly Adagrad. Same for a vector (dense fallback).
  const auto g = uniform_steps(5, 7, 50);
  const auto w0 = testing_optim::uniform(7, 49);
  OptimizerConfig cfg;
  cfg.lr = 0.3f;
  cfg.rule = "adagrad";
  const auto ada = run_linear(cfg, Shape{7, 1}, w0, g);
  cfg.rule = "sm3";
  EXPECT_TRUE(testing_optim::bitwise_equal(run_linear(cfg, Shape{7, 1}, w0, g), ada));
  EXPECT_TRUE(testing_optim::bitwise_equal(run_linear(cfg, Shape{7}, w0, g), ada));
  EXPECT_TRUE(testing_optim::bitwise_equal(run_linear(cfg, Shape{1, 7}, w0, g), ada));
}

TEST(Rules, Sm3RowSparseEqualsAdagradForSingleColumn) {
  // Row-sparse gradients keep the row cover only (nu = row_i + g^2, row_i = max over the row): with
  // d = 1 that is Adagrad on the active rows, as is the dense [12, 1] parameter.
  OptimizerConfig cfg;
  cfg.lr = 0.2f;
  cfg.rule = "adagrad";
  auto a = testing_optim::train_tiny(cfg, 4, "cpu", 2, 0, /*dim=*/1);
  cfg.rule = "sm3";
  auto b = testing_optim::train_tiny(cfg, 4, "cpu", 2, 0, 1);
  EXPECT_TRUE(testing_optim::bitwise_equal(a.E, b.E));
  EXPECT_TRUE(testing_optim::bitwise_equal(a.P, b.P));
  auto c = testing_optim::train_tiny(cfg, 4);  // d = 8: the row max couples the columns
  for (float x : c.E) ASSERT_TRUE(std::isfinite(x));
}

// Logistic regression (2-class softmax) on generated, noisy, non-separable data; full batch.
double train_logreg(const std::string& rule, int steps, float lr, float sparsify) {
  const int64_t N = 256, D = 32;
  Graph g;
  ValueId W = g.parameter("W", {D, 2});
  ValueId X = g.input("X", {N, D});
  ValueId y = g.input("y", {N}, DType::I32);
  ValueId loss = log_softmax_cross_entropy(g, matmul(g, X, W), y);
  g.keep(loss);
  auto grads = g.backward(loss);
  OptimizerConfig cfg;
  cfg.rule = rule;
  cfg.lr = lr;
  cfg.sparsify = sparsify;
  Optimizer opt(cfg, g, grads);
  auto be = Backend::create("cpu", 2);
  Executor ex(g, *be, ExecutorOptions{{}, opt.requests(), opt.grads_to_keep()});
  opt.bind(ex, 0);
  std::vector<float> x = testing_optim::uniform(N * D, 77);
  std::vector<float> wt = testing_optim::uniform(D, 78, -2.f, 2.f);
  std::vector<int32_t> labels(N);
  for (int64_t i = 0; i < N; ++i) {
    double z = 0;
    for (int64_t k = 0; k < D; ++k) z += x[i * D + k] * wt[k];
    const double p = 1.0 / (1.0 + std::exp(-z));
    labels[i] = rng_uniform_double(79, 0, i) < p ? 1 : 0;  // noisy labels
  }
  float last = 0;
  for (int s = 1; s <= steps; ++s) {
    ex.upload(X, x.data(), x.size() * 4);  // inputs live in the step arena: upload every step
    ex.upload(y, labels.data(), labels.size() * 4);
    ex.run(s, 1, true);
    last = ex.read_f32(loss)[0];
    opt.step(s);
  }
  return last;
}

TEST(Rules, ErrorFeedbackTopKMatchesSgdOnLogisticRegression) {
  const int steps = 1500;
  const double sgd = train_logreg("sgd", steps, 0.5f, 1.f);
  const double ef = train_logreg("topk-sgd", steps, 0.5f, 0.05f);  // 3 of 64 entries per step
  const double ef_rand = train_logreg("randk-sgd", steps, 0.5f, 0.05f);
  const double nofb = train_logreg("topk-sgd-nofeedback", steps, 0.5f, 0.05f);
  const double start = std::log(2.0);
  ASSERT_LT(sgd, 0.8 * start);
  std::printf("logreg loss after %d steps: sgd %.5f topk-ef %.5f randk-ef %.5f topk-nofb %.5f\n",
              steps, sgd, ef, ef_rand, nofb);
  EXPECT_LT(std::fabs(ef - sgd), 0.01 * sgd) << "ef " << ef << " sgd " << sgd;
  EXPECT_LT(ef_rand, sgd * 1.05) << "randk " << ef_rand << " sgd " << sgd;
  EXPECT_GT(nofb, 1.25 * sgd) << "nofb " << nofb << " sgd " << sgd;
}

}  // namespace
}  // namespace sg
