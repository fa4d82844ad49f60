// LM1B layout discovery and its error lines; UTF-8 checks while reading shards.
#include "data/corpus.h"

#include <sys/stat.h>

#include <filesystem>

#include "data/split_folder.h"
#include "data/text.h"
#include "data/vocab.h"
#include "data_test_util.h"
#include "engine/check.h"
#include "gmock/gmock.h"

namespace sg {
namespace {

using sg::testing::error_of;
using sg::testing::heldout_dir;
using sg::testing::TempDir;
using sg::testing::train_dir;
using sg::testing::write_file;
using ::testing::HasSubstr;

TEST(Corpus, FindsShardsSortedAndSkipsTheUnsplitHeldoutFile) {
  TempDir d;
  write_file(train_dir(d.path) + "/news.en-00002-of-00100", "b\n");
  write_file(train_dir(d.path) + "/news.en-00001-of-00100", "a\n");
  write_file(train_dir(d.path) + "/README", "not a shard\n");
  write_file(heldout_dir(d.path) + "/news.en.heldout-00001-of-00050", "c\n");
  write_file(heldout_dir(d.path) + "/news.en.heldout-00000-of-00050", "d\n");
  write_file(heldout_dir(d.path) + "/news.en-00000-of-00100",
             "c\nd\n");  // the unsplit held-out text
  write_file(heldout_dir(d.path) + "/news.en.heldout-00000-of-00050.tmp", "x\n");
  CorpusLayout c = find_corpus(d.path);
  EXPECT_EQ(c.dir, d.path);
  ASSERT_EQ(c.train_shards.size(), 2u);
  EXPECT_THAT(c.train_shards[0], HasSubstr("news.en-00001-of-00100"));
  EXPECT_THAT(c.train_shards[1], HasSubstr("news.en-00002-of-00100"));
  ASSERT_EQ(c.heldout_shards.size(), 2u);
  EXPECT_THAT(c.heldout_shards[0], HasSubstr("news.en.heldout-00000-of-00050"));
  EXPECT_THAT(c.heldout_shards[1], HasSubstr("news.en.heldout-00001-of-00050"));
  EXPECT_NO_THROW(require_training(c));
  EXPECT_NO_THROW(require_heldout(c));
}

// --data FILE[,FILE...]: plain-text training files (WikiText / PTB style), no held-out split.
TEST(Corpus, TextFilesAreTrainingShardsInTheOrderGiven) {
  TempDir d;
  write_file(d.file("b.txt"), "b\n");
  write_file(d.file("a.txt"), "a\n");
  CorpusLayout one = find_corpus(d.file("b.txt"));
  EXPECT_TRUE(one.text_files);
  EXPECT_EQ(one.train_shards, std::vector<std::string>{d.file("b.txt")});
  EXPECT_TRUE(one.heldout_shards.empty());
  CorpusLayout two = find_corpus(d.file("b.txt") + "," + d.file("a.txt"));
  EXPECT_EQ(two.train_shards, (std::vector<std::string>{d.file("b.txt"), d.file("a.txt")}));
  EXPECT_THAT(error_of([&] { require_heldout(two); }), HasSubstr("names text files"));
  EXPECT_THAT(error_of([&] { find_corpus(","); }), HasSubstr("names no file"));
  EXPECT_EQ(find_corpus(d.file("a.txt") + ",").train_shards,
            std::vector<std::string>{d.file("a.txt")});
  EXPECT_NO_THROW(require_training(two));
}

// WikiText / PTB style folders: files named by split; other files are ignored.
TEST(Corpus, SplitNamedFolders) {
  TempDir d;
  for (const char* f : {"wiki.test.tokens", "wiki.valid.tokens", "wiki.train.tokens", "README",
                        ".wiki.train.tokens.swp"})
    write_file(d.file(std::string("wt/") + f), "x\n");
  CorpusLayout wt = find_corpus(d.file("wt"));
  EXPECT_TRUE(wt.split_named);
  EXPECT_FALSE(wt.text_files);
  EXPECT_EQ(wt.train_shards, std::vector<std::string>{d.file("wt/wiki.train.tokens")});
  EXPECT_EQ(wt.heldout_shards, std::vector<std::string>{d.file("wt/wiki.valid.tokens")});
  EXPECT_EQ(wt.test_shards, std::vector<std::string>{d.file("wt/wiki.test.tokens")});
  EXPECT_EQ(default_eval_shard(wt), d.file("wt/wiki.test.tokens"));

  // Several training files, a dev file, no test file: eval falls back to the validation file.
  for (const char* f : {"Train-2.txt", "train-1.txt", "dev.txt"})
    write_file(d.file(std::string("td/") + f), "x\n");
  CorpusLayout td = find_corpus(d.file("td"));
  EXPECT_EQ(td.train_shards,
            (std::vector<std::string>{d.file("td/Train-2.txt"), d.file("td/train-1.txt")}));
  EXPECT_TRUE(td.test_shards.empty());
  EXPECT_EQ(default_eval_shard(td), d.file("td/dev.txt"));

  // Training text only: train runs without held-out evaluation, eval has nothing to read.
  write_file(d.file("only/ptb.train.txt"), "x\n");
  CorpusLayout only = find_corpus(d.file("only"));
  EXPECT_TRUE(only.heldout_shards.empty());
  EXPECT_THAT(error_of([&] { default_eval_shard(only); }), HasSubstr("no validation or test file"));

  // Names are cut into words: "retrain" or "contest" name no split; a name with two splits is
  // skipped, never guessed at.
  EXPECT_EQ(split_of_file_name("retrain.txt"), SplitKind::kNone);
  EXPECT_EQ(split_of_file_name("contest_val.txt"), SplitKind::kValid);
  EXPECT_EQ(split_of_file_name("en_TESTING.txt"), SplitKind::kTest);
  EXPECT_EQ(split_of_file_name("train_test_split.py"), SplitKind::kSeveral);
  write_file(d.file("two/train-dev.txt"), "x\n");
  EXPECT_THAT(error_of([&] { find_corpus(d.file("two")); }),
              HasSubstr("no file named as training text"));
  write_file(d.file("two/a.train"), "x\n");
  EXPECT_EQ(find_corpus(d.file("two")).train_shards,
            std::vector<std::string>{d.file("two/a.train")});
  // An empty split file is an error.
  write_file(d.file("emptyvalid/a.train"), "x\n");
  write_file(d.file("emptyvalid/a.valid"), "");
  EXPECT_THAT(error_of([&] { find_corpus(d.file("emptyvalid")); }), HasSubstr("a.valid is empty"));
}

TEST(Corpus, HeldoutOnlyCorpusHasNoTrainingShards) {
  TempDir d;
  write_file(heldout_dir(d.path) + "/news.en.heldout-00000-of-00050", "a b\n");
  CorpusLayout c = find_corpus(d.path);
  EXPECT_TRUE(c.train_shards.empty());
  EXPECT_EQ(c.heldout_shards.size(), 1u);
  EXPECT_THAT(error_of([&] { require_training(c); }), HasSubstr("has no training shards"));
}

TEST(Corpus, ErrorsAreOneClearLine) {
  TempDir d;
  auto msg = [](const std::string& dir) { return error_of([&] { find_corpus(dir); }); };
  EXPECT_THAT(msg(d.file("nope")), HasSubstr("does not exist"));
  EXPECT_THAT(msg(""), HasSubstr("no data folder"));
  write_file(d.file("plain"), "x\n");
  EXPECT_THAT(msg(d.file("plain") + "," + d.file("nope")),
              HasSubstr("training file " + d.file("nope") + " does not exist"));
  EXPECT_THAT(msg(d.file("plain") + "," + d.path), HasSubstr("is a folder, not a regular file"));
  // Compressed text is named, not read as broken UTF-8.
  write_file(d.file("c.gz"), std::string("\x1f\x8b\x08\0\0\0", 6) + "rest");
  EXPECT_THAT(msg(d.file("c.gz")), HasSubstr("c.gz is gzip-compressed"));
  write_file(d.file("c.xz"), std::string("\xfd"
                                         "7zXZ\0",
                                         6) +
                                 "rest");
  EXPECT_THAT(msg(d.file("c.xz")), HasSubstr("is xz-compressed"));
  write_file(d.file("c.bz2"), "BZh91AY");
  EXPECT_THAT(msg(d.file("c.bz2")), HasSubstr("is bzip2-compressed"));
  write_file(d.file("c.zst"), std::string("\x28\xb5\x2f\xfd\0", 5));
  EXPECT_THAT(msg(d.file("c.zst")), HasSubstr("is zstd-compressed"));
  write_file(d.file("short"), "\x1f");  // one byte: not a gzip header
  EXPECT_NO_THROW(find_corpus(d.file("short")));
  std::filesystem::create_symlink(d.file("gone.txt"), d.file("dangling.txt"));
  EXPECT_THAT(msg(d.file("dangling.txt")), HasSubstr("is a symlink to a missing"));
  EXPECT_THAT(msg(d.file("plain") + "," + d.file("dangling.txt")),
              HasSubstr("is a symlink to a missing file"));
  write_file(d.file("empty-file"), "");
  EXPECT_THAT(error_of([&] { require_training(find_corpus(d.file("empty-file"))); }),
              HasSubstr("no training file holds a sentence (it is empty or blank lines only: " +
                        d.file("empty-file") + ")"));
  std::filesystem::create_directories(d.file("empty"));
  EXPECT_THAT(msg(d.file("empty")), HasSubstr("is not an LM1B-layout corpus"));
  // A folder of text files is not taken wholesale (WikiText's also holds valid and test): the
  // error says how to name them.
  std::filesystem::create_directories(d.file("texts"));
  for (const char* f : {"c.txt", "a.txt", "b.txt"}) write_file(d.file("texts") + "/" + f, "x\n");
  EXPECT_THAT(msg(d.file("texts")), HasSubstr("no file named as training text"));
  EXPECT_THAT(msg(d.file("texts")), HasSubstr("name them: --data " + d.file("texts") + "/a.txt," +
                                              d.file("texts") + "/b.txt,..."));

  std::filesystem::create_directories(train_dir(d.file("noshards")));
  write_file(train_dir(d.file("noshards")) + "/other.txt", "x\n");
  EXPECT_THAT(msg(d.file("noshards")), HasSubstr("no training shards"));

  std::filesystem::create_directories(heldout_dir(d.file("noheld")));
  write_file(heldout_dir(d.file("noheld")) + "/news.en-00000-of-00100", "x\n");
  EXPECT_THAT(msg(d.file("noheld")), HasSubstr("no held-out shards"));

  write_file(train_dir(d.file("emptyshard")) + "/news.en-00001-of-00100", "");
  write_file(train_dir(d.file("emptyshard")) + "/news.en-00002-of-00100", "\n \n");
  const std::string m = error_of([&] { require_training(find_corpus(d.file("emptyshard"))); });
  EXPECT_THAT(m,
              HasSubstr("no training file holds a sentence (all are empty or blank lines only: "));
  EXPECT_THAT(m, HasSubstr("news.en-00002-of-00100)"));
  EXPECT_EQ(m.find('\n'), std::string::npos);
}

// A --data path that exists is one path even with a comma in its name; only a string that names
// nothing is a list of files (the comma-named file used to be read as "my" and "corpus.txt").
TEST(Corpus, AnExistingPathWithACommaIsOnePath) {
  TempDir d;
  write_file(d.file("my,corpus.txt"), "a b\n");
  write_file(d.file("other.txt"), "c\n");
  EXPECT_EQ(find_corpus(d.file("my,corpus.txt")).train_shards,
            std::vector<std::string>{d.file("my,corpus.txt")});
  write_file(d.file("split,folder/ptb.train.txt"), "a\n");
  EXPECT_EQ(find_corpus(d.file("split,folder")).train_shards,
            std::vector<std::string>{d.file("split,folder/ptb.train.txt")});
  write_file(d.file("third.txt"), "d\n");
  EXPECT_EQ(find_corpus(d.file("other.txt") + "," + d.file("third.txt")).train_shards.size(), 2u);
  // The same file twice would be counted twice: refused.
  EXPECT_THAT(error_of([&] { find_corpus(d.file("other.txt") + "," + d.file("other.txt")); }),
              HasSubstr("--data names the same file twice"));
}

// --data names what the path is, not a "data folder" the user never named.
TEST(Corpus, DataErrorsSayWhatThePathIs) {
  TempDir d;
  auto msg = [](const std::string& dir) { return error_of([&] { find_corpus(dir); }); };
  EXPECT_THAT(msg(d.file("missing.txt")),
              HasSubstr("--data " + d.file("missing.txt") + " does not exist"));
  ASSERT_EQ(mkfifo(d.file("pipe").c_str(), 0600), 0);
  EXPECT_THAT(msg(d.file("pipe")),
              HasSubstr("--data " + d.file("pipe") + " is a pipe, not a regular file or folder"));
  write_file(d.file("a.txt"), "a\n");
  EXPECT_THAT(msg(d.file("a.txt") + "," + d.file("pipe")),
              HasSubstr("training file " + d.file("pipe") + " is a pipe"));
}

// A shard or split file that is a symlink to a missing file is named in an error: it used to be
// skipped without a word (LM1B trained on fewer shards; a split folder lost its held-out file).
TEST(Corpus, BrokenSymlinksAreNamed) {
  TempDir d;
  auto msg = [](const std::string& dir) { return error_of([&] { find_corpus(dir); }); };
  const std::string lm = d.file("lm1b");
  write_file(train_dir(lm) + "/news.en-00001-of-00002", "a b\n");
  write_file(heldout_dir(lm) + "/news.en.heldout-00000-of-00050", "a\n");
  std::filesystem::create_symlink(d.file("gone"), train_dir(lm) + "/news.en-00002-of-00002");
  EXPECT_THAT(msg(lm), HasSubstr("training shard " + train_dir(lm) +
                                 "/news.en-00002-of-00002 is a symlink to a missing file"));
  std::filesystem::remove(train_dir(lm) + "/news.en-00002-of-00002");
  std::filesystem::create_symlink(d.file("gone"), train_dir(lm) + "/README");  // not a shard name
  EXPECT_NO_THROW(find_corpus(lm));
  std::filesystem::remove(heldout_dir(lm) + "/news.en.heldout-00000-of-00050");
  std::filesystem::create_symlink(d.file("gone"),
                                  heldout_dir(lm) + "/news.en.heldout-00000-of-00050");
  EXPECT_THAT(msg(lm), HasSubstr("held-out shard " + heldout_dir(lm) +
                                 "/news.en.heldout-00000-of-00050 is a symlink to a missing file"));
  std::filesystem::remove_all(heldout_dir(lm));
  std::filesystem::create_symlink(d.file("gone"), heldout_dir(lm));
  EXPECT_THAT(msg(lm), HasSubstr("is a symlink to a missing folder"));

  write_file(d.file("wt/wiki.train.tokens"), "a b\n");
  std::filesystem::create_symlink(d.file("gone"), d.file("wt/wiki.valid.tokens"));
  EXPECT_THAT(msg(d.file("wt")), HasSubstr("validation file " + d.file("wt/wiki.valid.tokens") +
                                           " is a symlink to a missing file"));
  std::filesystem::remove(d.file("wt/wiki.valid.tokens"));
  std::filesystem::create_symlink(d.file("gone"), d.file("wt/LICENSE"));  // ignored anyway
  EXPECT_NO_THROW(find_corpus(d.file("wt")));
}

// A compressed LM1B held-out shard is named like a training one ("is gzip-compressed ...
// decompress it first"; it used to make the folder "match nothing"), and the .gz that gunzip -k
// leaves beside the text is ignored with a note instead of stopping the run.
TEST(Corpus, CompressedShardsAndTheirDecompressedCopies) {
  TempDir d;
  const std::string gz = std::string("\x1f\x8b\x08\0", 4) + "xyz";
  const std::string lm = d.file("lm1b");
  write_file(train_dir(lm) + "/news.en-00001-of-00002", "a b\n");
  write_file(heldout_dir(lm) + "/news.en.heldout-00000-of-00050.gz", gz);
  EXPECT_THAT(error_of([&] { find_corpus(lm); }),
              HasSubstr(heldout_dir(lm) + "/news.en.heldout-00000-of-00050.gz is gzip-compressed"));
  write_file(heldout_dir(lm) + "/news.en.heldout-00000-of-00050", "a\n");
  write_file(train_dir(lm) + "/news.en-00001-of-00002.gz", gz);
  CorpusLayout c = find_corpus(lm);
  EXPECT_EQ(c.heldout_shards,
            std::vector<std::string>{heldout_dir(lm) + "/news.en.heldout-00000-of-00050"});
  EXPECT_EQ(c.train_shards, std::vector<std::string>{train_dir(lm) + "/news.en-00001-of-00002"});
  ASSERT_EQ(c.heldout_notes.size(), 1u);
  EXPECT_THAT(c.heldout_notes[0], HasSubstr("ignoring " + heldout_dir(lm) +
                                            "/news.en.heldout-00000-of-00050.gz: its "
                                            "decompressed copy"));
  ASSERT_EQ(c.train_notes.size(), 1u);
  EXPECT_THAT(c.train_notes[0], HasSubstr("news.en-00001-of-00002.gz"));

  write_file(d.file("ptb/ptb.train.txt"), "a b\n");
  write_file(d.file("ptb/ptb.train.txt.gz"), gz);
  write_file(d.file("ptb/ptb.valid.txt.xz"),
             "\xfd"
             "7zXZ" +
                 std::string(1, '\0'));
  EXPECT_THAT(error_of([&] { find_corpus(d.file("ptb")); }), HasSubstr("is xz-compressed"));
  write_file(d.file("ptb/ptb.valid.txt"), "a\n");
  CorpusLayout p = find_corpus(d.file("ptb"));
  EXPECT_EQ(p.train_shards, std::vector<std::string>{d.file("ptb/ptb.train.txt")});
  EXPECT_EQ(p.heldout_shards, std::vector<std::string>{d.file("ptb/ptb.valid.txt")});
  EXPECT_EQ(p.train_notes.size(), 1u);
  EXPECT_EQ(p.heldout_notes.size(), 1u);
  std::filesystem::remove(d.file("ptb/ptb.train.txt"));  // the .gz alone is still an error
  EXPECT_THAT(error_of([&] { find_corpus(d.file("ptb")); }),
              HasSubstr("ptb.train.txt.gz is gzip-compressed"));
}

// Training files that hold no sentence are skipped with a note, 0 bytes or blank lines alike (a
// 0-byte file used to stop the run while a blank one was accepted silently); only a corpus where no
// training file holds one is an error (require_training).
TEST(Corpus, TrainingFilesWithoutSentencesAreSkippedWithANote) {
  TempDir d;
  write_file(d.file("a.txt"), "a b\n");
  write_file(d.file("empty.txt"), "");
  write_file(d.file("blank.txt"), "\xEF\xBB\xBF\n \t\r\n\n");
  CorpusLayout c =
      find_corpus(d.file("a.txt") + "," + d.file("empty.txt") + "," + d.file("blank.txt"));
  EXPECT_EQ(c.train_shards, std::vector<std::string>{d.file("a.txt")});
  EXPECT_EQ(c.blank_train_files,
            (std::vector<std::string>{d.file("empty.txt"), d.file("blank.txt")}));
  ASSERT_EQ(c.train_notes.size(), 1u);
  EXPECT_THAT(c.train_notes[0],
              HasSubstr("skipping 2 training files that hold no sentences (empty or blank lines "
                        "only): " +
                        d.file("empty.txt") + ", " + d.file("blank.txt")));
  EXPECT_NO_THROW(require_training(c));

  const std::string lm = d.file("lm1b");
  write_file(train_dir(lm) + "/news.en-00001-of-00003", "a b\n");
  write_file(train_dir(lm) + "/news.en-00002-of-00003", "");
  write_file(train_dir(lm) + "/news.en-00003-of-00003", "  \n");
  CorpusLayout l = find_corpus(lm);
  EXPECT_EQ(l.train_shards, std::vector<std::string>{train_dir(lm) + "/news.en-00001-of-00003"});
  ASSERT_EQ(l.train_notes.size(), 1u);
  EXPECT_THAT(l.train_notes[0], HasSubstr("skipping 2 training shards"));

  write_file(d.file("wt/wiki.train.tokens"), "\n");
  write_file(d.file("wt/wiki.test.tokens"), "a\n");
  CorpusLayout w = find_corpus(d.file("wt"));  // eval reads the test file: no error here
  EXPECT_EQ(default_eval_shard(w), d.file("wt/wiki.test.tokens"));
  EXPECT_THAT(error_of([&] { require_training(w); }),
              HasSubstr("no training file holds a sentence (it is empty or blank lines only: " +
                        d.file("wt/wiki.train.tokens") + ")"));
  // Held-out and test files must hold a sentence.
  write_file(d.file("wt/wiki.test.tokens"), "\n\n");
  EXPECT_THAT(error_of([&] { find_corpus(d.file("wt")); }),
              HasSubstr("test file " + d.file("wt/wiki.test.tokens") + " holds no sentences"));
}

TEST(Corpus, NonUtf8ShardNamesFileAndLine) {
  TempDir d;
  const std::string shard = train_dir(d.path) + "/news.en-00001-of-00100";
  write_file(shard, "good line\nstill good \xC3\xA9\nbad \xE9t\xE9\n");
  EXPECT_NO_THROW(find_corpus(d.path));  // discovery does not read the text
  const std::string want = shard + ":3 is not valid UTF-8";
  EXPECT_THAT(error_of([&] { load_shard(shard); }), HasSubstr(want));
  EXPECT_THAT(error_of([&] { count_predicted(shard); }), HasSubstr(want));
  EXPECT_THAT(error_of([&] { Vocab::build({shard}, 1); }), HasSubstr(want));
}

TEST(Corpus, LoadShardKeepsNonBlankLines) {
  TempDir d;
  write_file(d.file("s"), "a b\n\n   \n c  d \r\nlast");
  ShardText s = load_shard(d.file("s"));
  ASSERT_EQ(s.sentences(), 3u);
  EXPECT_EQ(s.sentence(0), "a b");
  EXPECT_EQ(s.sentence(1), "c  d");
  EXPECT_EQ(s.sentence(2), "last");
  EXPECT_EQ(count_predicted(d.file("s")), 3 + 3 + 2);
}

// A large shard is read in pieces cut just after newlines: the pieces tile the file, and their
// sentences, in order, are the whole shard's.
TEST(Corpus, SplitShardsCutsAtLineBoundaries) {
  TempDir d;
  std::string text;
  for (int i = 0; i < 200; ++i) text += "s" + std::to_string(i) + std::string(i % 13, 'x') + "\n";
  text += std::string(300, 'y') + "\n" + "tail without newline";
  write_file(d.file("big"), text);
  write_file(d.file("small"), "a b\n");
  for (int64_t max : {int64_t(1), int64_t(40), int64_t(97), int64_t(1) << 20}) {
    auto pieces = split_shards({d.file("big"), d.file("small")}, max);
    ASSERT_EQ(pieces.back().path, d.file("small"));
    EXPECT_EQ(pieces.back().begin, 0);
    EXPECT_EQ(pieces.back().end, 4);
    pieces.pop_back();
    ASSERT_FALSE(pieces.empty());
    EXPECT_EQ(pieces.front().begin, 0);
    EXPECT_EQ(pieces.back().end, static_cast<int64_t>(text.size()));
    std::vector<std::string> got;
    for (size_t k = 0; k < pieces.size(); ++k) {
      if (k > 0) {
        EXPECT_EQ(pieces[k].begin, pieces[k - 1].end);
        EXPECT_EQ(text[pieces[k].begin - 1], '\n') << "max " << max << " piece " << k;
      }
      EXPECT_GT(pieces[k].end, pieces[k].begin);
      ShardText s = load_shard(pieces[k].path, pieces[k].begin, pieces[k].end);
      for (size_t i = 0; i < s.sentences(); ++i) got.emplace_back(s.sentence(i));
    }
    ShardText whole = load_shard(d.file("big"));
    std::vector<std::string> want;
    for (size_t i = 0; i < whole.sentences(); ++i) want.emplace_back(whole.sentence(i));
    EXPECT_EQ(got, want) << "max " << max;
    if (max == 40) EXPECT_GT(pieces.size(), 30u);
    if (max == (int64_t(1) << 20)) EXPECT_EQ(pieces.size(), 1u);
  }
  // A UTF-8 error in a later piece names the piece's start.
  write_file(d.file("bad"), "good\nfine\nbad \xE9\n");
  auto pieces = split_shards({d.file("bad")}, 5);
  ASSERT_EQ(pieces.size(), 3u);
  EXPECT_THAT(error_of([&] { load_shard(pieces[2].path, pieces[2].begin, pieces[2].end); }),
              HasSubstr(d.file("bad") + " (from byte 10):1 is not valid UTF-8"));
}

// The training reader and the vocabulary reader agree on a byte-order mark: it is not part of the
// first word.
TEST(Corpus, LoadShardDropsAByteOrderMark) {
  TempDir d;
  write_file(d.file("bom"),
             "\xEF\xBB\xBF"
             "first word\nsecond\n");
  ShardText s = load_shard(d.file("bom"));
  ASSERT_EQ(s.sentences(), 2u);
  EXPECT_EQ(s.sentence(0), "first word");
  EXPECT_TRUE(Vocab::build({d.file("bom")}, 1).contains("first"));
  auto pieces = split_shards({d.file("bom")}, 4);  // the mark stays with the first piece only
  ASSERT_GE(pieces.size(), 2u);
  EXPECT_EQ(load_shard(pieces[0].path, pieces[0].begin, pieces[0].end).sentence(0), "first word");
}

TEST(Text, Utf8Validation) {
  EXPECT_TRUE(valid_utf8(""));
  EXPECT_TRUE(valid_utf8("plain ascii text that is longer than eight bytes"));
  EXPECT_TRUE(valid_utf8("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"));  // é € 😀
  EXPECT_TRUE(valid_utf8("\xF4\x8F\xBF\xBF"));                      // U+10FFFF
  EXPECT_FALSE(valid_utf8("\xF4\x90\x80\x80"));                     // > U+10FFFF
  EXPECT_FALSE(valid_utf8("\xE0\x80\xAF"));                         // overlong
  EXPECT_FALSE(valid_utf8("\xC3"));                                 // truncated
  EXPECT_FALSE(valid_utf8("abcdefgh\x80"));                         // stray continuation
  EXPECT_EQ(first_invalid_utf8("abcdefghij\xFFxyz"), 10);
}

TEST(Text, TokensAndLongLines) {
  std::vector<std::string> t;
  for_each_token("  a\tbb  c \r", [&](std::string_view w) { t.emplace_back(w); });
  EXPECT_EQ(t, (std::vector<std::string>{"a", "bb", "c"}));
  EXPECT_EQ(count_tokens(" x y  z "), 3);
  TempDir d;
  std::string big(3 << 20, 'x');  // a line longer than the reader's 1 MiB buffer
  write_file(d.file("f"), "first\n" + big + "\nlast\n");
  LineReader r(d.file("f"), "shard");
  std::string_view line;
  ASSERT_TRUE(r.next(line));
  EXPECT_EQ(line, "first");
  ASSERT_TRUE(r.next(line));
  EXPECT_EQ(line.size(), big.size());
  ASSERT_TRUE(r.next(line));
  EXPECT_EQ(line, "last");
  EXPECT_EQ(r.line_number(), 3);
  EXPECT_FALSE(r.next(line));
}

TEST(Text, ByteOrderMarkAndCrlfAreNotPartOfTheText) {
  TempDir d;
  // A BOM only counts at the start of the file; later it is text (U+FEFF, valid UTF-8).
  write_file(d.file("f"),
             "\xEF\xBB\xBFthe cat\r\n\xEF\xBB\xBF"
             "dog\r\nend");
  LineReader r(d.file("f"), "shard");
  std::string_view line;
  ASSERT_TRUE(r.next(line));
  EXPECT_EQ(line, "the cat");
  ASSERT_TRUE(r.next(line));
  EXPECT_EQ(line,
            "\xEF\xBB\xBF"
            "dog");
  ASSERT_TRUE(r.next(line));
  EXPECT_EQ(line, "end");
  EXPECT_FALSE(r.next(line));
}

}  // namespace
}  // namespace sg
