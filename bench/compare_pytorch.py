#!/usr/bin/python3
"""Side-by-side benchmark: `sketchgrad train` against the same model trained by PyTorch (bench/torch_lm.py).

Both runs use the same corpus, vocabulary rule, batching, model, optimizer, learning rate, clipping, steps, seed
and thread count, one after the other on the same machine. Prints words/s, peak resident memory, held-out
perplexity and the ratios sketchgrad / PyTorch, and writes everything (machine, exact commands, both summaries)
to bench/results/compare-<date>-<variant>-<device>.json (per-run logs: out/compare/).

  /usr/bin/python3 bench/compare_pytorch.py                      # issue 7 config, full softmax, CPU, 2 threads
  /usr/bin/python3 bench/compare_pytorch.py --variant sampled    # sampled softmax (S = --samples)
  /usr/bin/python3 bench/compare_pytorch.py --variant cs-mv      # sampled softmax, both with --state cs-mv
  /usr/bin/python3 bench/compare_pytorch.py --variant cs-v-nom   # sampled softmax, both with --state cs-v-nom
  /usr/bin/python3 bench/compare_pytorch.py --variant all
  python3 bench/compare_pytorch.py --device cuda --preset paper-lm1b   # GPU, paper config (synthetic V=793,471)

The peak RSS of each child is measured here (os.wait4's rusage), whatever the child reports itself.
"""
import argparse
import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# The issue-7 CPU configuration. Keys are the flags both trainers share.
DEFAULT_MODEL = dict(emb=128, hidden=512, proj=128, layers=1, dropout=0.0, batch=32, bptt=20, lr=4e-3,
                     clip=1.0, min_count=3)
PAPER_MODEL = dict(emb=256, hidden=2048, proj=256, layers=1, dropout=0.01, batch=1024, bptt=20, lr=4e-3,
                   clip=1.0, min_count=3)
VARIANTS = {  # name -> (softmax kind, sketchgrad --state)
    "full": ("full", "dense"),
    "sampled": ("sampled", "dense"),
    "cs-mv": ("sampled", "cs-mv"),
    "cs-v-nom": ("sampled", "cs-v-nom"),
}


def machine_info():
    info = {"hostname": platform.node(), "platform": platform.platform(), "python": sys.version.split()[0],
            "nproc": os.cpu_count()}
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        for line in out.splitlines():
            k, _, v = line.partition(":")
            if k.strip() in ("Model name", "CPU(s)", "Core(s) per socket", "Socket(s)", "Thread(s) per core",
                             "L3 cache", "Flags"):
                info["lscpu " + k.strip()] = v.strip() if k.strip() != "Flags" else \
                    " ".join(f for f in v.split() if f.startswith(("avx", "fma", "amx")))
    except OSError:
        pass
    try:
        with open("/proc/meminfo") as f:
            info["mem_total_kib"] = int(f.readline().split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return info


def child_env(policy, openblas_core):
    """The environment of one trainer. OMP_WAIT_POLICY: libgomp's default spin-waiting, next to OpenBLAS's own
    pthreads, made Debian's PyTorch 5x slower with 2 threads than with 1 on the 2-vCPU machine (passive avoids it);
    passive makes sketchgrad ~25 % slower (its threads sleep between the step's parallel regions). By default each
    trainer runs with the policy that is best for it: PyTorch passive, sketchgrad libgomp's default."""
    env = dict(os.environ)
    env.pop("OMP_WAIT_POLICY", None)
    # Both trainers use Debian's OpenBLAS, whose kernel set is picked at load time: autodetected from the CPU, or
    # pinned by OPENBLAS_CORETYPE (some hosts pin Haswell = AVX2 although they have AVX-512).
    if openblas_core == "auto":
        env.pop("OPENBLAS_CORETYPE", None)
    elif openblas_core != "inherit":
        env["OPENBLAS_CORETYPE"] = openblas_core
    if policy != "default":
        env["OMP_WAIT_POLICY"] = policy.upper()
    return env


def run_child(cmd, log_path, env):
    """Runs cmd, stdout+stderr to log_path; returns (exit code, wall seconds, peak RSS bytes of the child)."""
    print("$ " + " ".join(shlex.quote(c) for c in cmd), flush=True)
    t0 = time.time()
    with open(log_path, "w") as log:
        try:
            p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, env=env)
        except OSError as e:
            log.write(f"cannot start: {e}\n")
            return 127, 0.0, None
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
    return p.returncode, time.time() - t0, ru.ru_maxrss * 1024


def tail(path, n=15):
    try:
        with open(path, errors="replace") as f:
            return f.read().splitlines()[-n:]
    except OSError:
        return []


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def median_run(runs):
    """The run with the median words/s (the lower middle for an even count); {} when there is none."""
    if not runs:
        return {}
    ok = sorted(runs, key=lambda r: r.get("summary", {}).get("words_per_s") or 0.0)
    return ok[(len(ok) - 1) // 2]


def shared_flags(a, model, softmax):
    f = ["--emb", model["emb"], "--hidden", model["hidden"], "--proj", model["proj"], "--layers",
         model["layers"], "--dropout", model["dropout"], "--softmax", softmax, "--batch", model["batch"],
         "--bptt", model["bptt"], "--optimizer", "adam", "--lr", model["lr"], "--clip", model["clip"],
         "--schedule", a.schedule, "--min-count", model["min_count"], "--steps", a.steps, "--threads",
         a.threads, "--seed", a.seed, "--device", a.device, "--warmup-steps", a.warmup_steps]
    if a.data:
        f += ["--data", a.data]
    if a.vocab:
        f += ["--vocab", a.vocab]
    if a.heldout:
        f += ["--heldout", a.heldout]
    if a.eval_tokens:
        f += ["--eval-tokens", a.eval_tokens]
    return [str(x) for x in f]


def fmt_num(v, kind):
    if v is None:
        return "n/a"
    if kind == "bytes":
        return f"{v / 2**20:,.1f} MiB"
    if kind == "int":
        return f"{int(v):,}"
    if kind == "rate":
        return f"{v:,.0f}"
    return f"{v:.4g}"


def print_table(title, rows):
    print(f"\n{title}")
    w0 = max(len(r[0]) for r in rows)
    print(f"{'':{w0}}  {'sketchgrad':>16}  {'pytorch':>16}  {'sg / pt':>9}")
    for name, sg, pt, kind in rows:
        ratio = "n/a"
        if isinstance(sg, (int, float)) and isinstance(pt, (int, float)) and pt:
            ratio = f"{sg / pt:.3f}"
        print(f"{name:{w0}}  {fmt_num(sg, kind):>16}  {fmt_num(pt, kind):>16}  {ratio:>9}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--variant", default=None, choices=list(VARIANTS) + ["all"],
                    help="default: full (issue7), sampled (paper-lm1b: a full softmax over 793k words is no LM1B "
                         "training setup)")
    ap.add_argument("--preset", default="issue7", choices=["issue7", "paper-lm1b"],
                    help="issue7: E128 H512 P128 B32 T20; paper-lm1b: E256 H2048 P256 B1024 T20 S8192")
    ap.add_argument("--data", help="corpus as sketchgrad train --data takes it (default: data/sotu)")
    ap.add_argument("--vocab", help="vocabulary file given to both trainers")
    ap.add_argument("--heldout", help="held-out shard given to both trainers")
    ap.add_argument("--eval-tokens", type=int, default=0, help="cap on held-out tokens (0 = whole shard)")
    ap.add_argument("--synth-sentences", type=int, default=2000000,
                    help="paper-lm1b without --data: sentences of the synthetic corpus `sketchgrad synth` writes")
    ap.add_argument("--samples", type=int, default=0, help="S for sampled variants (default 1024; paper 8192)")
    ap.add_argument("--steps", type=int, default=0, help="training steps (default: 300 CPU, 200 paper)")
    ap.add_argument("--warmup-steps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=1, help="alternate sketchgrad/PyTorch runs; median words/s")
    ap.add_argument("--schedule", default="constant", choices=["constant", "linear"])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--omp-wait-policy", default="best", choices=["best", "passive", "active", "default"],
                    help="OMP_WAIT_POLICY for both trainers; best (default): passive for PyTorch, libgomp's "
                         "default for sketchgrad, each trainer's faster setting (see child_env)")
    ap.add_argument("--openblas-core", default="inherit",
                    help="OpenBLAS kernel set for BOTH trainers: 'inherit' (this environment's OPENBLAS_CORETYPE, "
                         "if any), 'auto' (unset it: OpenBLAS detects the CPU), or a core name (Haswell, SkylakeX, ...)")
    ap.add_argument("--tf32", default="off", choices=["on", "off"], help="TF32 on CUDA for both trainers (sketchgrad --tf32; PyTorch allow_tf32 for matmul and cuDNN)")
    ap.add_argument("--torch-adam", default="lazy", choices=["auto", "dense", "lazy"],
                    help="lazy (default): SparseAdam on the tables whose gradients are row-sparse in "
                         "sketchgrad too (embedding; sampled softmax weights), the same semantics; "
                         "dense: torch.optim.Adam everywhere; auto: lazy for sampled softmax only")
    ap.add_argument("--sketchgrad", default=os.path.join(ROOT, "build", "bin", "sketchgrad"))
    ap.add_argument("--python", default=sys.executable, help="interpreter with torch for torch_lm.py")
    ap.add_argument("--skip-sketchgrad", action="store_true")
    ap.add_argument("--skip-torch", action="store_true")
    ap.add_argument("--out", default=os.path.join(HERE, "results"), help="folder for the comparison JSON, created if missing; the file is named "
                    "compare-STAMP-VARIANT-DEVICE.json (default bench/results)")
    ap.add_argument("--work-dir", default=os.path.join(ROOT, "out", "compare"),
                    help="per-run logs and summaries (their contents are also copied into the JSON)")
    a = ap.parse_args()
    if a.repeats < 1 or a.steps < 0 or a.threads < 0:
        ap.error("--repeats must be >= 1, --steps and --threads >= 0")

    paper = a.preset == "paper-lm1b"
    a.variant = a.variant or ("sampled" if paper else "full")
    model = PAPER_MODEL if paper else DEFAULT_MODEL
    a.samples = a.samples or (8192 if paper else 1024)
    a.steps = a.steps or (200 if paper else 300)
    if paper and not a.eval_tokens:
        a.eval_tokens = 200000
    if not a.skip_sketchgrad and not os.access(a.sketchgrad, os.X_OK):
        ap.error(f"{a.sketchgrad} not found: build it (make build) or pass --sketchgrad / --skip-sketchgrad")
    if paper and not a.data and not a.skip_sketchgrad:
        # Both trainers read the same synthetic LM1B-scale corpus written by `sketchgrad synth`.
        a.data = os.path.join(ROOT, "out", f"synth-lm1b-{a.synth_sentences}")
        if not os.path.isdir(a.data):
            cmd = [a.sketchgrad, "synth", "--out", a.data, "--sentences", str(a.synth_sentences), "--vocab-size",
                   "793471", "--seed", str(a.seed)]
            print("$ " + " ".join(cmd), flush=True)
            if subprocess.run(cmd, cwd=ROOT).returncode != 0:
                ap.error("sketchgrad synth failed: pass --data DIR")
    if not a.data:
        sotu = os.path.join(ROOT, "data", "sotu")
        if os.path.isdir(sotu):
            a.data = sotu
        elif not (paper and a.skip_sketchgrad):
            ap.error(f"{sotu} does not exist yet: pass --data DIR (an LM1B-layout corpus)")

    os.makedirs(a.out, exist_ok=True)
    os.makedirs(a.work_dir, exist_ok=True)
    sg_env = child_env("default" if a.omp_wait_policy == "best" else a.omp_wait_policy, a.openblas_core)
    torch_env = child_env("passive" if a.omp_wait_policy == "best" else a.omp_wait_policy, a.openblas_core)
    keep = ("OMP_", "GOMP_", "OPENBLAS_", "MKL_", "CUDA_VISIBLE")
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    variants = list(VARIANTS) if a.variant == "all" else [a.variant]
    if paper and a.variant == "all":  # 20,480 x 793,471 full-softmax logits are 65 GB: not on one GPU
        variants.remove("full")
        print("note: --variant all with paper-lm1b skips the full softmax (its logits alone are 65 GB)", flush=True)
    record = {"date": datetime.datetime.now().isoformat(timespec="seconds"), "machine": machine_info(),
              "args": vars(a), "runs": {},
              "environment": {"sketchgrad": {k: v for k, v in sg_env.items() if k.startswith(keep)},
                              "pytorch": {k: v for k, v in torch_env.items() if k.startswith(keep)}}}
    for variant in variants:
        kind, state = VARIANTS[variant]
        softmax = "full" if kind == "full" else f"sampled:{a.samples}"
        flags = shared_flags(a, model, softmax)
        res = {"softmax": softmax, "state": state, "sketchgrad_runs": [], "pytorch_runs": []}
        lazy = a.torch_adam == "lazy" or (a.torch_adam == "auto" and kind == "sampled")
        for rep in range(a.repeats):  # alternate the two so slow drift of the machine hits both alike
            tag = f"{stamp}-{variant}-{a.device.replace(':', '')}-r{rep}"
            if not a.skip_sketchgrad:
                sj = os.path.join(a.work_dir, f"sketchgrad-{tag}.summary.json")
                log = os.path.join(a.work_dir, f"sketchgrad-{tag}.log")
                cmd = [a.sketchgrad, "train"] + flags + ["--state", state, "--summary-json", sj]
                if a.device.startswith("cuda") and a.tf32 == "on":
                    cmd += ["--tf32"]
                rc, wall, rss = run_child(cmd, log, sg_env)
                run = {"command": cmd, "exit_code": rc, "wall_s": wall, "peak_rss_bytes_measured": rss,
                       "summary": load_json(sj), "log_tail": tail(log)}
                res["sketchgrad_runs"].append(run)
                if rc != 0:
                    print(f"sketchgrad exited {rc}; last lines:\n  " + "\n  ".join(run["log_tail"]))
            if not a.skip_torch:
                pj = os.path.join(a.work_dir, f"pytorch-{tag}.summary.json")
                log = os.path.join(a.work_dir, f"pytorch-{tag}.log")
                cmd = [a.python, os.path.join(HERE, "torch_lm.py")] + flags + ["--summary-json", pj]
                if paper:
                    cmd += ["--preset", "paper-lm1b"]
                if lazy or state != "dense":  # sketched state lives on the sparse-gradient tables
                    cmd += ["--lazy-adam"]
                if state != "dense":  # the same sketched Adam (bench/torch_sketch_adam.py)
                    cmd += ["--state", state]
                if a.device.startswith("cuda"):
                    cmd += ["--tf32", a.tf32]
                rc, wall, rss = run_child(cmd, log, torch_env)
                run = {"command": cmd, "exit_code": rc, "wall_s": wall, "peak_rss_bytes_measured": rss,
                       "summary": load_json(pj), "log_tail": tail(log)}
                res["pytorch_runs"].append(run)
                if rc != 0:
                    print(f"torch_lm exited {rc}; last lines:\n  " + "\n  ".join(run["log_tail"]))

        sg, pt = median_run(res["sketchgrad_runs"]), median_run(res["pytorch_runs"])
        sgs, pts = sg.get("summary", {}), pt.get("summary", {})
        rows = [
            ("words/s", sgs.get("words_per_s"), pts.get("words_per_s"), "rate"),
            ("peak RSS (measured by this script)", sg.get("peak_rss_bytes_measured"),
             pt.get("peak_rss_bytes_measured"), "bytes"),
            ("peak RSS (self-reported)", sgs.get("peak_rss_bytes"), pts.get("peak_rss_bytes"), "bytes"),
            ("held-out perplexity", sgs.get("heldout_perplexity"), pts.get("heldout_perplexity"), "float"),
            ("held-out tokens", sgs.get("heldout_tokens"), pts.get("heldout_tokens"), "int"),
            ("final train loss", sgs.get("final_train_loss"), pts.get("final_train_loss"), "float"),
            ("wall time incl. setup+eval (s)", sg.get("wall_s"), pt.get("wall_s"), "float"),
        ]
        if a.device.startswith("cuda"):
            rows += [("GPU peak allocated", sgs.get("measured_peak_bytes"),
                      pts.get("cuda_max_memory_allocated_bytes"), "bytes"),
                     ("GPU in use by the process", sgs.get("device_in_use_bytes"),
                      pts.get("cuda_process_delta_bytes"), "bytes")]
        if sgs.get("planned_peak_bytes") is not None:
            print(f"sketchgrad planned peak by category: {sgs.get('planned_peak_bytes')}")
        notes = ""
        if "--lazy-adam" in pt.get("command", []):
            notes = (f" (PyTorch: sketched lazy Adam, --state {state}, on embedding/softmax)" if state != "dense"
                     else " (PyTorch: SparseAdam on embedding/softmax)")
        if a.repeats > 1:
            notes += f", median words/s run of {a.repeats}"
        print_table(f"== {variant}: softmax {softmax}, --state {state}{notes}, "
                    f"{a.steps} steps, {a.threads} threads, {a.device} ==", rows)
        record["runs"][variant] = res

    path = os.path.join(a.out, f"compare-{stamp}-{a.variant}-{a.device.replace(':', '')}.json")
    with open(path, "w") as f:
        json.dump(record, f, indent=2, default=str)
    shown = os.path.relpath(path, ROOT)
    print(f"\nwrote {path if shown.startswith('..') else shown}")
    failed = [v for v, r in record["runs"].items()
              for side in ("sketchgrad_runs", "pytorch_runs") for run in r[side] if run["exit_code"] != 0]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
