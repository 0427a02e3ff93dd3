"""Elman RNN cell.

Forward, with σ one of the activations in `rnnlab.activations`:

    a_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh
    h_t = σ(a_t)

Backward, δ_t = ∂L/∂a_t:

    δ_t         = ∂L/∂h_t ⊙ σ'(a_t)          (σ' from the output h_t)
    ∂L/∂h_{t-1} = W_hhᵀ δ_t
    ∂L/∂W_hh    = Σ_t δ_t h_{t-1}ᵀ,  ∂L/∂b_hh = Σ_t δ_t   (and the same δ_t for W_ih, b_ih, x_t)

R-operator (R{·} the derivative along a direction V of the weights and R{x} of the
input; R{xp} = W_ih R{x_t} + V_ih x_t + V_bih and V_hh h_{t-1} + V_bhh come from the
layer, all steps in one product each):

    R{a_t} = R{xp} + V_hh h_{t-1} + V_bhh + W_hh R{h_{t-1}}
    R{h_t} = σ'(a_t) ⊙ R{a_t}
"""

from __future__ import annotations

from rnnlab.activations import Activation
from rnnlab.cells._base import Cell


class RNNCell(Cell):
    num_gates = 1

    def __init__(self, nonlinearity: str = "tanh", negative_slope: float = 0.01, alpha: float = 1.0):
        self.act = Activation(nonlinearity, negative_slope, alpha)

    def options(self) -> dict:
        return {"nonlinearity": self.act.name, "negative_slope": self.act.negative_slope,
                "alpha": self.act.alpha}

    def step(self, xp, state, W_hh, b_hh):
        (h_prev,) = state
        a = xp + h_prev @ W_hh.T + b_hh  # (B, H)
        return (self.act(a),), ()

    def step_backward(self, dstate, aux, state_prev, state, W_hh):
        (dh,) = dstate
        (h,) = state
        da = dh * self.act.grad_from_output(h)  # (B, H)
        dh_prev = da @ W_hh  # (B, H)
        return da, da, (dh_prev,)

    def step_rop(self, rxp, rvp, rstate_prev, aux, state_prev, state, W_hh):
        (rh_prev,), (h,) = rstate_prev, state
        ra = rxp + rvp + rh_prev @ W_hh.T  # (B, H)
        return (self.act.grad_from_output(h) * ra,)
