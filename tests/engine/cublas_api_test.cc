// cuBLAS is loaded on demand (engine/cuda/cublas_api.h): a process that never creates a CUDA
// backend never maps libcublas, loading resolves every entry point the backend calls, and a
// missing library or symbol is one clear line. Runs without a GPU (it needs only the library);
// compiled in CUDA builds only.
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
  EXPECT_NE(api.set_workspace, nullptr);
}

// The two ways loading can fail, each one line naming what is missing: no such library, and a
// library without the cuBLAS entry points (libm stands in for a wrong or broken libcublas).
TEST(CublasApi, MissingLibraryOrSymbolIsOneClearLine) {
  try {
    CublasApi::load("libsketchgrad-no-such-cublas.so.0");
    ADD_FAILURE() << "loading a missing library did not throw";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("cannot load libsketchgrad-no-such-cublas.so.0"), std::string::npos)
        << what;
    EXPECT_NE(what.find("LD_LIBRARY_PATH"), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
  try {
    CublasApi::load("libm.so.6");
    ADD_FAILURE() << "a library without cuBLAS symbols did not throw";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("cublasCreate"), std::string::npos) << what;
    EXPECT_NE(what.find("libm.so.6"), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace sg
#endif
