// RunConfig presets, validation and JSON round trip.
#include "apps/run_config.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <type_traits>

#include "engine/check.h"

namespace sg {

namespace {
// A float as the shortest decimal that reads back as the same float (0.9f is written 0.9, not
// 0.8999999761581421), so configurations in logs and checkpoints read as typed and still round-trip
// exactly (from_json casts the double back to float).
double json_float(float f) {
  char buf[32];
  for (int digits = 6; digits <= 9; ++digits) {
    std::snprintf(buf, sizeof buf, "%.*g", digits, static_cast<double>(f));
    if (std::strtof(buf, nullptr) == f) break;
  }
  return std::strtod(buf, nullptr);
}
}  // namespace

int RunConfig::sampled_count() const {
  if (softmax == "full") return 0;
  SG_CHECK(softmax.rfind("sampled:", 0) == 0, "--softmax must be 'full' or 'sampled:S', got '",
           softmax, "'");
  std::string s = softmax.substr(8);
  SG_CHECK(!s.empty() && s.find_first_not_of("0123456789") == std::string::npos,
           "--softmax sampled:S needs a positive integer S, got '", softmax, "'");
  SG_CHECK(s.size() < 10,
           "--softmax sampled:S needs S below 10^9 (and below the vocabulary), got '", softmax,
           "'");
  int n = std::stoi(s);
  SG_CHECK(n > 0, "--softmax sampled:S needs S > 0, got '", softmax, "'");
  return n;
}

std::string RunConfig::fit_softmax_to_vocab(int64_t vocab) {
  const int s = sampled_count();
  if (s == 0 || s < vocab) return "";
  SG_CHECK(!softmax_given, "--softmax ", softmax, " needs a vocabulary of more than ", s,
           " words, this one has ", vocab, ": use --softmax full or a smaller S");
  const std::string note = "note: the vocabulary (" + std::to_string(vocab) +
                           " words) is not larger than the preset's " + softmax +
                           ", so the full softmax is used (--softmax to choose)";
  softmax = "full";
  return note;
}

void RunConfig::apply_preset() {
  if (preset == "small") {
    emb = 128, hidden = 512, proj = 128, layers = 1, dropout = 0.0f;
    softmax = "sampled:1024", batch = 32, bptt = 20, lr = 4e-3f, clip = 1.0f;
  } else if (preset == "tiny") {
    emb = 32, hidden = 64, proj = 32, layers = 1, dropout = 0.0f;
    softmax = "full", batch = 8, bptt = 10, lr = 1e-2f, clip = 1.0f;
  } else if (preset == "paper-lm1b") {
    // Spring et al. 2019, LM1B: LSTM-2048 projected to 256, 256-d embeddings, sampled softmax with
    // 8192 samples, batch 1024, BPTT 20, Adam lr 4e-3 decayed linearly to 0, clip 1.0, dropout
    // 0.01.
    emb = 256, hidden = 2048, proj = 256, layers = 1, dropout = 0.01f;
    softmax = "sampled:8192", batch = 1024, bptt = 20, lr = 4e-3f, clip = 1.0f, schedule = "linear";
  } else {
    SG_FAIL("unknown --preset '", preset, "': expected tiny, small or paper-lm1b");
  }
}

namespace {
constexpr int64_t kMaxSteps = 1000000000000;  // 10^12: beyond any run, far from int64 overflow
}  // namespace

void RunConfig::use_rule_default_lr() {
  float own = 0.f;
  if (optimizer == "sgd" || optimizer == "topk-sgd" || optimizer == "randk-sgd" ||
      optimizer == "topk-sgd-nofeedback")
    own = 1.0f;
  else if (optimizer == "momentum" || optimizer == "nesterov")
    own = 0.1f;  // with momentum 0.9 (m = mu m + g), an effective rate of about 1
  else if (optimizer == "rmsprop")
    own = 1e-3f;
  if (own == 0.f || own == lr) return;
  char buf[200];
  std::snprintf(
      buf, sizeof buf, "note: --lr not given: %s uses %g (the preset's %g is Adam's; at it %s)",
      optimizer.c_str(), own, lr, own > lr ? "the loss does not move" : "rmsprop diverges");
  lr_note = buf;
  lr = own;
}

void RunConfig::validate() const {
  SG_CHECK(min_count >= 1, "--min-count must be >= 1, got ", min_count);
  SG_CHECK(emb >= 1 && emb <= 65536, "--emb must be in [1, 65536], got ", emb);
  SG_CHECK(hidden >= 1 && hidden <= 65536, "--hidden must be in [1, 65536], got ", hidden);
  SG_CHECK(proj >= 0 && proj <= 65536, "--proj must be in [0, 65536] (0 = no projection), got ",
           proj);
  SG_CHECK(layers >= 1 && layers <= 16, "--layers must be in [1, 16], got ", layers);
  SG_CHECK(dropout >= 0.0f && dropout < 1.0f, "--dropout must be in [0, 1), got ", dropout);
  sampled_count();
  SG_CHECK(lstm_impl == "native" || lstm_impl == "cudnn", "--lstm must be native or cudnn, got '",
           lstm_impl, "'");
  SG_CHECK(lstm_impl == "native" || device.rfind("cuda", 0) == 0,
           "--lstm cudnn needs --device cuda");
  SG_CHECK(!tf32 || device.rfind("cuda", 0) == 0, "--tf32 needs --device cuda");
  SG_CHECK(batch >= 1 && batch <= 1 << 20, "--batch must be in [1, 1048576], got ", batch);
  SG_CHECK(bptt >= 1 && bptt <= 10000, "--bptt must be in [1, 10000], got ", bptt);
  SG_CHECK(lr > 0.0f && lr < 100.0f, "--lr must be in (0, 100), got ", lr);
  SG_CHECK(std::isfinite(clip) && clip >= 0.0f,
           "--clip must be a finite number >= 0 (0 = no clipping), got ", clip);
  SG_CHECK(beta1 >= 0.0f && beta1 < 1.0f, "--beta1 must be in [0, 1), got ", beta1);
  SG_CHECK(beta2 >= 0.0f && beta2 < 1.0f, "--beta2 must be in [0, 1), got ", beta2);
  SG_CHECK(eps > 0.0f && eps < 1.0f, "--eps must be in (0, 1), got ", eps);
  SG_CHECK(momentum >= 0.0f && momentum < 1.0f, "--momentum must be in [0, 1), got ", momentum);
  SG_CHECK(weight_decay >= 0.0f && weight_decay < 1.0f, "--weight-decay must be in [0, 1), got ",
           weight_decay);
  SG_CHECK(sparsify > 0.0f && sparsify <= 1.0f, "--sparsify must be in (0, 1], got ", sparsify);
  SG_CHECK(std::isfinite(clip_per_param) && clip_per_param >= 0.0f,
           "--clip-per-param must be a finite number >= 0 (0 = off), got ", clip_per_param);
  SG_CHECK(steps >= 0 && steps <= kMaxSteps, "--steps must be in [0, 10^12], got ", steps);
  SG_CHECK(std::isfinite(epochs) && epochs >= 0 && epochs <= 1e6,
           "--epochs must be in [0, 10^6], got ", epochs);
  SG_CHECK(steps == 0 || epochs == 0, "give --steps or --epochs, not both (--steps ", steps,
           ", --epochs ", epochs, ")");
  SG_CHECK(threads >= 0 && threads <= 1024, "--threads must be in [0, 1024], got ", threads);
  SG_CHECK(
      checkpoint_every >= 0 && eval_every >= 0 && progress_every >= 1 && eval_max_tokens >= 0,
      "--checkpoint-every, --eval-every and --eval-tokens must be >= 0, --progress-every >= 1");
  SG_CHECK(warmup_steps >= 0, "--warmup-steps must be >= 0, got ", warmup_steps);
  SG_CHECK(checkpoint_minutes >= 0, "--checkpoint-minutes must be >= 0 (0 = off), got ",
           checkpoint_minutes);
  SG_CHECK(!resume || !checkpoint.empty(), "--resume needs --checkpoint DIR");
  SG_CHECK(checkpoint_every == 0 || !checkpoint.empty(),
           "--checkpoint-every needs --checkpoint DIR, the folder to write the checkpoints to");
}

nlohmann::json RunConfig::to_json() const {
  return {{"data", data},
          {"vocab_file", vocab_file},
          {"heldout", heldout},
          {"min_count", min_count},
          {"preset", preset},
          {"emb", emb},
          {"hidden", hidden},
          {"proj", proj},
          {"layers", layers},
          {"dropout", json_float(dropout)},
          {"softmax", softmax},
          {"lstm_impl", lstm_impl},
          {"batch", batch},
          {"bptt", bptt},
          {"optimizer", optimizer},
          {"lr", json_float(lr)},
          {"schedule", schedule},
          {"clip", json_float(clip)},
          {"clip_per_param", json_float(clip_per_param)},
          {"beta1", json_float(beta1)},
          {"beta2", json_float(beta2)},
          {"eps", json_float(eps)},
          {"momentum", json_float(momentum)},
          {"weight_decay", json_float(weight_decay)},
          {"sparsify", json_float(sparsify)},
          {"state", state},
          {"steps", steps},
          {"epochs", epochs},
          {"device", device},
          {"tf32", tf32},
          {"threads", threads},
          {"seed", seed},
          {"checkpoint", checkpoint},
          {"checkpoint_every", checkpoint_every},
          {"checkpoint_minutes", checkpoint_minutes},
          {"eval_every", eval_every},
          {"eval_max_tokens", eval_max_tokens}};
}

namespace {
// json::get<int> of 1e30 or 2^40 casts without a check (undefined, or a wrapped value that then
// passes validation): an integer field must hold an integer that fits its type.
template <typename T>
void get_field(const nlohmann::json& j, const char* key, T& out) {
  const nlohmann::json& v = j.at(key);
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    const auto max = static_cast<uint64_t>(std::numeric_limits<T>::max());
    const auto min = static_cast<int64_t>(std::numeric_limits<T>::min());
    bool fits = false;
    if (v.is_number_unsigned()) {
      fits = v.get<uint64_t>() <= max;
    } else if (v.is_number_integer()) {
      const int64_t x = v.get<int64_t>();
      fits = x >= 0 ? static_cast<uint64_t>(x) <= max : x >= min;
    }
    SG_CHECK(fits, "configuration is malformed: '", key, "' is not an integer in range");
    out = v.is_number_unsigned() ? static_cast<T>(v.get<uint64_t>())
                                 : static_cast<T>(v.get<int64_t>());
  } else {
    out = v.get<T>();
  }
}
}  // namespace

RunConfig RunConfig::from_json(const nlohmann::json& j) {
  RunConfig c;
  try {
#define SG_GET(k) get_field(j, #k, c.k)
    SG_GET(data), SG_GET(vocab_file), SG_GET(heldout), SG_GET(min_count), SG_GET(preset),
        SG_GET(emb);
    SG_GET(hidden), SG_GET(proj), SG_GET(layers), SG_GET(dropout), SG_GET(softmax),
        SG_GET(lstm_impl);
    SG_GET(batch), SG_GET(bptt), SG_GET(optimizer), SG_GET(lr), SG_GET(schedule), SG_GET(clip),
        SG_GET(state);
    SG_GET(steps), SG_GET(epochs), SG_GET(device), SG_GET(threads), SG_GET(seed),
        SG_GET(checkpoint);
    SG_GET(checkpoint_every), SG_GET(eval_every), SG_GET(eval_max_tokens);
    c.clip_per_param = j.value("clip_per_param", 0.0f);  // absent in checkpoints before it existed
    c.tf32 = j.value("tf32", false);
    c.checkpoint_minutes = j.value("checkpoint_minutes", 10.0);
    // Optimizer hyperparameters became flags later; older checkpoints used these defaults.
    c.beta1 = j.value("beta1", 0.9f), c.beta2 = j.value("beta2", 0.999f);
    c.eps = j.value("eps", 1e-8f), c.momentum = j.value("momentum", 0.9f);
    c.weight_decay = j.value("weight_decay", 0.0f), c.sparsify = j.value("sparsify", 0.01f);
#undef SG_GET
  } catch (const nlohmann::json::exception& e) {
    SG_FAIL("configuration is malformed: ", e.what());
  }
  return c;
}

std::vector<std::string> RunConfig::incompatibilities(const RunConfig& o) const {
  std::vector<std::string> bad;
  auto cmp = [&](const char* name, auto a, auto b) {
    if (a != b) bad.push_back(name);
  };
  cmp("--emb", emb, o.emb), cmp("--hidden", hidden, o.hidden), cmp("--proj", proj, o.proj);
  cmp("--layers", layers, o.layers), cmp("--softmax", softmax, o.softmax),
      cmp("--batch", batch, o.batch);
  cmp("--bptt", bptt, o.bptt), cmp("--optimizer", optimizer, o.optimizer),
      cmp("--state", state, o.state);
  cmp("--seed", seed, o.seed), cmp("--dropout", dropout, o.dropout);
  cmp("--lr", lr, o.lr), cmp("--schedule", schedule, o.schedule), cmp("--clip", clip, o.clip);
  cmp("--clip-per-param", clip_per_param, o.clip_per_param);
  cmp("--beta1", beta1, o.beta1), cmp("--beta2", beta2, o.beta2), cmp("--eps", eps, o.eps);
  cmp("--momentum", momentum, o.momentum), cmp("--weight-decay", weight_decay, o.weight_decay);
  cmp("--sparsify", sparsify, o.sparsify);
  return bad;
}

}  // namespace sg
