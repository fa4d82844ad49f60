// CPU log-softmax cross-entropy (see softmax_xent_kernels.h): rows in parallel, each row
// sequential.
#include <cmath>

#include "engine/kernels/reduce_kernels.h"
#include "engine/kernels/softmax_xent_kernels.h"

namespace sg::cpu {

namespace {
void check_targets(const int32_t* t, int64_t n, int64_t c) {
  for (int64_t i = 0; i < n; ++i)
    SG_CHECK(t[i] >= 0 && t[i] < c, "softmax cross-entropy: target ", t[i], " of row ", i,
             " is out of range [0, ", c, ")");
}

// Returns m = max of the row and s = sum exp(x - m).
void row_stats(const float* x, int64_t c, float* m, double* s) {
  float mx = x[0];
  for (int64_t j = 1; j < c; ++j) mx = x[j] > mx ? x[j] : mx;
  double sum = 0.0;
  for (int64_t j = 0; j < c; ++j) sum += std::exp(static_cast<double>(x[j] - mx));
  *m = mx;
  *s = sum;
}
}  // namespace

void softmax_xent_forward(Backend& be, const float* logits, const int32_t* targets, int64_t n,
                          int64_t c, float* row_loss, float* mean_loss) {
  check_targets(targets, n, c);
#pragma omp parallel for num_threads(be.threads()) schedule(static) if (n * c >= (1 << 14))
  for (int64_t i = 0; i < n; ++i) {
    const float* x = logits + i * c;
    float m;
    double s;
    row_stats(x, c, &m, &s);
    row_loss[i] = static_cast<float>(std::log(s) + m - x[targets[i]]);
  }
  sum_all(be, row_loss, n, n > 0 ? 1.0f / static_cast<float>(n) : 0.0f, mean_loss);
}

void softmax_xent_backward(Backend& be, const float* logits, const int32_t* targets, const float* g,
                           int64_t n, int64_t c, float* grad_logits) {
  check_targets(targets, n, c);
  const float scale = n > 0 ? g[0] / static_cast<float>(n) : 0.0f;
#pragma omp parallel for num_threads(be.threads()) schedule(static) if (n * c >= (1 << 14))
  for (int64_t i = 0; i < n; ++i) {
    const float* x = logits + i * c;
    float* dx = grad_logits + i * c;
    float m;
    double s;
    row_stats(x, c, &m, &s);
    const float inv = static_cast<float>(1.0 / s);
    for (int64_t j = 0; j < c; ++j) dx[j] = std::exp(x[j] - m) * inv * scale;
    dx[targets[i]] -= scale;
  }
}

}  // namespace sg::cpu
