// TF32 switch of the backends (Backend::set_tf32): the CPU backend refuses it with one line; on a
// GPU, a cuBLAS product under TF32 moves away from the strict-FP32 result by about TF32's
// rounding (10-bit mantissa) and switching back restores the strict result bit for bit.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "engine/backend.h"
#include "engine/dispatch.h"
#include "engine/kernels/blas_kernels.h"
#include "tests/engine/kernels_test_util.h"

namespace sg {
namespace {

TEST(Tf32, CpuBackendRefusesIt) {
  auto be = Backend::create("cpu", 1);
  EXPECT_FALSE(be->tf32());
  be->set_tf32(false);  // strict FP32 is what the CPU does anyway
  try {
    be->set_tf32(true);
    FAIL() << "set_tf32(true) on the CPU did not throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("TF32 needs the cuda backend"), std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(be->tf32());
}

TEST(Tf32, CudaGemmUnderTf32StaysCloseAndSwitchesBack) {
  if (!Backend::cuda_available()) GTEST_SKIP() << "no GPU";
  const int64_t m = 256, n = 256, k = 1024;
  const auto a = testing::random_floats(m * k, 1), b = testing::random_floats(k * n, 2);
  auto cpu = Backend::create("cpu", 2);
  auto gpu = Backend::create("cuda", 2);
  std::vector<float> ref(m * n);
  cpu::gemm(*cpu, false, false, m, n, k, 1.f, a.data(), k, b.data(), n, 0.f, ref.data(), n);
  testing::DeviceBuffer<float> da(*gpu, a), db(*gpu, b), dc(*gpu, m * n);
  auto run = [&] {
    SG_DISPATCH(*gpu, gemm, false, false, m, n, k, 1.f, da.get(), k, db.get(), n, 0.f, dc.get(), n);
    return dc.host();
  };
  auto max_err = [&](const std::vector<float>& c) {
    double e = 0;
    for (int64_t i = 0; i < m * n; ++i) e = std::max(e, std::fabs(double(c[i]) - ref[i]));
    return e;
  };
  const auto strict = run();
  gpu->set_tf32(true);
  EXPECT_TRUE(gpu->tf32());
  const auto fast = run();
  gpu->set_tf32(false);
  const auto strict_again = run();
  // |c| is about sqrt(k / 9) ~ 10 here: FP32 rounding ~1e-4, TF32 (2^-11 per input) ~1e-2.
  EXPECT_LT(max_err(strict), 1e-3);
  EXPECT_LT(max_err(fast), 0.2);
  EXPECT_GT(max_err(fast), max_err(strict)) << "TF32 on changed nothing: are tensor cores used?";
  EXPECT_EQ(strict_again, strict);
}

}  // namespace
}  // namespace sg
