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
positions they read, each sequence within its own length.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnlab.layers import Cache, StepDeltas, _gather


@dataclass(frozen=True)
class Term:
    """One block of one parameter's per-step components: Σ_b D[t, b, rows] ⊗ U[t, b]."""

    name: str  # parameter name, e.g. 'weight_hh_l0'
    D: np.ndarray  # (T, B, R) errors of the rows
    U: np.ndarray | None  # (T, B, C) inputs the rows read; None for a bias
    rows: slice  # the rows of the parameter this block fills


def direction_terms(layer, cache: Cache, deltas: dict) -> list[Term]:
    """All component blocks of the layer stack, in input time order."""
    terms = []
    for li, lc in enumerate(cache.layers):
        for d, suffix in enumerate(layer._suffixes(li)):
            dc, delta = lc.directions[d], deltas[suffix]
            x, h_prev, dXP, dHP = dc.x, dc.states[0][:-1], delta.dXP, delta.dHP
            gate_act = dc.aux[0] if dc.aux else None
            if d == 1:
                x, h_prev, dXP, dHP = (_gather(a, cache.rev_index) for a in (x, h_prev, dXP, dHP))
                gate_act = None if gate_act is None else _gather(gate_act, cache.rev_index)
            terms += [Term(f"weight_ih{suffix}", dXP, x, slice(None)),
                      Term(f"bias_ih{suffix}", dXP, None, slice(None)),
                      Term(f"bias_hh{suffix}", dHP, None, slice(None))]
            terms += [Term(f"weight_hh{suffix}", dHP[..., rows], u, rows)
                      for rows, u in recurrent_inputs(layer.cell, gate_act, h_prev)]
    return terms


def recurrent_inputs(cell, gate_act, h_prev) -> list[tuple[slice, np.ndarray]]:
    """(rows of W_hh, the input u_t those rows multiply) as in the cell's grad_W_hh."""
    if getattr(cell, "reset_after", True):
        return [(slice(None), h_prev)]
    H = h_prev.shape[-1]  # reset-before GRU: block n reads r ⊙ h_{t-1}
    return [(slice(0, 2 * H), h_prev), (slice(2 * H, 3 * H), gate_act[..., :H] * h_prev)]


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
    """‖∇L|_t‖ per parameter and in total, and ‖∂L/∂h_t‖ per layer and direction."""

    params: dict[str, np.ndarray]  # name -> (T,) Frobenius norm of the step-t component
    total: np.ndarray  # (T,) norm of the whole step-t component (all parameters)
    dh: dict[str, np.ndarray]  # suffix ('_l0', '_l0_reverse', ...) -> (T,) ‖∂L/∂h_t‖_F


def temporal_norms(layer, cache: Cache, deltas: dict[str, StepDeltas]) -> TemporalNorms:
    """Norms of the temporal components of one BPTT pass (see the module docstring)."""
    sq = {}
    for term in direction_terms(layer, cache, deltas):
        sq[term.name] = sq.get(term.name, 0.0) + _squared_norms(term)
    params = {n: np.sqrt(sq[n]) for n in layer.params}
    total = np.sqrt(sum(sq.values()))
    dh = {}
    for suffix, delta in deltas.items():
        dH = _gather(delta.dH, cache.rev_index) if suffix.endswith("_reverse") else delta.dH
        dh[suffix] = np.sqrt(np.square(dH).sum((1, 2)))  # (T,)
    return TemporalNorms(params, total, dh)


def weighted_gradient(layer, cache: Cache, deltas: dict, w: np.ndarray) -> dict[str, np.ndarray]:
    """Σ_t w_t ∇L|_t for step weights w (T,), in one product per block; w = 1 gives ∇L."""
    grads = {n: np.zeros_like(p) for n, p in layer.params.items()}
    for term in direction_terms(layer, cache, deltas):
        D = term.D * w[:, None, None]  # (T, B, R)
        if term.U is None:
            grads[term.name][term.rows] += D.sum((0, 1))
        else:
            R, C = D.shape[-1], term.U.shape[-1]
            grads[term.name][term.rows] += D.reshape(-1, R).T @ term.U.reshape(-1, C)  # (R, C)
    return grads


def temporal_components(layer, cache: Cache, deltas: dict) -> dict[str, np.ndarray]:
    """Every component as a matrix: name -> (T, *shape). T times the parameters' memory."""
    T = cache.layers[0].directions[0].x.shape[0]
    comps = {n: np.zeros((T,) + p.shape, p.dtype) for n, p in layer.params.items()}
    for term in direction_terms(layer, cache, deltas):
        if term.U is None:
            comps[term.name][:, term.rows] += term.D.sum(1)
        else:
            comps[term.name][:, term.rows] += np.einsum("tbr,tbc->trc", term.D, term.U)
    return comps
