// Embedding graph ops: gather rows of a table, and its gradient.
//   forward:  out[i, :] = table[ids[i], :]  (ids flattened to n = numel(ids); out has shape
//   ids.shape + [D]) backward: dtable = scatter-add of dy's n rows by id. For a Parameter table it
//   stays ROW-SPARSE
//             (ids i32[n] unique ascending, rows f32[n, D], count i32[1]; see engine/graph.h), so
//             no dense V x D gradient is ever materialised; for any other table the sparse rows are
//             densified.
// The scatter-add sorts (id, position) keys in a planner-sized workspace and sums each id's rows in
// position order: deterministic (engine/kernels/gather_kernels.h).
#include "engine/dispatch.h"
#include "engine/kernels/gather_kernels.h"
#include "engine/ops/op_common.h"
#include "engine/ops/ops.h"

namespace sg {

using namespace ops_detail;

namespace {

class ScatterAddOp final : public Op {
 public:
  explicit ScatterAddOp(int64_t table_rows) : rows_(table_rows) {}
  std::string type() const override { return "scatter_add_rows"; }
  void run(OpContext& c) const override {
    const int64_t n = c.in(0).numel(), d = c.out(1).shape[1];
    SG_DISPATCH(c.be, scatter_add_rows, c.in(0).i32(), c.in(1).f32(), n, d, rows_, c.out(0).i32(),
                c.out(1).f32(), c.out(2).i32(), c.workspace, c.workspace_bytes);
  }
  size_t workspace_bytes(const Graph& g, const Node& node) const override {
    const Shape& rows = g.value(node.outputs[1]).shape;
    return scatter_add_workspace_bytes(rows[0], rows[1]);
  }

 private:
  int64_t rows_;
};

class DensifyOp final : public Op {
 public:
  std::string type() const override { return "densify_rows"; }
  void run(OpContext& c) const override {
    const Shape& rows = c.in(1).shape;
    SG_DISPATCH(c.be, densify_rows, c.in(0).i32(), c.in(1).f32(), c.in(2).i32(), rows[0], rows[1],
                c.out(0).f32(), c.out(0).shape[0]);
  }
};

class GatherOp final : public Op {
 public:
  std::string type() const override { return "gather"; }
  void run(OpContext& c) const override {
    const Shape& t = c.in(0).shape;
    SG_DISPATCH(c.be, gather_rows, c.in(0).f32(), t[0], t[1], c.in(1).i32(), c.in(1).numel(),
                c.out(0).f32());
  }
  void backward(Graph& g, const Node& node, const std::vector<Grad>& og,
                std::vector<Grad>& ig) const override {
    const ValueId table = node.inputs[0];
    const int64_t vocab = g.value(table).shape[0];
    SparseRows s = scatter_add_rows(g, node.inputs[1], dense_grad(og[0], "gather"), vocab);
    if (g.value(table).category == Category::Parameter)
      ig[0].sparse = s;
    else
      ig[0].dense = densify(g, s, vocab);
  }
};

}  // namespace

ValueId gather(Graph& g, ValueId table, ValueId ids) {
  check_dtype(g, table, DType::F32, "gather", "table");
  check_dtype(g, ids, DType::I32, "gather", "ids");
  const Shape& t = g.value(table).shape;
  SG_CHECK(t.rank() == 2, "gather: table must be [rows, dim], got ", t.str());
  Shape out = g.value(ids).shape;
  out.dims.push_back(t[1]);
  return g.add1(std::make_shared<GatherOp>(), {table, ids}, ValueSpec{name_for(g, "gather"), out});
}

SparseRows scatter_add_rows(Graph& g, ValueId ids, ValueId rows, int64_t table_rows) {
  check_dtype(g, ids, DType::I32, "scatter_add_rows", "ids");
  check_dtype(g, rows, DType::F32, "scatter_add_rows", "rows");
  const Shape &is = g.value(ids).shape, &rs = g.value(rows).shape;
  const int64_t n = is.numel();
  SG_CHECK(rs.rank() >= 1 && rs.numel() == n * rs[rs.rank() - 1], "scatter_add_rows: rows ",
           rs.str(), " do not hold one row per id of ", is.str());
  const int64_t d = rs[rs.rank() - 1];
  const std::string base = name_for(g, "sparse_grad");
  auto outs =
      g.add(std::make_shared<ScatterAddOp>(table_rows), {ids, rows},
            {ValueSpec{base + ".ids", Shape{n}, DType::I32}, ValueSpec{base + ".rows", Shape{n, d}},
             ValueSpec{base + ".count", Shape{1}, DType::I32}});
  return SparseRows{outs[0], outs[1], outs[2]};
}

ValueId densify(Graph& g, const SparseRows& s, int64_t table_rows) {
  const Shape& rs = g.value(s.rows).shape;
  SG_CHECK(rs.rank() == 2, "densify: rows must be [n, dim], got ", rs.str());
  return g.add1(std::make_shared<DensifyOp>(), {s.ids, s.rows, s.count},
                ValueSpec{name_for(g, "densify"), Shape{table_rows, rs[1]}});
}

}  // namespace sg
