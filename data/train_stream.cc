// TrainStream: epoch / shard / sentence sequencing and stream filling (see train_stream.h).
#include "data/train_stream.h"

#include <algorithm>

#include "data/text.h"
#include "engine/check.h"
#include "engine/rng.h"

namespace sg {

std::vector<uint32_t> shuffled_order(size_t n, uint64_t seed, uint64_t stream) {
  SG_CHECK(n < (uint64_t(1) << 32), "too many items to shuffle: ", n);
  std::vector<uint32_t> p(n);
  for (size_t i = 0; i < n; ++i) p[i] = static_cast<uint32_t>(i);
  for (size_t i = n; i > 1; --i) {
    const uint64_t r = rng_u64(seed, stream, i);
    const size_t j = static_cast<size_t>((static_cast<unsigned __int128>(r) * i) >> 64);  // [0, i)
    std::swap(p[i - 1], p[j]);
  }
  return p;
}

TrainStream::TrainStream(std::vector<std::string> shards, const Vocab* vocab, int64_t B, int64_t T,
                         uint64_t seed, int64_t max_piece_bytes)
    : pieces_(split_shards(shards, max_piece_bytes)),
      vocab_(vocab),
      B_(B),
      T_(T),
      seed_(seed),
      streams_(B) {
  SG_CHECK(!pieces_.empty(), "no training shards");
}

std::string_view TrainStream::next_sentence() {
  while (sent_pos_ == sent_order_.size()) {
    if (shard_pos_ == shard_order_.size()) {
      SG_CHECK(epoch_ < 0 || sentences_in_epoch_ > 0, "the training shards hold no sentences (",
               pieces_.size(), " piece(s), first ", pieces_.front().path, ")");
      ++epoch_;
      shard_order_ = shuffled_order(pieces_.size(), seed_, static_cast<uint64_t>(epoch_) << 32);
      shard_pos_ = 0;
      sentences_in_epoch_ = 0;
    }
    const uint32_t k = shard_order_[shard_pos_++];
    shard_ = ShardText();  // free the previous shard before loading the next
    shard_ = load_shard(pieces_[k].path, pieces_[k].begin, pieces_[k].end);
    sent_order_ = shuffled_order(shard_.sentences(), seed_,
                                 (static_cast<uint64_t>(epoch_) << 32) | (k + 1ULL));
    sent_pos_ = 0;
    sentences_in_epoch_ += static_cast<int64_t>(shard_.sentences());
  }
  return shard_.sentence(sent_order_[sent_pos_++]);
}

void TrainStream::take(Stream& s, bool lazy) {
  const std::string_view line = next_sentence();
  s.live = true;
  s.pos = 0;
  s.lazy = lazy;
  s.ids.clear();
  if (lazy) {
    s.text.assign(line.data(), line.size());
    s.n = count_tokens(line);
  } else {
    for_each_token(line, [&](std::string_view w) { s.ids.push_back(vocab_->id(w)); });
    s.n = static_cast<int64_t>(s.ids.size());
  }
}

void TrainStream::materialize(Stream& s) {
  s.ids.clear();
  for_each_token(s.text, [&](std::string_view w) { s.ids.push_back(vocab_->id(w)); });
  s.lazy = false;
}

void TrainStream::step(bool emit, Batch* out) {
  const int32_t bos = vocab_->bos(), eos = vocab_->eos();
  for (int64_t b = 0; b < B_; ++b) {
    Stream& s = streams_[b];
    int64_t filled = 0;
    while (filled < T_) {
      if (!s.live || s.pos == s.n + 1) take(s, !emit);
      if (emit && s.lazy) materialize(s);
      const int64_t k = std::min(s.n + 1 - s.pos, T_ - filled);
      if (emit) {
        int32_t* tok = out->tokens.data();
        int32_t* tgt = out->targets.data();
        for (int64_t j = 0; j < k; ++j) {
          const int64_t p = s.pos + j, at = (filled + j) * B_ + b;
          tok[at] = p == 0 ? bos : s.ids[p - 1];
          tgt[at] = p == s.n ? eos : s.ids[p];
        }
      }
      s.pos += k;
      filled += k;
    }
  }
}

void TrainStream::fill(Batch& out) {
  out.T = T_;
  out.B = B_;
  out.tokens.resize(B_ * T_);
  out.targets.resize(B_ * T_);
  out.weight.assign(B_ * T_, 1.f);
  out.predicted = out.words = B_ * T_;
  step(true, &out);
}

void TrainStream::advance() { step(false, nullptr); }

}  // namespace sg
