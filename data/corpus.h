// LM1B corpus layout and shard access.
//   DIR/training-monolingual.tokenized.shuffled/news.en-*                       training shards
//   (sorted by name) DIR/heldout-monolingual.tokenized.shuffled/news.en.heldout-NNNNN-of-MMMMM
//   held-out splits (sorted)
// The held-out folder of the real release also holds the unsplit news.en-00000-of-00100: it is
// never matched. One tokenized sentence per line, tokens separated by spaces, UTF-8. Blank lines
// are not sentences.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sg {

struct CorpusLayout {
  std::string dir;
  std::vector<std::string> train_shards;
  std::vector<std::string> heldout_shards;
};

inline constexpr const char* kTrainFolder = "training-monolingual.tokenized.shuffled";
inline constexpr const char* kHeldoutFolder = "heldout-monolingual.tokenized.shuffled";

// Throws one clear line when DIR is missing, holds neither folder, a present folder has no shards,
// or a shard is empty or unreadable. A folder that is absent gives an empty list (a test-only
// corpus has no training folder).
CorpusLayout find_corpus(const std::string& dir);
// Throw one clear line when the layout has no training / held-out shards.
void require_training(const CorpusLayout& c);
void require_heldout(const CorpusLayout& c);

// A whole shard in memory with the byte range of every sentence (non-blank line), UTF-8 checked.
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
ShardText load_shard(const std::string& path);

// Predicted tokens of a shard: sum over its sentences of (words + 1). Streams the file; checks
// UTF-8.
int64_t count_predicted(const std::string& path);

}  // namespace sg
