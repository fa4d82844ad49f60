// CPU matrix products (see blas_kernels.inc): sgemm_avx512 (engine/cpu/sgemm_avx512.h) when the
// CPU has AVX-512F, else OpenBLAS; SG_CPU_GEMM=openblas in the environment picks OpenBLAS always.
//
// Threading: OpenBLAS's own pthreads are switched off (openblas_set_num_threads(1), once) and a
// product is shared out over be.threads() OpenMP threads instead: C is cut into panels (columns
// when n >= m, else rows; up to 16 panels of at least 256, edges on multiples of 16) whose number
// and shapes depend on the sizes alone, and each panel is one sequential product. OpenBLAS's
// value for an element depends on the shape of the call it is in, so fixed panels are what make
// the result bitwise the same at any thread count (a split per thread was not). Panels are handed
// out dynamically: which thread runs a panel does not change its values, and a core slowed by
// something else on the machine then holds up the product by at most one panel. One thread pool
// for everything means no oversubscription between OpenMP threads (element-wise kernels) and BLAS
// threads whatever OMP_WAIT_POLICY is, --threads also bounds the GEMMs, and a gemm called inside
// an OpenMP parallel region (the fused LSTM loop, which cuts its own fixed blocks) runs
// sequentially on the calling thread.
#include <cblas.h>
#include <omp.h>

#include <algorithm>

#include "engine/cpu/fixed_blocks.h"
#include "engine/cpu/gemm_scratch.h"
#include "engine/cpu/sgemm_avx512.h"
#include "engine/kernels/blas_kernels.h"

namespace sg::cpu {

namespace {

constexpr double kParallelFlops = 1 << 20;  // below this one thread is faster than a fork

void blas_single_threaded() {
  static const bool once = [] {
    openblas_set_num_threads(1);
    return true;
  }();
  (void)once;
}

void seq_gemm(Backend& be, bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha,
              const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
              int64_t ldc) {
  if (sgemm_avx512_selected() &&
      sgemm_avx512(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, cpu_gemm_scratch(be)))
    return;
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
              static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, a,
              static_cast<int>(lda), b, static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
}

}  // namespace

void gemm(Backend& be, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
          const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
          int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {  // BLAS would only scale C; do it here (beta == 0 must clear NaNs too).
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
    return;
  }
  blas_single_threaded();
  const double flops = 2.0 * static_cast<double>(m) * static_cast<double>(n) * k;
  const bool by_cols = n >= m;
  const FixedBlocks panels(by_cols ? n : m, 256, 16);
  if (omp_in_parallel() || flops < kParallelFlops || panels.count == 1) {
    seq_gemm(be, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  const int nt = be.threads() > 0 ? be.threads() : omp_get_num_procs();
#pragma omp parallel for num_threads(std::min <int64_t>(nt, panels.count)) schedule(dynamic, 1)
  for (int64_t q = 0; q < panels.count; ++q) {
    const int64_t s = panels.edge(q), e = panels.edge(q + 1);
    if (e <= s) continue;
    if (by_cols) {
      seq_gemm(be, trans_a, trans_b, m, e - s, k, alpha, a, lda, trans_b ? b + s * ldb : b + s, ldb,
               beta, c + s, ldc);
    } else {
      seq_gemm(be, trans_a, trans_b, e - s, n, k, alpha, trans_a ? a + s : a + s * lda, lda, b, ldb,
               beta, c + s * ldc, ldc);
    }
  }
}

void gemm_device_scalars(Backend& be, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                         const float* alpha, const float* a, int64_t lda, const float* b,
                         int64_t ldb, const float* beta, float* c, int64_t ldc) {
  gemm(be, trans_a, trans_b, m, n, k, *alpha, a, lda, b, ldb, *beta, c, ldc);
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
