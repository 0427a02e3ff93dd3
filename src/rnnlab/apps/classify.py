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
    train_file: Annotated[Path, typer.Argument(metavar="TRAIN", help="training file (.ts, "
                                               ".csv, .npz; with --images IDX or .npz "
                                               "images, or 'digits')")],
    test: Annotated[Path | None, typer.Option(help="test file in the same format")] = None,
    images: str | None = typer.Option(None, help="read TRAIN and --test as images, 'rows' "
                                      "(T = H steps of W values) or 'pixels' (T = H·W steps); "
                                      "TRAIN 'digits': scikit-learn's 8x8 digits, 25 % "
                                      "(stratified) as test"),
    labels: Annotated[Path | None, typer.Option(help="--images: the IDX labels file of "
                                                "TRAIN")] = None,
    test_labels: Annotated[Path | None, typer.Option(help="--images: the IDX labels of "
                                                     "--test")] = None,
    permute: int | None = typer.Option(None, help="--images pixels: a fixed random pixel "
                                       "order from this seed (permuted pixel-by-pixel)"),
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
    bidirectional: bool = typer.Option(False, help="trained nets: a reverse direction in "
                                       "every layer"),
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
                            bidirectional=bidirectional,
                            epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, pool=pool,
                            patience=patience, schedule="cosine")
        if images is None:
            report = clf.run(train_file, test, cfg, net, out, resume=resume, echo=typer.echo)
        else:
            data, held = _images(train_file, labels, test, test_labels, images, permute)
            report = clf.run_sequences(data, held, cfg, net, out, resume, echo=typer.echo)
    typer.echo(clf.format_report(report))


def _images(train_file: Path, labels, test, test_labels, read: str, permute):
    """(train, test Sequences) of image files, or of the built-in digits."""
    from rnnlab.apps.classifier import stratified_split
    from rnnlab.data import images as im

    if str(train_file) == "digits" and not train_file.exists():
        pixels, y = im.digits()
        i_train, i_test = stratified_split(y, 0.25, seed=0)
        test_pair = (pixels[i_test], y[i_test])
        pixels, y = pixels[i_train], y[i_train]
    else:
        pixels, y = im.read_images(train_file, labels)
        test_pair = None if test is None else im.read_images(test, test_labels)
    scale = float(pixels.max())
    held = None if test_pair is None else im.as_sequences(*test_pair, read, permute, scale)
    return im.as_sequences(pixels, y, read, permute, scale), held


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
