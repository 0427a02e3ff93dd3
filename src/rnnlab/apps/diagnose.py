"""`rnnlab diagnose`: the vanishing/exploding-gradient diagnostics of a network on a
batch: a table (‖∇L‖, temporal gradient components ‖∇L|_t‖, ‖∂L/∂h_t‖, Jacobian norms
across time, the spectrum of W_hh and the Elman bound) and the plots.

The network is a checkpoint of rnnlab.train.Trainer (a SequenceModel with vector
inputs) or a fresh initialisation of a named architecture; the batch is drawn from a
task of rnnlab.tasks or read from an .npz file with arrays x (T, B, I), y, and
optionally mask and lengths (time-major, as rnnlab.models.Batch)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Vanishing/exploding-gradient diagnostics of a network on a batch: "
                  "a table and plots.")


@app.callback(invoke_without_command=True)
def diagnose(
    checkpoint: Annotated[Path | None, typer.Option(
        help="a Trainer checkpoint (.safetensors); none: a fresh network as below")] = None,
    task: str = typer.Option("temporal_order", help="task drawing the batch (rnnlab tasks list)"),
    data: Annotated[Path | None, typer.Option(
        help=".npz batch (x, y[, mask, lengths]) instead of a task")] = None,
    T: int = typer.Option(50, "--T", min=1, help="sequence length of the task's batch"),
    batch: int = typer.Option(20, min=1, help="sequences in the task's batch"),
    cell: str = typer.Option("rnn", help="fresh network: rnn, lstm or gru"),
    nonlinearity: str = typer.Option("tanh", help="fresh Elman RNN: its σ"),
    hidden: int = typer.Option(50, min=1, help="fresh network: hidden units"),
    layers: int = typer.Option(1, min=1, help="fresh network: stacked layers"),
    init: str = typer.Option("spectral", help="fresh network: default, spectral or orthogonal"),
    spectral_radius: float = typer.Option(0.95, help="init 'spectral': W_hh's radius"),
    seed: int = typer.Option(0, help="weights and the task's batch"),
    out: Annotated[Path, typer.Option(help="folder for the plots and report.json")] = Path("diagnose"),
):
    """Print the diagnostics table and write the plots (PNG and SVG) under --out."""
    import json

    from rich.console import Console
    from rich.table import Table

    from rnnlab.diagnostics.report import model_report, table_rows, write_plots

    model, b = _model_and_batch(checkpoint, task, data, T, batch, cell, nonlinearity, hidden,
                                layers, init, spectral_radius, seed)
    rep = model_report(model, b)
    source = f"checkpoint {checkpoint}" if checkpoint else f"fresh {cell}"
    table = Table(title=f"Gradient diagnostics ({source}, {task if data is None else data})")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    for name, value in table_rows(rep):
        table.add_row(name, value)
    Console().print(table)
    paths = write_plots(rep, out)
    summary = {"rows": dict(table_rows(rep)),
               "temporal_total": rep.temporal.total.tolist(),
               "temporal": {n: v.tolist() for n, v in rep.temporal.params.items()},
               "dh": {s: v.tolist() for s, v in rep.temporal.dh.items()},
               "jacobian_spectral": rep.jacobian.spectral.tolist(),
               "jacobian_bound": None if rep.jacobian.bound is None else rep.jacobian.bound.tolist()}
    (out / "report.json").write_text(json.dumps(summary, indent=1))
    typer.echo(f"wrote {len(paths)} plot files and report.json to {out}/")


def _model_and_batch(checkpoint, task, data, T, B, cell, nonlinearity, hidden, layers, init,
                     spectral_radius, seed):
    import numpy as np

    from rnnlab.models import Batch
    from rnnlab.tasks import make_task

    if checkpoint is not None:
        model = load_sequence_model(checkpoint)
    else:
        model = fresh_model(make_task(task), cell, nonlinearity, hidden, layers, init,
                            spectral_radius, seed)
    dtype = model.rnn.dtype
    if data is not None:
        with np.load(data) as f:
            missing = [k for k in ("x", "y") if k not in f]
            if missing:
                raise typer.BadParameter(f"{data}: missing arrays {missing} (expected x, y[, mask, "
                                         "lengths])", param_hint="--data")
            arrays = {k: f[k] for k in f.files}
        return model, Batch(arrays["x"].astype(dtype), arrays["y"], arrays.get("lengths"),
                            arrays.get("mask"))
    b = make_task(task).sample(T, B, np.random.default_rng([seed, 0]), dtype=dtype)
    return model, Batch(b.x, b.y, mask=b.mask)


def fresh_model(task, cell, nonlinearity, hidden, layers, init, spectral_radius, seed):
    """A SequenceModel with a readout at every step (the task's mask picks the scored
    ones); init 'default' (PyTorch's), 'spectral' (Gaussian W_hh rescaled to the radius)
    or 'orthogonal'."""
    from rnnlab import GRU, LSTM, RNN
    from rnnlab._checks import check_option
    from rnnlab.init import InitConfig, initialize
    from rnnlab.models import SequenceModel

    check_option("cell", cell, ("rnn", "lstm", "gru"))
    check_option("init", init, ("default", "spectral", "orthogonal"))
    Layer = {"rnn": RNN, "lstm": LSTM, "gru": GRU}[cell]
    options = {"nonlinearity": nonlinearity} if cell == "rnn" else {}
    rnn = Layer(task.n_in, hidden, layers, seed=seed, **options)
    if init == "spectral":
        initialize(rnn, InitConfig(recurrent="gaussian", input="gaussian", std=0.1,
                                   spectral_radius=spectral_radius, seed=seed))
    elif init == "orthogonal":
        initialize(rnn, InitConfig(recurrent="orthogonal", input="glorot", seed=seed))
    return SequenceModel(rnn, task.n_out, loss=task.loss, target="each", reduction="mean",
                         seed=seed)


def load_sequence_model(path):
    """A SequenceModel rebuilt from a Trainer checkpoint's config and parameters."""
    import numpy as np

    from rnnlab import GRU, LSTM, RNN
    from rnnlab.models import SequenceModel
    from rnnlab.train.checkpoint import load_checkpoint, split_prefix

    arrays, meta = load_checkpoint(path)
    cfg = meta["config"]["model"]
    if cfg.get("scheme") not in ("many_to_one", "many_to_many") or cfg.get("embedding"):
        raise typer.BadParameter(f"{path}: expected a SequenceModel with vector inputs, got "
                                 f"scheme {cfg.get('scheme')!r}", param_hint="--checkpoint")
    r = cfg["rnn"]
    Layer = {"RNN": RNN, "LSTM": LSTM, "GRU": GRU}[r["type"]]
    params = split_prefix(arrays, "param")
    rnn = Layer(r["input_size"], r["hidden_size"], r["num_layers"], bidirectional=r["bidirectional"],
                dropout=r["dropout"], dtype=np.dtype(r["dtype"]), **r.get("cell_options", {}))
    model = SequenceModel(rnn, cfg["output_size"], loss=cfg["loss"], reduction=cfg["reduction"],
                          target="last" if cfg["scheme"] == "many_to_one" else "each")
    model.load_params(params)
    return model
