// CUDA gather rows and deterministic row-sparse scatter-add (see gather_kernels.h for the
// contract). scatter_add_rows, all on the backend's stream, no allocation (keys and segment starts
// in the workspace):
//   1. keys[i] = id << 32 | i for valid ids; invalid ids and padding up to next_pow2(n) get ~0
//   (sorted last).
//   2. bitonic sort of the keys (log2(P) * (log2(P) + 1) / 2 compare-exchange passes, P =
//   next_pow2(n)).
//   3. one block finds segment heads (first key of each id) with a block-wide scan: writes out_ids,
//      segment starts and out_count.
//   4. one block per output row s: columns in parallel, the segment's rows added in ascending
//   position order;
//      rows past the count become zero with id -1.
#include <cmath>

#include "engine/cuda/cuda_backend.h"
#include "engine/kernels/gather_kernels.h"

namespace sg::cuda {

namespace {
constexpr uint64_t kInvalid = ~0ull;
constexpr int kScanThreads = 1024;

__global__ void gather_kernel(const float* table, int64_t rows, int64_t dim, const int32_t* ids,
                              int64_t n, float* out) {
  const int64_t total = n * dim;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total;
       e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t i = e / dim, c = e % dim;
    const int32_t id = ids[i];
    out[e] = (id >= 0 && id < rows) ? table[int64_t(id) * dim + c] : nanf("");
  }
}

__global__ void make_keys_kernel(const int32_t* ids, int64_t n, int64_t rows, int64_t p2,
                                 uint64_t* keys) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < p2;
       i += int64_t(gridDim.x) * blockDim.x) {
    uint64_t k = kInvalid;
    if (i < n) {
      const int32_t id = ids[i];
      if (id >= 0 && id < rows) k = (uint64_t(uint32_t(id)) << 32) | uint64_t(i);
    }
    keys[i] = k;
  }
}

// One compare-exchange pass of the bitonic network: stage size k, partner distance j.
__global__ void bitonic_pass_kernel(uint64_t* keys, int64_t p2, int64_t k, int64_t j) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < p2;
       i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t l = i ^ j;
    if (l <= i) continue;
    const uint64_t a = keys[i], b = keys[l];
    const bool ascending = (i & k) == 0;
    if (ascending ? (a > b) : (a < b)) {
      keys[i] = b;
      keys[l] = a;
    }
  }
}

__device__ bool is_head(const uint64_t* keys, int64_t i) {
  if (keys[i] == kInvalid) return false;
  return i == 0 || (keys[i] >> 32) != (keys[i - 1] >> 32);
}

// Single block: segment heads -> out_ids[seg], seg_start[seg]; seg_start[u] = number of valid keys;
// count.
__global__ void segments_kernel(const uint64_t* keys, int64_t n, int32_t* out_ids,
                                int32_t* seg_start, int32_t* out_count) {
  __shared__ int32_t heads[kScanThreads];
  __shared__ int32_t valid[kScanThreads];
  const int t = threadIdx.x;
  const int64_t per = (n + kScanThreads - 1) / kScanThreads;
  const int64_t begin = min(n, t * per), end = min(n, begin + per);
  int32_t h = 0, v = 0;
  for (int64_t i = begin; i < end; ++i) {
    h += is_head(keys, i);
    v += keys[i] != kInvalid;
  }
  heads[t] = h;
  valid[t] = v;
  __syncthreads();
  // Hillis-Steele inclusive scan of the per-thread head counts (integers: order does not matter).
  for (int off = 1; off < kScanThreads; off *= 2) {
    int32_t add = t >= off ? heads[t - off] : 0;
    __syncthreads();
    heads[t] += add;
    __syncthreads();
  }
  int32_t seg = heads[t] - h;  // exclusive prefix
  for (int64_t i = begin; i < end; ++i) {
    if (is_head(keys, i)) {
      out_ids[seg] = int32_t(keys[i] >> 32);
      seg_start[seg] = int32_t(i);
      ++seg;
    }
  }
  __syncthreads();
  if (t == 0) {
    int32_t total_valid = 0;
    for (int k = 0; k < kScanThreads; ++k) total_valid += valid[k];
    const int32_t u = heads[kScanThreads - 1];
    seg_start[u] = total_valid;
    out_count[0] = u;
  }
}

__global__ void segment_sum_kernel(const uint64_t* keys, const int32_t* seg_start,
                                   const int32_t* count, const float* grad, int64_t dim,
                                   int32_t* out_ids, float* out_rows) {
  const int64_t s = blockIdx.x;
  float* dst = out_rows + s * dim;
  if (s >= count[0]) {
    if (threadIdx.x == 0) out_ids[s] = -1;
    for (int64_t c = threadIdx.x; c < dim; c += blockDim.x) dst[c] = 0.0f;
    return;
  }
  const int32_t p0 = seg_start[s], p1 = seg_start[s + 1];
  for (int64_t c = threadIdx.x; c < dim; c += blockDim.x) {
    float acc = 0.0f;
    for (int32_t p = p0; p < p1; ++p) acc += grad[int64_t(keys[p] & 0xffffffffu) * dim + c];
    dst[c] = acc;
  }
}

__global__ void densify_kernel(const int32_t* ids, const float* rows_in, const int32_t* count,
                               int64_t n, int64_t dim, float* dense, int64_t rows) {
  const int64_t total = n * dim;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total;
       e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t s = e / dim;
    if (s >= count[0]) continue;
    const int32_t id = ids[s];
    if (id >= 0 && id < rows)
      dense[int64_t(id) * dim + e % dim] += rows_in[e];  // ids unique: no race
  }
}
}  // namespace

void gather_rows(Backend& be, const float* table, int64_t rows, int64_t dim, const int32_t* ids,
                 int64_t n, float* out) {
  if (n * dim <= 0) return;
  gather_kernel<<<grid_for(n * dim), 256, 0, as_cuda(be).stream()>>>(table, rows, dim, ids, n, out);
  SG_CUDA(cudaGetLastError());
}

void scatter_add_rows(Backend& be, const int32_t* ids, const float* grad, int64_t n, int64_t dim,
                      int64_t rows, int32_t* out_ids, float* out_rows, int32_t* out_count,
                      void* workspace, size_t workspace_bytes) {
  SG_CHECK(workspace_bytes >= scatter_add_workspace_bytes(n, dim),
           "scatter_add_rows: workspace of ", workspace_bytes, " bytes, needs ",
           scatter_add_workspace_bytes(n, dim));
  cudaStream_t st = as_cuda(be).stream();
  if (n <= 0) {
    SG_CUDA(cudaMemsetAsync(out_count, 0, sizeof(int32_t), st));
    return;
  }
  int64_t p2 = 1;
  while (p2 < n) p2 *= 2;
  auto* keys = static_cast<uint64_t*>(workspace);
  auto* seg_start = reinterpret_cast<int32_t*>(static_cast<char*>(workspace) +
                                               (p2 * sizeof(uint64_t) + 255) / 256 * 256);
  make_keys_kernel<<<grid_for(p2), 256, 0, st>>>(ids, n, rows, p2, keys);
  for (int64_t k = 2; k <= p2; k *= 2)
    for (int64_t j = k / 2; j > 0; j /= 2)
      bitonic_pass_kernel<<<grid_for(p2), 256, 0, st>>>(keys, p2, k, j);
  segments_kernel<<<1, kScanThreads, 0, st>>>(keys, n, out_ids, seg_start, out_count);
  const int threads = dim >= 256 ? 256 : (dim >= 64 ? 64 : 32);
  segment_sum_kernel<<<static_cast<unsigned>(n), threads, 0, st>>>(keys, seg_start, out_count, grad,
                                                                   dim, out_ids, out_rows);
  SG_CUDA(cudaGetLastError());
}

void densify_rows(Backend& be, const int32_t* ids, const float* rows_in, const int32_t* count,
                  int64_t n, int64_t dim, float* dense, int64_t rows) {
  cudaStream_t st = as_cuda(be).stream();
  SG_CUDA(cudaMemsetAsync(dense, 0, rows * dim * sizeof(float), st));
  if (n * dim <= 0) return;
  densify_kernel<<<grid_for(n * dim), 256, 0, st>>>(ids, rows_in, count, n, dim, dense, rows);
  SG_CUDA(cudaGetLastError());
}

}  // namespace sg::cuda
