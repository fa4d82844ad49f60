// Batching as in Jozefowicz et al. 2016. A sentence w1..wn gives the (input, target) pairs
//   (<S>,w1) (w1,w2) ... (wn,</S>)            n+1 predictions; <S> is never a target.
// A literal <S> or </S> in the text is not a marker: it is the word <UNK> (Vocab::id).
// A sentence is a non-blank line, or, in a line of more than kMaxSentenceTokens (8192) tokens,
// each run of kMaxSentenceTokens tokens (the last holds the rest; data/text.h), in training and
// evaluation alike.
// B streams each concatenate such pair sequences back to back; a batch takes T pairs per stream,
// time-major: tokens[t*B + b], targets[t*B + b]. Model state carries across batches (stream b
// continues in column b).
//
// TrainBatcher: endless. Epoch e visits the shard pieces (train_stream.h) in an order shuffled
//   from (seed, e) and each piece's sentences in an order shuffled from (seed, e, piece); one
//   piece is in memory at a time. Streams are filled the way bench/torch_lm.py does: for
//   b = 0..B-1, stream b takes T pairs, pulling the next sentence of the sequence whenever its
//   current one is used up. A prefetch thread builds batches ahead into a bounded queue; its errors
//   are re-thrown by next(). Deterministic for a seed; skip(n) reaches the state after n next()
//   calls without building the n batches. The vocabulary is used, not copied: it must outlive the
//   batcher (an LM1B vocabulary is ~50 MB).
// EvalBatcher: one shard, sentences in file order, cut at sentence boundaries into B contiguous
//   streams of about equal length (stream b starts with a fresh <S>); the tail of shorter streams
//   is padded with token = target = 0 and weight 0. max_tokens > 0 keeps only the first
//   max_tokens predictions of the file.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/vocab.h"

namespace sg {

struct Batch {  // time-major [T, B]; position t*B + b
  int64_t T = 0, B = 0;
  std::vector<int32_t> tokens, targets;
  std::vector<float> weight;  // 1 for a real prediction, 0 for padding (only the eval tail pads)
  int64_t predicted = 0;      // sum of weight
  int64_t words = 0;          // same as predicted (words/s counts predicted tokens incl. </S>)
};

class TrainBatcher {
 public:
  TrainBatcher(std::vector<std::string> shards, const Vocab& vocab, int64_t B, int64_t T,
               uint64_t seed);
  ~TrainBatcher();
  TrainBatcher(const TrainBatcher&) = delete;
  TrainBatcher& operator=(const TrainBatcher&) = delete;

  Batch next();
  double epochs_done() const;  // batches taken * B * T / corpus_words()
  // Predicted tokens per epoch: one counting pass over the shards on first use, cached, unless
  // set_corpus_words gave it first (e.g. from the vocabulary just built from the same shards).
  int64_t corpus_words() const;
  void set_corpus_words(int64_t words);
  void skip(int64_t n);           // fast-forward n batches (resume)
  int64_t batches_taken() const;  // next() calls plus skipped batches

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

class EvalBatcher {
 public:
  EvalBatcher(const std::string& shard, const Vocab& vocab, int64_t B, int64_t T,
              int64_t max_tokens = 0);
  bool next(Batch& b);  // false when done
  int64_t total_predicted() const { return total_; }
  int32_t unk_id() const { return unk_; }  // the vocabulary's <UNK>: targets to count as unknown
  int64_t literal_markers() const { return markers_; }  // literal <S> / </S> read as <UNK>
  int64_t batches() const { return steps_; }            // number of batches next() returns
  void rewind();                                        // start again from the first batch

 private:
  int64_t B_, T_, total_ = 0, steps_ = 0, step_ = 0, markers_ = 0;
  std::vector<int32_t> ids_;         // all words of the file, concatenated
  std::vector<int64_t> sent_begin_;  // sentence s: ids_[sent_begin_[s], sent_begin_[s+1])
  std::vector<int64_t>
      sent_pairs_;  // predictions of sentence s (n+1, fewer for a cut last sentence)
  std::vector<int64_t> stream_first_, stream_len_;  // first sentence, pairs of each stream
  struct Cursor {
    int64_t sentence = 0, pos = 0, done = 0;
  };
  std::vector<Cursor> cur_;
  int32_t bos_ = 0, eos_ = 1, unk_ = 2;
};

}  // namespace sg
