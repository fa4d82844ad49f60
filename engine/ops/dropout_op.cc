// Dropout graph op: y = x * mask / (1 - p) while training (OpContext::training), y = x otherwise.
// The mask is drawn from engine/rng.h with the run seed, a stream mixing the global step with the
// op's salt, and the element index; the gradient op recomputes the same mask (no mask buffer): dx =
// dy * mask / (1 - p).
#include "engine/dispatch.h"
#include "engine/kernels/dropout_kernels.h"
#include "engine/kernels/elementwise_kernels.h"
#include "engine/ops/op_common.h"
#include "engine/ops/ops.h"
#include "engine/rng.h"

namespace sg {

using namespace ops_detail;

namespace {

// Same map for forward (x -> y) and backward (dy -> dx).
class DropoutOp final : public Op {
 public:
  DropoutOp(float p, uint64_t salt, bool grad) : p_(p), salt_(salt), grad_(grad) {}
  std::string type() const override { return grad_ ? "dropout_grad" : "dropout"; }
  void run(OpContext& c) const override {
    const float* x = c.in(0).f32();
    float* y = c.out(0).f32();
    const int64_t n = c.out(0).numel();
    if (!c.training || p_ == 0.0f) {
      SG_DISPATCH(c.be, copy, x, y, n);
      return;
    }
    const uint64_t stream = rng_u64(salt_, static_cast<uint64_t>(c.step), 0x64726f706f7574ULL);
    if (grad_)
      SG_DISPATCH(c.be, dropout_backward, x, y, n, p_, c.seed, stream);
    else
      SG_DISPATCH(c.be, dropout_forward, x, y, n, p_, c.seed, stream);
  }
  void backward(Graph& g, const Node& node, const std::vector<Grad>& og,
                std::vector<Grad>& ig) const override {
    SG_CHECK(!grad_, "dropout_grad is not differentiable");
    ig[0].dense =
        g.add1(std::make_shared<DropoutOp>(p_, salt_, true), {dense_grad(og[0], "dropout")},
               ValueSpec{name_for(g, "dropout_grad"), g.value(node.inputs[0]).shape});
  }

 private:
  float p_;
  uint64_t salt_;
  bool grad_;
};

}  // namespace

ValueId dropout(Graph& g, ValueId x, float p, uint64_t salt) {
  check_dtype(g, x, DType::F32, "dropout", "x");
  SG_CHECK(p >= 0.0f && p < 1.0f, "dropout: probability ", p, " must be in [0, 1)");
  if (salt == 0) salt = 0x5eed0000ULL + g.nodes().size();
  return g.add1(std::make_shared<DropoutOp>(p, salt, false), {x},
                ValueSpec{name_for(g, "dropout"), g.value(x).shape});
}

}  // namespace sg
