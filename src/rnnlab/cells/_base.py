"""What every cell shares: the contract of one time step, and the step with its input.

A cell is one time step and knows nothing of sequences. The layer hands it the
input projection `xp = W_ih x_t + b_ih` (computed for all steps in one product)
and the previous state; the cell does the recurrent product and the element-wise
gate math. Its backward returns

    dxp  ∂L/∂(W_ih x_t + b_ih)            (B, G·H)   gives ∂L/∂x_t, ∂L/∂W_ih, ∂L/∂b_ih
    dhp  ∂L/∂(W_hh u_t + b_hh)            (B, G·H)   gives ∂L/∂W_hh, ∂L/∂b_hh
    dstate_prev  ∂L/∂(h_{t-1}[, c_{t-1}])

where u_t is the recurrent input of each gate block (h_{t-1}, or r ⊙ h_{t-1} for
the candidate of the reset-before GRU). The weight gradients of all steps are then
one product each (`grad_W_hh`), done by the layer after the time loop.

States are tuples: (h,) or (h, c). `aux` is the tuple of arrays a cell keeps from
its forward for its backward besides the states (the gate activations).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import ClassVar

import numpy as np

from rnnlab._linalg import outer_sum


class Cell:
    """One recurrent time step; subclasses give the math."""

    num_gates: int  # G: rows of W_ih and W_hh are G·H
    state_names: tuple[str, ...] = ("h",)
    # True when ∂L/∂(recurrent pre-activation) equals ∂L/∂(input pre-activation):
    # the layer then stores one of the two.
    shared_preactivation: bool = True
    # The Elman cell's σ (rnnlab.activations.Activation); None for gated cells.
    act = None
    # Gate blocks (PyTorch order) that keep a unit's memory, and the sign the chrono
    # initialisation gives log u in their biases (rnnlab.init.set_chrono_bias).
    memory_gates: ClassVar[Mapping[int, float]] = MappingProxyType({})

    def options(self) -> dict:
        """The constructor's arguments (JSON-ready): the same cell is type(self)(**options)."""
        return {}

    def step(self, xp, state, W_hh, b_hh):
        """Return (state_t, aux_t) from xp (B, G·H) and state_{t-1}."""
        raise NotImplementedError

    def step_backward(self, dstate, aux, state_prev, state, W_hh):
        """Return (dxp, dhp, dstate_prev) from ∂L/∂state_t."""
        raise NotImplementedError

    def step_rop(self, rxp, rvp, rstate_prev, aux, state_prev, state, W_hh):
        """The R-operator of `step` (a forward-mode directional derivative): R{state_t}
        from rxp = R{xp} (B, G·H), rvp = V_hh u_t + V_bhh (B, G·H) (the weights'
        direction (V_hh, V_bhh) applied, from `direction_products`) and R{state_{t-1}};
        aux, state_prev and state as the forward computed them."""
        raise NotImplementedError

    def direction_products(self, V_hh, V_bhh, aux, h_prev) -> np.ndarray:
        """V_hh u_t + V_bhh for all steps in one product (T, B, G·H); u_t as in grad_W_hh."""
        return h_prev @ V_hh.T + V_bhh

    def grad_W_hh(self, dhp, aux, h_prev) -> np.ndarray:
        """∂L/∂W_hh summed over all leading axes (steps and batch): Σ dhp u_tᵀ."""
        return outer_sum(dhp, h_prev)  # (G·H, H)

    def zero_state(self, B: int, H: int, dtype) -> tuple:
        return tuple(np.zeros((B, H), dtype) for _ in self.state_names)

    # The step with its input, as torch.nn.*Cell: params = (W_ih, W_hh, b_ih, b_hh).

    def forward(self, x, state, params):
        """One step from the raw input x (B, I): returns (state_t, aux_t)."""
        W_ih, W_hh, b_ih, b_hh = params
        return self.step(x @ W_ih.T + b_ih, state, W_hh, b_hh)  # xp: (B, G·H)

    def backward(self, dstate, aux, x, state_prev, state, params):
        """Return (dx, dstate_prev, (dW_ih, dW_hh, db_ih, db_hh)) for one step."""
        W_ih, W_hh, _, _ = params
        dxp, dhp, dstate_prev = self.step_backward(dstate, aux, state_prev, state, W_hh)
        dx = dxp @ W_ih  # (B, I)
        grads = (dxp.T @ x, self.grad_W_hh(dhp, aux, state_prev[0]), dxp.sum(0), dhp.sum(0))
        return dx, dstate_prev, grads
