// find_corpus (LM1B layout discovery with one-line errors), whole-shard loading and token counting.
#include "data/corpus.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <system_error>

#include "data/file_checks.h"
#include "data/split_folder.h"
#include "data/text.h"
#include "engine/check.h"

namespace fs = std::filesystem;

namespace sg {

namespace {

bool is_digits(std::string_view s, size_t n) {
  if (s.size() != n) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// news.en.heldout-NNNNN-of-MMMMM, also with a .gz / .bz2 / .xz / .zst ending (check_shard then
// says to decompress it, unless drop_compressed_twins finds the decompressed copy beside it).
bool is_heldout_split(const std::string& name) {
  const std::string_view pre = "news.en.heldout-";
  std::string_view s = name;
  s.remove_suffix(compression_suffix(name).size());
  if (s.substr(0, pre.size()) != pre) return false;
  s.remove_prefix(pre.size());
  return s.size() == 14 && is_digits(s.substr(0, 5), 5) && s.substr(5, 4) == "-of-" &&
         is_digits(s.substr(9), 5);
}

bool is_train_shard(const std::string& name) { return name.rfind("news.en-", 0) == 0; }

// The regular files of folder whose names match, sorted. A matching name that is a symlink to a
// missing file is an error naming it (what: "training shard"), not a shard silently left out.
template <typename Match>
std::vector<std::string> list_shards(const fs::path& folder, Match match, const char* what) {
  std::vector<std::string> out, dangling;
  std::error_code ec;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!match(name)) continue;
    if (is_dangling_symlink(it->path().string())) dangling.push_back(it->path().string());
    std::error_code ec2;
    if (!fs::is_regular_file(it->path(), ec2)) continue;
    out.push_back(it->path().string());
  }
  SG_CHECK(!ec, "cannot list data folder ", folder.string(), ": ", ec.message());
  std::sort(dangling.begin(), dangling.end());
  SG_CHECK(dangling.empty(), what, " ", dangling.empty() ? "" : dangling.front(),
           " is a symlink to a missing file (restore its target or remove the link)");
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

// Throws one line unless path is a readable regular file that is not compressed; returns whether it
// holds a sentence (false for 0 bytes or blank lines only).
static bool check_text_file(const std::string& path, const std::string& what) {
  SG_CHECK(!is_dangling_symlink(path), what, " ", path, " is a symlink to a missing file");
  std::error_code ec;
  SG_CHECK(fs::exists(path, ec), what, " ", path, " does not exist");
  SG_CHECK(fs::is_regular_file(path, ec), what, " ", path, " is ", path_kind(path),
           ", not a regular file");
  const auto size = fs::file_size(path, ec);
  SG_CHECK(!ec, "cannot read ", what, " ", path, ": ", ec.message());
  if (size == 0) return false;
  const char* packer = compression_of_file(path);
  SG_CHECK(packer == nullptr, what, " ", path, " is ", packer,
           "-compressed; sketchgrad reads plain UTF-8 text: decompress it first");
  return holds_sentence(path);
}

void check_shard(const std::string& path, const std::string& what) {
  if (check_text_file(path, what)) return;
  // Found here, not at the first evaluation (or after the last checkpoint, losing the summary).
  std::error_code ec;
  SG_CHECK(fs::file_size(path, ec) > 0, what, " ", path, " is empty");
  SG_FAIL(what, " ", path, " holds no sentences (only blank lines)");
}

// "a, b, c and 4 more".
static std::string some_paths(const std::vector<std::string>& paths) {
  std::string out;
  for (size_t i = 0; i < paths.size() && i < 3; ++i) out += (i ? ", " : "") + paths[i];
  if (paths.size() > 3) out += " and " + std::to_string(paths.size() - 3) + " more";
  return out;
}

// Moves the training files that hold no sentence (0 bytes, blank lines only) from train_shards to
// blank_train_files, with a note naming them when others are left (require_training fails when
// none is).
static void skip_blank_training_files(CorpusLayout& c, const std::string& what) {
  std::vector<std::string> kept;
  for (const std::string& s : c.train_shards)
    (check_text_file(s, what) ? kept : c.blank_train_files).push_back(s);
  c.train_shards = std::move(kept);
  if (c.blank_train_files.empty() || c.train_shards.empty()) return;
  const size_t n = c.blank_train_files.size();
  c.train_notes.push_back("note: skipping " + std::to_string(n) + " " + what +
                          (n == 1 ? " that holds no sentence" : "s that hold no sentences") +
                          " (empty or blank lines only): " + some_paths(c.blank_train_files));
}

// FILE[,FILE...]: plain-text training files in the order given, no held-out split. `paths` are
// the names --data (`list`) gave.
static CorpusLayout text_files_corpus(const std::string& list,
                                      const std::vector<std::string>& paths) {
  CorpusLayout c;
  c.dir = list;
  c.text_files = true;
  std::map<std::pair<dev_t, ino_t>, std::string> seen;  // (device, inode) -> the path naming it
  for (const std::string& path : paths) {
    if (path.empty()) continue;
    std::error_code ec;
    SG_CHECK(!is_dangling_symlink(path), "training file ", path, " is a symlink to a missing file");
    SG_CHECK(fs::exists(path, ec), "training file ", path, " does not exist");
    SG_CHECK(fs::is_regular_file(path, ec), "training file ", path, " is ", path_kind(path),
             ", not a regular file (--data takes an LM1B-layout folder or text files: "
             "FILE[,FILE...])");
    // The same file twice (also spelled differently, or a hard link) would be counted twice in
    // the vocabulary and trained on twice per epoch, silently. Files are told apart by (device,
    // inode): one stat each, however long the list.
    struct stat st;
    SG_CHECK(::stat(path.c_str(), &st) == 0, "cannot read training file ", path);
    const auto [it, fresh] = seen.emplace(std::make_pair(st.st_dev, st.st_ino), path);
    SG_CHECK(fresh, "--data names the same file twice: ", it->second, " and ", path,
             " (name each file once; to weight a text, copy it)");
    c.train_shards.push_back(path);
  }
  SG_CHECK(!c.train_shards.empty(), "--data '", list, "' names no file");
  skip_blank_training_files(c, "training file");
  return c;
}

// A folder with neither LM1B folder: its files named by split (WikiText / PTB), or an error that
// says how to name the text. A folder is never taken wholesale: WikiText's also holds the
// validation and test files.
static CorpusLayout split_named_corpus(const std::string& dir) {
  SplitFiles split = split_files_in(dir);
  if (split.train.empty()) {
    std::vector<std::string> files;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.is_regular_file(ec) && e.path().filename().string()[0] != '.')
        files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    std::string hint;
    for (size_t i = 0; i < files.size() && i < 2; ++i) hint += (i ? "," : "") + files[i];
    if (files.size() > 2) hint += ",...";
    if (hint.find_first_of(" \t'\"$") != std::string::npos) hint = "'" + hint + "'";  // pasteable
    SG_FAIL("data folder ", dir, " is not an LM1B-layout corpus (it has neither ", kTrainFolder,
            "/ nor ", kHeldoutFolder, "/) and no file named as training text (like ",
            "wiki.train.tokens or ptb.train.txt)",
            hint.empty() ? std::string()
                         : "; to train on plain text files name them: --data " + hint +
                               " (and --heldout FILE)");
  }
  CorpusLayout c;
  c.dir = dir;
  c.split_named = true;
  c.train_shards = split.train;
  c.heldout_shards = split.valid;
  c.test_shards = split.test;
  drop_compressed_twins(c.train_shards, c.train_notes);  // ptb.train.txt.gz beside ptb.train.txt
  drop_compressed_twins(c.heldout_shards, c.heldout_notes);
  drop_compressed_twins(c.test_shards, c.heldout_notes);
  skip_blank_training_files(c, "training file");
  for (const auto& s : c.heldout_shards) check_shard(s, "validation file");
  for (const auto& s : c.test_shards) check_shard(s, "test file");
  return c;
}

CorpusLayout find_corpus(const std::string& dir) {
  SG_CHECK(!dir.empty(), "no data folder given");
  std::error_code ec;
  // A path that exists is taken whole, commas and all ("my,corpus.txt"); otherwise commas separate
  // files.
  const bool whole = fs::exists(fs::symlink_status(dir, ec));
  if (!whole && dir.find(',') != std::string::npos) {
    std::vector<std::string> paths;
    for (size_t start = 0; start <= dir.size();) {
      const size_t comma = std::min(dir.find(',', start), dir.size());
      paths.push_back(dir.substr(start, comma - start));
      start = comma + 1;
    }
    return text_files_corpus(dir, paths);
  }
  SG_CHECK(!is_dangling_symlink(dir), "--data ", dir, " is a symlink to a missing file or folder");
  SG_CHECK(whole, "--data ", dir, " does not exist");
  if (fs::is_regular_file(dir, ec)) return text_files_corpus(dir, {dir});
  SG_CHECK(fs::is_directory(dir, ec), "--data ", dir, " is ", path_kind(dir),
           ", not a regular file or folder (sketchgrad reads the text more than once: save it to a "
           "file)");
  CorpusLayout c;
  c.dir = dir;
  const fs::path train = fs::path(dir) / kTrainFolder;
  const fs::path held = fs::path(dir) / kHeldoutFolder;
  for (const fs::path& f : {train, held})
    SG_CHECK(!is_dangling_symlink(f.string()), "data folder ", f.string(),
             " is a symlink to a missing folder");
  const bool has_train = fs::is_directory(train, ec);
  const bool has_held = fs::is_directory(held, ec);
  if (!has_train && !has_held) return split_named_corpus(dir);
  if (has_train) {
    c.train_shards = list_shards(train, is_train_shard, "training shard");
    drop_compressed_twins(c.train_shards, c.train_notes);
    SG_CHECK(!c.train_shards.empty(), "no training shards: ", train.string(),
             "/news.en-* matches nothing");
  }
  if (has_held) {
    c.heldout_shards = list_shards(held, is_heldout_split, "held-out shard");
    drop_compressed_twins(c.heldout_shards, c.heldout_notes);
    SG_CHECK(!c.heldout_shards.empty(), "no held-out shards: ", held.string(),
             "/news.en.heldout-NNNNN-of-MMMMM matches nothing (remove the empty folder to train "
             "without held-out evaluation)");
  }
  skip_blank_training_files(c, "training shard");
  for (const auto& s : c.heldout_shards) check_shard(s, "held-out shard");
  return c;
}

void require_heldout(const CorpusLayout& c) {
  SG_CHECK(!c.text_files, "--data ", c.dir,
           " names text files, which are all training data; name the held-out file (eval --shard, "
           "train --heldout)");
  SG_CHECK(!c.split_named || !c.heldout_shards.empty() || !c.test_shards.empty(), "data folder ",
           c.dir, " has no validation or test file (named like wiki.valid.tokens or ptb.test.txt)");
  if (c.split_named) return;
  SG_CHECK(!c.heldout_shards.empty(), "data folder ", c.dir, " has no held-out shards (expected ",
           c.dir, "/", kHeldoutFolder, "/news.en.heldout-NNNNN-of-MMMMM)");
}

std::string default_eval_shard(const CorpusLayout& c) {
  require_heldout(c);
  if (!c.test_shards.empty()) return c.test_shards.front();
  return c.heldout_shards.front();
}

void require_training(const CorpusLayout& c) {
  const size_t blank = c.blank_train_files.size();
  SG_CHECK(!c.train_shards.empty() || blank == 0, "--data ", c.dir,
           ": no training file holds a sentence (", blank == 1 ? "it is" : "all are",
           " empty or blank lines only: ", some_paths(c.blank_train_files), ")");
  SG_CHECK(!c.train_shards.empty(), "data folder ", c.dir, " has no training shards (expected ",
           c.dir, "/", kTrainFolder, "/news.en-*)");
}

namespace {

struct File {
  std::FILE* f;
  File(const std::string& path, const char* what) : f(std::fopen(path.c_str(), "rb")) {
    SG_CHECK(f != nullptr, "cannot open ", what, " ", path, ": ", std::strerror(errno));
  }
  ~File() { std::fclose(f); }
  void seek(const std::string& path, int64_t at) {
    SG_CHECK(fseeko(f, static_cast<off_t>(at), SEEK_SET) == 0, "cannot seek in shard ", path, ": ",
             std::strerror(errno));
  }
};

std::string read_range(const std::string& path, int64_t begin, int64_t end) {
  File file(path, "shard");
  file.seek(path, begin);
  std::string out(static_cast<size_t>(end - begin), '\0');
  const size_t got = std::fread(out.data(), 1, out.size(), file.f);
  SG_CHECK(got == out.size() && !std::ferror(file.f), "cannot read shard ", path, " bytes ", begin,
           "..", end, ": ", std::ferror(file.f) ? std::strerror(errno) : "the file shrank");
  return out;
}

// The first sentence boundary at or after `target` in a file, scanning from `from`, where a
// sentence starts (the start of a line, or a previous cut): just after a newline, or (in a line
// longer than kMaxSentenceTokens tokens) just after a sentence's last token. -1 when the file ends
// first.
int64_t next_sentence_boundary(File& file, const std::string& path, int64_t from, int64_t target) {
  file.seek(path, from);
  std::vector<char> buf(1 << 16);
  int64_t at = from, tokens = 0;
  bool in_token = false;
  for (;;) {
    const size_t got = std::fread(buf.data(), 1, buf.size(), file.f);
    SG_CHECK(!std::ferror(file.f), "cannot read shard ", path, ": ", std::strerror(errno));
    if (got == 0) return -1;
    for (size_t i = 0; i < got; ++i, ++at) {
      const char c = buf[i];
      if (c == '\n') {
        if (at + 1 >= target) return at + 1;
        tokens = 0;
        in_token = false;
      } else if (is_space_byte(c)) {
        if (in_token && ++tokens == kMaxSentenceTokens) {
          if (at >= target) return at;
          tokens = 0;
        }
        in_token = false;
      } else {
        in_token = true;
      }
    }
  }
}

// Where the scan for a cut at or after `target` starts: just after the last newline before
// target - 1 (a newline at target - 1 is itself a cut), else the piece's start `begin` (skipping a
// byte-order mark at the start of the file, which load_shard drops too).
int64_t sentence_scan_start(File& file, const std::string& path, int64_t begin, int64_t target) {
  std::vector<char> buf(1 << 16);
  int64_t hi = target - 1;  // search [begin, hi)
  while (hi > begin) {
    const int64_t lo = std::max(begin, hi - static_cast<int64_t>(buf.size()));
    file.seek(path, lo);
    const size_t n = static_cast<size_t>(hi - lo);
    SG_CHECK(std::fread(buf.data(), 1, n, file.f) == n, "cannot read shard ", path, ": ",
             std::ferror(file.f) ? std::strerror(errno) : "the file shrank");
    const void* nl = memrchr(buf.data(), '\n', n);
    if (nl) return lo + (static_cast<const char*>(nl) - buf.data()) + 1;
    hi = lo;
  }
  if (begin == 0) {
    char bom[3];
    file.seek(path, 0);
    if (std::fread(bom, 1, 3, file.f) == 3 && std::memcmp(bom, "\xEF\xBB\xBF", 3) == 0) return 3;
  }
  return begin;
}

}  // namespace

std::vector<ShardPiece> split_shards(const std::vector<std::string>& paths, int64_t max_bytes) {
  SG_CHECK(max_bytes >= 1, "split_shards: max_bytes must be >= 1");
  std::vector<ShardPiece> out;
  for (const std::string& path : paths) {
    std::error_code ec;
    const int64_t size = static_cast<int64_t>(fs::file_size(path, ec));
    SG_CHECK(!ec, "cannot open shard ", path, ": ", ec.message());
    int64_t begin = 0;
    if (size > max_bytes) {
      File file(path, "shard");
      while (size - begin > max_bytes) {
        // The piece ends at the first sentence boundary at or after begin + max_bytes: just after
        // the first newline at or after begin + max_bytes - 1, or (a line of more than
        // kMaxSentenceTokens tokens) just after the last token of one of its sentences.
        const int64_t target = begin + max_bytes;
        const int64_t from = sentence_scan_start(file, path, begin, target);
        const int64_t cut = next_sentence_boundary(file, path, from, target);
        if (cut < 0 || cut >= size) break;
        out.push_back({path, begin, cut});
        begin = cut;
      }
    }
    out.push_back({path, begin, size});
  }
  return out;
}

ShardText load_shard(const std::string& path, int64_t begin, int64_t end) {
  ShardText s;
  s.path = path;
  if (end < 0) {
    std::error_code ec;
    end = static_cast<int64_t>(fs::file_size(path, ec));
    SG_CHECK(!ec, "cannot read shard ", path, ": ", ec.message());
  }
  SG_CHECK(begin >= 0 && begin <= end, "load_shard: bad byte range ", begin, "..", end);
  s.bytes = read_range(path, begin, end);
  const std::string label = begin == 0 ? path : path + " (from byte " + std::to_string(begin) + ")";
  const char* base = s.bytes.data();
  const size_t n = s.bytes.size();
  // A UTF-8 byte-order mark at the start of the file is not text (LineReader drops it too).
  size_t pos = begin == 0 && s.bytes.compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0;
  int64_t line_no = 0;
  while (pos < n) {
    const char* nl = static_cast<const char*>(std::memchr(base + pos, '\n', n - pos));
    const size_t end = nl ? static_cast<size_t>(nl - base) : n;
    ++line_no;
    std::string_view line(base + pos, end - pos);
    check_utf8_line(line, "shard", label, line_no);
    // A blank line is not a sentence; a line of more than kMaxSentenceTokens tokens is several.
    for_each_sentence(line, [&](std::string_view sentence) {
      SG_CHECK(sentence.size() < (1u << 31), "shard ", label, ":", line_no, " is too long");
      s.begin.push_back(static_cast<int64_t>(sentence.data() - base));
      s.length.push_back(static_cast<int32_t>(sentence.size()));
    });
    pos = end + 1;
  }
  return s;
}

int64_t count_predicted(const std::string& path) {
  SentenceReader in(path, "shard");
  std::string_view sentence;
  int64_t total = 0;
  while (in.next(sentence)) total += count_tokens(sentence) + 1;
  return total;
}

}  // namespace sg
