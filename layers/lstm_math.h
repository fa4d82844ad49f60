// Branch-free float sigmoid and tanh for the CPU LSTM gate kernels, written so that GCC vectorises
// them inside `#pragma omp simd` loops (no libm calls). exp uses Cephes-style range reduction
// (x = n ln2 + r, |r| <= ln2/2) and a degree-6 polynomial: ~2 ulp. sigmoid and tanh are computed
// from exp(-|x|) so nothing overflows; tanh uses its odd Taylor series for |x| < 1/16, where
// (1 - e)/(1 + e) would cancel. Absolute errors are below 1e-7.
#pragma once
#include <cstdint>
#include <cstring>

namespace sg::lstm_math {

// e^x for x <= 0; exactly 0 below -87 (where 2^n would leave the normal floats).
inline float exp_nonpos(float x) {
  const bool underflow = x < -87.0f;
  x = underflow ? -87.0f : x;
  const float fn = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;  // round(x / ln 2)
  const float r = (x - fn * 0.693359375f) - fn * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(fn) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return underflow ? 0.0f : p * scale;
}

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
