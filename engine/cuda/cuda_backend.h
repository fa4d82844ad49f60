// The CUDA backend's concrete type, visible to .cu kernel files: a device ordinal, one stream, one
// cuBLAS handle (cuBLAS itself is loaded when the backend is created, see cublas_api.h). Errors
// from the CUDA runtime and cuBLAS are turned into sg::Error with file:line by SG_CUDA / SG_CUBLAS.
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "engine/backend.h"
#include "engine/cuda/cublas_api.h"

#define SG_CUDA(expr)                                                                             \
  do {                                                                                            \
    cudaError_t sg_err_ = (expr);                                                                 \
    SG_CHECK(sg_err_ == cudaSuccess, "CUDA error: ", cudaGetErrorString(sg_err_), " in ", #expr); \
  } while (0)
#define SG_CUBLAS(expr)                                                                          \
  do {                                                                                           \
    cublasStatus_t sg_st_ = (expr);                                                              \
    SG_CHECK(sg_st_ == CUBLAS_STATUS_SUCCESS, "cuBLAS error ", static_cast<int>(sg_st_), " in ", \
             #expr);                                                                             \
  } while (0)

namespace sg {

class CudaBackend final : public Backend {
 public:
  CudaBackend(int ordinal, int threads);
  ~CudaBackend() override;
  CudaBackend(const CudaBackend&) = delete;  // owns a stream, cuBLAS, pinned buffers and events
  CudaBackend& operator=(const CudaBackend&) = delete;
  std::string description() const override;
  void copy_from_host(void* dst, const void* src, size_t n) override;
  void upload(void* dst, const void* src, size_t n) override;
  void copy_to_host(void* dst, const void* src, size_t n) override;
  void copy(void* dst, const void* src, size_t n) override;
  void fill_zero(void* dst, size_t n) override;
  void synchronize() override;
  void memory_info(size_t* free_bytes, size_t* total_bytes) const override;
  void set_tf32(bool on) override;
  // cuBLAS works in the executor's planned workspace while it is bound (cublasSetWorkspace);
  // unbinding resets cuBLAS to its default pool (cublasSetStream does that).
  void bind_gemm_scratch(void* p, size_t bytes) override;
  bool tf32() const override { return tf32_; }

  cudaStream_t stream() const { return stream_; }
  cublasHandle_t cublas() const { return cublas_; }
  const CublasApi& blas() const { return blas_; }
  int ordinal() const { return ordinal_; }

 protected:
  void* raw_allocate(size_t bytes) override;
  void raw_deallocate(void* p) override;

 private:
  int ordinal_;
  cudaStream_t stream_ = nullptr;
  CublasApi blas_;
  cublasHandle_t cublas_ = nullptr;
  bool tf32_ = false;
  // upload()'s pinned host buffers, used in turn; a slot is refilled only after the copy recorded
  // by its event is done, so the host runs at most kStagingSlots uploads ahead of the device.
  // Host memory (the batch of a step, e.g. 2 x 80 KiB for the paper model), outside the plan.
  struct Staging {
    void* host = nullptr;
    size_t bytes = 0;
    cudaEvent_t done = nullptr;
  };
  static constexpr int kStagingSlots = 8;
  static constexpr size_t kMaxStagedBytes = size_t(64) << 20;  // larger uploads: copy_from_host
  Staging staging_[kStagingSlots];
  int next_staging_ = 0;
};

inline CudaBackend& as_cuda(Backend& be) { return static_cast<CudaBackend&>(be); }

// Launch geometry for a 1-D grid over n items.
inline int grid_for(long long n, int block = 256) {
  long long g = (n + block - 1) / block;
  return static_cast<int>(g < 65535 * 16 ? (g > 0 ? g : 1) : 65535 * 16);
}

}  // namespace sg
