"""The per-step matrix product of the compiled loops, `matmul_into(x, y, out)`: what
Numba's `np.dot(x, y, out)` does for C-contiguous 2-D arrays of one dtype (gemm, or
gemv/dot when a side is a vector) without its shape checks, whose typing and
compilation took ~0.3 s of every cold start. The callers (rnnlab.kernels.loops)
allocate the buffers, so the shapes agree by construction: x (m, k), y (k, n), out
(m, n); y may also be a view with contiguous rows further apart (rnnlab.kernels._gemm.
padded), read by gemm with its row stride.

The vector cases go through Numba's own gemv/dot (SciPy's BLAS): gemm with one row
was 3-5x slower. The gemm goes through two symbols, `rnnlab_sgemm` and
`rnnlab_dgemm` (the Fortran interface), bound when this module is imported to the
BLAS that RNNLAB_BLAS names:

    openblas   NumPy's own (the OpenBLAS its wheels bundle, which runs NumPy's products
               outside the loops), else SciPy's (the one Numba's np.dot calls)
    mkl        Intel MKL's (`pip install rnnlab[mkl]`), sequential unless the user sets
               MKL_THREADING_LAYER
    avx512     rnnlab's own float32 gemm (rnnlab.kernels._gemm) on a CPU with AVX-512;
               the float64 one as openblas
    auto       avx512 where the CPU has it, else mkl where it is installed, else
               openblas (the default)

NumPy's and SciPy's wheels bundle different OpenBLAS builds (NumPy 2.4: 0.3.31, SciPy
1.17: 0.3.30); on an AVX-512 Zen 5 core NumPy's ran the loops' products 7-50 % faster
(`benchmarks/README.md`, issue 16, fifth session). Its gemm takes 64-bit integers
(ILP64) where SciPy's and MKL's `sgemm` take 32-bit ones (LP64): the call passes every
integer in a 64-bit slot, which an LP64 gemm reads as its low half on a little-endian
machine, so the compiled code (and Numba's cache of it) is the same for every backend:
only the address differs. MKL pays on some machines only: at one thread on a Zen 1
core it ran the loops' products 8-37 % faster than SciPy's OpenBLAS, on a Zen 5 core
15-30 % slower than NumPy's. On that Zen 5 core, whose OpenBLAS the environment holds
to AVX2, rnnlab's own AVX-512 gemm ran them 1.5-2.4x faster than NumPy's (its module
docstring); with it, the layers' products of all steps run on it too (rnnlab._linalg),
otherwise on NumPy's BLAS.
"""

from __future__ import annotations

import ctypes
import os
import sys
import warnings
from functools import cache
from pathlib import Path

from llvmlite import binding as ll
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import get_cython_function_address, intrinsic
from numba.np import linalg
from numba.np.arrayobj import make_array

BLAS_VAR = "RNNLAB_BLAS"
BACKENDS = ("auto", "openblas", "mkl", "avx512")
_MKL_NAMES = ("libmkl_rt.so.3", "libmkl_rt.so.2", "libmkl_rt.so", "libmkl_rt.dylib",
              "mkl_rt.2.dll", "mkl_rt.dll")
_MKL_THREADING_SEQUENTIAL = 1


def _load_mkl():
    """MKL's runtime library from the environment's lib folder or the loader's path, or
    None. Loaded here first, it runs sequentially (the loops' products are small and the
    loops do their own threading) unless MKL_THREADING_LAYER says otherwise; loaded
    already (NumPy built on MKL), it is left as is."""
    for name in _MKL_NAMES:
        for path in (Path(sys.prefix) / "lib" / name, Path(name)):
            try:
                ctypes.CDLL(str(path), mode=os.RTLD_NOLOAD)
                return ctypes.CDLL(str(path))  # already in the process
            except (OSError, AttributeError):
                pass
            try:
                lib = ctypes.CDLL(str(path))
            except OSError:
                continue
            if "MKL_THREADING_LAYER" not in os.environ:
                lib.MKL_Set_Threading_Layer(ctypes.c_int(_MKL_THREADING_SEQUENTIAL))
            return lib
    return None


def _gemm_addresses(dll, name: str) -> dict:
    """{'s': address, 'd': address} of the gemm named name.format('s' or 'd') in dll."""
    return {kind: ctypes.cast(getattr(dll, name.format(kind)), ctypes.c_void_p).value
            for kind in "sd"}


# gemm's names in NumPy's bundled OpenBLAS: scipy-openblas64 (NumPy 2), openblas64_ (1.x)
_NUMPY_GEMM = ("scipy_{}gemm_64_", "{}gemm_64_")


def _numpy_blas():
    """threadpoolctl's controller of the BLAS NumPy's wheels bundle, or None (NumPy built
    on another BLAS)."""
    import numpy as np
    from threadpoolctl import ThreadpoolController

    home = Path(np.__file__).resolve().parent
    bundled = (home.parent / "numpy.libs", home / ".dylibs")  # Linux and Windows, macOS
    for lib in ThreadpoolController().lib_controllers:
        if lib.user_api == "blas" and Path(lib.filepath).resolve().parent in bundled:
            return lib
    return None


def _numpy_gemm() -> dict | None:
    """{'s': address, 'd': address} of the gemm in the BLAS NumPy's wheels bundle, or None
    (NumPy built on another BLAS, or a name not known here)."""
    lib = _numpy_blas()
    if lib is None:
        return None
    dll = ctypes.CDLL(str(Path(lib.filepath).resolve()))
    for name in _NUMPY_GEMM:
        if all(hasattr(dll, name.format(kind)) for kind in "sd"):
            return _gemm_addresses(dll, name)
    return None


_AVX512_CORES = ("skylakex", "cooperlake", "sapphirerapids")  # OpenBLAS's AVX-512 kernels


@cache
def numpy_blas_has_avx512() -> bool:
    """Whether NumPy's own products run AVX-512 kernels: its bundled OpenBLAS on one of
    those core types, or a BLAS not known here (MKL and others: assumed to). With them,
    NumPy's large products matched or beat the own gemm (Zen 5, OPENBLAS_CORETYPE=
    SkylakeX: X W_ihᵀ 250 against 172 GFLOP/s, Dᵀ U 235 against 205), so rnnlab._linalg
    leaves them to NumPy; the loops' per-step products stay on the own gemm, which does
    not re-pack W_hh (50 × 512 × 2048: 246 against 142)."""
    lib = _numpy_blas()
    if lib is None or lib.internal_api != "openblas":
        return True
    return any(core in str(getattr(lib, "architecture", "")).lower() for core in _AVX512_CORES)


def _own_sgemm_address(asked: str) -> int | None:
    """The address of rnnlab's own sgemm (compiled or loaded from Numba's cache), or None
    where it does not compile on this Numba and LLVM: for auto a RuntimeWarning and the
    BLAS instead; asked for by name, an ImportError in one line."""
    from rnnlab.kernels._gemm import fortran_sgemm

    try:
        return fortran_sgemm().address
    except Exception as e:  # noqa: BLE001 - any failure of a compiler we do not control
        why = f"rnnlab's AVX-512 gemm did not compile here ({type(e).__name__}: {e})"
        if asked == "avx512":
            raise ImportError(f"{BLAS_VAR}=avx512: {why}; use auto, openblas or mkl") from None
        warnings.warn(f"{why}; the loops use the BLAS instead", RuntimeWarning, stacklevel=3)
        return None


def _bind() -> str:
    """Bind rnnlab_sgemm / rnnlab_dgemm to the backend RNNLAB_BLAS asks for; its name."""
    asked = os.environ.get(BLAS_VAR, "auto").strip().lower() or "auto"
    if asked not in BACKENDS:
        raise ValueError(f"{BLAS_VAR}: expected one of {', '.join(BACKENDS)}, got {asked!r}")
    if sys.byteorder != "little":  # the 64-bit integer slots of _call_gemm
        raise ImportError("rnnlab.kernels: the compiled loops need a little-endian machine; "
                          "set RNNLAB_FAST=0 to run the NumPy reference instead")
    from rnnlab.kernels._gemm import has_avx512

    if asked == "avx512" and not has_avx512():
        raise ValueError(f"{BLAS_VAR}=avx512: this CPU has no AVX-512 (avx512f); "
                         "use auto, openblas or mkl")
    own = _own_sgemm_address(asked) if asked == "avx512" or (
        asked == "auto" and has_avx512()) else None
    mkl = _load_mkl() if asked == "mkl" or (asked == "auto" and own is None) else None
    if asked == "mkl" and mkl is None:
        raise ValueError(f"{BLAS_VAR}=mkl: MKL's runtime library (libmkl_rt) was not found; "
                         "install it with `pip install rnnlab[mkl]`")
    if mkl is not None:
        gemm = _gemm_addresses(mkl, "{}gemm")
    else:
        gemm = _numpy_gemm() or {kind: get_cython_function_address(
            "scipy.linalg.cython_blas", f"{kind}gemm") for kind in "sd"}
    if own is not None:
        gemm["s"] = own
    for kind, address in gemm.items():
        ll.add_symbol(f"rnnlab_{kind}gemm", address)
    return "avx512" if own is not None else "mkl" if mkl is not None else "openblas"


BACKEND = _bind()  # the loops' float32 gemm: 'avx512', 'mkl' or 'openblas'


def _call_gemm(context, builder, dtype, m, n, k, x, y, ldy, out, y_flag="N"):
    """out (m, n) = x (m, k) @ y (k, n), x and out C-contiguous, y's rows contiguous and
    ldy apart, as the column-major out^T = y^T x^T: Fortran gemm('N', 'N', n, m, k, 1,
    y, ldy, x, k, 0, out, n, 1, 1) (the last two: the lengths of the strings 'N', which
    Fortran passes hidden). The integers are 64-bit (see the module docstring). y_flag
    'P': y in the own gemm's panels (rnnlab.kernels._gemm.panels), ldy unused."""
    real = context.get_value_type(dtype)
    ptr, i64 = real.as_pointer(), ir.IntType(64)
    i64p, charp = i64.as_pointer(), ir.IntType(8).as_pointer()
    fnty = ir.FunctionType(ir.VoidType(), [charp, charp, i64p, i64p, i64p, ptr, ptr, i64p,
                                           ptr, i64p, ptr, ptr, i64p, i64, i64])
    name = "rnnlab_sgemm" if dtype == types.float32 else "rnnlab_dgemm"
    fn = cgutils.get_or_insert_function(builder.module, fnty, name)

    def slot(value):
        return cgutils.alloca_once_value(builder, value)

    no, flag = (slot(ir.Constant(ir.IntType(8), ord(c))) for c in ("N", y_flag))
    m64, n64, k64, ldy64 = (slot(builder.sext(v, i64) if v.type.width < 64 else v)
                            for v in (m, n, k, ldy))
    one, zero = slot(ir.Constant(real, 1.0)), slot(ir.Constant(real, 0.0))
    length = ir.Constant(i64, 1)
    builder.call(fn, [flag, no, n64, m64, k64, one, builder.bitcast(y, ptr), ldy64,
                      builder.bitcast(x, ptr), k64, zero, builder.bitcast(out, ptr), n64,
                      length, length])


def _matrix(a, layouts: str = "C") -> bool:
    return isinstance(a, types.Array) and a.ndim == 2 and a.layout in layouts


def _panels(a) -> bool:
    return (isinstance(a, types.Array) and a.ndim == 3 and a.layout == "C"
            and a.dtype == types.float32)


@intrinsic
def matmul_into(typingctx, x, y, out):
    """out (m, n) = x (m, k) @ y (k, n), BLAS as Numba's np.dot(x, y, out). y may be a
    view whose rows are contiguous but further apart (rnnlab.kernels._gemm.padded; its
    layout 'A'): then gemm whatever the shapes; or, on the own gemm (RNNLAB_BLAS=avx512)
    only, float32 column panels (rnnlab.kernels._gemm.panels, 3-D), n = out's columns."""
    if not (_matrix(x) and (_matrix(y, "CA") or _panels(y)) and _matrix(out) and
            x.dtype == y.dtype == out.dtype):
        return None

    def codegen(context, builder, sig, args):
        linalg.ensure_blas()
        x_ty, y_ty, _ = sig.args
        xa, ya, oa = (make_array(t)(context, builder, a) for t, a in zip(sig.args, args))
        x_shape, y_shape = (cgutils.unpack_tuple(builder, a.shape) for a in (xa, ya))
        (m, k), n = x_shape, y_shape[-1]
        if y_ty.ndim == 3:
            n = cgutils.unpack_tuple(builder, oa.shape)[1]
            _call_gemm(context, builder, x_ty.dtype, m, n, k, xa.data, ya.data, k, oa.data, "P")
            return context.get_dummy_value()
        if y_ty.layout == "A":
            ldy = builder.sdiv(cgutils.unpack_tuple(builder, ya.strides)[0], ya.itemsize)
            _call_gemm(context, builder, x_ty.dtype, m, n, k, xa.data, ya.data, ldy, oa.data)
            return context.get_dummy_value()
        ldy = n

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
                        _call_gemm(context, builder, x_ty.dtype, m, n, k, xa.data, ya.data,
                                   ldy, oa.data)
        return context.get_dummy_value()

    return types.none(x, y, out), codegen
