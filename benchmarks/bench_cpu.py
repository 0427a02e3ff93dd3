"""CPU benchmark: rnnlab against torch.nn.RNN/LSTM/GRU (issue 4).

For each shape (T, B, I, H, layers) and each of RNN (tanh), LSTM and GRU: the time of
one training step (forward over the sequence + full BPTT + all weight gradients and
the input gradient, the loss gradient given) in rnnlab and in torch, float32, same
weights, at one thread and at the machine's default thread count (all the CPUs this
process may use), the same count for torch (set_num_threads) and every BLAS
(threadpoolctl), timed alternately (A B A B ...) in one run, each timed call after
50 ms of untimed calls of its own (--settle: a training loop's steady state; for
15-35 ms after torch's turn its OpenMP threads kept spinning, and rnnlab's steps at
two threads took up to 1.6x as long): the medians of each and
the median of the per-pair ratios torch/rnnlab, in wall-clock time and (one thread)
in CPU time, which other tenants of a shared machine disturb much less; and rnnlab's
own speed-up over one thread, from rounds of rnnlab alone at both counts (torch's
idle threads, still spinning after its turn, slow whatever runs next). Also: peak memory of one step of each (separate processes,
growth of the peak RSS over the set-up), rnnlab's GFLOP/s next to a large float32
GEMM measured in the same run, first-call JIT compile time (empty cache) and the
first call of a second process (cache on disk), and sampling speed (characters/s,
2-layer LSTM H=512, B=1) against torch stepping nn.LSTM one character at a time.

    python benchmarks/bench_cpu.py             # table + benchmarks/results/bench_cpu.json
    python benchmarks/bench_cpu.py --threads 2 --reps 9 --out my.json --with-reference
    python benchmarks/bench_cpu.py --profile LSTM charlm   # where rnnlab's time goes
    python benchmarks/bench_cpu.py --shapes adding,streaming --cells LSTM --no-memory
    python benchmarks/bench_cpu.py --shapes more --threads 1,2 --no-memory --no-compile
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# (T, B, I, H, layers), as the issue names them
SHAPES = {
    "adding": (100, 20, 2, 100, 1),
    "forecast": (50, 64, 3, 32, 1),
    "streaming": (200, 1, 8, 64, 1),
    "charlm": (50, 50, 65, 128, 2),
    "charlm-large": (50, 50, 65, 512, 2),
    "medium": (100, 128, 64, 256, 1),
}
# shapes no rule was tuned on (issue 16, eighth session), (T, B, I, H, layers[, 2 for
# bidirectional]): `--shapes more` runs them; the targets do not apply (1.0)
MORE_SHAPES = {
    "tiny": (20, 1, 4, 16, 1), "long": (1000, 4, 16, 64, 1), "wide-batch": (20, 512, 32, 128, 1),
    "bi2": (50, 32, 40, 96, 2, 2), "mid": (64, 32, 128, 384, 1), "odd": (37, 13, 7, 77, 2),
    "bigH": (100, 8, 64, 1024, 1), "bigH4": (100, 4, 64, 1024, 1), "deep": (30, 16, 16, 64, 4),
}
ALL_SHAPES = SHAPES | MORE_SHAPES
CELLS = ("RNN", "LSTM", "GRU")
GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", default="1,all",
                   help="comma-separated thread counts for torch and BLAS; all: every CPU")
    p.add_argument("--reps", type=int, default=7, help="timed A/B pairs after the warm-up")
    p.add_argument("--warmup", type=int, default=2, help="untimed pairs first")
    p.add_argument("--settle", type=float, default=0.05,
                   help="seconds of untimed calls of the same step before each timed one (0: "
                        "strict A B A B, where the other's still-spinning threads slow a call)")
    p.add_argument("--shapes", default=",".join(SHAPES),
                   help="comma-separated shape names (SHAPES, MORE_SHAPES); more: MORE_SHAPES")
    p.add_argument("--cells", default=",".join(CELLS), help="comma-separated cells")
    p.add_argument("--sample-chars", type=int, default=300, help="characters per sampling rep")
    p.add_argument("--no-memory", action="store_true", help="skip the peak-memory processes")
    p.add_argument("--with-reference", action="store_true",
                   help="also time rnnlab's reference NumPy loop (RNNLAB_FAST=0) in the rounds")
    p.add_argument("--no-compile", action="store_true", help="skip the compile-time processes")
    p.add_argument("--out", default=str(Path(__file__).parent / "results" / "bench_cpu.json"))
    p.add_argument("--profile", nargs=2, metavar=("CELL", "SHAPE"),
                   help="only profile rnnlab's step on one case: where the time goes")
    p.add_argument("--markdown", metavar="JSON", help="print a results file as a Markdown table")
    p.add_argument("--child", nargs="+", help=argparse.SUPPRESS)  # internal: memory/compile runs
    return p.parse_args(argv)


def limit_threads(n: int) -> None:
    """Before NumPy, torch or Numba load: every BLAS/OpenMP pool to n threads."""
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ[var] = str(n)


# ---- the two training steps ---------------------------------------------------------


def make_steps(cell: str, shape: tuple, seed: int = 0, fast: bool | None = None):
    """(rnnlab step, torch step) on the same weights, input and loss gradient; fast: the
    rnnlab layer's switch (None: RNNLAB_FAST, default on; False: the reference loop)."""
    import numpy as np
    import torch

    import rnnlab

    T, B, I, H, L, *bi = shape
    D = bi[0] if bi else 1
    layer = getattr(rnnlab, cell)(I, H, L, bidirectional=D == 2, seed=seed, dtype=np.float32,
                                  fast=fast)
    module = rnnlab.to_torch(layer)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((T, B, I)).astype(np.float32)
    dy = rng.standard_normal((T, B, D * H)).astype(np.float32)  # ∂L/∂output, given
    xt = torch.from_numpy(x.copy()).requires_grad_(True)
    dyt = torch.from_numpy(dy.copy())

    def step_rnnlab():
        _, _, cache = layer.forward(x, training=True)
        return layer.backward(cache, dy)

    def step_torch():
        for p in module.parameters():
            p.grad = None
        xt.grad = None
        out, _ = module(xt)
        out.backward(dyt)

    return step_rnnlab, step_torch


def flops(cell: str, shape: tuple) -> float:
    """Multiply-adds ×2 of a training step: per layer, direction and step the products
    with W_ih and W_hh forward, their transposes backward, and the two weight gradients:
    6·T·B·G·H·(I+H), a layer above the first reading D·H inputs."""
    T, B, I, H, L, *bi = shape
    G, D = GATES[cell], (bi[0] if bi else 1)
    return sum(6.0 * D * T * B * G * H * ((I if k == 0 else D * H) + H) for k in range(L))


def time_rounds(fns, reps: int, warmup: int, cpu: list | None = None,
                settle: float = 0.0) -> list[list[float]]:
    """Run fns in turn (A B A B ...); each one's wall-clock times (s) over `reps` rounds
    after `warmup` rounds, each timed call after `settle` seconds of untimed calls of
    the same fn (its steady state, as in a training loop, once the other's threads
    have stopped spinning). cpu: a list that receives each one's process CPU times."""
    times, cpus = [[] for _ in fns], [[] for _ in fns]
    for r in range(warmup + reps):
        for f, ts, cs in zip(fns, times, cpus):
            start = time.perf_counter()
            while time.perf_counter() - start < settle:
                f()
            c0, t0 = time.process_time(), time.perf_counter()
            f()
            if r >= warmup:
                ts.append(time.perf_counter() - t0)
                cs.append(time.process_time() - c0)
    if cpu is not None:
        cpu.extend(cpus)
    return times


def gemm_name() -> str:
    """The GEMM of rnnlab's large products: its own AVX-512 one or NumPy's BLAS."""
    from rnnlab._linalg import _own_sgemm

    return "rnnlab's own AVX-512 gemm" if _own_sgemm() is not None else "NumPy's BLAS"


def gemm_rate(n: int = 2048, reps: int = 5) -> float:
    """GFLOP/s of an n×n float32 matrix product on the GEMM of rnnlab's large products
    (rnnlab._linalg.matmul: gemm_name())."""
    import numpy as np

    from rnnlab._linalg import matmul

    a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    matmul(a, a)
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        matmul(a, a)
        ts.append(time.perf_counter() - t0)
    return 2 * n**3 / float(np.median(ts)) / 1e9


# ---- children: peak memory, compile time -------------------------------------------


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        return next(int(ln.split()[1]) for ln in f if ln.startswith(field + ":"))


def child_memory(framework: str, cell: str, shape_name: str) -> dict:
    """Peak memory (MiB) of one training step: the peak RSS during the step (Linux
    VmHWM, reset just before it) less the RSS before it, after the set-up (imports,
    weights, data, and tiny steps that load the kernels: one sequence and two, and a
    large transposed copy, so that no compiled code is loaded inside the step)."""
    for batch in (1, 2):
        tiny_a, tiny_b = make_steps(cell, (2, batch, 3, 4, 1))
        (tiny_a if framework == "rnnlab" else tiny_b)()
    if framework == "rnnlab":
        import numpy as np

        from rnnlab.kernels._gemm import contiguous

        contiguous(np.zeros((256, 256), np.float32).T)
    step_a, step_b = make_steps(cell, ALL_SHAPES[shape_name])
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset the peak RSS to the current RSS
    base = _status_kib("VmRSS")
    result = (step_a if framework == "rnnlab" else step_b)()
    peak = _status_kib("VmHWM")
    del result
    return {"peak_mib": (peak - base) / 1024}


def child_compile() -> dict:
    """Seconds of the first and second rnnlab training step of each cell (tiny shape)."""
    out = {}
    t0 = time.perf_counter()
    import rnnlab  # noqa: F401

    out["import_s"] = time.perf_counter() - t0
    for cell in CELLS:
        step, _ = make_steps(cell, (3, 2, 3, 4, 1))
        t0 = time.perf_counter()
        step()
        t1 = time.perf_counter()
        step()
        out[cell] = {"first_s": t1 - t0, "second_s": time.perf_counter() - t1}
    return out


def run_child(args_list: list[str], threads: int, env_extra: dict | None = None) -> dict:
    env = dict(os.environ, **(env_extra or {}))
    cmd = [sys.executable, __file__, "--threads", str(threads), "--child", *args_list]
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def compile_times(threads: int) -> dict:
    """First-call times with an empty Numba cache, then in a second process using it."""
    with tempfile.TemporaryDirectory() as d:
        env = {"NUMBA_CACHE_DIR": d}
        cold = run_child(["compile"], threads, env)
        warm = run_child(["compile"], threads, env)
    return {"empty_cache": cold, "second_process": warm}


# ---- sampling -----------------------------------------------------------------------


def sampling(n_chars: int, reps: int, warmup: int, V: int = 65, H: int = 512, L: int = 2):
    """Characters/s: a 2-layer LSTM (H=512, B=1) fed back its own samples, with the same
    readout (logits = W h + b, softmax, one draw) on both sides."""
    import numpy as np
    import torch

    import rnnlab

    layer = rnnlab.LSTM(V, H, L, seed=0)
    module = rnnlab.to_torch(layer)
    rng = np.random.default_rng(0)
    W_out = (rng.standard_normal((V, H)) / np.sqrt(H)).astype(np.float32)
    b_out = np.zeros(V, np.float32)
    cell_modules = [torch.nn.LSTMCell(V if k == 0 else H, H) for k in range(L)]
    with torch.no_grad():  # the same weights in torch.nn.LSTMCell, for the extra column
        for k, c in enumerate(cell_modules):
            for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(c, n).copy_(torch.from_numpy(layer.params[f"{n}_l{k}"]))
    readout = torch.nn.Linear(H, V)
    with torch.no_grad():
        readout.weight.copy_(torch.from_numpy(W_out))
        readout.bias.zero_()
    u = rng.random(n_chars)  # the same uniform draws on both sides

    def draw(p, u_k):
        return min(int(np.searchsorted(np.cumsum(p), u_k * p.sum())), V - 1)

    def run_rnnlab():
        stepper, k = layer.stepper(), 0
        for i in range(n_chars):
            h = stepper.step_index(k)[0]
            z = W_out @ h + b_out
            p = np.exp(z - z.max())
            k = draw(p, u[i])

    @torch.no_grad()
    def run_torch():
        state, k = None, 0
        for i in range(n_chars):
            x = torch.zeros(1, 1, V)
            x[0, 0, k] = 1
            out, state = module(x, state)
            p = torch.softmax(readout(out[0, 0]), -1)
            k = draw(p.numpy(), u[i])

    @torch.no_grad()
    def run_torch_cell():
        states, k = [None] * L, 0
        for i in range(n_chars):
            x = torch.zeros(1, V)
            x[0, k] = 1
            for j, c in enumerate(cell_modules):
                states[j] = c(x, states[j])
                x = states[j][0]
            p = torch.softmax(readout(x[0]), -1)
            k = draw(p.numpy(), u[i])

    ta, tb = time_rounds([run_rnnlab, run_torch], reps, warmup)
    _, tc = time_rounds([run_rnnlab, run_torch_cell], max(3, reps // 2), 1)
    ratios = [b / a for a, b in zip(ta, tb)]
    return {
        "n_chars": n_chars,
        "rnnlab_chars_per_s": n_chars / float(np.median(ta)),
        "torch_lstm_chars_per_s": n_chars / float(np.median(tb)),
        "torch_lstmcell_chars_per_s": n_chars / float(np.median(tc)),
        "ratio_median_of_pairs": float(np.median(ratios)),
    }


# ---- report -------------------------------------------------------------------------


def profile(cell: str, shape_name: str, steps: int = 10) -> None:
    """cProfile of rnnlab's training step (the kernels and each matrix product show as
    their own functions), next to the time all its FLOPs would take at the GEMM rate."""
    import cProfile
    import pstats

    step, _ = make_steps(cell, ALL_SHAPES[shape_name])
    step()
    gemm = gemm_rate()
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.runcall(lambda: [step() for _ in range(steps)])
    per_step = (time.perf_counter() - t0) / steps
    floor = flops(cell, ALL_SHAPES[shape_name]) / (gemm * 1e9)
    print(f"{cell} {shape_name}: {1e3 * per_step:.2f} ms/step (profiled); all FLOPs at the "
          f"GEMM rate ({gemm:.0f} GFLOP/s): {1e3 * floor:.2f} ms. Per step, ×{steps}:")
    pstats.Stats(prof).sort_stats("tottime").print_stats(10)


def machine_info(threads: list[int]) -> dict:
    import numba
    import numpy as np
    import torch
    from threadpoolctl import threadpool_info

    cpu = platform.processor()
    if Path("/proc/cpuinfo").exists():
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        names = [ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("model name")]
        cpu = names[0] if names else cpu
    return {
        "cpu": cpu, "cores": os.cpu_count(), "threads": threads,
        "python": platform.python_version(),
        "numpy": np.__version__, "numba": numba.__version__, "torch": torch.__version__,
        "blas": [{k: d.get(k) for k in ("internal_api", "version", "architecture", "num_threads",
                                        "filepath")} for d in threadpool_info()],
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        "load_average_start": os.getloadavg(),
    }


def target(shape_name: str) -> float:
    """The issue's torch/rnnlab target: 1.5 for its shapes with H <= 128, else 1.0."""
    return 1.5 if shape_name in SHAPES and ALL_SHAPES[shape_name][3] <= 128 else 1.0


def scaling(rows: list[dict]) -> dict:
    """(cell, shape, threads) -> rnnlab's time at 1 thread / its time at `threads`: the
    median of the pairs of its own rounds without torch (own_speedup_median_of_pairs)."""
    return {(r["cell"], r["shape"], r["threads"]):
            r.get("own_speedup_median_of_pairs", 1.0 if r["threads"] == 1 else math.nan)
            for r in rows}


def print_table(rows: list[dict], gemm: dict, sample: dict | None, compile_: dict | None):
    head = (f"{'cell':5} {'shape':13} {'(T,B,I,H,L)':20} {'thr':>3} {'rnnlab ms':>10} "
            f"{'torch ms':>9} {'ratio':>6} {'cpu':>5} {'target':>6} {'bound':>6} {'GFLOP/s':>8} "
            f"{'%GEMM':>6} {'vs 1thr':>7} {'mem MiB r/t':>13}{'ref ms':>9}")
    print(head)
    print("-" * len(head))
    speed = scaling(rows)
    for r in rows:
        mem = (f"{r['rnnlab_peak_mib']:.1f}/{r['torch_peak_mib']:.1f}"
               if "rnnlab_peak_mib" in r else "-")
        ok = "ok" if r["ratio_median_of_pairs"] >= r["target"] else "MISS"
        cpu = f"{r['cpu_ratio_median_of_pairs']:5.2f}" if r["threads"] == 1 else "    -"
        up = speed.get((r["cell"], r["shape"], r["threads"]), float("nan"))
        print(f"{r['cell']:5} {r['shape']:13} {tuple(r['dims'])!s:20} {r['threads']:3d} "
              f"{r['rnnlab_ms']:10.2f} {r['torch_ms']:9.2f} {r['ratio_median_of_pairs']:6.2f} {cpu} "
              f"{r['target']:4.1f}{ok:>4} {r['ratio_at_gemm_rate']:6.2f} "
              f"{r['rnnlab_gflops']:8.1f} {100 * r['rnnlab_gflops'] / r['gemm_gflops']:5.0f}% "
              f"{up:7.2f} {mem:>13}{r.get('reference_ms', float('nan')):9.2f}")
    print(f"large float32 GEMM (2048³, {gemm_name()}, measured before each case; the best "
          "here): " + ", ".join(f"{v:.1f} GFLOP/s at {n} thread(s)" for n, v in gemm.items())
          + "; bound: the ratio rnnlab would reach running all its FLOPs at the case's rate; "
          "cpu: the ratio in CPU time "
        "(one thread); vs 1thr: rnnlab's time at one thread / at this count, from rounds "
        "of rnnlab alone at both counts")
    if sample:
        print("sampling (2-layer LSTM H=512, B=1): "
              f"rnnlab {sample['rnnlab_chars_per_s']:.0f} chars/s, "
              f"torch nn.LSTM {sample['torch_lstm_chars_per_s']:.0f} chars/s "
              f"(ratio {sample['ratio_median_of_pairs']:.1f}), "
              f"torch nn.LSTMCell {sample['torch_lstmcell_chars_per_s']:.0f} chars/s")
    if compile_:
        cold, warm = compile_["empty_cache"], compile_["second_process"]
        print("first training step, empty Numba cache / second process: " + ", ".join(
            f"{c} {cold[c]['first_s']:.2f}/{warm[c]['first_s']:.3f} s" for c in CELLS))


def markdown(path: str) -> None:
    """Print a results JSON as the Markdown table of benchmarks/README.md."""
    res = json.loads(Path(path).read_text())
    speed = scaling(res["rows"])
    print("| cell | shape (T, B, I, H, layers) | threads | rnnlab ms | torch ms | torch/rnnlab "
          "| in CPU time | target | bound | rnnlab GFLOP/s (% GEMM) | rnnlab 1 thread / this "
          "| peak MiB rnnlab / torch | reference loop ms |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in res["rows"]:
        met = "" if r["ratio_median_of_pairs"] >= r["target"] else " **miss**"
        mem = (f"{r['rnnlab_peak_mib']:.1f} / {r['torch_peak_mib']:.1f}"
               if "rnnlab_peak_mib" in r else "-")
        ref = f"{r['reference_ms']:.2f}" if "reference_ms" in r else "-"
        cpu = f"{r['cpu_ratio_median_of_pairs']:.2f}" if r["threads"] == 1 else "-"
        up = speed.get((r["cell"], r["shape"], r["threads"]), float("nan"))
        print(f"| {r['cell']} | {r['shape']} {tuple(r['dims'])} | {r['threads']} | "
              f"{r['rnnlab_ms']:.2f} | {r['torch_ms']:.2f} | "
              f"{r['ratio_median_of_pairs']:.2f}{met} | {cpu} | {r['target']:.1f} | "
              f"{r['ratio_at_gemm_rate']:.2f} | {r['rnnlab_gflops']:.1f} "
              f"({100 * r['rnnlab_gflops'] / r['gemm_gflops']:.0f} %) | {up:.2f} | {mem} | {ref} |")


def thread_counts(text: str) -> list[int]:
    """--threads: "1,all" -> [1, CPUs of this process] (duplicates dropped)."""
    cpus = len(os.sched_getaffinity(0))
    counts = [cpus if t.strip() == "all" else int(t) for t in text.split(",") if t.strip()]
    return list(dict.fromkeys(counts))


def measure(cell: str, shape_name: str, n: int, gemm: float, args) -> dict:
    """One row: rnnlab and torch (and the reference loop) alternately at n threads."""
    import numpy as np

    shape = ALL_SHAPES[shape_name]
    a, b = make_steps(cell, shape)
    fns = [a, b] + ([make_steps(cell, shape, fast=False)[0]] if args.with_reference else [])
    cpu: list = []
    ta, tb, *tr = time_rounds(fns, args.reps, args.warmup, cpu, args.settle)
    ratio = float(np.median([y / x for x, y in zip(ta, tb)]))
    F = flops(cell, shape)
    row = {"cell": cell, "shape": shape_name, "dims": list(shape), "threads": n,
           "rnnlab_ms": 1e3 * float(np.median(ta)), "torch_ms": 1e3 * float(np.median(tb)),
           "ratio_median_of_pairs": ratio,
           "cpu_ratio_median_of_pairs": float(np.median([y / x for x, y in zip(*cpu[:2])])),
           "target": target(shape_name), "gemm_gflops": gemm,
           "rnnlab_gflops": F / float(np.median(ta)) / 1e9,
           "torch_gflops": F / float(np.median(tb)) / 1e9,
           "ratio_at_gemm_rate": float(np.median(tb)) / (F / (gemm * 1e9)),
           "rnnlab_times_s": ta, "torch_times_s": tb, "rnnlab_cpu_s": cpu[0], "torch_cpu_s": cpu[1]}
    if tr:
        row["reference_ms"] = 1e3 * float(np.median(tr[0]))
    if n > 1:  # rnnlab alone, at one thread and at n in turn (torch's idle threads away)
        from rnnlab.kernels._threads import blas_threads

        def one_thread():  # threadpoolctl's limits took ~0.65 ms a call: the small steps' size
            with blas_threads(1):
                a()

        t1, tn = time_rounds([one_thread, a], args.reps, args.warmup, settle=args.settle)
        row["own_speedup_median_of_pairs"] = float(np.median([x / y for x, y in zip(t1, tn)]))
    print(f"  {cell} {shape_name} ×{n}: rnnlab {row['rnnlab_ms']:.2f} ms, torch "
          f"{row['torch_ms']:.2f} ms, ratio {ratio:.2f} (CPU time "
          f"{row['cpu_ratio_median_of_pairs']:.2f}), load {os.getloadavg()[0]:.1f}", flush=True)
    return row


def main(argv=None):
    args = parse_args(argv)
    if args.markdown:
        return markdown(args.markdown)
    counts = thread_counts(args.threads)
    limit_threads(max(counts))  # the pools at their largest; threadpoolctl lowers them
    if args.child:
        kind, *rest = args.child
        result = child_memory(*rest) if kind == "memory" else child_compile()
        print(json.dumps(result))
        return

    import torch
    from threadpoolctl import threadpool_limits

    if args.profile:
        make_steps("LSTM", (2, 1, 3, 4, 1))[0]()
        threadpool_limits(counts[0])
        torch.set_num_threads(counts[0])
        return profile(*args.profile)
    compile_ = None if args.no_compile else compile_times(counts[0])
    shapes = [n for s in args.shapes.split(",") if s
              for n in (MORE_SHAPES if s == "more" else [s])]
    unknown = [n for n in shapes if n not in ALL_SHAPES]
    if unknown:
        raise SystemExit(f"--shapes: expected names from {', '.join(ALL_SHAPES)} or more, "
                         f"got {', '.join(unknown)}")
    cells = [c for c in args.cells.split(",") if c]
    make_steps("LSTM", (2, 1, 3, 4, 1))[0]()  # load Numba's BLAS before limiting it
    info = machine_info(counts)
    gemm, rows = {}, []
    for shape_name in shapes:  # both thread counts of a case close together in time
        for cell in cells:
            for n in counts:
                torch.set_num_threads(n)
                with threadpool_limits(n):
                    rate = gemm_rate()  # just before the case: the machine's pace drifts
                    gemm[n] = max(gemm.get(n, 0.0), rate)
                    rows.append(measure(cell, shape_name, n, rate, args))
    torch.set_num_threads(counts[0])
    with threadpool_limits(counts[0]):
        sample = sampling(args.sample_chars, args.reps, 1) if "LSTM" in cells else None
    if not args.no_memory:
        for row in rows:
            if row["threads"] == counts[0]:
                for fw in ("rnnlab", "torch"):
                    row[f"{fw}_peak_mib"] = run_child(
                        ["memory", fw, row["cell"], row["shape"]], counts[0])["peak_mib"]
    info["load_average_end"] = os.getloadavg()
    print()
    print_table(rows, gemm, sample, compile_)
    print(f"load average: start {info['load_average_start']}, end {info['load_average_end']}; "
          f"BLAS: " + ", ".join(f"{d['internal_api']} {d['architecture']} ×{d['num_threads']}"
                                for d in info["blas"]))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": info, "gemm_gflops": gemm, "rows": rows,
                               "sampling": sample, "compile": compile_,
                               "command": " ".join([Path(sys.executable).name, *sys.argv])},
                              indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
