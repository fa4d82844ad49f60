#!/usr/bin/python3
"""PyTorch reference trainer for the side-by-side benchmark with `sketchgrad train`.

Trains the same LSTM language model as sketchgrad, on the same corpus and batches, with the same flags:

  data     bench/lm_corpus.py reads --data as sketchgrad does (LM1B-layout folder, WikiText / PTB style
           split-named folder, or FILE[,FILE...]) and gives the training sentences in sketchgrad's seeded order
           (pieces and sentences shuffled per epoch); a test holds its batches equal to sketchgrad's.
  vocab    ids 0=<S>, 1=</S>, 2=<UNK>, then every training word with count >= min_count sorted by descending
           count (ties by word, byte order); or loaded with --vocab (`word count` or one word per line).
  batches  Jozefowicz et al. 2016: B streams, each the back-to-back concatenation of `<S> w1 .. wn </S>`, no
           padding; a step takes T (input, target) pairs per stream, time-major [T, B]. A sentence of n words
           gives n+1 pairs (<S>,w1) .. (wn,</S>): <S> is never a target. LSTM state carries across steps.
           Held-out: the file in order, the same B streams (sketchgrad cuts it into B contiguous streams
           instead: the same tokens, a different carried state, so perplexities differ slightly).
  model    embedding E -> L-layer LSTM, cell H, projection P (nn.LSTM(proj_size=P)) -> dropout -> softmax over V:
             full     logits = h W^T + b, cross entropy;
             sampled  S unique negatives per step shared by the batch, drawn from the log-uniform law
                      P(k) = (log(k+2) - log(k+1)) / log(V+1) by rejection; Q(k) = 1 - (1 - P(k))^tries;
                      logits - log Q, accidental hits masked, true class in column 0.
  optim    Adam(lr, 0.9, 0.999, 1e-8) with global-norm clipping; --lazy-adam: sparse embedding/softmax
           gradients + torch.optim.SparseAdam for those tables (LazyAdam), dense Adam elsewhere.
           --state cs-mv|cs-m|cs-v|cs-v-nom[:Nx] (needs --lazy-adam): the embedding and the sampled softmax's
           weights (the matrices with sparse gradients, as sketchgrad's presets choose them) keep m in a
           Count-Sketch and/or v in a Count-Min Sketch (bench/torch_sketch_adam.py, sketchgrad's definition);
           cs-v-nom: no m (beta1 0 there), v in a conservative Count-Min; nom: SparseAdam with beta1 0 there.
  measures words/s after --warmup-steps (B*T predicted tokens per step), peak RSS, on CUDA the allocator
           peak and the device memory in use, final train loss, held-out perplexity with the full softmax over
           every predicted token of the held-out shard (</S> and <UNK> included, <S> never predicted).

Run with Debian's /usr/bin/python3 (python3-torch) on CPU, or any PyTorch with CUDA for --device cuda.
"""
import argparse
import json
import math
import os
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

import lm_corpus
from lm_corpus import BOS, EOS
from torch_sketch_adam import SketchedSparseAdam

PRESETS = {  # the same values as sketchgrad's RunConfig::apply_preset
    "tiny": dict(emb=32, hidden=64, proj=32, layers=1, dropout=0.0, softmax="full", batch=8, bptt=10,
                 lr=1e-2, clip=1.0, schedule="constant"),
    "small": dict(emb=128, hidden=512, proj=128, layers=1, dropout=0.0, softmax="sampled:1024", batch=32,
                  bptt=20, lr=4e-3, clip=1.0, schedule="constant"),
    "paper-lm1b": dict(emb=256, hidden=2048, proj=256, layers=1, dropout=0.01, softmax="sampled:8192",
                       batch=1024, bptt=20, lr=4e-3, clip=1.0, schedule="linear"),
}
PAPER_VOCAB = 793471


def fail(msg):
    print(f"torch_lm: error: {msg}", file=sys.stderr)
    sys.exit(1)


# ----------------------------------------------------------------------------------------------------------
# Corpus and vocabulary


def corpus_files(data):
    try:
        train, held, _ = lm_corpus.find_corpus(data)
    except lm_corpus.CorpusError as e:
        fail(str(e))
    if not train:
        fail(f"no training text in {data}")
    return train, held


def log_uniform_ids(n, V, gen):
    """n draws of k in [0, V) with P(k) = (log(k+2) - log(k+1)) / log(V+1) (inverse CDF)."""
    u = torch.rand(n, generator=gen, dtype=torch.float64)
    k = torch.floor(torch.exp(u * math.log(V + 1))).long() - 1
    return k.clamp_(0, V - 1)


def synthetic_sentences(V, seed):
    """Zipf (log-uniform) word ids over [3, V) with about LM1B's sentence lengths (log-normal, mean ~26)."""
    gen = torch.Generator().manual_seed(seed + 7919)
    while True:
        lens = torch.exp(torch.randn(4096, generator=gen) * 0.55 + math.log(22.0)).round().clamp_(1, 200).long()
        ids = (log_uniform_ids(int(lens.sum()), V - 3, gen) + 3).tolist()
        o = 0
        for n in lens.tolist():
            yield [BOS] + ids[o:o + n] + [EOS]
            o += n


class StreamBatcher:
    """lm_corpus.StreamBatches as tensors: x, y [T, B] (int64), a weight mask (None when full) and the count."""

    def __init__(self, sentences, B, T):
        self.streams = lm_corpus.StreamBatches(sentences, B, T)

    def next(self):
        xs, ys, ws = self.streams.next()
        B, T = self.streams.B, self.streams.T
        x = torch.tensor(xs, dtype=torch.long)
        y = torch.tensor(ys, dtype=torch.long)
        if min(ws) == T:
            return x, y, None, B * T
        w = (torch.arange(T).unsqueeze(1) < torch.tensor(ws).unsqueeze(0)).float()
        return x, y, w, sum(ws)


# ----------------------------------------------------------------------------------------------------------
# Model, sampled softmax, optimizer


class LSTMLM(nn.Module):
    def __init__(self, V, E, H, P, L, dropout, sparse):
        super().__init__()
        self.V, self.D = V, (P if P > 0 else H)
        self.emb = nn.Embedding(V, E, sparse=sparse)
        self.lstm = nn.LSTM(E, H, num_layers=L, proj_size=P if P > 0 else 0)
        self.drop = nn.Dropout(dropout)
        # Softmax weights as embedding tables so the sampled softmax gathers rows (sparse gradient if asked).
        self.sm_w = nn.Embedding(V, self.D, sparse=sparse)
        self.sm_b = nn.Embedding(V, 1, sparse=sparse)
        nn.init.uniform_(self.emb.weight, -0.1, 0.1)
        nn.init.uniform_(self.sm_w.weight, -1.0 / math.sqrt(self.D), 1.0 / math.sqrt(self.D))
        nn.init.zeros_(self.sm_b.weight)

    def hidden(self, x, state):
        out, state = self.lstm(self.emb(x), state)  # [T, B, D]
        return self.drop(out), state

    def full_logits(self, h):  # h [N, D] -> [N, V]
        return torch.addmm(self.sm_b.weight.view(1, -1), h, self.sm_w.weight.t())


class LogUniformSampler:
    """S unique ids per step by rejection from the log-uniform law; also the expected counts Q."""

    def __init__(self, V, S, seed):
        if S >= V:
            fail(f"--softmax sampled:{S} needs S < vocabulary size {V}")
        self.V, self.S = V, S
        self.gen = torch.Generator().manual_seed(seed + 104729)
        k = torch.arange(V, dtype=torch.float64)
        self.logp = torch.log((torch.log(k + 2) - torch.log(k + 1)) / math.log(V + 1))

    def sample(self):
        draws = torch.empty(0, dtype=torch.long)
        while True:
            draws = torch.cat([draws, log_uniform_ids(max(2 * self.S, 1024), self.V, self.gen)])
            vals, order = torch.sort(draws, stable=True)
            first = torch.ones_like(vals, dtype=torch.bool)
            first[1:] = vals[1:] != vals[:-1]
            first_pos = order[first]  # smallest draw index of each distinct value (stable sort)
            if first_pos.numel() >= self.S:
                first_pos, _ = torch.sort(first_pos)
                tries = int(first_pos[self.S - 1]) + 1
                return draws[first_pos[:self.S]], tries

    def log_q(self, ids, tries, dtype=torch.float32):  # log(1 - (1 - P)^tries) in float64, then cast
        if self.logp.device != ids.device:
            self.logp = self.logp.to(ids.device)
        p = self.logp[ids]
        return torch.log(-torch.expm1(tries * torch.log1p(-torch.exp(p)))).to(dtype)


def sampled_loss(model, h, y, sampler, w):
    """Mean over tokens of -log softmax([true, negatives] - log Q)[0], accidental hits masked."""
    neg_cpu, tries = sampler.sample()
    neg = neg_cpu.to(h.device)
    wt, bt = model.sm_w(y), model.sm_b(y).squeeze(1)  # [N, D], [N]
    ws, bs = model.sm_w(neg), model.sm_b(neg).squeeze(1)  # [S, D], [S]
    true_logit = (h * wt).sum(1) + bt - sampler.log_q(y, tries, h.dtype)
    neg_logits = torch.addmm(bs.view(1, -1), h, ws.t()) - sampler.log_q(neg, tries, h.dtype).view(1, -1)
    neg_logits = neg_logits.masked_fill(neg.view(1, -1) == y.view(-1, 1), float("-inf"))
    logits = torch.cat([true_logit.view(-1, 1), neg_logits], 1)
    nll = torch.logsumexp(logits, 1) - true_logit
    return nll.mean() if w is None else (nll * w).sum() / w.sum()


def clip_global_norm_(params, max_norm):
    """Scales all gradients (dense and sparse) so their global L2 norm is at most max_norm."""
    sq = []
    for p in params:
        if p.grad is None:
            continue
        if p.grad.is_sparse:
            p.grad = p.grad.coalesce()  # duplicates summed first, else the norm is wrong
            sq.append(p.grad._values().pow(2).sum())
        else:
            sq.append(p.grad.pow(2).sum())
    total = torch.stack(sq).sum().sqrt()
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    for p in params:
        if p.grad is not None:
            (p.grad._values() if p.grad.is_sparse else p.grad).mul_(coef)
    return total


def parse_state(text):
    """'dense' -> None; 'cs-mv' / 'cs-m' / 'cs-v' / 'cs-v-nom' / 'nom' with optional ':Nx' ->
    (sketch m, sketch v, compression, no m + conservative v). 'nom' is the exact counterpart of cs-v-nom:
    SparseAdam with beta1 0 on the tables."""
    if text == "dense":
        return None
    name, _, comp = text.partition(":")
    moments = {"cs-mv": (True, True, False), "cs-m": (True, False, False), "cs-v": (False, True, False),
               "cs-v-nom": (False, True, True), "nom": (False, False, True)}
    if name not in moments:
        fail(f"--state must be dense, cs-mv, cs-m, cs-v, cs-v-nom or nom (optionally :Nx), got '{text}'")
    compression = 5.0
    if comp:
        try:
            compression = float(comp[:-1]) if comp.endswith("x") else -1.0
        except ValueError:
            compression = -1.0
        if not compression > 0:
            fail(f"--state {text}: compression must look like 5x")
    sm, sv, nom = moments[name]
    return sm, sv, compression, nom


def make_optimizers(model, lr, lazy, sampled, state="dense", diagnostics_every=0):
    adam = dict(lr=lr, betas=(0.9, 0.999), eps=1e-8)
    sketch = parse_state(state)
    sparse_params = []
    if lazy:
        sparse_params = [model.emb.weight] + ([model.sm_w.weight, model.sm_b.weight] if sampled else [])
    elif sketch:
        fail("--state other than dense needs --lazy-adam (sketches hold the state of sparse-gradient tables)")
    sketched = [p for p in sparse_params if sketch and (sketch[0] or sketch[1]) and p.dim() == 2 and p.shape[1] > 1]
    no_m = [p for p in sparse_params if sketch and sketch[3] and p.dim() == 2 and p.shape[1] > 1
            and all(p is not q for q in sketched)]
    names = {id(model.emb.weight): "embedding", id(model.sm_w.weight): "softmax"}
    ids = {id(p) for p in sparse_params}
    dense_params = [p for p in model.parameters() if id(p) not in ids]
    opts = [torch.optim.Adam(dense_params, **adam)]
    plain = [p for p in sparse_params if all(p is not q for q in sketched + no_m)]
    if no_m:
        opts.append(torch.optim.SparseAdam(no_m, **dict(adam, betas=(0.0, 0.999))))
    if plain:
        opts.append(torch.optim.SparseAdam(plain, **adam))
    if sketched:
        opts.append(SketchedSparseAdam([{"params": [p], "name": names.get(id(p), "table")} for p in sketched],
                                       sketch_m=sketch[0], sketch_v=sketch[1], compression=sketch[2],
                                       conservative=sketch[3], no_m=sketch[3],
                                       **(dict(clean_alpha=0.2, clean_every=125) if sketch[3] else {}),
                                       diagnostics_every=diagnostics_every, **adam))
    return opts


# ----------------------------------------------------------------------------------------------------------
# Evaluation


@torch.no_grad()
def evaluate(model, sentences, B, T, device, max_tokens=0, max_logit_bytes=0):
    """Held-out perplexity with the full softmax: exp(total NLL / predicted tokens), over sketchgrad's held-out
    batches (lm_corpus.eval_batches: B contiguous streams, state carried from batch to batch)."""
    model.eval()
    state, nll, count = None, 0.0, 0
    max_logit_bytes = max_logit_bytes or ((1 << 30) if device.type == "cuda" else (256 << 20))
    rows = max(1, max_logit_bytes // (4 * model.V))
    for xs, ys, ws in lm_corpus.eval_batches(sentences, B, T, max_tokens):
        x = torch.tensor(xs, dtype=torch.long, device=device)
        y = torch.tensor(ys, dtype=torch.long, device=device).reshape(-1)
        wv = torch.tensor(ws, dtype=torch.float32, device=device).reshape(-1)
        h, state = model.hidden(x, state)
        h = h.reshape(-1, model.D)
        for a in range(0, h.shape[0], rows):
            logits = model.full_logits(h[a:a + rows])
            tok = torch.logsumexp(logits, 1) - logits.gather(1, y[a:a + rows, None]).squeeze(1)
            nll += float((tok * wv[a:a + rows]).double().sum())
        count += int(wv.sum())
    model.train()
    return (math.exp(nll / count) if count else float("nan")), count


# ----------------------------------------------------------------------------------------------------------
# Command line and training loop


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description="PyTorch LSTM language model trainer (sketchgrad's reference)")
    ap.add_argument("--preset", default="small", choices=sorted(PRESETS), help="model defaults (as sketchgrad)")
    ap.add_argument("--data", help="LM1B-layout or split-named corpus folder, or text files FILE[,FILE...]")
    ap.add_argument("--vocab", help="vocabulary file to load (`word count` or one word per line)")
    ap.add_argument("--heldout", help="held-out shard file (default: the 00000 held-out shard of --data)")
    ap.add_argument("--synthetic-vocab", type=int, default=0,
                    help="no files: Zipf ids over this vocabulary (paper-lm1b without --data: 793471)")
    ap.add_argument("--min-count", type=int, default=3)
    for flag, typ in [("emb", int), ("hidden", int), ("proj", int), ("layers", int), ("dropout", float),
                      ("softmax", str), ("batch", int), ("bptt", int), ("lr", float), ("clip", float),
                      ("schedule", str)]:
        ap.add_argument("--" + flag, type=typ, default=None, help="overrides the preset")
    ap.add_argument("--optimizer", default="adam", choices=["adam"])
    ap.add_argument("--lazy-adam", action="store_true", help="sparse tables + SparseAdam (LazyAdam)")
    ap.add_argument("--state", default="dense",
                    help="dense | cs-mv | cs-m | cs-v | cs-v-nom [:Nx]: sketched Adam state on the sparse tables; "
                         "nom: exact SparseAdam with beta1 0 on them (cs-v-nom's exact counterpart)")
    ap.add_argument("--sketch-diagnostics", type=int, default=0, metavar="N",
                    help="with a sketched --state: every N steps, how much of exact Adam's step the sketches keep, "
                         "per band of word ids (keeps dense shadow moments; see bench/torch_sketch_adam.py)")
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--warmup-steps", type=int, default=3, help="steps excluded from words/s")
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0 = PyTorch default)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N")
    ap.add_argument("--tf32", default="off", choices=["on", "off"], help="TF32 matmuls/cuDNN on CUDA")
    ap.add_argument("--eval-batch", type=int, default=0,
                    help="streams for the held-out evaluation (default: sketchgrad's, --batch capped so the "
                         "T x B x V logits stay under 256 MiB)")
    ap.add_argument("--eval-tokens", type=int, default=0, help="cap on held-out tokens (0 = whole shard)")
    ap.add_argument("--no-eval", action="store_true", help="skip the held-out evaluation")
    ap.add_argument("--progress-every", type=int, default=10)
    ap.add_argument("--summary-json", help="write the end-of-run summary here")
    a = ap.parse_args(argv)
    for k, v in PRESETS[a.preset].items():
        if getattr(a, k) is None:
            setattr(a, k, v)
    if a.preset == "paper-lm1b" and not a.data and not a.synthetic_vocab:
        a.synthetic_vocab = PAPER_VOCAB
    if not a.data and not a.synthetic_vocab:
        ap.error("--data DIR is required (or --synthetic-vocab V)")
    if a.softmax != "full" and not (a.softmax.startswith("sampled:") and a.softmax[8:].isdigit()
                                    and int(a.softmax[8:]) > 0):
        ap.error(f"--softmax must be 'full' or 'sampled:S', got '{a.softmax}'")
    if a.schedule not in ("constant", "linear"):
        ap.error("--schedule must be constant or linear here")
    if a.proj >= a.hidden:
        ap.error("--proj must be smaller than --hidden (nn.LSTM proj_size)")
    if min(a.emb, a.hidden, a.layers, a.batch, a.bptt, a.steps, a.min_count) < 1 or a.proj < 0:
        ap.error("sizes, --steps and --min-count must be positive")
    return a


def current_rss_bytes():
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def cuda_bytes_in_use(device):
    free, total = torch.cuda.mem_get_info(device)
    return total - free


def main(argv=None):
    a = parse_args(argv)
    t_start = time.time()
    rss_import = current_rss_bytes()  # the PyTorch libraries alone, before any data or model
    torch.manual_seed(a.seed)
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    device = torch.device(a.device)
    cuda = device.type == "cuda"
    cuda_before = 0
    if cuda:
        if not torch.cuda.is_available():
            fail("--device cuda but this PyTorch sees no GPU")
        torch.backends.cuda.matmul.allow_tf32 = a.tf32 == "on"
        torch.backends.cudnn.allow_tf32 = a.tf32 == "on"
        torch.backends.cudnn.benchmark = False
        torch.cuda.init()
        torch.zeros(1, device=device)  # context up, so `before` counts it
        cuda_before = cuda_bytes_in_use(device)

    epochs_seen = [0]
    if a.synthetic_vocab:
        V = a.synthetic_vocab
        train_iter = synthetic_sentences(V, a.seed)
        heldout_iter = lambda: synthetic_sentences(V, a.seed + 1)  # noqa: E731
        heldout_desc = f"synthetic (Zipf over {V})"
        if not a.eval_tokens:
            a.eval_tokens = 100000
    else:
        files, default_heldout = corpus_files(a.data)
        t0 = time.time()
        vocab = lm_corpus.load_vocab(a.vocab) if a.vocab else lm_corpus.build_vocab(files, a.min_count)
        print(f"torch_lm: vocabulary {len(vocab)} words ({time.time() - t0:.1f} s)", file=sys.stderr)
        index = {w: i for i, w in enumerate(vocab)}
        V = len(vocab)
        train_iter = lm_corpus.training_sentences(files, index, a.seed, epochs_seen=epochs_seen)
        heldout_path = a.heldout or default_heldout
        if not heldout_path:
            fail(f"{a.data} has no held-out text: name a file with --heldout")
        heldout_iter = lambda: lm_corpus.file_sentences(heldout_path, index)  # noqa: E731
        heldout_desc = heldout_path

    sampled = a.softmax != "full"
    model = LSTMLM(V, a.emb, a.hidden, a.proj, a.layers, a.dropout, sparse=a.lazy_adam).to(device)
    sampler = LogUniformSampler(V, int(a.softmax[8:]), a.seed) if sampled else None
    opts = make_optimizers(model, a.lr, a.lazy_adam, sampled, a.state, a.sketch_diagnostics)
    params = list(model.parameters())
    n_params = sum(p.numel() for p in params)
    print(f"torch_lm: V={V} params={n_params:,} device={device} threads={torch.get_num_threads()} "
          f"softmax={a.softmax} lazy_adam={a.lazy_adam} state={a.state}", file=sys.stderr)

    batcher = StreamBatcher(train_iter, a.batch, a.bptt)
    state = None
    losses, recent = [], []
    tokens_timed, t_timed = 0, None
    if a.warmup_steps >= a.steps:
        a.warmup_steps = 0
    for step in range(1, a.steps + 1):
        if step == a.warmup_steps + 1:
            if cuda:
                torch.cuda.synchronize(device)
            t_timed = time.perf_counter()
        lr = a.lr * (1.0 - (step - 1) / a.steps) if a.schedule == "linear" else a.lr
        for o in opts:
            for g in o.param_groups:
                g["lr"] = lr
        x, y, _, n = batcher.next()
        if cuda:  # pinned, so the copies queue behind the previous step instead of waiting for it
            x, y = x.pin_memory().to(device, non_blocking=True), y.pin_memory().to(device, non_blocking=True)
        if state is not None:
            state = tuple(s.detach() for s in state)
        h, state = model.hidden(x, state)
        h, yv = h.reshape(-1, model.D), y.reshape(-1)
        if sampled:
            loss = sampled_loss(model, h, yv, sampler, None)
        else:
            loss = F.cross_entropy(model.full_logits(h), yv)
        for o in opts:
            o.zero_grad(set_to_none=True)
        loss.backward()
        if a.clip > 0:
            clip_global_norm_(params, a.clip)
        for o in opts:
            o.step()
        recent.append(loss.detach())
        if step > a.warmup_steps:
            tokens_timed += n
        if step % a.progress_every == 0 or step == a.steps:
            vals = [float(v) for v in torch.stack(recent).cpu()]
            losses += vals
            recent = []
            el = time.perf_counter() - t_timed if t_timed else 0.0
            wps = tokens_timed / el if el > 0 else 0.0
            print(f"step {step}/{a.steps} loss {vals[-1]:.4f} lr {lr:.3g} words/s {wps:,.0f}", file=sys.stderr)
    if cuda:
        torch.cuda.synchronize(device)
    train_s = time.perf_counter() - t_timed
    words_per_s = tokens_timed / train_s if train_s > 0 else 0.0
    cuda_train_end = cuda_bytes_in_use(device) if cuda else 0
    cuda_alloc_train = torch.cuda.max_memory_allocated(device) if cuda else 0

    ppl, ntok, eval_s = None, 0, 0.0
    if not a.no_eval:
        t0 = time.time()
        eval_batch = a.eval_batch or max(1, min(a.batch, (256 << 20) // (4 * a.bptt * max(V, 1))))
        ppl, ntok = evaluate(model, heldout_iter(), eval_batch, a.bptt, device, a.eval_tokens)
        eval_s = time.time() - t0
        print(f"torch_lm: held-out perplexity {ppl:.3f} over {ntok} tokens ({eval_s:.1f} s)", file=sys.stderr)

    tail = losses[-min(10, len(losses)):]
    summary = {
        "words_per_s": words_per_s,
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "rss_after_import_bytes": rss_import,
        "final_train_loss": losses[-1],
        "final_train_loss_mean10": sum(tail) / len(tail),
        "heldout_perplexity": ppl,
        "heldout_tokens": ntok,
        "heldout": heldout_desc,
        "steps": a.steps,
        "timed_steps": a.steps - a.warmup_steps,
        "train_seconds_timed": train_s,
        "eval_seconds": eval_s,
        "total_seconds": time.time() - t_start,
        "epochs_completed": epochs_seen[0],
        "vocab_size": V,
        "parameters": n_params,
        "torch_version": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "config": {k: v for k, v in vars(a).items() if k != "summary_json"},
    }
    if cuda:
        summary.update({
            "cuda_device_name": torch.cuda.get_device_name(device),
            "cuda_max_memory_allocated_bytes": torch.cuda.max_memory_allocated(device),
            "cuda_max_memory_allocated_train_bytes": cuda_alloc_train,
            "cuda_max_memory_reserved_bytes": torch.cuda.max_memory_reserved(device),
            "cuda_in_use_before_bytes": cuda_before,  # context (+ other processes) before the model
            "cuda_in_use_after_train_bytes": cuda_train_end,  # whole device in use after training
            "cuda_process_delta_bytes": cuda_train_end - cuda_before,
        })
    print(f"torch_lm: {words_per_s:,.0f} words/s, peak RSS {summary['peak_rss_bytes'] / 2**20:,.0f} MiB, "
          f"final loss {losses[-1]:.4f}", file=sys.stderr)
    diag = [r for o in opts for r in getattr(o, "diagnostics", [])]
    if diag:
        summary["sketch_diagnostics"] = diag
        print("torch_lm: sketch diagnostics (last step of each table; step_gain = share of exact Adam's step kept)",
              file=sys.stderr)
        last = max(r["step"] for r in diag)
        for r in diag:
            if r["step"] == last:
                print(f"  step {r['step']} {r['table']:>9} ids {r['ids']:>14} rows {r['rows']:5d}  "
                      f"m_gain {r['m_gain']:.2f}  m_noise {r['m_noise']:.2f}  v_ratio {r['v_ratio']:6.2f}  "
                      f"step_gain {r['step_gain']:.3f}", file=sys.stderr)
    if a.summary_json:
        with open(a.summary_json, "w") as f:
            json.dump(summary, f, indent=2)
    return summary


if __name__ == "__main__":
    main()
