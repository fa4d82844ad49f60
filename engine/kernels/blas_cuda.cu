// CUDA matrix products through cuBLAS (see blas_kernels.inc). cuBLAS is column-major; a row-major
// [m, n] C is a column-major [n, m] C^T, and C^T = op(B)^T op(A)^T, so we call cuBLAS with (B, A)
// swapped and (n, m).
#include "engine/cuda/cuda_backend.h"
#include "engine/kernels/blas_kernels.h"

namespace sg::cuda {

void gemm(Backend& be, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
          const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
          int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  const CudaBackend& cb = as_cuda(be);
  SG_CUBLAS(cb.blas().sgemm(
      cb.cublas(), trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, trans_a ? CUBLAS_OP_T : CUBLAS_OP_N,
      static_cast<int>(n), static_cast<int>(m), static_cast<int>(k), &alpha, b,
      static_cast<int>(ldb), a, static_cast<int>(lda), &beta, c, static_cast<int>(ldc)));
}

void gemm_device_scalars(Backend& be, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                         const float* alpha, const float* a, int64_t lda, const float* b,
                         int64_t ldb, const float* beta, float* c, int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  const CudaBackend& cb = as_cuda(be);
  SG_CUBLAS(cb.blas().set_pointer_mode(cb.cublas(), CUBLAS_POINTER_MODE_DEVICE));
  const cublasStatus_t st = cb.blas().sgemm(
      cb.cublas(), trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, trans_a ? CUBLAS_OP_T : CUBLAS_OP_N,
      static_cast<int>(n), static_cast<int>(m), static_cast<int>(k), alpha, b,
      static_cast<int>(ldb), a, static_cast<int>(lda), beta, c, static_cast<int>(ldc));
  // Back to host scalars before reporting, so a failure leaves the handle as every caller expects.
  SG_CUBLAS(cb.blas().set_pointer_mode(cb.cublas(), CUBLAS_POINTER_MODE_HOST));
  SG_CUBLAS(st);
}

void gemm_strided_batched(Backend& be, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                          float alpha, const float* a, int64_t lda, int64_t stride_a,
                          const float* b, int64_t ldb, int64_t stride_b, float beta, float* c,
                          int64_t ldc, int64_t stride_c, int64_t batch) {
  if (m <= 0 || n <= 0 || batch <= 0) return;
  const CudaBackend& cb = as_cuda(be);
  SG_CUBLAS(cb.blas().sgemm_strided_batched(
      cb.cublas(), trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, trans_a ? CUBLAS_OP_T : CUBLAS_OP_N,
      static_cast<int>(n), static_cast<int>(m), static_cast<int>(k), &alpha, b,
      static_cast<int>(ldb), stride_b, a, static_cast<int>(lda), stride_a, &beta, c,
      static_cast<int>(ldc), stride_c, static_cast<int>(batch)));
}

}  // namespace sg::cuda
