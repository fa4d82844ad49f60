// Next-word sampling for `generate`: p_i = softmax(logits / temperature)_i over the vocabulary,
// restricted to the top_k most likely words (top_k > 0), then to the smallest set of most likely
// words whose probability reaches top_p (nucleus sampling, top_p < 1), renormalised; one word drawn
// by inverting the cumulative sum at u in [0, 1). The words in `never` (generate: <S> and <UNK>
// always, </S> as a sentence's first word; ids outside the vocabulary are ignored) are never drawn:
// they are removed before the top-k / top-p cuts, so top_k = 1 gives the most likely drawable word.
// Ties in logit go to the smaller id, so a draw depends only on (logits, options, u).
#pragma once
#include <cstdint>
#include <vector>

namespace sg {

struct SamplingOptions {
  double temperature = 1.0;  // > 0
  int64_t top_k = 0;         // 0 = every word
  double top_p = 1.0;        // (0, 1]; 1 = no nucleus cut
};

class NextWordSampler {
 public:
  explicit NextWordSampler(int64_t vocab);
  int32_t sample(const float* logits, const SamplingOptions& o, const std::vector<int32_t>& never,
                 double u);

 private:
  std::vector<int32_t> order_;
  std::vector<double> prob_;
};

}  // namespace sg
