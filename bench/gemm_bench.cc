// GEMM throughput through each backend at LSTM-language-model shapes (row-major C[M,N] = A[M,K]
// B[K,N]):
//   gates, input part:  [B*T = 640, 128] x [128, 2048]   (embedding 128 -> 4 * 512 gates)
//   gates, recurrent:   [32, 512] x [512, 2048]           (one time step, batch 32, hidden 512)
//   softmax logits:     [640, 128] x [128, 10000]         (projection 128 -> vocabulary ~10k)
//   plus the backward products of the first shape (A^T dC and dC B^T), and the three products of
//   the fused full softmax at V = 8,453.
// Counter: FLOP/s (2 M N K per product; shown as G/s). CUDA benchmarks are registered only when a
// GPU is present; every iteration synchronises the device so the time covers the kernel.
// gemm/cpu/... is the backend's product (all threads; sketchgrad's AVX-512 sgemm where the CPU has
// it, else OpenBLAS: the label says which). sgemm_1thread/{openblas,avx512}/... call the two
// kernels directly on one thread, side by side in one run (OpenBLAS as OPENBLAS_CORETYPE picks it).
// lstm_block_1thread/{in_place,prepacked}/... time one LSTM recurrence block product both ways.
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "engine/backend.h"
#include "engine/cpu/sgemm_avx512.h"
#include "engine/dispatch.h"
#include "engine/kernels/blas_kernels.h"

namespace {

struct Shape3 {
  const char* name;
  int64_t m, n, k;
  bool ta, tb;
};

void run_gemm(benchmark::State& state, const std::string& device, Shape3 s) {
  auto be = sg::Backend::create(device, 0);
  const size_t asz = s.m * s.k * 4, bsz = s.k * s.n * 4, csz = s.m * s.n * 4;
  void* a = be->allocate(asz);
  void* b = be->allocate(bsz);
  void* c = be->allocate(csz);
  be->fill_zero(a, asz);
  be->fill_zero(b, bsz);
  be->fill_zero(c, csz);
  const int64_t lda = s.ta ? s.m : s.k, ldb = s.tb ? s.k : s.n;
  for (auto _ : state) {
    SG_DISPATCH(*be, gemm, s.ta, s.tb, s.m, s.n, s.k, 1.0f, static_cast<float*>(a), lda,
                static_cast<float*>(b), ldb, 0.0f, static_cast<float*>(c), s.n);
    be->synchronize();
  }
  state.counters["FLOP/s"] =
      benchmark::Counter(2.0 * s.m * s.n * s.k * state.iterations(), benchmark::Counter::kIsRate);
  state.SetLabel(be->description());
  be->deallocate(c, csz);
  be->deallocate(b, bsz);
  be->deallocate(a, asz);
}

void run_one_thread(benchmark::State& state, bool own, Shape3 s) {
  std::vector<float> a(s.m * s.k, 0.5f), b(s.k * s.n, 0.25f), c(s.m * s.n);
  const int64_t lda = s.ta ? s.m : s.k, ldb = s.tb ? s.k : s.n;
  openblas_set_num_threads(1);
  for (auto _ : state) {
    if (own) {
      sg::cpu::sgemm_avx512(s.ta, s.tb, s.m, s.n, s.k, 1.0f, a.data(), lda, b.data(), ldb, 0.0f,
                            c.data(), s.n);
    } else {
      cblas_sgemm(CblasRowMajor, s.ta ? CblasTrans : CblasNoTrans, s.tb ? CblasTrans : CblasNoTrans,
                  int(s.m), int(s.n), int(s.k), 1.0f, a.data(), int(lda), b.data(), int(ldb), 0.0f,
                  c.data(), int(s.n));
    }
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["FLOP/s"] =
      benchmark::Counter(2.0 * s.m * s.n * s.k * state.iterations(), benchmark::Counter::kIsRate);
  const char* core = openblas_get_corename();
  state.SetLabel(own ? "sketchgrad AVX-512" : std::string("OpenBLAS ") + (core ? core : "?"));
}

// One block product of the CPU LSTM recurrences (layers/lstm_cpu.cc), one thread, as it runs at
// every time step: op(B) is a block of a larger weight matrix (row stride ldb), read in place (and
// packed per call when transposed) or packed once ahead (sgemm_avx512_packed_b), which is what the
// recurrences do now.
struct RecurrentBlock {
  const char* name;
  int64_t m, n, k, ldb;
  bool tb;
};

void run_recurrent_block(benchmark::State& state, bool prepacked, RecurrentBlock s) {
  std::vector<float> a(s.m * s.k, 0.5f), b((s.tb ? s.n : s.k) * s.ldb, 0.25f), c(s.m * s.n);
  float* packed = static_cast<float*>(
      std::aligned_alloc(64, sg::cpu::sgemm_avx512_packed_b_floats(s.k, s.n) * sizeof(float)));
  sg::cpu::sgemm_avx512_pack_b(s.tb, s.k, s.n, b.data(), s.ldb, packed);
  for (auto _ : state) {
    if (prepacked)
      sg::cpu::sgemm_avx512_packed_b(false, s.m, s.n, s.k, 1.0f, a.data(), s.k, packed, 1.0f,
                                     c.data(), s.n);
    else
      sg::cpu::sgemm_avx512(false, s.tb, s.m, s.n, s.k, 1.0f, a.data(), s.k, b.data(), s.ldb, 1.0f,
                            c.data(), s.n);
    benchmark::DoNotOptimize(c.data());
  }
  std::free(packed);
  state.counters["FLOP/s"] =
      benchmark::Counter(2.0 * s.m * s.n * s.k * state.iterations(), benchmark::Counter::kIsRate);
}

}  // namespace

int main(int argc, char** argv) {
  const Shape3 shapes[] = {
      {"gates_x_640x2048x128", 640, 2048, 128, false, false},
      {"gates_h_32x2048x512", 32, 2048, 512, false, false},
      {"logits_640x10000x128", 640, 10000, 128, false, false},
      {"dW_AtdC_128x2048x640", 128, 2048, 640, true, false},
      {"dX_dCBt_640x128x2048", 640, 128, 2048, false, true},
      // The fused full softmax of the issue-7 model (N 640 rows, P 128, V 8,453 words): logits
      // h W^T, then dh = delta W and dW = delta^T h (layers/softmax.cc).
      {"full_logits_hWt_640x8453x128", 640, 8453, 128, false, true},
      {"full_dh_deltaW_640x128x8453", 640, 128, 8453, false, false},
      {"full_dW_deltatH_8453x128x640", 8453, 128, 640, true, false},
  };
  std::vector<std::string> devices = {"cpu"};
  if (sg::Backend::cuda_available()) devices.push_back("cuda");
  for (const auto& dev : devices)
    for (const Shape3& s : shapes)
      benchmark::RegisterBenchmark(("gemm/" + dev + "/" + s.name).c_str(), run_gemm, dev, s)
          ->Unit(benchmark::kMicrosecond)
          ->UseRealTime();
  for (const Shape3& s : shapes) {
    benchmark::RegisterBenchmark((std::string("sgemm_1thread/openblas/") + s.name).c_str(),
                                 run_one_thread, false, s)
        ->Unit(benchmark::kMicrosecond)
        ->UseRealTime();
    if (sg::cpu::sgemm_avx512_supported())
      benchmark::RegisterBenchmark((std::string("sgemm_1thread/avx512/") + s.name).c_str(),
                                   run_one_thread, true, s)
          ->Unit(benchmark::kMicrosecond)
          ->UseRealTime();
  }
  // The issue-7 model (batch 32, H 512, P 128): forward W_h block (one gate, 128 cells), backward
  // W_h^T block (64 outputs) and P^T block (128 cells).
  const RecurrentBlock blocks[] = {{"fwd_Wh_32x128x128", 32, 128, 128, 2048, false},
                                   {"bwd_WhT_32x64x2048", 32, 64, 2048, 2048, true},
                                   {"bwd_PT_32x128x128", 32, 128, 128, 128, true}};
  if (sg::cpu::sgemm_avx512_supported())
    for (const RecurrentBlock& s : blocks)
      for (bool prepacked : {false, true})
        benchmark::RegisterBenchmark(
            (std::string("lstm_block_1thread/") + (prepacked ? "prepacked/" : "in_place/") + s.name)
                .c_str(),
            run_recurrent_block, prepacked, s)
            ->Unit(benchmark::kMicrosecond)
            ->UseRealTime();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
