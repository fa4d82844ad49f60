// Store names and sketch sizing (see store.h).
#include "sketch/store.h"

#include <cmath>

#include "engine/check.h"

namespace sg {

const char* store_kind_name(StoreKind k) {
  switch (k) {
    case StoreKind::Dense:
      return "dense";
    case StoreKind::CountSketch:
      return "count-sketch";
    case StoreKind::CountMin:
      return "count-min";
    case StoreKind::Cover:
      return "sm3-cover";
    case StoreKind::Residual:
      return "residual";
    case StoreKind::None:
      return "none";
    case StoreKind::Bf16:
      return "bf16";
  }
  return "?";
}

const char* sketch_update_name(SketchUpdate u) {
  switch (u) {
    case SketchUpdate::Lazy:
      return "lazy";
    case SketchUpdate::Paper:
      return "paper";
    case SketchUpdate::Conservative:
      return "conservative";
  }
  return "?";
}

int64_t sketch_width(int64_t rows, double compression, int depth) {
  SG_CHECK(rows > 0, "sketch of ", rows, " rows");
  SG_CHECK(compression > 0 && std::isfinite(compression), "sketch compression must be > 0, got ",
           compression);
  SG_CHECK(depth >= 1 && depth <= kMaxSketchDepth, "sketch depth must be in [1, ", kMaxSketchDepth,
           "], got ", depth);
  const double w = std::round(static_cast<double>(rows) / (compression * depth));
  return w < 1 ? 1 : static_cast<int64_t>(w);
}

}  // namespace sg
