"""BLAS threads for the kernels' per-step products.

A time loop's recurrent product is small ((B, H) by (H, G·H)) and there are T of
them in a row: splitting each over threads costs more in hand-offs than it saves,
and a thread that waits for a core busy with other work stalls every step. So the
compiled loops run their products on `RNNLAB_STEP_THREADS` BLAS threads (default 1;
0 leaves BLAS as it is), while the large products outside the loops (the input
projections and weight gradients of all steps) keep BLAS's own thread count, except
in the directions of a bidirectional layer when they run as jobs (RNNLAB_PARALLEL=1).
Measured on this project's 2-core machine (`benchmarks/README.md`): a training step
of an LSTM with H = 128, B = 50, T = 100 took 73 ms with 2 threads everywhere and
41 ms with one thread in the loop.

The cores are used instead for independent work: the sequences of a batch never meet
inside a layer, so a time loop runs as blocks of rows (`row_blocks`: up to BLOCKS of
at least MIN_ROWS sequences, for loops worth MIN_FLOPS) on threads at once (the
compiled loops release the GIL), and the two directions of a bidirectional layer run
at once. No block waits for another inside the loop, so a busy core delays only its
own block. `workers()` is BLAS's own thread count (OPENBLAS_NUM_THREADS,
threadpoolctl, ...), so a sweep that limits BLAS limits rnnlab too; inside a job it
is 1 (no nesting).

Same numbers, however run: a block's per-step product sums in another order than the
whole batch's (BLAS kernels for a few rows), so the blocks are a function of the
shapes (and, by default, of whether there are two workers), never of the clock;
serial runs the same blocks one after the other, and every job (block or direction)
runs with BLAS on step_threads() threads, at once or not (run_parallel). Forward
outputs and gradients are then the same bits serial or parallel, whatever the clock
picks (tested), and a resumed run on the same thread count equals an uninterrupted
one. (BLAS's own thread count, used outside the loops, is the user's too: OpenBLAS
may sum a large float32 product in another order on one thread than on two.)

Whether threads pay depends on the work and on what else the machine runs: on this
project's shared 2-core machine at load 9, two threads made every LSTM training step
slower (BLAS threads waiting for a busy core; streaming shape 20 ms against 2.2 ms on
one thread), and faster when the other core was free; on an idle Zen 1 one with
OpenBLAS in the loops, two blocks at once made the steps whose per-step product is
50-105 MFLOP 10-22 % faster and those of under 30 MFLOP 1-16 % slower. With the own
gemm on a Zen 5 core (rnnlab.kernels._gemm), whose per-step products cost no packing,
and with no page faults between the steps (rnnlab._malloc), the training steps of 12
cases whose per-step product is 1.0-4.2 MFLOP ran 7-62 % faster at two threads, their
loops as two blocks, and 15 cases under 1 MFLOP, run whole, at 0.95-1.08x one thread's
speed (benchmarks/README.md, issue 16, seventh session). So by default (auto) a loop
is split, and its blocks run at once, only when its per-step product reaches
`min_step_flops()` (MIN_STEP_FLOPS, or MIN_STEP_FLOPS_OWN on the own gemm), or on the
own gemm it makes MIN_LOOP_GATES_OWN gate values in all, and workers() >= 2, and a
bidirectional layer's two directions run at once from MIN_DIRECTION_MACS each
(`directions_at_once`); everything else runs as one block, serially. A float32 LSTM
on the own gemm with few sequences and a large W_hh splits each step's units instead
(`unit_chunks`; UNITS in rnnlab.kernels.lstm), its threads meeting once a step.
`RNNLAB_PARALLEL=1` splits every loop worth MIN_FLOPS and lets a
layer's forward and backward (`adaptive_threads`) choose per layer between serial
(blocks and directions one after the other) and parallel (at once) by the time each
took per unit of work, trying the other choice now and then (Choice);
`RNNLAB_PARALLEL=0` never splits. A run's numbers depend on its inputs, that setting
and (auto) the thread count only, never on the clock.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from functools import cache, wraps
from itertools import pairwise

ENV_VAR = "RNNLAB_STEP_THREADS"
PARALLEL_VAR = "RNNLAB_PARALLEL"  # unset: auto; "1": split and the clock's choice; "0": never
BLOCKS = 2  # row blocks of a split time loop (a constant, whatever the thread count)
MIN_ROWS = 4  # sequences per block of a split loop (B 8, H 1,024 LSTM: 96 -> 84 ms at 8 -> 4)
MIN_FLOPS = 4e6  # the recurrent products of a time loop worth splitting (≈ 0.2 ms)
MIN_STEP_FLOPS = 40e6  # auto: a per-step recurrent product worth a block per core (a BLAS)
MIN_STEP_FLOPS_OWN = 1e6  # ... on the own gemm (RNNLAB_BLAS=avx512), which does not pack W_hh
MIN_LOOP_GATES_OWN = 1 << 18  # ... or, on the own gemm, a loop making this many gate values
MIN_DIRECTION_MACS = 1 << 24  # auto: a direction's work worth a thread (directions_at_once)
UNITS_BELOW_ROWS = 16  # auto: a batch this small may split its units instead (unit_chunks) ...
UNITS_FROM_BYTES = 4 << 20  # ... when W_hh is this large (float32 LSTM H = 512)
MIN_THREADS_FLOPS = 4e6  # auto, on a BLAS: a smaller per-step product runs on one thread
EXPLORE = 8  # calls of a layer before it tries the choice that is not the best ...
MAX_EXPLORE = 128  # ... and at most this many once that choice kept losing
SMOOTH = 0.3  # weight of the newest time in the running mean of each choice


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
def blas_threads(n: int):
    """Run the enclosed code with every BLAS on n threads (0: as it is), then restore
    those that had another count."""
    changed = []
    for get, put in _switches() if n else ():
        k = get()
        if k != n:
            put(n)
            changed.append((put, k))
    try:
        yield
    finally:
        for put, k in changed:
            put(k)


def loop_threads():
    """Run the enclosed compiled loop with the BLAS thread count of step_threads()."""
    return blas_threads(step_threads())


_inside = threading.local()  # .job: True in a job of run_parallel; .n: set by adaptive_threads


def workers() -> int:
    """Threads a time loop may use: 1 inside a job of run_parallel, the choice of the
    enclosing adaptive_threads, else the fewest of every BLAS's thread count and of the
    CPUs this process may run on."""
    if getattr(_inside, "job", False):
        return 1
    chosen = getattr(_inside, "n", None)
    if chosen is not None:
        return chosen
    counts = [get() for get, _ in _switches()] or [1]
    return max(1, min(min(counts), len(os.sched_getaffinity(0))))


class Choice:
    """Serial or parallel for one kind of call, by the seconds per unit of work of each:
    both first, then the better one, trying the other after `interval` calls; the
    interval doubles (up to MAX_EXPLORE) while the other stays worse and falls back to
    EXPLORE when it wins. A tried time replaces the stale one; the chosen one's times
    are smoothed (SMOOTH)."""

    def __init__(self):
        self.mean: list[float | None] = [None, None]  # [serial, parallel]
        self.calls = 0
        self.interval = EXPLORE
        self.next_try = EXPLORE
        self.trying = False

    def best(self) -> bool:
        return self.mean[1] <= self.mean[0]

    def pick(self) -> bool:
        """True for parallel."""
        self.calls += 1
        if None in self.mean:
            return self.mean[1] is None  # parallel first, then serial
        self.trying = self.calls >= self.next_try
        return not self.best() if self.trying else self.best()

    def record(self, parallel: bool, seconds_per_unit: float) -> None:
        old = self.mean[parallel]
        if old is None or self.trying:
            best_before = None if None in self.mean else self.best()
            self.mean[parallel] = seconds_per_unit
            if best_before is not None:
                won = self.best() != best_before
                self.interval = EXPLORE if won else min(2 * self.interval, MAX_EXPLORE)
                self.next_try = self.calls + self.interval
            self.trying = False
        else:
            self.mean[parallel] = SMOOTH * seconds_per_unit + (1 - SMOOTH) * old


_choices: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # object -> {name: Choice}


@contextmanager
def serial_or_parallel(choice: Choice, work: float):
    """Run the enclosed call, of `work` FLOPs per step's recurrent product, with its row
    blocks and directions one after the other (serial) or at once (parallel). With
    RNNLAB_PARALLEL=1 as `choice` picks, recording the time per unit of work; auto:
    parallel, or, on a BLAS under MIN_THREADS_FLOPS, serial with every BLAS on one
    thread (small products lose more to hand-offs between threads than they gain; on
    the own gemm each loop and product decides by its own size); 0: serial. Nested
    or with one worker: as it is. Either way the same blocks and the same BLAS threads
    in every job, so the clock never changes a run's numbers."""
    n = workers()
    if n <= 1 or getattr(_inside, "n", None) is not None:
        yield
        return
    mode = parallel_mode()
    small = mode == "auto" and work < MIN_THREADS_FLOPS and not _own_gemm()
    parallel = choice.pick() if mode == "1" else mode == "auto" and not small
    _inside.n = n if parallel else 1
    t0 = time.perf_counter()
    try:
        with blas_threads(1 if small else 0):
            yield
    finally:
        if mode == "1":
            choice.record(parallel, (time.perf_counter() - t0) / max(work, 1.0))
        _inside.n = None


def adaptive_threads(name: str, work: Callable):
    """Decorate a layer's method: each layer object's calls choose serial or parallel
    (serial_or_parallel), work(self, *args, **kwargs) the FLOPs of one step's recurrent
    product in the call."""
    def decorate(method):
        @wraps(method)
        def wrapper(self, *args, **kwargs):
            choice = _choices.setdefault(self, {}).setdefault(name, Choice())
            with serial_or_parallel(choice, float(work(self, *args, **kwargs))):
                return method(self, *args, **kwargs)
        return wrapper
    return decorate


@cache
def _pool(n: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(n, thread_name_prefix="rnnlab")


def _as_job(fn: Callable):
    def job():
        before, _inside.job = getattr(_inside, "job", False), True
        try:
            return fn()
        finally:
            _inside.job = before
    return job


def run_parallel(jobs: Sequence[Callable], at_once: int | None = None) -> list:
    """Run independent jobs, `at_once` at a time (default jobs_at_once()): the first of
    each round in this thread, the others on a pool; one at a time, all in this thread.
    Every job runs with BLAS on step_threads() (loop_threads) and sees workers() = 1,
    however many run at once, so how they are run never changes a result. Returns their
    results in order; a job's exception is raised here."""
    at_once = jobs_at_once() if at_once is None else max(1, at_once)
    results: list = []
    with loop_threads():
        for k in range(0, len(jobs), at_once):
            results += _run_round([_as_job(fn) for fn in jobs[k : k + at_once]])
    return results


def _run_round(jobs: list) -> list:
    """The jobs at once: the first in this thread, the others on a pool."""
    if len(jobs) == 1:
        return [jobs[0]()]
    futures = [_pool(len(jobs) - 1).submit(fn) for fn in jobs[1:]]
    try:
        first = jobs[0]()
    finally:
        wait(futures)  # all done before BLAS's threads are restored, even on an error
    return [first] + [f.result() for f in futures]


def jobs_at_once() -> int:
    """How many jobs may run at once, each with BLAS on step_threads() threads: workers()
    shared among them; 1 when RNNLAB_STEP_THREADS is 0 (BLAS left as it is)."""
    per = step_threads()
    return max(1, workers() // per) if per else 1


def parallel_mode() -> str:
    """RNNLAB_PARALLEL: '1' splits loops by their shapes and lets the clock choose serial
    or parallel; '0' never splits; unset ('auto') splits, on threads at once, only the
    loops whose per-step product is large enough that a core per block pays
    (min_step_flops()) when there are cores to use."""
    text = os.environ.get(PARALLEL_VAR, "").strip()
    if text not in ("", "0", "1"):
        raise ValueError(f"{PARALLEL_VAR}: expected 0, 1 or unset, got {text!r}")
    return text or "auto"


def parallel_enabled() -> bool:
    """RNNLAB_PARALLEL=1: split loops, and the clock's choice between serial and parallel."""
    return parallel_mode() == "1"


def _own_gemm() -> bool:
    """Whether the loops' float32 products run on rnnlab's own gemm (RNNLAB_BLAS=avx512)."""
    from rnnlab.kernels._blas import BACKEND

    return BACKEND == "avx512"


def min_step_flops() -> float:
    """The per-step product from which auto splits a loop, for the loops' backend."""
    return MIN_STEP_FLOPS_OWN if _own_gemm() else MIN_STEP_FLOPS


def row_blocks(B: int, flops: float, steps: int = 1, gates: float = 0.0) -> list[tuple[int, int]]:
    """Split the B sequences of a time loop of `steps` steps whose recurrent products
    cost `flops` and whose element-wise passes make `gates` values into ranges (b0, b1):
    BLOCKS of at least MIN_ROWS sequences each, or one. RNNLAB_PARALLEL=1: split unless
    the loop is too small to pay for a hand-off (MIN_FLOPS), a function of the shapes
    only; auto: split when workers() >= 2 and a step's product reaches min_step_flops()
    or, on the own gemm, the loop makes MIN_LOOP_GATES_OWN gate values (a loop of small
    steps, with a long element-wise pass each: two threads, a training step, whole
    against split, LSTM and GRU 1.11-1.36x from 2^18 values (LSTM T 50, B 64, H 32:
    1.14x), 0.90-1.07x under it; RNN, whose loops all fell under it, 0.69-1.15x; Zen 5),
    a function of the shapes, the thread count and the backend; 0: never. Never a
    function of the clock: a block's per-step product sums in its own order (BLAS
    kernels for a few rows differ from those for the whole batch), so the same blocks,
    run at once or one after the other, give the same bits."""
    mode = parallel_mode()
    split = flops >= MIN_FLOPS if mode == "1" else mode == "auto" and (
        flops / steps >= min_step_flops() or _own_gemm() and gates >= MIN_LOOP_GATES_OWN
    ) and workers() >= 2
    n = max(1, min(BLOCKS, B // MIN_ROWS)) if split else 1
    edges = [B * k // n for k in range(n + 1)]
    return list(pairwise(edges))


def unit_chunks(B: int, H: int, weight_bytes: int, width: int) -> int:
    """Chunks of units that each step of a loop over B sequences is split into, one per
    worker, or 0 (row_blocks instead): auto, with workers() >= 2, for fewer than
    UNITS_BELOW_ROWS sequences and a recurrent weight of at least UNITS_FROM_BYTES,
    when the chunks are whole multiples of `width` units. A step's product then
    streams W_hh from memory, and split by rows each thread reads all of it: at two
    threads (Zen 5, LSTM T 50, I 64, a training step) B 4, H 512 and 1,024 ran 1.25
    and 1.35x faster by units than by rows (whole), B 8 1.09 and 1.07 (rows of 4), but
    B 16-128 0.51-1.00x, and B 4-8 with H 128-256 0.84-1.03x. The same bits as the
    loop run whole, either way."""
    if B >= UNITS_BELOW_ROWS or weight_bytes < UNITS_FROM_BYTES or parallel_mode() != "auto":
        return 0  # the shapes first: workers() asks every BLAS
    n = workers()
    return n if n >= 2 and H % (n * width) == 0 else 0


def directions_at_once(work: float) -> bool:
    """Whether the directions of a bidirectional layer run as jobs at once (run_parallel),
    each `work` multiply-adds (T·B·G·H·(I + H)), rather than one after the other with
    their own loops split: RNNLAB_PARALLEL=1 always (the clock then picks serial or
    parallel), 0 never, auto with workers() >= 2 from MIN_DIRECTION_MACS. Two threads,
    Zen 5, a training step, at once against one after the other: 1.01-1.46x from 17 M
    multiply-adds up (LSTM T 100, B 16, I 8, H 64: 2.85 -> 1.95 ms; 2-layer GRU T 50,
    B 32, I 40, H 96 1.18x), 0.58-0.79x under 7 M, where two hand-offs a call cost more
    than a direction's loop; on OpenBLAS (RNNLAB_BLAS=openblas) 1.28-1.57x on the large
    ones, 0.97-1.01x on the small."""
    mode = parallel_mode()
    if mode != "auto":
        return mode == "1"
    return work >= MIN_DIRECTION_MACS and workers() >= 2
