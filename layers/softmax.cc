// Full softmax cross-entropy builder and its fused training op (see softmax.h).
// Fused forward op: inputs h [N, D], W [V, D], b [V], targets [N]; outputs loss [1], row_loss [N],
//   delta [N, V], colsum [V]; workspace: softmax_xent_delta's chunk column sums.
//   run(): GEMM h W^T straight into delta, then one in-place row pass (softmax_xent_delta) turns
//   it into delta = (softmax(h W^T + b) - onehot) / N while computing the losses and colsum.
// Gradient op: inputs h, W, delta, colsum, dloss; outputs dh [N, D], dW [V, D], db [V];
//   workspace: one zero float (beta for the device-scalar GEMMs).
//   dlogits = dloss * delta is never formed: dh = dloss * delta W and dW = dloss * delta^T h are
//   GEMMs with alpha = dloss read from device memory, db = dloss * colsum.
// Compared with matmul + bias_add + softmax_xent (+ their gradients) this drops the bias pass, the
// column-sum pass and the softmax-gradient pass over [N, V], and one [N, V] buffer.
#include "layers/softmax.h"

#include "engine/dispatch.h"
#include "engine/kernels/blas_kernels.h"
#include "engine/kernels/elementwise_kernels.h"
#include "engine/kernels/softmax_xent_kernels.h"
#include "engine/ops/ops.h"
#include "layers/linear.h"

namespace sg {

namespace {

class FullSoftmaxGradOp final : public Op {
 public:
  FullSoftmaxGradOp(int64_t n, int64_t v, int64_t d) : n_(n), v_(v), d_(d) {}
  std::string type() const override { return "full_softmax_grad"; }
  size_t workspace_bytes(const Graph&, const Node&) const override { return sizeof(float); }
  void run(OpContext& c) const override {
    const float* h = c.in(0).f32();
    const float* W = c.in(1).f32();
    const float* delta = c.in(2).f32();
    const float* colsum = c.in(3).f32();
    const float* g = c.in(4).f32();
    float* zero = static_cast<float*>(c.workspace);
    c.be.fill_zero(zero, sizeof(float));
    SG_DISPATCH(c.be, gemm_device_scalars, false, false, n_, d_, v_, g, delta, v_, W, d_, zero,
                c.out(0).f32(), d_);
    SG_DISPATCH(c.be, gemm_device_scalars, true, false, v_, d_, n_, g, delta, v_, h, d_, zero,
                c.out(1).f32(), d_);
    float* db = c.out(2).f32();
    SG_DISPATCH(c.be, fill_from_scalar, g, 1.0f, db, v_);
    SG_DISPATCH(c.be, mul, db, colsum, db, v_);
  }

 private:
  int64_t n_, v_, d_;
};

class FullSoftmaxOp final : public Op {
 public:
  FullSoftmaxOp(int64_t n, int64_t v, int64_t d, bool loss_only, bool cpu_workspace)
      : n_(n), v_(v), d_(d), loss_only_(loss_only), cpu_workspace_(cpu_workspace) {}
  std::string type() const override { return "full_softmax"; }
  size_t workspace_bytes(const Graph&, const Node&) const override {
    return loss_only_ || !cpu_workspace_ ? 0 : softmax_xent_delta_workspace_bytes(n_, v_);
  }
  void run(OpContext& c) const override {
    float* delta = c.out(2).f32();
    SG_DISPATCH(c.be, gemm, false, true, n_, v_, d_, 1.0f, c.in(0).f32(), d_, c.in(1).f32(), d_,
                0.0f, delta, v_);
    SG_DISPATCH(c.be, softmax_xent_delta, delta, c.in(2).f32(), c.in(3).i32(), n_, v_,
                c.out(1).f32(), c.out(0).f32(), loss_only_ ? nullptr : c.out(3).f32(), c.workspace,
                c.workspace_bytes);
  }
  void backward(Graph& g, const Node& node, const std::vector<Grad>& og,
                std::vector<Grad>& ig) const override {
    SG_CHECK(!loss_only_, "full softmax: built for evaluation (loss only), it has no gradient");
    for (size_t k = 1; k < og.size(); ++k)
      SG_CHECK(!og[k].defined(), "full softmax: only the mean loss is differentiable");
    SG_CHECK(og[0].defined() && !og[0].is_sparse(), "full softmax: missing loss gradient");
    const ValueId h = node.inputs[0], W = node.inputs[1], b = node.inputs[2];
    const std::string base = "full_softmax_grad." + std::to_string(g.values().size());
    auto r =
        g.add(std::make_shared<FullSoftmaxGradOp>(n_, v_, d_),
              {h, W, node.outputs[2], node.outputs[3], og[0].dense},
              {ValueSpec{base + ".dh", g.value(h).shape}, ValueSpec{base + ".dW", g.value(W).shape},
               ValueSpec{base + ".db", g.value(b).shape}});
    if (g.value(h).requires_grad) ig[0].dense = r[0];
    if (g.value(W).requires_grad) ig[1].dense = r[1];
    if (g.value(b).requires_grad) ig[2].dense = r[2];
  }

 private:
  int64_t n_, v_, d_;
  bool loss_only_, cpu_workspace_;
};

}  // namespace

FullSoftmax full_softmax_loss(Graph& g, ValueId h, ValueId W, ValueId b, ValueId targets,
                              bool keep_logits, bool loss_only, bool cpu_workspace) {
  const Shape &hs = g.value(h).shape, &ws = g.value(W).shape;
  SG_CHECK(g.value(h).dtype == DType::F32 && g.value(W).dtype == DType::F32 &&
               g.value(b).dtype == DType::F32,
           "softmax: h, W and b must be f32");
  SG_CHECK(ws.rank() == 2 && ws[0] > 0 && hs.rank() >= 1 && hs[hs.rank() - 1] == ws[1],
           "softmax: h ", hs.str(), " and W ", ws.str(),
           " do not match (need h [..., D], W [V, D])");
  SG_CHECK(g.value(b).shape == Shape({ws[0]}), "softmax: b must be [V=", ws[0], "], got ",
           g.value(b).shape.str());
  SG_CHECK(g.value(targets).dtype == DType::I32, "softmax: targets must be i32");
  const int64_t n = ws[1] > 0 ? hs.numel() / ws[1] : 0;
  SG_CHECK(g.value(targets).shape.numel() == n, "softmax: targets ", g.value(targets).shape.str(),
           " must hold one id per row of h ", hs.str());
  FullSoftmax r;
  if (keep_logits) {
    ValueId h2 = hs.rank() == 2 ? h : reshape(g, h, Shape{n, ws[1]});
    ValueId t1 = g.value(targets).shape.rank() == 1 ? targets : flatten_ids(g, targets);
    r.logits = bias_add(g, matmul(g, h2, W, false, true), b);
    r.loss = log_softmax_cross_entropy(g, r.logits, t1, &r.row_loss);
    return r;
  }
  const std::string base = "full_softmax." + std::to_string(g.values().size());
  auto o = g.add(
      std::make_shared<FullSoftmaxOp>(n, ws[0], ws[1], loss_only, cpu_workspace),
      {h, W, b, targets},
      {ValueSpec{base + ".loss", Shape{1}}, ValueSpec{base + ".row_loss", Shape{n}},
       ValueSpec{base + ".delta", Shape{n, ws[0]}}, ValueSpec{base + ".colsum", Shape{ws[0]}}});
  r.loss = o[0];
  r.row_loss = o[1];
  return r;
}

int64_t full_softmax_forward_flops(int64_t n, int64_t v, int64_t d) { return 2 * n * v * d; }

}  // namespace sg
