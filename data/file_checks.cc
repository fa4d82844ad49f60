// File kinds, dangling links, compression and blank files (see file_checks.h).
#include "data/file_checks.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>
#include <system_error>

#include "data/text.h"
#include "engine/check.h"

namespace fs = std::filesystem;

namespace sg {

std::string path_kind(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return "missing";
  if (S_ISREG(st.st_mode)) return "a regular file";
  if (S_ISDIR(st.st_mode)) return "a folder";
  if (S_ISFIFO(st.st_mode)) return "a pipe";
  if (S_ISSOCK(st.st_mode)) return "a socket";
  if (S_ISCHR(st.st_mode)) return "a character device";
  if (S_ISBLK(st.st_mode)) return "a block device";
  return "not a regular file";
}

bool is_dangling_symlink(const std::string& path) {
  std::error_code ec;
  return fs::is_symlink(fs::symlink_status(path, ec)) && !fs::exists(path, ec);
}

const char* compression_of_file(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  SG_CHECK(f != nullptr, "cannot read ", path, ": ", std::strerror(errno));
  unsigned char h[6] = {0, 0, 0, 0, 0, 0};
  const size_t n = std::fread(h, 1, sizeof h, f);
  std::fclose(f);
  if (n >= 2 && h[0] == 0x1f && h[1] == 0x8b) return "gzip";
  if (n >= 3 && h[0] == 'B' && h[1] == 'Z' && h[2] == 'h') return "bzip2";
  if (n >= 6 && h[0] == 0xfd && h[1] == '7' && h[2] == 'z' && h[3] == 'X' && h[4] == 'Z' &&
      h[5] == 0)
    return "xz";
  if (n >= 4 && h[0] == 0x28 && h[1] == 0xb5 && h[2] == 0x2f && h[3] == 0xfd) return "zstd";
  return nullptr;
}

std::string compression_suffix(const std::string& name) {
  for (const char* s : {".gz", ".bz2", ".xz", ".zst"}) {
    const size_t n = std::strlen(s);
    if (name.size() > n && name.compare(name.size() - n, n, s) == 0) return s;
  }
  return "";
}

bool holds_sentence(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  SG_CHECK(f != nullptr, "cannot read ", path, ": ", std::strerror(errno));
  std::vector<char> buf(1 << 16);
  bool first = true, found = false;
  for (size_t got; !found && (got = std::fread(buf.data(), 1, buf.size(), f)) > 0; first = false) {
    size_t i = first && got >= 3 && std::memcmp(buf.data(), "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    for (; i < got && !found; ++i) found = buf[i] != '\n' && !is_space_byte(buf[i]);
  }
  const bool bad = std::ferror(f);
  const int err = errno;
  std::fclose(f);
  SG_CHECK(!bad, "cannot read ", path, ": ", std::strerror(err));
  return found;
}

void drop_compressed_twins(std::vector<std::string>& paths, std::vector<std::string>& notes) {
  const std::set<std::string> all(paths.begin(), paths.end());
  std::vector<std::string> kept;
  for (const std::string& p : paths) {
    const std::string suffix = compression_suffix(p);
    const std::string twin = p.substr(0, p.size() - suffix.size());
    if (!suffix.empty() && all.count(twin)) {
      notes.push_back("note: ignoring " + p + ": its decompressed copy " + twin +
                      " is beside it and is read instead");
      continue;
    }
    kept.push_back(p);
  }
  paths = std::move(kept);
}

}  // namespace sg
