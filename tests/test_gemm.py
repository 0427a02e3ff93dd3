"""rnnlab's own float32 GEMM (rnnlab.kernels._gemm): the product to rounding on every
edge (rows, columns, k across packed blocks, row blocks), transposes, alpha and beta, nothing
written outside C, and a row's bits independent of the rows around it. It runs on any
CPU (slower without AVX-512), so these run everywhere."""

from __future__ import annotations

import ctypes

import numpy as np
import pytest

pytest.importorskip("numba")

from rnnlab.kernels import _gemm
from rnnlab.kernels._gemm import KC, MC, MR, NR, fortran_sgemm, narrow_matmul, panels, sgemm

SHAPES = [(1, 1, 1), (7, 13, 52), (8, 32, 32), (9, 31, 33), (20, 100, 400), (50, 16, 17),
          (13, 77, 301), (3, KC + 5, 48), (64, 2 * KC + 1, 15), (5, 0, 40),
          (2 * MC + 11, KC + 9, 70)]


def _operands(rng, m, k, n, trans_a, trans_b):
    """x (m, k), y (k, n) and the flat arrays and strides sgemm reads them through."""
    x = rng.standard_normal((m, k)).astype(np.float32)
    y = rng.standard_normal((k, n)).astype(np.float32)
    a = np.ascontiguousarray(x.T) if trans_a else x  # stored transposed: A[i, p] = a[p, i]
    b = np.ascontiguousarray(y.T) if trans_b else y
    sa = (1, m) if trans_a else (k, 1)
    sb = (1, k) if trans_b else (n, 1)
    return x, y, a.reshape(-1), sa, b.reshape(-1), sb


@pytest.mark.parametrize("trans_a", [False, True], ids=["A", "At"])
@pytest.mark.parametrize("trans_b", [False, True], ids=["B", "Bt"])
@pytest.mark.parametrize("alpha, beta", [(1.0, 0.0), (1.0, 1.0), (0.5, -0.5), (0.0, 2.0)])
def test_sgemm_is_the_product_on_every_edge(trans_a, trans_b, alpha, beta):
    rng = np.random.default_rng(0)
    for m, k, n in SHAPES:
        x, y, a, sa, b, sb = _operands(rng, m, k, n, trans_a, trans_b)
        ldc = n + 3  # C's row stride: the 3 columns past n must stay as they were
        c0 = rng.standard_normal((m, ldc)).astype(np.float32)
        if beta == 0.0:
            c0[:, :n] = np.nan  # not read
        c = c0.copy()
        sgemm(m, n, k, alpha, a, *sa, b, *sb, beta, c.reshape(-1), ldc)
        want = alpha * (x.astype(np.float64) @ y) + (beta * c0[:, :n] if beta else 0.0)
        np.testing.assert_allclose(c[:, :n], want, rtol=0, atol=1e-5 * max(k, 1),
                                   err_msg=str((m, k, n)))
        np.testing.assert_array_equal(c[:, n:], c0[:, n:])


def test_a_rows_bits_do_not_depend_on_the_rows_around_it():
    """The threaded loops run row blocks on their own: any block of rows gives the bits
    the whole product gives them (every tile height, direct and packed panels)."""
    rng = np.random.default_rng(1)
    for m, k, n in [(23, 100, 400), (19, KC + 40, 70), (11, 64, 2 * NR + 5)]:
        x, _, a, sa, b, sb = _operands(rng, m, k, n, False, False)
        whole = np.empty((m, n), np.float32)
        sgemm(m, n, k, 1.0, a, *sa, b, *sb, 0.0, whole.reshape(-1), n)
        for i0, i1 in [(0, 1), (1, 3), (3, 3 + MR), (5, m), (m - 1, m)]:
            part = np.empty((i1 - i0, n), np.float32)
            sgemm(i1 - i0, n, k, 1.0, x[i0:i1].reshape(-1), *sa, b, *sb, 0.0, part.reshape(-1), n)
            np.testing.assert_array_equal(part, whole[i0:i1], err_msg=str((m, k, n, i0, i1)))


def test_fortran_sgemm_is_blas_sgemm_with_64_bit_integers():
    """The symbol the loops call: column-major C = alpha op(A) op(B) + beta C, with each
    transpose flag, as BLAS defines it."""
    call = _fortran_call()

    def ref(v, kind):
        return ctypes.byref(kind(v))

    rng = np.random.default_rng(2)
    M, N, K, alpha, beta = 37, 21, 45, 0.75, 0.5
    for ta in "NTt":
        for tb in "NTc":
            a = rng.standard_normal((M, K) if ta == "N" else (K, M)).astype(np.float32)
            b = rng.standard_normal((K, N) if tb == "N" else (N, K)).astype(np.float32)
            fa, fb = np.asfortranarray(a), np.asfortranarray(b)
            c = np.asfortranarray(rng.standard_normal((M, N)).astype(np.float32))
            want = alpha * ((a if ta == "N" else a.T).astype(np.float64)
                            @ (b if tb == "N" else b.T)) + beta * c
            call(ta.encode(), tb.encode(), ref(M, ctypes.c_int64), ref(N, ctypes.c_int64),
                 ref(K, ctypes.c_int64), ref(alpha, ctypes.c_float), fa.ctypes.data,
                 ref(fa.shape[0], ctypes.c_int64), fb.ctypes.data, ref(fb.shape[0], ctypes.c_int64),
                 ref(beta, ctypes.c_float), c.ctypes.data, ref(M, ctypes.c_int64), 1, 1)
            np.testing.assert_allclose(c, want, rtol=0, atol=1e-4, err_msg=ta + tb)


def test_large_transposed_arrays_are_copied_exactly():
    """contiguous() and padded() copy a large transposed array by blocks (and convert
    or copy anything else as NumPy does): the same values, C-ordered rows."""
    rng = np.random.default_rng(7)
    for dtype in (np.float32, np.float64):
        a = rng.standard_normal((300, 700)).astype(dtype).T  # (700, 300), F-ordered
        for out in (_gemm.contiguous(a), _gemm.contiguous(a, np.float32), _gemm.padded(a)):
            assert out.strides[1] == out.itemsize
            np.testing.assert_array_equal(out, a.astype(out.dtype))
        a512 = rng.standard_normal((512, 700)).astype(dtype).T  # rows of 2 KiB or 4 KiB
        got = _gemm.padded(a512)
        assert not got.flags.c_contiguous  # padded rows
        np.testing.assert_array_equal(got, a512)


def _fortran_call():
    i64, f32 = ctypes.POINTER(ctypes.c_int64), ctypes.POINTER(ctypes.c_float)
    ptr = ctypes.c_void_p
    return ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_char_p, i64, i64, i64, f32, ptr,
                            i64, ptr, i64, f32, ptr, i64, ctypes.c_int64, ctypes.c_int64)(
        fortran_sgemm().address)


def test_panels_lay_out_the_columns_in_panels():
    rng = np.random.default_rng(3)
    for k, n in [(1, 1), (5, 31), (7, NR), (40, 2 * NR + 3)]:
        y = rng.standard_normal((k, n)).astype(np.float32)
        for source in (y, np.asfortranarray(y), np.ascontiguousarray(y.T).T):
            got = panels(source)
            assert got.shape == (-(-n // NR), k, NR) and got.dtype == np.float32
            flat = got.transpose(1, 0, 2).reshape(k, -1)  # (k, panels · NR)
            np.testing.assert_array_equal(flat[:, :n], y)
            assert not flat[:, n:].any()


@pytest.mark.parametrize("alpha, beta", [(1.0, 0.0), (0.5, -0.5)])
def test_a_product_with_b_in_panels_has_the_bits_of_b_in_rows(alpha, beta):
    """The loops' W_hh in panels ('P' in the Fortran call): every element the same bits
    as the product reading B's rows in place, on every edge, alpha and beta too."""
    call = _fortran_call()
    rng = np.random.default_rng(4)

    def ref(v, kind=ctypes.c_int64):
        return ctypes.byref(kind(v))

    for m, k, n in SHAPES:
        x = rng.standard_normal((m, k)).astype(np.float32)
        y = rng.standard_normal((k, n)).astype(np.float32)
        c0 = rng.standard_normal((m, n)).astype(np.float32)
        want, got, yp = c0.copy(), c0.copy(), panels(y)  # yp held: the call reads it
        sgemm(m, n, k, alpha, x.reshape(-1), k, 1, y.reshape(-1), n, 1, beta, want.reshape(-1),
              n)
        call(b"P", b"N", ref(n), ref(m), ref(k), ref(alpha, ctypes.c_float), yp.ctypes.data,
             ref(k), x.ctypes.data, ref(max(k, 1)), ref(beta, ctypes.c_float), got.ctypes.data,
             ref(n), 1, 1)
        np.testing.assert_array_equal(got, want, err_msg=str((m, k, n)))


@pytest.mark.parametrize("m,k,n", [(1, 1, 1), (37, 5, 2), (200, 128, 3), (64, 333, 4)])
def test_narrow_matmul_is_the_product(m, k, n):
    """The dot-product kernel for a few columns: each element within float32's rounding
    of the float64 product, whatever k's remainder past the vectors."""
    rng = np.random.default_rng(m + k + n)
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    out = np.full((m, n), np.nan, np.float32)
    narrow_matmul(a, np.ascontiguousarray(b.T), out)
    ref = a.astype(np.float64) @ b.astype(np.float64)
    bound = 4 * np.finfo(np.float32).eps * k * (np.abs(a) @ np.abs(b))
    assert np.all(np.abs(out - ref) <= bound)


def test_no_avx512_where_llvm_cannot_tell(monkeypatch):
    """A host whose features LLVM cannot read gets the BLAS, not the own gemm."""
    from rnnlab.kernels import _gemm

    def unreadable():
        raise RuntimeError("failed to get host cpu features")

    monkeypatch.setattr(_gemm.ll, "get_host_cpu_features", unreadable)
    assert _gemm.has_avx512() is False
    monkeypatch.setattr(_gemm.ll, "get_host_cpu_features", lambda: {"avx512f": True})
    assert _gemm.has_avx512() is True
