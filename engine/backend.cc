// Backend factory and the counted allocation path shared by all devices.
#include "engine/backend.h"

#include <omp.h>

#include "engine/cpu/gemm_scratch.h"

namespace sg {

std::unique_ptr<Backend> make_cpu_backend(int threads);
#ifdef SG_WITH_CUDA
std::unique_ptr<Backend> make_cuda_backend(int ordinal, int threads);
bool cuda_device_present();
#endif

void fail_no_cuda_build(const char* kernel) {
  SG_FAIL("kernel ", kernel,
          " needs CUDA, but sketchgrad was built without it (configure with -DSKETCHGRAD_CUDA=ON)");
}

bool Backend::cuda_available() {
#ifdef SG_WITH_CUDA
  return cuda_device_present();
#else
  return false;
#endif
}

int resolved_threads(int threads) { return threads > 0 ? threads : omp_get_num_procs(); }

std::unique_ptr<Backend> Backend::create(const std::string& name, int threads) {
  threads = resolved_threads(threads);
  if (name == "cpu") return make_cpu_backend(threads);
  if (name == "cuda" || name.rfind("cuda:", 0) == 0) {
    int ordinal = 0;
    if (name.size() > 5) {
      try {
        size_t used = 0;
        ordinal = std::stoi(name.substr(5), &used);
        SG_CHECK(used == name.size() - 5 && ordinal >= 0, "bad device '", name, "'");
      } catch (const std::logic_error&) {
        SG_FAIL("bad device '", name, "': expected cpu, cuda or cuda:N");
      }
    }
#ifdef SG_WITH_CUDA
    return make_cuda_backend(ordinal, threads);
#else
    SG_FAIL(
        "device '", name,
        "' requested, but sketchgrad was built without CUDA (configure with -DSKETCHGRAD_CUDA=ON)");
#endif
  }
  SG_FAIL("unknown device '", name, "': expected cpu, cuda or cuda:N");
}

size_t gemm_workspace_bytes(Device device, int threads) {
  return device == Device::CUDA ? size_t(32) << 20 : cpu::cpu_gemm_scratch_bytes(threads);
}

void Backend::set_tf32(bool on) {
  SG_CHECK(!on, "TF32 needs the cuda backend (this is ", description(), ")");
}

void* Backend::allocate(size_t bytes) {
  void* p = raw_allocate(bytes);
  ++allocation_count_;
  bytes_in_use_ += bytes;
  if (bytes_in_use_ > bytes_high_water_) bytes_high_water_ = bytes_in_use_;
  return p;
}

void Backend::deallocate(void* p, size_t bytes) {
  if (!p) return;
  raw_deallocate(p);
  bytes_in_use_ -= bytes;
}

}  // namespace sg
