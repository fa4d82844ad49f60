// safetensors files (the Hugging Face format, readable from Python with
// `safetensors.numpy.load_file`):
//   [u64 little-endian N][N bytes of JSON header, space-padded to a multiple of 8][tensor bytes]
//   header: {"__metadata__": {"key": "string", ...},
//            "<name>": {"dtype": "F32"|"I32"|"I64"|"U8", "shape": [...], "data_offsets": [begin,
//            end]}, ...}
// Offsets are relative to the start of the tensor bytes; tensors are stored in name order, back to
// back. Writing is atomic: a temporary file in the same folder is fsync'ed and renamed over the
// target, so a crash never leaves a partial checkpoint and never destroys the previous one.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace sg {

struct StTensor {
  std::string dtype;  // "F32", "I32", "I64" or "U8"
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
};

struct StFile {
  std::map<std::string, std::string> metadata;
  std::map<std::string, StTensor> tensors;
};

size_t st_dtype_size(const std::string& dtype);  // throws sg::Error for an unknown dtype

// Helpers to build/read tensors from typed host vectors.
StTensor st_from_f32(const std::vector<float>& v, std::vector<int64_t> shape);
StTensor st_from_i32(const std::vector<int32_t>& v, std::vector<int64_t> shape);
StTensor st_from_string(const std::string& s);  // U8 tensor of the string's bytes
std::vector<float> st_to_f32(const StTensor& t);
std::vector<int32_t> st_to_i32(const StTensor& t);
std::string st_to_string(const StTensor& t);

// Throws sg::Error ("cannot write checkpoint PATH: reason") on failure; the target is then
// untouched.
void write_safetensors(const std::string& path, const StFile& file);
// Throws sg::Error ("checkpoint PATH is corrupt: reason" / "cannot read checkpoint PATH: ...") on
// any problem: truncated file, bad header length, invalid JSON, unknown dtype, offsets out of range
// or overlapping, sizes that do not match the shape.
StFile read_safetensors(const std::string& path);

}  // namespace sg
