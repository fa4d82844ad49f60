// Run-time loading of cuBLAS (see cublas_api.h).
#include <dlfcn.h>

#include "engine/check.h"
#include "engine/cuda/cublas_api.h"

#define SG_CUBLAS_STR2(x) #x
#define SG_CUBLAS_STR(x) SG_CUBLAS_STR2(x)  // expands cublas_v2.h's macro first

namespace sg {

namespace {
template <typename Fn>
void resolve(void* lib, const std::string& lib_name, const char* symbol, Fn* out) {
  dlerror();
  void* p = dlsym(lib, symbol);
  SG_CHECK(p != nullptr, "cuBLAS: ", lib_name, " has no symbol ", symbol);
  *out = reinterpret_cast<Fn>(p);
}
}  // namespace

CublasApi CublasApi::load() { return load("libcublas.so." + std::to_string(CUBLAS_VER_MAJOR)); }

CublasApi CublasApi::load(const std::string& library_name) {
  CublasApi api;
  api.library_name = library_name;
  // Never dlclose'd: cuBLAS keeps per-process state that outlives a handle.
  api.library = dlopen(api.library_name.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!api.library) {
    const char* why = dlerror();
    SG_FAIL("cuBLAS: cannot load ", api.library_name, " (", why ? why : "unknown error",
            "); add the CUDA toolkit's lib directory to LD_LIBRARY_PATH");
  }
  resolve(api.library, api.library_name, SG_CUBLAS_STR(cublasCreate), &api.create);
  resolve(api.library, api.library_name, SG_CUBLAS_STR(cublasDestroy), &api.destroy);
  resolve(api.library, api.library_name, SG_CUBLAS_STR(cublasSetStream), &api.set_stream);
  resolve(api.library, api.library_name, SG_CUBLAS_STR(cublasSetMathMode), &api.set_math_mode);
  resolve(api.library, api.library_name, SG_CUBLAS_STR(cublasSetPointerMode),
          &api.set_pointer_mode);
  resolve(api.library, api.library_name, SG_CUBLAS_STR(cublasSgemm), &api.sgemm);
  resolve(api.library, api.library_name, SG_CUBLAS_STR(cublasSgemmStridedBatched),
          &api.sgemm_strided_batched);
  resolve(api.library, api.library_name, SG_CUBLAS_STR(cublasSetWorkspace), &api.set_workspace);
  return api;
}

}  // namespace sg
