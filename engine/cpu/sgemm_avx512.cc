// AVX-512 sgemm (see sgemm_avx512.h). Three paths give the same tiles and the same sums: m <= 48
// rows of C with op(B) = B read B in place (no packing); all of op(B) fitting the B buffer packs it
// once and runs ic outer, pc inner; otherwise the general loop nest, outermost first:
//   jc over n by kNC:  pc over k by kKC:  pack op(B)[pc.., jc..] into kNR-column strips
//     ic over m by kMC:  pack op(A)[ic.., pc..] into kMR-row strips
//       jr over the B strips, ir over the A strips: the register tile
//         acc[kMR][kNR] = sum_p a_strip[p][0..kMR) (x) b_strip[p][0..kNR)    (p ascending)
//         C_tile = alpha * acc + (pc == 0 ? beta : 1) * C_tile
// Every function that uses AVX-512 instructions is compiled for it by the pragma below and is
// reached only after sgemm_avx512_supported().
#include "engine/cpu/sgemm_avx512.h"

#include <immintrin.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace sg::cpu {

bool sgemm_avx512_supported() {
  static const bool ok = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") != 0;
  }();
  return ok;
}

bool sgemm_avx512_selected() {
  static const bool yes = [] {
    const char* pick = std::getenv("SG_CPU_GEMM");
    return sgemm_avx512_supported() && !(pick && std::strcmp(pick, "openblas") == 0);
  }();
  return yes;
}

#pragma GCC push_options
#pragma GCC target("avx512f")
// GCC 12's _mm512_undefined_ps (inside the shuffle intrinsics) trips a false -Wmaybe-uninitialized.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace {

constexpr int kMR = 8;                // rows of the register tile
constexpr int kNV = 2;                // 16-float vectors across the register tile
constexpr int kNR = 16 * kNV;         // columns of the register tile
constexpr int64_t kKC = 256;          // depth of one packed block (a B strip: kKC x kNR, 32 KB)
constexpr int64_t kMC = 30 * kMR;     // rows of packed A (240 x 256 floats, 240 KB: L2)
constexpr int64_t kNC = 32 * kNR;     // columns of packed B (256 x 1024 floats, 1 MB)
constexpr int64_t kDirectBRows = 48;  // up to this many rows of C, op(B) = B is not packed

struct FreeDeleter {
  void operator()(float* p) const { std::free(p); }
};

constexpr int64_t kScratchA = kMC * kKC;  // floats of packed A, then kNC * kKC of packed B

// The packing buffers of a call given none (tests, benchmarks, direct kernel calls): this thread's
// own, allocated on first use. Executors always bind planned scratch (engine/cpu/gemm_scratch.h).
float* this_thread_scratch() {
  thread_local std::unique_ptr<float, FreeDeleter> own(static_cast<float*>(
      std::aligned_alloc(64, static_cast<size_t>(kScratchA + kNC * kKC) * sizeof(float))));
  return own.get();
}

// Packs a matrix stored with its packed dimension contiguous: row p (p < kc) of `base` (stride
// ld) holds len values, and strip s of the result holds, for each p, values s*W .. s*W + W - 1 of
// row p (zeros past len). Rows are read once each, in order (a strip at a time would touch kc
// rows, and kc pages, per strip).
template <int W>
void pack_rows(const float* base, int64_t ld, int64_t len, int64_t kc, float* dst) {
  const int64_t full = len / W;
  const int tail = static_cast<int>(len - full * W);
  // Rows go in groups of 16: a group's source rows stay in L1 while each strip receives 16
  // consecutive rows (one stretch of memory), instead of every row scattering one small write into
  // every strip (strips sit a multiple of 4 KB apart, so those writes contend for one cache set).
  for (int64_t p0 = 0; p0 < kc; p0 += 16) {
    const int64_t p1 = std::min(kc, p0 + 16);
    for (int64_t s = 0; s < full; ++s) {
      float* d = dst + s * W * kc;
      for (int64_t p = p0; p < p1; ++p) {
        const float* src = base + p * ld + s * W;
#pragma GCC unroll 4
        for (int v = 0; v < W / 16; ++v)
          _mm512_storeu_ps(d + p * W + 16 * v, _mm512_loadu_ps(src + 16 * v));
        if (W % 16 != 0) {  // the last W % 16 values (kMR = 8: the whole strip row) masked
          const __mmask16 part = static_cast<__mmask16>((1u << (W % 16)) - 1);
          const int at = (W / 16) * 16;
          _mm512_mask_storeu_ps(d + p * W + at, part, _mm512_maskz_loadu_ps(part, src + at));
        }
      }
    }
    if (tail > 0) {
      float* d = dst + full * W * kc;
      for (int64_t p = p0; p < p1; ++p) {
        const float* src = base + p * ld + full * W;
        for (int j = 0; j < tail; ++j) d[p * W + j] = src[j];
        for (int j = tail; j < W; ++j) d[p * W + j] = 0.0f;
      }
    }
  }
}

// 64-bit interleaves of float vectors (per 128-bit lane: x0 x1 y0 y1 and x2 x3 y2 y3).
inline __m512 unpacklo64(__m512 x, __m512 y) {
  return _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(x), _mm512_castps_pd(y)));
}
inline __m512 unpackhi64(__m512 x, __m512 y) {
  return _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(x), _mm512_castps_pd(y)));
}

// In-register transpose of a 16 x 16 block: r[i] holds row i on entry and column i on exit.
// 32-bit interleaves, then 64-bit ones, then two rounds of 128-bit lane shuffles.
inline void transpose16(__m512 r[16]) {
  __m512 t[16];
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);      // per lane: a0 b0 a1 b1
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);  //           a2 b2 a3 b3
  }
#pragma GCC unroll 4
  for (int g = 0; g < 4; ++g) {  // rows 4g..4g+3: r[4g + j] has column j + 4L in lane L
    r[4 * g] = unpacklo64(t[4 * g], t[4 * g + 2]);
    r[4 * g + 1] = unpackhi64(t[4 * g], t[4 * g + 2]);
    r[4 * g + 2] = unpacklo64(t[4 * g + 1], t[4 * g + 3]);
    r[4 * g + 3] = unpackhi64(t[4 * g + 1], t[4 * g + 3]);
  }
#pragma GCC unroll 4
  for (int j = 0; j < 4; ++j) {
    const __m512 u0 = _mm512_shuffle_f32x4(r[j], r[4 + j], 0x88);  // lanes 0, 2 of each
    const __m512 u1 = _mm512_shuffle_f32x4(r[j], r[4 + j], 0xDD);  // lanes 1, 3 of each
    const __m512 v0 = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0x88);
    const __m512 v1 = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0xDD);
    t[j] = _mm512_shuffle_f32x4(u0, v0, 0x88);
    t[j + 8] = _mm512_shuffle_f32x4(u0, v0, 0xDD);
    t[j + 4] = _mm512_shuffle_f32x4(u1, v1, 0x88);
    t[j + 12] = _mm512_shuffle_f32x4(u1, v1, 0xDD);
  }
#pragma GCC unroll 16
  for (int i = 0; i < 16; ++i) r[i] = t[i];
}

// Packs a matrix stored across the packed dimension: value (j, p) of strip s is
// base[(s*W + j) * ld + p] for p < kc (zeros for s*W + j >= len). Full strips move 16 x 16 blocks
// through transpose16 (16 rows at a time; W = 8 reads its last row 9 times and stores 8 lanes).
template <int W>
void pack_cols(const float* base, int64_t ld, int64_t len, int64_t kc, float* dst) {
  constexpr int kGroups = (W + 15) / 16;
  for (int64_t s = 0; s < len; s += W, dst += W * kc) {
    const int n = static_cast<int>(std::min<int64_t>(W, len - s));
    const float* src[W];
    for (int j = 0; j < W; ++j) src[j] = base + (s + std::min(j, n - 1)) * ld;
    if (n < W) {
      for (int64_t p = 0; p < kc; ++p)
        for (int j = 0; j < W; ++j) dst[p * W + j] = j < n ? src[j][p] : 0.0f;
      continue;
    }
    int64_t p = 0;
    for (; p + 16 <= kc; p += 16) {
#pragma GCC unroll 2
      for (int g = 0; g < kGroups; ++g) {
        const int first = 16 * g, rows = std::min(16, W - first);
        const __mmask16 keep = static_cast<__mmask16>(rows == 16 ? 0xFFFF : (1u << rows) - 1);
        __m512 r[16];
#pragma GCC unroll 16
        for (int i = 0; i < 16; ++i) r[i] = _mm512_loadu_ps(src[first + std::min(i, rows - 1)] + p);
        transpose16(r);
#pragma GCC unroll 16
        for (int c = 0; c < 16; ++c) _mm512_mask_storeu_ps(dst + (p + c) * W + first, keep, r[c]);
      }
    }
    for (; p < kc; ++p)
      for (int j = 0; j < W; ++j) dst[p * W + j] = src[j][p];
  }
}

// op(A)[i0 + r, p0 + p] for r < mc, p < kc into strips of kMR rows: strip s holds, for each p, the
// kMR values of rows s*kMR .. s*kMR + kMR - 1 (zeros past mc).
void pack_a(bool ta, const float* a, int64_t lda, int64_t i0, int64_t mc, int64_t p0, int64_t kc,
            float* dst) {
  if (ta)
    pack_rows<kMR>(a + p0 * lda + i0, lda, mc, kc, dst);
  else
    pack_cols<kMR>(a + i0 * lda + p0, lda, mc, kc, dst);
}

// op(B)[p0 + p, j0 + j] for p < kc, j < nc into strips of kNR columns: strip s holds, for each p,
// the kNR values of columns s*kNR .. s*kNR + kNR - 1 (zeros past nc).
void pack_b(bool tb, const float* b, int64_t ldb, int64_t p0, int64_t kc, int64_t j0, int64_t nc,
            float* dst) {
  if (tb)
    pack_cols<kNR>(b + j0 * ldb + p0, ldb, nc, kc, dst);
  else
    pack_rows<kNR>(b + p0 * ldb + j0, ldb, nc, kc, dst);
}

// The register tile: C[0..rows, 0..cols) (row stride ldc) = alpha * (a_strip . b_strip) + beta * C.
// kDirectB: bp is op(B) itself (row stride b_ps, columns past cols never read) instead of a
// packed strip (b_ps = kNR). The sums are the same, in the same order, either way.
template <bool kDirectB>
void tile(int64_t kc, const float* ap, const float* bp, int64_t b_ps, float* c, int64_t ldc,
          float alpha, float beta, int rows, int cols) {
  const auto lanes = [cols](int v) {
    const int left = cols - 16 * v;
    return left >= 16 ? static_cast<__mmask16>(0xFFFF)
                      : static_cast<__mmask16>(left <= 0 ? 0u : (1u << left) - 1);
  };
  __m512 acc[kMR][kNV];
#pragma GCC unroll 16
  for (int i = 0; i < kMR; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < kNV; ++v) acc[i][v] = _mm512_setzero_ps();
  __mmask16 load_mask[kNV];
  for (int v = 0; v < kNV; ++v) load_mask[v] = lanes(v);
  for (int64_t p = 0; p < kc; ++p, ap += kMR, bp += b_ps) {
    __m512 bv[kNV];
#pragma GCC unroll 4
    for (int v = 0; v < kNV; ++v)
      bv[v] =
          kDirectB ? _mm512_maskz_loadu_ps(load_mask[v], bp + 16 * v) : _mm512_load_ps(bp + 16 * v);
#pragma GCC unroll 16
    for (int i = 0; i < kMR; ++i) {
      const __m512 av = _mm512_set1_ps(ap[i]);
#pragma GCC unroll 4
      for (int v = 0; v < kNV; ++v) acc[i][v] = _mm512_fmadd_ps(av, bv[v], acc[i][v]);
    }
  }
  const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
#pragma GCC unroll 16
  for (int i = 0; i < kMR; ++i) {
    if (i >= rows) break;
    float* row = c + i * ldc;
#pragma GCC unroll 4
    for (int v = 0; v < kNV; ++v) {
      if (cols - 16 * v <= 0) break;
      const __mmask16 mask = lanes(v);
      __m512 r = _mm512_mul_ps(va, acc[i][v]);
      if (beta != 0.0f)
        r = _mm512_add_ps(r, _mm512_mul_ps(vb, _mm512_maskz_loadu_ps(mask, row + 16 * v)));
      _mm512_mask_storeu_ps(row + 16 * v, mask, r);
    }
  }
}

// One k block (depth kc) of C[0..mc, 0..nc) (row stride ldc) from the packed A block pa: against
// packed B strips (bp: the first strip; strips kNR * kc apart) or, kDirectB, against op(B) = B in
// place (bp: row pc of B's columns, row stride ldb).
template <bool kDirectB>
void run_block(int64_t kc, int64_t mc, int64_t nc, const float* pa, const float* bp, int64_t ldb,
               float* c, int64_t ldc, float alpha, float beta) {
  for (int64_t jr = 0; jr < nc; jr += kNR) {
    const int cols = static_cast<int>(std::min<int64_t>(kNR, nc - jr));
    const float* bstrip = kDirectB ? bp + jr : bp + jr * kc;
    for (int64_t ir = 0; ir < mc; ir += kMR) {
      const int rows = static_cast<int>(std::min<int64_t>(kMR, mc - ir));
      tile<kDirectB>(kc, pa + ir * kc, bstrip, kDirectB ? ldb : kNR, c + ir * ldc + jr, ldc, alpha,
                     beta, rows, cols);
    }
  }
}

}  // namespace

bool sgemm_avx512(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                  const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                  int64_t ldc, float* scratch) {
  float* pa = scratch ? scratch : this_thread_scratch();
  if (!pa) return false;  // no memory for the packing buffers: the caller falls back
  float* pb = pa + kScratchA;
  if (!trans_b && m <= kDirectBRows) {
    // Few rows of C: each B strip would be used only ceil(m / kMR) times, so packing op(B) costs
    // about what the products do; the tiles read it in place (same blocks, same sums).
    for (int64_t pc = 0; pc < k; pc += kKC) {
      const int64_t kc = std::min(kKC, k - pc);
      const float beta_here = pc == 0 ? beta : 1.0f;
      pack_a(trans_a, a, lda, 0, m, pc, kc, pa);
      run_block<true>(kc, m, n, pa, b + pc * ldb, ldb, c, ldc, alpha, beta_here);
    }
    return true;
  }
  const int64_t n_strips = (n + kNR - 1) / kNR * kNR;
  if (n_strips * k <= kNC * kKC) {
    // All of op(B) fits the B buffer: pack it once (its k blocks one after another) and run the
    // k blocks innermost, so each block of C rows is finished while it is in cache instead of
    // being read back once per k block (the softmax weight gradient: C is 8,453 x 128, k = 640).
    for (int64_t pc = 0; pc < k; pc += kKC)
      pack_b(trans_b, b, ldb, pc, std::min(kKC, k - pc), 0, n, pb + pc * n_strips);
    for (int64_t ic = 0; ic < m; ic += kMC) {
      const int64_t mc = std::min(kMC, m - ic);
      for (int64_t pc = 0; pc < k; pc += kKC) {
        const int64_t kc = std::min(kKC, k - pc);
        const float beta_here = pc == 0 ? beta : 1.0f;
        pack_a(trans_a, a, lda, ic, mc, pc, kc, pa);
        run_block<false>(kc, mc, n, pa, pb + pc * n_strips, 0, c + ic * ldc, ldc, alpha, beta_here);
      }
    }
    return true;
  }
  for (int64_t jc = 0; jc < n; jc += kNC) {
    const int64_t nc = std::min(kNC, n - jc);
    for (int64_t pc = 0; pc < k; pc += kKC) {
      const int64_t kc = std::min(kKC, k - pc);
      const float beta_here = pc == 0 ? beta : 1.0f;
      pack_b(trans_b, b, ldb, pc, kc, jc, nc, pb);
      for (int64_t ic = 0; ic < m; ic += kMC) {
        const int64_t mc = std::min(kMC, m - ic);
        pack_a(trans_a, a, lda, ic, mc, pc, kc, pa);
        run_block<false>(kc, mc, nc, pa, pb, 0, c + ic * ldc + jc, ldc, alpha, beta_here);
      }
    }
  }
  return true;
}

void sgemm_avx512_pack_b(bool trans_b, int64_t k, int64_t n, const float* b, int64_t ldb,
                         float* packed) {
  const int64_t n_strips = (n + kNR - 1) / kNR * kNR;
  for (int64_t pc = 0; pc < k; pc += kKC)
    pack_b(trans_b, b, ldb, pc, std::min(kKC, k - pc), 0, n, packed + pc * n_strips);
}

bool sgemm_avx512_packed_b(bool trans_a, int64_t m, int64_t n, int64_t k, float alpha,
                           const float* a, int64_t lda, const float* packed_b, float beta, float* c,
                           int64_t ldc, float* scratch) {
  float* pa = scratch ? scratch : this_thread_scratch();
  if (!pa) return false;
  const int64_t n_strips = (n + kNR - 1) / kNR * kNR;
  for (int64_t ic = 0; ic < m; ic += kMC) {
    const int64_t mc = std::min(kMC, m - ic);
    for (int64_t pc = 0; pc < k; pc += kKC) {
      const int64_t kc = std::min(kKC, k - pc);
      pack_a(trans_a, a, lda, ic, mc, pc, kc, pa);
      run_block<false>(kc, mc, n, pa, packed_b + pc * n_strips, 0, c + ic * ldc, ldc, alpha,
                       pc == 0 ? beta : 1.0f);
    }
  }
  return true;
}

#pragma GCC diagnostic pop
#pragma GCC pop_options

// Outside the AVX-512 region: plans and executors ask for these sizes on any CPU.
int64_t sgemm_avx512_scratch_floats() { return kScratchA + kNC * kKC; }

int64_t sgemm_avx512_packed_b_floats(int64_t k, int64_t n) { return (n + kNR - 1) / kNR * kNR * k; }

}  // namespace sg::cpu
