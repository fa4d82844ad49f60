// FixedBlocks: n items cut into a number of blocks that depends on n alone (edges on multiples of
// 16), shared out over however many threads there are. Work done per block, such as one sequential
// OpenBLAS call, then has the same shapes at any thread count; OpenBLAS's value for an element
// depends on the shape of the call it is in, so this is what makes CPU results bitwise independent
// of --threads.
//   count = clamp(n / min_width, 1, max_count); block b = [edge(b), edge(b + 1)),
//   edge(b) = min(n, roundup16(n * b / count)); thread p of parts owns blocks
//   [count * p / parts, count * (p + 1) / parts).
#pragma once
#include <algorithm>
#include <cstdint>

namespace sg::cpu {

struct FixedBlocks {
  int64_t n = 0, count = 1;
  FixedBlocks(int64_t items, int64_t min_width, int64_t max_count)
      : n(items),
        count(std::clamp<int64_t>(items / std::max<int64_t>(min_width, 1), 1,
                                  std::max<int64_t>(max_count, 1))) {}
  int64_t edge(int64_t b) const { return std::min(n, (n * b / count + 15) / 16 * 16); }
  int64_t first(int p, int parts) const { return count * p / parts; }
};

}  // namespace sg::cpu
