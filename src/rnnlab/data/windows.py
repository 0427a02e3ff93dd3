"""Forecasting windows over one multivariate series, without leaking the future.

The pipeline, on a series `values` (T, C) in original units:

    z_t = log(v_t) if log else v_t                       (elementwise)
    d_t = z_t - z_{t-lag} if lag else z_t                (rows t < lag undefined)
    s_t = (d_t - mean) / std                             mean, std from training rows only

The rows are split chronologically into train | val | test by the time of the
value forecast. A window with origin t reads the inputs s_{t-K} .. s_{t-1} and
forecasts the target s_t .. s_{t+H-1}; it belongs to the part holding all of
t .. t+H-1. Inputs of a validation or test window may reach back into earlier
parts (they are known at forecast time); nothing of a training window, nor the
scaling statistics, comes from rows at or after the end of the training part.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnlab._checks import check_positive_int


@dataclass(frozen=True)
class WindowConfig:
    window: int = 12  # K: input steps per window
    horizon: int = 1  # H: target steps forecast from each window
    test: float = 0.2  # test part: a fraction of the rows in (0, 1), or a row count >= 1
    val: float = 0.1  # validation part, the same way (0: none)
    log: bool = False  # model log(values); every value must be > 0
    diff: int = 0  # difference at this lag before scaling (0: none, 1: first, 12: seasonal)


def split_sizes(T: int, test: float, val: float) -> tuple[int, int, int]:
    """Rows in (train, val, test): a part given as a fraction is rounded, a count is exact."""
    def rows(x: float, name: str) -> int:
        if x < 0 or (x >= 1 and x != int(x)):
            raise ValueError(f"{name}: expected a fraction in [0, 1) or a whole row count, "
                             f"got {x!r}")
        return round(x * T) if x < 1 else int(x)

    n_test, n_val = rows(test, "test"), rows(val, "val")
    if n_test < 1:
        raise ValueError(f"test: expected at least one test row, got {test!r}")
    n_train = T - n_val - n_test
    if n_train < 1:
        raise ValueError(f"test, val: {n_test} test and {n_val} validation rows leave no "
                         f"training rows out of {T}")
    return n_train, n_val, n_test


@dataclass(frozen=True)
class Standardizer:
    """s = (v - mean) / std per column; a constant column gets std 1."""

    mean: np.ndarray  # (C,)
    std: np.ndarray  # (C,)

    @classmethod
    def fit(cls, a: np.ndarray, axis=0) -> Standardizer:
        """Statistics over `axis` (for (N, T, F) series give axis=(0, 1)); NaN ignored."""
        std = np.nanstd(a, axis=axis)
        return cls(np.nanmean(a, axis=axis), np.where(std > 0, std, 1.0))

    def transform(self, a: np.ndarray) -> np.ndarray:
        return (a - self.mean) / self.std

    def inverse(self, s: np.ndarray) -> np.ndarray:
        return s * self.std + self.mean


class ForecastFrame:
    """The transformed, scaled series with its chronological split; see the module docstring.

    values (T, C) in original units; inputs: the column indices read by the model;
    target: the column index forecast.
    """

    def __init__(self, values: np.ndarray, inputs: list[int], target: int, cfg: WindowConfig,
                 scaler: Standardizer | None = None):
        self.cfg = cfg
        self.K = check_positive_int("window", cfg.window)
        self.H = check_positive_int("horizon", cfg.horizon)
        self.lag = check_positive_int("diff", cfg.diff, minimum=0)
        self.inputs, self.target = list(inputs), int(target)
        self.raw = np.asarray(values, dtype=np.float64)  # (T, C)
        if cfg.log and (self.raw[:, self.inputs + [target]] <= 0).any():
            raise ValueError("log: every value must be > 0 to take its logarithm")
        self.Z = np.log(self.raw) if cfg.log else self.raw  # (T, C)
        self.D = np.full_like(self.Z, np.nan)  # (T, C); the first `lag` rows undefined
        self.D[self.lag:] = self.Z[self.lag:] - self.Z[: len(self.Z) - self.lag] if self.lag \
            else self.Z
        if scaler is not None:  # forecasting after the end with a fitted scaler: no split
            if len(self.raw) < self.lag + self.K:
                raise ValueError(f"data: expected at least {self.lag + self.K} rows (window "
                                 f"{self.K} + diff {self.lag}), got {len(self.raw)}")
            self.sizes, self.scaler = (len(self.raw), 0, 0), scaler
        else:
            self.sizes = split_sizes(len(self.raw), cfg.test, cfg.val)
            self.scaler = Standardizer.fit(self.D[self.lag:self.sizes[0]])
        self.S = self.scaler.transform(self.D)  # (T, C)
        for part in ("train", "test") if scaler is None else ():
            if len(self.origins(part)) == 0:
                raise ValueError(self._too_short(part))

    def _too_short(self, part: str) -> str:
        n_train, n_val, n_test = self.sizes
        return (f"data: too few rows ({len(self.raw)}) for one {part} window: window {self.K} + "
                f"horizon {self.H} + diff {self.lag} with {n_train} training, {n_val} validation "
                f"and {n_test} test rows")

    def bounds(self, part: str) -> tuple[int, int]:
        """[start, end) of the rows in `part` ('train', 'val', 'test')."""
        n_train, n_val, _ = self.sizes
        ends = {"train": (0, n_train), "val": (n_train, n_train + n_val),
                "test": (n_train + n_val, len(self.raw))}
        return ends[part]

    def origins(self, part: str, horizon: int | None = None) -> np.ndarray:
        """Origins t of the windows of `part`: t - K >= lag and t .. t+H-1 inside the part
        (H = `horizon` when given, e.g. 1 for a one-step model)."""
        start, end = self.bounds(part)
        H = self.H if horizon is None else horizon
        return np.arange(max(start, self.lag + self.K), end - H + 1)

    def windows(self, origins: np.ndarray, targets: list[int] | None = None, horizon=None):
        """X (N, K, C_in) scaled inputs and Y (N, H, C_t) scaled targets of these origins."""
        targets = [self.target] if targets is None else targets
        H = self.H if horizon is None else horizon
        t = np.asarray(origins)[:, None]
        X = self.S[t + np.arange(-self.K, 0)][:, :, self.inputs]  # (N, K, C_in)
        Y = self.S[t + np.arange(H)][:, :, targets]  # (N, H, C_t)
        return X, Y

    def truth(self, origins: np.ndarray) -> np.ndarray:
        """The target in original units at t .. t+H-1: (N, H)."""
        return self.raw[np.asarray(origins)[:, None] + np.arange(self.H), self.target]

    def to_values(self, origins: np.ndarray, s_hat: np.ndarray) -> np.ndarray:
        """Scaled forecasts of the target (N, H) -> original units (N, H).

        Undo the scaling, then the differencing (z_{t+h} = d_{t+h} + z_{t+h-lag}, with
        the observed z before the origin and the forecast z from it on), then the log.
        """
        j = self.target
        d_hat = s_hat * self.scaler.std[j] + self.scaler.mean[j]  # (N, H)
        z_hat = d_hat.copy()
        if self.lag:
            t = np.asarray(origins)
            for h in range(s_hat.shape[1]):
                back = h - self.lag
                prev = z_hat[:, back] if back >= 0 else self.Z[t + back, j]
                z_hat[:, h] = d_hat[:, h] + prev
        return np.exp(z_hat) if self.cfg.log else z_hat

    def future(self) -> tuple[np.ndarray, np.ndarray]:
        """(origin T, X (1, K, C_in)): the window that forecasts the H steps after the end."""
        T = len(self.raw)
        X = self.S[np.arange(T - self.K, T)][None][:, :, self.inputs]  # (1, K, C_in)
        return np.array([T]), X


def recursive_forecast(predict, X: np.ndarray, H: int, target_pos: int) -> np.ndarray:
    """Forecast H steps with a one-step model fed its own outputs.

    predict: (N, K, C_in) -> (N, C_in), the next step of every input column.
    Returns the forecasts of input column `target_pos`: (N, H).
    """
    out = []
    for _ in range(H):
        step = predict(X)  # (N, C_in)
        out.append(step[:, target_pos])
        X = np.concatenate([X[:, 1:], step[:, None, :]], axis=1)  # (N, K, C_in)
    return np.stack(out, axis=1)
