// What `sketchgrad train` reports when it ends: the --profile table and the end-of-run summary (the
// `end` record of --log and the --summary-json file).
//   summary: steps, words/s over the measured steps, final train loss, planned bytes (train graph,
//   eval graph, peak by category), the backend's measured arena high-water, peak RSS, device
//   memory before/after on CUDA (context overhead = total - free before any arena), held-out and
//   best held-out perplexity, optimizer, device and the full configuration; a diverged run's
//   summary says what the run was and where it diverged, without results.
#pragma once
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "apps/evaluate.h"
#include "apps/train_log.h"
#include "engine/executor.h"

namespace sg {

// Planned bytes by category, {"parameters": ..., "activations": ...}.
nlohmann::json categories_json(const Plan& plan);

// "profile over N steps (S s): ops ..., optimizer ..., data wait ..." and one line per op type.
void log_profile(TrainLog& log, const std::vector<OpProfile>& ops, int64_t steps, double train_s,
                 double optimizer_s, double data_s);

struct TrainSummaryInputs {
  int64_t steps = 0, total_steps = 0, measured_steps = 0, vocab = 0;
  int64_t first_step = 0;  // where this process started: the resumed checkpoint's step, else 0
  double words_per_step = 0, words_per_s = 0, train_s = 0, setup_s = 0;
  double pause_s = 0;  // of train_s: held-out evaluations and checkpoints between steps
  double final_s = 0;  // after train_s: the last checkpoint and the final held-out evaluation
  double final_train_loss = 0;
  bool train_loss_is_sampled = false;
  size_t planned_bytes = 0, planned_train_bytes = 0, planned_eval_bytes = 0;
  nlohmann::json planned_peak_bytes;
  size_t measured_peak_bytes = 0, peak_rss_bytes = 0;
  std::string optimizer, device;
  nlohmann::json config;
  // CUDA only (device_total 0: not reported): free bytes once the context existed and at the end.
  size_t device_total = 0, device_free_at_start = 0, device_free_at_end = 0;
  std::optional<EvalResult> final_eval;
  std::optional<double> best_perplexity;
  int64_t best_step = 0;
  int stopped_by_signal = 0;  // SIGINT / SIGTERM stopped the run (0: it ran to its end)
};
nlohmann::json train_summary(const TrainSummaryInputs& in);
// The summary of a run that diverged between steps `first_bad` and in.steps: what it was (steps,
// first_step, planned bytes, optimizer, device, config) and {"diverged": {first_step, step}}, no
// results, so a sweep's script finds a file for every run.
nlohmann::json diverged_summary(const TrainSummaryInputs& in, int64_t first_bad);

// Held-out evaluations still to run once step `step` has trained (its own periodic one included,
// which runs after its progress line) with one every `every` steps (0: none) before the last step,
// plus the final one: the progress line's ETA adds them at the last evaluation's duration.
double evaluations_left(int64_t step, int64_t total_steps, int64_t every);

// "done: N steps in 3m12s, 18000 words/s, held-out perplexity 135.4" ("stopped: ..." after a
// signal; "in 3m12s (40s of it held-out evaluation and checkpoints)" when those took >= 0.5 s:
// words/s counts the training steps only). A resumed run names its own steps, "steps 151-200 (50
// this run) in 4s", and one resumed at its last step "nothing to train: the checkpoint is at step
// 200 of 200".
std::string done_line(const TrainSummaryInputs& in);

}  // namespace sg
