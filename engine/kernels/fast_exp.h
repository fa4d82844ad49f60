// Branch-free float e^x for x <= 0, written so that GCC vectorises it inside `#pragma omp simd`
// loops (no libm call): Cephes-style range reduction x = n ln2 + r (|r| <= ln2/2) and a degree-6
// polynomial, ~2 ulp. Shared by the softmax cross-entropy (engine/kernels/softmax_xent_cpu.cc) and
// the LSTM gate maths (layers/lstm_math.h).
#pragma once
#include <cstdint>
#include <cstring>

namespace sg::fastmath {

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
  // A NaN x (a diverged step) stays NaN through p; its exponent is taken as 0, since converting a
  // NaN to int and shifting the negative result are undefined behaviour.
  const float n = fn == fn ? fn : 0.0f;
  const uint32_t bits = static_cast<uint32_t>(static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return underflow ? 0.0f : p * scale;
}

}  // namespace sg::fastmath
