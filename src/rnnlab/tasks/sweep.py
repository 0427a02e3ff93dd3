"""Sweeps: a grid of runs from a TOML file, run in parallel worker processes on
this machine or on a Ray cluster, one JSON line per finished run, resumable.

A sweep file:

    [grid]                     # every list is a grid axis; scalars are fixed
    task = ["adding", "temporal_order"]
    T = [50, 100]
    cell = ["lstm"]
    optimizer = ["adam"]
    remedy = ["clip"]
    init = ["default"]
    seeds = 3                  # seed = 0, 1, 2 (or: seed = [0, 5, 7])
    max_steps = 5000
    [grid.task_options]        # passed whole to every run (a table is never an axis)
    variant = "pascanu"

    [sweep]
    workers = 2
    run = "tasks"              # a registered runner (rnnlab.registry.RUNNERS), by name

A sweep file is data: it names a runner of the registry and never a module to import.
Results go to the run folder of `rnnlab sweep` (--out), never beside the file, so that
a committed sweep file runs anew on a fresh clone.

Runs are identified by a hash of their full specification: a run already in the
results file with status "ok" is skipped, so a sweep killed half-way resumes with
only the runs it had not finished. Lines are appended by the driver process only,
flushed and fsynced; a torn last line (a kill during the write) is ignored.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from rnnlab._checks import check_positive_int
from rnnlab.errors import DataError

AXES_ORDER = ("task", "T", "cell", "optimizer", "remedy", "init", "seed")  # grid key order
SWEEP_KEYS = ("workers", "run")


@dataclass
class SweepConfig:
    grid: dict  # the [grid] table
    workers: int = 2  # local worker processes (1: run in this process)
    run: str = "tasks"  # a registered runner's name

    @classmethod
    def load(cls, path) -> SweepConfig:
        from rnnlab.config import read_config_file
        from rnnlab.registry import RUNNERS

        path = Path(path)
        if path.suffix != ".toml":
            raise DataError(f"SWEEP: {path}: expected a .toml file")
        doc = read_config_file(path)
        if not isinstance(doc.get("grid"), dict):
            raise DataError(f"SWEEP: {path} has no [grid] table")
        sweep = doc.get("sweep", {})
        unknown = sorted(set(doc) - {"grid", "sweep"}) + sorted(set(sweep) - set(SWEEP_KEYS))
        if unknown:
            raise DataError(f"SWEEP: {path}: unknown keys {unknown}; expected [grid] and "
                            f"[sweep] with some of {list(SWEEP_KEYS)} (results go to --out)")
        run = sweep.get("run", "tasks")
        if run not in RUNNERS:
            raise DataError(f"SWEEP: {path}: run = {run!r} is not a registered runner; "
                            f"expected one of {sorted(RUNNERS)}")
        return cls(doc["grid"], check_positive_int("workers", sweep.get("workers", 2)), run)

    def runner(self):
        from rnnlab.registry import sweep_runner

        return sweep_runner(self.run)


def expand(grid: dict) -> list[dict]:
    """The runs of a grid: the product of its list-valued keys (in AXES_ORDER first,
    then alphabetical), scalars and tables copied into every run; `seeds = n` means
    seed in 0..n-1."""
    grid = dict(grid)
    if "seeds" in grid:
        if "seed" in grid:
            raise ValueError("grid: give either 'seeds' (a count) or 'seed' (a list), not both")
        grid["seed"] = list(range(check_positive_int("seeds", grid.pop("seeds"))))
    axes = [k for k in AXES_ORDER if isinstance(grid.get(k), list)]
    axes += sorted(k for k, v in grid.items() if isinstance(v, list) and k not in axes)
    for k in axes:
        if not grid[k]:
            raise ValueError(f"grid: axis {k!r} is an empty list")
    fixed = {k: v for k, v in grid.items() if k not in axes}
    return [{**fixed, **dict(zip(axes, values))}
            for values in itertools.product(*(grid[k] for k in axes))]


def run_id(spec: dict) -> str:
    """A stable name for a run: sha1 of its specification as canonical JSON."""
    return hashlib.sha1(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


def read_results(path) -> list[dict]:
    """Every complete line of a results file (a torn last line is skipped)."""
    path = Path(path)
    if not path.is_file():
        return []
    out = []
    for line in path.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


def append_result(path, record: dict) -> None:
    """Append one JSON line and make it durable before returning."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        f.write(json.dumps(record) + "\n")
        f.flush()
        os.fsync(f.fileno())


def pending(specs: list[dict], path) -> list[dict]:
    """The specs with no successful line in the results file yet."""
    done = {r["id"] for r in read_results(path) if r.get("status") == "ok"}
    return [s for s in specs if run_id(s) not in done]


def guarded_run(run_fn: Callable[[dict], dict], spec: dict, threads: int | None = None) -> dict:
    """One run as a results record; an exception becomes status "error" (retried on resume).
    threads: BLAS threads for the run (parallel workers take 1 each: more threads than
    cores slow every one of them down several times)."""
    from threadpoolctl import threadpool_limits

    t0 = time.perf_counter()
    try:
        with threadpool_limits(threads, user_api="blas"):
            result, status = run_fn(spec), "ok"
    except Exception as e:  # noqa: BLE001 - the sweep goes on; the record says what went wrong
        result = {"error": f"{type(e).__name__}: {' '.join(str(e).split())}",
                  "traceback": traceback.format_exc(limit=5)}
        status = "error"
    return {"id": run_id(spec), "status": status, "spec": spec, "result": result,
            "wall_s": time.perf_counter() - t0, "host": os.uname().nodename}


# ---- executors: run(specs) yields one record per run, as each finishes ---------------

class InProcess:
    """Runs one after another in this process (workers = 1; and the test double)."""

    def __init__(self, run_fn):
        self.run_fn = run_fn

    def run(self, specs: list[dict]) -> Iterator[dict]:
        for spec in specs:
            yield guarded_run(self.run_fn, spec)


class LocalPool:
    """Worker processes on this machine (concurrent.futures)."""

    def __init__(self, run_fn, workers: int):
        self.run_fn, self.workers = run_fn, workers

    def run(self, specs: list[dict]) -> Iterator[dict]:
        with ProcessPoolExecutor(self.workers) as pool:
            todo = {pool.submit(guarded_run, self.run_fn, s, 1) for s in specs}
            while todo:
                done, todo = wait(todo, return_when=FIRST_COMPLETED)
                for fut in done:
                    yield fut.result()


class RayPool:
    """Tasks on a Ray cluster: address 'auto' (a running cluster), 'local' (start one
    here with `num_cpus`), or 'ray://host:port' / 'host:port'."""

    def __init__(self, run_fn, address: str, num_cpus: int | None = None):
        try:
            import ray
        except ImportError as e:
            raise RuntimeError("--ray needs Ray: pip install 'rnnlab[ray]'") from e
        self.ray, self.run_fn = ray, run_fn
        if not ray.is_initialized():
            if address == "local":
                ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False)
            else:
                ray.init(address=address, log_to_driver=False)

    def run(self, specs: list[dict]) -> Iterator[dict]:
        remote = self.ray.remote(num_cpus=1)(guarded_run)
        todo = [remote.remote(self.run_fn, s, 1) for s in specs]
        while todo:
            done, todo = self.ray.wait(todo, num_returns=1)
            for ref in done:
                yield self.ray.get(ref)


def execute(specs: list[dict], results, executor, on_record: Callable | None = None) -> int:
    """Run the specs not yet finished in `results` with `executor`, appending each
    record as it arrives; return how many ran."""
    todo = pending(specs, results)
    n = 0
    for record in executor.run(todo):
        append_result(results, record)
        n += 1
        if on_record is not None:
            on_record(record, n, len(todo))
    return n


def make_executor(run_fn, workers: int = 2, ray: str | None = None, num_cpus: int | None = None):
    """InProcess (workers = 1), LocalPool, or RayPool when `ray` names a cluster."""
    if ray is not None:
        return RayPool(run_fn, ray, num_cpus or workers)
    return InProcess(run_fn) if workers == 1 else LocalPool(run_fn, workers)
