// Linear, embedding, dropout and id-flattening builders (see linear.h).
#include "layers/linear.h"

#include "engine/backend.h"
#include "engine/ops/ops.h"

namespace sg {

namespace {
// i32 copy with a new shape; no gradient (ids are not differentiable).
class FlattenIdsOp final : public Op {
 public:
  std::string type() const override { return "flatten_ids"; }
  void run(OpContext& c) const override {
    c.be.copy(c.out(0).data, c.in(0).data, c.in(0).nbytes());
  }
};
}  // namespace

ValueId linear(Graph& g, ValueId x, ValueId W, ValueId b) {
  // Copies: matmul adds values to the graph, which may move every Value (ws[1] is read after it).
  const Shape xs = g.value(x).shape, ws = g.value(W).shape;
  SG_CHECK(ws.rank() == 2 && xs.rank() >= 1 && xs[xs.rank() - 1] == ws[0], "linear: x ", xs.str(),
           " and W ", ws.str(), " do not match (need x [..., I], W [I, O])");
  ValueId y = matmul(g, x, W);
  if (b != kNoValue) {
    SG_CHECK(g.value(b).shape == Shape({ws[1]}), "linear: b must be [O=", ws[1], "], got ",
             g.value(b).shape.str());
    y = bias_add(g, y, b);
  }
  return y;
}

ValueId embedding(Graph& g, ValueId table, ValueId ids) { return gather(g, table, ids); }

ValueId dropout_layer(Graph& g, ValueId x, float p, bool training, uint64_t salt) {
  SG_CHECK(p >= 0.0f && p < 1.0f, "dropout: probability ", p, " must be in [0, 1)");
  if (!training || p == 0.0f) return x;
  return dropout(g, x, p, salt);
}

ValueId flatten_ids(Graph& g, ValueId ids) {
  const Value& v = g.value(ids);
  SG_CHECK(v.dtype == DType::I32, "flatten_ids: '", v.name, "' must be i32");
  return g.add1(std::make_shared<FlattenIdsOp>(), {ids},
                ValueSpec{"flat_ids." + std::to_string(g.values().size()), Shape{v.shape.numel()},
                          DType::I32});
}

}  // namespace sg
