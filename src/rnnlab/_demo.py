"""A self-contained demo: an LSTM learns the adding problem through rnnlab.train."""

from __future__ import annotations

import numpy as np

from rnnlab.layers import LSTM
from rnnlab.models import Batch, SequenceModel


def adding_batch(rng, T: int, B: int) -> Batch:
    """x (T, B, 2): values in [0, 1) and two markers (one in each half); y (B, 1): the
    sum of the two marked values (predicting the constant 1 gives MSE 1/6 ≈ 0.167)."""
    x = np.zeros((T, B, 2), np.float32)
    x[..., 0] = rng.random((T, B))
    i = rng.integers(0, T // 2, B)
    j = rng.integers(T // 2, T, B)
    b = np.arange(B)
    x[i, b, 1] = x[j, b, 1] = 1
    return Batch(x, (x[i, b, 0] + x[j, b, 0])[:, None])


def run_demo(steps: int, T: int, seed: int, echo=print, H: int = 16, B: int = 32, lr=0.01):
    """Train many-to-one with Adam and global-norm clipping; return the test MSE."""
    from rnnlab.train import FullBPTT, TrainConfig, Trainer

    model = SequenceModel(LSTM(2, H, seed=seed), 1, loss="mse", target="last", seed=seed)
    test = [adding_batch(np.random.default_rng([seed, 1]), T, 500)]

    def data(n):
        return adding_batch(np.random.default_rng([seed, 0, n]), T, B)

    def report(trainer, record):
        if "val_loss" in record:
            echo(f"step {record['step']:5d}  train mse {record['loss']:.4f}  "
                 f"test mse {record['val_loss']:.4f}  (predicting 1 gives ~0.167)")

    cfg = TrainConfig(steps=steps, lr=lr, val_every=max(1, steps // 10))
    trainer = Trainer(model, FullBPTT(model, data), cfg, val_data=test, callbacks=[report])
    return trainer.fit()["val_loss"]
