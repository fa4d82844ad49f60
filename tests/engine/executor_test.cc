// Graph, autograd and executor on small hand-written ops: lifetimes handed to the planner, gradient
// accumulation over several uses, forward-only runs, external bindings, and a training step that
// allocates nothing (counted both by the backend and by a global operator new hook), and the CPU
// products' planned packing scratch (bound while running, shared by an evaluation executor).
#include "engine/executor.h"

#include <gtest/gtest.h>
#include <omp.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>

#include "engine/backend.h"
#include "engine/cpu/gemm_scratch.h"
#include "engine/cpu/sgemm_avx512.h"
#include "engine/graph.h"
#include "engine/ops/ops.h"

namespace {
std::atomic<bool> g_count_new{false};
std::atomic<long> g_news{0};
std::atomic<int> g_dot_grad_runs{0};  // how many times a backward op ran
}  // namespace

void* operator new(size_t n) {
  if (g_count_new) ++g_news;
  void* p = std::malloc(n ? n : 1);
  if (!p) throw std::bad_alloc();
  return p;
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
// The nothrow and array forms too: the standard's defaults forward to the two above, but ASan's
// own ones do not, and a buffer from its nothrow new (std::stable_sort's) reached std::free here.
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  try {
    return operator new(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](size_t n) { return operator new(n); }
void* operator new[](size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void operator delete(void* p, const std::nothrow_t&) noexcept { operator delete(p); }
void operator delete[](void* p) noexcept { operator delete(p); }
void operator delete[](void* p, size_t) noexcept { operator delete(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { operator delete(p); }

namespace sg {
std::shared_ptr<const Op> make_add_op();  // engine/ops: used by autograd to sum gradients

namespace {

// y = a * x (element-wise, CPU only); dy/dx = a.
class ScaleOp : public Op {
 public:
  explicit ScaleOp(float a) : a_(a) {}
  std::string type() const override { return "test_scale"; }
  void run(OpContext& c) const override {
    for (int64_t i = 0; i < c.in(0).numel(); ++i) c.out(0).f32()[i] = a_ * c.in(0).f32()[i];
  }
  void backward(Graph& g, const Node& n, const std::vector<Grad>& og,
                std::vector<Grad>& ig) const override {
    ig[0].dense = g.add1(std::make_shared<ScaleOp>(a_), {og[0].dense},
                         ValueSpec{"scale.grad", g.value(n.inputs[0]).shape});
  }

 private:
  float a_;
};

// y = sum(x * w) where w is a parameter of the same shape; gradient w.r.t. both.
class DotOp : public Op {
 public:
  std::string type() const override { return "test_dot"; }
  void run(OpContext& c) const override {
    float s = 0;
    for (int64_t i = 0; i < c.in(0).numel(); ++i) s += c.in(0).f32()[i] * c.in(1).f32()[i];
    c.out(0).f32()[0] = s;
  }
  void backward(Graph& g, const Node& n, const std::vector<Grad>& og,
                std::vector<Grad>& ig) const override {
    Shape s = g.value(n.inputs[0]).shape;
    auto outs = g.add(std::make_shared<DotGradOp>(), {n.inputs[0], n.inputs[1], og[0].dense},
                      {ValueSpec{"dot.dx", s}, ValueSpec{"dot.dw", s}});
    ig[0].dense = outs[0];
    ig[1].dense = outs[1];
  }
  class DotGradOp : public Op {
   public:
    std::string type() const override { return "test_dot_grad"; }
    void run(OpContext& c) const override {
      ++g_dot_grad_runs;
      float gy = c.in(2).f32()[0];
      for (int64_t i = 0; i < c.in(0).numel(); ++i) {
        c.out(0).f32()[i] = gy * c.in(1).f32()[i];
        c.out(1).f32()[i] = gy * c.in(0).f32()[i];
      }
    }
  };
};

struct Net {
  Graph g;
  ValueId x, w, loss;
  std::map<ValueId, Grad> grads;
};

// loss = dot(2*x, w) + dot(3*x, w): w is used twice, so its gradient is a sum of two contributions.
void build(Net& n) {
  n.x = n.g.input("x", Shape{4});
  {
    Graph::LayerScope s(n.g, "layer");
    n.w = n.g.parameter("w", Shape{4});
  }
  ValueId a = n.g.add1(std::make_shared<ScaleOp>(2.f), {n.x}, ValueSpec{"a", Shape{4}});
  ValueId b = n.g.add1(std::make_shared<ScaleOp>(3.f), {n.x}, ValueSpec{"b", Shape{4}});
  ValueId la = n.g.add1(std::make_shared<DotOp>(), {a, n.w}, ValueSpec{"la", Shape{1}});
  ValueId lb = n.g.add1(std::make_shared<DotOp>(), {b, n.w}, ValueSpec{"lb", Shape{1}});
  n.loss = n.g.add1(make_add_op(), {la, lb}, ValueSpec{"loss", Shape{1}});
  n.grads = n.g.backward(n.loss);
}

TEST(Executor, GradientsAccumulateOverUses) {
  Net n;
  build(n);
  ASSERT_EQ(n.grads.count(n.w), 1u);
  auto be = Backend::create("cpu", 1);
  Executor ex(n.g, *be, ExecutorOptions{{}, {}, {n.grads[n.w].dense}});
  float x[4] = {1, 2, 3, 4}, w[4] = {0.5f, -1, 2, 0};
  ex.upload(n.x, x, sizeof x);
  ex.upload(n.w, w, sizeof w);
  ex.run(1, 0, true);
  // loss = 5 * sum(x * w); dloss/dw = 5 x.
  EXPECT_FLOAT_EQ(ex.read_f32(n.loss)[0], 5.f * (0.5f - 2 + 6 + 0));
  auto gw = ex.read_f32(n.grads[n.w].dense);
  for (int i = 0; i < 4; ++i) EXPECT_FLOAT_EQ(gw[i], 5.f * x[i]);
}

TEST(Executor, NoTwoLiveValuesShareMemory) {
  Net n;
  build(n);
  auto be = Backend::create("cpu", 1);
  Executor ex(n.g, *be, ExecutorOptions{{}, {}, {n.grads[n.w].dense}});
  const auto& req = ex.requests();
  const auto& plan = ex.plan();
  for (size_t i = 0; i < req.size(); ++i)
    for (size_t j = i + 1; j < req.size(); ++j) {
      if (req[i].arena != req[j].arena) continue;
      bool live_together = req[i].arena == Arena::Persistent ||
                           (req[i].first <= req[j].last && req[j].first <= req[i].last);
      bool overlap = plan.offsets[i] < plan.offsets[j] + plan.sizes[j] &&
                     plan.offsets[j] < plan.offsets[i] + plan.sizes[i] && plan.sizes[i] &&
                     plan.sizes[j];
      EXPECT_FALSE(live_together && overlap) << req[i].name << " and " << req[j].name;
    }
  // The loss is kept to the end; the parameter is persistent.
  for (const auto& r : req) {
    if (r.name == "loss") EXPECT_EQ(r.last, static_cast<int>(n.g.nodes().size()));
    if (r.name == "layer/w") EXPECT_EQ(r.arena, Arena::Persistent);
  }
}

TEST(Executor, StepAllocatesNothing) {
  Net n;
  build(n);
  auto be = Backend::create("cpu", 1);
  Executor ex(n.g, *be, ExecutorOptions{{}, {}, {n.grads[n.w].dense}});
  ex.run(1, 0, true);
  size_t arena_allocs = be->allocation_count();
  g_news = 0;
  g_count_new = true;
  for (int s = 2; s < 10; ++s) ex.run(s, 0, true);
  g_count_new = false;
  EXPECT_EQ(g_news.load(), 0);
  EXPECT_EQ(be->allocation_count(), arena_allocs);
  EXPECT_EQ(arena_allocs, 2u);  // one persistent arena, one step arena
}

// A host backend whose second allocation fails, as a plan too large for the machine would.
class SecondAllocationFails final : public Backend {
 public:
  SecondAllocationFails() : Backend(Device::CPU, 1) {}
  std::string description() const override { return "test"; }
  void copy_from_host(void* d, const void* s, size_t n) override { std::memcpy(d, s, n); }
  void copy_to_host(void* d, const void* s, size_t n) override { std::memcpy(d, s, n); }
  void copy(void* d, const void* s, size_t n) override { std::memcpy(d, s, n); }
  void fill_zero(void* d, size_t n) override { std::memset(d, 0, n); }
  void synchronize() override {}
  void memory_info(size_t* f, size_t* t) const override { *f = *t = 0; }

 protected:
  void* raw_allocate(size_t bytes) override {
    SG_CHECK(++calls_ < 2, "out of test memory allocating ", bytes, " bytes");
    return std::malloc(bytes ? bytes : 1);
  }
  void raw_deallocate(void* p) override { std::free(p); }

 private:
  int calls_ = 0;
};

TEST(Executor, ArenaThatCannotBeAllocatedIsOneClearErrorAndLeaksNothing) {
  Net n;
  build(n);
  SecondAllocationFails be;
  try {
    Executor ex(n.g, be, ExecutorOptions{{}, {}, {n.grads[n.w].dense}});
    FAIL() << "the executor was built without its step arena";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("the planned per-step arena of "), std::string::npos) << what;
    EXPECT_NE(what.find("out of test memory"), std::string::npos) << what;
    EXPECT_NE(what.find("plan --budget SIZE"), std::string::npos) << what;
  }
  EXPECT_EQ(be.bytes_in_use(), 0u);  // the persistent arena was given back
}

TEST(Executor, ForwardOnlyStopsBeforeBackward) {
  Net n;
  build(n);
  auto be = Backend::create("cpu", 1);
  Executor ex(n.g, *be, ExecutorOptions{{}, {}, {n.grads[n.w].dense}});
  float x[4] = {1, 1, 1, 1}, w[4] = {1, 1, 1, 1};
  ex.upload(n.x, x, sizeof x);
  ex.upload(n.w, w, sizeof w);
  g_dot_grad_runs = 0;
  ex.run(1, 0, false, /*forward_only=*/true);
  EXPECT_FLOAT_EQ(ex.read_f32(n.loss)[0], 20.f);
  EXPECT_EQ(g_dot_grad_runs.load(), 0);  // no backward op ran
  ex.run(2, 0, true);
  EXPECT_EQ(g_dot_grad_runs.load(), 2);  // one per use of w in a full step
}

TEST(Executor, ExternalBindingSharesParameters) {
  Net a, b;
  build(a);
  build(b);
  auto be = Backend::create("cpu", 1);
  Executor ea(a.g, *be, ExecutorOptions{{}, {}, {a.grads[a.w].dense}});
  ExecutorOptions ob;
  ob.external["layer/w"] = ea.tensor(a.w);
  Executor eb(b.g, *be, ob);
  EXPECT_EQ(eb.tensor(b.w).data, ea.tensor(a.w).data);
  for (const auto& r : eb.requests()) EXPECT_NE(r.name, "layer/w");
}

TEST(Graph, ErrorsAreClear) {
  Graph g;
  ValueId x = g.input("x", Shape{4});
  ValueId x1 = g.input("x1", Shape{1});
  EXPECT_THROW(g.value(99), Error);
  EXPECT_THROW(g.backward(x), Error);  // not a scalar
  EXPECT_THROW(g.input("bad", Shape{-1}), Error);
  try {
    g.backward(x1);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("does not depend on any parameter"), std::string::npos);
  }
  ValueId w = g.parameter("w", Shape{4});
  ValueId l = g.add1(std::make_shared<DotOp>(), {x, w}, ValueSpec{"l", Shape{1}});
  g.backward(l);
  EXPECT_THROW(g.backward(l), Error);  // only once
}

// Records the GEMM scratch bound to the backend while it runs (copies x to y).
class ScratchProbeOp : public Op {
 public:
  explicit ScratchProbeOp(std::pair<void*, size_t>* seen) : seen_(seen) {}
  std::string type() const override { return "test_scratch_probe"; }
  void run(OpContext& c) const override {
    *seen_ = {c.be.gemm_scratch(), c.be.gemm_scratch_bytes()};
    std::memcpy(c.out(0).f32(), c.in(0).f32(), c.in(0).numel() * sizeof(float));
  }

 private:
  std::pair<void*, size_t>* seen_;
};

TEST(Executor, CpuGemmScratchIsPlannedAndBoundOnlyWhileRunning) {
  // The CPU products' packing scratch is a planned step buffer of cpu_gemm_scratch_bytes(threads)
  // (live over every op), bound to the backend during run() only; an executor that shares it
  // plans none and runs on the same memory.
  auto be = Backend::create("cpu", 2);
  std::pair<void*, size_t> seen{nullptr, 0}, seen_shared{nullptr, 0};
  Graph g;
  ValueId x = g.input("x", Shape{8});
  g.keep(g.add1(std::make_shared<ScratchProbeOp>(&seen), {x}, ValueSpec{"y", Shape{8}}));
  Executor ex(g, *be);
  const size_t want = cpu::cpu_gemm_scratch_bytes(2);
  EXPECT_EQ(gemm_workspace_bytes(Device::CPU, 2), want);
  EXPECT_EQ(gemm_workspace_bytes(Device::CUDA, 2), size_t(32) << 20);
  EXPECT_EQ(want, 2 * size_t(cpu::sgemm_avx512_scratch_floats()) * sizeof(float));
  int found = -1;
  for (size_t i = 0; i < ex.requests().size(); ++i)
    if (ex.requests()[i].name == "gemm workspace") found = static_cast<int>(i);
  ASSERT_GE(found, 0);
  const BufferRequest& r = ex.requests()[found];
  EXPECT_EQ(r.bytes, want);
  EXPECT_EQ(r.category, Category::Workspace);
  EXPECT_EQ(r.arena, Arena::Step);
  EXPECT_EQ(r.first, 0);
  EXPECT_EQ(r.last, 0);
  EXPECT_EQ(be->gemm_scratch(), nullptr);
  ex.run(1, 1, false);
  EXPECT_EQ(seen.second, want);
  EXPECT_NE(seen.first, nullptr);
  EXPECT_EQ(be->gemm_scratch(), nullptr) << "still bound after run()";

  Graph g2;
  ValueId x2 = g2.input("x", Shape{8});
  g2.keep(g2.add1(std::make_shared<ScratchProbeOp>(&seen_shared), {x2}, ValueSpec{"y", Shape{8}}));
  ExecutorOptions shared;
  shared.share_gemm_scratch = &ex;
  Executor ex2(g2, *be, shared);
  for (const BufferRequest& q : ex2.requests()) EXPECT_NE(q.name, "gemm workspace");
  ex2.run(1, 1, false);
  EXPECT_EQ(seen_shared, seen);
  auto other = Backend::create("cpu", 2);
  EXPECT_THROW(Executor(g2, *other, shared), Error);
}

TEST(Executor, CudaProductsRunInThePlannedCublasWorkspace) {
  // On CUDA the executor plans cuBLAS's 32 MiB workspace and binds it (cublasSetWorkspace) while it
  // runs, a product there gives the CPU's numbers, and nothing is left bound after the run. Skipped
  // without a GPU.
  if (!Backend::cuda_available()) GTEST_SKIP() << "no CUDA GPU";
  const int64_t m = 64, k = 96, n = 80;
  std::vector<float> a(m * k), b(k * n);
  for (size_t i = 0; i < a.size(); ++i) a[i] = float(int(i % 13) - 6) * 0.125f;
  for (size_t i = 0; i < b.size(); ++i) b[i] = float(int(i % 7) - 3) * 0.25f;
  std::vector<std::vector<float>> results;
  for (const char* dev : {"cpu", "cuda"}) {
    auto be = Backend::create(dev, 2);
    Graph g;
    ValueId va = g.input("a", Shape{m, k}), vb = g.input("b", Shape{k, n});
    ValueId c = matmul(g, va, vb);
    g.keep(c);
    Executor ex(g, *be);
    size_t planned = 0;
    for (const BufferRequest& r : ex.requests())
      if (r.name == "gemm workspace") planned = r.bytes;
    EXPECT_EQ(planned, gemm_workspace_bytes(be->device(), 2)) << dev;
    ex.upload(va, a.data(), a.size() * sizeof(float));
    ex.upload(vb, b.data(), b.size() * sizeof(float));
    ex.run(1, 1, false);
    results.push_back(ex.read_f32(c));
    EXPECT_EQ(be->gemm_scratch(), nullptr) << dev;
  }
  ASSERT_EQ(results[0].size(), results[1].size());
  for (size_t i = 0; i < results[0].size(); ++i)
    ASSERT_NEAR(results[1][i], results[0][i], 1e-4) << i;
}

TEST(Backend, CpuGemmScratchSlotPerThread) {
  // OpenMP thread t packs into slot t of the bound scratch; no slot (unbound, or too few slots for
  // the thread) gives nullptr, and the kernel then uses its thread's own buffer.
  auto be = Backend::create("cpu", 2);
  EXPECT_EQ(cpu::cpu_gemm_scratch(*be), nullptr);
  const size_t slot = size_t(cpu::sgemm_avx512_scratch_floats()) * sizeof(float);
  std::vector<char> mem(2 * slot);
  be->bind_gemm_scratch(mem.data(), mem.size());
  float* got[2] = {nullptr, nullptr};
#pragma omp parallel num_threads(2)
  got[omp_get_thread_num()] = cpu::cpu_gemm_scratch(*be);
  if (got[1] == nullptr) GTEST_SKIP() << "OpenMP gave one thread";
  EXPECT_EQ(reinterpret_cast<char*>(got[0]), mem.data());
  EXPECT_EQ(reinterpret_cast<char*>(got[1]), mem.data() + slot);
  be->bind_gemm_scratch(mem.data(), slot);  // one slot: thread 1 has none
#pragma omp parallel num_threads(2)
  got[omp_get_thread_num()] = cpu::cpu_gemm_scratch(*be);
  EXPECT_EQ(reinterpret_cast<char*>(got[0]), mem.data());
  EXPECT_EQ(got[1], nullptr);
  be->bind_gemm_scratch(nullptr, 0);
}

TEST(Backend, UnknownDeviceIsAClearError) {
  try {
    Backend::create("tpu");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown device 'tpu'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Backend::create("cuda:x"), Error);
  if (!Backend::cuda_available()) {
    EXPECT_THROW(Backend::create("cuda"), Error);
  }
}

}  // namespace
}  // namespace sg
