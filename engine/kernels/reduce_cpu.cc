// CPU reductions (see reduce_kernels.h for the fixed summation order). No allocation: the chunk
// sums of one pass live in a fixed stack array; longer inputs are summed chunk-group by
// chunk-group, where a group of kMaxChunks chunk sums is tree-reduced and group sums are added left
// to right.
#include <algorithm>

#include "engine/kernels/reduce_kernels.h"

namespace sg::cpu {

namespace {
constexpr int kMaxChunks = 256;

// Pairwise tree over v[0..count): v[i] += v[i + stride] for stride = 1, 2, 4, ... (fixed order).
double tree_sum(double* v, int count) {
  for (int stride = 1; stride < count; stride *= 2)
    for (int i = 0; i + stride < count; i += 2 * stride) v[i] += v[i + stride];
  return count > 0 ? v[0] : 0.0;
}
}  // namespace

void sum_all(Backend& be, const float* x, int64_t n, float scale, float* out) {
  const int64_t chunks = (n + kSumChunk - 1) / kSumChunk;
  double total = 0.0;
  double part[kMaxChunks];
  for (int64_t g0 = 0; g0 < chunks; g0 += kMaxChunks) {
    const int count = static_cast<int>(std::min<int64_t>(kMaxChunks, chunks - g0));
#pragma omp parallel for num_threads(be.threads()) schedule(static) if (count > 1)
    for (int c = 0; c < count; ++c) {
      const int64_t begin = (g0 + c) * kSumChunk;
      const int64_t end = std::min(n, begin + kSumChunk);
      double s = 0.0;
      for (int64_t i = begin; i < end; ++i) s += x[i];
      part[c] = s;
    }
    total += tree_sum(part, count);
  }
  out[0] = static_cast<float>(total * scale);
}

void column_sum(Backend& be, const float* x, int64_t rows, int64_t cols, float* y) {
  // Columns are split into blocks of 64 across threads; inside a block rows are added in ascending
  // order, so every y[c] has the same summation order whatever the thread count.
  constexpr int64_t kBlock = 64;
  const int64_t blocks = (cols + kBlock - 1) / kBlock;
#pragma omp parallel for num_threads(be.threads()) schedule(static) if (rows * cols >= (1 << 14))
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t c0 = b * kBlock, c1 = std::min(cols, c0 + kBlock);
    float acc[kBlock] = {};
    for (int64_t r = 0; r < rows; ++r) {
      const float* xr = x + r * cols;
      for (int64_t c = c0; c < c1; ++c) acc[c - c0] += xr[c];
    }
    for (int64_t c = c0; c < c1; ++c) y[c] = acc[c - c0];
  }
}

}  // namespace sg::cpu
