"""The many-to-one network the forecasting and classification apps train.

z = W_out h_last + b_out, h_last the top layer's state at each sequence's own last
step (rnnlab.models.SequenceModel(target="last")): MSE for regression (identity
output), softmax cross-entropy for classification. Training, validation, model
selection, checkpoints and resume are those of rnnlab.train; this module maps the
apps' arrays (batch-first, as the data readers make them) onto them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from rnnlab._checks import check_option, check_positive_int
from rnnlab.registry import layer_class


@dataclass
class NetworkConfig:
    cell: str = "lstm"  # 'rnn' (tanh), 'lstm' or 'gru'
    hidden_size: int = 32  # hidden units per layer
    num_layers: int = 1  # stacked recurrent layers
    bidirectional: bool = False  # a reverse direction in every layer
    dropout: float = 0.0  # between stacked layers, in training
    epochs: int = 100  # passes over the training set
    batch_size: int = 32  # sequences per update
    optimizer: str = "adam"  # sgd | adagrad | rmsprop | adam
    lr: float = 3e-3  # learning rate
    clip_norm: float = 1.0  # gradient clipping by global norm (0: none)
    seed: int = 0  # initialisation and batch order
    pool: str = "last"  # what the readout reads: "last", "mean", "max" or several joined by "+"
    patience: int = 0  # stop after this many epochs without a better validation loss (0: never)
    schedule: str = "constant"  # learning rate over the run: "constant" or "cosine" (to 0)
    overwrite: bool = False  # replace a run already in the output folder
    resume: bool = False  # continue the run in the output folder (a finished one is loaded)

    def __post_init__(self):
        layer_class(self.cell)
        check_option("schedule", self.schedule, ("constant", "cosine"))
        for name in ("hidden_size", "num_layers", "epochs", "batch_size"):
            check_positive_int(name, getattr(self, name))
        check_positive_int("patience", self.patience, minimum=0)

    def to_dict(self) -> dict:
        return asdict(self)


def build_model(net: NetworkConfig, input_size: int, output_size: int, loss: str):
    """A SequenceModel(target="last") in float32 over the configured layer stack."""
    from rnnlab.spec import LayerSpec, ModelSpec

    stack = LayerSpec(net.cell, input_size, net.hidden_size, net.num_layers, net.bidirectional,
                      net.dropout)
    return ModelSpec("many_to_one", stack, output_size, loss, pooling=net.pool,
                     seed=net.seed).build()


class Predictor:
    """Batch-first inputs X (N, T, F) (and lengths) -> the model's outputs (N, K)."""

    def __init__(self, model):
        self.model = model

    def predict(self, X: np.ndarray, lengths=None) -> np.ndarray:
        x = np.asarray(X, self.model.rnn.dtype).transpose(1, 0, 2)  # (T, N, F)
        x = np.ascontiguousarray(x)
        return self.model.predict(x, lengths)


def _batches(X: np.ndarray, lengths, Y: np.ndarray):
    """make(indices) -> a time-major Batch cut to the longest of its sequences."""
    from rnnlab.models import Batch

    def make(idx):
        L = None if lengths is None else lengths[idx]
        T = X.shape[1] if L is None else int(L.max())
        x = np.ascontiguousarray(X[idx, :T].transpose(1, 0, 2))  # (T, B, F)
        return Batch(x, Y[idx], L)

    return make


def fit(model, net: NetworkConfig, train: tuple, val: tuple | None, out, meta: dict,
        resume: bool, echo=print) -> tuple[Predictor, dict]:
    """Train with Adam and clipping, `net.epochs` passes of shuffled mini-batches; validate
    every epoch and keep the parameters of the best validation loss (the last ones when
    there is no validation data). train, val: (X (N, T, F), lengths (N,) or None, Y).
    Checkpoints (and `resume`) in out/, and summary.json once finished (a finished run
    resumed with the same epochs is loaded, not retrained; with more, it continues);
    returns (the predictor, a summary of the run)."""
    import json
    import time

    from rnnlab.apps.options import clip_options
    from rnnlab.checkpoint import load
    from rnnlab.optim import Schedule
    from rnnlab.train import FullBPTT, TrainConfig, Trainer, epoch_batches, runs

    cast = model.rnn.dtype
    X, lengths, Y = train[0].astype(cast), train[1], train[2]
    val = None if val is None else (val[0].astype(cast), *val[1:])
    bs = min(net.batch_size, len(X))
    per_epoch = len(X) // bs
    data = epoch_batches(len(X), bs, _batches(X, lengths, Y), seed=net.seed)
    val_batches = None if val is None else [_batches(*val)(np.arange(len(val[0])))]
    report_every = per_epoch * max(1, net.epochs // 10)

    def report(trainer, record):
        if record["step"] % report_every == 0:
            extra = "".join(f"  {k} {record[k]:.4f}" for k in ("val_loss", "val_accuracy")
                            if k in record)
            echo(f"epoch {record['step'] // per_epoch:4d}  loss {record['loss']:.4f}{extra}")

    steps = net.epochs * per_epoch
    cfg = TrainConfig(steps=steps, optimizer=net.optimizer, lr=net.lr,
                      **clip_options(net.clip_norm),
                      schedule=Schedule(net.schedule, total=steps),
                      val_every=per_epoch if val is not None else 0,
                      patience=net.patience if val is not None else 0,
                      checkpoint_every=report_every, keep_last=2, out_dir=str(out),
                      overwrite=net.overwrite)
    trainer = Trainer(model, FullBPTT(model, data), cfg, val_data=val_batches,
                      callbacks=[report], meta={**meta, "network": net.to_dict()})
    done = Path(out) / "summary.json"  # written when the run has finished
    finished = json.loads(done.read_text()) if resume and done.is_file() else None
    if finished is not None and finished["epochs"] == net.epochs:
        model.load_params(load(done.parent).params)  # its best (else its last) weights
        return Predictor(model), finished
    t0 = time.perf_counter()
    last = trainer.fit(resume=resume)
    seconds = time.perf_counter() - t0
    best = trainer.out_dir / "best.safetensors"
    if val is not None and best.is_file():
        model.load_params(load(best).params)
    first = trainer.history[0]["step"] - 1 if trainer.history else trainer.step
    summary = {"seconds": seconds, "epochs": net.epochs, "steps": trainer.step,
               "stopped_early": last.get("stopped_early", False),
               "started_at_step": first,  # > 0 when resumed; seconds count this process only
               "train_loss": last.get("loss"),
               "best_val_loss": trainer.best if val is not None else None,
               "best_epoch": trainer.best_step // per_epoch if val is not None else None,
               "checkpoint": str(resolve_checkpoint(trainer.out_dir))}
    runs.write_json(done, summary)  # a resumed run reads it whole or not at all
    return Predictor(model), summary


def fit_regressor(net: NetworkConfig, X, Y, val, out, meta: dict, resume: bool, echo=print):
    """Many-to-one regression X (N, T, F) -> Y (N, K) with MSE."""
    model = build_model(net, X.shape[2], Y.shape[1], "mse")
    val = None if val is None else (val[0], None, val[1])
    return fit(model, net, (X, None, Y), val, out, meta, resume, echo)


def fit_classifier(net: NetworkConfig, X, lengths, y, num_classes: int, val, out, meta: dict,
                   resume: bool, echo=print):
    """Many-to-one classification of X (N, T, F) with lengths into y (N,) in [0, K)."""
    model = build_model(net, X.shape[2], num_classes, "ce")
    return fit(model, net, (X, lengths, y), val, out, meta, resume, echo)


def resolve_checkpoint(path) -> Path:
    from rnnlab.checkpoint import resolve

    return resolve(path)


def load(checkpoint, app: str) -> tuple[Predictor, dict]:
    """The trained predictor and the app's metadata from a checkpoint written by `fit`."""
    from rnnlab.checkpoint import read_model

    model, meta, path = read_model(checkpoint)
    saved = meta.get("config", {})
    if saved.get("app") != app:
        raise ValueError(f"CHECKPOINT: {path} was written by {saved.get('app')!r}, "
                         f"expected a `{app} train` checkpoint")
    return Predictor(model), saved
