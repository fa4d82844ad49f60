// Synthetic corpus: layout, determinism, Zipf rank-frequency slope, sentence lengths, its
// vocabulary file.
#include "data/synthetic.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <map>

#include "counting_allocator.h"
#include "data/corpus.h"
#include "data/text.h"
#include "data/vocab.h"
#include "data_test_util.h"
#include "engine/check.h"
#include "gmock/gmock.h"

namespace sg {
namespace {

using sg::testing::error_of;
using sg::testing::read_file;
using sg::testing::TempDir;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

// The names in a folder, sorted.
std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(Synthetic, LayoutDeterminismZipfAndLengths) {
  TempDir d;
  write_synthetic_corpus(d.file("a"), 4000, 2003, 3, 42);
  write_synthetic_corpus(d.file("b"), 4000, 2003, 3, 42);
  write_synthetic_corpus(d.file("c"), 4000, 2003, 3, 43);
  CorpusLayout a = find_corpus(d.file("a")), b = find_corpus(d.file("b")),
               c = find_corpus(d.file("c"));
  ASSERT_EQ(a.train_shards.size(), 3u);
  ASSERT_EQ(a.heldout_shards.size(), 1u);
  EXPECT_THAT(a.train_shards[0], ::testing::HasSubstr("news.en-00001-of-00100"));
  EXPECT_THAT(a.heldout_shards[0], ::testing::HasSubstr("news.en.heldout-00000-of-00050"));
  for (size_t k = 0; k < 3; ++k) {
    EXPECT_EQ(read_file(a.train_shards[k]), read_file(b.train_shards[k]));
    EXPECT_NE(read_file(a.train_shards[k]), read_file(c.train_shards[k]));
  }
  EXPECT_EQ(read_file(a.heldout_shards[0]), read_file(b.heldout_shards[0]));
  EXPECT_EQ(read_file(d.file("a/vocab.txt")), read_file(d.file("b/vocab.txt")));

  std::map<std::string, int64_t> freq;
  int64_t sentences = 0, words = 0, longest = 0;
  for (const auto& f : a.train_shards) {
    ShardText s = load_shard(f);
    sentences += s.sentences();
    for (size_t i = 0; i < s.sentences(); ++i) {
      int64_t n = 0;
      for_each_token(s.sentence(i), [&](std::string_view w) { ++freq[std::string(w)], ++n; });
      words += n;
      longest = std::max(longest, n);
    }
  }
  EXPECT_EQ(sentences, 4000);
  const double mean = static_cast<double>(words) / sentences;
  EXPECT_GT(mean, 24.0);
  EXPECT_LT(mean, 27.5);
  EXPECT_GT(longest, 80);  // long right tail
  EXPECT_LE(load_shard(a.heldout_shards[0]).sentences(), 40u);

  // Rank r word "w<r>": frequency ~ 1/(r+1). Least-squares slope of log f vs log(r+1) over ranks
  // 0..199.
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  const int R = 200;
  for (int r = 0; r < R; ++r) {
    const double x = std::log(r + 1.0),
                 y = std::log(static_cast<double>(freq["w" + std::to_string(r)]));
    sx += x, sy += y, sxx += x * x, sxy += x * y;
  }
  const double slope = (R * sxy - sx * sy) / (R * sxx - sx * sx);
  EXPECT_NEAR(slope, -1.0, 0.1);
  EXPECT_LE(freq.size(), 2000u);
  EXPECT_NEAR(static_cast<double>(freq["w0"]) / words, 1.0 / (std::log(2000.0) + 0.5772), 0.01);

  // vocab.txt: exactly `vocab` ids, counts matching the text, ordered as Vocab::build orders them.
  Vocab v = Vocab::load(d.file("a/vocab.txt"));
  EXPECT_EQ(v.size(), 2003);
  Vocab built = Vocab::build(a.train_shards, 1);
  ASSERT_LE(built.size(), v.size());
  for (int32_t i = 3; i < built.size(); ++i) {
    ASSERT_EQ(v.word(i), built.word(i));
    ASSERT_EQ(v.count(i), built.count(i));
  }
}

TEST(Synthetic, BadArguments) {
  TempDir d;
  EXPECT_THROW(write_synthetic_corpus(d.file("x"), 0, 100, 1, 1), Error);
  EXPECT_THROW(write_synthetic_corpus(d.file("x"), 10, 3, 1, 1), Error);
  EXPECT_THROW(write_synthetic_corpus(d.file("x"), 10, 100, 0, 1), Error);
  EXPECT_THROW(write_synthetic_corpus(d.file("x"), 2, 100, 3, 1), Error);
  sg::testing::write_file(d.file("file"), "x");
  EXPECT_THROW(write_synthetic_corpus(d.file("file"), 10, 100, 1, 1), Error);
}

// vocab.txt lists every word, zero counts included, by descending count, ties by spelling.
TEST(Synthetic, VocabularyFileOrderCoversEveryWord) {
  TempDir d;
  write_synthetic_corpus(d.file("a"), 300, 20003, 2, 5);
  Vocab v = Vocab::load(d.file("a") + "/vocab.txt");
  ASSERT_EQ(v.size(), 20003);
  for (int32_t i = 4; i < v.size(); ++i) {
    ASSERT_GE(v.count(i - 1), v.count(i)) << i;
    if (v.count(i - 1) == v.count(i)) ASSERT_LT(v.word(i - 1), v.word(i)) << i;
  }
  EXPECT_EQ(v.count(v.size() - 1), 0);  // most of the 20,000 words never occur in 300 sentences
}

// The writer holds kSyntheticBytesPerWord bytes a word at most (it held ~53: a string per word
// and 64-bit work lists), and refuses up front, creating nothing, when that is more than the
// memory it may use.
TEST(Synthetic, MemoryIsBoundedAndCheckedUpFront) {
  TempDir d;
  const int64_t vocab = 1000003;
  const int64_t peak =
      sg::testing::peak_bytes_of([&] { write_synthetic_corpus(d.file("a"), 20, vocab, 2, 1); });
  EXPECT_LE(peak, synthetic_corpus_memory_bytes(vocab));
  EXPECT_GE(synthetic_corpus_memory_bytes(vocab), kSyntheticBytesPerWord * (vocab - 3));
  const std::string err = error_of([&] {
    write_synthetic_corpus(d.file("b"), 20, vocab, 2, 1, {},
                           synthetic_corpus_memory_bytes(vocab) - 1);
  });
  EXPECT_THAT(err, HasSubstr("a vocabulary of 1000003 words needs 21 MiB of memory"));
  EXPECT_FALSE(fs::exists(d.file("b")));
  // The largest size (2^31 - 2, as synth --help says) passes the range check and meets the memory
  // one.
  EXPECT_THAT(error_of([&] {
                write_synthetic_corpus(d.file("b"), 10, kMaxSyntheticVocab, 1, 1, {}, 1 << 30);
              }),
              HasSubstr("needs 40.0 GiB of memory"));
  EXPECT_THAT(error_of([&] {
                write_synthetic_corpus(d.file("b"), 10, kMaxSyntheticVocab + 1, 1, 1, {}, 1 << 30);
              }),
              HasSubstr("must be in [4, 2^31 - 2]"));
  EXPECT_FALSE(fs::exists(d.file("b")));
  EXPECT_GT(available_memory_bytes(), 0);  // /proc/meminfo at least
}

// A stopped or failed run leaves nothing that blocks a rerun; empty layout folders (left by older
// versions) are replaced, a folder left by a killed run is removed, a real corpus is refused.
TEST(Synthetic, StoppedRunLeavesNothingBehind) {
  TempDir d;
  for (int calls : {0, 1, 3, 6}) {
    const std::string out = d.file("s" + std::to_string(calls));
    int n = 0;
    EXPECT_THAT(error_of([&] {
                  write_synthetic_corpus(out, 50000, 5003, 3, 1, [&] { return n++ >= calls; });
                }),
                HasSubstr("synthetic corpus: stopped"));
    EXPECT_FALSE(fs::exists(out)) << calls << " polls";
  }
  const std::string out = d.file("kept");
  fs::create_directories(out + "/mine");
  int n = 0;
  EXPECT_THROW(write_synthetic_corpus(out, 50000, 5003, 3, 1, [&] { return n++ >= 4; }), Error);
  EXPECT_EQ(names_in(out), std::vector<std::string>{"mine"});  // a folder it did not create stays

  const std::string old = d.file("old");
  fs::create_directories(old + "/" + kTrainFolder);
  fs::create_directories(old + "/" + kHeldoutFolder);
  fs::create_directories(old + "/.synth-partial-999999999/" + std::string(kTrainFolder));
  // A run killed with SIGKILL whose parent has not reaped it yet is a zombie: its pid still
  // answers kill(pid, 0), but its partial folder is stale all the same.
  const pid_t zombie = fork();
  if (zombie == 0) _exit(0);
  ASSERT_GT(zombie, 0);
  siginfo_t info{};
  ASSERT_EQ(waitid(P_PID, static_cast<id_t>(zombie), &info, WEXITED | WNOWAIT), 0);
  fs::create_directories(old + "/.synth-partial-" + std::to_string(zombie) + "/" + kTrainFolder);
  write_synthetic_corpus(old, 100, 503, 2, 1);
  ASSERT_EQ(waitpid(zombie, nullptr, 0), zombie);
  EXPECT_EQ(names_in(old), (std::vector<std::string>{kHeldoutFolder, kTrainFolder, "vocab.txt"}));
  EXPECT_EQ(find_corpus(old).train_shards.size(), 2u);
  EXPECT_THAT(error_of([&] { write_synthetic_corpus(old, 100, 503, 2, 1); }),
              HasSubstr("already holds a corpus"));
  EXPECT_EQ(find_corpus(old).train_shards.size(), 2u);
}

}  // namespace
}  // namespace sg
