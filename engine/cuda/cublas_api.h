// cuBLAS loaded at run time (dlopen) by the CUDA backend that needs it, not at program start.
//
// Linking libcublas makes every process, CPU runs included, pay ~210 MB of resident memory for the
// static initialisers of libcublasLt. A CUDA build therefore resolves the few cuBLAS entry points
// it uses from libcublas.so.<CUBLAS_VER_MAJOR> when a CudaBackend is created; a CPU run never loads
// it. Names are taken after cublas_v2.h's macros (cublasSgemm -> cublasSgemm_v2), so the
// signatures are the header's own. A missing library or symbol is one sg::Error line.
#pragma once
#include <cublas_v2.h>

#include <string>

namespace sg {

struct CublasApi {
  decltype(&cublasCreate) create = nullptr;
  decltype(&cublasDestroy) destroy = nullptr;
  decltype(&cublasSetStream) set_stream = nullptr;
  decltype(&cublasSetMathMode) set_math_mode = nullptr;
  decltype(&cublasSetPointerMode) set_pointer_mode = nullptr;
  decltype(&cublasSgemm) sgemm = nullptr;
  decltype(&cublasSgemmStridedBatched) sgemm_strided_batched = nullptr;
  decltype(&cublasSetWorkspace) set_workspace = nullptr;
  void* library = nullptr;  // dlopen handle, kept open for the life of the process
  std::string library_name;

  // Loads the library and every entry point above; throws sg::Error naming what is missing.
  static CublasApi load();  // libcublas.so.<CUBLAS_VER_MAJOR>
  static CublasApi load(const std::string& library_name);
};

}  // namespace sg
