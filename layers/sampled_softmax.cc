// Sampled softmax op and its gradient op (see sampled_softmax.h).
// Forward op: inputs h, W, b, targets; outputs loss, row_loss, probs, ids, sampled_logq, tries;
//   workspace: W[ids] [N + S, D] and the sampler's marks [V] (i32).
//   run(): unique log-uniform sampling on the device (layers/log_uniform_kernels.inc: no host
//   round trip); gather W rows; GEMM h W_s^T into logits[:, 1:]; fused correction + softmax + loss
//   kernel; mean.
// Gradient op: inputs probs, h, W, ids, dloss; outputs dh [N, D], dW rows [N + S, D], db rows [N +
// S, 1];
//   workspace: W[ids] again [N + S, D] and dlogits [N, 1 + S].
//   dlogits = (p - onehot_0) dloss / N;  dh = dlogits[:, 1:] W_s + dlogits[:, 0] W_t;
//   dW rows: targets dlogits[r, 0] h_r, samples dlogits[:, 1:]^T h;  db rows likewise;
//   then two engine scatter_add_rows ops turn them into row-sparse gradients.
#include "layers/sampled_softmax.h"

#include <vector>

#include "engine/dispatch.h"
#include "engine/kernels/blas_kernels.h"
#include "engine/kernels/gather_kernels.h"
#include "engine/kernels/reduce_kernels.h"
#include "engine/ops/ops.h"
#include "engine/rng.h"
#include "layers/log_uniform.h"
#include "layers/log_uniform_kernels.h"
#include "layers/sampled_softmax_kernels.h"

namespace sg {

namespace {

size_t floats_bytes(int64_t n) { return static_cast<size_t>((n + 63) / 64 * 64) * sizeof(float); }

class SampledSoftmaxGradOp final : public Op {
 public:
  SampledSoftmaxGradOp(int64_t n, int64_t s, int64_t d, int64_t v) : n_(n), s_(s), d_(d), v_(v) {}
  std::string type() const override { return "sampled_softmax_grad"; }
  size_t workspace_bytes(const Graph&, const Node&) const override {
    return floats_bytes((n_ + s_) * d_) + floats_bytes(n_ * (s_ + 1));
  }
  void run(OpContext& c) const override {
    const float* probs = c.in(0).f32();
    const float* h = c.in(1).f32();
    const float* W = c.in(2).f32();
    const int32_t* ids = c.in(3).i32();
    const float* g = c.in(4).f32();
    float* dh = c.out(0).f32();
    float* dw_rows = c.out(1).f32();
    float* db_rows = c.out(2).f32();
    float* wg = static_cast<float*>(c.workspace);
    float* dl =
        reinterpret_cast<float*>(static_cast<char*>(c.workspace) + floats_bytes((n_ + s_) * d_));
    const int64_t n = n_, s = s_, d = d_, ld = s + 1;
    SG_DISPATCH(c.be, gather_rows, W, v_, d, ids, n + s, wg);
    SG_DISPATCH(c.be, sampled_softmax_grad_logits, probs, g, n, s, dl);
    SG_DISPATCH(c.be, gemm, false, false, n, d, s, 1.0f, dl + 1, ld, wg + n * d, d, 0.0f, dh, d);
    SG_DISPATCH(c.be, gemm, true, false, s, d, n, 1.0f, dl + 1, ld, h, d, 0.0f, dw_rows + n * d, d);
    SG_DISPATCH(c.be, sampled_softmax_grad_rows, dl, h, wg, n, s, d, dh, dw_rows, db_rows);
  }

 private:
  int64_t n_, s_, d_, v_;
};

class SampledSoftmaxOp final : public Op {
 public:
  SampledSoftmaxOp(int64_t n, int64_t s, int64_t d, int64_t v, uint64_t salt)
      : n_(n), s_(s), d_(d), v_(v), salt_(salt) {}
  std::string type() const override { return "sampled_softmax"; }
  // Workspace: W[ids] [N + S, D], then the sampler's per-id marks.
  size_t workspace_bytes(const Graph&, const Node&) const override {
    return sampler_offset() + log_uniform_unique_workspace_bytes(v_);
  }

  void run(OpContext& c) const override {
    const int64_t n = n_, s = s_, d = d_;
    const float* h = c.in(0).f32();
    const float* W = c.in(1).f32();
    const float* b = c.in(2).f32();
    const int32_t* targets = c.in(3).i32();
    float* loss = c.out(0).f32();
    float* row_loss = c.out(1).f32();
    float* logits = c.out(2).f32();
    int32_t* ids = c.out(3).i32();
    float* samp_logq = c.out(4).f32();
    int32_t* tries_out = c.out(5).i32();
    float* wg = static_cast<float*>(c.workspace);

    const uint64_t stream = rng_u64(salt_, static_cast<uint64_t>(c.step), 0x73616d706c6564ULL);
    SG_DISPATCH(c.be, sample_log_uniform_unique, s, v_, c.seed, stream, ids + n, samp_logq,
                tries_out, static_cast<char*>(c.workspace) + sampler_offset(),
                log_uniform_unique_workspace_bytes(v_));
    c.be.copy(ids, targets, static_cast<size_t>(n) * sizeof(int32_t));
    SG_DISPATCH(c.be, gather_rows, W, v_, d, ids, n + s, wg);
    SG_DISPATCH(c.be, gemm, false, true, n, s, d, 1.0f, h, d, wg + n * d, d, 0.0f, logits + 1,
                s + 1);
    SG_DISPATCH(c.be, sampled_softmax_forward, h, wg, b, ids, samp_logq, tries_out, v_, n, s, d,
                logits, row_loss);
    SG_DISPATCH(c.be, sum_all, row_loss, n, 1.0f / static_cast<float>(n), loss);
  }

  void backward(Graph& g, const Node& node, const std::vector<Grad>& og,
                std::vector<Grad>& ig) const override {
    for (size_t k = 1; k < og.size(); ++k)
      SG_CHECK(!og[k].defined(), "sampled softmax: only the mean loss is differentiable");
    SG_CHECK(og[0].defined() && !og[0].is_sparse(), "sampled softmax: missing loss gradient");
    const ValueId h = node.inputs[0], W = node.inputs[1], b = node.inputs[2];
    const ValueId ids = node.outputs[3];
    const std::string base = "sampled_softmax_grad." + std::to_string(g.values().size());
    auto r = g.add(std::make_shared<SampledSoftmaxGradOp>(n_, s_, d_, v_),
                   {node.outputs[2], h, W, ids, og[0].dense},
                   {ValueSpec{base + ".dh", g.value(h).shape},
                    ValueSpec{base + ".dW_rows", Shape{n_ + s_, d_}},
                    ValueSpec{base + ".db_rows", Shape{n_ + s_, 1}}});
    if (g.value(h).requires_grad) ig[0].dense = r[0];
    if (g.value(W).requires_grad) {
      const SparseRows sw = scatter_add_rows(g, ids, r[1], v_);
      if (g.value(W).category == Category::Parameter)
        ig[1].sparse = sw;
      else
        ig[1].dense = densify(g, sw, v_);
    }
    if (g.value(b).requires_grad) {
      const SparseRows sb = scatter_add_rows(g, ids, r[2], v_);
      if (g.value(b).category == Category::Parameter)
        ig[2].sparse = sb;
      else
        ig[2].dense = reshape(g, densify(g, sb, v_), g.value(b).shape);
    }
  }

 private:
  int64_t n_, s_, d_, v_;
  uint64_t salt_;
  size_t sampler_offset() const { return floats_bytes((n_ + s_) * d_); }
};

}  // namespace

SampledSoftmax sampled_softmax_loss(Graph& g, ValueId h, ValueId W, ValueId b, ValueId targets,
                                    int64_t num_sampled, uint64_t salt) {
  const Value &hv = g.value(h), &wv = g.value(W), &bv = g.value(b), &tv = g.value(targets);
  SG_CHECK(hv.dtype == DType::F32 && wv.dtype == DType::F32 && bv.dtype == DType::F32,
           "sampled softmax: h, W and b must be f32");
  SG_CHECK(tv.dtype == DType::I32, "sampled softmax: targets '", tv.name, "' must be i32");
  SG_CHECK(wv.shape.rank() == 2 && wv.shape[0] > 0 && wv.shape[1] > 0,
           "sampled softmax: W must be [V, D], got ", wv.shape.str());
  const int64_t V = wv.shape[0], D = wv.shape[1];
  SG_CHECK(hv.shape.rank() >= 1 && hv.shape[hv.shape.rank() - 1] == D, "sampled softmax: h ",
           hv.shape.str(), " must have last dim D=", D, " of W ", wv.shape.str());
  SG_CHECK(bv.shape == Shape({V}), "sampled softmax: b must be [V=", V, "], got ", bv.shape.str());
  const int64_t N = hv.shape.numel() / D;
  SG_CHECK(tv.shape.numel() == N, "sampled softmax: targets ", tv.shape.str(),
           " must hold one id per row of h ", hv.shape.str());
  SG_CHECK(num_sampled >= 1 && num_sampled < V, "sampled softmax: the number of samples ",
           num_sampled, " must be in [1, V=", V, ")");
  if (salt == 0) salt = 0x50f7000ULL + g.nodes().size();
  const std::string base = "sampled_softmax." + std::to_string(g.values().size());
  auto o = g.add(std::make_shared<SampledSoftmaxOp>(N, num_sampled, D, V, salt), {h, W, b, targets},
                 {ValueSpec{base + ".loss", Shape{1}}, ValueSpec{base + ".row_loss", Shape{N}},
                  ValueSpec{base + ".probs", Shape{N, num_sampled + 1}},
                  ValueSpec{base + ".ids", Shape{N + num_sampled}, DType::I32},
                  ValueSpec{base + ".sampled_logq", Shape{num_sampled}},
                  ValueSpec{base + ".tries", Shape{1}, DType::I32}});
  SampledSoftmax r;
  r.loss = o[0];
  r.row_loss = o[1];
  r.probs = o[2];
  r.ids = o[3];
  r.sampled_logq = o[4];
  r.tries = o[5];
  return r;
}

int64_t sampled_softmax_forward_flops(int64_t n, int64_t s, int64_t d) {
  return 2 * n * (s + 1) * d;
}

}  // namespace sg
