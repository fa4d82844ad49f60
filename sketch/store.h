// State stores: where one optimizer moment of one parameter lives (DESIGN 3.4). A parameter is
// viewed as a matrix [rows, dim] (rows = first dimension, dim = the product of the others; a vector
// is [n, 1]).
//
//   Dense        f32 [rows, dim]                  value(i, c) = S[i, c]
//   CountSketch  f32 [depth, width, dim], signed  value(i, c) = median_j sign_j(i) S[j, b_j(i), c]
//   CountMin     f32 [depth, width, dim], >= 0    value(i, c) = min_j S[j, b_j(i), c]
//   Cover (SM3)  f32 [rows] + f32 [dim]           value(i, c) = min(row[i], col[c]); row only
//                                                 ([rows]) for row-sparse gradients (value =
//                                                 row[i]); vectors use Dense
//   (b_j(i) = bucket_j(i), sketch/hash.h)
//   Residual     f32 [rows, dim] dense error-feedback buffer of top-k / random-k SGD
//
// Sketch updates (kernels in sketch_kernels.inc), for the active rows i with inputs x_i (g or g*g):
//   Lazy (default, the authors' code that produced the published numbers): every touched bucket
//   once,
//     S[j,b,:] <- decay * S[j,b,:] + scale * sum_{i: bucket_j(i)=b} sign_j(i) * x_i
//     (decay, scale) = (beta, 1-beta) for an EMA, (1, 1) for an Adagrad sum, (gamma, 1) for
//     momentum. Default because it is what the published runs used, costs one read-modify-write per
//     bucket, and is exact: with an injective hash it reproduces the dense rule bit for bit.
//   Paper (query -> delta -> update, the algorithm boxes): est_i = value(i); delta_i = decay *
//   est_i +
//     scale * x_i - est_i; S[j,b,:] += sum_{i: bucket_j(i)=b} sign_j(i) * delta_i.
//   Conservative (Count-Min only; Estan & Varghese 2002, "conservative update"): target_i = decay *
//     est_i + scale * x_i (est read before any write); S[j,b,:] <- max(decay * S[j,b,:],
//     max_{i: bucket_j(i)=b} target_i). Every row still reads >= its target, but a bucket only
//     rises as far as its smallest-estimate row needs, so rare rows that share buckets with
//     frequent ones are over-estimated less than with Lazy (value <= Lazy's for the same history).
//     x >= 0.
// Rows sharing a bucket are combined deterministically: (bucket, position) keys are sorted and each
// bucket's rows are summed in ascending position order. Count-Min cleaning: every `clean_every`
// steps the whole sketch is multiplied by `clean_alpha` (never a Count-Sketch).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "sketch/hash.h"

namespace sg {

// None: no store at all; only a first moment may be None (Adam/AdamW then use m = g, i.e. beta1 = 0
// for that parameter, and keep no memory for it).
enum class StoreKind : uint8_t { Dense, CountSketch, CountMin, Cover, Residual, None, Bf16 };
enum class SketchUpdate : uint8_t { Lazy, Paper, Conservative };

const char* sketch_update_name(SketchUpdate u);  // "lazy", "paper", "conservative"

const char* store_kind_name(StoreKind k);

// What a policy asks for (see optimizers/policy.h for the text form).
struct StoreSpec {
  StoreKind kind = StoreKind::Dense;
  double compression = 5.0;  // "5x": total sketch size = 1/5 of the matrix
  int depth = 3;
  bool identity_hash = false;  // tests: bucket = row mod width
  bool unbounded = false;      // ablation: no |m| <= k sqrt(v) clamp for sketched Adam (rule.h)
  SketchUpdate update = SketchUpdate::Lazy;
  float clean_alpha = 0.25f;  // Count-Min cleaning (authors' code: 0.25 every 1000 steps)
  int64_t clean_every =
      -1;  // 0 = never; -1 = the rule's default (1000 for EMA second moments, else 0)
};

// width = max(1, round(rows / (compression * depth))); "5x" with depth 3 is round(0.2 * rows / 3).
int64_t sketch_width(int64_t rows, double compression, int depth);

// The kernel-facing view of one store: plain data, passed by value to CPU and CUDA kernels.
struct StoreView {
  StoreKind kind = StoreKind::Dense;
  float* data =
      nullptr;  // Dense/Residual: [rows, dim]; sketches: [depth, width, dim]; Cover: row accums
  float* col = nullptr;  // Cover: column accumulators [dim], null for row-only covers
  int64_t rows = 0, dim = 0;
  SketchHash hash;  // sketches only (hash.width, hash.depth)
  // Bf16 (data holds uint16 [rows, dim], sketch/bf16.h): the stochastic-rounding stream, a seed
  // fixed per store and the optimizer step, which the optimizer sets before each update.
  uint64_t round_seed = 0;
  int64_t round_step = 0;
  bool is_sketch() const { return kind == StoreKind::CountSketch || kind == StoreKind::CountMin; }
};

// Where row i lives in a sketch: the offset of its bucket row in each depth plane, and its signs.
// Computed once per row so the per-column work is loads and a median/min.
struct SketchRow {
  int64_t off[kMaxSketchDepth];
  float sign[kMaxSketchDepth];
};

SG_HD SketchRow sketch_row(const StoreView& s, int64_t i) {
  SketchRow r;
  const uint32_t id = static_cast<uint32_t>(i);
  const int64_t plane = static_cast<int64_t>(s.hash.width) * s.dim;
  for (int j = 0; j < s.hash.depth; ++j) {
    r.off[j] = j * plane + static_cast<int64_t>(s.hash.bucket(j, id)) * s.dim;
    r.sign[j] = s.kind == StoreKind::CountSketch ? s.hash.sign(j, id) : 1.0f;
  }
  return r;
}

// value(i, c) of a sketch given row i's SketchRow: signed median (Count-Sketch) or min (Count-Min).
SG_HD float sketch_row_value(const StoreView& s, const SketchRow& r, int64_t c) {
  const int depth = s.hash.depth;
  float v[kMaxSketchDepth] = {};
  for (int j = 0; j < depth; ++j) {
    const float x = s.data[r.off[j] + c];
    v[j] = s.kind == StoreKind::CountSketch ? r.sign[j] * x : x;
  }
  if (s.kind == StoreKind::CountMin) {
    float m = v[0];
    for (int j = 1; j < depth; ++j) m = v[j] < m ? v[j] : m;
    return m;
  }
  if (depth == 1) return v[0];
  if (depth == 3) {  // median of three without sorting
    const float lo = v[0] < v[1] ? v[0] : v[1], hi = v[0] < v[1] ? v[1] : v[0];
    const float m = hi < v[2] ? hi : v[2];
    return lo > m ? lo : m;
  }
  for (int a = 1; a < depth; ++a) {  // insertion sort; even depth: mean of the two middle values
    float x = v[a];
    int b = a - 1;
    while (b >= 0 && v[b] > x) {
      v[b + 1] = v[b];
      --b;
    }
    v[b + 1] = x;
  }
  return (depth & 1) ? v[depth / 2] : 0.5f * (v[depth / 2 - 1] + v[depth / 2]);
}

// value(i, c) of a Dense, Residual, CountSketch or CountMin store (see the table above).
SG_HD float store_query(const StoreView& s, int64_t i, int64_t c) {
  if (s.kind == StoreKind::Dense || s.kind == StoreKind::Residual) return s.data[i * s.dim + c];
  return sketch_row_value(s, sketch_row(s, i), c);
}

}  // namespace sg
