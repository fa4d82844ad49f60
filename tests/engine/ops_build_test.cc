// Builder API: output shapes, and the clear errors raised at graph-build time for bad input (shape
// and dtype mismatches, axes out of range, bad probabilities), plus run-time errors for
// out-of-range ids and targets and for an unknown device.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/backend.h"
#include "engine/executor.h"
#include "engine/ops/ops.h"

namespace sg {
namespace {

using ::testing::HasSubstr;

// Runs f and expects an sg::Error whose message contains every fragment.
template <typename F>
void expect_error(F f, std::vector<std::string> fragments) {
  try {
    f();
    ADD_FAILURE() << "expected sg::Error";
  } catch (const Error& e) {
    for (const auto& s : fragments) EXPECT_THAT(e.what(), HasSubstr(s));
  }
}

TEST(OpsBuild, OutputShapes) {
  Graph g;
  ValueId x = g.input("x", {2, 3, 4});
  ValueId w = g.parameter("w", {4, 5});
  ValueId wt = g.parameter("wt", {5, 4});
  EXPECT_EQ(g.value(matmul(g, x, w)).shape, (Shape{2, 3, 5}));
  EXPECT_EQ(g.value(matmul(g, x, wt, false, true)).shape, (Shape{2, 3, 5}));
  EXPECT_EQ(g.value(matmul(g, x, g.input("y", {6, 7}), true)).shape, (Shape{4, 7}));
  EXPECT_EQ(g.value(batched_matmul(g, x, g.input("z", {2, 5, 4}), false, true)).shape,
            (Shape{2, 3, 5}));
  EXPECT_EQ(g.value(slice(g, x, -1, 1, 2)).shape, (Shape{2, 3, 2}));
  EXPECT_EQ(g.value(concat(g, {x, x}, 1)).shape, (Shape{2, 6, 4}));
  EXPECT_EQ(g.value(sum(g, x)).shape, (Shape{1}));
  EXPECT_EQ(g.value(reshape(g, x, {6, 4})).shape, (Shape{6, 4}));
  ValueId ids = g.input("ids", {3, 2}, DType::I32);
  EXPECT_EQ(g.value(gather(g, w, ids)).shape, (Shape{3, 2, 5}));
  ValueId rows;
  ValueId loss = log_softmax_cross_entropy(g, g.input("logits", {3, 2, 9}), ids, &rows);
  EXPECT_EQ(g.value(loss).shape, (Shape{1}));
  EXPECT_EQ(g.value(rows).shape, (Shape{3, 2}));
}

TEST(OpsBuild, ShapeMismatchPrintsBothShapes) {
  Graph g;
  ValueId a = g.input("a", {2, 3}), b = g.input("b", {3, 2});
  expect_error([&] { add(g, a, b); }, {"add", "[2,3]", "[3,2]"});
  expect_error([&] { mul(g, a, b); }, {"mul", "[2,3]", "[3,2]"});
  expect_error([&] { matmul(g, a, a); }, {"matmul", "inner dimensions", "[2,3]"});
  expect_error([&] { batched_matmul(g, a, b); }, {"batched_matmul", "[2,3]"});
  expect_error([&] { bias_add(g, a, g.input("bias", {2})); }, {"bias_add", "[2]", "[2,3]"});
  expect_error([&] { concat(g, {a, b}, 0); }, {"concat", "[2,3]", "[3,2]"});
  expect_error([&] { reshape(g, a, {4, 2}); }, {"reshape", "[2,3]", "[4,2]"});
  expect_error(
      [&] {
        gather(g, g.input("t", {2, 3, 4}), g.input("i", {2}, DType::I32));
      },
      {"gather", "[2,3,4]"});
  expect_error([&] { log_softmax_cross_entropy(g, a, g.input("t2", {3}, DType::I32)); },
               {"cross_entropy", "[3]", "[2,3]"});
}

TEST(OpsBuild, AxisOutOfRange) {
  Graph g;
  ValueId a = g.input("a", {2, 3});
  expect_error([&] { slice(g, a, 2, 0, 1); }, {"axis 2 out of range", "[2,3]"});
  expect_error([&] { slice(g, a, -3, 0, 1); }, {"axis -3"});
  expect_error([&] { slice(g, a, 1, 2, 2); }, {"slice", "out of bounds", "[2,3]"});
  expect_error([&] { concat(g, {a, a}, 5); }, {"axis 5"});
}

TEST(OpsBuild, DtypeMismatch) {
  Graph g;
  ValueId f = g.input("f", {4}), i = g.input("i", {4}, DType::I32);
  expect_error([&] { add(g, f, i); }, {"add", "i32", "expected f32"});
  expect_error([&] { sigmoid(g, i); }, {"sigmoid", "i32"});
  expect_error(
      [&] {
        gather(g, g.input("t", {5, 2}), f);
      },
      {"gather", "ids", "f32", "expected i32"});
  expect_error(
      [&] {
        log_softmax_cross_entropy(g, g.input("l", {4, 3}), f);
      },
      {"targets", "expected i32"});
  expect_error([&] { dropout(g, f, 1.0f); }, {"dropout", "[0, 1)"});
  expect_error([&] { concat(g, {}, 0); }, {"concat", "no inputs"});
}

TEST(OpsBuild, UnknownDeviceIsAClearError) {
  expect_error([] { Backend::create("tpu"); }, {"unknown device 'tpu'"});
  if (!Backend::cuda_available()) EXPECT_THROW(Backend::create("cuda"), Error);
}

TEST(OpsRun, OutOfRangeIdAndTargetThrowOnCpu) {
  Graph g;
  ValueId table = g.parameter("table", {4, 2});
  ValueId ids = g.input("ids", {3}, DType::I32);
  ValueId targets = g.input("targets", {3}, DType::I32);
  ValueId loss = log_softmax_cross_entropy(g, gather(g, table, ids), targets);
  g.backward(loss);
  auto be = Backend::create("cpu", 1);
  Executor ex(g, *be);
  auto run = [&](std::vector<int32_t> i, std::vector<int32_t> t) {
    ex.upload(ids, i.data(), 12);
    ex.upload(targets, t.data(), 12);
    ex.run(0, 0, true);
  };
  EXPECT_NO_THROW(run({0, 3, 3}, {1, 0, 1}));
  expect_error([&] { run({0, 4, 3}, {1, 0, 1}); }, {"gather", "id 4", "position 1", "[0, 4)"});
  expect_error([&] { run({0, 1, 3}, {1, 2, 1}); }, {"target 2", "row 1", "[0, 2)"});
}

TEST(OpsRun, SparseGradientOfEmbeddingHasNoDenseTableBuffer) {
  // The planner never sees a [V, D] gradient buffer for a gathered parameter.
  Graph g;
  const int64_t V = 100000, D = 8;
  ValueId table = g.parameter("table", {V, D});
  ValueId ids = g.input("ids", {4, 5}, DType::I32);
  ValueId loss = sum(g, gather(g, table, ids));
  auto grads = g.backward(loss);
  ASSERT_TRUE(grads.at(table).is_sparse());
  const SparseRows s = grads.at(table).sparse;
  EXPECT_EQ(g.value(s.ids).shape, (Shape{20}));
  EXPECT_EQ(g.value(s.rows).shape, (Shape{20, D}));
  EXPECT_EQ(g.value(s.count).shape, (Shape{1}));
  for (const auto& v : g.values())
    if (v.category == Category::Gradient) EXPECT_LT(v.shape.numel(), V) << v.name;
  auto be = Backend::create("cpu", 1);
  Executor ex(g, *be, ExecutorOptions{{}, {}, {s.ids, s.rows, s.count}});
  std::vector<int32_t> idv = {5, 5, 9, 0, 99999, 5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 5};
  ex.upload(ids, idv.data(), idv.size() * 4);
  ex.run(0, 0, true);
  std::vector<int32_t> out(20), count(1);
  ex.download(s.ids, out.data(), 80);
  ex.download(s.count, count.data(), 4);
  EXPECT_EQ(count[0], 15);
  EXPECT_EQ(out[0], 0);
  EXPECT_EQ(out[14], 99999);
  auto rows = ex.read_f32(s.rows);
  EXPECT_EQ(rows[5 * D], 5.0f);  // id 5 appears 5 times, d loss / d out = 1
}

TEST(OpsRun, DropoutIsIdentityInEvalAndDependsOnStep) {
  Graph g;
  ValueId x = g.input("x", {1000});
  ValueId y = dropout(g, x, 0.5f);
  g.keep(y);
  auto be = Backend::create("cpu", 1);
  Executor ex(g, *be);
  std::vector<float> ones(1000, 1.0f);
  auto run = [&](int64_t step, bool training) {
    ex.upload(x, ones.data(), 4000);
    ex.run(step, 99, training);
    return ex.read_f32(y);
  };
  EXPECT_EQ(run(1, false), ones);
  auto a = run(1, true), b = run(1, true), c = run(2, true);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

}  // namespace
}  // namespace sg
