// Unique log-uniform sampling kernels (CPU and CUDA, same signature): see log_uniform_kernels.inc.
#pragma once
#include <cstddef>
#include <cstdint>

#include "engine/backend.h"

namespace sg::cpu {
#include "layers/log_uniform_kernels.inc"
}
#ifdef SG_WITH_CUDA
namespace sg::cuda {
#include "layers/log_uniform_kernels.inc"
}
#endif
