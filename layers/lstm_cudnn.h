// cuDNN implementation of the LSTM(P) layer (same inputs, outputs, parameter layout, carried-state
// and gradient semantics as lstm() in layers/lstm.h), through cudnnRNNForward /
// cudnnRNNBackwardData_v8 / cudnnRNNBackwardWeights_v8 with projSize for LSTMP.
//
// Our parameters are repacked into cuDNN's weight space on every run (per gate q: input matrix [H,
// I] = W_x[:, qH:(q+1)H]^T, recurrent matrix [H, R] = W_h[:, qH:(q+1)H]^T, single input bias
// b[qH:(q+1)H], projection [P, H] = P^T) and the weight gradients are unpacked the same way. The
// cuDNN reserve space is an op output (sized when the graph is built), so building needs a GPU:
// without a CUDA build or a GPU this throws one line.
#pragma once
#include <cstdint>

#include "engine/graph.h"

namespace sg {

// tf32: let cuDNN use TF32 tensor cores (CUDNN_DEFAULT_MATH); false keeps strict FP32
// (CUDNN_FMA_MATH), the default, for parity with the native path.
ValueId lstm_cudnn(Graph& g, ValueId x, ValueId W, ValueId b, ValueId P, ValueId h0, ValueId c0,
                   int64_t steps, bool tf32 = false);

}  // namespace sg
