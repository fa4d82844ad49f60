// CPU optimizer kernels (see optim_kernels.h). OpenMP over rows / fixed chunks; no allocation
// (scratch is on the stack or passed in).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "engine/rng.h"
#include "optimizers/optim_kernels.h"
#include "optimizers/rule_math.h"

namespace sg::cpu {

namespace {

// The row loops are compiled for AVX-512, AVX2 and baseline x86-64, the best picked at load time
// (as the softmax's row functions are). This file is compiled with -ffp-contract=off (CMakeLists),
// so no clone fuses a multiply-add: every clone rounds each operation exactly as the generic
// apply_element path does, and the results stay bitwise equal on every x86-64 CPU.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SG_OPT_CLONES __attribute__((target_clones("avx512f", "arch=haswell", "default"), noinline))
#else
#define SG_OPT_CLONES
#endif

int64_t valid_rows(const int32_t* count, int64_t n, const char* what) {
  if (!count) return n;
  const int64_t u = count[0];
  SG_CHECK(u >= 0 && u <= n, what, ": count ", u, " out of range [0, ", n, "]");
  return u;
}
int64_t row_of(const int32_t* ids, int64_t p) { return ids ? ids[p] : p; }
void check_ids(const int32_t* ids, int64_t u, int64_t rows, const char* what) {
  if (!ids) return;
  for (int64_t p = 0; p < u; ++p)
    SG_CHECK(ids[p] >= 0 && ids[p] < rows, what, ": id ", ids[p], " at position ", p,
             " is out of range [0, ", rows, ")");
}

// Adam / AdamW with both moments dense and no m bound: apply_element<Adam> with the store lookups
// hoisted out of the column loop, so the loop vectorises. Same expressions in the same order, so
// the result is bitwise that of the generic path (tests/optim compare them through lossless
// sketches).
// One contiguous run of n elements.
SG_OPT_CLONES void adam_dense_run(const RuleParams& r, float* __restrict__ w, float* __restrict__ m,
                                  float* __restrict__ v, const float* __restrict__ g, int64_t n) {
  const float md = r.m_decay, ms = r.m_scale, vd = r.v_decay, vs = r.v_scale;
  const float wd = r.wd_factor, step = r.step_size, eps = r.eps;
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const float gc = g[i];
    const float mv = md * m[i] + ms * gc;
    const float vv = vd * v[i] + vs * (gc * gc);
    m[i] = mv;
    v[i] = vv;
    w[i] = w[i] * wd - step * mv / (sqrtf(vv) + eps);
  }
}

void adam_dense_rows(Backend& be, const RuleParams& r, float* w, const int32_t* ids, int64_t u,
                     int64_t d, const float* g, float* m, float* v) {
  if (!ids) {  // a dense gradient: the parameter is one contiguous [u * d] block, cut in chunks
    const int64_t n = u * d, chunk = 4096, chunks = (n + chunk - 1) / chunk;
#pragma omp parallel for num_threads(be.threads()) schedule(static) if (n >= (1 << 14))
    for (int64_t k = 0; k < chunks; ++k) {
      const int64_t lo = k * chunk;
      adam_dense_run(r, w + lo, m + lo, v + lo, g + lo, std::min(chunk, n - lo));
    }
    return;
  }
#pragma omp parallel for num_threads(be.threads()) schedule(static) if (u * d >= (1 << 14))
  for (int64_t p = 0; p < u; ++p) {
    const int64_t row = row_of(ids, p);
    adam_dense_run(r, w + row * d, m + row * d, v + row * d, g + p * d, d);
  }
}

// Adam with both moments in bf16 stores (the bf16 preset): apply_element<Adam> with moment_value's
// bf16 branch, the per-row pointers and the rounding streams' per-step keys hoisted out of the
// column loop (bf16_round_bits = bf16_element_bits(bf16_step_key(seed, step), i)), so the loop
// vectorises; the same expressions in the same order, so bitwise the generic path's result.
// One row: elements base .. base + d - 1 of the parameter (i is the element's flat index).
SG_OPT_CLONES void adam_bf16_row(const RuleParams& r, uint32_t km, uint32_t kv, int64_t base,
                                 int64_t d, float* __restrict__ wr, uint16_t* __restrict__ mr,
                                 uint16_t* __restrict__ vr, const float* __restrict__ gr) {
  const float md = r.m_decay, ms = r.m_scale, vd = r.v_decay, vs = r.v_scale;
  const float wd = r.wd_factor, step = r.step_size, eps = r.eps;
#pragma omp simd
  for (int64_t c = 0; c < d; ++c) {
    const float gc = gr[c];
    const int64_t i = base + c;
    const float mv = md * bf16_to_float(mr[c]) + ms * gc;
    mr[c] = bf16_round(mv, bf16_element_bits(km, i));
    const float vv = vd * bf16_to_float(vr[c]) + vs * (gc * gc);
    vr[c] = bf16_round(vv, bf16_element_bits(kv, i));
    wr[c] = wr[c] * wd - step * mv / (sqrtf(vv) + eps);
  }
}

void adam_bf16_rows(Backend& be, const RuleParams& r, float* w, const int32_t* ids, int64_t u,
                    int64_t d, const float* g, const StoreView& m, const StoreView& v) {
  const uint32_t km = bf16_step_key(m.round_seed, m.round_step);
  const uint32_t kv = bf16_step_key(v.round_seed, v.round_step);
  auto* m16 = reinterpret_cast<uint16_t*>(m.data);
  auto* v16 = reinterpret_cast<uint16_t*>(v.data);
#pragma omp parallel for num_threads(be.threads()) schedule(static) if (u * d >= (1 << 14))
  for (int64_t p = 0; p < u; ++p) {
    const int64_t base = row_of(ids, p) * d;
    adam_bf16_row(r, km, kv, base, d, w + base, m16 + base, v16 + base, g + p * d);
  }
}

// Adam with m in a depth-3 Count-Sketch (kNoM: no m at all, m = g) and v in a depth-3 Count-Min
// sketch (the cs-mv and cs-v-nom presets), already updated by sketch_update: per active row, the
// three signed m bucket rows and the three v bucket rows are contiguous [d] vectors, so median /
// min / clamp / step vectorise over the columns. Same expressions as moment_value /
// sketch_row_value + apply_element<Adam> (median of three and min as the same compare-selects), so
// the result is bitwise that of the generic path.
template <bool kNoM>
void adam_sketch_rows(Backend& be, const RuleParams& r, float* w, const int32_t* ids, int64_t u,
                      int64_t d, const float* g, const StoreView& m, const StoreView& v) {
  const float wd = r.wd_factor, step = r.step_size, eps = r.eps, bound = r.m_bound;
  const float md = r.m_decay, mscale = r.m_scale;
#pragma omp parallel for num_threads(be.threads()) schedule(static) if (u * d >= (1 << 14))
  for (int64_t p = 0; p < u; ++p) {
    const int64_t row = row_of(ids, p);
    SketchRow ms{};
    if (!kNoM) ms = sketch_row(m, row);
    const SketchRow vs = sketch_row(v, row);
    const float* __restrict__ m0 = kNoM ? nullptr : m.data + ms.off[0];
    const float* __restrict__ m1 = kNoM ? nullptr : m.data + ms.off[1];
    const float* __restrict__ m2 = kNoM ? nullptr : m.data + ms.off[2];
    const float* __restrict__ v0 = v.data + vs.off[0];
    const float* __restrict__ v1 = v.data + vs.off[1];
    const float* __restrict__ v2 = v.data + vs.off[2];
    const float s0 = ms.sign[0], s1 = ms.sign[1], s2 = ms.sign[2];
    const float* __restrict__ gr = g + p * d;
    float* __restrict__ wr = w + row * d;
#pragma omp simd
    for (int64_t c = 0; c < d; ++c) {
      float mv;
      if (kNoM) {
        mv = md * 0.f + mscale * gr[c];  // moment_value of a None store
      } else {
        const float a = s0 * m0[c], b = s1 * m1[c], e = s2 * m2[c];
        const float lo = a < b ? a : b, hi = a < b ? b : a;
        const float mid = hi < e ? hi : e;
        mv = lo > mid ? lo : mid;
      }
      float vv = v0[c];
      vv = v1[c] < vv ? v1[c] : vv;
      vv = v2[c] < vv ? v2[c] : vv;
      if (bound > 0.f) mv = clamp_m(mv, bound * sqrtf(vv));
      wr[c] = wr[c] * wd - step * mv / (sqrtf(vv) + eps);
    }
  }
}
}  // namespace

void grad_sum_squares(Backend& be, const float* g, const int32_t* count, int64_t n, int64_t d,
                      float* partials) {
  const int64_t total = valid_rows(count, n, "grad_sum_squares") * d;
  const int64_t chunk = (total + kNormPartials - 1) / kNormPartials;
#pragma omp parallel for num_threads(be.threads()) schedule(static) if (total >= (1 << 16))
  for (int64_t b = 0; b < kNormPartials; ++b) {
    const int64_t lo = std::min(total, b * chunk), hi = std::min(total, lo + chunk);
    double s = 0.0;
    for (int64_t i = lo; i < hi; ++i) s += static_cast<double>(g[i]) * g[i];
    partials[b] = static_cast<float>(s);
  }
}

void grad_clip_scale(Backend& be, const float* partials, int64_t np, float clip, float* out) {
  double s = 0.0;
  for (int64_t i = 0; i < np; ++i) s += partials[i];
  const float norm = static_cast<float>(std::sqrt(s));
  out[0] = norm;
  out[1] = clip > 0.f ? clip / std::max(norm, clip) : 1.f;
}

void prepare_grad(Backend& be, float* g, const int32_t* ids, const int32_t* count, int64_t n,
                  int64_t d, const float* gscale, float l2, const float* w) {
  const int64_t u = valid_rows(count, n, "prepare_grad");
  const float s = gscale ? gscale[0] : 1.f;
#pragma omp parallel for num_threads(be.threads()) schedule(static) if (u * d >= (1 << 14))
  for (int64_t p = 0; p < u; ++p) {
    float* gr = g + p * d;
    const float* wr = l2 != 0.f ? w + row_of(ids, p) * d : nullptr;
    for (int64_t c = 0; c < d; ++c) gr[c] = wr ? s * gr[c] + l2 * wr[c] : s * gr[c];
  }
}

void apply_rule(Backend& be, RuleParams r, float* w, const int32_t* ids, const int32_t* count,
                int64_t n, int64_t d, const float* g, StoreView m, StoreView v) {
  const int64_t u = valid_rows(count, n, "apply_rule");
  const int64_t rows = m.data ? m.rows : (v.data ? v.rows : INT64_MAX);
  check_ids(ids, u, rows, "apply_rule");
  if (r.rule == RuleKind::Adam || r.rule == RuleKind::AdamW) {
    if (m.kind == StoreKind::Dense && v.kind == StoreKind::Dense && r.m_bound == 0.f) {
      adam_dense_rows(be, r, w, ids, u, d, g, m.data, v.data);
      return;
    }
    if (m.kind == StoreKind::Bf16 && v.kind == StoreKind::Bf16 && r.m_bound == 0.f) {
      adam_bf16_rows(be, r, w, ids, u, d, g, m, v);
      return;
    }
    if (m.kind == StoreKind::CountSketch && m.hash.depth == 3 && v.kind == StoreKind::CountMin &&
        v.hash.depth == 3) {
      adam_sketch_rows<false>(be, r, w, ids, u, d, g, m, v);
      return;
    }
    if (m.kind == StoreKind::None && v.kind == StoreKind::CountMin && v.hash.depth == 3) {
      adam_sketch_rows<true>(be, r, w, ids, u, d, g, m, v);
      return;
    }
  }
  with_rule(r.rule, [&](auto tag) {
    constexpr RuleKind K = decltype(tag)::value;
#pragma omp parallel for num_threads(be.threads()) schedule(static) if (u * d >= (1 << 14))
    for (int64_t p = 0; p < u; ++p) {
      const int64_t row = row_of(ids, p);
      MomentRows mr;
      moment_rows(m, v, row, &mr);
      float* wr = w + row * d;
      const float* gr = g + p * d;
      for (int64_t c = 0; c < d; ++c) wr[c] = apply_element<K>(r, wr[c], gr[c], m, v, mr, row, c);
    }
  });
}

void sm3_dense_step(Backend& be, float lr, float eps, float* w, const float* g, int64_t rows,
                    int64_t cols, float* row_acc, float* col_acc, float* col_tmp, float* u) {
  constexpr int64_t kBlock = 64;
  const int64_t blocks = (cols + kBlock - 1) / kBlock;
  // Column maxima of nu with the old accumulators (max is exact: any order gives the same result).
#pragma omp parallel for num_threads(be.threads()) schedule(static) if (rows * cols >= (1 << 14))
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t c0 = b * kBlock, c1 = std::min(cols, c0 + kBlock);
    float mx[kBlock] = {};
    for (int64_t i = 0; i < rows; ++i) {
      const float ri = row_acc[i];
      const float* gr = g + i * cols;
      for (int64_t c = c0; c < c1; ++c) {
        const float nu = std::min(ri, col_acc[c]) + gr[c] * gr[c];
        mx[c - c0] = std::max(mx[c - c0], nu);
      }
    }
    for (int64_t c = c0; c < c1; ++c) col_tmp[c] = mx[c - c0];
  }
#pragma omp parallel for num_threads(be.threads()) schedule(static) if (rows * cols >= (1 << 14))
  for (int64_t i = 0; i < rows; ++i) {
    const float ri = row_acc[i];
    float* wr = w + i * cols;
    const float* gr = g + i * cols;
    float mx = 0.f;
    for (int64_t c = 0; c < cols; ++c) {
      const float nu = std::min(ri, col_acc[c]) + gr[c] * gr[c];
      if (u)
        u[i * cols + c] = gr[c] / (sqrtf(nu) + eps);
      else
        wr[c] = wr[c] - lr * gr[c] / (sqrtf(nu) + eps);
      mx = std::max(mx, nu);
    }
    row_acc[i] = mx;
  }
  std::memcpy(col_acc, col_tmp, static_cast<size_t>(cols) * sizeof(float));
}

void sm3_rows_step(Backend& be, float lr, float eps, float* w, const int32_t* ids,
                   const int32_t* count, int64_t n, int64_t d, const float* g, float* row_acc,
                   float* u) {
  const int64_t valid = valid_rows(count, n, "sm3_rows_step");
#pragma omp parallel for num_threads(be.threads()) schedule(static) if (valid * d >= (1 << 14))
  for (int64_t p = 0; p < valid; ++p) {
    const int64_t i = row_of(ids, p);
    const float ri = row_acc[i];
    float* wr = w + i * d;
    const float* gr = g + p * d;
    float mx = 0.f;
    for (int64_t c = 0; c < d; ++c) {
      const float nu = ri + gr[c] * gr[c];
      if (u)
        u[p * d + c] = gr[c] / (sqrtf(nu) + eps);
      else
        wr[c] = wr[c] - lr * gr[c] / (sqrtf(nu) + eps);
      mx = std::max(mx, nu);
    }
    row_acc[i] = mx;
  }
}

namespace {
uint32_t abs_bits(float x) {
  uint32_t b;
  std::memcpy(&b, &x, 4);
  return b & 0x7fffffffu;
}
}  // namespace

void ef_sparsified_step(Backend& be, RuleKind rule, float lr, float* w, const float* g, float* e,
                        int64_t n, int64_t k, float prob, uint64_t seed, int64_t step,
                        void* workspace, size_t workspace_bytes) {
  SG_CHECK(workspace_bytes >= ef_workspace_bytes(), "ef_sparsified_step: workspace too small");
  SG_CHECK(rule == RuleKind::TopK || rule == RuleKind::RandK || rule == RuleKind::TopKNoFeedback,
           "ef_sparsified_step: rule ", rule_name(rule), " is not a sparsified rule");
  const int nt = be.threads();
#pragma omp parallel for num_threads(nt) schedule(static) if (n >= (1 << 16))
  for (int64_t i = 0; i < n; ++i) e[i] = e[i] + lr * g[i];

  uint32_t threshold = 0;  // keep |e| bits >= threshold (top-k)
  if (rule != RuleKind::RandK && k < n) {
    // Radix select of the k-th largest |e| on its bit pattern (monotone for non-negative floats):
    // four 8-bit digits, most significant first; integer histograms, so the result is exact.
    uint32_t prefix = 0, mask = 0;
    int64_t remaining = std::max<int64_t>(k, 1);
    for (int shift = 24; shift >= 0; shift -= 8) {
      int64_t hist[256] = {};
#pragma omp parallel num_threads(nt) if (n >= (1 << 16))
      {
        int64_t local[256] = {};
#pragma omp for schedule(static)
        for (int64_t i = 0; i < n; ++i) {
          const uint32_t b = abs_bits(e[i]);
          if ((b & mask) == prefix) ++local[(b >> shift) & 255u];
        }
#pragma omp critical
        for (int t = 0; t < 256; ++t) hist[t] += local[t];
      }
      int64_t cum = 0;
      for (int t = 255; t >= 0; --t) {
        if (cum + hist[t] >= remaining) {
          remaining -= cum;
          prefix |= static_cast<uint32_t>(t) << shift;
          mask |= 255u << shift;
          break;
        }
        cum += hist[t];
      }
    }
    threshold = prefix;
  }
#pragma omp parallel for num_threads(nt) schedule(static) if (n >= (1 << 16))
  for (int64_t i = 0; i < n; ++i) {
    const bool keep = rule == RuleKind::RandK
                          ? rng_uniform(seed, static_cast<uint64_t>(step), i) < prob
                          : abs_bits(e[i]) >= threshold;
    if (keep) {
      w[i] = w[i] - e[i];
      e[i] = 0.f;
    } else if (rule == RuleKind::TopKNoFeedback) {
      e[i] = 0.f;
    }
  }
}

}  // namespace sg::cpu
