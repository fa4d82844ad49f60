// CUDA backend: device selection with clear errors, one stream, cuBLAS handle (strict FP32 math by
// default), uploads through a ring of pinned staging buffers (the host does not wait for them).
#include <cstring>
#include <memory>

#include "engine/cuda/cuda_backend.h"

namespace sg {

bool cuda_device_present() {
  int n = 0;
  return cudaGetDeviceCount(&n) == cudaSuccess && n > 0;
}

CudaBackend::CudaBackend(int ordinal, int threads)
    : Backend(Device::CUDA, threads), ordinal_(ordinal) {
  int n = 0;
  cudaError_t err = cudaGetDeviceCount(&n);
  // The message names the device as the user spelled it ("cuda", "cuda:3").
  const std::string asked = ordinal == 0 ? "cuda" : "cuda:" + std::to_string(ordinal);
  SG_CHECK(err == cudaSuccess && n > 0, "--device ", asked, ": no CUDA GPU is available (",
           err == cudaSuccess ? "no devices" : cudaGetErrorString(err), ")");
  SG_CHECK(ordinal < n, "--device cuda:", ordinal, ": only ", n, " GPU(s) present");
  SG_CUDA(cudaSetDevice(ordinal));
  blas_ = CublasApi::load();  // first: a missing library leaves nothing to release
  SG_CUDA(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  try {  // a throwing constructor runs no destructor: release what exists, then report
    SG_CUBLAS(blas_.create(&cublas_));
    SG_CUBLAS(blas_.set_stream(cublas_, stream_));
    SG_CUBLAS(blas_.set_math_mode(cublas_, CUBLAS_PEDANTIC_MATH));
  } catch (...) {
    if (cublas_) blas_.destroy(cublas_);
    cudaStreamDestroy(stream_);
    throw;
  }
}

void CudaBackend::set_tf32(bool on) {
  SG_CUBLAS(blas_.set_math_mode(cublas_, on ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_PEDANTIC_MATH));
  tf32_ = on;
}

void CudaBackend::bind_gemm_scratch(void* p, size_t bytes) {
  if (p) {
    SG_CUBLAS(blas_.set_workspace(cublas_, p, bytes));  // first: a failure binds nothing
    Backend::bind_gemm_scratch(p, bytes);
  } else {
    Backend::bind_gemm_scratch(nullptr, 0);
    // Called from an executor's run() on the way out, possibly while an exception unwinds: no
    // throw here. A failure leaves the planned workspace bound; it stays valid until the
    // executor's arenas are freed, and the next executor binds its own.
    (void)blas_.set_stream(cublas_, stream_);
  }
}

CudaBackend::~CudaBackend() {
  cudaSetDevice(ordinal_);
  if (stream_) cudaStreamSynchronize(stream_);  // pending uploads read the staging buffers
  for (Staging& s : staging_) {
    if (s.done) cudaEventDestroy(s.done);
    if (s.host) cudaFreeHost(s.host);
  }
  if (cublas_) blas_.destroy(cublas_);
  if (stream_) cudaStreamDestroy(stream_);
}

std::string CudaBackend::description() const {
  cudaDeviceProp prop{};
  const std::string dev = std::string("cuda:") + std::to_string(ordinal_);
  if (cudaGetDeviceProperties(&prop, ordinal_) != cudaSuccess) return dev;
  return dev + " (" + prop.name + ")";
}

void CudaBackend::copy_from_host(void* dst, const void* src, size_t n) {
  SG_CUDA(cudaMemcpyAsync(dst, src, n, cudaMemcpyHostToDevice, stream_));
  SG_CUDA(cudaStreamSynchronize(stream_));
}
void CudaBackend::upload(void* dst, const void* src, size_t n) {
  if (n == 0) return;
  SG_CUDA(cudaSetDevice(ordinal_));  // its staging events belong to this backend's device
  if (n > kMaxStagedBytes) {         // not a batch: no pinned copy of it kept around
    copy_from_host(dst, src, n);
    return;
  }
  Staging& s = staging_[next_staging_];
  next_staging_ = (next_staging_ + 1) % kStagingSlots;
  if (s.done) SG_CUDA(cudaEventSynchronize(s.done));  // its last copy has left the buffer
  if (s.bytes < n) {
    if (s.host) SG_CUDA(cudaFreeHost(s.host));
    s.host = nullptr;
    s.bytes = 0;
    SG_CUDA(cudaHostAlloc(&s.host, n, cudaHostAllocDefault));
    s.bytes = n;
  }
  if (!s.done) SG_CUDA(cudaEventCreateWithFlags(&s.done, cudaEventDisableTiming));
  std::memcpy(s.host, src, n);
  SG_CUDA(cudaMemcpyAsync(dst, s.host, n, cudaMemcpyHostToDevice, stream_));
  SG_CUDA(cudaEventRecord(s.done, stream_));
}
void CudaBackend::copy_to_host(void* dst, const void* src, size_t n) {
  SG_CUDA(cudaMemcpyAsync(dst, src, n, cudaMemcpyDeviceToHost, stream_));
  SG_CUDA(cudaStreamSynchronize(stream_));
}
void CudaBackend::copy(void* dst, const void* src, size_t n) {
  SG_CUDA(cudaMemcpyAsync(dst, src, n, cudaMemcpyDeviceToDevice, stream_));
}
void CudaBackend::fill_zero(void* dst, size_t n) { SG_CUDA(cudaMemsetAsync(dst, 0, n, stream_)); }
void CudaBackend::synchronize() { SG_CUDA(cudaStreamSynchronize(stream_)); }
void CudaBackend::memory_info(size_t* free_bytes, size_t* total_bytes) const {
  SG_CUDA(cudaMemGetInfo(free_bytes, total_bytes));
}
void* CudaBackend::raw_allocate(size_t bytes) {
  SG_CUDA(cudaSetDevice(ordinal_));  // another backend may have made its own device current
  void* p = nullptr;
  cudaError_t err = cudaMalloc(&p, bytes ? bytes : 256);
  SG_CHECK(err == cudaSuccess, "out of GPU memory allocating ", bytes, " bytes (",
           cudaGetErrorString(err), ")");
  return p;
}
void CudaBackend::raw_deallocate(void* p) { cudaFree(p); }

std::unique_ptr<Backend> make_cuda_backend(int ordinal, int threads) {
  return std::make_unique<CudaBackend>(ordinal, threads);
}

}  // namespace sg
