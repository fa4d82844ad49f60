// Held-out evaluation loop (see evaluate.h).
#include "apps/evaluate.h"

#include <chrono>
#include <cmath>
#include <cstdio>

#include "engine/check.h"

namespace sg {

double EvalResult::perplexity() const { return std::exp(mean_nll()); }

EvalResult evaluate(Executor& ex, const LmGraph& model, EvalBatcher& batches,
                    const std::function<void(int64_t)>& progress,
                    const std::function<bool()>& stop) {
  auto t0 = std::chrono::steady_clock::now();
  const int64_t n = model.cfg.batch * model.cfg.bptt;
  SG_CHECK(model.row_loss != kNoValue, "evaluation needs a graph built with training = false");
  reset_lm_state(ex, model);
  EvalResult r;
  Batch b;
  std::vector<float> losses(n);
  while (!(r.stopped = stop && stop()) && batches.next(b)) {
    SG_CHECK(b.T == model.cfg.bptt && b.B == model.cfg.batch, "evaluation batch is ", b.T, "x", b.B,
             " but the graph was built for ", model.cfg.bptt, "x", model.cfg.batch);
    ex.upload(model.tokens, b.tokens.data(), b.tokens.size() * sizeof(int32_t));
    ex.upload(model.targets, b.targets.data(), b.targets.size() * sizeof(int32_t));
    ex.run(0, 0, /*training=*/false);
    ex.download(model.row_loss, losses.data(), losses.size() * sizeof(float));
    for (int64_t i = 0; i < n; ++i)
      if (b.weight[i] != 0.f) {
        r.nll_sum += static_cast<double>(b.weight[i]) * losses[i];
        r.unk_targets += b.targets[i] == batches.unk_id();
      }
    r.tokens += b.predicted;
    if (progress) progress(r.tokens);
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

std::string unk_warning(const EvalResult& r) {
  if (r.tokens == 0 || r.unk_share() < 0.2) return "";
  char buf[240];
  std::snprintf(buf, sizeof buf,
                "warning: %.1f %% of the held-out tokens are <UNK> (not in the vocabulary): the "
                "vocabulary does not cover this text, so this perplexity says little",
                100.0 * r.unk_share());
  return buf;
}

std::string worse_than_uniform_warning(const EvalResult& r, int64_t vocab) {
  if (r.tokens == 0 || !(r.perplexity() > static_cast<double>(vocab))) return "";
  char buf[320];
  // Just above: an untrained model's near-uniform guess (a few steps in), not a broken one.
  if (r.perplexity() < 1.5 * static_cast<double>(vocab)) {
    std::snprintf(buf, sizeof buf,
                  "warning: held-out perplexity %.6g is about the vocabulary size %lld: the model "
                  "predicts no better than a uniform guess yet (too few steps, or a learning rate "
                  "too small to move it)",
                  r.perplexity(), static_cast<long long>(vocab));
    return buf;
  }
  std::snprintf(
      buf, sizeof buf,
      "warning: held-out perplexity %.6g is above the vocabulary size %lld, worse than "
      "a uniform guess: the model is broken for the full softmax (with the sampled "
      "softmax this can happen for a while mid-training although the training loss looks fine)",
      r.perplexity(), static_cast<long long>(vocab));
  return buf;
}

std::function<void(int64_t)> eval_progress(TrainLog& log, int64_t total_tokens) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  auto last = start;
  return [&log, total_tokens, start, last](int64_t done) mutable {
    const auto now = Clock::now();
    const double elapsed = std::chrono::duration<double>(now - start).count();
    if (elapsed < 2.0 || std::chrono::duration<double>(now - last).count() < 2.0) return;
    last = now;
    const double eta =
        done > 0 ? elapsed * static_cast<double>(total_tokens - done) / static_cast<double>(done)
                 : 0.0;
    char buf[160];
    std::snprintf(buf, sizeof buf, "held-out: %lld/%lld tokens, %s, ETA %s",
                  static_cast<long long>(done), static_cast<long long>(total_tokens),
                  format_duration(elapsed).c_str(), format_duration(eta).c_str());
    log.status(buf);
  };
}

}  // namespace sg
