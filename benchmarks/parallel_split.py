"""What the shape-only row split (RNNLAB_PARALLEL=1) costs and gains (issue 16).

For each cell and shape of bench_cpu.py: one rnnlab training step (forward + BPTT,
float32) in three modes, interleaved in one process (A B C A B C ...): `unsplit`
(the default: one block per time loop, serial), `split-serial` (the shape-only row
blocks one after the other) and, when BLAS has more than one thread, `split-parallel`
(the same blocks at once). The blocks give the same bits either way; this measures
only time: CPU time at one thread (robust on a shared machine), wall time at more.

    OPENBLAS_NUM_THREADS=1 python benchmarks/parallel_split.py
    OPENBLAS_NUM_THREADS=2 python benchmarks/parallel_split.py --cells LSTM --reps 9
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from bench_cpu import SHAPES

import rnnlab
from rnnlab.kernels import _threads

MODES = {"unsplit": (1, False), "split-serial": (2, False), "split-parallel": (2, True)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cells", default="RNN,LSTM,GRU")
    p.add_argument("--shapes", default=",".join(SHAPES))
    p.add_argument("--reps", type=int, default=9, help="timed rounds (a third for big shapes)")
    args = p.parse_args()
    os.environ[_threads.PARALLEL_VAR] = "1"  # the split; each mode forces its own choice
    parallel = _threads.workers() > 1
    clock = time.perf_counter if parallel else time.process_time
    modes = {m: v for m, v in MODES.items() if parallel or m != "split-parallel"}
    print(f"BLAS threads {_threads.workers()}, {'wall' if parallel else 'CPU'} time (ms), "
          f"load average {os.getloadavg()[0]:.2f}")
    for cell in args.cells.split(","):
        for name in args.shapes.split(","):
            T, B, I, H, L = SHAPES[name]
            layer = getattr(rnnlab, cell)(I, H, L, seed=0, fast=True)
            rng = np.random.default_rng(0)
            x = rng.standard_normal((T, B, I)).astype(np.float32)
            dy = rng.standard_normal((T, B, H)).astype(np.float32)
            times = {m: [] for m in modes}
            reps = args.reps if T * B * H < 500_000 else max(3, args.reps // 3)
            for k in range(reps + 1):  # round 0 warms up
                for m, (blocks, at_once) in modes.items():
                    _threads.BLOCKS = blocks
                    _threads.Choice.pick = lambda self, p=at_once: p
                    t0 = clock()
                    _, _, cache = layer.forward(x, training=True)
                    layer.backward(cache, dy)
                    if k:
                        times[m].append(clock() - t0)
            ms = {m: 1e3 * float(np.median(t)) for m, t in times.items()}
            ratios = " ".join(f"{m}/unsplit {v / ms['unsplit']:.2f}" for m, v in ms.items()
                              if m != "unsplit")
            print(f"{cell:5} {name:13} B={B:<4} " + " ".join(f"{m} {v:8.2f}" for m, v in ms.items())
                  + f"  {ratios}", flush=True)


if __name__ == "__main__":
    main()
