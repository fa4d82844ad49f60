// CPU unique log-uniform sampling (see log_uniform_kernels.inc): draws one at a time, a byte flag
// per id in the workspace marks the ids already seen.
#include <cstring>
#include <limits>

#include "engine/check.h"
#include "layers/log_uniform.h"
#include "layers/log_uniform_kernels.h"

namespace sg::cpu {

void sample_log_uniform_unique(Backend&, int64_t count, int64_t vocab, uint64_t seed,
                               uint64_t stream, int32_t* ids, float* logq, int32_t* tries,
                               void* workspace, size_t workspace_bytes) {
  check_log_uniform_unique_args(count, vocab, workspace_bytes);
  auto* seen = static_cast<unsigned char*>(workspace);
  std::memset(seen, 0, static_cast<size_t>(vocab));
  int64_t got = 0, t = 0;
  while (got < count) {
    SG_CHECK(t < kMaxLogUniformDraws, "log-uniform sampler: ", count, " distinct ids of ", vocab,
             " need more than ", kMaxLogUniformDraws, " draws");
    const int64_t k = log_uniform_draw(seed, stream, static_cast<uint64_t>(t), vocab);
    ++t;
    if (seen[k]) continue;
    seen[k] = 1;
    ids[got++] = static_cast<int32_t>(k);
  }
  tries[0] = static_cast<int32_t>(t);
  for (int64_t p = 0; p < count; ++p) logq[p] = log_expected_count(ids[p], vocab, t);
}

}  // namespace sg::cpu
