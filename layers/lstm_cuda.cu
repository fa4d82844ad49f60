// CUDA LSTM gate kernels (see lstm_kernels.inc): one thread per cell (grid-stride over batch *
// hidden) on the backend's stream. Each cell depends only on its own inputs, so results do not
// depend on the launch geometry.
#include "engine/cuda/cuda_backend.h"
#include "layers/lstm_kernels.h"

namespace sg::cuda {

namespace {

__device__ __forceinline__ float sigm(float x) { return 1.0f / (1.0f + expf(-x)); }

__global__ void gates_forward_kernel(float* gates, const float* bias, const float* c_prev, float* c,
                                     float* m, int64_t m_ld, int64_t batch, int64_t H) {
  const int64_t n = batch * H;
  for (int64_t k = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; k < n;
       k += int64_t(gridDim.x) * blockDim.x) {
    const int64_t r = k / H, j = k - r * H;
    float* gr = gates + r * 4 * H;
    const float i = sigm(gr[j] + bias[j]);
    const float f = sigm(gr[H + j] + bias[H + j]);
    const float g = tanhf(gr[2 * H + j] + bias[2 * H + j]);
    const float o = sigm(gr[3 * H + j] + bias[3 * H + j]);
    gr[j] = i;
    gr[H + j] = f;
    gr[2 * H + j] = g;
    gr[3 * H + j] = o;
    const float cv = f * c_prev[k] + i * g;
    c[k] = cv;
    m[r * m_ld + j] = o * tanhf(cv);
  }
}

__global__ void gates_backward_kernel(const float* gates, const float* c_prev, const float* c,
                                      const float* dm, float* dc, float* dgates, float* m_out,
                                      int64_t batch, int64_t H) {
  const int64_t n = batch * H;
  for (int64_t k = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; k < n;
       k += int64_t(gridDim.x) * blockDim.x) {
    const int64_t r = k / H, j = k - r * H;
    const float* gr = gates + r * 4 * H;
    float* dg = dgates + r * 4 * H;
    const float i = gr[j], f = gr[H + j], g = gr[2 * H + j], o = gr[3 * H + j];
    const float tc = tanhf(c[k]);
    const float dmv = dm[k];
    const float dct = dc[k] + dmv * o * (1.0f - tc * tc);
    dg[j] = dct * g * i * (1.0f - i);
    dg[H + j] = dct * c_prev[k] * f * (1.0f - f);
    dg[2 * H + j] = dct * i * (1.0f - g * g);
    dg[3 * H + j] = dmv * tc * o * (1.0f - o);
    dc[k] = dct * f;
    if (m_out) m_out[k] = o * tc;
  }
}

}  // namespace

void lstm_gates_forward(Backend& be, float* gates, const float* bias, const float* c_prev, float* c,
                        float* m, int64_t m_ld, int64_t batch, int64_t hidden) {
  if (batch * hidden <= 0) return;
  gates_forward_kernel<<<grid_for(batch * hidden), 256, 0, as_cuda(be).stream()>>>(
      gates, bias, c_prev, c, m, m_ld, batch, hidden);
  SG_CUDA(cudaGetLastError());
}

void lstm_gates_backward(Backend& be, const float* gates, const float* c_prev, const float* c,
                         const float* dm, float* dc, float* dgates, float* m_out, int64_t batch,
                         int64_t hidden) {
  if (batch * hidden <= 0) return;
  gates_backward_kernel<<<grid_for(batch * hidden), 256, 0, as_cuda(be).stream()>>>(
      gates, c_prev, c, dm, dc, dgates, m_out, batch, hidden);
  SG_CUDA(cudaGetLastError());
}

}  // namespace sg::cuda
