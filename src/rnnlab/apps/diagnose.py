"""`rnnlab diagnose`: the vanishing/exploding-gradient diagnostics of a network on a
batch: a table (‖∇L‖, temporal gradient components ‖∇L|_t‖, ‖∂L/∂h_t‖, Jacobian norms
across time, the spectrum of W_hh and the Elman bound) and the plots.

The network is a checkpoint of rnnlab.train.Trainer (a SequenceModel with vector
inputs) or a fresh initialisation of a named architecture; the batch is drawn from a
task of rnnlab.tasks or read from an .npz file with arrays x (T, B, I), y, and
optionally mask and lengths (time-major, as rnnlab.models.Batch)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import typer

from rnnlab._checks import check_positive_int, check_range
from rnnlab.apps.options import FolderOptions, NetworkOptions
from rnnlab.config import command
from rnnlab.errors import DataError

app = typer.Typer()


@dataclass
class DiagnoseOptions:
    checkpoint: Path | None = None  # a checkpoint file or run folder; none: a fresh network
    task: str = "temporal_order"  # the task drawing the batch (rnnlab tasks list)
    data: Path | None = None  # .npz batch (x, y[, mask, lengths]) instead of a task
    T: int = 50  # sequence length of the task's batch
    batch_size: int = 20  # sequences in the task's batch
    seed: int = 0  # the fresh network's weights and the task's batch

    def __post_init__(self):
        check_positive_int("T", self.T, minimum=2)
        check_positive_int("batch_size", self.batch_size)


@dataclass
class FreshNetwork(NetworkOptions):
    cell: str = "rnn"  # the fresh network's cell: rnn | lstm | gru
    hidden_size: int = 50  # the fresh network's units per layer
    nonlinearity: str = "tanh"  # a fresh Elman RNN's σ
    init: str = "spectral"  # default | spectral | orthogonal | sparse | identity
    spectral_radius: float = 0.95  # init 'spectral': each W_hh block's radius

    def __post_init__(self):
        super().__post_init__()
        check_range("spectral_radius", self.spectral_radius, 0.0, math.inf, lo_open=True,
                    hi_open=True)


@command(app, "diagnose", options=DiagnoseOptions, network=FreshNetwork, folder=FolderOptions)
def diagnose(*, options: DiagnoseOptions, network: FreshNetwork, folder: FolderOptions):
    """Vanishing/exploding-gradient diagnostics of a network on a batch: print the table,
    write the plots (PNG and SVG) and report.json to the run folder."""
    import json

    from rich.console import Console
    from rich.table import Table

    from rnnlab.diagnostics.report import model_report, table_rows, write_plots
    from rnnlab.train.runs import claim

    model, b = _model_and_batch(options, network)
    folder.folder("diagnose")
    lock = claim(folder.out, resume=folder.resume, overwrite=folder.overwrite)
    try:
        rep = model_report(model, b)
        source = (f"checkpoint {options.checkpoint}" if options.checkpoint
                  else f"fresh {network.cell}")
        what = options.task if options.data is None else options.data
        table = Table(title=f"Gradient diagnostics ({source}, {what})")
        table.add_column("quantity")
        table.add_column("value", justify="right")
        for name, value in table_rows(rep):
            table.add_row(name, value)
        Console().print(table)
        out = folder.out
        paths = write_plots(rep, out)
        summary = {"rows": dict(table_rows(rep)),
                   "temporal_total": rep.temporal.total.tolist(),
                   "temporal": {n: v.tolist() for n, v in rep.temporal.params.items()},
                   "dh": {s: v.tolist() for s, v in rep.temporal.dh.items()},
                   "jacobian_spectral": rep.jacobian.spectral.tolist(),
                   "jacobian_bound": None if rep.jacobian.bound is None
                   else rep.jacobian.bound.tolist()}
        (out / "report.json").write_text(json.dumps(summary, indent=1))
    finally:
        lock.release()
    typer.echo(f"wrote {len(paths)} plot files and report.json to {out}/")


def _model_and_batch(options: DiagnoseOptions, network: FreshNetwork):
    import numpy as np

    from rnnlab.models import Batch
    from rnnlab.tasks import make_task

    if options.checkpoint is not None:
        model = load_sequence_model(options.checkpoint)
    else:
        model = fresh_model(make_task(options.task), network, options.seed)
    if options.data is not None:
        return model, read_batch(options.data, model)
    rng = np.random.default_rng([options.seed, 0])
    b = make_task(options.task).sample(options.T, options.batch_size, rng, dtype=model.rnn.dtype)
    return model, Batch(b.x, b.y, mask=b.mask)


def read_batch(path: Path, model):
    """A Batch from an .npz file (x (T, B, I) with I the model's input size, y, and
    optionally mask and lengths); anything else is a DataError naming the file."""
    import zipfile

    import numpy as np

    from rnnlab.models import Batch

    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise DataError(f"--data {path}: not a readable .npz file ({e})") from None
    missing = [k for k in ("x", "y") if k not in arrays]
    if missing:
        raise DataError(f"--data {path}: missing arrays {missing} (expected x, y[, mask, "
                        "lengths])")
    x, I = arrays["x"], model.rnn.input_size
    if x.ndim != 3 or x.shape[2] != I or not np.issubdtype(x.dtype, np.number):
        raise DataError(f"--data {path}: x must be numbers of shape (T, B, {I}), got "
                        f"{x.dtype} {x.shape}")
    return Batch(x.astype(model.rnn.dtype), arrays["y"], arrays.get("lengths"),
                 arrays.get("mask"))


def fresh_model(task, network: FreshNetwork, seed: int):
    """A SequenceModel with a readout at every step (the task's mask picks the scored
    ones), initialised by a named scheme of rnnlab.registry."""
    from rnnlab.registry import init_layer
    from rnnlab.spec import ModelSpec

    options = {"nonlinearity": network.nonlinearity} if network.cell == "rnn" else {}
    model = ModelSpec("many_to_many", network.layer(task.n_in, **options), task.n_out,
                      task.loss, seed=seed).build()
    init_layer(model.rnn, network.init, seed=seed, spectral_radius=network.spectral_radius)
    return model


def load_sequence_model(path):
    """A SequenceModel with vector inputs from any checkpoint file or run folder."""
    from rnnlab.checkpoint import read_model
    from rnnlab.models import SequenceModel

    model, _, file = read_model(path)
    if not isinstance(model, SequenceModel) or model.embedding is not None:
        raise DataError(f"--checkpoint {file}: expected a model of vector inputs (many_to_one "
                        f"or many_to_many without embedding), got {model.spec.scheme} with "
                        f"embedding {model.spec.embedding}")
    return model
