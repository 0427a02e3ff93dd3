"""Step-by-step inference for generation (sampling from a language model).

`Stepper(layer)` (or `layer.stepper()`) runs a unidirectional layer stack one time
step at a time for a batch of B sequences (default 1), keeping its state between
calls:

    stepper = lstm.stepper()              # B = 1, zero initial state
    h = stepper.step(x_t)                 # x_t (I,) or (B, I) -> h_t (B, H), top layer
    h = stepper.step_index(k)             # x_t one-hot at index k (B ints): no product

On the fast path (rnnlab.kernels) every buffer is allocated once, here: a step
writes the input projection, the gates and the new state into them, so nothing is
allocated per step. The returned h_t is a view of the stepper's state: copy it to
keep it past the next step. The weights are copied when the stepper is made: make
a new one after changing the layer's parameters. With the fast path off, each step
runs the cells' reference `step` (allocating, as the reference does). A step's
products run on RNNLAB_STEP_THREADS BLAS threads (default 1; rnnlab.kernels._threads):
with OpenBLAS's two threads, a 2 × 384 LSTM sampled 103 characters/s here, not 6,300.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from rnnlab._checks import check_array, check_positive_int
from rnnlab.kernels._threads import loop_threads

if TYPE_CHECKING:
    from rnnlab.layers import _RecurrentLayer
    from rnnlab.models import State


class _LayerStep:
    """One layer's buffers and bound kernel: xp (1, B, G·H), states (2, B, H) each."""

    def __init__(self, cell, params, B: int, fast: bool):
        W_ih, W_hh, b_ih, b_hh = params
        self.cell, self.fast = cell, fast
        self.W_ih, self.W_hh, self.b_ih, self.b_hh = (p.copy() for p in params)
        dt, (GH, _), H = W_ih.dtype, W_ih.shape, W_hh.shape[1]
        self.states = tuple(np.zeros((2, B, H), dt) for _ in cell.state_names)
        if not fast:
            return
        from rnnlab.kernels import loops

        self.W_ihT = np.ascontiguousarray(W_ih.T)  # (I, G·H)
        self.xp = np.empty((1, B, GH), dt)
        self.run, _ = loops.bind_forward(cell, self.xp, loops.input_bias(cell, b_ih, b_hh),
                                         self.states, W_hh, b_hh, np.ones(B, np.int64))

    def step(self, x=None, index=None):
        """Advance one step from the input x (B, I), or from one-hot inputs at `index`."""
        if self.fast:
            xp = self.xp[0]  # (B, G·H)
            if index is None:
                np.dot(x, self.W_ihT, out=xp)
            else:
                for b, k in enumerate(index):  # one-hot input: the row k of W_ihᵀ
                    xp[b] = self.W_ihT[k]
            self.run(0, self.xp.shape[1])  # every row, on this thread
            for s in self.states:
                s[0] = s[1]
        else:
            xp = x @ self.W_ih.T if index is None else self.W_ih.T[index]
            new, _ = self.cell.step(xp + self.b_ih, tuple(s[0] for s in self.states),
                                    self.W_hh, self.b_hh)
            for s, n in zip(self.states, new):
                s[0] = n
        return self.states[0][0]  # (B, H)


class Stepper:
    """Run a unidirectional layer one time step at a time; see the module docstring."""

    def __init__(self, layer: _RecurrentLayer, batch_size: int = 1, state: State | None = None):
        if layer.bidirectional:
            raise ValueError("layer: a bidirectional layer cannot be run step by step "
                             "(its reverse direction needs the whole sequence)")
        self.layer = layer
        self.batch_size = check_positive_int("batch_size", batch_size)
        fast = layer._use_fast()
        self._layers = [_LayerStep(layer.cell, layer._layer_params(k, f"_l{k}"), batch_size, fast)
                        for k in range(layer.num_layers)]
        self.reset(state)

    def reset(self, state: State | None = None) -> None:
        """Set the state: zeros (None), or as the layer's state, h (L, B, H) or (h, c)."""
        names = self.layer.cell.state_names
        shape = (self.layer.num_layers, self.batch_size, self.layer.hidden_size)
        if state is None:
            state = tuple(np.zeros(shape, self.layer.dtype) for _ in names)
        else:
            state = (state,) if len(names) == 1 else tuple(state)
            if len(state) != len(names):
                raise ValueError(f"state: expected ({', '.join(names)}), got {len(state)} arrays")
            state = tuple(check_array(f"state {n}", s, shape, self.layer.dtype)
                          for n, s in zip(names, state))
        for k, ls in enumerate(self._layers):
            for buf, s in zip(ls.states, state):
                buf[0] = s[k]

    @property
    def state(self) -> State:
        """A copy of the current state, shaped as the layer's final state."""
        state = tuple(np.stack([ls.states[i][0] for ls in self._layers])
                      for i in range(len(self.layer.cell.state_names)))
        return state[0] if len(state) == 1 else state

    def step(self, x: np.ndarray) -> np.ndarray:
        """One step from x_t (I,) or (B, I); returns h_t of the top layer (B, H), a view."""
        x = np.asarray(x)
        x = x.reshape(1, -1) if x.ndim == 1 else x
        shape = (self.batch_size, self.layer.input_size)
        if (x.shape != shape or x.dtype != self.layer.dtype
                or not (np.isfinite(x.min()) and np.isfinite(x.max()))):  # no temporaries
            check_array("x", x, shape, self.layer.dtype)  # raises, naming what is wrong
        with loop_threads():
            for ls in self._layers:
                x = ls.step(x)
        return x

    def step_index(self, index: int | np.ndarray) -> np.ndarray:
        """One step from one-hot inputs: index an int (B = 1) or (B,) ints in [0, I)."""
        index = np.atleast_1d(np.asarray(index))
        if (index.shape != (self.batch_size,) or not np.issubdtype(index.dtype, np.integer)
                or index.min() < 0 or index.max() >= self.layer.input_size):
            raise ValueError(f"index: expected {self.batch_size} int(s) in "
                             f"[0, {self.layer.input_size}), got {index!r}")
        with loop_threads():
            x = self._layers[0].step(index=index)
            for ls in self._layers[1:]:
                x = ls.step(x)
        return x
