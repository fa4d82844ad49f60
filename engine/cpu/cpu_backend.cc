// The CPU backend: 64-byte aligned host memory, memcpy/memset, OpenMP thread count. Its description
// names OpenBLAS's kernel set (picked at load time from the CPU or OPENBLAS_CORETYPE), which sets
// the GEMM speed: "cpu (2 threads, OpenBLAS Haswell)".
#include <cblas.h>
#include <omp.h>

#include <cstdlib>
#include <cstring>
#include <new>

#include "engine/backend.h"

namespace sg {
namespace {

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(int threads) : Backend(Device::CPU, threads) { omp_set_num_threads(threads); }
  std::string description() const override {
    const char* core = openblas_get_corename();
    return "cpu (" + std::to_string(threads()) + " threads, OpenBLAS " + (core ? core : "?") + ")";
  }
  void copy_from_host(void* dst, const void* src, size_t n) override { std::memcpy(dst, src, n); }
  void copy_to_host(void* dst, const void* src, size_t n) override { std::memcpy(dst, src, n); }
  void copy(void* dst, const void* src, size_t n) override { std::memmove(dst, src, n); }
  void fill_zero(void* dst, size_t n) override { std::memset(dst, 0, n); }
  void synchronize() override {}
  void memory_info(size_t* free_bytes, size_t* total_bytes) const override {
    *free_bytes = *total_bytes = 0;
  }

 protected:
  void* raw_allocate(size_t bytes) override {
    size_t rounded = (bytes + 63) / 64 * 64;
    void* p = std::aligned_alloc(64, rounded ? rounded : 64);
    SG_CHECK(p, "out of host memory allocating ", bytes, " bytes");
    return p;
  }
  void raw_deallocate(void* p) override { std::free(p); }
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend(int threads) {
  return std::make_unique<CpuBackend>(threads);
}

}  // namespace sg
