"""The seed example of multivariate forecasting: three variables, the third a
non-linear function of the recent past of the other two; predict its next value
from the last k steps of all three.

    x1_t = sin(2π t / 20 + φ) + 0.2 ε1_t                φ ~ U[0, 2π) per series
    x2_t = 0.8 x2_{t-1} + 0.3 ε2_t                      (stationary, variance 0.25)
    x3_t = tanh(2 x1_{t-1} x2_{t-2}) + 0.5 sin(π x2_{t-3}) + noise ε3_t

with ε ~ N(0, 1) and noise = 0.05 by default. x3_{t+1} depends on x1_t, x2_{t-1}
and x2_{t-2}: the last k = 4 steps of all three hold everything a predictor needs,
and the best possible mean squared error is noise² (0.0025).
"""

from __future__ import annotations

import numpy as np

from rnnlab._checks import check_dtype, check_positive_int, check_range
from rnnlab.tasks.problems import Batch, _check, _last_step

BURN_IN = 50  # steps dropped so that x2 starts from its stationary law
PERIOD = 20  # period of x1
NOISE = 0.05  # default standard deviation of x3's own noise
COLUMNS = ("x1", "x2", "x3")


def multivariate_series(n: int, rng: np.random.Generator, *, batch: int | None = None,
                        noise: float = NOISE, dtype=np.float64) -> np.ndarray:
    """n steps of (x1, x2, x3): shape (n, 3), or (n, batch, 3) independent series."""
    n = check_positive_int("n", n)
    noise = check_range("noise", noise, 0.0, np.inf)
    B = 1 if batch is None else check_positive_int("batch", batch)
    N = n + BURN_IN
    t = np.arange(N)[:, None]  # (N, 1)
    phi = rng.uniform(0, 2 * np.pi, B)  # (B,)
    x1 = np.sin(2 * np.pi * t / PERIOD + phi) + 0.2 * rng.standard_normal((N, B))  # (N, B)
    e2 = 0.3 * rng.standard_normal((N, B))
    x2 = np.empty((N, B))
    x2[0] = e2[0] / 0.6  # stationary start: variance 0.09 / (1 - 0.64)
    for k in range(1, N):
        x2[k] = 0.8 * x2[k - 1] + e2[k]
    x3 = np.zeros((N, B))
    x3[3:] = np.tanh(2 * x1[2:-1] * x2[1:-2]) + 0.5 * np.sin(np.pi * x2[:-3])
    x3 += noise * rng.standard_normal((N, B))
    series = np.stack([x1, x2, x3], axis=-1)[BURN_IN:].astype(check_dtype(dtype))  # (n, B, 3)
    return series[:, 0] if batch is None else series


def forecast3(T: int, B: int, rng: np.random.Generator, *, noise: float = NOISE,
              dtype=np.float32) -> Batch:
    """Windows of the last T steps (k = T, 4 in the seed example) of (x1, x2, x3);
    target x3 at the next step, at the window's last step. MSE."""
    T, B = _check(T, B, rng, 1)
    s = multivariate_series(T + 1, rng, batch=B, noise=noise, dtype=dtype)  # (T+1, B, 3)
    x = np.ascontiguousarray(s[:T])  # (T, B, 3)
    mask, y = _last_step(T, B, s[T, :, 2], x.dtype)
    return Batch(x, y, mask, mask)
