"""Many-to-one sequence classification from .ts, CSV or .npz files.

Each series x_1 .. x_{T_n} (F channels) is standardised per channel with statistics
of the training set's real steps, run through the recurrent layer with its own
length (`lengths`), and classified from the state at its last real step:
p(class | x) = softmax(W_out h_{T_n} + b_out).
"""

from __future__ import annotations

import numpy as np

from rnnlab.data.sequences import Sequences, interpolate_missing, missing_report, real_steps
from rnnlab.data.windows import Standardizer


def class_list(train: Sequences) -> list[str]:
    """The classes: those the file declares (.ts @classLabel), else the training labels sorted."""
    if train.y is None:
        raise ValueError("TRAIN: the file has no class labels")
    if train.classes:
        return list(train.classes)
    labels = sorted(set(train.y.tolist()))
    try:  # numeric labels in numeric order
        return sorted(labels, key=float)
    except ValueError:
        return labels


def encode(seqs: Sequences, classes: list[str], argument: str) -> np.ndarray:
    """Labels -> indices into `classes`; labels never seen in training raise, naming them."""
    if seqs.y is None:
        raise ValueError(f"{argument}: the file has no class labels")
    unseen = sorted(set(seqs.y.tolist()) - set(classes))
    if unseen:
        raise ValueError(f"{argument}: labels {unseen} never appear in training "
                         f"(the classes are {classes})")
    index = {c: i for i, c in enumerate(classes)}
    return np.array([index[c] for c in seqs.y], dtype=np.int64)


def check_compatible(seqs: Sequences, num_channels: int, argument: str) -> None:
    if seqs.num_channels != num_channels:
        raise ValueError(f"{argument}: expected {num_channels} channels as in training, "
                         f"got {seqs.num_channels}")


def prepare(seqs: Sequences, fill_missing: bool, argument: str) -> Sequences:
    """Missing values: interpolated when asked, else an error that says where they are."""
    real = real_steps(seqs.X, seqs.lengths)  # (N, T, 1)
    if not np.isnan(np.where(real, seqs.X, 0.0)).any():
        return seqs
    if not fill_missing:
        raise ValueError(f"{argument}: missing values at {missing_report(seqs.X, seqs.lengths)} "
                         "(use --fill-missing to interpolate them)")
    return interpolate_missing(seqs)


def fit_scaler(seqs: Sequences) -> Standardizer:
    """Per-channel mean and std over the real steps of every training series."""
    real = real_steps(seqs.X, seqs.lengths)  # (N, T, 1)
    return Standardizer.fit(np.where(real, seqs.X, np.nan), axis=(0, 1))


def to_time_major(seqs: Sequences, scaler: Standardizer, dtype=np.float32):
    """x (T, N, F) standardised, zero past each length, and lengths (N,)."""
    real = real_steps(seqs.X, seqs.lengths)  # (N, T, 1)
    x = np.where(real, scaler.transform(seqs.X), 0.0)  # (N, T, F)
    return np.ascontiguousarray(x.transpose(1, 0, 2), dtype=dtype), seqs.lengths
