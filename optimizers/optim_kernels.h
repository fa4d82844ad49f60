// Optimizer kernels on CPU and CUDA (signatures in optim_kernels.inc): global-norm pieces, gradient
// preparation, the element-wise rules over dense/sketched stores, SM3 covers and error-feedback
// sparsification. Every reduction has a fixed order (chunked sums with a fixed chunk count, integer
// histograms, max), so results are bitwise reproducible on a given device.
#pragma once
#include <cstddef>
#include <cstdint>

#include "engine/backend.h"
#include "optimizers/rule.h"
#include "sketch/store.h"

namespace sg {
constexpr int64_t kNormPartials = 64;
// Top-k selection state: 256-bin histogram + (prefix, mask, remaining) on the device.
inline size_t ef_workspace_bytes() { return 2048; }
}  // namespace sg

namespace sg::cpu {
#include "optimizers/optim_kernels.inc"
}
#ifdef SG_WITH_CUDA
namespace sg::cuda {
#include "optimizers/optim_kernels.inc"
}
#endif
