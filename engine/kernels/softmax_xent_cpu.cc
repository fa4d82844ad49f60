// CPU log-softmax cross-entropy (see softmax_xent_kernels.h): rows in parallel (OpenMP), each row
// in three vectorised passes: max, exp(x - max) and its sum, then the loss or the scaled softmax.
// exp is a branch-free float polynomial (Cephes-style range reduction, ~2 ulp) so the compiler
// vectorises it; the row functions are compiled for AVX-512, AVX2 and baseline x86-64 and the best
// one is picked at load time. Per-row work does not depend on the thread count (nor do the logits:
// blas_cpu.cc cuts products into panels fixed by the sizes). The fused training pass
// (softmax_xent_delta) works in place, row chunks in parallel, each chunk adding its rows into its
// own column-sum partial; the partials are then added in chunk order.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "engine/kernels/fast_exp.h"
#include "engine/kernels/reduce_kernels.h"
#include "engine/kernels/softmax_xent_kernels.h"

namespace sg::cpu {

namespace {

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SG_XENT_CLONES __attribute__((target_clones("avx512f", "arch=haswell", "default")))
#else
#define SG_XENT_CLONES
#endif

SG_XENT_CLONES float row_max(const float* x, int64_t c) {
  float mx = x[0];
#pragma omp simd reduction(max : mx)
  for (int64_t j = 0; j < c; ++j) mx = x[j] > mx ? x[j] : mx;
  return mx;
}

// Sum of exp(x - m); when e is not null also stores the exponentials there.
SG_XENT_CLONES float row_exp_sum(const float* x, int64_t c, float m, float* e) {
  float s = 0.0f;
  if (e) {
#pragma omp simd reduction(+ : s)
    for (int64_t j = 0; j < c; ++j) {
      const float v = fastmath::exp_nonpos(x[j] - m);
      e[j] = v;
      s += v;
    }
  } else {
#pragma omp simd reduction(+ : s)
    for (int64_t j = 0; j < c; ++j) s += fastmath::exp_nonpos(x[j] - m);
  }
  return s;
}

SG_XENT_CLONES void row_scale(float* e, int64_t c, float k) {
#pragma omp simd
  for (int64_t j = 0; j < c; ++j) e[j] *= k;
}

// x += b, returning the new row max.
SG_XENT_CLONES float row_add_bias_max(float* x, const float* b, int64_t c) {
  float mx = x[0] + b[0];
#pragma omp simd reduction(max : mx)
  for (int64_t j = 0; j < c; ++j) {
    const float v = x[j] + b[j];
    x[j] = v;
    mx = v > mx ? v : mx;
  }
  return mx;
}

// e *= k and acc += e (acc: this row chunk's column sums).
SG_XENT_CLONES void row_scale_accumulate(float* e, int64_t c, float k, float* acc) {
#pragma omp simd
  for (int64_t j = 0; j < c; ++j) {
    const float v = e[j] * k;
    e[j] = v;
    acc[j] += v;
  }
}

void check_targets(const int32_t* t, int64_t n, int64_t c) {
  for (int64_t i = 0; i < n; ++i)
    SG_CHECK(t[i] >= 0 && t[i] < c, "softmax cross-entropy: target ", t[i], " of row ", i,
             " is out of range [0, ", c, ")");
}

}  // namespace

void softmax_xent_forward(Backend& be, const float* logits, const int32_t* targets, int64_t n,
                          int64_t c, float* row_loss, float* mean_loss) {
  check_targets(targets, n, c);
#pragma omp parallel for num_threads(be.threads()) schedule(static) if (n * c >= (1 << 15))
  for (int64_t i = 0; i < n; ++i) {
    const float* x = logits + i * c;
    const float m = row_max(x, c);
    const float s = row_exp_sum(x, c, m, nullptr);
    row_loss[i] = std::log(s) + m - x[targets[i]];
  }
  sum_all(be, row_loss, n, n > 0 ? 1.0f / static_cast<float>(n) : 0.0f, mean_loss);
}

void softmax_xent_backward(Backend& be, const float* logits, const int32_t* targets, const float* g,
                           int64_t n, int64_t c, float* grad_logits) {
  check_targets(targets, n, c);
  const float scale = n > 0 ? g[0] / static_cast<float>(n) : 0.0f;
#pragma omp parallel for num_threads(be.threads()) schedule(static) if (n * c >= (1 << 15))
  for (int64_t i = 0; i < n; ++i) {
    const float* x = logits + i * c;
    float* dx = grad_logits + i * c;
    const float m = row_max(x, c);
    const float s = row_exp_sum(x, c, m, dx);
    row_scale(dx, c, scale / s);
    dx[targets[i]] -= scale;
  }
}

void softmax_xent_delta(Backend& be, float* x, const float* bias, const int32_t* targets, int64_t n,
                        int64_t c, float* row_loss, float* mean_loss, float* colsum,
                        void* workspace, size_t workspace_bytes) {
  SG_CHECK(c > 0, "softmax cross-entropy: no classes");
  check_targets(targets, n, c);
  if (!colsum) {  // losses only: no exponentials stored, no column sums
#pragma omp parallel for num_threads(be.threads()) schedule(static) if (n * c >= (1 << 15))
    for (int64_t i = 0; i < n; ++i) {
      float* xi = x + i * c;
      const float m = row_add_bias_max(xi, bias, c);
      const float s = row_exp_sum(xi, c, m, nullptr);
      row_loss[i] = std::log(s) + m - xi[targets[i]];
    }
    sum_all(be, row_loss, n, n > 0 ? 1.0f / static_cast<float>(n) : 0.0f, mean_loss);
    return;
  }
  const int64_t chunks = softmax_xent_delta_chunks(n);
  SG_CHECK(workspace_bytes >= softmax_xent_delta_workspace_bytes(n, c),
           "softmax_xent_delta: workspace of ", workspace_bytes, " bytes is too small (need ",
           softmax_xent_delta_workspace_bytes(n, c), ")");
  float* partial = static_cast<float*>(workspace);
  const float inv_n = n > 0 ? 1.0f / static_cast<float>(n) : 0.0f;
  const int64_t rows_per_chunk = chunks > 0 ? (n + chunks - 1) / chunks : 0;
  // Each chunk of rows is one task: its rows in order, its own column sums in partial[k].
#pragma omp parallel for num_threads(be.threads()) schedule(static) if (n * c >= (1 << 15))
  for (int64_t k = 0; k < chunks; ++k) {
    float* acc = partial + k * c;
    std::memset(acc, 0, static_cast<size_t>(c) * sizeof(float));
    const int64_t r1 = std::min(n, (k + 1) * rows_per_chunk);
    for (int64_t i = k * rows_per_chunk; i < r1; ++i) {
      float* xi = x + i * c;
      const float m = row_add_bias_max(xi, bias, c);
      const float xt = xi[targets[i]];
      const float s = row_exp_sum(xi, c, m, xi);
      row_loss[i] = std::log(s) + m - xt;
      row_scale_accumulate(xi, c, inv_n / s, acc);
      xi[targets[i]] -= inv_n;
      acc[targets[i]] -= inv_n;
    }
  }
  // Column sums: chunk partials added in chunk order, columns shared out in blocks.
  constexpr int64_t kBlock = 256;
  const int64_t blocks = (c + kBlock - 1) / kBlock;
#pragma omp parallel for num_threads(be.threads()) schedule(static) if (chunks * c >= (1 << 15))
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t c0 = b * kBlock, c1 = std::min(c, c0 + kBlock);
    for (int64_t j = c0; j < c1; ++j) colsum[j] = 0.0f;
    for (int64_t k = 0; k < chunks; ++k) {
      const float* p = partial + k * c;
      for (int64_t j = c0; j < c1; ++j) colsum[j] += p[j];
    }
  }
  sum_all(be, row_loss, n, inv_n, mean_loss);
}

}  // namespace sg::cpu
