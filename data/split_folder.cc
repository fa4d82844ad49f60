// Classifies the files of a WikiText / PTB style folder by the split their names name.
#include "data/split_folder.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <system_error>

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
  std::error_code ec;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::error_code ec2;
    if (name.empty() || name[0] == '.' || !fs::is_regular_file(it->path(), ec2)) continue;
    switch (split_of_file_name(name)) {
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
  for (auto* v : {&out.train, &out.valid, &out.test}) std::sort(v->begin(), v->end());
  return out;
}

}  // namespace sg
