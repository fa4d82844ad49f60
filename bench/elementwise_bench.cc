// Memory bandwidth of element-wise kernels through each backend: sigmoid (read 4 B + write 4 B per
// element) and add (read 8 B + write 4 B per element), over 2^16 .. 2^24 floats. Counter:
// bytes_per_second. CUDA benchmarks are registered only when a GPU is present; every iteration
// synchronises the device.
#include <benchmark/benchmark.h>

#include <string>

#include "engine/backend.h"
#include "engine/dispatch.h"
#include "engine/kernels/elementwise_kernels.h"

namespace {

void run_map(benchmark::State& state, const std::string& device, bool is_add) {
  auto be = sg::Backend::create(device, 0);
  const int64_t n = state.range(0);
  const size_t bytes = n * 4;
  float* a = static_cast<float*>(be->allocate(bytes));
  float* b = static_cast<float*>(be->allocate(bytes));
  float* y = static_cast<float*>(be->allocate(bytes));
  be->fill_zero(a, bytes);
  be->fill_zero(b, bytes);
  for (auto _ : state) {
    if (is_add)
      SG_DISPATCH(*be, add, a, b, y, n);
    else
      SG_DISPATCH(*be, sigmoid_forward, a, y, n);
    be->synchronize();
  }
  state.SetBytesProcessed(state.iterations() * n * 4 * (is_add ? 3 : 2));
  state.SetLabel(be->description());
  be->deallocate(y, bytes);
  be->deallocate(b, bytes);
  be->deallocate(a, bytes);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> devices = {"cpu"};
  if (sg::Backend::cuda_available()) devices.push_back("cuda");
  for (const auto& dev : devices)
    for (bool is_add : {false, true})
      benchmark::RegisterBenchmark(((is_add ? "add/" : "sigmoid/") + dev).c_str(), run_map, dev,
                                   is_add)
          ->RangeMultiplier(16)
          ->Range(1 << 16, 1 << 24)
          ->Unit(benchmark::kMicrosecond)
          ->UseRealTime();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
