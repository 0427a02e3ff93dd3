"""Forecasting baselines on the same windows as the network.

- naive: the last observed value, v̂_{t+h} = v_{t-1} for every step h = 0 .. H-1.
- seasonal naive with period m: the value one season back from the step,
  v̂_{t+h} = v_{t+h-m(⌊h/m⌋+1)}, always an observed value.
- linear autoregression: s̃ = [vec(X_window), 1] W, W fitted by least squares on the
  training windows (the same scaled, transformed inputs and targets as the network),
  all H steps at once (direct), then mapped back to original units.
"""

from __future__ import annotations

import numpy as np

from rnnlab.data.windows import ForecastFrame


def naive(frame: ForecastFrame, origins: np.ndarray) -> np.ndarray:
    """(N, H): the target's last value before each origin, repeated."""
    last = frame.raw[np.asarray(origins) - 1, frame.target]  # (N,)
    return np.repeat(last[:, None], frame.H, axis=1)


def seasonal_naive(frame: ForecastFrame, origins: np.ndarray, season: int) -> np.ndarray:
    """(N, H): the target one season before each step (from before the origin)."""
    h = np.arange(frame.H)
    back = h - season * (h // season + 1)  # (H,) always < 0
    t = np.asarray(origins)[:, None] + back  # (N, H)
    if t.min() < 0:
        raise ValueError(f"season: {season} reaches before the first row for some test windows")
    return frame.raw[t, frame.target]


def _features(X: np.ndarray) -> np.ndarray:
    return np.concatenate([X.reshape(len(X), -1), np.ones((len(X), 1))], axis=1)  # (N, K·C+1)


def fit_linear_ar(frame: ForecastFrame) -> np.ndarray:
    """W (K·C_in + 1, H) by least squares on the training windows."""
    X, Y = frame.windows(frame.origins("train"))
    W, *_ = np.linalg.lstsq(_features(X), Y[:, :, 0], rcond=None)
    return W


def linear_ar(frame: ForecastFrame, W: np.ndarray, origins: np.ndarray) -> np.ndarray:
    """(N, H) forecasts in original units of the fitted autoregression."""
    X, _ = frame.windows(origins)
    return frame.to_values(origins, _features(X) @ W)
