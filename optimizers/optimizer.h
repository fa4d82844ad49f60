// Optimizer: a rule (optimizers/rule.h) over per-parameter state stores (sketch/store.h) chosen by
// a policy (optimizers/policy.h). Usage with an Executor:
//   Optimizer opt(cfg, g, grads);
//   opts.extra = opt.requests(); opts.grads_to_keep = opt.grads_to_keep();   (append, noting the
//   index) Executor ex(g, be, opts); opt.bind(ex, first_extra); loop: ex.run(t, seed, true);
//   opt.step(t);
//
// Buffers (all planned): persistent state "<param>/<moment>" (m, v: dense [rows, dim] or sketch
// [depth, width, dim]; SM3 "<param>/v.row" [rows] and "<param>/v.col" [dim]; error feedback
// "<param>/e"), sketch hash seeds "<param>/<moment>.hash" i32 [depth, 2] (read back on the first
// step after bind, so a loaded checkpoint's seeds are used); step temporaries (first = last =
// kOptimizerPhase) "optimizer/workspace" (sort keys, SM3 column scratch, top-k state; the largest
// need of any parameter) and "optimizer/grad_norm" (per-parameter partial sums of squares, then the
// norm and the clip factor).
//
// step(t): with clip_per_param, each gradient is first scaled by clip_per_param / max(its norm,
// clip_per_param); then the global norm over every gradient (dense and row-sparse, raw norms), clip
// factor clip / max(norm, clip), the scheduled learning rate, then per parameter: the gradient is
// prepared IN PLACE (scaled by the clip factor, plus weight_decay * w for every rule but adamw;
// gradients are consumed by the step), sketched moments are updated (sketch_update), and the rule
// kernel updates the weights (and dense moments). Row-sparse gradients are lazy: only the active
// rows are read or written (like SparseAdam/LazyAdam); Adam's bias correction uses the global step
// t. Count-Min stores of EMA second moments are cleaned (x alpha) every C steps (default alpha
// 0.25, C 1000, the authors' code). topk-sgd / randk-sgd keep k = max(1, round(sparsify * numel))
// entries (random-k: each with probability sparsify) of dense gradients; row-sparse gradients under
// those rules take a plain lazy SGD step. sm3 on a vector is Adagrad. Nothing is allocated and
// nothing is read back to the host during step(), except the sketch hash seeds once, on the first
// step after bind.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/executor.h"
#include "engine/graph.h"
#include "engine/planner.h"
#include "optimizers/policy.h"
#include "optimizers/rule.h"
#include "optimizers/schedule.h"
#include "sketch/store.h"

namespace sg {

struct OptimizerConfig {
  std::string rule = "adam";  // sgd | momentum | nesterov | adagrad | rmsprop | adam | adamw | sm3
                              // | sm3-momentum | topk-sgd | randk-sgd | topk-sgd-nofeedback
  float lr = 1e-3f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f, momentum = 0.9f, weight_decay = 0.f;
  float clip = 0.f;                   // global-norm clipping; 0 = off
  float clip_per_param = 0.f;         // per-group clipping: each parameter's own norm; 0 = off
  std::string schedule = "constant";  // constant | linear | cosine | warmup:N[+linear|+cosine]
  int64_t total_steps = 0;
  std::string state =
      "dense";             // policy text: dense | cs-mv | cs-v | cs-mv:10x | per-parameter form
  float sparsify = 0.01f;  // fraction kept by topk-sgd / randk-sgd
  uint64_t seed = 1;
};

class Optimizer {
 public:
  Optimizer(const OptimizerConfig& cfg, const Graph& g, const std::map<ValueId, Grad>& grads);
  const std::vector<BufferRequest>& requests() const { return requests_; }
  std::vector<ValueId> grads_to_keep() const;
  void bind(Executor& ex, size_t first_extra);
  void step(int64_t step);
  float learning_rate(int64_t step) const;
  std::vector<std::pair<std::string, Tensor>> state_tensors() const;
  // The names (as in state_tensors) of the buffers that can never hold a negative value: second
  // moments, except a Count-Min with the paper's update (its query-delta steps can undershoot).
  std::vector<std::string> nonnegative_state() const;
  std::string describe() const;
  // One line per parameter whose sketches are overloaded: a step can touch more rows (its
  // row-sparse gradient capacity) than a sketch has buckets per hash row, so every bucket mixes
  // several active rows each step and the estimates are noisy (see README "Known gaps"). In the
  // paper's LM1B model the ratio is 0.39 (embedding) and 0.54 (softmax); on the bundled corpus's
  // small model 1.1 and 3.0. Also one line per sketch at or under 1x compression (it saves no
  // memory). Empty when there is nothing to say.
  std::vector<std::string> sketch_load_notes() const;
  // One line when a --state policy other than dense changes no store of this optimizer (e.g.
  // cs-v for momentum, which keeps no v; any sketch for sm3, whose covers are fixed), so the run
  // is that of --state dense. Empty otherwise, and for optimizers without state.
  std::vector<std::string> policy_notes() const;
  float last_grad_norm() const;

 private:
  struct Slot {  // one store of one moment
    StoreSpec spec;
    int req = -1, col_req = -1, hash_req = -1;  // indices into requests_
    Shape shape, col_shape;
    StoreView view;
    std::vector<int32_t> host_seeds;  // [depth, 2], preallocated
    int32_t* seeds = nullptr;         // device copy (checkpointed)
  };
  struct Param {
    std::string name;
    ValueId value = kNoValue;
    Grad grad;
    RuleKind rule = RuleKind::Sgd;     // effective rule (sm3 on a vector -> adagrad, etc.)
    int64_t rows = 0, dim = 0, n = 0;  // n: gradient rows (upper bound for row-sparse)
    int rank = 0;
    bool sparse = false;
    Slot m, v, e;
    float* w = nullptr;
    float* g = nullptr;
    const int32_t* ids = nullptr;
    const int32_t* count = nullptr;
  };
  void add_state(Param& p, Slot& s, const std::string& moment, const std::string& layer);
  void sync_seeds();
  void step_param(Param& p, int64_t t, float lr, const float* gscale);

  OptimizerConfig cfg_;
  RuleKind rule_;
  LrSchedule schedule_;
  StatePolicy policy_;
  std::vector<Param> params_;
  std::vector<BufferRequest> requests_;
  int workspace_req_ = -1, norm_req_ = -1;
  Backend* be_ = nullptr;
  void* workspace_ = nullptr;
  size_t workspace_bytes_ = 0;
  float* norm_ = nullptr;  // [P * kNormPartials] partials, then norm, clip factor
  bool seeds_synced_ = false;
};

}  // namespace sg
