// Classifies the files of a WikiText / PTB style folder by the split their names name.
#include "data/split_folder.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <system_error>

#include "data/file_checks.h"
#include "engine/check.h"

namespace fs = std::filesystem;

namespace sg {

namespace {

SplitKind split_of_word(const std::string& w) {
  if (w == "train" || w == "training") return SplitKind::kTrain;
  if (w == "valid" || w == "validation" || w == "val" || w == "dev") return SplitKind::kValid;
  if (w == "test" || w == "testing") return SplitKind::kTest;
  return SplitKind::kNone;
}

}  // namespace

SplitKind split_of_file_name(const std::string& name) {
  SplitKind found = SplitKind::kNone;
  std::string word;
  for (size_t i = 0; i <= name.size(); ++i) {
    const unsigned char c = i < name.size() ? static_cast<unsigned char>(name[i]) : '.';
    if (std::isalnum(c) && c < 128) {
      word += static_cast<char>(std::tolower(c));
      continue;
    }
    const SplitKind k = split_of_word(word);
    word.clear();
    if (k == SplitKind::kNone) continue;
    found = found == SplitKind::kNone || found == k ? k : SplitKind::kSeveral;
  }
  return found;
}

SplitFiles split_files_in(const std::string& folder) {
  SplitFiles out;
  std::vector<std::string> dangling;  // links named like split files whose target is missing
  std::error_code ec;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    const SplitKind kind = split_of_file_name(name);
    if (kind != SplitKind::kNone && kind != SplitKind::kSeveral &&
        is_dangling_symlink(it->path().string()))
      dangling.push_back(it->path().string());
    std::error_code ec2;
    if (!fs::is_regular_file(it->path(), ec2)) continue;
    switch (kind) {
      case SplitKind::kTrain:
        out.train.push_back(it->path().string());
        break;
      case SplitKind::kValid:
        out.valid.push_back(it->path().string());
        break;
      case SplitKind::kTest:
        out.test.push_back(it->path().string());
        break;
      case SplitKind::kNone:
      case SplitKind::kSeveral:
        break;
    }
  }
  SG_CHECK(!ec, "cannot list data folder ", folder, ": ", ec.message());
  std::sort(dangling.begin(), dangling.end());
  if (!dangling.empty()) {
    const SplitKind k = split_of_file_name(fs::path(dangling.front()).filename().string());
    SG_FAIL(k == SplitKind::kTrain   ? "training"
            : k == SplitKind::kValid ? "validation"
                                     : "test",
            " file ", dangling.front(),
            " is a symlink to a missing file (restore its target or remove the link)");
  }
  for (auto* v : {&out.train, &out.valid, &out.test}) std::sort(v->begin(), v->end());
  return out;
}

}  // namespace sg
