"""Standardisation of features with statistics of the training data only.

    s = (v - mean) / std          mean, std over the training rows (NaN ignored)

(Forecasting windows, with per-window scaling, live in `rnnlab.forecasting.windows`.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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
