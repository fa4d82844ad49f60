// LSTM kernel family: the fused per-step gate kernels (forward and backward) of the native LSTM
// layer. CPU: layers/lstm_cpu.cc (OpenMP). CUDA: layers/lstm_cuda.cu (one thread per cell).
#pragma once
#include <cstdint>

#include "engine/backend.h"

namespace sg::cpu {
#include "layers/lstm_kernels.inc"
}
#ifdef SG_WITH_CUDA
namespace sg::cuda {
#include "layers/lstm_kernels.inc"
}
#endif
