// Matrix-product kernel family: row-major gemm and strided batched gemm. CPU: OpenBLAS cblas_sgemm
// (blas_cpu.cc). CUDA: cublasSgemm / cublasSgemmStridedBatched on the backend's handle
// (blas_cuda.cu), using the row-major identity C^T = op(B)^T op(A)^T, i.e. the column-major call
// with A and B swapped.
#pragma once
#include <cstdint>

#include "engine/backend.h"

namespace sg::cpu {
#include "engine/kernels/blas_kernels.inc"
}
#ifdef SG_WITH_CUDA
namespace sg::cuda {
#include "engine/kernels/blas_kernels.inc"
}
#endif
