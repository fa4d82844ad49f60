// Planner benchmark: plan_memory on synthetic graphs of N step buffers (lifetimes of 1..~20 ops
// over N / 4 ops, sizes 256 B .. 4 MiB) plus N / 8 persistent buffers. Counter: buffers planned per
// second.
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "engine/planner.h"

namespace {

std::vector<sg::BufferRequest> synthetic(int n) {
  std::mt19937 rng(42);
  std::vector<sg::BufferRequest> reqs;
  const int ops = std::max(1, n / 4);
  for (int i = 0; i < n; ++i) {
    sg::BufferRequest r;
    r.name = "b" + std::to_string(i);
    r.layer = "layer" + std::to_string(i % 8);
    r.bytes = 256 + rng() % (4u << 20);
    r.category = sg::Category::Activation;
    r.arena = sg::Arena::Step;
    r.first = static_cast<int>(rng() % ops);
    r.last = r.first + static_cast<int>(rng() % 20);
    reqs.push_back(r);
  }
  for (int i = 0; i < n / 8; ++i) {
    sg::BufferRequest r;
    r.name = "p" + std::to_string(i);
    r.bytes = 1 + rng() % (16u << 20);
    r.category = sg::Category::Parameter;
    r.arena = sg::Arena::Persistent;
    reqs.push_back(r);
  }
  return reqs;
}

void BM_PlanMemory(benchmark::State& state) {
  const auto reqs = synthetic(static_cast<int>(state.range(0)));
  size_t bytes = 0;
  for (auto _ : state) {
    sg::Plan plan = sg::plan_memory(reqs);
    bytes = plan.step_bytes;
    benchmark::DoNotOptimize(plan.offsets.data());
  }
  state.counters["buffers/s"] = benchmark::Counter(
      static_cast<double>(reqs.size()) * state.iterations(), benchmark::Counter::kIsRate);
  state.counters["step_MiB"] = static_cast<double>(bytes) / (1 << 20);
}
BENCHMARK(BM_PlanMemory)->RangeMultiplier(4)->Range(256, 16384)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
