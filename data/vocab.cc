// Vocabulary build / load / save. The hash index is open addressing over
// std::hash<std::string_view> so lookups of tokens (string_views into a shard buffer) allocate
// nothing.
#include "data/vocab.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <exception>
#include <functional>
#include <limits>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "data/output_file.h"
#include "data/text.h"
#include "engine/check.h"

namespace sg {

namespace {

constexpr std::string_view kMaxTermId = "!!!MAXTERMID";

bool is_special(std::string_view w) {
  return w == Vocab::kBos || w == Vocab::kEos || w == Vocab::kUnk;
}

// Shows a line in an error message: at most 60 bytes, valid UTF-8 only.
std::string shown(std::string_view line) {
  if (!valid_utf8(line)) return "<not UTF-8>";
  std::string s(line.substr(0, 60));
  if (line.size() > 60) {
    while (!s.empty() && (static_cast<unsigned char>(s.back()) & 0xC0) == 0x80) s.pop_back();
    if (!s.empty() && static_cast<unsigned char>(s.back()) >= 0xC0) s.pop_back();
    s += "...";
  }
  return "'" + s + "'";
}

bool parse_count(std::string_view s, int64_t& out) {
  if (s.empty() || s.size() > 18) return false;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

}  // namespace

Vocab::Vocab() : words_{kBos, kEos, kUnk}, counts_{0, 0, 0} { index(); }

int32_t Vocab::first_count_increase() const {
  for (int32_t i = unk() + 2; i < size(); ++i)
    if (counts_[i] > counts_[i - 1]) return i;
  return -1;
}

int64_t Vocab::counted_predictions() const {
  int64_t total = 0;
  for (size_t i = 1; i < counts_.size(); ++i) total += counts_[i];
  return total;
}

// A slot holds (top 32 bits of the hash) << 32 | (id + 1); 0 = empty. Comparing the stored hash
// bits first means a probe reads a word's bytes only when it almost surely matches (one cache miss
// per lookup).
void Vocab::index() {
  size_t cap = 8;
  while (cap < 2 * words_.size()) cap *= 2;
  slots_.assign(cap, 0);
  mask_ = cap - 1;
  std::hash<std::string_view> h;
  for (size_t i = 0; i < words_.size(); ++i) {
    const uint64_t hv = h(words_[i]);
    size_t s = hv & mask_;
    while (slots_[s] != 0) {
      const size_t j = static_cast<uint32_t>(slots_[s]) - 1;
      SG_CHECK(words_[j] != words_[i], "vocabulary has the word '", words_[i], "' twice");
      s = (s + 1) & mask_;
    }
    slots_[s] = ((hv >> 32) << 32) | (i + 1);
  }
}

int32_t Vocab::find(std::string_view w) const {
  const uint64_t hv = std::hash<std::string_view>()(w);
  size_t s = hv & mask_;
  for (;;) {
    const uint64_t slot = slots_[s];
    if (slot == 0) return -1;
    if ((slot >> 32) == (hv >> 32)) {
      const int32_t i = static_cast<int32_t>(static_cast<uint32_t>(slot) - 1);
      if (words_[i] == w) return i;
    }
    s = (s + 1) & mask_;
  }
}

int32_t Vocab::id(std::string_view w) const {
  const int32_t i = find(w);
  return i <= eos() ? unk() : i;  // absent (-1), or a literal <S> (0) / </S> (1)
}

std::string literal_marker_note(int64_t count, const std::string& where) {
  if (count == 0) return "";
  return "note: " + std::to_string(count) + " literal <S> / </S> token" + (count == 1 ? "" : "s") +
         " in " + where + " read as <UNK>: sketchgrad frames every line as <S> ... </S> itself, " +
         "so the text's own markers are not sentence boundaries";
}

bool Vocab::contains(std::string_view w) const { return find(w) >= 0; }

const std::string& Vocab::word(int32_t id) const {
  SG_CHECK(id >= 0 && id < size(), "word id ", id, " is outside the vocabulary [0, ", size(), ")");
  return words_[id];
}

int64_t Vocab::count(int32_t id) const {
  SG_CHECK(id >= 0 && id < size(), "word id ", id, " is outside the vocabulary [0, ", size(), ")");
  return counts_[id];
}

Vocab Vocab::from_words(const std::vector<std::string>& words, const std::vector<int64_t>& counts,
                        int64_t bos_count, int64_t eos_count, int64_t unk_count) {
  SG_CHECK(words.size() == counts.size(), "from_words: ", words.size(), " words but ",
           counts.size(), " counts");
  SG_CHECK(words.size() < (1u << 31) - 4, "vocabulary too large: ", words.size(), " words");
  Vocab v;
  v.counts_ = {bos_count, eos_count, unk_count};
  v.words_.reserve(words.size() + 3);
  v.counts_.reserve(words.size() + 3);
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    SG_CHECK(!w.empty(), "vocabulary word ", i, " is empty");
    SG_CHECK(!is_special(w), "vocabulary words must not include the special token ", w);
    SG_CHECK(count_tokens(w) == 1 && !is_space_byte(w.front()) && !is_space_byte(w.back()),
             "vocabulary word ", shown(w), " contains white space");
    SG_CHECK(valid_utf8(w), "vocabulary word ", i, " is not valid UTF-8");
    SG_CHECK(counts[i] >= 0, "vocabulary word '", w, "' has a negative count");
    v.words_.push_back(w);
    v.counts_.push_back(counts[i]);
  }
  v.index();
  return v;
}

Vocab Vocab::load(const std::string& path) {
  LineReader in(path, "vocabulary file");
  std::vector<std::string> words;
  std::vector<int64_t> counts;
  int64_t special_count[3] = {-1, -1, -1};        // <S>, </S>, <UNK>; -1 = absent
  std::unordered_map<std::string, int64_t> seen;  // word -> line number
  int format = 0;  // 0 = not yet known, 1 = "word count", 2 = one word per line
  // Each count is below 10^18, but their sum (counted_predictions, the epoch length) must fit in
  // int64 too: ten damaged counts would overflow it.
  int64_t total = 0;
  std::string_view line;
  while (in.next(line)) {
    const int64_t ln = in.line_number();
    std::string_view fields[3];
    int nf = 0;
    for_each_token(line, [&](std::string_view t) {
      if (nf < 3) fields[nf] = t;
      ++nf;
    });
    SG_CHECK(nf > 0, "vocabulary file ", path, ":", ln, ": empty line (expected a word)");
    if (fields[0] == kMaxTermId && nf <= 2) continue;
    if (format == 0) format = nf == 2 ? 1 : 2;
    int64_t c = 0;
    if (format == 1) {
      SG_CHECK(nf == 2, "vocabulary file ", path, ":", ln, ": expected 'word count', got ",
               shown(line));
      SG_CHECK(parse_count(fields[1], c), "vocabulary file ", path, ":", ln, ": count ",
               shown(fields[1]), " is not a non-negative integer");
      SG_CHECK(c <= std::numeric_limits<int64_t>::max() - total, "vocabulary file ", path, ":", ln,
               ": the counts add up to more than 2^63 - 1");
      total += c;
    } else {
      SG_CHECK(nf == 1, "vocabulary file ", path, ":", ln, ": expected one word per line, got ",
               shown(line));
    }
    const std::string w(fields[0]);
    auto ins = seen.emplace(w, ln);
    SG_CHECK(ins.second, "vocabulary file ", path, ":", ln, ": duplicate word '", w,
             "' (first on line ", ins.first->second, ")");
    if (w == kBos) {
      special_count[0] = c;
    } else if (w == kEos) {
      special_count[1] = c;
    } else if (w == kUnk) {
      special_count[2] = c;
    } else {
      words.push_back(w);
      counts.push_back(c);
    }
  }
  SG_CHECK(!words.empty(), "vocabulary file ", path, " holds no words");
  if (special_count[1] < 0) special_count[1] = std::max<int64_t>(special_count[0], 0);
  return from_words(words, counts, std::max<int64_t>(special_count[0], 0), special_count[1],
                    std::max<int64_t>(special_count[2], 0));
}

namespace {

struct ShardCounts {
  std::unordered_map<std::string, int64_t> words;
  int64_t sentences = 0, tokens = 0;
};

void count_shard(const std::string& path, ShardCounts& c) {
  SentenceReader in(path, "shard");  // never a whole line in memory (text8 is one 100 MB line)
  std::string_view sentence;
  std::string key;
  while (in.next(sentence)) {
    for_each_token(sentence, [&](std::string_view t) {
      key.assign(t.data(), t.size());
      ++c.words[key];
      ++c.tokens;
    });
    ++c.sentences;
  }
}

}  // namespace

Vocab Vocab::build(const std::vector<std::string>& shard_files, int min_count, int threads,
                   const BuildProgress& progress) {
  SG_CHECK(min_count >= 1, "min-count must be >= 1, got ", min_count);
  SG_CHECK(!shard_files.empty(), "cannot build a vocabulary: no training shards");
  const int64_t n = static_cast<int64_t>(shard_files.size());
  const int workers = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, n)));
  std::vector<ShardCounts> partial(workers);
  std::vector<std::exception_ptr> errors(n);
  std::atomic<int64_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex m;
  int64_t done = 0, tokens = 0;
  auto work = [&](int w) {
    for (int64_t k; !failed && (k = next++) < n;) {
      const int64_t before = partial[w].tokens;
      try {
        count_shard(shard_files[k], partial[w]);
        std::lock_guard<std::mutex> lk(m);
        ++done;
        tokens += partial[w].tokens - before;
        if (progress) progress(done, n, tokens);  // may throw to stop the count
      } catch (...) {
        errors[k] = std::current_exception();
        failed = true;
        return;
      }
    }
  };
  std::vector<std::thread> pool;
  for (int w = 1; w < workers; ++w) pool.emplace_back(work, w);
  work(0);
  for (auto& t : pool) t.join();
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
  // Sum the workers' counts (integer sums: any order gives the same result).
  std::unordered_map<std::string, int64_t> counts = std::move(partial[0].words);
  int64_t sentences = partial[0].sentences, special_unk = 0;
  for (int w = 1; w < workers; ++w) {
    for (auto& [word, c] : partial[w].words) counts[word] += c;
    sentences += partial[w].sentences;
    partial[w] = ShardCounts();
  }
  int64_t markers = 0;  // literal <S> / </S> tokens: read as <UNK>, as id() maps them
  for (const char* s : {kBos, kEos, kUnk}) {
    auto it = counts.find(s);
    if (it == counts.end()) continue;
    special_unk += it->second;
    if (std::string_view(s) != kUnk) markers += it->second;
    counts.erase(it);
  }
  std::vector<std::pair<int64_t, std::string>> kept;
  int64_t unk = special_unk;
  for (auto& [w, c] : counts) {
    if (c >= min_count) {
      kept.emplace_back(c, w);
    } else {
      unk += c;
    }
  }
  if (kept.empty()) {  // every token would be <UNK>: nothing to learn
    int64_t top = 0;
    for (const auto& [w, c] : counts) top = std::max(top, c);
    SG_CHECK(!counts.empty(), "the training shards hold no words");
    SG_FAIL("no word occurs at least ", min_count, " times in the training shards (the most ",
            "frequent occurs ", top, top == 1 ? " time" : " times", "): lower --min-count");
  }
  std::sort(kept.begin(), kept.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  std::vector<std::string> words;
  std::vector<int64_t> cs;
  words.reserve(kept.size());
  cs.reserve(kept.size());
  for (auto& [c, w] : kept) {
    words.push_back(std::move(w));
    cs.push_back(c);
  }
  Vocab v = from_words(words, cs, sentences, sentences, unk);
  v.literal_markers_ = markers;
  return v;
}

void Vocab::save(const std::string& path) const {
  std::string text;
  for (int32_t i = 0; i < size(); ++i) {
    text += words_[i];
    text += ' ';
    text += std::to_string(counts_[i]);
    text += '\n';
  }
  write_whole_file(path, text, "vocabulary file");
}

}  // namespace sg
