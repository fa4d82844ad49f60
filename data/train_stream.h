// TrainStream: the deterministic, single-threaded core of TrainBatcher (no threads, no queue).
// Sentence sequence: epoch e = 0, 1, ... visits the shard pieces (a shard of up to 64 MiB is one
// piece) in the order perm(#pieces; seed, (e, 0)) and, within piece k, its sentences in the order
// perm(#sentences; seed, (e, k + 1)); only one piece is in memory at a time; perm is a
// Fisher-Yates shuffle driven by the counter-based rng_u64, so the sequence depends on the seed
// only (not on the platform or library). Streams: fill() gives stream b = 0..B-1 its T pairs in
// turn, each stream pulling the next sentence when its current one is used up. advance() makes the
// same state change without writing a batch or looking words up (the text of a sentence is kept and
// converted to ids only when a later fill() needs it).
// Memory: one piece (at most max_piece_bytes plus one sentence) and, per stream, one sentence. A
// line longer than a piece is cut: a line of more than kMaxSentenceTokens (8192) tokens is that
// many sentences of kMaxSentenceTokens tokens (the last holds the rest), each framed <S> .. </S>,
// and a piece may end between two of them (split_shards), so a one-line corpus such as text8 is
// streamed like any other and a stream never holds more than kMaxSentenceTokens ids.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "data/batcher.h"
#include "data/corpus.h"
#include "data/vocab.h"

namespace sg {

// Fisher-Yates permutation of 0..n-1 from (seed, stream).
std::vector<uint32_t> shuffled_order(size_t n, uint64_t seed, uint64_t stream);

class TrainStream {
 public:
  // Large shards are visited as pieces of at most about max_piece_bytes (split_shards), each
  // piece shuffled on its own; a corpus of LM1B-sized shards has one piece per shard.
  TrainStream(std::vector<std::string> shards, const Vocab* vocab, int64_t B, int64_t T,
              uint64_t seed, int64_t max_piece_bytes = kMaxShardPieceBytes);
  void fill(Batch& out);
  void advance();
  int64_t epoch() const {
    return epoch_;
  }  // epoch of the last sentence taken (-1 before the first)

 private:
  struct Stream {
    std::vector<int32_t> ids;
    std::string text;        // kept instead of ids while lazy
    int64_t n = 0, pos = 0;  // n words; pairs 0..n; pos = next pair
    bool lazy = false, live = false;
  };
  void step(bool emit, Batch* out);
  std::string_view next_sentence();
  void take(Stream& s, bool lazy);
  void materialize(Stream& s);

  std::vector<ShardPiece> pieces_;
  const Vocab* vocab_;
  int64_t B_, T_;
  uint64_t seed_;
  int64_t epoch_ = -1;
  std::vector<uint32_t> shard_order_;
  size_t shard_pos_ = 0;
  ShardText shard_;
  std::vector<uint32_t> sent_order_;
  size_t sent_pos_ = 0;
  int64_t sentences_in_epoch_ = 0;
  std::vector<Stream> streams_;
};

}  // namespace sg
