// `sketchgrad vocab` (build a vocabulary file from the training shards of an LM1B-layout folder)
// and `sketchgrad synth` (write a synthetic LM1B-scale corpus: Zipf word ids, LM1B-like sentence
// lengths).
#include <csignal>
#include <cstdio>

#include "apps/commands.h"
#include "apps/model_setup.h"
#include "data/corpus.h"
#include "data/output_file.h"
#include "data/synthetic.h"
#include "data/vocab.h"
#include "engine/check.h"

namespace sg {

int cmd_vocab(const VocabOptions& o) {
  SG_CHECK(o.min_count >= 1, "--min-count must be >= 1");
  CorpusLayout c = find_corpus(o.data);
  require_training(c);
  for (const std::string& note : c.train_notes) std::fprintf(stderr, "%s\n", note.c_str());
  check_output_not_input(o.out, c.train_shards, "--out");
  check_output_writable(o.out, "--out");
  TrainLog log("");
  Vocab v = build_vocab_reporting(c.train_shards, o.min_count, 0, log);
  const std::string marker_note = literal_marker_note(v.literal_markers(), "the training text");
  if (!marker_note.empty()) std::fprintf(stderr, "%s\n", marker_note.c_str());
  v.save(o.out);
  // Written to standard output, the vocabulary file must stay loadable: the report goes to stderr.
  std::fprintf(is_process_stdout(o.out) ? stderr : stdout,
               "wrote %s: %d words (min count %d, %zu shard%s)\n", o.out.c_str(), v.size(),
               o.min_count, c.train_shards.size(), c.train_shards.size() == 1 ? "" : "s");
  return 0;
}

namespace {

// Set by SIGINT / SIGTERM / SIGHUP while synth writes: the writer stops, removes the partial
// corpus and synth exits with 128 + the signal.
volatile std::sig_atomic_t g_synth_signal = 0;
void on_synth_signal(int sig) { g_synth_signal = sig; }

}  // namespace

int cmd_synth(const SynthOptions& o) {
  SG_CHECK(o.sentences >= 1 && o.vocab >= 4 && o.shards >= 1,
           "synth needs --sentences >= 1, --vocab-size >= 4, "
           "--shards >= 1");
  SG_CHECK(!o.out.empty(), "synth needs --out FOLDER");
  g_synth_signal = 0;
  const int signals[] = {SIGINT, SIGTERM, SIGHUP};
  void (*previous[3])(int);
  for (int i = 0; i < 3; ++i) previous[i] = std::signal(signals[i], on_synth_signal);
  auto restore = [&] {
    for (int i = 0; i < 3; ++i) std::signal(signals[i], previous[i]);
  };
  try {
    write_synthetic_corpus(o.out, o.sentences, o.vocab, o.shards, o.seed,
                           [] { return g_synth_signal != 0; });
  } catch (...) {
    restore();
    if (g_synth_signal == 0) throw;
    std::fprintf(stderr,
                 "sketchgrad: synth stopped by signal %d; the partial corpus in %s was removed\n",
                 static_cast<int>(g_synth_signal), o.out.c_str());
    return 128 + g_synth_signal;
  }
  restore();
  std::printf("wrote a synthetic corpus to %s: %lld sentences over %lld words in %d shard%s\n",
              o.out.c_str(), static_cast<long long>(o.sentences), static_cast<long long>(o.vocab),
              o.shards, o.shards == 1 ? "" : "s");
  return 0;
}

}  // namespace sg
