"""Baseline forecasts from each origin's past, on many series at once, (N, H) each.

    mean             ŷ_{t+h} = (1/t) Σ_{k<t} y_k               (the historical average)
    naive            ŷ_{t+h} = y_{t-1}
    seasonal naive   ŷ_{t+h} = y_{t+h-m(⌊h/m⌋+1)}          (the naive before one season)
    drift            ŷ_{t+h} = y_{t-1} + (h+1)(y_{t-1} - y_0)/(t-1)   (the random walk with
                     drift of the whole history before t)
    SES              ŷ_{t+h} = ℓ_t,  ℓ_{k+1} = α y_k + (1 - α) ℓ_k,  ℓ_1 = y_0   (simple
                     exponential smoothing; one α for all series, the grid value with the
                     least scaled squared error on the training origins)
    Theta            ŷ_{t+h} = ℓ_t + (b/2)(h + 1/α - (1 - α)^t/α) + c_{(t+h) mod m}   (the
                     Theta method as Hyndman & Billah (2003) write it: SES with α on the
                     series less its seasonal indices c (classical additive decomposition;
                     multiplicative on the log transform), drift half the slope b of a
                     least-squares line through it; c and b per series from its training
                     part, one α for all)
    linear AR        ỹ = [x̃, 1] W on scaled windows (`rnnlab.forecasting.windows`), W
                     (K+1, H) one ridge least-squares fit over all training windows of all
                     series: min ‖[X̃, 1] W - Ỹ‖² + λ‖W‖²

h = 0 .. H-1 counts from the origin t. The first three need no fitting.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnlab.forecasting.windows import (
    Origins,
    historical_mean,
    input_windows,
    targets,
    window_scale,
)


def mean(series, o: Origins, H: int) -> np.ndarray:
    return np.repeat(historical_mean(series, o)[:, None], H, axis=1)


def naive(series, o: Origins, H: int) -> np.ndarray:
    last = np.array([series[i][t - 1] for i, t in zip(o.sid, o.t)])  # (N,)
    return np.repeat(last[:, None], H, axis=1)


def seasonal_naive(series, o: Origins, H: int, m: int) -> np.ndarray:
    """The value one season back; the first value where the history is shorter."""
    h = np.arange(H)
    back = h - m * (h // m + 1)  # (H,) < 0
    return np.stack([series[i][np.maximum(t + back, 0)] for i, t in zip(o.sid, o.t)]) \
        if len(o) else np.empty((0, H))


def drift(series, o: Origins, H: int) -> np.ndarray:
    out = np.empty((len(o), H))
    steps = np.arange(1, H + 1)
    for n, (i, t) in enumerate(zip(o.sid, o.t)):
        y = series[i]
        slope = (y[t - 1] - y[0]) / (t - 1) if t > 1 else 0.0
        out[n] = y[t - 1] + slope * steps
    return out


ALPHAS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9)  # the grid of the SES smoothing factor


def ses(series, o: Origins, H: int, alpha: float) -> np.ndarray:
    levels = []
    for y in series:
        ell = np.empty(len(y) + 1)  # ell[t]: the level after y_0 .. y_{t-1}
        ell[0] = ell[1] = y[0]
        for k in range(1, len(y)):
            ell[k + 1] = alpha * y[k] + (1 - alpha) * ell[k]
        levels.append(ell)
    last = np.array([levels[i][t] for i, t in zip(o.sid, o.t)])  # (N,)
    return np.repeat(last[:, None], H, axis=1)


def best_alpha(series, o: Origins, H: int, forecast) -> float:
    """The α of ALPHAS whose forecast(α) (N, H) has the least mean ((y - ŷ) / s)² on o (s:
    each origin's scale)."""
    _, scale = window_scale(series, o)
    y = targets(series, o, H)
    errors = [np.mean(((y - forecast(a)) / scale[:, None]) ** 2) for a in ALPHAS]
    return ALPHAS[int(np.argmin(errors))]


def fit_ses(series, o: Origins, H: int) -> float:
    """SES's α on the origins o (best_alpha)."""
    return best_alpha(series, o, H, lambda a: ses(series, o, H, a))


def simple(name: str, series, o: Origins, H: int, m: int, alpha: float = 0.3) -> np.ndarray:
    """One of 'mean', 'naive', 'seasonal_naive', 'drift', 'ses' by name."""
    if name == "mean":
        return mean(series, o, H)
    if name == "naive":
        return naive(series, o, H)
    if name == "seasonal_naive":
        return seasonal_naive(series, o, H, m)
    if name == "drift":
        return drift(series, o, H)
    if name == "ses":
        return ses(series, o, H, alpha)
    raise ValueError(f"baseline: expected mean, naive, seasonal_naive, drift or ses, got "
                     f"{name!r}")


def seasonal_indices(y: np.ndarray, m: int) -> np.ndarray:
    """(m,) c_p: the mean by phase p = t mod m of y less its centred moving average of
    order m (2×m for even m), centred to sum 0; zeros when m = 1 or y has under 2m values."""
    if m < 2 or len(y) < 2 * m:
        return np.zeros(max(m, 1))
    w = np.ones(m + 1 - m % 2)
    w[[0, -1]] = 0.5 if m % 2 == 0 else 1.0
    trend = np.convolve(y, w / m, mode="valid")  # (n - len(w) + 1,)
    first = (len(w) - 1) // 2
    detrended = y[first:first + len(trend)] - trend
    phase = np.arange(first, first + len(trend)) % m
    c = np.array([detrended[phase == p].mean() for p in range(m)])
    return c - c.mean()


@dataclass
class Theta:
    """The Theta method on many series (see the docstring); fitted on the origins o."""

    alpha: float
    slope: np.ndarray  # (n_series,) b_i, per step, of series i's deseasonalised training part
    season: np.ndarray  # (n_series, m) c_i

    @classmethod
    def fit(cls, series, o: Origins, H: int, m: int) -> Theta:
        n = len(series)
        ends = np.zeros(n, dtype=int)  # each series' training part: up to its last target
        np.maximum.at(ends, o.sid, o.t + H)
        season, slope = np.zeros((n, max(m, 1))), np.zeros(n)
        for i, (y, e) in enumerate(zip(series, ends)):
            season[i] = seasonal_indices(y[:e], m)
            d = y[:e] - season[i][np.arange(e) % len(season[i])]
            slope[i] = np.polyfit(np.arange(e), d, 1)[0] if e > 1 else 0.0
        alpha = best_alpha(series, o, H, lambda a: cls(a, slope, season).predict(series, o, H))
        return cls(alpha, slope, season)

    def predict(self, series, o: Origins, H: int) -> np.ndarray:
        if not len(o):
            return np.empty((0, H))
        m, a, h = self.season.shape[1], self.alpha, np.arange(H)
        d = [y - self.season[i][np.arange(len(y)) % m] for i, y in enumerate(series)]
        drift = np.stack([self.slope[i] / 2 * (h + (1 - (1 - a) ** t) / a)
                          for i, t in zip(o.sid, o.t)])  # (N, H)
        c = np.stack([self.season[i][(t + h) % m] for i, t in zip(o.sid, o.t)])  # (N, H)
        return ses(d, o, H, a) + drift + c


@dataclass
class LinearAR:
    """The global ridge autoregression on scaled windows of length K (see the docstring)."""

    K: int
    W: np.ndarray  # (K + 1, H)
    center: str | None = "last"  # the windows' level: 'last', 'mean', 'history'; None: ℓ = 0,
    #                               s = 1 (an autoregression on the raw values)

    def _scale(self, series, o: Origins):
        if self.center is not None:
            return window_scale(series, o, self.center, self.K)
        return np.zeros(len(o)), np.ones(len(o))

    @classmethod
    def fit(cls, series, o: Origins, K: int, H: int, lam: float = 1.0,
            center: str | None = "last") -> LinearAR:
        X, _ = input_windows(series, o, K)
        level, scale = cls(K, None, center)._scale(series, o)
        Y = (targets(series, o, H) - level[:, None]) / scale[:, None]  # (N, H)
        A = _design((X - level[:, None]) / scale[:, None])  # (N, K+1)
        W = np.linalg.lstsq(A.T @ A + lam * np.eye(K + 1), A.T @ Y, rcond=None)[0]
        return cls(K, W, center)

    def scaled(self, X_scaled: np.ndarray) -> np.ndarray:
        """ỹ (N, H) from scaled windows x̃ (N, K)."""
        return _design(X_scaled) @ self.W

    def predict(self, series, o: Origins) -> np.ndarray:
        X, _ = input_windows(series, o, self.K)
        level, scale = self._scale(series, o)
        return level[:, None] + scale[:, None] * self.scaled((X - level[:, None]) / scale[:, None])


def _design(X: np.ndarray) -> np.ndarray:
    return np.concatenate([X, np.ones((len(X), 1))], axis=1)  # (N, K+1)
