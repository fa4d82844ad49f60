// Full softmax cross-entropy builder (see softmax.h).
#include "layers/softmax.h"

#include "engine/ops/ops.h"
#include "layers/linear.h"

namespace sg {

FullSoftmax full_softmax_loss(Graph& g, ValueId h, ValueId W, ValueId b, ValueId targets) {
  const Shape &hs = g.value(h).shape, &ws = g.value(W).shape;
  SG_CHECK(ws.rank() == 2 && hs.rank() >= 1 && hs[hs.rank() - 1] == ws[1], "softmax: h ", hs.str(),
           " and W ", ws.str(), " do not match (need h [..., D], W [V, D])");
  SG_CHECK(g.value(b).shape == Shape({ws[0]}), "softmax: b must be [V=", ws[0], "], got ",
           g.value(b).shape.str());
  SG_CHECK(g.value(targets).dtype == DType::I32, "softmax: targets must be i32");
  const int64_t n = hs.numel() / ws[1];
  SG_CHECK(g.value(targets).shape.numel() == n, "softmax: targets ", g.value(targets).shape.str(),
           " must hold one id per row of h ", hs.str());
  ValueId h2 = hs.rank() == 2 ? h : reshape(g, h, Shape{n, ws[1]});
  ValueId t1 = g.value(targets).shape.rank() == 1 ? targets : flatten_ids(g, targets);
  FullSoftmax r;
  r.logits = bias_add(g, matmul(g, h2, W, false, true), b);
  r.loss = log_softmax_cross_entropy(g, r.logits, t1, &r.row_loss);
  return r;
}

int64_t full_softmax_forward_flops(int64_t n, int64_t v, int64_t d) { return 2 * n * v * d; }

}  // namespace sg
