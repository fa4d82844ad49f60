// CUDA Count-Sketch / Count-Min kernels (see sketch_kernels.h), all on the backend's stream, no
// allocation. sketch_update:
//   1. (Paper) delta[p, :] from the current estimates, one thread per element;
//   2. keys[j * n + p] = (j * width + bucket_j(id_p)) << 32 | p for p < count, ~0 otherwise (sorted
//   last),
//      padded with ~0 up to next_pow2(depth * n);
//   3. bitonic sort of the keys;
//   4. one block per sorted position; only the head of a run of equal buckets works: its threads
//   split
//      the columns and each sums the run's rows in ascending position order, then writes the bucket
//      once.
#include "engine/cuda/cuda_backend.h"
#include "sketch/sketch_kernels.h"

namespace sg::cuda {

namespace {
constexpr uint64_t kInvalid = ~0ull;

size_t align256(size_t b) { return (b + 255) / 256 * 256; }

__device__ int64_t active(const int32_t* count, int64_t n) { return count ? count[0] : n; }

__global__ void delta_kernel(StoreView s, const int32_t* ids, const int32_t* count, int64_t n,
                             const float* x, bool square, float decay, float scale, float* delta) {
  const int64_t d = s.dim, u = active(count, n), total = n * d;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total;
       e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t p = e / d, c = e % d;
    if (p >= u) continue;
    const int64_t i = ids ? ids[p] : p;
    if (i < 0 || i >= s.rows) continue;
    const float xv = square ? x[e] * x[e] : x[e];
    const float est = store_query(s, i, c);
    delta[e] = (decay * est + scale * xv) - est;
  }
}

__global__ void keys_kernel(StoreView s, const int32_t* ids, const int32_t* count, int64_t n,
                            int64_t p2, uint64_t* keys) {
  const int64_t u = active(count, n), m = int64_t(s.hash.depth) * n;
  for (int64_t q = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; q < p2;
       q += int64_t(gridDim.x) * blockDim.x) {
    uint64_t k = kInvalid;
    if (q < m) {
      const int j = static_cast<int>(q / n);
      const int64_t p = q % n;
      const int64_t i = p < u ? (ids ? ids[p] : p) : -1;
      if (i >= 0 && i < s.rows) {
        const uint64_t b = uint64_t(j) * s.hash.width + s.hash.bucket(j, uint32_t(i));
        k = (b << 32) | uint64_t(p);
      }
    }
    keys[q] = k;
  }
}

__global__ void bitonic_kernel(uint64_t* keys, int64_t p2, int64_t k, int64_t j) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < p2;
       i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t l = i ^ j;
    if (l <= i) continue;
    const uint64_t a = keys[i], b = keys[l];
    if (((i & k) == 0) ? (a > b) : (a < b)) {
      keys[i] = b;
      keys[l] = a;
    }
  }
}

__global__ void bucket_kernel(StoreView s, const int32_t* ids, int64_t m, const uint64_t* keys,
                              const float* src, bool square, float decay, float scale, bool paper) {
  const int64_t q = blockIdx.x;
  if (q >= m || keys[q] == kInvalid) return;
  const uint64_t key = keys[q] >> 32;
  if (q > 0 && (keys[q - 1] >> 32) == key) return;
  const int64_t d = s.dim, width = s.hash.width;
  const int j = static_cast<int>(key / width);
  const bool signed_sketch = s.kind == StoreKind::CountSketch;
  float* bucket = s.data + int64_t(key) * d;
  for (int64_t c = threadIdx.x; c < d; c += blockDim.x) {
    float acc = 0.0f;
    for (int64_t r = q; r < m && keys[r] != kInvalid && (keys[r] >> 32) == key; ++r) {
      const int64_t p = int64_t(keys[r] & 0xffffffffu);
      const float sg = signed_sketch ? s.hash.sign(j, uint32_t(ids ? ids[p] : p)) : 1.0f;
      const float sv = src[p * d + c];
      const float xv = (!paper && square) ? sv * sv : sv;
      const float v = signed_sketch ? sg * xv : xv;
      acc = r == q ? v : acc + v;
    }
    bucket[c] = paper ? bucket[c] + acc : decay * bucket[c] + scale * acc;
  }
}

__global__ void query_kernel(StoreView s, const int32_t* ids, const int32_t* count, int64_t n,
                             float* out) {
  const int64_t d = s.dim, u = active(count, n), total = n * d;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total;
       e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t p = e / d;
    if (p >= u) continue;
    const int64_t i = ids ? ids[p] : p;
    if (i < 0 || i >= s.rows) continue;
    out[e] = store_query(s, i, e % d);
  }
}

__global__ void scale_kernel(float* x, int64_t n, float alpha) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x)
    x[i] *= alpha;
}
}  // namespace

void sketch_update(Backend& be, StoreView s, const int32_t* ids, const int32_t* count, int64_t n,
                   const float* x, bool square, float decay, float scale, SketchUpdate mode,
                   void* workspace, size_t workspace_bytes) {
  SG_CHECK(s.is_sketch(), "sketch_update on a ", store_kind_name(s.kind), " store");
  const int depth = s.hash.depth;
  SG_CHECK(workspace_bytes >= sketch_update_workspace_bytes(depth, n, s.dim, mode),
           "sketch_update: workspace of ", workspace_bytes, " bytes, needs ",
           sketch_update_workspace_bytes(depth, n, s.dim, mode));
  if (n <= 0) return;
  cudaStream_t st = as_cuda(be).stream();
  const int64_t m = int64_t(depth) * n;
  int64_t p2 = 1;
  while (p2 < m) p2 *= 2;
  auto* keys = static_cast<uint64_t*>(workspace);
  float* delta =
      reinterpret_cast<float*>(static_cast<char*>(workspace) + align256(p2 * sizeof(uint64_t)));
  const bool paper = mode == SketchUpdate::Paper;
  if (paper)
    delta_kernel<<<grid_for(n * s.dim), 256, 0, st>>>(s, ids, count, n, x, square, decay, scale,
                                                      delta);
  keys_kernel<<<grid_for(p2), 256, 0, st>>>(s, ids, count, n, p2, keys);
  for (int64_t k = 2; k <= p2; k *= 2)
    for (int64_t j = k / 2; j > 0; j /= 2)
      bitonic_kernel<<<grid_for(p2), 256, 0, st>>>(keys, p2, k, j);
  const int threads = s.dim >= 256 ? 256 : (s.dim >= 64 ? 64 : 32);
  bucket_kernel<<<static_cast<unsigned>(m), threads, 0, st>>>(s, ids, m, keys, paper ? delta : x,
                                                              square, decay, scale, paper);
  SG_CUDA(cudaGetLastError());
}

void sketch_query_rows(Backend& be, StoreView s, const int32_t* ids, const int32_t* count,
                       int64_t n, float* out) {
  if (n * s.dim <= 0) return;
  query_kernel<<<grid_for(n * s.dim), 256, 0, as_cuda(be).stream()>>>(s, ids, count, n, out);
  SG_CUDA(cudaGetLastError());
}

void scale_inplace(Backend& be, float* x, int64_t n, float alpha) {
  if (n <= 0) return;
  scale_kernel<<<grid_for(n), 256, 0, as_cuda(be).stream()>>>(x, n, alpha);
  SG_CUDA(cudaGetLastError());
}

}  // namespace sg::cuda
