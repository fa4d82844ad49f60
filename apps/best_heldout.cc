// Best held-out perplexity bookkeeping (see best_heldout.h).
#include "apps/best_heldout.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>

namespace sg {

std::string measured_on_text(const std::string& heldout_file, int64_t max_tokens) {
  std::error_code ec;
  std::string key = std::filesystem::weakly_canonical(heldout_file, ec).string();
  if (ec) key = heldout_file;
  key += '\n' + std::to_string(max_tokens);
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : key) h = (h ^ c) * 1099511628211ull;
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

bool BestHeldout::offer(double ppl, int64_t at_step) {
  if (!std::isfinite(ppl) || (known() && !(ppl < perplexity))) return false;
  perplexity = ppl;
  step = at_step;
  return true;
}

std::map<std::string, std::string> BestHeldout::metadata() const {
  std::map<std::string, std::string> md;
  if (!known()) return md;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", perplexity);
  md["best_heldout_perplexity"] = buf;
  md["best_step"] = std::to_string(step);
  if (!measured_on.empty()) md["best_measured_on"] = measured_on;
  return md;
}

bool BestHeldout::restore(const std::map<std::string, std::string>& md, const std::string& on) {
  measured_on = on;
  auto p = md.find("best_heldout_perplexity"), s = md.find("best_step");
  if (p == md.end() || s == md.end()) return true;
  auto o = md.find("best_measured_on");
  if (o != md.end() && o->second != on) return false;
  perplexity = std::strtod(p->second.c_str(), nullptr);
  step = std::strtoll(s->second.c_str(), nullptr, 10);
  return true;
}

}  // namespace sg
