// The per-element maths of the element-wise rules (rule.h), shared by the CPU and CUDA kernels so
// both devices evaluate the same expressions. Dense moments are updated here (decay * old + scale *
// x); sketched moments were updated by sketch_update and are only queried.
#pragma once
#include <cmath>

#include "optimizers/rule.h"
#include "sketch/store.h"

namespace sg {

SG_HD float moment_value(const StoreView& s, int64_t row, int64_t c, float decay, float scale,
                         float x) {
  if (s.kind == StoreKind::Dense) {
    float* p = s.data + row * s.dim + c;
    const float nv = decay * *p + scale * x;
    *p = nv;
    return nv;
  }
  return store_query(s, row, c);
}

// New value of weight w (row `row`, column c) given its prepared gradient g.
SG_HD float apply_element(const RuleParams& r, float w, float g, const StoreView& m,
                          const StoreView& v, int64_t row, int64_t c) {
  switch (r.rule) {
    case RuleKind::Momentum: {
      const float mv = moment_value(m, row, c, r.m_decay, r.m_scale, g);
      return w - r.lr * mv;
    }
    case RuleKind::Nesterov: {
      const float mv = moment_value(m, row, c, r.m_decay, r.m_scale, g);
      return w - r.lr * (g + r.momentum * mv);
    }
    case RuleKind::Adagrad:
    case RuleKind::RmsProp:
    case RuleKind::Sm3: {  // sm3 on a vector is adagrad
      const float vv = moment_value(v, row, c, r.v_decay, r.v_scale, g * g);
      return w - r.lr * g / (sqrtf(vv) + r.eps);
    }
    case RuleKind::Adam:
    case RuleKind::AdamW: {
      const float mv = moment_value(m, row, c, r.m_decay, r.m_scale, g);
      const float vv = moment_value(v, row, c, r.v_decay, r.v_scale, g * g);
      return w * r.wd_factor - r.step_size * mv / (sqrtf(vv) + r.eps);
    }
    default:  // sgd, and the lazy fallback of the sparsified rules on row-sparse gradients
      return w - r.lr * g;
  }
}

}  // namespace sg
