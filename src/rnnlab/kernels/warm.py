"""Compile the kernels ahead of time: `python -m rnnlab.kernels.warm [CELL ...]`.

Numba compiles a kernel on its first call and keeps it in its on-disk cache (beside
the sources, or in NUMBA_CACHE_DIR), keyed by the source file and the CPU. A first
command on a clean cache compiles only what it runs (one cell, one dtype, forward and
BPTT): ~2.6 s of CPU time for `rnnlab charlm train` on this project's 2-core machine
(benchmarks/README.md, cold start). Run this once after installing (or when building
an image for the machine) and every later process loads the compiled code instead.
It runs a forward and a BPTT of a tiny layer of each cell (all of rnn, lstm, gru —
both GRU forms — unless named; for rnn also the R-forward of Hessian-free) in float32
and float64, and prints the seconds each took.
"""

from __future__ import annotations

import sys
import time

import numpy as np

CELLS = ("rnn", "lstm", "gru")
DTYPES = (np.float32, np.float64)


def warm(cells=CELLS, dtypes=DTYPES) -> dict[str, float]:
    """Compile (or load) the forward and BPTT kernels of `cells` in `dtypes` by running
    them once; return the seconds per 'cell/option dtype'."""
    from rnnlab import GRU, LSTM, RNN
    from rnnlab.kernels.loops import has_rforward
    from rnnlab.rop import rforward

    layers = {"rnn": [(RNN, {})], "lstm": [(LSTM, {})],
              "gru": [(GRU, {"reset_after": True}), (GRU, {"reset_after": False})]}
    unknown = [c for c in cells if c not in layers]
    if unknown:
        raise ValueError(f"cells: expected some of {', '.join(CELLS)}, got {', '.join(unknown)}")
    seconds = {}
    for name in cells:
        for cls, options in layers[name]:
            for dtype in dtypes:
                t0 = time.perf_counter()
                layer = cls(2, 3, dtype=dtype, seed=0, fast=True, **options)
                _, _, cache = layer.forward(np.ones((2, 2, 2), dtype), training=True)
                layer.backward(cache, np.ones((2, 2, 3), dtype))
                if has_rforward(layer.cell):
                    rforward(layer, cache, {})
                tag = "".join(f" {k}={v}" for k, v in options.items())
                seconds[f"{name}{tag} {np.dtype(dtype).name}"] = time.perf_counter() - t0
    return seconds


def main(argv=None) -> int:
    cells = list(sys.argv[1:] if argv is None else argv) or list(CELLS)
    try:
        seconds = warm(cells)
    except ValueError as e:
        print(e, file=sys.stderr)
        return 2
    for what, s in seconds.items():
        print(f"{what}: {s:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
