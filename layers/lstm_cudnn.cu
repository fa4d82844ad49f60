// cuDNN LSTM(P) ops (see lstm_cudnn.h). Forward op: inputs x, W, b, h0, c0[, P]; outputs y [T*B,
// R], the cuDNN reserve space (f32 [reserve / 4]), h0 copy [B, R], c0 copy [B, H]; workspace:
// weight space + cuDNN workspace + device sequence lengths. Backward op: inputs x, W, y, reserve,
// h0 copy, c0 copy, dy[, P]; outputs dW, db[, dP]
// [, dx, dh0, dc0]; workspace: weight space, d(weight space), cuDNN workspace, sequence lengths, dx
// scratch.
#include <cudnn.h>

#include <memory>
#include <vector>

#include "engine/cuda/cuda_backend.h"
#include "layers/lstm_cudnn.h"
#include "layers/lstm_op.h"

#define SG_CUDNN(expr)                                                                             \
  do {                                                                                             \
    cudnnStatus_t sg_st_ = (expr);                                                                 \
    SG_CHECK(sg_st_ == CUDNN_STATUS_SUCCESS, "cuDNN error: ", cudnnGetErrorString(sg_st_), " in ", \
             #expr);                                                                               \
  } while (0)

namespace sg {

using lstm_detail::LstmDims;

namespace {

size_t align256(size_t n) { return (n + 255) / 256 * 256; }

// dst[r * dst_rs + c * dst_cs] = src[r * src_rs + c * src_cs] for r < rows, c < cols.
__global__ void copy2d_kernel(const float* src, int64_t src_rs, int64_t src_cs, float* dst,
                              int64_t dst_rs, int64_t dst_cs, int64_t rows, int64_t cols) {
  const int64_t n = rows * cols;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t r = i / cols, c = i - r * cols;
    dst[r * dst_rs + c * dst_cs] = src[r * src_rs + c * src_cs];
  }
}

void copy2d(Backend& be, const float* src, int64_t src_rs, int64_t src_cs, float* dst,
            int64_t dst_rs, int64_t dst_cs, int64_t rows, int64_t cols) {
  if (rows * cols <= 0) return;
  copy2d_kernel<<<grid_for(rows * cols), 256, 0, as_cuda(be).stream()>>>(
      src, src_rs, src_cs, dst, dst_rs, dst_cs, rows, cols);
  SG_CUDA(cudaGetLastError());
}

// One cuDNN RNN configuration: handle, descriptors and the space sizes, created when the graph is
// built.
struct CudnnLstm {
  LstmDims d;
  cudnnHandle_t handle = nullptr;
  cudnnRNNDescriptor_t rnn = nullptr;
  cudnnRNNDataDescriptor_t xd = nullptr, yd = nullptr;
  cudnnTensorDescriptor_t hd = nullptr, cd = nullptr, md = nullptr, bd = nullptr;
  size_t weight_bytes = 0, work_bytes = 0, reserve_bytes = 0;
  std::vector<int> seq;  // host sequence lengths (all T)
  // Float offsets of each linear layer's matrix and bias in the weight space (-1: none).
  int64_t m_off[9], b_off[9];

  CudnnLstm(const LstmDims& dims, bool tf32)
      : d(dims), seq(static_cast<size_t>(dims.B), int(dims.T)) {
    int ndev = 0;
    SG_CHECK(cudaGetDeviceCount(&ndev) == cudaSuccess && ndev > 0,
             "lstm_impl 'cudnn' needs a GPU when the graph is built (none visible); use 'native'");
    SG_CUDNN(cudnnCreate(&handle));
    SG_CUDNN(cudnnCreateRNNDescriptor(&rnn));
    SG_CUDNN(cudnnSetRNNDescriptor_v8(
        rnn, CUDNN_RNN_ALGO_STANDARD, CUDNN_LSTM, CUDNN_RNN_SINGLE_INP_BIAS, CUDNN_UNIDIRECTIONAL,
        CUDNN_LINEAR_INPUT, CUDNN_DATA_FLOAT, CUDNN_DATA_FLOAT,
        tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH, int(d.I), int(d.H), int(d.R()), 1, nullptr,
        CUDNN_RNN_PADDED_IO_DISABLED));
    SG_CUDNN(cudnnCreateRNNDataDescriptor(&xd));
    SG_CUDNN(cudnnCreateRNNDataDescriptor(&yd));
    SG_CUDNN(cudnnSetRNNDataDescriptor(xd, CUDNN_DATA_FLOAT, CUDNN_RNN_DATA_LAYOUT_SEQ_MAJOR_PACKED,
                                       int(d.T), int(d.B), int(d.I), seq.data(), nullptr));
    SG_CUDNN(cudnnSetRNNDataDescriptor(yd, CUDNN_DATA_FLOAT, CUDNN_RNN_DATA_LAYOUT_SEQ_MAJOR_PACKED,
                                       int(d.T), int(d.B), int(d.R()), seq.data(), nullptr));
    SG_CUDNN(cudnnCreateTensorDescriptor(&hd));
    SG_CUDNN(cudnnCreateTensorDescriptor(&cd));
    SG_CUDNN(cudnnCreateTensorDescriptor(&md));
    SG_CUDNN(cudnnCreateTensorDescriptor(&bd));
    const int hdims[3] = {1, int(d.B), int(d.R())}, cdims[3] = {1, int(d.B), int(d.H)};
    const int hstr[3] = {int(d.B * d.R()), int(d.R()), 1}, cstr[3] = {int(d.B * d.H), int(d.H), 1};
    SG_CUDNN(cudnnSetTensorNdDescriptor(hd, CUDNN_DATA_FLOAT, 3, hdims, hstr));
    SG_CUDNN(cudnnSetTensorNdDescriptor(cd, CUDNN_DATA_FLOAT, 3, cdims, cstr));
    SG_CUDNN(cudnnGetRNNWeightSpaceSize(handle, rnn, &weight_bytes));
    SG_CUDNN(cudnnGetRNNTempSpaceSizes(handle, rnn, CUDNN_FWD_MODE_TRAINING, xd, &work_bytes,
                                       &reserve_bytes));
    // Layout of the weight space, read with a fake base address (only offsets are kept).
    char* base = reinterpret_cast<char*>(size_t{1} << 20);
    for (int id = 0; id < 9; ++id) {
      m_off[id] = b_off[id] = -1;
      if (id == 8 && d.P == 0) continue;
      void *m = nullptr, *bb = nullptr;
      SG_CUDNN(cudnnGetRNNWeightParams(handle, rnn, 0, weight_bytes, base, id, md, &m, bd, &bb));
      if (m) m_off[id] = (static_cast<char*>(m) - base) / 4;
      if (bb) b_off[id] = (static_cast<char*>(bb) - base) / 4;
      if (m) {  // check cuDNN's matrix shape: [rows = outputs, cols = inputs]
        cudnnDataType_t t;
        int nd = 0, dims[3], str[3];
        SG_CUDNN(cudnnGetTensorNdDescriptor(md, 3, &t, &nd, dims, str));
        const int64_t rows = id == 8 ? d.P : d.H, cols = id == 8 ? d.H : (id < 4 ? d.I : d.R());
        SG_CHECK(int64_t(dims[1]) * dims[2] == rows * cols, "cuDNN LSTM weight ", id, " is ",
                 dims[1], "x", dims[2], ", expected ", rows, "x", cols);
      }
    }
  }
  ~CudnnLstm() {
    cudnnDestroyTensorDescriptor(bd);
    cudnnDestroyTensorDescriptor(md);
    cudnnDestroyTensorDescriptor(cd);
    cudnnDestroyTensorDescriptor(hd);
    cudnnDestroyRNNDataDescriptor(yd);
    cudnnDestroyRNNDataDescriptor(xd);
    cudnnDestroyRNNDescriptor(rnn);
    cudnnDestroy(handle);
  }

  void bind(Backend& be) const {
    SG_CHECK(be.is_cuda(), "lstm_impl 'cudnn' runs on a CUDA device only");
    SG_CUDNN(cudnnSetStream(handle, as_cuda(be).stream()));
  }

  // Our parameters <-> cuDNN weight space. to_cudnn: pack W, b, P into ws; else unpack ws into W,
  // b, P. b may be null (the backward pass reads only the matrices: the gates are in the reserve
  // space).
  void convert(Backend& be, bool to_cudnn, float* W, float* b, float* P, float* ws) const {
    const int64_t G4 = d.G(), H = d.H;
    for (int id = 0; id < 8; ++id) {
      const int q = id % 4;
      const int64_t in = id < 4 ? d.I : d.R();
      float* ours = W + (id < 4 ? 0 : d.I * G4) + q * H;  // element (k, j) at k * 4H + j
      float* theirs = ws + m_off[id];                     // element (j, k) at j * in + k
      if (to_cudnn)
        copy2d(be, ours, 1, G4, theirs, in, 1, H, in);
      else
        copy2d(be, theirs, in, 1, ours, 1, G4, H, in);
      if (b && b_off[id] >= 0) {
        if (to_cudnn)
          copy2d(be, b + q * H, 1, 0, ws + b_off[id], 1, 0, H, 1);
        else
          copy2d(be, ws + b_off[id], 1, 0, b + q * H, 1, 0, H, 1);
      }
    }
    if (d.P > 0) {  // ours [H, P] (j, p) at j * P + p; theirs [P, H] (p, j) at p * H + j
      if (to_cudnn)
        copy2d(be, P, 1, d.P, ws + m_off[8], H, 1, d.P, H);
      else
        copy2d(be, ws + m_off[8], H, 1, P, 1, d.P, d.P, H);
    }
  }
};

struct Space {
  size_t ws = 0, dws = 0, work = 0, seq = 0, dx = 0, total = 0;
};

Space layout(const CudnnLstm& c, bool backward, bool need_dx) {
  Space s;
  size_t at = 0;
  s.ws = at, at += align256(c.weight_bytes);
  if (backward) s.dws = at, at += align256(c.weight_bytes);
  s.work = at, at += align256(c.work_bytes);
  s.seq = at, at += align256(static_cast<size_t>(c.d.B) * sizeof(int32_t));
  if (backward && !need_dx) s.dx = at, at += align256(c.d.T * c.d.B * c.d.I * sizeof(float));
  s.total = at;
  return s;
}

class CudnnLstmBackwardOp final : public Op {
 public:
  CudnnLstmBackwardOp(std::shared_ptr<CudnnLstm> c, bool dx, bool dh0, bool dc0)
      : c_(std::move(c)), dx_(dx), dh0_(dh0), dc0_(dc0) {}
  std::string type() const override { return "lstm_cudnn_grad"; }
  size_t workspace_bytes(const Graph&, const Node&) const override {
    return layout(*c_, true, dx_).total;
  }
  void run(OpContext& ctx) const override {
    const CudnnLstm& c = *c_;
    c.bind(ctx.be);
    const LstmDims& d = c.d;
    char* w = static_cast<char*>(ctx.workspace);
    const Space s = layout(c, true, dx_);
    float* ws = reinterpret_cast<float*>(w + s.ws);
    float* dws = reinterpret_cast<float*>(w + s.dws);
    int32_t* seq = reinterpret_cast<int32_t*>(w + s.seq);
    ctx.be.upload(seq, c.seq.data(), c.seq.size() * sizeof(int32_t));
    float* W = ctx.in(1).f32();
    float* P = d.P > 0 ? ctx.in(7).f32() : nullptr;
    int o = 0;
    float* dW = ctx.out(o++).f32();
    float* db = ctx.out(o++).f32();
    float* dP = d.P > 0 ? ctx.out(o++).f32() : nullptr;
    float* dx = dx_ ? ctx.out(o++).f32() : reinterpret_cast<float*>(w + s.dx);
    float* dh0 = dh0_ ? ctx.out(o++).f32() : nullptr;
    float* dc0 = dc0_ ? ctx.out(o++).f32() : nullptr;
    c.convert(ctx.be, true, W, nullptr, P, ws);
    void* reserve = ctx.in(3).data;
    SG_CUDNN(cudnnRNNBackwardData_v8(c.handle, c.rnn, seq, c.yd, ctx.in(2).data, ctx.in(6).data,
                                     c.xd, dx, c.hd, ctx.in(4).data, nullptr, dh0, c.cd,
                                     ctx.in(5).data, nullptr, dc0, c.weight_bytes, ws, c.work_bytes,
                                     w + s.work, c.reserve_bytes, reserve));
    ctx.be.fill_zero(dws, c.weight_bytes);
    SG_CUDNN(cudnnRNNBackwardWeights_v8(c.handle, c.rnn, CUDNN_WGRAD_MODE_ADD, seq, c.xd,
                                        ctx.in(0).data, c.hd, ctx.in(4).data, c.yd, ctx.in(2).data,
                                        c.weight_bytes, dws, c.work_bytes, w + s.work,
                                        c.reserve_bytes, reserve));
    c.convert(ctx.be, false, dW, db, dP, dws);
  }

 private:
  std::shared_ptr<CudnnLstm> c_;
  bool dx_, dh0_, dc0_;
};

class CudnnLstmOp final : public Op {
 public:
  CudnnLstmOp(std::shared_ptr<CudnnLstm> c, bool write_h, bool write_c)
      : c_(std::move(c)), write_h_(write_h), write_c_(write_c) {}
  std::string type() const override { return "lstm_cudnn"; }
  size_t workspace_bytes(const Graph&, const Node&) const override {
    return layout(*c_, false, true).total;
  }
  void run(OpContext& ctx) const override {
    const CudnnLstm& c = *c_;
    c.bind(ctx.be);
    const LstmDims& d = c.d;
    char* w = static_cast<char*>(ctx.workspace);
    const Space s = layout(c, false, true);
    float* ws = reinterpret_cast<float*>(w + s.ws);
    int32_t* seq = reinterpret_cast<int32_t*>(w + s.seq);
    ctx.be.upload(seq, c.seq.data(), c.seq.size() * sizeof(int32_t));
    float* h0 = ctx.in(3).f32();
    float* c0 = ctx.in(4).f32();
    c.convert(ctx.be, true, ctx.in(1).f32(), ctx.in(2).f32(), d.P > 0 ? ctx.in(5).f32() : nullptr,
              ws);
    float* h0c = ctx.out(2).f32();
    float* c0c = ctx.out(3).f32();
    ctx.be.copy(h0c, h0, static_cast<size_t>(d.B * d.R()) * sizeof(float));
    ctx.be.copy(c0c, c0, static_cast<size_t>(d.B * d.H) * sizeof(float));
    SG_CUDNN(cudnnRNNForward(c.handle, c.rnn, CUDNN_FWD_MODE_TRAINING, seq, c.xd, ctx.in(0).data,
                             c.yd, ctx.out(0).data, c.hd, h0c, write_h_ ? h0 : nullptr, c.cd, c0c,
                             write_c_ ? c0 : nullptr, c.weight_bytes, ws, c.work_bytes, w + s.work,
                             c.reserve_bytes, ctx.out(1).data));
  }
  void backward(Graph& g, const Node& node, const std::vector<Grad>& og,
                std::vector<Grad>& ig) const override {
    for (size_t k = 1; k < og.size(); ++k)
      SG_CHECK(!og[k].defined(), "lstm (cudnn): only the output y is differentiable");
    SG_CHECK(og[0].defined() && !og[0].is_sparse(), "lstm (cudnn): missing dense gradient of y");
    const LstmDims& d = c_->d;
    const ValueId x = node.inputs[0], W = node.inputs[1], b = node.inputs[2], h0 = node.inputs[3],
                  c0 = node.inputs[4];
    const ValueId P = d.P > 0 ? node.inputs[5] : kNoValue;
    const bool want_dx = g.value(x).requires_grad, want_dh0 = g.value(h0).requires_grad,
               want_dc0 = g.value(c0).requires_grad;
    std::vector<ValueId> ins{
        x, W, node.outputs[0], node.outputs[1], node.outputs[2], node.outputs[3], og[0].dense};
    if (P != kNoValue) ins.push_back(P);
    const std::string base = "lstm_cudnn_grad." + std::to_string(g.values().size());
    std::vector<ValueSpec> outs{ValueSpec{base + ".dW", g.value(W).shape},
                                ValueSpec{base + ".db", g.value(b).shape}};
    if (P != kNoValue) outs.push_back(ValueSpec{base + ".dP", g.value(P).shape});
    if (want_dx) outs.push_back(ValueSpec{base + ".dx", g.value(x).shape});
    if (want_dh0) outs.push_back(ValueSpec{base + ".dh0", g.value(h0).shape});
    if (want_dc0) outs.push_back(ValueSpec{base + ".dc0", g.value(c0).shape});
    auto r =
        g.add(std::make_shared<CudnnLstmBackwardOp>(c_, want_dx, want_dh0, want_dc0), ins, outs);
    int o = 0;
    if (g.value(W).requires_grad) ig[1].dense = r[o];
    ++o;
    if (g.value(b).requires_grad) ig[2].dense = r[o];
    ++o;
    if (P != kNoValue) {
      if (g.value(P).requires_grad) ig[5].dense = r[o];
      ++o;
    }
    if (want_dx) ig[0].dense = r[o++];
    if (want_dh0) ig[3].dense = r[o++];
    if (want_dc0) ig[4].dense = r[o++];
  }

 private:
  std::shared_ptr<CudnnLstm> c_;
  bool write_h_, write_c_;
};

}  // namespace

ValueId lstm_cudnn(Graph& g, ValueId x, ValueId W, ValueId b, ValueId P, ValueId h0, ValueId c0,
                   int64_t steps, bool tf32) {
  const LstmDims d = lstm_detail::lstm_check_shapes(g, x, W, b, P, h0, c0, steps);
  auto c = std::make_shared<CudnnLstm>(d, tf32);
  std::vector<ValueId> ins{x, W, b, h0, c0};
  if (P != kNoValue) ins.push_back(P);
  const int64_t reserve_floats = static_cast<int64_t>((c->reserve_bytes + 3) / 4);
  const std::string base = "lstm_cudnn." + std::to_string(g.values().size());
  auto outs =
      g.add(std::make_shared<CudnnLstmOp>(c, g.value(h0).category == Category::State,
                                          g.value(c0).category == Category::State),
            ins,
            {ValueSpec{base + ".y", Shape{d.T * d.B, d.R()}},
             ValueSpec{base + ".reserve", Shape{reserve_floats > 0 ? reserve_floats : 1}},
             ValueSpec{base + ".h0", Shape{d.B, d.R()}}, ValueSpec{base + ".c0", Shape{d.B, d.H}}});
  return outs[0];
}

}  // namespace sg
