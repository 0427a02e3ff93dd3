"""The per-step matrix product of the compiled loops, `matmul_into(x, y, out)`: what
Numba's `np.dot(x, y, out)` does for C-contiguous 2-D arrays of one dtype (the same
BLAS calls, so the same bits: gemm, or gemv/dot when a side is a vector) without its
shape checks, whose typing and compilation took ~0.3 s of every cold start. The
callers (rnnlab.kernels.loops) allocate the buffers, so the shapes agree by
construction: x (m, k), y (k, n), out (m, n).

`matmul_nt_into(x, W, work, out)`: the same product x Wᵀ computed as (W xᵀ)ᵀ, which
OpenBLAS (0.3.30, Haswell kernels, the 2-core Zen 1 machine) runs 1.1-2.5× faster for
the LSTM's per-step products with 2 ≤ B ≤ H (rnnlab.kernels.loops.nt_form)."""

from __future__ import annotations

from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic
from numba.np import linalg
from numba.np.arrayobj import make_array


def _array(a, ndims: tuple = (2,), layouts: str = "C") -> bool:
    return isinstance(a, types.Array) and a.ndim in ndims and a.layout in layouts


@intrinsic
def matmul_into(typingctx, x, y, out):
    """out (m, n) = x (m, k) @ y (k, n), BLAS as Numba's np.dot(x, y, out); y may be
    the transpose of a C-contiguous matrix (Fortran order: BLAS reads it transposed),
    and out a flat buffer whose first m·n elements receive the product in C order (a
    reshape, which this spares, took 0.3 s to compile)."""
    if not (_array(x) and _array(y, (2,), "CF") and _array(out, (1, 2))
            and x.dtype == y.dtype == out.dtype):
        return None

    def codegen(context, builder, sig, args):
        linalg.ensure_blas()
        x_ty, y_ty, out_ty = sig.args
        xa, ya, oa = (make_array(t)(context, builder, a) for t, a in zip(sig.args, args))
        x_shape, y_shape = (cgutils.unpack_tuple(builder, a.shape) for a in (xa, ya))
        (m, k), n = x_shape, y_shape[1]
        out_shape, out_ty = (m, n), types.Array(out_ty.dtype, 2, "C")

        def eq(a, v):
            return builder.icmp_signed("==", a, context.get_constant(types.intp, v))

        empty = builder.or_(eq(k, 0), builder.or_(eq(m, 0), eq(n, 0)))
        with builder.if_else(empty, likely=False) as (is_empty, not_empty):
            with is_empty:
                cgutils.memset(builder, oa.data, builder.mul(oa.itemsize, builder.mul(m, n)), 0)
            with not_empty, builder.if_else(eq(n, 1)) as (y_vector, y_matrix):
                with y_vector, builder.if_else(eq(m, 1)) as (x_vector, x_matrix):
                    with x_vector:
                        linalg.call_xxdot(context, builder, False, x_ty.dtype, k, xa.data,
                                          ya.data, oa.data)
                    with x_matrix:
                        linalg.call_xxgemv(context, builder, True, x_ty, x_shape, xa.data,
                                           ya.data, oa.data)
                with y_matrix, builder.if_else(eq(m, 1)) as (x_vector, x_matrix):
                    with x_vector:
                        linalg.call_xxgemv(context, builder, y_ty.layout == "F", y_ty, y_shape,
                                           ya.data, xa.data, oa.data)
                    with x_matrix:
                        linalg.call_xxgemm(context, builder, x_ty, x_shape, xa.data, y_ty,
                                           y_shape, ya.data, out_ty, out_shape, oa.data)
        return context.get_dummy_value()

    return types.none(x, y, out), codegen


@njit(cache=True, nogil=True, error_model="numpy")
def matmul_nt_into(x, W, work, out):
    """out (m, n) = x (m, k) @ Wᵀ for W (n, k), computed as (W xᵀ)ᵀ: the product into
    work (at least n·m elements) as W (n, k) @ xᵀ (k, m), then transposed into out.
    For the per-step product of a time loop (m = batch rows, n = G·H or H) OpenBLAS
    runs this form 15-50 % faster than x @ Wᵀ with Wᵀ stored (benchmarks/README.md,
    issue 16 round three): the large operand on the left."""
    m, n = out.shape
    matmul_into(W, x.T, work)  # (n, m) in C order
    for b in range(m):
        for g in range(n):
            out[b, g] = work[g * m + b]
