// safetensors files (the Hugging Face format, readable from Python with
// `safetensors.numpy.load_file`):
//   [u64 little-endian N][N bytes of JSON header, space-padded to a multiple of 8][tensor bytes]
//   header: {"__metadata__": {"key": "string", ...},
//            "<name>": {"dtype": "F32"|"BF16"|"I32"|"I64"|"U8", "shape": [...],
//                       "data_offsets": [begin, end]}, ...}
// Offsets are relative to the start of the tensor bytes; tensors are stored in name order, back to
// back. Writing is atomic: a temporary file in the same folder is fsync'ed and renamed over the
// target, so a crash never leaves a partial checkpoint and never destroys the previous one.
// Large tensors need not be in host memory: a tensor with a `source` is written in 16 MiB chunks
// from it (e.g. straight from device memory), and a file read with with_data = false keeps only
// where each tensor lies, for st_read_range to fetch parts on demand.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace sg {

struct StTensor {
  std::string dtype;  // "F32", "BF16", "I32", "I64" or "U8"
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;  // the data, unless it is streamed (source) or left in the file
  // Writing: when set, source(offset, n, dst) copies data bytes [offset, offset + n) to dst.
  std::function<void(size_t offset, size_t n, void* dst)> source;
  size_t source_bytes = 0;
  // Reading without data: where the tensor's bytes start in the file, and how many there are.
  uint64_t file_offset = 0, file_bytes = 0;
  size_t nbytes() const {
    return source ? source_bytes : (bytes.empty() ? file_bytes : bytes.size());
  }
};

struct StFile {
  std::string path;  // the file it was read from
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
// A write of path goes to "<target>.tmp.<pid>" (target: path after links) and is renamed over the
// target when complete. A process killed mid-write leaves that temporary behind; this removes the
// ones whose process no longer runs (a live writer's is kept) and returns the bytes freed.
size_t remove_stale_write_temporaries(const std::string& path);
// Throws sg::Error ("checkpoint PATH is corrupt: reason" / "cannot read checkpoint PATH: ...") on
// any problem: truncated file, bad header length, invalid JSON, unknown dtype, offsets out of range
// or overlapping, sizes that do not match the shape.
StFile read_safetensors(const std::string& path, bool with_data = true);
// Bytes [offset, offset + n) of a tensor of a file read with with_data = false.
void st_read_range(const StFile& file, const StTensor& t, uint64_t offset, size_t n, void* dst);
// A tensor's whole data in memory (read from the file when it was left there).
void st_load(const StFile& file, StTensor& t);

}  // namespace sg
