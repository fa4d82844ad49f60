// Element-wise graph ops: fill, add, sub, mul, scale, sigmoid, tanh, bias_add (and the column-sum
// op behind the bias gradient). Gradients:
//   add: da = dy, db = dy         sub: da = dy, db = -dy        mul: da = dy * b, db = dy * a
//   scale: dx = alpha * dy        sigmoid: dx = dy * y (1 - y)  tanh: dx = dy (1 - y^2)   (y = the
//   op's output) bias_add: dx = dy, db[c] = sum over rows of dy[:, c]
#include "engine/dispatch.h"
#include "engine/kernels/elementwise_kernels.h"
#include "engine/kernels/reduce_kernels.h"
#include "engine/ops/op_common.h"
#include "engine/ops/ops.h"

namespace sg {

using namespace ops_detail;

namespace {

class FillOp final : public Op {
 public:
  explicit FillOp(float v) : v_(v) {}
  std::string type() const override { return "fill"; }
  void run(OpContext& c) const override {
    SG_DISPATCH(c.be, fill, c.out(0).f32(), c.out(0).numel(), v_);
  }

 private:
  float v_;
};

enum class Bin { Add, Sub, Mul };

class BinaryOp final : public Op {
 public:
  explicit BinaryOp(Bin k) : k_(k) {}
  std::string type() const override {
    return k_ == Bin::Add ? "add" : k_ == Bin::Sub ? "sub" : "mul";
  }
  void run(OpContext& c) const override {
    const float *a = c.in(0).f32(), *b = c.in(1).f32();
    float* y = c.out(0).f32();
    const int64_t n = c.out(0).numel();
    switch (k_) {
      case Bin::Add:
        SG_DISPATCH(c.be, add, a, b, y, n);
        break;
      case Bin::Sub:
        SG_DISPATCH(c.be, sub, a, b, y, n);
        break;
      case Bin::Mul:
        SG_DISPATCH(c.be, mul, a, b, y, n);
        break;
    }
  }
  void backward(Graph& g, const Node& node, const std::vector<Grad>& og,
                std::vector<Grad>& ig) const override {
    ValueId dy = dense_grad(og[0], type().c_str());
    ValueId a = node.inputs[0], b = node.inputs[1];
    const bool ga = g.value(a).requires_grad, gb = g.value(b).requires_grad;
    switch (k_) {
      case Bin::Add:
        if (ga) ig[0].dense = dy;
        if (gb) ig[1].dense = dy;
        break;
      case Bin::Sub:
        if (ga) ig[0].dense = dy;
        if (gb) ig[1].dense = scale(g, dy, -1.0f);
        break;
      case Bin::Mul:
        if (ga) ig[0].dense = mul(g, dy, b);
        if (gb) ig[1].dense = mul(g, dy, a);
        break;
    }
  }

 private:
  Bin k_;
};

class ScaleOp final : public Op {
 public:
  explicit ScaleOp(float a) : a_(a) {}
  std::string type() const override { return "scale"; }
  void run(OpContext& c) const override {
    SG_DISPATCH(c.be, scale, c.in(0).f32(), a_, c.out(0).f32(), c.out(0).numel());
  }
  void backward(Graph& g, const Node&, const std::vector<Grad>& og,
                std::vector<Grad>& ig) const override {
    ig[0].dense = scale(g, dense_grad(og[0], "scale"), a_);
  }

 private:
  float a_;
};

// Gradient of sigmoid / tanh from the forward output y and dy.
class ActivationGradOp final : public Op {
 public:
  explicit ActivationGradOp(bool is_tanh) : tanh_(is_tanh) {}
  std::string type() const override { return tanh_ ? "tanh_grad" : "sigmoid_grad"; }
  void run(OpContext& c) const override {
    const float *y = c.in(0).f32(), *dy = c.in(1).f32();
    float* dx = c.out(0).f32();
    const int64_t n = c.out(0).numel();
    if (tanh_)
      SG_DISPATCH(c.be, tanh_backward, y, dy, dx, n);
    else
      SG_DISPATCH(c.be, sigmoid_backward, y, dy, dx, n);
  }

 private:
  bool tanh_;
};

class ActivationOp final : public Op {
 public:
  explicit ActivationOp(bool is_tanh) : tanh_(is_tanh) {}
  std::string type() const override { return tanh_ ? "tanh" : "sigmoid"; }
  void run(OpContext& c) const override {
    const float* x = c.in(0).f32();
    float* y = c.out(0).f32();
    const int64_t n = c.out(0).numel();
    if (tanh_)
      SG_DISPATCH(c.be, tanh_forward, x, y, n);
    else
      SG_DISPATCH(c.be, sigmoid_forward, x, y, n);
  }
  void backward(Graph& g, const Node& node, const std::vector<Grad>& og,
                std::vector<Grad>& ig) const override {
    ValueId y = node.outputs[0];
    const Value& x = g.value(node.inputs[0]);
    ig[0].dense =
        g.add1(std::make_shared<ActivationGradOp>(tanh_), {y, dense_grad(og[0], "activation")},
               ValueSpec{name_for(g, type() + "_grad"), x.shape});
  }

 private:
  bool tanh_;
};

// y[c] = sum over rows of x[r, c], x viewed as [numel / C, C].
class ColumnSumOp final : public Op {
 public:
  std::string type() const override { return "column_sum"; }
  void run(OpContext& c) const override {
    const int64_t cols = c.out(0).numel();
    SG_DISPATCH(c.be, column_sum, c.in(0).f32(), c.in(0).numel() / cols, cols, c.out(0).f32());
  }
};

class BiasAddOp final : public Op {
 public:
  std::string type() const override { return "bias_add"; }
  void run(OpContext& c) const override {
    const int64_t cols = c.in(1).numel();
    SG_DISPATCH(c.be, bias_add, c.in(0).f32(), c.in(1).f32(), c.out(0).f32(),
                c.in(0).numel() / cols, cols);
  }
  void backward(Graph& g, const Node& node, const std::vector<Grad>& og,
                std::vector<Grad>& ig) const override {
    ValueId dy = dense_grad(og[0], "bias_add");
    if (g.value(node.inputs[0]).requires_grad) ig[0].dense = dy;
    if (g.value(node.inputs[1]).requires_grad)
      ig[1].dense = g.add1(std::make_shared<ColumnSumOp>(), {dy},
                           ValueSpec{name_for(g, "bias_grad"), g.value(node.inputs[1]).shape});
  }
};

ValueId binary(Graph& g, Bin k, ValueId a, ValueId b, const char* name) {
  check_dtype(g, a, DType::F32, name, "a");
  check_dtype(g, b, DType::F32, name, "b");
  check_same_shape(g, a, b, name);
  return g.add1(std::make_shared<BinaryOp>(k), {a, b},
                ValueSpec{name_for(g, name), g.value(a).shape});
}

ValueId unary(Graph& g, std::shared_ptr<const Op> op, ValueId x, const char* name) {
  check_dtype(g, x, DType::F32, name, "x");
  return g.add1(std::move(op), {x}, ValueSpec{name_for(g, name), g.value(x).shape});
}

}  // namespace

std::shared_ptr<const Op> make_fill_op(float value) { return std::make_shared<FillOp>(value); }
std::shared_ptr<const Op> make_add_op() { return std::make_shared<BinaryOp>(Bin::Add); }

ValueId fill(Graph& g, Shape shape, float value) {
  return g.add1(make_fill_op(value), {}, ValueSpec{name_for(g, "fill"), std::move(shape)});
}
ValueId add(Graph& g, ValueId a, ValueId b) { return binary(g, Bin::Add, a, b, "add"); }
ValueId sub(Graph& g, ValueId a, ValueId b) { return binary(g, Bin::Sub, a, b, "sub"); }
ValueId mul(Graph& g, ValueId a, ValueId b) { return binary(g, Bin::Mul, a, b, "mul"); }
ValueId scale(Graph& g, ValueId x, float alpha) {
  return unary(g, std::make_shared<ScaleOp>(alpha), x, "scale");
}
ValueId sigmoid(Graph& g, ValueId x) {
  return unary(g, std::make_shared<ActivationOp>(false), x, "sigmoid");
}
ValueId tanh(Graph& g, ValueId x) {
  return unary(g, std::make_shared<ActivationOp>(true), x, "tanh");
}

ValueId bias_add(Graph& g, ValueId x, ValueId bias) {
  check_dtype(g, x, DType::F32, "bias_add", "x");
  check_dtype(g, bias, DType::F32, "bias_add", "bias");
  const Shape &xs = g.value(x).shape, &bs = g.value(bias).shape;
  SG_CHECK(xs.rank() >= 1 && bs.rank() == 1 && bs[0] == xs[xs.rank() - 1], "bias_add: bias shape ",
           bs.str(), " does not match the last dimension of x ", xs.str());
  return g.add1(std::make_shared<BiasAddOp>(), {x, bias}, ValueSpec{name_for(g, "bias_add"), xs});
}

}  // namespace sg
