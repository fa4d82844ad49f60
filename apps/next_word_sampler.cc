// Temperature / top-k / top-p sampling of the next word (see next_word_sampler.h).
#include "apps/next_word_sampler.h"

#include <algorithm>
#include <cmath>

#include "engine/check.h"

namespace sg {

NextWordSampler::NextWordSampler(int64_t vocab) : order_(vocab), prob_(vocab) {
  SG_CHECK(vocab > 0, "sampler: empty vocabulary");
}

int32_t NextWordSampler::sample(const float* logits, const SamplingOptions& o,
                                const std::vector<int32_t>& never, double u) {
  SG_CHECK(o.temperature > 0, "--temperature must be > 0");
  SG_CHECK(o.top_k >= 0, "--top-k must be >= 0");
  SG_CHECK(o.top_p > 0 && o.top_p <= 1, "--top-p must be in (0, 1], got ", o.top_p);
  const int64_t V = static_cast<int64_t>(order_.size());
  // The drawable words first (in id order), then the excluded ones, which no cut can then keep.
  order_.clear();
  auto excluded = [&](int32_t w) {
    return std::find(never.begin(), never.end(), w) != never.end();
  };
  for (int32_t w = 0; w < V; ++w)
    if (!excluded(w)) order_.push_back(w);
  const int64_t drawable = static_cast<int64_t>(order_.size());
  SG_CHECK(drawable > 0, "sampler: every word of the vocabulary is excluded");
  for (int32_t w = 0; w < V; ++w)
    if (excluded(w)) order_.push_back(w);
  auto more_likely = [&](int32_t a, int32_t b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  };
  int64_t k = drawable;
  if (o.top_k > 0 && o.top_k < drawable) {
    k = o.top_k;
    std::partial_sort(order_.begin(), order_.begin() + k, order_.begin() + drawable, more_likely);
  } else if (o.top_p < 1) {
    std::sort(order_.begin(), order_.begin() + drawable, more_likely);
  }
  double mx = -INFINITY;
  for (int64_t i = 0; i < k; ++i) mx = std::max(mx, static_cast<double>(logits[order_[i]]));
  double z = 0;
  for (int64_t i = 0; i < k; ++i) {
    prob_[i] = std::exp((logits[order_[i]] - mx) / o.temperature);
    z += prob_[i];
  }
  if (o.top_p < 1) {  // candidates are sorted: keep the shortest prefix holding top_p of the mass
    double acc = 0;
    for (int64_t i = 0; i < k; ++i) {
      acc += prob_[i];
      if (acc >= o.top_p * z) {
        k = i + 1;
        break;
      }
    }
    z = acc;
  }
  const double target = u * z;
  double acc = 0;
  int32_t pick = order_[k - 1];
  for (int64_t i = 0; i < k; ++i) {
    acc += prob_[i];
    if (target < acc) {
      pick = order_[i];
      break;
    }
  }
  return pick;
}

}  // namespace sg
