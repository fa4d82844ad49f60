// CUDA log-softmax cross-entropy (see softmax_xent_kernels.h): one block of 256 threads per row;
// the row max and the sum of exponentials use fixed shared-memory trees, so results are
// reproducible run to run.
#include "engine/cuda/cuda_backend.h"
#include "engine/kernels/reduce_kernels.h"
#include "engine/kernels/softmax_xent_kernels.h"

namespace sg::cuda {

namespace {
constexpr int kThreads = 256;

// Row max m and sum of exp(x + b - m) (b: bias, or none when null), both broadcast to every
// thread of the block.
__device__ void row_stats(const float* x, const float* b, int64_t c, float* m_out, float* s_out) {
  __shared__ float red[kThreads];
  const int t = threadIdx.x;
  float m = -INFINITY;
  for (int64_t j = t; j < c; j += kThreads) m = fmaxf(m, x[j] + (b ? b[j] : 0.0f));
  red[t] = m;
  __syncthreads();
  for (int st = kThreads / 2; st > 0; st /= 2) {
    if (t < st) red[t] = fmaxf(red[t], red[t + st]);
    __syncthreads();
  }
  m = red[0];
  __syncthreads();
  float s = 0.0f;
  for (int64_t j = t; j < c; j += kThreads) s += expf(x[j] + (b ? b[j] : 0.0f) - m);
  red[t] = s;
  __syncthreads();
  for (int st = kThreads / 2; st > 0; st /= 2) {
    if (t < st) red[t] += red[t + st];
    __syncthreads();
  }
  s = red[0];
  __syncthreads();
  *m_out = m;
  *s_out = s;
}

__global__ void forward_kernel(const float* logits, const int32_t* targets, int64_t c,
                               float* row_loss) {
  const int64_t i = blockIdx.x;
  const float* x = logits + i * c;
  float m, s;
  row_stats(x, nullptr, c, &m, &s);
  if (threadIdx.x == 0) {
    const int32_t t = targets[i];
    row_loss[i] = (t >= 0 && t < c) ? logf(s) + m - x[t] : nanf("");
  }
}

__global__ void backward_kernel(const float* logits, const int32_t* targets, const float* g,
                                int64_t n, int64_t c, float* grad) {
  const int64_t i = blockIdx.x;
  const float* x = logits + i * c;
  float* dx = grad + i * c;
  float m, s;
  row_stats(x, nullptr, c, &m, &s);
  const int32_t t = targets[i];
  const bool ok = t >= 0 && t < c;
  const float scale = g[0] / static_cast<float>(n);
  const float inv = 1.0f / s;
  for (int64_t j = threadIdx.x; j < c; j += kThreads)
    dx[j] = ok ? (expf(x[j] - m) * inv - (j == t ? 1.0f : 0.0f)) * scale : nanf("");
}

// One block per row, in place: x_i <- (softmax(x_i + b) - onehot(t_i)) / n, and the row's loss;
// kDelta false (evaluation, losses only): the loss alone, x is not written.
template <bool kDelta>
__global__ void delta_kernel(float* x, const float* bias, const int32_t* targets, int64_t n,
                             int64_t c, float* row_loss) {
  const int64_t i = blockIdx.x;
  float* xi = x + i * c;
  float m, s;
  row_stats(xi, bias, c, &m, &s);
  const int32_t t = targets[i];
  const bool ok = t >= 0 && t < c;
  if (threadIdx.x == 0) row_loss[i] = ok ? logf(s) + m - (xi[t] + bias[t]) : nanf("");
  if (!kDelta) return;
  __syncthreads();  // x[t] is read above before any thread overwrites it
  const float inv_n = 1.0f / static_cast<float>(n);
  const float k = inv_n / s;
  for (int64_t j = threadIdx.x; j < c; j += kThreads)
    xi[j] = ok ? expf(xi[j] + bias[j] - m) * k - (j == t ? inv_n : 0.0f) : nanf("");
}
}  // namespace

void softmax_xent_delta(Backend& be, float* x, const float* bias, const int32_t* targets, int64_t n,
                        int64_t c, float* row_loss, float* mean_loss, float* colsum, void*,
                        size_t) {
  if (n > 0) {
    cudaStream_t st = as_cuda(be).stream();
    if (colsum)
      delta_kernel<true>
          <<<static_cast<unsigned>(n), kThreads, 0, st>>>(x, bias, targets, n, c, row_loss);
    else
      delta_kernel<false>
          <<<static_cast<unsigned>(n), kThreads, 0, st>>>(x, bias, targets, n, c, row_loss);
    SG_CUDA(cudaGetLastError());
  }
  // The CUDA column sum has its own fixed order; the chunk workspace is the CPU kernel's.
  if (colsum) column_sum(be, x, n, c, colsum);
  sum_all(be, row_loss, n, n > 0 ? 1.0f / static_cast<float>(n) : 0.0f, mean_loss);
}

void softmax_xent_forward(Backend& be, const float* logits, const int32_t* targets, int64_t n,
                          int64_t c, float* row_loss, float* mean_loss) {
  if (n > 0) {
    forward_kernel<<<static_cast<unsigned>(n), kThreads, 0, as_cuda(be).stream()>>>(logits, targets,
                                                                                    c, row_loss);
    SG_CUDA(cudaGetLastError());
  }
  sum_all(be, row_loss, n, n > 0 ? 1.0f / static_cast<float>(n) : 0.0f, mean_loss);
}

void softmax_xent_backward(Backend& be, const float* logits, const int32_t* targets, const float* g,
                           int64_t n, int64_t c, float* grad_logits) {
  if (n <= 0) return;
  backward_kernel<<<static_cast<unsigned>(n), kThreads, 0, as_cuda(be).stream()>>>(
      logits, targets, g, n, c, grad_logits);
  SG_CUDA(cudaGetLastError());
}

}  // namespace sg::cuda
