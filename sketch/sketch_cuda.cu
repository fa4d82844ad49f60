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
// sketch_update_pair (m and v of Adam sharing one hash): steps 2-3 once, then step 4 updates both
// stores from one read of x (bucket_pair_kernel).
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

// Whether sorted key q is valid and the first of its run of equal buckets (the warp that works).
__device__ bool run_head(const uint64_t* keys, int64_t q, int64_t m, int pbits, uint64_t invalid) {
  if (q >= m || keys[q] >= invalid) return false;
  return q == 0 || (keys[q - 1] >> pbits) != (keys[q] >> pbits);
}

__global__ void bucket_kernel(StoreView s, const int32_t* ids, int64_t m, const uint64_t* keys,
                              int pbits, uint64_t invalid, const float* src, bool square,
                              float decay, float scale, SketchUpdate mode) {
  const bool lazy = mode == SketchUpdate::Lazy, conservative = mode == SketchUpdate::Conservative;
  const int64_t q = int64_t(blockIdx.x) * kKeysPerBlock + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (!run_head(keys, q, m, pbits, invalid)) return;
  const uint64_t key = keys[q] >> pbits;
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
      // max exactly as the CPU's std::max(acc, v) (a NaN already in acc stays, unlike fmaxf, which
      // drops a NaN of either side); sums and products rounded one by one (no contraction into
      // FMA, as in bucket_pair_kernel)
      acc = r == q ? v : (conservative ? (acc < v ? v : acc) : __fadd_rn(acc, v));
    }
    const float decayed = __fmul_rn(decay, bucket[c]);
    bucket[c] = lazy ? __fadd_rn(decayed, __fmul_rn(scale, acc))
                     : (conservative ? (decayed < acc ? acc : decayed) : __fadd_rn(bucket[c], acc));
  }
}

// bucket_kernel's Lazy case for two stores sharing the hash: a takes x, b takes x * x.
__global__ void bucket_pair_kernel(StoreView a, StoreView b, const int32_t* ids, int64_t m,
                                   const uint64_t* keys, int pbits, uint64_t invalid,
                                   const float* x, float a_decay, float a_scale, float b_decay,
                                   float b_scale) {
  const int64_t q = int64_t(blockIdx.x) * kKeysPerBlock + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (!run_head(keys, q, m, pbits, invalid)) return;
  const uint64_t key = keys[q] >> pbits;
  const uint64_t pmask = (uint64_t(1) << pbits) - 1;
  const int64_t d = a.dim;
  const int j = static_cast<int>(key / a.hash.width);
  const bool a_signed = a.kind == StoreKind::CountSketch,
             b_signed = b.kind == StoreKind::CountSketch;
  float* bucket_a = a.data + int64_t(key) * d;
  float* bucket_b = b.data + int64_t(key) * d;
  for (int64_t c = lane; c < d; c += 32) {
    float acc_a = 0.0f, acc_b = 0.0f;
    for (int64_t r = q; r < m && (keys[r] >> pbits) == key; ++r) {
      const int64_t p = int64_t(keys[r] & pmask);
      const float sg = (a_signed || b_signed) ? a.hash.sign(j, uint32_t(ids ? ids[p] : p)) : 1.0f;
      const float xa = x[p * d + c], xb = __fmul_rn(xa, xa);
      const float va = a_signed ? sg * xa : xa, vb = b_signed ? sg * xb : xb;
      acc_a = r == q ? va : __fadd_rn(acc_a, va);
      acc_b = r == q ? vb : __fadd_rn(acc_b, vb);
    }
    bucket_a[c] = __fadd_rn(__fmul_rn(a_decay, bucket_a[c]), __fmul_rn(a_scale, acc_a));
    bucket_b[c] = __fadd_rn(__fmul_rn(b_decay, bucket_b[c]), __fmul_rn(b_scale, acc_b));
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

namespace {
// The sorted keys of steps 2-3 and how to read them (key >> pbits = bucket, valid iff < invalid).
struct KeySort {
  int pbits = 0, end_bit = 0;
  uint64_t invalid = 0;
  const uint64_t* sorted = nullptr;
};

// Writes the depth * n (bucket, position) keys of the active rows and sorts them with CUB (steps
// 2-3 above). `temp` / `temp_bytes` are what the workspace leaves after the keys and deltas.
KeySort sort_keys(const char* what, cudaStream_t st, const StoreView& s, const int32_t* ids,
                  const int32_t* count, int64_t n, uint64_t* keys_a, uint64_t* keys_b, void* temp,
                  size_t temp_bytes) {
  const int64_t m = int64_t(s.hash.depth) * n;
  SG_CHECK(m <= INT32_MAX, what, ": ", m, " keys (depth * n) exceed the 32-bit sort size");
  const uint64_t dw =
      uint64_t(s.hash.depth) * s.hash.width;  // buckets in all planes; also the invalid one
  KeySort k;
  k.pbits = bit_width(uint64_t(n - 1));
  k.end_bit = k.pbits + bit_width(dw);
  SG_CHECK(k.end_bit <= 64, what, ": keys need ", k.end_bit, " bits (n ", n, ", depth * width ", dw,
           ")");
  k.invalid = dw << k.pbits;
  {  // host-only size query (no launch); the planner's bound must cover it
    cub::DoubleBuffer<uint64_t> probe(keys_a, keys_b);
    size_t need = 0;
    SG_CUDA(cub::DeviceRadixSort::SortKeys(nullptr, need, probe, static_cast<int>(m), 0, k.end_bit,
                                           st));
    SG_CHECK(need <= temp_bytes, what, ": CUB radix sort of ", m, " keys needs ", need,
             " temporary bytes, the workspace leaves ", temp_bytes,
             " (sketch_update_workspace_bytes' bound is too small for this CUB)");
  }
  keys_kernel<<<grid_for(m), 256, 0, st>>>(s, ids, count, n, k.pbits, k.invalid, keys_a);
  SG_CUDA(cudaGetLastError());
  cub::DoubleBuffer<uint64_t> kb(keys_a, keys_b);
  SG_CUDA(
      cub::DeviceRadixSort::SortKeys(temp, temp_bytes, kb, static_cast<int>(m), 0, k.end_bit, st));
  k.sorted = kb.Current();  // the selector is set on the host by SortKeys
  return k;
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

  if (!lazy)
    delta_kernel<<<grid_for(n * d), 256, 0, st>>>(s, ids, count, n, x, square, decay, scale,
                                                  mode == SketchUpdate::Conservative, delta);
  if (!lazy) SG_CUDA(cudaGetLastError());
  const KeySort k = sort_keys("sketch_update", st, s, ids, count, n, keys_a, keys_b, w + temp_off,
                              workspace_bytes - temp_off);
  const unsigned blocks = static_cast<unsigned>((m + kKeysPerBlock - 1) / kKeysPerBlock);
  bucket_kernel<<<blocks, 32 * kKeysPerBlock, 0, st>>>(
      s, ids, m, k.sorted, k.pbits, k.invalid, lazy ? x : delta, square, decay, scale, mode);
  SG_CUDA(cudaGetLastError());
}

void sketch_update_pair(Backend& be, StoreView a, float a_decay, float a_scale, StoreView b,
                        float b_decay, float b_scale, const int32_t* ids, const int32_t* count,
                        int64_t n, const float* x, void* workspace, size_t workspace_bytes) {
  check_sketch_pair(a, b, n, workspace_bytes);
  const int depth = a.hash.depth;
  if (n <= 0) return;
  cudaStream_t st = as_cuda(be).stream();
  const int64_t m = int64_t(depth) * n;
  char* w = static_cast<char*>(workspace);
  const size_t keys_bytes = align256(size_t(m) * sizeof(uint64_t));
  const KeySort k =
      sort_keys("sketch_update_pair", st, a, ids, count, n, reinterpret_cast<uint64_t*>(w),
                reinterpret_cast<uint64_t*>(w + keys_bytes), w + 2 * keys_bytes,
                workspace_bytes - 2 * keys_bytes);
  const unsigned blocks = static_cast<unsigned>((m + kKeysPerBlock - 1) / kKeysPerBlock);
  bucket_pair_kernel<<<blocks, 32 * kKeysPerBlock, 0, st>>>(
      a, b, ids, m, k.sorted, k.pbits, k.invalid, x, a_decay, a_scale, b_decay, b_scale);
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
