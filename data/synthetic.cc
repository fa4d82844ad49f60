// Synthetic corpus writer: Zipf word ranks by Vose's alias method, log-normal sentence lengths.
#include "data/synthetic.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "data/corpus.h"
#include "data/process_alive.h"
#include "engine/check.h"
#include "engine/rng.h"

namespace fs = std::filesystem;

namespace sg {

namespace {

void poll(const std::function<bool()>& stop) {
  if (stop && stop()) SG_FAIL("synthetic corpus: stopped");
}

// Alias table for P(r) = (1/(r+1)) / H_W. Column c = high 32 bits of a draw scaled to [0, W); keep
// c when the low 32 bits are below threshold[c], else take alias[c]. Integer thresholds make the
// draw exact and portable. Vose's small and large work lists share one array (small grows from
// the front, large from the back): 20 bytes a word while building, 8 after.
struct ZipfAlias {
  std::vector<uint32_t> threshold, alias;
  ZipfAlias(int64_t W, const std::function<bool()>& stop) : threshold(W), alias(W) {
    std::vector<double> q(W);
    double h = 0;
    for (int64_t r = W - 1; r >= 0; --r) h += 1.0 / static_cast<double>(r + 1);
    poll(stop);
    for (int64_t r = 0; r < W; ++r)
      q[r] = static_cast<double>(W) / (static_cast<double>(r + 1) * h);
    poll(stop);
    std::vector<uint32_t> work(W);
    int64_t small = 0, large = W;  // small: work[0, small), top at small - 1; large: [large, W)
    for (int64_t r = W - 1; r >= 0; --r) {
      if (q[r] < 1.0) {
        work[small++] = static_cast<uint32_t>(r);
      } else {
        work[--large] = static_cast<uint32_t>(r);
      }
    }
    for (int64_t n = 0; small > 0 && large < W; ++n) {
      if ((n & 0xFFFFF) == 0) poll(stop);
      const uint32_t s = work[--small], l = work[large];
      threshold[s] = static_cast<uint32_t>(std::min(q[s] * 4294967296.0, 4294967295.0));
      alias[s] = l;
      q[l] -= 1.0 - q[s];
      if (q[l] < 1.0) {
        ++large;
        work[small++] = l;
      }
    }
    for (int64_t i = 0; i < small; ++i) threshold[work[i]] = 0xFFFFFFFFu, alias[work[i]] = work[i];
    for (int64_t i = large; i < W; ++i) threshold[work[i]] = 0xFFFFFFFFu, alias[work[i]] = work[i];
  }
  uint32_t draw(uint64_t u) const {
    const uint64_t c = ((u >> 32) * threshold.size()) >> 32;
    return (u & 0xFFFFFFFFu) < threshold[c] ? static_cast<uint32_t>(c) : alias[c];
  }
};

// 0 .. W-1 in the byte order of their spellings "w0", "w1", "w10", "w100", ..., "w2", ...
std::vector<uint32_t> spelling_order(int64_t W) {
  std::vector<uint32_t> out;
  out.reserve(static_cast<size_t>(W));
  out.push_back(0);  // "0" sorts first and is no other number's prefix
  const uint64_t n = static_cast<uint64_t>(W - 1);
  uint64_t cur = 1;
  for (uint64_t k = 0; k < n; ++k) {
    out.push_back(static_cast<uint32_t>(cur));
    if (cur * 10 <= n) {
      cur *= 10;
    } else {
      while (cur % 10 == 9 || cur + 1 > n) cur /= 10;
      ++cur;
    }
  }
  return out;
}

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
                     std::vector<int64_t>* counts, const std::function<bool()>& stop) {
  std::string& out = f.buf();
  for (int64_t i = first; i < first + count; ++i) {
    if ((i & 0xFFF) == 0) poll(stop);
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

int64_t synthetic_corpus_memory_bytes(int64_t vocab) {
  // Plus the two 1 MiB write buffers.
  return kSyntheticBytesPerWord * std::max<int64_t>(vocab - 3, 0) + (int64_t(2) << 20);
}

namespace {

int64_t read_int(const std::string& path) {
  std::ifstream f(path);
  long long v = -1;
  if (!(f >> v)) return -1;  // missing, or "max"
  return v;
}

// The value of `key` (in kB) in a /proc file of "Key:   N kB" lines, in bytes; -1 when absent.
int64_t proc_kb(const std::string& path, const std::string& key) {
  std::ifstream f(path);
  std::string k;
  long long v;
  while (f >> k) {
    if (k == key && f >> v) return static_cast<int64_t>(v) * 1024;
    f.ignore(1 << 20, '\n');
  }
  return -1;
}

}  // namespace

int64_t available_memory_bytes() {
  int64_t best = -1;
  auto take = [&](int64_t v) {
    if (v >= 0 && (best < 0 || v < best)) best = v;
  };
  take(proc_kb("/proc/meminfo", "MemAvailable:"));
  std::ifstream cg("/proc/self/cgroup");  // cgroup v2: "0::/path"
  for (std::string line; std::getline(cg, line);) {
    if (line.rfind("0::", 0) != 0) continue;
    const std::string dir = "/sys/fs/cgroup" + line.substr(3);
    const int64_t max = read_int(dir + "/memory.max"), cur = read_int(dir + "/memory.current");
    if (max >= 0 && cur >= 0) take(std::max<int64_t>(max - cur, 0));
  }
  rlimit lim{};
  if (getrlimit(RLIMIT_AS, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY) {
    const int64_t mapped = std::max<int64_t>(proc_kb("/proc/self/status", "VmSize:"), 0);
    take(std::max<int64_t>(static_cast<int64_t>(lim.rlim_cur) - mapped, 0));
  }
  return best;
}

namespace {

std::string gib(int64_t bytes) {
  char s[32];
  if (bytes < (int64_t(1) << 30)) {
    std::snprintf(s, sizeof(s), "%.0f MiB", static_cast<double>(bytes) / (1 << 20));
  } else {
    std::snprintf(s, sizeof(s), "%.1f GiB", static_cast<double>(bytes) / (1 << 30));
  }
  return s;
}

bool nonempty_or_not_folder(const fs::path& p) {
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(p, ec))) return false;
  if (!fs::is_directory(p, ec)) return true;
  return !fs::is_empty(p, ec) || ec;
}

// Removes DIR/.synth-partial-PID folders whose process is gone or a zombie (a run killed by
// SIGKILL).
void remove_stale_partials(const fs::path& out) {
  std::error_code ec;
  const std::string prefix = ".synth-partial-";
  for (fs::directory_iterator it(out, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
    if (pid > 0 && (pid == getpid() || process_is_running(static_cast<pid_t>(pid)))) continue;
    std::error_code rec;
    fs::remove_all(it->path(), rec);
  }
}

// Removes the partial corpus, and the output folder when this run created it and it is empty.
struct PartialFolder {
  fs::path path, out;
  bool created_out = false;
  ~PartialFolder() {
    std::error_code ec;
    fs::remove_all(path, ec);
    if (created_out) fs::remove(out, ec);  // only if empty
  }
};

}  // namespace

void write_synthetic_corpus(const std::string& out_dir, int64_t sentences, int64_t vocab,
                            int shards, uint64_t seed, const std::function<bool()>& stop,
                            int64_t memory_limit) {
  SG_CHECK(sentences >= 1, "synthetic corpus: sentences must be >= 1, got ", sentences);
  SG_CHECK(vocab >= 4 && vocab <= kMaxSyntheticVocab,
           "synthetic corpus: vocabulary size must be in [4, 2^31 - 2], got ", vocab);
  SG_CHECK(shards >= 1 && shards <= 99999, "synthetic corpus: shards must be in [1, 99999], got ",
           shards);
  SG_CHECK(shards <= sentences, "synthetic corpus: ", shards,
           " shards need at least as many sentences, got ", sentences);
  const int64_t need = synthetic_corpus_memory_bytes(vocab);
  const int64_t have = memory_limit >= 0 ? memory_limit : available_memory_bytes();
  SG_CHECK(have < 0 || need <= have, "synthetic corpus: a vocabulary of ", vocab, " words needs ",
           gib(need), " of memory (", kSyntheticBytesPerWord, " bytes a word), but only ",
           gib(have), " is available; lower the vocabulary size");
  const fs::path out(out_dir);
  const fs::path train = out / kTrainFolder;
  const fs::path held = out / kHeldoutFolder;
  std::error_code ec;
  SG_CHECK(!nonempty_or_not_folder(train) && !nonempty_or_not_folder(held), "--out ", out_dir,
           " already holds a corpus; remove it or choose another folder");
  SG_CHECK(!fs::exists(fs::symlink_status(out / "vocab.txt", ec)), "--out ", out_dir,
           " already holds a vocab.txt, which synth would replace; remove it or choose another "
           "folder");
  PartialFolder partial{out / (".synth-partial-" + std::to_string(getpid())), out};
  partial.created_out = fs::create_directories(out, ec);
  SG_CHECK(!ec, "cannot create ", out_dir, ": ", ec.message());
  remove_stale_partials(out);
  const fs::path ptrain = partial.path / kTrainFolder;
  const fs::path pheld = partial.path / kHeldoutFolder;
  fs::create_directories(ptrain, ec);
  SG_CHECK(!ec, "cannot create ", ptrain.string(), ": ", ec.message());
  fs::create_directories(pheld, ec);
  SG_CHECK(!ec, "cannot create ", pheld.string(), ": ", ec.message());

  const int64_t W = vocab - 3;
  std::vector<int64_t> counts;
  {
    const ZipfAlias zipf(W, stop);
    counts.assign(W, 0);
    uint64_t token = 0;
    const int of = std::max(100, shards + 1);
    for (int k = 0; k < shards; ++k) {
      const int64_t a = sentences * k / shards, b = sentences * (k + 1) / shards;
      OutFile f((ptrain / shard_name(k + 1, of)).string());
      write_sentences(f, zipf, seed, 2, 1, a, b - a, token, &counts, stop);
      f.commit();
    }
    const int64_t h = std::min<int64_t>(6075, std::max<int64_t>(1, sentences / 100));
    OutFile f((pheld / "news.en.heldout-00000-of-00050").string());
    uint64_t htoken = 0;
    write_sentences(f, zipf, seed, 4, 3, 0, h, htoken, nullptr, stop);
    f.commit();
  }
  // vocab.txt: the order Vocab::build uses (specials first, then descending count, ties by
  // spelling): the words in spelling order, stably sorted by count.
  std::vector<uint32_t> order = spelling_order(W);
  poll(stop);
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t x, uint32_t y) { return counts[x] > counts[y]; });
  poll(stop);
  {
    OutFile v((partial.path / "vocab.txt").string());
    const std::string sent = std::to_string(sentences);
    v.buf() += "<S> " + sent + "\n</S> " + sent + "\n<UNK> 0\n";
    for (int64_t i = 0; i < W; ++i) {
      if ((i & 0xFFFFF) == 0) poll(stop);
      append_word(v.buf(), order[i]);
      v.buf() += ' ';
      v.buf() += std::to_string(counts[order[i]]);
      v.buf() += '\n';
      v.flush_if_big();
    }
    v.commit();
  }
  poll(stop);
  // Into place: rename replaces an empty layout folder left by an older, interrupted run.
  for (const char* name : {kHeldoutFolder, "vocab.txt", kTrainFolder}) {
    fs::rename(partial.path / name, out / name, ec);
    SG_CHECK(!ec, "cannot move ", (partial.path / name).string(), " to ", (out / name).string(),
             ": ", ec.message());
  }
}

}  // namespace sg
