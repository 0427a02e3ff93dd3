"""`rnnlab tasks list|run` and `rnnlab sweep CONFIG.toml`. Heavy imports stay inside
the commands so that `rnnlab --help` stays fast."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated

import typer

from rnnlab._checks import check_positive_int
from rnnlab.apps.options import FolderOptions
from rnnlab.config import command
from rnnlab.tasks.run import RunConfig

app = typer.Typer(no_args_is_help=True, help="The long-term-dependency benchmark problems.")
sweep_app = typer.Typer()


@app.command("list")
def list_tasks(T: int = typer.Option(100, "--T", min=2, help="T at which to show the chance "
                                     "levels")):
    """The problems, their sizes, losses and chance levels."""
    from rich.console import Console
    from rich.table import Column, Table

    from rnnlab.tasks import TASKS, describe, make_task

    table = Table("in", "out", "loss", f"chance loss (T={T})", "chance error", "what")
    table.columns.insert(0, Column("task", no_wrap=True))
    for name in TASKS:
        task = make_task(name)
        loss, err = task.chance(T)
        table.add_row(name, str(task.n_in), str(task.n_out), task.loss, f"{loss:.4g}",
                      f"{err:.3f}", describe(name))
    Console().print(table)


@dataclass
class Seeds:
    seeds: int = 1  # runs with seeds seed, seed + 1, ..., one after another

    def __post_init__(self):
        check_positive_int("seeds", self.seeds)


@command(app, "run", run=RunConfig, seeds=Seeds, folder=FolderOptions)
def run_task(*, run: RunConfig, seeds: Seeds, folder: FolderOptions):
    """Train until solved (Pascanu et al.'s criterion) or the budget, once per seed;
    one JSON line per seed in <out>/results.jsonl (--resume skips the seeds done),
    each seed's final model in <out>/model-seed<N>.safetensors, and its progress in
    <out>/updates-seed<N>.jsonl as it goes (every update for optimizer 'hf', every
    eval_every updates otherwise)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from rnnlab.tasks.run import run as run_one
    from rnnlab.tasks.sweep import append_result, guarded_run, pending
    from rnnlab.train.runs import claim

    folder.folder("tasks")
    lock = claim(folder.out, resume=folder.resume, overwrite=folder.overwrite)
    results = folder.out / "results.jsonl"
    base = asdict(run)
    specs = pending([{**base, "seed": run.seed + k} for k in range(seeds.seeds)], results)
    failed = 0
    try:
        for spec in specs:
            progress = folder.out / f"updates-seed{spec['seed']}.jsonl"
            with Progress(TextColumn(f"seed {spec['seed']}"), BarColumn(), MofNCompleteColumn(),
                          TimeElapsedColumn(), TextColumn("{task.fields[status]}")) as bar, \
                    open(progress, "w") as updates:
                bar_task = bar.add_task("train", total=run.max_steps, status="")

                def on_step(step, record, bar=bar, bar_task=bar_task, log=updates):
                    bar.update(bar_task, completed=step, status=f"loss {record['loss']:.4f}")
                    if run.optimizer == "hf" or step % run.eval_every == 0:
                        log.write(json.dumps(_progress(step, record)) + "\n")
                        log.flush()

                model_file = folder.out / f"model-seed{spec['seed']}.safetensors"
                record = guarded_run(lambda s, f=model_file: run_one(
                    RunConfig.from_dict(s), on_step=on_step, save_to=f), spec)
            append_result(results, record)
            typer.echo(f"seed {spec['seed']}: {_verdict(record)}")
            failed += record["status"] != "ok"
    finally:
        lock.release()
    typer.echo(f"results in {results}")
    if failed:
        raise typer.Exit(1)


def _progress(step: int, record: dict) -> dict:
    """One line of updates-seed<N>.jsonl: the update's numbers and flags."""
    keep = {k: v.item() if hasattr(v, "item") else v for k, v in record.items()}
    return {**{k: v for k, v in keep.items() if isinstance(v, (int, float, str))}, "step": step}


def _verdict(record: dict) -> str:
    if record["status"] != "ok":
        return f"FAILED: {record['result']['error']}"
    r = record["result"]
    verdict = f"solved in {r['steps']} updates" if r["solved"] else \
        f"not solved in {r['steps_done']} updates"
    if "cg_iters" in r:  # optimizer 'hf'
        verdict += f" ({r['cg_iters']} CG iterations)"
    n_eval = record["spec"].get("eval_n", RunConfig.eval_n)  # a sweep's spec: its grid only
    return (f"{verdict}; error rate {r['error_rate']:.2%} on {n_eval} sequences "
            f"(chance {r['chance_error']:.2%}); {r['wall_s']:.1f} s")


@dataclass
class SweepOptions:
    workers: int | None = None  # local worker processes [default: the file's, else 2]
    ray: str | None = None  # run on Ray: 'auto', an address, or 'local'

    def __post_init__(self):
        if self.workers is not None:
            check_positive_int("workers", self.workers)


@command(sweep_app, "sweep", sweep=SweepOptions, folder=FolderOptions)
def sweep(
    file: Annotated[Path, typer.Argument(metavar="SWEEP.toml", help="the sweep's TOML file")],
    *, sweep: SweepOptions, folder: FolderOptions,
):
    """Run a grid of benchmark runs in parallel into <out>/results.jsonl (--resume skips
    the runs done), then write the summary (markdown, CSV, plot) beside it. Failed runs
    are listed with their error and make the exit status 1."""
    from rnnlab.tasks.summary import summarize, to_markdown, write_summary
    from rnnlab.tasks.sweep import SweepConfig, execute, expand, make_executor, read_results
    from rnnlab.train.runs import claim

    cfg = SweepConfig.load(file)
    specs = expand(cfg.grid)
    folder.folder(f"sweep-{file.stem}")
    lock = claim(folder.out, resume=folder.resume, overwrite=folder.overwrite)
    try:
        results = folder.out / "results.jsonl"
        executor = make_executor(cfg.runner(), sweep.workers or cfg.workers, sweep.ray)
        axes = [k for k, v in cfg.grid.items() if isinstance(v, list)] + ["seed"]

        def on_record(record, n, total):
            s = record["spec"]
            run = " ".join(f"{k}={s[k]}" for k in axes if k in s)
            typer.echo(f"[{n}/{total}] {run}: {_verdict(record)} ({record['wall_s']:.1f} s)")

        ran = execute(specs, results, executor, on_record)
        typer.echo(f"{ran} runs done now, {len(specs) - ran} were already in {results}")
        records = read_results(results)
        typer.echo(to_markdown(summarize(records)))
        paths = write_summary(records, folder.out / "summary")
        typer.echo("summary: " + ", ".join(str(p) for p in paths.values()))
    finally:
        lock.release()
    latest = {r["id"]: r for r in records}
    failed = [r for r in latest.values() if r["status"] != "ok"]
    for r in failed:
        typer.echo(f"FAILED {r['spec']}: {r['result']['error']}", err=True)
    if failed:
        raise typer.Exit(1)
