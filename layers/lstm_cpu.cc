// CPU LSTM gate kernels (see lstm_kernels.inc): one pass over the [batch, hidden] cells of a step,
// OpenMP over rows when the step is large enough to pay for the fork. Each cell depends only on its
// own inputs, so results do not depend on the thread count.
#include <cmath>

#include "layers/lstm_kernels.h"

namespace sg::cpu {

namespace {
constexpr int64_t kParallelMin = 1 << 13;  // cells per step below which one thread is faster
inline float sigm(float x) { return 1.0f / (1.0f + std::exp(-x)); }
}  // namespace

void lstm_gates_forward(Backend& be, float* gates, const float* bias, const float* c_prev, float* c,
                        float* m, int64_t m_ld, int64_t batch, int64_t hidden) {
  const int64_t H = hidden;
#pragma omp parallel for num_threads(be.threads()) schedule(static) if (batch * H >= kParallelMin)
  for (int64_t r = 0; r < batch; ++r) {
    float* gr = gates + r * 4 * H;
    const float* cp = c_prev + r * H;
    float* cr = c + r * H;
    float* mr = m + r * m_ld;
#pragma omp simd
    for (int64_t j = 0; j < H; ++j) {
      const float i = sigm(gr[j] + bias[j]);
      const float f = sigm(gr[H + j] + bias[H + j]);
      const float g = std::tanh(gr[2 * H + j] + bias[2 * H + j]);
      const float o = sigm(gr[3 * H + j] + bias[3 * H + j]);
      gr[j] = i;
      gr[H + j] = f;
      gr[2 * H + j] = g;
      gr[3 * H + j] = o;
      const float cv = f * cp[j] + i * g;
      cr[j] = cv;
      mr[j] = o * std::tanh(cv);
    }
  }
}

void lstm_gates_backward(Backend& be, const float* gates, const float* c_prev, const float* c,
                         const float* dm, float* dc, float* dgates, float* m_out, int64_t batch,
                         int64_t hidden) {
  const int64_t H = hidden;
#pragma omp parallel for num_threads(be.threads()) schedule(static) if (batch * H >= kParallelMin)
  for (int64_t r = 0; r < batch; ++r) {
    const float* gr = gates + r * 4 * H;
    float* dg = dgates + r * 4 * H;
    const float* cp = c_prev + r * H;
    const float* cr = c + r * H;
    const float* dmr = dm + r * H;
    float* dcr = dc + r * H;
    float* mr = m_out ? m_out + r * H : nullptr;
#pragma omp simd
    for (int64_t j = 0; j < H; ++j) {
      const float i = gr[j], f = gr[H + j], g = gr[2 * H + j], o = gr[3 * H + j];
      const float tc = std::tanh(cr[j]);
      const float dmv = dmr[j];
      const float dct = dcr[j] + dmv * o * (1.0f - tc * tc);
      dg[j] = dct * g * i * (1.0f - i);
      dg[H + j] = dct * cp[j] * f * (1.0f - f);
      dg[2 * H + j] = dct * i * (1.0f - g * g);
      dg[3 * H + j] = dmv * tc * o * (1.0f - o);
      dcr[j] = dct * f;
      if (mr) mr[j] = o * tc;
    }
  }
}

}  // namespace sg::cpu
