// Row hashes of the row sketches (DESIGN 3.4), identical on CPU and CUDA (SG_HD).
//
//   fmix32(x)     MurmurHash3's 32-bit finaliser (a bijection on uint32)
//   bucket_j(i) = fmix32(a_j * i + b_j) mod width                (uint32 arithmetic, wrapping)
//   sign_j(i)   = +1 if fmix32((a_j + 2) * i + (b_j + 3)) is odd, else -1
//
// Seeds: pair j of a store with salt s is a_j = lo32(mix64(0x736b65746368 + 1000 * s + j)) | 1
// (odd), b_j = hi32(of the same). Salt 0 is the fixed default that every store uses (documented and
// saved in checkpoints as "<param>/<moment>.hash", i32 [depth, 2]); other salts are for tests
// across seeds. `identity` (tests only) maps bucket_j(i) = i mod width (injective when width >=
// rows); signs stay hashed so the Count-Sketch sign path is still exercised.
#pragma once
#include <cstdint>

#include "engine/rng.h"

namespace sg {

constexpr int kMaxSketchDepth = 8;

SG_HD uint32_t fmix32(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

struct SketchHash {
  int depth = 1;
  uint32_t width = 1;
  bool identity = false;
  uint32_t a[kMaxSketchDepth] = {};
  uint32_t b[kMaxSketchDepth] = {};

  SG_HD uint32_t bucket(int j, uint32_t i) const {
    return identity ? i % width : fmix32(a[j] * i + b[j]) % width;
  }
  SG_HD float sign(int j, uint32_t i) const {
    return (fmix32((a[j] + 2u) * i + (b[j] + 3u)) & 1u) ? 1.0f : -1.0f;
  }
};

// True when two hashes put every row in the same buckets with the same signs (same depth, width,
// identity flag and seeds): two such sketches can share one sort of (bucket, row) keys.
inline bool same_buckets(const SketchHash& x, const SketchHash& y) {
  if (x.depth != y.depth || x.width != y.width || x.identity != y.identity) return false;
  for (int j = 0; j < x.depth && j < kMaxSketchDepth; ++j)
    if (x.a[j] != y.a[j] || x.b[j] != y.b[j]) return false;
  return true;
}

// The fixed seeds described above.
inline SketchHash make_sketch_hash(int depth, uint32_t width, uint64_t salt = 0,
                                   bool identity = false) {
  SketchHash h;
  h.depth = depth;
  h.width = width;
  h.identity = identity;
  for (int j = 0; j < depth && j < kMaxSketchDepth; ++j) {
    const uint64_t r = mix64(0x736b65746368ull + 1000ull * salt + static_cast<uint64_t>(j));
    h.a[j] = static_cast<uint32_t>(r) | 1u;
    h.b[j] = static_cast<uint32_t>(r >> 32);
  }
  return h;
}

}  // namespace sg
