// CPU vs CUDA parity of the layers: the LSTM layer (forward, backward, carried state) and the whole
// language model with the sampled and the full softmax (loss, every gradient, densified when
// row-sparse). Skipped without a GPU. Both devices get the same parameters (init_lm_parameters is
// device-independent) and the same samples (host sampler seeded from (seed, step)).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "engine/executor.h"
#include "layers/lm_model.h"

namespace sg {
namespace {

struct RunResult {
  float loss = 0;
  std::map<std::string, std::vector<float>> grads;  // dense host copies
  std::vector<std::vector<float>> state;
};

RunResult run_model(const LmConfig& cfg, const std::string& device, int steps) {
  LmGraph m = build_lm(cfg);
  ExecutorOptions eo;
  for (auto& [p, gr] : m.grads) {
    if (gr.is_sparse())
      eo.grads_to_keep.insert(eo.grads_to_keep.end(),
                              {gr.sparse.ids, gr.sparse.rows, gr.sparse.count});
    else
      eo.grads_to_keep.push_back(gr.dense);
  }
  auto be = Backend::create(device, 2);
  Executor ex(m.g, *be, eo);
  init_lm_parameters(ex, m, 21);
  std::mt19937 rng(4);
  std::uniform_int_distribution<int32_t> u(0, static_cast<int32_t>(cfg.vocab - 1));
  const int64_t N = cfg.batch * cfg.bptt;
  std::vector<int32_t> tok(N), tgt(N);
  RunResult r;
  for (int s = 1; s <= steps; ++s) {  // several steps: the carried state matters
    for (auto& x : tok) x = u(rng);
    for (auto& x : tgt) x = u(rng);
    ex.upload(m.tokens, tok.data(), N * 4);
    ex.upload(m.targets, tgt.data(), N * 4);
    ex.run(s, 77, cfg.training);
  }
  be->synchronize();
  r.loss = ex.read_f32(m.loss)[0];
  for (auto& [p, gr] : m.grads) {
    const Shape& ps = m.g.value(p).shape;
    const int64_t d = ps.rank() == 2 ? ps[1] : 1;
    std::vector<float> a(static_cast<size_t>(ps.numel()), 0.0f);
    if (gr.is_sparse()) {
      const int64_t n = m.g.value(gr.sparse.rows).shape[0];
      std::vector<int32_t> ids(n), count(1);
      ex.download(gr.sparse.ids, ids.data(), n * 4);
      ex.download(gr.sparse.count, count.data(), 4);
      const auto rows = ex.read_f32(gr.sparse.rows);
      for (int32_t i = 0; i < count[0]; ++i)
        for (int64_t c = 0; c < d; ++c) a[ids[i] * d + c] += rows[i * d + c];
    } else {
      a = ex.read_f32(gr.dense);
    }
    r.grads[m.g.value(p).name] = std::move(a);
  }
  for (ValueId v : m.state) r.state.push_back(ex.read_f32(v));
  return r;
}

void expect_parity(const LmConfig& cfg) {
  const RunResult a = run_model(cfg, "cpu", 3), b = run_model(cfg, "cuda", 3);
  EXPECT_NEAR(a.loss, b.loss, 1e-4 * (1 + std::fabs(a.loss)));
  ASSERT_EQ(a.grads.size(), b.grads.size());
  for (auto& [name, ga] : a.grads) {
    const auto& gb = b.grads.at(name);
    double scale = 0;
    for (float x : ga) scale = std::max(scale, std::fabs(double(x)));
    for (size_t i = 0; i < ga.size(); ++i)
      ASSERT_NEAR(ga[i], gb[i], 1e-4 * scale + 1e-7) << name << "[" << i << "]";
  }
  for (size_t k = 0; k < a.state.size(); ++k)
    for (size_t i = 0; i < a.state[k].size(); ++i)
      ASSERT_NEAR(a.state[k][i], b.state[k][i], 1e-4) << "state " << k;
}

LmConfig small_cfg() {
  LmConfig c;
  c.vocab = 500, c.emb = 16, c.hidden = 32, c.proj = 12, c.layers = 2, c.batch = 4, c.bptt = 5;
  c.dropout = 0.1f;
  return c;
}

TEST(LayersParity, SampledSoftmaxModelCpuVsCuda) {
  if (!Backend::cuda_available()) GTEST_SKIP() << "no GPU";
  LmConfig c = small_cfg();
  c.sampled = 40;
  expect_parity(c);
}

TEST(LayersParity, FullSoftmaxModelNoProjectionCpuVsCuda) {
  if (!Backend::cuda_available()) GTEST_SKIP() << "no GPU";
  LmConfig c = small_cfg();
  c.proj = 0, c.layers = 1;
  expect_parity(c);
}

TEST(LayersParity, EvalModelCpuVsCuda) {
  if (!Backend::cuda_available()) GTEST_SKIP() << "no GPU";
  LmConfig c = small_cfg();
  c.training = false;
  expect_parity(c);
}

}  // namespace
}  // namespace sg
