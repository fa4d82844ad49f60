// Whole-file outputs: symlinks are followed (the link stays a link), devices and FIFOs are written
// straight through (never replaced by a regular file), an output that is an input is refused, and
// an unwritable destination is found before any work.
#include "data/output_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "data_test_util.h"
#include "gmock/gmock.h"

namespace sg {
namespace {

using sg::testing::error_of;
using sg::testing::read_file;
using sg::testing::TempDir;
using sg::testing::write_file;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

TEST(OutputFile, RegularFilesAreReplacedWholeAndSymlinksFollowed) {
  TempDir d;
  write_whole_file(d.file("new.txt"), "one\n", "test file");
  EXPECT_EQ(read_file(d.file("new.txt")), "one\n");
  write_whole_file(d.file("new.txt"), "two\n", "test file");
  EXPECT_EQ(read_file(d.file("new.txt")), "two\n");

  write_file(d.file("sub/target.txt"), "old\n");
  fs::create_symlink("sub/target.txt", d.file("rel-link"));  // relative to the link's folder
  write_whole_file(d.file("rel-link"), "through the link\n", "test file");
  EXPECT_TRUE(fs::is_symlink(d.file("rel-link")));
  EXPECT_EQ(read_file(d.file("sub/target.txt")), "through the link\n");
  // No temporaries are left behind.
  int files = 0;
  for (const auto& e : fs::directory_iterator(d.file("sub"))) files += e.is_regular_file();
  EXPECT_EQ(files, 1);
}

TEST(OutputFile, DevicesAndFifosAreWrittenStraightThrough) {
  write_whole_file("/dev/null", "discarded\n", "test file");
  struct stat st;
  ASSERT_EQ(stat("/dev/null", &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));

  TempDir d;
  const std::string fifo = d.file("pipe");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  std::string got;
  std::thread reader([&] { got = read_file(fifo); });
  write_whole_file(fifo, "through the pipe\n", "test file");
  reader.join();
  EXPECT_EQ(got, "through the pipe\n");
  ASSERT_EQ(lstat(fifo.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_THAT(error_of([&] { write_whole_file(d.path, "x", "test file"); }),
              HasSubstr("is a folder"));
}

TEST(OutputFile, AnInputIsNeverAnOutput) {
  TempDir d;
  write_file(d.file("corpus.txt"), "a b\n");
  write_file(d.file("other.txt"), "c\n");
  fs::create_symlink(d.file("corpus.txt"), d.file("link.txt"));
  fs::create_hard_link(d.file("corpus.txt"), d.file("hard.txt"));
  const std::vector<std::string> inputs = {d.file("other.txt"), d.file("corpus.txt")};
  for (const char* out : {"corpus.txt", "link.txt", "hard.txt"})
    EXPECT_THAT(error_of([&] { check_output_not_input(d.file(out), inputs, "--out"); }),
                HasSubstr("is the input file " + d.file("corpus.txt")));
  EXPECT_NO_THROW(check_output_not_input(d.file("vocab.txt"), inputs, "--out"));  // not there yet
  write_file(d.file("vocab.txt"), "old\n");
  EXPECT_NO_THROW(check_output_not_input(d.file("vocab.txt"), inputs, "--out"));
  EXPECT_NO_THROW(check_output_not_input("", inputs, "--out"));
}

TEST(OutputFile, UnwritableDestinationsAreFoundFirst) {
  TempDir d;
  EXPECT_NO_THROW(check_output_writable(d.file("s.json"), "--summary-json"));
  EXPECT_NO_THROW(check_output_writable("/dev/null", "--summary-json"));
  EXPECT_THAT(error_of([&] { check_output_writable(d.file("no/such/s.json"), "--summary-json"); }),
              HasSubstr("does not exist"));
  EXPECT_THAT(error_of([&] { check_output_writable(d.path, "--summary-json"); }),
              HasSubstr("is a folder"));
  // /proc refuses new files even to root, whom access() would let through.
  EXPECT_THAT(error_of([&] { check_folder_writable("/proc/self", "checkpoints"); }),
              HasSubstr("cannot create files in /proc/self"));
  EXPECT_TRUE(fs::is_empty(d.path));  // the probes leave nothing behind
}

}  // namespace
}  // namespace sg
