// CUDA unique log-uniform sampling (see log_uniform_kernels.inc), all on the device: one block of
// 1024 threads takes the draws in chunks of 1024 (thread t draws index base + t). Each draw does
// atomicMin(first[k], j), so after a barrier first[k] holds the earliest draw of id k so far; a
// draw is the first of its id when first[k] == j. A block exclusive scan of those flags gives each
// new id its position in draw order, the same order the CPU kernel produces; the chunk in which the
// count-th new id appears fixes tries. first[] starts at 0x7F7F7F7F (a byte memset), larger than
// any draw index (kMaxLogUniformDraws).
#include <cub/block/block_scan.cuh>
#include <limits>

#include "engine/check.h"
#include "engine/cuda/cuda_backend.h"
#include "layers/log_uniform.h"
#include "layers/log_uniform_kernels.h"

namespace sg::cuda {

namespace {

constexpr int kThreads = 1024;

__global__ void __launch_bounds__(kThreads)
    sample_unique_kernel(int64_t count, int64_t vocab, uint64_t seed, uint64_t stream,
                         int32_t* first, int32_t* ids, float* logq, int32_t* tries) {
  using Scan = cub::BlockScan<int, kThreads>;
  __shared__ typename Scan::TempStorage scan_storage;
  __shared__ int64_t draws;
  const int t = threadIdx.x;
  if (t == 0) draws = 0;  // stays 0 if the draw limit is hit
  __syncthreads();
  int64_t found = 0;  // the same in every thread: each adds the block aggregate
  for (int64_t base = 0; found < count && base + kThreads <= kMaxLogUniformDraws;
       base += kThreads) {
    const int64_t j = base + t;
    const int64_t k = log_uniform_draw(seed, stream, static_cast<uint64_t>(j), vocab);
    atomicMin(first + k, static_cast<int32_t>(j));
    __syncthreads();
    const int is_new = __ldcg(first + k) == static_cast<int32_t>(j) ? 1 : 0;
    int pos = 0, added = 0;
    Scan(scan_storage).ExclusiveSum(is_new, pos, added);
    const int64_t p = found + pos;
    if (is_new && p < count) {
      ids[p] = static_cast<int32_t>(k);
      if (p == count - 1) draws = j + 1;
    }
    found += added;
    __syncthreads();  // scan storage is reused; ids and draws are visible below
  }
  // Draw limit hit (tries 0, the loss turns non-finite): the missing ids become 0, so the
  // sampled softmax never reads outside its tables.
  for (int64_t p = found + t; p < count; p += kThreads) ids[p] = 0;
  __syncthreads();
  const int64_t n = draws;
  for (int64_t p = t; p < count; p += kThreads)
    logq[p] = log_expected_count(__ldcg(ids + p), vocab, n);
  if (t == 0) tries[0] = static_cast<int32_t>(n);
}

}  // namespace

void sample_log_uniform_unique(Backend& be, int64_t count, int64_t vocab, uint64_t seed,
                               uint64_t stream, int32_t* ids, float* logq, int32_t* tries,
                               void* workspace, size_t workspace_bytes) {
  check_log_uniform_unique_args(count, vocab, workspace_bytes);
  cudaStream_t s = as_cuda(be).stream();
  auto* first = static_cast<int32_t*>(workspace);
  SG_CUDA(cudaMemsetAsync(first, 0x7F, log_uniform_unique_workspace_bytes(vocab), s));
  sample_unique_kernel<<<1, kThreads, 0, s>>>(count, vocab, seed, stream, first, ids, logq, tries);
  SG_CUDA(cudaGetLastError());
}

}  // namespace sg::cuda
