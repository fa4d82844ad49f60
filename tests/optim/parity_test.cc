// CPU vs CUDA agreement of the optimizer (every store kind, lossy sketches with collisions, both
// update semantics, SM3, error feedback), and bitwise determinism of repeated CUDA runs. Skipped
// without a GPU.
#include <gtest/gtest.h>

#include <cmath>

#include "tests/optim/optim_test_util.h"

namespace sg {
namespace {
using testing_optim::train_tiny;
using testing_optim::TrainResult;

void expect_close(const std::vector<float>& a, const std::vector<float>& b, const std::string& what,
                  double rel = 2e-4) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (size_t i = 0; i < a.size(); ++i)
    ASSERT_NEAR(a[i], b[i], rel * (1 + std::fabs(a[i]))) << what << " element " << i;
}

struct Case {
  const char* rule;
  const char* state;
};
void PrintTo(const Case& c, std::ostream* os) {
  *os << "--optimizer " << c.rule << " --state " << c.state;
}

class OptimParity : public ::testing::TestWithParam<Case> {};

TEST_P(OptimParity, CpuMatchesCuda) {
  if (!Backend::cuda_available()) GTEST_SKIP() << "no GPU";
  OptimizerConfig cfg;
  cfg.rule = GetParam().rule;
  cfg.state = GetParam().state;
  cfg.lr = 0.02f;
  cfg.clip = 3.f;
  cfg.sparsify = 0.25f;
  TrainResult c = train_tiny(cfg, 5, "cpu", 2, 10);  // ids from 10 rows: many duplicates
  TrainResult g = train_tiny(cfg, 5, "cuda", 2, 10);
  EXPECT_NEAR(c.norm, g.norm, 1e-4 * c.norm);
  expect_close(c.E, g.E, "emb/W");
  expect_close(c.P, g.P, "dense/W");
  ASSERT_EQ(c.state.size(), g.state.size());
  for (size_t i = 0; i < c.state.size(); ++i) {
    if (c.state[i].first.find(".hash") != std::string::npos)
      EXPECT_TRUE(testing_optim::bitwise_equal(c.state[i].second, g.state[i].second));
    else  // bf16 moments: the devices' gradients differ in their last bits, which can move a
          // stochastic rounding by one bf16 step (2^-8 relative)
      expect_close(c.state[i].second, g.state[i].second, c.state[i].first,
                   c.bf16_state.count(c.state[i].first) ? 1.0 / 128 : 2e-4);
  }
  TrainResult g2 = train_tiny(cfg, 5, "cuda", 2, 10);  // bitwise reproducible on the device
  EXPECT_TRUE(testing_optim::bitwise_equal(g.E, g2.E));
  EXPECT_TRUE(testing_optim::bitwise_equal(g.P, g2.P));
}

INSTANTIATE_TEST_SUITE_P(
    Stores, OptimParity,
    ::testing::Values(Case{"adam", "dense"},
                      Case{"adam", "emb/W=m:cs:5x,v:cm:5x;dense/W=m:cs:3x,v:cm:3x"},
                      Case{"adam", "emb/W=m:cs:5x:paper,v:cm:5x:paper:clean=0.5/2"},
                      Case{"adam", "emb/W=m:cs:5x:paper,v:cm:5x:cu"}, Case{"adam", "cs-v-nom"},
                      Case{"momentum", "emb/W=m:cs:2x:d5"}, Case{"nesterov", "dense"},
                      Case{"adagrad", "emb/W=v:cm:4x:d4"}, Case{"rmsprop", "cs-v"},
                      Case{"adamw", "dense"}, Case{"sgd", "dense"}, Case{"sm3", "dense"},
                      Case{"sm3-momentum", "emb/W=m:cs:3x;dense/W=m:cs:2x"}, Case{"adam", "bf16"},
                      Case{"topk-sgd", "dense"}, Case{"randk-sgd", "dense"}),
    [](const ::testing::TestParamInfo<Case>& i) {
      return testing_optim::param_test_name(std::string(i.param.rule) + "_" + i.param.state,
                                            i.index);
    });

}  // namespace
}  // namespace sg
