"""The layer's view of the kernels: one direction's forward and BPTT loops, with the
same inputs and results as the reference loop in rnnlab.layers. The kernels get all
their buffers from here (allocating inside them stops LLVM vectorising), and run as
blocks of rows on threads at once (rnnlab.kernels._threads.row_blocks)."""

from __future__ import annotations

import threading
from functools import partial
from math import prod

import numpy as np

from rnnlab.activations import ACTIVATIONS
from rnnlab.cells import GRUCell, LSTMCell, RNNCell
from rnnlab.kernels import _threads, gru, lstm, rnn
from rnnlab.kernels._blas import BACKEND
from rnnlab.kernels._gemm import NR, contiguous, padded, panels
from rnnlab.kernels._threads import row_blocks, run_parallel

_scratch = threading.local()  # per thread: dtype -> a flat work array, grown as needed


def scratch(shape: tuple, dtype) -> np.ndarray:
    """A work array of `shape`, this thread's, handed out again by its next call: for
    the BPTT errors when the caller drops them before that (the largest temporaries of
    a training step: allocating them afresh each step cost ~1.5 % of an LSTM step in
    page faults). Each thread keeps the largest it was asked for, per dtype."""
    bufs = _scratch.__dict__.setdefault("bufs", {})
    n, dtype = prod(shape), np.dtype(dtype)
    if dtype not in bufs or bufs[dtype].size < n:
        bufs[dtype] = np.empty(n, dtype)
    return bufs[dtype][:n].reshape(shape)


def lengths_of(mask, T: int, B: int) -> np.ndarray:
    """(B,) steps of each sequence from the (T, B, 1) mask (None: all T)."""
    if mask is None:
        return np.full(B, T, np.int64)
    return mask[:, :, 0].sum(0).astype(np.int64)


def _states(state0: tuple, T: int, ragged: bool) -> tuple:
    """Buffers (T+1, B, H) per state array, index 0 the initial state; zero after when
    ragged (the products read the rows past the ends before hold_past_ends fills them)."""
    new = np.zeros if ragged else np.empty
    bufs = tuple(new((T + 1,) + s.shape, s.dtype) for s in state0)
    for buf, s in zip(bufs, state0):
        buf[0] = s
    return bufs


def hold_past_ends(states: tuple, lengths: np.ndarray) -> None:
    """Past its end a sequence's state stays at its last value: states (T+1, B, H)
    filled by a forward loop up to each end (PAST THE END in rnnlab.kernels._math)."""
    T = states[0].shape[0] - 1
    for b in np.flatnonzero(lengths < T):
        for s in states:
            s[lengths[b] + 1 :, b] = s[lengths[b], b]


def _weight(W, dt, B: int) -> np.ndarray:
    """A recurrent weight as the loops' per-step products read it: for a product of
    several rows, column panels on the own gemm (rnnlab.kernels._gemm, PANELS: with H =
    1,024 and 8 rows, 28 % faster than rows read in place), else rows padded (`padded`);
    contiguous for one row, which gemv reads row by row (a 2-layer H = 512 LSTM's
    Stepper, one thread: 6,200 steps/s with the padded W through the own gemm's one-row
    tile, 7,100 with gemv)."""
    if B == 1:
        return contiguous(W, dt)
    return panels(W) if _in_panels(dt) else padded(W, dt)


def _in_panels(dt) -> bool:
    """Whether the loops read their weights of dtype dt in panels: float32 on the own gemm."""
    return np.dtype(dt) == np.float32 and BACKEND == "avx512"


def _act(cell: RNNCell) -> tuple:
    return ACTIVATIONS.index(cell.act.name), float(cell.act.param)


def input_bias(cell, b_ih, b_hh):
    """(G·H,) the bias the kernels add to the input projection: b_ih and all of b_hh,
    except b_hn for the reset-after GRU (it stays inside r ⊙ (W_hn h + b_hn))."""
    if isinstance(cell, GRUCell) and cell.reset_after:
        H = b_hh.shape[0] // 3
        return b_ih + np.concatenate([b_hh[: 2 * H], np.zeros(H, b_hh.dtype)])
    return b_ih + b_hh


def _add_bias(run, xp, bias, b0: int, b1: int) -> None:
    xp[:, b0:b1] += bias
    run(b0, b1)


def bind_forward(cell, xp, bias, states: tuple, W_hh, b_hh, lengths):
    """Bind the compiled forward of `cell` to its buffers. xp: (T, B, G·H) input
    projection W_ih x_t, overwritten with the gates; bias: (G·H,) input_bias, added to
    it (inside the LSTM's loop, which reads xp anyway; the others first, by rows);
    states: (T+1, B, H) each, the initial state at index 0. Return (run, aux): run(b0, b1)
    runs the sequences b0:b1, filling states and aux (the cache's aux)."""
    T, B, GH = xp.shape
    H = W_hh.shape[1]
    h, dt = states[0], xp.dtype
    W_hhT = None if isinstance(cell, GRUCell) and not cell.reset_after else (
        _weight(W_hh.T, dt, B))  # (H, G·H)
    if isinstance(cell, LSTMCell):
        return partial(lstm.forward, xp, bias.astype(dt), *lstm.gate_scales(H, dt), W_hhT,
                       lengths, *states, np.empty((B, GH), dt)), (xp,)
    if isinstance(cell, GRUCell) and cell.reset_after:
        hn = np.zeros((T, B, H), dt)
        run = partial(gru.forward_after, xp, W_hhT, b_hh[2 * H :].astype(dt), lengths, h, hn,
                      np.empty((B, GH), dt))
        aux = (xp, hn)
    elif isinstance(cell, GRUCell):
        run = partial(gru.forward_before, xp, _weight(W_hh[: 2 * H].T, dt, B),
                      _weight(W_hh[2 * H :].T, dt, B), lengths, h,
                      np.empty((B, 2 * H), dt), np.empty((B, H), dt), np.empty((B, H), dt))
        aux = (xp,)
    elif isinstance(cell, RNNCell):
        run, aux = partial(rnn.forward, xp, W_hhT, lengths, *_act(cell), h,
                           np.empty((B, GH), dt)), ()
    else:
        raise TypeError(f"cell: no compiled kernel for {type(cell).__name__}")
    return partial(_add_bias, run, xp, bias.astype(dt)), aux


def forward(cell, xp, state0: tuple, W_hh, b_ih, b_hh, mask):
    """Run the cell over xp (T, B, G·H), the input projection W_ih x_t without bias
    (overwritten with the gates). Return (states, aux) shaped as the reference loop's
    cache."""
    T, B, GH = xp.shape
    states = _states(state0, T, mask is not None)
    lengths = lengths_of(mask, T, B)
    bias, (H, dt) = input_bias(cell, b_ih, b_hh), (W_hh.shape[1], xp.dtype)
    chunks = unit_chunks(cell, B, W_hh, dt)
    if chunks:
        _run_units(partial(lstm.forward_units, xp, bias.astype(dt), *lstm.gate_scales(H, dt),
                           panels(W_hh.T), lengths, *states,
                           np.empty((chunks, 4, B, H // chunks), dt)), chunks)
        aux = (xp,)
    else:
        run, aux = bind_forward(cell, xp, bias, states, W_hh, b_hh, lengths)
        _run_rows(run, T, B, GH, H)
    hold_past_ends(states, lengths)
    return states, aux


def unit_chunks(cell, B: int, W_hh, dt) -> int:
    """Chunks of units each step of this loop is split into (UNITS in
    rnnlab.kernels.lstm; rnnlab.kernels._threads.unit_chunks), or 0: row blocks. A float32
    LSTM on the own gemm only (the W_hh it reads in panels)."""
    if not (isinstance(cell, LSTMCell) and _in_panels(dt)):
        return 0
    return _threads.unit_chunks(B, W_hh.shape[1], W_hh.size * 4, NR)


def backward(cell, cache, dh_out, dstate_T: tuple, W_hh, keep_dH: bool = False,
             reuse: bool = False):
    """BPTT loop of one direction. Return (dXP, dHP, dH, dstate_0): the per-step errors
    of the input and recurrent pre-activations, (T, B, G·H) each (the same array when
    the cell shares them), ∂L/∂h_t in total (T, B, H) when keep_dH (else None), and
    ∂L/∂(initial state). reuse: dXP is this thread's `scratch` (the caller is done with
    it before its next call here)."""
    x, states, aux, mask = cache
    T, B, _ = x.shape
    GH, H = W_hh.shape
    lengths = lengths_of(mask, T, B)
    dh_out = np.ascontiguousarray(dh_out)
    dt = dh_out.dtype
    states, aux = (tuple(np.ascontiguousarray(a, dt) for a in arrays) for arrays in (states, aux))
    dstate = tuple(np.array(s, dtype=dt, copy=True) for s in dstate_T)  # (B, H), in place
    dXP = scratch((T, B, GH), dt) if reuse else np.empty((T, B, GH), dt)
    dH = np.empty((T, B, H), dt) if keep_dH else None  # None: not compiled in (KEEP)
    work = np.empty((B, H), dt)
    chunks = unit_chunks(cell, B, W_hh, dt)
    reset_after = isinstance(cell, GRUCell) and cell.reset_after
    dHP = np.empty_like(dXP) if reset_after else dXP  # the other cells share the errors
    if reset_after:
        run = partial(gru.backward_after, dh_out, aux[0], aux[1], states[0],
                      _weight(W_hh, dt, B), lengths, dstate[0], dXP, dHP, dH, work)
    elif isinstance(cell, GRUCell):
        run = partial(gru.backward_before, dh_out, aux[0], states[0],
                      _weight(W_hh[: 2 * H], dt, B), _weight(W_hh[2 * H :], dt, B),
                      lengths, dstate[0], dXP, dH, np.zeros((B, H), dt),
                      np.zeros((B, 2 * H), dt), np.empty((B, H), dt), work)
    elif isinstance(cell, LSTMCell):
        if chunks:
            run = partial(lstm.backward_units, dh_out, aux[0], states[1], panels(W_hh), lengths,
                          dstate[0], work, dstate[1], dXP, dH,
                          np.empty((chunks, B, H // chunks), dt),
                          np.empty((chunks, 4 * H // chunks), dt))
        else:
            run = partial(lstm.backward, dh_out, aux[0], states[1], _weight(W_hh, dt, B),
                          lengths, dstate[0], work, dstate[1], dXP, dH)
        dstate = (work, dstate[1])  # the loop leaves ∂L/∂h_0 in work
    elif isinstance(cell, RNNCell):
        run = partial(rnn.backward, dh_out, states[0], _weight(W_hh, dt, B), lengths, *_act(cell),
                      dstate[0], dXP, dH, work)
    else:
        raise TypeError(f"cell: no compiled kernel for {type(cell).__name__}")
    if chunks:
        _run_units(run, chunks)
    else:
        _run_rows(run, T, B, GH, H)
    return dXP, dHP, dH, dstate


def _run_units(run, chunks: int) -> None:
    """run(sync) on `chunks` threads at once, sharing one task counter (rnnlab.kernels.
    _sync): the loop's tasks are done once, whichever threads come."""
    sync = np.zeros(2, np.int64)
    run_parallel([partial(run, sync)] * chunks)


def _run_rows(run, T: int, B: int, GH: int, H: int) -> None:
    """run(b0, b1) over the batch as its row blocks, on threads at once when several may
    run: a loop of T steps whose recurrent product is (B, H) by (H, GH)."""
    blocks = row_blocks(B, 2.0 * T * B * GH * H, T, T * B * GH)
    run_parallel([partial(run, b0, b1) for b0, b1 in blocks])


def has_rforward(cell) -> bool:
    """Whether a compiled R-forward loop exists for this cell type."""
    return type(cell) is RNNCell


def rforward(cell, ra, states, W_hh, mask):
    """The Elman cell's R-forward loop (rnnlab.rop.rforward_direction's): R{h} (T+1, B, H),
    index 0 the initial R-state (zero), from ra (T, B, H) = R{xp} + V_hh h + V_bhh and
    the forward's states (T+1, B, H)."""
    if not has_rforward(cell):
        raise TypeError(f"cell: no compiled R-forward for {type(cell).__name__}")
    T, B, H = ra.shape
    dt = ra.dtype
    h = np.ascontiguousarray(states[0], dt)
    rh, lengths = np.zeros((T + 1, B, H), dt), lengths_of(mask, T, B)
    run = partial(rnn.rforward, np.ascontiguousarray(ra), _weight(W_hh.T, dt, B), h,
                  lengths, *_act(cell), rh, np.empty((B, H), dt))
    _run_rows(run, T, B, H, H)
    hold_past_ends((rh,), lengths)
    return rh
