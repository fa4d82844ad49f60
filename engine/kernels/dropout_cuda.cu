// CUDA dropout (see dropout_kernels.h): the same per-element counter-based mask as the CPU version.
#include "engine/cuda/cuda_backend.h"
#include "engine/kernels/dropout_kernels.h"
#include "engine/rng.h"

namespace sg::cuda {

namespace {
__global__ void mask_kernel(const float* x, float* y, int64_t n, float p, float scale,
                            uint64_t seed, uint64_t stream) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x)
    y[i] = rng_uniform(seed, stream, static_cast<uint64_t>(i)) >= p ? x[i] * scale : 0.0f;
}

void apply_mask(Backend& be, const float* x, float* y, int64_t n, float p, uint64_t seed,
                uint64_t stream) {
  SG_CHECK(p >= 0.0f && p < 1.0f, "dropout probability ", p, " must be in [0, 1)");
  if (n <= 0) return;
  mask_kernel<<<grid_for(n), 256, 0, as_cuda(be).stream()>>>(x, y, n, p, 1.0f / (1.0f - p), seed,
                                                             stream);
  SG_CUDA(cudaGetLastError());
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

}  // namespace sg::cuda
