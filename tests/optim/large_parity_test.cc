// CPU vs CUDA at LM-like sizes: 20,480 active ids (many repeated, Zipf-like) into a 60,000-row
// table, depth-3 sketches of width 4,000 (cs-mv 5x). The CUDA sketch update sorts depth * n =
// 61,440 keys, which takes CUB's multi-pass radix sort (the small tests only reach its single-block
// path). Results must match the CPU to float tolerance and be bitwise reproducible on the device.
// Skipped without a GPU.
#include <gtest/gtest.h>

#include <cmath>

#include "optim_test_util.h"

namespace sg::testing_optim {
namespace {

struct Large {
  static constexpr int64_t V = 60000, D = 16, N = 20480;
  Graph g;
  ValueId E, ids, C, loss;
  std::map<ValueId, Grad> grads;
  Large() {
    E = g.parameter("emb/W", {V, D});
    ids = g.input("ids", {N}, DType::I32);
    C = g.input("C", {N, D});
    loss = sum(g, mul(g, gather(g, E, ids), C));
    g.keep(loss);
    grads = g.backward(loss);
  }
};

std::pair<std::vector<float>, std::vector<std::vector<float>>> run_large(const std::string& device,
                                                                         const std::string& state) {
  Large t;
  OptimizerConfig cfg;
  cfg.rule = "adam";
  cfg.lr = 0.01f;
  cfg.state = state;
  Optimizer opt(cfg, t.g, t.grads);
  ExecutorOptions eo;
  eo.extra = opt.requests();
  eo.grads_to_keep = opt.grads_to_keep();
  auto be = Backend::create(device, 2);
  Executor ex(t.g, *be, eo);
  opt.bind(ex, 0);
  auto e0 = uniform(t.V * t.D, 11);
  ex.upload(t.E, e0.data(), e0.size() * 4);
  for (int s = 1; s <= 3; ++s) {
    std::vector<int32_t> ids(t.N);
    for (int64_t i = 0; i < t.N; ++i) {
      // Zipf-like: the inverse of a uniform draw, so small ids repeat a lot.
      const double u = rng_uniform_double(21, s, i);
      ids[i] = static_cast<int32_t>(std::min<double>(t.V - 1, std::floor(1.0 / (u + 1e-5)) - 1));
    }
    auto c = uniform(t.N * t.D, 300 + s);
    ex.upload(t.ids, ids.data(), ids.size() * 4);
    ex.upload(t.C, c.data(), c.size() * 4);
    ex.run(s, 1, true);
    opt.step(s);
  }
  be->synchronize();
  std::vector<std::vector<float>> st;
  for (auto& [name, tensor] : opt.state_tensors()) {
    std::vector<float> host(tensor.numel());
    be->copy_to_host(host.data(), tensor.data, tensor.nbytes());
    st.push_back(host);
  }
  return {ex.read_f32(t.E), st};
}

class LargeParity : public ::testing::TestWithParam<const char*> {};

TEST_P(LargeParity, CpuMatchesCudaAtLmSizes) {
  if (!Backend::cuda_available()) GTEST_SKIP() << "no GPU";
  auto c = run_large("cpu", GetParam());
  auto g = run_large("cuda", GetParam());
  ASSERT_EQ(c.first.size(), g.first.size());
  for (size_t i = 0; i < c.first.size(); ++i)
    ASSERT_NEAR(c.first[i], g.first[i], 2e-4 * (1 + std::fabs(c.first[i]))) << "emb/W " << i;
  ASSERT_EQ(c.second.size(), g.second.size());
  for (size_t k = 0; k < c.second.size(); ++k)
    for (size_t i = 0; i < c.second[k].size(); ++i)
      ASSERT_NEAR(c.second[k][i], g.second[k][i], 2e-4 * (1 + std::fabs(c.second[k][i])))
          << "state " << k << " element " << i;
  auto g2 = run_large("cuda", GetParam());
  EXPECT_TRUE(bitwise_equal(g.first, g2.first));
}

INSTANTIATE_TEST_SUITE_P(Sketches, LargeParity,
                         ::testing::Values("cs-mv", "emb/W=m:cs:5x:paper,v:cm:5x:paper"),
                         [](const ::testing::TestParamInfo<const char*>& i) {
                           return param_test_name(i.param, i.index);
                         });

}  // namespace
}  // namespace sg::testing_optim
