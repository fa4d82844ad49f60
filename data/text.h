// Text helpers shared by the data pipeline: UTF-8 validation, whitespace tokenizing, sentence
// cutting and streaming line / sentence readers.
//   valid_utf8(s)       true iff s is well-formed UTF-8 (no overlong forms, no surrogates,
//                       <= U+10FFFF)
//   for_each_token(l,f) calls f(token) for every maximal run of non-space bytes (space, \t, \r, \v,
//                       \f split)
//   for_each_sentence   the sentences of a line: a line of at most kMaxSentenceTokens tokens is
//                       one sentence; a longer one (text8 is a single 100 MB line) is cut into
//                       sentences of kMaxSentenceTokens tokens each, the last holding the rest.
//                       Each sentence is framed <S> ... </S> on its own, so the memory a sentence
//                       takes downstream (a stream's ids, a piece's cut) is bounded; a single token
//                       is never cut.
//   SentenceReader      streams a shard's sentences in 1 MiB chunks without ever holding a whole
//                       line (a buffer grows only for one sentence longer than it); UTF-8 errors
//                       name the line and the byte within the line, as LineReader's do
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

// Longest sentence, in tokens: longer lines are cut (see the header comment). The training
// pieces, the vocabulary counts, the predicted-token counts and the held-out streams all use it.
inline constexpr int64_t kMaxSentenceTokens = 8192;

// Calls f(sentence) for each sentence of line: from its first token's first byte to its last
// token's last byte (no surrounding white space); a blank line has none.
template <typename F>
void for_each_sentence(std::string_view line, F&& f) {
  const char* p = line.data();
  const char* end = p + line.size();
  while (p < end && is_space_byte(*p)) ++p;
  while (p < end) {
    const char* first = p;
    const char* last = p;
    for (int64_t k = 0; k < kMaxSentenceTokens && p < end; ++k) {
      while (p < end && !is_space_byte(*p)) ++p;
      last = p;
      while (p < end && is_space_byte(*p)) ++p;
    }
    f(std::string_view(first, static_cast<size_t>(last - first)));
  }
}

// Throws "WHAT FILE:LINE is not valid UTF-8 (byte K of the line)" when line is not UTF-8.
void check_utf8_line(std::string_view line, const std::string& what, const std::string& path,
                     int64_t line_no);

// A file read in chunks into a growing buffer; the unread bytes are buf[begin, end). The readers
// below share it.
struct ChunkedFile {
  ChunkedFile(const std::string& path, std::string what, size_t chunk_bytes);
  ~ChunkedFile();
  ChunkedFile(const ChunkedFile&) = delete;
  ChunkedFile& operator=(const ChunkedFile&) = delete;
  // Moves [begin, end) to the front, doubles a full buffer, reads more; false at the end of the
  // file. Throws "cannot read WHAT PATH: reason" on a read error.
  bool refill();

  std::string path, what;
  std::FILE* f = nullptr;
  std::vector<char> buf;
  size_t begin = 0, end = 0;
  bool eof = false;
};

class LineReader {
 public:
  // what names the kind of file in error messages ("shard", "vocabulary file").
  LineReader(const std::string& path, std::string what);

  // Next line (valid until the next call); false at the end of the file.
  bool next(std::string_view& line);
  int64_t line_number() const { return line_no_; }
  const std::string& path() const { return in_.path; }

 private:
  ChunkedFile in_;
  int64_t line_no_ = 0;
};

// The sentences of a shard in file order (for_each_sentence applied to each line, a UTF-8
// byte-order mark at the start dropped), read in 1 MiB chunks: memory is bounded by the longest
// sentence, not the longest line. A line that is not UTF-8 throws "WHAT FILE:LINE is not valid
// UTF-8 (byte K of the line)" when its bad sentence is reached.
class SentenceReader {
 public:
  SentenceReader(const std::string& path, std::string what);

  // Next sentence (valid until the next call); false at the end of the file.
  bool next(std::string_view& sentence);
  int64_t line_number() const { return line_no_; }  // the line of the last sentence
  size_t buffer_bytes() const { return in_.buf.size(); }

 private:
  ChunkedFile in_;
  int64_t line_no_ = 1, line_pos_ = 0;  // line of in_.buf[in_.begin] and its offset in that line
};

// The whole file as bytes; throws "cannot open WHAT FILE: reason" or a read error.
std::string read_whole_file(const std::string& path, const std::string& what);

}  // namespace sg
