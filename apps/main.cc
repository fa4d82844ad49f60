// sketchgrad command line: train | eval | generate | plan | vocab | synth. Flags are parsed with
// CLI11; every user-facing failure is one line on stderr and a non-zero exit (2 for bad flags, 1
// for everything else).
#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include "apps/commands.h"
#include "apps/std_streams.h"
#include "data/synthetic.h"
#include "engine/check.h"

namespace {

// --seed: a decimal integer in [0, 2^64). The parser alone would wrap "-1" to 2^64 - 1 and take
// 2^64 as 2^64 - 1, silently.
const CLI::Validator kSeedRange(
    [](std::string& s) -> std::string {
      const bool digits = !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
      if (!digits || s.size() > 20 || (s.size() == 20 && s > "18446744073709551615"))
        return "must be an integer in [0, 2^64), got '" + s + "'";
      return "";
    },
    "UINT64");

// A closed range for a floating-point flag. CLI::Range tests `v < lo || v > hi`, which a NaN never
// fails, so "nan" would pass it; here it is out of range like any other value.
CLI::Validator float_range(double lo, double hi) {
  const CLI::Range range(lo, hi);
  return CLI::Validator(
      [range, lo, hi](std::string& s) -> std::string {
        char* end = nullptr;
        const double v = std::strtod(s.c_str(), &end);
        if (end != s.c_str() && *end == '\0' && std::isnan(v))
          return "Value " + s + " not in range " + std::to_string(lo) + " to " + std::to_string(hi);
        return range(s);
      },
      range.get_description());
}

// Model/optimizer/run flags shared by `train` and `plan`. A preset sets the model fields first;
// flags given explicitly on the command line override it.
struct ModelFlags {
  sg::RunConfig parsed;
  std::vector<std::pair<CLI::Option*, std::function<void(sg::RunConfig&)>>> overrides;

  template <typename T>
  CLI::Option* add(CLI::App* app, const std::string& flag, T sg::RunConfig::*field,
                   const std::string& help) {
    CLI::Option* opt = app->add_option(flag, parsed.*field, help);
    overrides.emplace_back(opt, [this, field](sg::RunConfig& c) { c.*field = parsed.*field; });
    return opt;
  }

  void register_flags(CLI::App* app, bool for_training) {
    add(app, "--preset", &sg::RunConfig::preset, "tiny | small (default) | paper-lm1b");
    add(app, "--emb", &sg::RunConfig::emb, "embedding size");
    add(app, "--hidden", &sg::RunConfig::hidden, "LSTM cell size H");
    add(app, "--proj", &sg::RunConfig::proj, "LSTM projection size P (0 = none)");
    add(app, "--layers", &sg::RunConfig::layers, "LSTM layers");
    add(app, "--dropout", &sg::RunConfig::dropout,
        "dropout probability (default: the preset's, 0.01 for paper-lm1b, else 0)");
    add(app, "--softmax", &sg::RunConfig::softmax, "full | sampled:S");
    add(app, "--lstm", &sg::RunConfig::lstm_impl, "LSTM implementation on CUDA: native | cudnn");
    add(app, "--batch", &sg::RunConfig::batch, "streams per batch B (default: the preset's)");
    add(app, "--bptt", &sg::RunConfig::bptt,
        "tokens per stream per step T (default: the preset's)");
    add(app, "--optimizer", &sg::RunConfig::optimizer,
        "sgd | momentum | nesterov | adagrad | rmsprop | adam | adamw | sm3 | sm3-momentum | "
        "topk-sgd | randk-sgd | topk-sgd-nofeedback");
    add(app, "--lr", &sg::RunConfig::lr,
        "learning rate (default: the preset's Adam rate, 0.004, tiny 0.01; without --lr sgd, "
        "topk-sgd, randk-sgd and topk-sgd-nofeedback take 1.0, momentum/nesterov 0.1, rmsprop "
        "0.001, with a note)");
    add(app, "--schedule", &sg::RunConfig::schedule,
        "constant | linear | cosine | warmup:N | warmup:N+linear | warmup:N+cosine (default "
        "constant; paper-lm1b: linear)");
    add(app, "--clip", &sg::RunConfig::clip,
        "clip gradients to this global norm (0 = off; default: the preset's, 1.0)");
    add(app, "--clip-per-param", &sg::RunConfig::clip_per_param,
        "also clip each parameter's gradient to this norm (0 = off, the default)");
    add(app, "--beta1", &sg::RunConfig::beta1, "Adam/AdamW first-moment decay (default 0.9)");
    add(app, "--beta2", &sg::RunConfig::beta2,
        "second-moment decay: Adam/AdamW (default 0.999), RMSprop (default 0.99)");
    add(app, "--eps", &sg::RunConfig::eps,
        "Adam/AdamW/RMSprop/Adagrad/SM3/SM3-momentum epsilon (default 1e-8)");
    add(app, "--momentum", &sg::RunConfig::momentum,
        "momentum/nesterov/sm3-momentum factor (default 0.9)");
    add(app, "--weight-decay", &sg::RunConfig::weight_decay,
        "weight decay: L2 on the gradient, AdamW decoupled (default 0)");
    add(app, "--sparsify", &sg::RunConfig::sparsify,
        "topk-sgd/randk-sgd: fraction of gradient entries sent (default 0.01)");
    add(app, "--state", &sg::RunConfig::state,
        "optimizer state policy: dense (default) | bf16 | cs-mv | cs-v | cs-m | cs-v-nom | "
        "cs-mv:10x | ... (optimizers/policy.h)");
    add(app, "--data", &sg::RunConfig::data,
        "LM1B-layout corpus folder, a split-named folder (wiki.train.tokens, ...), or text files "
        "FILE[,FILE...] (a path that exists is one path, even with a comma in its name)");
    add(app, "--vocab", &sg::RunConfig::vocab_file,
        "vocabulary file to load instead of building one");
    add(app, "--min-count", &sg::RunConfig::min_count,
        "minimum word count for the built vocabulary (default 3)");
    add(app, "--device", &sg::RunConfig::device, "cpu (default) | cuda | cuda:N");
    add(app, "--threads", &sg::RunConfig::threads,
        for_training ? "CPU threads (0 = all cores, the default)"
                     : "CPU threads of the run planned (0 = this machine's cores): a CPU run plans "
                       "1.3 MB of matrix-product scratch per thread");
    add(app, "--heldout", &sg::RunConfig::heldout,
        for_training ? "held-out shard file (default: the 00000 held-out shard; none: no held-out "
                       "evaluation)"
                     : "none: plan a run without held-out evaluation (no evaluation graph, as "
                       "train --heldout none); a file, or no flag: with it (default)");
    if (!for_training) return;
    add(app, "--steps", &sg::RunConfig::steps, "training steps (0 = use --epochs)");
    add(app, "--epochs", &sg::RunConfig::epochs,
        "training epochs, > 0 (fraction allowed; default 1 when --steps is not given)");
    add(app, "--seed", &sg::RunConfig::seed, "random seed (default 1)")->check(kSeedRange);
    add(app, "--checkpoint", &sg::RunConfig::checkpoint, "checkpoint folder");
    add(app, "--checkpoint-every", &sg::RunConfig::checkpoint_every,
        "also write the checkpoint every this many steps (0 = off)");
    add(app, "--checkpoint-minutes", &sg::RunConfig::checkpoint_minutes,
        "also write the checkpoint every this many minutes (default 10; 0 = off)");
    add(app, "--log", &sg::RunConfig::log,
        "JSON-lines metrics file, appended to: each run starts with a \"start\" event");
    add(app, "--summary-json", &sg::RunConfig::summary_json, "end-of-run summary JSON file");
    add(app, "--eval-every", &sg::RunConfig::eval_every,
        "steps between held-out evaluations (0 = end only, the default)");
    add(app, "--eval-tokens", &sg::RunConfig::eval_max_tokens,
        "cap on held-out tokens per evaluation (0 = all, the default)");
    add(app, "--progress-every", &sg::RunConfig::progress_every,
        "steps between progress lines (default 10)");
    add(app, "--warmup-steps", &sg::RunConfig::warmup_steps,
        "steps excluded from the words/s measurement (default 3)");
    CLI::Option* tf32 = app->add_flag(
        "--tf32", parsed.tf32,
        "CUDA: TF32 tensor cores for matrix products and the cuDNN LSTM (default strict FP32)");
    overrides.emplace_back(tf32, [this](sg::RunConfig& c) { c.tf32 = parsed.tf32; });
    app->add_flag("--resume", parsed.resume, "continue from the checkpoint in --checkpoint");
    app->add_flag("--profile", parsed.profile,
                  "print the time spent per op type, optimizer and data at the end");
    app->add_flag("--keep-best", parsed.keep_best,
                  "with --checkpoint: also keep the parameters of the best held-out perplexity in "
                  "best.safetensors there (for eval and generate)");
  }

  sg::RunConfig resolve() {
    sg::RunConfig c;
    c.preset = parsed.preset;
    c.apply_preset();
    bool beta2_given = false, lr_given = false;
    for (auto& [opt, apply] : overrides) {
      if (opt->count() == 0) continue;
      apply(c);
      if (opt->check_lname("softmax")) c.softmax_given = true;
      if (opt->check_lname("min-count")) c.min_count_given = true;
      if (opt->check_lname("beta2")) beta2_given = true;
      if (opt->check_lname("lr")) lr_given = true;
      // 0 is the unset value ("one epoch unless --steps"): given, it would silently mean one.
      if (opt->check_lname("epochs") && !(c.epochs > 0))
        SG_FAIL("--epochs must be > 0, got ", c.epochs, " (leave it out for one epoch)");
    }
    // The presets' learning rates are Adam's; rules whose steps scale differently get their own
    // (sgd at 0.004 does not move, rmsprop diverges), with a note (sg::RunConfig::lr_note).
    if (!lr_given) c.use_rule_default_lr();
    // RMSprop's decay defaults to 0.99 (PyTorch's alpha; Adam's 0.999 makes its first steps ~32x
    // lr per element, which diverges at the presets' learning rates).
    if (c.optimizer == "rmsprop" && !beta2_given) c.beta2 = 0.99f;
    c.resume = parsed.resume;
    c.profile = parsed.profile;
    c.keep_best = parsed.keep_best;
    return c;
  }
};

int run_command(int argc, char** argv);

}  // namespace

int main(int argc, char** argv) {
  const bool stdout_closed = sg::occupy_closed_std_descriptors();
  return sg::finish_stdout(run_command(argc, argv), stdout_closed);
}

namespace {

int run_command(int argc, char** argv) {
  CLI::App app{"sketchgrad: LSTM language models with sketched optimizer state, planned memory"};
  // A flag given twice takes its last value (as in most tools: a script's defaults, then the
  // user's override); subcommands inherit this.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "all subcommands' flags");

  CLI::App* train = app.add_subcommand(
      "train", "train a language model on an LM1B-layout corpus or plain-text files");
  ModelFlags train_flags;
  train_flags.register_flags(train, true);

  CLI::App* plan =
      app.add_subcommand("plan", "memory plan of a configuration (no data, no allocation)");
  ModelFlags plan_flags;
  plan_flags.register_flags(plan, false);
  sg::PlanOptions plan_opts;
  // The range of synth's --vocab-size (the largest vocabulary a run can load); a typed 0 (the
  // "not given" default) is refused like 3 or -1.
  plan->add_option("--vocab-size", plan_opts.vocab_size,
                   "vocabulary size (default: from --data or preset)")
      ->check(CLI::Range(int64_t(4), sg::kMaxSyntheticVocab));
  plan->add_flag("--compare", plan_opts.compare,
                 "dense state beside --state's policy (cs-mv when --state is dense)");
  // CLI11 joins a list flag's occurrences into one list, TakeLast or not. Kept one list per
  // occurrence, the last list wins, as the last value of every other flag does.
  std::vector<std::vector<std::string>> compare_states_given;
  plan->add_option("--compare-states", compare_states_given,
                   "state policies side by side, e.g. dense cs-mv cs-v-nom (implies --compare)");
  plan->add_option("--budget", plan_opts.budget,
                   "memory budget, e.g. 16GiB: find the largest batch that fits");
  plan->add_flag("--json", plan_opts.json, "machine-readable output");
  plan->add_option("--svg", plan_opts.svg, "write a picture of the arenas to this SVG file");

  CLI::App* eval = app.add_subcommand("eval", "held-out perplexity of a checkpoint (full softmax)");
  sg::EvalOptions eval_opts;
  eval->add_option("--checkpoint", eval_opts.checkpoint, "checkpoint file or folder")->required();
  eval->add_option(
      "--data", eval_opts.data,
      "LM1B-layout folder (held-out shard 00000), or a split-named folder (its test file)");
  eval->add_option("--shard", eval_opts.shard, "explicit held-out shard file");
  eval->add_option("--device", eval_opts.device, "cpu (default) | cuda | cuda:N");
  eval->add_option("--threads", eval_opts.threads, "CPU threads (0 = all)")
      ->check(CLI::Range(0, 1024));
  eval->add_option("--batch", eval_opts.batch,
                   "streams per batch (default 0: as the training run's held-out evaluation, so "
                   "the perplexity is the one train reported)")
      ->check(CLI::Range(0, 1 << 20));
  eval->add_option("--bptt", eval_opts.bptt,
                   "tokens per stream per step (default: the training run's)")
      ->check(CLI::Range(1, 10000));
  eval->add_option("--max-tokens", eval_opts.max_tokens,
                   "stop after this many tokens (0 = all, the default)");
  eval->add_option("--json", eval_opts.json, "write the result as JSON here");

  CLI::App* gen = app.add_subcommand("generate", "sample text from a checkpoint");
  sg::GenerateOptions gen_opts;
  gen->add_option("--checkpoint", gen_opts.checkpoint, "checkpoint file or folder")->required();
  gen->add_option("--prompt", gen_opts.prompt, "words to start from");
  gen->add_option("--count", gen_opts.count, "sentences to generate (default 3)")
      ->check(CLI::Range(1, 10000));
  gen->add_option("--max-words", gen_opts.max_words,
                  "sampled words per sentence at most (the prompt's words not counted; default 40)")
      ->check(CLI::Range(1, 10000));
  gen->add_option("--temperature", gen_opts.temperature, "sampling temperature (default 1.0)")
      ->check(float_range(0.01, 100.0));
  gen->add_option("--top-k", gen_opts.top_k,
                  "sample among the k most likely words (0 = all, the default)")
      ->check(CLI::Range(0, 1 << 30));
  gen->add_option(
         "--top-p", gen_opts.top_p,
         "sample among the most likely words holding this much probability (1 = all, the default)")
      ->check(float_range(1e-6, 1.0));
  gen->add_option("--seed", gen_opts.seed, "random seed (default 1)")->check(kSeedRange);
  gen->add_option("--device", gen_opts.device, "cpu (default) | cuda | cuda:N");
  gen->add_option("--threads", gen_opts.threads, "CPU threads (0 = all)")
      ->check(CLI::Range(0, 1024));

  CLI::App* vocab = app.add_subcommand("vocab", "build a vocabulary file from the training shards");
  sg::VocabOptions vocab_opts;
  vocab
      ->add_option("--data", vocab_opts.data,
                   "LM1B-layout or split-named folder, or text files FILE[,FILE...]")
      ->required();
  vocab->add_option("--out", vocab_opts.out, "output file (word count per line)")->required();
  vocab->add_option("--min-count", vocab_opts.min_count, "minimum count (default 3)")
      ->check(CLI::Range(1, 1 << 30));

  CLI::App* synth = app.add_subcommand("synth", "write a synthetic LM1B-scale corpus (Zipf ids)");
  sg::SynthOptions synth_opts;
  synth->add_option("--out", synth_opts.out, "output folder (LM1B layout)")->required();
  synth->add_option("--sentences", synth_opts.sentences, "training sentences (default 100000)")
      ->check(CLI::Range(1LL, 1LL << 40));
  synth->add_option("--vocab-size", synth_opts.vocab, "vocabulary size (default 793471, LM1B's)")
      ->check(CLI::Range(int64_t(4), sg::kMaxSyntheticVocab));
  synth->add_option("--shards", synth_opts.shards, "training shards (default 10)")
      ->check(CLI::Range(1, 10000));
  synth->add_option("--seed", synth_opts.seed, "random seed (default 1)")->check(kSeedRange);

  // A misspelt command ("sketchgrad trian") is named; the parser would only say that a
  // subcommand is required.
  bool known_command = false;
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; }))
    known_command |= argc > 1 && sub->check_name(argv[1]);
  if (argc > 1 && argv[1][0] != '-' && !known_command) {
    std::fprintf(stderr,
                 "sketchgrad: error: unknown command '%s': expected train, eval, generate, plan, "
                 "vocab or synth (see --help)\n",
                 argv[1]);
    return 2;
  }
  // An empty value ("--steps ''", "--checkpoint=") is a mistake, never "use the default": the
  // parser would take it silently for some flags and as 0 for others. --prompt may be empty.
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool eq_empty = a.rfind("--", 0) == 0 && a.size() > 2 && a.back() == '=';
    const bool next_empty = a.rfind("--", 0) == 0 && i + 1 < argc && argv[i + 1][0] == '\0';
    const std::string flag = eq_empty ? a.substr(0, a.size() - 1) : a;
    if ((eq_empty || next_empty) && flag != "--prompt") {
      std::fprintf(stderr,
                   "sketchgrad: error: %s needs a value, got an empty string (see --help)\n",
                   flag.c_str());
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "sketchgrad: error: %s (see --help)\n", e.what());
    return 2;
  }

  try {
    if (*train) {
      sg::RunConfig cfg = train_flags.resolve();
      cfg.validate();
      return sg::cmd_train(cfg);
    }
    if (*plan) {
      if (!compare_states_given.empty()) plan_opts.compare_states = compare_states_given.back();
      plan_opts.cfg = plan_flags.resolve();
      plan_opts.cfg.validate();
      return sg::cmd_plan(plan_opts);
    }
    if (*eval) return sg::cmd_eval(eval_opts);
    if (*gen) return sg::cmd_generate(gen_opts);
    if (*vocab) return sg::cmd_vocab(vocab_opts);
    if (*synth) return sg::cmd_synth(synth_opts);
  } catch (const sg::Error& e) {
    std::fprintf(stderr, "sketchgrad: error: %s\n", e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "sketchgrad: error: out of host memory\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sketchgrad: error: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace
