// Checkpoint save / load (see checkpoint.h).
#include "apps/checkpoint.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "apps/json_text.h"
#include "engine/check.h"

namespace sg {
namespace {

bool is_folder(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// The safetensors name of a dtype.
const char* st_dtype(DType t) {
  return t == DType::F32 ? "F32" : (t == DType::I32 ? "I32" : "BF16");
}

// A device (or host) tensor streamed into the file in chunks: no host copy of the whole tensor.
StTensor streamed_tensor(Backend& be, const Tensor& t) {
  StTensor s;
  s.dtype = st_dtype(t.dtype);
  s.shape = t.shape.dims;
  s.source_bytes = t.nbytes();
  const char* base = static_cast<const char*>(t.data);
  s.source = [&be, base](size_t off, size_t n, void* dst) { be.copy_to_host(dst, base + off, n); };
  return s;
}

// What a tensor's values must satisfy to be loaded: train never writes a checkpoint after a
// diverged step, and second moments are sums of squares, so anything else means a damaged file.
enum class ValueCheck { None, Finite, FiniteNonNegative };

// Throws when the F32 or BF16 values in bytes (elements first, first + 1, ... of the tensor) break
// the check.
void check_values(const StFile& file, const std::string& name, const std::string& dtype,
                  const void* bytes, size_t n, size_t first, ValueCheck check) {
  if (check == ValueCheck::None || (dtype != "F32" && dtype != "BF16")) return;
  const bool nonneg = check == ValueCheck::FiniteNonNegative;
  const size_t count = n / (dtype == "F32" ? sizeof(float) : sizeof(uint16_t));
  for (size_t i = 0; i < count; ++i) {
    float x;
    if (dtype == "F32") {
      x = static_cast<const float*>(bytes)[i];
    } else {  // bfloat16: the high half of a float
      const uint32_t bits = uint32_t(static_cast<const uint16_t*>(bytes)[i]) << 16;
      std::memcpy(&x, &bits, sizeof x);
    }
    SG_CHECK(std::isfinite(x), "checkpoint ", file.path, " is corrupt: '", name,
             "' holds a non-finite value at element ", first + i,
             " (train never checkpoints a diverged run)");
    SG_CHECK(!nonneg || x >= 0.f, "checkpoint ", file.path, " is corrupt: '", name,
             "' holds a negative value at element ", first + i,
             " (a second moment is a sum of squares)");
  }
}

// Copies a tensor of the checkpoint (read without data) into t, 16 MiB at a time, checking its
// values on the way.
void upload_tensor(Backend& be, const StFile& file, const std::string& name, const StTensor& s,
                   const Tensor& t, ValueCheck check) {
  const char* want = st_dtype(t.dtype);
  SG_CHECK(s.dtype == want && s.shape == t.shape.dims, "checkpoint ", file.path,
           " does not match this model: '", name, "' is ", s.dtype, " ", Shape(s.shape).str(),
           ", expected ", want, " ", t.shape.str());
  const size_t elem = t.nbytes() / std::max<int64_t>(1, t.shape.numel());
  if (!s.bytes.empty()) {
    check_values(file, name, s.dtype, s.bytes.data(), t.nbytes(), 0, check);
    be.copy_from_host(t.data, s.bytes.data(), t.nbytes());
    return;
  }
  constexpr size_t kChunk = size_t(16) << 20;
  std::vector<uint8_t> chunk;
  for (size_t off = 0; off < t.nbytes(); off += kChunk) {
    const size_t n = std::min(kChunk, t.nbytes() - off);
    chunk.resize(n);
    st_read_range(file, s, off, n, chunk.data());
    check_values(file, name, s.dtype, chunk.data(), n, elem ? off / elem : 0, check);
    be.copy_from_host(static_cast<char*>(t.data) + off, chunk.data(), n);
  }
}

std::string vocab_text(const Vocab& v) {
  std::ostringstream os;
  for (int32_t i = 0; i < v.size(); ++i) os << v.word(i) << ' ' << v.count(i) << '\n';
  return os.str();
}

}  // namespace

std::string checkpoint_file(const std::string& p) {
  SG_CHECK(!p.empty(), "no checkpoint given");
  return is_folder(p) ? p + "/checkpoint.safetensors" : p;
}

Checkpoint read_checkpoint(const std::string& file_or_folder) {
  Checkpoint ck;
  ck.path = checkpoint_file(file_or_folder);
  ck.file = read_safetensors(ck.path, /*with_data=*/false);  // tensors are read when restored
  auto& md = ck.file.metadata;
  auto meta = [&](const char* key) -> const std::string& {
    auto it = md.find(key);
    SG_CHECK(it != md.end(), "checkpoint ", ck.path, " is not a sketchgrad checkpoint (no '", key,
             "' entry)");
    return it->second;
  };
  SG_CHECK(meta("format") == kCheckpointFormat, "checkpoint ", ck.path, " has format '",
           meta("format"), "', expected ", kCheckpointFormat);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(meta("config"));
  } catch (const nlohmann::json::exception&) {
    SG_FAIL("checkpoint ", ck.path, " is corrupt: its configuration is not valid JSON");
  }
  // The model is built from these values before any tensor is compared with it: a damaged value
  // (bptt 0, a negative size) would otherwise divide by zero or allocate absurdly first.
  try {
    ck.cfg = RunConfig::from_json(j);
    ck.cfg.validate();
  } catch (const Error& e) {
    SG_FAIL("checkpoint ", ck.path, " is corrupt: its configuration is invalid (", e.what(), ")");
  }
  // The whole text, and never negative: stoll took "3x" as 3, and a step of -2^63 accepted for
  // --resume overflows the steps-left arithmetic.
  auto counter = [&](const char* key) {
    const std::string& text = meta(key);
    size_t used = 0;
    long long v = -1;
    try {
      v = std::stoll(text, &used);
    } catch (const std::logic_error&) {
    }
    SG_CHECK(v >= 0 && used == text.size(), "checkpoint ", ck.path, " is corrupt: bad ", key,
             " counter");
    return static_cast<int64_t>(v);
  };
  ck.step = counter("step");
  ck.words_seen = counter("words_seen");
  SG_CHECK(ck.file.tensors.count("vocab"), "checkpoint ", ck.path, " has no vocabulary");
  st_load(ck.file, ck.file.tensors.at("vocab"));
  return ck;
}

Vocab checkpoint_vocab(const Checkpoint& ck) {
  // Vocab loads from files: write the stored text to a private temporary file.
  char tmpl[] = "/tmp/sketchgrad-vocab-XXXXXX";
  int fd = mkstemp(tmpl);
  SG_CHECK(fd >= 0, "cannot create a temporary file for the checkpoint's vocabulary");
  std::string text = st_to_string(ck.file.tensors.at("vocab"));
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  struct RemoveOnExit {
    const char* path;
    ~RemoveOnExit() { std::remove(path); }
  } remove_tmp{tmpl};
  SG_CHECK(ok, "cannot write a temporary file for the checkpoint's vocabulary");
  try {
    return Vocab::load(tmpl);
  } catch (const Error& e) {  // name the checkpoint, not the temporary file
    std::string why = e.what();
    const std::string tmp = tmpl;
    // "vocabulary file TMP:1 is ..." reads "vocabulary line 1 is ...".
    for (size_t at; (at = why.find("file " + tmp + ":")) != std::string::npos;)
      why.replace(at, tmp.size() + 6, "line ");
    for (size_t at; (at = why.find(tmp)) != std::string::npos;) why.replace(at, tmp.size(), "");
    SG_FAIL("checkpoint ", ck.path, " is corrupt: its stored vocabulary is unreadable (", why, ")");
  }
}

void save_checkpoint(const std::string& file_or_folder, const RunConfig& cfg, int64_t step,
                     int64_t words_seen, const Vocab& vocab, const Executor& ex,
                     const LmGraph& model, const Optimizer* opt,
                     const std::map<std::string, std::string>& extra) {
  Backend& be = ex.backend();
  be.synchronize();
  StFile f;
  for (const auto& [k, v] : extra) f.metadata[k] = v;
  f.metadata["format"] = kCheckpointFormat;
  f.metadata["config"] = json_text(cfg.to_json());
  f.metadata["step"] = std::to_string(step);
  f.metadata["words_seen"] = std::to_string(words_seen);
  for (ValueId p : model.g.parameters())
    f.tensors["param/" + model.g.value(p).name] = streamed_tensor(be, ex.tensor(p));
  for (ValueId s : model.state)
    f.tensors["state/" + model.g.value(s).name] = streamed_tensor(be, ex.tensor(s));
  if (opt)
    for (const auto& [name, t] : opt->state_tensors())
      f.tensors["optim/" + name] = streamed_tensor(be, t);
  f.tensors["vocab"] = st_from_string(vocab_text(vocab));
  write_safetensors(checkpoint_file(file_or_folder), f);
}

void restore_model(const Checkpoint& ck, Executor& ex, const LmGraph& model, bool with_state) {
  Backend& be = ex.backend();
  auto load = [&](const std::string& key, ValueId v) {
    auto it = ck.file.tensors.find(key);
    SG_CHECK(it != ck.file.tensors.end(), "checkpoint ", ck.path, " has no tensor '", key, "'");
    upload_tensor(be, ck.file, key, it->second, ex.tensor(v), ValueCheck::Finite);
  };
  for (ValueId p : model.g.parameters()) load("param/" + model.g.value(p).name, p);
  if (with_state)
    for (ValueId s : model.state) load("state/" + model.g.value(s).name, s);
  be.synchronize();
}

void restore_optimizer(const Checkpoint& ck, Backend& be, const Optimizer& opt) {
  size_t n = 0;
  const std::vector<std::string> nonneg = opt.nonnegative_state();
  for (const auto& [name, t] : opt.state_tensors()) {
    auto it = ck.file.tensors.find("optim/" + name);
    SG_CHECK(it != ck.file.tensors.end(), "checkpoint ", ck.path, " has no optimizer state '", name,
             "' (was it written with another --optimizer or --state?)");
    const bool second = std::find(nonneg.begin(), nonneg.end(), name) != nonneg.end();
    upload_tensor(be, ck.file, "optim/" + name, it->second, t,
                  second ? ValueCheck::FiniteNonNegative : ValueCheck::Finite);
    ++n;
  }
  size_t stored = 0;
  for (const auto& kv : ck.file.tensors) stored += kv.first.rfind("optim/", 0) == 0;
  SG_CHECK(stored == n, "checkpoint ", ck.path, " holds ", stored,
           " optimizer buffers but this optimizer has ", n);
  be.synchronize();
}

}  // namespace sg
