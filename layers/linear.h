// Basic layers as thin builders over engine ops (engine/ops/ops.h):
//   linear(x, W, b):   y = x W + b     x [..., I], W [I, O], b [O] (or kNoValue) -> y [..., O]
//   embedding(T, ids): y = T[ids]      T [V, E], ids i32 any shape S -> S + [E]; when T is a
//                      Parameter its gradient is ROW-SPARSE (unique ids, summed rows, count:
//                      engine gather op)
//   dropout_layer(x, p, training): inverted dropout (engine dropout op) or x itself when p == 0
//                      or !training
//   flatten_ids(ids):  i32 ids of any shape -> [numel] (a copy op; i32 values cannot go through
//                      reshape)
#pragma once
#include <cstdint>

#include "engine/graph.h"

namespace sg {

ValueId linear(Graph& g, ValueId x, ValueId W, ValueId b);
ValueId embedding(Graph& g, ValueId table, ValueId ids);
ValueId dropout_layer(Graph& g, ValueId x, float p, bool training, uint64_t salt = 0);
ValueId flatten_ids(Graph& g, ValueId ids);

}  // namespace sg
