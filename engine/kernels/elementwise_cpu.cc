// CPU element-wise kernels (see elementwise_kernels.inc): OpenMP loops with the backend's thread
// count. Each output element depends on its own inputs only, so results do not depend on the thread
// count.
#include <cmath>
#include <cstring>

#include "engine/kernels/elementwise_kernels.h"

namespace sg::cpu {

namespace {
// Below this many elements the OpenMP fork costs more than the loop.
constexpr int64_t kParallelMin = 1 << 14;

template <typename F>
void for_each(Backend& be, int64_t n, F f) {
#pragma omp parallel for num_threads(be.threads()) schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) f(i);
}
}  // namespace

void fill(Backend& be, float* y, int64_t n, float value) {
  for_each(be, n, [=](int64_t i) { y[i] = value; });
}

void fill_from_scalar(Backend& be, const float* s, float scale, float* y, int64_t n) {
  const float v = scale * s[0];
  for_each(be, n, [=](int64_t i) { y[i] = v; });
}

void copy(Backend& be, const float* x, float* y, int64_t n) {
  if (x != y && n > 0) std::memmove(y, x, static_cast<size_t>(n) * sizeof(float));
}

void add(Backend& be, const float* a, const float* b, float* y, int64_t n) {
  for_each(be, n, [=](int64_t i) { y[i] = a[i] + b[i]; });
}

void sub(Backend& be, const float* a, const float* b, float* y, int64_t n) {
  for_each(be, n, [=](int64_t i) { y[i] = a[i] - b[i]; });
}

void mul(Backend& be, const float* a, const float* b, float* y, int64_t n) {
  for_each(be, n, [=](int64_t i) { y[i] = a[i] * b[i]; });
}

void scale(Backend& be, const float* x, float alpha, float* y, int64_t n) {
  for_each(be, n, [=](int64_t i) { y[i] = alpha * x[i]; });
}

void axpy(Backend& be, float alpha, const float* x, float* y, int64_t n) {
  for_each(be, n, [=](int64_t i) { y[i] += alpha * x[i]; });
}

void sigmoid_forward(Backend& be, const float* x, float* y, int64_t n) {
  for_each(be, n, [=](int64_t i) { y[i] = 1.0f / (1.0f + std::exp(-x[i])); });
}

void sigmoid_backward(Backend& be, const float* y, const float* dy, float* dx, int64_t n) {
  for_each(be, n, [=](int64_t i) { dx[i] = dy[i] * y[i] * (1.0f - y[i]); });
}

void tanh_forward(Backend& be, const float* x, float* y, int64_t n) {
  for_each(be, n, [=](int64_t i) { y[i] = std::tanh(x[i]); });
}

void tanh_backward(Backend& be, const float* y, const float* dy, float* dx, int64_t n) {
  for_each(be, n, [=](int64_t i) { dx[i] = dy[i] * (1.0f - y[i] * y[i]); });
}

void bias_add(Backend& be, const float* x, const float* bias, float* y, int64_t rows,
              int64_t cols) {
#pragma omp parallel for num_threads(be.threads()) schedule(static) if (rows * cols >= kParallelMin)
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    for (int64_t c = 0; c < cols; ++c) yr[c] = xr[c] + bias[c];
  }
}

void copy2d(Backend& be, const float* src, int64_t src_ld, float* dst, int64_t dst_ld, int64_t rows,
            int64_t cols) {
#pragma omp parallel for num_threads(be.threads()) schedule(static) if (rows * cols >= kParallelMin)
  for (int64_t r = 0; r < rows; ++r)
    std::memcpy(dst + r * dst_ld, src + r * src_ld, static_cast<size_t>(cols) * sizeof(float));
}

}  // namespace sg::cpu
