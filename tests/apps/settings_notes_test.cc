// Notes on legal but probably unintended settings: each appears exactly when its condition holds.
#include "apps/settings_notes.h"

#include <gtest/gtest.h>

#include <thread>

namespace sg {
namespace {

bool has(const std::vector<std::string>& notes, const std::string& needle) {
  for (const auto& n : notes)
    if (n.find(needle) != std::string::npos) return true;
  return false;
}

TEST(SettingsNotes, EachNoteOnlyWhenItsConditionHolds) {
  RunConfig cfg;
  CorpusLayout corpus;
  EXPECT_TRUE(settings_notes(cfg, corpus, 100, true).empty());

  cfg.optimizer = "sgd";
  cfg.state = "cs-mv";
  EXPECT_TRUE(has(settings_notes(cfg, corpus, 100, false), "keeps no optimizer state"));
  EXPECT_FALSE(has(settings_notes(cfg, corpus, 100, true), "keeps no optimizer state"));
  cfg.state = "dense";

  const unsigned cores = std::thread::hardware_concurrency();
  if (cores > 0) {
    cfg.threads = static_cast<int>(cores) + 1;
    EXPECT_TRUE(has(settings_notes(cfg, corpus, 100, true), "more than the"));
    cfg.threads = static_cast<int>(cores);
    EXPECT_TRUE(settings_notes(cfg, corpus, 100, true).empty());
  }

  cfg.schedule = "warmup:100+linear";
  EXPECT_TRUE(has(settings_notes(cfg, corpus, 100, true), "never reaches --lr"));
  EXPECT_TRUE(settings_notes(cfg, corpus, 101, true).empty());
  cfg.schedule = "constant";

  corpus.split_named = true;
  corpus.dir = "wt";
  corpus.heldout_shards = {"wt/dev.txt", "wt/wiki.valid.tokens"};
  EXPECT_TRUE(has(settings_notes(cfg, corpus, 100, true), "using wt/dev.txt"));
  cfg.heldout = "wt/wiki.valid.tokens";
  EXPECT_TRUE(settings_notes(cfg, corpus, 100, true).empty());
}

// A vocabulary whose counts increase somewhere, under the sampled softmax only: its log-uniform
// sampler assumes ids in descending frequency (QA: an alphabetical file gave perplexity 1329 where
// the sorted one gave 583, without a word).
TEST(SettingsNotes, UnsortedVocabularyUnderTheSampledSoftmax) {
  const Vocab sorted = Vocab::from_words({"the", "cat", "a"}, {9, 5, 5}, 3, 3, 0);
  const Vocab alpha = Vocab::from_words({"a", "cat", "the"}, {5, 5, 9}, 3, 3, 0);
  const Vocab no_counts = Vocab::from_words({"a", "cat", "the"}, {0, 0, 0});
  EXPECT_EQ(sorted.first_count_increase(), -1);
  EXPECT_EQ(alpha.first_count_increase(), 5);
  RunConfig cfg;
  cfg.softmax = "sampled:2";
  EXPECT_EQ(vocab_order_note(cfg, sorted, "--vocab v.txt"), "");
  EXPECT_EQ(vocab_order_note(cfg, no_counts, "--vocab v.txt"), "");
  const std::string note = vocab_order_note(cfg, alpha, "the vocabulary --vocab v.txt");
  EXPECT_NE(
      note.find("note: the vocabulary --vocab v.txt is not sorted by descending count ('the', "
                "id 5, count 9, follows 'cat', count 5)"),
      std::string::npos)
      << note;
  EXPECT_NE(note.find("sketchgrad vocab"), std::string::npos) << note;
  cfg.softmax = "full";
  EXPECT_EQ(vocab_order_note(cfg, alpha, "--vocab v.txt"), "");
}

}  // namespace
}  // namespace sg
