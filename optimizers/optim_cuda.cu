// CUDA optimizer kernels (see optim_kernels.h), all on the backend's stream, no allocation, no host
// synchronisation (counts, clip scales and top-k thresholds stay on the device).
//   grad_sum_squares: kNormPartials blocks, each a fixed chunk, fixed shared-memory tree (double).
//   ef top-k: four histogram rounds (integer atomics: exact) each followed by a one-thread digit
//   choice.
#include "engine/cuda/cuda_backend.h"
#include "engine/rng.h"
#include "optimizers/optim_kernels.h"
#include "optimizers/rule_math.h"

namespace sg::cuda {

namespace {
constexpr int kThreads = 256;

__device__ int64_t valid(const int32_t* count, int64_t n) { return count ? count[0] : n; }

__global__ void sumsq_kernel(const float* g, const int32_t* count, int64_t n, int64_t d,
                             float* partials) {
  __shared__ double sh[kThreads];
  const int64_t total = valid(count, n) * d;
  const int64_t chunk = (total + kNormPartials - 1) / kNormPartials;
  const int64_t lo = min(total, int64_t(blockIdx.x) * chunk), hi = min(total, lo + chunk);
  double s = 0.0;
  for (int64_t i = lo + threadIdx.x; i < hi; i += kThreads) s += double(g[i]) * g[i];
  sh[threadIdx.x] = s;
  __syncthreads();
  for (int off = kThreads / 2; off > 0; off /= 2) {
    if (threadIdx.x < off) sh[threadIdx.x] += sh[threadIdx.x + off];
    __syncthreads();
  }
  if (threadIdx.x == 0) partials[blockIdx.x] = float(sh[0]);
}

__global__ void clip_kernel(const float* partials, int64_t np, float clip, float* out) {
  double s = 0.0;
  for (int64_t i = 0; i < np; ++i) s += partials[i];
  const float norm = float(sqrt(s));
  out[0] = norm;
  out[1] = clip > 0.f ? clip / fmaxf(norm, clip) : 1.f;
}

__global__ void prepare_kernel(float* g, const int32_t* ids, const int32_t* count, int64_t n,
                               int64_t d, const float* gscale, float l2, const float* w) {
  const int64_t u = valid(count, n), total = n * d;
  const float s = gscale ? gscale[0] : 1.f;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total;
       e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t p = e / d;
    if (p >= u) continue;
    const int64_t row = ids ? ids[p] : p;
    g[e] = l2 != 0.f ? s * g[e] + l2 * w[row * d + e % d] : s * g[e];
  }
}

template <RuleKind K>
__global__ void apply_kernel(RuleParams r, float* w, const int32_t* ids, const int32_t* count,
                             int64_t n, int64_t d, const float* g, StoreView m, StoreView v) {
  const int64_t u = valid(count, n), total = n * d;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total;
       e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t p = e / d, c = e % d;
    if (p >= u) continue;
    const int64_t row = ids ? ids[p] : p;
    if (row < 0) continue;
    MomentRows mr;
    moment_rows(m, v, row, &mr);
    float* wp = w + row * d + c;
    *wp = apply_element<K>(r, *wp, g[e], m, v, mr, row, c);
  }
}

__global__ void sm3_col_kernel(const float* g, int64_t rows, int64_t cols, const float* row_acc,
                               const float* col_acc, float* col_tmp) {
  for (int64_t c = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; c < cols;
       c += int64_t(gridDim.x) * blockDim.x) {
    float mx = 0.f;
    const float cc = col_acc[c];
    for (int64_t i = 0; i < rows; ++i) {
      const float gv = g[i * cols + c];
      mx = fmaxf(mx, fminf(row_acc[i], cc) + gv * gv);
    }
    col_tmp[c] = mx;
  }
}

// One block per row: update the weights, block max of nu into the row accumulator.
__global__ void sm3_row_kernel(float lr, float eps, float* w, const int32_t* ids,
                               const int32_t* count, int64_t n, int64_t d, const float* g,
                               float* row_acc, const float* col_acc, float* u) {
  __shared__ float sh[kThreads];
  const int64_t p = blockIdx.x;
  if (p >= valid(count, n)) return;
  const int64_t i = ids ? ids[p] : p;
  if (i < 0) return;
  const float ri = row_acc[i];
  float mx = 0.f;
  for (int64_t c = threadIdx.x; c < d; c += kThreads) {
    const float gv = g[p * d + c];
    const float nu = (col_acc ? fminf(ri, col_acc[c]) : ri) + gv * gv;
    if (u) {
      u[p * d + c] = gv / (sqrtf(nu) + eps);
    } else {
      float* wp = w + i * d + c;
      *wp = *wp - lr * gv / (sqrtf(nu) + eps);
    }
    mx = fmaxf(mx, nu);
  }
  sh[threadIdx.x] = mx;
  __syncthreads();
  for (int off = kThreads / 2; off > 0; off /= 2) {
    if (threadIdx.x < off) sh[threadIdx.x] = fmaxf(sh[threadIdx.x], sh[threadIdx.x + off]);
    __syncthreads();
  }
  if (threadIdx.x == 0) row_acc[i] = sh[0];
}

__device__ uint32_t abs_bits(float x) { return __float_as_uint(x) & 0x7fffffffu; }

__global__ void ef_accumulate_kernel(float* e, const float* g, int64_t n, float lr) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x)
    e[i] = e[i] + lr * g[i];
}

// state: [0] prefix, [1] mask, [2..3] remaining (int64); hist: 256 unsigned long long.
__global__ void ef_init_kernel(uint32_t* state, unsigned long long* hist, int64_t k) {
  state[0] = 0;
  state[1] = 0;
  *reinterpret_cast<int64_t*>(state + 2) = k < 1 ? 1 : k;
  for (int t = 0; t < 256; ++t) hist[t] = 0;
}

__global__ void ef_hist_kernel(const float* e, int64_t n, int shift, const uint32_t* state,
                               unsigned long long* hist) {
  const uint32_t prefix = state[0], mask = state[1];
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    const uint32_t b = abs_bits(e[i]);
    if ((b & mask) == prefix) atomicAdd(&hist[(b >> shift) & 255u], 1ull);
  }
}

__global__ void ef_choose_kernel(int shift, uint32_t* state, unsigned long long* hist) {
  int64_t& remaining = *reinterpret_cast<int64_t*>(state + 2);
  int64_t cum = 0;
  for (int t = 255; t >= 0; --t) {
    const int64_t h = int64_t(hist[t]);
    if (cum + h >= remaining) {
      remaining -= cum;
      state[0] |= uint32_t(t) << shift;
      state[1] |= 255u << shift;
      break;
    }
    cum += h;
  }
  for (int t = 0; t < 256; ++t) hist[t] = 0;
}

__global__ void ef_apply_kernel(RuleKind rule, float* w, float* e, int64_t n, const uint32_t* state,
                                bool all, float prob, uint64_t seed, int64_t step) {
  const uint32_t threshold = all ? 0u : state[0];
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    const bool keep = rule == RuleKind::RandK ? rng_uniform(seed, uint64_t(step), i) < prob
                                              : abs_bits(e[i]) >= threshold;
    if (keep) {
      w[i] = w[i] - e[i];
      e[i] = 0.f;
    } else if (rule == RuleKind::TopKNoFeedback) {
      e[i] = 0.f;
    }
  }
}
}  // namespace

void grad_sum_squares(Backend& be, const float* g, const int32_t* count, int64_t n, int64_t d,
                      float* partials) {
  sumsq_kernel<<<kNormPartials, kThreads, 0, as_cuda(be).stream()>>>(g, count, n, d, partials);
  SG_CUDA(cudaGetLastError());
}

void grad_clip_scale(Backend& be, const float* partials, int64_t np, float clip, float* out) {
  clip_kernel<<<1, 1, 0, as_cuda(be).stream()>>>(partials, np, clip, out);
  SG_CUDA(cudaGetLastError());
}

void prepare_grad(Backend& be, float* g, const int32_t* ids, const int32_t* count, int64_t n,
                  int64_t d, const float* gscale, float l2, const float* w) {
  if (n * d <= 0) return;
  prepare_kernel<<<grid_for(n * d), kThreads, 0, as_cuda(be).stream()>>>(g, ids, count, n, d,
                                                                         gscale, l2, w);
  SG_CUDA(cudaGetLastError());
}

void apply_rule(Backend& be, RuleParams r, float* w, const int32_t* ids, const int32_t* count,
                int64_t n, int64_t d, const float* g, StoreView m, StoreView v) {
  if (n * d <= 0) return;
  with_rule(r.rule, [&](auto tag) {
    apply_kernel<decltype(tag)::value>
        <<<grid_for(n * d), kThreads, 0, as_cuda(be).stream()>>>(r, w, ids, count, n, d, g, m, v);
  });
  SG_CUDA(cudaGetLastError());
}

void sm3_dense_step(Backend& be, float lr, float eps, float* w, const float* g, int64_t rows,
                    int64_t cols, float* row_acc, float* col_acc, float* col_tmp, float* u) {
  if (rows * cols <= 0) return;
  cudaStream_t st = as_cuda(be).stream();
  sm3_col_kernel<<<grid_for(cols), kThreads, 0, st>>>(g, rows, cols, row_acc, col_acc, col_tmp);
  sm3_row_kernel<<<static_cast<unsigned>(rows), kThreads, 0, st>>>(
      lr, eps, w, nullptr, nullptr, rows, cols, g, row_acc, col_acc, u);
  SG_CUDA(cudaMemcpyAsync(col_acc, col_tmp, cols * sizeof(float), cudaMemcpyDeviceToDevice, st));
  SG_CUDA(cudaGetLastError());
}

void sm3_rows_step(Backend& be, float lr, float eps, float* w, const int32_t* ids,
                   const int32_t* count, int64_t n, int64_t d, const float* g, float* row_acc,
                   float* u) {
  if (n * d <= 0) return;
  sm3_row_kernel<<<static_cast<unsigned>(n), kThreads, 0, as_cuda(be).stream()>>>(
      lr, eps, w, ids, count, n, d, g, row_acc, nullptr, u);
  SG_CUDA(cudaGetLastError());
}

void ef_sparsified_step(Backend& be, RuleKind rule, float lr, float* w, const float* g, float* e,
                        int64_t n, int64_t k, float prob, uint64_t seed, int64_t step,
                        void* workspace, size_t workspace_bytes) {
  SG_CHECK(workspace_bytes >= ef_workspace_bytes(), "ef_sparsified_step: workspace too small");
  SG_CHECK(rule == RuleKind::TopK || rule == RuleKind::RandK || rule == RuleKind::TopKNoFeedback,
           "ef_sparsified_step: rule ", rule_name(rule), " is not a sparsified rule");
  if (n <= 0) return;
  cudaStream_t st = as_cuda(be).stream();
  auto* hist = static_cast<unsigned long long*>(workspace);
  auto* state = reinterpret_cast<uint32_t*>(static_cast<char*>(workspace) + 256 * 8);
  ef_accumulate_kernel<<<grid_for(n), kThreads, 0, st>>>(e, g, n, lr);
  const bool all = rule == RuleKind::RandK || k >= n;
  if (!all) {
    ef_init_kernel<<<1, 1, 0, st>>>(state, hist, k);
    for (int shift = 24; shift >= 0; shift -= 8) {
      ef_hist_kernel<<<grid_for(n), kThreads, 0, st>>>(e, n, shift, state, hist);
      ef_choose_kernel<<<1, 1, 0, st>>>(shift, state, hist);
    }
  }
  ef_apply_kernel<<<grid_for(n), kThreads, 0, st>>>(rule, w, e, n, state, all, prob, seed, step);
  SG_CUDA(cudaGetLastError());
}

}  // namespace sg::cuda
