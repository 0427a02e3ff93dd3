"""The layers' whole-sequence products: `matmul` (the input projection of all steps,
the input error) and `outer_sum`, Σ_r a_rᵀ b_r (the weight gradients).

Where the kernels run on rnnlab's own float32 gemm (RNNLAB_BLAS=avx512, the default
on a CPU with AVX-512: rnnlab.kernels._blas) and NumPy's BLAS runs narrower vectors
(`numpy_blas_has_avx512` there), these products do too, their rows split over the
threads a layer may use when they reach MIN_SPLIT_MACS (each row's bits the same
however they are split; a hand-off to the thread pool costs ~50 µs, and products of
13 million multiply-adds ran ~10 % slower split):
on the Zen 5 machine whose OpenBLAS runs AVX2 kernels, one thread, T·B = 2,500,
H = 512, GFLOP/s against NumPy's: dX = D W_ih 260/129, ∂L/∂W_hh = Dᵀ U 214/129,
X W_ihᵀ 171/131 (`benchmarks/README.md`, issue 16, sixth session); a product with at
most MAX_DOT_COLS columns (the input error of a layer with a few inputs) as a dot
product per element (`narrow_matmul` there: half NumPy's time at 2-3 columns).
Otherwise NumPy's.

A layer's weight gradients are sums of outer products over every step and sequence:
∂L/∂W_hh = Σ_{t,b} δ_{t,b} h_{t-1,b}ᵀ = Dᵀ U with D (T·B, G·H) and U (T·B, H), a
product with a long inner dimension. OpenBLAS's float32 GEMM (0.3.30, Haswell
kernels, this project's 2-core EPYC) is slow on that shape: with T·B = 2,520 and
G·H = H = 50 it took 1.0 ms against 0.57 ms as five products of 512 rows summed;
with 40,000 rows (HF's curvature batch at T = 200) 18.3 ms against 10.5 ms. It did
not pay for float64, for fewer rows, or when a side is narrow (under 32 columns):
then one product.
"""

from __future__ import annotations

from functools import partial

import numpy as np

BLOCK = 512  # rows per product of the summed form
MIN_ROWS = 4 * BLOCK
MIN_COLS = 32
CLOSE_FILL = 0.9  # outer_sum: a column fill this good is as fast as a full one
MAX_DOT_COLS = 4  # products this narrow: rnnlab.kernels._gemm.narrow_matmul
MIN_OWN_MACS = 1 << 20  # smaller products: NumPy's (a call into the own gemm costs ~µs)
MIN_SPLIT_MACS = 1 << 25  # smaller products run on one thread (a hand-off costs ~50 µs)
ROW_ALIGN = 8  # the own gemm's tile height: thread blocks start at its multiples


def _own_sgemm():
    """rnnlab.kernels._gemm.sgemm where the kernels are on and run on it and NumPy's BLAS
    runs narrower vectors (rnnlab.kernels._blas.numpy_blas_has_avx512), else None."""
    from rnnlab.kernels import use_fast

    if not use_fast():
        return None
    from rnnlab.kernels._blas import BACKEND, numpy_blas_has_avx512

    if BACKEND != "avx512" or numpy_blas_has_avx512():
        return None
    from rnnlab.kernels._gemm import sgemm

    return sgemm


def _flat(a: np.ndarray) -> tuple:
    """(flat array, row stride, column stride) of a 2-D array, copied if neither C nor F."""
    if not (a.flags.c_contiguous or a.flags.f_contiguous):
        a = np.ascontiguousarray(a)
    if a.flags.c_contiguous:
        return a.reshape(-1), a.shape[1], 1
    return a.T.reshape(-1), 1, a.shape[0]


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a (m, k) @ b (k, n): on the own float32 gemm (module docstring), rows in blocks on
    the threads of rnnlab.kernels._threads.workers(), else NumPy's."""
    (m, k), n = a.shape, b.shape[1]
    sgemm = _own_sgemm() if a.dtype == b.dtype == np.float32 else None
    if sgemm is None or m * k * n < MIN_OWN_MACS:
        return _numpy_product(a, b, sgemm is not None)
    if n <= MAX_DOT_COLS:  # a few columns: a dot product each
        from rnnlab.kernels._gemm import narrow_matmul

        out = np.empty((m, n), np.float32)
        narrow_matmul(np.ascontiguousarray(a), np.ascontiguousarray(b.T), out)
        return out
    if n < MIN_COLS:  # narrow: NumPy's is faster than the tiles' 16 columns
        return _numpy_product(a, b, True)
    from rnnlab.kernels._gemm import padded
    from rnnlab.kernels._threads import run_parallel, workers

    A, sa_i, sa_p = _flat(a)
    B = padded(b)  # unit column stride: read where it lies
    ldb = B.strides[0] // 4
    out = np.empty((m, n), np.float32)
    C = out.reshape(-1)
    blocks = workers() if m * k * n >= MIN_SPLIT_MACS else 1
    step = -(-m // (blocks * ROW_ALIGN)) * ROW_ALIGN
    run_parallel([partial(sgemm, min(step, m - i), n, k, 1.0, A[i * sa_i :], sa_i, sa_p, B, ldb,
                          1, 0.0, C[i * n :], n) for i in range(0, m, step)])
    return out


def _numpy_product(a: np.ndarray, b: np.ndarray, beside_own: bool) -> np.ndarray:
    """a @ b; on one BLAS thread when beside_own (a float32 product where the own gemm
    runs the large ones). OpenBLAS's workers keep spinning for a while after a threaded
    call, on the core the own gemm's second block needs: training a char-LM, every large
    product ran at half speed on two threads (185 against 390 GFLOP/s) after the
    readout's products had woken them. float64 work never meets the own gemm and keeps
    BLAS's threads."""
    if not beside_own:
        return a @ b
    from rnnlab.kernels._threads import blas_threads

    with blas_threads(1):
        return a @ b


def outer_sum(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a (..., m), b (..., n) with the same leading axes -> Σ over them of a_rᵀ b_r (m, n)."""
    a2, b2 = a.reshape(-1, a.shape[-1]), b.reshape(-1, b.shape[-1])  # (R, m), (R, n)
    R, (m, n) = len(a2), (a2.shape[1], b2.shape[1])
    own = a2.dtype == b2.dtype == np.float32 and _own_sgemm() is not None
    if own and max(m, n) >= MIN_COLS:
        from rnnlab.kernels._gemm import column_fill, pads

        # the wide side as the columns where one is narrow (its few row tiles reuse every
        # panel: ∂L/∂W_ih with 2-8 inputs 1.4-1.9x NumPy's), else the side that fills the
        # tiles' 32 columns better, unless it would be copied with padded rows (a row of
        # a multiple of 2 KiB) and the other fills them nearly as well (CLOSE_FILL):
        # medium's D (12,800 × 1,024) copied took 52 MiB more at the step's peak, for the
        # same speed
        if min(m, n) < MIN_COLS:
            swap = m > n
        else:
            swap = column_fill(m) > column_fill(n) and not (
                pads(m * a2.itemsize) and column_fill(n) >= CLOSE_FILL)
        if swap:
            return np.ascontiguousarray(matmul(b2.T, a2).T)
        return matmul(a2.T, b2)
    if a2.dtype != np.float32 or b2.dtype != np.float32 or R < MIN_ROWS or min(m, n) < MIN_COLS:
        return _numpy_product(a2.T, b2, own)
    out = a2[:BLOCK].T @ b2[:BLOCK]
    for r in range(BLOCK, R, BLOCK):
        out += a2[r : r + BLOCK].T @ b2[r : r + BLOCK]
    return out
