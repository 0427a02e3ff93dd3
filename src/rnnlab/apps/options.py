"""The options every application shares, written once: the recurrent stack, the run
folder and the way training is configured. Each application composes these with its
own dataclass (and may subclass one to change a default, in one place); rnnlab.config
generates the command line from them."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from rnnlab._checks import check_option, check_positive_int, check_range
from rnnlab.optim import OPTIMIZERS
from rnnlab.spec import LayerSpec


@dataclass
class NetworkOptions:
    cell: str = "lstm"  # the recurrent cell: rnn (tanh) | lstm | gru
    hidden_size: int = 32  # units per layer (and direction)
    num_layers: int = 1  # stacked recurrent layers
    dropout: float = 0.0  # dropout between stacked layers, in training

    def __post_init__(self):
        from rnnlab.registry import layer_class

        layer_class(self.cell)
        check_positive_int("hidden_size", self.hidden_size)
        check_positive_int("num_layers", self.num_layers)
        check_range("dropout", self.dropout, 0.0, 1.0, hi_open=True)

    def layer(self, input_size: int, **options) -> LayerSpec:
        """The spec of this stack reading `input_size` features per step."""
        return LayerSpec(self.cell, input_size, self.hidden_size, self.num_layers,
                         dropout=self.dropout, options=options)


@dataclass
class TokenNetworkOptions(NetworkOptions):
    embedding_dim: int = 16  # learned token embedding size

    def __post_init__(self):
        super().__post_init__()
        check_positive_int("embedding_dim", self.embedding_dim)


def load_command_model(checkpoint, command: str):
    """(model, vocabulary) from a checkpoint file or run folder written by `command`."""
    from rnnlab.checkpoint import read_model
    from rnnlab.data.text import Vocab

    model, meta, file = read_model(checkpoint)
    if meta.get("config", {}).get("command") != command or not meta.get("vocab"):
        raise ValueError(f"CHECKPOINT: {file} was not written by `rnnlab {command}`")
    return model, Vocab(meta["vocab"])


def clip_options(clip_norm: float) -> dict:
    """TrainConfig's clip fields for the options' --clip-norm (0: no clipping)."""
    return {"clip": "norm" if clip_norm else "none", "clip_threshold": clip_norm or 1.0}


@dataclass
class OptimizerOptions:
    optimizer: str = "adam"  # sgd | adagrad | rmsprop | adam
    lr: float = 3e-3  # learning rate
    batch_size: int = 32  # sequences per update
    clip_norm: float = 1.0  # clip the gradient to this global norm (0: no clipping)
    seed: int = 0  # initialisation, batch order, dropout

    def __post_init__(self):
        check_option("optimizer", self.optimizer, OPTIMIZERS)
        check_range("lr", self.lr, 0.0, math.inf, lo_open=True, hi_open=True)
        check_positive_int("batch_size", self.batch_size)
        check_range("clip_norm", self.clip_norm, 0.0, math.inf, hi_open=True)

    def train_config(self, run: RunOptions | None, **kw):
        """The rnnlab.train.TrainConfig of these options (and `kw`) writing to `run`."""
        from rnnlab.train import TrainConfig

        files = {} if run is None else {"out_dir": str(run.out), "overwrite": run.overwrite,
                                        "loggers": run.loggers}
        return TrainConfig(optimizer=self.optimizer, lr=self.lr, **clip_options(self.clip_norm),
                           **files, **kw)


@dataclass
class OutOptions:
    out: Path | None = None  # run folder [default: a fresh runs/<command>-N]
    overwrite: bool = False  # replace the run already in --out

    def folder(self, command: str):
        """These options with `out` resolved (a fresh folder when none was named)."""
        from rnnlab.train.runs import fresh_run_dir

        if self.out is None:
            self.out = fresh_run_dir(command)
        return self


@dataclass
class FolderOptions(OutOptions):
    resume: bool = False  # continue the run in --out where it stopped

    def folder(self, command: str):
        if self.out is None and self.resume:
            raise ValueError("--resume: name the run folder to continue with --out")
        return super().folder(command)


@dataclass
class RunOptions(FolderOptions):
    loggers: tuple[str, ...] = ("jsonl", "csv")  # run logs: jsonl, csv, tensorboard
