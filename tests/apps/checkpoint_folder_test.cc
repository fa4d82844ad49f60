// CheckpointFolder (apps/checkpoint_folder.h): a folder it created and the run left empty is
// removed, a second holder of the same folder is refused while the first lives (and welcome after),
// and a checkpoint file that someone else put in the folder is never taken as the run's own.
#include "apps/checkpoint_folder.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "cli_util.h"
#include "engine/check.h"

namespace sg::testing {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(CheckpointFolder, CreatedFolderLeftEmptyIsRemoved) {
  const std::string dir = temp_dir("ckf") + "/new/ck";
  {
    CheckpointFolder f(dir);
    EXPECT_TRUE(std::filesystem::is_directory(dir));
  }
  EXPECT_FALSE(std::filesystem::exists(dir)) << "an empty folder the run created stays behind";
  {
    CheckpointFolder f(dir);
    std::ofstream(dir + "/checkpoint.safetensors") << "x";
  }
  EXPECT_TRUE(std::filesystem::exists(dir + "/checkpoint.safetensors"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/.sketchgrad.lock")) << "the lock file stays behind";
}

TEST(CheckpointFolder, SecondRunOnTheFolderIsRefusedWhileTheFirstHoldsIt) {
  const std::string dir = temp_dir("ckf-lock");
  {
    CheckpointFolder first(dir);
    const std::string e = error_of([&] { CheckpointFolder second(dir); });
    EXPECT_NE(e.find("is in use by another sketchgrad run (pid " + std::to_string(getpid()) + ")"),
              std::string::npos)
        << e;
  }
  EXPECT_EQ(error_of([&] { CheckpointFolder again(dir); }), "");  // free once the first is gone
}

TEST(CheckpointFolder, FilesOnlyTheRunWroteAreItsOwn) {
  const std::string dir = temp_dir("ckf-own");
  const std::string ck = dir + "/checkpoint.safetensors";
  CheckpointFolder f(dir);
  EXPECT_EQ(error_of([&] { f.check_ours(ck, "checkpoint"); }), "");  // absent: free to write
  std::ofstream(ck) << "someone else's";
  EXPECT_NE(error_of([&] { f.check_ours(ck, "checkpoint"); }).find("put there by another process"),
            std::string::npos);
  f.adopt(ck);  // as after resuming from it or writing it
  EXPECT_EQ(error_of([&] { f.check_ours(ck, "checkpoint"); }), "");
  // Replaced behind the run's back by another file (created while the old one exists, so it has
  // another inode, then renamed over it, as a writer of checkpoints does).
  std::ofstream(dir + "/other.tmp") << "another";
  std::filesystem::rename(dir + "/other.tmp", ck);
  EXPECT_NE(error_of([&] { f.check_ours(ck, "checkpoint"); }), "");
  const std::string file = dir + "/plain.safetensors";
  std::ofstream(file) << "";
  EXPECT_NE(error_of([&] { CheckpointFolder g(file); }).find("names a folder"), std::string::npos);
}

}  // namespace
}  // namespace sg::testing
