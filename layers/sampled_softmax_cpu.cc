// CPU sampled softmax kernels (see sampled_softmax_kernels.inc): OpenMP over rows (forward, row
// parts) or over sampled columns (bias column sums, rows added in ascending order). Results do not
// depend on the thread count.
#include <cmath>

#include "layers/log_uniform.h"
#include "layers/lstm_math.h"
#include "layers/sampled_softmax_kernels.h"

namespace sg::cpu {

namespace {
constexpr float kMasked = -1e30f;

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SG_SSM_CLONES __attribute__((target_clones("avx512f", "arch=haswell", "default")))
#else
#define SG_SSM_CLONES
#endif

// One row: z[1 + j] += bias[s_j] - logq_j (masked on a hit of the target t), then z <- softmax(z);
// returns logsumexp(z) - z[0]. Vectorised (fast exp, float lanes).
SG_SSM_CLONES float softmax_row(float* z, const float* bias, const int32_t* samp,
                                const float* samp_logq, int64_t s, int32_t t) {
  float mx = z[0];
#pragma omp simd reduction(max : mx)
  for (int64_t j = 0; j < s; ++j) {
    const float v = samp[j] == t ? kMasked : z[1 + j] + bias[samp[j]] - samp_logq[j];
    z[1 + j] = v;
    mx = v > mx ? v : mx;
  }
  const float z0 = z[0];
  float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
  for (int64_t j = 0; j <= s; ++j) {
    const float e = lstm_math::exp_nonpos(z[j] - mx);
    z[j] = e;
    sum += e;
  }
  const float inv = 1.0f / sum;
#pragma omp simd
  for (int64_t j = 0; j <= s; ++j) z[j] *= inv;
  return std::log(sum) + mx - z0;
}
}  // namespace

void sampled_softmax_forward(Backend& be, const float* h, const float* w_true, const float* bias,
                             const int32_t* ids, const float* samp_logq, const int32_t* tries,
                             int64_t vocab, int64_t n, int64_t s, int64_t d, float* logits,
                             float* row_loss) {
  const int32_t* samp = ids + n;
  const int64_t draws = tries[0];
#pragma omp parallel for num_threads(be.threads()) schedule(static)
  for (int64_t r = 0; r < n; ++r) {
    const int32_t t = ids[r];
    float* z = logits + r * (s + 1);
    float dot = 0.0f;
    for (int64_t k = 0; k < d; ++k) dot += h[r * d + k] * w_true[r * d + k];
    z[0] = dot + bias[t] - log_expected_count(t, vocab, draws);
    row_loss[r] = softmax_row(z, bias, samp, samp_logq, s, t);
  }
}

void sampled_softmax_grad_logits(Backend& be, const float* probs, const float* g, int64_t n,
                                 int64_t s, float* dlogits) {
  const float scale = g[0] / static_cast<float>(n);
#pragma omp parallel for num_threads(be.threads()) schedule(static)
  for (int64_t r = 0; r < n; ++r) {
    const float* p = probs + r * (s + 1);
    float* dl = dlogits + r * (s + 1);
    dl[0] = (p[0] - 1.0f) * scale;
    for (int64_t j = 1; j <= s; ++j) dl[j] = p[j] * scale;
  }
}

void sampled_softmax_grad_rows(Backend& be, const float* dlogits, const float* h,
                               const float* w_true, int64_t n, int64_t s, int64_t d, float* dh,
                               float* dw_rows, float* db_rows) {
#pragma omp parallel num_threads(be.threads())
  {
#pragma omp for schedule(static) nowait
    for (int64_t r = 0; r < n; ++r) {
      const float a = dlogits[r * (s + 1)];
      for (int64_t k = 0; k < d; ++k) {
        dh[r * d + k] += a * w_true[r * d + k];
        dw_rows[r * d + k] = a * h[r * d + k];
      }
      db_rows[r] = a;
    }
    // Column sums of the sampled logit gradients, in blocks of columns so each row read is
    // contiguous.
    constexpr int64_t kBlock = 64;
#pragma omp for schedule(static)
    for (int64_t j0 = 0; j0 < s; j0 += kBlock) {
      const int64_t j1 = j0 + kBlock < s ? j0 + kBlock : s;
      float acc[kBlock] = {};
      for (int64_t r = 0; r < n; ++r) {
        const float* dl = dlogits + r * (s + 1) + 1;
        for (int64_t j = j0; j < j1; ++j) acc[j - j0] += dl[j];
      }
      for (int64_t j = j0; j < j1; ++j) db_rows[n + j] = acc[j - j0];
    }
  }
}

}  // namespace sg::cpu
