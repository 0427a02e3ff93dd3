"""1-NN baselines: DTW against a brute-force enumeration of warping paths, against aeon,
and the Euclidean distance against a plain loop."""

from pathlib import Path

import numpy as np
import pytest

from rnnlab.nearest import dtw, nearest, squared_euclidean

UCR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "ucr"


def _paths(Ta: int, Tb: int):
    """Every monotone warping path from (0, 0) to (Ta-1, Tb-1), by brute force."""
    def walk(i, j):
        if (i, j) == (Ta - 1, Tb - 1):
            yield [(i, j)]
            return
        for di, dj in ((1, 0), (0, 1), (1, 1)):
            if i + di < Ta and j + dj < Tb:
                for rest in walk(i + di, j + dj):
                    yield [(i, j), *rest]
    return list(walk(0, 0))


def _brute_dtw(a, b) -> float:
    return min(sum(float(np.sum((a[i] - b[j]) ** 2)) for i, j in p)
               for p in _paths(len(a), len(b)))


@pytest.mark.parametrize("Ta,Tb,F", [(1, 1, 1), (3, 4, 1), (5, 5, 2), (6, 3, 3)])
def test_dtw_equals_the_cheapest_warping_path(Ta, Tb, F):
    rng = np.random.default_rng(Ta * 10 + Tb)
    a, b = rng.standard_normal((Ta, F)), rng.standard_normal((Tb, F))
    assert dtw(a, b) == pytest.approx(_brute_dtw(a, b), rel=1e-12)
    assert dtw(a, b, _brute_dtw(a, b) * 0.5) == np.inf  # abandoned below the true distance


def test_nearest_dtw_with_lengths_matches_pairwise_distances():
    rng = np.random.default_rng(0)
    X, Z = rng.standard_normal((4, 7, 2)), rng.standard_normal((6, 8, 2))
    Lx, Lz = np.array([7, 3, 5, 1]), np.array([8, 2, 6, 4, 8, 5])
    D = np.array([[dtw(X[n, :Lx[n]], Z[m, :Lz[m]]) for m in range(6)] for n in range(4)])
    np.testing.assert_array_equal(nearest(X, Lx, Z, Lz, "dtw"), D.argmin(1))


def test_squared_euclidean_pads_the_shorter_set():
    rng = np.random.default_rng(1)
    X, Z = rng.standard_normal((3, 4, 2)), rng.standard_normal((2, 6, 2))
    loop = np.array([[np.sum((np.concatenate([x, np.zeros((2, 2))]) - z) ** 2) for z in Z]
                     for x in X])
    np.testing.assert_allclose(squared_euclidean(X, Z), loop, rtol=1e-10)


def test_dtw_agrees_with_aeon_on_ucr_series():
    aeon = pytest.importorskip("aeon.distances")
    if not (UCR / "GunPoint_TRAIN.ts").is_file():
        pytest.skip(f"no data at {UCR}")
    from rnnlab.data.ts_format import read_ts

    for name in ("GunPoint", "JapaneseVowels"):
        s = read_ts(UCR / f"{name}_TRAIN.ts")
        for n, m in ((0, 1), (2, 5), (7, 3)):
            a, b = s.X[n, : s.lengths[n]], s.X[m, : s.lengths[m]]
            assert dtw(a, b) == pytest.approx(aeon.dtw_distance(a.T, b.T), rel=1e-9)
