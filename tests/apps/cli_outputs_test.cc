// What train, eval, plan and synth write, through the real command line: file names that are not
// UTF-8 do not lose a run, --keep-best and synth never replace a user's file, a run's checkpoint
// folder is its own (one line for a second run, nothing left behind after an early error),
// --resume takes the checkpoint's vocabulary (a --vocab file must hold its words; --min-count only
// gets a note), an SVG sent to stdout stays an SVG, plan --compare's title names its policies, and
// a stdout that cannot be written (full, closed) is an error that never sends the output into
// another file.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "cli_util.h"

namespace sg::testing {
namespace {

const std::string kRun = "train --preset tiny --steps 3 --threads 1 --progress-every 1";

TEST(CliOutputs, NonUtf8FileNamesDoNotLoseTheRun) {
  const std::string d = make_corpus("latin1");
  const std::string name = d + "/r\xe9sum\xe9";  // Latin-1 bytes: not UTF-8
  std::filesystem::copy_file(d + "/training-monolingual.tokenized.shuffled/news.en-00001-of-00100",
                             name + ".txt");
  CliResult r = run_cli(kRun + " --data '" + name + ".txt' --checkpoint '" + name +
                        "-ck' --summary-json '" + name + ".json' --log '" + name + ".jsonl'");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(file_exists(name + "-ck/checkpoint.safetensors"));
  const auto summary = nlohmann::json::parse(read_text(name + ".json"));
  EXPECT_EQ(summary["steps"].get<int64_t>(), 3) << summary.dump();
  CliResult e = run_cli("eval --checkpoint '" + name + "-ck' --shard '" + name +
                        ".txt' --max-tokens 200 --json '" + name + "-eval.json'");
  ASSERT_EQ(e.code, 0) << e.err;
  EXPECT_GT(nlohmann::json::parse(read_text(name + "-eval.json"))["tokens"].get<int64_t>(), 0);
  CliResult resumed = run_cli("train --preset tiny --steps 5 --threads 1 --data '" + name +
                              ".txt' --checkpoint '" + name + "-ck' --resume");
  EXPECT_EQ(resumed.code, 0) << resumed.err;
}

TEST(CliOutputs, KeepBestNeverReplacesAnExistingBestWithoutResume) {
  const std::string d = make_corpus("best");
  ASSERT_EQ(run_cli(kRun + " --data " + d + " --checkpoint " + d + "/a --keep-best").code, 0);
  std::filesystem::create_directory(d + "/b");
  std::filesystem::copy_file(d + "/a/best.safetensors", d + "/b/best.safetensors");
  const std::string before = read_text(d + "/b/best.safetensors");
  expect_one_line_error(run_cli(kRun + " --data " + d + " --checkpoint " + d + "/b --keep-best"),
                        "best checkpoint " + d + "/b/best.safetensors already exists");
  EXPECT_EQ(read_text(d + "/b/best.safetensors"), before);
  EXPECT_EQ(list_dir(d + "/b"), std::vector<std::string>{"best.safetensors"});
}

TEST(CliOutputs, AnEarlyErrorLeavesNoCheckpointFolderBehind) {
  const std::string d = make_corpus("early");
  CliResult r = run_cli(kRun + " --data " + d + " --checkpoint " + d + "/new/ck --log " + d +
                        "/missing/log.jsonl");
  expect_one_line_error(r, "--log");
  EXPECT_FALSE(file_exists(d + "/new/ck"));
  expect_one_line_error(run_cli(kRun + " --data " + d + " --checkpoint-every 2"),
                        "--checkpoint-every needs --checkpoint");
}

TEST(CliOutputs, ResumeTakesTheCheckpointsVocabulary) {
  const std::string d = make_corpus("vocab");
  std::ofstream(d + "/v.txt") << "the 10\ncat 5\nmat 4\n";
  std::ofstream(d + "/w.txt") << "the 10\ndog 5\nmat 4\n";
  CliResult first = run_cli(kRun + " --data " + d + " --vocab " + d + "/v.txt --min-count 50" +
                            " --checkpoint " + d + "/ck");
  ASSERT_EQ(first.code, 0) << first.err;
  EXPECT_NE(first.err.find("--min-count is ignored with --vocab"), std::string::npos) << first.err;
  const std::string before = read_text(d + "/ck/checkpoint.safetensors");
  // Another file: refused, naming the first difference.
  expect_one_line_error(run_cli("train --preset tiny --steps 5 --threads 1 --data " + d +
                                " --vocab " + d + "/w.txt --checkpoint " + d + "/ck --resume"),
                        "id 4 is 'dog' in the file and 'cat' in the checkpoint");
  EXPECT_EQ(read_text(d + "/ck/checkpoint.safetensors"), before);
  // The same file spelled another way, or no --vocab and another --min-count: resumed.
  CliResult same = run_cli("train --preset tiny --steps 5 --threads 1 --data " + d + " --vocab " +
                           d + "/./v.txt --checkpoint " + d + "/ck --resume");
  EXPECT_EQ(same.code, 0) << same.err;
  const std::string d2 = make_corpus("mincount");
  ASSERT_EQ(run_cli(kRun + " --data " + d2 + " --checkpoint " + d2 + "/ck").code, 0);
  CliResult other = run_cli("train --preset tiny --steps 5 --threads 1 --data " + d2 +
                            " --min-count 7 --checkpoint " + d2 + "/ck --resume");
  EXPECT_EQ(other.code, 0) << other.err;
  EXPECT_NE(other.err.find("--min-count 7 differs from the checkpointed run's (3)"),
            std::string::npos)
      << other.err;
}

TEST(CliOutputs, PlanSvgToStdoutIsOnlyTheSvg) {
  CliResult r = run_cli("plan --preset tiny --vocab-size 100 --svg /dev/stdout");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.find("<svg"), r.out.find('<')) << r.out.substr(0, 200);
  EXPECT_NE(r.out.find("</svg>"), std::string::npos);
  EXPECT_EQ(r.out.find("total planned"), std::string::npos) << "the table is not in the SVG";
  EXPECT_NE(r.err.find("total planned"), std::string::npos) << r.err;
  expect_one_line_error(run_cli("plan --preset tiny --vocab-size 100 --svg /dev/stdout --json"),
                        "both write to standard output");
}

// Runs sketchgrad with stdout sent where `redirect` says (e.g. ">/dev/full", ">&-"); stderr is
// captured in dir/stderr.
CliResult run_with_stdout(const std::string& args, const std::string& redirect) {
  const std::string dir = temp_dir("stdout");
  const std::string cmd = std::string("cd ") + SG_SOURCE_DIR + " && OMP_NUM_THREADS=2 " +
                          SG_BIN_DIR + "/sketchgrad " + args + " " + redirect + " 2>" + dir +
                          "/stderr";
  const int status = std::system(cmd.c_str());
  CliResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.err = read_text(dir + "/stderr");
  return r;
}

// Output that could not be written (a full disk, a closed stdout) is a failure with one line, not
// a silent exit 0, for every command that prints its result.
TEST(CliOutputs, StdoutThatCannotBeWrittenIsAnError) {
  const std::string d = make_corpus("stdout");
  ASSERT_EQ(run_cli(kRun + " --data " + d + " --checkpoint " + d + "/ck").code, 0);
  const std::vector<std::string> commands = {
      "plan --preset tiny --vocab-size 100", "plan --preset tiny --vocab-size 100 --json",
      "eval --checkpoint " + d + "/ck --data " + d, "generate --checkpoint " + d + "/ck"};
  for (const std::string& args : commands) {
    for (const std::string redirect : {">/dev/full", ">&-"}) {
      SCOPED_TRACE(args + " " + redirect);
      expect_one_line_error(run_with_stdout(args, redirect), "could not write to standard output");
    }
    EXPECT_EQ(run_with_stdout(args, ">/dev/null").code, 0);
  }
  EXPECT_NE(run_with_stdout("plan --preset tiny --vocab-size 100", ">&-").err.find("it is closed"),
            std::string::npos);
}

// With stdout closed, the next file opened would get descriptor 1: the plan's table must not land
// in its SVG (nor anywhere else) — the SVG holds only the picture.
TEST(CliOutputs, ClosedStdoutNeverLandsInAnOutputFile) {
  const std::string d = temp_dir("closed");
  expect_one_line_error(
      run_with_stdout("plan --preset tiny --vocab-size 100 --svg " + d + "/p.svg", ">&-"),
      "could not write to standard output");
  const std::string svg = read_text(d + "/p.svg");
  EXPECT_EQ(svg.find("<svg"), svg.find('<')) << svg.substr(0, 200);
  EXPECT_EQ(svg.find("total planned"), std::string::npos);
}

// --compare's table is titled by the two policies it holds: --state bf16 sketches nothing, so
// "dense vs sketched" was wrong there.
TEST(CliOutputs, PlanCompareTitleNamesBothPolicies) {
  const std::string plan = "plan --preset tiny --vocab-size 100 --compare";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {" --state bf16", "dense vs bf16 (MB"},
      {"", "dense vs cs-mv (MB"},
      {" --state cs-v", "dense vs cs-v (MB"},
  };
  for (const auto& [flags, title] : cases) {
    CliResult r = run_cli(plan + flags);
    ASSERT_EQ(r.code, 0) << flags << ": " << r.err;
    EXPECT_NE(r.out.find("\n" + title), std::string::npos) << flags << ": " << r.out;
    EXPECT_EQ(r.out.find("dense vs sketched"), std::string::npos) << flags << ": " << r.out;
  }
}

TEST(CliOutputs, SynthKeepsAnExistingVocabularyFile) {
  const std::string d = temp_dir("synth-vocab");
  std::ofstream(d + "/vocab.txt") << "mytoken 5\n";
  expect_one_line_error(run_cli("synth --out " + d + " --sentences 50 --vocab-size 20"),
                        "already holds a vocab.txt");
  EXPECT_EQ(read_text(d + "/vocab.txt"), "mytoken 5\n");
  EXPECT_EQ(list_dir(d), std::vector<std::string>{"vocab.txt"});
}

}  // namespace
}  // namespace sg::testing
