// `sketchgrad synth` as a user runs it: the --vocab-size range --help shows is the one the
// command checks, a vocabulary that cannot fit in memory is refused in one line before anything
// is allocated or created, and an interrupted run leaves nothing that blocks a rerun.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <regex>
#include <string>

#include "cli_util.h"

namespace sg::testing {
namespace {

namespace fs = std::filesystem;

// run_cli under `ulimit -v kb`: the memory synth may use is then known whatever the machine.
CliResult run_cli_limited(const std::string& args, long kb) {
  const std::string dir = temp_dir("synth-cli");
  const std::string cmd = std::string("cd ") + SG_SOURCE_DIR + " && ulimit -v " +
                          std::to_string(kb) + " && OMP_NUM_THREADS=2 " + SG_BIN_DIR +
                          "/sketchgrad " + args + " >" + dir + "/stdout 2>" + dir + "/stderr";
  const int status = std::system(cmd.c_str());
  CliResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = read_text(dir + "/stdout");
  r.err = read_text(dir + "/stderr");
  return r;
}

TEST(SynthCli, HelpRangeIsTheCheckedRangeAndMemoryIsCheckedUpFront) {
#ifdef SG_SANITIZE
  // ASan reserves terabytes of shadow address space at start, which `ulimit -v` forbids.
  GTEST_SKIP() << "runs sketchgrad under ulimit -v, which AddressSanitizer cannot start under";
#endif
  CliResult help = run_cli("synth --help");
  ASSERT_EQ(help.code, 0) << help.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(help.out, m, std::regex(R"(--vocab-size[^\n]*\[4 - (\d+)\])")))
      << help.out;
  const std::string top = m[1];
  EXPECT_EQ(top, "2147483646");  // the largest vocab.txt that Vocab::load reads back
  const std::string d = temp_dir("synth-big");
  for (const std::string& v : {top, std::string("2147483645")}) {
    const auto t0 = std::chrono::steady_clock::now();
    CliResult r = run_cli_limited("synth --out " + d + "/c --sentences 10 --vocab-size " + v,
                                  4L << 20);  // 4 GiB of address space
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_EQ(r.err_lines(), 1) << r.err;
    EXPECT_NE(r.err.find("a vocabulary of " + v + " words needs 40.0 GiB of memory"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(r.err.find("must be in"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(d + "/c"));
    EXPECT_LT(s, 30.0) << "the check comes before any allocation";
  }
  CliResult over = run_cli("synth --out " + d + "/c --sentences 10 --vocab-size 2147483647");
  EXPECT_EQ(over.code, 2);
  EXPECT_NE(over.err.find("not in range 4 to 2147483646"), std::string::npos) << over.err;
}

// SIGINT while synth writes: exit 130, one line, no partial folder, and the rerun works.
TEST(SynthCli, InterruptedRunLeavesNothingThatBlocksARerun) {
  const std::string d = temp_dir("synth-int");
  const std::string out = d + "/corpus";
  fs::create_directories(out);
  const pid_t pid = start_cli("synth --out " + out + " --sentences 10 --vocab-size 10000000", d);
  const std::string partial = out + "/.synth-partial-" + std::to_string(pid);
  bool seen = false;
  for (int i = 0; i < 20000 && !seen; ++i) {  // up to 20 s for the process to start writing
    seen = fs::exists(partial);
    if (!seen) usleep(1000);
  }
  ASSERT_TRUE(seen) << read_text(d + "/stderr");
  kill(pid, SIGINT);
  EXPECT_EQ(wait_cli(pid), 130) << read_text(d + "/stderr");
  const std::string err = read_text(d + "/stderr");
  EXPECT_NE(err.find("synth stopped by signal 2"), std::string::npos) << err;
  EXPECT_TRUE(fs::is_empty(out)) << "left behind in " << out;
  CliResult again = run_cli("synth --out " + out + " --sentences 10 --vocab-size 5000");
  EXPECT_EQ(again.code, 0) << again.err;
  EXPECT_TRUE(fs::exists(out + "/vocab.txt"));
}

}  // namespace
}  // namespace sg::testing
