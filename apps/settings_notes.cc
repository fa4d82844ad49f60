// Notes on legal settings that are probably not what the user meant (see settings_notes.h).
#include "apps/settings_notes.h"

#include <cstdlib>
#include <thread>

namespace sg {

std::vector<std::string> settings_notes(const RunConfig& cfg, const CorpusLayout& corpus,
                                        int64_t total_steps, bool has_state) {
  std::vector<std::string> notes;
  if (!has_state && cfg.state != "dense")
    notes.push_back("note: --optimizer " + cfg.optimizer +
                    " keeps no optimizer state, so --state " + cfg.state + " has nothing to hold");
  const unsigned cores = std::thread::hardware_concurrency();
  if (cores > 0 && cfg.threads > static_cast<int>(cores))
    notes.push_back("note: --threads " + std::to_string(cfg.threads) + " is more than the " +
                    std::to_string(cores) + " cores here; oversubscribed threads run slower");
  const size_t colon = cfg.schedule.find(':');
  if (cfg.schedule.rfind("warmup:", 0) == 0) {
    const int64_t warm = std::atoll(cfg.schedule.c_str() + colon + 1);
    if (warm >= total_steps)
      notes.push_back("note: --schedule " + cfg.schedule + " warms up for " + std::to_string(warm) +
                      " steps but the run has " + std::to_string(total_steps) +
                      ": the learning rate never reaches --lr");
  }
  if (corpus.split_named && cfg.heldout.empty() && corpus.heldout_shards.size() > 1)
    notes.push_back("note: " + std::to_string(corpus.heldout_shards.size()) +
                    " validation files in " + corpus.dir + "; using " +
                    corpus.heldout_shards.front() + " (name one with --heldout)");
  return notes;
}

std::string vocab_order_note(const RunConfig& cfg, const Vocab& vocab, const std::string& source) {
  if (cfg.sampled_count() == 0) return "";
  const int32_t i = vocab.first_count_increase();
  if (i < 0) return "";
  return "note: " + source + " is not sorted by descending count ('" + vocab.word(i) + "', id " +
         std::to_string(i) + ", count " + std::to_string(vocab.count(i)) + ", follows '" +
         vocab.word(i - 1) + "', count " + std::to_string(vocab.count(i - 1)) +
         "): its line order sets the word ids, and --softmax " + cfg.softmax +
         "'s log-uniform sampler assumes frequent words have low ids, so training draws the wrong "
         "negatives and ends much worse; sort the file by count (sketchgrad vocab --data ... --out "
         "FILE writes one) or use --softmax full";
}

}  // namespace sg
