// Slots of the CPU products' planned packing scratch (see gemm_scratch.h).
#include "engine/cpu/gemm_scratch.h"

#include <omp.h>

#include <algorithm>

#include "engine/cpu/sgemm_avx512.h"

namespace sg::cpu {

namespace {
size_t slot_bytes() { return static_cast<size_t>(sgemm_avx512_scratch_floats()) * sizeof(float); }
}  // namespace

size_t cpu_gemm_scratch_bytes(int threads) {
  return static_cast<size_t>(std::max(threads, 1)) * slot_bytes();
}

float* cpu_gemm_scratch(Backend& be) {
  if (!be.gemm_scratch()) return nullptr;
  const size_t t = static_cast<size_t>(omp_get_thread_num());
  if ((t + 1) * slot_bytes() > be.gemm_scratch_bytes()) return nullptr;
  return reinterpret_cast<float*>(static_cast<char*>(be.gemm_scratch()) + t * slot_bytes());
}

}  // namespace sg::cpu
