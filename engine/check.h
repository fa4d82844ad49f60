// Error handling: every failure is an sg::Error carrying a one-line message with file:line context.
// SG_CHECK(cond, msg...) throws when cond is false; SG_FAIL(msg...) always throws.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace sg {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

namespace detail {
inline void append(std::ostringstream&) {}
template <typename T, typename... Rest>
void append(std::ostringstream& os, const T& v, const Rest&... rest) {
  os << v;
  append(os, rest...);
}
template <typename... Args>
[[noreturn]] void fail(const char* file, int line, const Args&... args) {
  std::ostringstream os;
  append(os, args...);
  const char* base = file;
  for (const char* p = file; *p; ++p)
    if (*p == '/') base = p + 1;
  os << " [" << base << ":" << line << "]";
  throw Error(os.str());
}
}  // namespace detail

}  // namespace sg

#define SG_FAIL(...) ::sg::detail::fail(__FILE__, __LINE__, __VA_ARGS__)
#define SG_CHECK(cond, ...)            \
  do {                                 \
    if (!(cond)) SG_FAIL(__VA_ARGS__); \
  } while (0)
