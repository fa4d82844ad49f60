// CUDA Count-Sketch / Count-Min kernels (see sketch_kernels.h), all on the backend's stream, no
// allocation. sketch_update (m = depth * n keys, 4 + ceil(key bits / 8) launches for the sort):
//   1. (Paper) delta[p, :] or (Conservative) target[p, :] from the current estimates, one
//      thread per element;
//   2. keys[j * n + p] = (j * width + bucket_j(id_p)) << pbits | p for active, in-range rows, else
//      the invalid key (depth * width) << pbits, which sorts after every valid key; pbits = bits
//      of n - 1, the bucket field has bit_width(depth * width) bits (room for the invalid value);
//   3. CUB device radix sort (DoubleBuffer, keys only) over bits [0, pbits + bucket bits); valid
//      keys are unique, so the order is exactly (bucket, position) as before;
//   4. one warp per sorted position (8 per block); only the head of a run of equal buckets works:
//      its lanes split the columns and each sums (Conservative: takes the max of) the run's rows in
//      ascending position order, then writes the bucket once.
// Workspace (256-byte aligned base, from sketch_update_workspace_bytes): keys A [m] u64 | keys B
// [m] u64 | (Paper, Conservative) delta [n, dim] f32 | CUB temporary storage (the rest), each
// 256-aligned.
#include <cub/device/device_radix_sort.cuh>

#include "engine/cuda/cuda_backend.h"
#include "sketch/sketch_kernels.h"

namespace sg::cuda {

namespace {
size_t align256(size_t b) { return (b + 255) / 256 * 256; }

// Number of bits needed to write v (0 for v = 0).
int bit_width(uint64_t v) {
  int b = 0;
  while (v) {
    ++b;
    v >>= 1;
  }
  return b;
}

__device__ int64_t active(const int32_t* count, int64_t n) { return count ? count[0] : n; }

__global__ void delta_kernel(StoreView s, const int32_t* ids, const int32_t* count, int64_t n,
                             const float* x, bool square, float decay, float scale,
                             bool conservative, float* delta) {
  const int64_t d = s.dim, u = active(count, n), total = n * d;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total;
       e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t p = e / d, c = e % d;
    if (p >= u) continue;
    const int64_t i = ids ? ids[p] : p;
    if (i < 0 || i >= s.rows) continue;
    const float xv = square ? x[e] * x[e] : x[e];
    const float est = store_query(s, i, c);
    const float target = decay * est + scale * xv;
    delta[e] = conservative ? target : target - est;
  }
}

__global__ void keys_kernel(StoreView s, const int32_t* ids, const int32_t* count, int64_t n,
                            int pbits, uint64_t invalid, uint64_t* keys) {
  const int64_t u = active(count, n), m = int64_t(s.hash.depth) * n;
  for (int64_t q = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; q < m;
       q += int64_t(gridDim.x) * blockDim.x) {
    const int j = static_cast<int>(q / n);
    const int64_t p = q % n;
    const int64_t i = p < u ? (ids ? ids[p] : p) : -1;
    uint64_t k = invalid;
    if (i >= 0 && i < s.rows) {
      const uint64_t b = uint64_t(j) * s.hash.width + s.hash.bucket(j, uint32_t(i));
      k = (b << pbits) | uint64_t(p);
    }
    keys[q] = k;
  }
}

// keys: the m sorted keys; a key is valid iff < invalid; bucket = key >> pbits, p = key & pmask.
// One warp per sorted key (kKeysPerBlock warps per block); lane l handles columns l, l + 32, ...
// Each column's arithmetic is the same whatever the mapping, so results do not depend on it.
constexpr int kKeysPerBlock = 8;
__global__ void bucket_kernel(StoreView s, const int32_t* ids, int64_t m, const uint64_t* keys,
                              int pbits, uint64_t invalid, const float* src, bool square,
                              float decay, float scale, SketchUpdate mode) {
  const bool lazy = mode == SketchUpdate::Lazy, conservative = mode == SketchUpdate::Conservative;
  const int64_t q = int64_t(blockIdx.x) * kKeysPerBlock + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (q >= m || keys[q] >= invalid) return;
  const uint64_t key = keys[q] >> pbits;
  if (q > 0 && (keys[q - 1] >> pbits) == key) return;
  const uint64_t pmask = (uint64_t(1) << pbits) - 1;
  const int64_t d = s.dim, width = s.hash.width;
  const int j = static_cast<int>(key / width);
  const bool signed_sketch = s.kind == StoreKind::CountSketch;
  float* bucket = s.data + int64_t(key) * d;
  for (int64_t c = lane; c < d; c += 32) {
    float acc = 0.0f;
    // Invalid keys carry bucket depth * width, never equal to a valid key's bucket: a run ends
    // at the first invalid key.
    for (int64_t r = q; r < m && (keys[r] >> pbits) == key; ++r) {
      const int64_t p = int64_t(keys[r] & pmask);
      const float sg = signed_sketch ? s.hash.sign(j, uint32_t(ids ? ids[p] : p)) : 1.0f;
      const float sv = src[p * d + c];
      const float xv = (lazy && square) ? sv * sv : sv;
      const float v = signed_sketch ? sg * xv : xv;
      acc = r == q ? v : (conservative ? fmaxf(acc, v) : acc + v);
    }
    bucket[c] = lazy ? decay * bucket[c] + scale * acc
                     : (conservative ? fmaxf(decay * bucket[c], acc) : bucket[c] + acc);
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
  const int64_t m = int64_t(depth) * n, d = s.dim;
  SG_CHECK(m <= INT32_MAX, "sketch_update: ", m, " keys (depth * n) exceed the 32-bit sort size");
  const uint64_t dw =
      uint64_t(depth) * s.hash.width;  // buckets in all planes; also the invalid one
  const int pbits = bit_width(uint64_t(n - 1)), end_bit = pbits + bit_width(dw);
  SG_CHECK(end_bit <= 64, "sketch_update: keys need ", end_bit, " bits (n ", n, ", depth * width ",
           dw, ")");
  const uint64_t invalid = dw << pbits;

  char* w = static_cast<char*>(workspace);
  const size_t keys_bytes = align256(size_t(m) * sizeof(uint64_t));
  auto* keys_a = reinterpret_cast<uint64_t*>(w);
  auto* keys_b = reinterpret_cast<uint64_t*>(w + keys_bytes);
  const bool lazy = mode == SketchUpdate::Lazy;
  SG_CHECK(mode != SketchUpdate::Conservative || s.kind == StoreKind::CountMin,
           "sketch_update: the conservative update is for Count-Min sketches only");
  float* delta = reinterpret_cast<float*>(w + 2 * keys_bytes);
  const size_t temp_off =
      2 * keys_bytes + (lazy ? 0 : align256(size_t(n) * size_t(d) * sizeof(float)));
  SG_CHECK(workspace_bytes >= temp_off, "sketch_update: workspace of ", workspace_bytes,
           " bytes, the keys and deltas need ", temp_off);
  void* temp = w + temp_off;
  size_t temp_bytes = workspace_bytes - temp_off;
  {  // host-only size query (no launch); the planner's bound must cover it
    cub::DoubleBuffer<uint64_t> probe(keys_a, keys_b);
    size_t need = 0;
    SG_CUDA(
        cub::DeviceRadixSort::SortKeys(nullptr, need, probe, static_cast<int>(m), 0, end_bit, st));
    SG_CHECK(need <= temp_bytes, "sketch_update: CUB radix sort of ", m, " keys needs ", need,
             " temporary bytes, the workspace leaves ", temp_bytes,
             " (sketch_update_workspace_bytes' bound is too small for this CUB)");
  }

  if (!lazy)
    delta_kernel<<<grid_for(n * d), 256, 0, st>>>(s, ids, count, n, x, square, decay, scale,
                                                  mode == SketchUpdate::Conservative, delta);
  keys_kernel<<<grid_for(m), 256, 0, st>>>(s, ids, count, n, pbits, invalid, keys_a);
  cub::DoubleBuffer<uint64_t> kb(keys_a, keys_b);
  SG_CUDA(
      cub::DeviceRadixSort::SortKeys(temp, temp_bytes, kb, static_cast<int>(m), 0, end_bit, st));
  const uint64_t* sorted = kb.Current();  // the selector is set on the host by SortKeys
  const unsigned blocks = static_cast<unsigned>((m + kKeysPerBlock - 1) / kKeysPerBlock);
  bucket_kernel<<<blocks, 32 * kKeysPerBlock, 0, st>>>(
      s, ids, m, sorted, pbits, invalid, lazy ? x : delta, square, decay, scale, mode);
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
