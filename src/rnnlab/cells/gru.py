"""GRU cell in both conventions (gate order r, z, n as PyTorch).

PyTorch's update gate z is the docs' u. The new state is, as in PyTorch,

    h_t = (1 - z) ⊙ n + z ⊙ h_{t-1}

(the lecture notes write h_t = (1 - u) ⊙ h_{t-1} + u ⊙ n: the same model with
u = 1 - z). With xp = W_ih x_t + b_ih and W_hh, b_hh split in blocks r, z, n:

    r = σ(xp_r + W_hr h_{t-1} + b_hr)
    z = σ(xp_z + W_hz h_{t-1} + b_hz)

and the candidate n in one of two forms, chosen by `reset_after`:

    reset_after=True  (default; cuDNN/PyTorch):  n = tanh(xp_n + r ⊙ (W_hn h_{t-1} + b_hn))
    reset_after=False (Cho et al. 2014):          n = tanh(xp_n + W_hn (r ⊙ h_{t-1}) + b_hn)

The default is reset-after because it is the form torch.nn.GRU computes, so that
weights exchange with PyTorch unchanged, and because it keeps one recurrent
product per step (the reset gate multiplies its result, not its input).

Backward, from ∂L/∂h_t:

    ∂L/∂n = ∂L/∂h_t ⊙ (1 - z),   ∂L/∂z = ∂L/∂h_t ⊙ (h_{t-1} - n),   ∂L/∂h_{t-1} = ∂L/∂h_t ⊙ z
    δ_n   = ∂L/∂n ⊙ (1 - n²)
    reset-after:  ∂L/∂r = δ_n ⊙ (W_hn h_{t-1} + b_hn);   the recurrent δ of block n is δ_n ⊙ r
    reset-before: ∂L/∂(r⊙h) = W_hnᵀ δ_n;  ∂L/∂r = ∂L/∂(r⊙h) ⊙ h_{t-1};
                  ∂L/∂h_{t-1} += ∂L/∂(r⊙h) ⊙ r;  ∂L/∂W_hn = Σ_t δ_n (r ⊙ h_{t-1})ᵀ
    δ_r = ∂L/∂r ⊙ r(1-r),  δ_z = ∂L/∂z ⊙ z(1-z)
    ∂L/∂h_{t-1} += W_hr ᵀ δ_r + W_hzᵀ δ_z  (+ W_hnᵀ (δ_n ⊙ r) for reset-after)

R-operator (R{·} the derivative along a direction V of the weights; R{xp} and
v_k = V_hk u_k + V_bhk from the layer, all steps in one product each, with u_k the
block's recurrent input as in the forward: h_{t-1}, or r ⊙ h_{t-1} for block n of
reset-before; R{hp_k} = v_k + W_hk R{h_{t-1}}):

    R{r} = r(1-r) ⊙ (R{xp_r} + R{hp_r}),   R{z} = z(1-z) ⊙ (R{xp_z} + R{hp_z})
    reset-after:  R{n} = (1-n²) ⊙ (R{xp_n} + R{r} ⊙ (W_hn h_{t-1} + b_hn) + r ⊙ R{hp_n})
    reset-before: R{r⊙h} = R{r} ⊙ h_{t-1} + r ⊙ R{h_{t-1}}
                  R{n} = (1-n²) ⊙ (R{xp_n} + v_n + W_hn R{r⊙h})
    R{h_t} = (1 - z) ⊙ R{n} + R{z} ⊙ (h_{t-1} - n) + z ⊙ R{h_{t-1}}
"""

from __future__ import annotations

from types import MappingProxyType

import numpy as np

from rnnlab.activations import sigmoid
from rnnlab.cells._base import Cell


class GRUCell(Cell):
    num_gates = 3
    memory_gates = MappingProxyType({1: 1.0})  # z

    def __init__(self, reset_after: bool = True):
        self.reset_after = bool(reset_after)
        self.shared_preactivation = not self.reset_after

    def options(self) -> dict:
        return {"reset_after": self.reset_after}

    def step(self, xp, state, W_hh, b_hh):
        (h_prev,) = state
        H = h_prev.shape[-1]
        gates = np.empty_like(xp)  # (B, 3H): r, z, n
        if self.reset_after:
            hp = h_prev @ W_hh.T + b_hh  # (B, 3H)
            gates[:, : 2 * H] = sigmoid(xp[:, : 2 * H] + hp[:, : 2 * H])
            hn = hp[:, 2 * H :]  # (B, H)
            gates[:, 2 * H :] = np.tanh(xp[:, 2 * H :] + gates[:, :H] * hn)
            aux = (gates, hn)
        else:
            hp_rz = h_prev @ W_hh[: 2 * H].T + b_hh[: 2 * H]  # (B, 2H)
            gates[:, : 2 * H] = sigmoid(xp[:, : 2 * H] + hp_rz)
            hr = gates[:, :H] * h_prev
            gates[:, 2 * H :] = np.tanh(xp[:, 2 * H :] + hr @ W_hh[2 * H :].T + b_hh[2 * H :])
            aux = (gates,)
        z, n = gates[:, H : 2 * H], gates[:, 2 * H :]
        h = (1 - z) * n + z * h_prev
        return (h,), aux

    def step_backward(self, dstate, aux, state_prev, state, W_hh):
        (dh,) = dstate
        (h_prev,) = state_prev
        gates = aux[0]
        H = h_prev.shape[-1]
        r, z, n = np.split(gates, 3, axis=1)
        dn = dh * (1 - z)
        dz = dh * (h_prev - n)
        dh_prev = dh * z
        dan = dn * (1 - n * n)
        if self.reset_after:
            hn = aux[1]
            dr = dan * hn
            dar, daz = dr * r * (1 - r), dz * z * (1 - z)
            dxp = np.concatenate([dar, daz, dan], axis=1)  # (B, 3H)
            dhp = np.concatenate([dar, daz, dan * r], axis=1)  # (B, 3H)
            dh_prev += dhp @ W_hh
        else:
            dhr = dan @ W_hh[2 * H :]  # (B, H)
            dr = dhr * h_prev
            dh_prev += dhr * r
            dar, daz = dr * r * (1 - r), dz * z * (1 - z)
            dxp = dhp = np.concatenate([dar, daz, dan], axis=1)  # (B, 3H)
            dh_prev += dhp[:, : 2 * H] @ W_hh[: 2 * H]
        return dxp, dhp, (dh_prev,)

    def step_rop(self, rxp, rvp, rstate_prev, aux, state_prev, state, W_hh):
        (rh_prev,), (h_prev,) = rstate_prev, state_prev
        gates = aux[0]
        H = h_prev.shape[-1]
        r, z, n = np.split(gates, 3, axis=1)
        if self.reset_after:
            rhp = rvp + rh_prev @ W_hh.T  # (B, 3H)
        else:
            rhp = rvp.copy()
            rhp[:, : 2 * H] += rh_prev @ W_hh[: 2 * H].T
        ra_rz = rxp[:, : 2 * H] + rhp[:, : 2 * H]
        rr = ra_rz[:, :H] * r * (1 - r)
        rz = ra_rz[:, H:] * z * (1 - z)
        if self.reset_after:
            ran = rxp[:, 2 * H :] + rr * aux[1] + r * rhp[:, 2 * H :]
        else:
            ran = rxp[:, 2 * H :] + rhp[:, 2 * H :] + (rr * h_prev + r * rh_prev) @ W_hh[2 * H :].T
        rn = (1 - n * n) * ran
        return ((1 - z) * rn + rz * (h_prev - n) + z * rh_prev,)

    def direction_products(self, V_hh, V_bhh, aux, h_prev):
        if self.reset_after:
            return super().direction_products(V_hh, V_bhh, aux, h_prev)
        H = h_prev.shape[-1]
        r = aux[0][..., :H]
        return np.concatenate(  # blocks r, z read h_{t-1}; block n reads r ⊙ h_{t-1}
            [h_prev @ V_hh[: 2 * H].T + V_bhh[: 2 * H],
             (r * h_prev) @ V_hh[2 * H :].T + V_bhh[2 * H :]], axis=-1)

    def grad_W_hh(self, dhp, aux, h_prev):
        if self.reset_after:
            return super().grad_W_hh(dhp, aux, h_prev)
        H = h_prev.shape[-1]
        r = aux[0][..., :H]
        return np.concatenate(  # (3H, H): blocks r, z read h_{t-1}; block n reads r ⊙ h_{t-1}
            [super().grad_W_hh(dhp[..., : 2 * H], aux, h_prev),
             super().grad_W_hh(dhp[..., 2 * H :], aux, r * h_prev)]
        )
