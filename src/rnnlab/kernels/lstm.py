"""Compiled LSTM: the whole time loop of forward and of BPTT, one recurrent product
and one fused element-wise pass per step (see rnnlab.cells.lstm for the math).
Gate blocks in PyTorch's order i, f, g, o. The element-wise passes work on 1-D rows
(one sequence, one step) and every buffer comes from the caller: both keep LLVM
vectorising them (a buffer allocated inside the kernel made them 7x slower)."""

from __future__ import annotations

import numpy as np
from numba import njit

from rnnlab.kernels._math import add_output_grad, carry_back, sigmoid, tanh


@njit(cache=True, inline="always", error_model="numpy")
def _gates_row(a, hw, c_prev, c, h):
    """a (4H,): pre-activation less W_hh h, overwritten with i, f, g, o; hw (4H,): W_hh h."""
    H = c.shape[0]
    a_i, a_f, a_g, a_o = a[:H], a[H : 2 * H], a[2 * H : 3 * H], a[3 * H :]
    w_i, w_f, w_g, w_o = hw[:H], hw[H : 2 * H], hw[2 * H : 3 * H], hw[3 * H :]
    for j in range(H):
        i = sigmoid(a, a_i[j] + w_i[j])
        f = sigmoid(a, a_f[j] + w_f[j])
        g = tanh(a, a_g[j] + w_g[j])
        o = sigmoid(a, a_o[j] + w_o[j])
        a_i[j] = i
        a_f[j] = f
        a_g[j] = g
        a_o[j] = o
        c_j = f * c_prev[j] + i * g
        c[j] = c_j
        h[j] = o * tanh(a, c_j)


@njit(cache=True, inline="always", error_model="numpy")
def _deltas_row(gates, c_prev, c, dh, dc, dA):
    """From dh = ∂L/∂h_t (B,) and dc = ∂L/∂c_t (its part from step t+1): dA (4H,) the
    gate errors δ; dc becomes ∂L/∂c_{t-1}."""
    H = c.shape[0]
    i_, f_, g_, o_ = gates[:H], gates[H : 2 * H], gates[2 * H : 3 * H], gates[3 * H :]
    d_i, d_f, d_g, d_o = dA[:H], dA[H : 2 * H], dA[2 * H : 3 * H], dA[3 * H :]
    for j in range(H):
        i, f, g, o = i_[j], f_[j], g_[j], o_[j]
        tc = tanh(c, c[j])
        dc_j = dc[j] + dh[j] * o * (1 - tc * tc)
        d_i[j] = dc_j * g * i * (1 - i)
        d_f[j] = dc_j * c_prev[j] * f * (1 - f)
        d_g[j] = dc_j * i * (1 - g * g)
        d_o[j] = dh[j] * tc * o * (1 - o)
        dc[j] = dc_j * f


@njit(cache=True, nogil=True, error_model="numpy")
def forward(a, W_hhT, lengths, h, c, hw, b0, b1):
    """Run the LSTM; a (T, B, 4H) holds the input projection with both biases and is
    overwritten with the gate activations (i, f, g, o). W_hhT: (H, 4H); h, c:
    (T+1, B, H) with the initial state at index 0, filled in place; hw: (B, 4H) work;
    only the sequences b0 <= b < b1 are run (ROWS in rnnlab.kernels._math)."""
    T = a.shape[0]
    for t in range(T):
        np.dot(h[t, b0:b1], W_hhT, hw[b0:b1])  # (b1-b0, 4H)
        for b in range(b0, b1):
            if t < lengths[b]:
                _gates_row(a[t, b], hw[b], c[t, b], c[t + 1, b], h[t + 1, b])
            else:
                h[t + 1, b] = h[t, b]
                c[t + 1, b] = c[t, b]


@njit(cache=True, nogil=True, error_model="numpy")
def backward(dh_out, gates, c, W_hh, lengths, dh, dc, dA, dH, keep, dh_prev, b0, b1):
    """BPTT through the LSTM. dh_out: (T, B, H); gates: (T, B, 4H) and c: (T+1, B, H)
    from forward; dh, dc: (B, H) ∂L/∂(h_T, c_T), left as ∂L/∂(h_0, c_0); dA: (T, B, 4H)
    filled with the pre-activation errors δ (zero past the ends); dH: (T, B, H)
    receives ∂L/∂h_t in total when keep; dh_prev: (B, H) work; rows b0:b1 only."""
    T = dh_out.shape[0]
    for t in range(T - 1, -1, -1):
        add_output_grad(dh, dh_out[t], t, lengths, dH, keep, b0, b1)
        for b in range(b0, b1):
            if t < lengths[b]:
                _deltas_row(gates[t, b], c[t, b], c[t + 1, b], dh[b], dc[b], dA[t, b])
            else:
                dA[t, b] = 0.0
        np.dot(dA[t, b0:b1], W_hh, dh_prev[b0:b1])  # (b1-b0, H)
        carry_back(dh, dh_prev, t, lengths, False, b0, b1)
