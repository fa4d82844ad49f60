// `sketchgrad plan`: the memory plan of a configuration without data and without allocating
// anything. It builds the training graph and the optimizer exactly as `train` would, collects the
// buffer requests (engine/executor.h collect_requests) and runs the planner on them:
//   - a table by category and by layer (engine/planner.h format_plan);
//   - --compare: dense state next to --state's policy (cs-mv when --state is dense);
//     --compare-states A B ...: any policies side by side, ratios to the first;
//   - --budget SIZE: the largest batch whose plan fits (planned bytes grow monotonically with the
//   batch);
//   - --json for scripts, --svg FILE for a picture of the arenas (engine/plan_svg.h).
// The evaluation graph (full softmax, forward only) that `train` also builds is planned and
// reported beside it, unless train would evaluate nothing (--heldout none, or --data without
// held-out text).
#include <algorithm>
#include <cstdio>
#include <iomanip>
#include <optional>
#include <sstream>

#include "apps/commands.h"
#include "apps/json_text.h"
#include "apps/loss_window.h"
#include "apps/model_setup.h"
#include "data/corpus.h"
#include "data/output_file.h"
#include "data/synthetic.h"
#include "data/vocab.h"
#include "engine/check.h"
#include "engine/plan_svg.h"

namespace sg {
namespace {

constexpr int64_t kPaperVocab = 793471;

struct PlannedRun {
  std::string state;
  int64_t batch = 0;
  GraphRequests train;
  Plan train_plan;
  int num_ops = 0;
  Plan eval_plan;
  int64_t eval_batch = 0;
  std::string optimizer;
  std::vector<std::string> notes;  // overloaded sketches (Optimizer::sketch_load_notes)
  size_t total() const { return train_plan.total_bytes() + eval_plan.total_bytes(); }
};

PlannedRun plan_run(RunConfig cfg, int64_t vocab, const std::string& state, int64_t batch) {
  cfg.state = state;
  cfg.batch = static_cast<int>(batch);
  PlannedRun r;
  r.state = state;
  r.batch = batch;
  LmGraph model = build_lm(train_model_config(cfg, vocab));
  // The schedule does not change memory; a run length beyond any warm-up lets every schedule parse
  // (plan takes no --steps).
  Optimizer opt(optimizer_config(cfg, std::max<int64_t>(cfg.steps, int64_t(1) << 40)), model.g,
                model.grads);
  // The products' workspace, as an Executor on that device with these threads plans it.
  const size_t gemm_scratch = gemm_workspace_bytes(
      runs_on_cpu(cfg.device) ? Device::CPU : Device::CUDA, resolved_threads(cfg.threads));
  ExecutorOptions eo;
  eo.gemm_scratch_bytes = gemm_scratch;
  eo.extra = opt.requests();
  eo.extra.push_back(LossWindow::request());  // as train does
  eo.grads_to_keep = opt.grads_to_keep();
  r.train = collect_requests(model.g, eo);
  r.train_plan = plan_memory(r.train.requests);
  r.num_ops = static_cast<int>(model.g.nodes().size());
  r.optimizer = opt.describe();
  r.notes = opt.sketch_load_notes();
  for (const std::string& note : opt.policy_notes()) r.notes.push_back(note);
  if (cfg.heldout == "none") return r;  // train builds no evaluation graph either
  LmGraph eval_model = build_lm(eval_model_config(cfg, vocab));
  // The evaluation graph shares the training parameters (planned as external, not counted twice)
  // and, as in train, the training graph's gemm workspace (none of its own).
  ExecutorOptions eval_eo;
  for (ValueId p : eval_model.g.parameters())
    eval_eo.external[eval_model.g.value(p).name] = Tensor{};
  r.eval_plan = plan_memory(collect_requests(eval_model.g, eval_eo).requests);
  r.eval_batch = eval_model.cfg.batch;
  return r;
}

nlohmann::json plan_json(const PlannedRun& r) {
  nlohmann::json cat = nlohmann::json::object(), layer = nlohmann::json::object();
  for (const auto& [c, b] : r.train_plan.by_category) cat[category_name(c)] = b;
  for (const auto& [l, b] : r.train_plan.by_layer) layer[l] = b;
  return {{"state", r.state},
          {"batch", r.batch},
          {"persistent_bytes", r.train_plan.persistent_bytes},
          {"step_bytes", r.train_plan.step_bytes},
          {"step_peak_live_bytes", r.train_plan.step_peak_live},
          {"train_total_bytes", r.train_plan.total_bytes()},
          {"eval_total_bytes", r.eval_plan.total_bytes()},
          {"eval_batch", r.eval_batch},
          {"total_bytes", r.total()},
          {"by_category", cat},
          {"by_layer", layer},
          {"notes", r.notes}};
}

std::string mb(size_t b) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(1) << b / 1e6 << " MB";
  return os.str();
}

// Planned bytes by category of several runs side by side, each with its ratio to the first; a
// column is as wide as its policy's name.
std::string compare_table(const std::vector<const PlannedRun*>& runs) {
  std::ostringstream os;
  std::vector<int> width;
  for (const PlannedRun* r : runs) width.push_back(std::max<int>(14, r->state.size()));
  auto row = [&](const std::string& name, const std::vector<size_t>& v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "  %-22s", name.c_str());
    os << buf;
    for (size_t k = 0; k < v.size(); ++k) {
      os << " " << std::setw(width[k]) << mb(v[k]);
      if (k == 0) continue;
      const std::string ratio =
          v[0] ? std::to_string(static_cast<int>(100.0 * v[k] / v[0] + 0.5)) + "%" : "-";
      std::snprintf(buf, sizeof buf, " %7s", ratio.c_str());
      os << buf;
    }
    os << "\n";
  };
  char buf[64];
  std::snprintf(buf, sizeof buf, "  %-22s", "category");
  os << buf;
  for (size_t k = 0; k < runs.size(); ++k) {
    os << " " << std::setw(width[k]) << runs[k]->state;
    if (k > 0) os << "   ratio";
  }
  os << "\n";
  auto column = [&](auto&& bytes_of) {
    std::vector<size_t> v;
    for (const PlannedRun* r : runs) v.push_back(bytes_of(*r));
    return v;
  };
  auto category_bytes = [](const PlannedRun& r, Category cat) {
    auto it = r.train_plan.by_category.find(cat);
    return it == r.train_plan.by_category.end() ? size_t(0) : it->second;
  };
  for (int c = 0; c < kNumCategories; ++c) {
    const Category cat = static_cast<Category>(c);
    auto v = column([&](const PlannedRun& r) { return category_bytes(r, cat); });
    if (std::any_of(v.begin(), v.end(), [](size_t x) { return x != 0; }))
      row(category_name(cat), v);
  }
  row("optimizer state (all)", column([&](const PlannedRun& r) {
        return category_bytes(r, Category::OptStateDense) +
               category_bytes(r, Category::OptStateSketch) +
               category_bytes(r, Category::OptStateCover);
      }));
  row("training total", column([](const PlannedRun& r) { return r.train_plan.total_bytes(); }));
  row("+ evaluation graph", column([](const PlannedRun& r) { return r.eval_plan.total_bytes(); }));
  row("total", column([](const PlannedRun& r) { return r.total(); }));
  return os.str();
}

}  // namespace

int cmd_plan(const PlanOptions& o) {
  RunConfig cfg = o.cfg;
  int64_t vocab = o.vocab_size;
  // main checks --vocab-size as it parses (0 is "not given"); the same range for other callers.
  SG_CHECK(vocab == 0 || (vocab >= 4 && vocab <= kMaxSyntheticVocab), "--vocab-size: Value ", vocab,
           " not in range 4 to ", kMaxSyntheticVocab);
  // As train checks it: a held-out file that train would refuse fails the plan too.
  if (!cfg.heldout.empty() && cfg.heldout != "none") check_shard(cfg.heldout, "held-out shard");
  std::optional<CorpusLayout> corpus;
  if (!cfg.data.empty()) {
    corpus = find_corpus(cfg.data);
    for (const auto* notes : {&corpus->train_notes, &corpus->heldout_notes})
      for (const std::string& note : *notes) std::fprintf(stderr, "%s\n", note.c_str());
    if (cfg.heldout.empty() && corpus->heldout_shards.empty())
      cfg.heldout = "none";  // as train: no held-out text, no evaluation graph
  }
  if (vocab == 0 && corpus) {
    const CorpusLayout& c = *corpus;
    if (cfg.vocab_file.empty()) require_training(c);
    TrainLog log("");
    vocab = (cfg.vocab_file.empty()
                 ? build_vocab_reporting(c.train_shards, cfg.min_count, cfg.threads, log)
                 : Vocab::load(cfg.vocab_file))
                .size();
  } else if (vocab == 0 && !cfg.vocab_file.empty()) {
    vocab = Vocab::load(cfg.vocab_file).size();
  } else if (vocab == 0 && cfg.preset == "paper-lm1b") {
    vocab = kPaperVocab;
  }
  SG_CHECK(vocab >= 4,
           "plan needs a vocabulary size: --vocab-size N, --data DIR, --vocab FILE or "
           "--preset paper-lm1b");

  const std::string softmax_note = cfg.fit_softmax_to_vocab(vocab);
  int64_t batch = cfg.batch;
  std::string budget_note;
  if (!o.budget.empty()) {
    size_t budget = parse_bytes(o.budget);
    auto fits = [&](int64_t b) { return plan_run(cfg, vocab, cfg.state, b).total() <= budget; };
    if (!fits(1)) {
      SG_FAIL("this configuration does not fit in ", o.budget, " even with batch 1 (it needs ",
              format_bytes(plan_run(cfg, vocab, cfg.state, 1).total()), ")");
    }
    int64_t lo = 1, hi = 1;
    while (hi < (1 << 20) && fits(hi * 2)) hi *= 2;
    lo = hi;
    hi = std::min<int64_t>(hi * 2, 1 << 20);
    while (lo < hi) {  // largest b in [lo, hi] that fits
      int64_t mid = lo + (hi - lo + 1) / 2;
      if (fits(mid))
        lo = mid;
      else
        hi = mid - 1;
    }
    batch = lo;
    budget_note = "largest batch that fits in " + o.budget + " (" + format_bytes(budget) +
                  "): " + std::to_string(batch) +
                  (batch == (1 << 20) ? " (the largest --batch allowed; more would fit)" : "");
  }

  PlannedRun main_run = plan_run(cfg, vocab, cfg.state, batch);
  // --compare: dense beside --state's policy (cs-mv when --state is dense);
  // --compare-states: the listed policies, the first being the reference for the ratios.
  std::vector<PlannedRun> compared;
  if (!o.compare_states.empty()) {
    for (const std::string& st : o.compare_states)
      compared.push_back(plan_run(cfg, vocab, st, batch));
  } else if (o.compare) {
    const std::string sketched = cfg.state == "dense" ? "cs-mv" : cfg.state;
    compared.push_back(plan_run(cfg, vocab, "dense", batch));
    compared.push_back(plan_run(cfg, vocab, sketched, batch));
  }
  std::vector<const PlannedRun*> columns;
  for (const PlannedRun& r : compared) columns.push_back(&r);

  // An SVG sent to standard output stays a valid SVG: the table then goes to stderr.
  const bool svg_to_stdout = is_process_stdout(o.svg);
  SG_CHECK(!(svg_to_stdout && o.json),
           "--svg and --json both write to standard output; send the SVG to a file");
  FILE* out = svg_to_stdout ? stderr : stdout;
  if (!o.svg.empty()) {
    std::string svg =
        render_plan_svg(main_run.train_plan, main_run.train.requests, main_run.num_ops);
    write_whole_file(o.svg, svg, "--svg file");
  }

  if (o.json) {
    nlohmann::json j = {{"vocab", vocab}, {"config", cfg.to_json()}, {"plan", plan_json(main_run)}};
    j["config"]["batch"] = batch;
    if (columns.size() == 2 && o.compare_states.empty())  // --compare: the other policy
      j["compare"] = plan_json(*columns[cfg.state == "dense" ? 1 : 0]);
    if (!columns.empty()) {
      j["states"] = nlohmann::json::array();
      for (const PlannedRun* r : columns) j["states"].push_back(plan_json(*r));
    }
    if (!o.budget.empty()) j["budget_batch"] = batch;
    if (!softmax_note.empty()) j["softmax_note"] = softmax_note;
    std::fprintf(out, "%s\n", json_text(j, 2).c_str());
    return 0;
  }
  std::fprintf(
      out,
      "sketchgrad plan: vocab %lld, emb %d, LSTM %dx%d%s, softmax %s, batch %lldx%d, optimizer "
      "%s\n",
      static_cast<long long>(vocab), cfg.emb, cfg.layers, cfg.hidden,
      cfg.proj ? ("->" + std::to_string(cfg.proj)).c_str() : "", cfg.softmax.c_str(),
      static_cast<long long>(batch), cfg.bptt, cfg.optimizer.c_str());
  if (!budget_note.empty()) std::fprintf(out, "%s\n", budget_note.c_str());
  if (!softmax_note.empty()) std::fprintf(out, "%s\n", softmax_note.c_str());
  std::fprintf(out, "\noptimizer state per parameter (%s):\n%s\n", main_run.state.c_str(),
               main_run.optimizer.c_str());
  std::fprintf(out, "\ntraining step (state %s):\n%s\n", main_run.state.c_str(),
               format_plan(main_run.train_plan, main_run.train.requests).c_str());
  if (cfg.heldout == "none")
    std::fprintf(out, "evaluation graph: none (no held-out evaluation)\n");
  else
    std::fprintf(
        out, "evaluation graph (full softmax, batch %lld, forward only, parameters shared): %s\n",
        static_cast<long long>(main_run.eval_batch),
        format_bytes(main_run.eval_plan.total_bytes()).c_str());
  std::fprintf(out, "total planned: %s (%s)\n", format_bytes(main_run.total()).c_str(),
               mb(main_run.total()).c_str());
  if (!columns.empty()) {
    // --compare's title names its two policies: --state may be one that sketches nothing (bf16).
    const std::string title = o.compare_states.empty()
                                  ? columns[0]->state + " vs " + columns[1]->state
                                  : "state policies side by side";
    std::fprintf(out, "\n%s (MB = 10^6 bytes):\n%s", title.c_str(), compare_table(columns).c_str());
  }
  std::vector<std::string> notes = main_run.notes;  // overloaded sketches, each said once
  for (const PlannedRun* r : columns)
    for (const std::string& n : r->notes)
      if (std::find(notes.begin(), notes.end(), n) == notes.end()) notes.push_back(n);
  if (!notes.empty()) std::fprintf(out, "\n");
  for (const std::string& n : notes) std::fprintf(out, "%s\n", n.c_str());
  if (!o.svg.empty()) std::fprintf(out, "\narena picture written to %s\n", o.svg.c_str());
  return 0;
}

}  // namespace sg
