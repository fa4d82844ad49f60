// Full softmax cross-entropy over the whole vocabulary (small vocabularies, evaluation):
//   h [N, D] (any shape with last dim D), W [V, D], b [V], targets i32 (numel N)
//   logits = h W^T + b  [N, V];  loss = mean_r (logsumexp(logits_r) - logits_r,t_r);  row_loss [N]
// Default: one fused op (GEMM + in-place softmax/loss/gradient row pass, softmax.cc) whose backward
// is two GEMMs; the gradient of W is dense [V, D]. keep_logits: built from engine ops (matmul,
// bias_add, log_softmax_cross_entropy) so the logits are a value that can be read (generate).
// loss_only (evaluation graphs): the fused op computes the losses only (no gradient, no column
// sums, no workspace) and cannot be differentiated.
#pragma once
#include <cstdint>

#include "engine/graph.h"

namespace sg {

struct FullSoftmax {
  ValueId loss = kNoValue;      // f32 [1]
  ValueId row_loss = kNoValue;  // f32 [N]
  ValueId logits = kNoValue;    // f32 [N, V], only when keep_logits
};

// cpu_workspace: plan the training op's chunk column sums (softmax_xent_delta_workspace_bytes),
// which only the CPU kernel uses; false for a graph that runs on CUDA.
FullSoftmax full_softmax_loss(Graph& g, ValueId h, ValueId W, ValueId b, ValueId targets,
                              bool keep_logits = false, bool loss_only = false,
                              bool cpu_workspace = true);

// Forward FLOPs of the logits GEMM.
int64_t full_softmax_forward_flops(int64_t n, int64_t v, int64_t d);

}  // namespace sg
