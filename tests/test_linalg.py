"""rnnlab._linalg.outer_sum: Σ_r a_rᵀ b_r in blocks equals the one product."""

from __future__ import annotations

import numpy as np
import pytest

from rnnlab._linalg import BLOCK, MIN_ROWS, outer_sum


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(MIN_ROWS + 37, 50, 50), (3 * BLOCK, 50, 50), (5000, 4, 50),
                                   (MIN_ROWS * 2, 64, 40)])
def test_outer_sum_equals_the_product(dtype, shape):
    R, m, n = shape
    rng = np.random.default_rng(0)
    a = rng.standard_normal((R // 20, 20, m)).astype(dtype)  # leading axes (T, B) as a layer's
    b = rng.standard_normal((R // 20, 20, n)).astype(dtype)
    got = outer_sum(a, b)
    ref = a.reshape(-1, m).astype(np.float64).T @ b.reshape(-1, n).astype(np.float64)
    assert got.shape == (m, n) and got.dtype == dtype
    tol = 1e-4 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, ref, rtol=tol, atol=tol * np.abs(ref).max())
