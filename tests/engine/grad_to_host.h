// Test helper: a parameter's gradient as a dense host vector of numel floats. A dense gradient is
// read as is; a row-sparse one (ids ascending, rows [n, d], count) is scattered into rows x d,
// and its ids are checked to be strictly ascending (a gtest failure otherwise).
#pragma once
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "engine/executor.h"
#include "engine/graph.h"

namespace sg::testing {

inline std::vector<float> grad_to_host(Executor& ex, const Graph& g, const Grad& gr,
                                       int64_t numel) {
  if (!gr.is_sparse()) return ex.read_f32(gr.dense);
  std::vector<float> out(static_cast<size_t>(numel), 0.0f);
  const Shape rs = g.value(gr.sparse.rows).shape;
  const int64_t d = rs[1];
  std::vector<int32_t> ids(static_cast<size_t>(rs[0])), count(1);
  ex.download(gr.sparse.ids, ids.data(), ids.size() * sizeof(int32_t));
  ex.download(gr.sparse.count, count.data(), sizeof(int32_t));
  const std::vector<float> rows = ex.read_f32(gr.sparse.rows);
  for (int32_t s = 0; s < count[0]; ++s) {
    EXPECT_TRUE(s == 0 || ids[s] > ids[s - 1]) << "sparse ids not strictly ascending at " << s;
    for (int64_t c = 0; c < d; ++c) out[ids[s] * d + c] += rows[s * d + c];
  }
  return out;
}

}  // namespace sg::testing
