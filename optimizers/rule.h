// Optimizer rules as plain data for the kernels (optim_kernels.inc), and the names they parse from.
//
// Per element, with g the prepared gradient (clipped, plus L2 weight decay for non-AdamW rules) and
// the moments m, v read from their stores (Dense stores are updated in the same pass; sketches are
// updated just before by sketch_update and queried here):
//   sgd        w -= lr * g
//   momentum   m = mu * m + g;                   w -= lr * m
//   nesterov   m = mu * m + g;                   w -= lr * (g + mu * m)
//   adagrad    v = v + g*g;                      w -= lr * g / (sqrt(v) + eps)
//   rmsprop    v = b2 * v + (1 - b2) * g*g;      w -= lr * g / (sqrt(v) + eps)
//   adam       m = b1 * m + (1 - b1) * g;  v = b2 * v + (1 - b2) * g*g
//              w -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)     (t = global step)
//   adamw      w *= 1 - lr * wd, then adam (decoupled weight decay)
//   sm3        nu = min(row_i, col_j) + g*g; w -= lr * g / (sqrt(nu) + eps); row_i = max_j nu,
//              col_j = max_i nu (row-only for row-sparse gradients; vectors: adagrad)
//   sm3-momentum  the same nu and covers, then momentum on the preconditioned gradient
//              u = g / (sqrt(nu) + eps): m = mu * m + (1 - mu) * u; w -= lr * m (the SM3 paper's
//              training runs used mu = 0.9; vectors: adagrad, as sm3)
//   topk-sgd / randk-sgd (error feedback, Stich et al. 2018): p = e + lr * g; u = the k largest
//              |p| (ties at the threshold kept), or for randk each p_i kept with probability
//              sparsify; w -= u; e = p - u. "topk-sgd-nofeedback" is the ablation that drops e.
// Every EMA is written decay * old + scale * x, the same expression the sketches use, so a lossless
// sketch gives bit-identical numbers.
#pragma once
#include <cstdint>
#include <string>

namespace sg {

enum class RuleKind : uint8_t {
  Sgd,
  Momentum,
  Nesterov,
  Adagrad,
  RmsProp,
  Adam,
  AdamW,
  Sm3,
  Sm3Momentum,
  TopK,
  RandK,
  TopKNoFeedback
};

RuleKind parse_rule(const std::string& name);  // throws sg::Error listing the known rules
const char* rule_name(RuleKind r);
bool rule_has_m(RuleKind r);  // first moment / momentum buffer (signed)
bool rule_has_v(RuleKind r);  // second moment / Adagrad sum (non-negative)

struct RuleParams {
  RuleKind rule = RuleKind::Sgd;
  float lr = 0.f;         // scheduled learning rate
  float step_size = 0.f;  // adam/adamw: lr * sqrt(1 - b2^t) / (1 - b1^t); others: lr
  float eps = 1e-8f;
  float momentum = 0.f;                // nesterov's look-ahead factor
  float wd_factor = 1.f;               // adamw: 1 - lr * wd; others 1
  float m_decay = 0.f, m_scale = 0.f;  // m = m_decay * m + m_scale * g
  float v_decay = 0.f, v_scale = 0.f;  // v = v_decay * v + v_scale * g*g
  // adam/adamw with a sketched m or v: clamp |m| <= m_bound * sqrt(v) (0 = off). For exact moments
  // Cauchy-Schwarz gives |m| <= k * sqrt(v) with k^2 = (1-b1)^2 / ((1-b2) (1-b1^2/b2)) (k = 7.27
  // for 0.9/0.999), so the clamp never changes a lossless sketch; it stops a Count-Sketch estimate
  // of m polluted by a heavy row from being divided by the tiny Count-Min v of a rare row (updates
  // of 1e3 x lr that made cs-mv diverge on a 793k-word vocabulary).
  float m_bound = 0.f;
};

}  // namespace sg
