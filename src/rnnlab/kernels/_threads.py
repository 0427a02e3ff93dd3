"""BLAS threads for the kernels' per-step products.

A time loop's recurrent product is small ((B, H) by (H, G·H)) and there are T of
them in a row: splitting each over threads costs more in hand-offs than it saves,
and a thread that waits for a core busy with other work stalls every step. So the
compiled loops run their products on `RNNLAB_STEP_THREADS` BLAS threads (default 1;
0 leaves BLAS as it is), while the large products outside the loops (the input
projections and weight gradients of all steps) keep BLAS's own thread count.
Measured on this project's 2-core machine (`benchmarks/README.md`): a training step
of an LSTM with H = 128, B = 50, T = 100 took 73 ms with 2 threads everywhere and
41 ms with one thread in the loop.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from functools import cache

ENV_VAR = "RNNLAB_STEP_THREADS"


def step_threads() -> int:
    """The thread count asked for by RNNLAB_STEP_THREADS (0: leave BLAS alone)."""
    text = os.environ.get(ENV_VAR, "1").strip()
    if not text.isdigit():
        raise ValueError(f"{ENV_VAR}: expected a whole number >= 0, got {text!r}")
    return int(text)


# (prefix, suffix) of OpenBLAS's symbols: its own build, and the scipy-openblas wheels
# that NumPy (ILP64: 64_) and SciPy (LP64) load
_OPENBLAS_AFFIXES = (("", ""), ("scipy_", ""), ("scipy_", "64_"), ("", "64_"), ("", "_64"))


def _switch(lib) -> tuple:
    """(get, set) of one library's thread count. For OpenBLAS its own C functions, found
    once: threadpoolctl looks a symbol up by name on every call, which allocates, and
    a Stepper's step must not. Other BLAS: threadpoolctl's methods."""
    if lib.internal_api == "openblas":
        for pre, suf in _OPENBLAS_AFFIXES:
            get = getattr(lib.dynlib, f"{pre}openblas_get_num_threads{suf}", None)
            put = getattr(lib.dynlib, f"{pre}openblas_set_num_threads{suf}", None)
            if get is not None and put is not None:
                return get, put
    return lib.get_num_threads, lib.set_num_threads


@cache
def _switches() -> tuple:
    """(get, set) of every BLAS loaded, SciPy's (the one Numba's np.dot calls) included."""
    import scipy.linalg.cython_blas  # noqa: F401 - loads the BLAS Numba links to
    from threadpoolctl import ThreadpoolController

    return tuple(_switch(lib) for lib in ThreadpoolController().lib_controllers
                 if lib.user_api == "blas")


@contextmanager
def loop_threads():
    """Run the enclosed compiled loop with the BLAS thread count of step_threads()."""
    n = step_threads()
    switches = _switches() if n else ()
    before = [get() for get, _ in switches]
    for _, put in switches:
        put(n)
    try:
        yield
    finally:
        for (_, put), k in zip(switches, before):
            put(k)
