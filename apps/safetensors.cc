// safetensors reader/writer with validation and atomic replacement (format in safetensors.h).
#include "apps/safetensors.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "apps/json_text.h"
#include "data/output_file.h"
#include "data/process_alive.h"
#include "engine/check.h"

namespace sg {

size_t st_dtype_size(const std::string& dtype) {
  if (dtype == "F32" || dtype == "I32") return 4;
  if (dtype == "BF16") return 2;
  if (dtype == "I64") return 8;
  if (dtype == "U8") return 1;
  SG_FAIL("unsupported safetensors dtype '", dtype, "'");
}

namespace {

int64_t numel_of(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    SG_CHECK(d >= 0, "negative dimension");
    n *= d;
  }
  return n;
}

template <typename T>
StTensor make(const std::vector<T>& v, std::vector<int64_t> shape, const char* dtype) {
  SG_CHECK(numel_of(shape) == static_cast<int64_t>(v.size()),
           "tensor data does not match its shape");
  StTensor t;
  t.dtype = dtype;
  t.shape = std::move(shape);
  t.bytes.resize(v.size() * sizeof(T));
  if (!v.empty()) std::memcpy(t.bytes.data(), v.data(), t.bytes.size());
  return t;
}

template <typename T>
std::vector<T> take(const StTensor& t, const char* dtype) {
  SG_CHECK(t.dtype == dtype, "tensor has dtype ", t.dtype, ", expected ", dtype);
  std::vector<T> v(t.bytes.size() / sizeof(T));
  if (!v.empty()) std::memcpy(v.data(), t.bytes.data(), t.bytes.size());
  return v;
}

}  // namespace

StTensor st_from_f32(const std::vector<float>& v, std::vector<int64_t> shape) {
  return make(v, shape, "F32");
}
StTensor st_from_i32(const std::vector<int32_t>& v, std::vector<int64_t> shape) {
  return make(v, shape, "I32");
}
StTensor st_from_string(const std::string& s) {
  StTensor t;
  t.dtype = "U8";
  t.shape = {static_cast<int64_t>(s.size())};
  t.bytes.assign(s.begin(), s.end());
  return t;
}
std::vector<float> st_to_f32(const StTensor& t) { return take<float>(t, "F32"); }
std::vector<int32_t> st_to_i32(const StTensor& t) { return take<int32_t>(t, "I32"); }
std::string st_to_string(const StTensor& t) {
  SG_CHECK(t.dtype == "U8", "tensor has dtype ", t.dtype, ", expected U8");
  return std::string(t.bytes.begin(), t.bytes.end());
}

size_t remove_stale_write_temporaries(const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path target = output_final_target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  const std::string prefix = target.filename().string() + ".tmp.";
  size_t freed = 0;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string digits = name.substr(prefix.size());
    if (digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = static_cast<pid_t>(std::stol(digits));
    if (pid == ::getpid() || process_is_running(pid)) continue;
    std::error_code size_ec, rm_ec;
    const uintmax_t bytes = fs::file_size(it->path(), size_ec);
    if (fs::remove(it->path(), rm_ec) && !size_ec) freed += static_cast<size_t>(bytes);
  }
  return freed;
}

void write_safetensors(const std::string& path, const StFile& file) {
  nlohmann::json header = nlohmann::json::object();
  if (!file.metadata.empty()) header["__metadata__"] = file.metadata;
  uint64_t offset = 0;
  for (const auto& [name, t] : file.tensors) {
    SG_CHECK(name != "__metadata__", "cannot write checkpoint ", path, ": reserved tensor name");
    SG_CHECK(static_cast<size_t>(numel_of(t.shape)) * st_dtype_size(t.dtype) == t.nbytes() &&
                 (t.source || t.bytes.size() == t.nbytes()),
             "cannot write checkpoint ", path, ": tensor '", name,
             "' size does not match its shape");
    header[name] = {
        {"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {offset, offset + t.nbytes()}}};
    offset += t.nbytes();
  }
  std::string text = json_text(header);
  while (text.size() % 8) text.push_back(' ');

  // A symlinked checkpoint file is replaced at its target; the link stays a link.
  const std::string target = output_final_target(path);
  std::string tmp = target + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  SG_CHECK(fd >= 0, "cannot write checkpoint ", path, ": ", std::strerror(errno));
  auto write_all = [&](const void* p, size_t n) {
    const char* c = static_cast<const char*>(p);
    while (n) {
      ssize_t w = ::write(fd, c, n);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        int e = errno;
        ::close(fd);
        ::unlink(tmp.c_str());
        SG_FAIL("cannot write checkpoint ", path, ": ", std::strerror(e));
      }
      c += w;
      n -= static_cast<size_t>(w);
    }
  };
  uint64_t n = text.size();
  uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(n >> (8 * i));
  write_all(len, 8);
  write_all(text.data(), text.size());
  std::vector<uint8_t> chunk;
  for (const auto& [name, t] : file.tensors) {
    if (!t.source) {
      if (!t.bytes.empty()) write_all(t.bytes.data(), t.bytes.size());
      continue;
    }
    constexpr size_t kChunk = size_t(16) << 20;
    for (size_t off = 0; off < t.source_bytes; off += kChunk) {
      const size_t n = std::min(kChunk, t.source_bytes - off);
      chunk.resize(n);
      try {
        t.source(off, n, chunk.data());
      } catch (...) {
        ::close(fd);
        ::unlink(tmp.c_str());
        throw;
      }
      write_all(chunk.data(), n);
    }
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    SG_FAIL("cannot write checkpoint ", path, ": ", std::strerror(errno));
  }
  if (std::rename(tmp.c_str(), target.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    SG_FAIL("cannot write checkpoint ", path, ": ", std::strerror(e));
  }
}

StFile read_safetensors(const std::string& path, bool with_data) {
  std::ifstream in(path, std::ios::binary);
  SG_CHECK(in, "cannot read checkpoint ", path, ": ", std::strerror(errno));
  in.seekg(0, std::ios::end);
  const uint64_t size = static_cast<uint64_t>(in.tellg());
  in.seekg(0);
  auto corrupt = [&](const std::string& why) {
    SG_FAIL("checkpoint ", path, " is corrupt: ", why);
  };
  if (size < 8) corrupt("file is only " + std::to_string(size) + " bytes");
  uint8_t len[8];
  in.read(reinterpret_cast<char*>(len), 8);
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<uint64_t>(len[i]) << (8 * i);
  // A safetensors header is a JSON object: its first byte is '{'. Anything else (a text file, a
  // vocabulary, a PyTorch .pt) is not a checkpoint at all, which says more than a bad length.
  char first = 0;
  if (size > 8) in.read(&first, 1);
  if (first != '{')
    SG_FAIL("checkpoint ", path,
            " is not a safetensors file (no JSON header after the 8-byte length; give the "
            "checkpoint.safetensors or best.safetensors that train --checkpoint wrote)");
  if (n == 0) corrupt("header length is 0");
  if (n > size - 8 || n > (1ull << 31))
    corrupt("header length " + std::to_string(n) + " exceeds the file");
  std::string text(n, '\0');
  text[0] = first;
  in.read(text.data() + 1, static_cast<std::streamsize>(n - 1));
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(text);
  } catch (const std::exception&) {
    corrupt("header is not valid JSON");
  }
  if (!header.is_object()) corrupt("header is not a JSON object");
  const uint64_t data_size = size - 8 - n;
  StFile file;
  file.path = path;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it.value().is_object()) corrupt("__metadata__ is not an object");
      for (auto m = it.value().begin(); m != it.value().end(); ++m) {
        if (!m.value().is_string()) corrupt("metadata '" + m.key() + "' is not a string");
        file.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    const auto& e = it.value();
    StTensor t;
    uint64_t b = 0, end = 0;
    try {
      t.dtype = e.at("dtype").get<std::string>();
      t.shape = e.at("shape").get<std::vector<int64_t>>();
      auto off = e.at("data_offsets").get<std::vector<uint64_t>>();
      if (off.size() != 2) corrupt("tensor '" + it.key() + "' has bad data_offsets");
      b = off[0];
      end = off[1];
    } catch (const nlohmann::json::exception&) {
      corrupt("tensor '" + it.key() + "' has a malformed entry");
    }
    size_t esize = 0;
    try {
      esize = st_dtype_size(t.dtype);
    } catch (const Error&) {
      corrupt("tensor '" + it.key() + "' has unsupported dtype " + t.dtype);
    }
    int64_t numel = 1;
    for (int64_t d : t.shape) {
      if (d < 0 || (d > 0 && numel > (int64_t{1} << 40) / d))
        corrupt("tensor '" + it.key() + "' has a bad shape");
      numel *= d;
    }
    if (b > end || end > data_size)
      corrupt("tensor '" + it.key() + "' lies outside the file (truncated?)");
    if (end - b != static_cast<uint64_t>(numel) * esize)
      corrupt("tensor '" + it.key() + "' size mismatch");
    t.file_offset = 8 + n + b;
    t.file_bytes = end - b;
    if (with_data) {
      t.bytes.resize(end - b);
      in.seekg(static_cast<std::streamoff>(t.file_offset));
      in.read(reinterpret_cast<char*>(t.bytes.data()),
              static_cast<std::streamsize>(t.bytes.size()));
      if (!in) corrupt("tensor '" + it.key() + "' could not be read");
    }
    ranges.emplace_back(b, end);
    file.tensors.emplace(it.key(), std::move(t));
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i)
    if (ranges[i].first < ranges[i - 1].second) corrupt("tensor data ranges overlap");
  return file;
}

void st_read_range(const StFile& file, const StTensor& t, uint64_t offset, size_t n, void* dst) {
  SG_CHECK(offset + n <= t.file_bytes, "checkpoint ", file.path, ": read of bytes ", offset, "..",
           offset + n, " beyond a tensor of ", t.file_bytes);
  if (n == 0) return;
  std::FILE* f = std::fopen(file.path.c_str(), "rb");
  SG_CHECK(f, "cannot read checkpoint ", file.path, ": ", std::strerror(errno));
  const bool ok = fseeko(f, static_cast<off_t>(t.file_offset + offset), SEEK_SET) == 0 &&
                  std::fread(dst, 1, n, f) == n;
  const int e = errno;
  std::fclose(f);
  SG_CHECK(ok, "cannot read checkpoint ", file.path, ": ",
           e ? std::strerror(e) : "the file is shorter than its header says");
}

void st_load(const StFile& file, StTensor& t) {
  if (!t.bytes.empty() || t.file_bytes == 0) return;
  t.bytes.resize(t.file_bytes);
  st_read_range(file, t, 0, t.file_bytes, t.bytes.data());
}

}  // namespace sg
