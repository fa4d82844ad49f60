// Helpers for kernel tests: device buffers on any backend (allocated through Backend::allocate,
// copied to and from host vectors) and deterministic random host data.
#pragma once
#include <cstdint>
#include <random>
#include <vector>

#include "engine/backend.h"

namespace sg::testing {

template <typename T>
class DeviceBuffer {
 public:
  DeviceBuffer(Backend& be, const std::vector<T>& host) : be_(be), n_(host.size()) {
    p_ = static_cast<T*>(be_.allocate(bytes()));
    if (n_) be_.copy_from_host(p_, host.data(), bytes());
  }
  DeviceBuffer(Backend& be, size_t n) : DeviceBuffer(be, std::vector<T>(n)) {}
  ~DeviceBuffer() { be_.deallocate(p_, bytes()); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  T* get() const { return p_; }
  size_t bytes() const { return n_ * sizeof(T) > 0 ? n_ * sizeof(T) : 1; }
  std::vector<T> host() const {
    std::vector<T> h(n_);
    be_.synchronize();
    if (n_) be_.copy_to_host(h.data(), p_, n_ * sizeof(T));
    return h;
  }

 private:
  Backend& be_;
  size_t n_;
  T* p_ = nullptr;
};

inline std::vector<float> random_floats(size_t n, uint32_t seed, float lo = -1.0f,
                                        float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

inline std::vector<int32_t> random_ids(size_t n, int32_t rows, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> u(0, rows - 1);
  std::vector<int32_t> v(n);
  for (int32_t& x : v) x = u(rng);
  return v;
}

}  // namespace sg::testing
