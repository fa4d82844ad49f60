// Tensor: a typed, shaped view into memory owned by a planner arena (tensors never own memory).
// Shapes are row-major; the last dimension is contiguous. dtype is fp32 or int32 (ids), or bf16 for
// optimizer moments kept in bf16 stores.
#pragma once
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "engine/check.h"

namespace sg {

enum class DType : uint8_t { F32, I32, BF16 };  // BF16: optimizer moments only (sketch/bf16.h)
enum class Device : uint8_t { CPU, CUDA };

inline size_t dtype_size(DType t) { return t == DType::BF16 ? 2 : 4; }
inline const char* dtype_name(DType t) {
  return t == DType::F32 ? "f32" : (t == DType::I32 ? "i32" : "bf16");
}
inline const char* device_name(Device d) { return d == Device::CPU ? "cpu" : "cuda"; }

struct Shape {
  std::vector<int64_t> dims;
  Shape() = default;
  Shape(std::initializer_list<int64_t> d) : dims(d) {}
  explicit Shape(std::vector<int64_t> d) : dims(std::move(d)) {}
  int rank() const { return static_cast<int>(dims.size()); }
  int64_t operator[](int i) const { return dims[i]; }
  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : dims) n *= d;
    return n;
  }
  // Resolves a possibly negative axis; throws on out-of-range.
  int axis(int a) const {
    int r = rank();
    SG_CHECK(a >= -r && a < r, "axis ", a, " out of range for shape ", str());
    return a < 0 ? a + r : a;
  }
  bool operator==(const Shape& o) const { return dims == o.dims; }
  bool operator!=(const Shape& o) const { return dims != o.dims; }
  std::string str() const {
    std::string s = "[";
    for (size_t i = 0; i < dims.size(); ++i) s += (i ? "," : "") + std::to_string(dims[i]);
    return s + "]";
  }
};

struct Tensor {
  Shape shape;
  DType dtype = DType::F32;
  Device device = Device::CPU;
  void* data = nullptr;

  int64_t numel() const { return shape.numel(); }
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype); }
  float* f32() const {
    SG_CHECK(dtype == DType::F32, "tensor is ", dtype_name(dtype), ", expected f32");
    return static_cast<float*>(data);
  }
  int32_t* i32() const {
    SG_CHECK(dtype == DType::I32, "tensor is ", dtype_name(dtype), ", expected i32");
    return static_cast<int32_t*>(data);
  }
};

}  // namespace sg
