// TrainBatcher (prefetch thread around TrainStream, bounded queue, skip by batch index) and
// EvalBatcher.
#include "data/batcher.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

#include "data/corpus.h"
#include "data/text.h"
#include "data/train_stream.h"
#include "engine/check.h"

namespace sg {

// The producer thread owns `stream`; everything else below `m` is shared. Batches carry their index
// in the endless batch sequence, so skip() only moves the consumer's index and the producer's
// target: a batch built before a skip request is recognised by its index and dropped.
struct TrainBatcher::Impl {
  static constexpr size_t kQueue = 8;
  const Vocab& vocab;  // the caller's; it outlives the batcher
  std::vector<std::string> shards;
  int64_t B, T;
  TrainStream stream;
  std::mutex m;
  std::condition_variable cv;
  std::deque<std::pair<int64_t, Batch>> queue;
  int64_t produced = 0;  // index of the next batch the producer builds (written by it, under m)
  int64_t skip_to = 0;   // producer must not build batches below this index
  int64_t consumed = 0;  // batches taken by next() or skipped
  std::exception_ptr error;
  std::atomic<bool> stop{false};
  std::thread thread;
  mutable std::once_flag count_once;
  mutable int64_t words = 0;

  Impl(std::vector<std::string> s, const Vocab& v, int64_t b, int64_t t, uint64_t seed)
      : vocab(v), shards(s), B(b), T(t), stream(std::move(s), &vocab, b, t, seed) {}

  void run() {
    for (;;) {
      int64_t skip = 0;
      {
        std::unique_lock<std::mutex> lk(m);
        cv.wait(lk, [&] { return stop || skip_to > produced || queue.size() < kQueue; });
        if (stop) return;
        skip = skip_to - produced;
      }
      try {
        if (skip > 0) {
          for (int64_t i = 0; i < skip && !stop; ++i) stream.advance();
          std::lock_guard<std::mutex> lk(m);
          produced += skip;
          continue;
        }
        Batch b;
        stream.fill(b);
        std::lock_guard<std::mutex> lk(m);
        queue.emplace_back(produced++, std::move(b));
        cv.notify_all();
      } catch (...) {
        std::lock_guard<std::mutex> lk(m);
        error = std::current_exception();
        cv.notify_all();
        return;
      }
    }
  }
};

TrainBatcher::TrainBatcher(std::vector<std::string> shards, const Vocab& vocab, int64_t B,
                           int64_t T, uint64_t seed) {
  SG_CHECK(!shards.empty(), "no training shards (expected DIR/", kTrainFolder, "/news.en-*)");
  SG_CHECK(B >= 1 && T >= 1, "batch and bptt must be >= 1, got B=", B, " T=", T);
  impl_ = std::make_unique<Impl>(std::move(shards), vocab, B, T, seed);
  impl_->thread = std::thread([p = impl_.get()] { p->run(); });
}

TrainBatcher::~TrainBatcher() {
  {
    std::lock_guard<std::mutex> lk(impl_->m);
    impl_->stop = true;
  }
  impl_->cv.notify_all();
  if (impl_->thread.joinable()) impl_->thread.join();
}

Batch TrainBatcher::next() {
  Impl& s = *impl_;
  std::unique_lock<std::mutex> lk(s.m);
  for (;;) {
    while (!s.queue.empty() && s.queue.front().first < s.consumed) s.queue.pop_front();
    if (!s.queue.empty()) {
      Batch b = std::move(s.queue.front().second);
      s.queue.pop_front();
      ++s.consumed;
      s.cv.notify_all();
      return b;
    }
    if (s.error) std::rethrow_exception(s.error);
    s.cv.wait(lk);
  }
}

void TrainBatcher::skip(int64_t n) {
  SG_CHECK(n >= 0, "cannot skip a negative number of batches (", n, ")");
  Impl& s = *impl_;
  std::lock_guard<std::mutex> lk(s.m);
  s.consumed += n;
  s.skip_to = std::max(s.skip_to, s.consumed);
  while (!s.queue.empty() && s.queue.front().first < s.consumed) s.queue.pop_front();
  s.cv.notify_all();
}

int64_t TrainBatcher::batches_taken() const {
  std::lock_guard<std::mutex> lk(impl_->m);
  return impl_->consumed;
}

int64_t TrainBatcher::corpus_words() const {
  std::call_once(impl_->count_once, [this] {
    int64_t total = 0;
    for (const auto& f : impl_->shards) total += count_predicted(f);
    SG_CHECK(total > 0, "the training shards hold no sentences");
    impl_->words = total;
  });
  return impl_->words;
}

void TrainBatcher::set_corpus_words(int64_t words) {
  SG_CHECK(words > 0, "set_corpus_words: ", words, " predicted tokens (the shards hold none?)");
  std::call_once(impl_->count_once, [&] { impl_->words = words; });
}

double TrainBatcher::epochs_done() const {
  const double words = static_cast<double>(corpus_words());
  return static_cast<double>(batches_taken()) * static_cast<double>(impl_->B * impl_->T) / words;
}

// ---------------------------------------------------------------------------------------------------------------

EvalBatcher::EvalBatcher(const std::string& shard, const Vocab& vocab, int64_t B, int64_t T,
                         int64_t max_tokens)
    : B_(B), T_(T), bos_(vocab.bos()), eos_(vocab.eos()), unk_(vocab.unk()) {
  SG_CHECK(B >= 1 && T >= 1, "batch and bptt must be >= 1, got B=", B, " T=", T);
  SG_CHECK(max_tokens >= 0, "max_tokens must be >= 0, got ", max_tokens);
  SentenceReader in(shard,
                    "shard");  // a line of more than kMaxSentenceTokens is cut, as in training
  std::string_view sentence;
  while ((max_tokens == 0 || total_ < max_tokens) && in.next(sentence)) {
    const int64_t first = static_cast<int64_t>(ids_.size());
    for_each_token(sentence, [&](std::string_view w) {
      const int32_t id = vocab.id(w);
      markers_ += id == unk_ && (w == Vocab::kBos || w == Vocab::kEos);
      ids_.push_back(id);
    });
    const int64_t n = static_cast<int64_t>(ids_.size()) - first;
    int64_t pairs = n + 1;
    if (max_tokens > 0) pairs = std::min(pairs, max_tokens - total_);
    sent_begin_.push_back(first);
    sent_pairs_.push_back(pairs);
    total_ += pairs;
  }
  SG_CHECK(total_ > 0, "held-out shard ", shard, " holds no sentences");
  sent_begin_.push_back(static_cast<int64_t>(ids_.size()));
  // Stream b starts at the first sentence whose preceding pairs reach b * total / B.
  const int64_t S = static_cast<int64_t>(sent_pairs_.size());
  stream_first_.assign(B + 1, S);
  int64_t s = 0, before = 0;
  for (int64_t b = 0; b < B; ++b) {
    const int64_t want = static_cast<int64_t>((static_cast<__int128>(total_) * b) / B);
    while (s < S && before < want) before += sent_pairs_[s++];
    stream_first_[b] = s;
  }
  stream_len_.assign(B, 0);
  int64_t longest = 0;
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t k = stream_first_[b]; k < stream_first_[b + 1]; ++k)
      stream_len_[b] += sent_pairs_[k];
    longest = std::max(longest, stream_len_[b]);
  }
  steps_ = (longest + T - 1) / T;
  rewind();
}

void EvalBatcher::rewind() {
  step_ = 0;
  cur_.assign(B_, Cursor());
  for (int64_t b = 0; b < B_; ++b) cur_[b].sentence = stream_first_[b];
}

bool EvalBatcher::next(Batch& out) {
  if (step_ >= steps_) return false;
  ++step_;
  out.T = T_;
  out.B = B_;
  out.tokens.assign(B_ * T_, 0);
  out.targets.assign(B_ * T_, 0);
  out.weight.assign(B_ * T_, 0.f);
  int64_t predicted = 0;
  for (int64_t b = 0; b < B_; ++b) {
    Cursor& c = cur_[b];
    for (int64_t t = 0; t < T_ && c.done < stream_len_[b]; ++t) {
      const int64_t at = t * B_ + b;
      const int64_t first = sent_begin_[c.sentence];
      const int64_t n = sent_begin_[c.sentence + 1] - first;
      out.tokens[at] = c.pos == 0 ? bos_ : ids_[first + c.pos - 1];
      out.targets[at] = c.pos == n ? eos_ : ids_[first + c.pos];
      out.weight[at] = 1.f;
      ++predicted;
      ++c.done;
      if (++c.pos == sent_pairs_[c.sentence]) {
        ++c.sentence;
        c.pos = 0;
      }
    }
  }
  out.predicted = out.words = predicted;
  return true;
}

}  // namespace sg
