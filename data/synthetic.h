// Synthetic LM1B-like corpus, to measure full-scale memory and speed without the real release.
//   words     : `vocab` counts <S>, </S>, <UNK>, so the text uses W = vocab - 3 words spelled "w0"
//   .. "w{W-1}";
//               word of rank r (0-based) has probability (1 / (r + 1)) / H_W (Zipf, exponent 1),
//               drawn with an alias table from the counter-based rng (seed, 1, token index).
//   lengths   : n = clamp(round(exp(mu + sigma * z)), 1, 400) words, z ~ N(0, 1) (Box-Muller from
//   (seed, 2, i)),
//               mu = ln 22.1, sigma = 0.537: a log-normal fitted to the real LM1B test shard
//               (median 24, mean 25.3 words, sd 14.3); mean about 25.5 words = 26.5 predicted
//               tokens per sentence, long right tail.
//   layout    : DIR/training-monolingual.tokenized.shuffled/news.en-{k:05}-of-{max(100,
//   shards+1):05},
//               k = 1..shards, `sentences` training sentences split evenly (in order); held-out
//               DIR/heldout-monolingual.tokenized.shuffled/news.en.heldout-00000-of-00050 with
//               min(6075, max(1, sentences / 100)) sentences drawn from other rng streams (seed,
//               3/4, .); DIR/vocab.txt: all W words plus the specials as "word count" lines with
//               their training counts, ids ordered as Vocab::build orders them (load it to get
//               exactly `vocab` ids).
// Deterministic for a seed; streamed to disk (each file written to a temporary name, then renamed).
#pragma once
#include <cstdint>
#include <string>

namespace sg {

void write_synthetic_corpus(const std::string& out_dir, int64_t sentences, int64_t vocab,
                            int shards, uint64_t seed);

}  // namespace sg
