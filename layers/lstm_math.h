// Branch-free float sigmoid and tanh for the CPU LSTM gate kernels, written so that GCC vectorises
// them inside `#pragma omp simd` loops (no libm calls). exp uses Cephes-style range reduction
// (x = n ln2 + r, |r| <= ln2/2) and a degree-6 polynomial: ~2 ulp. sigmoid and tanh are computed
// from exp(-|x|) so nothing overflows; tanh uses its odd Taylor series for |x| < 1/16, where
// (1 - e)/(1 + e) would cancel. Absolute errors are below 1e-7.
#pragma once
#include <cstdint>
#include <cstring>

#include "engine/kernels/fast_exp.h"

namespace sg::lstm_math {

using fastmath::exp_nonpos;

inline float sigmoid(float x) {
  const float ax = x < 0.0f ? -x : x;
  const float e = exp_nonpos(-ax);
  const float s = 1.0f / (1.0f + e);
  return x >= 0.0f ? s : e * s;
}

inline float tanh(float x) {
  const float ax = x < 0.0f ? -x : x;
  const float e = exp_nonpos(-2.0f * ax);
  const float big = (1.0f - e) / (1.0f + e);
  const float x2 = ax * ax;
  const float small =
      ax * (1.0f + x2 * (-1.0f / 3.0f + x2 * (2.0f / 15.0f + x2 * (-17.0f / 315.0f))));
  const float t = ax < 0.0625f ? small : big;
  return x < 0.0f ? -t : t;
}

}  // namespace sg::lstm_math
