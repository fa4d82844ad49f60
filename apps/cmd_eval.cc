// `sketchgrad eval`: held-out perplexity of a checkpoint with the full softmax, and the number of
// predicted tokens (159,658 on the real LM1B test shard: every word and every </S>, never <S>).
#include <cmath>
#include <cstdio>

#include "apps/checkpoint.h"
#include "apps/commands.h"
#include "apps/evaluate.h"
#include "apps/json_text.h"
#include "apps/model_setup.h"
#include "data/corpus.h"
#include "data/output_file.h"
#include "engine/check.h"

namespace sg {

int cmd_eval(const EvalOptions& o) {
  SG_CHECK(!o.data.empty() || !o.shard.empty(), "eval needs --shard FILE or --data DIR");
  SG_CHECK(o.data.empty() || o.shard.empty(), "eval takes --shard or --data, not both");
  SG_CHECK(o.max_tokens >= 0, "--max-tokens must be >= 0");
  std::string shard = o.shard;
  if (shard.empty()) {
    const CorpusLayout corpus = find_corpus(o.data);
    shard = default_eval_shard(corpus);
    for (const std::string& note : corpus.heldout_notes) std::fprintf(stderr, "%s\n", note.c_str());
    if (corpus.split_named && corpus.test_shards.empty())
      std::fprintf(stderr,
                   "note: %s has no test file; evaluating its validation file %s (name a file "
                   "with --shard)\n",
                   corpus.dir.c_str(), shard.c_str());
  }
  check_shard(shard);
  // The checkpoint as the file read (--checkpoint may name its folder).
  check_output_not_input(o.json, {shard, checkpoint_file(o.checkpoint)}, "--json");
  check_output_writable(o.json, "--json");
  Checkpoint ck = read_checkpoint(o.checkpoint);
  Vocab vocab = checkpoint_vocab(ck);
  auto be = Backend::create(o.device, o.threads);
  LmConfig mc = eval_model_config(ck.cfg, vocab.size(), o.batch, o.bptt);
  mc.cpu_workspaces = runs_on_cpu(o.device);  // where it runs now, not where it was trained
  LmGraph model = build_lm(mc);
  Executor ex(model.g, *be);
  restore_model(ck, ex, model, /*with_state=*/false);
  EvalBatcher batches(shard, vocab, model.cfg.batch, model.cfg.bptt, o.max_tokens);
  const std::string marker_note = literal_marker_note(batches.literal_markers(), shard);
  if (!marker_note.empty()) std::fprintf(stderr, "%s\n", marker_note.c_str());
  TrainLog log("");
  EvalResult r = evaluate(ex, model, batches, eval_progress(log, batches.total_predicted()));
  log.end_line();
  SG_CHECK(std::isfinite(r.perplexity()), "eval: perplexity is not finite (mean NLL ", r.mean_nll(),
           ") on ", r.tokens, " tokens of ", shard);
  // With --json to standard output, stdout holds only the JSON: the text report goes to stderr.
  std::fprintf(
      is_process_stdout(o.json) ? stderr : stdout,
      "shard %s\ntokens %lld\nunk_tokens %lld\nmean_nll %.6f\nperplexity %.4f\nseconds %.2f\n",
      shard.c_str(), static_cast<long long>(r.tokens), static_cast<long long>(r.unk_targets),
      r.mean_nll(), r.perplexity(), r.seconds);
  if (!unk_warning(r).empty()) std::fprintf(stderr, "%s\n", unk_warning(r).c_str());
  const std::string worse = worse_than_uniform_warning(r, vocab.size());
  if (!worse.empty()) std::fprintf(stderr, "%s\n", worse.c_str());
  if (!o.json.empty()) {
    nlohmann::json j = {{"shard", shard},
                        {"checkpoint", ck.path},
                        {"step", ck.step},
                        {"tokens", r.tokens},
                        {"mean_nll", r.mean_nll()},
                        {"perplexity", r.perplexity()},
                        {"unk_tokens", r.unk_targets},
                        {"seconds", r.seconds},
                        {"batch", model.cfg.batch},
                        {"bptt", model.cfg.bptt}};
    write_whole_file(o.json, json_text(j, 2) + "\n", "--json file");
  }
  return 0;
}

}  // namespace sg
