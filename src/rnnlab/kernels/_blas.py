"""The per-step matrix product of the compiled loops, `matmul_into(x, y, out)`: what
Numba's `np.dot(x, y, out)` does for C-contiguous 2-D arrays of one dtype (the same
BLAS calls, so the same bits: gemm, or gemv/dot when a side is a vector) without its
shape checks, whose typing and compilation took ~0.3 s of every cold start. The
callers (rnnlab.kernels.loops) allocate the buffers, so the shapes agree by
construction: x (m, k), y (k, n), out (m, n)."""

from __future__ import annotations

from numba import types
from numba.core import cgutils
from numba.extending import intrinsic
from numba.np import linalg
from numba.np.arrayobj import make_array


def _c_matrix(a) -> bool:
    return isinstance(a, types.Array) and a.ndim == 2 and a.layout == "C"


@intrinsic
def matmul_into(typingctx, x, y, out):
    """out (m, n) = x (m, k) @ y (k, n), BLAS as Numba's np.dot(x, y, out)."""
    if not (all(map(_c_matrix, (x, y, out))) and x.dtype == y.dtype == out.dtype):
        return None

    def codegen(context, builder, sig, args):
        linalg.ensure_blas()
        x_ty, y_ty, out_ty = sig.args
        xa, ya, oa = (make_array(t)(context, builder, a) for t, a in zip(sig.args, args))
        x_shape, y_shape, out_shape = (cgutils.unpack_tuple(builder, a.shape)
                                       for a in (xa, ya, oa))
        (m, k), n = x_shape, y_shape[1]

        def eq(a, v):
            return builder.icmp_signed("==", a, context.get_constant(types.intp, v))

        empty = builder.or_(eq(k, 0), builder.or_(eq(m, 0), eq(n, 0)))
        with builder.if_else(empty, likely=False) as (is_empty, not_empty):
            with is_empty:
                cgutils.memset(builder, oa.data, builder.mul(oa.itemsize, oa.nitems), 0)
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
                        linalg.call_xxgemv(context, builder, False, y_ty, y_shape, ya.data,
                                           xa.data, oa.data)
                    with x_matrix:
                        linalg.call_xxgemm(context, builder, x_ty, x_shape, xa.data, y_ty,
                                           y_shape, ya.data, out_ty, out_shape, oa.data)
        return context.get_dummy_value()

    return types.none(x, y, out), codegen
