// Bad input through the real command line: each case must give one clear line on stderr and a
// non-zero exit, never a crash, and must not leave a partial checkpoint or overwrite anything.
#include <dirent.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "cli_util.h"
#include "engine/backend.h"

namespace sg::testing {
namespace {

const char* kTiny = "train --preset tiny --steps 3 --threads 1 --progress-every 1";

TEST(CliErrors, UnknownFlag) {
  CliResult r = run_cli("train --no-such-flag 3");
  expect_one_line_error(r, "no-such-flag");
  EXPECT_EQ(r.code, 2);
  CliResult typo = run_cli("trian --data data/sotu");
  expect_one_line_error(typo, "unknown command 'trian': expected train, eval");
  EXPECT_EQ(typo.code, 2);
}

TEST(CliErrors, OutOfRangeValues) {
  std::string d = make_corpus("range");
  // (flags, expected part of the one error line)
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--batch 0", "--batch"},
      {"--dropout 1.5", "--dropout"},
      {"--softmax sampled:x", "--softmax"},
      {"--optimizer adamax", "adamax"},
      {"--state cs-mv:0x", "cs-mv:0x"},
      {"--beta1 1", "--beta1"},
      {"--beta2 -0.1", "--beta2"},
      {"--eps 0", "--eps"},
      {"--weight-decay -1", "--weight-decay"},
      {"--sparsify 2", "--sparsify"},
      {"--checkpoint-minutes -1", "--checkpoint-minutes"},
      {"--tf32", "--tf32 needs --device cuda"},
      {"--state dense+bf16", "use 'bf16' for every moment"},
      {"--state emb/W=v:bf16:5x", "option '5x' on a bf16 store"},
      {"--optimizer sm3-momentum --momentum 1", "momentum"},
      {"--epochs 0", "--epochs must be > 0, got 0 (leave it out for one epoch)"},
      {"--epochs -0.5", "--epochs must be > 0"},
      {"--epochs inf", "--epochs"},
      {"--epochs 1e30", "--epochs"},
      {"--steps 99999999999999999999", "--steps"},
      {"--steps 5 --epochs 2", "not both"},
      {"--clip inf", "finite"},
      {"--steps ''", "--steps needs a value"},
      {"--checkpoint=", "--checkpoint needs a value"},
      {"--heldout ''", "--heldout needs a value"},
      {"--seed -1", "--seed: must be an integer in [0, 2^64)"},
      {"--seed 18446744073709551616", "--seed: must be an integer in [0, 2^64)"},
      {"--warmup-steps -1", "--warmup-steps must be >= 0"},
  };
  for (const auto& [flags, needle] : cases)
    expect_one_line_error(run_cli(std::string(kTiny) + " --data " + d + " " + flags), needle);
}

// Refused as the flags are parsed (exit 2), before the checkpoint is read; a NaN too, which
// CLI::Range's comparisons let through.
TEST(CliErrors, GenerateSamplingOptionsOutOfRange) {
  for (const char* flags :
       {"--top-p 0", "--top-p 1.5", "--temperature 0", "--top-k -1", "--temperature nan",
        "--temperature -nan", "--temperature NaN", "--temperature inf", "--top-p nan"}) {
    CliResult r = run_cli(std::string("generate --checkpoint /nonexistent ") + flags);
    expect_one_line_error(r, std::string(flags).substr(0, std::string(flags).find(' ')));
    EXPECT_EQ(r.code, 2) << flags << ": " << r.err;
  }
}

TEST(CliErrors, MissingAndEmptyDataFolder) {
  expect_one_line_error(run_cli(std::string(kTiny) + " --data /nonexistent/corpus"),
                        "/nonexistent/corpus");
  std::string empty = temp_dir("empty");
  expect_one_line_error(run_cli(std::string(kTiny) + " --data " + empty), empty);
  expect_one_line_error(run_cli("train --preset tiny --steps 1"), "--data");
  // Text files instead of a folder: a missing file, a missing held-out file, an empty held-out
  // folder, and eval on text files without --shard.
  std::string d = make_corpus("textfiles");
  const std::string tr = d + "/training-monolingual.tokenized.shuffled/news.en-00001-of-00100";
  expect_one_line_error(run_cli(std::string(kTiny) + " --data " + tr + "," + d + "/nope.txt"),
                        "training file " + d + "/nope.txt does not exist");
  expect_one_line_error(
      run_cli(std::string(kTiny) + " --data " + tr + " --heldout " + d + "/nope.txt"),
      "held-out shard " + d + "/nope.txt does not exist");
  std::string held_empty = temp_dir("heldempty");
  mkdir((held_empty + "/training-monolingual.tokenized.shuffled").c_str(), 0755);
  mkdir((held_empty + "/heldout-monolingual.tokenized.shuffled").c_str(), 0755);
  std::ofstream(held_empty + "/training-monolingual.tokenized.shuffled/news.en-00001-of-00100")
      << "a b c\n";
  expect_one_line_error(run_cli(std::string(kTiny) + " --data " + held_empty),
                        "remove the empty folder");
  expect_one_line_error(run_cli("eval --checkpoint " + d + " --data " + tr), "names text files");
  // Compressed text, as training data, as --heldout, and as eval --shard.
  std::ofstream(d + "/held.gz") << std::string("\x1f\x8b\x08\0", 4) << "xyz";
  expect_one_line_error(run_cli(std::string(kTiny) + " --data " + d + "/held.gz"),
                        "held.gz is gzip-compressed");
  expect_one_line_error(
      run_cli(std::string(kTiny) + " --data " + tr + " --heldout " + d + "/held.gz"),
      "held.gz is gzip-compressed");
  expect_one_line_error(run_cli("eval --checkpoint " + d + " --shard " + d + "/held.gz"),
                        "held.gz is gzip-compressed");
}

// vocab used to exit 0 on an LM1B folder with a dangling shard link, counting the other shards.
TEST(CliErrors, BrokenShardLink) {
  std::string d = make_corpus("dlink");
  const std::string link = d + "/training-monolingual.tokenized.shuffled/news.en-00002-of-00100";
  std::filesystem::create_symlink(d + "/gone", link);
  expect_one_line_error(run_cli("vocab --data " + d + " --out " + d + "/v.txt"),
                        "training shard " + link + " is a symlink to a missing file");
  expect_one_line_error(run_cli(std::string(kTiny) + " --data " + d), link);
  EXPECT_FALSE(file_exists(d + "/v.txt"));
}

// A gzipped LM1B held-out shard says "decompress it first" (it used to say the folder matched
// nothing); the .gz gunzip -k leaves beside a split file is ignored with a note.
TEST(CliErrors, CompressedHeldoutShardAndDecompressedCopies) {
  std::string d = make_corpus("gzheld");
  const std::string held =
      d + "/heldout-monolingual.tokenized.shuffled/news.en.heldout-00000-of-00050";
  ASSERT_EQ(std::rename(held.c_str(), (held + ".gz").c_str()), 0);
  std::ofstream(held + ".gz") << std::string("\x1f\x8b\x08\0", 4) << "xyz";
  expect_one_line_error(run_cli(std::string(kTiny) + " --data " + d),
                        held +
                            ".gz is gzip-compressed; sketchgrad reads plain UTF-8 text: "
                            "decompress it first");
  const std::string ptb = temp_dir("gztwin");
  std::ofstream(ptb + "/ptb.train.txt") << "a b c\n";
  std::ofstream(ptb + "/ptb.train.txt.gz") << std::string("\x1f\x8b\x08\0", 4) << "xyz";
  CliResult r = run_cli("vocab --min-count 1 --data " + ptb + " --out " + ptb + "/v.txt");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("note: ignoring " + ptb + "/ptb.train.txt.gz: its decompressed copy " + ptb +
                       "/ptb.train.txt is beside it"),
            std::string::npos)
      << r.err;
}

// A held-out file of blank lines is refused before any work, like a 0-byte one: train used to fail
// at the first evaluation ("holds no sentences [batcher.cc]") or after the last checkpoint, losing
// the summary; plan --heldout did not look at the file at all.
TEST(CliErrors, BlankHeldoutFileIsRefusedUpFront) {
  std::string d = make_corpus("blankheld");
  std::ofstream(d + "/blank.txt") << "\n   \n\t\n";
  std::ofstream(d + "/empty.txt");
  const std::string want = "held-out shard " + d + "/blank.txt holds no sentences";
  CliResult r = run_cli(std::string(kTiny) + " --data " + d + " --heldout " + d +
                        "/blank.txt --eval-every 1 --checkpoint " + d + "/ck --summary-json " + d +
                        "/s.json");
  expect_one_line_error(r, want);
  EXPECT_FALSE(file_exists(d + "/ck")) << "created before the check";
  EXPECT_FALSE(file_exists(d + "/s.json"));
  expect_one_line_error(
      run_cli("plan --preset tiny --data " + d + " --heldout " + d + "/blank.txt"), want);
  expect_one_line_error(
      run_cli("plan --preset tiny --data " + d + " --heldout " + d + "/empty.txt"),
      "held-out shard " + d + "/empty.txt is empty");
  expect_one_line_error(run_cli("eval --checkpoint " + d + "/ck --shard " + d + "/blank.txt"),
                        d + "/blank.txt holds no sentences");
  // The corpus's own held-out shard, and a split folder's validation file.
  std::ofstream(d + "/heldout-monolingual.tokenized.shuffled/news.en.heldout-00000-of-00050")
      << "\n\n";
  expect_one_line_error(run_cli(std::string(kTiny) + " --data " + d), "holds no sentences");
  const std::string wt = temp_dir("blankvalid");
  std::ofstream(wt + "/wiki.train.tokens") << "a b c\n";
  std::ofstream(wt + "/wiki.valid.tokens") << " \n";
  expect_one_line_error(run_cli(std::string(kTiny) + " --data " + wt),
                        "validation file " + wt + "/wiki.valid.tokens holds no sentences");
}

// Training files that hold no sentence, 0 bytes or blank lines alike, are skipped with a note
// naming them (a 0-byte one used to stop the run, a blank one was taken silently); only when no
// training file holds a sentence is it an error.
TEST(CliErrors, TrainingFilesWithoutSentencesAreSkipped) {
  std::string d = make_corpus("blanktrain");
  const std::string tr = d + "/training-monolingual.tokenized.shuffled/news.en-00001-of-00100";
  std::ofstream(d + "/empty.txt");
  std::ofstream(d + "/blank.txt") << "\n  \n";
  CliResult r = run_cli(std::string(kTiny) + " --heldout none --data " + tr + "," + d +
                        "/empty.txt," + d + "/blank.txt");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("note: skipping 2 training files that hold no sentences (empty or blank "
                       "lines only): " +
                       d + "/empty.txt, " + d + "/blank.txt"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("1 training shard(s)"), std::string::npos) << r.err;
  expect_one_line_error(run_cli(std::string(kTiny) + " --data " + d + "/empty.txt," + d +
                                "/blank.txt --checkpoint " + d + "/ck"),
                        "no training file holds a sentence (all are empty or blank lines only: " +
                            d + "/empty.txt, " + d + "/blank.txt)");
  EXPECT_FALSE(file_exists(d + "/ck"));
  expect_one_line_error(run_cli("vocab --data " + d + "/blank.txt --out " + d + "/v.txt"),
                        "no training file holds a sentence");
  EXPECT_FALSE(file_exists(d + "/v.txt"));
  // An empty LM1B training shard beside a good one: skipped with a note.
  std::ofstream(d + "/training-monolingual.tokenized.shuffled/news.en-00002-of-00100");
  r = run_cli(std::string(kTiny) + " --data " + d);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("note: skipping 1 training shard that holds no sentence"), std::string::npos)
      << r.err;
}

TEST(CliErrors, NonUtf8Shard) {
  std::string d = make_corpus("utf8");
  std::ofstream(d + "/training-monolingual.tokenized.shuffled/news.en-00002-of-00100")
      << "fine line\nbad \xff\xfe bytes\n";
  expect_one_line_error(run_cli(std::string(kTiny) + " --data " + d), "UTF-8");
}

TEST(CliErrors, SampledSoftmaxLargerThanTheVocabulary) {
  std::string d = make_corpus("sampled");  // 9 words with the specials
  expect_one_line_error(run_cli(std::string(kTiny) + " --data " + d + " --softmax sampled:50"),
                        "--softmax sampled:50 needs a vocabulary of more than 50 words");
  expect_one_line_error(run_cli("generate --checkpoint x --seed -5"), "--seed: must be an integer");
  expect_one_line_error(run_cli("plan --vocab-size 40 --softmax sampled:64"),
                        "use --softmax full or a smaller S");
}

// Every out-of-range --vocab-size, 0 (the "not given" default) included, gets the same line with
// the range in it, as synth's --vocab-size.
TEST(CliErrors, PlanVocabSizeOutOfRange) {
  for (const std::string v : {"0", "3", "-1", "2147483647"}) {
    CliResult r = run_cli("plan --vocab-size " + v);
    expect_one_line_error(r, "--vocab-size: Value " + v + " not in range 4 to 2147483646");
    EXPECT_EQ(r.code, 2) << v << ": " << r.err;
  }
}

// A --schedule's N is digits only: "warmup: 5" was read as 5, and a number past strtoll's range as
// its largest value. plan parses the schedule as train does.
TEST(CliErrors, MalformedSchedule) {
  for (const char* sched :
       {"'warmup: 5'", "'warmup:5 '", "warmup:+5", "warmup:5x", "warmup:-5", "warmup:", "warmup:0",
        "warmup:5+", "'warmup:5+ linear'", "linear+warmup:5", "warmup:1000000000000"}) {
    CliResult r = run_cli(std::string("plan --preset tiny --vocab-size 100 --schedule ") + sched);
    std::string text = sched;
    if (text[0] == '\'') text = text.substr(1, text.size() - 2);
    expect_one_line_error(r, "schedule '" + text + "'");
  }
  std::string d = make_corpus("schedule");
  expect_one_line_error(run_cli(std::string(kTiny) + " --data " + d + " --schedule 'warmup: 5'"),
                        "schedule 'warmup: 5'");
}

TEST(CliErrors, MinCountAboveEveryWord) {
  std::string d = make_corpus("mincount");  // the most frequent word ("the") occurs 800 times
  expect_one_line_error(run_cli(std::string(kTiny) + " --data " + d + " --min-count 1000"),
                        "lower --min-count");
  expect_one_line_error(run_cli("vocab --data " + d + " --out " + d + "/v.txt --min-count 1000"),
                        "occurs 800 times");
  EXPECT_TRUE(list_dir(d).size() == 2) << "vocab wrote a file despite the error";
}

TEST(CliErrors, BadVocabularyLine) {
  std::string d = make_corpus("vocab");
  std::ofstream(d + "/vocab.txt") << "the 10\ncat notanumber\n";
  expect_one_line_error(
      run_cli(std::string(kTiny) + " --data " + d + " --vocab " + d + "/vocab.txt"), "vocab.txt");
}

TEST(CliErrors, KeepBestNeedsACheckpointAndHeldoutData) {
  std::string d = make_corpus("keepbest");
  expect_one_line_error(run_cli(std::string(kTiny) + " --data " + d + " --keep-best"),
                        "--keep-best needs --checkpoint");
  expect_one_line_error(run_cli(std::string(kTiny) + " --data " + d +
                                " --keep-best --heldout none --checkpoint " + d + "/ck"),
                        "not --heldout none");
  EXPECT_EQ(list_dir(d).size(), 2u) << "a checkpoint folder was made despite the error";
}

TEST(CliErrors, BadCompareStates) {
  expect_one_line_error(run_cli("plan --preset paper-lm1b --compare-states"), "compare-states");
  expect_one_line_error(run_cli("plan --preset paper-lm1b --compare-states dense bogus"),
                        "unknown state policy 'bogus'");
}

TEST(CliErrors, BudgetThatCannotFit) {
  expect_one_line_error(run_cli("plan --preset paper-lm1b --budget 10MB"), "does not fit");
  expect_one_line_error(run_cli("plan --preset paper-lm1b --budget lots"), "lots");
}

TEST(CliErrors, CorruptAndTruncatedCheckpoint) {
  std::string d = make_corpus("ck");
  std::string ck = d + "/ck";
  CliResult ok = run_cli(std::string(kTiny) + " --data " + d + " --checkpoint " + ck);
  ASSERT_EQ(ok.code, 0) << ok.err;
  std::string file = ck + "/checkpoint.safetensors";
  std::string bytes = read_text(file);
  ASSERT_GT(bytes.size(), 100u);
  std::ofstream(d + "/trunc.safetensors", std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  expect_one_line_error(run_cli("eval --checkpoint " + d + "/trunc.safetensors --data " + d),
                        "trunc.safetensors");
  std::string garbage = bytes;
  for (size_t i = 8; i < 40; ++i) garbage[i] = '#';
  std::ofstream(d + "/garbage.safetensors", std::ios::binary) << garbage;
  expect_one_line_error(run_cli("eval --checkpoint " + d + "/garbage.safetensors --data " + d),
                        "garbage");
  // A parameter's bytes overwritten with NaNs (a damaged file with a valid header): eval, generate
  // and --resume name the tensor instead of printing "perplexity nan" or "training diverged".
  uint64_t header = 0;
  std::memcpy(&header, bytes.data(), sizeof header);
  const auto j = nlohmann::json::parse(bytes.substr(8, header));
  std::string param;
  for (auto it = j.begin(); it != j.end(); ++it)
    if (it.key().rfind("param/", 0) == 0) param = it.key();
  ASSERT_FALSE(param.empty());
  std::string nans = bytes;
  const size_t at = 8 + header + j[param]["data_offsets"][0].get<size_t>();
  for (size_t i = 0; i < 16; ++i) nans[at + i] = '\xff';
  std::ofstream(d + "/nan.safetensors", std::ios::binary) << nans;
  const std::string want = "'" + param + "' holds a non-finite value";
  expect_one_line_error(run_cli("eval --checkpoint " + d + "/nan.safetensors --data " + d), want);
  expect_one_line_error(run_cli("generate --checkpoint " + d + "/nan.safetensors"), want);
  // The stored vocabulary damaged: the checkpoint is named, not a temporary file.
  std::string badvocab = bytes;
  badvocab[8 + header + j["vocab"]["data_offsets"][0].get<size_t>()] = '\xff';
  std::ofstream(d + "/badvocab.safetensors", std::ios::binary) << badvocab;
  CliResult bv = run_cli("eval --checkpoint " + d + "/badvocab.safetensors --data " + d);
  expect_one_line_error(bv, "badvocab.safetensors is corrupt: its stored vocabulary is unreadable");
  EXPECT_EQ(bv.err.find("/tmp/sketchgrad-vocab"), std::string::npos) << bv.err;
  EXPECT_NE(bv.err.find("vocabulary line 1 is not valid UTF-8"), std::string::npos) << bv.err;
  std::ofstream(ck + "/checkpoint.safetensors", std::ios::binary) << nans;
  expect_one_line_error(
      run_cli(std::string(kTiny) + " --steps 6 --data " + d + " --checkpoint " + ck + " --resume"),
      want);
  // Optimizer state: a NaN anywhere, or a negative second moment, makes the checkpoint corrupt
  // (it used to load, and the run then "diverged" and blamed the learning rate).
  std::string second;
  for (auto it = j.begin(); it != j.end(); ++it)
    if (it.key().rfind("optim/", 0) == 0 && it.key().size() > 2 &&
        it.key().compare(it.key().size() - 2, 2, "/v") == 0)
      second = it.key();
  ASSERT_FALSE(second.empty()) << "the tiny run's optimizer keeps no second moment";
  const size_t vat = 8 + header + j[second]["data_offsets"][0].get<size_t>();
  for (const auto& [value, message] :
       {std::pair<float, std::string>{std::nanf(""), "holds a non-finite value"},
        {-1.0f, "holds a negative value"}}) {
    std::string damaged = bytes;
    std::memcpy(&damaged[vat + 4 * sizeof(float)], &value, sizeof value);
    std::ofstream(ck + "/checkpoint.safetensors", std::ios::binary) << damaged;
    expect_one_line_error(run_cli(std::string(kTiny) + " --steps 6 --data " + d + " --checkpoint " +
                                  ck + " --resume"),
                          "'" + second + "' " + message + " at element 4");
  }
}

// The configuration stored in a checkpoint is checked as the command line's is: eval built the
// model from it first, and bptt 0 divided by zero (SIGFPE), 2^40 wrapped to 0 and 1e30 was an
// undefined float-to-int cast.
TEST(CliErrors, DamagedCheckpointConfiguration) {
  std::string d = make_corpus("ckcfg");
  std::string ck = d + "/ck";
  CliResult ok = run_cli(std::string(kTiny) + " --data " + d + " --checkpoint " + ck);
  ASSERT_EQ(ok.code, 0) << ok.err;
  const std::string bytes = read_text(ck + "/checkpoint.safetensors");
  uint64_t header = 0;
  std::memcpy(&header, bytes.data(), sizeof header);
  const auto j = nlohmann::json::parse(bytes.substr(8, header));
  const std::string data = bytes.substr(8 + header);
  for (const auto& [key, value] : {std::pair<const char*, nlohmann::json>{"bptt", 0},
                                   {"bptt", 1e30},
                                   {"hidden", 1ll << 40},
                                   {"batch", -1},
                                   {"lstm_impl", "x"},
                                   {"emb", 2.5}}) {
    auto damaged = j;
    auto cfg = nlohmann::json::parse(damaged["__metadata__"]["config"].get<std::string>());
    cfg[key] = value;
    damaged["__metadata__"]["config"] = cfg.dump();
    std::string text = damaged.dump();
    while (text.size() % 8) text.push_back(' ');
    std::string file(8, '\0');
    for (int i = 0; i < 8; ++i) file[i] = static_cast<char>(uint64_t{text.size()} >> (8 * i));
    std::ofstream(d + "/cfg.safetensors", std::ios::binary) << file << text << data;
    const std::string want = "cfg.safetensors is corrupt: its configuration is invalid";
    SCOPED_TRACE(std::string(key) + " = " + value.dump());
    expect_one_line_error(run_cli("eval --checkpoint " + d + "/cfg.safetensors --data " + d), want);
    expect_one_line_error(run_cli("generate --checkpoint " + d + "/cfg.safetensors"), want);
  }
  // The counters too (found by fuzzing: "3x" and -2^63 were accepted).
  for (const char* step : {"3x", "-1", "-9223372036854775808", ""}) {
    auto damaged = j;
    damaged["__metadata__"]["step"] = step;
    std::string text = damaged.dump();
    while (text.size() % 8) text.push_back(' ');
    std::string file(8, '\0');
    for (int i = 0; i < 8; ++i) file[i] = static_cast<char>(uint64_t{text.size()} >> (8 * i));
    std::ofstream(d + "/step.safetensors", std::ios::binary) << file << text << data;
    SCOPED_TRACE(std::string("step = ") + step);
    expect_one_line_error(run_cli("generate --checkpoint " + d + "/step.safetensors"),
                          "step.safetensors is corrupt: bad step counter");
  }
}

TEST(CliErrors, ExistingCheckpointIsNeverOverwritten) {
  std::string d = make_corpus("exist");
  std::string ck = d + "/ck";
  ASSERT_EQ(run_cli(std::string(kTiny) + " --data " + d + " --checkpoint " + ck).code, 0);
  std::string before = read_text(ck + "/checkpoint.safetensors");
  expect_one_line_error(run_cli(std::string(kTiny) + " --data " + d + " --checkpoint " + ck),
                        "--resume");
  EXPECT_EQ(read_text(ck + "/checkpoint.safetensors"), before);
}

// The same training file named twice (also spelled differently, or through a hard link) would be
// counted and trained on twice, silently: refused before anything runs.
TEST(CliErrors, SameTrainingFileTwice) {
  const std::string d = make_corpus("twice");
  const std::string f = d + "/training-monolingual.tokenized.shuffled/news.en-00001-of-00100";
  std::filesystem::create_hard_link(f, d + "/link.txt");
  std::filesystem::copy_file(f, d + "/copy.txt");
  for (const std::string& list :
       {f + "," + f,
        f + "," + d + "/./training-monolingual.tokenized." + "shuffled/news.en-00001-of-00100",
        d + "/copy.txt," + f + "," + d + "/link.txt"})
    expect_one_line_error(run_cli(std::string(kTiny) + " --data " + list + " --heldout none"),
                          "--data names the same file twice");
  // A copy is another file: taken.
  EXPECT_EQ(
      run_cli(std::string(kTiny) + " --data " + f + "," + d + "/copy.txt --heldout none").code, 0);
}

// Held-out text that is one of the training files still runs, with a warning that its perplexity
// is not a held-out measure.
TEST(CliErrors, HeldoutThatIsTrainingTextIsWarnedAbout) {
  const std::string d = make_corpus("heldtrain");
  const std::string f = d + "/training-monolingual.tokenized.shuffled/news.en-00001-of-00100";
  CliResult r = run_cli(std::string(kTiny) + " --data " + d + " --heldout " + f);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("warning: the held-out text " + f + " is also training text"),
            std::string::npos)
      << r.err;
  CliResult other = run_cli(std::string(kTiny) + " --data " + d);
  ASSERT_EQ(other.code, 0) << other.err;
  EXPECT_EQ(other.err.find("is also training text"), std::string::npos) << other.err;
}

// A flag given twice takes its last value (a script's defaults, then the user's override).
TEST(CliErrors, RepeatedFlagTakesTheLastValue) {
  std::string d = make_corpus("repeat");
  CliResult r = run_cli(std::string(kTiny) + " --data " + d +
                        " --steps 5 --steps 2 --summary-json " + d + "/s.json --heldout none");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(read_text(d + "/s.json"))["steps"], 2);
}

// So does --compare-states, whose values CLI11 would gather from every occurrence into one list.
TEST(CliErrors, RepeatedCompareStatesTakesTheLastList) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"--compare-states dense cs-mv --compare-states cs-v", {"cs-v"}},
      {"--compare-states=dense --compare-states cs-v cs-m", {"cs-v", "cs-m"}},
      {"--compare-states dense cs-mv --compare-states=cs-v", {"cs-v"}},
      {"--compare-states dense --json --compare-states cs-m cs-v", {"cs-m", "cs-v"}},
      {"--compare-states=dense cs-mv", {"dense", "cs-mv"}},
  };
  for (const auto& [flags, want] : cases) {
    CliResult r = run_cli("plan --preset tiny --vocab-size 100 --json " + flags);
    ASSERT_EQ(r.code, 0) << flags << ": " << r.err;
    const nlohmann::json plan = nlohmann::json::parse(r.out);
    std::vector<std::string> got;
    for (const auto& st : plan["states"]) got.push_back(st["state"]);
    EXPECT_EQ(got, want) << flags;
  }
}

// Outputs that would destroy an input, or that cannot be written, fail before any training.
TEST(CliErrors, OutputsThatAreInputsOrUnwritable) {
  std::string d = make_corpus("outputs");
  const std::string tr = d + "/training-monolingual.tokenized.shuffled/news.en-00001-of-00100";
  const std::string corpus = read_text(tr);
  expect_one_line_error(run_cli("vocab --data " + d + " --out " + tr), "is the input file");
  expect_one_line_error(run_cli(std::string(kTiny) + " --data " + d + " --summary-json " + tr),
                        "is the input file");
  expect_one_line_error(run_cli(std::string(kTiny) + " --data " + d + " --log " + tr),
                        "is the input file");
  EXPECT_EQ(read_text(tr), corpus);
  // Found before training: the error comes without a single progress line.
  CliResult r = run_cli(std::string(kTiny) + " --data " + d + " --checkpoint /proc/self");
  expect_one_line_error(r, "cannot create files in /proc/self");
  EXPECT_EQ(r.err.find("step 1"), std::string::npos) << r.err;
  // A checkpoint file that links elsewhere is written there: that folder is the one checked.
  std::filesystem::create_directories(d + "/linked");
  std::filesystem::create_symlink("/proc/self/ck.safetensors",
                                  d + "/linked/checkpoint.safetensors");
  r = run_cli(std::string(kTiny) + " --data " + d + " --checkpoint " + d + "/linked");
  expect_one_line_error(r, "cannot create files in /proc/self");
  EXPECT_EQ(r.err.find("step 1"), std::string::npos) << r.err;
  expect_one_line_error(
      run_cli(std::string(kTiny) + " --data " + d + " --summary-json " + d + "/no/s.json"),
      "does not exist");
  std::ofstream(d + "/afile") << "x";
  expect_one_line_error(
      run_cli(std::string(kTiny) + " --data " + d + " --checkpoint " + d + "/afile"), "is a file");
  // A nested checkpoint folder is created whole.
  CliResult nested = run_cli(std::string(kTiny) + " --data " + d + " --checkpoint " + d +
                             "/runs/a/b --heldout none");
  EXPECT_EQ(nested.code, 0) << nested.err;
  EXPECT_FALSE(read_text(d + "/runs/a/b/checkpoint.safetensors").empty());
  expect_one_line_error(run_cli("synth --out '' --sentences 10"), "--out");
  expect_one_line_error(run_cli("synth --out " + d + " --sentences 10"), "already holds a corpus");
  EXPECT_EQ(read_text(tr), corpus);
}

// The run's outputs never land on its checkpoints: --summary-json or --log naming the checkpoint
// file (or best.safetensors) is refused before training, and eval's --json may not be the
// checkpoint it reads even when --checkpoint names the folder. These used to exit 0 with the
// checkpoint replaced by a few hundred bytes of JSON.
TEST(CliErrors, OutputsNeverLandOnTheCheckpoint) {
  std::string d = make_corpus("collide");
  const std::string ck = d + "/ck", file = ck + "/checkpoint.safetensors";
  ASSERT_EQ(run_cli(std::string(kTiny) + " --data " + d + " --checkpoint " + ck).code, 0);
  const std::string before = read_text(file);
  expect_one_line_error(run_cli("eval --checkpoint " + ck + " --data " + d + " --json " + file),
                        "is the input file");
  std::filesystem::create_symlink(file, d + "/link.json");
  expect_one_line_error(
      run_cli("eval --checkpoint " + ck + " --data " + d + " --json " + d + "/link.json"),
      "is the input file");
  CliResult r = run_cli(std::string(kTiny) + " --steps 6 --data " + d + " --checkpoint " + ck +
                        " --resume --summary-json " + file);
  expect_one_line_error(r, "is the checkpoint");
  EXPECT_EQ(r.err.find("step 4"), std::string::npos) << r.err;
  expect_one_line_error(run_cli(std::string(kTiny) + " --steps 6 --data " + d + " --checkpoint " +
                                ck + " --resume --log " + ck + "/./checkpoint.safetensors"),
                        "is the checkpoint");
  EXPECT_EQ(read_text(file), before);
  // A fresh run: the checkpoint does not exist yet, and neither does best.safetensors.
  expect_one_line_error(run_cli(std::string(kTiny) + " --data " + d + " --checkpoint " + d +
                                "/ck2 --summary-json " + d + "/ck2/checkpoint.safetensors"),
                        "is the checkpoint");
  expect_one_line_error(run_cli(std::string(kTiny) + " --data " + d + " --checkpoint " + d +
                                "/ck3 --keep-best --log " + d + "/ck3/best.safetensors"),
                        "is the best checkpoint");
  expect_one_line_error(run_cli(std::string(kTiny) + " --data " + d + " --summary-json " + d +
                                "/same --log " + d + "/same"),
                        "is the --log file");
  // A summary inside a checkpoint folder that the run creates is fine.
  CliResult inside = run_cli(std::string(kTiny) + " --data " + d + " --checkpoint " + d +
                             "/ck4 --summary-json " + d + "/ck4/summary.json");
  ASSERT_EQ(inside.code, 0) << inside.err;
  EXPECT_FALSE(read_text(d + "/ck4/summary.json").empty());
}

TEST(CliErrors, ResumeWithIncompatibleConfiguration) {
  std::string d = make_corpus("resume");
  std::string ck = d + "/ck";
  ASSERT_EQ(run_cli(std::string(kTiny) + " --data " + d + " --checkpoint " + ck).code, 0);
  std::string before = read_text(ck + "/checkpoint.safetensors");
  CliResult r = run_cli("train --preset tiny --steps 6 --threads 1 --data " + d + " --checkpoint " +
                        ck + " --resume --hidden 48");
  expect_one_line_error(r, "--hidden");
  EXPECT_EQ(read_text(ck + "/checkpoint.safetensors"), before);
  r = run_cli("train --preset tiny --steps 6 --threads 1 --data " + d + " --checkpoint " + ck +
              " --resume --beta1 0.5");
  expect_one_line_error(r, "--beta1");
  EXPECT_EQ(read_text(ck + "/checkpoint.safetensors"), before);
  EXPECT_EQ(list_dir(ck),
            std::vector<std::string>{"checkpoint.safetensors"});  // no partial file left
}

TEST(CliErrors, CudaWithoutGpu) {
  if (Backend::cuda_available()) GTEST_SKIP() << "a GPU is present";
  std::string d = make_corpus("cuda");
  expect_one_line_error(run_cli(std::string(kTiny) + " --data " + d + " --device cuda"), "cuda");
  // Another GPU than the first: the message names it as given.
  expect_one_line_error(run_cli(std::string(kTiny) + " --data " + d + " --device cuda:3"),
                        "cuda:3");
}

}  // namespace
}  // namespace sg::testing
