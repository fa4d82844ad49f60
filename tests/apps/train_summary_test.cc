// The end-of-run summary of `sketchgrad train`: device memory lines only on a device that reports
// them (context overhead = total - free at start), perplexities only when evaluated, and the
// closing line.
#include "apps/train_summary.h"

#include <gtest/gtest.h>

#include <cmath>

namespace sg {
namespace {

TrainSummaryInputs cpu_run() {
  TrainSummaryInputs in;
  in.steps = 600;
  in.total_steps = 600;
  in.words_per_s = 18000.4;
  in.train_s = 192;
  in.config = {{"preset", "small"}};
  return in;
}

TEST(TrainSummary, OptionalPartsOnlyWhenKnown) {
  TrainSummaryInputs in = cpu_run();
  nlohmann::json s = train_summary(in);
  EXPECT_EQ(s["steps"], 600);
  EXPECT_EQ(s["config"]["preset"], "small");
  EXPECT_FALSE(s.contains("device_total_bytes"));
  EXPECT_FALSE(s.contains("heldout_perplexity"));
  EXPECT_FALSE(s.contains("best_heldout_perplexity"));
  EXPECT_EQ(done_line(in), "done: 600 steps in 3m12s, 18000 words/s");

  in.device_total = 80000;
  in.device_free_at_start = 79000;  // 1,000 bytes of context
  in.device_free_at_end = 70000;
  EvalResult e;
  e.nll_sum = 2.0 * std::log(135.4);
  e.tokens = 2;
  in.final_eval = e;
  in.best_perplexity = 130.0;
  in.best_step = 400;
  s = train_summary(in);
  EXPECT_EQ(s["device_in_use_at_start_bytes"], 1000);
  EXPECT_EQ(s["device_allocated_by_run_bytes"], 9000);
  EXPECT_EQ(s["device_in_use_bytes"], 10000);
  EXPECT_NEAR(s["heldout_perplexity"].get<double>(), 135.4, 1e-9);
  EXPECT_EQ(s["heldout_tokens"], 2);
  EXPECT_EQ(s["best_step"], 400);
  EXPECT_EQ(done_line(in), "done: 600 steps in 3m12s, 18000 words/s, held-out perplexity 135.4");
  EXPECT_FALSE(s.contains("stopped_by_signal"));
  in.stopped_by_signal = 2;
  in.final_eval.reset();
  EXPECT_EQ(train_summary(in)["stopped_by_signal"], 2);
  EXPECT_EQ(done_line(in), "stopped: 600 steps in 3m12s, 18000 words/s");
  // Evaluations and checkpoints between steps: said, since words/s leaves them out.
  in.pause_s = 40;
  EXPECT_EQ(done_line(in),
            "stopped: 600 steps in 3m12s (40s of it held-out evaluation and checkpoints), 18000 "
            "words/s");
  EXPECT_EQ(train_summary(in)["eval_and_checkpoint_seconds"], 40.0);
}

// A resumed run names the steps it trained itself; one resumed at its last step trained none, and
// neither its line nor its summary give a speed.
TEST(TrainSummary, ResumedRunsNameTheirOwnSteps) {
  TrainSummaryInputs in;
  in.steps = 200;
  in.total_steps = 200;
  in.first_step = 150;
  in.train_s = 4;
  in.words_per_s = 1000;
  EXPECT_EQ(done_line(in), "done: steps 151-200 (50 this run) in 4s, 1000 words/s");
  EXPECT_EQ(train_summary(in)["first_step"], 150);
  EXPECT_EQ(train_summary(in)["words_per_s"], 1000.0);
  in.first_step = 200;
  in.train_s = 0;
  in.words_per_s = 0;
  EXPECT_EQ(done_line(in), "done: nothing to train, the checkpoint is at step 200 of 200");
  EXPECT_TRUE(train_summary(in)["words_per_s"].is_null());
  in.final_s = 2.5;
  EXPECT_EQ(train_summary(in)["final_eval_and_checkpoint_seconds"], 2.5);
}

// A diverged run's summary names where it went wrong and holds no results.
TEST(TrainSummary, DivergedSummaryHasNoResults) {
  TrainSummaryInputs in;
  in.steps = 40;
  in.total_steps = 100;
  in.first_step = 10;
  in.planned_bytes = 1234;
  const nlohmann::json s = diverged_summary(in, 31);
  EXPECT_EQ(s["diverged"]["first_step"], 31);
  EXPECT_EQ(s["diverged"]["step"], 40);
  EXPECT_EQ(s["first_step"], 10);
  EXPECT_EQ(s["planned_bytes"], 1234);
  EXPECT_FALSE(s.contains("heldout_perplexity"));
  EXPECT_FALSE(s.contains("words_per_s"));
}

// The ETA's count of evaluations to come: the periodic ones at multiples of `every` from this
// step on (before the last step) and the final one.
TEST(TrainSummary, EvaluationsLeft) {
  EXPECT_EQ(evaluations_left(20, 60, 10), 5.0);  // 20, 30, 40, 50 and the final
  EXPECT_EQ(evaluations_left(21, 60, 10), 4.0);  // 30, 40, 50 and the final
  EXPECT_EQ(evaluations_left(60, 60, 10), 1.0);  // the final only
  EXPECT_EQ(evaluations_left(5, 60, 0), 1.0);
}

// A held-out perplexity above the vocabulary size (worse than a uniform guess) is warned about;
// at or below it, nothing is said.
TEST(Evaluate, WarnsWhenWorseThanAUniformGuess) {
  EvalResult r;
  r.tokens = 10;
  r.nll_sum = 10 * std::log(16534.9);
  const std::string w = worse_than_uniform_warning(r, 8453);
  EXPECT_NE(w.find("held-out perplexity 16534.9 is above the vocabulary size 8453"),
            std::string::npos)
      << w;
  EXPECT_NE(w.find("the model is broken"), std::string::npos) << w;
  // Just above the vocabulary size: an untrained model's near-uniform guess, said as such.
  r.nll_sum = 10 * std::log(8700.0);
  const std::string near = worse_than_uniform_warning(r, 8453);
  EXPECT_NE(near.find("no better than a uniform guess yet"), std::string::npos) << near;
  EXPECT_EQ(near.find("broken"), std::string::npos) << near;
  r.nll_sum = 10 * std::log(8000.0);
  EXPECT_EQ(worse_than_uniform_warning(r, 8453), "");
  r.tokens = 0;
  EXPECT_EQ(worse_than_uniform_warning(r, 8453), "");
}

}  // namespace
}  // namespace sg
