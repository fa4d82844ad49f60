// Held-out evaluation loop (see evaluate.h).
#include "apps/evaluate.h"

#include <chrono>
#include <cmath>

#include "engine/check.h"

namespace sg {

double EvalResult::perplexity() const { return std::exp(mean_nll()); }

EvalResult evaluate(Executor& ex, const LmGraph& model, EvalBatcher& batches,
                    const std::function<void(int64_t)>& progress) {
  auto t0 = std::chrono::steady_clock::now();
  const int64_t n = model.cfg.batch * model.cfg.bptt;
  SG_CHECK(model.row_loss != kNoValue, "evaluation needs a graph built with training = false");
  reset_lm_state(ex, model);
  EvalResult r;
  Batch b;
  std::vector<float> losses(n);
  while (batches.next(b)) {
    SG_CHECK(b.T == model.cfg.bptt && b.B == model.cfg.batch, "evaluation batch is ", b.T, "x", b.B,
             " but the graph was built for ", model.cfg.bptt, "x", model.cfg.batch);
    ex.upload(model.tokens, b.tokens.data(), b.tokens.size() * sizeof(int32_t));
    ex.upload(model.targets, b.targets.data(), b.targets.size() * sizeof(int32_t));
    ex.run(0, 0, /*training=*/false);
    ex.download(model.row_loss, losses.data(), losses.size() * sizeof(float));
    for (int64_t i = 0; i < n; ++i)
      if (b.weight[i] != 0.f) r.nll_sum += static_cast<double>(b.weight[i]) * losses[i];
    r.tokens += b.predicted;
    if (progress) progress(r.tokens);
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace sg
