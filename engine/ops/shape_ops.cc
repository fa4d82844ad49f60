// Shape graph ops: slice, concat (any axis) and reshape. A tensor of shape [..., D, ...] with the
// axis of size D is viewed as [outer, D * inner] (outer = product of the dims before the axis,
// inner = after it); a slice or a concat piece is then one strided 2-D block copy (copy2d) of
// [outer, len * inner] elements. Gradients: slice -> zeros with dy copied into the slice's block;
// concat -> slices of dy; reshape -> reshape.
#include "engine/dispatch.h"
#include "engine/kernels/elementwise_kernels.h"
#include "engine/ops/op_common.h"
#include "engine/ops/ops.h"

namespace sg {

using namespace ops_detail;

namespace {

struct AxisView {
  int64_t outer, size, inner;
};
AxisView view(const Shape& s, int axis) {
  return {dims_product(s, 0, axis), s[axis], dims_product(s, axis + 1, s.rank())};
}

class SliceGradOp;

class SliceOp final : public Op {
 public:
  SliceOp(int axis, int64_t start, int64_t len) : axis_(axis), start_(start), len_(len) {}
  std::string type() const override { return "slice"; }
  void run(OpContext& c) const override {
    const AxisView v = view(c.in(0).shape, axis_);
    SG_DISPATCH(c.be, copy2d, c.in(0).f32() + start_ * v.inner, v.size * v.inner, c.out(0).f32(),
                len_ * v.inner, v.outer, len_ * v.inner);
  }
  void backward(Graph& g, const Node& node, const std::vector<Grad>& og,
                std::vector<Grad>& ig) const override;

 private:
  int axis_;
  int64_t start_, len_;
};

// dx = zeros(full shape); dx[..., start:start+len, ...] = dy.
class SliceGradOp final : public Op {
 public:
  SliceGradOp(int axis, int64_t start, int64_t len) : axis_(axis), start_(start), len_(len) {}
  std::string type() const override { return "slice_grad"; }
  void run(OpContext& c) const override {
    const AxisView v = view(c.out(0).shape, axis_);
    float* dx = c.out(0).f32();
    SG_DISPATCH(c.be, fill, dx, c.out(0).numel(), 0.0f);
    SG_DISPATCH(c.be, copy2d, c.in(0).f32(), len_ * v.inner, dx + start_ * v.inner,
                v.size * v.inner, v.outer, len_ * v.inner);
  }

 private:
  int axis_;
  int64_t start_, len_;
};

void SliceOp::backward(Graph& g, const Node& node, const std::vector<Grad>& og,
                       std::vector<Grad>& ig) const {
  ig[0].dense =
      g.add1(std::make_shared<SliceGradOp>(axis_, start_, len_), {dense_grad(og[0], "slice")},
             ValueSpec{name_for(g, "slice_grad"), g.value(node.inputs[0]).shape});
}

class ConcatOp final : public Op {
 public:
  explicit ConcatOp(int axis) : axis_(axis) {}
  std::string type() const override { return "concat"; }
  void run(OpContext& c) const override {
    const AxisView out = view(c.out(0).shape, axis_);
    int64_t offset = 0;
    for (const Tensor& t : c.inputs) {
      const AxisView v = view(t.shape, axis_);
      SG_DISPATCH(c.be, copy2d, t.f32(), v.size * v.inner, c.out(0).f32() + offset * out.inner,
                  out.size * out.inner, out.outer, v.size * v.inner);
      offset += v.size;
    }
  }
  void backward(Graph& g, const Node& node, const std::vector<Grad>& og,
                std::vector<Grad>& ig) const override {
    const ValueId dy = dense_grad(og[0], "concat");
    int64_t offset = 0;
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      const int64_t len = g.value(node.inputs[i]).shape[axis_];
      if (g.value(node.inputs[i]).requires_grad) ig[i].dense = slice(g, dy, axis_, offset, len);
      offset += len;
    }
  }

 private:
  int axis_;
};

class ReshapeOp final : public Op {
 public:
  std::string type() const override { return "reshape"; }
  void run(OpContext& c) const override {
    SG_DISPATCH(c.be, copy, c.in(0).f32(), c.out(0).f32(), c.out(0).numel());
  }
  void backward(Graph& g, const Node& node, const std::vector<Grad>& og,
                std::vector<Grad>& ig) const override {
    ig[0].dense = reshape(g, dense_grad(og[0], "reshape"), g.value(node.inputs[0]).shape);
  }
};

}  // namespace

ValueId slice(Graph& g, ValueId x, int axis, int64_t start, int64_t len) {
  check_dtype(g, x, DType::F32, "slice", "x");
  const Shape& s = g.value(x).shape;
  const int ax = s.axis(axis);
  SG_CHECK(start >= 0 && len >= 0 && start + len <= s[ax], "slice: range [", start, ", ",
           start + len, ") out of bounds for axis ", axis, " of shape ", s.str());
  Shape out = s;
  out.dims[ax] = len;
  return g.add1(std::make_shared<SliceOp>(ax, start, len), {x},
                ValueSpec{name_for(g, "slice"), out});
}

ValueId concat(Graph& g, const std::vector<ValueId>& xs, int axis) {
  SG_CHECK(!xs.empty(), "concat: no inputs");
  for (ValueId x : xs) check_dtype(g, x, DType::F32, "concat", "input");
  const Shape& s0 = g.value(xs[0]).shape;
  const int ax = s0.axis(axis);
  Shape out = s0;
  out.dims[ax] = 0;
  for (ValueId x : xs) {
    const Shape& s = g.value(x).shape;
    bool ok = s.rank() == s0.rank();
    for (int i = 0; ok && i < s.rank(); ++i) ok = i == ax || s[i] == s0[i];
    SG_CHECK(ok, "concat: shape mismatch along axis ", axis, ": ", s0.str(), " vs ", s.str());
    out.dims[ax] += s[ax];
  }
  return g.add1(std::make_shared<ConcatOp>(ax), xs, ValueSpec{name_for(g, "concat"), out});
}

ValueId reshape(Graph& g, ValueId x, Shape shape) {
  check_dtype(g, x, DType::F32, "reshape", "x");
  const Shape& s = g.value(x).shape;
  SG_CHECK(shape.numel() == s.numel(), "reshape: cannot reshape ", s.str(), " (", s.numel(),
           " elements) to ", shape.str());
  return g.add1(std::make_shared<ReshapeOp>(), {x},
                ValueSpec{name_for(g, "reshape"), std::move(shape)});
}

}  // namespace sg
