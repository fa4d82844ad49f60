// Gather rows (embedding lookup) and its row-sparse gradient (scatter-add by id), plus a densify
// helper.
//
// Out-of-range ids (id < 0 or id >= rows):
//   CPU:  gather_rows and scatter_add_rows throw sg::Error naming the position and the id.
//   CUDA: kernels cannot throw. gather_rows writes a row of quiet NaNs for that position (never a
//   clamped, wrong
//         row), so the loss becomes NaN and the trainer's non-finite check reports it;
//         scatter_add_rows leaves such positions out of every segment (their gradient is dropped;
//         the forward pass already poisoned the loss). Validate ids on the host (data loader) when
//         a clear message is needed.
//
// Determinism of scatter_add_rows: positions are sorted by the 64-bit key (id << 32 | position),
// which is unique, so the sort is a stable sort by id (CPU: std::sort on the keys; CUDA: a bitonic
// sort in the workspace). Each unique id's rows are then summed sequentially in ascending position
// order.
#pragma once
#include <cstddef>
#include <cstdint>

#include "engine/backend.h"

namespace sg {
// Workspace for scatter_add_rows on either device (the planner sizes it without knowing the
// device): next_pow2(n) 64-bit sort keys + (n + 1) segment starts, each part 256-byte aligned.
size_t scatter_add_workspace_bytes(int64_t n, int64_t dim);
}  // namespace sg

namespace sg::cpu {
#include "engine/kernels/gather_kernels.inc"
}
#ifdef SG_WITH_CUDA
namespace sg::cuda {
#include "engine/kernels/gather_kernels.inc"
}
#endif
