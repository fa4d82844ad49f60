// Count-Sketch / Count-Min kernels on CPU and CUDA (signatures in sketch_kernels.inc).
//
// sketch_update (store.h has the maths), per bucket b of row j, P_b = rows p hashed to b:
//   Lazy:         S[j,b,:] <- decay * S[j,b,:] + scale * sum_{p in P_b} sgn_j(id_p) * x_p
//   Paper:        delta_p = decay * value(id_p) + scale * x_p - value(id_p), all read before any
//                 write; then S[j,b,:] += sum_{p in P_b} sgn_j(id_p) * delta_p
//   Conservative: target_p = decay * value(id_p) + scale * x_p, all read before any write; then
//                 S[j,b,:] <- max(decay * S[j,b,:], max_{p in P_b} target_p)  (Count-Min only)
// Every touched bucket is written once per step, so rows colliding in a step combine
// deterministically: (j * width + bucket, p) keys are sorted (CPU LSD radix sort on the bucket
// bits, CUDA CUB radix sort), and the head of each run of equal buckets sums (or, Conservative,
// takes the max of) its rows in ascending p, starting from the first row (no +0 start, so the
// single-row case is exactly decay * S + scale * sgn * x). Signs are 1 for Count-Min. Workspace:
// max of the CPU layout (2 * depth * n u64 keys, plus n * dim floats of deltas or targets for
// Paper and Conservative) and the CUDA one (2 * depth * n u64 keys, deltas, a bound on CUB's sort
// storage), parts 256-byte aligned; see sketch_update_workspace_bytes in sketch_cpu.cc. CPU throws
// on ids out of [0, rows) and on count out of [0, n]; CUDA skips such rows.
#pragma once
#include <cstddef>
#include <cstdint>

#include "engine/backend.h"
#include "sketch/store.h"

namespace sg {
size_t sketch_update_workspace_bytes(int depth, int64_t n, int64_t dim, SketchUpdate mode);
// sketch_update_pair's preconditions (both sketches, same rows, columns and hash; workspace).
void check_sketch_pair(const StoreView& a, const StoreView& b, int64_t n, size_t workspace_bytes);
}  // namespace sg

namespace sg::cpu {
#include "sketch/sketch_kernels.inc"
}
#ifdef SG_WITH_CUDA
namespace sg::cuda {
#include "sketch/sketch_kernels.inc"
}
#endif
