// Sampled softmax cross-entropy (the LM1B recipe as TensorFlow's sampled_softmax_loss defines it),
// one op:
//   h [N, D] (any shape with last dim D), W [V, D], b [V], targets i32 (numel N, ids in [0, V))
//   1. S distinct negatives per step, shared by all N rows: drawn on the device by rejection from
//      the log-uniform distribution (layers/log_uniform_kernels.inc), stream derived from
//      (OpContext::seed, OpContext::step, salt), so the samples are reproducible and identical on
//      every device, and the step needs no host round trip. tries = number of draws.
//   2. logits [N, 1 + S]: column 0 the true class, column 1 + j the sample s_j:
//      z = h . W[k] + b[k] - log Q(k), Q(k) = 1 - (1 - P(k))^tries; a sample equal to the row's
//      target (accidental hit) gets -1e30 (probability 0).
//   3. loss = mean_r (logsumexp(z_r) - z_r0).
// Gradients: dh dense; dW and db ROW-SPARSE over the ids targets ++ samples (engine
// scatter_add_rows: unique ascending ids, summed rows, count; n = N + S). db's rows are [N + S, 1].
// No dense V x D matrix is ever formed.
#pragma once
#include <cstdint>

#include "engine/graph.h"

namespace sg {

struct SampledSoftmax {
  ValueId loss = kNoValue;      // f32 [1] mean cross-entropy
  ValueId row_loss = kNoValue;  // f32 [N]
  ValueId probs = kNoValue;     // f32 [N, 1 + S] softmax over (true, samples), saved for backward
  ValueId ids = kNoValue;       // i32 [N + S] targets then the sampled ids (draw order)
  ValueId sampled_logq = kNoValue;  // f32 [S] log Q of each sample
  ValueId tries = kNoValue;         // i32 [1] number of draws
};

// Throws sg::Error (one line) on bad shapes or S outside [1, V).
SampledSoftmax sampled_softmax_loss(Graph& g, ValueId h, ValueId W, ValueId b, ValueId targets,
                                    int64_t num_sampled, uint64_t salt = 0);

// Forward FLOPs (2 per multiply-add) of the sampled logits: N rows x (S + 1) classes x D.
int64_t sampled_softmax_forward_flops(int64_t n, int64_t s, int64_t d);

}  // namespace sg
