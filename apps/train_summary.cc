// The --profile table, the end-of-run summary JSON and the closing line of `sketchgrad train`.
#include "apps/train_summary.h"

#include <algorithm>
#include <cstdio>

namespace sg {

nlohmann::json categories_json(const Plan& plan) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [c, b] : plan.by_category) j[category_name(c)] = b;
  return j;
}

void log_profile(TrainLog& log, const std::vector<OpProfile>& ops, int64_t steps, double train_s,
                 double optimizer_s, double data_s) {
  double ops_s = 0;
  for (const auto& p : ops) ops_s += p.seconds;
  char buf[200];
  std::snprintf(buf, sizeof buf,
                "profile over %lld steps (%.2f s): ops %.2f s, optimizer %.2f s, data wait %.2f s",
                static_cast<long long>(steps), train_s, ops_s, optimizer_s, data_s);
  log.line(buf);
  for (const auto& p : ops) {
    std::snprintf(buf, sizeof buf, "  %-40s %8lld calls %9.3f s %6.1f%%", p.op.c_str(),
                  static_cast<long long>(p.calls), p.seconds,
                  100.0 * p.seconds / std::max(train_s, 1e-9));
    log.line(buf);
  }
}

nlohmann::json train_summary(const TrainSummaryInputs& in) {
  const bool trained = in.steps > in.first_step;  // false: resumed at its last step
  nlohmann::json s = {{"steps", in.steps},
                      {"total_steps", in.total_steps},
                      {"first_step", in.first_step},
                      {"words_per_step", in.words_per_step},
                      {"words_per_s", trained ? nlohmann::json(in.words_per_s) : nullptr},
                      {"measured_steps", in.measured_steps},
                      {"train_seconds", in.train_s},
                      {"eval_and_checkpoint_seconds", in.pause_s},
                      {"final_eval_and_checkpoint_seconds", in.final_s},
                      {"setup_seconds", in.setup_s},
                      {"final_train_loss", in.final_train_loss},
                      {"train_loss_is_sampled", in.train_loss_is_sampled},
                      {"vocab", in.vocab},
                      {"planned_bytes", in.planned_bytes},
                      {"planned_train_bytes", in.planned_train_bytes},
                      {"planned_eval_bytes", in.planned_eval_bytes},
                      {"planned_peak_bytes", in.planned_peak_bytes},
                      {"measured_peak_bytes", in.measured_peak_bytes},
                      {"peak_rss_bytes", in.peak_rss_bytes},
                      {"optimizer", in.optimizer},
                      {"device", in.device},
                      {"config", in.config}};
  if (in.device_total > 0) {
    s["device_total_bytes"] = in.device_total;
    s["device_in_use_at_start_bytes"] =
        in.device_total - in.device_free_at_start;  // CUDA context (+ other processes)
    s["device_in_use_bytes"] = in.device_total - in.device_free_at_end;  // whole device at the end
    s["device_allocated_by_run_bytes"] =
        in.device_free_at_start - in.device_free_at_end;  // arenas + library workspaces
  }
  if (in.final_eval) {
    s["heldout_perplexity"] = in.final_eval->perplexity();
    s["heldout_tokens"] = in.final_eval->tokens;
  }
  if (in.best_perplexity) {
    s["best_heldout_perplexity"] = *in.best_perplexity;
    s["best_step"] = in.best_step;
  }
  if (in.stopped_by_signal) s["stopped_by_signal"] = in.stopped_by_signal;
  return s;
}

nlohmann::json diverged_summary(const TrainSummaryInputs& in, int64_t first_bad) {
  return {{"diverged", {{"first_step", first_bad}, {"step", in.steps}}},
          {"steps", in.steps},
          {"total_steps", in.total_steps},
          {"first_step", in.first_step},
          {"planned_bytes", in.planned_bytes},
          {"optimizer", in.optimizer},
          {"device", in.device},
          {"config", in.config}};
}

double evaluations_left(int64_t step, int64_t total_steps, int64_t every) {
  const int64_t periodic = every > 0 ? (total_steps - 1) / every - (step - 1) / every : 0;
  return static_cast<double>(periodic + 1);
}

std::string done_line(const TrainSummaryInputs& in) {
  char buf[256];
  const char* verb = in.stopped_by_signal ? "stopped" : "done";
  const auto ll = [](int64_t v) { return static_cast<long long>(v); };
  if (in.steps == in.first_step && in.first_step > 0) {
    std::snprintf(buf, sizeof buf, "%s: nothing to train, the checkpoint is at step %lld of %lld",
                  verb, ll(in.steps), ll(in.total_steps));
  } else if (in.first_step > 0) {
    std::snprintf(buf, sizeof buf, "%s: steps %lld-%lld (%lld this run) in %s", verb,
                  ll(in.first_step + 1), ll(in.steps), ll(in.steps - in.first_step),
                  format_duration(in.train_s).c_str());
  } else {
    std::snprintf(buf, sizeof buf, "%s: %lld steps in %s", verb, ll(in.steps),
                  format_duration(in.train_s).c_str());
  }
  std::string line = buf;
  if (in.steps > in.first_step) {
    if (in.pause_s >= 0.5) {  // words/s counts training steps only
      std::snprintf(buf, sizeof buf, " (%s of it held-out evaluation and checkpoints)",
                    format_duration(in.pause_s).c_str());
      line += buf;
    }
    std::snprintf(buf, sizeof buf, ", %.0f words/s", in.words_per_s);
    line += buf;
  }
  if (in.final_eval) {
    std::snprintf(buf, sizeof buf, ", held-out perplexity %.6g", in.final_eval->perplexity());
    line += buf;
  }
  return line;
}

}  // namespace sg
