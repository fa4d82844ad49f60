// Split-named text folders: the layout WikiText and PTB ship in, next to LM1B's.
//   wiki.train.tokens  wiki.valid.tokens  wiki.test.tokens      (WikiText-2 / -103)
//   ptb.train.txt      ptb.valid.txt      ptb.test.txt          (Penn Treebank, Mikolov's)
//   train.txt          dev.txt            test.txt
// A file name is cut into words at every character that is not an ASCII letter or digit; the
// file is training text when one word is "train" or "training", validation text for "valid",
// "validation", "val" or "dev", and test text for "test" or "testing" (case-insensitive). Other
// files (README, LICENSE, vocab.txt) are ignored; hidden files too, and names with words of two
// splits ("train_test_split.py"): those are never guessed at.
#pragma once
#include <string>
#include <vector>

namespace sg {

enum class SplitKind { kNone, kTrain, kValid, kTest, kSeveral };

// Which split a file name (no folder part) names (kSeveral: words of two splits).
SplitKind split_of_file_name(const std::string& name);

struct SplitFiles {
  std::vector<std::string> train, valid, test;  // full paths, each sorted by name
};

// The regular, non-hidden files of folder classified by name (not opened). A file named as a split
// that is a symlink to a missing file is an error naming it (it is not silently left out).
SplitFiles split_files_in(const std::string& folder);

}  // namespace sg
