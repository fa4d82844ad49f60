// UTF-8 validation (RFC 3629 table), tokenizing and the chunked line reader.
#include "data/text.h"

#include <cerrno>
#include <cstring>

#include "engine/check.h"

namespace sg {

int64_t first_invalid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    // Fast path: 8 ASCII bytes at a time.
    if (i + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      if ((w & 0x8080808080808080ULL) == 0) {
        i += 8;
        continue;
      }
    }
    const unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c == 0xE0) {
      len = 3, lo = 0xA0;
    } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
      len = 3;
    } else if (c == 0xED) {
      len = 3, hi = 0x9F;  // no UTF-16 surrogates
    } else if (c == 0xF0) {
      len = 4, lo = 0x90;
    } else if (c >= 0xF1 && c <= 0xF3) {
      len = 4;
    } else if (c == 0xF4) {
      len = 4, hi = 0x8F;  // <= U+10FFFF
    } else {
      return static_cast<int64_t>(i);
    }
    if (i + len > n) return static_cast<int64_t>(i);
    if (p[i + 1] < lo || p[i + 1] > hi) return static_cast<int64_t>(i);
    for (size_t k = 2; k < len; ++k)
      if (p[i + k] < 0x80 || p[i + k] > 0xBF) return static_cast<int64_t>(i);
    i += len;
  }
  return -1;
}

bool valid_utf8(std::string_view s) { return first_invalid_utf8(s) < 0; }

int64_t count_tokens(std::string_view line) {
  int64_t n = 0;
  bool in = false;
  for (char c : line) {
    const bool sp = is_space_byte(c);
    n += (!sp && !in);
    in = !sp;
  }
  return n;
}

void check_utf8_line(std::string_view line, const std::string& what, const std::string& path,
                     int64_t line_no) {
  const int64_t bad = first_invalid_utf8(line);
  if (bad >= 0)
    SG_FAIL(what, " ", path, ":", line_no, " is not valid UTF-8 (byte ", bad + 1, " of the line)");
}

ChunkedFile::ChunkedFile(const std::string& path_, std::string what_, size_t chunk_bytes)
    : path(path_), what(std::move(what_)), buf(chunk_bytes) {
  f = std::fopen(path.c_str(), "rb");
  SG_CHECK(f != nullptr, "cannot open ", what, " ", path, ": ", std::strerror(errno));
}

ChunkedFile::~ChunkedFile() {
  if (f) std::fclose(f);
}

bool ChunkedFile::refill() {
  if (eof) return false;
  if (begin > 0) {  // move the unread bytes to the front
    std::memmove(buf.data(), buf.data() + begin, end - begin);
    end -= begin;
    begin = 0;
  }
  if (end == buf.size()) buf.resize(buf.size() * 2);  // a line or sentence longer than the buffer
  const size_t got = std::fread(buf.data() + end, 1, buf.size() - end, f);
  if (got == 0) {
    SG_CHECK(!std::ferror(f), "cannot read ", what, " ", path, ": ", std::strerror(errno));
    eof = true;
    return false;
  }
  end += got;
  return true;
}

LineReader::LineReader(const std::string& path, std::string what)
    : in_(path, std::move(what), 1 << 20) {}

bool LineReader::next(std::string_view& line) {
  size_t scanned = in_.begin;
  for (;;) {
    const char* nl =
        static_cast<const char*>(std::memchr(in_.buf.data() + scanned, '\n', in_.end - scanned));
    if (nl) {
      size_t len = static_cast<size_t>(nl - (in_.buf.data() + in_.begin));
      line = std::string_view(in_.buf.data() + in_.begin, len);
      in_.begin += len + 1;
      break;
    }
    const size_t offset = in_.end - in_.begin;
    if (!in_.refill()) {
      if (in_.begin == in_.end) return false;
      line = std::string_view(in_.buf.data() + in_.begin,
                              in_.end - in_.begin);  // last line without '\n'
      in_.begin = in_.end;
      break;
    }
    scanned = in_.begin + offset;
  }
  ++line_no_;
  if (line_no_ == 1 && line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);  // UTF-8 BOM
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  check_utf8_line(line, in_.what, in_.path, line_no_);
  return true;
}

SentenceReader::SentenceReader(const std::string& path, std::string what)
    : in_(path, std::move(what), 1 << 20) {
  while (in_.end < 3 && in_.refill()) {
  }
  if (in_.end >= 3 && std::memcmp(in_.buf.data(), "\xEF\xBB\xBF", 3) == 0) in_.begin = 3;  // BOM
}

bool SentenceReader::next(std::string_view& sentence) {
  // Skip white space and line ends up to the next token.
  for (;;) {
    if (in_.begin == in_.end && !in_.refill()) return false;
    const char c = in_.buf[in_.begin];
    if (c == '\n') {
      ++line_no_;
      line_pos_ = 0;
    } else if (is_space_byte(c)) {
      ++line_pos_;
    } else {
      break;
    }
    ++in_.begin;
  }
  // Up to kMaxSentenceTokens tokens, stopping at the end of the line. p and last are offsets from
  // in_.begin, which in_.refill() moves to 0.
  size_t p = 0, last = 0;
  auto at_end = [&] {  // true when no byte is left at in_.begin + p
    if (in_.begin + p < in_.end) return false;
    return !in_.refill();
  };
  for (int64_t k = 0; k < kMaxSentenceTokens; ++k) {
    while (!at_end()) {
      const char c = in_.buf[in_.begin + p];
      if (c == '\n' || is_space_byte(c)) break;
      ++p;
    }
    last = p;
    while (!at_end() && is_space_byte(in_.buf[in_.begin + p])) ++p;
    if (at_end() || in_.buf[in_.begin + p] == '\n') break;
  }
  sentence = std::string_view(in_.buf.data() + in_.begin, last);
  const int64_t bad = first_invalid_utf8(sentence);
  if (bad >= 0)
    SG_FAIL(in_.what, " ", in_.path, ":", line_no_, " is not valid UTF-8 (byte ",
            line_pos_ + bad + 1, " of the line)");
  in_.begin += last;
  line_pos_ += static_cast<int64_t>(last);
  return true;
}

std::string read_whole_file(const std::string& path, const std::string& what) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  SG_CHECK(f != nullptr, "cannot open ", what, " ", path, ": ", std::strerror(errno));
  std::string out;
  char chunk[1 << 16];
  for (;;) {
    const size_t got = std::fread(chunk, 1, sizeof(chunk), f);
    out.append(chunk, got);
    if (got < sizeof(chunk)) break;
  }
  const bool bad = std::ferror(f);
  const int err = errno;
  std::fclose(f);
  SG_CHECK(!bad, "cannot read ", what, " ", path, ": ", std::strerror(err));
  return out;
}

}  // namespace sg
