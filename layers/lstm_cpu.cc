// CPU LSTM kernels: the per-step gate kernels of lstm_kernels.inc and the fused recurrences of
// lstm_cpu.h. The gate maths run over blocks of cells with vectorised sigmoid/tanh
// (layers/lstm_math.h), compiled for AVX-512, AVX2 and baseline x86-64 (picked at load time).
// Each cell depends only on its own inputs, and the recurrences work in cell blocks fixed by the
// sizes (lstm_cpu.h), so results do not depend on the thread count.
#include "layers/lstm_cpu.h"

#include <omp.h>

#include "engine/cpu/fixed_blocks.h"
#include "engine/cpu/gemm_scratch.h"
#include "engine/cpu/sgemm_avx512.h"
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

// Floats of one packed op(B) [k, w] in sgemm_avx512's layout.
int64_t packed_floats(int64_t k, int64_t w) { return sgemm_avx512_packed_b_floats(k, w); }

// Offset of the first packed block of `first` in a run of blocks whose packed sizes are
// per_block(width) each, laid out in block order.
template <typename F>
int64_t packed_offset(const FixedBlocks& blocks, int64_t first, F per_block) {
  int64_t off = 0;
  for (int64_t b = 0; b < first; ++b) off += per_block(blocks.edge(b + 1) - blocks.edge(b));
  return off;
}

// Layout of the forward's packed weights (floats from pack_ws): for each cell block, in order, its
// four gate blocks of W_h [R, w]; then, when projecting, for each output block its block of P
// [H, w]. The same code gives the sizes the op plans and the offsets the threads use.
struct ForwardPacking {
  int64_t H, P, R;
  FixedBlocks cells, outs;
  ForwardPacking(int64_t h, int64_t p)
      : H(h), P(p), R(p > 0 ? p : h), cells(cell_blocks(h)), outs(out_blocks(p > 0 ? p : 1)) {}
  int64_t wh_block(int64_t w) const { return packed_floats(R, w); }
  int64_t p_block(int64_t w) const { return packed_floats(H, w); }
  int64_t wh_at(int64_t cb) const {
    return packed_offset(cells, cb, [&](int64_t w) { return 4 * wh_block(w); });
  }
  int64_t p_at(int64_t ob) const {
    return wh_at(cells.count) + packed_offset(outs, ob, [&](int64_t w) { return p_block(w); });
  }
  int64_t total() const { return P > 0 ? p_at(outs.count) : wh_at(cells.count); }
};

// Layout of the backward's packed weights: for each output block its block of W_h^T [4H, w]; then,
// when projecting, for each cell block its block of P^T [P, w].
struct BackwardPacking {
  int64_t H, P;
  FixedBlocks cells, outs;
  BackwardPacking(int64_t h, int64_t p)
      : H(h), P(p), cells(cell_blocks(h)), outs(out_blocks(p > 0 ? p : h)) {}
  int64_t wh_block(int64_t w) const { return packed_floats(4 * H, w); }
  int64_t p_block(int64_t w) const { return packed_floats(P, w); }
  int64_t wh_at(int64_t ob) const {
    return packed_offset(outs, ob, [&](int64_t w) { return wh_block(w); });
  }
  int64_t p_at(int64_t cb) const {
    return wh_at(outs.count) + packed_offset(cells, cb, [&](int64_t w) { return p_block(w); });
  }
  int64_t total() const { return P > 0 ? p_at(cells.count) : wh_at(outs.count); }
};

// C = op(A) op(B) + beta C with op(B) = B in place (packed == nullptr) or pre-packed.
void block_product(Backend& be, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a,
                   int64_t lda, const float* b, int64_t ldb, const float* packed, float beta,
                   float* c, int64_t ldc) {
  if (packed && sgemm_avx512_packed_b(false, m, n, k, 1.0f, a, lda, packed, beta, c, ldc,
                                      cpu_gemm_scratch(be)))
    return;
  gemm(be, false, trans_b, m, n, k, 1.0f, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace

int64_t lstm_packed_forward_floats(int64_t H, int64_t P) { return ForwardPacking(H, P).total(); }

int64_t lstm_packed_backward_floats(int64_t H, int64_t P) { return BackwardPacking(H, P).total(); }

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
                             float* gates, float* c_all, float* y, float* m_ws, float* pack_ws) {
  const int64_t R = P > 0 ? P : H, G4 = 4 * H;
  const int nt = B * H >= kParallelMin ? threads_of(be) : 1;
  const bool packed = pack_ws && sgemm_avx512_selected();
#pragma omp parallel num_threads(nt)
  {
    const int p = omp_get_thread_num(), parts = omp_get_num_threads();
    const ForwardPacking layout(H, P);
    const FixedBlocks &cells = layout.cells, &outs = layout.outs;
    const int64_t cb0 = cells.first(p, parts), cb1 = cells.first(p + 1, parts);
    const int64_t ob0 = outs.first(p, parts), ob1 = outs.first(p + 1, parts);
    // This thread's blocks of W_h (4 gates per cell block) and of P, packed once for all T steps;
    // only this thread reads them, so no barrier is needed.
    const auto wh_size = [&](int64_t w) { return layout.wh_block(w); };
    const auto p_size = [&](int64_t w) { return layout.p_block(w); };
    float* wh_pack = packed ? pack_ws + layout.wh_at(cb0) : nullptr;
    float* p_pack = packed && P > 0 ? pack_ws + layout.p_at(ob0) : nullptr;
    if (packed) {
      float* dst = wh_pack;
      for (int64_t cb = cb0; cb < cb1; ++cb) {
        const int64_t c0 = cells.edge(cb), w = cells.edge(cb + 1) - c0;
        for (int q = 0; q < 4; ++q, dst += wh_size(w))
          sgemm_avx512_pack_b(false, R, w, Wh + q * H + c0, G4, dst);
      }
      dst = p_pack;
      for (int64_t ob = ob0; P > 0 && ob < ob1; ++ob) {
        const int64_t r0 = outs.edge(ob), w = outs.edge(ob + 1) - r0;
        sgemm_avx512_pack_b(false, H, w, Pm + r0, P, dst);
        dst += p_size(w);
      }
    }
    for (int64_t t = 0; t < T; ++t) {
      const float* hprev = t == 0 ? h0 : y + (t - 1) * B * R;
      float* gt = gates + t * B * G4;
      float* mt = P > 0 ? m_ws : y + t * B * R;
      const float* wp = wh_pack;
      for (int64_t cb = cb0; cb < cb1; ++cb) {
        const int64_t c0 = cells.edge(cb), c1 = cells.edge(cb + 1);
        for (int q = 0; q < 4; ++q) {  // gates[:, qH + c0 : qH + c1] += h_{t-1} W_h[:, same]
          block_product(be, false, B, c1 - c0, R, hprev, R, Wh + q * H + c0, G4, wp, 1.0f,
                        gt + q * H + c0, G4);
          if (wp) wp += wh_size(c1 - c0);
        }
        gates_fwd_block(gt, bias, c_all + t * B * H, c_all + (t + 1) * B * H, mt, P > 0 ? H : R, B,
                        H, c0, c1);
      }
      if (P > 0) {
#pragma omp barrier
        const float* pp = p_pack;
        for (int64_t ob = ob0; ob < ob1; ++ob) {
          const int64_t r0 = outs.edge(ob),
                        r1 = outs.edge(ob + 1);  // y_t[:, r0:r1] = m_t P[:, r0:r1]
          block_product(be, false, B, r1 - r0, H, m_ws, H, Pm + r0, P, pp, 0.0f, y + t * B * R + r0,
                        R);
          if (pp) pp += p_size(r1 - r0);
        }
      }
#pragma omp barrier
    }
  }
}

void lstm_recurrence_backward(Backend& be, int64_t T, int64_t B, int64_t H, int64_t P,
                              const float* Wh, const float* Pm, const float* gates,
                              const float* c_all, float* dH, float* dc, float* dG, float* dm_ws,
                              float* M, float* pack_ws) {
  const int64_t R = P > 0 ? P : H, G4 = 4 * H;
  const int nt = B * H >= kParallelMin ? threads_of(be) : 1;
  const bool packed = pack_ws && sgemm_avx512_selected();
#pragma omp parallel num_threads(nt)
  {
    const int p = omp_get_thread_num(), parts = omp_get_num_threads();
    const BackwardPacking layout(H, P);
    const FixedBlocks &cells = layout.cells, &outs = layout.outs;
    const int64_t cb0 = cells.first(p, parts), cb1 = cells.first(p + 1, parts);
    const int64_t ob0 = outs.first(p, parts), ob1 = outs.first(p + 1, parts);
    // This thread's blocks of W_h^T (by output rows) and of P^T (by cells), packed once for all T
    // steps; only this thread reads them.
    const auto wh_size = [&](int64_t w) { return layout.wh_block(w); };
    const auto p_size = [&](int64_t w) { return layout.p_block(w); };
    float* wh_pack = packed ? pack_ws + layout.wh_at(ob0) : nullptr;
    float* p_pack = packed && P > 0 ? pack_ws + layout.p_at(cb0) : nullptr;
    if (packed) {
      float* dst = wh_pack;
      for (int64_t ob = ob0; ob < ob1; ++ob) {
        const int64_t r0 = outs.edge(ob), w = outs.edge(ob + 1) - r0;
        sgemm_avx512_pack_b(true, G4, w, Wh + r0 * G4, G4, dst);
        dst += wh_size(w);
      }
      dst = p_pack;
      for (int64_t cb = cb0; P > 0 && cb < cb1; ++cb) {
        const int64_t c0 = cells.edge(cb), w = cells.edge(cb + 1) - c0;
        sgemm_avx512_pack_b(true, P, w, Pm + c0 * P, P, dst);
        dst += p_size(w);
      }
    }
    for (int64_t r = 0; r < B; ++r)
      for (int64_t j = cells.edge(cb0); j < cells.edge(cb1); ++j) dc[r * H + j] = 0.0f;
    for (int64_t t = T - 1; t >= 0; --t) {
      float* dHt = dH + t * B * R;
      if (t + 1 < T) {
        const float* wp = wh_pack;
        for (int64_t ob = ob0; ob < ob1; ++ob) {
          const int64_t r0 = outs.edge(ob), r1 = outs.edge(ob + 1);
          // dH_t[:, r0:r1] += dG_{t+1} W_h[r0:r1, :]^T
          block_product(be, true, B, r1 - r0, G4, dG + (t + 1) * B * G4, G4, Wh + r0 * G4, G4, wp,
                        1.0f, dHt + r0, R);
          if (wp) wp += wh_size(r1 - r0);
        }
      }
#pragma omp barrier
      const float* pp = p_pack;
      for (int64_t cb = cb0; cb < cb1; ++cb) {
        const int64_t c0 = cells.edge(cb), c1 = cells.edge(cb + 1);
        const float* dmt = dHt;
        if (P > 0) {  // dm[:, c0:c1] = dH_t P[c0:c1, :]^T
          block_product(be, true, B, c1 - c0, P, dHt, P, Pm + c0 * P, P, pp, 0.0f, dm_ws + c0, H);
          if (pp) pp += p_size(c1 - c0);
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
