// State policy: which store holds each moment of each parameter, parsed from a short text.
//
//   policy  := "dense"                        every moment in a dense fp32 store
//            | preset [":" N "x"] ["+bf16"]   preset on the large parameters, N-fold compression
//            | entry (";" entry)*             per-parameter form; unnamed parameters stay dense
//   preset  := "bf16"    every moment of every parameter dense in bfloat16 (half the bytes)
//            | "cs-mv"   m in a Count-Sketch, v in a Count-Min Sketch (default 5x)
//            | "cs-v"    v only in a Count-Min Sketch
//            | "cs-m"    m only in a Count-Sketch
//            | "cs-v-nom" v in a Count-Min Sketch with the conservative update, cleaned x0.2 every
//                        125 steps (the paper's Adam setting), and no first moment (Adam/AdamW
//                        with beta1 = 0 on those parameters; other rules: cs-v)
//   entry   := param "=" moment ("," moment)*        e.g. embedding/W=m:cs:5x,v:cm:5x
//   moment  := ("m" | "v") ":" store (":" option)*
//   store   := "dense" | "bf16" (dense in bfloat16, stochastic rounding: half the bytes; see
//              sketch/bf16.h) | "cs" (Count-Sketch, m only) | "cm" (Count-Min, v only)
//            | "none" (m only, Adam/AdamW: no first moment kept, m = g, i.e. beta1 = 0 there)
//   option  := N "x"          compression: total sketch size = 1/N of the matrix (default 5x)
//            | "d" N          depth (default 3, at most 8)
//            | "lazy" | "paper"  update semantics (default lazy: see sketch/store.h)
//            | "cu"           Count-Min conservative update (sketch/store.h)
//            | "clean=" A "/" C  Count-Min cleaning, multiply by A every C steps (C = 0: never)
//            | "identity"     tests only: bucket = row mod width (injective when width >= rows)
//            | "unbounded"    ablation: no |m| <= k sqrt(v) clamp of sketched Adam (rule.h m_bound)
// "Large" (presets) = rank >= 2 and (row-sparse gradient or >= 65,536 rows), i.e. the embedding and
// the softmax of a language model; everything else (small matrices, vectors) stays dense. Moments a
// rule does not have are ignored by presets and rejected by the per-parameter form. Examples:
//   "cs-mv", "cs-v", "cs-mv:10x", "cs-v-nom+bf16" (the rest in bf16),
//   "embedding/W=m:cs:5x,v:cm:5x;softmax/W=v:cm"
#pragma once
#include <cstdint>
#include <map>
#include <string>

#include "sketch/store.h"

namespace sg {

struct ParamShapeInfo {
  int64_t rows = 0, dim = 0;
  int rank = 0;
  bool sparse_grad = false;
};

struct MomentStores {
  StoreSpec m, v;
  bool m_set = false, v_set = false;  // named explicitly (per-parameter form)
};

class StatePolicy {
 public:
  static StatePolicy parse(const std::string& text);  // throws sg::Error (one line) on bad text
  // Stores for one parameter; has_m / has_v say which moments the rule keeps, m_optional whether
  // it can run without its first moment (Adam/AdamW: m = g).
  MomentStores resolve(const std::string& param, const ParamShapeInfo& info, bool has_m, bool has_v,
                       bool m_optional) const;
  const std::map<std::string, MomentStores>& entries() const { return entries_; }
  const std::string& text() const { return text_; }

 private:
  std::string text_;
  bool preset_m_ = false, preset_v_ = false, preset_no_m_ = false, preset_bf16_ = false;
  bool rest_bf16_ = false;  // "+bf16": moments the preset leaves dense are kept in bf16
  double preset_compression_ = 5.0;
  std::map<std::string, MomentStores> entries_;
};

}  // namespace sg
