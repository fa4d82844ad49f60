// CPU matrix products through OpenBLAS (see blas_kernels.inc). Batched gemm is a loop of
// cblas_sgemm calls, each of which uses OpenBLAS's own threads.
#include <cblas.h>

#include "engine/kernels/blas_kernels.h"

namespace sg::cpu {

void gemm(Backend& be, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
          const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
          int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  if (k <=
      0) {  // BLAS leaves C untouched scaling-wise only when beta == 1; handle k == 0 explicitly.
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
    return;
  }
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, static_cast<int>(m), static_cast<int>(n),
              static_cast<int>(k), alpha, a, static_cast<int>(lda), b, static_cast<int>(ldb), beta,
              c, static_cast<int>(ldc));
}

void gemm_strided_batched(Backend& be, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                          float alpha, const float* a, int64_t lda, int64_t stride_a,
                          const float* b, int64_t ldb, int64_t stride_b, float beta, float* c,
                          int64_t ldc, int64_t stride_c, int64_t batch) {
  for (int64_t p = 0; p < batch; ++p)
    gemm(be, trans_a, trans_b, m, n, k, alpha, a + p * stride_a, lda, b + p * stride_b, ldb, beta,
         c + p * stride_c, ldc);
}

}  // namespace sg::cpu
