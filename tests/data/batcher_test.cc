// Pair framing, TrainBatcher determinism / skip / epochs / errors, EvalBatcher counts and stream
// layout.
#include "data/batcher.h"

#include <algorithm>
#include <map>

#include "data/corpus.h"
#include "data/text.h"
#include "data/train_stream.h"
#include "data_test_util.h"
#include "engine/check.h"
#include "engine/rng.h"
#include "gmock/gmock.h"

namespace sg {
namespace {

using sg::testing::error_of;
using sg::testing::TempDir;
using sg::testing::write_file;
using ::testing::HasSubstr;

bool same(const Batch& a, const Batch& b) {
  return a.T == b.T && a.B == b.B && a.tokens == b.tokens && a.targets == b.targets &&
         a.weight == b.weight && a.predicted == b.predicted;
}

// A corpus of `n` sentences "s<i> x ... x" of varied lengths in `shards` files.
std::vector<std::string> make_corpus(const TempDir& d, int n, int shards) {
  std::vector<std::string> text(shards), files;
  for (int i = 0; i < n; ++i) {
    std::string s = "s" + std::to_string(i);
    for (int k = 0; k < static_cast<int>(rng_u64(7, 0, i) % 9); ++k) s += " w" + std::to_string(k);
    text[i % shards] += s + "\n";
  }
  for (int k = 0; k < shards; ++k) {
    files.push_back(d.file("news.en-0000" + std::to_string(k + 1) + "-of-00100"));
    write_file(files.back(), text[k]);
  }
  return files;
}

TEST(EvalBatcher, PairFramingOnAHandWrittenCorpus) {
  TempDir d;
  write_file(d.file("h"), "a b\nc\n\nd e f\n");
  Vocab v = Vocab::build({d.file("h")}, 1);
  const int32_t S = v.bos(), E = v.eos(), a = v.id("a"), b = v.id("b"), c = v.id("c"),
                dd = v.id("d"), e = v.id("e"), f = v.id("f");
  EvalBatcher eb(d.file("h"), v, 2, 3);
  EXPECT_EQ(eb.total_predicted(), 9);
  EXPECT_EQ(eb.batches(), 2);
  // Streams: [a b][c] (5 pairs) and [d e f] (4 pairs); time-major [T=3, B=2].
  Batch x;
  ASSERT_TRUE(eb.next(x));
  EXPECT_EQ(x.tokens, (std::vector<int32_t>{S, S, a, dd, b, e}));
  EXPECT_EQ(x.targets, (std::vector<int32_t>{a, dd, b, e, E, f}));
  EXPECT_EQ(x.weight, (std::vector<float>{1, 1, 1, 1, 1, 1}));
  EXPECT_EQ(x.predicted, 6);
  ASSERT_TRUE(eb.next(x));
  EXPECT_EQ(x.tokens, (std::vector<int32_t>{S, f, c, 0, 0, 0}));
  EXPECT_EQ(x.targets, (std::vector<int32_t>{c, E, E, 0, 0, 0}));
  EXPECT_EQ(x.weight, (std::vector<float>{1, 1, 1, 0, 0, 0}));
  EXPECT_EQ(x.predicted, 3);
  EXPECT_EQ(x.words, 3);
  EXPECT_FALSE(eb.next(x));
  eb.rewind();
  EXPECT_TRUE(eb.next(x));
  EXPECT_EQ(x.tokens[0], S);
}

// A literal <S> / </S> in the text is the word <UNK> in training and evaluation batches alike: it
// used to act as a marker mid-sentence (eval of "<S> <S> <S>" predicted <S> three times).
TEST(EvalBatcher, LiteralSentenceMarkersAreUnkInBothBatchers) {
  TempDir d;
  write_file(d.file("h"), "a <S> b </S>\n");
  Vocab v = Vocab::build({d.file("h")}, 1);
  const int32_t S = v.bos(), E = v.eos(), U = v.unk(), a = v.id("a"), b = v.id("b");
  EvalBatcher eb(d.file("h"), v, 1, 5);
  EXPECT_EQ(eb.literal_markers(), 2);
  Batch x;
  ASSERT_TRUE(eb.next(x));
  EXPECT_EQ(x.tokens, (std::vector<int32_t>{S, a, U, b, U}));
  EXPECT_EQ(x.targets, (std::vector<int32_t>{a, U, b, U, E}));
  TrainBatcher tb({d.file("h")}, v, 1, 5, 1);
  const Batch t = tb.next();
  EXPECT_EQ(t.tokens, x.tokens);
  EXPECT_EQ(t.targets, x.targets);
}

TEST(TrainBatcher, PairFramingAndEpochLoopOnOneSentence) {
  TempDir d;
  write_file(d.file("s"), "x y z\n");
  Vocab v = Vocab::build({d.file("s")}, 1);
  const int32_t S = v.bos(), E = v.eos(), x = v.id("x"), y = v.id("y"), z = v.id("z");
  TrainBatcher tb({d.file("s")}, v, 2, 3, 1);
  EXPECT_EQ(tb.corpus_words(), 4);
  TrainBatcher given({d.file("s")}, v, 2, 3, 1);
  EXPECT_THROW(given.set_corpus_words(0), Error);
  given.set_corpus_words(v.counted_predictions());  // what train does with a fresh vocabulary
  EXPECT_EQ(given.corpus_words(), 4);
  // Pairs per sentence: (S,x) (x,y) (y,z) (z,E). Stream 0 takes sentence copies 1 and 3, stream 1
  // copies 2, 4.
  Batch b1 = tb.next(), b2 = tb.next();
  EXPECT_EQ(b1.tokens, (std::vector<int32_t>{S, S, x, x, y, y}));
  EXPECT_EQ(b1.targets, (std::vector<int32_t>{x, x, y, y, z, z}));
  EXPECT_EQ(b2.tokens, (std::vector<int32_t>{z, z, S, S, x, x}));
  EXPECT_EQ(b2.targets, (std::vector<int32_t>{E, E, x, x, y, y}));
  EXPECT_EQ(b1.weight, std::vector<float>(6, 1.f));
  EXPECT_EQ(b2.predicted, 6);
  EXPECT_DOUBLE_EQ(tb.epochs_done(), 12.0 / 4.0);
}

// Reference: the sentence sequence (shuffled shards, shuffled sentences) and torch_lm.py's stream
// filling.
std::vector<Batch> reference_batches(const std::vector<std::string>& files, const Vocab& v,
                                     int64_t B, int64_t T, uint64_t seed, int n) {
  std::vector<std::vector<int32_t>> seq;  // sentences as <S> w.. </S>
  for (int64_t e = 0; seq.size() < static_cast<size_t>(n * B * T); ++e) {
    for (uint32_t k : shuffled_order(files.size(), seed, uint64_t(e) << 32)) {
      ShardText sh = load_shard(files[k]);
      for (uint32_t i : shuffled_order(sh.sentences(), seed, (uint64_t(e) << 32) | (k + 1))) {
        std::vector<int32_t> s{v.bos()};
        for_each_token(sh.sentence(i), [&](std::string_view w) { s.push_back(v.id(w)); });
        s.push_back(v.eos());
        seq.push_back(s);
      }
    }
  }
  size_t next = 0;
  std::vector<std::vector<int32_t>> cur(B);
  std::vector<size_t> pos(B, 0);
  std::vector<Batch> out;
  for (int k = 0; k < n; ++k) {
    Batch b;
    b.T = T, b.B = B;
    b.tokens.resize(B * T), b.targets.resize(B * T), b.weight.assign(B * T, 1.f);
    b.predicted = b.words = B * T;
    for (int64_t s = 0; s < B; ++s) {
      for (int64_t t = 0; t < T; ++t) {
        if (cur[s].empty() || pos[s] + 1 >= cur[s].size()) cur[s] = seq[next++], pos[s] = 0;
        b.tokens[t * B + s] = cur[s][pos[s]];
        b.targets[t * B + s] = cur[s][pos[s] + 1];
        ++pos[s];
      }
    }
    out.push_back(b);
  }
  return out;
}

TEST(TrainBatcher, MatchesTheReferenceSequenceAcrossEpochs) {
  TempDir d;
  auto files = make_corpus(d, 40, 3);
  Vocab v = Vocab::build(files, 2);
  const int n = 30;  // about 4 epochs
  auto want = reference_batches(files, v, 3, 5, 11, n);
  TrainBatcher tb(files, v, 3, 5, 11);
  for (int k = 0; k < n; ++k) {
    Batch b = tb.next();
    ASSERT_TRUE(same(b, want[k])) << "batch " << k;
  }
}

TEST(TrainBatcher, DeterministicForASeedAndSeedsDiffer) {
  TempDir d;
  auto files = make_corpus(d, 200, 4);
  Vocab v = Vocab::build(files, 1);
  TrainBatcher a(files, v, 4, 7, 5), b(files, v, 4, 7, 5), c(files, v, 4, 7, 6);
  int differ = 0;
  for (int k = 0; k < 60; ++k) {
    Batch x = a.next(), y = b.next(), z = c.next();
    ASSERT_TRUE(same(x, y)) << "batch " << k;
    differ += !same(x, z);
  }
  EXPECT_GT(differ, 50);
}

TEST(TrainBatcher, SkipReproducesTheStateAfterNextCalls) {
  TempDir d;
  auto files = make_corpus(d, 50, 2);
  Vocab v = Vocab::build(files, 1);
  TrainBatcher a(files, v, 3, 4, 9);
  std::vector<Batch> seq;
  for (int k = 0; k < 80; ++k) seq.push_back(a.next());  // crosses several epochs
  for (int64_t n : {0, 1, 5, 37, 61}) {
    TrainBatcher b(files, v, 3, 4, 9);
    b.skip(n);
    EXPECT_EQ(b.batches_taken(), n);
    for (int k = n; k < std::min<int64_t>(n + 12, 80); ++k)
      ASSERT_TRUE(same(b.next(), seq[k])) << n << " " << k;
  }
  // Interleaved next / skip, including skips of batches the prefetch thread has already built.
  TrainBatcher c(files, v, 3, 4, 9);
  ASSERT_TRUE(same(c.next(), seq[0]));
  c.skip(2);
  ASSERT_TRUE(same(c.next(), seq[3]));
  c.skip(20);
  c.skip(0);
  c.skip(3);
  ASSERT_TRUE(same(c.next(), seq[27]));
  ASSERT_TRUE(same(c.next(), seq[28]));
  EXPECT_THROW(c.skip(-1), Error);
}

TEST(TrainBatcher, EachEpochVisitsEverySentenceOnceInANewOrder) {
  TempDir d;
  auto files = make_corpus(d, 30, 3);
  Vocab v = Vocab::build(files, 1);
  const int64_t T = 7;
  TrainBatcher tb(files, v, 1, T, 3);
  const int64_t words = tb.corpus_words();
  std::vector<int32_t> tok;
  while (static_cast<int64_t>(tok.size()) < 3 * words) {
    Batch b = tb.next();
    tok.insert(tok.end(), b.tokens.begin(), b.tokens.end());
  }
  // With B = 1 the input stream is the sentence sequence; the first word of each sentence follows
  // <S>.
  std::vector<std::vector<int32_t>> epoch(3);
  for (int64_t i = 0; i + 1 < 3 * words; ++i)
    if (tok[i] == v.bos()) epoch[i / words].push_back(tok[i + 1]);
  std::vector<int32_t> all;
  for (int i = 0; i < 30; ++i) all.push_back(v.id("s" + std::to_string(i)));
  std::sort(all.begin(), all.end());
  for (int e = 0; e < 3; ++e) {
    auto sorted = epoch[e];
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, all) << "epoch " << e;
  }
  EXPECT_NE(epoch[0], epoch[1]);
  EXPECT_NE(epoch[1], epoch[2]);
  EXPECT_NEAR(tb.epochs_done(), static_cast<double>(tok.size()) / words, 1e-12);
}

// A shard read in small pieces still gives every sentence once per epoch, in a new order each
// epoch; with pieces as large as the shard the sequence is the unsplit one.
TEST(TrainStream, ShardPiecesKeepEveryEpochComplete) {
  TempDir d;
  auto files = make_corpus(d, 60, 1);
  Vocab v = Vocab::build(files, 1);
  auto first_words = [&](int64_t max_piece, int epochs) {
    TrainStream ts(files, &v, 1, 1, 5, max_piece);
    std::vector<std::vector<int32_t>> per_epoch(epochs);
    Batch b;
    b.T = 1, b.B = 1;
    b.tokens.resize(1), b.targets.resize(1), b.weight.resize(1);
    while (ts.epoch() < epochs) {
      ts.fill(b);
      if (ts.epoch() < epochs && b.tokens[0] == v.bos())
        per_epoch[ts.epoch()].push_back(b.targets[0]);
    }
    return per_epoch;
  };
  std::vector<int32_t> all;
  for (int i = 0; i < 60; ++i) all.push_back(v.id("s" + std::to_string(i)));
  std::sort(all.begin(), all.end());
  auto pieces = first_words(40, 2);  // about 8 sentences per piece
  for (auto& e : pieces) {
    EXPECT_EQ(e.size(), 60u);
    auto sorted = e;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, all);
  }
  EXPECT_NE(pieces[0], pieces[1]);
  EXPECT_EQ(first_words(1 << 20, 2), first_words(kMaxShardPieceBytes, 2));
  EXPECT_NE(first_words(40, 1), first_words(1 << 20, 1));
}

TEST(TrainBatcher, ReaderErrorsAreRethrownByNext) {
  TempDir d;
  write_file(d.file("good"), "a b c\n");
  write_file(d.file("bad"), "a b\nb \xFF c\n");
  Vocab v = Vocab::build({d.file("good")}, 1);
  TrainBatcher tb({d.file("good"), d.file("bad")}, v, 2, 2, 1);
  std::string msg;
  for (int k = 0; k < 10 && msg.empty(); ++k) {
    try {
      tb.next();
    } catch (const Error& e) {
      msg = e.what();
    }
  }
  EXPECT_THAT(msg, HasSubstr(d.file("bad") + ":2 is not valid UTF-8"));
  EXPECT_THROW(tb.next(), Error);  // stays failed
  EXPECT_THAT(error_of([&] { tb.corpus_words(); }), HasSubstr("not valid UTF-8"));
}

TEST(TrainBatcher, BadArgumentsAndEmptyCorpus) {
  TempDir d;
  write_file(d.file("blank"), "\n  \n");
  write_file(d.file("ok"), "a\n");
  Vocab v;
  EXPECT_THAT(error_of([&] { TrainBatcher({}, v, 1, 1, 1); }), HasSubstr("no training shards"));
  EXPECT_THAT(error_of([&] { TrainBatcher({d.file("ok")}, v, 0, 1, 1); }),
              HasSubstr("must be >= 1"));
  TrainBatcher tb({d.file("blank")}, v, 1, 1, 1);
  EXPECT_THAT(error_of([&] { tb.next(); }), HasSubstr("hold no sentences"));
  EXPECT_THAT(error_of([&] { TrainBatcher({d.file("nope")}, v, 1, 1, 1); }),
              HasSubstr("cannot open shard"));
}

TEST(TrainBatcher, DestructorStopsAFullPrefetchQueue) {
  TempDir d;
  auto files = make_corpus(d, 20, 1);
  Vocab v = Vocab::build(files, 1);
  for (int k = 0; k < 20; ++k) {
    TrainBatcher tb(files, v, 2, 3, k);
    if (k % 2) tb.next();
    if (k % 3 == 0) tb.skip(1000000);  // destroyed in the middle of a long skip
  }
  SUCCEED();
}

TEST(EvalBatcher, StreamsConcatenateToTheFileInOrder) {
  TempDir d;
  auto files = make_corpus(d, 57, 1);
  Vocab v = Vocab::build(files, 2);
  // The file's pair sequence.
  std::vector<std::pair<int32_t, int32_t>> want;
  ShardText sh = load_shard(files[0]);
  for (size_t i = 0; i < sh.sentences(); ++i) {
    std::vector<int32_t> s{v.bos()};
    for_each_token(sh.sentence(i), [&](std::string_view w) { s.push_back(v.id(w)); });
    s.push_back(v.eos());
    for (size_t k = 0; k + 1 < s.size(); ++k) want.emplace_back(s[k], s[k + 1]);
  }
  for (auto [B, T] : {std::pair<int64_t, int64_t>{1, 1}, {3, 4}, {8, 5}, {100, 3}}) {
    EvalBatcher eb(files[0], v, B, T);
    EXPECT_EQ(eb.total_predicted(), static_cast<int64_t>(want.size()));
    EXPECT_EQ(eb.total_predicted(), count_predicted(files[0]));
    std::vector<std::vector<std::pair<int32_t, int32_t>>> streams(B);
    Batch b;
    int64_t predicted = 0;
    while (eb.next(b)) {
      predicted += b.predicted;
      for (int64_t t = 0; t < T; ++t)
        for (int64_t s = 0; s < B; ++s)
          if (b.weight[t * B + s] == 1.f) {
            streams[s].emplace_back(b.tokens[t * B + s], b.targets[t * B + s]);
          } else {
            EXPECT_EQ(b.weight[t * B + s], 0.f);
          }
    }
    EXPECT_EQ(predicted, eb.total_predicted());
    std::vector<std::pair<int32_t, int32_t>> got;
    for (auto& s : streams) {
      if (!s.empty()) EXPECT_EQ(s.front().first, v.bos());  // every stream starts a sentence
      got.insert(got.end(), s.begin(), s.end());
    }
    EXPECT_EQ(got, want) << "B=" << B << " T=" << T;
  }
}

TEST(EvalBatcher, MaxTokensAndErrors) {
  TempDir d;
  auto files = make_corpus(d, 40, 1);
  Vocab v = Vocab::build(files, 1);
  EvalBatcher eb(files[0], v, 3, 4, 17);
  EXPECT_EQ(eb.total_predicted(), 17);
  Batch b;
  int64_t n = 0;
  while (eb.next(b)) n += b.predicted;
  EXPECT_EQ(n, 17);
  write_file(d.file("blank"), "\n\n");
  EXPECT_THAT(error_of([&] { EvalBatcher(d.file("blank"), v, 1, 1); }),
              HasSubstr("holds no sentences"));
  EXPECT_THAT(error_of([&] { EvalBatcher(d.file("nope"), v, 1, 1); }),
              HasSubstr("cannot open shard"));
  EXPECT_THAT(error_of([&] { EvalBatcher(files[0], v, 1, 0); }), HasSubstr("must be >= 1"));
  write_file(d.file("bad"), "ok\n\xC3(\n");
  EXPECT_THAT(error_of([&] { EvalBatcher(d.file("bad"), v, 1, 1); }),
              HasSubstr(d.file("bad") + ":2 is not valid UTF-8"));
}

}  // namespace
}  // namespace sg
