// CUDA element-wise kernels (see elementwise_kernels.inc): grid-stride loops over small functors
// (no extended lambdas needed) on the backend's stream. Each output element depends on its own
// inputs only, so results do not depend on the launch geometry.
#include "engine/cuda/cuda_backend.h"
#include "engine/kernels/elementwise_kernels.h"

namespace sg::cuda {

namespace {

template <typename F>
__global__ void map_kernel(int64_t n, F f) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x)
    f(i);
}

template <typename F>
void launch(Backend& be, int64_t n, F f) {
  if (n <= 0) return;
  map_kernel<<<grid_for(n), 256, 0, as_cuda(be).stream()>>>(n, f);
  SG_CUDA(cudaGetLastError());
}

struct FillF {
  float* y;
  float v;
  __device__ void operator()(int64_t i) const { y[i] = v; }
};
struct FillScalarF {
  const float* s;
  float a;
  float* y;
  __device__ void operator()(int64_t i) const { y[i] = a * s[0]; }
};
struct AddF {
  const float *a, *b;
  float* y;
  __device__ void operator()(int64_t i) const { y[i] = a[i] + b[i]; }
};
struct SubF {
  const float *a, *b;
  float* y;
  __device__ void operator()(int64_t i) const { y[i] = a[i] - b[i]; }
};
struct MulF {
  const float *a, *b;
  float* y;
  __device__ void operator()(int64_t i) const { y[i] = a[i] * b[i]; }
};
struct ScaleF {
  const float* x;
  float a;
  float* y;
  __device__ void operator()(int64_t i) const { y[i] = a * x[i]; }
};
struct AxpyF {
  float a;
  const float* x;
  float* y;
  __device__ void operator()(int64_t i) const { y[i] += a * x[i]; }
};
struct SigmoidF {
  const float* x;
  float* y;
  __device__ void operator()(int64_t i) const { y[i] = 1.0f / (1.0f + expf(-x[i])); }
};
struct SigmoidGradF {
  const float *y, *dy;
  float* dx;
  __device__ void operator()(int64_t i) const { dx[i] = dy[i] * y[i] * (1.0f - y[i]); }
};
struct TanhF {
  const float* x;
  float* y;
  __device__ void operator()(int64_t i) const { y[i] = tanhf(x[i]); }
};
struct TanhGradF {
  const float *y, *dy;
  float* dx;
  __device__ void operator()(int64_t i) const { dx[i] = dy[i] * (1.0f - y[i] * y[i]); }
};
struct BiasAddF {
  const float *x, *bias;
  float* y;
  int64_t cols;
  __device__ void operator()(int64_t i) const { y[i] = x[i] + bias[i % cols]; }
};

}  // namespace

void fill(Backend& be, float* y, int64_t n, float value) { launch(be, n, FillF{y, value}); }

void fill_from_scalar(Backend& be, const float* s, float scale, float* y, int64_t n) {
  launch(be, n, FillScalarF{s, scale, y});
}

void copy(Backend& be, const float* x, float* y, int64_t n) {
  if (x == y || n <= 0) return;
  SG_CUDA(cudaMemcpyAsync(y, x, n * sizeof(float), cudaMemcpyDeviceToDevice, as_cuda(be).stream()));
}

void add(Backend& be, const float* a, const float* b, float* y, int64_t n) {
  launch(be, n, AddF{a, b, y});
}
void sub(Backend& be, const float* a, const float* b, float* y, int64_t n) {
  launch(be, n, SubF{a, b, y});
}
void mul(Backend& be, const float* a, const float* b, float* y, int64_t n) {
  launch(be, n, MulF{a, b, y});
}
void scale(Backend& be, const float* x, float alpha, float* y, int64_t n) {
  launch(be, n, ScaleF{x, alpha, y});
}
void axpy(Backend& be, float alpha, const float* x, float* y, int64_t n) {
  launch(be, n, AxpyF{alpha, x, y});
}
void sigmoid_forward(Backend& be, const float* x, float* y, int64_t n) {
  launch(be, n, SigmoidF{x, y});
}
void sigmoid_backward(Backend& be, const float* y, const float* dy, float* dx, int64_t n) {
  launch(be, n, SigmoidGradF{y, dy, dx});
}
void tanh_forward(Backend& be, const float* x, float* y, int64_t n) { launch(be, n, TanhF{x, y}); }
void tanh_backward(Backend& be, const float* y, const float* dy, float* dx, int64_t n) {
  launch(be, n, TanhGradF{y, dy, dx});
}
void bias_add(Backend& be, const float* x, const float* bias, float* y, int64_t rows,
              int64_t cols) {
  launch(be, rows * cols, BiasAddF{x, bias, y, cols});
}

void copy2d(Backend& be, const float* src, int64_t src_ld, float* dst, int64_t dst_ld, int64_t rows,
            int64_t cols) {
  if (rows <= 0 || cols <= 0) return;
  SG_CUDA(cudaMemcpy2DAsync(dst, dst_ld * sizeof(float), src, src_ld * sizeof(float),
                            cols * sizeof(float), rows, cudaMemcpyDeviceToDevice,
                            as_cuda(be).stream()));
}

}  // namespace sg::cuda
