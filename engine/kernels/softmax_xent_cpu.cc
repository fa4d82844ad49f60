// CPU log-softmax cross-entropy (see softmax_xent_kernels.h): rows in parallel (OpenMP), each row
// in three vectorised passes: max, exp(x - max) and its sum, then the loss or the scaled softmax.
// exp is a branch-free float polynomial (Cephes-style range reduction, ~2 ulp) so the compiler
// vectorises it; the row functions are compiled for AVX-512, AVX2 and baseline x86-64 and the best
// one is picked at load time. Per-row work does not depend on the thread count.
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

}  // namespace sg::cpu
