// Sketch store properties on the CPU kernels: hashing, lossless sketches, Count-Min never
// under-estimates, Count-Sketch error centred on zero across seeds, error falling with width on a
// Zipf stream, deterministic combination of colliding rows, cleaning, Paper semantics, the
// conservative Count-Min update (lossless, between truth and Lazy, thread-independent), the paired
// m/v update (equal to two updates), bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>
#include <vector>

#include "engine/rng.h"
#include "sketch/sketch_kernels.h"

namespace sg {
namespace {

struct HostSketch {
  std::vector<float> table;
  std::vector<char> ws;
  StoreView view;
  HostSketch(StoreKind kind, int64_t rows, int64_t dim, int depth, int64_t width, uint64_t salt = 0,
             bool identity = false, int64_t max_n = 4096, SketchUpdate mode = SketchUpdate::Lazy) {
    table.assign(depth * width * dim, 0.f);
    ws.resize(sketch_update_workspace_bytes(depth, max_n, dim, mode));
    view.kind = kind;
    view.data = table.data();
    view.rows = rows;
    view.dim = dim;
    view.hash = make_sketch_hash(depth, static_cast<uint32_t>(width), salt, identity);
  }
  void update(Backend& be, const std::vector<int32_t>& ids, const std::vector<float>& x,
              float decay, float scale, SketchUpdate mode = SketchUpdate::Lazy,
              bool square = false) {
    const int32_t count = static_cast<int32_t>(ids.size());
    cpu::sketch_update(be, view, ids.data(), &count, count, x.data(), square, decay, scale, mode,
                       ws.data(), ws.size());
  }
  std::vector<float> query(Backend& be, const std::vector<int32_t>& ids) {
    std::vector<float> out(ids.size() * view.dim);
    const int32_t count = static_cast<int32_t>(ids.size());
    cpu::sketch_query_rows(be, view, ids.data(), &count, count, out.data());
    return out;
  }
};

// Zipf(1) row ids over `rows`, by inverse CDF on a counter-based uniform.
std::vector<int32_t> zipf_ids(int64_t n, int64_t rows, uint64_t seed) {
  std::vector<double> cdf(rows);
  double s = 0;
  for (int64_t i = 0; i < rows; ++i) cdf[i] = (s += 1.0 / (i + 1));
  std::vector<int32_t> ids(n);
  for (int64_t k = 0; k < n; ++k) {
    const double u = rng_uniform_double(seed, 1, k) * s;
    ids[k] = static_cast<int32_t>(std::lower_bound(cdf.begin(), cdf.end(), u) - cdf.begin());
  }
  return ids;
}

std::vector<int32_t> all_rows(int64_t rows) {
  std::vector<int32_t> ids(rows);
  for (int64_t i = 0; i < rows; ++i) ids[i] = static_cast<int32_t>(i);
  return ids;
}

TEST(SketchHash, Fmix32AndBuckets) {
  EXPECT_EQ(fmix32(0), 0u);
  std::set<uint32_t> seen;
  for (uint32_t i = 0; i < 10000; ++i) seen.insert(fmix32(i));
  EXPECT_EQ(seen.size(), 10000u);  // a bijection
  SketchHash h = make_sketch_hash(3, 97);
  SketchHash h2 = make_sketch_hash(3, 97);
  int plus = 0;
  for (uint32_t i = 0; i < 10000; ++i) {
    for (int j = 0; j < 3; ++j) {
      ASSERT_LT(h.bucket(j, i), 97u);
      EXPECT_EQ(h.bucket(j, i), h2.bucket(j, i));  // fixed seeds
      EXPECT_EQ(h.bucket(j, i), fmix32(h.a[j] * i + h.b[j]) % 97u);
    }
    plus += h.sign(0, i) > 0;
  }
  EXPECT_NEAR(plus, 5000, 300);
  EXPECT_NE(h.a[0], h.a[1]);
  EXPECT_NE(make_sketch_hash(3, 97, 1).a[0], h.a[0]);
  EXPECT_EQ(sketch_width(793471, 5.0, 3), 52898);  // "5x" = round(0.2 * rows / 3)
  EXPECT_EQ(sketch_width(10, 100.0, 3), 1);
  EXPECT_THROW(sketch_width(10, 0.0, 3), Error);
  EXPECT_THROW(sketch_width(10, 5.0, 9), Error);
}

TEST(Sketch, LosslessWithIdentityHash) {
  auto be = Backend::create("cpu", 2);
  const int64_t rows = 50, d = 4;
  for (StoreKind kind : {StoreKind::CountSketch, StoreKind::CountMin}) {
    HostSketch s(kind, rows, d, 3, rows, 0, true);
    std::vector<double> truth(rows * d, 0.0);
    for (int step = 0; step < 5; ++step) {
      std::vector<int32_t> ids = {3, 7, 11, 49, 0};
      std::vector<float> x(ids.size() * d);
      for (size_t k = 0; k < x.size(); ++k) x[k] = float((k * 7 + step) % 5);  // exact small ints
      s.update(*be, ids, x, 1.f, 1.f);
      for (size_t p = 0; p < ids.size(); ++p)
        for (int64_t c = 0; c < d; ++c) truth[ids[p] * d + c] += x[p * d + c];
    }
    auto q = s.query(*be, all_rows(rows));
    for (int64_t i = 0; i < rows * d; ++i) EXPECT_EQ(q[i], truth[i]);
  }
}

TEST(Sketch, CountMinNeverUnderEstimates) {
  auto be = Backend::create("cpu", 2);
  const int64_t rows = 2000, d = 3;
  HostSketch s(StoreKind::CountMin, rows, d, 3, 64);
  std::vector<double> truth(rows * d, 0.0);
  for (int step = 0; step < 20; ++step) {
    auto z = zipf_ids(500, rows, step);
    std::sort(z.begin(), z.end());
    z.erase(std::unique(z.begin(), z.end()), z.end());
    std::vector<float> x(z.size() * d);
    for (size_t k = 0; k < x.size(); ++k) x[k] = float(rng_u64(5, step, k) % 4);  // exact sums
    s.update(*be, z, x, 1.f, 1.f);
    for (size_t p = 0; p < z.size(); ++p)
      for (int64_t c = 0; c < d; ++c) truth[z[p] * d + c] += x[p * d + c];
  }
  auto q = s.query(*be, all_rows(rows));
  int64_t over = 0;
  for (int64_t i = 0; i < rows * d; ++i) {
    ASSERT_GE(q[i], truth[i]) << i;
    over += q[i] > truth[i];
  }
  EXPECT_GT(over, 0);  // the sketch is lossy here
}

TEST(Sketch, CountSketchErrorCentredOnZeroAcrossSeeds) {
  auto be = Backend::create("cpu", 1);
  const int64_t rows = 400, d = 1;
  auto ids = all_rows(rows);
  std::vector<float> x(rows);
  for (int64_t i = 0; i < rows; ++i) x[i] = float(rng_uniform(7, 0, i) * 2.0 - 0.5);
  for (int depth : {1, 3}) {
    double sum = 0, sumsq = 0;
    int64_t n = 0;
    for (uint64_t salt = 1; salt <= 200; ++salt) {
      HostSketch s(StoreKind::CountSketch, rows, d, depth, 40, salt);
      s.update(*be, ids, x, 1.f, 1.f);
      auto q = s.query(*be, ids);
      for (int64_t i = 0; i < rows; ++i) {
        const double e = double(q[i]) - x[i];
        sum += e;
        sumsq += e * e;
        ++n;
      }
    }
    const double mean = sum / n, rms = std::sqrt(sumsq / n);
    EXPECT_GT(rms, 0.1) << "depth " << depth;  // collisions do happen
    EXPECT_LT(std::fabs(mean), 0.05 * rms) << "depth " << depth << " mean " << mean;
  }
}

TEST(Sketch, ErrorFallsWithWidthOnZipfStream) {
  auto be = Backend::create("cpu", 2);
  const int64_t rows = 5000;
  std::vector<double> truth(rows, 0.0);
  std::vector<std::vector<int32_t>> steps;
  for (int s = 0; s < 10; ++s) {
    auto z = zipf_ids(2000, rows, 100 + s);
    std::sort(z.begin(), z.end());
    z.erase(std::unique(z.begin(), z.end()), z.end());
    for (int32_t i : z) truth[i] += 1.0;
    steps.push_back(z);
  }
  double total = 0;
  for (double t : truth) total += t;
  for (StoreKind kind : {StoreKind::CountMin, StoreKind::CountSketch}) {
    double prev = 1e30;
    for (int64_t width : {25, 100, 400, 1600}) {
      HostSketch s(kind, rows, 1, 3, width);
      for (auto& z : steps) s.update(*be, z, std::vector<float>(z.size(), 1.f), 1.f, 1.f);
      auto q = s.query(*be, all_rows(rows));
      double err = 0;
      for (int64_t i = 0; i < rows; ++i) err += std::fabs(q[i] - truth[i]);
      err /= rows;
      EXPECT_LT(err, 0.6 * prev) << store_kind_name(kind) << " width " << width;
      if (kind == StoreKind::CountMin) EXPECT_LE(err, total / width);  // E[error] <= N / width
      prev = err;
    }
  }
}

TEST(Sketch, CollidingRowsCombineInPositionOrder) {
  // 64 rows into 3 buckets, one lazy EMA step: bucket = decay * old + scale * sum in ascending
  // position.
  const int64_t rows = 64, d = 5, width = 3;
  std::vector<int32_t> ids = all_rows(rows);
  std::vector<float> x(rows * d);
  for (size_t k = 0; k < x.size(); ++k) x[k] = rng_uniform(9, 1, k) * 2.f - 1.f;
  std::vector<float> first;
  for (int threads : {1, 2, 1}) {
    auto be = Backend::create("cpu", threads);
    HostSketch s(StoreKind::CountSketch, rows, d, 3, width);
    for (size_t k = 0; k < s.table.size(); ++k) s.table[k] = 0.25f * (k % 7);
    const std::vector<float> old = s.table;
    s.update(*be, ids, x, 0.9f, 0.1f);
    if (first.empty()) {
      first = s.table;
      // explicit reference
      for (int j = 0; j < 3; ++j)
        for (int64_t b = 0; b < width; ++b)
          for (int64_t c = 0; c < d; ++c) {
            float acc = 0;
            bool any = false;
            for (int64_t p = 0; p < rows; ++p) {
              if (s.view.hash.bucket(j, p) != b) continue;
              const float v = s.view.hash.sign(j, p) * x[p * d + c];
              acc = any ? acc + v : v;
              any = true;
            }
            const int64_t at = (j * width + b) * d + c;
            const float want = any ? 0.9f * old[at] + 0.1f * acc : old[at];
            EXPECT_EQ(s.table[at], want);
          }
    } else {
      EXPECT_EQ(0, std::memcmp(first.data(), s.table.data(), first.size() * 4));
    }
  }
}

TEST(Sketch, PaperSemanticsAddsOneDeltaPerRow) {
  auto be = Backend::create("cpu", 1);
  const int64_t rows = 10, d = 2;
  HostSketch s(StoreKind::CountMin, rows, d, 1, 4, 0, false, 64, SketchUpdate::Paper);
  std::vector<int32_t> ids = {1, 2};
  s.update(*be, ids, {1, 2, 3, 4}, 0.5f, 1.f, SketchUpdate::Paper, /*square=*/true);
  // Empty sketch: est 0, delta = x*x; colliding rows add both deltas.
  auto q = s.query(*be, ids);
  const bool same = s.view.hash.bucket(0, 1) == s.view.hash.bucket(0, 2);
  EXPECT_EQ(q[0], same ? 10.f : 1.f);
  EXPECT_EQ(q[2], same ? 10.f : 9.f);
  // Second step on row 1 only: est e, new = 0.5 e + x^2, bucket += new - e.
  const float e0 = q[0];
  s.update(*be, {1}, {2, 0}, 0.5f, 1.f, SketchUpdate::Paper, true);
  EXPECT_FLOAT_EQ(s.query(*be, {1})[0], 0.5f * e0 + 4.f);
}

// Conservative update with an identity hash (one row per bucket): max(decay*S, decay*S + x) is
// exactly the dense recurrence decay*S + scale*x for x >= 0.
TEST(Sketch, ConservativeLosslessEqualsDenseRecurrence) {
  auto be = Backend::create("cpu", 2);
  const int64_t rows = 40, d = 3;
  HostSketch s(StoreKind::CountMin, rows, d, 3, rows, 0, true, 64, SketchUpdate::Conservative);
  std::vector<float> truth(rows * d, 0.f);
  for (int step = 0; step < 6; ++step) {
    std::vector<int32_t> ids = {5, 1, 39, 0, 17};
    std::vector<float> x(ids.size() * d);
    for (size_t k = 0; k < x.size(); ++k) x[k] = 0.1f * float((k * 3 + step) % 7) - 0.3f;
    s.update(*be, ids, x, 0.9f, 0.1f, SketchUpdate::Conservative, /*square=*/true);
    for (size_t p = 0; p < ids.size(); ++p)
      for (int64_t c = 0; c < d; ++c) {
        float& t = truth[ids[p] * d + c];
        const float xv = x[p * d + c] * x[p * d + c];
        t = 0.9f * t + 0.1f * xv;
      }
  }
  auto q = s.query(*be, all_rows(rows));
  for (int64_t i = 0; i < rows * d; ++i) ASSERT_EQ(q[i], truth[i]) << i;
}

// On a lossy Zipf stream the conservative update still never under-estimates a running sum
// (decay 1, scale 1, x >= 0), and never reads above the Lazy Count-Min fed the same stream, for
// sums and for decayed averages alike; on this stream it is strictly tighter somewhere.
TEST(Sketch, ConservativeBetweenTruthAndLazyOnZipfStream) {
  auto be = Backend::create("cpu", 2);
  const int64_t rows = 2000, d = 2;
  for (float decay : {1.f, 0.9f}) {
    const float scale = decay == 1.f ? 1.f : 0.1f;
    HostSketch cu(StoreKind::CountMin, rows, d, 3, 64, 0, false, 4096, SketchUpdate::Conservative);
    HostSketch lazy(StoreKind::CountMin, rows, d, 3, 64);
    std::vector<double> truth(rows * d, 0.0);
    for (int step = 0; step < 20; ++step) {
      auto z = zipf_ids(500, rows, 100 + step);
      std::sort(z.begin(), z.end());
      z.erase(std::unique(z.begin(), z.end()), z.end());
      std::vector<float> x(z.size() * d);
      for (size_t k = 0; k < x.size(); ++k) x[k] = float(rng_u64(6, step, k) % 4);
      cu.update(*be, z, x, decay, scale, SketchUpdate::Conservative);
      lazy.update(*be, z, x, decay, scale);
      for (size_t p = 0; p < z.size(); ++p)
        for (int64_t c = 0; c < d; ++c) truth[z[p] * d + c] += x[p * d + c];
    }
    auto qc = cu.query(*be, all_rows(rows));
    auto ql = lazy.query(*be, all_rows(rows));
    int64_t tighter = 0;
    for (int64_t i = 0; i < rows * d; ++i) {
      if (decay == 1.f) ASSERT_GE(qc[i], truth[i]) << i;
      ASSERT_LE(qc[i], ql[i]) << "decay " << decay << " element " << i;
      tighter += qc[i] < ql[i];
    }
    EXPECT_GT(tighter, rows * d / 10) << "decay " << decay;
  }
}

TEST(Sketch, ConservativeSameForAnyThreadCount) {
  const int64_t rows = 3000, d = 8;
  std::vector<std::vector<float>> results;
  for (int threads : {1, 2}) {
    auto be = Backend::create("cpu", threads);
    HostSketch s(StoreKind::CountMin, rows, d, 3, 97, 0, false, 4096, SketchUpdate::Conservative);
    for (int step = 0; step < 5; ++step) {
      auto z = zipf_ids(3000, rows, 7 + step);
      std::sort(z.begin(), z.end());
      z.erase(std::unique(z.begin(), z.end()), z.end());
      std::vector<float> x(z.size() * d);
      for (size_t k = 0; k < x.size(); ++k) x[k] = rng_uniform(8, step, k) - 0.5f;
      s.update(*be, z, x, 0.999f, 0.001f, SketchUpdate::Conservative, /*square=*/true);
    }
    results.push_back(s.table);
  }
  EXPECT_EQ(0, std::memcmp(results[0].data(), results[1].data(), results[0].size() * 4));
}

TEST(Sketch, ConservativeRejectsCountSketch) {
  auto be = Backend::create("cpu", 1);
  HostSketch s(StoreKind::CountSketch, 10, 2, 3, 4, 0, false, 8, SketchUpdate::Conservative);
  EXPECT_THROW(s.update(*be, {1}, {1, 1}, 1, 1, SketchUpdate::Conservative), Error);
}

TEST(Sketch, CleaningMultipliesEverything) {
  auto be = Backend::create("cpu", 2);
  std::vector<float> t(100000);
  for (size_t i = 0; i < t.size(); ++i) t[i] = float(i % 13);
  cpu::scale_inplace(*be, t.data(), int64_t(t.size()), 0.25f);
  for (size_t i = 0; i < t.size(); ++i) ASSERT_EQ(t[i], 0.25f * float(i % 13));
}

// Adam's m (Count-Sketch, x) and v (Count-Min, x*x) through one shared sort equal two separate
// Lazy updates bit for bit, on a colliding Zipf stream, for any thread count.
TEST(Sketch, PairUpdateEqualsTwoUpdates) {
  const int64_t rows = 3000, dim = 70, width = 97;  // ~10 rows per bucket; dim not a chunk multiple
  for (int threads : {1, 2}) {
    auto be = Backend::create("cpu", threads);
    HostSketch m1(StoreKind::CountSketch, rows, dim, 3, width),
        v1(StoreKind::CountMin, rows, dim, 3, width);
    HostSketch m2(StoreKind::CountSketch, rows, dim, 3, width),
        v2(StoreKind::CountMin, rows, dim, 3, width);
    for (int step = 0; step < 4; ++step) {
      std::vector<int32_t> z = zipf_ids(900, rows, 17 + step);
      std::set<int32_t> uniq(z.begin(), z.end());
      std::vector<int32_t> ids(uniq.begin(), uniq.end());
      std::vector<float> x(ids.size() * dim);
      for (size_t k = 0; k < x.size(); ++k) x[k] = float(rng_uniform_double(5, step, k) - 0.5);
      m1.update(*be, ids, x, 0.9f, 0.1f);
      v1.update(*be, ids, x, 0.999f, 0.001f, SketchUpdate::Lazy, /*square=*/true);
      // One row past count must be ignored: a garbage id there would throw if it were read.
      std::vector<int32_t> padded = ids;
      padded.push_back(-5);
      std::vector<float> xp = x;
      xp.resize(x.size() + dim, 1e9f);
      const int32_t count = static_cast<int32_t>(ids.size());
      cpu::sketch_update_pair(*be, m2.view, 0.9f, 0.1f, v2.view, 0.999f, 0.001f, padded.data(),
                              &count, count + 1, xp.data(), m2.ws.data(), m2.ws.size());
    }
    ASSERT_EQ(0, std::memcmp(m1.table.data(), m2.table.data(), m1.table.size() * sizeof(float)));
    ASSERT_EQ(0, std::memcmp(v1.table.data(), v2.table.data(), v1.table.size() * sizeof(float)));
    bool moved = false;
    for (float t : m2.table) moved = moved || t != 0.f;
    EXPECT_TRUE(moved);
  }
}

TEST(Sketch, PairUpdateNeedsOneHash) {
  auto be = Backend::create("cpu", 1);
  HostSketch m(StoreKind::CountSketch, 10, 2, 3, 4), v(StoreKind::CountMin, 10, 2, 3, 4);
  HostSketch other_seed(StoreKind::CountMin, 10, 2, 3, 4, /*salt=*/1);
  HostSketch other_width(StoreKind::CountMin, 10, 2, 3, 5);
  const int32_t id = 3, one = 1;
  float x[2] = {1, 1};
  auto pair = [&](const StoreView& a, const StoreView& b, size_t ws) {
    cpu::sketch_update_pair(*be, a, 0.9f, 0.1f, b, 0.99f, 0.01f, &id, &one, 1, x, m.ws.data(), ws);
  };
  EXPECT_NO_THROW(pair(m.view, v.view, m.ws.size()));
  EXPECT_THROW(pair(m.view, other_seed.view, m.ws.size()), Error);
  EXPECT_THROW(pair(m.view, other_width.view, m.ws.size()), Error);
  EXPECT_THROW(pair(m.view, v.view, 8), Error);
  StoreView dense = v.view;
  dense.kind = StoreKind::Dense;
  EXPECT_THROW(pair(m.view, dense, m.ws.size()), Error);
}

TEST(Sketch, BadInputThrows) {
  auto be = Backend::create("cpu", 1);
  HostSketch s(StoreKind::CountMin, 10, 2, 3, 4, 0, false, 8);
  EXPECT_THROW(s.update(*be, {10}, {1, 1}, 1, 1), Error);
  EXPECT_THROW(s.update(*be, {-1}, {1, 1}, 1, 1), Error);
  const int32_t bad_count = 9, id = 0;
  float x[2] = {1, 1};
  EXPECT_THROW(cpu::sketch_update(*be, s.view, &id, &bad_count, 8, x, false, 1, 1,
                                  SketchUpdate::Lazy, s.ws.data(), s.ws.size()),
               Error);
  const int32_t one = 1;
  EXPECT_THROW(cpu::sketch_update(*be, s.view, &id, &one, 8, x, false, 1, 1, SketchUpdate::Lazy,
                                  s.ws.data(), 8),
               Error);
  StoreView dense = s.view;
  dense.kind = StoreKind::Dense;
  EXPECT_THROW(cpu::sketch_update(*be, dense, &id, &one, 8, x, false, 1, 1, SketchUpdate::Lazy,
                                  s.ws.data(), s.ws.size()),
               Error);
}

}  // namespace
}  // namespace sg
