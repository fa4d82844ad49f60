// LSTM backward op (the gradient of the op in lstm.cc). With dG_t = d(pre-activation gates) of step
// t, dH_t = dL/dh_t (total) and dm_t = dL/dm_t:
//   reverse loop t = T-1 .. 0:
//     dH_t = dy_t + dG_{t+1} W_h^T        (GEMM [B, 4H] x [4H, R], accumulated onto a copy of dy)
//     dm_t = dH_t P^T (projection) or dH_t  (GEMM [B, P] x [P, H])
//     fused gate kernel: dG_t, and dc carried to step t-1 (dc_{t-1} contribution = dc_t * f_t)
//   then whole-sequence GEMMs:
//     dW_x = x^T dG        dW_h = h0^T dG_0 + y_{0..T-2}^T dG_{1..T-1}      db = column sums of dG
//     dP = M^T dH (M = o * tanh(c), recomputed by the gate kernel)       dx = dG W_x^T
//     d(h0) = dG_0 W_h^T   d(c0) = final dc
// Op inputs: x, W, y, gates, c_all, h0 copy, dy[, P]. Outputs: dW, db, then dP when projecting,
// then dx, dh0, dc0 for those that are requested. Workspace: dG [T*B, 4H], dH [T*B, R], dc [B, H],
// and with projection dm [B, H] and M [T*B, H]; then (cpu_packed) the CPU recurrence's packed
// W_h^T and P^T blocks (layers/lstm_cpu.h).
#include "engine/dispatch.h"
#include "engine/kernels/blas_kernels.h"
#include "engine/kernels/elementwise_kernels.h"
#include "engine/kernels/reduce_kernels.h"
#include "layers/lstm_cpu.h"
#include "layers/lstm_kernels.h"
#include "layers/lstm_op.h"

namespace sg::lstm_detail {

namespace {

struct Wants {
  bool dx = false, dh0 = false, dc0 = false;
};

class LstmBackwardOp final : public Op {
 public:
  LstmBackwardOp(LstmDims d, Wants w) : d_(d), w_(w) {}
  std::string type() const override { return "lstm_grad"; }

  size_t workspace_bytes(const Graph&, const Node&) const override {
    return static_cast<size_t>(parts().total) * sizeof(float);
  }

  void run(OpContext& c) const override {
    const int64_t T = d_.T, B = d_.B, I = d_.I, H = d_.H, P = d_.P, R = d_.R(), G4 = d_.G();
    const float* x = c.in(0).f32();
    const float* W = c.in(1).f32();
    const float* Wh = W + I * G4;
    const float* y = c.in(2).f32();
    const float* gates = c.in(3).f32();
    const float* call = c.in(4).f32();
    const float* h0c = c.in(5).f32();
    const float* dy = c.in(6).f32();
    const float* Pm = P > 0 ? c.in(7).f32() : nullptr;
    int o = 0;
    float* dW = c.out(o++).f32();
    float* db = c.out(o++).f32();
    float* dP = P > 0 ? c.out(o++).f32() : nullptr;
    float* dx = w_.dx ? c.out(o++).f32() : nullptr;
    float* dh0 = w_.dh0 ? c.out(o++).f32() : nullptr;
    float* dc0 = w_.dc0 ? c.out(o++).f32() : nullptr;

    const Parts p = parts();
    float* ws = static_cast<float*>(c.workspace);
    float* dG = ws + p.dG;
    float* dH = ws + p.dH;
    float* dc = ws + p.dc;
    float* dm = P > 0 ? ws + p.dm : nullptr;
    float* M = P > 0 ? ws + p.M : nullptr;
    Backend& be = c.be;

    SG_DISPATCH(be, copy, dy, dH, T * B * R);
    if (!be.is_cuda()) {  // CPU: the whole reverse loop in one parallel region (lstm_cpu.h)
      float* pack = d_.cpu_packed ? ws + p.pack : nullptr;
      cpu::lstm_recurrence_backward(be, T, B, H, P, Wh, Pm, gates, call, dH, dc, dG, dm, M, pack);
    } else {
      SG_DISPATCH(be, fill, dc, B * H, 0.0f);
      run_steps(be, Wh, Pm, gates, call, dH, dc, dG, dm, M);
    }
    weight_grads(be, x, W, y, h0c, dG, dH, M, dW, db, dP, dx, dh0, dc, dc0);
  }

  // The reverse loop as a sequence of per-step kernels (any backend).
  void run_steps(Backend& be, const float* Wh, const float* Pm, const float* gates,
                 const float* call, float* dH, float* dc, float* dG, float* dm, float* M) const {
    const int64_t T = d_.T, B = d_.B, H = d_.H, P = d_.P, R = d_.R(), G4 = d_.G();
    for (int64_t t = T - 1; t >= 0; --t) {
      float* dHt = dH + t * B * R;
      if (t + 1 < T)
        SG_DISPATCH(be, gemm, false, true, B, R, G4, 1.0f, dG + (t + 1) * B * G4, G4, Wh, G4, 1.0f,
                    dHt, R);
      const float* dmt = dHt;
      if (P > 0) {
        SG_DISPATCH(be, gemm, false, true, B, H, P, 1.0f, dHt, P, Pm, P, 0.0f, dm, H);
        dmt = dm;
      }
      SG_DISPATCH(be, lstm_gates_backward, gates + t * B * G4, call + t * B * H,
                  call + (t + 1) * B * H, dmt, dc, dG + t * B * G4, P > 0 ? M + t * B * H : nullptr,
                  B, H);
    }
  }

  // Whole-sequence GEMMs after the loop: dW, db, dP, dx, dh0, dc0.
  void weight_grads(Backend& be, const float* x, const float* W, const float* y, const float* h0c,
                    const float* dG, const float* dH, const float* M, float* dW, float* db,
                    float* dP, float* dx, float* dh0, const float* dc, float* dc0) const {
    const int64_t T = d_.T, B = d_.B, I = d_.I, P = d_.P, R = d_.R(), G4 = d_.G(), H = d_.H;
    const float* Wh = W + I * G4;
    // dW_x = x^T dG;  dW_h = h0^T dG_0 + y[0 : T-1]^T dG[1 : T].
    SG_DISPATCH(be, gemm, true, false, I, G4, T * B, 1.0f, x, I, dG, G4, 0.0f, dW, G4);
    float* dWh = dW + I * G4;
    SG_DISPATCH(be, gemm, true, false, R, G4, B, 1.0f, h0c, R, dG, G4, 0.0f, dWh, G4);
    if (T > 1)
      SG_DISPATCH(be, gemm, true, false, R, G4, (T - 1) * B, 1.0f, y, R, dG + B * G4, G4, 1.0f, dWh,
                  G4);
    SG_DISPATCH(be, column_sum, dG, T * B, G4, db);
    if (P > 0) SG_DISPATCH(be, gemm, true, false, H, P, T * B, 1.0f, M, H, dH, P, 0.0f, dP, P);
    if (dx) SG_DISPATCH(be, gemm, false, true, T * B, I, G4, 1.0f, dG, G4, W, G4, 0.0f, dx, I);
    if (dh0) SG_DISPATCH(be, gemm, false, true, B, R, G4, 1.0f, dG, G4, Wh, G4, 0.0f, dh0, R);
    if (dc0) SG_DISPATCH(be, copy, dc, dc0, B * H);
  }

 private:
  struct Parts {
    int64_t dG = 0, dH = 0, dc = 0, dm = 0, M = 0, pack = 0, total = 0;
  };
  Parts parts() const {
    const int64_t TB = d_.T * d_.B;
    Parts p;
    p.dG = 0;
    p.dH = p.dG + ws_round(TB * d_.G());
    p.dc = p.dH + ws_round(TB * d_.R());
    p.dm = p.dc + ws_round(d_.B * d_.H);
    p.M = p.dm + (d_.P > 0 ? ws_round(d_.B * d_.H) : 0);
    p.pack = p.M + (d_.P > 0 ? ws_round(TB * d_.H) : 0);
    p.total = p.pack + (d_.cpu_packed ? cpu::lstm_packed_backward_floats(d_.H, d_.P) : 0);
    return p;
  }

  LstmDims d_;
  Wants w_;
};

}  // namespace

void lstm_append_backward(Graph& g, const Node& node, const LstmDims& d, ValueId dy,
                          std::vector<Grad>& ig) {
  const ValueId x = node.inputs[0], W = node.inputs[1], b = node.inputs[2], h0 = node.inputs[3],
                c0 = node.inputs[4];
  const ValueId P = d.P > 0 ? node.inputs[5] : kNoValue;
  Wants w;
  w.dx = g.value(x).requires_grad;
  w.dh0 = g.value(h0).requires_grad;
  w.dc0 = g.value(c0).requires_grad;
  std::vector<ValueId> ins{x, W, node.outputs[0], node.outputs[1], node.outputs[2], node.outputs[3],
                           dy};
  if (P != kNoValue) ins.push_back(P);
  const std::string base = "lstm_grad." + std::to_string(g.values().size());
  std::vector<ValueSpec> outs{ValueSpec{base + ".dW", g.value(W).shape},
                              ValueSpec{base + ".db", g.value(b).shape}};
  if (P != kNoValue) outs.push_back(ValueSpec{base + ".dP", g.value(P).shape});
  if (w.dx) outs.push_back(ValueSpec{base + ".dx", g.value(x).shape});
  if (w.dh0) outs.push_back(ValueSpec{base + ".dh0", g.value(h0).shape});
  if (w.dc0) outs.push_back(ValueSpec{base + ".dc0", g.value(c0).shape});
  auto r = g.add(std::make_shared<LstmBackwardOp>(d, w), ins, outs);
  int o = 0;
  if (g.value(W).requires_grad) ig[1].dense = r[o];
  ++o;
  if (g.value(b).requires_grad) ig[2].dense = r[o];
  ++o;
  if (P != kNoValue) {
    if (g.value(P).requires_grad) ig[5].dense = r[o];
    ++o;
  }
  if (w.dx) ig[0].dense = r[o++];
  if (w.dh0) ig[3].dense = r[o++];
  if (w.dc0) ig[4].dense = r[o++];
}

}  // namespace sg::lstm_detail
