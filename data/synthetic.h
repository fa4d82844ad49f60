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
// Deterministic for a seed; streamed to disk.
//   memory    : kSyntheticBytesPerWord (20) bytes a word (the alias table, the counts and the
//               vocabulary order; while the table is built, the scaled probabilities and the
//               work list instead of the counts and order), checked against the memory the
//               process can get (available_memory_bytes) before anything is allocated or created.
//   atomicity : everything is written into DIR/.synth-partial-PID and moved into place at the
//               end; a failure or a stop() removes it, so a failed or interrupted run leaves
//               nothing that blocks a rerun (a folder left by a killed run is removed by the next
//               run in DIR once its process is gone). Empty layout folders (left by older
//               versions) are replaced; a layout folder with files in it is refused ("already
//               holds a corpus").
#pragma once
#include <cstdint>
#include <functional>
#include <string>

namespace sg {

inline constexpr int64_t kSyntheticBytesPerWord = 20;
// Largest vocabulary (synth --vocab-size): the largest vocab.txt Vocab::load reads back (3
// specials and at most 2^31 - 5 words).
inline constexpr int64_t kMaxSyntheticVocab = (int64_t(1) << 31) - 2;

// Peak bytes write_synthetic_corpus allocates for a vocabulary of `vocab` ids.
int64_t synthetic_corpus_memory_bytes(int64_t vocab);
// Bytes this process can still allocate: the least of the system's MemAvailable, its cgroup's
// memory.max - memory.current and RLIMIT_AS - the mapped size; -1 when none is known.
int64_t available_memory_bytes();

// stop() is polled while working (e.g. a flag set by SIGINT): when it returns true the partial
// corpus is removed and "synthetic corpus: stopped" is thrown. memory_limit: the bytes allowed
// (-1: available_memory_bytes()).
void write_synthetic_corpus(const std::string& out_dir, int64_t sentences, int64_t vocab,
                            int shards, uint64_t seed, const std::function<bool()>& stop = {},
                            int64_t memory_limit = -1);

}  // namespace sg
