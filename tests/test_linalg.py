"""rnnlab._linalg: outer_sum (Σ_r a_rᵀ b_r) and matmul equal the product, on NumPy's gemm
and on the own one, whose bits do not depend on the threads."""

from __future__ import annotations

import numpy as np
import pytest

from rnnlab._linalg import BLOCK, MIN_ROWS, outer_sum


@pytest.fixture(params=["numpy", "own"])
def gemm(request, monkeypatch):
    """Both paths of the layers' products on any CPU: NumPy's, and the own float32 gemm
    (on a CPU without AVX-512 it runs, slower)."""
    from rnnlab import _linalg

    if request.param == "own":
        pytest.importorskip("numba")
        from rnnlab.kernels._gemm import sgemm

        monkeypatch.setattr(_linalg, "_own_sgemm", lambda: sgemm)
    else:
        monkeypatch.setattr(_linalg, "_own_sgemm", lambda: None)
    return request.param


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(MIN_ROWS + 37, 50, 50), (3 * BLOCK, 50, 50), (5000, 4, 50),
                                   (MIN_ROWS * 2, 64, 40), (MIN_ROWS, 40, 64),
                                   (3200, 128, 3), (2000, 2, 400), (2000, 512, 194)])
def test_outer_sum_equals_the_product(gemm, dtype, shape):
    R, m, n = shape
    rng = np.random.default_rng(0)
    a = rng.standard_normal((R // 20, 20, m)).astype(dtype)  # leading axes (T, B) as a layer's
    b = rng.standard_normal((R // 20, 20, n)).astype(dtype)
    got = outer_sum(a, b)
    ref = a.reshape(-1, m).astype(np.float64).T @ b.reshape(-1, n).astype(np.float64)
    assert got.shape == (m, n) and got.dtype == dtype
    tol = 1e-4 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, ref, rtol=tol, atol=tol * np.abs(ref).max())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matmul_is_the_product_in_every_layout(gemm, dtype):
    """C- and F-ordered operands and a strided view, narrow and wide, as the layers pass
    them (x W_ihᵀ, D W_ih, Dᵀ U); (3200, 128, 3) on the own path: a dot product each."""
    from rnnlab._linalg import matmul

    rng = np.random.default_rng(0)
    for m, k, n in [(2000, 3, 400), (300, 130, 520), (1000, 200, 2), (3200, 128, 3), (77, 2100, 33),
                    (100, 64, 512)]:  # the last: B's rows padded (rnnlab.kernels._gemm.padded)
        x = rng.standard_normal((m, k)).astype(dtype)
        y = rng.standard_normal((n, k)).astype(dtype)
        for a, b in [(x, y.T), (x, np.ascontiguousarray(y.T)), (np.asfortranarray(x), y.T),
                     (x[:, ::1], y[:, ::-1].T)]:
            got = matmul(a, b)
            ref = a.astype(np.float64) @ b.astype(np.float64)
            assert got.shape == (m, n) and got.dtype == dtype
            tol = 1e-4 if dtype == np.float32 else 1e-12
            np.testing.assert_allclose(got, ref, rtol=0, atol=tol * np.abs(ref).max())


def test_the_own_products_bits_do_not_depend_on_the_threads(monkeypatch):
    """Rows split over one, two or three threads: the same bits (layers run serial or
    parallel by the clock, never changing a number)."""
    pytest.importorskip("numba")
    from rnnlab import _linalg
    from rnnlab.kernels import _threads
    from rnnlab.kernels._gemm import sgemm

    monkeypatch.setattr(_linalg, "_own_sgemm", lambda: sgemm)
    monkeypatch.setattr(_linalg, "MIN_SPLIT_MACS", 0)

    rng = np.random.default_rng(1)
    a = rng.standard_normal((1203, 300)).astype(np.float32)
    b = rng.standard_normal((300, 257)).astype(np.float32)
    d = rng.standard_normal((1203, 64)).astype(np.float32)
    results = []
    for n in (1, 2, 3):
        monkeypatch.setattr(_threads, "workers", lambda n=n: n)
        results.append((_linalg.matmul(a, b), _linalg.outer_sum(a, d)))
    for other in results[1:]:
        for x, y in zip(results[0], other):
            np.testing.assert_array_equal(x, y)


def test_only_large_products_are_split_over_the_threads(monkeypatch):
    """A product of under MIN_SPLIT_MACS multiply-adds runs as one block: a hand-off to
    another thread (~50 µs) costs more than it saves there."""
    pytest.importorskip("numba")
    from rnnlab import _linalg
    from rnnlab.kernels import _threads
    from rnnlab.kernels._gemm import sgemm

    monkeypatch.setattr(_linalg, "_own_sgemm", lambda: sgemm)
    monkeypatch.setattr(_threads, "workers", lambda: 2)
    blocks = []
    run = _threads.run_parallel
    monkeypatch.setattr(_threads, "run_parallel", lambda jobs: blocks.append(len(jobs)) or run(jobs))
    rng = np.random.default_rng(2)
    a, b = (rng.standard_normal(s).astype(np.float32) for s in ((256, 128), (128, 64)))
    for limit, want in ((a.size * b.shape[1] + 1, 1), (a.size * b.shape[1], 2)):
        monkeypatch.setattr(_linalg, "MIN_SPLIT_MACS", limit)
        np.testing.assert_allclose(_linalg.matmul(a, b), a @ b, rtol=1e-4, atol=1e-4)
        assert blocks.pop() == want


def test_numpys_products_run_on_one_blas_thread_beside_the_own_gemm(monkeypatch):
    """Where the own gemm runs the large products, the small and narrow float32 ones
    NumPy runs go on one BLAS thread (OpenBLAS's idle workers spin on the core the own
    gemm's other block needs); float64 ones, and all elsewhere, keep BLAS's threads."""
    from contextlib import contextmanager

    from rnnlab import _linalg
    from rnnlab.kernels import _threads

    asked = []

    @contextmanager
    def record(n):
        asked.append(n)
        yield

    monkeypatch.setattr(_threads, "blas_threads", record)
    a, b = np.ones((300, 40), np.float32), np.ones((40, 3), np.float32)  # 3 columns: NumPy's
    for own, want in ((lambda: object(), [1, 1]), (lambda: None, [])):
        monkeypatch.setattr(_linalg, "_own_sgemm", own)
        asked.clear()
        np.testing.assert_array_equal(_linalg.matmul(a, b), a @ b)
        np.testing.assert_array_equal(_linalg.outer_sum(a, np.ones((300, 3), np.float32)),
                                      a.T @ np.ones((300, 3), np.float32))
        _linalg.matmul(a.astype(np.float64), b.astype(np.float64))
        assert asked == want


def test_the_layers_products_go_to_the_own_gemm_only_beside_a_narrower_numpy_blas(
        monkeypatch):
    """The products of all steps run on the own gemm where the loops do and NumPy's BLAS
    does not run AVX-512 kernels itself; NumPy's otherwise."""
    pytest.importorskip("numba")
    from rnnlab import _linalg
    from rnnlab.kernels import _blas
    from rnnlab.kernels._gemm import sgemm

    monkeypatch.setenv("RNNLAB_FAST", "1")
    for backend, numpy_avx512, want in (("avx512", False, sgemm), ("avx512", True, None),
                                        ("openblas", False, None), ("mkl", True, None)):
        monkeypatch.setattr(_blas, "BACKEND", backend)
        monkeypatch.setattr(_blas, "numpy_blas_has_avx512", lambda v=numpy_avx512: v)
        assert _linalg._own_sgemm() is want, (backend, numpy_avx512)
    monkeypatch.setenv("RNNLAB_FAST", "0")
    monkeypatch.setattr(_blas, "numpy_blas_has_avx512", lambda: False)
    monkeypatch.setattr(_blas, "BACKEND", "avx512")
    assert _linalg._own_sgemm() is None  # the kernels are off


def test_numpy_blas_has_avx512_reads_openblas_core_type(monkeypatch):
    """OpenBLAS's AVX-512 core types count, its AVX2 ones (Haswell, Zen) do not, and a
    BLAS this cannot read is assumed to."""
    pytest.importorskip("numba")
    from types import SimpleNamespace

    from rnnlab.kernels import _blas

    cases = [(SimpleNamespace(internal_api="openblas", architecture=arch), want)
             for arch, want in (("Haswell", False), ("Zen", False), ("SkylakeX", True),
                                ("Cooperlake", True), ("SapphireRapids", True))]
    cases += [(SimpleNamespace(internal_api="mkl", architecture=None), True), (None, True)]
    for lib, want in cases:
        monkeypatch.setattr(_blas, "_numpy_blas", lambda lib=lib: lib)
        _blas.numpy_blas_has_avx512.cache_clear()
        assert _blas.numpy_blas_has_avx512() is want, lib
    _blas.numpy_blas_has_avx512.cache_clear()
