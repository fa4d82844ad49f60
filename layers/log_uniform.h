// Log-uniform (Zipf) candidate sampling over frequency-sorted ids, as TensorFlow's
// log_uniform_candidate_sampler defines it:
//   P(k) = (log(k+2) - log(k+1)) / log(V+1)          k in [0, V)
//   draw: k = floor(exp(u * log(V+1))) - 1, u uniform in [0, 1) (engine/rng.h, 53-bit double)
//   expected count after `tries` draws (unique sampling): Q(k) = 1 - (1 - P(k))^tries
// The SG_HD functions are shared by the CPU and CUDA kernels (log_uniform_kernels.inc and the
// sampled softmax), so both compute the same values.
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "engine/check.h"
#include "engine/rng.h"

namespace sg {

SG_HD double log_uniform_prob(int64_t k, int64_t vocab) {
  return log1p(1.0 / (static_cast<double>(k) + 1.0)) / log(static_cast<double>(vocab) + 1.0);
}

// log Q(k) for `tries` draws, computed stably: Q = -expm1(tries * log1p(-P)).
SG_HD float log_expected_count(int64_t k, int64_t vocab, int64_t tries) {
  const double p = log_uniform_prob(k, vocab);
  return static_cast<float>(log(-expm1(static_cast<double>(tries) * log1p(-p))));
}

// The index-th draw of a stream (with replacement).
SG_HD int64_t log_uniform_draw(uint64_t seed, uint64_t stream, uint64_t index, int64_t vocab) {
  const double u = rng_uniform_double(seed, stream, index);
  int64_t k = static_cast<int64_t>(exp(u * log(static_cast<double>(vocab) + 1.0))) - 1;
  if (k < 0) k = 0;
  if (k >= vocab) k = vocab - 1;
  return k;
}

// Workspace of sample_log_uniform_unique (layers/log_uniform_kernels.inc): one int32 per id (the
// CUDA kernel's first-draw index; the CPU kernel uses it as a seen flag).
// Draws sample_log_uniform_unique may take (0x7F7F7F7F: the CUDA kernel's "not drawn yet" mark,
// a byte memset, must stay larger than every draw index).
constexpr int64_t kMaxLogUniformDraws = 0x7F7F7F7F;

inline size_t log_uniform_unique_workspace_bytes(int64_t vocab) {
  return static_cast<size_t>(vocab) * sizeof(int32_t);
}

// Argument checks shared by both kernels: one sg::Error line for a bad vocabulary size, count or
// workspace.
inline void check_log_uniform_unique_args(int64_t count, int64_t vocab, size_t workspace_bytes) {
  SG_CHECK(vocab >= 1 && vocab <= std::numeric_limits<int32_t>::max(),
           "log-uniform sampler: vocabulary size must be in [1, 2^31), got ", vocab);
  SG_CHECK(count >= 1 && count <= vocab, "log-uniform sampler: cannot draw ", count,
           " distinct ids from ", vocab);
  SG_CHECK(workspace_bytes >= log_uniform_unique_workspace_bytes(vocab),
           "log-uniform sampler: workspace of ", workspace_bytes, " bytes, needs ",
           log_uniform_unique_workspace_bytes(vocab));
}

}  // namespace sg
