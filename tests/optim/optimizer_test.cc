// End-to-end Optimizer tests on a tiny graph (real row-sparse and dense gradients through the
// executor): lossless sketches reproduce the dense rules bit for bit, determinism with colliding
// buckets, the conservative Count-Min update, clipping, cleaning, checkpoint round trip of
// state_tensors, describe and bad configurations.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <tuple>

#include "tests/optim/optim_test_util.h"

namespace sg {
namespace {
using testing_optim::bitwise_equal;
using testing_optim::train_tiny;
using testing_optim::TrainResult;

// A lossless policy for both parameters: identity hash with width >= rows (depth 1 and depth 3).
std::string lossless_policy(const std::string& rule, const std::string& extra = "") {
  RuleKind r = parse_rule(rule);
  auto moments = [&](const std::string& opts) {
    std::string s;
    if (rule_has_m(r)) s += "m:cs:" + opts + extra;
    if (rule_has_v(r)) s += std::string(s.empty() ? "" : ",") + "v:cm:" + opts + extra;
    return s;
  };
  return "emb/W=" + moments("1x:d1:identity") + ";dense/W=" + moments("0.25x:d3:identity");
}

class SketchEqualsDense : public ::testing::TestWithParam<std::string> {};

TEST_P(SketchEqualsDense, Bitwise) {
  OptimizerConfig cfg;
  cfg.rule = GetParam();
  cfg.lr = 0.05f;
  cfg.clip = 2.0f;  // exercise the clip path too
  cfg.weight_decay = 0.01f;
  TrainResult dense = train_tiny(cfg, 6);
  cfg.state = lossless_policy(cfg.rule);
  TrainResult sk = train_tiny(cfg, 6);
  EXPECT_TRUE(bitwise_equal(dense.E, sk.E)) << cfg.state;  // row-sparse gradient
  EXPECT_TRUE(bitwise_equal(dense.P, sk.P)) << cfg.state;  // dense gradient
  // and the run actually moved the weights
  auto init = testing_optim::uniform(40 * 8, 1);
  EXPECT_FALSE(bitwise_equal(init, sk.E));
}

INSTANTIATE_TEST_SUITE_P(Rules, SketchEqualsDense,
                         ::testing::Values("momentum", "nesterov", "adagrad", "rmsprop", "adam",
                                           "adamw"),
                         [](const ::testing::TestParamInfo<std::string>& i) {
                           return testing_optim::param_test_name(i.param, i.index);
                         });

TEST(Optimizer, PaperSemanticsCloseToDenseWhenLossless) {
  OptimizerConfig cfg;
  cfg.lr = 0.05f;
  TrainResult dense = train_tiny(cfg, 5);
  cfg.state = lossless_policy("adam", ":paper");
  TrainResult sk = train_tiny(cfg, 5);
  for (size_t i = 0; i < dense.E.size(); ++i) EXPECT_NEAR(dense.E[i], sk.E[i], 1e-5f);
  for (size_t i = 0; i < dense.P.size(); ++i) EXPECT_NEAR(dense.P[i], sk.P[i], 1e-5f);
}

// The conservative Count-Min update is exact when every bucket holds one row: v sketched with it
// reproduces the dense rules bit for bit (m, where the rule keeps one, in a lossless Count-Sketch).
TEST(Optimizer, ConservativeCountMinEqualsDenseWhenLossless) {
  for (const std::string rule : {"adagrad", "rmsprop", "adam", "adamw"}) {
    OptimizerConfig cfg;
    cfg.rule = rule;
    cfg.lr = 0.05f;
    TrainResult dense = train_tiny(cfg, 6);
    const std::string m = rule_has_m(parse_rule(rule)) ? "m:cs:1x:d1:identity," : "";
    cfg.state = "emb/W=" + m + "v:cm:0.25x:d3:identity:cu;dense/W=v:cm:1x:d1:identity:cu";
    TrainResult sk = train_tiny(cfg, 6);
    EXPECT_TRUE(bitwise_equal(dense.E, sk.E)) << cfg.state;
    EXPECT_TRUE(bitwise_equal(dense.P, sk.P)) << cfg.state;
  }
  // Lossy, it is a different optimizer from the default (lazy) Count-Min and deterministic.
  OptimizerConfig cfg;
  cfg.lr = 0.05f;
  cfg.state = "emb/W=m:cs:5x,v:cm:5x:cu";
  TrainResult a = train_tiny(cfg, 5, "cpu", 2), b = train_tiny(cfg, 5, "cpu", 1);
  EXPECT_TRUE(bitwise_equal(a.E, b.E));
  cfg.state = "emb/W=m:cs:5x,v:cm:5x";
  EXPECT_FALSE(bitwise_equal(a.E, train_tiny(cfg, 5).E));
}

// m:none keeps no first moment and is exactly Adam with beta1 = 0 on that parameter, with no
// memory for m; the cs-v-nom preset puts it on the row-sparse table with v in a conservative
// Count-Min.
TEST(Optimizer, NoFirstMomentEqualsAdamWithBeta1Zero) {
  for (const std::string rule : {"adam", "adamw"}) {
    OptimizerConfig cfg;
    cfg.rule = rule;
    cfg.lr = 0.05f;
    cfg.weight_decay = 0.01f;
    cfg.beta1 = 0.f;
    TrainResult ref = train_tiny(cfg, 6);
    cfg.beta1 = 0.9f;
    TrainResult momentum = train_tiny(cfg, 6);
    cfg.state = "emb/W=m:none;dense/W=m:none";
    TrainResult none = train_tiny(cfg, 6);
    EXPECT_TRUE(bitwise_equal(ref.E, none.E)) << rule;
    EXPECT_TRUE(bitwise_equal(ref.P, none.P)) << rule;
    EXPECT_FALSE(bitwise_equal(momentum.E, none.E)) << rule;
    for (const auto& [name, data] : none.state) EXPECT_EQ(name.find("/m"), std::string::npos);
  }
  {
    // The CPU fast path (m none, v Count-Min of depth 3) against the generic one (depth 1), both
    // lossless, so any difference is the kernels'.
    OptimizerConfig cfg;
    cfg.lr = 0.05f;
    cfg.state = "emb/W=m:none,v:cm:0.25x:d3:identity:cu";
    TrainResult fast = train_tiny(cfg, 6);
    cfg.state = "emb/W=m:none,v:cm:1x:d1:identity:cu";
    TrainResult generic = train_tiny(cfg, 6);
    EXPECT_TRUE(bitwise_equal(fast.E, generic.E));
    cfg.state = "dense";
    EXPECT_FALSE(bitwise_equal(fast.E, train_tiny(cfg, 6).E));
  }
  testing_optim::Tiny t;
  OptimizerConfig cfg;
  cfg.state = "cs-v-nom";
  Optimizer opt(cfg, t.g, t.grads);
  std::map<std::string, BufferRequest> req;
  for (const auto& r : opt.requests()) req[r.name] = r;
  EXPECT_FALSE(req.count("emb/W/m"));
  EXPECT_EQ(req["emb/W/v"].category, Category::OptStateSketch);
  EXPECT_TRUE(req.count("dense/W/m"));  // small and dense-gradient: untouched by the preset
  const std::string d = opt.describe();
  EXPECT_NE(d.find("emb/W [40x8] row-sparse adam: m=none (beta1 0) v=count-min(3x3, conservative"),
            std::string::npos)
      << d;
  cfg.rule = "momentum";  // a rule that needs m keeps it dense under the preset
  Optimizer o2(cfg, t.g, t.grads);
  bool has_m = false;
  for (const auto& r : o2.requests()) has_m |= r.name == "emb/W/m";
  EXPECT_TRUE(has_m);
}

TEST(Optimizer, CollidingRowsAreDeterministic) {
  OptimizerConfig cfg;
  cfg.lr = 0.05f;
  // 40 rows into sketches of width 2..3: every bucket is shared within a step.
  cfg.state = "emb/W=m:cs:5x,v:cm:5x;dense/W=m:cs:2x:paper,v:cm:2x:paper";
  TrainResult a = train_tiny(cfg, 5, "cpu", 2);
  TrainResult b = train_tiny(cfg, 5, "cpu", 1);
  TrainResult c = train_tiny(cfg, 5, "cpu", 2);
  EXPECT_TRUE(bitwise_equal(a.E, b.E) && bitwise_equal(a.E, c.E));
  EXPECT_TRUE(bitwise_equal(a.P, b.P) && bitwise_equal(a.P, c.P));
  ASSERT_EQ(a.state.size(), b.state.size());
  for (size_t i = 0; i < a.state.size(); ++i)
    EXPECT_TRUE(bitwise_equal(a.state[i].second, b.state[i].second));
  // A lossy sketch does change the result.
  cfg.state = "dense";
  TrainResult d = train_tiny(cfg, 5);
  EXPECT_FALSE(bitwise_equal(a.E, d.E));
}

TEST(Optimizer, StateNamesShapesAndPresets) {
  testing_optim::Tiny t;
  OptimizerConfig cfg;
  cfg.state = "cs-mv";  // emb/W has a row-sparse gradient: sketched; dense/W is small: dense
  Optimizer opt(cfg, t.g, t.grads);
  std::map<std::string, BufferRequest> req;
  for (const auto& r : opt.requests()) req[r.name] = r;
  ASSERT_TRUE(req.count("emb/W/m") && req.count("emb/W/v") && req.count("emb/W/m.hash"));
  EXPECT_EQ(req["emb/W/m"].category, Category::OptStateSketch);
  EXPECT_EQ(req["emb/W/m"].bytes, 3u * 3 * 8 * 4);  // width round(40 / 15) = 3
  EXPECT_EQ(req["dense/W/m"].category, Category::OptStateDense);
  EXPECT_EQ(req["dense/W/m"].bytes, 12u * 8 * 4);
  EXPECT_EQ(req["optimizer/workspace"].first, kOptimizerPhase);
  EXPECT_EQ(req["optimizer/workspace"].arena, Arena::Step);
  EXPECT_EQ(req["emb/W/m"].arena, Arena::Persistent);
  const std::string d = opt.describe();
  EXPECT_NE(d.find("emb/W [40x8] row-sparse adam: m=count-sketch(3x3, lazy)"), std::string::npos)
      << d;
  EXPECT_NE(d.find("clean x0.25/1000"), std::string::npos) << d;
  EXPECT_NE(d.find("dense/W [12x8] adam: m=dense"), std::string::npos) << d;

  cfg.state = "cs-v:10x";
  Optimizer o2(cfg, t.g, t.grads);
  for (const auto& r : o2.requests()) {
    if (r.name == "emb/W/m") EXPECT_EQ(r.category, Category::OptStateDense);
    if (r.name == "emb/W/v") EXPECT_EQ(r.bytes, 3u * 1 * 8 * 4);  // round(40 / 30) = 1
  }
  cfg.rule = "sm3";
  cfg.state = "dense";
  Optimizer o3(cfg, t.g, t.grads);
  std::map<std::string, BufferRequest> r3;
  for (const auto& r : o3.requests()) r3[r.name] = r;
  EXPECT_EQ(r3["emb/W/v.row"].bytes, 40u * 4);  // row-sparse: rows only
  EXPECT_FALSE(r3.count("emb/W/v.col"));
  EXPECT_EQ(r3["dense/W/v.row"].bytes, 12u * 4);
  EXPECT_EQ(r3["dense/W/v.col"].bytes, 8u * 4);
  EXPECT_EQ(r3["dense/W/v.col"].category, Category::OptStateCover);

  cfg.rule = "adam";
  cfg.state = "bf16";  // every moment, half the bytes; in checkpoints as BF16 tensors
  Optimizer o4(cfg, t.g, t.grads);
  std::map<std::string, BufferRequest> r4;
  for (const auto& r : o4.requests()) r4[r.name] = r;
  EXPECT_EQ(r4["emb/W/m"].bytes, 40u * 8 * 2);
  EXPECT_EQ(r4["dense/W/v"].bytes, 12u * 8 * 2);
  EXPECT_EQ(r4["dense/W/v"].category, Category::OptStateDense);
  EXPECT_NE(o4.describe().find("emb/W [40x8] row-sparse adam: m=bf16"), std::string::npos)
      << o4.describe();

  cfg.state = "cs-mv+bf16";  // the preset's sketches, and bf16 for what it leaves dense
  Optimizer o5(cfg, t.g, t.grads);
  std::map<std::string, BufferRequest> r5;
  for (const auto& r : o5.requests()) r5[r.name] = r;
  EXPECT_EQ(r5["emb/W/m"].category, Category::OptStateSketch);
  EXPECT_EQ(r5["emb/W/m"].bytes, 3u * 3 * 8 * 4);
  EXPECT_EQ(r5["dense/W/m"].bytes, 12u * 8 * 2);
  EXPECT_EQ(r5["dense/W/v"].bytes, 12u * 8 * 2);
}

TEST(Optimizer, CheckpointRoundTrip) {
  OptimizerConfig cfg;
  cfg.lr = 0.05f;
  cfg.state = "emb/W=m:cs:2x,v:cm:2x";
  // Reference: 6 uninterrupted steps.
  TrainResult ref = train_tiny(cfg, 6);
  // Interrupted: 3 steps, copy params + state out, fresh executor/optimizer, load, 3 more steps.
  testing_optim::Tiny t;
  auto be = Backend::create("cpu", 2);
  std::vector<float> E, P;
  std::vector<std::pair<std::string, std::vector<float>>> saved;
  auto run = [&](Executor& ex, Optimizer& opt, int from, int to) {
    for (int s = from; s <= to; ++s) {
      std::vector<int32_t> ids(t.n);
      for (int64_t i = 0; i < t.n; ++i) ids[i] = static_cast<int32_t>(rng_u64(3, s, i) % t.R);
      auto c = testing_optim::uniform(t.n * t.D, 100 + s),
           c2 = testing_optim::uniform(t.R2 * t.D, 200 + s);
      ex.upload(t.ids, ids.data(), ids.size() * 4);
      ex.upload(t.C, c.data(), c.size() * 4);
      ex.upload(t.C2, c2.data(), c2.size() * 4);
      ex.run(s, 9, true);
      opt.step(s);
    }
  };
  {
    Optimizer opt(cfg, t.g, t.grads);
    Executor ex(t.g, *be, ExecutorOptions{{}, opt.requests(), opt.grads_to_keep()});
    opt.bind(ex, 0);
    auto e0 = testing_optim::uniform(t.R * t.D, 1), p0 = testing_optim::uniform(t.R2 * t.D, 2);
    ex.upload(t.E, e0.data(), e0.size() * 4);
    ex.upload(t.P, p0.data(), p0.size() * 4);
    run(ex, opt, 1, 3);
    E = ex.read_f32(t.E);
    P = ex.read_f32(t.P);
    for (auto& [name, tensor] : opt.state_tensors()) {
      std::vector<float> h(tensor.numel());
      be->copy_to_host(h.data(), tensor.data, tensor.nbytes());
      saved.push_back({name, h});
    }
  }
  std::vector<std::string> names;
  for (auto& s : saved) names.push_back(s.first);
  EXPECT_EQ(names, (std::vector<std::string>{"emb/W/m", "emb/W/m.hash", "emb/W/v", "emb/W/v.hash",
                                             "dense/W/m", "dense/W/v"}));
  Optimizer opt(cfg, t.g, t.grads);
  Executor ex(t.g, *be, ExecutorOptions{{}, opt.requests(), opt.grads_to_keep()});
  opt.bind(ex, 0);
  ex.upload(t.E, E.data(), E.size() * 4);
  ex.upload(t.P, P.data(), P.size() * 4);
  auto st = opt.state_tensors();
  ASSERT_EQ(st.size(), saved.size());
  for (size_t i = 0; i < st.size(); ++i) {
    ASSERT_EQ(st[i].first, saved[i].first);
    ASSERT_EQ(static_cast<size_t>(st[i].second.numel()), saved[i].second.size());
    be->copy_from_host(st[i].second.data, saved[i].second.data(), st[i].second.nbytes());
  }
  run(ex, opt, 4, 6);
  EXPECT_TRUE(bitwise_equal(ex.read_f32(t.E), ref.E));
  EXPECT_TRUE(bitwise_equal(ex.read_f32(t.P), ref.P));
}

TEST(Optimizer, CountMinCleaningScalesTheSketch) {
  OptimizerConfig cfg;
  cfg.lr = 0.05f;
  cfg.state = "emb/W=v:cm:2x:clean=0.5/2";
  TrainResult c1 = train_tiny(cfg, 1), c2 = train_tiny(cfg, 2);
  cfg.state = "emb/W=v:cm:2x:clean=0.5/0";
  TrainResult n1 = train_tiny(cfg, 1), n2 = train_tiny(cfg, 2);
  auto v = [](const TrainResult& r) {
    for (auto& s : r.state)
      if (s.first == "emb/W/v") return s.second;
    return std::vector<float>{};
  };
  EXPECT_TRUE(bitwise_equal(v(c1), v(n1)));  // step 1: no cleaning
  EXPECT_TRUE(bitwise_equal(c2.E, n2.E));    // cleaning happens after the step's update
  const auto a = v(c2), b = v(n2);
  ASSERT_EQ(a.size(), b.size());
  ASSERT_FALSE(a.empty());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i], 0.5f * b[i]);
}

TEST(Optimizer, GlobalNormAndClipping) {
  // Gradient of the tiny loss: E rows = sums of C rows by id, P = C2; norm over both.
  testing_optim::Tiny t;
  OptimizerConfig cfg;
  cfg.rule = "sgd";
  cfg.lr = 1.f;
  cfg.clip = 0.5f;
  Optimizer opt(cfg, t.g, t.grads);
  auto be = Backend::create("cpu", 2);
  Executor ex(t.g, *be, ExecutorOptions{{}, opt.requests(), opt.grads_to_keep()});
  opt.bind(ex, 0);
  std::vector<int32_t> ids(t.n);
  for (int64_t i = 0; i < t.n; ++i) ids[i] = static_cast<int32_t>(i % 5);
  auto c = testing_optim::uniform(t.n * t.D, 11), c2 = testing_optim::uniform(t.R2 * t.D, 12);
  ex.upload(t.ids, ids.data(), ids.size() * 4);
  ex.upload(t.C, c.data(), c.size() * 4);
  ex.upload(t.C2, c2.data(), c2.size() * 4);
  ex.run(1, 9, true);
  std::vector<double> ge(t.R * t.D, 0.0);
  for (int64_t i = 0; i < t.n; ++i)
    for (int64_t k = 0; k < t.D; ++k) ge[ids[i] * t.D + k] += c[i * t.D + k];
  double ss = 0;
  for (double x : ge) ss += x * x;
  for (float x : c2) ss += double(x) * x;
  const double norm = std::sqrt(ss);
  auto p_before = ex.read_f32(t.P);
  opt.step(1);
  EXPECT_NEAR(opt.last_grad_norm(), norm, 1e-4 * norm);
  auto p_after = ex.read_f32(t.P);
  const double scale = 0.5 / norm;
  for (size_t i = 0; i < p_after.size(); ++i)
    EXPECT_NEAR(p_after[i], p_before[i] - scale * c2[i], 1e-5);
}

TEST(Optimizer, LearningRateSchedules) {
  testing_optim::Tiny t;
  const float pi = 3.14159265f;
  // Base rate 2 over 10 steps: (schedule, {(step, expected rate)}).
  const std::vector<std::pair<std::string, std::vector<std::pair<int64_t, float>>>> cases = {
      {"linear", {{1, 2.f}, {6, 1.f}, {11, 0.f}, {50, 0.f}}},
      {"warmup:4", {{1, 0.5f}, {4, 2.f}, {9, 2.f}}},
      {"warmup:2+linear", {{1, 1.f}, {2, 2.f}, {3, 2.f}, {7, 1.f}, {11, 0.f}}},
      {"constant", {{1000, 2.f}}},
      // 2 * (1 + cos(pi (t - 1) / 10)) / 2
      {"cosine", {{1, 2.f}, {6, 1.f}, {3, 1.f + std::cos(pi * 0.2f)}, {11, 0.f}, {50, 0.f}}},
      // halfway through the 8 decaying steps at step 7
      {"warmup:2+cosine", {{1, 1.f}, {3, 2.f}, {7, 1.f}, {11, 0.f}}},
  };
  for (const auto& [schedule, points] : cases) {
    OptimizerConfig cfg;
    cfg.lr = 2.f;
    cfg.total_steps = 10;
    cfg.schedule = schedule;
    Optimizer o(cfg, t.g, t.grads);
    for (const auto& [step, want] : points)
      EXPECT_NEAR(o.learning_rate(step), want, 1e-6f) << schedule << " step " << step;
  }
}

TEST(Optimizer, BadConfigurationsThrowOneLine) {
  testing_optim::Tiny t;
  auto expect_error = [&](OptimizerConfig cfg, const std::string& needle) {
    try {
      Optimizer o(cfg, t.g, t.grads);
      ADD_FAILURE() << "no error for " << needle;
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(needle), std::string::npos) << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    }
  };
  using Set = std::function<void(OptimizerConfig&)>;
  const std::vector<std::pair<Set, std::string>> cases = {
      {[](OptimizerConfig& c) { c.rule = "adamax"; }, "unknown optimizer rule 'adamax'"},
      {[](OptimizerConfig& c) { c.schedule = "exponential"; }, "unknown schedule 'exponential'"},
      {[](OptimizerConfig& c) { c.schedule = "warmup:5+step"; },
       "unknown schedule 'warmup:5+step'"},
      // N is digits only: strtoll would skip the space and saturate past 2^63 - 1.
      {[](OptimizerConfig& c) { c.schedule = "warmup: 5"; }, "schedule 'warmup: 5': warmup needs"},
      {[](OptimizerConfig& c) { c.schedule = "warmup:+5"; }, "schedule 'warmup:+5': warmup needs"},
      {[](OptimizerConfig& c) { c.schedule = "warmup:99999999999999999999"; }, "warmup needs"},
      {[](OptimizerConfig& c) { c.schedule = "warmup:5x"; }, "schedule 'warmup:5x': warmup needs"},
      {[](OptimizerConfig& c) { c.schedule = "warmup:-5"; }, "schedule 'warmup:-5': warmup needs"},
      {[](OptimizerConfig& c) { c.schedule = "warmup:"; }, "schedule 'warmup:': warmup needs"},
      {[](OptimizerConfig& c) { c.schedule = "linear+warmup:5"; },
       "unknown schedule 'linear+warmup:5'"},
      {[](OptimizerConfig& c) { c.schedule = "cosine"; }, "needs total_steps"},
      {[](OptimizerConfig& c) { c.schedule = "linear"; }, "needs total_steps"},
      {[](OptimizerConfig& c) { c.beta1 = 1.f; }, "beta1"},
      {[](OptimizerConfig& c) { c.lr = -1; }, "lr must be"},
      {[](OptimizerConfig& c) { c.sparsify = 0; }, "sparsify"},
      {[](OptimizerConfig& c) { c.state = "softmax/W=v:cm"; },
       "'softmax/W', which is not a trained parameter"},
      {[](OptimizerConfig& c) { c.rule = "sgd", c.state = "emb/W=m:cs"; }, "rule keeps no m"},
      {[](OptimizerConfig& c) { c.state = "cs-mv:0x"; }, "compression must be > 0"},
      {[](OptimizerConfig& c) { c.state = "emb/W=m:cs:5x:cu"; },
       "conservative update (cu) applies to Count-Min only"},
      {[](OptimizerConfig& c) { c.state = "emb/W=v:none"; }, "only m can be 'none'"},
      {[](OptimizerConfig& c) { c.state = "emb/W=m:none:5x"; }, "option '5x' on a none store"},
      {[](OptimizerConfig& c) { c.rule = "momentum", c.state = "emb/W=m:none"; },
       "m:none for 'emb/W' needs adam or adamw"},
      {[](OptimizerConfig& c) { c.state = "emb/W=v:bf16:5x"; }, "option '5x' on a bf16 store"},
      {[](OptimizerConfig& c) { c.state = "bf16:2x"; }, "'bf16' takes no compression"},
      {[](OptimizerConfig& c) { c.state = "dense+bf16"; }, "use 'bf16' for every moment"},
      {[](OptimizerConfig& c) { c.state = "cs-x+bf16"; }, "unknown state policy 'cs-x+bf16'"},
  };
  for (const auto& [set, needle] : cases) {
    OptimizerConfig c;
    set(c);
    expect_error(c, needle);
  }
}

TEST(Optimizer, StepBeforeBindAndBadStep) {
  testing_optim::Tiny t;
  Optimizer o(OptimizerConfig{}, t.g, t.grads);
  EXPECT_THROW(o.step(1), Error);
  EXPECT_THROW(o.state_tensors(), Error);
  auto be = Backend::create("cpu", 1);
  Executor ex(t.g, *be, ExecutorOptions{{}, o.requests(), o.grads_to_keep()});
  o.bind(ex, 0);
  EXPECT_THROW(o.step(0), Error);
}

}  // namespace
}  // namespace sg

namespace sg {
namespace {

TEST(Optimizer, NotesSketchesThatAStepOverloads) {
  testing_optim::Tiny t;  // emb/W: 40 rows, row-sparse gradient of up to 24 rows per step
  OptimizerConfig cfg;
  cfg.state = "emb/W=m:cs:5x,v:cm:5x";  // width round(40 / 15) = 3 < 24
  const auto notes = Optimizer(cfg, t.g, t.grads).sketch_load_notes();
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("emb/W"), std::string::npos) << notes[0];
  EXPECT_NE(notes[0].find("up to 24 of its 40 rows"), std::string::npos) << notes[0];
  EXPECT_NE(notes[0].find("3 buckets"), std::string::npos) << notes[0];
  EXPECT_NE(notes[0].find("load 8.00"), std::string::npos) << notes[0];
  // 40 rows, 24 touched, depth 3: no sketch above 1x holds them; at depth 1, 1.6x does.
  EXPECT_NE(notes[0].find("no compression above 1x at depth 3"), std::string::npos) << notes[0];
  cfg.state = "emb/W=m:cs:5x:d1,v:cm:5x:d1";
  const auto d1 = Optimizer(cfg, t.g, t.grads).sketch_load_notes();
  ASSERT_EQ(d1.size(), 1u);
  EXPECT_NE(d1[0].find("compression at most 1.6x at depth 1 (now 5x)"), std::string::npos) << d1[0];
  cfg.state = "emb/W=m:cs:1.6x:d1,v:cm:1.6x:d1";  // the advice taken: the note goes
  EXPECT_TRUE(Optimizer(cfg, t.g, t.grads).sketch_load_notes().empty());

  cfg.state = "emb/W=m:cs:1.5x:d1,v:cm:1.5x:d1";  // width 27 >= 24: not overloaded, 27 < 40 rows
  EXPECT_TRUE(Optimizer(cfg, t.g, t.grads).sketch_load_notes().empty());
  cfg.state = "emb/W=m:cs:1x:d1,v:cm:0.5x:d1";  // 40 and 80 buckets for 40 rows: no memory saved
  const auto big = Optimizer(cfg, t.g, t.grads).sketch_load_notes();
  ASSERT_EQ(big.size(), 2u);
  EXPECT_NE(big[0].find("emb/W/m: its sketch has 40 rows of buckets"), std::string::npos) << big[0];
  EXPECT_NE(big[1].find("emb/W/v: its sketch has 80 rows of buckets"), std::string::npos) << big[1];
  EXPECT_NE(big[1].find("compression 0.5x"), std::string::npos) << big[1];
  cfg.state = "dense";
  EXPECT_TRUE(Optimizer(cfg, t.g, t.grads).sketch_load_notes().empty());

  // More ids per step (24) than rows (10): a step touches at most all 10 rows, never "24 of its
  // 10" (QA: "up to 640 of its 495 rows").
  testing_optim::Tiny small(10);
  cfg.state = "emb/W=m:cs:5x,v:cm:5x";  // width max(1, round(10 / 15)) buckets
  const auto few = Optimizer(cfg, small.g, small.grads).sketch_load_notes();
  ASSERT_EQ(few.size(), 1u);
  EXPECT_NE(few[0].find("can touch all 10 of its 10 rows"), std::string::npos) << few[0];
  EXPECT_NE(few[0].find("more than the 1 bucket per hash row"), std::string::npos) << few[0];
  EXPECT_EQ(few[0].find("24"), std::string::npos) << few[0];
}

// A preset that changes no store of the optimizer is said (it used to be silently ignored while
// train's header claimed "optimizer sm3 with cs-mv state").
TEST(Optimizer, NotesAStatePolicyThatChangesNothing) {
  testing_optim::Tiny t;  // emb/W has a row-sparse gradient: the presets' target
  auto notes = [&](const std::string& rule, const std::string& state) {
    OptimizerConfig cfg;
    cfg.rule = rule;
    cfg.state = state;
    return Optimizer(cfg, t.g, t.grads).policy_notes();
  };
  for (const auto& [rule, state, keeps] :
       {std::tuple<std::string, std::string, std::string>{"momentum", "cs-v", "m (dense)"},
        {"momentum", "cs-v-nom", "m (dense)"},
        {"rmsprop", "cs-m", "v (dense)"},
        {"sm3", "cs-mv", "SM3 covers"},
        {"topk-sgd", "bf16", "error feedback"}}) {
    const auto n = notes(rule, state);
    ASSERT_EQ(n.size(), 1u) << rule << " " << state;
    EXPECT_NE(n[0].find("--state " + state + " changes nothing for --optimizer " + rule),
              std::string::npos)
        << n[0];
    EXPECT_NE(n[0].find("keeps " + keeps), std::string::npos) << n[0];
  }
  for (const auto& [rule, state] :
       {std::pair<std::string, std::string>{"adam", "cs-mv"},
        {"adam", "dense"},
        {"momentum", "cs-mv"},  // m is sketched: the v half has nothing to hold, the m half works
        {"rmsprop", "cs-v"},
        {"adam", "cs-v-nom"},
        {"momentum", "bf16"},
        {"sgd", "cs-mv"}})  // no state at all: train's own note says so
    EXPECT_TRUE(notes(rule, state).empty()) << rule << " " << state;
}

}  // namespace
}  // namespace sg
