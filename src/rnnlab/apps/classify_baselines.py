"""The baselines `rnnlab classify` reports beside its own accuracy, on the series as
the files give them (missing values interpolated when asked): 1-NN with the Euclidean
and the DTW distance (rnnlab.nearest; DTW skipped, and said so, above DTW_CELLS), and
MiniRocket (Dempster et al. 2021) from aeon when the optional extra is installed and
the series have equal lengths."""

from __future__ import annotations

import time

import numpy as np

DTW_CELLS = 5e10  # most DTW cells (Σ over test and train pairs of T_n·T_m) computed by default


def minirocket(train, test, seed: int = 0) -> tuple[float | None, str]:
    """(test accuracy or None, a note) of aeon's MiniRocketClassifier."""
    try:
        from aeon.classification.convolution_based import MiniRocketClassifier
    except ImportError:
        return None, "aeon not installed (pip install 'rnnlab[aeon]')"
    (a, ya), (b, yb) = train, test
    if len({*a.lengths.tolist(), *b.lengths.tolist()}) > 1:
        return None, "unequal lengths: aeon's MiniRocket needs equal-length series"
    clf = MiniRocketClassifier(random_state=seed)
    try:
        clf.fit(a.X.transpose(0, 2, 1), ya)  # (N, F, T)
        return float(np.mean(clf.predict(b.X.transpose(0, 2, 1)) == yb)), "aeon"
    except ValueError as e:  # e.g. fewer than 9 steps: the baseline is missing, not the run
        return None, f"aeon refused: {e}"


def _accuracy(a: float | None) -> str:
    return "n/a" if a is None else f"{a:.4f}"


def baselines(train, test, echo=print) -> dict:
    """{name: {"accuracy", "seconds", "note"}}; train, test: (Sequences, encoded labels)."""
    from rnnlab.nearest import one_nn_accuracy

    (a, ya), (b, yb) = train, test
    out = {}
    cells = float(np.sum(a.lengths)) * float(np.sum(b.lengths))  # Σ_n Σ_m T_n T_m
    for name, metric in (("1nn_euclidean", "euclidean"), ("1nn_dtw", "dtw")):
        if metric == "dtw" and cells > DTW_CELLS:
            out[name] = {"accuracy": None, "seconds": 0.0,
                         "note": f"skipped: {cells:.1e} DTW cells, above {DTW_CELLS:.0e} "
                                 "(about two minutes here; rnnlab.nearest computes it)"}
            continue
        t0 = time.perf_counter()
        acc = one_nn_accuracy((a.X, a.lengths, ya), (b.X, b.lengths, yb), metric)
        out[name] = {"accuracy": acc, "seconds": time.perf_counter() - t0,
                     "note": "rnnlab.nearest"}
    t0 = time.perf_counter()
    acc, note = minirocket(train, test)
    out["minirocket"] = {"accuracy": acc, "seconds": time.perf_counter() - t0, "note": note}
    echo("baselines: " + ", ".join(f"{n} {_accuracy(r['accuracy'])}" for n, r in out.items()))
    return out
