// Best held-out perplexity bookkeeping (see best_heldout.h).
#include "apps/best_heldout.h"

#include <cstdio>
#include <cstdlib>

namespace sg {

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
  return md;
}

void BestHeldout::restore(const std::map<std::string, std::string>& md) {
  auto p = md.find("best_heldout_perplexity"), s = md.find("best_step");
  if (p == md.end() || s == md.end()) return;
  perplexity = std::strtod(p->second.c_str(), nullptr);
  step = std::strtoll(s->second.c_str(), nullptr, 10);
}

}  // namespace sg
