// CPU-only fused LSTM recurrences (layers/lstm_cpu.cc), used by the LSTM ops in place of the
// per-step kernel sequence when the backend is the CPU. Same maths, shapes and saved values as
// lstm.cc / lstm_backward.cc (see those headers); T, B, I, H, P as in LstmDims (P = 0: no
// projection, R = P > 0 ? P : H, G4 = 4H).
//
// One OpenMP parallel region covers the whole time loop. Thread p owns a block of cells [c0, c1)
// (a multiple of 16 wide): per step it runs the four recurrent GEMM column blocks of its cells
// (sequential BLAS, [B, R] x [R, c1-c0]) and then the gate maths of exactly those cells, so gate
// pre-activations never leave the core that made them; the projection [B, H] x [H, P] is split by
// output columns. Two barriers per step. Every output element is computed by one thread in a fixed
// order, so a run is bitwise repeatable for a given thread count; across thread counts the cell
// blocks, and so the shapes of the sequential OpenBLAS calls, differ, and OpenBLAS's result for an
// element can depend on its call's shape (last-bit differences; see engine/kernels/blas_kernels.h).
#pragma once
#include <cstdint>

#include "engine/backend.h"

namespace sg::cpu {

// Forward. gates [T*B, G4] must already hold x W_x (the whole-sequence input GEMM); it is
// overwritten with the activations. c_all [(T+1)*B, H] holds c_{-1} in its first B rows. h0
// [B, R] is the initial h. m_ws [B, H] workspace when P > 0.
void lstm_recurrence_forward(Backend& be, int64_t T, int64_t B, int64_t H, int64_t P,
                             const float* Wh, const float* bias, const float* Pm, const float* h0,
                             float* gates, float* c_all, float* y, float* m_ws);

// Backward loop. dH [T*B, R] must hold dy on entry; it receives dL/dh_t (total). dc [B, H] is
// zeroed here and ends as dL/dc_{-1}. dG [T*B, G4] receives the pre-activation gradients;
// with P > 0, dm_ws [B, H] is workspace and M [T*B, H] receives m_t = o * tanh(c_t).
void lstm_recurrence_backward(Backend& be, int64_t T, int64_t B, int64_t H, int64_t P,
                              const float* Wh, const float* Pm, const float* gates,
                              const float* c_all, float* dH, float* dc, float* dG, float* dm_ws,
                              float* M);

}  // namespace sg::cpu
