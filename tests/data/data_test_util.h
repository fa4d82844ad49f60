// Helpers for the data tests: a temporary folder removed at the end, file writing, the pair
// reference.
#pragma once
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace sg::testing {

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/sg-data-test-XXXXXX";
    const char* p = mkdtemp(tmpl);
    EXPECT_NE(p, nullptr);
    path = p ? p : "/tmp";
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return path + "/" + name; }
};

inline void write_file(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream f(path, std::ios::binary);
  f << text;
}

inline std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

inline std::string train_dir(const std::string& root) {
  return root + "/training-monolingual.tokenized.shuffled";
}
inline std::string heldout_dir(const std::string& root) {
  return root + "/heldout-monolingual.tokenized.shuffled";
}

// Runs f and returns the sg::Error message ("" and a test failure when nothing is thrown).
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an exception";
  return "";
}

}  // namespace sg::testing
