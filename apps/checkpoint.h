// Training checkpoints: one safetensors file (apps/safetensors.h) holding everything a run needs to
// continue bitwise where it stopped, or to be evaluated / sampled later:
//   param/<name>   every model parameter (e.g. param/embedding/W f32 [V, E])
//   state/<name>   carried LSTM state (truncated BPTT), so a resumed run sees the same recurrent
//                  state
//   optim/<name>   every optimizer state buffer (dense moments, sketches, covers, residuals, hash
//                  seeds)
//   vocab          U8: the vocabulary as "word count" lines, in id order
// metadata: format = "sketchgrad-checkpoint-1", config = the RunConfig as JSON, step, words_seen.
// A folder argument means FOLDER/checkpoint.safetensors. Writes are atomic (temporary file +
// rename). Tensors go between device memory and the file in 16 MiB chunks, never as a host copy
// of the whole model (an LM1B model with Adam state is several GB).
#pragma once
#include <cstdint>
#include <map>
#include <string>

#include "apps/run_config.h"
#include "apps/safetensors.h"
#include "data/vocab.h"
#include "engine/executor.h"
#include "layers/lm_model.h"
#include "optimizers/optimizer.h"

namespace sg {

constexpr const char* kCheckpointFormat = "sketchgrad-checkpoint-1";

std::string checkpoint_file(const std::string& file_or_folder);

struct Checkpoint {
  std::string path;
  RunConfig cfg;
  int64_t step = 0;
  int64_t words_seen = 0;
  StFile file;
};

// Reads and validates a checkpoint (format tag, config, vocabulary present); one-line sg::Error
// otherwise.
Checkpoint read_checkpoint(const std::string& file_or_folder);

// The vocabulary stored in a checkpoint (ids exactly as in training).
Vocab checkpoint_vocab(const Checkpoint& ck);

// `extra`: more metadata entries (e.g. the best held-out perplexity so far, which --resume keeps).
void save_checkpoint(const std::string& file_or_folder, const RunConfig& cfg, int64_t step,
                     int64_t words_seen, const Vocab& vocab, const Executor& ex,
                     const LmGraph& model, const Optimizer* opt,
                     const std::map<std::string, std::string>& extra = {});

// Copies param/* (and state/* when with_state) into the executor's tensors; every parameter of the
// graph must be present with the same shape. Externally bound values are written through to the
// memory they are bound to.
void restore_model(const Checkpoint& ck, Executor& ex, const LmGraph& model, bool with_state);
// Copies optim/* into the optimizer's state buffers (names and sizes must match exactly).
void restore_optimizer(const Checkpoint& ck, Backend& be, const Optimizer& opt);

}  // namespace sg
