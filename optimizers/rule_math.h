// The per-element maths of the element-wise rules (rule.h), shared by the CPU and CUDA kernels so
// both devices evaluate the same expressions. Dense moments are updated here (decay * old + scale *
// x; Bf16 stores keep the new value stochastically rounded); sketched moments were updated by
// sketch_update and are only queried.
#pragma once
#include <cmath>
#include <type_traits>

#include "optimizers/rule.h"
#include "sketch/bf16.h"
#include "sketch/store.h"

namespace sg {

// sr: the row's SketchRow when s is a sketch (from sketch_row), unused otherwise.
SG_HD float moment_value(const StoreView& s, const SketchRow& sr, int64_t row, int64_t c,
                         float decay, float scale, float x) {
  if (s.kind == StoreKind::None) return decay * 0.f + scale * x;  // no store: a fresh moment
  if (s.kind == StoreKind::Dense) {
    float* p = s.data + row * s.dim + c;
    const float nv = decay * *p + scale * x;
    *p = nv;
    return nv;
  }
  if (s.kind == StoreKind::Bf16) {  // the step uses the fp32 value; the store keeps it rounded
    const int64_t i = row * s.dim + c;
    uint16_t* p = reinterpret_cast<uint16_t*>(s.data) + i;
#ifdef __CUDA_ARCH__  // no FMA contraction: the value rounded is the CPU's, so are the stored bits
    const float nv = __fadd_rn(__fmul_rn(decay, bf16_to_float(*p)), __fmul_rn(scale, x));
#else
    const float nv = decay * bf16_to_float(*p) + scale * x;
#endif
    *p = bf16_round(nv, bf16_round_bits(s.round_seed, s.round_step, i));
    return nv;
  }
  return sketch_row_value(s, sr, c);
}

// |m| <= lim as compare-selects (the same expression in every kernel, vectorisable; a NaN passes
// through instead of being clamped, so a diverged run shows it).
SG_HD float clamp_m(float m, float lim) { return m < -lim ? -lim : (m > lim ? lim : m); }

// Per-row sketch slots of m and v (nothing computed for dense or absent stores).
struct MomentRows {
  SketchRow m, v;
};
SG_HD void moment_rows(const StoreView& m, const StoreView& v, int64_t row, MomentRows* out) {
  if (m.kind == StoreKind::CountSketch || m.kind == StoreKind::CountMin)
    out->m = sketch_row(m, row);
  if (v.kind == StoreKind::CountSketch || v.kind == StoreKind::CountMin)
    out->v = sketch_row(v, row);
}

// New value of weight w (row `row`, column c) given its prepared gradient g.
template <RuleKind K>
SG_HD float apply_element(const RuleParams& r, float w, float g, const StoreView& m,
                          const StoreView& v, const MomentRows& mr, int64_t row, int64_t c) {
  switch (K) {
    case RuleKind::Momentum: {
      const float mv = moment_value(m, mr.m, row, c, r.m_decay, r.m_scale, g);
      return w - r.lr * mv;
    }
    case RuleKind::Nesterov: {
      const float mv = moment_value(m, mr.m, row, c, r.m_decay, r.m_scale, g);
      return w - r.lr * (g + r.momentum * mv);
    }
    case RuleKind::Adagrad:
    case RuleKind::RmsProp:
    case RuleKind::Sm3: {  // sm3 on a vector is adagrad
      const float vv = moment_value(v, mr.v, row, c, r.v_decay, r.v_scale, g * g);
      return w - r.lr * g / (sqrtf(vv) + r.eps);
    }
    case RuleKind::Adam:
    case RuleKind::AdamW: {
      float mv = moment_value(m, mr.m, row, c, r.m_decay, r.m_scale, g);
      const float vv = moment_value(v, mr.v, row, c, r.v_decay, r.v_scale, g * g);
      if (r.m_bound > 0.f) mv = clamp_m(mv, r.m_bound * sqrtf(vv));
      return w * r.wd_factor - r.step_size * mv / (sqrtf(vv) + r.eps);
    }
    default:  // sgd, and the lazy fallback of the sparsified rules on row-sparse gradients
      return w - r.lr * g;
  }
}

// Calls f(std::integral_constant<RuleKind, K>{}) with K the kernel variant of rule k (host side),
// so the rule switch is resolved outside the element loops.
template <class F>
void with_rule(RuleKind k, F&& f) {
  switch (k) {
    case RuleKind::Momentum:
      return f(std::integral_constant<RuleKind, RuleKind::Momentum>{});
    case RuleKind::Nesterov:
      return f(std::integral_constant<RuleKind, RuleKind::Nesterov>{});
    case RuleKind::Adagrad:
    case RuleKind::RmsProp:
    case RuleKind::Sm3:
      return f(std::integral_constant<RuleKind, RuleKind::Adagrad>{});
    case RuleKind::Adam:
    case RuleKind::AdamW:
      return f(std::integral_constant<RuleKind, RuleKind::Adam>{});
    default:
      return f(std::integral_constant<RuleKind, RuleKind::Sgd>{});
  }
}

}  // namespace sg
