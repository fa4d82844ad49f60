// Notes `sketchgrad train` prints about legal settings that are probably not what the user meant:
// a --state for an optimizer that keeps no state, more --threads than cores, a warm-up longer than
// the run, several validation files in a split-named folder (which one is used); and a vocabulary
// whose ids are not in descending-count order under the sampled softmax.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "apps/run_config.h"
#include "data/corpus.h"
#include "data/vocab.h"

namespace sg {

// has_state: whether the optimizer keeps any state tensors.
std::vector<std::string> settings_notes(const RunConfig& cfg, const CorpusLayout& corpus,
                                        int64_t total_steps, bool has_state);

// A note when the softmax is sampled (cfg.sampled_count() > 0) and the vocabulary's counts increase
// somewhere (Vocab::first_count_increase): its log-uniform sampler takes low ids for frequent
// words, so a file in another order (alphabetical) trains much worse. `source` names the vocabulary
// ("--vocab FILE"). Ids are never reordered: the note says how to fix the file. "" otherwise.
std::string vocab_order_note(const RunConfig& cfg, const Vocab& vocab, const std::string& source);

}  // namespace sg
