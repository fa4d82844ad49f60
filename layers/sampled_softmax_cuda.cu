// CUDA sampled softmax kernels (see sampled_softmax_kernels.inc). Forward: one block of 256 threads
// per row with fixed shared-memory tree reductions (dot product, max, sum), so a row's result does
// not depend on timing. Gradient row parts: one thread per element; bias column sums: one thread
// per sampled column adding the rows in ascending order (deterministic).
#include "engine/cuda/cuda_backend.h"
#include "layers/log_uniform.h"
#include "layers/sampled_softmax_kernels.h"

namespace sg::cuda {

namespace {
constexpr int kThreads = 256;
constexpr float kMasked = -1e30f;

template <bool kMax>
__device__ float block_reduce(float v, float* sh) {
  const int t = threadIdx.x;
  sh[t] = v;
  __syncthreads();
  for (int stride = kThreads / 2; stride > 0; stride /= 2) {
    if (t < stride) sh[t] = kMax ? fmaxf(sh[t], sh[t + stride]) : sh[t] + sh[t + stride];
    __syncthreads();
  }
  const float r = sh[0];
  __syncthreads();
  return r;
}

__global__ void forward_kernel(const float* h, const float* w_true, const float* bias,
                               const int32_t* ids, const float* samp_logq, const int32_t* tries,
                               int64_t vocab, int64_t n, int64_t s, int64_t d, float* logits,
                               float* row_loss) {
  __shared__ float sh[kThreads];
  const int64_t r = blockIdx.x;
  const int t = threadIdx.x;
  const int32_t target = ids[r];
  const int32_t* samp = ids + n;
  float* z = logits + r * (s + 1);
  float part = 0.0f;
  for (int64_t k = t; k < d; k += kThreads) part += h[r * d + k] * w_true[r * d + k];
  const float dot = block_reduce<false>(part, sh);
  const float z0 = dot + bias[target] - log_expected_count(target, vocab, tries[0]);
  float mx = z0;
  for (int64_t j = t; j < s; j += kThreads) {
    const float v = samp[j] == target ? kMasked : z[1 + j] + bias[samp[j]] - samp_logq[j];
    z[1 + j] = v;
    mx = fmaxf(mx, v);
  }
  mx = block_reduce<true>(mx, sh);
  float sum = 0.0f;
  for (int64_t j = t; j < s; j += kThreads) {
    const float e = expf(z[1 + j] - mx);
    z[1 + j] = e;
    sum += e;
  }
  const float e0 = expf(z0 - mx);
  sum = block_reduce<false>(sum, sh) + e0;
  const float inv = 1.0f / sum;
  for (int64_t j = t; j < s; j += kThreads) z[1 + j] *= inv;
  if (t == 0) {
    z[0] = e0 * inv;
    row_loss[r] = logf(sum) + mx - z0;
  }
}

__global__ void grad_logits_kernel(const float* probs, const float* g, int64_t n, int64_t s,
                                   float* dl) {
  const float scale = g[0] / static_cast<float>(n);
  const int64_t total = n * (s + 1);
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total;
       i += int64_t(gridDim.x) * blockDim.x) {
    const bool first = i % (s + 1) == 0;
    dl[i] = (probs[i] - (first ? 1.0f : 0.0f)) * scale;
  }
}

__global__ void grad_rows_kernel(const float* dl, const float* h, const float* w_true, int64_t n,
                                 int64_t s, int64_t d, float* dh, float* dw_rows, float* db_rows) {
  const int64_t total = n * d;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total;
       i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t r = i / d;
    const float a = dl[r * (s + 1)];
    dh[i] += a * w_true[i];
    dw_rows[i] = a * h[i];
    if (i % d == 0) db_rows[r] = a;
  }
}

__global__ void bias_colsum_kernel(const float* dl, int64_t n, int64_t s, float* db_rows) {
  for (int64_t j = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; j < s;
       j += int64_t(gridDim.x) * blockDim.x) {
    float acc = 0.0f;
    for (int64_t r = 0; r < n; ++r) acc += dl[r * (s + 1) + 1 + j];
    db_rows[n + j] = acc;
  }
}

}  // namespace

void sampled_softmax_forward(Backend& be, const float* h, const float* w_true, const float* bias,
                             const int32_t* ids, const float* samp_logq, const int32_t* tries,
                             int64_t vocab, int64_t n, int64_t s, int64_t d, float* logits,
                             float* row_loss) {
  if (n <= 0) return;
  forward_kernel<<<static_cast<unsigned>(n), kThreads, 0, as_cuda(be).stream()>>>(
      h, w_true, bias, ids, samp_logq, tries, vocab, n, s, d, logits, row_loss);
  SG_CUDA(cudaGetLastError());
}

void sampled_softmax_grad_logits(Backend& be, const float* probs, const float* g, int64_t n,
                                 int64_t s, float* dlogits) {
  if (n <= 0) return;
  grad_logits_kernel<<<grid_for(n * (s + 1)), kThreads, 0, as_cuda(be).stream()>>>(probs, g, n, s,
                                                                                   dlogits);
  SG_CUDA(cudaGetLastError());
}

void sampled_softmax_grad_rows(Backend& be, const float* dlogits, const float* h,
                               const float* w_true, int64_t n, int64_t s, int64_t d, float* dh,
                               float* dw_rows, float* db_rows) {
  if (n <= 0) return;
  grad_rows_kernel<<<grid_for(n * d), kThreads, 0, as_cuda(be).stream()>>>(dlogits, h, w_true, n, s,
                                                                           d, dh, dw_rows, db_rows);
  SG_CUDA(cudaGetLastError());
  if (s > 0) {
    bias_colsum_kernel<<<grid_for(s), kThreads, 0, as_cuda(be).stream()>>>(dlogits, n, s, db_rows);
    SG_CUDA(cudaGetLastError());
  }
}

}  // namespace sg::cuda
