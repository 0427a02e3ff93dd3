"""Recurrent layers: they own time.

`RNN`, `LSTM` and `GRU` run a cell over a sequence (time-major `(T, B, I)`, or
`batch_first`), stacked `num_layers` deep (layer l reads the outputs of layer
l-1), optionally bidirectional, with dropout between layers in training, and
variable-length batches through `lengths` with the semantics of PyTorch's packed
sequences: each sequence stops at its own length, its final state is the state
at its last real step, outputs past it are zero, and the reverse direction starts
at each sequence's own last step.

`forward` returns (output, final state, cache); `backward(cache, d_output,
d_state)` returns (d_input, d_initial_state, grads). The cache is a plain value:
several forward passes can be kept and back-propagated in any order.

Parameters follow PyTorch's names, shapes and gate order, so state dicts move
between rnnlab and torch.nn.RNN/LSTM/GRU unchanged.
"""

from __future__ import annotations

import inspect
from functools import partial
from typing import NamedTuple

import numpy as np

from rnnlab._checks import (
    check_array,
    check_dtype,
    check_finite,
    check_lengths,
    check_positive_int,
    check_range,
)
from rnnlab._linalg import matmul, outer_sum
from rnnlab.cells import Cell, GRUCell, LSTMCell, RNNCell
from rnnlab.kernels import supports, use_fast
from rnnlab.kernels._threads import adaptive_threads

STACK_BELOW = 128  # inputs this narrow join h_{t-1} in one weight-gradient product


class DirectionCache(NamedTuple):
    """What one direction of one layer keeps for its backward."""

    x: np.ndarray  # (T, B, I) the direction's input (reversed for the reverse direction)
    states: tuple  # per state array: (T+1, B, H), index 0 the initial state
    aux: tuple  # per aux array: (T, B, ...), the cell's gate activations
    mask: np.ndarray | None  # (T, B, 1) True at real steps; None when all steps are real


class StepDeltas(NamedTuple):
    """Per-step errors of one direction, in its own processing order (backward with
    return_deltas=True): what the temporal gradient components are built from."""

    dXP: np.ndarray  # (T, B, G·H) ∂L/∂(W_ih x_t + b_ih), zero past each sequence's end
    dHP: np.ndarray  # (T, B, G·H) ∂L/∂(W_hh u_t + b_hh); the same array as dXP when shared
    dH: np.ndarray  # (T, B, H) ∂L/∂h_t in total (from the output and from step t+1)


class LayerCache(NamedTuple):
    dropout_mask: np.ndarray | None  # (T, B, I_l) scaled keep-mask applied to the input
    directions: tuple  # DirectionCache per direction


class Cache(NamedTuple):
    layers: tuple  # LayerCache per layer
    rev_index: np.ndarray | None  # (T, B) time index that reverses each sequence in place
    batch_first: bool
    # (layer id, the weights' fingerprint) at forward, which backward checks; None: not
    # checked (truncated BPTT's stored windows run with the current weights by design)
    stamp: tuple | None = None


def reverse_index(lengths: np.ndarray | None, T: int, B: int) -> np.ndarray | None:
    """Index idx (T, B) with x[idx, b] reversing the first lengths[b] steps of each
    sequence and leaving the padding in place; it is its own inverse."""
    t = np.arange(T)[:, None]  # (T, 1)
    if lengths is None:
        return np.broadcast_to(T - 1 - t, (T, B))
    L = lengths[None, :]  # (1, B)
    return np.where(t < L, L - 1 - t, t)  # (T, B)


def _gather(a: np.ndarray, idx: np.ndarray) -> np.ndarray:
    return a[idx, np.arange(a.shape[1])[None, :]]


def _select(mask, new: tuple, old: tuple) -> tuple:
    """Per sequence: the new value at real steps, the old one past the end."""
    return tuple(np.where(mask, n, o) for n, o in zip(new, old))


def run_direction(cell: Cell, x, state0: tuple, W_ih, W_hh, b_ih, b_hh, mask, keep: bool,
                  fast: bool = False):
    """Run `cell` over x (T, B, I). Return (h (T, B, H), final state, DirectionCache or None).
    fast: the compiled loop of rnnlab.kernels instead of the reference loop below."""
    T, B, I = x.shape
    xp = matmul(x.reshape(T * B, I), W_ih.T).reshape(T, B, -1)  # (T, B, G·H): all steps at once
    if fast:  # the kernels add b_ih and b_hh themselves
        from rnnlab.kernels import loops

        states, auxs = loops.forward(cell, xp, state0, W_hh, b_ih, b_hh, mask)
        h = states[0][1:] * mask if mask is not None else states[0][1:].copy()  # (T, B, H)
        final = tuple(s[T] for s in states)
        return h, final, (DirectionCache(x, states, auxs, mask) if keep else None)
    xp += b_ih
    state = state0
    states, auxs = [state0], []
    for t in range(T):
        new, aux = cell.step(xp[t], state, W_hh, b_hh)
        state = new if mask is None else _select(mask[t], new, state)
        if keep:
            states.append(state)
            auxs.append(aux)
        else:
            states.append((state[0],))
    h = np.stack([s[0] for s in states[1:]])  # (T, B, H)
    if mask is not None:
        h = h * mask
    if not keep:
        return h, state, None
    states = tuple(np.stack(s) for s in zip(*states))  # each (T+1, B, H)
    auxs = tuple(np.stack(a) for a in zip(*auxs))  # each (T, B, ...)
    return h, state, DirectionCache(x, states, auxs, mask)


def backprop_direction(cell: Cell, cache: DirectionCache, dh_out, dstate_T: tuple, W_ih, W_hh,
                       keep_deltas: bool = False, fast: bool = False):
    """BPTT through one direction. Return (dx, dstate_0, (dW_ih, dW_hh, db_ih, db_hh)),
    and StepDeltas as a fourth value when keep_deltas. fast: the compiled loop."""
    x, states, aux, _ = cache
    if fast:
        from rnnlab.kernels import loops

        dXP, dHP, dH, dstate = loops.backward(cell, cache, dh_out, dstate_T, W_hh, keep_deltas,
                                              reuse=not keep_deltas)  # dXP dropped below
    else:
        dXP, dHP, dH, dstate = _backprop_loop(cell, cache, dh_out, dstate_T, W_hh, keep_deltas)
    (T, B, _), (G_H, I) = dXP.shape, W_ih.shape
    dx = matmul(dXP.reshape(T * B, G_H), W_ih).reshape(T, B, I)
    grads = weight_grads(cell, dXP, dHP, x, aux, states[0][:-1])
    return (dx, dstate, grads, StepDeltas(dXP, dHP, dH)) if keep_deltas else (dx, dstate, grads)


def weight_grads(cell: Cell, dXP, dHP, x, aux, h_prev) -> tuple:
    """(∂L/∂W_ih, ∂L/∂W_hh, ∂L/∂b_ih, ∂L/∂b_hh), each summed over all steps and
    sequences, from the errors dXP, dHP (T, B, G·H), the input x (T, B, I) and h_prev
    (T, B, H) = h_{t-1}. A product with a few columns costs a pass over D all the same
    (forecast's LSTM, T·B = 3,200, G·H = 128: ∂L/∂W_ih 75 µs, ∂L/∂b_ih's sum 58 µs), so
    an input narrower than STACK_BELOW joins the others in as few products as the cell
    allows: Dᵀ [x_t, 1, h_{t-1}] where both pre-activations share D = dXP = dHP and W_hh
    reads h_{t-1} (RNN, LSTM), else Dᵀ [x_t, 1] and the cell's grad_W_hh (a training
    step 4-5 % shorter at forecast's shape, 6.5 % at medium's, I = 64). A wide input
    keeps its own product: at I = H = 512 one 1,025 columns wide ran at 160 GFLOP/s,
    two of 512 at 186."""
    I = x.shape[-1]
    stack = I < STACK_BELOW
    whole = stack and dHP is dXP and type(cell).grad_W_hh is Cell.grad_W_hh
    if stack:
        U = np.empty(x.shape[:-1] + (I + 1 + (h_prev.shape[-1] if whole else 0),), dXP.dtype)
        U[..., :I], U[..., I] = x, 1.0
        if whole:
            U[..., I + 1 :] = h_prev
        G = outer_sum(dXP, U)  # (G·H, I + 1 [+ H])
        dW_ih, db_ih = G[:, :I], G[:, I]
    else:
        dW_ih, db_ih = outer_sum(dXP, x), dXP.sum((0, 1))
    dW_hh = G[:, I + 1 :] if whole else cell.grad_W_hh(dHP, aux, h_prev)
    db_hh = db_ih.copy() if dHP is dXP else dHP.sum((0, 1))
    return tuple(np.ascontiguousarray(g) for g in (dW_ih, dW_hh, db_ih, db_hh))


def _backprop_loop(cell: Cell, cache: DirectionCache, dh_out, dstate_T: tuple, W_hh,
                   keep_deltas: bool):
    """The reference BPTT loop over the cell's step_backward: (dXP, dHP, dH, dstate_0)."""
    x, states, aux, mask = cache
    T = x.shape[0]
    dstate = dstate_T
    dXP = np.empty((T,) + dh_out.shape[1:-1] + (W_hh.shape[0],), dh_out.dtype)  # (T, B, G·H)
    dHP = dXP if cell.shared_preactivation else np.empty_like(dXP)
    dH = np.empty(dh_out.shape, dh_out.dtype) if keep_deltas else None  # (T, B, H)
    for t in range(T - 1, -1, -1):
        dh = dstate[0] + (dh_out[t] if mask is None else dh_out[t] * mask[t])
        if keep_deltas:
            dH[t] = dh
        dstate = (dh,) + dstate[1:]
        dxp, dhp, dprev = cell.step_backward(
            dstate, tuple(a[t] for a in aux), tuple(s[t] for s in states),
            tuple(s[t + 1] for s in states), W_hh,
        )
        if mask is not None:  # past its end a sequence's state passes through unchanged
            dxp, dhp = dxp * mask[t], dhp * mask[t]
            dprev = _select(mask[t], dprev, dstate)
        dXP[t] = dxp
        if dHP is not dXP:
            dHP[t] = dhp
        dstate = dprev
    return dXP, dHP, dH, dstate


def _run_directions(jobs: list, fast: bool, work: float) -> list:
    """The directions of a layer (independent), each `work` multiply-adds. On the compiled
    path where rnnlab.kernels._threads.directions_at_once: jobs of run_parallel, at once
    when threads are allowed, with the same BLAS threads either way (so the same
    numbers). Otherwise one after the other, their products outside the loops on BLAS's
    own threads."""
    if fast and len(jobs) > 1:
        from rnnlab.kernels._threads import directions_at_once, run_parallel

        if directions_at_once(work):
            return run_parallel(jobs)
    return [job() for job in jobs]


class _RecurrentLayer:
    """A stack of recurrent layers over one cell type; see the module docstring."""

    _cell_cls: type[Cell]

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        *,
        bidirectional: bool = False,
        dropout: float = 0.0,
        batch_first: bool = False,
        dtype=np.float32,
        seed: int | None = None,
        fast: bool | None = None,
        **cell_options,
    ):
        self.input_size = check_positive_int("input_size", input_size)
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        self.num_layers = check_positive_int("num_layers", num_layers)
        self.bidirectional = bool(bidirectional)
        self.dropout = check_range("dropout", dropout, 0.0, 1.0, hi_open=True)
        self.batch_first = bool(batch_first)
        self.dtype = check_dtype(dtype)
        self.cell = self._make_cell(cell_options)
        self.rng = np.random.default_rng(seed)  # initialisation, then dropout masks
        self.fast = fast  # compiled kernels: True, False, or None = env RNNLAB_FAST (default on)
        self.params = self._init_params()

    def _make_cell(self, options: dict) -> Cell:
        known = [n for n in inspect.signature(self._cell_cls).parameters]
        for name in options:
            if name not in known:
                raise TypeError(f"{name}: not an option of {type(self).__name__} "
                                f"(its options: {', '.join(known) or 'none'})")
        return self._cell_cls(**options)

    # ---- parameters -------------------------------------------------------------

    @property
    def cell_options(self) -> dict:
        """The options the cell was built with (rebuilds the same layer)."""
        return self.cell.options()

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    def suffixes(self, layer: int) -> list[str]:
        """The parameter-name suffixes of layer `layer`'s directions: '_l0' (and
        '_l0_reverse'), as PyTorch names them."""
        return [f"_l{layer}", f"_l{layer}_reverse"][: self.num_directions]

    def param_shapes(self) -> dict[str, tuple]:
        """Names and shapes of all parameters, in PyTorch's order."""
        G, H, D = self.cell.num_gates, self.hidden_size, self.num_directions
        shapes = {}
        for layer in range(self.num_layers):
            I = self.input_size if layer == 0 else D * H
            for s in self.suffixes(layer):
                shapes.update({f"weight_ih{s}": (G * H, I), f"weight_hh{s}": (G * H, H),
                               f"bias_ih{s}": (G * H,), f"bias_hh{s}": (G * H,)})
        return shapes

    def _init_params(self) -> dict[str, np.ndarray]:
        """PyTorch's default: every parameter uniform in ±1/√H."""
        k = 1.0 / np.sqrt(self.hidden_size)
        return {n: self.rng.uniform(-k, k, shape).astype(self.dtype)
                for n, shape in self.param_shapes().items()}

    def state_dict(self) -> dict[str, np.ndarray]:
        return {n: p.copy() for n, p in self.params.items()}

    def load_state_dict(self, state: dict) -> None:
        """Load parameters; names and shapes must match exactly, values are cast to dtype."""
        shapes = self.param_shapes()
        missing = [n for n in shapes if n not in state]
        unexpected = [n for n in state if n not in shapes]
        if missing or unexpected:
            raise KeyError(f"state_dict: missing keys {missing}, unexpected keys {unexpected}")
        new = {}
        for n, shape in shapes.items():
            a = np.asarray(state[n])
            if a.shape != shape:
                raise ValueError(f"state_dict[{n!r}]: expected shape {shape}, got {a.shape}")
            if a.dtype.kind not in "fiu":
                raise TypeError(f"state_dict[{n!r}]: expected real numbers, got dtype {a.dtype}")
            check_finite(f"state_dict[{n!r}]", a)
            new[n] = a.astype(self.dtype, copy=True)
        self.params = new

    def _layer_params(self, layer: int, suffix: str):
        p = self.params
        return (p[f"weight_ih{suffix}"], p[f"weight_hh{suffix}"],
                p[f"bias_ih{suffix}"], p[f"bias_hh{suffix}"])

    def _use_fast(self) -> bool:
        """The switch: the compiled kernels (rnnlab.kernels) or the reference loop."""
        return use_fast(self.fast) and supports(self.cell)

    # ---- forward ----------------------------------------------------------------

    def _direction_macs(self, T: int, B: int, I: int) -> float:
        """Multiply-adds of one direction's products over T steps of B sequences with I
        inputs: T·B·(G·H)·(I + H)."""
        return T * B * self.cell.num_gates * self.hidden_size * (I + self.hidden_size)

    def _step_flops(self, B: int) -> float:
        """FLOPs of one step's recurrent product for B sequences: 2 B (G·H) H."""
        return 2.0 * B * self.cell.num_gates * self.hidden_size ** 2

    def _check_inputs(self, x, state, lengths):
        x = check_array("x", x, (None, None, self.input_size), self.dtype)
        if self.batch_first:
            x = x.transpose(1, 0, 2)
        T, B, _ = x.shape
        if T == 0 or B == 0:
            raise ValueError(f"x: expected at least one step and one sequence, got shape {x.shape}")
        lengths = check_lengths(lengths, T, B)
        shape = (self.num_layers * self.num_directions, B, self.hidden_size)
        names = self.cell.state_names
        if state is None:
            state = tuple(np.zeros(shape, self.dtype) for _ in names)
        else:
            state = (state,) if len(names) == 1 else tuple(state)
            if len(state) != len(names):
                raise ValueError(f"state: expected ({', '.join(names)}), got {len(state)} arrays")
            state = tuple(check_array(f"state {n}", s, shape, self.dtype)
                          for n, s in zip(names, state))
        return x, state, lengths

    def _checked_stamp(self) -> tuple:
        """The weights' `_stamp`, each parameter checked finite on the way: its float64
        sum is finite unless an element is not (no float32 array overflows it; a
        float64 one that does gets the element-wise check), so one pass does both."""
        stamp = self._stamp()
        for (n, p), (_, total) in zip(self.params.items(), stamp[1]):
            if not np.isfinite(total):
                check_finite(f"parameter {n}", p)
        return stamp

    def forward(self, x, state=None, lengths=None, *, training: bool = False):
        """Run the stack over x. Return (output, final state, cache).

        x: (T, B, I), or (B, T, I) with batch_first. state: h0 (L·D, B, H), or (h0, c0)
        for LSTM; zeros when None. lengths: (B,) ints in [1, T]. In training, dropout
        (if any) is applied to the inputs of layers 1..L-1. Output: (T, B, D·H), zero
        past each sequence's length. Final state as torch: h_n (L·D, B, H) (and c_n).
        """
        return self._forward(x, state, lengths, training, keep=True)

    def __call__(self, x, state=None, lengths=None):
        """Inference: (output, final state), storing nothing for backward."""
        out, final, _ = self._forward(x, state, lengths, False, keep=False)
        return out, final

    @adaptive_threads("forward", lambda self, x, *args, **kwargs: self._step_flops(
        np.shape(x)[0 if self.batch_first else 1]))
    def _forward(self, x, state, lengths, training, keep):
        x, state, lengths = self._check_inputs(x, state, lengths)
        stamp = self._checked_stamp()
        T, B, _ = x.shape
        mask = None if lengths is None else (np.arange(T)[:, None] < lengths)[..., None]  # (T,B,1)
        rev = reverse_index(lengths, T, B) if self.bidirectional else None
        finals, layer_caches, inp = [], [], x
        fast = self._use_fast()
        for layer in range(self.num_layers):
            drop = None
            if training and self.dropout > 0 and layer > 0:
                keep_p = 1.0 - self.dropout
                drop = (self.rng.random(inp.shape) < keep_p).astype(self.dtype) / keep_p
                inp = inp * drop
            outs, dir_caches, jobs = [], [], []
            for d, suffix in enumerate(self.suffixes(layer)):
                k = layer * self.num_directions + d
                xin = inp if d == 0 else _gather(inp, rev)
                jobs.append(partial(
                    run_direction, self.cell, xin, tuple(s[k] for s in state),
                    *self._layer_params(layer, suffix), mask, keep, fast))
            work = self._direction_macs(T, B, inp.shape[-1])
            for d, (h, final, dc) in enumerate(_run_directions(jobs, fast, work)):
                outs.append(h if d == 0 else _gather(h, rev))
                finals.append(final)
                dir_caches.append(dc)
            inp = outs[0] if len(outs) == 1 else np.concatenate(outs, axis=-1)  # (T, B, D·H)
            layer_caches.append(LayerCache(drop, tuple(dir_caches)))
        final_state = tuple(np.stack(s) for s in zip(*finals))  # each (L·D, B, H)
        out = inp.transpose(1, 0, 2) if self.batch_first else inp
        cache = Cache(tuple(layer_caches), rev, self.batch_first, stamp) if keep else None
        return out, (final_state[0] if len(final_state) == 1 else final_state), cache

    def stepper(self, batch_size: int = 1, state=None):
        """A rnnlab.Stepper: this stack run one time step at a time (generation)."""
        from rnnlab.stepper import Stepper

        return Stepper(self, batch_size, state)

    # ---- backward ---------------------------------------------------------------

    def _stamp(self) -> tuple:
        """(this layer, its weights' fingerprint): the identity of every parameter array
        and its sum, so that a cache is back-propagated only through the weights that
        made it."""
        return id(self), tuple((id(p), float(np.sum(p, dtype=np.float64)))
                               for p in self.params.values())

    def _check_cache(self, cache) -> None:
        if not isinstance(cache, Cache):
            raise TypeError(f"cache: expected the Cache returned by forward, got "
                            f"{type(cache).__name__}")
        shape = (len(cache.layers), len(cache.layers[0].directions))
        if shape != (self.num_layers, self.num_directions) or (
                cache.stamp is not None and cache.stamp[0] != id(self)):
            raise ValueError("cache: made by another layer's forward; back-propagate a cache "
                             "through the layer that made it")
        if cache.stamp is not None and cache.stamp != self._stamp():
            raise ValueError("cache: the weights changed since the forward that made it; "
                             "run forward again before backward")

    @adaptive_threads("backward", lambda self, cache, *args, **kwargs: self._step_flops(
        cache.layers[0].directions[0].x.shape[1] if isinstance(cache, Cache) else 1))
    def backward(self, cache: Cache, d_output=None, d_state=None, *, return_deltas: bool = False):
        """BPTT through the stack.

        d_output: ∂L/∂output, shaped as the output (None = zero). d_state: ∂L/∂(final
        state), shaped as it (None = zero). Returns (∂L/∂x, ∂L/∂(initial state), grads)
        with grads a dict named as the parameters. With return_deltas, a fourth value:
        {suffix ('_l0', '_l0_reverse', ...): StepDeltas}, each in its direction's
        processing order (as the cache), for rnnlab.diagnostics.
        """
        self._check_cache(cache)
        first = cache.layers[0].directions[0]
        T, B = first.x.shape[:2]
        H, D, names = self.hidden_size, self.num_directions, self.cell.state_names
        if d_output is None:
            dout = np.zeros((T, B, D * H), self.dtype)
        else:
            shape = (B, T, D * H) if cache.batch_first else (T, B, D * H)
            dout = check_array("d_output", d_output, shape, self.dtype)
            dout = dout.transpose(1, 0, 2) if cache.batch_first else dout
        state_shape = (self.num_layers * D, B, H)
        if d_state is None:
            d_state = tuple(np.zeros(state_shape, self.dtype) for _ in names)
        else:
            d_state = (d_state,) if len(names) == 1 else tuple(d_state)
            if len(d_state) != len(names):
                raise ValueError(f"d_state: expected ({', '.join(names)}), got "
                                 f"{len(d_state)} arrays")
            d_state = tuple(check_array(f"d_state {n}", s, state_shape, self.dtype)
                            for n, s in zip(names, d_state))
        grads, d_init, deltas = {}, [None] * (self.num_layers * D), {}
        fast = self._use_fast()
        for layer in range(self.num_layers - 1, -1, -1):
            lc = cache.layers[layer]
            d_inp, jobs = None, []
            for d, suffix in enumerate(self.suffixes(layer)):
                k = layer * D + d
                dh = dout[..., d * H : (d + 1) * H]
                if d == 1:
                    dh = _gather(dh, cache.rev_index)
                W_ih, W_hh, _, _ = self._layer_params(layer, suffix)
                jobs.append(partial(
                    backprop_direction, self.cell, lc.directions[d], dh,
                    tuple(s[k] for s in d_state), W_ih, W_hh, keep_deltas=return_deltas, fast=fast))
            results = _run_directions(jobs, fast, self._direction_macs(T, B, W_ih.shape[1]))
            for d, suffix in enumerate(self.suffixes(layer)):
                dx, d_init[layer * D + d], g, *delta = results[d]
                if return_deltas:
                    deltas[suffix] = delta[0]
                if d == 1:
                    dx = _gather(dx, cache.rev_index)
                d_inp = dx if d_inp is None else d_inp + dx
                for name, gi in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), g):
                    grads[f"{name}{suffix}"] = gi
            if lc.dropout_mask is not None:
                d_inp = d_inp * lc.dropout_mask
            dout = d_inp
        d_init = tuple(np.stack(s) for s in zip(*d_init))
        dx = dout.transpose(1, 0, 2) if cache.batch_first else dout
        grads = {n: grads[n] for n in self.params}
        d_init = d_init[0] if len(d_init) == 1 else d_init
        return (dx, d_init, grads, deltas) if return_deltas else (dx, d_init, grads)


class RNN(_RecurrentLayer):
    """Elman RNN layer: h_t = σ(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh).

    Cell options: nonlinearity ('tanh', 'sigmoid', 'relu', 'leaky_relu', 'elu',
    'identity'; default 'tanh'), negative_slope (leaky_relu, 0.01), alpha (elu, 1.0).
    """

    _cell_cls = RNNCell


class LSTM(_RecurrentLayer):
    """LSTM layer (gates i, f, g, o); the state is (h, c)."""

    _cell_cls = LSTMCell


class GRU(_RecurrentLayer):
    """GRU layer (gates r, z, n). Cell option reset_after: True (default, as PyTorch
    and cuDNN) or False (Cho et al. 2014); see rnnlab.cells.gru."""

    _cell_cls = GRUCell
