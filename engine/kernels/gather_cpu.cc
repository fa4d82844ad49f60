// CPU gather rows and deterministic row-sparse scatter-add (see gather_kernels.h).
#include <algorithm>
#include <cstring>

#include "engine/kernels/gather_kernels.h"

namespace sg {

size_t scatter_add_workspace_bytes(int64_t n, int64_t dim) {
  auto align = [](size_t b) { return (b + 255) / 256 * 256; };
  size_t p2 = 1;
  while (static_cast<int64_t>(p2) < n) p2 *= 2;
  return align(p2 * sizeof(uint64_t)) + align(static_cast<size_t>(n + 1) * sizeof(int32_t));
}

namespace cpu {

namespace {
void check_ids(const int32_t* ids, int64_t n, int64_t rows, const char* what) {
  for (int64_t i = 0; i < n; ++i)
    SG_CHECK(ids[i] >= 0 && ids[i] < rows, what, ": id ", ids[i], " at position ", i,
             " is out of range [0, ", rows, ")");
}
}  // namespace

void gather_rows(Backend& be, const float* table, int64_t rows, int64_t dim, const int32_t* ids,
                 int64_t n, float* out) {
  check_ids(ids, n, rows, "gather");
#pragma omp parallel for num_threads(be.threads()) schedule(static) if (n * dim >= (1 << 14))
  for (int64_t i = 0; i < n; ++i)
    std::memcpy(out + i * dim, table + static_cast<int64_t>(ids[i]) * dim,
                static_cast<size_t>(dim) * sizeof(float));
}

void scatter_add_rows(Backend& be, const int32_t* ids, const float* grad, int64_t n, int64_t dim,
                      int64_t rows, int32_t* out_ids, float* out_rows, int32_t* out_count,
                      void* workspace, size_t workspace_bytes) {
  SG_CHECK(workspace_bytes >= scatter_add_workspace_bytes(n, dim),
           "scatter_add_rows: workspace of ", workspace_bytes, " bytes, needs ",
           scatter_add_workspace_bytes(n, dim));
  check_ids(ids, n, rows, "scatter_add_rows");
  auto* keys = static_cast<uint64_t*>(workspace);
  size_t p2 = 1;
  while (static_cast<int64_t>(p2) < n) p2 *= 2;
  auto* seg_start = reinterpret_cast<int32_t*>(static_cast<char*>(workspace) +
                                               (p2 * sizeof(uint64_t) + 255) / 256 * 256);

  for (int64_t i = 0; i < n; ++i)
    keys[i] =
        (static_cast<uint64_t>(static_cast<uint32_t>(ids[i])) << 32) | static_cast<uint64_t>(i);
  std::sort(keys, keys + n);  // keys are unique: equivalent to a stable sort of positions by id

  int64_t u = 0;
  for (int64_t i = 0; i < n; ++i) {
    int32_t id = static_cast<int32_t>(keys[i] >> 32);
    if (i == 0 || id != static_cast<int32_t>(keys[i - 1] >> 32)) {
      out_ids[u] = id;
      seg_start[u] = static_cast<int32_t>(i);
      ++u;
    }
  }
  seg_start[u] = static_cast<int32_t>(n);
  out_count[0] = static_cast<int32_t>(u);

#pragma omp parallel for num_threads(be.threads()) schedule(static) if (n * dim >= (1 << 14))
  for (int64_t s = 0; s < n; ++s) {
    float* dst = out_rows + s * dim;
    std::memset(dst, 0, static_cast<size_t>(dim) * sizeof(float));
    if (s >= u) {
      out_ids[s] = -1;
      continue;
    }
    for (int32_t p = seg_start[s]; p < seg_start[s + 1]; ++p) {
      const float* src = grad + static_cast<int64_t>(keys[p] & 0xffffffffu) * dim;
      for (int64_t c = 0; c < dim; ++c) dst[c] += src[c];
    }
  }
}

void densify_rows(Backend& be, const int32_t* ids, const float* rows_in, const int32_t* count,
                  int64_t n, int64_t dim, float* dense, int64_t rows) {
  std::memset(dense, 0, static_cast<size_t>(rows * dim) * sizeof(float));
  const int64_t u = count[0];
  SG_CHECK(u >= 0 && u <= n, "densify_rows: count ", u, " out of range [0, ", n, "]");
  for (int64_t s = 0; s < u; ++s) {
    SG_CHECK(ids[s] >= 0 && ids[s] < rows, "densify_rows: id ", ids[s], " out of range [0, ", rows,
             ")");
    float* dst = dense + static_cast<int64_t>(ids[s]) * dim;
    for (int64_t c = 0; c < dim; ++c) dst[c] += rows_in[s * dim + c];
  }
}

}  // namespace cpu
}  // namespace sg
