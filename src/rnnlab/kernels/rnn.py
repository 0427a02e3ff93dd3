"""Compiled Elman RNN: the whole time loop of forward and of BPTT, one recurrent
product and one fused element-wise pass per step (see rnnlab.cells.rnn for the math).
Rows and caller-given buffers as in rnnlab.kernels.lstm.

Activation codes are indices into rnnlab.activations.ACTIVATIONS:
0 tanh, 1 sigmoid, 2 relu, 3 leaky_relu, 4 elu, 5 identity; p is the slope or α.
"""

from __future__ import annotations

import math

from numba import njit

from rnnlab.kernels._blas import matmul_into
from rnnlab.kernels._math import add_output_grad, carry_back, copy_row, sigmoid, tanh


@njit(cache=True, inline="always", error_model="numpy")
def _act_row(a, hw, h, code, p):
    """h = σ(a + hw) over one row; one loop per activation so that each vectorises."""
    n = h.shape[0]
    if code == 0:
        for j in range(n):
            h[j] = tanh(h, a[j] + hw[j])
    elif code == 1:
        for j in range(n):
            h[j] = sigmoid(h, a[j] + hw[j])
    elif code == 2:
        for j in range(n):
            h[j] = max(a[j] + hw[j], 0)
    elif code == 3:
        for j in range(n):
            x = a[j] + hw[j]
            h[j] = x if x > 0 else p * x
    elif code == 4:
        for j in range(n):
            x = a[j] + hw[j]
            h[j] = x if x > 0 else p * math.expm1(x)
    else:
        for j in range(n):
            h[j] = a[j] + hw[j]


@njit(cache=True, inline="always", error_model="numpy")
def _delta_row(dh, h, dA, code, p):
    """dA = dh ⊙ σ'(a), σ' from the output h."""
    n = h.shape[0]
    if code == 0:
        for j in range(n):
            dA[j] = dh[j] * (1 - h[j] * h[j])
    elif code == 1:
        for j in range(n):
            dA[j] = dh[j] * h[j] * (1 - h[j])
    elif code == 2:
        for j in range(n):
            dA[j] = dh[j] if h[j] > 0 else 0
    elif code == 3:
        for j in range(n):
            dA[j] = dh[j] if h[j] > 0 else p * dh[j]
    elif code == 4:
        for j in range(n):
            dA[j] = dh[j] if h[j] > 0 else (h[j] + p) * dh[j]
    else:
        copy_row(dh, dA)


@njit(cache=True, nogil=True, error_model="numpy")
def forward(a, W_hhT, lengths, code, p, h, hw, b0, b1):
    """h_{t+1} = σ(a_t + h_t W_hhᵀ) for sequences still running.

    a: (T, B, H) input projection with both biases; W_hhT: (H, H); lengths: (B,);
    h: (T+1, B, H) with h[0] the initial state, filled in place up to each sequence's
    end (PAST THE END in rnnlab.kernels._math); hw: (B, H) work; rows b0:b1 only.
    """
    T = a.shape[0]
    for t in range(T):
        matmul_into(h[t, b0:b1], W_hhT, hw[b0:b1])  # (b1-b0, H)
        for b in range(b0, b1):
            if t < lengths[b]:
                _act_row(a[t, b], hw[b], h[t + 1, b], code, p)


@njit(cache=True, nogil=True, error_model="numpy")
def backward(dh_out, h, W_hh, lengths, code, p, dh, dA, dH, dh_prev, b0, b1):
    """BPTT: dA_t = (dh + dh_out_t) ⊙ σ'(a_t), dh ← dA_t W_hh (running sequences only).

    dh_out: (T, B, H); h: (T+1, B, H) from forward; dh: (B, H) ∂L/∂h_T, left as
    ∂L/∂h_0; dA: (T, B, H) filled with the pre-activation errors (zero past the ends);
    dH: (T, B, H) receives ∂L/∂h_t in total unless None (KEEP in rnnlab.kernels._math);
    dh_prev: (B, H) work; rows b0:b1.
    """
    T = dh_out.shape[0]
    for t in range(T - 1, -1, -1):
        add_output_grad(dh, dh_out[t], t, lengths, dH, b0, b1)
        for b in range(b0, b1):
            if t < lengths[b]:
                _delta_row(dh[b], h[t + 1, b], dA[t, b], code, p)
            else:
                dA[t, b] = 0.0
        matmul_into(dA[t, b0:b1], W_hh, dh_prev[b0:b1])  # (b1-b0, H)
        carry_back(dh, dh_prev, t, lengths, False, b0, b1)


@njit(cache=True, nogil=True, error_model="numpy")
def rforward(ra, W_hhT, h, lengths, code, p, rh, hw, b0, b1):
    """The R-operator of forward: R{h_{t+1}} = σ'(a_t) ⊙ (ra_t + R{h_t} W_hhᵀ) for
    sequences still running (see rnnlab.cells.rnn).

    ra: (T, B, H) R{xp_t} + V_hh h_t + V_bhh (the direction's own part); h: (T+1, B, H)
    the forward's states (σ' from the output); rh: (T+1, B, H) with rh[0] = R{h_0},
    filled in place up to each sequence's end (PAST THE END); hw: (B, H) work; rows b0:b1 only.
    """
    T, H = ra.shape[0], ra.shape[2]
    for t in range(T):
        matmul_into(rh[t, b0:b1], W_hhT, hw[b0:b1])  # (b1-b0, H)
        for b in range(b0, b1):
            if t < lengths[b]:
                for j in range(H):
                    hw[b, j] += ra[t, b, j]
                _delta_row(hw[b], h[t + 1, b], rh[t + 1, b], code, p)
