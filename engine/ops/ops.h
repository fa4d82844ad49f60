// Functional builder API over the engine's differentiable ops. Each function appends one op
// (sometimes two) to the graph and returns its output value; shapes and dtypes are validated here,
// at graph-build time, with one clear sg::Error line naming the op and printing the shapes
// involved. Backward passes are built from the same functions, so every op below can be
// differentiated (twice only where noted: none is guaranteed).
//
// Shapes (row-major, last dim contiguous):
//   add/sub/mul(a, b)          a, b same shape -> same shape (no broadcasting; see bias_add)
//   scale(x, alpha)            alpha * x
//   sigmoid(x), tanh(x)        element-wise
//   bias_add(x, b)             x [..., C] + b [C]; gradient of b = column sums of dy
//   matmul(a, b, ta, tb)       op(A) [M, K] x op(B) [K, N]; a or b of rank > 2 is folded to 2-D as
//                              [prod(leading dims), last dim]. Output [M, N], or a's leading dims +
//                              [N] when a has rank > 2 and !ta ([B, T, K] x [K, N] -> [B, T, N])
//   batched_matmul(a, b, ...)  a [P, ., .], b [P, ., .] -> [P, M, N], one product per batch entry p
//   slice(x, axis, start, len) x[..., start:start+len, ...] along axis (negative axis counts from
//                              the end)
//   concat(xs, axis)           inputs equal except along axis
//   reshape(x, shape)          same numel (copies; tensors do not alias)
//   sum(x), mean(x)            -> [1]
//   gather(table, ids)         table [V, D] f32, ids i32 any shape S -> S + [D]. The gradient of
//                              table is ROW-SPARSE (unique ids, summed rows, count) when table is
//                              a Parameter; dense [V, D] otherwise.
//   log_softmax_cross_entropy(logits, targets)
//                              logits [..., C] f32, targets i32 of shape logits.dims[:-1] -> mean
//                              loss [1]; optionally also the per-row losses (shape of targets).
//   dropout(x, p, salt)        training: x * mask / (1 - p) with mask from engine/rng.h (seed,
//                              stream(step, salt), index); evaluation (OpContext::training false):
//                              identity.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "engine/graph.h"

namespace sg {

// The two ops autograd itself needs (Graph::backward): a no-input op filling its output with
// `value` (seeds d(loss) = 1) and an element-wise add of two same-shape values (sums gradient
// contributions).
std::shared_ptr<const Op> make_fill_op(float value);
std::shared_ptr<const Op> make_add_op();

ValueId fill(Graph& g, Shape shape, float value);
ValueId add(Graph& g, ValueId a, ValueId b);
ValueId sub(Graph& g, ValueId a, ValueId b);
ValueId mul(Graph& g, ValueId a, ValueId b);
ValueId scale(Graph& g, ValueId x, float alpha);
ValueId sigmoid(Graph& g, ValueId x);
ValueId tanh(Graph& g, ValueId x);
ValueId bias_add(Graph& g, ValueId x, ValueId bias);

ValueId matmul(Graph& g, ValueId a, ValueId b, bool trans_a = false, bool trans_b = false);
ValueId batched_matmul(Graph& g, ValueId a, ValueId b, bool trans_a = false, bool trans_b = false);

ValueId slice(Graph& g, ValueId x, int axis, int64_t start, int64_t len);
ValueId concat(Graph& g, const std::vector<ValueId>& xs, int axis);
ValueId reshape(Graph& g, ValueId x, Shape shape);

ValueId sum(Graph& g, ValueId x);
ValueId mean(Graph& g, ValueId x);

ValueId gather(Graph& g, ValueId table, ValueId ids);
// Row-sparse sum of gradient rows by id (the op behind gather's gradient): ids i32 (numel n), rows
// f32
// [..., D] with n rows, every id in [0, table_rows). Returns ids i32[n], rows f32[n, D], count
// i32[1].
SparseRows scatter_add_rows(Graph& g, ValueId ids, ValueId rows, int64_t table_rows);
// Row-sparse -> dense [table_rows, D] (tests, and gradients of gathers from non-parameter tables).
ValueId densify(Graph& g, const SparseRows& sparse, int64_t table_rows);

// Mean cross-entropy of softmax(logits) against targets. When row_loss is not null it receives the
// value of per-row losses (not differentiable: the gradient flows through the mean only).
ValueId log_softmax_cross_entropy(Graph& g, ValueId logits, ValueId targets,
                                  ValueId* row_loss = nullptr);

// Inverted dropout with keep probability 1 - p, 0 <= p < 1. salt separates the random streams of
// different dropout ops; 0 picks one from the op's position in the graph (deterministic for a given
// build order).
ValueId dropout(Graph& g, ValueId x, float p, uint64_t salt = 0);

}  // namespace sg
