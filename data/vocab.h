// Vocabulary: words <-> dense int32 ids.
// Id layout (the same rule as bench/torch_lm.py): 0 = <S>, 1 = </S>, 2 = <UNK>, then the words.
//   build: every word with count >= min_count in the training shards, by descending count, ties
//          by word (byte order); <S> and </S> count the sentences, <UNK> the tokens that map to it.
//   load:  "word count" lines (1b_word_vocab.txt) or one word per line (vocab-2016-09-10.txt;
//          !!!MAXTERMID is skipped in both); words keep their file order after the three
//          specials, which are added when the file lacks them (</S> then gets <S>'s count, <UNK>
//          0; one-word files have count 0 everywhere).
//   save:  "word count" lines in id order, written to a temporary file, fsync'ed and renamed
//          (atomic).
// Text never holds a sentence marker: a literal <S> or </S> token in it is read as <UNK> (id() maps
// it there, in training, vocabulary counts and evaluation alike); sketchgrad frames every sentence
// itself. build counts them (literal_markers()), and so does EvalBatcher, for a note.
// Lookups of absent words return unk(). Bad files throw sg::Error naming the file and line.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace sg {

class Vocab {
 public:
  Vocab();  // only <S>, </S>, <UNK>

  static Vocab load(const std::string& path);
  // Shards are counted by `threads` workers (each its own counts, summed at the end, so the
  // result does not depend on the thread count); after each shard, progress(shards done, shards,
  // tokens counted so far) is called, one call at a time. On an error (or an exception thrown by
  // progress, which stops the count) the workers stop and the lowest-numbered shard's is rethrown.
  using BuildProgress = std::function<void(int64_t done, int64_t total, int64_t tokens)>;
  static Vocab build(const std::vector<std::string>& shard_files, int min_count, int threads = 1,
                     const BuildProgress& progress = {});
  // Words (without the specials) in id order with their counts; throws on duplicates or bad words.
  static Vocab from_words(const std::vector<std::string>& words, const std::vector<int64_t>& counts,
                          int64_t bos_count = 0, int64_t eos_count = 0, int64_t unk_count = 0);
  void save(const std::string& path) const;

  int32_t size() const { return static_cast<int32_t>(words_.size()); }
  // The id of a token of the text: unk() if absent, and for a literal <S> or </S> (use bos() and
  // eos() for the markers sketchgrad adds).
  int32_t id(std::string_view w) const;
  bool contains(std::string_view w) const;
  const std::string& word(int32_t id) const;
  int32_t bos() const { return 0; }
  int32_t eos() const { return 1; }
  int32_t unk() const { return 2; }
  int64_t count(int32_t id) const;
  // Sum of every count but <S>'s: for a vocabulary built from shards, the predicted tokens of
  // those shards (their words plus one </S> per sentence), as count_predicted sums them.
  int64_t counted_predictions() const;
  // The first word id whose count is above the previous word's (the specials left out), -1 when
  // the counts never increase: build's order, and the order the sampled softmax's log-uniform
  // sampler assumes. A loaded file's line order sets the ids, sorted or not.
  int32_t first_count_increase() const;
  // Literal <S> / </S> tokens that build found in the shards (counted as <UNK>); 0 when loaded.
  int64_t literal_markers() const { return literal_markers_; }

  static constexpr const char* kBos = "<S>";
  static constexpr const char* kEos = "</S>";
  static constexpr const char* kUnk = "<UNK>";

 private:
  int32_t find(std::string_view w) const;  // -1 if absent
  void index();                            // (re)build the hash table; throws on a duplicate word
  std::vector<std::string> words_;
  std::vector<int64_t> counts_;
  std::vector<uint64_t>
      slots_;  // open addressing: hash tag << 32 | (id + 1), 0 = empty; >= 2 * size()
  size_t mask_ = 0;
  int64_t literal_markers_ = 0;
};

// "note: N literal <S> / </S> tokens in WHERE were read as <UNK> ..." ("" when count is 0).
std::string literal_marker_note(int64_t count, const std::string& where);

}  // namespace sg
