// Graph-level CPU-vs-CUDA parity: a small language-model-like graph (embedding gather, matmul,
// bias, sigmoid, tanh, slice/concat, dropout, softmax cross-entropy) run forward + backward through
// the executor on both backends; loss, dense gradients and the row-sparse embedding gradient must
// agree. Skipped without a GPU.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/executor.h"
#include "engine/ops/ops.h"
#include "tests/engine/kernels_test_util.h"

namespace sg {
namespace {

struct Result {
  float loss;
  std::vector<float> dw, db, rows;
  std::vector<int32_t> ids;
  int32_t count;
};

Result run_on(const std::string& device) {
  const int64_t V = 50, D = 8, H = 6, B = 4, T = 5;
  Graph g;
  ValueId emb = g.parameter("emb", {V, D});
  ValueId w = g.parameter("w", {D, 2 * H});
  ValueId b = g.parameter("b", {2 * H});
  ValueId wo = g.parameter("wo", {H, V});
  ValueId ids = g.input("ids", {B, T}, DType::I32);
  ValueId targets = g.input("targets", {B, T}, DType::I32);
  ValueId x = dropout(g, gather(g, emb, ids), 0.2f);
  ValueId gates = bias_add(g, matmul(g, x, w), b);
  ValueId h = mul(g, sigmoid(g, slice(g, gates, 2, 0, H)), tanh(g, slice(g, gates, 2, H, H)));
  ValueId logits = matmul(g, concat(g, {slice(g, h, 0, 0, 2), slice(g, h, 0, 2, 2)}, 0), wo);
  ValueId loss = log_softmax_cross_entropy(g, logits, targets);
  auto grads = g.backward(loss);
  const SparseRows s = grads.at(emb).sparse;
  auto be = Backend::create(device, 2);
  Executor ex(
      g, *be,
      ExecutorOptions{{}, {}, {grads.at(w).dense, grads.at(b).dense, s.ids, s.rows, s.count}});
  ex.upload(emb, testing::random_floats(V * D, 1).data(), V * D * 4);
  ex.upload(w, testing::random_floats(D * 2 * H, 2).data(), D * 2 * H * 4);
  ex.upload(b, testing::random_floats(2 * H, 3).data(), 2 * H * 4);
  ex.upload(wo, testing::random_floats(H * V, 4).data(), H * V * 4);
  ex.upload(ids, testing::random_ids(B * T, V / 5, 5).data(), B * T * 4);  // many duplicates
  ex.upload(targets, testing::random_ids(B * T, V, 6).data(), B * T * 4);
  ex.run(11, 42, true);
  be->synchronize();
  Result r;
  r.loss = ex.read_f32(loss)[0];
  r.dw = ex.read_f32(grads.at(w).dense);
  r.db = ex.read_f32(grads.at(b).dense);
  r.rows = ex.read_f32(s.rows);
  r.ids.resize(B * T);
  ex.download(s.ids, r.ids.data(), B * T * 4);
  ex.download(s.count, &r.count, 4);
  return r;
}

void expect_close(const std::vector<float>& a, const std::vector<float>& b, const char* what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (size_t i = 0; i < a.size(); ++i)
    EXPECT_NEAR(a[i], b[i], 1e-4 * std::max(1.0f, std::fabs(a[i]))) << what << i;
}

TEST(OpsParity, SmallLanguageModelForwardBackward) {
  if (!Backend::cuda_available()) GTEST_SKIP() << "no GPU: CPU-vs-CUDA parity not checked";
  Result c = run_on("cpu"), g = run_on("cuda");
  EXPECT_NEAR(c.loss, g.loss, 1e-5 * std::max(1.0f, c.loss));
  expect_close(c.dw, g.dw, "dw");
  expect_close(c.db, g.db, "db");
  EXPECT_EQ(c.count, g.count);
  for (int32_t i = 0; i < c.count; ++i) EXPECT_EQ(c.ids[i], g.ids[i]);
  c.rows.resize(c.count * 8);
  g.rows.resize(g.count * 8);
  expect_close(c.rows, g.rows, "sparse rows");
}

}  // namespace
}  // namespace sg
