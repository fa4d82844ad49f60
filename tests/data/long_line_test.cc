// A corpus that is one very long line (text8 is a single 100 MB line) is cut into sentences of
// kMaxSentenceTokens tokens and streamed like any other: the vocabulary count, the predicted-token
// count and the training stream hold memory bounded by the piece and sentence sizes, not by the
// line. Memory is measured with a counting operator new (counting_allocator.h), so the bounds are
// deterministic.
#include <string>
#include <vector>

#include "counting_allocator.h"
#include "data/batcher.h"
#include "data/corpus.h"
#include "data/text.h"
#include "data/train_stream.h"
#include "data/vocab.h"
#include "data_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sg {
namespace {

using testing::error_of;
using ::testing::HasSubstr;
using testing::peak_bytes_of;
using testing::TempDir;
using testing::write_file;

constexpr int64_t N = kMaxSentenceTokens;

std::vector<std::string> sentences_of(std::string_view text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    for_each_sentence(text.substr(pos, nl - pos), [&](std::string_view s) { out.emplace_back(s); });
    pos = nl + 1;
  }
  return out;
}

std::string words(int64_t n, int64_t first = 0) {
  std::string s;
  for (int64_t i = first; i < first + n; ++i)
    s += (i > first ? " w" : "w") + std::to_string(i % 50);
  return s;
}

TEST(LongLine, ForEachSentenceCutsEveryKMaxSentenceTokens) {
  std::vector<std::string> got;
  const std::string line = "  " + words(2 * N + 5) + " \t\r";
  for_each_sentence(line, [&](std::string_view s) { got.emplace_back(s); });
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0], words(N));
  EXPECT_EQ(got[1], words(N, N));
  EXPECT_EQ(got[2], words(5, 2 * N));
  got.clear();
  for_each_sentence(" " + words(N) + " ", [&](std::string_view s) { got.emplace_back(s); });
  EXPECT_EQ(got, std::vector<std::string>{words(N)});  // exactly N tokens: one sentence
  got.clear();
  for_each_sentence(" \t ", [&](std::string_view s) { got.emplace_back(s); });
  EXPECT_TRUE(got.empty());
}

// SentenceReader yields what load_shard holds, sentence for sentence, across its buffer refills.
TEST(LongLine, SentenceReaderMatchesLoadShard) {
  TempDir d;
  const std::string text = "\xEF\xBB\xBF" + words(3) + "\r\n\n   \n" + words(3 * N + 7) + "  \n" +
                           words(300000) + "\n" + words(N) + "\nlast line";
  write_file(d.file("s"), text);
  ShardText whole = load_shard(d.file("s"));
  std::vector<std::string> want;
  for (size_t i = 0; i < whole.sentences(); ++i) want.emplace_back(whole.sentence(i));
  ASSERT_EQ(want.size(), 1 + 4 + (300000 + N - 1) / N + 1 + 1);
  EXPECT_EQ(want[0], words(3));
  SentenceReader r(d.file("s"), "shard");
  std::vector<std::string> got;
  std::vector<int64_t> lines;
  for (std::string_view s; r.next(s);) {
    got.emplace_back(s);
    lines.push_back(r.line_number());
  }
  EXPECT_EQ(got, want);
  EXPECT_EQ(lines.front(), 1);
  EXPECT_EQ(lines[1], 4);
  EXPECT_EQ(lines[4], 4);
  EXPECT_EQ(lines.back(), 7);
  EXPECT_EQ(r.buffer_bytes(), size_t(1) << 20);  // never grown to hold the 1.2 MB line
  EXPECT_EQ(count_predicted(d.file("s")),
            static_cast<int64_t>(3 + 3 * N + 7 + 300000 + N + 2 + want.size()));
}

// A UTF-8 error in a later sentence of a long line names the line and the byte within the line,
// as the whole-line check does.
TEST(LongLine, Utf8ErrorNamesTheByteOfTheLine) {
  TempDir d;
  const std::string line = words(2 * N);
  write_file(d.file("s"), "ok\n" + line + " bad\xE9 tail\n");
  const std::string want = d.file("s") + ":2 is not valid UTF-8 (byte " +
                           std::to_string(line.size() + 5) + " of the line)";
  EXPECT_THAT(error_of([&] { count_predicted(d.file("s")); }), HasSubstr(want));
  EXPECT_THAT(error_of([&] { load_shard(d.file("s")); }), HasSubstr(want));
  EXPECT_THAT(error_of([&] { Vocab::build({d.file("s")}, 1); }), HasSubstr(want));
}

// Pieces of a one-line file end between sentences and hold the whole file's sentences.
TEST(LongLine, SplitShardsCutsALongLineBetweenSentences) {
  TempDir d;
  const std::string text = words(100000) + "\n" + words(40000, 7) + "\nw1 w2\n";
  write_file(d.file("s"), text);
  const std::vector<std::string> want = sentences_of(text);
  for (int64_t max : {int64_t(1), int64_t(5000), int64_t(64) << 10}) {
    auto pieces = split_shards({d.file("s")}, max);
    EXPECT_GT(pieces.size(), 3u) << max;
    std::vector<std::string> got;
    for (size_t k = 0; k < pieces.size(); ++k) {
      if (k > 0) EXPECT_EQ(pieces[k].begin, pieces[k - 1].end);
      // At most one sentence (N tokens of at most 4 bytes with their spaces) beyond max.
      EXPECT_LE(pieces[k].end - pieces[k].begin, max + 4 * N) << max << " piece " << k;
      ShardText s = load_shard(pieces[k].path, pieces[k].begin, pieces[k].end);
      for (size_t i = 0; i < s.sentences(); ++i) got.emplace_back(s.sentence(i));
    }
    EXPECT_EQ(pieces.back().end, static_cast<int64_t>(text.size()));
    EXPECT_EQ(got, want) << "max " << max;
  }
}

// The defect: one 600,000-token line (2.4 MB) was read whole by the vocabulary count and
// count_predicted (a line buffer doubled to 4 MiB), loaded as one piece and copied whole into every
// stream that took it (4 bytes a token each). Now every step holds at most a piece and a sentence
// per stream.
TEST(LongLine, MemoryIsBoundedByPieceAndSentenceNotByLine) {
  TempDir d;
  const int64_t kTokens = 600000;
  const std::string text = words(kTokens) + "\nw1 w2\n";
  ASSERT_GT(text.size(), 2u << 20);
  write_file(d.file("one-line.txt"), text);
  const std::string f = d.file("one-line.txt");
  const int64_t sentences = (kTokens + N - 1) / N + 1;

  Vocab v;
  const int64_t vocab_peak = peak_bytes_of([&] { v = Vocab::build({f}, 1, 1); });
  EXPECT_LT(vocab_peak, int64_t(3) << 19) << "Vocab::build held " << vocab_peak << " bytes";
  EXPECT_EQ(v.count(v.bos()), sentences);
  int64_t predicted = 0;
  const int64_t count_peak = peak_bytes_of([&] { predicted = count_predicted(f); });
  EXPECT_LT(count_peak, int64_t(3) << 19) << "count_predicted held " << count_peak << " bytes";
  EXPECT_EQ(predicted, kTokens + 2 + sentences);
  EXPECT_EQ(v.counted_predictions(), predicted);

  // Stream through more than one epoch, both lazily (advance) and building batches (fill).
  const int64_t kPiece = 256 << 10, B = 4, T = 50;
  int64_t stream_peak = 0, epoch = -1;
  stream_peak = peak_bytes_of([&] {
    TrainStream s({f}, &v, B, T, 7, kPiece);
    Batch b;
    for (int64_t i = 0; i < (predicted / (B * T)) * 5 / 4; ++i) i % 3 ? s.advance() : s.fill(b);
    epoch = s.epoch();
  });
  EXPECT_GE(epoch, 1);
  RecordProperty("vocab_peak_bytes", std::to_string(vocab_peak));
  RecordProperty("count_peak_bytes", std::to_string(count_peak));
  RecordProperty("stream_peak_bytes", std::to_string(stream_peak));
  // One piece (256 KiB plus a sentence of at most 32 KiB) and four streams of one sentence each
  // (ids and text: 64 KiB): well under 1 MiB. Before, the whole line: a 2.4 MB piece and 2.4 MB
  // of ids per stream.
  EXPECT_LT(stream_peak, int64_t(1) << 20) << "TrainStream held " << stream_peak << " bytes";

  EvalBatcher eb(f, v, B, T);
  EXPECT_EQ(eb.total_predicted(), predicted);
}

}  // namespace
}  // namespace sg
