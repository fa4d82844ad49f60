// CPU dropout (see dropout_kernels.h): y = x * keep / (1 - p), keep drawn from engine/rng.h per
// element.
#include "engine/kernels/dropout_kernels.h"
#include "engine/rng.h"

namespace sg::cpu {

namespace {
void apply_mask(Backend& be, const float* x, float* y, int64_t n, float p, uint64_t seed,
                uint64_t stream) {
  SG_CHECK(p >= 0.0f && p < 1.0f, "dropout probability ", p, " must be in [0, 1)");
  const float scale = 1.0f / (1.0f - p);
#pragma omp parallel for num_threads(be.threads()) schedule(static) if (n >= (1 << 14))
  for (int64_t i = 0; i < n; ++i)
    y[i] = rng_uniform(seed, stream, static_cast<uint64_t>(i)) >= p ? x[i] * scale : 0.0f;
}
}  // namespace

void dropout_forward(Backend& be, const float* x, float* y, int64_t n, float p, uint64_t seed,
                     uint64_t stream) {
  apply_mask(be, x, y, n, p, seed, stream);
}

void dropout_backward(Backend& be, const float* dy, float* dx, int64_t n, float p, uint64_t seed,
                      uint64_t stream) {
  apply_mask(be, dy, dx, n, p, seed, stream);
}

}  // namespace sg::cpu
