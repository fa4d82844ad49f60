// `sketchgrad generate`: sentences sampled from a checkpoint. The model runs one token at a time (T
// = B = 1) with carried state: <S>, then the prompt's words, then samples from softmax(logits /
// temperature) with top-k / top-p truncation (apps/next_word_sampler.h), until </S> or max_words;
// </S> is never the first word of a sentence.
// Reproducible for a seed (the draws use the counter-based engine/rng.h).
#include <cmath>
#include <cstdio>
#include <sstream>

#include "apps/checkpoint.h"
#include "apps/commands.h"
#include "apps/model_setup.h"
#include "apps/next_word_sampler.h"
#include "engine/check.h"
#include "engine/rng.h"

namespace sg {

int cmd_generate(const GenerateOptions& o) {
  SG_CHECK(o.temperature > 0, "--temperature must be > 0");
  SG_CHECK(o.top_k >= 0, "--top-k must be >= 0");
  SG_CHECK(o.top_p > 0 && o.top_p <= 1, "--top-p must be in (0, 1], got ", o.top_p);
  Checkpoint ck = read_checkpoint(o.checkpoint);
  Vocab vocab = checkpoint_vocab(ck);
  auto be = Backend::create(o.device, o.threads);
  LmConfig mc = eval_model_config(ck.cfg, vocab.size(), 1, 1);
  mc.cpu_workspaces = runs_on_cpu(o.device);  // where it runs now, not where it was trained
  mc.keep_logits = true;
  LmGraph model = build_lm(mc);
  Executor ex(model.g, *be);
  restore_model(ck, ex, model, /*with_state=*/false);

  const int64_t V = vocab.size();
  std::vector<float> logits(V);
  NextWordSampler sampler(V);
  SamplingOptions sampling;
  sampling.temperature = o.temperature;
  sampling.top_k = o.top_k;
  sampling.top_p = o.top_p;
  int32_t token = 0, target = 0;
  auto feed = [&](int32_t id) {
    token = id;
    ex.upload(model.tokens, &token, sizeof token);
    ex.upload(model.targets, &target, sizeof target);
    ex.run(0, 0, /*training=*/false);
    ex.download(model.logits, logits.data(), logits.size() * sizeof(float));
  };
  std::vector<std::string> prompt;
  {
    std::istringstream is(o.prompt);
    for (std::string w; is >> w;) prompt.push_back(w);
  }
  for (const auto& w : prompt)
    SG_CHECK(w != "<S>" && w != "</S>", "--prompt: ", w,
             " marks a sentence boundary and cannot be part of a prompt (a prompt is the start "
             "of one sentence)");
  std::string unknown;  // words are case-sensitive and tokenized like the training text
  for (const auto& w : prompt)
    if (!vocab.contains(w)) unknown += (unknown.empty() ? "" : ", ") + w;
  if (!unknown.empty())
    std::fprintf(stderr, "note: not in the vocabulary, read as <UNK>: %s\n", unknown.c_str());
  uint64_t draw = 0;
  for (int s = 0; s < o.count; ++s) {
    reset_lm_state(ex, model);
    feed(vocab.bos());
    std::string line;
    for (const auto& w : prompt) {
      int32_t id = vocab.id(w);
      line += (line.empty() ? "" : " ") + (id == vocab.unk() ? "<UNK>" : w);
      feed(id);
    }
    for (int n = 0; n < o.max_words; ++n) {
      // Never <S> or <UNK> (not words to print), and a sentence has at least one word: </S>
      // cannot come first.
      const std::vector<int32_t> never =
          line.empty() ? std::vector<int32_t>{vocab.bos(), vocab.unk(), vocab.eos()}
                       : std::vector<int32_t>{vocab.bos(), vocab.unk()};
      const int32_t pick =
          sampler.sample(logits.data(), sampling, never, rng_uniform_double(o.seed, 0x6e6, draw++));
      if (pick == vocab.eos()) break;
      line += (line.empty() ? "" : " ") + vocab.word(pick);
      feed(pick);
    }
    std::printf("%s\n", line.c_str());
  }
  return 0;
}

}  // namespace sg
