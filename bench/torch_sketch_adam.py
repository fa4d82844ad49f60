"""Sketched lazy Adam for PyTorch, written from sketchgrad's definition, so bench/torch_lm.py can train with the
same optimizer as `sketchgrad train --state cs-mv` (and cs-m / cs-v) instead of comparing it with dense Adam.

For a row-sparse gradient (ids i unique, rows g_i [n, d]) of a matrix [rows, d] (DESIGN 3.4, sketch/store.h):
  sketch S [depth, width, d], width = max(1, round(rows / (compression * depth)))
  bucket_j(i) = fmix32(a_j * i + b_j) mod width,  sign_j(i) = +1 if fmix32((a_j+2) * i + (b_j+3)) is odd else -1
  seeds: r = mix64(0x736b65746368 + j), a_j = lo32(r) | 1, b_j = hi32(r)           (sketch/hash.h, salt 0)
  lazy update, every touched bucket once:  S[j,b] <- decay * S[j,b] + scale * sum_{i in b} sign_j(i) * x_i
  query: Count-Sketch (m, x = g) median_j sign_j(i) S[j, bucket_j(i)]; Count-Min (v, x = g*g) min_j S[j, .]
  Adam (t = global step): m, v updated then queried; m clamped to |m| <= k sqrt(v) with
  k^2 = (1-b1)^2 / ((1-b2)(1-b1^2/b2)) whenever a moment is sketched (optimizers/rule.h m_bound);
  w_i -= lr sqrt(1-b2^t)/(1-b1^t) * m / (sqrt(v) + eps); the Count-Min v is multiplied by 0.25 after every
  1000th step. Rows absent from the gradient are neither read nor written (SparseAdam/LazyAdam).
  conservative=True (Count-Min only, sketchgrad's `cu`): target_i = decay * query(i) + scale * x_i, all read
  before any write; S[j,b] <- max(decay * S[j,b], max_{i in b} target_i).
  no_m=True (sketchgrad's `m:none`, policy cs-v-nom): no first moment is kept, m = g (beta1 = 0 for these
  matrices, also in the bias correction and the clamp).
Colliding rows are summed with index_add_, so the numbers are not bitwise sketchgrad's (different summation
order and model initialisation), but the algorithm is the same.

Diagnostics (diagnostics_every=N, torch_lm.py --sketch-diagnostics N): the optimizer also keeps the exact lazy
moments (dense, so no memory is saved) and every N steps records, per band of row ids (ids are frequency ranks:
[0, 100), [100, 1000), [1000, 10^4), ...), over the rows of that step:
  m_gain     <m_sketch, m_exact> / <m_exact, m_exact>   (1 = the sketch keeps the momentum's size)
  m_noise    |m_sketch - m_gain m_exact| / |m_gain m_exact|
  v_ratio    median of v_sketch / v_exact                (Count-Min: >= 1)
  step_gain  <u_sketch, u_exact> / <u_exact, u_exact>, u = m / (sqrt(v) + eps): how far a row moves in the
             direction exact Adam would move it, relative to exact Adam.

`python3 bench/torch_sketch_adam.py` runs a self-check: with a lossless sketch (width >= rows, identity buckets)
the optimizer reproduces torch.optim.SparseAdam; the hash agrees with a reference written with Python ints.
"""
import math
import sys
import warnings

try:
    import torch
except ImportError:  # ctest runs the self-check; without PyTorch it reports "skipped" (exit code 77)
    if __name__ == "__main__":
        print("torch_sketch_adam: python3 has no torch (apt-get install python3-torch); self-check skipped")
        sys.exit(77)
    raise

MASK32 = 0xFFFFFFFF
MASK64 = 0xFFFFFFFFFFFFFFFF


def mix64(x):
    """SplitMix64 finaliser on Python ints (engine/rng.h)."""
    x = (x + 0x9E3779B97F4A7C15) & MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK64
    return x ^ (x >> 31)


def fmix32_int(h):
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & MASK32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & MASK32
    return h ^ (h >> 16)


def fmix32(h):
    """fmix32 on an int64 tensor of uint32 values (products wrap mod 2^64; the low 32 bits stay exact)."""
    h = h ^ (h >> 16)
    h = (h * 0x85EBCA6B) & MASK32
    h = h ^ (h >> 13)
    h = (h * 0xC2B2AE35) & MASK32
    return h ^ (h >> 16)


def sketch_width(rows, compression, depth):
    return max(1, int(math.floor(rows / (compression * depth) + 0.5)))  # std::round for positive values


class RowSketch:
    """A Count-Sketch (signed=True) or Count-Min Sketch of a [rows, d] matrix, on `device`."""

    def __init__(self, rows, d, signed, compression=5.0, depth=3, identity=False, device="cpu"):
        self.rows, self.d, self.signed, self.depth, self.identity = rows, d, signed, depth, identity
        self.width = sketch_width(rows, compression, depth)
        self.seeds = []
        for j in range(depth):
            r = mix64(0x736B65746368 + j)
            self.seeds.append(((r & MASK32) | 1, r >> 32))
        self.S = torch.zeros(depth, self.width, d, device=device)

    def slots(self, ids):
        """(buckets [depth, n] int64, signs [depth, n] float) of row ids [n] int64."""
        buckets, signs = [], []
        for a, b in self.seeds:
            if self.identity:
                buckets.append(ids % self.width)
            else:
                buckets.append(fmix32((a * ids + b) & MASK32) % self.width)
            sb = fmix32((((a + 2) & MASK32) * ids + ((b + 3) & MASK32)) & MASK32) & 1
            signs.append(sb.to(self.S.dtype) * 2 - 1)
        return torch.stack(buckets), torch.stack(signs)

    def update(self, buckets, signs, x, decay, scale, conservative=False):
        if conservative:
            assert not self.signed, "the conservative update is for Count-Min sketches"
            target = decay * self.query(buckets, signs) + scale * x
            for j in range(self.depth):
                idx = buckets[j].unsqueeze(1).expand(-1, self.d)
                acc = torch.full((self.width, self.d), -math.inf, dtype=x.dtype, device=x.device)
                with warnings.catch_warnings():  # "scatter_reduce() is in beta" (PyTorch 1.13)
                    warnings.simplefilter("ignore", UserWarning)
                    acc.scatter_reduce_(0, idx, target, "amax")
                touched = torch.unique(buckets[j])
                self.S[j, touched] = torch.maximum(decay * self.S[j, touched], acc[touched])
            return
        for j in range(self.depth):
            v = x * signs[j].unsqueeze(1) if self.signed else x
            acc = torch.zeros(self.width, self.d, dtype=x.dtype, device=x.device).index_add_(0, buckets[j], v)
            touched = torch.unique(buckets[j])
            self.S[j, touched] = decay * self.S[j, touched] + scale * acc[touched]

    def query(self, buckets, signs):
        est = torch.stack([self.S[j, buckets[j]] for j in range(self.depth)])  # [depth, n, d]
        if not self.signed:
            return est.min(0).values
        est = est * signs.unsqueeze(2)
        if self.depth % 2 == 1:
            return est.median(0).values
        s = est.sort(0).values
        return 0.5 * (s[self.depth // 2 - 1] + s[self.depth // 2])


class SketchedSparseAdam(torch.optim.Optimizer):
    """Lazy Adam on sparse-gradient matrices with m and/or v in sketches (see the module docstring)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, sketch_m=True, sketch_v=True,
                 compression=5.0, depth=3, identity=False, clean_alpha=0.25, clean_every=1000,
                 diagnostics_every=0, conservative=False, no_m=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps))
        self.sketch_m, self.sketch_v = sketch_m and not no_m, sketch_v
        self.conservative, self.no_m = conservative, no_m
        self.compression, self.depth, self.identity = compression, depth, identity
        self.clean_alpha, self.clean_every = clean_alpha, clean_every
        self.diagnostics_every, self.diagnostics = diagnostics_every, []

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            b1, b2 = group["betas"]
            if self.no_m:
                b1 = 0.0
            for p in group["params"]:
                if p.grad is None:
                    continue
                if not p.grad.is_sparse or p.dim() != 2:
                    raise ValueError("SketchedSparseAdam takes matrices with sparse gradients")
                st = self.state[p]
                if not st:
                    st["step"] = 0
                    rows, d = p.shape
                    mk = lambda signed: RowSketch(rows, d, signed, self.compression, self.depth,  # noqa: E731
                                                  self.identity, p.device)
                    st["m"] = mk(True) if self.sketch_m else (None if self.no_m else torch.zeros_like(p))
                    st["v"] = mk(False) if self.sketch_v else torch.zeros_like(p)
                st["step"] += 1
                t = st["step"]
                grad = p.grad.coalesce()
                ids, g = grad.indices()[0], grad.values()
                if ids.numel() == 0:
                    continue
                m, v = st["m"], st["v"]
                if isinstance(m, RowSketch) or isinstance(v, RowSketch):
                    buckets, signs = (m if isinstance(m, RowSketch) else v).slots(ids)
                if isinstance(m, RowSketch):
                    m.update(buckets, signs, g, b1, 1 - b1)
                    mv = m.query(buckets, signs)
                elif m is None:
                    mv = g
                else:
                    mv = b1 * m[ids] + (1 - b1) * g
                    m[ids] = mv
                if isinstance(v, RowSketch):
                    v.update(buckets, signs, g * g, b2, 1 - b2, self.conservative)
                    vv = v.query(buckets, signs)
                else:
                    vv = b2 * v[ids] + (1 - b2) * g * g
                    v[ids] = vv
                if self.diagnostics_every > 0:
                    self._diagnose(group.get("name", "x".join(map(str, p.shape))), p, st, t, ids, g, mv, vv, b1,
                                   b2, group["eps"])
                if (self.sketch_m or self.sketch_v) and b1 * b1 < b2:
                    k = math.sqrt((1 - b1) ** 2 / ((1 - b2) * (1 - b1 * b1 / b2)))
                    lim = k * vv.sqrt()
                    mv = torch.maximum(torch.minimum(mv, lim), -lim)
                step_size = group["lr"] * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
                p[ids] = p[ids] - step_size * mv / (vv.sqrt() + group["eps"])
                if isinstance(v, RowSketch) and self.clean_every > 0 and t % self.clean_every == 0:
                    v.S.mul_(self.clean_alpha)


    def _diagnose(self, name, p, st, t, ids, g, mv, vv, b1, b2, eps):
        """Exact lazy moments beside the sketches; per id band, how much of exact Adam's step survives."""
        if "exact_m" not in st:
            st["exact_m"], st["exact_v"] = torch.zeros_like(p), torch.zeros_like(p)
        em = b1 * st["exact_m"][ids] + (1 - b1) * g
        ev = b2 * st["exact_v"][ids] + (1 - b2) * g * g
        st["exact_m"][ids], st["exact_v"][ids] = em, ev
        if t % self.diagnostics_every:
            return
        lo, rows = 0, st["exact_m"].shape[0]
        for hi in (100, 1000, 10**4, 10**5, 10**6, 2**31):
            sel = (ids >= lo) & (ids < hi)
            band, lo = f"[{lo}, {min(hi, rows)})", hi  # the last band ends at the table's rows
            if int(sel.sum()) == 0:
                continue
            a, b = mv[sel], em[sel]
            gain = float((a * b).sum() / (b * b).sum().clamp_min(1e-30))
            noise = float((a - gain * b).norm() / (gain * b).norm().clamp_min(1e-30))
            ratio = float((vv[sel] / ev[sel].clamp_min(1e-30)).median())
            us, ue = a / (vv[sel].sqrt() + eps), b / (ev[sel].sqrt() + eps)
            step = float((us * ue).sum() / (ue * ue).sum().clamp_min(1e-30))
            self.diagnostics.append(dict(step=t, table=name, ids=band, rows=int(sel.sum()), m_gain=gain,
                                         m_noise=noise, v_ratio=ratio, step_gain=step))


def _self_check():
    ids = torch.tensor([0, 1, 7, 12345, 793470, 2**31 - 1], dtype=torch.int64)
    sk = RowSketch(1000, 4, True, identity=False)
    buckets, signs = sk.slots(ids)
    for j, (a, b) in enumerate(sk.seeds):
        for q, i in enumerate(ids.tolist()):
            assert buckets[j, q].item() == fmix32_int((a * i + b) & MASK32) % sk.width
            sign = 1.0 if fmix32_int(((a + 2) * i + b + 3) & MASK32) & 1 else -1.0
            assert signs[j, q].item() == sign
    # Lossless (identity buckets, width >= rows, signs cancel: s*s = 1) equals SparseAdam. The m clamp never
    # binds for exact moments (Cauchy-Schwarz), so it is on here as in sketchgrad.
    torch.manual_seed(0)
    rows, d = 50, 6
    w0 = torch.randn(rows, d)
    def max_diff(ref_betas, **sketch_args):
        """Train two copies of w0 for 30 steps on the same sparse gradients; max |difference|."""
        pa, pb = torch.nn.Parameter(w0.clone()), torch.nn.Parameter(w0.clone())
        ref = torch.optim.SparseAdam([pa], lr=0.01, betas=ref_betas)
        sk_opt = SketchedSparseAdam([pb], lr=0.01, compression=1.0 / 3.0, identity=True, **sketch_args)
        for step in range(30):
            ids = torch.unique(torch.randint(0, rows, (12,)))
            vals = torch.randn(ids.numel(), d)
            for p, o in ((pa, ref), (pb, sk_opt)):
                p.grad = torch.sparse_coo_tensor(ids.view(1, -1), vals, (rows, d))
                o.step()
        return (pa - pb).abs().max().item()

    err = max_diff((0.9, 0.999))
    assert err < 1e-5, f"lossless sketched Adam differs from SparseAdam by {err}"
    # Lossless and conservative with no m equals SparseAdam with beta1 = 0.
    err_nom = max_diff((0.0, 0.999), sketch_m=False, conservative=True, no_m=True)
    assert err_nom < 1e-5, f"lossless conservative no-m Adam differs from SparseAdam(beta1 0) by {err_nom}"
    # Conservative Count-Min on a lossy stream: never below the running sum, never above the plain update.
    cu, plain = RowSketch(300, 2, False, compression=10.0), RowSketch(300, 2, False, compression=10.0)
    truth = torch.zeros(300, 2)
    for step in range(20):
        ids = torch.unique(torch.randint(0, 300, (80,)))
        x = torch.randint(0, 4, (ids.numel(), 2)).float()
        b, sg = cu.slots(ids)
        cu.update(b, sg, x, 1.0, 1.0, conservative=True)
        plain.update(b, sg, x, 1.0, 1.0)
        truth[ids] += x
    b, sg = cu.slots(torch.arange(300))
    q_cu, q_plain = cu.query(b, sg), plain.query(b, sg)
    assert bool((q_cu >= truth).all()) and bool((q_cu <= q_plain).all()) and bool((q_cu < q_plain).any())
    # Diagnostics: a lossless sketch keeps all of exact Adam's step; a 10x sketch of 400 rows loses some.
    pc = torch.nn.Parameter(w0.clone())
    lossless = SketchedSparseAdam([pc], lr=0.01, compression=1.0 / 3.0, identity=True, diagnostics_every=10)
    for step in range(20):
        ids = torch.unique(torch.randint(0, rows, (12,)))
        pc.grad = torch.sparse_coo_tensor(ids.view(1, -1), torch.randn(ids.numel(), d), (rows, d))
        lossless.step()
    for rec in lossless.diagnostics:
        assert abs(rec["m_gain"] - 1) < 1e-5 and abs(rec["v_ratio"] - 1) < 1e-5 and abs(rec["step_gain"] - 1) < 1e-4, rec
    big = torch.nn.Parameter(torch.zeros(400, d))
    lossy = SketchedSparseAdam([big], lr=0.01, compression=10.0, diagnostics_every=10)
    for step in range(20):
        ids = torch.unique(torch.randint(0, 400, (100,)))
        big.grad = torch.sparse_coo_tensor(ids.view(1, -1), torch.randn(ids.numel(), d), (400, d))
        lossy.step()
    assert all(r["v_ratio"] >= 1 for r in lossy.diagnostics), lossy.diagnostics  # Count-Min never under-estimates
    assert any(r["m_noise"] > 0.1 for r in lossy.diagnostics), lossy.diagnostics
    print(f"torch_sketch_adam self-check passed (lossless vs SparseAdam max |diff| {err:.2e}, "
          f"no-m conservative vs SparseAdam(beta1 0) {err_nom:.2e})")


if __name__ == "__main__":
    _self_check()
