// Dropout kernel family. The mask is a pure function of (seed, stream, element index) through the
// counter-based RNG of engine/rng.h, so CPU and CUDA draw the same mask and backward recomputes it
// instead of storing it. Forward and backward are the same map (multiply by the mask scaled by 1 /
// (1 - p)).
#pragma once
#include <cstdint>

#include "engine/backend.h"

namespace sg::cpu {
#include "engine/kernels/dropout_kernels.inc"
}
#ifdef SG_WITH_CUDA
namespace sg::cuda {
#include "engine/kernels/dropout_kernels.inc"
}
#endif
