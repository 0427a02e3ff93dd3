"""`rnnlab tasks list|run` and `rnnlab sweep CONFIG.toml`. Heavy imports stay inside
the commands so that `rnnlab --help` stays fast."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(no_args_is_help=True, help="The long-term-dependency benchmark problems.")


@app.command("list")
def list_tasks(T: int = typer.Option(100, "--T", help="T at which to show the chance levels")):
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


def _options(text: str | None) -> dict:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise typer.BadParameter(f"expected a JSON object, got {text!r}") from e
    if not isinstance(value, dict):
        raise typer.BadParameter(f"expected a JSON object, got {text!r}")
    return value


@app.command("run")
def run_task(
    task: str = typer.Option("adding", help="the problem (rnnlab tasks list)"),
    T: int = typer.Option(100, "--T", min=1, help="sequence length (the shortest with --T-max)"),
    t_max: Annotated[int | None, typer.Option(
        "--T-max", help="draw each batch's length in [T, T_max) (Pascanu et al.)")] = None,
    cell: str = typer.Option("lstm", help="rnn | lstm | gru"),
    nonlinearity: str = typer.Option("tanh", help="the Elman RNN's non-linearity"),
    hidden: int = typer.Option(50, min=1, help="hidden units"),
    optimizer: str = typer.Option("adam", help="sgd | adagrad | rmsprop | adam | hf"),
    lr: float = typer.Option(1e-3, help="learning rate"),
    momentum: float = typer.Option(0.0, help="momentum (sgd, rmsprop)"),
    batch_size: int = typer.Option(20, min=1, help="sequences per update"),
    max_steps: int = typer.Option(10_000, min=1, help="update budget per seed"),
    remedy: str = typer.Option("clip", help="none | clip | omega | simplex"),
    clip_threshold: float = typer.Option(1.0, help="global-norm clipping threshold"),
    init: str = typer.Option(
        "default",
        help="default | spectral | orthogonal | sparse | identity | chrono | smart_tanh"),
    spectral_radius: float = typer.Option(0.95, help="the radius of init 'spectral'"),
    chrono_t: Annotated[float | None, typer.Option(
        "--chrono-T", help="init 'chrono': the longest dependency (default: T)")] = None,
    forget_bias: float = typer.Option(None, help="LSTM forget-gate bias"),
    hf_damping: float = typer.Option(1.0, help="hf: initial Levenberg-Marquardt damping λ"),
    hf_structural: float = typer.Option(1 / 30, help="hf: structural damping μ"),
    hf_curvature_batch_size: Annotated[int | None, typer.Option(
        help="hf: sequences for the curvature (default: batch_size / 5)")] = None,
    hf_max_cg_iters: int = typer.Option(300, min=1, help="hf: CG iterations per update"),
    averaging: str = typer.Option(
        "none", help="none | polyak | ema: evaluate on averaged weights (not with hf)"),
    averaging_decay: float = typer.Option(0.999, help="ema: the decay β"),
    averaging_start: int = typer.Option(0, min=0, help="polyak: updates before averaging"),
    criterion: str = typer.Option("paper", help="paper (< 1 % wrong) | code (none wrong)"),
    eval_every: int = typer.Option(100, min=1, help="updates between quick checks"),
    seeds: int = typer.Option(1, min=1, help="seeds 0..n-1, one run each"),
    first_seed: int = typer.Option(0, help="the first seed"),
    task_options: Annotated[str | None, typer.Option(
        help='JSON, e.g. \'{"variant": "arjovsky"}\'')] = None,
    out: Annotated[Path, typer.Option(help="JSON-lines result file")] = Path("tasks_results.jsonl"),
):
    """Train until solved (Pascanu et al.'s criterion) or the budget, once per seed."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from rnnlab.tasks.run import RunConfig, run
    from rnnlab.tasks.sweep import append_result, guarded_run

    base = {"task": task, "T": T, "T_max": t_max, "cell": cell, "nonlinearity": nonlinearity,
            "hidden": hidden,
            "optimizer": optimizer, "lr": lr, "momentum": momentum, "batch_size": batch_size,
            "max_steps": max_steps, "remedy": remedy, "clip_threshold": clip_threshold,
            "init": init, "spectral_radius": spectral_radius, "chrono_T": chrono_t,
            "forget_bias": forget_bias, "hf_damping": hf_damping, "hf_structural": hf_structural,
            "hf_curvature_batch_size": hf_curvature_batch_size,
            "hf_max_cg_iters": hf_max_cg_iters,
            "averaging": averaging, "averaging_decay": averaging_decay,
            "averaging_start": averaging_start, "criterion": criterion, "eval_every": eval_every, "task_options": _options(task_options)}
    try:
        RunConfig.from_dict(base)
    except (ValueError, TypeError) as e:
        raise typer.BadParameter(str(e)) from e
    for seed in range(first_seed, first_seed + seeds):
        spec = {**base, "seed": seed}
        with Progress(TextColumn(f"seed {seed}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), TextColumn("{task.fields[status]}")) as bar:
            bar_task = bar.add_task("train", total=max_steps, status="")

            def on_step(step, record, bar=bar, bar_task=bar_task):
                bar.update(bar_task, completed=step, status=f"loss {record['loss']:.4f}")

            record = guarded_run(lambda s: run(RunConfig.from_dict(s), on_step=on_step), spec)
        append_result(out, record)
        if record["status"] != "ok":
            typer.echo(f"seed {seed}: FAILED\n{record['result']['error']}", err=True)
            continue
        r = record["result"]
        verdict = f"solved in {r['steps']} updates" if r["solved"] else \
            f"not solved in {r['steps_done']} updates"
        if "cg_iters" in r:
            verdict += f" ({r['cg_iters']} CG iterations)"
        typer.echo(f"seed {seed}: {verdict}; error rate {r['error_rate']:.2%} on "
                   f"{RunConfig.eval_n} sequences (chance {r['chance_error']:.2%}); "
                   f"{r['wall_s']:.1f} s")
    typer.echo(f"results appended to {out}")


def sweep(
    config: Annotated[Path, typer.Argument(exists=True, dir_okay=False,
                                           help="the sweep's TOML file")],
    workers: Annotated[int | None, typer.Option(
        min=1, help="local worker processes (default: the file's)")] = None,
    ray: Annotated[str | None, typer.Option(
        help="run on Ray: 'auto', an address, or 'local'")] = None,
    results: Annotated[Path | None, typer.Option(
        help="results file (default: the file's)")] = None,
):
    """Run a grid of benchmark runs in parallel; resumes, then writes the summary."""
    from rnnlab.tasks.summary import summarize, to_markdown, write_summary
    from rnnlab.tasks.sweep import (
        SweepConfig,
        execute,
        expand,
        make_executor,
        read_results,
        resolve,
    )

    try:
        cfg = SweepConfig.load(config)
        specs = expand(cfg.grid)
        run_fn = resolve(cfg.run)
    except ValueError as e:
        raise typer.BadParameter(str(e)) from e
    results = results or cfg.results
    executor = make_executor(run_fn, workers or cfg.workers, ray)

    axes = [k for k, v in cfg.grid.items() if isinstance(v, list)] + ["seed"]

    def on_record(record, n, total):
        r, s = record["result"], record["spec"]
        what = (f"solved in {r['steps']}" if r.get("solved") else "not solved") \
            if record["status"] == "ok" else "FAILED"
        run = " ".join(f"{k}={s[k]}" for k in axes if k in s)
        typer.echo(f"[{n}/{total}] {run}: {what} ({record['wall_s']:.1f} s)")

    ran = execute(specs, results, executor, on_record)
    typer.echo(f"{ran} runs done now, {len(specs) - ran} were already in {results}")
    records = read_results(results)
    typer.echo(to_markdown(summarize(records)))
    stem = results.with_name(results.stem + "_summary")
    paths = write_summary(records, stem)
    typer.echo("summary: " + ", ".join(str(p) for p in paths.values()))
