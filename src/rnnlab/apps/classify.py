"""`rnnlab classify`: many-to-one sequence classification from .ts (sktime/UEA), CSV (one
series per row, label first) or .npz (X (N, T, F), optional lengths, y) files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rnnlab.apps.errors import user_errors

app = typer.Typer(no_args_is_help=True, help=__doc__)


@app.command()
def train(
    train_file: Annotated[Path, typer.Argument(metavar="TRAIN",
                                               help="training file (.ts, .csv, .npz)")],
    test: Annotated[Path | None, typer.Option(help="test file in the same format")] = None,
    val: float = typer.Option(0.1, help="fraction of TRAIN held out for validation "
                              "(model selection; 0: none)"),
    fill_missing: bool = typer.Option(False, help="interpolate missing values ('?') instead "
                                      "of stopping on them"),
    chunk: int = typer.Option(1, min=1, help="k input steps per recurrent step (long series)"),
    cell: str = typer.Option("lstm", help="rnn, lstm or gru"),
    hidden: int = typer.Option(32, min=1, help="hidden units per layer"),
    layers: int = typer.Option(1, min=1, help="stacked recurrent layers"),
    epochs: int = typer.Option(100, min=1, help="passes over the training set"),
    batch_size: int = typer.Option(16, min=1, help="series per update"),
    lr: float = typer.Option(5e-3, help="Adam learning rate"),
    seed: int = typer.Option(0, help="random seed (initialisation, batches, validation split)"),
    out: Annotated[Path, typer.Option(help="output folder: checkpoints, "
                             "report.json, confusion.png")] = Path("runs/classify"),
    resume: bool = typer.Option(False, help="continue from the last checkpoint in --out"),
):
    """Train; report accuracy, the confusion matrix and per-class recall on --test."""
    from rnnlab.apps import classifier as clf
    from rnnlab.apps.network import NetworkConfig

    with user_errors():
        net = NetworkConfig(cell=cell, hidden=hidden, layers=layers, epochs=epochs,
                            batch_size=batch_size, lr=lr, seed=seed)
        cfg = clf.ClassifyConfig(val=val, chunk=chunk, fill_missing=fill_missing)
        report = clf.run(train_file, test, cfg, net, out, resume=resume, echo=typer.echo)
    typer.echo(clf.format_report(report))


@app.command()
def predict(
    checkpoint: Annotated[Path, typer.Argument(help="checkpoint written by `classify train`")],
    file: Annotated[Path, typer.Argument(help="series to classify (.ts, .csv, .npz)")],
    fill_missing: bool = typer.Option(False, help="interpolate missing values"),
):
    """Print one predicted label per series (and the accuracy when FILE has labels)."""
    from rnnlab.apps import classifier as clf

    with user_errors():
        labels, accuracy = clf.predict_file(checkpoint, file, fill_missing)
    for i, label in enumerate(labels):
        typer.echo(f"{i},{label}")
    if accuracy is not None:
        typer.echo(f"# accuracy {accuracy:.4f}", err=True)
