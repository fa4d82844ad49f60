// RunConfig: every setting of a training run (model, data, optimizer, schedule, device,
// checkpoints), the one place flags land. It round-trips through JSON so a checkpoint carries the
// full configuration and --resume can refuse an incompatible one.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace sg {

struct RunConfig {
  // Data.
  std::string data;        // LM1B-layout or split-named folder, or FILE[,FILE...]
  std::string vocab_file;  // optional: load instead of building from the training shards
  // Optional: a held-out shard file (default: the 00000 held-out shard, or a split folder's
  // validation file); "none": no held-out evaluation.
  std::string heldout;
  int min_count = 3;
  // Model.
  std::string preset = "small";
  int emb = 128, hidden = 512, proj = 128, layers = 1;
  float dropout = 0.0f;
  std::string softmax = "sampled:1024";  // "full" or "sampled:S"
  bool softmax_given = false;        // --softmax was on the command line (not saved in checkpoints)
  bool min_count_given = false;      // --min-count was on the command line (not saved either)
  std::string lstm_impl = "native";  // "native" or "cudnn"
  int batch = 32, bptt = 20;
  // Optimizer.
  std::string optimizer = "adam";
  float lr = 4e-3f;
  std::string schedule = "constant";  // constant | linear | cosine | warmup:N[+linear|+cosine]
  float clip = 1.0f;
  float clip_per_param = 0.0f;  // per-group (per-parameter) norm clipping; 0 = off
  float beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;  // Adam / AdamW (beta2 also RMSprop; eps
                                                    // also RMSprop, Adagrad, SM3)
  float momentum = 0.9f;                            // momentum / nesterov
  float weight_decay = 0.0f;                        // L2 added to the gradient; AdamW: decoupled
  float sparsify = 0.01f;       // topk-sgd / randk-sgd: fraction of entries sent
  std::string state = "dense";  // state policy: dense, cs-mv, cs-v, cs-mv:10x, per-parameter form
  // Length.
  int64_t steps = 0;  // 0: derive from epochs
  double epochs = 0;  // used when steps == 0
  // Device and reproducibility.
  std::string device = "cpu";
  bool tf32 = false;  // CUDA: TF32 tensor cores for cuBLAS products and the cuDNN LSTM
  int threads = 0;
  uint64_t seed = 1;
  // Output.
  std::string checkpoint;          // folder; empty = none
  int64_t checkpoint_every = 0;    // steps; 0 = off (the end, and checkpoint_minutes, still write)
  double checkpoint_minutes = 10;  // also every this many minutes of wall time; 0 = off
  bool resume = false;
  std::string log;              // JSON-lines metrics file
  std::string summary_json;     // end-of-run summary
  int64_t eval_every = 0;       // steps; 0 = only at the end
  int64_t eval_max_tokens = 0;  // 0 = whole held-out shard
  int64_t progress_every = 10;
  int64_t warmup_steps = 3;  // steps excluded from the words/s measurement
  bool profile = false;      // print time per op type, optimizer and data at the end
  bool keep_best = false;    // also write DIR/best.safetensors at each new best held-out perplexity

  int sampled_count() const;  // S of "sampled:S", 0 for "full"
  void apply_preset();        // fills model/batch fields from `preset`
  // Without --lr: the presets' rate is Adam's; sgd-like rules (sgd, topk-sgd, randk-sgd,
  // topk-sgd-nofeedback) take 1.0, momentum and nesterov 0.1, rmsprop 0.001, and lr_note says so.
  // Other rules keep the preset's.
  void use_rule_default_lr();
  std::string lr_note;    // set by use_rule_default_lr when it changed lr (not saved)
  void validate() const;  // throws sg::Error with one line naming the flag
  // A sampled softmax needs more classes than samples. When the preset's S does not fit `vocab`
  // words, the full softmax (exact, and cheaper there) is used and the returned note says so; an
  // explicit --softmax sampled:S that does not fit throws one line naming the flag. "" otherwise.
  std::string fit_softmax_to_vocab(int64_t vocab);
  nlohmann::json to_json() const;
  static RunConfig from_json(const nlohmann::json& j);
  // Fields that must match between a checkpoint and a --resume run (model shape, optimizer, state,
  // seed...). Not the vocabulary's source (--vocab, --min-count): a resumed run takes the
  // checkpoint's vocabulary, and train compares a --vocab file's words with it.
  std::vector<std::string> incompatibilities(const RunConfig& other) const;
};

}  // namespace sg
