"""Compiled LSTM: the whole time loop of forward and of BPTT, one recurrent product
and two element-wise passes per row and step (see rnnlab.cells.lstm for the math).
Gate blocks in PyTorch's order i, f, g, o. The element-wise passes work on 1-D rows
(one sequence, one step) and every buffer comes from the caller: both keep LLVM
vectorising them (a buffer allocated inside the kernel made them 7x slower). The
passes are written in the loops, not in helpers inlined by Numba, which took ~0.5 s
longer to compile (rnnlab.kernels._math on compile time), but for the gate errors
(`gate_errors`, the one statement of them for both BPTT loops: +0.15 s cold).

LOOPS: LLVM vectorises a loop over arrays it cannot prove apart only after checking
at run time that they do not overlap, one check per pair of a written array and
another, and gives up beyond 8 checks: it then runs the loop one element at a time.
One fused pass per row wrote 3 arrays and read 3 more (12 checks), so it ran scalar:
~7 ns per unit at H = 32 against ~1.5 for vector code. Two passes keep each under 8:
forward, the gates (a written, hw and the bias read) then the state (c_t, h_t written,
a and c_{t-1} read); BPTT, ∂L/∂h_t parked in δ_o's place, then the errors (δ and dc
written, the gates, c_t and c_{t-1} read). Each element gets the same operations as
before, so the same bits.

GATES: the forward's gate pass runs over all 4H gates of a row in one loop, each gate
offset + scale · tanh(scale · x) (`gate_scales`), rather than over H units with four
statements: at H = 32 the loop over H ran ~5.7 ns a unit (LLVM's vector loop, 16 lanes
times its interleaving, is longer than such a row, which then runs in the remainder),
the loop over 4H 0.33 against 0.69 ms a forward (T 50, B 64); in float32 the same bits
(σ was already 1/2 + tanh(x/2)/2), in float64 σ now goes through tanh too.

STEP VIEWS: the forward indexes each step's (B, ·) arrays by row and unit rather than
taking a 1-D view of each row of each array (six views a row): forecast's forward
(T 50, B 64, H 32) 362 -> 254-272 µs, T 100, B 20, H 100 1,063 -> 1,008, the same bits.
The BPTT loop measured no different and keeps its row views.

UNITS: with a few sequences and a large W_hh each step's product streams W_hh from
memory, and row blocks on two threads each stream all of it. forward_units and
backward_units split each step's units into chunks instead (rnnlab.kernels._threads.
unit_chunks): the threads claim (step, chunk) tasks in order (rnnlab.kernels._sync), a
task's product reading only its units' panels of W_hh (4 × (B, U) gate columns
forward, (B, U) of ∂L/∂h_{t-1} backward), and a step starts once the step before it is
done. Each element gets the operations of `forward` and `backward`, so the same bits,
however many threads come. Two threads (Zen 5, T 50, I 64): B 4, H 1,024 31 against
42 ms a training step by rows; B 8 46 against 49 (rows of 4)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numba import njit

from rnnlab.kernels._blas import matmul_into
from rnnlab.kernels._math import copy_row, tanh
from rnnlab.kernels._sync import claim, done


@lru_cache(maxsize=64)
def gate_scales(H: int, dtype) -> tuple:
    """(scale, offset), (4H,) each, for `forward`'s one pass over the gates: a gate is
    offset + scale · tanh(scale · x), σ(x) = 1/2 + tanh(x/2)/2 for i, f, o and tanh(x)
    for g. Made once per (H, dtype): the kernels only read them."""
    scale = np.full(4 * H, 0.5, dtype)
    scale[2 * H : 3 * H] = 1.0
    return scale, np.where(scale == 0.5, 0.5, 0.0).astype(dtype)


@njit(cache=True, nogil=True, error_model="numpy")
def forward(a, bias, scale, offset, W_hhT, lengths, h, c, hw, b0, b1):
    """Run the LSTM; a (T, B, 4H) holds the input projection W_ih x_t and is
    overwritten with the gate activations (i, f, g, o); bias: (4H,) b_ih + b_hh, added
    here (a pass of its own over a took 1-2 % of a training step); scale, offset:
    `gate_scales`; W_hhT: (H, 4H); h, c: (T+1, B, H) with the initial state at index 0,
    filled in place up to each sequence's end (the caller holds the last state past it:
    PAST THE END in rnnlab.kernels._math); hw: (B, 4H) work; only the sequences
    b0 <= b < b1 are run (ROWS there)."""
    T, H = a.shape[0], c.shape[2]
    for t in range(T):
        matmul_into(h[t, b0:b1], W_hhT, hw[b0:b1])  # (b1-b0, 4H)
        a_t, c_p, c_t, h_t = a[t], c[t], c[t + 1], h[t + 1]  # (B, 4H), (B, H) ×3 (STEP VIEWS)
        for b in range(b0, b1):
            if t < lengths[b]:  # one row, in two passes (LOOPS above)
                for j in range(4 * H):  # the gates (i, f, g, o), over a, in one loop (GATES)
                    a_t[b, j] = offset[j] + scale[j] * tanh(
                        a, scale[j] * (a_t[b, j] + hw[b, j] + bias[j]))
                for j in range(H):  # the state
                    c_j = a_t[b, H + j] * c_p[b, j] + a_t[b, j] * a_t[b, 2 * H + j]
                    c_t[b, j] = c_j
                    h_t[b, j] = a_t[b, 3 * H + j] * tanh(a, c_j)


@njit(inline="always", error_model="numpy")
def gate_errors(g, c_prev, c_t, dc, e, H, E, n):
    """The errors δ of the units j < n of one row: g (4H,) the gates i, f, g, o at j,
    H + j, 2H + j, 3H + j; c_prev, c_t, dc (n,) c_{t-1}, c_t and ∂L/∂c_t (left as
    ∂L/∂c_{t-1}); e: ∂L/∂h_t at 3E + j, overwritten with δ_i, δ_f, δ_g, δ_o at j,
    E + j, 2E + j, 3E + j."""
    for j in range(n):
        i, f, gg, o = g[j], g[H + j], g[2 * H + j], g[3 * H + j]
        dh_j = e[3 * E + j]
        tc = tanh(c_t, c_t[j])
        dc_j = dc[j] + dh_j * o * (1 - tc * tc)
        e[j] = dc_j * gg * i * (1 - i)
        e[E + j] = dc_j * c_prev[j] * f * (1 - f)
        e[2 * E + j] = dc_j * i * (1 - gg * gg)
        e[3 * E + j] = dh_j * tc * o * (1 - o)
        dc[j] = dc_j * f


@njit(cache=True, nogil=True, error_model="numpy")
def backward(dh_out, gates, c, W_hh, lengths, dh_T, dh, dc, dA, dH, b0, b1):
    """BPTT through the LSTM. dh_out: (T, B, H); gates: (T, B, 4H) and c: (T+1, B, H)
    from forward; dh_T: (B, H) ∂L/∂h_T; dh: (B, H) filled with ∂L/∂h_0 (each step's
    product writes ∂L/∂h_{t-1} of every row there; a sequence reads dh_T at its last
    step); dc: (B, H) ∂L/∂c_T, left as ∂L/∂c_0; dA: (T, B, 4H) filled with the
    pre-activation errors δ (zero past the ends); dH: (T, B, H) receives ∂L/∂h_t in
    total unless None (KEEP in rnnlab.kernels._math); rows b0:b1 only."""
    T, H = dh_out.shape[0], c.shape[2]
    for t in range(T - 1, -1, -1):
        for b in range(b0, b1):
            if t < lengths[b]:  # one row, in two passes (LOOPS above); dc -> ∂L/∂c_{t-1}
                g_tb, dA_tb = gates[t, b], dA[t, b]
                dh_b = dh_T[b] if t == lengths[b] - 1 else dh[b]  # ∂L/∂h_t from step t+1
                dout_b = dh_out[t, b]
                for j in range(H):  # ∂L/∂h_t in total, parked in δ_o's place
                    dA_tb[3 * H + j] = dh_b[j] + dout_b[j]
                if dH is not None:
                    copy_row(dA_tb[3 * H :], dH[t, b])
                gate_errors(g_tb, c[t, b], c[t + 1, b], dc[b], dA_tb, H, H, H)
            else:
                dA[t, b] = 0.0
                if dH is not None:
                    copy_row(dh_T[b], dH[t, b])
        matmul_into(dA[t, b0:b1], W_hh, dh[b0:b1])  # (b1-b0, H)


@njit(cache=True, nogil=True, error_model="numpy")
def forward_units(a, bias, scale, offset, W_hhT, lengths, h, c, hw, sync):
    """`forward` with each step's units split into chunks (UNITS): run by several threads
    at once on the same arguments, each claiming (step, chunk) tasks from sync
    (rnnlab.kernels._sync). W_hhT: `panels` of (H, 4H); hw: (chunks, 4, B, U) work, U
    = H / chunks units a chunk, a multiple of the panels' width. Every row runs."""
    T, B, H = a.shape[0], a.shape[1], c.shape[2]
    chunks, U = hw.shape[0], hw.shape[3]
    per = U // W_hhT.shape[2]  # panels per chunk and gate
    while True:
        t, k = claim(sync, chunks, T)
        if t < 0:
            return
        u0 = k * U
        for g in range(4):  # the chunk's columns of each gate: (B, U) each
            p0 = (g * H + u0) // W_hhT.shape[2]
            matmul_into(h[t], W_hhT[p0 : p0 + per], hw[k, g])
        a_t, c_p, c_t, h_t = a[t], c[t], c[t + 1], h[t + 1]  # (B, 4H), (B, H) ×3
        for b in range(B):
            if t < lengths[b]:
                for g in range(4):  # (U,) views of the gate's columns in the chunk
                    j0 = g * H + u0
                    a_g, hw_g = a_t[b, j0 : j0 + U], hw[k, g, b]
                    s_g, o_g, b_g = scale[j0 : j0 + U], offset[j0 : j0 + U], bias[j0 : j0 + U]
                    for j in range(U):
                        a_g[j] = o_g[j] + s_g[j] * tanh(a, s_g[j] * (a_g[j] + hw_g[j] + b_g[j]))
                for j in range(u0, u0 + U):
                    c_j = a_t[b, H + j] * c_p[b, j] + a_t[b, j] * a_t[b, 2 * H + j]
                    c_t[b, j] = c_j
                    h_t[b, j] = a_t[b, 3 * H + j] * tanh(a, c_j)
        done(sync)


@njit(cache=True, nogil=True, error_model="numpy")
def backward_units(dh_out, gates, c, W_hh, lengths, dh_T, dh, dc, dA, dH, dhw, e, sync):
    """`backward` with each step's units split into chunks (UNITS), as forward_units:
    phase s < T is step t = T-1-s (the chunk's ∂L/∂h_t = δ_{t+1} W_hh for its units,
    then its units' errors), phase T writes the chunk's ∂L/∂h_0 to dh. W_hh: `panels`
    of (4H, H); dhw: (chunks, B, U) and e: (chunks, 4U) work (a row's errors are made
    in e, then copied to dA: written in place at j, H + j, ... with j < U, LLVM could
    not tell the writes from the read at 3H + j and ran the loop one unit at a time)."""
    T, B, H = dh_out.shape[0], dh_out.shape[1], c.shape[2]
    chunks, U = dhw.shape[0], dhw.shape[2]
    while True:
        s, k = claim(sync, chunks, T + 1)
        if s < 0:
            return
        u0, t, d, e_k = k * U, T - 1 - s, dhw[k], e[k]  # d: (B, U) ∂L/∂h_t of the units
        if s > 0:
            p0 = u0 // W_hh.shape[2]
            matmul_into(dA[t + 1], W_hh[p0 : p0 + U // W_hh.shape[2]], d)
        if s == T:
            for b in range(B):
                for j in range(U):
                    dh[b, u0 + j] = d[b, j]
            done(sync)
            continue
        for b in range(B):  # each row's units from u0 (views: indices from 0)
            dA_b = dA[t, b, u0:]  # (4H - u0,): the gates' errors at j, H + j, 2H + j, 3H + j
            if t < lengths[b]:  # as `backward`'s two passes (LOOPS), in e_k
                g_b, dout_b = gates[t, b, u0:], dh_out[t, b, u0:]
                dh_b = dh_T[b, u0:] if t == lengths[b] - 1 else d[b]
                for j in range(U):  # ∂L/∂h_t in total, parked in δ_o's place
                    e_k[3 * U + j] = dh_b[j] + dout_b[j]
                if dH is not None:
                    for j in range(U):
                        dH[t, b, u0 + j] = e_k[3 * U + j]
                gate_errors(g_b, c[t, b, u0:], c[t + 1, b, u0:], dc[b, u0:], e_k, H, U, U)
                for g in range(4):
                    for j in range(U):
                        dA_b[g * H + j] = e_k[g * U + j]
            else:
                for g in range(4):
                    for j in range(U):
                        dA_b[g * H + j] = 0.0
                if dH is not None:
                    for j in range(U):
                        dH[t, b, u0 + j] = dh_T[b, u0 + j]
        done(sync)
