// From a RunConfig (what the user asked for) to the pieces the engine builds: the language model's
// LmConfig for training and for evaluation, the OptimizerConfig, and the vocabulary built from the
// training shards (with progress). Kept in one place so train, eval, generate, plan and vocab build
// exactly the same model and vocabulary from the same flags.
#pragma once
#include <cstdint>
#include <exception>
#include <functional>

#include "apps/run_config.h"
#include "apps/train_log.h"
#include "data/vocab.h"
#include "layers/lm_model.h"
#include "optimizers/optimizer.h"

namespace sg {

// True for "cpu", false for "cuda" / "cuda:N": graphs for the CPU plan the LSTM recurrences'
// packed weights and the full softmax's chunk column sums (LmConfig::cpu_workspaces).
bool runs_on_cpu(const std::string& device);

// The training graph: B streams, T steps, the configured softmax, dropout on.
LmConfig train_model_config(const RunConfig& cfg, int64_t vocab);
// The evaluation graph: full softmax, no dropout, no backward. Its batch is chosen so that the
// logits [T*B, V] stay under `max_logits_bytes` (held-out perplexity is always computed with the
// full softmax).
LmConfig eval_model_config(const RunConfig& cfg, int64_t vocab, int64_t batch = 0, int64_t bptt = 0,
                           size_t max_logits_bytes = size_t(256) << 20);
// Rule, hyper-parameters, schedule and state policy for `total_steps` steps.
OptimizerConfig optimizer_config(const RunConfig& cfg, int64_t total_steps);

// Vocab::build over the training shards with `threads` workers (0 = all cores), reporting progress
// on `log` every few seconds once counting has taken more than two (an LM1B-sized corpus takes a
// minute or more). When `stop` is given and returns true after a shard, the count stops and
// VocabBuildStopped is thrown (train's SIGINT/SIGTERM).
struct VocabBuildStopped : std::exception {
  const char* what() const noexcept override { return "vocabulary count stopped"; }
};
Vocab build_vocab_reporting(const std::vector<std::string>& shards, int min_count, int threads,
                            TrainLog& log, const std::function<bool()>& stop = {});

}  // namespace sg
