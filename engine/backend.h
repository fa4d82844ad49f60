// Backend: the execution context of one device (cpu or cuda). It owns the device handles (CUDA
// stream, cuBLAS handle), the thread count, and the only raw allocation path, which the executor
// uses to allocate each planner arena once. Kernels are free functions with identical signatures in
// sg::cpu (foo_cpu.cc) and sg::cuda (foo_cuda.cu), both taking a Backend& first; SG_DISPATCH
// (engine/dispatch.h) picks one by device.
#pragma once
#include <cstddef>
#include <memory>
#include <string>

#include "engine/tensor.h"

namespace sg {

class Backend {
 public:
  virtual ~Backend() = default;

  // "cpu" or "cuda" (also "cuda:N"). threads <= 0 means all cores (CPU element-wise work, OpenMP).
  // Throws sg::Error with one clear line for an unknown name, a build without CUDA, or no GPU
  // present.
  static std::unique_ptr<Backend> create(const std::string& name, int threads = 0);
  // True when this build has the CUDA backend and a GPU is visible.
  static bool cuda_available();

  Device device() const { return device_; }
  bool is_cuda() const { return device_ == Device::CUDA; }
  int threads() const { return threads_; }
  virtual std::string description() const = 0;

  // Raw device memory. Only the executor (arenas) and tests call these; every call is counted so a
  // test can prove that a training step allocates nothing.
  void* allocate(size_t bytes);
  void deallocate(void* p, size_t bytes);
  size_t allocation_count() const { return allocation_count_; }
  size_t bytes_in_use() const { return bytes_in_use_; }
  size_t bytes_high_water() const { return bytes_high_water_; }

  virtual void copy_from_host(void* dst, const void* src, size_t bytes) = 0;
  // Host to device in stream order without waiting for the device: src may be reused as soon as
  // this returns (CUDA copies it into a pinned staging buffer first), and kernels queued later see
  // the bytes. For per-step inputs, so the host can queue the next step while the device works.
  virtual void upload(void* dst, const void* src, size_t bytes) { copy_from_host(dst, src, bytes); }
  virtual void copy_to_host(void* dst, const void* src, size_t bytes) = 0;
  virtual void copy(void* dst, const void* src, size_t bytes) = 0;  // device to device
  virtual void fill_zero(void* dst, size_t bytes) = 0;
  virtual void synchronize() = 0;
  // TF32 tensor cores for fp32 matrix products (cuBLAS). Off by default: strict FP32, so CPU and
  // CUDA agree. Only the CUDA backend accepts on = true; elsewhere it throws one line.
  virtual void set_tf32(bool on);
  virtual bool tf32() const { return false; }
  // Device memory (free, total) in bytes; on the CPU both are 0.
  virtual void memory_info(size_t* free_bytes, size_t* total_bytes) const = 0;

  // The planned workspace of the matrix products (gemm_workspace_bytes below), bound by an
  // executor for the length of its run; nullptr unbinds. CPU: the sgemm packing scratch
  // (engine/cpu/gemm_scratch.h). CUDA: cuBLAS's workspace (cublasSetWorkspace; unbinding returns
  // cuBLAS to its own default pool, which only products outside an executor run use).
  virtual void bind_gemm_scratch(void* p, size_t bytes) {
    gemm_scratch_ = p;
    gemm_scratch_bytes_ = p ? bytes : 0;
  }
  void* gemm_scratch() const { return gemm_scratch_; }
  size_t gemm_scratch_bytes() const { return gemm_scratch_bytes_; }

 protected:
  Backend(Device d, int threads) : device_(d), threads_(threads) {}
  virtual void* raw_allocate(size_t bytes) = 0;
  virtual void raw_deallocate(void* p) = 0;

 private:
  Device device_;
  int threads_;
  size_t allocation_count_ = 0;
  size_t bytes_in_use_ = 0;
  size_t bytes_high_water_ = 0;
  void* gemm_scratch_ = nullptr;
  size_t gemm_scratch_bytes_ = 0;
};

// Bytes of the matrix products' workspace an executor plans on `device` (threads: CPU threads, >=
// 1): CPU, one sgemm packing slot per thread (engine/cpu/gemm_scratch.h); CUDA, cuBLAS's workspace,
// 32 MiB (NVIDIA's recommendation for Hopper; 4 MiB suffices on older GPUs).
size_t gemm_workspace_bytes(Device device, int threads);

// The CPU thread count a backend created with `threads` uses: threads, or all cores when <= 0.
int resolved_threads(int threads);

// Thrown by SG_DISPATCH when a CUDA kernel is requested from a build without CUDA.
[[noreturn]] void fail_no_cuda_build(const char* kernel);

}  // namespace sg
