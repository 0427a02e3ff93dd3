"""Scalar functions and per-step bookkeeping shared by the compiled kernels.

`tanh(like, x)` and `sigmoid(like, x)` pick their formula by the dtype of the array
`like` (the buffer they compute for). Both are made only of arithmetic (and one
bit cast), so that LLVM vectorises the loops around them; libm's calls do not
vectorise without SVML and cost ~25 ns each:

- float32: a rational approximation of tanh (the minimax 13/6 form Eigen uses for
  float), accurate to a few float32 ulps, in float32 arithmetic; σ(x) = (1 + tanh(x/2)) / 2.
- float64: e^x - 1 from x = k ln2 + r (Cody–Waite), e^r - 1 by its Taylor series to
  r^14 (|r| ≤ ln2/2, truncation < 1e-17) and 2^k from its bits; tanh(x) = m / (m + 2)
  with m = e^(2x) - 1, σ(x) = 1 / (1 + e^-x); within ~2 ulps of libm.

Compile time (a first command compiles what it runs, benchmarks/README.md, cold
start): `tanh` and `sigmoid` are overloads compiled once per dtype and linked into
every kernel that calls them (LLVM inlines them there); Numba's IR-level inlining
(`inline="always"`) re-types a function at every call site, so it is kept for
functions called once per kernel or overload. No kernel assigns an array to an array slice: Numba's
version compiles a shape check whose error message took seconds to compile; the
loops of `copy_row` do the same.

PAST THE END: a forward loop stops writing a sequence's states after its last step
(rnnlab.kernels.loops.hold_past_ends copies its last state into the steps after, once,
after the loop; the per-step products read zeros there meanwhile), and the LSTM's
BPTT writes each step's ∂L/∂h_{t-1} for all rows, a sequence taking ∂L/∂h_T at its
last step: copying rows per step, in loops of their own, took ~0.5 s of the LSTM's
compile time.

KEEP: the BPTT loops record ∂L/∂h_t in total (for rnnlab.diagnostics) in an array
dH, or nothing when dH is None: Numba compiles a version per argument type and
prunes the branches on `dH is not None` from the other, so a run that never asks
does not compile the recording (~0.3 s of the LSTM's BPTT).

ROWS: every time loop takes the range b0:b1 of the batch it runs. The sequences of a
batch never meet inside a recurrent layer, so disjoint ranges of one batch can run on
threads at once (the loops release the GIL), each writing only its own rows.
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic, overload

# Eigen's float tanh: x P(x²) / Q(x²) on [-c, c], ±1 beyond; error ≲ 3e-7.
_C = np.float32(7.90531110763549805)  # |tanh(x)| rounds to 1 in float32 beyond this
_P = tuple(np.float32(v) for v in (-2.76076847742355e-16, 2.00018790482477e-13,
                                    -8.60467152213735e-11, 5.12229709037114e-08,
                                    1.48572235717979e-05, 6.37261928875436e-04,
                                    4.89352455891786e-03))
_Q = tuple(np.float32(v) for v in (1.19825839466702e-06, 1.18534705686654e-04,
                                    2.26843463243900e-03, 4.89352518554385e-03))
_HALF = np.float32(0.5)
P13, P11, P9, P7, P5, P3, P1 = _P
Q6, Q4, Q2, Q0 = _Q


@njit(cache=True, inline="always", error_model="numpy")
def tanh_rational(x):
    """tanh for float32 in float32 arithmetic (Horner form of Eigen's P and Q)."""
    x = min(max(x, -_C), _C)
    x2 = x * x
    p = x2 * (x2 * (x2 * (x2 * (x2 * (x2 * P13 + P11) + P9) + P7) + P5) + P3) + P1
    q = x2 * (x2 * (x2 * Q6 + Q4) + Q2) + Q0
    return x * p / q


_INV_LN2 = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01  # ln 2 = _LN2_HI + _LN2_LO, k·_LN2_HI exact for |k| < 2^11
_LN2_LO = 1.90821492927058770002e-10
E2, E3, E4, E5, E6, E7, E8, E9, E10, E11, E12, E13, E14 = (1.0 / math.factorial(n)
                                                           for n in range(2, 15))


@intrinsic
def _as_float64(typingctx, bits):
    """The float64 whose IEEE bits are the int64 `bits` (a bitcast; it vectorises)."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


@njit(cache=True, inline="always", error_model="numpy")
def expm1_parts(x):
    """(2^k, e^r - 1) with x = k ln2 + r, |r| ≤ ln2/2 (x clamped to ±700, 2^k normal):
    e^x = 2^k (e^r - 1) + 2^k and e^x - 1 = 2^k (e^r - 1) + (2^k - 1)."""
    x = min(max(x, -700.0), 700.0)
    kf = np.floor(x * _INV_LN2 + 0.5)
    r = (x - kf * _LN2_HI) - kf * _LN2_LO
    p = E9 + r * (E10 + r * (E11 + r * (E12 + r * (E13 + r * E14))))
    p = E2 + r * (E3 + r * (E4 + r * (E5 + r * (E6 + r * (E7 + r * (E8 + r * p))))))
    return _as_float64((np.int64(kf) + 1023) << 52), r + r * r * p  # 2^k from its bits


def tanh_f64(like, x):
    """tanh(x) for float64."""
    s, q = expm1_parts(2.0 * min(max(x, -20.0), 20.0))  # tanh(±20) is ±1 in float64
    m = s * q + (s - 1.0)  # e^(2x) - 1
    return m / (m + 2.0)


def sigmoid_f64(like, x):
    """σ(x) for float64."""
    s, q = expm1_parts(-x)
    return 1.0 / (1.0 + (s * q + s))


def tanh(like, x):
    """tanh(x) computed for an array of like's dtype (see the module docstring)."""
    return math.tanh(x)


def sigmoid(like, x):
    """σ(x) = 1 / (1 + e^-x) computed for an array of like's dtype."""
    return 1.0 / (1.0 + math.exp(-x))


def _is_float32(like) -> bool:
    return isinstance(like, types.Array) and like.dtype == types.float32


def tanh_f32(like, x):
    """tanh(x) for float32."""
    return tanh_rational(x)


def sigmoid_f32(like, x):
    """σ(x) = (1 + tanh(x/2)) / 2 for float32."""
    return _HALF + _HALF * tanh_rational(_HALF * x)


_JIT = {"error_model": "numpy"}  # as the kernels: no check for a division by zero


@overload(tanh, jit_options=_JIT)
def _tanh(like, x):
    return tanh_f32 if _is_float32(like) else tanh_f64


@overload(sigmoid, jit_options=_JIT)
def _sigmoid(like, x):
    return sigmoid_f32 if _is_float32(like) else sigmoid_f64


@njit(cache=True, inline="always", error_model="numpy")
def add_output_grad(dh, dh_out_t, t, lengths, dH, b0, b1):
    """dh (B, H) += ∂L/∂h_t from the output, for the sequences running at step t;
    record the total in dH[t] unless dH is None (KEEP). Rows b0:b1 only."""
    for b in range(b0, b1):
        if t < lengths[b]:
            for j in range(dh.shape[1]):
                dh[b, j] += dh_out_t[b, j]
        if dH is not None:
            for j in range(dh.shape[1]):
                dH[t, b, j] = dh[b, j]


@njit(cache=True, inline="always", error_model="numpy")
def carry_back(dh, dh_rec, t, lengths, add, b0, b1):
    """dh ← dh_rec (or dh + dh_rec when add) for the sequences running at step t; past
    its end a sequence's dh passes through unchanged. Rows b0:b1 only."""
    for b in range(b0, b1):
        if t < lengths[b]:
            for j in range(dh.shape[1]):
                dh[b, j] = dh[b, j] + dh_rec[b, j] if add else dh_rec[b, j]


@njit(cache=True, inline="always", error_model="numpy")
def copy_row(src, dst):
    """dst[:] = src (1-D) as a loop: Numba's array assignment compiles a shape check
    whose error message alone took seconds to compile."""
    for j in range(dst.shape[0]):
        dst[j] = src[j]
