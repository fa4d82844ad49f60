// `sketchgrad vocab` (build a vocabulary file from the training shards of an LM1B-layout folder)
// and `sketchgrad synth` (write a synthetic LM1B-scale corpus: Zipf word ids, LM1B-like sentence
// lengths).
#include <cstdio>
#include <filesystem>

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
  check_output_not_input(o.out, c.train_shards, "--out");
  check_output_writable(o.out, "--out");
  TrainLog log("");
  Vocab v = build_vocab_reporting(c.train_shards, o.min_count, 0, log);
  v.save(o.out);
  std::printf("wrote %s: %d words (min count %d, %zu shards)\n", o.out.c_str(), v.size(),
              o.min_count, c.train_shards.size());
  return 0;
}

int cmd_synth(const SynthOptions& o) {
  SG_CHECK(o.sentences >= 1 && o.vocab >= 4 && o.shards >= 1,
           "synth needs --sentences >= 1, --vocab-size >= 4, "
           "--shards >= 1");
  SG_CHECK(!o.out.empty(), "synth needs --out FOLDER");
  std::error_code ec;
  SG_CHECK(!std::filesystem::exists(std::filesystem::path(o.out) / kTrainFolder, ec) &&
               !std::filesystem::exists(std::filesystem::path(o.out) / kHeldoutFolder, ec),
           "--out ", o.out, " already holds a corpus; remove it or choose another folder");
  write_synthetic_corpus(o.out, o.sentences, o.vocab, o.shards, o.seed);
  std::printf("wrote a synthetic corpus to %s: %lld sentences over %lld words in %d shards\n",
              o.out.c_str(), static_cast<long long>(o.sentences), static_cast<long long>(o.vocab),
              o.shards);
  return 0;
}

}  // namespace sg
