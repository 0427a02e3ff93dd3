"""`rnnlab classify`: many-to-one sequence classification from .ts (sktime/UEA), CSV (one
series per row, label first) or .npz (X (N, T, F), optional lengths, y) files."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated

import typer

from rnnlab._checks import check_option, check_positive_int, check_range
from rnnlab.apps.options import FolderOptions, OptimizerOptions
from rnnlab.config import command

app = typer.Typer(no_args_is_help=True, help=__doc__)


@dataclass
class ClassifyData:
    test: Path | None = None  # test file in the same format
    images: str | None = None  # read TRAIN/--test as images: rows | pixels ('digits': built-in)
    labels: Path | None = None  # --images: the IDX labels file of TRAIN
    test_labels: Path | None = None  # --images: the IDX labels of --test
    permute: int | None = None  # --images pixels: a fixed random pixel order from this seed
    fill_missing: bool = False  # interpolate missing values ('?') instead of stopping on them

    def __post_init__(self):
        if self.images is not None:
            check_option("images", self.images, ("rows", "pixels"))


@dataclass
class ClassifyMethod:
    model: str = "esn"  # esn (reservoirs + ridge, chosen by leave-one-out) | rnn | lstm | gru
    members: int = 5  # ensemble size (seeds seed, seed+1, ...); probabilities averaged
    val: float = 0.2  # trained nets: stratified fraction of TRAIN for early stopping (0: none)
    chunk: int = 0  # k input steps per recurrent step (0: chosen from the training lengths)
    baselines: bool = True  # with --test: 1-NN ED, 1-NN DTW and MiniRocket (aeon) beside

    def __post_init__(self):
        check_option("model", self.model, ("esn", "rnn", "lstm", "gru"))
        check_positive_int("members", self.members)
        check_positive_int("chunk", self.chunk, minimum=0)
        check_range("val", self.val, 0.0, 1.0, hi_open=True)


@dataclass
class ClassifyNetwork:
    hidden_size: int | None = None  # units per layer [default: 300 for esn, 64 otherwise]
    num_layers: int = 1  # trained nets: stacked recurrent layers
    bidirectional: bool = False  # trained nets: a reverse direction in every layer
    dropout: float = 0.0  # trained nets: dropout between stacked layers
    pool: str = "last+mean+max"  # trained nets: the readout reads last, mean, max or a '+' of them

    def __post_init__(self):
        if self.hidden_size is not None:
            check_positive_int("hidden_size", self.hidden_size)


@dataclass
class ClassifyTraining(OptimizerOptions):
    lr: float = 5e-3  # trained nets: learning rate (cosine schedule to 0)
    batch_size: int = 16  # trained nets: series per update
    epochs: int = 100  # trained nets: most passes over the training set
    patience: int = 20  # trained nets: epochs without a better validation loss (0: never)

    def __post_init__(self):
        super().__post_init__()
        check_positive_int("epochs", self.epochs)
        check_positive_int("patience", self.patience, minimum=0)


HIDDEN = {"esn": 300}  # units per layer when --hidden-size is not given (trained nets: 64)


@command(app, data=ClassifyData, method=ClassifyMethod, network=ClassifyNetwork,
         training=ClassifyTraining, folder=FolderOptions)
def train(
    train_file: Annotated[Path, typer.Argument(metavar="TRAIN", help="training file (.ts, "
                                               ".csv, .npz; with --images IDX or .npz "
                                               "images, or 'digits')")],
    *, data: ClassifyData, method: ClassifyMethod, network: ClassifyNetwork,
    training: ClassifyTraining, folder: FolderOptions,
):
    """Train on TRAIN; report accuracy, the confusion matrix, per-class recall and the
    baselines on --test."""
    from rnnlab.apps import classifier as clf
    from rnnlab.apps.network import NetworkConfig
    from rnnlab.train.runs import claim

    folder.folder("classify")
    claim(folder.out, resume=folder.resume, overwrite=folder.overwrite).release()
    cfg = clf.ClassifyConfig(model=method.model, members=method.members, val=method.val,
                             chunk=method.chunk, baselines=method.baselines,
                             fill_missing=data.fill_missing)
    hidden = network.hidden_size or HIDDEN.get(method.model, 64)
    net = NetworkConfig(**{**asdict(network), "hidden_size": hidden}, **asdict(training),
                        cell="rnn" if method.model == "esn" else method.model,
                        schedule="cosine", overwrite=folder.overwrite)
    if data.images is None:
        report = clf.run(train_file, data.test, cfg, net, folder.out, resume=folder.resume,
                         echo=typer.echo)
    else:
        pair = _images(train_file, data.labels, data.test, data.test_labels, data.images,
                       data.permute)
        report = clf.run_sequences(*pair, cfg, net, folder.out, folder.resume, echo=typer.echo)
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

    labels, accuracy = clf.predict_file(run_folder, file, fill_missing)
    for i, label in enumerate(labels):
        typer.echo(f"{i},{label}")
    if accuracy is not None:
        typer.echo(f"# accuracy {accuracy:.4f}", err=True)
