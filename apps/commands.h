// The sketchgrad subcommands. Each returns the process exit code and throws sg::Error for
// user-facing failures (main prints them as one line and exits 1).
#pragma once
#include <string>
#include <vector>

#include "apps/run_config.h"

namespace sg {

int cmd_train(const RunConfig& cfg);

struct EvalOptions {
  std::string checkpoint;  // checkpoint file or folder
  std::string data;        // LM1B-layout folder (held-out shard 00000) ...
  std::string shard;       // ... or an explicit shard file
  std::string device = "cpu";
  int threads = 0;
  int batch = 0, bptt = 0;  // 0: as the training run's held-out evaluation
  int64_t max_tokens = 0;
  std::string json;  // optional JSON output file
};
int cmd_eval(const EvalOptions& opts);

struct GenerateOptions {
  std::string checkpoint;
  std::string prompt;
  int count = 3;       // sentences
  int max_words = 40;  // per sentence
  float temperature = 1.0f;
  int top_k = 0;       // 0 = no truncation
  double top_p = 1.0;  // nucleus sampling; 1 = no truncation
  uint64_t seed = 1;
  std::string device = "cpu";
  int threads = 0;
};
int cmd_generate(const GenerateOptions& opts);

struct PlanOptions {
  RunConfig cfg;
  int64_t vocab_size = 0;  // 0: from --data (built vocabulary) or the preset (paper-lm1b: 793,471)
  bool compare = false;    // dense beside --state's policy (cs-mv when --state is dense)
  std::vector<std::string> compare_states;  // --compare-states A B ...: side by side
  std::string budget;                       // e.g. "8GiB": find the largest batch that fits
  bool json = false;
  std::string svg;  // write the arena picture here
};
int cmd_plan(const PlanOptions& opts);

struct VocabOptions {
  std::string data;
  std::string out;
  int min_count = 3;
};
int cmd_vocab(const VocabOptions& opts);

struct SynthOptions {
  std::string out;
  int64_t sentences = 100000;
  int64_t vocab = 793471;
  int shards = 10;
  uint64_t seed = 1;
};
int cmd_synth(const SynthOptions& opts);

}  // namespace sg
