// sketchgrad's AVX-512 sgemm (engine/cpu/sgemm_avx512.h) against a double-precision reference:
// every transpose pair with padded strides, shapes that cross each blocking edge (register tile
// 8 x 32, k block 256, m block 240, n block 1024) and end in partial tiles, alpha / beta (beta 0
// clears NaNs in C, padding between rows untouched), B read in place for few rows giving bitwise
// the sums of the packed path, a B packed once ahead giving bitwise the unpacked product, and
// OpenBLAS agreement at the LM shapes.
// Skipped on CPUs without AVX-512F.
#include "engine/cpu/sgemm_avx512.h"

#include <cblas.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "engine/backend.h"
#include "tests/engine/kernels_test_util.h"

namespace sg {
namespace {

using testing::random_floats;

struct Case {
  int64_t m, n, k;
};

// Runs the kernel on random data and compares with the reference to `tol` relative to sqrt(k).
void check(bool ta, bool tb, Case s, float alpha, float beta, uint32_t seed) {
  const int64_t pad = 5;
  const int64_t ar = ta ? s.k : s.m, ac = ta ? s.m : s.k, br = tb ? s.n : s.k, bc = tb ? s.k : s.n;
  const int64_t lda = ac + pad, ldb = bc + pad, ldc = s.n + pad;
  auto a = random_floats(ar * lda, seed), b = random_floats(br * ldb, seed + 1),
       c = random_floats(s.m * ldc, seed + 2);
  if (beta == 0.0f)  // must be overwritten, never read
    for (int64_t i = 0; i < s.m; ++i) c[i * ldc] = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> c0 = c;
  ASSERT_TRUE(cpu::sgemm_avx512(ta, tb, s.m, s.n, s.k, alpha, a.data(), lda, b.data(), ldb, beta,
                                c.data(), ldc));
  const double tol = 2e-6 * std::sqrt(double(s.k)) * 8;
  int bad = 0;
  for (int64_t i = 0; i < s.m && bad < 5; ++i) {
    for (int64_t j = 0; j < s.n; ++j) {
      double sum = 0;
      for (int64_t p = 0; p < s.k; ++p)
        sum += double(ta ? a[p * lda + i] : a[i * lda + p]) *
               double(tb ? b[j * ldb + p] : b[p * ldb + j]);
      const double want = alpha * sum + (beta == 0.0f ? 0.0 : beta * double(c0[i * ldc + j]));
      if (!(std::fabs(c[i * ldc + j] - want) <= tol)) {
        ADD_FAILURE() << "ta " << ta << " tb " << tb << " m " << s.m << " n " << s.n << " k " << s.k
                      << " at (" << i << "," << j << "): " << c[i * ldc + j] << " vs " << want;
        ++bad;
      }
    }
    for (int64_t j = s.n; j < ldc; ++j) ASSERT_EQ(c[i * ldc + j], c0[i * ldc + j]) << "padding";
  }
}

TEST(CpuGemmSelection, FollowsTheCpuAndTheEnvironment) {
  // SG_CPU_GEMM=openblas (ctest runs the openblas_path.* tests so) must select OpenBLAS; otherwise
  // the AVX-512 kernel is used exactly when the CPU has it. The backend description says which.
  const char* pick = std::getenv("SG_CPU_GEMM");
  const bool forced = pick && std::strcmp(pick, "openblas") == 0;
  EXPECT_EQ(cpu::sgemm_avx512_selected(), cpu::sgemm_avx512_supported() && !forced);
  const std::string d = Backend::create("cpu", 1)->description();
  EXPECT_EQ(d.find("sgemm AVX-512") != std::string::npos, cpu::sgemm_avx512_selected()) << d;
}

class SgemmAvx512 : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!cpu::sgemm_avx512_supported()) GTEST_SKIP() << "CPU without AVX-512F";
  }
};

TEST_F(SgemmAvx512, AllTransposesAcrossBlockEdges) {
  const Case cases[] = {{1, 1, 1},     {7, 31, 7},     {8, 32, 256},   {9, 33, 257},  {12, 17, 16},
                        {241, 40, 30}, {25, 1030, 20}, {250, 70, 600}, {37, 53, 300}, {49, 64, 40}};
  uint32_t seed = 10;
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (const Case& s : cases) check(ta, tb, s, 1.0f, 0.0f, seed += 3);
}

TEST_F(SgemmAvx512, AlphaAndBeta) {
  uint32_t seed = 100;
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      check(ta, tb, {29, 45, 300}, 0.5f, 2.0f, seed += 3);  // two k blocks: beta only once
      check(ta, tb, {29, 45, 300}, -1.5f, 0.0f, seed += 3);
      check(ta, tb, {14, 17, 9}, 1.0f, 1.0f, seed += 3);
    }
}

TEST_F(SgemmAvx512, FewRowsReadBInPlaceWithTheSameSums) {
  // Up to 48 rows the kernel reads B unpacked; its rows must be bitwise those of a taller product
  // (packed B), because each element is summed in the same order, so a caller's choice of row
  // blocks cannot change results.
  const int64_t n = 70, k = 600, tall = 100, few = 48;
  for (bool ta : {false, true}) {
    const int64_t lda = ta ? tall : k;
    auto a = random_floats(tall * k, 21), b = random_floats(k * n, 22);
    std::vector<float> c_tall(tall * n), c_few(few * n);
    ASSERT_TRUE(cpu::sgemm_avx512(ta, false, tall, n, k, 0.75f, a.data(), lda, b.data(), n, 0.0f,
                                  c_tall.data(), n));
    ASSERT_TRUE(cpu::sgemm_avx512(ta, false, few, n, k, 0.75f, a.data(), lda, b.data(), n, 0.0f,
                                  c_few.data(), n));
    for (int64_t i = 0; i < few * n; ++i)
      ASSERT_EQ(c_few[i], c_tall[i]) << "ta " << ta << " at " << i;
  }
}

TEST_F(SgemmAvx512, PrePackedBGivesTheSameBits) {
  // A B packed once (the LSTM recurrences' weights) must give bitwise the product of the unpacked
  // call, whichever of its paths that takes (B in place for few rows, B packed whole, B packed
  // per n block), with beta applied once across k blocks, and C's padding untouched.
  const Case cases[] = {{32, 128, 128}, {40, 140, 70},  {7, 31, 7},     {49, 64, 600},
                        {250, 70, 300}, {33, 1030, 20}, {241, 96, 257}, {1, 1, 1}};
  uint32_t seed = 300;
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (const Case& s : cases) {
        const int64_t pad = 3, lda = (ta ? s.m : s.k) + pad, ldb = (tb ? s.k : s.n) + pad,
                      ldc = s.n + pad;
        auto a = random_floats((ta ? s.k : s.m) * lda, seed += 3),
             b = random_floats((tb ? s.n : s.k) * ldb, seed + 1),
             c = random_floats(s.m * ldc, seed + 2);
        std::vector<float> c_plain = c, c_packed = c;
        ASSERT_TRUE(cpu::sgemm_avx512(ta, tb, s.m, s.n, s.k, 0.5f, a.data(), lda, b.data(), ldb,
                                      1.5f, c_plain.data(), ldc));
        const int64_t floats = cpu::sgemm_avx512_packed_b_floats(s.k, s.n);
        ASSERT_EQ(floats, (s.n + 31) / 32 * 32 * s.k);
        float* packed = static_cast<float*>(std::aligned_alloc(64, floats * sizeof(float)));
        ASSERT_NE(packed, nullptr);
        cpu::sgemm_avx512_pack_b(tb, s.k, s.n, b.data(), ldb, packed);
        const bool ok = cpu::sgemm_avx512_packed_b(ta, s.m, s.n, s.k, 0.5f, a.data(), lda, packed,
                                                   1.5f, c_packed.data(), ldc);
        std::free(packed);
        ASSERT_TRUE(ok);
        for (size_t i = 0; i < c.size(); ++i)
          ASSERT_EQ(c_packed[i], c_plain[i]) << "ta " << ta << " tb " << tb << " " << s.m << "x"
                                             << s.n << "x" << s.k << " at " << i;
      }
}

TEST_F(SgemmAvx512, CallerScratchGivesTheSameBitsAsTheThreadsOwn) {
  // The executors pass planned scratch; tests and benchmarks pass none (the thread's own buffer).
  // Both paths of the kernel (B in place, B packed) must only change where they pack.
  const int64_t floats = cpu::sgemm_avx512_scratch_floats();
  float* scratch = static_cast<float*>(std::aligned_alloc(64, floats * sizeof(float)));
  ASSERT_NE(scratch, nullptr);
  std::memset(scratch, 0xFF, floats * sizeof(float));  // NaN patterns: stale data must not matter
  const Case cases[] = {{32, 128, 128}, {300, 1100, 300}};
  for (const Case& s : cases) {
    auto a = random_floats(s.m * s.k, 51), b = random_floats(s.k * s.n, 52);
    std::vector<float> own(s.m * s.n), given(s.m * s.n);
    ASSERT_TRUE(cpu::sgemm_avx512(false, true, s.m, s.n, s.k, 1.0f, a.data(), s.k, b.data(), s.k,
                                  0.0f, own.data(), s.n));
    ASSERT_TRUE(cpu::sgemm_avx512(false, true, s.m, s.n, s.k, 1.0f, a.data(), s.k, b.data(), s.k,
                                  0.0f, given.data(), s.n, scratch));
    for (size_t i = 0; i < own.size(); ++i) ASSERT_EQ(given[i], own[i]) << i;
  }
  std::free(scratch);
}

TEST_F(SgemmAvx512, AgreesWithOpenblasAtLanguageModelShapes) {
  // The fused full softmax's three products (640 rows, projection 128, 1,000 words) and an LSTM
  // recurrent block (batch 32, 128 cells, 4 gates x 128).
  struct Lm {
    bool ta, tb;
    int64_t m, n, k;
  } shapes[] = {{false, true, 640, 1000, 128},
                {false, false, 640, 128, 1000},
                {true, false, 1000, 128, 640},
                {false, false, 32, 512, 128}};
  for (const Lm& s : shapes) {
    const int64_t lda = s.ta ? s.m : s.k, ldb = s.tb ? s.k : s.n;
    auto a = random_floats(s.m * s.k, 7), b = random_floats(s.k * s.n, 8);
    std::vector<float> mine(s.m * s.n), theirs(s.m * s.n);
    ASSERT_TRUE(cpu::sgemm_avx512(s.ta, s.tb, s.m, s.n, s.k, 1.0f, a.data(), lda, b.data(), ldb,
                                  0.0f, mine.data(), s.n));
    cblas_sgemm(CblasRowMajor, s.ta ? CblasTrans : CblasNoTrans, s.tb ? CblasTrans : CblasNoTrans,
                int(s.m), int(s.n), int(s.k), 1.0f, a.data(), int(lda), b.data(), int(ldb), 0.0f,
                theirs.data(), int(s.n));
    double worst = 0;
    for (size_t i = 0; i < mine.size(); ++i)
      worst = std::max(worst, double(std::fabs(mine[i] - theirs[i])));
    EXPECT_LT(worst, 1e-4 * std::sqrt(double(s.k))) << s.m << "x" << s.n << "x" << s.k;
  }
}

}  // namespace
}  // namespace sg
