// `sketchgrad train`: the training loop.
//
//   shards --TrainBatcher (prefetch thread)--> tokens/targets [T, B]
//     --Executor::run (forward + backward over planned memory)--> gradients (dense; row-sparse for
//     the embedding and sampled-softmax tables) --Optimizer::step (dense / sketched state)-->
//     parameters
//
// Every `eval_every` steps (and at the end) the held-out perplexity is computed with the full
// softmax on a second, forward-only graph that shares the parameters' memory. Checkpoints
// (apps/checkpoint.h) are written atomically every `checkpoint_every` steps and every
// `checkpoint_minutes` of wall time (default 10, so a crash loses at most that), at the end, and on
// SIGINT/SIGTERM; --resume reloads one and replays the data stream so the continued run is bitwise
// identical to an uninterrupted one. The host does not wait for the device inside a step: batches
// go up through Backend::upload, and the step losses are summed on the device (apps/loss_window.h)
// and read once per progress window, where divergence (a non-finite sum) is caught; it is also
// checked before every checkpoint and periodic evaluation.
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <thread>

#include "apps/best_heldout.h"
#include "apps/checkpoint.h"
#include "apps/checkpoint_folder.h"
#include "apps/commands.h"
#include "apps/evaluate.h"
#include "apps/json_text.h"
#include "apps/loss_window.h"
#include "apps/model_setup.h"
#include "apps/process_stats.h"
#include "apps/settings_notes.h"
#include "apps/train_log.h"
#include "apps/train_summary.h"
#include "data/batcher.h"
#include "data/corpus.h"
#include "data/output_file.h"
#include "engine/check.h"

namespace sg {
namespace {

// Set by SIGINT/SIGTERM; the loop finishes the current step (a held-out evaluation stops at its
// next batch), checkpoints and exits with 128 + the signal (130, 143). A signal handler can only
// reach a global.
volatile std::sig_atomic_t g_stop_signal = 0;
void on_stop_signal(int sig) { g_stop_signal = sig; }

bool path_exists(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0;
}

// Empty when a vocabulary file and a checkpoint's hold the same words in the same order (the
// ids), else what differs first.
std::string vocab_difference(const Vocab& file, const Vocab& ck) {
  for (int32_t i = 0; i < std::min(file.size(), ck.size()); ++i)
    if (file.word(i) != ck.word(i))
      return "id " + std::to_string(i) + " is '" + file.word(i) + "' in the file and '" +
             ck.word(i) + "' in the checkpoint";
  if (file.size() != ck.size())
    return "the file has " + std::to_string(file.size()) + " words, the checkpoint " +
           std::to_string(ck.size());
  return "";
}

// "a.txt, b.txt" (file names without folders), the first three and a count of the rest.
std::string join_file_names(const std::vector<std::string>& paths) {
  std::string out;
  for (size_t i = 0; i < paths.size() && i < 3; ++i)
    out += (i ? ", " : "") + std::filesystem::path(paths[i]).filename().string();
  if (paths.size() > 3) out += ", and " + std::to_string(paths.size() - 3) + " more";
  return out;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

int cmd_train(const RunConfig& requested) {
  // From the start: a signal during the set-up (a vocabulary count can take minutes) stops the run
  // cleanly too, with the checkpoint folder's lock released and nothing written.
  g_stop_signal = 0;
  auto old_int = std::signal(SIGINT, on_stop_signal);
  auto old_term = std::signal(SIGTERM, on_stop_signal);
  struct RestoreSignals {
    void (*i)(int), (*t)(int);
    ~RestoreSignals() {
      std::signal(SIGINT, i);
      std::signal(SIGTERM, t);
    }
  } restore_signals{old_int, old_term};

  RunConfig cfg = requested;
  SG_CHECK(!cfg.data.empty(),
           "train needs --data DIR (an LM1B-layout corpus folder, e.g. data/sotu)");
  const CorpusLayout corpus = find_corpus(cfg.data);
  require_training(corpus);
  std::string heldout = cfg.heldout == "none" ? "" : cfg.heldout;  // none: no held-out evaluation
  if (cfg.heldout.empty() && !corpus.heldout_shards.empty())
    heldout = corpus.heldout_shards.front();
  if (!heldout.empty()) check_shard(heldout, "held-out shard");
  std::string heldout_is_training;  // the training file that is also the held-out text, if any
  for (size_t i = 0; !heldout.empty() && i < corpus.train_shards.size(); ++i) {
    std::error_code ec;
    if (std::filesystem::equivalent(corpus.train_shards[i], heldout, ec))
      heldout_is_training = corpus.train_shards[i];
  }
  SG_CHECK(!cfg.keep_best || (!cfg.checkpoint.empty() && !heldout.empty()),
           "--keep-best needs --checkpoint DIR and held-out text to evaluate (",
           cfg.heldout == "none" ? "not --heldout none"
                                 : "this corpus has none: name a file with --heldout",
           ")");

  // Outputs: never one of the inputs, and writable before any work is done (not after hours).
  std::vector<std::string> inputs = corpus.train_shards;
  inputs.push_back(heldout);
  inputs.push_back(cfg.vocab_file);
  check_output_not_input(cfg.log, inputs, "--log");
  check_output_not_input(cfg.summary_json, inputs, "--summary-json");
  check_outputs_distinct(cfg.summary_json, "--summary-json", cfg.log, "the --log file");

  // Resume: the checkpoint's configuration must agree with this one on everything that shapes the
  // run.
  std::optional<Checkpoint> ck;
  std::optional<Vocab> ck_vocab;
  std::string ck_path, softmax_note;
  size_t stale_bytes = 0;  // unfinished checkpoint writes of killed runs, removed
  std::unique_ptr<CheckpointFolder> folder = std::make_unique<CheckpointFolder>();
  const std::string best_path = cfg.checkpoint.empty() ? "" : cfg.checkpoint + "/best.safetensors";
  if (!cfg.checkpoint.empty()) {
    folder = std::make_unique<CheckpointFolder>(cfg.checkpoint);  // created, locked
    check_folder_writable(cfg.checkpoint, "checkpoints to --checkpoint " + cfg.checkpoint);
    ck_path = checkpoint_file(cfg.checkpoint);
    // The files themselves too: a symlinked checkpoint is written beside its target, elsewhere.
    check_output_writable(ck_path, "--checkpoint");
    if (cfg.keep_best) check_output_writable(best_path, "--keep-best");
    // A run killed while writing a checkpoint leaves its temporary (as big as the checkpoint).
    for (const std::string& f : {ck_path, best_path})
      stale_bytes += remove_stale_write_temporaries(f);
    // The run's other outputs must not land on its checkpoints (nor be replaced by them).
    for (const auto& [out, flag] : {std::pair<std::string, std::string>{cfg.log, "--log"},
                                    {cfg.summary_json, "--summary-json"}}) {
      check_outputs_distinct(out, flag, ck_path, "the checkpoint");
      if (cfg.keep_best) check_outputs_distinct(out, flag, best_path, "the best checkpoint");
    }
    if (cfg.resume) {
      SG_CHECK(path_exists(ck_path), "--resume: no checkpoint at ", ck_path);
      ck = read_checkpoint(ck_path);
      folder->adopt(ck_path);
      ck_vocab = checkpoint_vocab(*ck);
      // The vocabulary comes from the checkpoint; a --vocab file must hold the same words (its
      // path may be spelled differently or have moved since).
      if (!cfg.vocab_file.empty()) {
        const std::string diff = vocab_difference(Vocab::load(cfg.vocab_file), *ck_vocab);
        SG_CHECK(diff.empty(), "cannot resume ", ck_path, ": --vocab ", cfg.vocab_file,
                 " is not the checkpoint's vocabulary (", diff,
                 "); leave --vocab out to use the checkpoint's");
      }
      softmax_note = cfg.fit_softmax_to_vocab(ck_vocab->size());  // as the first run chose
      auto bad = ck->cfg.incompatibilities(cfg);
      if (!bad.empty()) {
        std::string list;
        for (auto& b : bad) list += (list.empty() ? "" : ", ") + b;
        SG_FAIL("cannot resume ", ck_path, ": this run differs from the checkpoint in ", list);
      }
    } else {
      SG_CHECK(
          !path_exists(ck_path), "checkpoint ", ck_path,
          " already exists; pass --resume to continue it or choose another --checkpoint folder");
      SG_CHECK(!cfg.keep_best || !path_exists(best_path), "best checkpoint ", best_path,
               " already exists and --keep-best would replace it; move it away or choose "
               "another --checkpoint folder");
    }
    if (cfg.keep_best && path_exists(best_path)) folder->adopt(best_path);  // resumed run's best
  }

  // After the checkpoint folder exists: a summary or log inside it is fine.
  check_output_writable(cfg.summary_json, "--summary-json");
  check_output_writable(cfg.log, "--log");

  auto be = Backend::create(cfg.device, cfg.threads);  // fails fast: no GPU, no CUDA build
  be->set_tf32(cfg.tf32);
  size_t dev_free0 = 0, dev_total = 0;  // device memory once the context exists, before any arena
  be->memory_info(&dev_free0, &dev_total);
  TrainLog log(cfg.log);
  for (const auto* notes : {&corpus.train_notes, &corpus.heldout_notes})
    for (const std::string& note : *notes) log.line(note);
  if (stale_bytes > 0)
    log.line("note: removed unfinished checkpoint writes (" + format_bytes(stale_bytes) +
             ") that killed runs left in " + cfg.checkpoint);
  auto t_setup = std::chrono::steady_clock::now();
  // Stopped by a signal before the first step of this process: nothing to checkpoint.
  auto stopped_before_training = [&] {
    log.line("stopped by signal " + std::to_string(g_stop_signal) + " before training started: " +
             (ck ? "the checkpoint " + ck_path + " is unchanged" : std::string("nothing written")));
    return 128 + g_stop_signal;
  };
  std::optional<Vocab> built;
  if (!ck && cfg.vocab_file.empty()) {
    try {
      built = build_vocab_reporting(corpus.train_shards, cfg.min_count, cfg.threads, log,
                                    [] { return g_stop_signal != 0; });
    } catch (const VocabBuildStopped&) {
      return stopped_before_training();
    }
  }
  const Vocab vocab =
      ck ? std::move(*ck_vocab) : (built ? std::move(*built) : Vocab::load(cfg.vocab_file));
  if (!ck) softmax_note = cfg.fit_softmax_to_vocab(vocab.size());
  const std::string marker_note = literal_marker_note(vocab.literal_markers(), "the training text");
  if (!marker_note.empty()) log.line(marker_note);
  if (!softmax_note.empty()) log.line(softmax_note);
  const std::string order_note = vocab_order_note(
      cfg, vocab, ck ? "the checkpoint's vocabulary" : "the vocabulary --vocab " + cfg.vocab_file);
  if (!order_note.empty()) log.line(order_note);
  if (!cfg.lr_note.empty()) log.line(cfg.lr_note);
  const bool decays = cfg.schedule.find("linear") != std::string::npos ||
                      cfg.schedule.find("cosine") != std::string::npos;
  if (ck && decays && (ck->cfg.steps != cfg.steps || ck->cfg.epochs != cfg.epochs))
    log.line("note: the run length differs from the checkpointed run's, so the " + cfg.schedule +
             " schedule now decays over this run's length (not bitwise the uninterrupted run)");
  if (!ck && !cfg.vocab_file.empty() && cfg.min_count_given)
    log.line("note: --min-count is ignored with --vocab: the file's words are the vocabulary");
  if (ck && cfg.vocab_file.empty() && ck->cfg.vocab_file.empty() && cfg.min_count_given &&
      cfg.min_count != ck->cfg.min_count)
    log.line("note: --min-count " + std::to_string(cfg.min_count) +
             " differs from the checkpointed run's (" + std::to_string(ck->cfg.min_count) +
             "): the checkpoint's vocabulary is used");
  if (ck) {  // the vocabulary's source is the checkpointed run's, and its saved config says so
    cfg.min_count = ck->cfg.min_count;
    if (cfg.vocab_file.empty()) cfg.vocab_file = ck->cfg.vocab_file;
  }
  if (ck && ck->cfg.data != cfg.data)
    log.line("note: --data differs from the checkpoint's (" + ck->cfg.data +
             "): training continues on this text with the checkpoint's vocabulary");
  TrainBatcher batches(corpus.train_shards, vocab, cfg.batch, cfg.bptt, cfg.seed);
  // A vocabulary built from these shards (now, or by the run being resumed from the same --data)
  // has counted every predicted token: no second pass for epochs.
  if (cfg.vocab_file.empty() && (!ck || ck->cfg.data == cfg.data))
    batches.set_corpus_words(vocab.counted_predictions());
  const int64_t words_per_step = static_cast<int64_t>(cfg.batch) * cfg.bptt;
  int64_t total_steps = cfg.steps;
  if (total_steps == 0) {
    double epochs = cfg.epochs > 0 ? cfg.epochs : 1.0;
    const double steps =
        std::ceil(epochs * batches.corpus_words() / static_cast<double>(words_per_step));
    SG_CHECK(steps <= 1e12, "--epochs ", epochs, " is ", steps,
             " steps of this corpus, more than 10^12: give fewer epochs");
    total_steps = std::max<int64_t>(1, static_cast<int64_t>(steps));
  }

  // Graphs, plan, memory: the training graph with its optimizer state, and the evaluation graph
  // sharing the parameters.
  LmGraph model = build_lm(train_model_config(cfg, vocab.size()));
  Optimizer opt(optimizer_config(cfg, total_steps), model.g, model.grads);
  ExecutorOptions eo;
  eo.extra = opt.requests();
  eo.extra.push_back(LossWindow::request());
  eo.grads_to_keep = opt.grads_to_keep();
  Executor ex(model.g, *be, eo);
  opt.bind(ex, 0);
  LossWindow losses;
  losses.bind(ex, eo.extra.size() - 1, model.loss);

  // No held-out shard: no evaluation graph either (at LM1B scale its logits are hundreds of MB).
  std::optional<LmGraph> eval_model;
  std::unique_ptr<Executor> eval_ex;
  if (!heldout.empty()) {
    eval_model = build_lm(eval_model_config(cfg, vocab.size()));
    ExecutorOptions eval_eo;
    eval_eo.share_gemm_scratch = &ex;  // never runs at the same time as the training graph
    for (ValueId p : model.g.parameters()) eval_eo.external[model.g.value(p).name] = ex.tensor(p);
    eval_ex = std::make_unique<Executor>(eval_model->g, *be, eval_eo);
  }
  const size_t planned_eval = eval_ex ? eval_ex->plan().total_bytes() : 0;
  const size_t planned = ex.plan().total_bytes() + planned_eval;

  int64_t step = 0, words_seen = 0;
  BestHeldout best;  // the best held-out perplexity so far, and its step (--keep-best, summary)
  best.measured_on = heldout.empty() ? "" : measured_on_text(heldout, cfg.eval_max_tokens);
  if (ck) {
    restore_model(*ck, ex, model, /*with_state=*/true);
    restore_optimizer(*ck, *be, opt);
    step = ck->step;
    words_seen = ck->words_seen;
    SG_CHECK(step <= total_steps, "cannot resume ", ck_path, ": it is at step ", step,
             " but --steps is ", total_steps);
    batches.skip(step);
    log.line("resumed from " + ck_path + " at step " + std::to_string(step));
    if (!best.restore(ck->file.metadata, best.measured_on))
      log.line(
          "note: the checkpoint's best held-out perplexity was measured on other held-out "
          "text or --eval-tokens than this run's, so it is not compared: " +
          std::string(cfg.keep_best ? "best.safetensors is replaced at this run's first "
                                      "evaluation"
                                    : "the best is this run's own"));
  } else {
    init_lm_parameters(ex, model, cfg.seed);
    reset_lm_state(ex, model);
  }
  log.line(
      "sketchgrad train: " + std::to_string(corpus.train_shards.size()) + " training shard(s)" +
      (corpus.split_named ? " (" + join_file_names(corpus.train_shards) + ")" : "") +
      ", vocabulary " + std::to_string(vocab.size()) + " words" + (ck ? " (from checkpoint)" : ""));

  log.line("model: emb " + std::to_string(cfg.emb) + ", LSTM " + std::to_string(cfg.layers) + "x" +
           std::to_string(cfg.hidden) +
           (cfg.proj ? "->" + std::to_string(cfg.proj) : std::string()) + ", softmax " +
           cfg.softmax + ", batch " + std::to_string(cfg.batch) + "x" + std::to_string(cfg.bptt) +
           "; optimizer " + cfg.optimizer + " with " + cfg.state + " state; " +
           std::to_string(total_steps) + " steps; planned memory " + format_bytes(planned) +
           " on " + be->description());
  for (const std::string& note : opt.sketch_load_notes()) log.line(note);
  for (const std::string& note : opt.policy_notes()) log.line(note);
  for (const std::string& note :
       settings_notes(cfg, corpus, total_steps, !opt.state_tensors().empty()))
    log.line(note);
  if (cfg.heldout.empty()) cfg.heldout = heldout;  // the start record and summary name the file
  if (!heldout_is_training.empty())
    log.line("warning: the held-out text " + heldout + " is also training text (" +
             heldout_is_training +
             "): its perplexity measures memorisation, not how the model does on unseen text");
  log.line(heldout.empty()
               ? std::string("held-out: none (") +
                     (cfg.heldout == "none" ? "--heldout none" : "the corpus has none") +
                     "), no held-out evaluation"
               : "held-out: " + heldout);
  log.record({{"event", "start"},
              {"config", cfg.to_json()},
              {"vocab", vocab.size()},
              {"total_steps", total_steps},
              {"planned_bytes", planned},
              {"plan_by_category", categories_json(ex.plan())}});

  double last_eval_s = 0;  // the ETA adds the evaluations still to come at this duration
  bool evaluated = false;  // the held-out text's literal <S> / </S> are noted once
  auto run_eval = [&](int64_t at_step) -> std::optional<EvalResult> {
    if (heldout.empty()) return std::nullopt;
    EvalBatcher eb(heldout, vocab, eval_model->cfg.batch, eval_model->cfg.bptt,
                   cfg.eval_max_tokens);
    const std::string held_marker_note = literal_marker_note(eb.literal_markers(), heldout);
    if (!evaluated && !held_marker_note.empty()) log.line(held_marker_note);
    evaluated = true;
    EvalResult r = evaluate(*eval_ex, *eval_model, eb, eval_progress(log, eb.total_predicted()),
                            [] { return g_stop_signal != 0; });
    char buf[200];
    if (r.stopped) {
      std::snprintf(buf, sizeof buf,
                    "held-out evaluation at step %lld stopped by signal %d after %lld of %lld "
                    "tokens",
                    static_cast<long long>(at_step), static_cast<int>(g_stop_signal),
                    static_cast<long long>(r.tokens), static_cast<long long>(eb.total_predicted()));
      log.line(buf);
      return std::nullopt;
    }
    last_eval_s = r.seconds;
    std::snprintf(buf, sizeof buf,
                  "held-out at step %lld: perplexity %.6g over %lld tokens, %.1f %% <UNK> (%.1f s)",
                  static_cast<long long>(at_step), r.perplexity(), static_cast<long long>(r.tokens),
                  100.0 * r.unk_share(), r.seconds);
    log.line(buf);
    if (!unk_warning(r).empty()) log.line(unk_warning(r));
    const std::string worse = worse_than_uniform_warning(r, vocab.size());
    if (!worse.empty()) log.line(worse);
    log.record({{"event", "eval"},
                {"step", at_step},
                {"perplexity", r.perplexity()},
                {"tokens", r.tokens},
                {"unk_tokens", r.unk_targets},
                {"seconds", r.seconds}});
    if (best.offer(r.perplexity(), at_step) && cfg.keep_best) {
      // No optimizer state: for eval and generate, not for --resume.
      const std::string& path = best_path;
      folder->check_ours(path, "best checkpoint");
      save_checkpoint(path, cfg, at_step, words_seen, vocab, ex, model, nullptr, best.metadata());
      folder->adopt(path);
      log.line("best held-out perplexity so far: written to " + path);
      log.record({{"event", "best"}, {"step", at_step}, {"path", path}});
    }
    return r;
  };
  auto t_saved = std::chrono::steady_clock::now();
  bool checkpoint_on_disk = ck.has_value();  // the resumed one, or one this run wrote
  auto save = [&](int64_t at_step) {
    if (ck_path.empty()) return;
    const auto t0 = std::chrono::steady_clock::now();
    folder->check_ours(ck_path, "checkpoint");
    save_checkpoint(ck_path, cfg, at_step, words_seen, vocab, ex, model, &opt, best.metadata());
    folder->adopt(ck_path);
    checkpoint_on_disk = true;
    std::error_code ec;
    const auto bytes = std::filesystem::file_size(ck_path, ec);
    char buf[96];
    std::snprintf(buf, sizeof buf, " (%s, %.1f s)", ec ? "?" : format_bytes(bytes).c_str(),
                  seconds_since(t0));
    log.line("checkpoint at step " + std::to_string(at_step) + " written to " + ck_path + buf);
    log.record({{"event", "checkpoint"}, {"step", at_step}, {"path", ck_path}});
    t_saved = std::chrono::steady_clock::now();
  };

  const int64_t first_step = step;  // 0, or the resumed checkpoint's step
  // A non-finite loss in the open window of steps: one line, exit 1, the last checkpoint is kept.
  auto report_divergence = [&](float window_sum, int64_t window_steps) {
    const int64_t from = step - window_steps + 1;
    log.line(
        "training diverged " +
        (from == step ? "at step " + std::to_string(step)
                      : "between steps " + std::to_string(from) + " and " + std::to_string(step)) +
        " (loss " + std::to_string(window_sum) + "); try a smaller --lr or --clip" +
        (ck_path.empty() ? std::string("")
         : checkpoint_on_disk
             ? "; the last checkpoint, from before it, is kept"
             : "; no checkpoint was written before it (--checkpoint-every N writes them sooner)"));
    log.record({{"event", "diverged"}, {"step", step}, {"first_step", from}});
    // A sweep's script reads the summary of every run: a diverged one says so instead of leaving
    // no file (or the previous run's).
    if (!cfg.summary_json.empty()) {
      TrainSummaryInputs in;
      in.steps = step;
      in.total_steps = total_steps;
      in.first_step = first_step;
      in.planned_bytes = planned;
      in.optimizer = opt.describe();
      in.device = be->description();
      in.config = cfg.to_json();
      write_whole_file(cfg.summary_json, json_text(diverged_summary(in, from), 2) + "\n",
                       "--summary-json file");
    }
    return 1;
  };
  auto diverged = [&] {
    if (losses.steps() == 0) return false;
    const float s = losses.sum();
    if (std::isfinite(s)) return false;
    report_divergence(s, losses.steps());
    return true;
  };

  const double setup_s = seconds_since(t_setup);
  auto t_start = std::chrono::steady_clock::now(), t_window = t_start, t_measure = t_start;
  double last_window_loss = NAN;
  // Held-out evaluations and checkpoints inside the loop are not training: their time is kept out
  // of words/s and the ETA (window_pause_s: since the last progress line; measure_pause_s: since
  // the measurement began).
  double window_pause_s = 0, measure_pause_s = 0, pause_s = 0;
  auto paused = [&](auto&& work) {
    const auto t0 = std::chrono::steady_clock::now();
    work();
    const double s = seconds_since(t0);
    window_pause_s += s;
    measure_pause_s += s;
    pause_s += s;
  };
  int64_t measured_steps = 0;
  bool measuring = false;
  Batch b;
  double data_s = 0, optimizer_s = 0;
  if (cfg.profile) ex.set_profiling(true);
  bool interrupted = false;  // by a signal: checkpoint and summary, no final evaluation
  while (step < total_steps) {
    if (g_stop_signal && step == first_step) return stopped_before_training();
    if (g_stop_signal) {
      if (diverged()) return 1;
      log.line(
          "stopped by signal " + std::to_string(g_stop_signal) + " at step " +
          std::to_string(step) +
          (ck_path.empty() ? " (no --checkpoint: progress is lost)" : "; writing the checkpoint"));
      interrupted = true;
      break;
    }
    auto t_data = std::chrono::steady_clock::now();
    b = batches.next();
    data_s += seconds_since(t_data);
    ex.upload(model.tokens, b.tokens.data(), b.tokens.size() * sizeof(int32_t));
    ex.upload(model.targets, b.targets.data(), b.targets.size() * sizeof(int32_t));
    ++step;
    ex.run(step, cfg.seed, /*training=*/true);
    auto t_opt = std::chrono::steady_clock::now();
    opt.step(step);
    if (cfg.profile) be->synchronize();
    optimizer_s += seconds_since(t_opt);
    losses.add_step();  // read once per progress window: no wait for the device here
    words_seen += b.predicted;
    // words/s excludes the first warmup_steps of this process (allocation, caches, thread
    // start-up).
    if (!measuring && step - first_step >= cfg.warmup_steps) {
      be->synchronize();  // the warm-up steps the device still has queued are not measured
      measuring = true;
      t_measure = std::chrono::steady_clock::now();
      measure_pause_s = 0;
      measured_steps = 0;
    } else if (measuring) {
      ++measured_steps;
    }
    const bool last = step == total_steps;
    if (step % cfg.progress_every == 0 || last) {
      int64_t window_steps = 0;
      const float window_sum = losses.take(&window_steps);  // waits for the device
      if (!std::isfinite(window_sum)) return report_divergence(window_sum, window_steps);
      const double dt = std::max(seconds_since(t_window) - window_pause_s, 1e-9);
      ProgressInfo p;
      p.step = step;
      p.total_steps = total_steps;
      p.loss = static_cast<double>(window_sum) / window_steps;
      p.words_per_s = window_steps * words_per_step / std::max(dt, 1e-9);
      p.lr = opt.learning_rate(step);
      p.epochs = batches.epochs_done();
      p.planned_bytes = planned;
      p.resident_bytes = peak_resident_bytes();
      p.eta_s = (total_steps - step) * dt / window_steps;
      if (!heldout.empty())
        p.eta_s += evaluations_left(step, total_steps, cfg.eval_every) * last_eval_s;
      p.sampled = cfg.sampled_count() > 0;
      log.progress(p);
      log.record({{"event", "train"},
                  {"step", step},
                  {"loss", p.loss},
                  {"words_per_s", p.words_per_s},
                  {"lr", p.lr},
                  {"grad_norm", opt.last_grad_norm()},
                  {"epochs", p.epochs},
                  {"elapsed_s", seconds_since(t_start)}});
      last_window_loss = p.loss;
      t_window = std::chrono::steady_clock::now();
      window_pause_s = 0;
    }
    if (cfg.eval_every > 0 && step % cfg.eval_every == 0 && !last) {
      if (diverged()) return 1;  // no evaluation of diverged parameters
      paused([&] { run_eval(step); });
    }
    const bool every = cfg.checkpoint_every > 0 && step % cfg.checkpoint_every == 0;
    const bool timed =
        cfg.checkpoint_minutes > 0 && seconds_since(t_saved) >= 60.0 * cfg.checkpoint_minutes;
    if ((every || timed) && !last) {
      if (diverged()) return 1;  // never checkpoint parameters a diverged step has updated
      paused([&] { save(step); });
    }
  }
  const double train_s = seconds_since(t_start);
  const double measured_s = measuring ? seconds_since(t_measure) - measure_pause_s : 0;
  const double words_per_s =
      measured_steps > 0 ? measured_steps * words_per_step / std::max(measured_s, 1e-9)
                         : (step - first_step) * words_per_step / std::max(train_s - pause_s, 1e-9);
  be->synchronize();
  if (cfg.profile) log_profile(log, ex.profile(), step - first_step, train_s, optimizer_s, data_s);
  const auto t_final = std::chrono::steady_clock::now();
  save(step);
  TrainSummaryInputs in;
  if (!interrupted) in.final_eval = run_eval(step);
  in.final_s = seconds_since(t_final);
  in.first_step = first_step;
  in.stopped_by_signal = g_stop_signal;
  in.steps = step;
  in.total_steps = total_steps;
  in.measured_steps = measured_steps;
  in.vocab = vocab.size();
  in.words_per_step = words_per_step;
  in.words_per_s = words_per_s;
  in.train_s = train_s;
  in.pause_s = pause_s;
  in.setup_s = setup_s;
  in.final_train_loss = last_window_loss;
  in.train_loss_is_sampled = cfg.sampled_count() > 0;
  in.planned_bytes = planned;
  in.planned_train_bytes = ex.plan().total_bytes();
  in.planned_eval_bytes = planned_eval;
  in.planned_peak_bytes = categories_json(ex.plan());
  in.measured_peak_bytes = be->bytes_high_water();
  in.peak_rss_bytes = peak_resident_bytes();
  in.optimizer = opt.describe();
  in.device = be->description();
  in.config = cfg.to_json();
  if (dev_total > 0) {
    size_t total_at_end = 0;
    in.device_total = dev_total;
    in.device_free_at_start = dev_free0;
    be->memory_info(&in.device_free_at_end, &total_at_end);
  }
  if (best.known()) {
    in.best_perplexity = best.perplexity;
    in.best_step = best.step;
  }
  const nlohmann::json summary = train_summary(in);
  log.record({{"event", "end"}, {"summary", summary}});
  log.line(done_line(in));
  if (!cfg.summary_json.empty())
    write_whole_file(cfg.summary_json, json_text(summary, 2) + "\n", "--summary-json file");
  return g_stop_signal ? 128 + g_stop_signal
                       : 0;  // a signal during the final evaluation: training was complete
}

}  // namespace sg
