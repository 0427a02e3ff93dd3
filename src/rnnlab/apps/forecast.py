"""`rnnlab forecast`: train a many-to-one RNN forecaster on a CSV file and compare it with
the naive, seasonal-naive and linear-autoregression baselines; forecast after a file's end."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rnnlab.apps.errors import user_errors

app = typer.Typer(no_args_is_help=True, help=__doc__)


def _names(text: str | None) -> list[str] | None:
    return [n.strip() for n in text.split(",") if n.strip()] if text else None


@app.command()
def train(
    data: Annotated[Path | None, typer.Argument(
        help="CSV file (header row); none: the built-in three-variable example")] = None,
    target: str = typer.Option(None, help="column to forecast [default: the last column]"),
    inputs: str = typer.Option(None, help="columns read, comma-separated [default: all]"),
    time_column: str = typer.Option(None, help="time column [default: the first column when "
                                    "it is not numeric]"),
    fill_missing: bool = typer.Option(False, help="interpolate missing values instead of "
                                      "stopping on them"),
    window: int = typer.Option(12, min=1, help="K: input steps per window"),
    horizon: int = typer.Option(1, min=1, help="H: steps forecast"),
    test: float = typer.Option(0.2, help="test part: a fraction, or a row count when >= 1"),
    val: float = typer.Option(0.1, help="validation part: a fraction, or a row count"),
    log: bool = typer.Option(False, help="model log(values) (all values > 0)"),
    diff: int = typer.Option(0, min=0, help="difference at this lag first (0: none)"),
    season: int = typer.Option(1, min=1, help="period of the seasonal-naive baseline and MASE"),
    strategy: str = typer.Option("direct", help="direct (H outputs) or recursive (one step, "
                                 "fed back)"),
    cell: str = typer.Option("lstm", help="rnn, lstm or gru"),
    hidden: int = typer.Option(32, min=1, help="hidden units per layer"),
    layers: int = typer.Option(1, min=1, help="stacked recurrent layers"),
    epochs: int = typer.Option(200, min=1, help="passes over the training windows"),
    batch_size: int = typer.Option(32, min=1, help="windows per update"),
    lr: float = typer.Option(3e-3, help="Adam learning rate"),
    seed: int = typer.Option(0, help="random seed (initialisation, batches)"),
    out: Annotated[Path, typer.Option(help="output folder: checkpoints, "
                             "report.json, forecast.png")] = Path("runs/forecast"),
    resume: bool = typer.Option(False, help="continue from the last checkpoint in --out"),
):
    """Train on the training part, select on validation, score on the test part."""
    from rnnlab.apps import forecaster as fc
    from rnnlab.apps.network import NetworkConfig
    from rnnlab.data.windows import WindowConfig

    with user_errors():
        table = fc.load_table(data, time_column, fill_missing)
        cfg = fc.ForecastConfig(
            target=target, inputs=_names(inputs), strategy=strategy, season=season,
            windows=WindowConfig(window=window, horizon=horizon, test=test, val=val, log=log,
                                 diff=diff))
        net = NetworkConfig(cell=cell, hidden=hidden, layers=layers, epochs=epochs,
                            batch_size=batch_size, lr=lr, seed=seed)
        report = fc.run(table, cfg, net, out, resume=resume, echo=typer.echo)
    typer.echo(fc.format_report(report))


@app.command()
def predict(
    checkpoint: Annotated[Path, typer.Argument(help="checkpoint written by `forecast train`")],
    data: Annotated[Path | None, typer.Argument(
        help="CSV file with the same columns; none: the built-in example")] = None,
    time_column: str = typer.Option(None, help="time column (as in training)"),
    fill_missing: bool = typer.Option(False, help="interpolate missing values"),
):
    """Forecast the H steps after the end of DATA; print them as CSV (step,forecast)."""
    from rnnlab.apps import forecaster as fc

    with user_errors():
        forecast = fc.predict_after_end(checkpoint, fc.load_table(data, time_column, fill_missing))
    typer.echo("step,forecast")
    for h, y in enumerate(forecast, start=1):
        typer.echo(f"{h},{y:.6g}")
