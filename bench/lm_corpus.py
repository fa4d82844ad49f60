#!/usr/bin/python3
"""Corpus, vocabulary and training-sentence order exactly as sketchgrad's data/ reads them, in plain Python
(no torch), so bench/torch_lm.py trains on the same batches as `sketchgrad train`.

  corpus   --data is an LM1B-layout folder (data/corpus.h), a split-named folder whose files say their split
           (wiki.train.tokens / wiki.valid.tokens / wiki.test.tokens; data/split_folder.h), or FILE[,FILE...].
  text     bytes; a line is cut at b"\\n" only; a UTF-8 byte-order mark at the start of a file is dropped; tokens
           are separated by ASCII space, tab, CR, VT, FF; a line without tokens is not a sentence.
  vocab    ids 0=<S>, 1=</S>, 2=<UNK>, then every training word with count >= min_count by descending count
           (ties in byte order); or loaded (`word count` or one word per line, `!!!MAXTERMID` skipped).
  order    data/train_stream.h: files are cut into pieces of about 64 MiB at line ends; epoch e visits the
           pieces in the order perm(#pieces; seed, e << 32) and piece k's sentences in the order
           perm(#sentences; seed, (e << 32) | (k + 1)); perm is Fisher-Yates driven by engine/rng.h's rng_u64.
  streams  data/batcher.h: B streams; stream b takes its T (input, target) pairs in turn, pulling the next
           sentence `<S> w1 .. wn </S>` whenever its current one is used up; time-major [T, B].
  held-out data/batcher.h EvalBatcher: the file in order cut into B contiguous streams (eval_batches).

`python3 bench/lm_corpus.py --data DIR --batch B --bptt T --seed S --batches N [--max-piece-bytes M]` prints
the first N training batches (a line of inputs then a line of targets, time-major); with --heldout FILE
--max-tokens K it prints the held-out batches instead (inputs, targets, weights): the tests that hold this file
to sketchgrad's TrainStream and EvalBatcher (tests/data/torch_reference_order_test.cc) read them.
"""
import argparse
import glob
from array import array
import os
import re
import sys

SPECIALS = [b"<S>", b"</S>", b"<UNK>"]
BOS, EOS, UNK = 0, 1, 2
MAX_PIECE_BYTES = 64 << 20
MASK = (1 << 64) - 1
SPACES = b" \t\r\v\f"


class CorpusError(Exception):
    pass


# ----------------------------------------------------------------------------------------------------------
# Where the text is


def _split_of_name(name):
    found = None
    for w in re.split(r"[^A-Za-z0-9]+", name):
        w = w.lower()
        k = ("train" if w in ("train", "training") else
             "valid" if w in ("valid", "validation", "val", "dev") else
             "test" if w in ("test", "testing") else None)
        if k is not None:
            found = k if found in (None, k) else "several"
    return found


def find_corpus(data):
    """(training files, held-out file or None, test file or None) as sketchgrad's find_corpus finds them."""
    if "," in data or os.path.isfile(data):
        files = [p for p in data.split(",") if p]
        for p in files:
            if not os.path.isfile(p):
                raise CorpusError(f"training file {p} does not exist")
        if not files:
            raise CorpusError(f"--data '{data}' names no file")
        return files, None, None
    if not os.path.isdir(data):
        raise CorpusError(f"data folder {data} does not exist")
    train_dir = os.path.join(data, "training-monolingual.tokenized.shuffled")
    held_dir = os.path.join(data, "heldout-monolingual.tokenized.shuffled")
    if os.path.isdir(train_dir) or os.path.isdir(held_dir):
        train = sorted(p for p in glob.glob(os.path.join(train_dir, "news.en-*")) if os.path.isfile(p))
        held = sorted(p for p in glob.glob(os.path.join(held_dir, "news.en.heldout-*"))
                      if re.fullmatch(r"news\.en\.heldout-\d{5}-of-\d{5}", os.path.basename(p)))
        return train, (held[0] if held else None), None
    split = {"train": [], "valid": [], "test": []}
    for name in os.listdir(data):
        path = os.path.join(data, name)
        if name.startswith(".") or not os.path.isfile(path):
            continue
        k = _split_of_name(name)
        if k in split:
            split[k].append(path)
    if not split["train"]:
        raise CorpusError(f"data folder {data} is neither LM1B layout nor holds a file named as training text")
    first = lambda k: sorted(split[k])[0] if split[k] else None  # noqa: E731
    return sorted(split["train"]), first("valid"), first("test")


# ----------------------------------------------------------------------------------------------------------
# Text and vocabulary


def _sentence_spans(data, at_file_start):
    """(begin, end) byte offsets of the sentences of a piece, as two compact arrays: the piece is kept as raw
    bytes and a sentence is cut out and split only when it is used (sketchgrad's ShardText does the same), so
    the reader's memory is about the piece's size, not a list of word objects per token."""
    begins, ends = array("q"), array("q")
    pos = 3 if at_file_start and data.startswith(b"\xef\xbb\xbf") else 0
    n = len(data)
    while pos < n:
        nl = data.find(b"\n", pos)
        end = n if nl < 0 else nl
        if end > pos and not data[pos:end].isspace():  # bytes.isspace(): the bytes data/text.h skips
            begins.append(pos)
            ends.append(end)
        pos = end + 1
    return begins, ends


def read_sentences(path):
    """Every sentence (list of byte-string words) of a file, in file order."""
    with open(path, "rb") as f:
        first = True
        for line in f:
            if first:
                first = False
                if line.startswith(b"\xef\xbb\xbf"):
                    line = line[3:]
            words = line.split()
            if words:
                yield words


def build_vocab(files, min_count):
    counts = {}
    for path in files:
        for words in read_sentences(path):
            for w in words:
                counts[w] = counts.get(w, 0) + 1
    for s in SPECIALS:
        counts.pop(s, None)
    kept = [(c, w) for w, c in counts.items() if c >= min_count]
    kept.sort(key=lambda cw: (-cw[0], cw[1]))
    return SPECIALS + [w for _, w in kept]


def load_vocab(path):
    words = []
    with open(path, "rb") as f:
        for line in f:
            parts = line.split()
            if not parts or parts[0] == b"!!!MAXTERMID" or parts[0] in SPECIALS:
                continue
            words.append(parts[0])
    return SPECIALS + words


def encode(words, index):
    return [BOS] + [index.get(w, UNK) for w in words] + [EOS]


# ----------------------------------------------------------------------------------------------------------
# sketchgrad's sentence order


def mix64(x):
    x = (x + 0x9E3779B97F4A7C15) & MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


def shuffled_order(n, seed, stream):
    base = mix64((seed ^ ((stream * 0x9E3779B97F4A7C15) & MASK)) & MASK)
    p = list(range(n))
    for i in range(n, 1, -1):
        r = mix64((base + i) & MASK)
        j = (r * i) >> 64
        p[i - 1], p[j] = p[j], p[i - 1]
    return p


def split_shards(paths, max_bytes):
    """(path, begin, end) pieces: a file over max_bytes is cut just after the first newline at or after
    begin + max_bytes - 1 (data/corpus.h split_shards)."""
    out = []
    for path in paths:
        size = os.path.getsize(path)
        begin = 0
        if size > max_bytes:
            with open(path, "rb") as f:
                while size - begin > max_bytes:
                    f.seek(begin + max_bytes - 1)
                    rest = f.read(size - (begin + max_bytes - 1))
                    nl = rest.find(b"\n")
                    if nl < 0:
                        break
                    cut = begin + max_bytes - 1 + nl + 1
                    if cut >= size:
                        break
                    out.append((path, begin, cut))
                    begin = cut
        out.append((path, begin, size))
    return out


def training_sentences(files, index, seed, max_piece_bytes=MAX_PIECE_BYTES, epochs_seen=None):
    """Id sentences `<S> .. </S>` in sketchgrad's training order, forever (counting finished epochs)."""
    pieces = split_shards(files, max_piece_bytes)
    epoch = 0
    while True:
        n = 0
        for k in shuffled_order(len(pieces), seed, epoch << 32):
            path, begin, end = pieces[k]
            with open(path, "rb") as f:
                f.seek(begin)
                data = f.read(end - begin)
            begins, ends = _sentence_spans(data, begin == 0)
            n += len(begins)
            for i in shuffled_order(len(begins), seed, (epoch << 32) | (k + 1)):
                yield encode(data[begins[i]:ends[i]].split(), index)
            del data, begins, ends
        if n == 0:
            raise CorpusError("the training shards hold no sentences")
        epoch += 1
        if epochs_seen is not None:
            epochs_seen[0] += 1


def file_sentences(path, index):
    """Id sentences of one file in file order (held-out evaluation)."""
    for words in read_sentences(path):
        yield encode(words, index)


class StreamBatches:
    """B streams fed from one sentence iterator; next() gives lists x, y [T][B] and the filled pairs per stream
    (T for all unless the iterator ran out)."""

    def __init__(self, sentences, B, T):
        self.it, self.B, self.T = sentences, B, T
        self.cur = [None] * B
        self.pos = [0] * B
        self.exhausted = False

    def next(self):
        B, T = self.B, self.T
        xs, ys, ws = [], [], []
        for i in range(B):
            x, y, filled = [], [], 0
            while filled < T:
                s = self.cur[i]
                if s is None or self.pos[i] >= len(s) - 1:
                    s = None if self.exhausted else next(self.it, None)
                    if s is None:
                        self.exhausted, self.cur[i] = True, None
                        break
                    self.cur[i], self.pos[i] = s, 0
                p = self.pos[i]
                n = min(len(s) - 1 - p, T - filled)
                x += s[p:p + n]
                y += s[p + 1:p + 1 + n]
                self.pos[i] = p + n
                filled += n
            ws.append(filled)
            xs.append(x + [0] * (T - filled))
            ys.append(y + [0] * (T - filled))
        return [list(r) for r in zip(*xs)], [list(r) for r in zip(*ys)], ws


def eval_batches(sentences, B, T, max_tokens=0):
    """sketchgrad's EvalBatcher (data/batcher.h): the sentences in order (the first max_tokens predictions when
    max_tokens > 0), cut at sentence boundaries into B contiguous streams (stream b starts at the first sentence
    whose preceding pairs reach b * total // B); yields x, y, w as [T][B] lists, padding with 0 and weight 0."""
    seqs, pairs, total = [], [], 0
    for s in sentences:
        if max_tokens and total >= max_tokens:
            break
        p = len(s) - 1
        if max_tokens:
            p = min(p, max_tokens - total)
        seqs.append(s)
        pairs.append(p)
        total += p
    if total == 0:
        raise CorpusError("the held-out text holds no sentences")
    S = len(seqs)
    first = [S] * (B + 1)
    k, before = 0, 0
    for b in range(B):
        want = total * b // B
        while k < S and before < want:
            before += pairs[k]
            k += 1
        first[b] = k
    length = [sum(pairs[first[b]:first[b + 1]]) for b in range(B)]
    cur = [[first[b], 0, 0] for b in range(B)]  # sentence, position in it, pairs done
    for _ in range((max(length) + T - 1) // T):
        x = [[0] * B for _ in range(T)]
        y = [[0] * B for _ in range(T)]
        w = [[0.0] * B for _ in range(T)]
        for b in range(B):
            c = cur[b]
            for t in range(T):
                if c[2] >= length[b]:
                    break
                s = seqs[c[0]]
                x[t][b], y[t][b], w[t][b] = s[c[1]], s[c[1] + 1], 1.0
                c[2] += 1
                c[1] += 1
                if c[1] == pairs[c[0]]:
                    c[0], c[1] = c[0] + 1, 0
        yield x, y, w


def main(argv=None):
    ap = argparse.ArgumentParser(description="print sketchgrad's first training batches (test support)")
    ap.add_argument("--data", required=True)
    ap.add_argument("--min-count", type=int, default=1)
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--bptt", type=int, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--batches", type=int, default=1)
    ap.add_argument("--max-piece-bytes", type=int, default=MAX_PIECE_BYTES)
    ap.add_argument("--heldout", help="print this file's held-out batches instead")
    ap.add_argument("--max-tokens", type=int, default=0)
    a = ap.parse_args(argv)
    try:
        train, _, _ = find_corpus(a.data)
        vocab = build_vocab(train, a.min_count)
        index = {w: i for i, w in enumerate(vocab)}
        batches = StreamBatches(training_sentences(train, index, a.seed, a.max_piece_bytes), a.batch, a.bptt)
        print(len(vocab))
        if a.heldout:
            for x, y, w in eval_batches(file_sentences(a.heldout, index), a.batch, a.bptt, a.max_tokens):
                for m in (x, y, w):
                    print(" ".join(str(int(v)) for row in m for v in row))
            return 0
        for _ in range(a.batches):
            x, y, _ = batches.next()
            print(" ".join(str(v) for row in x for v in row))
            print(" ".join(str(v) for row in y for v in row))
    except (CorpusError, OSError) as e:
        print(f"lm_corpus: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
