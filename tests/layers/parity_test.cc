// CPU vs CUDA parity of the layers: the LSTM layer (forward, backward, carried state) and the whole
// language model with the sampled and the full softmax (loss, every gradient, densified when
// row-sparse). Skipped without a GPU. Both devices get the same parameters (init_lm_parameters is
// device-independent) and the same samples (the device sampler is seeded from (seed, step)).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "engine/executor.h"
#include "engine/ops/ops.h"
#include "layers/lm_model.h"
#include "layers/lstm.h"
#include "layers/lstm_cudnn.h"
#include "tests/engine/grad_to_host.h"

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
  eo.grads_to_keep = grad_values(m.grads);
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
    r.grads[m.g.value(p).name] = testing::grad_to_host(ex, m.g, gr, m.g.value(p).shape.numel());
  }
  for (ValueId v : m.state) r.state.push_back(ex.read_f32(v));
  return r;
}

void expect_parity(const LmConfig& cfg, const std::string& dev_a = "cpu",
                   const LmConfig* cfg_b = nullptr) {
  const RunResult a = run_model(cfg, dev_a, 3), b = run_model(cfg_b ? *cfg_b : cfg, "cuda", 3);
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

// cuDNN LSTM vs the native LSTM, both on the GPU (same parameters, data, samples and dropout
// masks).
TEST(LayersParity, CudnnLstmVsNativeProjection) {
  if (!Backend::cuda_available()) GTEST_SKIP() << "no GPU";
  LmConfig c = small_cfg();
  c.sampled = 40;
  LmConfig k = c;
  k.lstm_impl = "cudnn";
  expect_parity(c, "cuda", &k);
}

TEST(LayersParity, CudnnLstmVsNativeNoProjection) {
  if (!Backend::cuda_available()) GTEST_SKIP() << "no GPU";
  LmConfig c = small_cfg();
  c.proj = 0, c.layers = 1;
  LmConfig k = c;
  k.lstm_impl = "cudnn";
  expect_parity(c, "cuda", &k);
}

TEST(LayersParity, CudnnLstmVsNativeEval) {
  if (!Backend::cuda_available()) GTEST_SKIP() << "no GPU";
  LmConfig c = small_cfg();
  c.training = false;
  LmConfig k = c;
  k.lstm_impl = "cudnn";
  expect_parity(c, "cuda", &k);
}

// One layer with the initial state as parameters: d(h0), d(c0) and dx agree between cuDNN and
// native.
std::map<std::string, std::vector<float>> lstm_grads(bool cudnn, int64_t P) {
  const int64_t T = 4, B = 3, I = 5, H = 8, R = P > 0 ? P : H;
  Graph g;
  ValueId x = g.parameter("x", {T * B, I}), W = g.parameter("W", {I + R, 4 * H}),
          b = g.parameter("b", {4 * H}), h0 = g.parameter("h0", {B, R}),
          c0 = g.parameter("c0", {B, H});
  ValueId Pm = P > 0 ? g.parameter("P", {H, P}) : kNoValue;
  ValueId y = cudnn ? lstm_cudnn(g, x, W, b, Pm, h0, c0, T) : lstm(g, x, W, b, Pm, h0, c0, T);
  ValueId wts = g.input("wts", g.value(y).shape);
  ValueId loss = sum(g, mul(g, y, wts));
  auto grads = g.backward(loss);
  ExecutorOptions eo;
  for (auto& [p, gr] : grads) eo.grads_to_keep.push_back(gr.dense);
  auto be = Backend::create("cuda", 2);
  Executor ex(g, *be, eo);
  std::mt19937 rng(8);
  std::uniform_real_distribution<float> u(-0.7f, 0.7f);
  for (ValueId p : g.parameters()) {
    std::vector<float> v(g.value(p).shape.numel());
    for (auto& e : v) e = u(rng);
    ex.upload(p, v.data(), v.size() * 4);
  }
  std::vector<float> wv(g.value(y).shape.numel());
  for (auto& e : wv) e = u(rng);
  ex.upload(wts, wv.data(), wv.size() * 4);
  ex.run(1, 1, true);
  std::map<std::string, std::vector<float>> out;
  out["loss"] = ex.read_f32(loss);
  for (auto& [p, gr] : grads) out[g.value(p).name] = ex.read_f32(gr.dense);
  return out;
}

TEST(LayersParity, CudnnLstmLayerGradientsIncludingInitialState) {
  if (!Backend::cuda_available()) GTEST_SKIP() << "no GPU";
  for (int64_t P : {0, 3}) {
    const auto a = lstm_grads(false, P), b = lstm_grads(true, P);
    ASSERT_EQ(a.size(), b.size());
    EXPECT_EQ(a.size(), P > 0 ? 7u : 6u);
    for (auto& [name, va] : a) {
      const auto& vb = b.at(name);
      ASSERT_EQ(va.size(), vb.size()) << name;
      for (size_t i = 0; i < va.size(); ++i)
        ASSERT_NEAR(va[i], vb[i], 2e-4 * (1 + std::fabs(va[i]))) << name << "[" << i << "] P=" << P;
    }
  }
}

}  // namespace
}  // namespace sg
