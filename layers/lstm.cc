// LSTM forward op and builder (see lstm.h for the maths and shapes).
// Op inputs: x, W, b, h0, c0[, P]. Outputs: y [T*B, R], gates [T*B, 4H] (saved activations i, f, g,
// o), c_all [(T+1)*B, H] (c_{-1} = c0 copy, then c_0 .. c_{T-1}), h0 copy [B, R] (the initial h,
// saved because a State h0 is overwritten with the final state). Workspace: m_t [B, H] when
// projecting, then (cpu_packed) the CPU recurrence's packed W_h and P blocks.
#include "layers/lstm.h"

#include "engine/dispatch.h"
#include "engine/kernels/blas_kernels.h"
#include "engine/kernels/elementwise_kernels.h"
#include "layers/lstm_cpu.h"
#include "layers/lstm_cudnn.h"
#include "layers/lstm_kernels.h"
#include "layers/lstm_op.h"

namespace sg {

using lstm_detail::LstmDims;

namespace {

class LstmOp final : public Op {
 public:
  LstmOp(LstmDims d, bool write_h, bool write_c) : d_(d), write_h_(write_h), write_c_(write_c) {}
  std::string type() const override { return "lstm"; }

  size_t workspace_bytes(const Graph&, const Node&) const override {
    return static_cast<size_t>(pack_offset() +
                               (d_.cpu_packed ? cpu::lstm_packed_forward_floats(d_.H, d_.P) : 0)) *
           sizeof(float);
  }
  // Floats of the workspace before the packed weights: m_t [B, H] when projecting.
  int64_t pack_offset() const { return d_.P > 0 ? lstm_detail::ws_round(d_.B * d_.H) : 0; }

  void run(OpContext& c) const override {
    const int64_t T = d_.T, B = d_.B, I = d_.I, H = d_.H, P = d_.P, R = d_.R(), G4 = d_.G();
    const float* x = c.in(0).f32();
    const float* W = c.in(1).f32();
    const float* Wh = W + I * G4;
    const float* bias = c.in(2).f32();
    float* h0 = c.in(3).f32();
    float* c0 = c.in(4).f32();
    const float* Pm = P > 0 ? c.in(5).f32() : nullptr;
    float* y = c.out(0).f32();
    float* gates = c.out(1).f32();
    float* call = c.out(2).f32();
    float* h0c = c.out(3).f32();
    float* m = static_cast<float*>(c.workspace);
    Backend& be = c.be;

    SG_DISPATCH(be, copy, h0, h0c, B * R);
    SG_DISPATCH(be, copy, c0, call, B * H);
    // Input part of every step at once: gates = x W_x.
    SG_DISPATCH(be, gemm, false, false, T * B, G4, I, 1.0f, x, I, W, G4, 0.0f, gates, G4);
    if (!be.is_cuda()) {  // CPU: the whole recurrence in one parallel region (lstm_cpu.h)
      float* pack = d_.cpu_packed ? static_cast<float*>(c.workspace) + pack_offset() : nullptr;
      cpu::lstm_recurrence_forward(be, T, B, H, P, Wh, bias, Pm, h0c, gates, call, y, m, pack);
    } else {
      run_steps(be, gates, bias, Wh, Pm, h0c, call, y, m);
    }
    if (write_h_) SG_DISPATCH(be, copy, y + (T - 1) * B * R, h0, B * R);
    if (write_c_) SG_DISPATCH(be, copy, call + T * B * H, c0, B * H);
  }

  // The recurrence as a sequence of per-step kernels (any backend).
  void run_steps(Backend& be, float* gates, const float* bias, const float* Wh, const float* Pm,
                 const float* h0c, float* call, float* y, float* m) const {
    const int64_t T = d_.T, B = d_.B, H = d_.H, P = d_.P, R = d_.R(), G4 = d_.G();
    for (int64_t t = 0; t < T; ++t) {
      const float* hprev = t == 0 ? h0c : y + (t - 1) * B * R;
      float* gt = gates + t * B * G4;
      SG_DISPATCH(be, gemm, false, false, B, G4, R, 1.0f, hprev, R, Wh, G4, 1.0f, gt, G4);
      float* mt = P > 0 ? m : y + t * B * R;
      SG_DISPATCH(be, lstm_gates_forward, gt, bias, call + t * B * H, call + (t + 1) * B * H, mt, H,
                  B, H);
      if (P > 0)
        SG_DISPATCH(be, gemm, false, false, B, P, H, 1.0f, m, H, Pm, P, 0.0f, y + t * B * R, P);
    }
  }

  void backward(Graph& g, const Node& node, const std::vector<Grad>& og,
                std::vector<Grad>& ig) const override {
    SG_CHECK(!og[1].defined() && !og[2].defined() && !og[3].defined(),
             "lstm: only the output y is differentiable (not the saved gates or cell states)");
    SG_CHECK(og[0].defined() && !og[0].is_sparse(), "lstm: missing dense gradient of y");
    lstm_detail::lstm_append_backward(g, node, d_, og[0].dense, ig);
  }

 private:
  LstmDims d_;
  bool write_h_, write_c_;
};

std::string shape_of(const Graph& g, ValueId v) { return g.value(v).shape.str(); }

void check_f32(const Graph& g, ValueId v, const char* what) {
  SG_CHECK(g.value(v).dtype == DType::F32, "lstm: ", what, " '", g.value(v).name, "' must be f32");
}

}  // namespace

namespace lstm_detail {
LstmDims lstm_check_shapes(const Graph& g, ValueId x, ValueId W, ValueId b, ValueId P, ValueId h0,
                           ValueId c0, int64_t steps) {
  for (auto [v, what] : {std::pair{x, "x"}, {W, "W"}, {b, "b"}, {h0, "h0"}, {c0, "c0"}})
    check_f32(g, v, what);
  if (P != kNoValue) check_f32(g, P, "P");
  const Shape &xs = g.value(x).shape, &ws = g.value(W).shape, &hs = g.value(h0).shape,
              &cs = g.value(c0).shape;
  SG_CHECK(steps > 0, "lstm: steps must be positive, got ", steps);
  SG_CHECK(hs.rank() == 2 && cs.rank() == 2 && hs[0] == cs[0] && hs[0] > 0 && cs[1] > 0,
           "lstm: h0 ", hs.str(), " and c0 ", cs.str(), " must be [B, R] and [B, H]");
  LstmDims d;
  d.T = steps;
  d.B = hs[0];
  d.H = cs[1];
  d.P = 0;
  if (P != kNoValue) {
    const Shape& ps = g.value(P).shape;
    SG_CHECK(ps.rank() == 2 && ps[0] == d.H && ps[1] > 0, "lstm: projection P must be [H=", d.H,
             ", proj], got ", ps.str());
    d.P = ps[1];
  }
  SG_CHECK(hs[1] == d.R(), "lstm: h0 ", hs.str(), " must be [B, ", d.R(),
           "] (the projection size, or H without projection)");
  SG_CHECK(xs.rank() >= 2 && xs[xs.rank() - 1] > 0, "lstm: x must be [T*B, I], got ", xs.str());
  d.I = xs[xs.rank() - 1];
  SG_CHECK(xs.numel() == d.T * d.B * d.I, "lstm: x ", xs.str(), " does not hold T=", d.T,
           " steps of B=", d.B, " rows of ", d.I, " inputs");
  SG_CHECK(ws.rank() == 2 && ws[0] == d.I + d.R() && ws[1] == d.G(),
           "lstm: W must be [I+R=", d.I + d.R(), ", 4H=", d.G(), "], got ", ws.str());
  SG_CHECK(g.value(b).shape == Shape({d.G()}), "lstm: b must be [4H=", d.G(), "], got ",
           shape_of(g, b));
  return d;
}
}  // namespace lstm_detail

ValueId lstm(Graph& g, ValueId x, ValueId W, ValueId b, ValueId P, ValueId h0, ValueId c0,
             int64_t steps, bool cpu_packed) {
  LstmDims d = lstm_detail::lstm_check_shapes(g, x, W, b, P, h0, c0, steps);
  d.cpu_packed = cpu_packed;
  const bool write_h = g.value(h0).category == Category::State;
  const bool write_c = g.value(c0).category == Category::State;
  std::vector<ValueId> ins{x, W, b, h0, c0};
  if (P != kNoValue) ins.push_back(P);
  const std::string base = "lstm." + std::to_string(g.values().size());
  auto outs = g.add(std::make_shared<LstmOp>(d, write_h, write_c), ins,
                    {ValueSpec{base + ".y", Shape{d.T * d.B, d.R()}},
                     ValueSpec{base + ".gates", Shape{d.T * d.B, d.G()}},
                     ValueSpec{base + ".c_all", Shape{(d.T + 1) * d.B, d.H}},
                     ValueSpec{base + ".h0", Shape{d.B, d.R()}}});
  return outs[0];
}

LstmLayer lstm_layer(Graph& g, const std::string& name, ValueId x, int64_t steps, int64_t batch,
                     int64_t hidden, int64_t proj, const std::string& impl, bool tf32,
                     bool cpu_packed) {
  SG_CHECK(impl == "native" || impl == "cudnn", "lstm layer '", name, "': unknown implementation '",
           impl, "' (native or cudnn)");
  SG_CHECK(hidden > 0 && proj >= 0 && batch > 0, "lstm layer '", name,
           "': bad sizes hidden=", hidden, " proj=", proj, " batch=", batch);
  const Shape& xs = g.value(x).shape;
  SG_CHECK(xs.rank() >= 1, "lstm layer '", name, "': x has no dimensions");
  const int64_t in = xs[xs.rank() - 1], R = proj > 0 ? proj : hidden;
  Graph::LayerScope scope(g, name);
  LstmLayer l;
  l.W = g.parameter("W", Shape{in + R, 4 * hidden});
  l.b = g.parameter("b", Shape{4 * hidden});
  if (proj > 0) l.P = g.parameter("P", Shape{hidden, proj});
  l.h = g.state("h", Shape{batch, R});
  l.c = g.state("c", Shape{batch, hidden});
  l.y = impl == "cudnn" ? lstm_cudnn(g, x, l.W, l.b, l.P, l.h, l.c, steps, tf32)
                        : lstm(g, x, l.W, l.b, l.P, l.h, l.c, steps, cpu_packed);
  return l;
}

int64_t lstm_forward_flops(int64_t T, int64_t B, int64_t I, int64_t H, int64_t P) {
  const int64_t R = P > 0 ? P : H;
  return 2 * T * B * ((I + R) * 4 * H + (P > 0 ? H * P : 0));
}

}  // namespace sg
