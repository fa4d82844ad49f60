// Internal to layers/: the LSTM op dimensions and the backward op factory shared by lstm.cc and
// lstm_backward.cc.
#pragma once
#include <cstdint>
#include <memory>

#include "engine/graph.h"

namespace sg::lstm_detail {

struct LstmDims {
  int64_t T = 0, B = 0, I = 0, H = 0, P = 0;  // P = projection size, 0 = none
  // The workspaces also hold the CPU recurrences' packed weights (lstm_cpu.h); off for graphs
  // planned for CUDA, which never reads them.
  bool cpu_packed = false;
  int64_t R() const { return P > 0 ? P : H; }
  int64_t G() const { return 4 * H; }
};

// Floats of a workspace part rounded up to 64 (256 bytes) so every part stays aligned.
inline int64_t ws_round(int64_t n) { return (n + 63) / 64 * 64; }

// Validates the shapes of an LSTM call (see lstm.h) and returns its dimensions; throws one line
// otherwise.
LstmDims lstm_check_shapes(const Graph& g, ValueId x, ValueId W, ValueId b, ValueId P, ValueId h0,
                           ValueId c0, int64_t steps);

// Appends the backward op of an LSTM forward node (inputs x, W, b, h0, c0[, P]; outputs y, gates,
// c_all, h0 copy) and fills in_grads for the inputs that require a gradient.
void lstm_append_backward(Graph& g, const Node& node, const LstmDims& d, ValueId dy,
                          std::vector<Grad>& in_grads);

}  // namespace sg::lstm_detail
