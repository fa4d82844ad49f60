// Counter-based random numbers, identical on CPU and CUDA: every draw is a pure function of (seed,
// stream, index), so dropout masks and samples do not depend on the device, thread count or launch
// geometry.
//   mix64(x)       : SplitMix64 finaliser (a bijection on 64-bit integers)
//   rng_u64(s,t,i) : mix64(mix64(seed ^ stream * phi) + index)
//   rng_uniform    : top 24 bits of rng_u64 mapped to [0, 1)
#pragma once
#include <cstdint>

#if defined(__CUDACC__)
#define SG_HD __host__ __device__ __forceinline__
#else
#define SG_HD inline
#endif

namespace sg {

SG_HD uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

SG_HD uint64_t rng_u64(uint64_t seed, uint64_t stream, uint64_t index) {
  return mix64(mix64(seed ^ (stream * 0x9e3779b97f4a7c15ULL)) + index);
}

// Uniform float in [0, 1) with 24 random bits.
SG_HD float rng_uniform(uint64_t seed, uint64_t stream, uint64_t index) {
  return static_cast<float>(rng_u64(seed, stream, index) >> 40) * (1.0f / 16777216.0f);
}

// Uniform double in [0, 1) with 53 random bits.
SG_HD double rng_uniform_double(uint64_t seed, uint64_t stream, uint64_t index) {
  return static_cast<double>(rng_u64(seed, stream, index) >> 11) * (1.0 / 9007199254740992.0);
}

}  // namespace sg
