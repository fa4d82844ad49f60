// CPU LSTM kernels: the per-step gate kernels of lstm_kernels.inc and the fused recurrences of
// lstm_cpu.h. The gate maths run over blocks of cells with vectorised sigmoid/tanh
// (layers/lstm_math.h), compiled for AVX-512, AVX2 and baseline x86-64 (picked at load time).
// Each cell depends only on its own inputs, and the recurrences work in cell blocks fixed by the
// sizes (lstm_cpu.h), so results do not depend on the thread count.
#include "layers/lstm_cpu.h"

#include <omp.h>

#include "engine/cpu/fixed_blocks.h"
#include "engine/kernels/blas_kernels.h"
#include "layers/lstm_kernels.h"
#include "layers/lstm_math.h"

namespace sg::cpu {

namespace {

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SG_LSTM_CLONES __attribute__((target_clones("avx512f", "arch=haswell", "default")))
#else
#define SG_LSTM_CLONES
#endif

constexpr int64_t kParallelMin = 1 << 13;  // cells per step below which one thread is faster

// Forward gate maths of rows [0, rows) and cells [j0, j1) (see lstm_kernels.inc).
SG_LSTM_CLONES void gates_fwd_block(float* gates, const float* bias, const float* c_prev, float* c,
                                    float* m, int64_t m_ld, int64_t rows, int64_t H, int64_t j0,
                                    int64_t j1) {
  for (int64_t r = 0; r < rows; ++r) {
    float* gr = gates + r * 4 * H;
    const float* cp = c_prev + r * H;
    float* cr = c + r * H;
    float* mr = m + r * m_ld;
#pragma omp simd
    for (int64_t j = j0; j < j1; ++j) {
      const float i = lstm_math::sigmoid(gr[j] + bias[j]);
      const float f = lstm_math::sigmoid(gr[H + j] + bias[H + j]);
      const float g = lstm_math::tanh(gr[2 * H + j] + bias[2 * H + j]);
      const float o = lstm_math::sigmoid(gr[3 * H + j] + bias[3 * H + j]);
      gr[j] = i;
      gr[H + j] = f;
      gr[2 * H + j] = g;
      gr[3 * H + j] = o;
      const float cv = f * cp[j] + i * g;
      cr[j] = cv;
      mr[j] = o * lstm_math::tanh(cv);
    }
  }
}

// Backward gate maths of rows [0, rows) and cells [j0, j1); dm has row stride H.
SG_LSTM_CLONES void gates_bwd_block(const float* gates, const float* c_prev, const float* c,
                                    const float* dm, float* dc, float* dgates, float* m_out,
                                    int64_t rows, int64_t H, int64_t j0, int64_t j1) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* gr = gates + r * 4 * H;
    float* dg = dgates + r * 4 * H;
    const float* cp = c_prev + r * H;
    const float* cr = c + r * H;
    const float* dmr = dm + r * H;
    float* dcr = dc + r * H;
    if (m_out) {
      float* mr = m_out + r * H;
#pragma omp simd
      for (int64_t j = j0; j < j1; ++j) mr[j] = gr[3 * H + j] * lstm_math::tanh(cr[j]);
    }
#pragma omp simd
    for (int64_t j = j0; j < j1; ++j) {
      const float i = gr[j], f = gr[H + j], g = gr[2 * H + j], o = gr[3 * H + j];
      const float tc = lstm_math::tanh(cr[j]);
      const float dmv = dmr[j];
      const float dct = dcr[j] + dmv * o * (1.0f - tc * tc);
      dg[j] = dct * g * i * (1.0f - i);
      dg[H + j] = dct * cp[j] * f * (1.0f - f);
      dg[2 * H + j] = dct * i * (1.0f - g * g);
      dg[3 * H + j] = dmv * tc * o * (1.0f - o);
      dcr[j] = dct * f;
    }
  }
}

int threads_of(Backend& be) { return be.threads() > 0 ? be.threads() : omp_get_num_procs(); }

// Cell blocks of the recurrences (and output-column blocks of their projections): fixed by the
// sizes, so the per-block GEMM shapes, and the results, do not depend on the thread count.
FixedBlocks cell_blocks(int64_t n) { return FixedBlocks(n, 128, 16); }
FixedBlocks out_blocks(int64_t n) { return FixedBlocks(n, 64, 16); }

}  // namespace

void lstm_gates_forward(Backend& be, float* gates, const float* bias, const float* c_prev, float* c,
                        float* m, int64_t m_ld, int64_t batch, int64_t hidden) {
  const int64_t H = hidden;
#pragma omp parallel for num_threads(be.threads()) schedule(static) if (batch * H >= kParallelMin)
  for (int64_t r = 0; r < batch; ++r)
    gates_fwd_block(gates + r * 4 * H, bias, c_prev + r * H, c + r * H, m + r * m_ld, m_ld, 1, H, 0,
                    H);
}

void lstm_gates_backward(Backend& be, const float* gates, const float* c_prev, const float* c,
                         const float* dm, float* dc, float* dgates, float* m_out, int64_t batch,
                         int64_t hidden) {
  const int64_t H = hidden;
#pragma omp parallel for num_threads(be.threads()) schedule(static) if (batch * H >= kParallelMin)
  for (int64_t r = 0; r < batch; ++r)
    gates_bwd_block(gates + r * 4 * H, c_prev + r * H, c + r * H, dm + r * H, dc + r * H,
                    dgates + r * 4 * H, m_out ? m_out + r * H : nullptr, 1, H, 0, H);
}

void lstm_recurrence_forward(Backend& be, int64_t T, int64_t B, int64_t H, int64_t P,
                             const float* Wh, const float* bias, const float* Pm, const float* h0,
                             float* gates, float* c_all, float* y, float* m_ws) {
  const int64_t R = P > 0 ? P : H, G4 = 4 * H;
  const int nt = B * H >= kParallelMin ? threads_of(be) : 1;
#pragma omp parallel num_threads(nt)
  {
    const int p = omp_get_thread_num(), parts = omp_get_num_threads();
    const FixedBlocks cells = cell_blocks(H), outs = out_blocks(P > 0 ? P : 1);
    for (int64_t t = 0; t < T; ++t) {
      const float* hprev = t == 0 ? h0 : y + (t - 1) * B * R;
      float* gt = gates + t * B * G4;
      float* mt = P > 0 ? m_ws : y + t * B * R;
      for (int64_t cb = cells.first(p, parts); cb < cells.first(p + 1, parts); ++cb) {
        const int64_t c0 = cells.edge(cb), c1 = cells.edge(cb + 1);
        for (int q = 0; q < 4; ++q)  // gates[:, qH + c0 : qH + c1] += h_{t-1} W_h[:, same]
          gemm(be, false, false, B, c1 - c0, R, 1.0f, hprev, R, Wh + q * H + c0, G4, 1.0f,
               gt + q * H + c0, G4);
        gates_fwd_block(gt, bias, c_all + t * B * H, c_all + (t + 1) * B * H, mt, P > 0 ? H : R, B,
                        H, c0, c1);
      }
      if (P > 0) {
#pragma omp barrier
        for (int64_t ob = outs.first(p, parts); ob < outs.first(p + 1, parts); ++ob) {
          const int64_t r0 = outs.edge(ob),
                        r1 = outs.edge(ob + 1);  // y_t[:, r0:r1] = m_t P[:, r0:r1]
          gemm(be, false, false, B, r1 - r0, H, 1.0f, m_ws, H, Pm + r0, P, 0.0f, y + t * B * R + r0,
               R);
        }
      }
#pragma omp barrier
    }
  }
}

void lstm_recurrence_backward(Backend& be, int64_t T, int64_t B, int64_t H, int64_t P,
                              const float* Wh, const float* Pm, const float* gates,
                              const float* c_all, float* dH, float* dc, float* dG, float* dm_ws,
                              float* M) {
  const int64_t R = P > 0 ? P : H, G4 = 4 * H;
  const int nt = B * H >= kParallelMin ? threads_of(be) : 1;
#pragma omp parallel num_threads(nt)
  {
    const int p = omp_get_thread_num(), parts = omp_get_num_threads();
    const FixedBlocks cells = cell_blocks(H), outs = out_blocks(R);
    const int64_t cb0 = cells.first(p, parts), cb1 = cells.first(p + 1, parts);
    for (int64_t r = 0; r < B; ++r)
      for (int64_t j = cells.edge(cb0); j < cells.edge(cb1); ++j) dc[r * H + j] = 0.0f;
    for (int64_t t = T - 1; t >= 0; --t) {
      float* dHt = dH + t * B * R;
      if (t + 1 < T)
        for (int64_t ob = outs.first(p, parts); ob < outs.first(p + 1, parts); ++ob) {
          const int64_t r0 = outs.edge(ob), r1 = outs.edge(ob + 1);
          // dH_t[:, r0:r1] += dG_{t+1} W_h[r0:r1, :]^T
          gemm(be, false, true, B, r1 - r0, G4, 1.0f, dG + (t + 1) * B * G4, G4, Wh + r0 * G4, G4,
               1.0f, dHt + r0, R);
        }
#pragma omp barrier
      for (int64_t cb = cb0; cb < cb1; ++cb) {
        const int64_t c0 = cells.edge(cb), c1 = cells.edge(cb + 1);
        const float* dmt = dHt;
        if (P > 0) {  // dm[:, c0:c1] = dH_t P[c0:c1, :]^T
          gemm(be, false, true, B, c1 - c0, P, 1.0f, dHt, P, Pm + c0 * P, P, 0.0f, dm_ws + c0, H);
          dmt = dm_ws;
        }
        gates_bwd_block(gates + t * B * G4, c_all + t * B * H, c_all + (t + 1) * B * H, dmt, dc,
                        dG + t * B * G4, P > 0 ? M + t * B * H : nullptr, B, H, c0, c1);
      }
#pragma omp barrier
    }
  }
}

}  // namespace sg::cpu
