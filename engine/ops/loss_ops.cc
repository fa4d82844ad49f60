// Full-softmax cross-entropy graph op (engine/kernels/softmax_xent_kernels.h):
//   logits [..., C] viewed as [N, C], targets i32 [...] viewed as [N]
//   outputs: loss [1] = mean_i (logsumexp(x_i) - x_{i, t_i}), row_loss [...] (per row, not
//            differentiable)
//   gradient: dlogits = (softmax(x) - onehot(t)) * dloss / N, recomputed from the logits (no
//             stored softmax).
#include "engine/dispatch.h"
#include "engine/kernels/softmax_xent_kernels.h"
#include "engine/ops/op_common.h"
#include "engine/ops/ops.h"

namespace sg {

using namespace ops_detail;

namespace {

class XentGradOp final : public Op {
 public:
  std::string type() const override { return "softmax_xent_grad"; }
  void run(OpContext& c) const override {
    const int64_t n = c.in(1).numel(), cls = c.in(0).numel() / (n ? n : 1);
    SG_DISPATCH(c.be, softmax_xent_backward, c.in(0).f32(), c.in(1).i32(), c.in(2).f32(), n, cls,
                c.out(0).f32());
  }
};

class XentOp final : public Op {
 public:
  std::string type() const override { return "softmax_xent"; }
  void run(OpContext& c) const override {
    const int64_t n = c.in(1).numel(), cls = c.in(0).numel() / (n ? n : 1);
    SG_DISPATCH(c.be, softmax_xent_forward, c.in(0).f32(), c.in(1).i32(), n, cls, c.out(1).f32(),
                c.out(0).f32());
  }
  void backward(Graph& g, const Node& node, const std::vector<Grad>& og,
                std::vector<Grad>& ig) const override {
    SG_CHECK(!og[1].defined(),
             "log_softmax_cross_entropy: the per-row losses are not differentiable; use the "
             "mean loss");
    const ValueId logits = node.inputs[0];
    ig[0].dense =
        g.add1(std::make_shared<XentGradOp>(), {logits, node.inputs[1], dense_grad(og[0], "xent")},
               ValueSpec{name_for(g, "logits_grad"), g.value(logits).shape});
  }
};

}  // namespace

ValueId log_softmax_cross_entropy(Graph& g, ValueId logits, ValueId targets, ValueId* row_loss) {
  check_dtype(g, logits, DType::F32, "log_softmax_cross_entropy", "logits");
  check_dtype(g, targets, DType::I32, "log_softmax_cross_entropy", "targets");
  const Shape &ls = g.value(logits).shape, &ts = g.value(targets).shape;
  bool ok = ls.rank() >= 1 && ts.rank() == ls.rank() - 1 && ls[ls.rank() - 1] > 0;
  for (int i = 0; ok && i < ts.rank(); ++i) ok = ts[i] == ls[i];
  SG_CHECK(ok, "log_softmax_cross_entropy: targets ", ts.str(),
           " must match the leading dims of logits ", ls.str());
  const std::string base = name_for(g, "xent");
  auto outs = g.add(std::make_shared<XentOp>(), {logits, targets},
                    {ValueSpec{base + ".loss", Shape{1}}, ValueSpec{base + ".row_loss", ts}});
  if (row_loss) *row_loss = outs[1];
  return outs[0];
}

}  // namespace sg
