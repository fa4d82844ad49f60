// Synthetic corpus writer: Zipf word ranks by Vose's alias method, log-normal sentence lengths.
#include "data/synthetic.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <vector>

#include "data/corpus.h"
#include "engine/check.h"
#include "engine/rng.h"

namespace fs = std::filesystem;

namespace sg {

namespace {

// Alias table for P(r) = (1/(r+1)) / H_W. Column c = high 32 bits of a draw scaled to [0, W); keep
// c when the low 32 bits are below threshold[c], else take alias[c]. Integer thresholds make the
// draw exact and portable.
struct ZipfAlias {
  std::vector<uint32_t> threshold, alias;
  explicit ZipfAlias(int64_t W) : threshold(W), alias(W) {
    std::vector<double> q(W);
    double h = 0;
    for (int64_t r = W - 1; r >= 0; --r) h += 1.0 / static_cast<double>(r + 1);
    for (int64_t r = 0; r < W; ++r)
      q[r] = static_cast<double>(W) / (static_cast<double>(r + 1) * h);
    std::vector<int64_t> small, large;
    for (int64_t r = W - 1; r >= 0; --r) (q[r] < 1.0 ? small : large).push_back(r);
    while (!small.empty() && !large.empty()) {
      const int64_t s = small.back(), l = large.back();
      small.pop_back();
      threshold[s] = static_cast<uint32_t>(std::min(q[s] * 4294967296.0, 4294967295.0));
      alias[s] = static_cast<uint32_t>(l);
      q[l] -= 1.0 - q[s];
      if (q[l] < 1.0) {
        large.pop_back();
        small.push_back(l);
      }
    }
    for (int64_t r : small) threshold[r] = 0xFFFFFFFFu, alias[r] = static_cast<uint32_t>(r);
    for (int64_t r : large) threshold[r] = 0xFFFFFFFFu, alias[r] = static_cast<uint32_t>(r);
  }
  uint32_t draw(uint64_t u) const {
    const uint64_t c = ((u >> 32) * threshold.size()) >> 32;
    return (u & 0xFFFFFFFFu) < threshold[c] ? static_cast<uint32_t>(c) : alias[c];
  }
};

int64_t sentence_length(uint64_t seed, uint64_t stream, int64_t i) {
  const double u1 = 1.0 - rng_uniform_double(seed, stream, 2 * static_cast<uint64_t>(i));  // (0, 1]
  const double u2 = rng_uniform_double(seed, stream, 2 * static_cast<uint64_t>(i) + 1);
  const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  const double n = std::round(std::exp(std::log(22.1) + 0.537 * z));
  return std::clamp<int64_t>(static_cast<int64_t>(n), 1, 400);
}

class OutFile {
 public:
  explicit OutFile(std::string path) : path_(std::move(path)), tmp_(path_ + ".tmp") {
    f_ = std::fopen(tmp_.c_str(), "wb");
    SG_CHECK(f_ != nullptr, "cannot write ", tmp_, ": ", std::strerror(errno));
    buf_.reserve(1 << 20);
  }
  ~OutFile() {
    if (f_) {
      std::fclose(f_);
      std::remove(tmp_.c_str());
    }
  }
  std::string& buf() { return buf_; }
  void flush_if_big() {
    if (buf_.size() >= (1 << 20) - 4096) flush();
  }
  void flush() {
    if (!buf_.empty() && std::fwrite(buf_.data(), 1, buf_.size(), f_) != buf_.size())
      SG_FAIL("cannot write ", tmp_, ": ", std::strerror(errno));
    buf_.clear();
  }
  void commit() {
    flush();
    const bool ok = std::fclose(f_) == 0;
    f_ = nullptr;
    if (!ok || std::rename(tmp_.c_str(), path_.c_str()) != 0) {
      std::remove(tmp_.c_str());
      SG_FAIL("cannot write ", path_, ": ", std::strerror(errno));
    }
  }

 private:
  std::string path_, tmp_, buf_;
  std::FILE* f_ = nullptr;
};

void append_word(std::string& out, uint32_t r) {
  char digits[16];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + r % 10);
    r /= 10;
  } while (r);
  out += 'w';
  while (n) out += digits[--n];
}

// Writes `count` sentences (length stream, word stream, first token index) to f; counts words when
// counts != 0.
void write_sentences(OutFile& f, const ZipfAlias& z, uint64_t seed, uint64_t len_stream,
                     uint64_t word_stream, int64_t first, int64_t count, uint64_t& token,
                     std::vector<int64_t>* counts) {
  std::string& out = f.buf();
  for (int64_t i = first; i < first + count; ++i) {
    const int64_t n = sentence_length(seed, len_stream, i);
    for (int64_t k = 0; k < n; ++k) {
      const uint32_t r = z.draw(rng_u64(seed, word_stream, token++));
      if (counts) ++(*counts)[r];
      if (k) out += ' ';
      append_word(out, r);
    }
    out += '\n';
    f.flush_if_big();
  }
}

std::string shard_name(int k, int of) {
  char name[64];
  std::snprintf(name, sizeof(name), "news.en-%05d-of-%05d", k, of);
  return name;
}

}  // namespace

void write_synthetic_corpus(const std::string& out_dir, int64_t sentences, int64_t vocab,
                            int shards, uint64_t seed) {
  SG_CHECK(sentences >= 1, "synthetic corpus: sentences must be >= 1, got ", sentences);
  SG_CHECK(vocab >= 4 && vocab <= (int64_t(1) << 31) - 1,
           "synthetic corpus: vocabulary size must be in [4, 2^31), got ", vocab);
  SG_CHECK(shards >= 1 && shards <= 99999, "synthetic corpus: shards must be in [1, 99999], got ",
           shards);
  SG_CHECK(shards <= sentences, "synthetic corpus: ", shards,
           " shards need at least as many sentences, got ", sentences);
  const fs::path train = fs::path(out_dir) / kTrainFolder;
  const fs::path held = fs::path(out_dir) / kHeldoutFolder;
  std::error_code ec;
  fs::create_directories(train, ec);
  SG_CHECK(!ec, "cannot create ", train.string(), ": ", ec.message());
  fs::create_directories(held, ec);
  SG_CHECK(!ec, "cannot create ", held.string(), ": ", ec.message());

  const int64_t W = vocab - 3;
  const ZipfAlias zipf(W);
  std::vector<int64_t> counts(W, 0);
  uint64_t token = 0;
  const int of = std::max(100, shards + 1);
  for (int k = 0; k < shards; ++k) {
    const int64_t a = sentences * k / shards, b = sentences * (k + 1) / shards;
    OutFile f((train / shard_name(k + 1, of)).string());
    write_sentences(f, zipf, seed, 2, 1, a, b - a, token, &counts);
    f.commit();
  }
  {
    const int64_t h = std::min<int64_t>(6075, std::max<int64_t>(1, sentences / 100));
    OutFile f((held / "news.en.heldout-00000-of-00050").string());
    uint64_t htoken = 0;
    write_sentences(f, zipf, seed, 4, 3, 0, h, htoken, nullptr);
    f.commit();
  }
  // vocab.txt: the order Vocab::build uses (specials first, then descending count, ties by
  // spelling).
  std::vector<uint32_t> order(W);
  for (int64_t r = 0; r < W; ++r) order[r] = static_cast<uint32_t>(r);
  std::vector<std::string> spelled(W);
  for (int64_t r = 0; r < W; ++r) append_word(spelled[r], static_cast<uint32_t>(r));
  std::stable_sort(order.begin(), order.end(), [&](uint32_t x, uint32_t y) {
    return counts[x] != counts[y] ? counts[x] > counts[y] : spelled[x] < spelled[y];
  });
  OutFile v((fs::path(out_dir) / "vocab.txt").string());
  const std::string sent = std::to_string(sentences);
  v.buf() += "<S> " + sent + "\n</S> " + sent + "\n<UNK> 0\n";
  for (uint32_t r : order) {
    v.buf() += spelled[r];
    v.buf() += ' ';
    v.buf() += std::to_string(counts[r]);
    v.buf() += '\n';
    v.flush_if_big();
  }
  v.commit();
}

}  // namespace sg
