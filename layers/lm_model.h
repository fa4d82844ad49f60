// The LSTM language model: embedding -> dropout -> L x (LSTM(P) -> dropout) -> softmax (sampled or
// full), built as one graph per shape configuration (time-major batches: position t*B + b).
//
// Parameters (stable names; checkpoints use them):
//   "embedding/W" [V, E]          init uniform(-0.1, 0.1)
//   "lstm{l}/W"   [in_l + R, 4H]  rows: input weights then recurrent weights; gate blocks i|f|g|o;
//                                 init uniform(-1/sqrt(H), 1/sqrt(H)) (PyTorch's LSTM default)
//   "lstm{l}/b"   [4H]            sum of two uniform(-1/sqrt(H), 1/sqrt(H)) draws
//                                 (PyTorch's b_ih + b_hh; no forget-gate offset)
//   "lstm{l}/P"   [H, proj]       when proj > 0; uniform(-1/sqrt(H), 1/sqrt(H))
//   "softmax/W"   [V, D_out]      uniform(-1/sqrt(D_out), 1/sqrt(D_out)); D_out = proj ? proj : H
//   "softmax/b"   [V]             0
// with in_0 = E, in_l = R (l > 0), R = D_out. Every value is rng_uniform(seed, fnv1a64(name),
// index) mapped to its range (engine/rng.h), generated on the host and uploaded, so a seed gives
// the same parameters on any backend. Carried state: "lstm{l}/h" [B, R], "lstm{l}/c" [B, H]
// (Category::State), zero when the executor is created. Gradients: embedding/W always row-sparse;
// softmax/W and softmax/b row-sparse with the sampled softmax (the row tensor of softmax/b is [n,
// 1]), dense with the full softmax; LSTM parameters dense.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine/executor.h"
#include "engine/graph.h"

namespace sg {

struct LmConfig {
  int64_t vocab = 0;  // V: ids 0-2 are <S>, </S>, <UNK>, then the words by descending count
  int64_t emb = 128, hidden = 512,
          proj = 128;  // proj 0 = no projection (LSTM output size = hidden)
  int layers = 1;
  float dropout = 0.f;  // on embedding output and on each LSTM layer output (training only)
  int64_t sampled = 0;  // 0 = full softmax; S > 0 = sampled softmax with S negatives per step
  int64_t batch = 32, bptt = 20;  // B streams, T steps
  std::string lstm_impl =
      "native";             // "native" (CPU+CUDA); "cudnn" (CUDA + cuDNN; building needs a GPU)
  bool cudnn_tf32 = false;  // "cudnn": TF32 tensor cores in cuDNN (Backend::set_tf32 for cuBLAS)
  // Plan the CPU kernels' own workspaces: the "native" LSTM recurrences' packed weights (lstm.h)
  // and the fused full softmax's chunk column sums (softmax.h); false for a graph that runs on
  // CUDA, whose kernels use neither.
  bool cpu_workspaces = true;
  bool training = true;      // false: no backward, full softmax always, dropout off
  bool keep_logits = false;  // generate: keep logits [T*B, V] alive to read them
};

struct LmGraph {
  LmConfig cfg;
  Graph g;
  ValueId tokens = kNoValue;      // input i32 [T, B], name "tokens"  (time-major: row t*B + b)
  ValueId targets = kNoValue;     // input i32 [T, B], name "targets"
  ValueId loss = kNoValue;        // f32 [1], mean cross-entropy over all T*B positions (kept)
  ValueId row_loss = kNoValue;    // f32 [T*B] per-position NLL (kept) whenever the softmax is full
  ValueId logits = kNoValue;      // f32 [T*B, V] when keep_logits
  std::vector<ValueId> state;     // carried LSTM state values (Category::State), zero = fresh
  std::map<ValueId, Grad> grads;  // parameter -> gradient, training graphs only
};

LmGraph build_lm(const LmConfig& cfg);  // throws sg::Error on bad config (one line)
void init_lm_parameters(Executor& ex, const LmGraph& m,
                        uint64_t seed);               // deterministic, any backend
void reset_lm_state(Executor& ex, const LmGraph& m);  // zero all carried state
// Forward FLOPs of one executor step (all T*B positions; 2 per multiply-add of every GEMM: LSTM
// input, recurrent and projection GEMMs, and the softmax logits: N*(S+1)*D sampled, N*V*D full).
int64_t lm_forward_flops(const LmConfig& cfg);

// Named configurations for tests: "small" (the bundled corpus default: E 128, H 512, P 128, 1
// layer, sampled 1024, B 32, T 20) and "lm1b" (Spring et al. 2019's LM1B model: V 793,471, E 256,
// 1 layer of 2048 cells projected to 256, sampled 8192, B 1024, T 20). vocab is left as given for
// "small". Throws on an unknown name. The command line's presets are RunConfig::apply_preset.
LmConfig lm_preset(const std::string& name, int64_t vocab = 0);

}  // namespace sg
