// The committed corpora: the real LM1B test shard (exactly 159,658 predicted tokens) and the
// bundled State of the Union corpus.
#include <cstdio>

#include "data/batcher.h"
#include "data/corpus.h"
#include "data/vocab.h"
#include "gtest/gtest.h"

namespace sg {
namespace {

const std::string kRoot = SG_SOURCE_DIR;

TEST(Lm1bTestShard, EvalBatcherCountsExactly159658PredictedTokens) {
  CorpusLayout c = find_corpus(kRoot + "/data/lm1b_test");
  ASSERT_EQ(c.heldout_shards.size(), 1u);
  EXPECT_TRUE(c.train_shards.empty());
  const std::string shard = c.heldout_shards[0];
  EXPECT_EQ(count_predicted(shard), 159658);
  Vocab v;  // every word maps to <UNK>: the count does not depend on the vocabulary
  for (auto [B, T] : {std::pair<int64_t, int64_t>{7, 13}, {64, 20}, {1, 35}, {1000, 1}}) {
    EvalBatcher eb(shard, v, B, T);
    EXPECT_EQ(eb.total_predicted(), 159658);
    Batch b;
    int64_t n = 0, sentence_ends = 0, batches = 0;
    while (eb.next(b)) {
      n += b.predicted;
      ++batches;
      for (size_t i = 0; i < b.targets.size(); ++i)
        sentence_ends += b.weight[i] > 0 && b.targets[i] == v.eos();
    }
    EXPECT_EQ(n, 159658) << "B=" << B << " T=" << T;
    EXPECT_EQ(sentence_ends, 6075);
    EXPECT_EQ(batches, eb.batches());
  }
}

TEST(BundledCorpus, LoadsTrainsAndEvaluates) {
  CorpusLayout c = find_corpus(kRoot + "/data/sotu");
  EXPECT_GE(c.train_shards.size(), 2u);
  ASSERT_EQ(c.heldout_shards.size(), 1u);
  Vocab v = Vocab::build(c.train_shards, 3);
  EXPECT_EQ(v.size(), 8453);  // as data/sotu/README.md states (counted by the Python script)
  EXPECT_EQ(v.word(3), "the");
  int64_t train_words = 0;
  for (const auto& s : c.train_shards) train_words += count_predicted(s);
  EXPECT_GT(train_words, 100000);
  TrainBatcher tb(c.train_shards, v, 16, 20, 1);
  EXPECT_EQ(tb.corpus_words(), train_words);
  int64_t unk = 0;
  for (int k = 0; k < 20; ++k) {
    Batch b = tb.next();
    for (int32_t t : b.targets) unk += t == v.unk();
  }
  EXPECT_LT(unk, 20 * 16 * 20 / 10);  // under 10 % <UNK> at min-count 3
  EvalBatcher eb(c.heldout_shards[0], v, 8, 20);
  EXPECT_EQ(eb.total_predicted(), count_predicted(c.heldout_shards[0]));
  EXPECT_GT(eb.total_predicted(), train_words / 40);  // about 5 % held out
}

}  // namespace
}  // namespace sg
