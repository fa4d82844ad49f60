// Matrix-product kernel family: row-major gemm and strided batched gemm. CPU: OpenBLAS cblas_sgemm
// (blas_cpu.cc). CUDA: cublasSgemm / cublasSgemmStridedBatched on the backend's handle
// (blas_cuda.cu), using the row-major identity C^T = op(B)^T op(A)^T, i.e. the column-major call
// with A and B swapped.
//
// Reproducibility: on the CPU a large product is split by rows or columns into one sequential
// OpenBLAS call per thread, and OpenBLAS's value for an element can depend on the shape of the call
// it is in (its kernels and small-matrix paths differ by shape). So the same run is bitwise
// repeatable for a given thread count, but --threads 1 and --threads 2 differ in the last bits
// (measured on the tiny preset after 20 steps: parameters within 1e-11 to 3e-4).
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
