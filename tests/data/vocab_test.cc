// Vocabulary: build order and counts, both load formats, save/load round trip, bad lines with
// file:line.
#include "data/vocab.h"

#include <filesystem>

#include "data/corpus.h"
#include "data_test_util.h"
#include "engine/check.h"
#include "gmock/gmock.h"

namespace sg {
namespace {

using sg::testing::error_of;
using sg::testing::TempDir;
using sg::testing::write_file;
using ::testing::HasSubstr;

TEST(Vocab, DefaultHasOnlySpecials) {
  Vocab v;
  EXPECT_EQ(v.size(), 3);
  EXPECT_EQ(v.word(v.bos()), "<S>");
  EXPECT_EQ(v.word(v.eos()), "</S>");
  EXPECT_EQ(v.word(v.unk()), "<UNK>");
  EXPECT_EQ(v.id("anything"), v.unk());
  EXPECT_THROW(v.word(3), Error);
  EXPECT_THROW(v.count(-1), Error);
}

TEST(Vocab, BuildSortsByCountThenWordAndCountsSpecials) {
  TempDir d;
  write_file(d.file("a"), "the cat sat\nthe dog sat\n\n  the   bird \n");
  write_file(d.file("b"), "a cat\nzebra yak\nthe <UNK> cat\n");
  // counts: the 4, cat 3, sat 2, a/bird/dog/yak/zebra 1, literal <UNK> 1. Sentences: 6 (blank line
  // skipped).
  Vocab v = Vocab::build({d.file("a"), d.file("b")}, 2);
  ASSERT_EQ(v.size(), 6);
  EXPECT_EQ(v.word(3), "the");
  EXPECT_EQ(v.word(4), "cat");
  EXPECT_EQ(v.word(5), "sat");
  EXPECT_EQ(v.count(3), 4);
  EXPECT_EQ(v.count(4), 3);
  EXPECT_EQ(v.count(v.bos()), 6);
  EXPECT_EQ(v.count(v.eos()), 6);
  EXPECT_EQ(v.count(v.unk()), 6);  // a, bird, dog, yak, zebra + the literal <UNK>
  EXPECT_EQ(v.id("dog"), v.unk());
  EXPECT_EQ(v.id("cat"), 4);

  Vocab all = Vocab::build({d.file("a"), d.file("b")}, 1);
  ASSERT_EQ(all.size(), 11);
  // Ties at count 1 in byte order.
  const char* tail[] = {"a", "bird", "dog", "yak", "zebra"};
  for (int i = 0; i < 5; ++i) EXPECT_EQ(all.word(6 + i), tail[i]);
  EXPECT_EQ(all.count(all.unk()), 1);
}

// A built vocabulary's counts add up to the predicted tokens count_predicted finds (train uses
// them instead of a second pass over the corpus), whatever min_count drops into <UNK>.
TEST(Vocab, CountedPredictionsEqualTheShardsPredictedTokens) {
  TempDir d;
  write_file(d.file("a"), "\xEF\xBB\xBFthe cat sat\r\n\n   \nthe dog  ran far\nx\n");
  write_file(d.file("b"), "cat cat\n\t\nlast line without newline");
  const int64_t want = count_predicted(d.file("a")) + count_predicted(d.file("b"));
  EXPECT_EQ(want, (3 + 1) + (4 + 1) + (1 + 1) + (2 + 1) + (4 + 1));
  for (int min_count : {1, 2, 3})
    EXPECT_EQ(Vocab::build({d.file("a"), d.file("b")}, min_count).counted_predictions(), want)
        << min_count;
}

// Counting shards in parallel gives the same vocabulary as one thread; progress is reported once
// per shard, in order of completion, ending with every token; a bad shard stops the build.
TEST(Vocab, BuildWithThreadsMatchesOneThreadAndReportsProgress) {
  TempDir d;
  std::vector<std::string> files;
  for (int k = 0; k < 7; ++k) {
    std::string text;
    for (int i = 0; i < 50 + 13 * k; ++i)
      text +=
          "w" + std::to_string((i * 7 + k) % (5 + k)) + " common w" + std::to_string(i % 3) + "\n";
    files.push_back(d.file("shard" + std::to_string(k)));
    write_file(files.back(), text);
  }
  int64_t tokens = 0;
  for (const auto& f : files) tokens += count_predicted(f);
  const Vocab one = Vocab::build(files, 2);
  for (int threads : {2, 3, 16}) {
    std::vector<int64_t> done;
    int64_t last_tokens = 0;
    const Vocab v = Vocab::build(files, 2, threads, [&](int64_t k, int64_t n, int64_t t) {
      EXPECT_EQ(n, 7);
      EXPECT_GE(t, last_tokens);
      done.push_back(k);
      last_tokens = t;
    });
    ASSERT_EQ(v.size(), one.size()) << threads;
    for (int32_t i = 0; i < v.size(); ++i) {
      EXPECT_EQ(v.word(i), one.word(i)) << threads;
      EXPECT_EQ(v.count(i), one.count(i)) << threads;
    }
    EXPECT_EQ(done, (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7}));
    // Progress counts tokens; predictions add one </S> per sentence.
    EXPECT_EQ(last_tokens + v.count(v.eos()), tokens);
  }
  write_file(d.file("shard3"), "fine\nbad \xE9\n");
  EXPECT_THAT(error_of([&] { Vocab::build(files, 2, 3); }),
              HasSubstr(d.file("shard3") + ":2 is not valid UTF-8"));
}

TEST(Vocab, BuildRejectsBadArguments) {
  TempDir d;
  write_file(d.file("a"), "x\n");
  EXPECT_THAT(error_of([&] { Vocab::build({d.file("a")}, 0); }), HasSubstr("min-count"));
  EXPECT_THAT(error_of([&] { Vocab::build({}, 1); }), HasSubstr("no training shards"));
  EXPECT_THAT(error_of([&] { Vocab::build({d.file("missing")}, 1); }),
              HasSubstr("cannot open shard"));
  // A vocabulary of only <S> </S> <UNK> would train on <UNK> alone: refused, with the count to use.
  write_file(d.file("b"), "x y x\ny .\n");
  EXPECT_THAT(error_of([&] { Vocab::build({d.file("b")}, 3); }),
              AllOf(HasSubstr("no word occurs at least 3 times"), HasSubstr("occurs 2 times"),
                    HasSubstr("lower --min-count")));
  EXPECT_EQ(Vocab::build({d.file("b")}, 2).size(), 5);
  write_file(d.file("blank"), "\n  \n");
  EXPECT_THAT(error_of([&] { Vocab::build({d.file("blank")}, 1); }), HasSubstr("hold no words"));
}

// A literal <S> or </S> in the text is the word <UNK>, never a sentence marker: build counts it
// there (so the counts still add up to the predicted tokens) and says how many it saw; id() maps
// it there for the batchers.
TEST(Vocab, LiteralSentenceMarkersAreUnk) {
  TempDir d;
  write_file(d.file("a"), "<S> a b </S>\na <S> </S>\n");
  Vocab v = Vocab::build({d.file("a")}, 1);
  EXPECT_EQ(v.literal_markers(), 4);
  EXPECT_EQ(v.count(v.unk()), 4);
  EXPECT_EQ(v.count(v.bos()), 2);  // sentences, not tokens
  EXPECT_EQ(v.count(v.eos()), 2);
  EXPECT_EQ(v.counted_predictions(), count_predicted(d.file("a")));
  EXPECT_EQ(v.id("<S>"), v.unk());
  EXPECT_EQ(v.id("</S>"), v.unk());
  EXPECT_EQ(v.id("<UNK>"), v.unk());
  EXPECT_EQ(v.id("a"), 3);
  EXPECT_EQ(literal_marker_note(0, "x"), "");
  EXPECT_THAT(literal_marker_note(4, "the training text"),
              HasSubstr("note: 4 literal <S> / </S> tokens in the training text read as <UNK>"));
}

TEST(Vocab, SaveLoadRoundTrip) {
  TempDir d;
  write_file(d.file("a"), "b a a c c c d d d d \xC3\xA9t\xC3\xA9 \xC3\xA9t\xC3\xA9\n");
  Vocab v = Vocab::build({d.file("a")}, 1);
  v.save(d.file("vocab.txt"));
  v.save(d.file("vocab.txt"));  // overwrites in place
  Vocab w = Vocab::load(d.file("vocab.txt"));
  ASSERT_EQ(w.size(), v.size());
  for (int32_t i = 0; i < v.size(); ++i) {
    EXPECT_EQ(w.word(i), v.word(i));
    EXPECT_EQ(w.count(i), v.count(i));
    EXPECT_EQ(w.id(v.word(i)), i <= w.eos() ? w.unk() : i);  // text's own <S> </S> are <UNK>
  }
  EXPECT_EQ(w.word(3), "d");
  EXPECT_EQ(testing::read_file(d.file("vocab.txt")).substr(0, 21), "<S> 1\n</S> 1\n<UNK> 0\n");
  // No temporary files are left behind.
  int files = 0;
  for (auto& e : std::filesystem::directory_iterator(d.path)) files += e.is_regular_file();
  EXPECT_EQ(files, 2);
}

TEST(Vocab, SaveToMissingFolderThrowsAndLeavesNothing) {
  TempDir d;
  Vocab v;
  EXPECT_THAT(error_of([&] { v.save(d.file("no/such/vocab.txt")); }),
              HasSubstr("cannot write vocabulary file"));
}

TEST(Vocab, LoadWordCountFormatAddsMissingSpecials) {
  TempDir d;
  // Like 1b_word_vocab.txt: <S> in the middle, <UNK> present, no </S>.
  write_file(d.file("v"),
             "the 35936573\n, 35089484\n<S> 30305271\n. 29969612\n<UNK> 1947127\nto 181\n");
  Vocab v = Vocab::load(d.file("v"));
  ASSERT_EQ(v.size(), 7);
  EXPECT_EQ(v.word(0), "<S>");
  EXPECT_EQ(v.word(1), "</S>");
  EXPECT_EQ(v.word(2), "<UNK>");
  EXPECT_EQ(v.word(3), "the");
  EXPECT_EQ(v.word(4), ",");
  EXPECT_EQ(v.word(5), ".");
  EXPECT_EQ(v.word(6), "to");
  EXPECT_EQ(v.count(0), 30305271);
  EXPECT_EQ(v.count(1), 30305271);  // </S> takes <S>'s count
  EXPECT_EQ(v.count(2), 1947127);
  EXPECT_EQ(v.count(3), 35936573);
}

TEST(Vocab, LoadOneWordPerLineSkipsMaxTermId) {
  TempDir d;
  write_file(d.file("v"), "<S>\n</S>\n<UNK>\nthe\n,\n.\r\nto\n!!!MAXTERMID\n");
  Vocab v = Vocab::load(d.file("v"));
  ASSERT_EQ(v.size(), 7);
  EXPECT_EQ(v.word(5), ".");
  EXPECT_EQ(v.id("to"), 6);
  EXPECT_EQ(v.id("!!!MAXTERMID"), v.unk());
  EXPECT_EQ(v.count(4), 0);

  write_file(d.file("w"), "zebra\napple\n");
  Vocab w = Vocab::load(d.file("w"));  // specials added in front, file order kept
  ASSERT_EQ(w.size(), 5);
  EXPECT_EQ(w.word(3), "zebra");
  EXPECT_EQ(w.word(4), "apple");
}

TEST(Vocab, BadLinesNameFileAndLine) {
  TempDir d;
  struct Case {
    const char* text;
    const char* want;
  } cases[] = {
      {"a 1\n\nb 2\n", ":2: empty line"},
      {"a 1\nb x2\n", ":2: count 'x2' is not a non-negative integer"},
      {"a 1\nb -2\n", ":2: count '-2'"},
      {"a 1\nb 2\na 3\n", ":3: duplicate word 'a' (first on line 1)"},
      {"a 1\nb\n", ":2: expected 'word count'"},
      {"a 1\nb 2 3\n", ":2: expected 'word count'"},
      {"a\nb 2\n", ":2: expected one word per line"},
      {"a 1\nb\xFF 2\n", ":2 is not valid UTF-8"},
      {"a 1\n\xC0\xAF 2\n", ":2 is not valid UTF-8"},      // overlong
      {"a 1\n\xED\xA0\x80 2\n", ":2 is not valid UTF-8"},  // surrogate
      {"a 1\nb 99999999999999999999\n", ":2: count"},
      {"", "holds no words"},
      {"!!!MAXTERMID\n", "holds no words"},
  };
  int k = 0;
  for (const Case& c : cases) {
    const std::string path = d.file("bad" + std::to_string(k++));
    write_file(path, c.text);
    const std::string msg = error_of([&] { Vocab::load(path); });
    EXPECT_THAT(msg, HasSubstr(c.want)) << "case " << k;
    EXPECT_THAT(msg, HasSubstr(path)) << "case " << k;
  }
  EXPECT_THAT(error_of([&] { Vocab::load(d.file("missing")); }),
              HasSubstr("cannot open vocabulary file"));
  // Every count is below 10^18, but ten of them overflow int64 in counted_predictions (signed
  // overflow: a damaged checkpoint vocabulary resumed with a wrapped epoch length).
  std::string huge;
  for (int i = 0; i < 10; ++i) huge += "w" + std::to_string(i) + " 999999999999999999\n";
  write_file(d.file("huge"), huge);
  EXPECT_THAT(error_of([&] { Vocab::load(d.file("huge")); }),
              HasSubstr(":10: the counts add up to more than 2^63 - 1"));
}

TEST(Vocab, FromWordsRejectsBadWords) {
  EXPECT_THROW(Vocab::from_words({"a", "a"}, {1, 1}), Error);
  EXPECT_THROW(Vocab::from_words({"a b"}, {1}), Error);
  EXPECT_THROW(Vocab::from_words({""}, {1}), Error);
  EXPECT_THROW(Vocab::from_words({"<S>"}, {1}), Error);
  EXPECT_THROW(Vocab::from_words({"a"}, {1, 2}), Error);
  Vocab v = Vocab::from_words({"x", "y"}, {5, 3}, 7, 7, 1);
  EXPECT_EQ(v.id("y"), 4);
  EXPECT_EQ(v.count(0), 7);
}

TEST(Vocab, ManyWordsLookUp) {
  std::vector<std::string> w;
  std::vector<int64_t> c;
  for (int i = 0; i < 50000; ++i) {
    w.push_back("w" + std::to_string(i));
    c.push_back(50000 - i);
  }
  Vocab v = Vocab::from_words(w, c);
  for (int i = 0; i < 50000; i += 7) EXPECT_EQ(v.id("w" + std::to_string(i)), i + 3);
  EXPECT_EQ(v.id("w50000"), v.unk());
}

}  // namespace
}  // namespace sg
