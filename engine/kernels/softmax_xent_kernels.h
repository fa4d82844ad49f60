// Log-softmax + cross-entropy kernel family (full softmax; the sampled one lives with the softmax
// layer).
//   forward:  row_loss[i] = log sum_j exp(x_ij - m_i) + m_i - x_{i,t_i},  m_i = max_j x_ij
//             (and their mean over rows)
//   backward: dx_ij = (exp(x_ij - m_i) / sum_k exp(x_ik - m_i) - [j == t_i]) * g / n
//   delta (fused training forward, in place): the backward's dx / g, plus loss and column sums
// Out-of-range targets: CPU throws sg::Error naming the row; CUDA writes NaN into that row's loss
// (and so into the mean) and NaN into that row's gradient, never a silently wrong number.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "engine/backend.h"

namespace sg {
// softmax_xent_delta adds up its column sums per chunk of consecutive rows (this many chunks, a
// function of n only), then over the chunks in order.
inline int64_t softmax_xent_delta_chunks(int64_t n) {
  return n <= 0 ? 0 : std::min<int64_t>((n + 31) / 32, 64);
}
inline size_t softmax_xent_delta_workspace_bytes(int64_t n, int64_t c) {
  return static_cast<size_t>(softmax_xent_delta_chunks(n)) * static_cast<size_t>(c) * sizeof(float);
}
}  // namespace sg

namespace sg::cpu {
#include "engine/kernels/softmax_xent_kernels.inc"
}
#ifdef SG_WITH_CUDA
namespace sg::cuda {
#include "engine/kernels/softmax_xent_kernels.inc"
}
#endif
