"""Labelled sets of sequences for classification, and the helpers all readers share.

A `Sequences` holds N series of F channels padded to a common length T:
`X` (N, T, F) with NaN for missing values and zeros past each series' length,
`lengths` (N,) and the class labels `y` (N,) as strings.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np


@dataclass(frozen=True)
class Sequences:
    X: np.ndarray  # (N, T, F) float64; NaN = missing value, 0 past each series' end
    lengths: np.ndarray  # (N,) int64, in [1, T]
    y: np.ndarray | None  # (N,) str class labels, or None when the file has none
    classes: tuple[str, ...] | None = None  # labels the file declares (.ts @classLabel)
    target: bool = False  # y is a regression target (.ts @targetLabel true), not classes

    @property
    def num_channels(self) -> int:
        return self.X.shape[2]


def pad(series: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Stack series of shapes (T_i, F) into X (N, max T_i, F), zero-padded, and lengths (N,)."""
    lengths = np.array([len(s) for s in series], dtype=np.int64)
    F = series[0].shape[1]
    X = np.zeros((len(series), int(lengths.max()), F))  # (N, T, F)
    for n, s in enumerate(series):
        X[n, : len(s)] = s
    return X, lengths


def parse_float(text: str, where: str, missing: tuple[str, ...] = ("?", "NaN", "nan")) -> float:
    """One number; the tokens in `missing` (and the empty string) become NaN."""
    t = text.strip()
    if t == "" or t in missing:
        return np.nan
    try:
        return float(t)
    except ValueError:
        raise ValueError(f"{where}: expected a number, got {t!r}") from None


def real_steps(X: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """(N, T, 1) True at the real steps of each series, False in its padding."""
    return np.arange(X.shape[1])[None, :, None] < lengths[:, None, None]


def missing_report(X: np.ndarray, lengths: np.ndarray, limit: int = 5) -> str:
    """A short list of where values are missing, e.g. 'series 3 channel 0 step 7, ...'."""
    where = np.argwhere(np.isnan(X) & real_steps(X, lengths))
    parts = [f"series {n} channel {f} step {t}" for n, t, f in where[:limit]]
    more = f" and {len(where) - limit} more" if len(where) > limit else ""
    return ", ".join(parts) + more


def interpolate_missing(seqs: Sequences) -> Sequences:
    """Fill NaNs per series and channel by linear interpolation (constant past the ends)."""
    X = seqs.X.copy()
    for n, L in enumerate(seqs.lengths):
        for f in range(X.shape[2]):
            v = X[n, :L, f]  # (L,) a view
            bad = np.isnan(v)
            if bad.all():
                raise ValueError(f"X: series {n} channel {f} has no values to interpolate from")
            if bad.any():
                t = np.arange(L)
                v[bad] = np.interp(t[bad], t[~bad], v[~bad])
    return replace(seqs, X=X)
