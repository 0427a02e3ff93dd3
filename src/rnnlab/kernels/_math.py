"""Scalar functions and per-step bookkeeping shared by the compiled kernels, inlined
by Numba into their loops.

`tanh(like, x)` and `sigmoid(like, x)` pick their formula by the dtype of the array
`like` (the buffer they compute for):

- float64: the exact libm functions (math.tanh, math.exp), to hold the reference
  within 1e-12;
- float32: a rational approximation of tanh (the minimax 13/6 form Eigen uses for
  float), accurate to a few float32 ulps, made only of arithmetic so that LLVM
  vectorises the loops around it (libm calls do not vectorise without SVML); and
  σ(x) = (1 + tanh(x/2)) / 2.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, types
from numba.extending import overload

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


def tanh(like, x):
    """tanh(x) computed for an array of like's dtype (see the module docstring)."""
    return math.tanh(x)


def sigmoid(like, x):
    """σ(x) = 1 / (1 + e^-x) computed for an array of like's dtype."""
    return 1.0 / (1.0 + math.exp(-x))


def _is_float32(like) -> bool:
    return isinstance(like, types.Array) and like.dtype == types.float32


@overload(tanh, inline="always")
def _tanh(like, x):
    if _is_float32(like):
        return lambda like, x: tanh_rational(x)
    return lambda like, x: math.tanh(x)


@overload(sigmoid, inline="always")
def _sigmoid(like, x):
    if _is_float32(like):
        return lambda like, x: _HALF + _HALF * tanh_rational(_HALF * x)
    return lambda like, x: 1.0 / (1.0 + math.exp(-x))  # e^-x → inf gives 0, as it should


@njit(cache=True, inline="always", error_model="numpy")
def add_output_grad(dh, dh_out_t, t, lengths, dH, keep):
    """dh (B, H) += ∂L/∂h_t from the output, for the sequences running at step t;
    when keep, record the total in dH[t] (for diagnostics)."""
    for b in range(dh.shape[0]):
        if t < lengths[b]:
            dh[b] += dh_out_t[b]
    if keep:
        dH[t] = dh


@njit(cache=True, inline="always", error_model="numpy")
def carry_back(dh, dh_rec, t, lengths, add):
    """dh ← dh_rec (or dh + dh_rec when add) for the sequences running at step t; past
    its end a sequence's dh passes through unchanged."""
    for b in range(dh.shape[0]):
        if t < lengths[b]:
            if add:
                dh[b] += dh_rec[b]
            else:
                dh[b] = dh_rec[b]
