// Helpers shared by the op implementations in engine/ops/ (not part of the public API): value
// naming, build-time checks with clear messages, and access to dense upstream gradients.
#pragma once
#include <string>

#include "engine/graph.h"

namespace sg::ops_detail {

// "<base>.<index>": unique within a graph (the graph prefixes the layer scope).
inline std::string name_for(const Graph& g, const std::string& base) {
  return base + "." + std::to_string(g.values().size());
}

inline const Value& val(const Graph& g, ValueId v) { return g.value(v); }

inline void check_dtype(const Graph& g, ValueId v, DType want, const char* op, const char* arg) {
  const Value& x = g.value(v);
  SG_CHECK(x.dtype == want, op, ": ", arg, " '", x.name, "' is ", dtype_name(x.dtype),
           ", expected ", dtype_name(want));
}

inline void check_same_shape(const Graph& g, ValueId a, ValueId b, const char* op) {
  const Value &x = g.value(a), &y = g.value(b);
  SG_CHECK(x.shape == y.shape, op, ": shape mismatch ", x.shape.str(), " vs ", y.shape.str(), " ('",
           x.name, "', '", y.name, "')");
}

// The dense gradient of an op output; row-sparse gradients only flow into parameters.
inline ValueId dense_grad(const Grad& gr, const char* op) {
  SG_CHECK(!gr.is_sparse(), op, ": cannot back-propagate a row-sparse gradient through this op");
  SG_CHECK(gr.dense != kNoValue, op, ": missing output gradient");
  return gr.dense;
}

// Product of dims [begin, end).
inline int64_t dims_product(const Shape& s, int begin, int end) {
  int64_t p = 1;
  for (int i = begin; i < end; ++i) p *= s[i];
  return p;
}

}  // namespace sg::ops_detail
