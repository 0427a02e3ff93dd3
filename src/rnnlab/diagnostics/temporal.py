"""Temporal gradient components: the gradient of the loss as a sum over time.

Imagine every parameter replicated at every step; ∇L|_t is the gradient with
respect to the copy used at step t, and ∇L = Σ_t ∇L|_t. One BPTT pass gives all of
them: with the per-step errors of a direction (`backward(..., return_deltas=True)`)

    ∇_{W_ih} L|_t = dXP_tᵀ x_t      ∇_{b_ih} L|_t = Σ_b dXP_t
    ∇_{W_hh} L|_t = dHP_tᵀ u_t      ∇_{b_hh} L|_t = Σ_b dHP_t

where dXP_t, dHP_t (B, G·H) are ∂L/∂(input and recurrent pre-activations) and u_t is
the recurrent input: h_{t-1}, or r_t ⊙ h_{t-1} for the candidate block W_hn of the
reset-before GRU. The component is summed over the batch, so its norm is not the
sum of per-example norms; it is computed exactly without forming the matrix:

    ‖Dᵀ U‖²_F = Σ_{b,b'} (D Dᵀ)_{bb'} (U Uᵀ)_{bb'}      (Gram matrices, B × B)

whenever that is cheaper than the product itself (B (R + C) < R C).

Time is the input's time: the reverse direction's steps are mapped back to the
positions they read, each sequence within its own length. A model's readout
z_t = W_out h_t + b_out has components too (dz_tᵀ h_t); a many-to-one readout acts
once, at each sequence's last step, and its component is counted there.

Everything is built from `Term`s (one block of one parameter: Σ_b D_t[b] ⊗ U_t[b]):
`layer_terms` for a recurrent stack, `model_terms` for a SequenceModel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from rnnlab.layers import Cache, StepDeltas, _gather


class Term(NamedTuple):
    """One block of one parameter's per-step components: Σ_b D[t, b] ⊗ U[t, b]."""

    name: str  # parameter name, e.g. 'weight_hh_l0' or 'rnn.weight_hh_l0'
    D: np.ndarray  # (T, B, R) errors of the rows
    U: np.ndarray | None  # (T, B, C) inputs the rows read; None for a bias
    rows: slice = slice(None)  # the rows of the parameter this block fills


def layer_terms(layer, cache: Cache, deltas: dict, prefix: str = "") -> list[Term]:
    """All component blocks of a layer stack, in input time order; names prefixed."""
    terms = []
    for li, lc in enumerate(cache.layers):
        for d, suffix in enumerate(layer.suffixes(li)):
            dc, delta = lc.directions[d], deltas[suffix]
            x, h_prev, dXP, dHP = dc.x, dc.states[0][:-1], delta.dXP, delta.dHP
            gate_act = dc.aux[0] if dc.aux else None
            if d == 1:
                x, h_prev, dXP, dHP = (_gather(a, cache.rev_index) for a in (x, h_prev, dXP, dHP))
                gate_act = None if gate_act is None else _gather(gate_act, cache.rev_index)
            terms += [Term(f"{prefix}weight_ih{suffix}", dXP, x),
                      Term(f"{prefix}bias_ih{suffix}", dXP, None),
                      Term(f"{prefix}bias_hh{suffix}", dHP, None)]
            terms += [Term(f"{prefix}weight_hh{suffix}", dHP[..., rows], u, rows)
                      for rows, u in recurrent_inputs(layer.cell, gate_act, h_prev)]
    return terms


def recurrent_inputs(cell, gate_act, h_prev) -> list[tuple[slice, np.ndarray]]:
    """(rows of W_hh, the input u_t those rows multiply) as in the cell's grad_W_hh."""
    if getattr(cell, "reset_after", True):
        return [(slice(None), h_prev)]
    H = h_prev.shape[-1]  # reset-before GRU: block n reads r ⊙ h_{t-1}
    return [(slice(0, 2 * H), h_prev), (slice(2 * H, 3 * H), gate_act[..., :H] * h_prev)]


def model_terms(model, kept_pass) -> list[Term]:
    """Terms of a SequenceModel (rnn + readout) from loss_and_grads(..., keep_pass=True)'s
    info["pass"]; names as model.params."""
    if getattr(model, "embedding", None) is not None or not hasattr(model, "rnn"):
        raise TypeError(f"model: temporal components are implemented for a SequenceModel "
                        f"with vector inputs (no embedding), got {type(model).__name__}")
    (_, rcache, h), dz, deltas = kept_pass
    terms = layer_terms(model.rnn, rcache, deltas, prefix="rnn.")
    if model.target == "last":  # one readout, at each sequence's last step
        dc = rcache.layers[0].directions[0]
        T, B = dc.x.shape[:2]
        last = np.full(B, T - 1) if dc.mask is None else dc.mask[..., 0].sum(0) - 1  # (B,)
        at = (np.arange(T)[:, None] == last[None, :])[..., None]  # (T, B, 1)
        dz, h = at * dz, at * h  # (T, B, K), (T, B, D·H)
    return terms + [Term("readout.weight", dz, h), Term("readout.bias", dz, None)]


def _squared_norms(term: Term) -> np.ndarray:
    """‖Σ_b D_t[b] ⊗ U_t[b]‖²_F for every t, shape (T,)."""
    D, U = term.D, term.U
    if U is None:
        return np.square(D.sum(1)).sum(-1)
    B, R, C = D.shape[1], D.shape[2], U.shape[2]
    if B * (R + C) < R * C:
        GD = np.einsum("tbr,tcr->tbc", D, D)  # (T, B, B)
        GU = np.einsum("tbr,tcr->tbc", U, U)  # (T, B, B)
        return np.maximum((GD * GU).sum((1, 2)), 0.0)
    return np.array([np.square(D[t].T @ U[t]).sum() for t in range(D.shape[0])])


@dataclass(frozen=True)
class TemporalNorms:
    """‖∇L|_t‖ per parameter and in total (and ‖∂L/∂h_t‖ per layer and direction)."""

    params: dict[str, np.ndarray]  # name -> (T,) Frobenius norm of the step-t component
    total: np.ndarray  # (T,) norm of the whole step-t component (all parameters)
    dh: dict[str, np.ndarray]  # suffix ('_l0', '_l0_reverse', ...) -> (T,) ‖∂L/∂h_t‖_F


def temporal_norms(terms: list[Term], cache: Cache | None = None,
                   deltas: dict | None = None) -> TemporalNorms:
    """Norms of the components of `terms` (see the module docstring); with the layer's
    cache and deltas also ‖∂L/∂h_t‖."""
    sq = {}
    for term in terms:
        sq[term.name] = sq.get(term.name, 0.0) + _squared_norms(term)
    params = {n: np.sqrt(v) for n, v in sq.items()}
    total = np.sqrt(sum(sq.values()))
    dh = {}
    for suffix, delta in (deltas or {}).items():
        dH = _gather(delta.dH, cache.rev_index) if suffix.endswith("_reverse") else delta.dH
        dh[suffix] = np.sqrt(np.square(dH).sum((1, 2)))  # (T,)
    return TemporalNorms(params, total, dh)


def layer_norms(layer, cache: Cache, deltas: dict[str, StepDeltas]) -> TemporalNorms:
    """temporal_norms of a layer stack's own pass (backward with return_deltas)."""
    return temporal_norms(layer_terms(layer, cache, deltas), cache, deltas)


def weighted_gradient(terms: list[Term], w: np.ndarray, like: dict) -> dict[str, np.ndarray]:
    """Σ_t w_t ∇L|_t for step weights w (T,), one product per block; w = 1 gives ∇L.
    `like`: arrays named and shaped as the parameters (e.g. the gradient)."""
    grads = {n: np.zeros_like(like[n]) for n in like}
    for term in terms:
        D = term.D * w[:, None, None]  # (T, B, R)
        if term.U is None:
            grads[term.name][term.rows] += D.sum((0, 1))
        else:
            R, C = D.shape[-1], term.U.shape[-1]
            grads[term.name][term.rows] += D.reshape(-1, R).T @ term.U.reshape(-1, C)  # (R, C)
    return grads


def temporal_components(terms: list[Term], like: dict) -> dict[str, np.ndarray]:
    """Every component as a matrix: name -> (T, *shape). T times the parameters' memory."""
    T = terms[0].D.shape[0]
    comps = {n: np.zeros((T,) + a.shape, a.dtype) for n, a in like.items()}
    for term in terms:
        if term.U is None:
            comps[term.name][:, term.rows] += term.D.sum(1)
        else:
            comps[term.name][:, term.rows] += np.einsum("tbr,tbc->trc", term.D, term.U)
    return comps
