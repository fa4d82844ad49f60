// CPU-vs-CUDA parity of every kernel family, parameterised over named cases: each case runs the
// same kernels on the same inputs through SG_DISPATCH on both backends and returns its outputs; the
// CUDA outputs must match the CPU ones (exactly for ids, counts and dropout masks; within a
// tolerance for floating-point sums, whose fixed orders differ between devices). Skipped (not
// failed) when no GPU is present.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>

#include "engine/dispatch.h"
#include "engine/kernels/blas_kernels.h"
#include "engine/kernels/dropout_kernels.h"
#include "engine/kernels/elementwise_kernels.h"
#include "engine/kernels/gather_kernels.h"
#include "engine/kernels/reduce_kernels.h"
#include "engine/kernels/softmax_xent_kernels.h"
#include "tests/engine/kernels_test_util.h"

namespace sg {
namespace {

using testing::DeviceBuffer;
using testing::random_floats;
using testing::random_ids;
using F = DeviceBuffer<float>;
using I = DeviceBuffer<int32_t>;
using Outputs = std::vector<std::vector<float>>;

std::vector<float> as_float(const std::vector<int32_t>& v) {
  return std::vector<float>(v.begin(), v.end());
}

struct ParityCase {
  std::string name;
  std::function<Outputs(Backend&)> run;
  double tol = 1e-5;  // relative to max(1, |cpu value|); 0 = bitwise
};
void PrintTo(const ParityCase& c, std::ostream* os) { *os << c.name << " (tol " << c.tol << ")"; }

std::vector<ParityCase> cases() {
  std::vector<ParityCase> cs;
  for (int t = 0; t < 4; ++t) {
    const bool ta = t & 1, tb = t & 2;
    cs.push_back({std::string("gemm_") + (ta ? "T" : "N") + (tb ? "T" : "N"),
                  [ta, tb](Backend& be) {
                    const int64_t m = 33, n = 65, k = 47;
                    F a(be, random_floats(m * k, 1)), b(be, random_floats(k * n, 2)),
                        c(be, random_floats(m * n, 3));
                    SG_DISPATCH(be, gemm, ta, tb, m, n, k, 0.5f, a.get(), ta ? m : k, b.get(),
                                tb ? k : n, 1.5f, c.get(), n);
                    return Outputs{c.host()};
                  },
                  1e-4});
  }
  cs.push_back({"gemm_strided_batched",
                [](Backend& be) {
                  const int64_t P = 4, m = 9, n = 17, k = 13;
                  F a(be, random_floats(P * m * k, 4)), b(be, random_floats(P * k * n, 5)),
                      c(be, P * m * n);
                  SG_DISPATCH(be, gemm_strided_batched, true, false, m, n, k, 1.0f, a.get(), m,
                              m * k, b.get(), n, k * n, 0.0f, c.get(), n, m * n, P);
                  return Outputs{c.host()};
                },
                1e-4});
  cs.push_back({"elementwise",
                [](Backend& be) {
                  const int64_t n = 5000, rows = 50, cols = 100;
                  F a(be, random_floats(n, 6, -5, 5)), b(be, random_floats(n, 7)), y(be, n),
                      z(be, n);
                  F bias(be, random_floats(cols, 8)), one(be, std::vector<float>{3.0f});
                  Outputs o;
                  SG_DISPATCH(be, add, a.get(), b.get(), y.get(), n);
                  o.push_back(y.host());
                  SG_DISPATCH(be, sub, a.get(), b.get(), y.get(), n);
                  o.push_back(y.host());
                  SG_DISPATCH(be, mul, a.get(), b.get(), y.get(), n);
                  o.push_back(y.host());
                  SG_DISPATCH(be, scale, a.get(), 0.3f, y.get(), n);
                  SG_DISPATCH(be, axpy, 2.0f, b.get(), y.get(), n);
                  o.push_back(y.host());
                  SG_DISPATCH(be, sigmoid_forward, a.get(), y.get(), n);
                  SG_DISPATCH(be, sigmoid_backward, y.get(), b.get(), z.get(), n);
                  o.push_back(y.host());
                  o.push_back(z.host());
                  SG_DISPATCH(be, tanh_forward, a.get(), y.get(), n);
                  SG_DISPATCH(be, tanh_backward, y.get(), b.get(), z.get(), n);
                  o.push_back(y.host());
                  o.push_back(z.host());
                  SG_DISPATCH(be, bias_add, a.get(), bias.get(), y.get(), rows, cols);
                  o.push_back(y.host());
                  SG_DISPATCH(be, fill, z.get(), n, 0.0f);
                  SG_DISPATCH(be, copy2d, a.get() + 7, cols, z.get() + 3, 60, rows, 40);
                  o.push_back(z.host());
                  SG_DISPATCH(be, fill_from_scalar, one.get(), 0.5f, y.get(), n);
                  SG_DISPATCH(be, copy, y.get(), z.get(), n);
                  o.push_back(z.host());
                  return o;
                },
                1e-6});
  cs.push_back({"reductions",
                [](Backend& be) {
                  const int64_t n = 123457, rows = 513, cols = 77;
                  F x(be, random_floats(n, 9)), s(be, 2), y(be, cols);
                  SG_DISPATCH(be, sum_all, x.get(), n, 1.0f, s.get());
                  SG_DISPATCH(be, sum_all, x.get(), n, 1.0f / n, s.get() + 1);
                  SG_DISPATCH(be, column_sum, x.get(), rows, cols, y.get());
                  return Outputs{s.host(), y.host()};
                },
                1e-5});
  cs.push_back(
      {"gather_scatter_densify",
       [](Backend& be) {
         const int64_t n = 3000, d = 33, V = 500;
         auto idv = random_ids(n, V, 10);
         F table(be, random_floats(V * d, 11)), out(be, n * d), grad(be, random_floats(n * d, 12));
         I ids(be, idv), oids(be, n), count(be, 1);
         F rows(be, n * d), dense(be, V * d);
         const size_t wsb = scatter_add_workspace_bytes(n, d);
         DeviceBuffer<char> ws(be, wsb);
         SG_DISPATCH(be, gather_rows, table.get(), V, d, ids.get(), n, out.get());
         SG_DISPATCH(be, scatter_add_rows, ids.get(), grad.get(), n, d, V, oids.get(), rows.get(),
                     count.get(), ws.get(), wsb);
         SG_DISPATCH(be, densify_rows, oids.get(), rows.get(), count.get(), n, d, dense.get(), V);
         return Outputs{out.host(), as_float(oids.host()), as_float(count.host()), rows.host(),
                        dense.host()};
       },
       1e-5});
  cs.push_back({"softmax_xent",
                [](Backend& be) {
                  const int64_t n = 37, c = 1001;
                  F x(be, random_floats(n * c, 13, -20, 20)), row(be, n), mean(be, 1),
                      g(be, std::vector<float>{1.7f});
                  F dx(be, n * c);
                  I t(be, random_ids(n, c, 14));
                  SG_DISPATCH(be, softmax_xent_forward, x.get(), t.get(), n, c, row.get(),
                              mean.get());
                  SG_DISPATCH(be, softmax_xent_backward, x.get(), t.get(), g.get(), n, c, dx.get());
                  return Outputs{row.host(), mean.host(), dx.host()};
                },
                1e-5});
  cs.push_back({"softmax_xent_delta",
                [](Backend& be) {
                  const int64_t n = 70, c = 1001;
                  F x(be, random_floats(n * c, 16, -20, 20)), b(be, random_floats(c, 17, -3, 3)),
                      row(be, n), mean(be, 1), colsum(be, c);
                  I t(be, random_ids(n, c, 18));
                  DeviceBuffer<char> ws(be, softmax_xent_delta_workspace_bytes(n, c));
                  const size_t ws_bytes = softmax_xent_delta_workspace_bytes(n, c);
                  SG_DISPATCH(be, softmax_xent_delta, x.get(), b.get(), t.get(), n, c, row.get(),
                              mean.get(), colsum.get(), ws.get(), ws_bytes);
                  return Outputs{row.host(), mean.host(), x.host(), colsum.host()};
                },
                1e-5});
  cs.push_back({"softmax_xent_delta_loss_only",  // evaluation: no column sums, losses only
                [](Backend& be) {
                  const int64_t n = 70, c = 1001;
                  F x(be, random_floats(n * c, 16, -20, 20)), b(be, random_floats(c, 17, -3, 3)),
                      row(be, n), mean(be, 1);
                  I t(be, random_ids(n, c, 18));
                  SG_DISPATCH(be, softmax_xent_delta, x.get(), b.get(), t.get(), n, c, row.get(),
                              mean.get(), nullptr, nullptr, 0);
                  return Outputs{row.host(), mean.host()};
                },
                1e-5});
  cs.push_back({"gemm_device_scalars",
                [](Backend& be) {
                  const int64_t m = 33, n = 65, k = 47;
                  F a(be, random_floats(m * k, 19)), b(be, random_floats(n * k, 20)),
                      c(be, random_floats(m * n, 21)), alpha(be, std::vector<float>{0.75f}),
                      beta(be, std::vector<float>{-0.5f});
                  SG_DISPATCH(be, gemm_device_scalars, false, true, m, n, k, alpha.get(), a.get(),
                              k, b.get(), k, beta.get(), c.get(), n);
                  return Outputs{c.host()};
                },
                1e-5});
  cs.push_back({"dropout",
                [](Backend& be) {
                  const int64_t n = 100003;
                  F x(be, random_floats(n, 15)), y(be, n), dx(be, n);
                  SG_DISPATCH(be, dropout_forward, x.get(), y.get(), n, 0.4f, 77, 5);
                  SG_DISPATCH(be, dropout_backward, x.get(), dx.get(), n, 0.4f, 77, 5);
                  return Outputs{y.host(), dx.host()};
                },
                0.0});
  return cs;
}

class KernelParity : public ::testing::TestWithParam<ParityCase> {};

TEST_P(KernelParity, CudaMatchesCpu) {
  if (!Backend::cuda_available()) GTEST_SKIP() << "no GPU: CPU-vs-CUDA parity not checked";
  const ParityCase& pc = GetParam();
  auto cpu = Backend::create("cpu", 2);
  auto gpu = Backend::create("cuda", 2);
  Outputs a = pc.run(*cpu), b = pc.run(*gpu);
  ASSERT_EQ(a.size(), b.size());
  for (size_t o = 0; o < a.size(); ++o) {
    ASSERT_EQ(a[o].size(), b[o].size()) << "output " << o;
    for (size_t i = 0; i < a[o].size(); ++i) {
      if (pc.tol == 0.0) {
        ASSERT_EQ(0, std::memcmp(&a[o][i], &b[o][i], sizeof(float)))
            << "output " << o << " index " << i;
      } else {
        ASSERT_NEAR(a[o][i], b[o][i], pc.tol * std::max(1.0, std::fabs(double(a[o][i]))))
            << "output " << o << " index " << i;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllKernels, KernelParity, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<ParityCase>& i) {
                           return i.param.name;
                         });

// CUDA-only behaviour: bitwise repeatable scatter-add, NaN (never a clamped row) for out-of-range
// ids/targets.
TEST(KernelsCuda, ScatterAddBitwiseRepeatable) {
  if (!Backend::cuda_available()) GTEST_SKIP() << "no GPU";
  auto be = Backend::create("cuda");
  const int64_t n = 20000, d = 64;
  auto grad_h = random_floats(n * d, 16);
  for (size_t i = 0; i < grad_h.size(); i += 5) grad_h[i] *= 1e6f;
  I ids(*be, random_ids(n, 3, 17)), oids(*be, n), count(*be, 1);
  F grad(*be, grad_h), rows(*be, n * d);
  const size_t wsb = scatter_add_workspace_bytes(n, d);
  DeviceBuffer<char> ws(*be, wsb);
  std::vector<float> first;
  for (int rep = 0; rep < 3; ++rep) {
    SG_DISPATCH(*be, scatter_add_rows, ids.get(), grad.get(), n, d, 3, oids.get(), rows.get(),
                count.get(), ws.get(), wsb);
    auto r = rows.host();
    EXPECT_EQ(count.host()[0], 3);
    if (rep == 0)
      first = r;
    else
      EXPECT_EQ(0, std::memcmp(first.data(), r.data(), r.size() * sizeof(float)));
  }
}

TEST(KernelsCuda, OutOfRangeGivesNaNNotAClampedRow) {
  if (!Backend::cuda_available()) GTEST_SKIP() << "no GPU";
  auto be = Backend::create("cuda");
  F table(*be, random_floats(4 * 2, 18)), out(*be, 3 * 2), row(*be, 3), mean(*be, 1);
  I ids(*be, std::vector<int32_t>{1, 4, -1});
  SG_DISPATCH(*be, gather_rows, table.get(), 4, 2, ids.get(), 3, out.get());
  auto o = out.host();
  EXPECT_FALSE(std::isnan(o[0]));
  for (int i = 2; i < 6; ++i) EXPECT_TRUE(std::isnan(o[i])) << i;
  I t(*be, std::vector<int32_t>{0, 2, 1});
  SG_DISPATCH(*be, softmax_xent_forward, table.get(), t.get(), 3, 2, row.get(), mean.get());
  EXPECT_TRUE(std::isnan(row.host()[1]));
  EXPECT_TRUE(std::isnan(mean.host()[0]));
}

// beta = 0 read from device memory: C is not read (BLAS semantics), so leftovers in C (the step
// arena's bytes of an earlier buffer, NaN after a diverged step) never reach the product. The
// fused full-softmax backward relies on this for its two products. CPU always, CUDA with a GPU.
TEST(Kernels, DeviceScalarGemmWithBetaZeroNeverReadsC) {
  std::vector<std::string> devices = {"cpu"};
  if (Backend::cuda_available()) devices.push_back("cuda");
  for (const std::string& dev : devices) {
    auto be = Backend::create(dev, 2);
    const int64_t m = 5, n = 7, k = 3;
    const std::vector<float> ah = random_floats(m * k, 30), bh = random_floats(n * k, 31);
    F a(*be, ah), b(*be, bh), c(*be, std::vector<float>(m * n, std::nanf(""))),
        alpha(*be, std::vector<float>{2.0f}), beta(*be, std::vector<float>{0.0f});
    SG_DISPATCH(*be, gemm_device_scalars, false, true, m, n, k, alpha.get(), a.get(), k, b.get(), k,
                beta.get(), c.get(), n);
    const std::vector<float> out = c.host();
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double want = 0;
        for (int64_t p = 0; p < k; ++p) want += 2.0 * ah[i * k + p] * bh[j * k + p];
        ASSERT_NEAR(out[i * n + j], want, 1e-5) << dev << " C[" << i << "," << j << "]";
      }
  }
}

}  // namespace
}  // namespace sg
