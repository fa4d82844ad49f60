// LSTM language model builder, parameter initialisation and state reset (see lm_model.h).
#include "layers/lm_model.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/rng.h"
#include "layers/linear.h"
#include "layers/lstm.h"
#include "layers/sampled_softmax.h"
#include "layers/softmax.h"

namespace sg {

namespace {

void validate(const LmConfig& c) {
  SG_CHECK(c.vocab >= 2, "model config: vocab must be at least 2, got ", c.vocab);
  SG_CHECK(c.vocab < (int64_t{1} << 31), "model config: vocab ", c.vocab, " does not fit i32 ids");
  SG_CHECK(c.emb > 0, "model config: emb must be positive, got ", c.emb);
  SG_CHECK(c.hidden > 0, "model config: hidden must be positive, got ", c.hidden);
  SG_CHECK(c.proj >= 0, "model config: proj must be >= 0 (0 = no projection), got ", c.proj);
  SG_CHECK(c.layers >= 1, "model config: layers must be at least 1, got ", c.layers);
  SG_CHECK(c.dropout >= 0.f && c.dropout < 1.f, "model config: dropout must be in [0, 1), got ",
           c.dropout);
  SG_CHECK(c.sampled >= 0 && c.sampled < c.vocab,
           "model config: sampled must be in [0, vocab=", c.vocab, "), got ", c.sampled);
  SG_CHECK(c.batch > 0 && c.bptt > 0, "model config: batch and bptt must be positive, got batch ",
           c.batch, " bptt ", c.bptt);
  SG_CHECK(c.lstm_impl == "native" || c.lstm_impl == "cudnn", "model config: unknown lstm_impl '",
           c.lstm_impl, "' (native or cudnn)");
  SG_CHECK(!(c.keep_logits && c.training && c.sampled > 0),
           "model config: keep_logits needs the full softmax (sampled > 0 while training)");
}

uint64_t fnv1a64(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char ch : s) h = (h ^ ch) * 0x100000001b3ULL;
  return h;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

LmGraph build_lm(const LmConfig& cfg) {
  validate(cfg);
  LmGraph m;
  m.cfg = cfg;
  Graph& g = m.g;
  const int64_t T = cfg.bptt, B = cfg.batch, V = cfg.vocab, H = cfg.hidden;
  const int64_t R = cfg.proj > 0 ? cfg.proj : H;
  const float p = cfg.training ? cfg.dropout : 0.f;
  m.tokens = g.input("tokens", Shape{T, B}, DType::I32);
  m.targets = g.input("targets", Shape{T, B}, DType::I32);

  ValueId x;
  {
    Graph::LayerScope scope(g, "embedding");
    const ValueId table = g.parameter("W", Shape{V, cfg.emb});
    x = dropout_layer(g, embedding(g, table, m.tokens), p, cfg.training);
  }
  for (int l = 0; l < cfg.layers; ++l) {
    const std::string name = "lstm" + std::to_string(l);
    LstmLayer layer = lstm_layer(g, name, x, T, B, H, cfg.proj, cfg.lstm_impl, cfg.cudnn_tf32,
                                 cfg.cpu_workspaces);
    m.state.push_back(layer.h);
    m.state.push_back(layer.c);
    Graph::LayerScope scope(g, name);
    x = dropout_layer(g, layer.y, p, cfg.training);
  }
  {
    Graph::LayerScope scope(g, "softmax");
    const ValueId W = g.parameter("W", Shape{V, R});
    const ValueId b = g.parameter("b", Shape{V});
    if (cfg.training && cfg.sampled > 0) {
      m.loss = sampled_softmax_loss(g, x, W, b, m.targets, cfg.sampled).loss;
    } else {
      FullSoftmax fs = full_softmax_loss(g, x, W, b, m.targets, cfg.keep_logits,
                                         /*loss_only=*/!cfg.training, cfg.cpu_workspaces);
      m.loss = fs.loss;
      m.row_loss = fs.row_loss;
      g.keep(m.row_loss);
      if (cfg.keep_logits) {
        m.logits = fs.logits;
        g.keep(m.logits);
      }
    }
  }
  g.keep(m.loss);
  if (cfg.training) m.grads = g.backward(m.loss);
  return m;
}

void init_lm_parameters(Executor& ex, const LmGraph& m, uint64_t seed) {
  const LmConfig& c = m.cfg;
  const int64_t R = c.proj > 0 ? c.proj : c.hidden;
  const float lstm_r = 1.0f / std::sqrt(static_cast<float>(c.hidden));
  const float sm_r = 1.0f / std::sqrt(static_cast<float>(R));
  // Values are a function of (seed, parameter name, index) only, so they are made and copied in
  // chunks: the host never holds more than 4 MiB of them (an LM1B embedding is ~800 MB).
  constexpr int64_t kChunk = int64_t(1) << 20;
  std::vector<float> host;
  for (ValueId v : m.g.parameters()) {
    const Value& val = m.g.value(v);
    const int64_t n = val.shape.numel();
    const uint64_t stream = fnv1a64(val.name);
    // Every element is uniform(-r, r) drawn at index i; LSTM biases add a second draw at n + i.
    float r = lstm_r;  // lstm{l}/W, lstm{l}/P
    bool two_draws = false;
    if (val.name == "embedding/W") {
      r = 0.1f;
    } else if (val.name == "softmax/W") {
      r = sm_r;
    } else if (val.name == "softmax/b") {
      r = 0.0f;  // zeros
    } else if (ends_with(val.name, "/b")) {
      // lstm{l}/b stands for PyTorch's b_ih + b_hh: the sum of two uniform(-1/sqrt(H), 1/sqrt(H))
      // draws per gate, no forget-gate offset. A forget bias of 1 (TensorFlow's LSTMCell) made
      // near-integrator cells whose state ran away on fresh held-out streams: sampled:1024 on
      // data/sotu, 300 steps, held-out perplexity 254.6 vs 181 with this init (PyTorch 183.7).
      two_draws = true;
    }
    auto uniform = [&](int64_t i) {
      return (2.0f * rng_uniform(seed, stream, static_cast<uint64_t>(i)) - 1.0f) * r;
    };
    char* dst = static_cast<char*>(ex.tensor(v).data);
    for (int64_t i0 = 0; i0 < n; i0 += kChunk) {
      const int64_t i1 = std::min(n, i0 + kChunk);
      host.resize(static_cast<size_t>(i1 - i0));
#pragma omp parallel for schedule(static) if (i1 - i0 >= (1 << 16))
      for (int64_t i = i0; i < i1; ++i)
        host[i - i0] = r == 0.0f ? 0.0f : (two_draws ? uniform(i) + uniform(n + i) : uniform(i));
      ex.backend().copy_from_host(dst + i0 * sizeof(float), host.data(),
                                  host.size() * sizeof(float));
    }
  }
}

void reset_lm_state(Executor& ex, const LmGraph& m) {
  for (ValueId v : m.state) {
    const Tensor t = ex.tensor(v);
    ex.backend().fill_zero(t.data, t.nbytes());
  }
}

int64_t lm_forward_flops(const LmConfig& c) {
  const int64_t T = c.bptt, B = c.batch, N = T * B;
  const int64_t R = c.proj > 0 ? c.proj : c.hidden;
  int64_t f = 0;
  for (int l = 0; l < c.layers; ++l)
    f += lstm_forward_flops(T, B, l == 0 ? c.emb : R, c.hidden, c.proj);
  if (c.training && c.sampled > 0)
    f += sampled_softmax_forward_flops(N, c.sampled, R);
  else
    f += full_softmax_forward_flops(N, c.vocab, R);
  return f;
}

LmConfig lm_preset(const std::string& name, int64_t vocab) {
  LmConfig c;
  c.vocab = vocab;
  if (name == "small") {
    c.emb = 128, c.hidden = 512, c.proj = 128, c.layers = 1, c.sampled = 1024;
    c.batch = 32, c.bptt = 20;
  } else if (name == "lm1b") {
    c.vocab = vocab > 0 ? vocab : 793471;
    c.emb = 256, c.hidden = 2048, c.proj = 256, c.layers = 1, c.sampled = 8192;
    c.batch = 1024, c.bptt = 20;
  } else {
    SG_FAIL("unknown model preset '", name, "' (small or lm1b)");
  }
  return c;
}

}  // namespace sg
