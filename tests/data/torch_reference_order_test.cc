// bench/lm_corpus.py (the PyTorch reference trainer's data reader) gives the same training batches
// as TrainStream: same vocabulary, same pieces, same shuffled sentence order across epochs, same
// streams. Skips when there is no python3.
#include <stdio.h>
#include <unistd.h>

#include <sstream>

#include "data/batcher.h"
#include "data/corpus.h"
#include "data/train_stream.h"
#include "data/vocab.h"
#include "data_test_util.h"
#include "gtest/gtest.h"

namespace sg {
namespace {

using sg::testing::TempDir;
using sg::testing::train_dir;
using sg::testing::write_file;

std::string run_python(const std::string& args, int* code) {
  const std::string cmd =
      "/usr/bin/python3 " + std::string(SG_SOURCE_DIR) + "/bench/lm_corpus.py " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  if (!p) {
    *code = -1;
    return out;
  }
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  *code = pclose(p);
  return out;
}

std::vector<int32_t> ints(const std::string& line) {
  std::istringstream is(line);
  std::vector<int32_t> v;
  for (int32_t x; is >> x;) v.push_back(x);
  return v;
}

TEST(TorchReferenceOrder, SameBatchesAsTrainStream) {
  if (access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/python3";
  TempDir d;
  // Three shards with a byte-order mark, CRLF, tabs, blank lines and a non-breaking space (one
  // word, not two); pieces of at most 120 bytes, so the large shard is cut into several.
  std::string big;
  for (int i = 0; i < 40; ++i)
    big += "w" + std::to_string(i % 7) + " x" + std::to_string(i % 5) + (i % 3 ? "\r\n" : "\n\n");
  write_file(train_dir(d.path) + "/news.en-00002-of-00100", big);
  write_file(train_dir(d.path) + "/news.en-00001-of-00100",
             "\xEF\xBB\xBFw1 w2\tw3\n  \nw4 caf\xC3\xA9\xC2\xA0noir w1\nw2\n");
  write_file(train_dir(d.path) + "/news.en-00003-of-00100", "a b c d e f g h i j k\nw1\n");
  const int64_t B = 3, T = 7, kBatches = 40, kPiece = 120;
  const uint64_t seed = 11;

  int code = 0;
  const std::string out = run_python("--data " + d.path +
                                         " --batch 3 --bptt 7 --seed 11 --batches 40 "
                                         "--max-piece-bytes 120",
                                     &code);
  ASSERT_EQ(code, 0) << out;
  std::istringstream lines(out);
  std::string line;
  ASSERT_TRUE(std::getline(lines, line));
  const CorpusLayout c = find_corpus(d.path);
  const Vocab vocab = Vocab::build(c.train_shards, 1);
  EXPECT_EQ(std::stoll(line), vocab.size());
  ASSERT_GT(split_shards(c.train_shards, kPiece).size(), 4u);  // the cutting is exercised

  TrainStream ts(c.train_shards, &vocab, B, T, seed, kPiece);
  Batch b;
  for (int i = 0; i < kBatches; ++i) {
    ts.fill(b);
    ASSERT_TRUE(std::getline(lines, line));
    ASSERT_EQ(ints(line), b.tokens) << "inputs of batch " << i;
    ASSERT_TRUE(std::getline(lines, line));
    ASSERT_EQ(ints(line), b.targets) << "targets of batch " << i;
  }
  EXPECT_GE(ts.epoch(), 2);  // several epochs, each in its own order
}

TEST(TorchReferenceOrder, SameHeldoutBatchesAsEvalBatcher) {
  if (access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/python3";
  TempDir d;
  write_file(train_dir(d.path) + "/news.en-00001-of-00100", "a b c\nd e\nf\n");
  std::string held = "\xEF\xBB\xBF";
  for (int i = 0; i < 23; ++i)
    held += std::string(i % 4, 'a') + " b c" + (i % 5 ? " zz\n" : "\n\n");
  write_file(d.file("held.txt"), held);
  const CorpusLayout c = find_corpus(d.path);
  const Vocab vocab = Vocab::build(c.train_shards, 1);
  for (int64_t max_tokens : {0, 37}) {
    int code = 0;
    const std::string out =
        run_python("--data " + d.path + " --batch 5 --bptt 4 --heldout " + d.file("held.txt") +
                       " --max-tokens " + std::to_string(max_tokens),
                   &code);
    ASSERT_EQ(code, 0) << out;
    std::istringstream lines(out);
    std::string line;
    ASSERT_TRUE(std::getline(lines, line));  // vocabulary size
    EvalBatcher eb(d.file("held.txt"), vocab, 5, 4, max_tokens);
    Batch b;
    int batches = 0;
    while (eb.next(b)) {
      ASSERT_TRUE(std::getline(lines, line)) << "batch " << batches;
      ASSERT_EQ(ints(line), b.tokens) << "inputs of batch " << batches;
      ASSERT_TRUE(std::getline(lines, line));
      ASSERT_EQ(ints(line), b.targets) << "targets of batch " << batches;
      ASSERT_TRUE(std::getline(lines, line));
      std::vector<int32_t> w(b.weight.begin(), b.weight.end());
      ASSERT_EQ(ints(line), w) << "weights of batch " << batches;
      ++batches;
    }
    EXPECT_FALSE(std::getline(lines, line)) << "python gives more batches than " << batches;
    EXPECT_GT(batches, 2);
  }
}

}  // namespace
}  // namespace sg
