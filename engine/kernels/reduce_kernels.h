// Reduction kernel family: sum/mean of all elements to one device float, and column sums (bias
// gradients).
//
// Summation orders are fixed by the sizes alone (never by thread count or timing), so each backend
// is bitwise reproducible run to run. CPU sum_all: chunks of kSumChunk elements, each summed left
// to right in double, chunk sums combined by a fixed pairwise tree. CUDA orders: see
// reduce_cuda.cu. CPU and CUDA may differ in the last bits.
#pragma once
#include <cstdint>

#include "engine/backend.h"

namespace sg {
constexpr int64_t kSumChunk = 4096;
}

namespace sg::cpu {
#include "engine/kernels/reduce_kernels.inc"
}
#ifdef SG_WITH_CUDA
namespace sg::cuda {
#include "engine/kernels/reduce_kernels.inc"
}
#endif
