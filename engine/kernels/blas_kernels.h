// Matrix-product kernel family: row-major gemm and strided batched gemm. CPU (blas_cpu.cc):
// sketchgrad's AVX-512 sgemm (engine/cpu/sgemm_avx512.h) on AVX-512F CPUs, else OpenBLAS
// cblas_sgemm (always with SG_CPU_GEMM=openblas), over fixed panels. CUDA: cublasSgemm /
// cublasSgemmStridedBatched on the backend's handle (blas_cuda.cu), using the row-major identity
// C^T = op(B)^T op(A)^T, i.e. the column-major call with A and B swapped.
//
// Reproducibility: OpenBLAS's value for an element depends on the shape of the call it is in (its
// kernels and small-matrix paths differ by shape), so the CPU cuts a large product into panels
// whose number and shapes depend on the sizes alone (blas_cpu.cc) and results are bitwise the same
// at any thread count (TrainEndToEnd.ThreadCountDoesNotChangeResults). A split per thread, as
// before 2026-11-23, made --threads 1 and 2 differ by up to 3e-4 after 20 steps.
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
