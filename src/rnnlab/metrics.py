"""Error measures for forecasts and classifiers.

Forecasts (arrays of equal shape, in original units):
    MAE   = mean |y - ŷ|
    RMSE  = sqrt(mean (y - ŷ)²)
    sMAPE = mean 2|y - ŷ| / (|y| + |ŷ|)        (a fraction in [0, 2]; 0/0 counts 0)
    MASE  = MAE / mean_t |y_t - y_{t-m}|        the scale from the training part, period m
Classifiers: accuracy, the confusion matrix C[i, j] = #(true i, predicted j),
per-class recall C[i, i] / Σ_j C[i, j].
"""

from __future__ import annotations

import numpy as np


def mae(y, y_hat) -> float:
    return float(np.mean(np.abs(np.asarray(y) - y_hat)))


def rmse(y, y_hat) -> float:
    return float(np.sqrt(np.mean((np.asarray(y) - y_hat) ** 2)))


def smape(y, y_hat) -> float:
    y, y_hat = np.asarray(y, float), np.asarray(y_hat, float)
    den = np.abs(y) + np.abs(y_hat)
    ratio = np.divide(2 * np.abs(y - y_hat), den, out=np.zeros_like(den), where=den > 0)
    return float(np.mean(ratio))


def mase_scale(y_train, season: int = 1) -> float:
    """Mean absolute seasonal difference of the training series (the naive in-sample error)."""
    y_train = np.asarray(y_train, float)
    if len(y_train) <= season:
        raise ValueError(f"season: {season} needs more than {season} training values, "
                         f"got {len(y_train)}")
    return float(np.mean(np.abs(y_train[season:] - y_train[:-season])))


def forecast_metrics(y, y_hat, scale: float) -> dict[str, float]:
    """MAE, RMSE, sMAPE and MASE (MAE / scale, see `mase_scale`)."""
    e = mae(y, y_hat)
    return {"mae": e, "rmse": rmse(y, y_hat), "smape": smape(y, y_hat),
            "mase": e / scale if scale > 0 else float("nan")}


def confusion_matrix(y, y_hat, num_classes: int) -> np.ndarray:
    """C (K, K): C[i, j] counts examples of class i predicted as j (labels 0..K-1)."""
    C = np.zeros((num_classes, num_classes), np.int64)
    np.add.at(C, (np.asarray(y), np.asarray(y_hat)), 1)
    return C


def recall_per_class(C: np.ndarray) -> np.ndarray:
    """(K,) C[i, i] / Σ_j C[i, j]; NaN for a class with no examples."""
    n = C.sum(axis=1)
    return np.divide(np.diag(C), n, out=np.full(len(C), np.nan), where=n > 0)
