"""Rolling-origin backtests: K folds, a refit in each, the same windows for every method.

With n_i test values per series and K folds, fold k = 1 .. K of series i holds out

    [stop_k - n_i, stop_k),   stop_k = T_i - (K - k) n_i

and every model of fold k is fitted on y_i[:stop_k - n_i] alone (the series is cut at
stop_k before anything sees it). The origins of a fold are every t in its held-out part
with t + H <= stop_k: one-step forecasts at each of them (H = 1), the same windows as
statsforecast's cross_validation(h=H, step_size=1, refit=False) on that cut. Each
fold is scored per series, the series averaged (as the M competitions report them), and
the folds averaged for the total.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnlab.forecasting import baselines as bl
from rnnlab.forecasting.windows import Origins, origins_between, targets
from rnnlab.metrics import forecast_metrics, mase_scale


@dataclass(frozen=True)
class Fold:
    k: int  # 1 .. K
    ends: np.ndarray  # (N,) end of each series' training part (exclusive)
    stops: np.ndarray  # (N,) end of each series' held-out part
    origins: Origins


def test_sizes(lengths, test: float, H: int = 1) -> np.ndarray:
    """(N,) held-out values per series: max(round(test · T_i), H) for a fraction (a short
    series still holds one forecast of H steps), else the count."""
    lengths = np.asarray(lengths)
    if test <= 0 or (test >= 1 and test != int(test)):
        raise ValueError(f"--test: expected a fraction in (0, 1) or a whole count, got {test!r}")
    n = np.maximum(np.round(test * lengths), H) if test < 1 else np.full(len(lengths), int(test))
    return np.maximum(n, 1).astype(int)


def make_folds(lengths, n_test: np.ndarray, H: int, K: int) -> list[Fold]:
    """The K folds (see the module docstring); errors name --folds / --test."""
    lengths = np.asarray(lengths)
    if K < 1:
        raise ValueError(f"--folds: expected at least 1, got {K}")
    if (n_test < H).any():
        raise ValueError(f"--test: {int(n_test.min())} held-out values cannot hold a horizon "
                         f"of {H}")
    folds = []
    for k in range(1, K + 1):
        stops = lengths - (K - k) * n_test
        ends = stops - n_test
        if (ends < 3).any():
            i = int(np.argmin(ends))
            raise ValueError(f"--folds, --test: series {i} has {lengths[i]} values, too few for "
                             f"{K} fold(s) of {n_test[i]} held-out values and a training part")
        folds.append(Fold(k, ends, stops, origins_between(lengths, ends, stops, H)))
    return folds


AR_WINDOW = 12  # the linear AR baseline's window (that of the earlier `forecast train`)


def baseline_forecasts(series, ends, o: Origins, H: int, m: int) -> dict[str, np.ndarray]:
    """naive, seasonal naive (m > 1), drift and the linear AR on the last AR_WINDOW values
    (least squares; one series: on its raw values, many: global on scaled windows; left out
    with fewer than AR_WINDOW + 1 training windows), each (N, H), fitted on y_i[:ends_i]
    only."""
    out = {"naive": bl.naive(series, o, H)}
    if m > 1:
        out["seasonal_naive"] = bl.seasonal_naive(series, o, H, m)
    out["drift"] = bl.drift(series, o, H)
    first = AR_WINDOW if len(series) == 1 else 2
    train = origins_between([len(y) for y in series], 1, ends, H, first=first)
    if len(train) > AR_WINDOW:  # else too few windows to fit it: left out
        ar = bl.LinearAR.fit(series, train, AR_WINDOW, H, 0.0,
                             "last" if len(series) > 1 else None)
        out["linear_ar"] = ar.predict(series, o)
    return out


def score(series, ends, o: Origins, forecasts: dict, m: int, per_series: dict | None = None):
    """Per method: MAE, RMSE, sMAPE, MASE (seasonal scale m of each training part), each
    the mean over series of the series' own figure; with a dict `per_series`, each series'
    own figures go there too ({series index: {method: figures}})."""
    H = next(iter(forecasts.values())).shape[1]
    y = targets(series, o, H)
    ids = np.unique(o.sid)
    scales = {i: mase_scale(series[i][:ends[i]], m if ends[i] > m else 1) for i in ids}
    out = {}
    for name, y_hat in forecasts.items():
        per = [forecast_metrics(y[o.sid == i], y_hat[o.sid == i], scales[i]) for i in ids]
        out[name] = {k: _mean([p[k] for p in per]) for k in per[0]}
        if per_series is not None:
            for i, p in zip(ids, per):
                per_series.setdefault(int(i), {})[name] = p
    return out


def _mean(values) -> float:
    """The mean of the finite values (a constant series has no MASE scale); NaN if none."""
    v = np.asarray(values, float)
    return float(v[np.isfinite(v)].mean()) if np.isfinite(v).any() else float("nan")


def coverage(series, o: Origins, lower, upper) -> float:
    """Fraction of the held-out values inside [lower, upper]."""
    y = targets(series, o, lower.shape[1])
    return float(np.mean((y >= lower) & (y <= upper)))


def average(fold_scores: list[dict]) -> dict:
    """The mean over folds of each method's figures (the methods scored in every fold)."""
    return {name: {k: float(np.mean([f[name][k] for f in fold_scores])) for k in metrics}
            for name, metrics in fold_scores[0].items()
            if all(name in f for f in fold_scores)}
