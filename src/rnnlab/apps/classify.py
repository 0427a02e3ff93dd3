"""`rnnlab classify`: many-to-one sequence classification from .ts (sktime/UEA), CSV (one
series per row, label first) or .npz (X (N, T, F), optional lengths, y) files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rnnlab.apps.errors import user_errors

app = typer.Typer(no_args_is_help=True, help=__doc__)


HIDDEN = {"esn": 300}  # units per layer when --hidden is not given (trained nets: 64)


@app.command()
def train(
    train_file: Annotated[Path, typer.Argument(metavar="TRAIN",
                                               help="training file (.ts, .csv, .npz)")],
    test: Annotated[Path | None, typer.Option(help="test file in the same format")] = None,
    model: str = typer.Option("esn", help="esn (echo-state reservoir, ridge readout; settings "
                              "by leave-one-out on TRAIN), or a trained rnn, lstm or gru"),
    members: int = typer.Option(5, min=1, help="ensemble size (seeds seed, seed+1, ...); "
                                "the members' probabilities are averaged"),
    val: float = typer.Option(0.2, help="trained nets: stratified fraction of TRAIN held out "
                              "for early stopping and the best weights (0: none)"),
    fill_missing: bool = typer.Option(False, help="interpolate missing values ('?') instead "
                                      "of stopping on them"),
    chunk: int = typer.Option(0, min=0, help="k input steps per recurrent step (0: chosen "
                              "from the training lengths)"),
    baselines: bool = typer.Option(True, help="with --test: 1-NN ED, 1-NN DTW and MiniRocket "
                                   "(aeon) in the same report"),
    hidden: int | None = typer.Option(None, min=1, help="hidden units per layer (default: "
                                      "300 for esn, 64 otherwise)"),
    layers: int = typer.Option(1, min=1, help="trained nets: stacked recurrent layers"),
    pool: str = typer.Option("last+mean+max", help="trained nets: what the readout reads, "
                             "last, mean, max or several joined by '+' (esn: chosen)"),
    epochs: int = typer.Option(100, min=1, help="trained nets: passes over the training set"),
    patience: int = typer.Option(20, min=0, help="trained nets: stop after this many epochs "
                                 "without a better validation loss (0: never)"),
    batch_size: int = typer.Option(16, min=1, help="trained nets: series per update"),
    lr: float = typer.Option(5e-3, help="trained nets: Adam learning rate (cosine to 0)"),
    seed: int = typer.Option(0, help="random seed (reservoirs, initialisation, batches, "
                             "validation split)"),
    out: Annotated[Path, typer.Option(help="output folder: members/, report.json, "
                                      "confusion.png")] = Path("runs/classify"),
    resume: bool = typer.Option(False, help="trained nets: continue from the last checkpoints "
                                "in --out"),
):
    """Train on TRAIN; report accuracy, the confusion matrix, per-class recall and the
    baselines on --test."""
    from rnnlab.apps import classifier as clf
    from rnnlab.apps.network import NetworkConfig

    with user_errors():
        cfg = clf.ClassifyConfig(model=model, members=members, val=val, chunk=chunk,
                                 baselines=baselines, fill_missing=fill_missing)
        net = NetworkConfig(cell="rnn" if model == "esn" else model,
                            hidden=hidden or HIDDEN.get(model, 64), layers=layers,
                            epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, pool=pool,
                            patience=patience, schedule="cosine")
        report = clf.run(train_file, test, cfg, net, out, resume=resume, echo=typer.echo)
    typer.echo(clf.format_report(report))


@app.command()
def predict(
    run_folder: Annotated[Path, typer.Argument(metavar="RUN",
                                               help="the --out folder of `classify train`")],
    file: Annotated[Path, typer.Argument(help="series to classify (.ts, .csv, .npz)")],
    fill_missing: bool = typer.Option(False, help="interpolate missing values"),
):
    """Print one predicted label per series (and the accuracy when FILE has labels)."""
    from rnnlab.apps import classifier as clf

    with user_errors():
        labels, accuracy = clf.predict_file(run_folder, file, fill_missing)
    for i, label in enumerate(labels):
        typer.echo(f"{i},{label}")
    if accuracy is not None:
        typer.echo(f"# accuracy {accuracy:.4f}", err=True)
