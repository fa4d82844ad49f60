// Matrix-product graph op (gemm and strided batched gemm, see engine/kernels/blas_kernels.h).
//   plain:   operands of rank > 2 are folded to 2-D [prod(leading dims), last dim]; C = op(A) op(B)
//   batched: A [P, ., .], B [P, ., .], C [P, M, N]; C_p = op(A_p) op(B_p)
// Gradients (the same rules per batch entry), with dC the gradient of C:
//   C = A B      : dA = dC B^T      dB = A^T dC
//   C = A^T B    : dA = B dC^T      dB = A dC
//   C = A B^T    : dA = dC B        dB = dC^T A
//   C = A^T B^T  : dA = B^T dC^T    dB = dC^T A^T
// Each gradient product is itself a matmul op whose output takes the operand's shape (same numel).
#include "engine/dispatch.h"
#include "engine/kernels/blas_kernels.h"
#include "engine/ops/op_common.h"
#include "engine/ops/ops.h"

namespace sg {

using namespace ops_detail;

namespace {

struct Dims {
  int64_t batch = 1, m = 0, n = 0, k = 0, lda = 0, ldb = 0;
  int64_t rows_a = 0, rows_b = 0;  // stored rows of one A / B matrix (for batch strides)
};

// Resolves M, N, K from the stored operand shapes; throws a clear error on mismatch.
Dims resolve(const Shape& a, const Shape& b, bool ta, bool tb, bool batched) {
  Dims d;
  int64_t ar, ac, br, bc;
  if (batched) {
    SG_CHECK(a.rank() == 3 && b.rank() == 3 && a[0] == b[0],
             "batched_matmul: needs a [P, ., .] and b [P, ., .]", ", got ", a.str(), " and ",
             b.str());
    d.batch = a[0];
    ar = a[1], ac = a[2], br = b[1], bc = b[2];
  } else {
    SG_CHECK(a.rank() >= 2 && b.rank() >= 2, "matmul: operands must have rank >= 2, got ", a.str(),
             " and ", b.str());
    ac = a[a.rank() - 1], ar = a.numel() / (ac ? ac : 1);
    bc = b[b.rank() - 1], br = b.numel() / (bc ? bc : 1);
  }
  d.m = ta ? ac : ar;
  const int64_t ka = ta ? ar : ac;
  const int64_t kb = tb ? bc : br;
  d.n = tb ? br : bc;
  SG_CHECK(ka == kb, batched ? "batched_matmul" : "matmul", ": inner dimensions differ: ", a.str(),
           ta ? "^T" : "", " x ", b.str(), tb ? "^T" : "", " (", ka, " vs ", kb, ")");
  d.k = ka;
  d.lda = ac, d.ldb = bc;
  d.rows_a = ar, d.rows_b = br;
  return d;
}

class MatmulOp final : public Op {
 public:
  MatmulOp(bool ta, bool tb, bool batched) : ta_(ta), tb_(tb), batched_(batched) {}
  std::string type() const override { return batched_ ? "batched_matmul" : "matmul"; }
  void run(OpContext& c) const override {
    const Dims d = resolve(c.in(0).shape, c.in(1).shape, ta_, tb_, batched_);
    if (batched_)
      SG_DISPATCH(c.be, gemm_strided_batched, ta_, tb_, d.m, d.n, d.k, 1.0f, c.in(0).f32(), d.lda,
                  d.rows_a * d.lda, c.in(1).f32(), d.ldb, d.rows_b * d.ldb, 0.0f, c.out(0).f32(),
                  d.n, d.m * d.n, d.batch);
    else
      SG_DISPATCH(c.be, gemm, ta_, tb_, d.m, d.n, d.k, 1.0f, c.in(0).f32(), d.lda, c.in(1).f32(),
                  d.ldb, 0.0f, c.out(0).f32(), d.n);
  }
  void backward(Graph& g, const Node& node, const std::vector<Grad>& og,
                std::vector<Grad>& ig) const override;

  bool ta_, tb_, batched_;
};

// Appends op(x) op(y) with the given output shape (numel must match the product).
ValueId product(Graph& g, ValueId x, ValueId y, bool tx, bool ty, bool batched, const Shape& out) {
  const Dims d = resolve(g.value(x).shape, g.value(y).shape, tx, ty, batched);
  SG_CHECK(d.batch * d.m * d.n == out.numel(), "matmul: product has ", d.batch * d.m * d.n,
           " elements, output shape ", out.str());
  return g.add1(std::make_shared<MatmulOp>(tx, ty, batched), {x, y},
                ValueSpec{name_for(g, batched ? "batched_matmul" : "matmul"), out});
}

void MatmulOp::backward(Graph& g, const Node& node, const std::vector<Grad>& og,
                        std::vector<Grad>& ig) const {
  const ValueId dc = dense_grad(og[0], "matmul");
  const ValueId a = node.inputs[0], b = node.inputs[1];
  const Shape sa = g.value(a).shape, sb = g.value(b).shape;
  if (g.value(a).requires_grad) {
    if (!ta_ && !tb_) ig[0].dense = product(g, dc, b, false, true, batched_, sa);
    if (ta_ && !tb_) ig[0].dense = product(g, b, dc, false, true, batched_, sa);
    if (!ta_ && tb_) ig[0].dense = product(g, dc, b, false, false, batched_, sa);
    if (ta_ && tb_) ig[0].dense = product(g, b, dc, true, true, batched_, sa);
  }
  if (g.value(b).requires_grad) {
    if (!ta_ && !tb_) ig[1].dense = product(g, a, dc, true, false, batched_, sb);
    if (ta_ && !tb_) ig[1].dense = product(g, a, dc, false, false, batched_, sb);
    if (!ta_ && tb_) ig[1].dense = product(g, dc, a, true, false, batched_, sb);
    if (ta_ && tb_) ig[1].dense = product(g, dc, a, true, true, batched_, sb);
  }
}

}  // namespace

ValueId matmul(Graph& g, ValueId a, ValueId b, bool trans_a, bool trans_b) {
  check_dtype(g, a, DType::F32, "matmul", "a");
  check_dtype(g, b, DType::F32, "matmul", "b");
  const Shape sa = g.value(a).shape;
  const Dims d = resolve(sa, g.value(b).shape, trans_a, trans_b, false);
  Shape out{d.m, d.n};
  if (sa.rank() > 2 && !trans_a) {
    out = sa;
    out.dims.back() = d.n;
  }
  return product(g, a, b, trans_a, trans_b, false, out);
}

ValueId batched_matmul(Graph& g, ValueId a, ValueId b, bool trans_a, bool trans_b) {
  check_dtype(g, a, DType::F32, "batched_matmul", "a");
  check_dtype(g, b, DType::F32, "batched_matmul", "b");
  const Dims d = resolve(g.value(a).shape, g.value(b).shape, trans_a, trans_b, true);
  return product(g, a, b, trans_a, trans_b, true, Shape{d.batch, d.m, d.n});
}

}  // namespace sg
