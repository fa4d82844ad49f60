// Element-wise kernel family: fill, copy, add/sub/mul, scale, axpy, sigmoid and tanh (forward and
// backward), bias_add over rows, and a strided 2-D block copy. Signatures in
// elementwise_kernels.inc; CPU in elementwise_cpu.cc (OpenMP), CUDA in elementwise_cuda.cu
// (grid-stride kernels on the backend's stream).
#pragma once
#include <cstdint>

#include "engine/backend.h"

namespace sg::cpu {
#include "engine/kernels/elementwise_kernels.inc"
}
#ifdef SG_WITH_CUDA
namespace sg::cuda {
#include "engine/kernels/elementwise_kernels.inc"
}
#endif
