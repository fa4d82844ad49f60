// LM1B corpus layout and shard access.
//   DIR/training-monolingual.tokenized.shuffled/news.en-*                       training shards
//   (sorted by name) DIR/heldout-monolingual.tokenized.shuffled/news.en.heldout-NNNNN-of-MMMMM
//   held-out splits (sorted)
// The held-out folder of the real release also holds the unsplit news.en-00000-of-00100: it is
// never matched. A compressed shard (news.en.heldout-00000-of-00050.gz) is an error that says to
// decompress it; in any folder, X.gz (.bz2, .xz, .zst) beside X is ignored with a note. One
// tokenized sentence per line, tokens separated by spaces, UTF-8. Blank lines are not sentences.
// A folder in neither LM1B folder layout may instead name its files by split, as WikiText and PTB
// do (wiki.train.tokens, wiki.valid.tokens, wiki.test.tokens; see data/split_folder.h): the
// training files train, the validation file is the held-out shard of train, and the test file is
// what eval reads by default. Instead of a folder, find_corpus also takes plain-text training
// files, FILE[,FILE...]: each is one training shard in the order given, and there is no held-out
// split (train --heldout FILE names one). A --data string that names an existing path is that one
// path, even with a comma in its name.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sg {

struct CorpusLayout {
  std::string dir;
  std::vector<std::string> train_shards;       // those that hold a sentence
  std::vector<std::string> blank_train_files;  // skipped: 0 bytes or blank lines only
  std::vector<std::string> heldout_shards;  // LM1B held-out splits, or a split folder's validation
  std::vector<std::string> test_shards;     // a split folder's test files (LM1B: none)
  bool text_files = false;                  // dir was FILE[,FILE...], not an LM1B folder
  bool split_named = false;                 // dir was a WikiText / PTB style split-named folder
  // "note: ..." lines for the user about the training files, and about the held-out / test files
  // (e.g. a compressed copy ignored because the decompressed text is beside it).
  std::vector<std::string> train_notes, heldout_notes;
};

inline constexpr const char* kTrainFolder = "training-monolingual.tokenized.shuffled";
inline constexpr const char* kHeldoutFolder = "heldout-monolingual.tokenized.shuffled";

// Throws one clear line when DIR is missing, holds neither folder, a present folder has no shards,
// a file named as a shard (or split file) is a symlink to a missing file, or a shard is
// unreadable or compressed, or a held-out / test file holds no sentence. Training files that hold
// no sentence (0 bytes, blank lines only) are skipped with a note (require_training fails when
// none is left). DIR may instead be FILE[,FILE...] (see above). A folder that
// is absent gives an empty list (a test-only corpus has no training folder).
CorpusLayout find_corpus(const std::string& dir);
// Throws one clear line, "WHAT PATH ...", unless path is a readable regular file that is not
// compressed (gzip, bzip2, xz or zstd are named) and holds a sentence (a 0-byte file is "empty",
// one of blank lines "holds no sentences"). Reads the file only up to its first token.
void check_shard(const std::string& path, const std::string& what = "shard");
// Throw one clear line when the layout has no training / held-out shards (require_training names
// the training files that hold no sentence when all of them were skipped).
void require_training(const CorpusLayout& c);
void require_heldout(const CorpusLayout& c);
// The shard eval reads when none is named: LM1B's first held-out split (news.en.heldout-00000, the
// test shard of the published numbers), or a split folder's test file (its validation file when
// it has none). Throws one line when there is none.
std::string default_eval_shard(const CorpusLayout& c);

// A whole shard in memory with the byte range of every sentence, UTF-8 checked. A sentence is a
// non-blank line, or a part of a line of more than kMaxSentenceTokens tokens (data/text.h: such a
// line is cut into sentences of kMaxSentenceTokens tokens, the last holding the rest).
struct ShardText {
  std::string path;
  std::string bytes;
  std::vector<int64_t> begin;  // sentence i is bytes[begin[i], begin[i] + length[i])
  std::vector<int32_t> length;
  size_t sentences() const { return begin.size(); }
  std::string_view sentence(size_t i) const {
    return std::string_view(bytes.data() + begin[i], static_cast<size_t>(length[i]));
  }
};
// Bytes [begin, end) of a shard (end -1: to the end of the file); begin and end must be sentence
// boundaries (split_shards makes them so). A UTF-8 error names the line within that range.
ShardText load_shard(const std::string& path, int64_t begin = 0, int64_t end = -1);

// A training shard, or a part of a large one: TrainStream holds one piece in memory at a time, so
// a corpus that is one big file (WikiText-103's wiki.train.tokens: 540 MB) is never read whole.
struct ShardPiece {
  std::string path;
  int64_t begin = 0, end = 0;  // byte range, at sentence boundaries
};
inline constexpr int64_t kMaxShardPieceBytes = int64_t(64) << 20;
// Each file as one piece when it has at most max_bytes, else cut into pieces of about max_bytes,
// each ending at the first sentence boundary at or after max_bytes: just after a newline, or, in
// a line of more than kMaxSentenceTokens tokens, just after the last token of one of its
// sentences. So a piece exceeds max_bytes by at most one sentence, however long the lines are,
// and its sentences are the whole file's (a piece's first sentence starts a sentence).
std::vector<ShardPiece> split_shards(const std::vector<std::string>& paths, int64_t max_bytes);

// Predicted tokens of a shard: sum over its sentences of (words + 1). Streams the file
// (SentenceReader: never a whole line in memory); checks UTF-8.
int64_t count_predicted(const std::string& path);

}  // namespace sg
