// Sampled softmax kernel family (see sampled_softmax_kernels.inc): fused logits correction +
// softmax + cross-entropy, and the gradient pieces. CPU: layers/sampled_softmax_cpu.cc, CUDA:
// layers/sampled_softmax_cuda.cu.
#pragma once
#include <cstdint>

#include "engine/backend.h"

namespace sg::cpu {
#include "layers/sampled_softmax_kernels.inc"
}
#ifdef SG_WITH_CUDA
namespace sg::cuda {
#include "layers/sampled_softmax_kernels.inc"
}
#endif
