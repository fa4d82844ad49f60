// Text helpers shared by the data pipeline: UTF-8 validation, whitespace tokenizing and a streaming
// line reader.
//   valid_utf8(s)       true iff s is well-formed UTF-8 (no overlong forms, no surrogates,
//                       <= U+10FFFF)
//   for_each_token(l,f) calls f(token) for every maximal run of non-space bytes (space, \t, \r, \v,
//                       \f split)
//   LineReader          reads a file in 1 MiB chunks and yields its lines without the '\n', a
//                       trailing '\r' (CRLF files) and a UTF-8 byte-order mark at the start of
//                       the file; every line is checked for UTF-8 and a bad one throws
//                       "WHAT FILE:LINE: ..."
#pragma once
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace sg {

bool valid_utf8(std::string_view s);
// Byte offset of the first invalid sequence in s, or -1 when s is valid UTF-8.
int64_t first_invalid_utf8(std::string_view s);

inline bool is_space_byte(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

template <typename F>
void for_each_token(std::string_view line, F&& f) {
  const char* p = line.data();
  const char* end = p + line.size();
  while (p < end) {
    while (p < end && is_space_byte(*p)) ++p;
    const char* s = p;
    while (p < end && !is_space_byte(*p)) ++p;
    if (p > s) f(std::string_view(s, static_cast<size_t>(p - s)));
  }
}

int64_t count_tokens(std::string_view line);

// Throws "WHAT FILE:LINE is not valid UTF-8 (byte K of the line)" when line is not UTF-8.
void check_utf8_line(std::string_view line, const std::string& what, const std::string& path,
                     int64_t line_no);

class LineReader {
 public:
  // what names the kind of file in error messages ("shard", "vocabulary file").
  LineReader(const std::string& path, std::string what);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // Next line (valid until the next call); false at the end of the file.
  bool next(std::string_view& line);
  int64_t line_number() const { return line_no_; }
  const std::string& path() const { return path_; }

 private:
  bool refill();
  std::string path_, what_;
  std::FILE* f_ = nullptr;
  std::vector<char> buf_;
  size_t begin_ = 0, end_ = 0;
  bool eof_ = false;
  int64_t line_no_ = 0;
};

// The whole file as bytes; throws "cannot open WHAT FILE: reason" or a read error.
std::string read_whole_file(const std::string& path, const std::string& what);

}  // namespace sg
