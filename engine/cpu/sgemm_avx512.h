// Single-precision matrix product with an AVX-512 register-blocked kernel, one thread:
//   C[m, n] = alpha * op(A)[m, k] * op(B)[k, n] + beta * C      (row-major, as cblas_sgemm)
// op(A) is A ([m, k], row stride lda) or A^T (A stored [k, m]); likewise op(B). beta == 0 writes C
// without reading it (NaNs in C are cleared).
//
// Blocking (BLIS-style): k in blocks of kKC, n in blocks of kNC, m in blocks of kMC; op(B)'s block
// is packed into kNR-wide column strips and op(A)'s into kMR-row strips (zero padded), and a
// kMR x kNR register tile of C accumulates over one k block with FMAs. Each element of C is summed
// in the same order for given (m, n, k) whatever called it, so results do not depend on how the
// caller shares work out. The packing scratch (sgemm_avx512_scratch_floats(), 1.29 MB, 64-byte
// aligned) is the caller's: executors plan one per thread (engine/executor.h) and the CPU products
// hand each thread its own (engine/cpu/gemm_scratch.h); a call given none uses a buffer of its
// thread's own, allocated on first use (tests, benchmarks).
//
// Why it exists: OpenBLAS may be pinned to an older core type (OPENBLAS_CORETYPE=Haswell runs its
// AVX2 kernels at half of what an AVX-512 core can do). blas_cpu.cc uses this kernel when the CPU
// has AVX-512F and SG_CPU_GEMM is not "openblas".
#pragma once
#include <cstdint>

namespace sg::cpu {

// True when the CPU (and the OS) support AVX-512F.
bool sgemm_avx512_supported();

// True when the CPU products use this kernel: supported, and SG_CPU_GEMM is not "openblas" (the
// environment is read once per process).
bool sgemm_avx512_selected();

// Floats of the packing scratch one call uses (packed A block, then packed B block).
int64_t sgemm_avx512_scratch_floats();

// The product above; call only when sgemm_avx512_supported(). m, n, k >= 1. scratch: the packing
// buffers (nullptr: this thread's own). Returns false, with C untouched, only when scratch is
// nullptr and this thread's buffers could not be allocated.
bool sgemm_avx512(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                  const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                  int64_t ldc, float* scratch = nullptr);

// Products that reuse one op(B) many times (the LSTM recurrences: the same W_h slice at every
// time step) can pack it once: sgemm_avx512_pack_b writes op(B) [k, n] (B itself, or B^T when
// trans_b; row stride ldb) into `packed`, sgemm_avx512_packed_b_floats(k, n) floats (n rounded up
// to 32, times k) that must be 64-byte aligned; sgemm_avx512_packed_b then computes
//   C[m, n] = alpha * op(A)[m, k] * op(B) + beta * C
// from it. Every element is summed in the same order as sgemm_avx512 sums it, so the two agree
// bitwise. Call only when sgemm_avx512_supported(); scratch and the return value as for
// sgemm_avx512.
int64_t sgemm_avx512_packed_b_floats(int64_t k, int64_t n);
void sgemm_avx512_pack_b(bool trans_b, int64_t k, int64_t n, const float* b, int64_t ldb,
                         float* packed);
bool sgemm_avx512_packed_b(bool trans_a, int64_t m, int64_t n, int64_t k, float alpha,
                           const float* a, int64_t lda, const float* packed_b, float beta, float* c,
                           int64_t ldc, float* scratch = nullptr);

}  // namespace sg::cpu
