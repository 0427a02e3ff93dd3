"""Compiled GRU in both conventions: the whole time loop of forward and of BPTT, with
per step the recurrent product(s) and fused element-wise passes (see rnnlab.cells.gru
for the math). Gate blocks in PyTorch's order r, z, n; h_t = (1 - z) ⊙ n + z ⊙ h_{t-1}.
Rows and caller-given buffers as in rnnlab.kernels.lstm."""

from __future__ import annotations

from numba import njit

from rnnlab.kernels._blas import matmul_into
from rnnlab.kernels._math import add_output_grad, carry_back, copy_row, sigmoid, tanh


@njit(cache=True, inline="always", error_model="numpy")
def _after_row(a, hw, b_hn, h_prev, h, hn):
    """Reset-after step of one row: a (3H,) overwritten with r, z, n; hn = W_hn h + b_hn.
    Two passes, each within LLVM's 8 overlap checks (LOOPS in rnnlab.kernels.lstm)."""
    H = h.shape[0]
    for j in range(H):  # the gates
        r = sigmoid(a, a[j] + hw[j])
        a[j] = r
        a[H + j] = sigmoid(a, a[H + j] + hw[H + j])
        hn_j = hw[2 * H + j] + b_hn[j]
        hn[j] = hn_j
        a[2 * H + j] = tanh(a, a[2 * H + j] + r * hn_j)
    for j in range(H):  # the state
        z = a[H + j]
        h[j] = (1 - z) * a[2 * H + j] + z * h_prev[j]


@njit(cache=True, inline="always", error_model="numpy")
def _after_deltas_row(gates, hn, h_prev, dh, dxp, dhp):
    """Reset-after errors of one row from dh = ∂L/∂h_t; dh becomes its direct part
    z ⊙ dh (the recurrent part is added after the product). Two passes (LOOPS)."""
    H = h_prev.shape[0]
    for j in range(H):  # the input pre-activations' errors
        r, z, n = gates[j], gates[H + j], gates[2 * H + j]
        dan = dh[j] * (1 - z) * (1 - n * n)
        dxp[j] = dan * hn[j] * r * (1 - r)
        dxp[H + j] = dh[j] * (h_prev[j] - n) * z * (1 - z)
        dxp[2 * H + j] = dan
    for j in range(H):  # the recurrent ones (δ_n ⊙ r in block n), and z ⊙ dh
        r, z, n = gates[j], gates[H + j], gates[2 * H + j]
        dhp[j] = dxp[j]
        dhp[H + j] = dxp[H + j]
        dhp[2 * H + j] = dh[j] * (1 - z) * (1 - n * n) * r  # δ_n again, unrounded
        dh[j] = dh[j] * z


@njit(cache=True, nogil=True, error_model="numpy")
def forward_after(a, W_hhT, b_hn, lengths, h, hn, hw, b0, b1):
    """Reset-after GRU, n = tanh(a_n + r ⊙ (W_hn h + b_hn)). a: (T, B, 3H) input
    projection (+ b_hh in blocks r, z), overwritten with the gates (r, z, n);
    W_hhT: (H, 3H); b_hn: (H,); h: (T+1, B, H) filled in place from h[0] up to each
    sequence's end (PAST THE END in rnnlab.kernels._math);
    hn: (T, B, H) receives W_hn h_{t-1} + b_hn; hw: (B, 3H) work; rows b0:b1."""
    T = a.shape[0]
    for t in range(T):
        matmul_into(h[t, b0:b1], W_hhT, hw[b0:b1])  # (b1-b0, 3H)
        for b in range(b0, b1):
            if t < lengths[b]:
                _after_row(a[t, b], hw[b], b_hn, h[t, b], h[t + 1, b], hn[t, b])


@njit(cache=True, nogil=True, error_model="numpy")
def backward_after(dh_out, gates, hn, h, W_hh, lengths, dh, dXP, dHP, dH, dh_rec,
                   b0, b1):
    """BPTT through the reset-after GRU. dh: (B, H) ∂L/∂h_T, left as ∂L/∂h_0; dXP, dHP:
    (T, B, 3H) filled with the errors of the input and recurrent pre-activations
    (they differ in block n: δ_n and δ_n ⊙ r), zero past the ends; dH: (T, B, H)
    receives ∂L/∂h_t in total unless None (KEEP in rnnlab.kernels._math); dh_rec: (B, H)
    work; rows b0:b1."""
    T = dh_out.shape[0]
    for t in range(T - 1, -1, -1):
        add_output_grad(dh, dh_out[t], t, lengths, dH, b0, b1)
        for b in range(b0, b1):
            if t < lengths[b]:
                _after_deltas_row(gates[t, b], hn[t, b], h[t, b], dh[b], dXP[t, b], dHP[t, b])
            else:
                dXP[t, b] = 0.0
                dHP[t, b] = 0.0
        matmul_into(dHP[t, b0:b1], W_hh, dh_rec[b0:b1])  # (b1-b0, H)
        carry_back(dh, dh_rec, t, lengths, True, b0, b1)


@njit(cache=True, inline="always", error_model="numpy")
def _before_rz_row(a, hw, h_prev, rh):
    """Reset-before gates r, z of one row (written into a), and rh = r ⊙ h_{t-1}. Rows
    indexed whole, not by slices, to stay within LLVM's 8 overlap checks (LOOPS in
    rnnlab.kernels.lstm)."""
    H = h_prev.shape[0]
    for j in range(H):
        r = sigmoid(a, a[j] + hw[j])
        a[j] = r
        a[H + j] = sigmoid(a, a[H + j] + hw[H + j])
        rh[j] = r * h_prev[j]


@njit(cache=True, inline="always", error_model="numpy")
def _before_n_row(a, hn, h_prev, h):
    """Reset-before candidate n = tanh(a_n + W_hn (r ⊙ h_{t-1})) and the new state."""
    H = h.shape[0]
    z_, a_n = a[H : 2 * H], a[2 * H :]
    for j in range(H):
        n = tanh(a, a_n[j] + hn[j])
        a_n[j] = n
        h[j] = (1 - z_[j]) * n + z_[j] * h_prev[j]


@njit(cache=True, nogil=True, error_model="numpy")
def forward_before(a, W_rzT, W_nT, lengths, h, hw, rh, hn, b0, b1):
    """Reset-before GRU, n = tanh(a_n + W_hn (r ⊙ h_{t-1})). a: (T, B, 3H) input
    projection + b_hh, overwritten with the gates (r, z, n); W_rzT: (H, 2H) and
    W_nT: (H, H) the blocks of W_hhᵀ; h: (T+1, B, H) filled in place from h[0] up to
    each sequence's end (PAST THE END in rnnlab.kernels._math);
    hw (B, 2H), rh (B, H), hn (B, H): work; rows b0:b1."""
    T = a.shape[0]
    for t in range(T):
        matmul_into(h[t, b0:b1], W_rzT, hw[b0:b1])  # (b1-b0, 2H)
        for b in range(b0, b1):
            if t < lengths[b]:
                _before_rz_row(a[t, b], hw[b], h[t, b], rh[b])
            else:
                rh[b] = 0.0
        matmul_into(rh[b0:b1], W_nT, hn[b0:b1])  # (b1-b0, H)
        for b in range(b0, b1):
            if t < lengths[b]:
                _before_n_row(a[t, b], hn[b], h[t, b], h[t + 1, b])


@njit(cache=True, inline="always", error_model="numpy")
def _before_nz_deltas_row(gates, h_prev, dh, dan, drz):
    """δ_n, δ_z of one row from dh = ∂L/∂h_t; dh becomes its direct part z ⊙ dh. Two
    passes (LOOPS)."""
    H = h_prev.shape[0]
    for j in range(H):
        z, n = gates[H + j], gates[2 * H + j]
        dan[j] = dh[j] * (1 - z) * (1 - n * n)
        drz[H + j] = dh[j] * (h_prev[j] - n) * z * (1 - z)
    for j in range(H):
        dh[j] = dh[j] * gates[H + j]


@njit(cache=True, inline="always", error_model="numpy")
def _before_r_deltas_row(gates, h_prev, d_rh, dh, drz):
    """δ_r of one row from d_rh = ∂L/∂(r ⊙ h_{t-1}); dh += d_rh ⊙ r."""
    H = h_prev.shape[0]
    r_ = gates[:H]
    for j in range(H):
        r = r_[j]
        drz[j] = d_rh[j] * h_prev[j] * r * (1 - r)
        dh[j] += d_rh[j] * r


@njit(cache=True, nogil=True, error_model="numpy")
def backward_before(dh_out, gates, h, W_rz, W_n, lengths, dh, dA, dH,
                    dan, drz, d_rh, dh_rec, b0, b1):
    """BPTT through the reset-before GRU. W_rz: (2H, H), W_n: (H, H) the blocks of W_hh;
    dh: (B, H) ∂L/∂h_T, left as ∂L/∂h_0; dA: (T, B, 3H) filled with the pre-activation
    errors (δ_r, δ_z, δ_n), zero past the ends; dH: (T, B, H) receives ∂L/∂h_t in
    total unless None (KEEP); dan (B, H), drz (B, 2H), d_rh (B, H), dh_rec (B, H): work;
    rows b0:b1."""
    T, _, H = dh_out.shape
    for t in range(T - 1, -1, -1):
        add_output_grad(dh, dh_out[t], t, lengths, dH, b0, b1)
        for b in range(b0, b1):
            if t < lengths[b]:
                _before_nz_deltas_row(gates[t, b], h[t, b], dh[b], dan[b], drz[b])
            else:
                dan[b] = 0.0
                drz[b] = 0.0
        matmul_into(dan[b0:b1], W_n, d_rh[b0:b1])  # (b1-b0, H): ∂L/∂(r ⊙ h_{t-1})
        for b in range(b0, b1):
            if t < lengths[b]:
                _before_r_deltas_row(gates[t, b], h[t, b], d_rh[b], dh[b], drz[b])
        for b in range(b0, b1):
            copy_row(drz[b], dA[t, b, : 2 * H])
            copy_row(dan[b], dA[t, b, 2 * H :])
        matmul_into(drz[b0:b1], W_rz, dh_rec[b0:b1])  # (b1-b0, H)
        carry_back(dh, dh_rec, t, lengths, True, b0, b1)
