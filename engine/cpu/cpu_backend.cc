// The CPU backend: 64-byte aligned host memory, memcpy/memset, OpenMP thread count. Its description
// names the GEMM kernel: sketchgrad's AVX-512 sgemm where the CPU has it
// (engine/cpu/sgemm_avx512.h), and OpenBLAS's kernel set (picked at load time from the CPU or
// OPENBLAS_CORETYPE), which runs the products otherwise: "cpu (2 threads, sgemm AVX-512, OpenBLAS
// Haswell)". Arenas of 32 MiB and more are 2 MiB aligned and advised to use transparent huge pages
// (fewer page faults when they are zeroed, fewer TLB misses on large embedding and optimizer-state
// tables); large fills are shared by the threads.
#include <cblas.h>
#include <omp.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include "engine/backend.h"
#include "engine/cpu/sgemm_avx512.h"

namespace sg {
namespace {

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(int threads) : Backend(Device::CPU, threads) { omp_set_num_threads(threads); }
  std::string description() const override {
    const char* core = openblas_get_corename();
    const std::string gemm = cpu::sgemm_avx512_selected() ? "sgemm AVX-512, " : "";
    return "cpu (" + std::to_string(threads()) + " threads, " + gemm + "OpenBLAS " +
           (core ? core : "?") + ")";
  }
  void copy_from_host(void* dst, const void* src, size_t n) override { std::memcpy(dst, src, n); }
  void copy_to_host(void* dst, const void* src, size_t n) override { std::memcpy(dst, src, n); }
  void copy(void* dst, const void* src, size_t n) override { std::memmove(dst, src, n); }
  void fill_zero(void* dst, size_t n) override {
    constexpr size_t kPart = size_t(16) << 20;
    const int64_t parts = static_cast<int64_t>((n + kPart - 1) / kPart);
#pragma omp parallel for num_threads(threads()) schedule(static) if (parts > 1)
    for (int64_t k = 0; k < parts; ++k) {
      const size_t off = static_cast<size_t>(k) * kPart;
      std::memset(static_cast<char*>(dst) + off, 0, std::min(kPart, n - off));
    }
  }
  void synchronize() override {}
  void memory_info(size_t* free_bytes, size_t* total_bytes) const override {
    *free_bytes = *total_bytes = 0;
  }

 protected:
  void* raw_allocate(size_t bytes) override {
    constexpr size_t kHuge = size_t(2) << 20;
    const size_t align = bytes >= (size_t(32) << 20) ? kHuge : 64;
    const size_t rounded = bytes ? (bytes + align - 1) / align * align : align;
    void* p = std::aligned_alloc(align, rounded);
    SG_CHECK(p, "out of host memory allocating ", bytes, " bytes");
#ifdef MADV_HUGEPAGE
    if (align == kHuge) madvise(p, rounded, MADV_HUGEPAGE);  // advice only: failure is harmless
#endif
    return p;
  }
  void raw_deallocate(void* p) override { std::free(p); }
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend(int threads) {
  return std::make_unique<CpuBackend>(threads);
}

}  // namespace sg
