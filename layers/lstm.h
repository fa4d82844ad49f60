// LSTM layer with optional projection (LSTMP), one graph op per layer over all T steps
// (time-major).
//
// Shapes (R = proj > 0 ? proj : H is the recurrent/output size):
//   x  [T*B, I]     (any shape whose last dim is I and numel T*B*I, e.g. [T, B, I]); row t*B + b
//                   = step t, stream b
//   W  [I + R, 4H]  rows 0..I-1 = W_x (input weights), rows I..I+R-1 = W_h (recurrent weights);
//                   column blocks i | f | g | o
//   b  [4H]
//   P  [H, proj]    only when proj > 0
//   h0 [B, R], c0 [B, H]  initial state; y [T*B, R] output
// Per step t (h_{-1} = h0, c_{-1} = c0):
//   z_t = x_t W_x + h_{t-1} W_h + b;  i, f, o = sigmoid(z_i, z_f, z_o), g = tanh(z_g)
//   c_t = f * c_{t-1} + i * g;  m_t = o * tanh(c_t);  h_t = y_t = m_t P  (or m_t when proj == 0)
// Forward: one GEMM [T*B, I] x [I, 4H] for the input part of every step, then per step one GEMM
// [B, R] x [R, 4H], the fused gate kernel (layers/lstm_kernels.h) and, with projection, [B, H] x
// [H, P]. Backward (layers/lstm_backward.cc): reverse loop with per-step GEMMs for the recurrent
// gradient, then dx, dW, db, dP as whole-sequence GEMMs. This per-step sequence is the CUDA path;
// on the CPU both loops are the fused recurrences of layers/lstm_cpu.h (one OpenMP region, each
// thread owning a block of cells with packed W_h / P; same maths and saved values).
//
// Carried state (truncated BPTT): when h0 / c0 are State values (Graph::state) the op reads them as
// the initial state and overwrites them with the final h_{T-1} / c_{T-1}, so the next executor run
// continues the sequence. No gradient flows into a State (the previous batch). When h0 / c0 require
// a gradient (e.g. parameters in a gradient check) the backward op produces d(initial state) as
// well.
#pragma once
#include <cstdint>
#include <string>

#include "engine/graph.h"

namespace sg {

// Appends the LSTM op; returns y [T*B, R]. Throws sg::Error (one line) on inconsistent shapes.
// cpu_packed: the op's workspaces also hold packed copies of the recurrent weights, which the CPU
// recurrences multiply by at every step (layers/lstm_cpu.h); pass false for a graph that will run
// on CUDA only.
ValueId lstm(Graph& g, ValueId x, ValueId W, ValueId b, ValueId P, ValueId h0, ValueId c0,
             int64_t steps, bool cpu_packed = true);

// A whole layer in its own scope `name`: parameters "<name>/W" [I+R, 4H], "<name>/b" [4H] and, when
// proj > 0,
// "<name>/P" [H, proj]; carried state "<name>/h" [B, R] and "<name>/c" [B, H].
struct LstmLayer {
  ValueId W = kNoValue, b = kNoValue, P = kNoValue;
  ValueId h = kNoValue, c = kNoValue;  // State values
  ValueId y = kNoValue;                // output [T*B, R]
};
// impl: "native" (lstm() above) or "cudnn" (lstm_cudnn() in layers/lstm_cudnn.h); tf32 applies to
// the cuDNN path only (the native path's products follow the backend's TF32 setting).
LstmLayer lstm_layer(Graph& g, const std::string& name, ValueId x, int64_t steps, int64_t batch,
                     int64_t hidden, int64_t proj, const std::string& impl = "native",
                     bool tf32 = false, bool cpu_packed = true);

// Forward FLOPs of one LSTM layer over T steps (2 per multiply-add of every GEMM).
int64_t lstm_forward_flops(int64_t steps, int64_t batch, int64_t input, int64_t hidden,
                           int64_t proj);

}  // namespace sg
