// RunConfig -> LmConfig / OptimizerConfig (see model_setup.h).
#include "apps/model_setup.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>
#ifdef __GLIBC__
#include <malloc.h>  // malloc_trim
#endif

namespace sg {

bool runs_on_cpu(const std::string& device) { return device.rfind("cuda", 0) != 0; }

LmConfig train_model_config(const RunConfig& cfg, int64_t vocab) {
  LmConfig m;
  m.vocab = vocab;
  m.emb = cfg.emb;
  m.hidden = cfg.hidden;
  m.proj = cfg.proj;
  m.layers = cfg.layers;
  m.dropout = cfg.dropout;
  m.sampled = cfg.sampled_count();
  m.batch = cfg.batch;
  m.bptt = cfg.bptt;
  m.lstm_impl = cfg.lstm_impl;
  m.cudnn_tf32 = cfg.tf32;
  m.cpu_workspaces = runs_on_cpu(cfg.device);
  m.training = true;
  return m;
}

LmConfig eval_model_config(const RunConfig& cfg, int64_t vocab, int64_t batch, int64_t bptt,
                           size_t max_logits_bytes) {
  LmConfig m = train_model_config(cfg, vocab);
  m.training = false;
  // The parameters are the same for both LSTM paths, so a checkpoint trained with --lstm cudnn
  // evaluates on any device through the native path, in strict FP32.
  m.lstm_impl = "native";
  m.cudnn_tf32 = false;
  m.sampled = 0;
  m.dropout = 0.f;
  m.bptt = bptt > 0 ? bptt : cfg.bptt;
  if (batch > 0) {
    m.batch = batch;
  } else {
    // Full-softmax logits and their per-row temporaries: keep T*B*V*4 bytes under the cap.
    int64_t fit = static_cast<int64_t>(max_logits_bytes /
                                       (sizeof(float) * m.bptt * std::max<int64_t>(vocab, 1)));
    m.batch = std::max<int64_t>(1, std::min<int64_t>(cfg.batch, fit));
  }
  return m;
}

Vocab build_vocab_reporting(const std::vector<std::string>& shards, int min_count, int threads,
                            TrainLog& log, const std::function<bool()>& stop) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  auto last = start;
  const int workers = threads > 0 ? threads : static_cast<int>(std::thread::hardware_concurrency());
  Vocab v = Vocab::build(
      shards, min_count, std::max(1, workers), [&](int64_t done, int64_t total, int64_t tokens) {
        if (stop && stop()) throw VocabBuildStopped();
        const auto now = Clock::now();
        const double since_start = std::chrono::duration<double>(now - start).count();
        if (since_start < 2.0 ||
            (done < total && std::chrono::duration<double>(now - last).count() < 2.0))
          return;
        last = now;
        char buf[160];
        std::snprintf(buf, sizeof buf, "vocabulary: %lld/%lld shards counted, %.1fM tokens, %s",
                      static_cast<long long>(done), static_cast<long long>(total),
                      static_cast<double>(tokens) / 1e6, format_duration(since_start).c_str());
        log.status(buf);
      });
#ifdef __GLIBC__
  malloc_trim(0);  // the per-thread count tables were many small blocks: give them back to the OS
#endif
  return v;
}

OptimizerConfig optimizer_config(const RunConfig& cfg, int64_t total_steps) {
  OptimizerConfig o;
  o.rule = cfg.optimizer;
  o.lr = cfg.lr;
  o.clip = cfg.clip;
  o.clip_per_param = cfg.clip_per_param;
  o.beta1 = cfg.beta1;
  o.beta2 = cfg.beta2;
  o.eps = cfg.eps;
  o.momentum = cfg.momentum;
  o.weight_decay = cfg.weight_decay;
  o.sparsify = cfg.sparsify;
  o.schedule = cfg.schedule;
  o.total_steps = total_steps;
  o.state = cfg.state;
  o.seed = cfg.seed;
  return o;
}

}  // namespace sg
