// safetensors round trip, atomic replacement (a symlinked file replaced at its target), and every
// corruption the reader must reject with a clear line.
#include "apps/safetensors.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "engine/check.h"

namespace sg {
namespace {

namespace fs = std::filesystem;

std::string temp_dir() {
  auto d = fs::temp_directory_path() / ("sg_st_" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d.string();
}

StFile sample() {
  StFile f;
  f.metadata["config"] = R"({"hidden": 8})";
  f.tensors["a"] = st_from_f32({1.5f, -2.f, 3.f, 4.f, 5.f, 6.f}, {2, 3});
  f.tensors["b"] = st_from_i32({7, 8, 9}, {3});
  f.tensors["vocab"] = st_from_string("<S>\n</S>\nthe\n");
  f.tensors["empty"] = st_from_f32({}, {0, 4});
  return f;
}

std::string expect_error(const std::string& path) {
  try {
    read_safetensors(path);
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an error reading " << path;
  return "";
}

// A streamed tensor larger than the writer's 16 MiB chunk is written chunk by chunk from its
// source, and read back whole, in ranges, or lazily; a failing source leaves nothing behind.
TEST(Safetensors, StreamedWriteAndLazyRead) {
  const std::string dir = temp_dir();
  const std::string p = dir + "/streamed.safetensors";
  const int64_t n = (int64_t(17) << 20) / 4 + 3;  // 17 MiB and 12 bytes of f32
  std::vector<float> data(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) data[i] = static_cast<float>(i % 100003) * 0.5f;
  StFile f = sample();
  StTensor big;
  big.dtype = "F32";
  big.shape = {n};
  big.source_bytes = data.size() * sizeof(float);
  int calls = 0;
  big.source = [&](size_t off, size_t len, void* dst) {
    ++calls;
    std::memcpy(dst, reinterpret_cast<const char*>(data.data()) + off, len);
  };
  f.tensors["big"] = big;
  write_safetensors(p, f);
  EXPECT_EQ(calls, 2);
  StFile whole = read_safetensors(p);
  EXPECT_EQ(st_to_f32(whole.tensors.at("big")), data);
  EXPECT_EQ(st_to_i32(whole.tensors.at("b")), (std::vector<int32_t>{7, 8, 9}));
  StFile lazy = read_safetensors(p, /*with_data=*/false);
  StTensor& t = lazy.tensors.at("big");
  EXPECT_TRUE(t.bytes.empty());
  EXPECT_EQ(t.nbytes(), data.size() * sizeof(float));
  float part[4];
  st_read_range(lazy, t, 4 * 1000000, sizeof part, part);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(part[i], data[1000000 + i]);
  EXPECT_THROW(st_read_range(lazy, t, t.nbytes() - 4, 8, part), Error);
  st_load(lazy, lazy.tensors.at("vocab"));
  EXPECT_EQ(st_to_string(lazy.tensors.at("vocab")), "<S>\n</S>\nthe\n");
  // A source that fails: the error propagates, the previous file is intact, no temporary is left.
  const auto before = fs::file_size(p);
  f.tensors["big"].source = [](size_t, size_t, void*) { throw Error("device read failed"); };
  EXPECT_THROW(write_safetensors(p, f), Error);
  EXPECT_EQ(fs::file_size(p), before);
  for (const auto& e : fs::directory_iterator(dir))
    EXPECT_EQ(e.path().string().find(".tmp."), std::string::npos) << e.path();
}

TEST(Safetensors, RoundTrip) {
  std::string p = temp_dir() + "/rt.safetensors";
  write_safetensors(p, sample());
  StFile r = read_safetensors(p);
  EXPECT_EQ(r.metadata.at("config"), R"({"hidden": 8})");
  EXPECT_EQ(st_to_f32(r.tensors.at("a")), (std::vector<float>{1.5f, -2.f, 3.f, 4.f, 5.f, 6.f}));
  EXPECT_EQ(r.tensors.at("a").shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(st_to_i32(r.tensors.at("b")), (std::vector<int32_t>{7, 8, 9}));
  EXPECT_EQ(st_to_string(r.tensors.at("vocab")), "<S>\n</S>\nthe\n");
  EXPECT_EQ(r.tensors.at("empty").bytes.size(), 0u);
  // Header length is a multiple of 8 (alignment of the data that follows).
  std::ifstream in(p, std::ios::binary);
  uint64_t n = 0;
  in.read(reinterpret_cast<char*>(&n), 8);
  EXPECT_EQ(n % 8, 0u);
  EXPECT_THROW(st_to_i32(r.tensors.at("a")), Error);
}

TEST(Safetensors, SymlinkedFileIsReplacedAtItsTarget) {
  // A checkpoint file that is a symlink (e.g. into a bigger disk) stays a link: the new file
  // replaces the link's target, atomically, and no temporary is left beside either.
  const std::string d = temp_dir() + "/link";
  fs::create_directories(d + "/store");
  const std::string target = d + "/store/ck.safetensors", link = d + "/ck.safetensors";
  write_safetensors(target, sample());
  fs::remove(link);
  fs::create_symlink("store/ck.safetensors", link);
  StFile changed = sample();
  changed.metadata["config"] = R"({"hidden": 9})";
  write_safetensors(link, changed);
  EXPECT_TRUE(fs::is_symlink(fs::symlink_status(link)));
  EXPECT_EQ(read_safetensors(target).metadata.at("config"), R"({"hidden": 9})");
  EXPECT_EQ(read_safetensors(link).metadata.at("config"), R"({"hidden": 9})");
  for (const std::string dir : {d, d + "/store"})
    for (const auto& e : fs::directory_iterator(dir))
      EXPECT_EQ(e.path().filename().string().find(".tmp."), std::string::npos) << e.path();
}

// A run killed mid-write leaves "<file>.tmp.<pid>"; the next run removes those of processes that
// are gone and keeps a live writer's (its own, or another running process's) and other files.
TEST(Safetensors, StaleWriteTemporariesOfDeadProcessesAreRemoved) {
  const std::string d = temp_dir() + "/stale";
  fs::create_directories(d + "/store");
  const std::string file = d + "/ck.safetensors";
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_GT(child, 0);
  ASSERT_EQ(::waitpid(child, nullptr, 0), child);  // gone: its pid names no process now
  const std::string dead = file + ".tmp." + std::to_string(child);
  const std::string mine = file + ".tmp." + std::to_string(::getpid());
  const std::string live = file + ".tmp.1";  // init, always running
  const std::string other = d + "/other.safetensors.tmp." + std::to_string(child);
  for (const std::string& f : {dead, mine, live, other}) std::ofstream(f) << "12345";
  EXPECT_EQ(remove_stale_write_temporaries(file), 5u);
  EXPECT_FALSE(fs::exists(dead));
  for (const std::string& f : {mine, live, other}) EXPECT_TRUE(fs::exists(f)) << f;
  EXPECT_EQ(remove_stale_write_temporaries(file), 0u);
  // A symlinked file's temporaries live beside its target.
  const std::string in_store = d + "/store/ck2.safetensors.tmp." + std::to_string(child);
  std::ofstream(in_store) << "123";
  fs::create_symlink("store/ck2.safetensors", d + "/ck2.safetensors");
  EXPECT_EQ(remove_stale_write_temporaries(d + "/ck2.safetensors"), 3u);
  EXPECT_FALSE(fs::exists(in_store));
}

TEST(Safetensors, RejectsCorruptFiles) {
  std::string dir = temp_dir();
  std::string good = dir + "/good.safetensors";
  write_safetensors(good, sample());
  std::string bytes;
  {
    std::ifstream in(good, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  auto write = [&](const std::string& name, const std::string& content) {
    std::string p = dir + "/" + name;
    std::ofstream(p, std::ios::binary) << content;
    return p;
  };
  EXPECT_NE(expect_error(write("tiny", "abc")).find("is corrupt"), std::string::npos);
  EXPECT_NE(
      expect_error(write("trunc", bytes.substr(0, bytes.size() - 3))).find("outside the file"),
      std::string::npos);
  std::string badlen = bytes;
  badlen[7] = '\x7f';
  EXPECT_NE(expect_error(write("badlen", badlen)).find("header length"), std::string::npos);
  std::string badjson = bytes;
  badjson[9] = '#';
  EXPECT_NE(expect_error(write("badjson", badjson)).find("not valid JSON"), std::string::npos);
  // Not a checkpoint at all (a text file, a PyTorch pickle): said so, not a nonsense length.
  EXPECT_NE(expect_error(write("text", "the cat sat on the mat\nand more words here\n"))
                .find("is not a safetensors file"),
            std::string::npos);
  // "\x00" "a" apart: "\x00a" is the one byte 0x0a, and a 15-byte read overran the literal.
  const std::string pickle(
      "\x80\x02}q\x00(X\x01\x00\x00\x00"
      "a",
      12);
  EXPECT_NE(expect_error(write("pickle", pickle)).find("is not a safetensors file"),
            std::string::npos);
  EXPECT_NE(expect_error(dir + "/missing").find("cannot read checkpoint"), std::string::npos);
  std::string hdr = R"({"x":{"dtype":"F99","shape":[1],"data_offsets":[0,4]}})";
  std::string f(8, '\0');
  f[0] = static_cast<char>(hdr.size());
  EXPECT_NE(expect_error(write("dtype", f + hdr + "abcd")).find("unsupported dtype"),
            std::string::npos);
  hdr = R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})";
  f[0] = static_cast<char>(hdr.size());
  EXPECT_NE(expect_error(write("size", f + hdr + "abcd")).find("size mismatch"), std::string::npos);
}

TEST(Safetensors, FailedWriteLeavesPreviousFileIntact) {
  std::string dir = temp_dir();
  std::string p = dir + "/keep.safetensors";
  write_safetensors(p, sample());
  StFile bad = sample();
  bad.tensors["a"].shape = {5};  // size does not match: refused before anything is written
  EXPECT_THROW(write_safetensors(p, bad), Error);
  EXPECT_EQ(st_to_i32(read_safetensors(p).tensors.at("b")), (std::vector<int32_t>{7, 8, 9}));
  EXPECT_THROW(write_safetensors(dir + "/no/such/dir/x.safetensors", sample()), Error);
  for (auto& e : fs::directory_iterator(dir))
    EXPECT_EQ(e.path().string().find(".tmp."), std::string::npos) << "temporary left: " << e.path();
}

}  // namespace
}  // namespace sg
