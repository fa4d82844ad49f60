// The best held-out perplexity of a run so far and its step (train --keep-best and the summary).
// It travels in the checkpoint's metadata ("best_heldout_perplexity", "best_step", the double
// written with 17 digits so it reads back exactly, and "best_measured_on", a fingerprint of the
// held-out text and token cap), so a resumed run keeps the best found before - unless it
// evaluates on other text, where the old best is not comparable and is forgotten.
#pragma once
#include <cmath>
#include <cstdint>
#include <map>
#include <string>

namespace sg {

// Fingerprint (hex FNV-1a) of a held-out file, by its canonical path, and the --eval-tokens cap.
std::string measured_on_text(const std::string& heldout_file, int64_t max_tokens);

struct BestHeldout {
  double perplexity = NAN;
  int64_t step = -1;
  std::string measured_on;  // fingerprint of what it was measured on (measured_on_text)

  bool known() const { return step >= 0; }
  // Records (perplexity, at_step) when it is finite and lower than the best so far; true if it was.
  bool offer(double ppl, int64_t at_step);
  std::map<std::string, std::string> metadata() const;  // empty while nothing is known
  // Absent keys: unknown. A best measured on other text than `on` is forgotten; returns false
  // then (true otherwise). Checkpoints from before the fingerprint are taken as comparable.
  bool restore(const std::map<std::string, std::string>& metadata, const std::string& on);
};

}  // namespace sg
