"""Gauss-Newton matrix-vector products of a SequenceModel, exact, through its own layers.

With z(θ) the readout's outputs on a batch and L(z) the loss, the Gauss-Newton matrix
is G = Jᵀ H_L J (J = ∂z/∂θ, H_L = ∂²L/∂z²); it is positive semi-definite because L is
convex in z. One product costs one R-forward pass and one backward pass (Schraudolph
2002), at the point of one kept forward pass:

    J v     = R{z}                       rnnlab.rop.model_rforward
    H_L J v = loss Hessian times R{z}    rnnlab.losses.get_loss_hessian
    G v     = Jᵀ (H_L J v)               the model's BPTT with ∂L/∂z := H_L J v

Structural damping (Martens & Sutskever 2011) penalises the change of the hidden
states: S(θ) = ½ Σ_{t,b} (1/B) ‖h_{t,b}(θ) - h_{t,b}(θ_k)‖² over the top layer's
outputs (every step; zero past each length). Its Gauss-Newton matrix (its Hessian at
θ_k) is S = J_hᵀ J_h / B, so that with weight μλ

    (G + λ I + μλ S) v,   S v = J_hᵀ (R{h} / B)

costs nothing more: R{h} comes out of the same R-forward pass and enters the same
backward pass as ∂L/∂h.
"""

from __future__ import annotations

import numpy as np

from rnnlab.losses import get_loss_hessian
from rnnlab.rop import model_rforward


class ParamLayout:
    """Named arrays <-> one flat vector, in a fixed name order."""

    def __init__(self, params: dict[str, np.ndarray]):
        self.names = list(params)
        self.shapes = [params[n].shape for n in self.names]
        sizes = [int(np.prod(s)) for s in self.shapes]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
        self.dtype = next(iter(params.values())).dtype
        self.size = int(self.offsets[-1])

    def flatten(self, d: dict[str, np.ndarray]) -> np.ndarray:
        """(size,) vector; names missing from d are zero."""
        out = np.zeros(self.size, self.dtype)
        for n, a, b in zip(self.names, self.offsets[:-1], self.offsets[1:]):
            if n in d:
                out[a:b] = np.ravel(d[n])
        return out

    def unflatten(self, vec: np.ndarray) -> dict[str, np.ndarray]:
        """Named views into vec."""
        return {n: vec[a:b].reshape(s)
                for n, s, a, b in zip(self.names, self.shapes, self.offsets[:-1], self.offsets[1:])}


class GaussNewton:
    """G v (and S v) of a SequenceModel at its current weights on one batch.

    The forward pass runs once, here, with dropout off; call `product` as often as
    CG needs. Vectors are flat, in the order of `layout` (the model's params).
    """

    def __init__(self, model, batch):
        from rnnlab.models import SequenceModel

        if not isinstance(model, SequenceModel):
            raise TypeError(f"model: Gauss-Newton products need a SequenceModel, "
                            f"got {type(model).__name__}")
        self.model = model
        self.hessian = get_loss_hessian(model.loss)
        self.layout = ParamLayout(model.params)
        self.z, _, self.cache = model.forward(batch.x, None, batch.lengths)
        self.mask = model._mask(batch, len(batch.x))
        self.batch_size = self.z.shape[-2]

    def product(self, v: np.ndarray, structural: float = 0.0) -> np.ndarray:
        """G v + structural · S v, flat (see the module docstring)."""
        m = self.model
        rz, rh = model_rforward(m, self.cache, self.layout.unflatten(v))
        dz = self.hessian(self.z, rz, self.mask, m.reduction)  # H_L J v
        d_hidden = (structural / self.batch_size) * rh if structural else None
        return self.layout.flatten(self._backward(dz, d_hidden))

    def _backward(self, dz, d_hidden) -> dict:
        """Jᵀ dz + J_hᵀ d_hidden: the model's backward with an extra ∂L/∂h on the top
        layer's outputs."""
        from rnnlab.models import _d_state_from_top

        m = self.model
        ecache, rcache, hcache = self.cache
        dh, g_out = m.readout.backward(hcache, dz)
        grads = {f"readout.{n}": a for n, a in g_out.items()}
        if m.target == "each":
            d_out, d_state = (dh if d_hidden is None else dh + d_hidden), None
        else:
            d_out, d_state = d_hidden, _d_state_from_top(m.rnn, dh, dh.shape[0])
        dx, _, g_rnn = m.rnn.backward(rcache, d_out, d_state)
        grads.update({f"rnn.{n}": a for n, a in g_rnn.items()})
        if m.embedding is not None:
            grads.update({f"embedding.{n}": a
                          for n, a in m.embedding.backward(ecache, dx)[1].items()})
        return grads
