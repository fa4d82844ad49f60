// The packing scratch of the CPU matrix products, planned like every other buffer: each executor
// on a CPU backend requests cpu_gemm_scratch_bytes(threads) in its step arena (alive over the whole
// op sequence; engine/executor.h) and binds it to the backend while it runs. OpenMP thread t of a
// product (or of the fused LSTM recurrence) then packs into slot t:
//   slot t = scratch + t * sgemm_avx512_scratch_floats() floats, t < threads.
// The request is made on every CPU, with or without AVX-512 (OpenBLAS keeps buffers of its own),
// so a plan does not depend on the machine it is made on.
#pragma once
#include <cstddef>

#include "engine/backend.h"

namespace sg::cpu {

// Bytes of scratch for `threads` threads (threads >= 1).
size_t cpu_gemm_scratch_bytes(int threads);

// The calling OpenMP thread's slot of the scratch bound to `be`, or nullptr when none is bound or
// it has no slot for this thread (the kernel then uses a buffer of the thread's own).
float* cpu_gemm_scratch(Backend& be);

}  // namespace sg::cpu
