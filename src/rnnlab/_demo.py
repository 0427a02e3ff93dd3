"""A self-contained demo: an LSTM learns the adding problem (mean of two marked values)."""

from __future__ import annotations

import numpy as np

from rnnlab.layers import LSTM


def adding_batch(rng, T: int, B: int):
    """x (T, B, 2): values in [0, 1) and two markers; y (B,): the mean of the marked values."""
    x = np.zeros((T, B, 2), np.float32)
    x[..., 0] = rng.random((T, B))
    i = rng.integers(0, T // 2, B)
    j = rng.integers(T // 2, T, B)
    b = np.arange(B)
    x[i, b, 1] = x[j, b, 1] = 1
    return x, (x[i, b, 0] + x[j, b, 0]) / 2


def run_demo(steps: int, T: int, seed: int, echo=print, H: int = 32, B: int = 32, lr=0.01):
    rng = np.random.default_rng(seed)
    lstm = LSTM(2, H, seed=seed)
    w = np.zeros(H, np.float32)  # linear readout of the last state
    params = dict(lstm.params, w=w, b=np.zeros(1, np.float32))
    m = {n: np.zeros_like(p) for n, p in params.items()}
    v = {n: np.zeros_like(p) for n, p in params.items()}
    for step in range(1, steps + 1):
        x, y = adding_batch(rng, T, B)
        out, _, cache = lstm.forward(x)
        pred = out[-1] @ params["w"] + params["b"]  # (B,)
        err = pred - y
        loss = float(np.mean(err**2))
        dpred = 2 * err / B
        dout = np.zeros_like(out)
        dout[-1] = np.outer(dpred, params["w"])
        _, _, grads = lstm.backward(cache, dout)
        grads.update(w=out[-1].T @ dpred, b=np.array([dpred.sum()], np.float32))
        for n, g in grads.items():  # Adam
            m[n] = 0.9 * m[n] + 0.1 * g
            v[n] = 0.999 * v[n] + 0.001 * g * g
            mh, vh = m[n] / (1 - 0.9**step), v[n] / (1 - 0.999**step)
            params[n] -= (lr * mh / (np.sqrt(vh) + 1e-8)).astype(np.float32)
        lstm.params = {n: params[n] for n in lstm.params}
        if step % max(1, steps // 10) == 0 or step == 1:
            echo(f"step {step:5d}  mse {loss:.4f}  (predicting the mean gives ~0.042)")
    return loss
