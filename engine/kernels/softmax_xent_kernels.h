// Log-softmax + cross-entropy kernel family (full softmax; the sampled one lives with the softmax
// layer).
//   forward:  row_loss[i] = log sum_j exp(x_ij - m_i) + m_i - x_{i,t_i},  m_i = max_j x_ij;  mean
//   over rows backward: dx_ij = (exp(x_ij - m_i) / sum_k exp(x_ik - m_i) - [j == t_i]) * g / n
// Out-of-range targets: CPU throws sg::Error naming the row; CUDA writes NaN into that row's loss
// (and so into the mean) and NaN into that row's gradient, never a silently wrong number.
#pragma once
#include <cstdint>

#include "engine/backend.h"

namespace sg::cpu {
#include "engine/kernels/softmax_xent_kernels.inc"
}
#ifdef SG_WITH_CUDA
namespace sg::cuda {
#include "engine/kernels/softmax_xent_kernels.inc"
}
#endif
