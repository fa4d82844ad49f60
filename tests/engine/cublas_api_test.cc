// cuBLAS is loaded on demand (engine/cuda/cublas_api.h): a process that never creates a CUDA
// backend never maps libcublas, and loading resolves every entry point the backend calls. Runs
// without a GPU (it needs only the library); compiled in CUDA builds only.
#include <gtest/gtest.h>

#ifdef SG_WITH_CUDA
#include <dlfcn.h>

#include "engine/backend.h"
#include "engine/cuda/cublas_api.h"

namespace sg {
namespace {

TEST(CublasApi, NotLoadedUntilACudaBackendAsksThenEveryEntryPointResolves) {
  const std::string name = "libcublas.so." + std::to_string(CUBLAS_VER_MAJOR);
  if (!Backend::cuda_available()) {
    // Nothing in this process has created a CUDA backend, so the library must not be mapped.
    EXPECT_EQ(dlopen(name.c_str(), RTLD_NOW | RTLD_NOLOAD), nullptr)
        << name << " is mapped although no CUDA backend exists (is it linked again?)";
  }
  void* probe = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!probe) GTEST_SKIP() << name << " is not installed on this machine";
  dlclose(probe);
  const CublasApi api = CublasApi::load();
  EXPECT_EQ(api.library_name, name);
  EXPECT_NE(api.library, nullptr);
  EXPECT_NE(api.create, nullptr);
  EXPECT_NE(api.destroy, nullptr);
  EXPECT_NE(api.set_stream, nullptr);
  EXPECT_NE(api.set_math_mode, nullptr);
  EXPECT_NE(api.sgemm, nullptr);
  EXPECT_NE(api.sgemm_strided_batched, nullptr);
}

}  // namespace
}  // namespace sg
#endif
