// Layer benchmarks: one training step (forward + backward through sg::Executor) of
//   lstm/<dev>/T,B,I,H,P       one LSTM(P) layer (x requires a gradient, as an embedding output
//   does) sampled_softmax/<dev>/N,D,V,S  sampled softmax loss with row-sparse W/b gradients
//   full_softmax/<dev>/N,D,V   the full softmax for comparison
// at LM1B-like shapes scaled for the CPU (paper: B 1024, H 2048, P 256, E 256, V 793k, S 8192).
// Counter FLOP/s: 3 x forward GEMM FLOPs per step (backward = two products per forward product).
// CUDA cases are registered only when a GPU is present (larger batch); each iteration synchronises.
#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <string>

#include "engine/backend.h"
#include "engine/executor.h"
#include "engine/ops/ops.h"
#include "layers/lstm.h"
#include "layers/lstm_cudnn.h"
#include "layers/sampled_softmax.h"
#include "layers/softmax.h"

namespace {

using namespace sg;

void fill_params(Executor& ex, const Graph& g, float r) {
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-r, r);
  for (ValueId p : g.parameters()) {
    std::vector<float> v(static_cast<size_t>(g.value(p).shape.numel()));
    for (auto& x : v) x = u(rng);
    ex.upload(p, v.data(), v.size() * 4);
  }
}

void bm_lstm(benchmark::State& state, std::string dev, int64_t T, int64_t B, int64_t I, int64_t H,
             int64_t P, std::string impl) {
  Graph g;
  ValueId x = g.parameter("x", {T * B, I});
  LstmLayer l = lstm_layer(g, "lstm0", x, T, B, H, P, impl);
  auto grads = g.backward(mean(g, l.y));
  ExecutorOptions eo;
  eo.grads_to_keep = grad_values(grads);
  auto be = Backend::create(dev, 0);
  Executor ex(g, *be, eo);
  fill_params(ex, g, 0.05f);
  int64_t step = 0;
  for (auto _ : state) {
    ex.run(++step, 1, true);
    be->synchronize();
  }
  const double flops = 3.0 * lstm_forward_flops(T, B, I, H, P);
  state.counters["FLOP/s"] =
      benchmark::Counter(flops * state.iterations(), benchmark::Counter::kIsRate);
  state.counters["tokens/s"] =
      benchmark::Counter(double(T * B) * state.iterations(), benchmark::Counter::kIsRate);
  state.SetLabel(be->description());
}

void bm_softmax(benchmark::State& state, std::string dev, int64_t N, int64_t D, int64_t V,
                int64_t S) {
  Graph g;
  ValueId h = g.parameter("h", {N, D});
  ValueId W = g.parameter("softmax/W", {V, D}), b = g.parameter("softmax/b", {V});
  ValueId t = g.input("targets", {N}, DType::I32);
  ValueId loss =
      S > 0 ? sampled_softmax_loss(g, h, W, b, t, S).loss : full_softmax_loss(g, h, W, b, t).loss;
  auto grads = g.backward(loss);
  ExecutorOptions eo;
  eo.grads_to_keep = grad_values(grads);
  auto be = Backend::create(dev, 0);
  Executor ex(g, *be, eo);
  fill_params(ex, g, 0.05f);
  std::mt19937 rng(2);
  std::vector<int32_t> tv(static_cast<size_t>(N));
  for (auto& x : tv) x = static_cast<int32_t>(rng() % V);
  int64_t step = 0;
  for (auto _ : state) {
    ex.upload(t, tv.data(), tv.size() * 4);
    ex.run(++step, 1, true);
    be->synchronize();
  }
  const double flops =
      3.0 * (S > 0 ? sampled_softmax_forward_flops(N, S, D) : full_softmax_forward_flops(N, V, D));
  state.counters["FLOP/s"] =
      benchmark::Counter(flops * state.iterations(), benchmark::Counter::kIsRate);
  state.counters["rows/s"] =
      benchmark::Counter(double(N) * state.iterations(), benchmark::Counter::kIsRate);
  state.SetLabel(be->description());
}

std::string dims(std::initializer_list<int64_t> d) {
  std::string s;
  for (int64_t x : d) s += (s.empty() ? "" : ",") + std::to_string(x);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  struct LstmShape {
    int64_t T, B, I, H, P;
  };
  struct SmShape {
    int64_t N, D, V, S;
  };
  std::vector<std::pair<std::string, std::vector<LstmShape>>> lstm_cases = {
      {"cpu", {{20, 32, 128, 512, 128}, {20, 32, 256, 2048, 256}, {20, 32, 128, 512, 0}}}};
  std::vector<std::pair<std::string, std::vector<SmShape>>> sm_cases = {
      {"cpu", {{640, 128, 100000, 1024}, {640, 256, 793471, 8192}, {640, 128, 10000, 0}}}};
  if (Backend::cuda_available()) {
    lstm_cases.push_back({"cuda", {{20, 1024, 256, 2048, 256}, {20, 32, 128, 512, 128}}});
    sm_cases.push_back({"cuda", {{20480, 256, 793471, 8192}, {640, 128, 100000, 1024}}});
  }
  for (auto& [dev, shapes] : lstm_cases)
    for (auto s : shapes)
      for (std::string impl : {"native", "cudnn"}) {
        if (impl == "cudnn" && dev != "cuda") continue;
        benchmark::RegisterBenchmark(
            ("lstm_" + impl + "/" + dev + "/T,B,I,H,P=" + dims({s.T, s.B, s.I, s.H, s.P})).c_str(),
            [=](benchmark::State& st) { bm_lstm(st, dev, s.T, s.B, s.I, s.H, s.P, impl); })
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime();
      }
  for (auto& [dev, shapes] : sm_cases)
    for (auto s : shapes)
      benchmark::RegisterBenchmark(
          ((s.S > 0 ? "sampled_softmax/" : "full_softmax/") + dev +
           "/N,D,V,S=" + dims({s.N, s.D, s.V, s.S}))
              .c_str(),
          [=](benchmark::State& st) { bm_softmax(st, dev, s.N, s.D, s.V, s.S); })
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
