// CPU Count-Sketch / Count-Min kernels (see sketch_kernels.h). OpenMP over buckets (update) and
// rows (query); the sort of (bucket, position) keys is a sequential radix sort, so the result does
// not depend on the thread count.
#include <algorithm>
#include <cstring>

#include "sketch/sketch_kernels.h"

namespace sg {

namespace {
size_t align256(size_t b) { return (b + 255) / 256 * 256; }
}  // namespace

// max(CPU, CUDA) so a plan does not depend on the build or on a GPU being present.
//   CPU:  m u64 keys | m u64 keys (radix sort buffer) | deltas  (m = depth * n)
//   CUDA: m u64 keys | m u64 keys (CUB DoubleBuffer) | deltas | CUB radix sort temporary storage,
//         bounded without a GPU (CUB's size query needs one) by 4096 + 32768 * ceil(m / 2^27) +
//         1024 * ceil(m / 1024): Onesweep needs per 2^28-key portion 8 passes x 256 digits x 8 B
//         of bins + counters, 1 KiB of lookback per tile (tiles >= 5376 keys in CUB 3.0; 1024
//         assumed) and < 256 B of alignment per buffer. sketch_cuda.cu checks CUB's real query.
//   deltas (Paper) or targets (Conservative): n * dim f32. Every part is rounded up to 256 bytes.
size_t sketch_update_workspace_bytes(int depth, int64_t n, int64_t dim, SketchUpdate mode) {
  const int64_t m = static_cast<int64_t>(depth) * n;
  const size_t delta =
      mode != SketchUpdate::Lazy ? align256(static_cast<size_t>(n * dim) * sizeof(float)) : 0;
  const size_t cpu = 2 * align256(static_cast<size_t>(m > 0 ? m : 0) * sizeof(uint64_t)) + delta;
  const size_t um = static_cast<size_t>(m > 0 ? m : 0);
  const size_t sort_temp =
      4096 + 32768 * ((um + (size_t(1) << 27) - 1) >> 27) + 1024 * ((um + 1023) / 1024);
  const size_t cuda = 2 * align256(um * sizeof(uint64_t)) + delta + sort_temp;
  return std::max(cpu, cuda);
}

void check_sketch_pair(const StoreView& a, const StoreView& b, int64_t n, size_t workspace_bytes) {
  SG_CHECK(a.is_sketch() && b.is_sketch(), "sketch_update_pair on ", store_kind_name(a.kind),
           " and ", store_kind_name(b.kind), " stores");
  SG_CHECK(same_buckets(a.hash, b.hash) && a.rows == b.rows && a.dim == b.dim,
           "sketch_update_pair: the two sketches must share rows, columns and hash");
  const size_t need = sketch_update_workspace_bytes(a.hash.depth, n, a.dim, SketchUpdate::Lazy);
  SG_CHECK(workspace_bytes >= need, "sketch_update_pair: workspace of ", workspace_bytes,
           " bytes, needs ", need);
}

namespace cpu {

namespace {
constexpr int64_t kChunk = 64;  // columns combined at once per bucket

// Sorts the (bucket << 32 | p) keys ascending. They are generated plane by plane with p ascending,
// so all keys of one bucket already appear in ascending p: a stable LSD radix sort on the bucket
// bits alone (11-bit digits, as many passes as buckets < 2^bits needs) gives exactly std::sort's
// order in O(m) per pass. `tmp` holds m keys.
void sort_bucket_keys(uint64_t* keys, uint64_t* tmp, int64_t m, uint64_t buckets) {
  constexpr int kBits = 11;
  constexpr int64_t kRadix = int64_t{1} << kBits;
  int bits = 1;
  while (bits < 32 && (uint64_t{1} << bits) < buckets) ++bits;
  uint64_t* src = keys;
  uint64_t* dst = tmp;
  for (int shift = 32; shift < 32 + bits; shift += kBits) {
    int64_t count[kRadix + 1] = {};
    for (int64_t q = 0; q < m; ++q) ++count[((src[q] >> shift) & (kRadix - 1)) + 1];
    for (int64_t r = 0; r < kRadix; ++r) count[r + 1] += count[r];
    for (int64_t q = 0; q < m; ++q) dst[count[(src[q] >> shift) & (kRadix - 1)]++] = src[q];
    std::swap(src, dst);
  }
  if (src != keys) std::memcpy(keys, src, static_cast<size_t>(m) * sizeof(uint64_t));
}

int64_t active_rows(const int32_t* count, int64_t n, const char* what) {
  if (!count) return n;
  const int64_t u = count[0];
  SG_CHECK(u >= 0 && u <= n, what, ": count ", u, " out of range [0, ", n, "]");
  return u;
}

// keys[j * u + p] = (j * width + bucket_j(id_p)) << 32 | p for the u active rows, sorted; returns
// their number, depth * u. `tmp` holds as many keys.
int64_t sorted_bucket_keys(const SketchHash& h, const int32_t* ids, int64_t u, uint64_t* keys,
                           uint64_t* tmp) {
  const int64_t width = h.width;
  for (int j = 0; j < h.depth; ++j)
    for (int64_t p = 0; p < u; ++p)
      keys[j * u + p] =
          (static_cast<uint64_t>(j * width + h.bucket(j, static_cast<uint32_t>(ids ? ids[p] : p)))
           << 32) |
          static_cast<uint64_t>(p);
  const int64_t m = static_cast<int64_t>(h.depth) * u;
  sort_bucket_keys(keys, tmp, m, static_cast<uint64_t>(h.depth) * width);
  return m;
}

// End of the run of equal buckets that starts at q (keys sorted).
int64_t run_end(const uint64_t* keys, int64_t m, int64_t q) {
  int64_t end = q + 1;
  while (end < m && (keys[end] >> 32) == (keys[q] >> 32)) ++end;
  return end;
}

void check_ids(const StoreView& s, const int32_t* ids, int64_t u, const char* what) {
  if (!ids) {
    SG_CHECK(u <= s.rows, what, ": ", u, " dense rows for a store of ", s.rows);
    return;
  }
  for (int64_t p = 0; p < u; ++p)
    SG_CHECK(ids[p] >= 0 && ids[p] < s.rows, what, ": id ", ids[p], " at position ", p,
             " is out of range [0, ", s.rows, ")");
}
}  // namespace

void sketch_update(Backend& be, StoreView s, const int32_t* ids, const int32_t* count, int64_t n,
                   const float* x, bool square, float decay, float scale, SketchUpdate mode,
                   void* workspace, size_t workspace_bytes) {
  SG_CHECK(s.is_sketch(), "sketch_update on a ", store_kind_name(s.kind), " store");
  const int depth = s.hash.depth;
  const int64_t d = s.dim, width = s.hash.width;
  SG_CHECK(workspace_bytes >= sketch_update_workspace_bytes(depth, n, d, mode),
           "sketch_update: workspace of ", workspace_bytes, " bytes, needs ",
           sketch_update_workspace_bytes(depth, n, d, mode));
  SG_CHECK(static_cast<uint64_t>(depth) * width < (1ull << 32), "sketch too large for 32-bit keys");
  const int64_t u = active_rows(count, n, "sketch_update");
  check_ids(s, ids, u, "sketch_update");
  const bool signed_sketch = s.kind == StoreKind::CountSketch;
  const bool conservative = mode == SketchUpdate::Conservative;
  SG_CHECK(!conservative || !signed_sketch,
           "sketch_update: the conservative update is for Count-Min sketches only");
  const size_t key_bytes = align256(static_cast<size_t>(depth) * n * sizeof(uint64_t));
  auto* keys = static_cast<uint64_t*>(workspace);
  auto* keys_tmp = reinterpret_cast<uint64_t*>(static_cast<char*>(workspace) + key_bytes);
  float* delta = reinterpret_cast<float*>(static_cast<char*>(workspace) + 2 * key_bytes);
  auto row_id = [&](int64_t p) { return static_cast<uint32_t>(ids ? ids[p] : p); };

  if (mode != SketchUpdate::Lazy) {  // all estimates are read before any bucket changes
#pragma omp parallel for num_threads(be.threads()) schedule(static) if (u * d >= (1 << 14))
    for (int64_t p = 0; p < u; ++p) {
      const SketchRow sr = sketch_row(s, row_id(p));
      for (int64_t c = 0; c < d; ++c) {
        const float xv = square ? x[p * d + c] * x[p * d + c] : x[p * d + c];
        const float est = sketch_row_value(s, sr, c);
        const float target = decay * est + scale * xv;
        delta[p * d + c] = conservative ? target : target - est;  // Paper stores the delta
      }
    }
  }

  const int64_t m = sorted_bucket_keys(s.hash, ids, u, keys, keys_tmp);

#pragma omp parallel for num_threads(be.threads()) schedule(dynamic, 256) if (m * d >= (1 << 14))
  for (int64_t q = 0; q < m; ++q) {
    const uint64_t key = keys[q] >> 32;
    if (q > 0 && (keys[q - 1] >> 32) == key) continue;  // not the head of its bucket's run
    const int64_t end = run_end(keys, m, q);
    const int j = static_cast<int>(key / width);
    float* bucket = s.data + static_cast<int64_t>(key) * d;  // (j * width + b) * d
    for (int64_t c0 = 0; c0 < d; c0 += kChunk) {
      const int64_t cn = std::min(kChunk, d - c0);
      float acc[kChunk];
      for (int64_t r = q; r < end; ++r) {
        const int64_t p = static_cast<int64_t>(keys[r] & 0xffffffffu);
        const float sg = signed_sketch ? s.hash.sign(j, row_id(p)) : 1.0f;
        const float* src = (mode == SketchUpdate::Lazy ? x : delta) + p * d + c0;
        for (int64_t c = 0; c < cn; ++c) {
          const float xv = (mode == SketchUpdate::Lazy && square) ? src[c] * src[c] : src[c];
          const float v = signed_sketch ? sg * xv : xv;
          acc[c] = r == q ? v : (conservative ? std::max(acc[c], v) : acc[c] + v);
        }
      }
      float* dst = bucket + c0;
      if (mode == SketchUpdate::Lazy)
        for (int64_t c = 0; c < cn; ++c) dst[c] = decay * dst[c] + scale * acc[c];
      else if (conservative)
        for (int64_t c = 0; c < cn; ++c) dst[c] = std::max(decay * dst[c], acc[c]);
      else
        for (int64_t c = 0; c < cn; ++c) dst[c] += acc[c];
    }
  }
}

void sketch_update_pair(Backend& be, StoreView a, float a_decay, float a_scale, StoreView b,
                        float b_decay, float b_scale, const int32_t* ids, const int32_t* count,
                        int64_t n, const float* x, void* workspace, size_t workspace_bytes) {
  check_sketch_pair(a, b, n, workspace_bytes);
  const int depth = a.hash.depth;
  const int64_t d = a.dim;
  SG_CHECK(static_cast<uint64_t>(depth) * a.hash.width < (1ull << 32),
           "sketch too large for 32-bit keys");
  const int64_t u = active_rows(count, n, "sketch_update_pair");
  check_ids(a, ids, u, "sketch_update_pair");
  auto* keys = static_cast<uint64_t*>(workspace);
  auto* keys_tmp = reinterpret_cast<uint64_t*>(
      static_cast<char*>(workspace) + align256(static_cast<size_t>(depth) * n * sizeof(uint64_t)));
  const int64_t m = sorted_bucket_keys(a.hash, ids, u, keys, keys_tmp);
  const bool a_signed = a.kind == StoreKind::CountSketch,
             b_signed = b.kind == StoreKind::CountSketch;
  const int64_t width = a.hash.width;

  // The loop of sketch_update's Lazy case, for both stores at once: a's inputs are x, b's x * x.
#pragma omp parallel for num_threads(be.threads()) schedule(dynamic, 256) if (m * d >= (1 << 14))
  for (int64_t q = 0; q < m; ++q) {
    const uint64_t key = keys[q] >> 32;
    if (q > 0 && (keys[q - 1] >> 32) == key) continue;
    const int64_t end = run_end(keys, m, q);
    const int j = static_cast<int>(key / width);
    float* bucket_a = a.data + static_cast<int64_t>(key) * d;
    float* bucket_b = b.data + static_cast<int64_t>(key) * d;
    for (int64_t c0 = 0; c0 < d; c0 += kChunk) {
      const int64_t cn = std::min(kChunk, d - c0);
      float acc_a[kChunk], acc_b[kChunk];
      for (int64_t r = q; r < end; ++r) {
        const int64_t p = static_cast<int64_t>(keys[r] & 0xffffffffu);
        const float sg =
            (a_signed || b_signed) ? a.hash.sign(j, static_cast<uint32_t>(ids ? ids[p] : p)) : 1.0f;
        const float* src = x + p * d + c0;
        for (int64_t c = 0; c < cn; ++c) {
          const float xa = src[c], xb = src[c] * src[c];
          const float va = a_signed ? sg * xa : xa, vb = b_signed ? sg * xb : xb;
          acc_a[c] = r == q ? va : acc_a[c] + va;
          acc_b[c] = r == q ? vb : acc_b[c] + vb;
        }
      }
      for (int64_t c = 0; c < cn; ++c) {
        bucket_a[c0 + c] = a_decay * bucket_a[c0 + c] + a_scale * acc_a[c];
        bucket_b[c0 + c] = b_decay * bucket_b[c0 + c] + b_scale * acc_b[c];
      }
    }
  }
}

void sketch_query_rows(Backend& be, StoreView s, const int32_t* ids, const int32_t* count,
                       int64_t n, float* out) {
  const int64_t u = active_rows(count, n, "sketch_query_rows");
  check_ids(s, ids, u, "sketch_query_rows");
  const int64_t d = s.dim;
#pragma omp parallel for num_threads(be.threads()) schedule(static) if (u * d >= (1 << 14))
  for (int64_t p = 0; p < u; ++p) {
    const SketchRow sr = sketch_row(s, ids ? ids[p] : p);
    for (int64_t c = 0; c < d; ++c) out[p * d + c] = sketch_row_value(s, sr, c);
  }
}

void scale_inplace(Backend& be, float* x, int64_t n, float alpha) {
#pragma omp parallel for num_threads(be.threads()) schedule(static) if (n >= (1 << 16))
  for (int64_t i = 0; i < n; ++i) x[i] *= alpha;
}

}  // namespace cpu
}  // namespace sg
