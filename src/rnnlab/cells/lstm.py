"""LSTM cell (gate order i, f, g, o as PyTorch; g is the candidate, often called z).

Forward, a_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh split in four blocks:

    i = σ(a_i)   f = σ(a_f)   g = tanh(a_g)   o = σ(a_o)
    c_t = f ⊙ c_{t-1} + i ⊙ g
    h_t = o ⊙ tanh(c_t)

Backward, from ∂L/∂h_t and ∂L/∂c_t (the latter is f_{t+1} ⊙ ∂L/∂c_{t+1} from the
step after, plus any direct gradient):

    ∂L/∂o       = ∂L/∂h_t ⊙ tanh(c_t)
    ∂L/∂c_t    += ∂L/∂h_t ⊙ o ⊙ (1 - tanh²(c_t))
    ∂L/∂i       = ∂L/∂c_t ⊙ g,   ∂L/∂g = ∂L/∂c_t ⊙ i,   ∂L/∂f = ∂L/∂c_t ⊙ c_{t-1}
    ∂L/∂c_{t-1} = ∂L/∂c_t ⊙ f
    δ = [∂L/∂i ⊙ i(1-i), ∂L/∂f ⊙ f(1-f), ∂L/∂g ⊙ (1-g²), ∂L/∂o ⊙ o(1-o)]
    ∂L/∂h_{t-1} = W_hhᵀ δ,   ∂L/∂W = Σ_t δ_t [h_{t-1}; x_t]ᵀ

R-operator (R{·} the derivative along a direction V of the weights; R{xp} and
V_hh h_{t-1} + V_bhh from the layer, all steps in one product each):

    R{a}   = R{xp} + V_hh h_{t-1} + V_bhh + W_hh R{h_{t-1}}
    R{i}   = i(1-i) ⊙ R{a_i},  R{f} = f(1-f) ⊙ R{a_f},  R{g} = (1-g²) ⊙ R{a_g},  R{o} = o(1-o) ⊙ R{a_o}
    R{c_t} = R{f} ⊙ c_{t-1} + f ⊙ R{c_{t-1}} + R{i} ⊙ g + i ⊙ R{g}
    R{h_t} = R{o} ⊙ tanh(c_t) + o ⊙ (1 - tanh²(c_t)) ⊙ R{c_t}
"""

from __future__ import annotations

from types import MappingProxyType

import numpy as np

from rnnlab.activations import sigmoid
from rnnlab.cells._base import Cell


class LSTMCell(Cell):
    num_gates = 4
    state_names = ("h", "c")
    memory_gates = MappingProxyType({1: 1.0, 0: -1.0})  # f, and i = -f

    def step(self, xp, state, W_hh, b_hh):
        h_prev, c_prev = state
        a = xp + h_prev @ W_hh.T + b_hh  # (B, 4H)
        H = h_prev.shape[-1]
        gates = np.empty_like(a)
        gates[:, : 2 * H] = sigmoid(a[:, : 2 * H])  # i, f
        gates[:, 2 * H : 3 * H] = np.tanh(a[:, 2 * H : 3 * H])  # g
        gates[:, 3 * H :] = sigmoid(a[:, 3 * H :])  # o
        i, f, g, o = np.split(gates, 4, axis=1)
        c = f * c_prev + i * g  # (B, H)
        h = o * np.tanh(c)
        return (h, c), (gates,)

    def step_backward(self, dstate, aux, state_prev, state, W_hh):
        dh, dc = dstate
        _, c_prev = state_prev
        _, c = state
        (gates,) = aux
        i, f, g, o = np.split(gates, 4, axis=1)
        tc = np.tanh(c)
        do = dh * tc
        dc = dc + dh * o * (1 - tc * tc)
        di = dc * g
        dg = dc * i
        df = dc * c_prev
        dc_prev = dc * f
        da = np.concatenate(  # (B, 4H)
            [di * i * (1 - i), df * f * (1 - f), dg * (1 - g * g), do * o * (1 - o)], axis=1
        )
        dh_prev = da @ W_hh  # (B, H)
        return da, da, (dh_prev, dc_prev)

    def step_rop(self, rxp, rvp, rstate_prev, aux, state_prev, state, W_hh):
        rh_prev, rc_prev = rstate_prev
        _, c_prev = state_prev
        _, c = state
        (gates,) = aux
        i, f, g, o = np.split(gates, 4, axis=1)
        ra = rxp + rvp + rh_prev @ W_hh.T  # (B, 4H)
        ri, rf, rg, ro = np.split(ra, 4, axis=1)
        ri, rf, rg, ro = ri * i * (1 - i), rf * f * (1 - f), rg * (1 - g * g), ro * o * (1 - o)
        rc = rf * c_prev + f * rc_prev + ri * g + i * rg
        tc = np.tanh(c)
        return (ro * tc + o * (1 - tc * tc) * rc, rc)
