// The best held-out perplexity of a run so far and its step (train --keep-best and the summary).
// It travels in the checkpoint's metadata ("best_heldout_perplexity", "best_step", the double
// written with 17 digits so it reads back exactly), so a resumed run keeps the best found before.
#pragma once
#include <cmath>
#include <cstdint>
#include <map>
#include <string>

namespace sg {

struct BestHeldout {
  double perplexity = NAN;
  int64_t step = -1;

  bool known() const { return step >= 0; }
  // Records (perplexity, at_step) when it is finite and lower than the best so far; true if it was.
  bool offer(double ppl, int64_t at_step);
  std::map<std::string, std::string> metadata() const;               // empty while nothing is known
  void restore(const std::map<std::string, std::string>& metadata);  // absent keys: unknown
};

}  // namespace sg
