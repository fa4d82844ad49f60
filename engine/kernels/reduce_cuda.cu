// CUDA reductions (see reduce_kernels.inc). Fixed orders, bitwise reproducible run to run:
//   sum_all:    ONE block of 256 threads; thread t adds x[t], x[t+256], x[t+512], ... (coalesced)
//   in double,
//               then a fixed shared-memory tree combines the 256 partials. For losses and metrics
//               (n up to a few million), not for bandwidth-bound reductions of huge tensors.
//   column_sum: blocks of 32 columns x 16 row lanes; lane r adds rows r, r+16, ... of its column,
//   then a fixed
//               tree over the 16 lanes.
// CPU and CUDA may differ in the last bits (different fixed orders).
#include "engine/cuda/cuda_backend.h"
#include "engine/kernels/reduce_kernels.h"

namespace sg::cuda {

namespace {
constexpr int kThreads = 256;
constexpr int kColTile = 32, kRowLanes = 16;

__global__ void sum_all_kernel(const float* x, int64_t n, float scale, float* out) {
  __shared__ double part[kThreads];
  const int t = threadIdx.x;
  double s = 0.0;
  for (int64_t i = t; i < n; i += kThreads) s += x[i];
  part[t] = s;
  __syncthreads();
  for (int stride = kThreads / 2; stride > 0; stride /= 2) {
    if (t < stride) part[t] += part[t + stride];
    __syncthreads();
  }
  if (t == 0) out[0] = static_cast<float>(part[0] * scale);
}

__global__ void column_sum_kernel(const float* x, int64_t rows, int64_t cols, float* y) {
  __shared__ float part[kRowLanes][kColTile];
  const int64_t c = blockIdx.x * int64_t(kColTile) + threadIdx.x;
  const int lane = threadIdx.y;
  float acc = 0.0f;
  if (c < cols)
    for (int64_t r = lane; r < rows; r += kRowLanes) acc += x[r * cols + c];
  part[lane][threadIdx.x] = acc;
  __syncthreads();
  for (int stride = kRowLanes / 2; stride > 0; stride /= 2) {
    if (lane < stride) part[lane][threadIdx.x] += part[lane + stride][threadIdx.x];
    __syncthreads();
  }
  if (lane == 0 && c < cols) y[c] = part[0][threadIdx.x];
}
}  // namespace

void sum_all(Backend& be, const float* x, int64_t n, float scale, float* out) {
  sum_all_kernel<<<1, kThreads, 0, as_cuda(be).stream()>>>(x, n, scale, out);
  SG_CUDA(cudaGetLastError());
}

void column_sum(Backend& be, const float* x, int64_t rows, int64_t cols, float* y) {
  if (cols <= 0) return;
  dim3 block(kColTile, kRowLanes);
  column_sum_kernel<<<static_cast<int>((cols + kColTile - 1) / kColTile), block, 0,
                      as_cuda(be).stream()>>>(x, rows, cols, y);
  SG_CUDA(cudaGetLastError());
}

}  // namespace sg::cuda
