// Reduction graph ops: sum and mean of all elements to a [1] value. Gradient: dx[i] = scale * dy[0]
// with scale = 1 (sum) or 1 / numel (mean), a broadcast of the device scalar (no host round trip).
#include "engine/dispatch.h"
#include "engine/kernels/elementwise_kernels.h"
#include "engine/kernels/reduce_kernels.h"
#include "engine/ops/op_common.h"
#include "engine/ops/ops.h"

namespace sg {

using namespace ops_detail;

namespace {

class BroadcastScalarOp final : public Op {
 public:
  explicit BroadcastScalarOp(float s) : s_(s) {}
  std::string type() const override { return "broadcast_scalar"; }
  void run(OpContext& c) const override {
    SG_DISPATCH(c.be, fill_from_scalar, c.in(0).f32(), s_, c.out(0).f32(), c.out(0).numel());
  }

 private:
  float s_;
};

class SumOp final : public Op {
 public:
  explicit SumOp(bool mean) : mean_(mean) {}
  std::string type() const override { return mean_ ? "mean" : "sum"; }
  void run(OpContext& c) const override {
    const int64_t n = c.in(0).numel();
    SG_DISPATCH(c.be, sum_all, c.in(0).f32(), n, scale(n), c.out(0).f32());
  }
  void backward(Graph& g, const Node& node, const std::vector<Grad>& og,
                std::vector<Grad>& ig) const override {
    const Value& x = g.value(node.inputs[0]);
    ig[0].dense = g.add1(std::make_shared<BroadcastScalarOp>(scale(x.shape.numel())),
                         {dense_grad(og[0], type().c_str())},
                         ValueSpec{name_for(g, type() + "_grad"), x.shape});
  }

 private:
  float scale(int64_t n) const {
    return mean_ ? (n > 0 ? 1.0f / static_cast<float>(n) : 0.0f) : 1.0f;
  }
  bool mean_;
};

ValueId reduce(Graph& g, ValueId x, bool is_mean) {
  const char* name = is_mean ? "mean" : "sum";
  check_dtype(g, x, DType::F32, name, "x");
  return g.add1(std::make_shared<SumOp>(is_mean), {x}, ValueSpec{name_for(g, name), Shape{1}});
}

}  // namespace

ValueId sum(Graph& g, ValueId x) { return reduce(g, x, false); }
ValueId mean(Graph& g, ValueId x) { return reduce(g, x, true); }

}  // namespace sg
