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

}  // namespace
}  // namespace sg
