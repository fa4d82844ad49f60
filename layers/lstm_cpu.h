// CPU-only fused LSTM recurrences (layers/lstm_cpu.cc), used by the LSTM ops in place of the
// per-step kernel sequence when the backend is the CPU. Same maths, shapes and saved values as
// lstm.cc / lstm_backward.cc (see those headers); T, B, I, H, P as in LstmDims (P = 0: no
// projection, R = P > 0 ? P : H, G4 = 4H).
//
// One OpenMP parallel region covers the whole time loop. The cells are cut into fixed blocks
// (engine/cpu/fixed_blocks.h: at least 128 cells, edges on multiples of 16, their number set by H
// alone) and each thread owns a run of them: per step it runs the four recurrent GEMM column blocks
// of each of its cell blocks (sequential BLAS, [B, R] x [R, c1-c0]) and then the gate maths of
// exactly those cells, so gate pre-activations never leave the core that made them; the projection
// [B, H] x [H, P] is cut into fixed output-column blocks (at least 64) the same way. Two barriers
// per step with a projection, one without. Because every block, and so every OpenBLAS call's shape, is fixed by the sizes, results
// are bitwise the same at any thread count (OpenBLAS's value for an element depends on its call's
// shape, so a split per thread would not be).
#pragma once
#include <cstdint>

#include "engine/backend.h"

namespace sg::cpu {

// Packed recurrent weights. On CPUs whose products use sgemm_avx512 (engine/cpu/sgemm_avx512.h)
// the recurrences pack the weight blocks they multiply by at every step once per call, into
// pack_ws (64-byte aligned; nullptr: products read the weights in place, as they must with
// OpenBLAS): forward, W_h per cell block and gate ([R, c1-c0] each) and P per output block
// ([H, r1-r0]); backward, W_h^T per output block ([4H, r1-r0]) and P^T per cell block ([P, c1-c0]).
// Each block is sgemm_avx512's B layout (columns rounded up to 32). Read in place, a forward W_h
// block has its rows 4H floats apart (8 KB at H = 512: they crowd a few L1 sets), and in the
// backward every transposed block was re-packed at every step. Results are bitwise the same
// either way (the packed product sums in sgemm_avx512's order). The sizes, in floats, depend on
// the shapes alone, so the plan is the same on every CPU:
int64_t lstm_packed_forward_floats(int64_t H, int64_t P);
int64_t lstm_packed_backward_floats(int64_t H, int64_t P);

// Forward. gates [T*B, G4] must already hold x W_x (the whole-sequence input GEMM); it is
// overwritten with the activations. c_all [(T+1)*B, H] holds c_{-1} in its first B rows. h0
// [B, R] is the initial h. m_ws [B, H] workspace when P > 0; pack_ws as above
// (lstm_packed_forward_floats).
void lstm_recurrence_forward(Backend& be, int64_t T, int64_t B, int64_t H, int64_t P,
                             const float* Wh, const float* bias, const float* Pm, const float* h0,
                             float* gates, float* c_all, float* y, float* m_ws, float* pack_ws);

// Backward loop. dH [T*B, R] must hold dy on entry; it receives dL/dh_t (total). dc [B, H] is
// zeroed here and ends as dL/dc_{-1}. dG [T*B, G4] receives the pre-activation gradients;
// with P > 0, dm_ws [B, H] is workspace and M [T*B, H] receives m_t = o * tanh(c_t). pack_ws as
// above (lstm_packed_backward_floats).
void lstm_recurrence_backward(Backend& be, int64_t T, int64_t B, int64_t H, int64_t P,
                              const float* Wh, const float* Pm, const float* gates,
                              const float* c_all, float* dH, float* dc, float* dG, float* dm_ws,
                              float* M, float* pack_ws);

}  // namespace sg::cpu
