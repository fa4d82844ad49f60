// Notes `sketchgrad train` prints about legal settings that are probably not what the user meant:
// a --state for an optimizer that keeps no state, more --threads than cores, a warm-up longer than
// the run, several validation files in a split-named folder (which one is used).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "apps/run_config.h"
#include "data/corpus.h"

namespace sg {

// has_state: whether the optimizer keeps any state tensors.
std::vector<std::string> settings_notes(const RunConfig& cfg, const CorpusLayout& corpus,
                                        int64_t total_steps, bool has_state);

}  // namespace sg
