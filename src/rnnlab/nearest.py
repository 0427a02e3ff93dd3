"""1-nearest-neighbour classification with the Euclidean and DTW distances: the
baselines every sequence classifier is measured against (Bagnall et al. 2017).

Series a (T_a, F) and b (T_b, F), as the data readers make them (padded, with lengths):

    ED(a, b)²  = Σ_t ‖a_t - b_t‖²        over max(T_a, T_b) steps, the shorter zero-padded
    DTW(a, b)  = D[T_a, T_b],  D[i, j] = ‖a_i - b_j‖² + min(D[i-1, j], D[i, j-1], D[i-1, j-1]),
                 D[0, 0] = 0, D[i, 0] = D[0, j] = ∞   (full window, dependent multivariate
                 DTW with the squared Euclidean cost, as aeon's `dtw_distance`)

The DTW search abandons a candidate as soon as a whole row of D exceeds the best
distance found so far (the result is exact).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True, error_model="numpy")
def dtw(a: np.ndarray, b: np.ndarray, bound: float = np.inf) -> float:
    """DTW(a, b) for a (T_a, F), b (T_b, F); ∞ once every path costs more than bound."""
    Ta, Tb = a.shape[0], b.shape[0]
    prev = np.full(Tb + 1, np.inf)
    cur = np.empty(Tb + 1)
    prev[0] = 0.0
    for i in range(1, Ta + 1):
        cur[0] = np.inf
        row_min = np.inf
        for j in range(1, Tb + 1):
            c = 0.0
            for f in range(a.shape[1]):
                d = a[i - 1, f] - b[j - 1, f]
                c += d * d
            best = min(prev[j], cur[j - 1], prev[j - 1])
            cur[j] = c + best
            row_min = min(row_min, cur[j])
        if row_min > bound:
            return np.inf
        prev, cur = cur, prev
    return prev[Tb]


@njit(cache=True, parallel=True, error_model="numpy")
def _nearest_dtw(X, Lx, Z, Lz) -> np.ndarray:
    out = np.empty(len(X), np.int64)
    for n in prange(len(X)):
        best, arg = np.inf, 0
        for m in range(len(Z)):
            d = dtw(X[n, : Lx[n]], Z[m, : Lz[m]], best)
            if d < best:
                best, arg = d, m
        out[n] = arg
    return out


def squared_euclidean(X: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """(N, M) ED² between X (N, T, F) and Z (M, T', F), zero-padded to a common length."""
    T = max(X.shape[1], Z.shape[1])
    a = np.zeros((len(X), T, X.shape[2]))
    b = np.zeros((len(Z), T, Z.shape[2]))
    a[:, : X.shape[1]], b[:, : Z.shape[1]] = X, Z
    a, b = a.reshape(len(X), -1), b.reshape(len(Z), -1)  # (N, T·F), (M, T·F)
    return np.maximum((a * a).sum(1)[:, None] - 2 * a @ b.T + (b * b).sum(1)[None], 0.0)


def nearest(X, lengths_x, Z, lengths_z, metric: str) -> np.ndarray:
    """(N,) index into Z of each series of X's nearest neighbour (the first on ties).
    X (N, T, F), Z (M, T', F) zero past each length; metric "euclidean" or "dtw"."""
    if metric == "euclidean":
        return squared_euclidean(X, Z).argmin(1)
    if metric != "dtw":
        raise ValueError(f"metric: expected 'euclidean' or 'dtw', got {metric!r}")
    f64 = np.ascontiguousarray
    return _nearest_dtw(f64(X, np.float64), np.asarray(lengths_x, np.int64),
                        f64(Z, np.float64), np.asarray(lengths_z, np.int64))


def one_nn_accuracy(train, test, metric: str) -> float:
    """Test accuracy of 1-NN; train, test: (X, lengths, y) as the classifier's arrays."""
    (Xa, La, ya), (Xb, Lb, yb) = train, test
    return float(np.mean(ya[nearest(Xb, Lb, Xa, La, metric)] == yb))
