// End to end through the command line on the bundled corpus (data/sotu): training lowers the loss,
// the plan matches what the backend allocated, a resumed run is bitwise identical to an
// uninterrupted one, eval counts every predicted token of the real LM1B test shard (159,658),
// generate is reproducible, optimizer hyperparameter flags take effect, plan --json parses, a
// vocabulary smaller than the preset's sampled softmax falls back to the full softmax, Ctrl-C
// checkpoints (also during a held-out evaluation) and the run resumes.
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "apps/safetensors.h"
#include "cli_util.h"

namespace sg::testing {
namespace {

const std::string kData = "data/sotu";
const std::string kTiny =
    "--preset tiny --threads 2 --seed 3 --data " + kData + " --eval-tokens 3000";

// Starts sketchgrad with args in the background (output in dir), sends sig once its stderr shows
// text, and returns its exit code (-1 when it never showed the text within two minutes).
int signal_after(const std::string& args, const std::string& dir, const std::string& text,
                 int sig) {
  const pid_t pid = start_cli(args, dir);
  if (pid <= 0) return -1;
  const bool started = wait_for_text(dir + "/stderr", text, 120, pid);
  kill(pid, sig);
  const int code = wait_cli(pid);
  return started ? code : -1;
}

std::vector<nlohmann::json> read_jsonl(const std::string& path, const std::string& event) {
  std::vector<nlohmann::json> out;
  std::istringstream is(read_text(path));
  for (std::string line; std::getline(is, line);) {
    auto j = nlohmann::json::parse(line);
    if (j.value("event", "") == event) out.push_back(j);
  }
  return out;
}

TEST(TrainEndToEnd, LossFallsAndPlanMatchesAllocation) {
  std::string d = temp_dir("e2e");
  CliResult r = run_cli("train " + kTiny + " --steps 120 --progress-every 20 --log " + d +
                        "/log.jsonl" + " --summary-json " + d + "/summary.json");
  ASSERT_EQ(r.code, 0) << r.err;
  auto train = read_jsonl(d + "/log.jsonl", "train");
  ASSERT_GE(train.size(), 6u);
  double first = train.front()["loss"], last = train.back()["loss"];
  EXPECT_LT(last, first - 0.5) << "loss did not fall: " << first << " -> " << last;
  auto s = nlohmann::json::parse(read_text(d + "/summary.json"));
  EXPECT_GT(s["words_per_s"].get<double>(), 0);
  EXPECT_GT(s["heldout_perplexity"].get<double>(), 1.0);
  EXPECT_LT(s["heldout_perplexity"].get<double>(),
            s["vocab"].get<double>());  // better than uniform
  // Every byte the backend handed out was planned: planned arenas == device high-water mark (within
  // 1 %).
  double planned = s["planned_bytes"], measured = s["measured_peak_bytes"];
  EXPECT_NEAR(measured / planned, 1.0, 0.01);
}

TEST(TrainEndToEnd, ResumeIsBitwiseIdentical) {
  std::string d = temp_dir("resume");
  for (const char* state : {"dense", "cs-mv", "bf16"}) {  // bf16: its rounding stream resumes too
    std::string st = std::string(" --state ") + state + " --softmax sampled:64 --dropout 0.1";
    ASSERT_EQ(
        run_cli("train " + kTiny + st + " --steps 30 --checkpoint " + d + "/full-" + state).code,
        0);
    CliResult a =
        run_cli("train " + kTiny + st + " --steps 12 --checkpoint " + d + "/part-" + state);
    ASSERT_EQ(a.code, 0) << a.err;
    CliResult b = run_cli("train " + kTiny + st + " --steps 30 --resume --checkpoint " + d +
                          "/part-" + state);
    ASSERT_EQ(b.code, 0) << b.err;
    StFile full = read_safetensors(d + "/full-" + state + "/checkpoint.safetensors");
    StFile resumed = read_safetensors(d + "/part-" + state + "/checkpoint.safetensors");
    ASSERT_GT(full.tensors.size(), 5u);
    ASSERT_EQ(full.tensors.size(), resumed.tensors.size());
    for (const auto& [name, t] : full.tensors) {
      ASSERT_TRUE(resumed.tensors.count(name)) << name;
      EXPECT_TRUE(t.bytes == resumed.tensors.at(name).bytes)
          << state << ": " << name << " differs after resume";
    }
    EXPECT_EQ(full.metadata.at("step"), resumed.metadata.at("step"));
  }
}

// --threads 1 and --threads 2 train bitwise the same parameters, optimizer state and LSTM state:
// products are cut into panels and the LSTM recurrence into cell blocks fixed by the sizes alone
// (engine/cpu/fixed_blocks.h), never per thread. Shapes with several blocks, an odd count of them
// (hidden 192: three), with and without projection, full and sampled softmax, sketched state.
TEST(TrainEndToEnd, ThreadCountDoesNotChangeResults) {
  const std::string d = temp_dir("threads");
  const std::string base = "train --preset tiny --seed 3 --data " + kData +
                           " --heldout none --steps 8 --softmax sampled:256";
  for (const std::string shape : {" --hidden 256 --proj 64 --state cs-mv", " --hidden 192 --proj 0",
                                  " --hidden 128 --proj 96 --softmax full --layers 2"}) {
    for (int t : {1, 2}) {
      CliResult r = run_cli(base + shape + " --threads " + std::to_string(t) + " --checkpoint " +
                            d + "/t" + std::to_string(t));
      ASSERT_EQ(r.code, 0) << r.err;
    }
    StFile one = read_safetensors(d + "/t1/checkpoint.safetensors");
    StFile two = read_safetensors(d + "/t2/checkpoint.safetensors");
    int compared = 0;
    for (const auto& [name, t] : one.tensors) {
      if (name.rfind("param/", 0) && name.rfind("optim/", 0) && name.rfind("state/", 0)) continue;
      ASSERT_TRUE(two.tensors.count(name)) << name;
      EXPECT_TRUE(t.bytes == two.tensors.at(name).bytes) << shape << ": " << name << " differs";
      ++compared;
    }
    EXPECT_GT(compared, 8) << shape;
    std::filesystem::remove_all(d + "/t1");
    std::filesystem::remove_all(d + "/t2");
  }
}

TEST(TrainEndToEnd, EvalCountsEveryTokenOfTheRealTestShard) {
  std::string d = temp_dir("eval");
  ASSERT_EQ(run_cli("train " + kTiny + " --steps 5 --checkpoint " + d + "/ck").code, 0);
  CliResult r = run_cli("eval --checkpoint " + d +
                        "/ck --data data/lm1b_test --batch 17 --bptt 9 --json " + d + "/eval.json");
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(read_text(d + "/eval.json"));
  EXPECT_EQ(j["tokens"].get<int64_t>(), 159658);
  EXPECT_NE(r.out.find("tokens 159658"), std::string::npos) << r.out;
}

TEST(TrainEndToEnd, GenerateIsReproducible) {
  std::string d = temp_dir("gen");
  ASSERT_EQ(run_cli("train " + kTiny + " --steps 20 --checkpoint " + d + "/ck").code, 0);
  std::string args =
      "generate --checkpoint " + d + "/ck --count 3 --max-words 12 --seed 5 --prompt 'the people'";
  CliResult a = run_cli(args), b = run_cli(args);
  ASSERT_EQ(a.code, 0) << a.err;
  EXPECT_EQ(a.out, b.out);
  EXPECT_EQ(std::count(a.out.begin(), a.out.end(), '\n'), 3);
  EXPECT_EQ(a.out.rfind("the people", 0), 0u) << a.out;
  EXPECT_EQ(a.err, "");
  // Words outside the vocabulary are read as <UNK>, and the user is told which.
  CliResult c = run_cli("generate --checkpoint " + d +
                        "/ck --count 1 --max-words 3 --prompt 'the qqqzzz people'");
  ASSERT_EQ(c.code, 0) << c.err;
  EXPECT_EQ(c.out.rfind("the <UNK> people", 0), 0u) << c.out;
  EXPECT_NE(c.err.find("not in the vocabulary, read as <UNK>: qqqzzz"), std::string::npos) << c.err;
  // Sampled words are words: never <UNK> (a barely trained model's favourite) nor <S>.
  CliResult many = run_cli("generate --checkpoint " + d + "/ck --count 20 --max-words 20 --seed 3");
  ASSERT_EQ(many.code, 0) << many.err;
  EXPECT_EQ(many.out.find("<UNK>"), std::string::npos) << many.out;
  EXPECT_EQ(many.out.find("<S>"), std::string::npos) << many.out;
  // A prompt is the start of one sentence: boundary markers in it are an error.
  CliResult marker = run_cli("generate --checkpoint " + d + "/ck --prompt 'the </S> we'");
  EXPECT_EQ(marker.code, 1);
  EXPECT_NE(marker.err.find("--prompt: </S> marks a sentence boundary"), std::string::npos)
      << marker.err;
  EXPECT_EQ(marker.out, "");
}

// A whole-file output named /dev/stdout or /dev/stderr while the shell redirects that stream to a
// regular file (run_cli does) is written through the stream: the file keeps the progress and
// result lines around it. It used to be replaced by the JSON alone.
TEST(TrainEndToEnd, OutputsToRedirectedStandardStreamsKeepTheStream) {
  std::string d = temp_dir("streams");
  CliResult t = run_cli("train " + kTiny + " --steps 3 --checkpoint " + d + "/ck --summary-json " +
                        "/dev/stderr --log /dev/stderr");
  ASSERT_EQ(t.code, 0) << t.err;
  EXPECT_NE(t.err.find("done: 3 steps"), std::string::npos) << t.err;
  EXPECT_NE(t.err.find("\"words_per_s\""), std::string::npos) << t.err;
  CliResult e = run_cli("eval --checkpoint " + d + "/ck --data " + kData +
                        " --max-tokens 640 --json /dev/stdout");
  ASSERT_EQ(e.code, 0) << e.err;
  // stdout is the JSON alone (parseable), the text report went to stderr.
  EXPECT_EQ(nlohmann::json::parse(e.out)["tokens"].get<int64_t>(), 640) << e.out;
  EXPECT_NE(e.err.find("perplexity "), std::string::npos) << e.err;
  CliResult v = run_cli("vocab --data " + kData + " --out /dev/fd/1");
  ASSERT_EQ(v.code, 0) << v.err;
  EXPECT_EQ(v.out.rfind("<S> ", 0), 0u) << v.out.substr(0, 200);
  EXPECT_EQ(v.out.find("wrote /dev/fd/1"), std::string::npos)
      << "the report is not in the vocabulary";
  EXPECT_NE(v.err.find("wrote /dev/fd/1"), std::string::npos) << v.err;
}

// --beta1/--beta2/--eps/--momentum/--weight-decay reach the optimizer: the defaults spelled out
// train bit for bit like no flags, and a changed value changes the run.
TEST(TrainEndToEnd, OptimizerHyperparameterFlagsReachTheOptimizer) {
  std::string d = temp_dir("hyper");
  auto losses = [&](const std::string& tag, const std::string& flags) {
    CliResult r = run_cli("train " + kTiny + " --steps 8 --progress-every 1 --log " + d + "/" +
                          tag + ".jsonl " + flags);
    EXPECT_EQ(r.code, 0) << r.err;
    std::vector<double> out;
    for (const auto& j : read_jsonl(d + "/" + tag + ".jsonl", "train")) out.push_back(j["loss"]);
    return out;
  };
  auto base = losses("base", "");
  ASSERT_EQ(base.size(), 8u);
  EXPECT_EQ(base, losses("spelled", "--beta1 0.9 --beta2 0.999 --eps 1e-8 --weight-decay 0"));
  int k = 0;
  for (const std::string f : {"--beta1 0", "--beta2 0.9", "--eps 1e-3", "--weight-decay 0.1"}) {
    auto other = losses("other" + std::to_string(k++), f);
    ASSERT_EQ(other.size(), 8u) << f;
    EXPECT_EQ(other[0], base[0]) << f;  // step 1's loss is computed before any update
    EXPECT_NE(other.back(), base.back()) << f;
  }
  auto momentum = losses("momentum", "--optimizer momentum --lr 0.5");
  EXPECT_EQ(momentum, losses("momentum-spelled", "--optimizer momentum --lr 0.5 --momentum 0.9"));
  EXPECT_NE(momentum.back(),
            losses("momentum-half", "--optimizer momentum --lr 0.5 --momentum 0.5").back());
}

// --data FILE,FILE (plain text files, WikiText/PTB style) with --heldout FILE.
TEST(TrainEndToEnd, TrainsOnPlainTextFiles) {
  const std::string tr = kData + "/training-monolingual.tokenized.shuffled/news.en-0000";
  const std::string held =
      kData + "/heldout-monolingual.tokenized.shuffled/news.en.heldout-00000-of-00050";
  CliResult r = run_cli("train --preset tiny --threads 2 --steps 3 --eval-tokens 500 --data " + tr +
                        "1-of-00100," + tr + "2-of-00100 --heldout " + held);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("2 training shard(s)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("held-out: " + held), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("held-out at step 3"), std::string::npos) << r.err;
}

// eval's defaults (batch and BPTT 0) evaluate as train's final held-out evaluation did, so the
// two report the same perplexity for the same checkpoint and shard.
TEST(TrainEndToEnd, EvalReproducesTrainsHeldoutPerplexity) {
  const std::string d = temp_dir("evalsame");
  CliResult r = run_cli("train " + kTiny + " --steps 4 --checkpoint " + d + "/ck --summary-json " +
                        d + "/s.json");
  ASSERT_EQ(r.code, 0) << r.err;
  r = run_cli("eval --threads 2 --max-tokens 3000 --data " + kData + " --checkpoint " + d +
              "/ck --json " + d + "/e.json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto train = nlohmann::json::parse(read_text(d + "/s.json"));
  const auto eval = nlohmann::json::parse(read_text(d + "/e.json"));
  EXPECT_EQ(eval["tokens"], train["heldout_tokens"]);
  EXPECT_DOUBLE_EQ(eval["perplexity"].get<double>(), train["heldout_perplexity"].get<double>());
  EXPECT_GT(eval["unk_tokens"].get<int64_t>(), 0);  // words under min-count 3 are <UNK>
  EXPECT_LT(eval["unk_tokens"].get<int64_t>(), eval["tokens"].get<int64_t>() / 5);
  EXPECT_EQ(r.err.find("warning"), std::string::npos) << r.err;
  // Text the vocabulary does not cover: counted and warned about, not passed off as a good model.
  std::ofstream(d + "/foreign.txt") << "zzq yyq xxq wwq\nqqz rrz ssz\n";
  r = run_cli("eval --threads 2 --shard " + d + "/foreign.txt --checkpoint " + d + "/ck");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("unk_tokens 7"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("warning: 77.8 % of the held-out tokens are <UNK>"), std::string::npos)
      << r.err;
}

// Resuming with another run length under a decaying schedule says that the schedule changed (the
// continuation cannot be bitwise the uninterrupted run); with the same length it says nothing.
TEST(TrainEndToEnd, ResumeNotesAChangedScheduleLength) {
  const std::string d = temp_dir("schedlen"),
                    run = "train " + kTiny + " --heldout none --schedule linear";
  ASSERT_EQ(run_cli(run + " --steps 4 --checkpoint " + d + "/ck").code, 0);
  CliResult r = run_cli(run + " --steps 8 --checkpoint " + d + "/ck --resume");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("schedule now decays over this run's length"), std::string::npos) << r.err;
  // A killed run's unfinished checkpoint write (pid 2^22 + 1 is above Linux's pid_max limit, so
  // never a running process) is removed with a note.
  const std::string stale = d + "/ck/checkpoint.safetensors.tmp.4194305";
  std::ofstream(stale) << std::string(2048, 'x');
  r = run_cli(run + " --steps 8 --checkpoint " + d + "/ck --resume");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err.find("schedule now decays"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("note: removed unfinished checkpoint writes (2.00 KiB)"), std::string::npos)
      << r.err;
  EXPECT_FALSE(std::filesystem::exists(stale));
}

// RMSprop's decay defaults to 0.99, not Adam's 0.999 (with which its first steps are ~32x lr per
// element and the tiny preset diverged to perplexity 10^15); an explicit --beta2 still wins.
TEST(TrainEndToEnd, RmspropTrainsAtItsDefaults) {
  const std::string d = temp_dir("rmsprop");
  CliResult r =
      run_cli("train " + kTiny + " --optimizer rmsprop --steps 40 --summary-json " + d + "/s.json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto s = nlohmann::json::parse(read_text(d + "/s.json"));
  EXPECT_FLOAT_EQ(s["config"]["beta2"].get<float>(), 0.99f);
  EXPECT_LT(s["heldout_perplexity"].get<double>(), 1500.0);  // uniform over the vocabulary: 8,453
  r = run_cli("train " + kTiny + " --optimizer rmsprop --beta2 0.999 --steps 1 --summary-json " +
              d + "/s2.json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_FLOAT_EQ(nlohmann::json::parse(read_text(d + "/s2.json"))["config"]["beta2"].get<float>(),
                  0.999f);
}

// Without --lr, the rules whose steps do not scale like Adam's take their own rate, with a note
// (sgd at the presets' 0.004 did not move, rmsprop diverged); an explicit --lr always wins, and
// Adam keeps the preset's.
TEST(TrainEndToEnd, RulesWithoutLrTakeTheirOwnRate) {
  const std::string d = temp_dir("rule_lr");
  for (const auto& [opt, want] :
       {std::pair<std::string, float>{"sgd", 1.0f}, {"momentum", 0.1f}, {"rmsprop", 1e-3f}}) {
    CliResult r = run_cli("train --preset small --data " + kData + " --threads 1 --optimizer " +
                          opt + " --steps 1 --heldout none --summary-json " + d + "/s.json");
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_FLOAT_EQ(nlohmann::json::parse(read_text(d + "/s.json"))["config"]["lr"].get<float>(),
                    want)
        << opt;
    EXPECT_NE(r.err.find("note: --lr not given: " + opt + " uses"), std::string::npos) << r.err;
    r = run_cli("train --preset small --data " + kData + " --threads 1 --optimizer " + opt +
                " --lr 0.004 --steps 1 --heldout none --summary-json " + d + "/s.json");
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_FLOAT_EQ(nlohmann::json::parse(read_text(d + "/s.json"))["config"]["lr"].get<float>(),
                    0.004f);
    EXPECT_EQ(r.err.find("note: --lr"), std::string::npos) << r.err;
  }
  CliResult a = run_cli("train --preset small --data " + kData +
                        " --threads 1 --steps 1 --heldout none --summary-json " + d + "/a.json");
  ASSERT_EQ(a.code, 0) << a.err;
  EXPECT_FLOAT_EQ(nlohmann::json::parse(read_text(d + "/a.json"))["config"]["lr"].get<float>(),
                  0.004f);
}

// A WikiText / PTB style folder (x.train.tokens, x.valid.tokens, x.test.tokens): train trains on
// the training file and evaluates on the validation file; eval reads the test file by default.
TEST(TrainEndToEnd, TrainsOnASplitNamedFolder) {
  const std::string d = temp_dir("splitfolder");
  const std::string corpus = std::string(SG_SOURCE_DIR) + "/" + kData;  // ctest's cwd is the build
  const std::string held =
      read_text(corpus + "/heldout-monolingual.tokenized.shuffled/news.en.heldout-00000-of-00050");
  const std::string train =
      read_text(corpus + "/training-monolingual.tokenized.shuffled/news.en-00001-of-00100");
  ASSERT_FALSE(held.empty() || train.empty());
  std::ofstream(d + "/wiki.train.tokens") << train;
  std::ofstream(d + "/wiki.valid.tokens") << held.substr(0, held.size() / 2);
  std::ofstream(d + "/wiki.test.tokens") << held.substr(held.size() / 2);
  std::ofstream(d + "/README") << "not text to train on\n";
  CliResult r = run_cli("train --preset tiny --threads 2 --steps 3 --eval-tokens 500 --data " + d +
                        " --checkpoint " + d + "/ck");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("1 training shard(s) (wiki.train.tokens)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("held-out: " + d + "/wiki.valid.tokens"), std::string::npos) << r.err;
  r = run_cli("eval --threads 2 --max-tokens 500 --data " + d + " --checkpoint " + d + "/ck");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("shard " + d + "/wiki.test.tokens"), std::string::npos) << r.out;
  EXPECT_EQ(r.err.find("has no test file"), std::string::npos) << r.err;
  // No test file: the validation file, and a note that says so.
  std::filesystem::remove(d + "/wiki.test.tokens");
  r = run_cli("eval --threads 2 --max-tokens 500 --data " + d + " --checkpoint " + d + "/ck");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("shard " + d + "/wiki.valid.tokens"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("note: " + d + " has no test file; evaluating its validation file"),
            std::string::npos)
      << r.err;
}

// The small preset's sampled:1024 on a vocabulary of fewer words: the full softmax is used with a
// note (also when resuming, where the checkpoint recorded "full"); an explicit --softmax
// sampled:S that does not fit is an error (tests/apps/cli_errors_test.cc).
TEST(TrainEndToEnd, SmallVocabularyUsesTheFullSoftmax) {
  const std::string d = temp_dir("smallvocab");
  {
    std::ofstream f(d + "/words.txt");
    for (int i = 0; i < 300; ++i) f << "a b c d e f g a b a\n";
  }
  const std::string run = "train --threads 2 --steps 4 --heldout none --min-count 1 --data " + d +
                          "/words.txt --checkpoint " + d + "/ck";
  CliResult r = run_cli(run);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("vocabulary (10 words) is not larger than the preset's sampled:1024"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("softmax full"), std::string::npos) << r.err;
  r = run_cli("train --threads 2 --steps 6 --heldout none --min-count 1 --data " + d +
              "/words.txt --checkpoint " + d + "/ck --resume");
  EXPECT_EQ(r.code, 0) << r.err;
}

// --keep-best: best.safetensors holds the parameters of the lowest held-out perplexity (its step is
// the argmin of the evaluations), eval reads it, and a resumed run keeps the best found before it:
// resuming at the last step re-evaluates the last parameters, which (with this seed) are worse than
// the best, so only the best restored from the checkpoint's metadata gives the right answer.
TEST(TrainEndToEnd, KeepBestWritesTheBestEvaluatedParameters) {
  const std::string d = temp_dir("best"), ck = d + "/ck";
  const std::string run =
      "train --preset tiny --threads 2 --seed 1 --data " + kData +
      " --eval-tokens 2000 --lr 0.05 --eval-every 10 --steps 40 --keep-best --checkpoint " + ck +
      " --summary-json " + d + "/s.json --log " + d + "/log.jsonl";
  CliResult r = run_cli(run);
  ASSERT_EQ(r.code, 0) << r.err;
  auto evals = read_jsonl(d + "/log.jsonl", "eval");
  ASSERT_EQ(evals.size(), 4u);
  // The three evaluations between steps (and the best checkpoints) are timed apart from training:
  // words/s counts training steps only.
  const auto first = nlohmann::json::parse(read_text(d + "/s.json"));
  double eval_s = 0;
  for (size_t i = 0; i + 1 < evals.size(); ++i) eval_s += evals[i]["seconds"].get<double>();
  EXPECT_GE(first["eval_and_checkpoint_seconds"].get<double>(), eval_s);
  EXPECT_LT(first["eval_and_checkpoint_seconds"].get<double>(),
            first["train_seconds"].get<double>());
  double best = 1e300;
  int64_t best_step = -1;
  for (const auto& e : evals)
    if (e["perplexity"].get<double>() < best) best = e["perplexity"], best_step = e["step"];
  StFile f = read_safetensors(ck + "/best.safetensors", /*with_data=*/false);
  EXPECT_EQ(f.metadata.at("step"), std::to_string(best_step));
  EXPECT_EQ(f.metadata.at("best_step"), std::to_string(best_step));
  EXPECT_FALSE(f.tensors.count("optim/embedding/W/m"));  // parameters only
  CliResult e = run_cli("eval --checkpoint " + ck + "/best.safetensors --data " + kData +
                        " --max-tokens 2000");
  EXPECT_EQ(e.code, 0) << e.err;
  EXPECT_NE(best_step, 40) << "the last evaluation is the best: the resume below proves nothing";
  r = run_cli(run + " --resume");  // no steps left: only the final evaluation, of step 40 again
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(read_jsonl(d + "/log.jsonl", "start").size(), 2u) << "--log appends, run by run";
  auto s = nlohmann::json::parse(read_text(d + "/s.json"));
  EXPECT_EQ(s["best_step"].get<int64_t>(), best_step);
  EXPECT_EQ(s["best_heldout_perplexity"].get<double>(), best);
}

// A run that diverges stops with one line and exit code 1; the step losses are read once per
// progress window, so the check names the window, and no checkpoint is written after the first step
// of the window that went non-finite.
TEST(TrainEndToEnd, DivergenceStopsWithoutCheckpointingIt) {
  const std::string d = temp_dir("diverge");
  CliResult r = run_cli("train " + kTiny +
                        " --heldout none --optimizer sgd --lr 99 --clip 0 --steps 40 "
                        "--progress-every 10 --checkpoint-every 3 --checkpoint " +
                        d + "/ck --log " + d + "/log.jsonl --summary-json " + d + "/s.json");
  EXPECT_EQ(r.code, 1) << r.err;
  const auto summary = nlohmann::json::parse(read_text(d + "/s.json"));  // for a sweep's script
  EXPECT_TRUE(summary.contains("diverged")) << summary.dump();
  EXPECT_FALSE(summary.contains("heldout_perplexity")) << summary.dump();
  EXPECT_NE(r.err.find("training diverged "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("the last checkpoint, from before it, is kept"), std::string::npos) << r.err;
  auto div = read_jsonl(d + "/log.jsonl", "diverged");
  ASSERT_EQ(div.size(), 1u);
  const int64_t first = div[0]["first_step"];
  EXPECT_LE(first, div[0]["step"].get<int64_t>());
  auto saved = read_jsonl(d + "/log.jsonl", "checkpoint");
  ASSERT_FALSE(saved.empty()) << "diverged before the first checkpoint: raise --lr less";
  for (const auto& c : saved) EXPECT_LT(c["step"].get<int64_t>(), first) << c.dump();
}

// Diverging before the first checkpoint: the line must not claim a checkpoint is kept.
TEST(TrainEndToEnd, DivergenceBeforeAnyCheckpointSaysSo) {
  const std::string d = temp_dir("diverge0");
  CliResult r = run_cli("train " + kTiny +
                        " --heldout none --optimizer sgd --lr 99 --clip 0 --steps 40 "
                        "--progress-every 10 --checkpoint " +
                        d + "/ck");
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("no checkpoint was written before it"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("is kept"), std::string::npos) << r.err;
  EXPECT_FALSE(file_exists(d + "/ck/checkpoint.safetensors"));
}

// A resumed run's closing line and summary name the steps this process trained; one resumed at its
// last step says there was nothing to train instead of reporting 0 words/s.
TEST(TrainEndToEnd, ResumedRunReportsItsOwnSteps) {
  const std::string d = temp_dir("resumed"), ck = d + "/ck";
  const std::string run = "train " + kTiny + " --heldout none --checkpoint " + ck;
  ASSERT_EQ(run_cli(run + " --steps 4").code, 0);
  CliResult b = run_cli(run + " --steps 6 --resume --summary-json " + d + "/b.json");
  ASSERT_EQ(b.code, 0) << b.err;
  EXPECT_NE(b.err.find("done: steps 5-6 (2 this run) in "), std::string::npos) << b.err;
  auto sb = nlohmann::json::parse(read_text(d + "/b.json"));
  EXPECT_EQ(sb["first_step"], 4);
  EXPECT_EQ(sb["steps"], 6);
  EXPECT_GT(sb["words_per_s"].get<double>(), 0);
  CliResult c = run_cli(run + " --steps 6 --resume --summary-json " + d + "/c.json");
  ASSERT_EQ(c.code, 0) << c.err;
  EXPECT_NE(c.err.find("done: nothing to train, the checkpoint is at step 6 of 6"),
            std::string::npos)
      << c.err;
  EXPECT_EQ(c.err.find("words/s"), std::string::npos) << c.err;
  auto sc = nlohmann::json::parse(read_text(d + "/c.json"));
  EXPECT_EQ(sc["first_step"], 6);
  EXPECT_TRUE(sc["words_per_s"].is_null()) << sc.dump();
}

// Ctrl-C during the set-up (here: counting a vocabulary of ~90 MB on one thread, about a second):
// exit 130 with one line saying nothing was written, and the checkpoint folder the run created
// (with its lock file) is gone again.
TEST(TrainEndToEnd, SignalDuringSetupLeavesNothingBehind) {
  const std::string d = temp_dir("sigsetup"), ck = d + "/ck";
  const std::string text =
      read_text(std::string(SG_SOURCE_DIR) + "/" + kData +
                "/training-monolingual.tokenized.shuffled/news.en-00001-of-00100");
  ASSERT_GT(text.size(), 100000u);
  std::string files;
  for (int k = 0; k < 60; ++k) {
    const std::string f = d + "/part" + std::to_string(k) + ".txt";
    std::ofstream out(f);
    while (out.tellp() < 1500000) out << text;
    files += (k ? "," : "") + f;
  }
  const pid_t pid = start_cli(
      "train --preset tiny --threads 1 --heldout none --steps 100000 "
      "--data " +
          files + " --checkpoint " + ck,
      d);
  ASSERT_GT(pid, 0);
  // The lock exists once the folder is set up, before the vocabulary count: signal then.
  for (int i = 0; i < 60000 && !file_exists(ck + "/.sketchgrad.lock"); ++i) usleep(1000);
  kill(pid, SIGINT);
  EXPECT_EQ(wait_cli(pid), 130);
  const std::string err = read_text(d + "/stderr");
  EXPECT_NE(err.find("stopped by signal 2 before training started: nothing written"),
            std::string::npos)
      << err;
  EXPECT_EQ(err.find("error"), std::string::npos) << err;
  EXPECT_FALSE(file_exists(ck)) << "the run's own empty checkpoint folder is left";
  for (int k = 0; k < 60; ++k) std::filesystem::remove(d + "/part" + std::to_string(k) + ".txt");
}

// Ctrl-C (SIGINT) during training: the step finishes, the checkpoint is written, exit code 130,
// and the run resumes from that step.
TEST(TrainEndToEnd, SignalWritesACheckpointThatResumes) {
  const std::string d = temp_dir("sigint"), ck = d + "/ck";
  EXPECT_EQ(
      signal_after("train " + kTiny +
                       " --heldout none --steps 1000000 --progress-every 1 --checkpoint " + ck,
                   d, "step 5/", SIGINT),
      130);
  const std::string err = read_text(d + "/stderr");
  const size_t at = err.find("stopped by signal 2 at step ");
  ASSERT_NE(at, std::string::npos) << err;
  const long long step = std::atoll(err.c_str() + at + 28);
  ASSERT_GE(step, 5) << err;
  ASSERT_TRUE(file_exists(ck + "/checkpoint.safetensors"));
  CliResult r = run_cli("train " + kTiny + " --heldout none --steps " + std::to_string(step + 2) +
                        " --checkpoint " + ck + " --resume");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("at step " + std::to_string(step)), std::string::npos) << r.err;
}

// SIGTERM (a job scheduler's stop) does the same and exits with the conventional 128 + 15; the
// summary JSON is still written, marked as stopped.
TEST(TrainEndToEnd, SigtermWritesACheckpointAndExits143) {
  const std::string d = temp_dir("sigterm"), ck = d + "/ck";
  EXPECT_EQ(signal_after("train " + kTiny + " --steps 1000000 --progress-every 1 --checkpoint " +
                             ck + " --summary-json " + d + "/s.json",
                         d, "step 3/", SIGTERM),
            143);
  const std::string err = read_text(d + "/stderr");
  EXPECT_NE(err.find("stopped by signal 15"), std::string::npos) << err;
  EXPECT_EQ(err.find("held-out at step"), std::string::npos) << err;  // no final evaluation
  EXPECT_TRUE(file_exists(ck + "/checkpoint.safetensors"));
  // The summary is written for an interrupted run too, and says so.
  const auto summary = nlohmann::json::parse(read_text(d + "/s.json"));
  EXPECT_EQ(summary["stopped_by_signal"], 15);
  EXPECT_GE(summary["steps"].get<int64_t>(), 3);
  EXPECT_FALSE(summary.contains("heldout_perplexity"));
}

// Ctrl-C during a held-out evaluation (which can take minutes) stops it at its next batch instead
// of finishing it; then the checkpoint is written as above.
TEST(TrainEndToEnd, SignalStopsAHeldoutEvaluation) {
  const std::string d = temp_dir("sigeval"), ck = d + "/ck", held = d + "/held.txt";
  {
    std::ofstream f(held);
    for (int k = 1; k <= 4; ++k)  // ~520k tokens: seconds of full-softmax evaluation
      f << read_text(std::string(SG_SOURCE_DIR) + "/" + kData +
                     "/training-monolingual.tokenized.shuffled/news.en-0000" + std::to_string(k) +
                     "-of-00100");
  }
  ASSERT_GT(read_text(held).size(), 2000000u);
  // " tokens, " is the evaluation's progress line, shown after 2 s of it.
  EXPECT_EQ(signal_after("train --preset small --threads 2 --data " + kData + " --heldout " + held +
                             " --steps 3 --eval-every 1 --checkpoint " + ck,
                         d, " tokens, ", SIGINT),
            130);
  const std::string err = read_text(d + "/stderr");
  EXPECT_NE(err.find("held-out evaluation at step 1 stopped by signal 2 after"), std::string::npos)
      << err;
  EXPECT_EQ(err.find("stopped by signal 2 after 0 of"), std::string::npos) << err;
  EXPECT_NE(err.find("stopped by signal 2 at step 1"), std::string::npos) << err;
  EXPECT_EQ(err.find("held-out at step 1: perplexity"), std::string::npos) << err;
  EXPECT_TRUE(file_exists(ck + "/checkpoint.safetensors"));
}

// Checkpoints by wall time (default every 10 minutes): a tiny interval writes one after every
// step, the default only the final one in a short run; either way the file is complete.
TEST(TrainEndToEnd, TimedCheckpoints) {
  std::string d = temp_dir("timed");
  for (const std::string minutes : {"0.000001", ""}) {
    const std::string tag = minutes.empty() ? "default" : "often";
    CliResult r = run_cli("train " + kTiny + " --steps 6 --heldout none --checkpoint " + d + "/" +
                          tag + " --log " + d + "/" + tag + ".jsonl" +
                          (minutes.empty() ? "" : " --checkpoint-minutes " + minutes));
    ASSERT_EQ(r.code, 0) << r.err;
    const auto saves = read_jsonl(d + "/" + tag + ".jsonl", "checkpoint");
    ASSERT_EQ(saves.size(), minutes.empty() ? 1u : 6u) << tag;
    EXPECT_EQ(saves.back()["step"].get<int64_t>(), 6);
    EXPECT_EQ(read_safetensors(d + "/" + tag + "/checkpoint.safetensors").metadata.at("step"), "6");
  }
}

TEST(TrainEndToEnd, HeldoutNoneSkipsEvaluation) {
  std::string d = temp_dir("noheld");
  CliResult r =
      run_cli("train " + kTiny + " --steps 3 --heldout none --summary-json " + d + "/s.json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("held-out: none (--heldout none), no held-out evaluation"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("held-out at step"), std::string::npos) << r.err;
  auto s = nlohmann::json::parse(read_text(d + "/s.json"));
  EXPECT_FALSE(s.contains("heldout_perplexity"));
  EXPECT_EQ(s["steps"].get<int64_t>(), 3);
  // No evaluation graph is built or allocated, and the plan still covers every byte.
  EXPECT_EQ(s["planned_eval_bytes"].get<int64_t>(), 0);
  EXPECT_EQ(s["planned_bytes"].get<int64_t>(), s["planned_train_bytes"].get<int64_t>());
  EXPECT_EQ(s["measured_peak_bytes"].get<int64_t>(), s["planned_bytes"].get<int64_t>());
}

// Literal <S> / </S> tokens in the user's text are <UNK>, with one note per text saying how many:
// eval of "<S> <S> <S>" used to predict three <S> targets (perplexity 13,146 and a "model is
// broken" warning), and the vocabulary left them out of its counts.
TEST(TrainEndToEnd, LiteralSentenceMarkersAreReadAsUnk) {
  const std::string d = temp_dir("markers");
  const std::string corpus = std::string(SG_SOURCE_DIR) + "/" + kData;
  std::ofstream(d + "/train.txt")
      << read_text(corpus + "/training-monolingual.tokenized.shuffled/news.en-00001-of-00100")
      << "the <S> Congress </S>\n";
  std::ofstream(d + "/held.txt") << "the Congress </S>\nthe <S> people\n";
  std::ofstream(d + "/marks.txt") << "<S> <S> <S>\n";
  CliResult r =
      run_cli("train --preset tiny --threads 2 --steps 2 --data " + d + "/train.txt --heldout " +
              d + "/held.txt --eval-every 1 --checkpoint " + d + "/ck");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string note = "note: 2 literal <S> / </S> tokens in the training text read as <UNK>";
  EXPECT_NE(r.err.find(note), std::string::npos) << r.err;
  const std::string held_note = "note: 2 literal <S> / </S> tokens in " + d + "/held.txt";
  ASSERT_NE(r.err.find(held_note), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find(held_note), r.err.rfind(held_note))
      << "noted at every evaluation: " << r.err;
  r = run_cli("vocab --data " + d + "/train.txt --out " + d + "/v.txt");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find(note), std::string::npos) << r.err;
  r = run_cli("eval --threads 2 --checkpoint " + d + "/ck --shard " + d + "/marks.txt");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("tokens 4\nunk_tokens 3\n"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("note: 3 literal <S> / </S> tokens in " + d + "/marks.txt read as <UNK>"),
            std::string::npos)
      << r.err;
}

// A --vocab file not sorted by descending count gets a note under the sampled softmax (its line
// order sets the ids, which the log-uniform sampler takes as frequency ranks); the ids are kept.
TEST(TrainEndToEnd, UnsortedVocabularyFileIsNotedUnderTheSampledSoftmax) {
  const std::string d = temp_dir("vocaborder");
  ASSERT_EQ(run_cli("vocab --data " + kData + " --out " + d + "/v.txt").code, 0);
  std::istringstream in(read_text(d + "/v.txt"));
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_GT(lines.size(), 200u);
  std::sort(lines.begin() + 3, lines.end());  // the specials first, then alphabetical
  {
    std::ofstream out(d + "/alpha.txt");
    for (const auto& l : lines) out << l << "\n";
  }
  const std::string run = "train " + kTiny + " --steps 1 --heldout none --softmax ";
  CliResult r = run_cli(run + "sampled:100 --vocab " + d + "/alpha.txt");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("note: the vocabulary --vocab " + d +
                       "/alpha.txt is not sorted by descending count"),
            std::string::npos)
      << r.err;
  for (const std::string& ok :
       {"sampled:100 --vocab " + d + "/v.txt", "full --vocab " + d + "/alpha.txt"}) {
    r = run_cli(run + ok);
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.err.find("not sorted by descending count"), std::string::npos) << ok << r.err;
  }
}

TEST(TrainEndToEnd, PlanPredictsTrainsMemoryExactly) {
  // `plan` with train's model flags (no data read beyond the vocabulary, nothing allocated) gives
  // the bytes train plans and measures, at 1 and 2 threads (the CPU products' packing scratch is
  // one slot per thread) and with or without the held-out graph.
  std::string d = temp_dir("plan_eq");
  for (const std::string threads : {"1", "2"})
    for (const std::string held : {"", " --heldout none"}) {
      const std::string flags = kTiny + " --threads " + threads + held;
      CliResult r = run_cli("train " + flags + " --steps 2 --summary-json " + d + "/s.json");
      ASSERT_EQ(r.code, 0) << r.err;
      auto s = nlohmann::json::parse(read_text(d + "/s.json"));
      CliResult p = run_cli("plan --preset tiny --data " + kData + " --threads " + threads + held +
                            " --json");
      ASSERT_EQ(p.code, 0) << p.err;
      auto j = nlohmann::json::parse(p.out);
      EXPECT_EQ(s["measured_peak_bytes"].get<int64_t>(), s["planned_bytes"].get<int64_t>());
      EXPECT_EQ(j["plan"]["train_total_bytes"].get<int64_t>(),
                s["planned_train_bytes"].get<int64_t>())
          << "threads " << threads << held;
      // plan --heldout none plans no evaluation graph, as train does.
      EXPECT_EQ(j["plan"]["total_bytes"].get<int64_t>(), s["planned_bytes"].get<int64_t>())
          << "threads " << threads << held;
      EXPECT_EQ(j["plan"]["eval_total_bytes"].get<int64_t>() == 0, !held.empty());
    }
}

TEST(TrainEndToEnd, PlanJsonComparesDenseAndSketched) {
  CliResult r = run_cli("plan --preset paper-lm1b --optimizer adam --compare --json");
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  double dense = j["plan"]["total_bytes"], sketched = j["compare"]["total_bytes"];
  EXPECT_LT(sketched, dense);
  EXPECT_EQ(j["vocab"].get<int64_t>(), 793471);
}

// Any policies side by side: the optimizer state shrinks from dense to cs-mv (m and v at 1/5) to
// cs-v-nom (v only), everything else is the same; the text table has one ratio column per policy.
// plan takes train's flags, warm-up-plus-decay schedules included (it has no --steps; the schedule
// does not change memory).
TEST(TrainEndToEnd, PlanTakesEverySchedule) {
  for (const char* sched : {"warmup:5+linear", "warmup:100+cosine", "linear", "warmup:7"}) {
    CliResult r = run_cli(std::string("plan --preset tiny --vocab-size 100 --schedule ") + sched);
    EXPECT_EQ(r.code, 0) << sched << ": " << r.err;
  }
}

TEST(TrainEndToEnd, PlanComparesListedStates) {
  const std::string flags = "plan --preset paper-lm1b --compare-states dense cs-mv cs-v-nom";
  CliResult r = run_cli(flags + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  auto states = nlohmann::json::parse(r.out)["states"];
  ASSERT_EQ(states.size(), 3u);
  std::vector<double> opt_state, other;
  for (const auto& st : states) {
    const auto& cat = st["by_category"];
    const double o = cat.value("opt_state_dense", 0.0) + cat.value("opt_state_sketch", 0.0);
    opt_state.push_back(o);
    other.push_back(st["train_total_bytes"].get<double>() - o);
  }
  EXPECT_EQ(states[1]["state"], "cs-mv");
  EXPECT_GT(opt_state[0], opt_state[1]);
  EXPECT_GT(opt_state[1], opt_state[2]);
  EXPECT_EQ(other[0], other[1]);
  EXPECT_EQ(other[1], other[2]);
  r = run_cli(flags);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("cs-v-nom   ratio"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace sg::testing
