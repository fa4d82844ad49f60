// Held-out perplexity with the full softmax: perplexity = exp(sum of NLL over predicted tokens /
// their count). The evaluation graph (LmConfig::training = false) gives per-position losses
// row_loss [T*B]; the batch's weights (0 on the padded tail) select the real predictions, so every
// predicted token counts exactly once (159,658 on the real LM1B test shard). The carried LSTM state
// is reset before the first batch.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "apps/train_log.h"
#include "data/batcher.h"
#include "engine/executor.h"
#include "layers/lm_model.h"

namespace sg {

struct EvalResult {
  double nll_sum = 0;
  int64_t tokens = 0;
  double seconds = 0;
  bool stopped = false;     // `stop` returned true before the shard's end: the sums are partial
  int64_t unk_targets = 0;  // predicted tokens that are <UNK> (words the vocabulary lacks)
  double unk_share() const { return tokens ? static_cast<double>(unk_targets) / tokens : 0.0; }
  double mean_nll() const { return tokens ? nll_sum / static_cast<double>(tokens) : 0.0; }
  double perplexity() const;
};

// A warning line when so many targets are <UNK> that the perplexity says little about the model
// (the vocabulary does not cover this text: another corpus, or a --vocab for another language);
// empty otherwise.
std::string unk_warning(const EvalResult& r);

// A warning line when the perplexity is above the vocabulary size, i.e. worse than guessing every
// word with equal probability: the parameters are broken for the full softmax (a sampled-softmax
// run can get there while its sampled training loss looks fine, README "Known gaps"); below 1.5x
// the vocabulary size it says the model is no better than uniform yet (a few steps in); empty when
// the perplexity is at most the vocabulary size.
std::string worse_than_uniform_warning(const EvalResult& r, int64_t vocab);

// progress(tokens_done) is called after each batch when given; stop() before each batch, and a
// true result ends the evaluation there (e.g. on Ctrl-C: a full softmax over an LM1B vocabulary
// on a CPU takes minutes).
EvalResult evaluate(Executor& ex, const LmGraph& model, EvalBatcher& batches,
                    const std::function<void(int64_t)>& progress = nullptr,
                    const std::function<bool()>& stop = nullptr);

// A progress callback for evaluate that writes "held-out: N/TOTAL tokens, elapsed, ETA" to `log`
// every few seconds once the evaluation has run for two (a full softmax over an LM1B vocabulary
// on a CPU takes minutes).
std::function<void(int64_t)> eval_progress(TrainLog& log, int64_t total_tokens);

}  // namespace sg
