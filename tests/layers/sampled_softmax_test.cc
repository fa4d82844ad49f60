// Sampled softmax tests: the op against a brute-force double-precision host reference (logits,
// loss, gradients of h / W / b, expected counts, accidental hits), finite differences, the
// sampler's frequencies against P(k) (chi-square), uniqueness and reproducibility of the samples,
// and bad configurations.
#include "layers/sampled_softmax.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <set>

#include "engine/dispatch.h"
#include "engine/executor.h"
#include "engine/ops/ops.h"
#include "layers/log_uniform.h"
#include "layers/log_uniform_kernels.h"
#include "tests/engine/gradcheck.h"

namespace sg {
namespace {

struct Fixture {
  int64_t N, D, V, S;
  Graph g;
  ValueId h, W, b, t;
  SampledSoftmax ss;
  std::map<ValueId, Grad> grads;
  std::unique_ptr<Backend> be;
  std::unique_ptr<Executor> ex;
  std::vector<float> hv, Wv, bv;
  std::vector<int32_t> tv;

  Fixture(int64_t n, int64_t d, int64_t v, int64_t s, std::vector<int32_t> targets)
      : N(n), D(d), V(v), S(s), tv(std::move(targets)) {
    h = g.parameter("h", {N, D});
    W = g.parameter("softmax/W", {V, D});
    b = g.parameter("softmax/b", {V});
    t = g.input("targets", {N}, DType::I32);
    ss = sampled_softmax_loss(g, h, W, b, t, S);
    grads = g.backward(ss.loss);
    ExecutorOptions eo;
    eo.grads_to_keep = grad_values(grads);
    for (ValueId k : {ss.row_loss, ss.probs, ss.ids, ss.sampled_logq, ss.tries}) g.keep(k);
    be = Backend::create("cpu", 2);
    ex = std::make_unique<Executor>(g, *be, eo);
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    for (auto* vec : {&hv, &Wv, &bv}) vec->clear();
    for (int64_t i = 0; i < N * D; ++i) hv.push_back(u(rng));
    for (int64_t i = 0; i < V * D; ++i) Wv.push_back(0.5f * u(rng));
    for (int64_t i = 0; i < V; ++i) bv.push_back(0.3f * u(rng));
    ex->upload(h, hv.data(), hv.size() * 4);
    ex->upload(W, Wv.data(), Wv.size() * 4);
    ex->upload(b, bv.data(), bv.size() * 4);
  }
  void run(int64_t step, uint64_t seed) {
    ex->upload(t, tv.data(), tv.size() * 4);
    ex->run(step, seed, true);
  }
  std::vector<int32_t> ids() const {
    std::vector<int32_t> v(static_cast<size_t>(N + S));
    ex->download(ss.ids, v.data(), v.size() * 4);
    return v;
  }
  int32_t tries() const {
    int32_t k = 0;
    ex->download(ss.tries, &k, 4);
    return k;
  }
  // Row-sparse gradient -> dense host vector of rows x d.
  std::vector<float> dense_of(const Grad& gr, int64_t rows, int64_t d) const {
    EXPECT_TRUE(gr.is_sparse());
    return testing::grad_to_host(*ex, g, gr, rows * d);
  }
};

TEST(SampledSoftmax, MatchesBruteForceReference) {
  // Frequent targets (0, 1, 2) make accidental hits certain with S = 12 of V = 40.
  Fixture f(6, 5, 40, 12, {0, 1, 2, 0, 17, 39});
  f.run(5, 99);
  const auto ids = f.ids();
  const int64_t tries = f.tries();
  ASSERT_GE(tries, f.S);
  std::set<int32_t> uniq(ids.begin() + f.N, ids.end());
  EXPECT_EQ(static_cast<int64_t>(uniq.size()), f.S) << "samples must be distinct";
  for (int64_t r = 0; r < f.N; ++r) EXPECT_EQ(ids[r], f.tv[r]);

  // Expected counts, computed independently in long double.
  auto logq = [&](int32_t k) {
    long double p = (std::log((long double)k + 2) - std::log((long double)k + 1)) /
                    std::log((long double)f.V + 1);
    return (double)std::log(1.0L - std::pow(1.0L - p, (long double)tries));
  };
  const auto samp_logq = f.ex->read_f32(f.ss.sampled_logq);
  for (int64_t j = 0; j < f.S; ++j) EXPECT_NEAR(samp_logq[j], logq(ids[f.N + j]), 1e-5);

  // Brute-force logits, loss and gradients in double.
  const auto probs = f.ex->read_f32(f.ss.probs);
  const auto row_loss = f.ex->read_f32(f.ss.row_loss);
  const float loss = f.ex->read_f32(f.ss.loss)[0];
  const int64_t C = f.S + 1;
  std::vector<double> dh(f.N * f.D, 0.0), dW(f.V * f.D, 0.0), db(f.V, 0.0);
  double mean = 0.0;
  int hits = 0;
  for (int64_t r = 0; r < f.N; ++r) {
    std::vector<double> z(C);
    std::vector<int32_t> cls(C);
    std::vector<bool> masked(C, false);
    for (int64_t j = 0; j < C; ++j) {
      const int32_t k = j == 0 ? f.tv[r] : ids[f.N + j - 1];
      cls[j] = k;
      double dot = 0.0;
      for (int64_t c = 0; c < f.D; ++c) dot += double(f.hv[r * f.D + c]) * f.Wv[k * f.D + c];
      z[j] = dot + f.bv[k] - logq(k);
      if (j > 0 && k == f.tv[r]) masked[j] = true, ++hits;
    }
    double mx = -1e300, sum = 0.0;
    for (int64_t j = 0; j < C; ++j)
      if (!masked[j]) mx = std::max(mx, z[j]);
    for (int64_t j = 0; j < C; ++j)
      if (!masked[j]) sum += std::exp(z[j] - mx);
    const double lr = std::log(sum) + mx - z[0];
    EXPECT_NEAR(row_loss[r], lr, 1e-4 * (1 + std::fabs(lr)));
    mean += lr / f.N;
    for (int64_t j = 0; j < C; ++j) {
      const double p = masked[j] ? 0.0 : std::exp(z[j] - mx) / sum;
      if (masked[j])
        EXPECT_EQ(probs[r * C + j], 0.0f) << "accidental hit must have probability 0";
      else
        EXPECT_NEAR(probs[r * C + j], p, 1e-5);
      const double dz = (p - (j == 0 ? 1.0 : 0.0)) / f.N;
      const int32_t k = cls[j];
      for (int64_t c = 0; c < f.D; ++c) {
        dh[r * f.D + c] += dz * f.Wv[k * f.D + c];
        dW[k * f.D + c] += dz * f.hv[r * f.D + c];
      }
      db[k] += dz;
    }
  }
  EXPECT_GT(hits, 0) << "the fixture should produce accidental hits";
  EXPECT_NEAR(loss, mean, 1e-5 * (1 + std::fabs(mean)));

  const auto gdh = f.ex->read_f32(f.grads.at(f.h).dense);
  for (size_t i = 0; i < dh.size(); ++i) EXPECT_NEAR(gdh[i], dh[i], 1e-6) << "dh " << i;
  const auto gdW = f.dense_of(f.grads.at(f.W), f.V, f.D);
  for (size_t i = 0; i < dW.size(); ++i) EXPECT_NEAR(gdW[i], dW[i], 1e-6) << "dW " << i;
  const auto gdb = f.dense_of(f.grads.at(f.b), f.V, 1);
  for (size_t i = 0; i < db.size(); ++i) EXPECT_NEAR(gdb[i], db[i], 1e-6) << "db " << i;
  // Sparse count = |targets U samples|.
  std::set<int32_t> all(ids.begin(), ids.end());
  int32_t count = 0;
  f.ex->download(f.grads.at(f.W).sparse.count, &count, 4);
  EXPECT_EQ(count, static_cast<int32_t>(all.size()));
}

TEST(SampledSoftmax, ReproducibleForSeedAndStep) {
  Fixture a(4, 3, 1000, 50, {5, 6, 7, 8}), b(4, 3, 1000, 50, {5, 6, 7, 8});
  a.run(11, 3);
  b.run(11, 3);
  EXPECT_EQ(a.ids(), b.ids());
  EXPECT_EQ(a.tries(), b.tries());
  EXPECT_EQ(a.ex->read_f32(a.ss.loss), b.ex->read_f32(b.ss.loss));
  const auto first = a.ids();
  a.run(12, 3);
  EXPECT_NE(a.ids(), first) << "a new step draws new samples";
  a.run(11, 4);
  EXPECT_NE(a.ids(), first) << "a new seed draws new samples";
  a.run(11, 3);
  EXPECT_EQ(a.ids(), first);
}

// Runs sample_log_uniform_unique on `device`: ids, logq, tries back on the host.
struct Samples {
  std::vector<int32_t> ids;
  std::vector<float> logq;
  int32_t tries = 0;
};
Samples draw_unique(const std::string& device, int64_t S, int64_t V, uint64_t seed,
                    uint64_t stream) {
  auto be = Backend::create(device, 2);
  const size_t ws = log_uniform_unique_workspace_bytes(V);
  const size_t bytes = S * 8 + 64 + ws;
  void* buf = be->allocate(bytes);
  // Freed on every path: the sampler throws on bad arguments, and the buffer leaked (LeakSanitizer).
  struct Free {
    Backend& be;
    void* p;
    size_t n;
    ~Free() { be.deallocate(p, n); }
  } free_buf{*be, buf, bytes};
  auto* ids = static_cast<int32_t*>(buf);
  auto* logq = reinterpret_cast<float*>(ids + S);
  auto* tries = reinterpret_cast<int32_t*>(logq + S);
  void* work = reinterpret_cast<char*>(buf) + S * 8 + 64;
  be->fill_zero(work, ws);  // the kernel must not rely on it: it is overwritten first
  SG_DISPATCH(*be, sample_log_uniform_unique, S, V, seed, stream, ids, logq, tries, work, ws);
  Samples r;
  r.ids.resize(S);
  r.logq.resize(S);
  be->copy_to_host(r.ids.data(), ids, S * 4);
  be->copy_to_host(r.logq.data(), logq, S * 4);
  be->copy_to_host(&r.tries, tries, 4);
  return r;
}

TEST(SampledSoftmax, SamplesFollowTheIndependentRejectionRule) {
  // Re-derive the samples from engine/rng.h directly (not through log_uniform.h).
  const int64_t V = 500, S = 40;
  const Samples got = draw_unique("cpu", S, V, 77, 1234);
  std::vector<int32_t> expect;
  std::set<int32_t> seen;
  int64_t k = 0;
  for (; static_cast<int64_t>(expect.size()) < S; ++k) {
    const double u = rng_uniform_double(77, 1234, k);
    int64_t id = static_cast<int64_t>(std::exp(u * std::log(V + 1.0))) - 1;
    id = std::min<int64_t>(std::max<int64_t>(id, 0), V - 1);
    if (seen.insert(id).second) expect.push_back(static_cast<int32_t>(id));
  }
  EXPECT_EQ(got.ids, expect);
  EXPECT_EQ(got.tries, k);
  for (int64_t p = 0; p < S; ++p) {
    const long double q = std::log1p(1.0L / (expect[p] + 1.0L)) / std::log(V + 1.0L);
    const double logq = static_cast<double>(std::log(1.0L - std::pow(1.0L - q, (long double)k)));
    EXPECT_NEAR(got.logq[p], logq, 1e-5 * std::max(1.0, std::fabs(logq))) << "sample " << p;
  }
}

TEST(SampledSoftmax, SamplerCpuVsCuda) {
  if (!Backend::cuda_available()) GTEST_SKIP() << "no GPU";
  // Small and LM1B-sized vocabularies; (100, 99) needs many chunks of draws for the last id.
  for (auto [V, S] : std::vector<std::pair<int64_t, int64_t>>{
           {500, 40}, {8453, 1024}, {100, 99}, {100, 100}, {793471, 8192}}) {
    for (uint64_t step = 1; step <= 3; ++step) {
      const Samples c = draw_unique("cpu", S, V, 77, step), g = draw_unique("cuda", S, V, 77, step);
      EXPECT_EQ(c.tries, g.tries) << "V " << V << " S " << S;
      EXPECT_EQ(c.ids, g.ids) << "V " << V << " S " << S;
      for (int64_t p = 0; p < S; ++p) ASSERT_NEAR(c.logq[p], g.logq[p], 1e-5f) << p;
    }
  }
}

TEST(SampledSoftmax, SamplerFrequenciesMatchLogUniform) {
  const int64_t V = 30, n = 300000;
  std::vector<int64_t> hist(V, 0);
  for (int64_t i = 0; i < n; ++i) ++hist[log_uniform_draw(2024, 9, i, V)];
  double chi2 = 0.0, total_p = 0.0;
  for (int64_t k = 0; k < V; ++k) {
    const double p = log_uniform_prob(k, V);
    total_p += p;
    const double e = p * n;
    chi2 += (hist[k] - e) * (hist[k] - e) / e;
  }
  EXPECT_NEAR(total_p, 1.0, 1e-12);
  // 29 degrees of freedom: P(chi2 > 58.3) = 0.001.
  EXPECT_LT(chi2, 58.3) << "chi-square " << chi2;
  EXPECT_GT(chi2, 5.0) << "suspiciously perfect fit";
}

TEST(SampledSoftmax, UniqueSamplerTakesAllIdsWhenAsked) {
  const Samples all = draw_unique("cpu", 8, 8, 1, 2);
  EXPECT_GE(all.tries, 8);
  EXPECT_EQ(std::set<int32_t>(all.ids.begin(), all.ids.end()).size(), 8u);
  EXPECT_THROW(draw_unique("cpu", 9, 8, 1, 2), Error);
  EXPECT_THROW(draw_unique("cpu", 0, 8, 1, 2), Error);
  auto be = Backend::create("cpu", 1);
  std::vector<int32_t> ids(4), tries(1), work(8);
  std::vector<float> logq(4);
  EXPECT_THROW(cpu::sample_log_uniform_unique(*be, 4, 8, 1, 2, ids.data(), logq.data(),
                                              tries.data(), work.data(), 7),
               Error)
      << "a workspace smaller than one mark per id";
}

TEST(SampledSoftmax, GradCheck) {
  testing::GradCheckOptions opt;
  opt.eps = 5e-3f;
  auto res = testing::grad_check(
      {{"h", {5, 4}}, {"softmax/W", {25, 4}, -0.5f, 0.5f}, {"softmax/b", {25}, -0.5f, 0.5f}},
      {{"targets", {5}, {}, {0, 3, 1, 24, 0}}},
      [](Graph& g, const std::vector<ValueId>& p, const std::vector<ValueId>& in) {
        return sampled_softmax_loss(g, p[0], p[1], p[2], in[0], 8).loss;
      },
      opt);
  EXPECT_TRUE(res.saw_sparse);
  EXPECT_GT(res.checked, 100);
  EXPECT_EQ(res.failures, 0);
}

TEST(SampledSoftmax, BadConfigurationThrows) {
  Graph g;
  ValueId h = g.parameter("h", {4, 3}), W = g.parameter("W", {10, 3}), b = g.parameter("b", {10});
  ValueId t = g.input("t", {4}, DType::I32), tf = g.input("tf", {4});
  EXPECT_THROW(sampled_softmax_loss(g, h, W, b, t, 10), Error);  // S >= V
  EXPECT_THROW(sampled_softmax_loss(g, h, W, b, t, 0), Error);
  EXPECT_THROW(sampled_softmax_loss(g, h, W, b, tf, 3), Error);  // f32 targets
  ValueId W2 = g.parameter("W2", {10, 4});
  try {
    sampled_softmax_loss(g, h, W2, b, t, 3);
    FAIL() << "expected a throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("last dim"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace sg
