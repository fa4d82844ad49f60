// Host unique log-uniform sampler (see log_uniform.h).
#include "layers/log_uniform.h"

#include <algorithm>

#include "engine/check.h"

namespace sg {

LogUniformSampler::LogUniformSampler(int64_t vocab) : vocab_(vocab) {
  SG_CHECK(vocab > 0, "log-uniform sampler: vocabulary size must be positive, got ", vocab);
  mark_.assign(static_cast<size_t>(vocab), 0u);
}

int64_t LogUniformSampler::sample_unique(int64_t count, uint64_t seed, uint64_t stream,
                                         int32_t* ids) {
  SG_CHECK(count >= 0 && count <= vocab_, "log-uniform sampler: cannot draw ", count,
           " distinct ids from ", vocab_);
  if (++generation_ == 0) {  // wrapped: forget every old mark
    std::fill(mark_.begin(), mark_.end(), 0u);
    generation_ = 1;
  }
  int64_t got = 0, tries = 0;
  while (got < count) {
    const int64_t k = log_uniform_draw(seed, stream, static_cast<uint64_t>(tries), vocab_);
    ++tries;
    if (mark_[k] == generation_) continue;
    mark_[k] = generation_;
    ids[got++] = static_cast<int32_t>(k);
  }
  return tries;
}

}  // namespace sg
