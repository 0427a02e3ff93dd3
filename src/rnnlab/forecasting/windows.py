"""Forecast origins over many series, input windows, and per-window scaling.

An origin (i, t) forecasts y_i[t .. t+H-1] from y_i[:t] only. Its input window is the
K values z_i[t-K .. t-1] of the (transformed) series, padded on the left with the first
value when t < K. Each window is scaled by its own past:

    level ℓ = z_{t-1} (or the window's mean, or the mean of the whole past z_0 .. z_{t-1}),
    scale s = mean_{k<t} |z_k - z_{k-1}|
    x̃ = (x - ℓ) / s,    and a forecast in scaled units maps back as ẑ = ℓ + s · ỹ

(s falls back to |z_{t-1}|/100, then 1, when the past is constant), so one global model
serves series of any level and scale, and nothing after t - 1 enters a window. A window
relative to its last value or its own mean cannot see where the series' mean is: a linear
model of it has coefficients on the levels that sum to one (a unit root). Relative to the
mean of the whole past, the same model can also revert to that mean, as a stationary
series does, and still holds the unit-root ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Origins:
    """Forecast origins: series index i and time t (the first step forecast)."""

    sid: np.ndarray  # (N,) int
    t: np.ndarray  # (N,) int, t >= 1

    def __len__(self) -> int:
        return len(self.t)

    def take(self, mask) -> Origins:
        return Origins(self.sid[mask], self.t[mask])


def origins_between(lengths, start, stop, H: int, first: int = 1) -> Origins:
    """Every origin t with start_i <= t, t + H <= stop_i and t >= first, series by series
    (start_i, stop_i per series, or one number for all)."""
    n = len(lengths)
    start, stop = np.broadcast_to(start, n), np.broadcast_to(stop, n)
    sid, t = [], []
    for i in range(n):
        ts = np.arange(max(int(start[i]), first), int(stop[i]) - H + 1)
        sid.append(np.full(len(ts), i))
        t.append(ts)
    return Origins(np.concatenate(sid).astype(int), np.concatenate(t).astype(int))


def input_windows(series: list[np.ndarray], o: Origins, K: int) -> tuple[np.ndarray, np.ndarray]:
    """X (N, K) the K values before each origin, left-padded with the series' first value,
    and lengths (N,) of their real parts."""
    X = np.empty((len(o), K))
    for n, (i, t) in enumerate(zip(o.sid, o.t)):
        w = series[i][max(0, t - K):t]
        X[n, K - len(w):] = w
        X[n, :K - len(w)] = w[0]
    return X, np.minimum(o.t, K)


def targets(series: list[np.ndarray], o: Origins, H: int) -> np.ndarray:
    """Y (N, H): the values at t .. t+H-1."""
    return np.stack([series[i][t:t + H] for i, t in zip(o.sid, o.t)]) if len(o) else \
        np.empty((0, H))


def historical_mean(series: list[np.ndarray], o: Origins) -> np.ndarray:
    """(N,) the mean of z_0 .. z_{t-1} at each origin."""
    cum = [np.concatenate([[0.0], np.cumsum(y)]) for y in series]
    return np.array([cum[i][t] / t for i, t in zip(o.sid, o.t)])


def window_scale(series: list[np.ndarray], o: Origins, center: str = "last",
                 K: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(level (N,), scale (N,)) of each origin, from the values before it only; the level
    is the last value (center 'last'), the mean of the last K values ('mean') or of all the
    values before the origin ('history')."""
    last = np.array([series[i][t - 1] for i, t in zip(o.sid, o.t)])
    if center == "last":
        level = last
    elif center == "history":
        level = historical_mean(series, o)
    else:
        level = np.array([series[i][max(0, t - K):t].mean() for i, t in zip(o.sid, o.t)])
    cum = [np.concatenate([[0.0], np.cumsum(np.abs(np.diff(y)))]) for y in series]
    scale = np.array([cum[i][t - 1] / (t - 1) if t > 1 else 0.0 for i, t in zip(o.sid, o.t)])
    fallback = np.where(np.abs(last) > 0, np.abs(last) / 100, 1.0)
    return level, np.where(scale > 0, scale, fallback)
