// CPU kernel families against naive double-precision references: gemm (all transposes, strides,
// batched), element-wise maps, reductions (and their run-to-run / thread-count determinism), gather
// and the row-sparse scatter-add (bitwise determinism with many duplicate ids), softmax
// cross-entropy, dropout.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>

#include "engine/kernels/blas_kernels.h"
#include "engine/kernels/dropout_kernels.h"
#include "engine/kernels/elementwise_kernels.h"
#include "engine/kernels/fast_exp.h"
#include "engine/kernels/gather_kernels.h"
#include "engine/kernels/reduce_kernels.h"
#include "engine/kernels/softmax_xent_kernels.h"
#include "engine/rng.h"
#include "tests/engine/kernels_test_util.h"

namespace sg {
namespace {

using testing::random_floats;
using testing::random_ids;

std::unique_ptr<Backend> cpu(int threads = 2) { return Backend::create("cpu", threads); }

TEST(KernelsBlas, GemmAllTransposesWithStrides) {
  auto be = cpu();
  const int64_t m = 7, n = 5, k = 9, pad = 3;
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      const int64_t ar = ta ? k : m, ac = (ta ? m : k), br = tb ? n : k, bc = tb ? k : n;
      const int64_t lda = ac + pad, ldb = bc + pad, ldc = n + pad;
      auto a = random_floats(ar * lda, 1), b = random_floats(br * ldb, 2),
           c = random_floats(m * ldc, 3);
      std::vector<float> c0 = c;
      cpu::gemm(*be, ta, tb, m, n, k, 0.5f, a.data(), lda, b.data(), ldb, 2.0f, c.data(), ldc);
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
          double s = 0;
          for (int64_t p = 0; p < k; ++p)
            s += double(ta ? a[p * lda + i] : a[i * lda + p]) *
                 (tb ? b[j * ldb + p] : b[p * ldb + j]);
          EXPECT_NEAR(c[i * ldc + j], 0.5 * s + 2.0 * c0[i * ldc + j], 1e-4)
              << ta << tb << " " << i << "," << j;
        }
      for (int64_t i = 0; i < m; ++i)  // padding untouched
        for (int64_t j = n; j < ldc; ++j) EXPECT_EQ(c[i * ldc + j], c0[i * ldc + j]);
    }
}

TEST(KernelsBlas, StridedBatchedMatchesLoop) {
  auto be = cpu();
  const int64_t P = 3, m = 4, n = 6, k = 5;
  auto a = random_floats(P * m * k, 4), b = random_floats(P * n * k, 5);
  std::vector<float> c(P * m * n), ref(P * m * n);
  cpu::gemm_strided_batched(*be, false, true, m, n, k, 1.0f, a.data(), k, m * k, b.data(), k, n * k,
                            0.0f, c.data(), n, m * n, P);
  for (int64_t p = 0; p < P; ++p)
    cpu::gemm(*be, false, true, m, n, k, 1.0f, a.data() + p * m * k, k, b.data() + p * n * k, k,
              0.0f, ref.data() + p * m * n, n);
  EXPECT_EQ(c, ref);
}

TEST(KernelsElementwise, MapsMatchReference) {
  auto be = cpu();
  const int64_t n = 40000;  // above the OpenMP threshold
  auto a = random_floats(n, 6, -4, 4), b = random_floats(n, 7);
  std::vector<float> y(n), dx(n);
  cpu::add(*be, a.data(), b.data(), y.data(), n);
  for (int64_t i = 0; i < n; i += 97) EXPECT_EQ(y[i], a[i] + b[i]);
  cpu::sub(*be, a.data(), b.data(), y.data(), n);
  for (int64_t i = 0; i < n; i += 97) EXPECT_EQ(y[i], a[i] - b[i]);
  cpu::mul(*be, a.data(), b.data(), y.data(), n);
  for (int64_t i = 0; i < n; i += 97) EXPECT_EQ(y[i], a[i] * b[i]);
  cpu::scale(*be, a.data(), -2.5f, y.data(), n);
  for (int64_t i = 0; i < n; i += 97) EXPECT_EQ(y[i], -2.5f * a[i]);
  std::vector<float> acc = b;
  cpu::axpy(*be, 3.0f, a.data(), acc.data(), n);
  for (int64_t i = 0; i < n; i += 97) EXPECT_FLOAT_EQ(acc[i], b[i] + 3.0f * a[i]);
  cpu::sigmoid_forward(*be, a.data(), y.data(), n);
  cpu::sigmoid_backward(*be, y.data(), b.data(), dx.data(), n);
  for (int64_t i = 0; i < n; i += 97) {
    double s = 1.0 / (1.0 + std::exp(-double(a[i])));
    EXPECT_NEAR(y[i], s, 1e-6);
    EXPECT_NEAR(dx[i], b[i] * s * (1 - s), 1e-6);
  }
  cpu::tanh_forward(*be, a.data(), y.data(), n);
  cpu::tanh_backward(*be, y.data(), b.data(), dx.data(), n);
  for (int64_t i = 0; i < n; i += 97) {
    double t = std::tanh(double(a[i]));
    EXPECT_NEAR(y[i], t, 1e-6);
    EXPECT_NEAR(dx[i], b[i] * (1 - t * t), 1e-6);
  }
  cpu::fill(*be, y.data(), n, 1.5f);
  for (float v : y) ASSERT_EQ(v, 1.5f);
  float s = 4.0f;
  cpu::fill_from_scalar(*be, &s, 0.25f, y.data(), n);
  for (float v : y) ASSERT_EQ(v, 1.0f);
}

TEST(KernelsElementwise, BiasAddAndCopy2d) {
  auto be = cpu();
  const int64_t rows = 5, cols = 7;
  auto x = random_floats(rows * cols, 8), bias = random_floats(cols, 9);
  std::vector<float> y(rows * cols);
  cpu::bias_add(*be, x.data(), bias.data(), y.data(), rows, cols);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) EXPECT_EQ(y[r * cols + c], x[r * cols + c] + bias[c]);
  // Copy the block [rows, 3] starting at column 2 into a [rows, 4] destination at column 1.
  std::vector<float> dst(rows * 4, -1.0f);
  cpu::copy2d(*be, x.data() + 2, cols, dst.data() + 1, 4, rows, 3);
  for (int64_t r = 0; r < rows; ++r) {
    EXPECT_EQ(dst[r * 4], -1.0f);
    for (int64_t c = 0; c < 3; ++c) EXPECT_EQ(dst[r * 4 + 1 + c], x[r * cols + 2 + c]);
  }
}

// A NaN input (a diverged step's logits or gates) must come out NaN; it used to reach an undefined
// NaN-to-int conversion and a left shift of a negative exponent (UBSan).
TEST(KernelsFastExp, MatchesExpUnderflowsToZeroAndKeepsNaN) {
  for (float x : {0.0f, -1e-3f, -0.5f, -1.0f, -10.0f, -50.0f, -86.9f})
    EXPECT_NEAR(fastmath::exp_nonpos(x), std::exp(x), 1e-6f * std::exp(x)) << x;
  EXPECT_EQ(fastmath::exp_nonpos(-100.0f), 0.0f);
  EXPECT_TRUE(std::isnan(fastmath::exp_nonpos(std::nanf(""))));
}

TEST(KernelsReduce, SumMeanColumnSum) {
  for (int64_t n : {0, 1, 4095, 4096, 4097, 100000, 1100000}) {
    auto be = cpu();
    auto x = random_floats(n, 10);
    double ref = 0;
    for (float v : x) ref += v;
    float out = -1;
    cpu::sum_all(*be, x.data(), n, 1.0f, &out);
    EXPECT_NEAR(out, ref, 1e-3) << n;
    if (n > 0) {
      cpu::sum_all(*be, x.data(), n, 1.0f / n, &out);
      EXPECT_NEAR(out, ref / n, 1e-6) << n;
    }
  }
  auto be = cpu();
  const int64_t rows = 300, cols = 130;
  auto x = random_floats(rows * cols, 11);
  std::vector<float> y(cols);
  cpu::column_sum(*be, x.data(), rows, cols, y.data());
  for (int64_t c = 0; c < cols; ++c) {
    double s = 0;
    for (int64_t r = 0; r < rows; ++r) s += x[r * cols + c];
    EXPECT_NEAR(y[c], s, 1e-4);
  }
}

TEST(KernelsReduce, BitwiseIndependentOfThreadCount) {
  const int64_t n = 3000000, rows = 2000, cols = 300;
  auto x = random_floats(n, 12);
  std::vector<float> sums, col0;
  for (int threads : {1, 2, 3, 8}) {
    auto be = cpu(threads);
    float s;
    cpu::sum_all(*be, x.data(), n, 1.0f, &s);
    sums.push_back(s);
    std::vector<float> y(cols);
    cpu::column_sum(*be, x.data(), rows, cols, y.data());
    col0.push_back(y[cols - 1]);
  }
  for (size_t i = 1; i < sums.size(); ++i) {
    EXPECT_EQ(sums[i], sums[0]);
    EXPECT_EQ(col0[i], col0[0]);
  }
}

TEST(KernelsGather, GatherRowsAndOutOfRange) {
  auto be = cpu();
  const int64_t V = 10, D = 3;
  auto table = random_floats(V * D, 13);
  std::vector<int32_t> ids = {9, 0, 4, 4};
  std::vector<float> out(ids.size() * D);
  cpu::gather_rows(*be, table.data(), V, D, ids.data(), ids.size(), out.data());
  for (size_t i = 0; i < ids.size(); ++i)
    for (int64_t c = 0; c < D; ++c) EXPECT_EQ(out[i * D + c], table[ids[i] * D + c]);
  for (int32_t bad : {-1, 10}) {
    ids[2] = bad;
    try {
      cpu::gather_rows(*be, table.data(), V, D, ids.data(), ids.size(), out.data());
      FAIL() << "expected an error for id " << bad;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("out of range"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("position 2"), std::string::npos) << e.what();
    }
  }
}

struct SparseResult {
  std::vector<int32_t> ids;
  std::vector<float> rows;
  int32_t count = 0;
};

SparseResult scatter(Backend& be, const std::vector<int32_t>& ids, const std::vector<float>& grad,
                     int64_t d, int64_t vocab) {
  const int64_t n = ids.size();
  SparseResult r;
  r.ids.assign(n, 7);
  r.rows.assign(n * d, 7.0f);
  std::vector<char> ws(scatter_add_workspace_bytes(n, d) + 64);
  cpu::scatter_add_rows(be, ids.data(), grad.data(), n, d, vocab, r.ids.data(), r.rows.data(),
                        &r.count, ws.data(), ws.size());
  return r;
}

TEST(KernelsScatterAdd, MatchesReferenceAndDensify) {
  auto be = cpu();
  const int64_t n = 500, d = 5, V = 40;
  auto ids = random_ids(n, V, 14);
  auto grad = random_floats(n * d, 15);
  SparseResult r = scatter(*be, ids, grad, d, V);
  std::map<int32_t, std::vector<double>> ref;
  for (int64_t i = 0; i < n; ++i) {
    auto& row = ref[ids[i]];
    row.resize(d);
    for (int64_t c = 0; c < d; ++c) row[c] += grad[i * d + c];
  }
  ASSERT_EQ(r.count, static_cast<int32_t>(ref.size()));
  int s = 0;
  for (auto& [id, row] : ref) {
    EXPECT_EQ(r.ids[s], id);
    for (int64_t c = 0; c < d; ++c) EXPECT_NEAR(r.rows[s * d + c], row[c], 1e-4);
    ++s;
  }
  for (int64_t t = r.count; t < n; ++t) {  // tail is defined: id -1, zero rows
    EXPECT_EQ(r.ids[t], -1);
    for (int64_t c = 0; c < d; ++c) EXPECT_EQ(r.rows[t * d + c], 0.0f);
  }
  std::vector<float> dense(V * d, 9.0f);
  cpu::densify_rows(*be, r.ids.data(), r.rows.data(), &r.count, n, d, dense.data(), V);
  for (int32_t v = 0; v < V; ++v)
    for (int64_t c = 0; c < d; ++c)
      EXPECT_NEAR(dense[v * d + c], ref.count(v) ? ref[v][c] : 0.0, 1e-4);
}

TEST(KernelsScatterAdd, BitwiseDeterministicWithManyDuplicates) {
  // 20000 rows over only 3 ids with values of wildly different magnitudes: any change in summation
  // order would change the bits.
  const int64_t n = 20000, d = 16;
  auto ids = random_ids(n, 3, 16);
  auto grad = random_floats(n * d, 17);
  for (int64_t i = 0; i < n * d; i += 7) grad[i] *= 1e6f;
  std::vector<SparseResult> runs;
  for (int threads : {1, 2, 4, 7})
    for (int rep = 0; rep < 2; ++rep) {
      auto be = cpu(threads);
      runs.push_back(scatter(*be, ids, grad, d, 3));
    }
  for (const auto& r : runs) {
    EXPECT_EQ(r.count, 3);
    EXPECT_EQ(r.ids, runs[0].ids);
    EXPECT_EQ(0, std::memcmp(r.rows.data(), runs[0].rows.data(), r.rows.size() * sizeof(float)));
  }
}

TEST(KernelsScatterAdd, RejectsOutOfRangeIdsAndSmallWorkspace) {
  auto be = cpu();
  std::vector<int32_t> ids = {1, 5, 2};
  auto grad = random_floats(6, 18);
  EXPECT_THROW(scatter(*be, ids, grad, 2, 5), Error);
  ids[1] = 4;
  std::vector<int32_t> oi(3);
  std::vector<float> orows(6);
  int32_t count;
  char ws[8];
  EXPECT_THROW(cpu::scatter_add_rows(*be, ids.data(), grad.data(), 3, 2, 5, oi.data(), orows.data(),
                                     &count, ws, sizeof ws),
               Error);
}

TEST(KernelsSoftmaxXent, ForwardBackwardMatchReference) {
  auto be = cpu();
  const int64_t n = 6, c = 11;
  auto x = random_floats(n * c, 19, -30, 30);  // large logits: needs the max subtraction
  x[3] = 500.0f;
  std::vector<int32_t> t = {0, 10, 3, 3, 7, 1};
  std::vector<float> row(n), grad(n * c);
  float mean, g = 2.0f;
  cpu::softmax_xent_forward(*be, x.data(), t.data(), n, c, row.data(), &mean);
  cpu::softmax_xent_backward(*be, x.data(), t.data(), &g, n, c, grad.data());
  double total = 0;
  for (int64_t i = 0; i < n; ++i) {
    double m = -1e300, s = 0;
    for (int64_t j = 0; j < c; ++j) m = std::max(m, double(x[i * c + j]));
    for (int64_t j = 0; j < c; ++j) s += std::exp(x[i * c + j] - m);
    double li = std::log(s) + m - x[i * c + t[i]];
    EXPECT_NEAR(row[i], li, 1e-4 * std::max(1.0, li));
    EXPECT_TRUE(std::isfinite(row[i]));
    total += li;
    for (int64_t j = 0; j < c; ++j) {
      double p = std::exp(x[i * c + j] - m) / s;
      EXPECT_NEAR(grad[i * c + j], (p - (j == t[i])) * g / n, 1e-6);
    }
  }
  EXPECT_NEAR(mean, total / n, 1e-3);
  t[4] = 11;
  EXPECT_THROW(cpu::softmax_xent_forward(*be, x.data(), t.data(), n, c, row.data(), &mean), Error);
  t[4] = -1;
  EXPECT_THROW(cpu::softmax_xent_backward(*be, x.data(), t.data(), &g, n, c, grad.data()), Error);
}

// The fused training row pass: delta = (softmax(x + b) - onehot) / n in place, the losses, and
// column sums that do not depend on the thread count. n = 101 spans several row chunks.
TEST(KernelsSoftmaxXent, DeltaMatchesReferenceAndIsThreadCountIndependent) {
  const int64_t n = 101, c = 37;
  const auto x0 = random_floats(n * c, 23, -30, 30);
  const auto b = random_floats(c, 24, -5, 5);
  std::vector<int32_t> t(n);
  for (int64_t i = 0; i < n; ++i) t[i] = static_cast<int32_t>((i * 7) % c);
  std::vector<char> ws(softmax_xent_delta_workspace_bytes(n, c));
  ASSERT_GT(softmax_xent_delta_chunks(n), 1);
  std::vector<std::vector<float>> deltas, colsums;
  for (int threads : {1, 2}) {
    auto be = Backend::create("cpu", threads);
    std::vector<float> x = x0, row(n), colsum(c);
    float mean = 0;
    cpu::softmax_xent_delta(*be, x.data(), b.data(), t.data(), n, c, row.data(), &mean,
                            colsum.data(), ws.data(), ws.size());
    std::vector<double> ref_colsum(c, 0.0);
    double total = 0;
    for (int64_t i = 0; i < n; ++i) {
      double m = -1e300, s = 0;
      for (int64_t j = 0; j < c; ++j) m = std::max(m, double(x0[i * c + j]) + b[j]);
      for (int64_t j = 0; j < c; ++j) s += std::exp(double(x0[i * c + j]) + b[j] - m);
      const double li = std::log(s) + m - (double(x0[i * c + t[i]]) + b[t[i]]);
      EXPECT_NEAR(row[i], li, 1e-4 * std::max(1.0, li)) << i;
      total += li;
      for (int64_t j = 0; j < c; ++j) {
        const double d = (std::exp(double(x0[i * c + j]) + b[j] - m) / s - (j == t[i])) / n;
        EXPECT_NEAR(x[i * c + j], d, 1e-6) << i << "," << j;
        ref_colsum[j] += d;
      }
    }
    EXPECT_NEAR(mean, total / n, 1e-3);
    for (int64_t j = 0; j < c; ++j) EXPECT_NEAR(colsum[j], ref_colsum[j], 1e-5) << j;
    deltas.push_back(x);
    colsums.push_back(colsum);
  }
  EXPECT_EQ(0, std::memcmp(deltas[0].data(), deltas[1].data(), deltas[0].size() * sizeof(float)));
  EXPECT_EQ(0, std::memcmp(colsums[0].data(), colsums[1].data(), c * sizeof(float)));
}

TEST(KernelsSoftmaxXent, DeltaRejectsBadTargetsAndSmallWorkspace) {
  auto be = cpu();
  const int64_t n = 4, c = 5;
  std::vector<float> x(n * c, 0.5f), b(c, 0.0f), row(n), colsum(c);
  std::vector<int32_t> t = {0, 1, 5, 2};
  std::vector<char> ws(softmax_xent_delta_workspace_bytes(n, c));
  float mean;
  EXPECT_THROW(cpu::softmax_xent_delta(*be, x.data(), b.data(), t.data(), n, c, row.data(), &mean,
                                       colsum.data(), ws.data(), ws.size()),
               Error);
  t[2] = 3;
  EXPECT_THROW(cpu::softmax_xent_delta(*be, x.data(), b.data(), t.data(), n, c, row.data(), &mean,
                                       colsum.data(), ws.data(), ws.size() - 4),
               Error);
  EXPECT_NO_THROW(cpu::softmax_xent_delta(*be, x.data(), b.data(), t.data(), n, c, row.data(),
                                          &mean, colsum.data(), ws.data(), ws.size()));
  EXPECT_NEAR(mean, std::log(5.0), 1e-5);  // equal logits: uniform softmax
}

TEST(KernelsBlas, DeviceScalarsGemmMatchesHostScalars) {
  auto be = cpu();
  const int64_t m = 9, n = 7, k = 5;
  const auto a = random_floats(m * k, 31), b = random_floats(k * n, 32);
  std::vector<float> c1 = random_floats(m * n, 33), c2 = c1;
  const float alpha = -1.5f, beta = 0.25f;
  cpu::gemm(*be, false, false, m, n, k, alpha, a.data(), k, b.data(), n, beta, c1.data(), n);
  cpu::gemm_device_scalars(*be, false, false, m, n, k, &alpha, a.data(), k, b.data(), n, &beta,
                           c2.data(), n);
  EXPECT_EQ(c1, c2);
}

TEST(KernelsDropout, MaskRateScaleAndBackwardConsistency) {
  auto be = cpu();
  const int64_t n = 100000;
  const float p = 0.25f;
  std::vector<float> x(n, 1.0f), y(n), dx(n);
  cpu::dropout_forward(*be, x.data(), y.data(), n, p, 42, 7);
  cpu::dropout_backward(*be, x.data(), dx.data(), n, p, 42, 7);
  int64_t dropped = 0;
  for (int64_t i = 0; i < n; ++i) {
    ASSERT_TRUE(y[i] == 0.0f || std::fabs(y[i] - 1.0f / (1 - p)) < 1e-6);
    ASSERT_EQ(y[i], dx[i]);  // same mask recomputed
    ASSERT_EQ(y[i] == 0.0f, rng_uniform(42, 7, i) < p);
    dropped += y[i] == 0.0f;
  }
  EXPECT_NEAR(double(dropped) / n, p, 0.01);
  std::vector<float> y2(n);
  cpu::dropout_forward(*be, x.data(), y2.data(), n, p, 42, 8);  // another stream: another mask
  EXPECT_NE(y, y2);
  EXPECT_THROW(cpu::dropout_forward(*be, x.data(), y2.data(), n, 1.0f, 42, 8), Error);
}

}  // namespace
}  // namespace sg
