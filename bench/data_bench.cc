// Data pipeline benchmarks on the committed corpora (data/sotu, data/lm1b_test; SG_DATA_ROOT
// overrides the repo root). Counters: tokens/s = predicted tokens (B*T per training batch)
// delivered per second to the caller.
//   TrainBatcher/B/T : next() in steady state (prefetch thread tokenizes + looks up + fills; caller
//   pops) TrainSkip/B/T    : skip() then one next(): batches fast-forwarded per second (resume)
//   EvalBatcher/B/T  : construct + iterate the real LM1B test shard (159,658 tokens)
//   VocabBuild       : Vocab::build(min-count 3) over the bundled training shards, words/s
//   Synthetic        : write_synthetic_corpus(20,000 sentences, V = 793,471), words/s written
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "data/batcher.h"
#include "data/corpus.h"
#include "data/synthetic.h"
#include "data/vocab.h"

namespace {

std::string root() {
  if (const char* r = std::getenv("SG_DATA_ROOT")) return r;
  return std::filesystem::path(__FILE__).parent_path().parent_path().string();
}

const sg::CorpusLayout& sotu() {
  static const sg::CorpusLayout c = sg::find_corpus(root() + "/data/sotu");
  return c;
}

const sg::Vocab& sotu_vocab() {
  static const sg::Vocab v = sg::Vocab::build(sotu().train_shards, 3);
  return v;
}

void BM_TrainBatcher(benchmark::State& state) {
  const int64_t B = state.range(0), T = state.range(1);
  sg::TrainBatcher tb(sotu().train_shards, sotu_vocab(), B, T, 1);
  tb.next();  // first shard loaded
  int64_t tokens = 0;
  for (auto _ : state) {
    sg::Batch b = tb.next();
    benchmark::DoNotOptimize(b.tokens.data());
    tokens += b.predicted;
  }
  state.counters["tokens/s"] =
      benchmark::Counter(static_cast<double>(tokens), benchmark::Counter::kIsRate);
  state.counters["epochs"] = tb.epochs_done();
}
BENCHMARK(BM_TrainBatcher)->Args({32, 20})->Args({128, 20})->Args({1024, 20})->UseRealTime();

void BM_TrainSkip(benchmark::State& state) {
  const int64_t B = state.range(0), T = state.range(1), n = 2000;
  int64_t batches = 0;
  for (auto _ : state) {
    sg::TrainBatcher tb(sotu().train_shards, sotu_vocab(), B, T, 1);
    tb.skip(n);
    benchmark::DoNotOptimize(tb.next().tokens.data());
    batches += n;
  }
  state.counters["batches/s"] =
      benchmark::Counter(static_cast<double>(batches), benchmark::Counter::kIsRate);
  state.counters["tokens/s"] =
      benchmark::Counter(static_cast<double>(batches * B * T), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_TrainSkip)->Args({32, 20})->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_EvalBatcher(benchmark::State& state) {
  const int64_t B = state.range(0), T = state.range(1);
  const std::string shard =
      root() +
      "/data/lm1b_test/heldout-monolingual.tokenized.shuffled/news.en.heldout-00000-of-00050";
  int64_t tokens = 0;
  for (auto _ : state) {
    sg::EvalBatcher eb(shard, sotu_vocab(), B, T);
    sg::Batch b;
    while (eb.next(b)) tokens += b.predicted;
  }
  state.counters["tokens/s"] =
      benchmark::Counter(static_cast<double>(tokens), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_EvalBatcher)->Args({64, 20})->Unit(benchmark::kMillisecond);

void BM_VocabBuild(benchmark::State& state) {
  int64_t words = 0;
  for (const auto& s : sotu().train_shards) words += sg::count_predicted(s);
  int64_t total = 0;
  for (auto _ : state) {
    sg::Vocab v = sg::Vocab::build(sotu().train_shards, 3);
    benchmark::DoNotOptimize(v.size());
    total += words;
  }
  state.counters["words/s"] =
      benchmark::Counter(static_cast<double>(total), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_VocabBuild)->Unit(benchmark::kMillisecond);

void BM_Synthetic(benchmark::State& state) {
  char tmpl[] = "/tmp/sg-data-bench-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  int64_t words = 0;
  for (auto _ : state) {
    sg::write_synthetic_corpus(dir, 20000, 793471, 2, 1);
    state.PauseTiming();
    for (const auto& s : sg::find_corpus(dir).train_shards) words += sg::count_predicted(s) - 10000;
    state.ResumeTiming();
  }
  std::filesystem::remove_all(dir);
  state.counters["words/s"] =
      benchmark::Counter(static_cast<double>(words), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Synthetic)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
