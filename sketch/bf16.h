// bfloat16 storage for dense optimizer moments (store kind Bf16, policy "m:bf16" / "v:bf16"): the
// top 16 bits of an fp32 (sign, 8-bit exponent, 7-bit mantissa), so the range is fp32's and the
// precision 2^-8. Written with stochastic rounding: r uniform in [0, 2^16) is added to the fp32
// bits before the low 16 are dropped, so a value rounds up with probability (its low 16 bits) /
// 2^16 and E[bf16_to_float(bf16_round(x, r))] = x over r. Round-to-nearest would freeze an EMA such
// as Adam's v <- 0.999 v + 0.001 g^2 (a 0.1 % step is below half a bf16 ulp); in expectation the
// stochastic one follows it. NaN stays NaN, +-inf stay inf. Shared by the CPU and CUDA kernels
// (SG_HD).
#pragma once
#include <cstdint>
#include <cstring>

#include "engine/rng.h"
#include "sketch/hash.h"

namespace sg {

SG_HD float bf16_to_float(uint16_t h) {
  const uint32_t b = static_cast<uint32_t>(h) << 16;
  float x;
  memcpy(&x, &b, sizeof x);
  return x;
}

// r: 16 random bits (the low 16 of any uniform word are used).
SG_HD uint16_t bf16_round(float x, uint32_t r) {
  uint32_t b;
  memcpy(&b, &x, sizeof b);
  // inf or NaN: truncate, keeping a NaN a NaN. Selects, not branches, so loops over it vectorise.
  const bool special = (b & 0x7f800000u) == 0x7f800000u;
  const uint32_t truncated = (b >> 16) | ((b & 0x007fffffu) != 0u ? 0x0040u : 0u);
  const uint32_t rounded = (b + (r & 0xffffu)) >> 16;
  return static_cast<uint16_t>(special ? truncated : rounded);
}

// The random bits for element `index` of a store at optimizer step `step` (counter-based, the same
// on every device and for any thread count, so runs and resumes are reproducible): a per-step key
// from the 64-bit mixer, then per element MurmurHash3's 32-bit finaliser of key + index * golden
// (three 32-bit multiplies, which vectorise; 16 of its bits are used).
SG_HD uint32_t bf16_step_key(uint64_t seed, int64_t step) {
  return static_cast<uint32_t>(mix64(seed ^ (static_cast<uint64_t>(step) * 0x9e3779b97f4a7c15ull)));
}
SG_HD uint32_t bf16_element_bits(uint32_t key, int64_t index) {
  return fmix32(key + static_cast<uint32_t>(index) * 0x9e3779b9u);
}
SG_HD uint32_t bf16_round_bits(uint64_t seed, int64_t step, int64_t index) {
  return bf16_element_bits(bf16_step_key(seed, step), index);
}

}  // namespace sg
