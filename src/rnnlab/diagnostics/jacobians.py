"""Jacobians of the state across time, the spectrum of W_hh and the Elman bound.

The state s_t is h_t (Elman, GRU) or (h_t, c_t) (LSTM, S = 2H). Its step Jacobian
J_t = ∂s_t/∂s_{t-1} is read off the cell's own backward: step_backward maps ∂L/∂s_t
to ∂L/∂s_{t-1} = J_tᵀ ∂L/∂s_t, so feeding it the S unit vectors (as a batch of S)
gives the S rows of J_t. For the Elman RNN J_t = diag(σ'(a_t)) W_hh. Then

    ∂s_t/∂s_k = J_t J_{t-1} ⋯ J_{k+1}

and, for the Elman RNN, ‖∂h_t/∂h_k‖₂ ≤ Π ‖diag σ'‖ ‖W_hh‖₂ ≤ (σ'_max μ_max)^(t-k),
μ_max the largest singular value of W_hh: below 1 the gradient must vanish; above
1 it may explode (Pascanu, Mikolov and Bengio 2013).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnlab._checks import check_positive_int, check_range
from rnnlab.cells import RNNCell
from rnnlab.layers import DirectionCache

# sup σ'(a) of each Elman activation (slope or α given by the activation's parameter)
_MAX_SLOPE = {"tanh": lambda p: 1.0, "sigmoid": lambda p: 0.25, "relu": lambda p: 1.0,
              "leaky_relu": lambda p: max(1.0, p), "elu": lambda p: max(1.0, p),
              "identity": lambda p: 1.0}


def step_jacobians(cell, dc: DirectionCache, W_hh, b: int = 0) -> np.ndarray:
    """J_t = ∂s_t/∂s_{t-1} of sequence b for every step, shape (T, S, S); identity past
    the sequence's end (its state is carried unchanged)."""
    T, H = dc.x.shape[0], dc.states[0].shape[-1]
    n = len(dc.states)
    S = n * H
    eye = np.eye(S, dtype=dc.states[0].dtype)
    dstate = tuple(eye[:, i * H : (i + 1) * H] for i in range(n))  # n × (S, H)
    J = np.empty((T, S, S), eye.dtype)

    def rep(a):  # sequence b's row, repeated once per unit vector: (S, ...)
        return np.repeat(a[b : b + 1], S, axis=0)

    for t in range(T):
        if dc.mask is not None and not dc.mask[t, b, 0]:
            J[t] = eye
            continue
        _, _, dprev = cell.step_backward(
            dstate, tuple(rep(a[t]) for a in dc.aux), tuple(rep(s[t]) for s in dc.states),
            tuple(rep(s[t + 1]) for s in dc.states), W_hh)
        J[t] = np.concatenate(dprev, axis=1)  # row j: ∂s_t[j]/∂s_{t-1}
    return J


def jacobian_products(J: np.ndarray, t: int | None = None) -> np.ndarray:
    """P[k] = ∂s_t/∂s_k for k = 0..t (P[t] = I), from step Jacobians J (T, S, S) where
    J[i] = ∂s_{i+1}/∂s_i (state index 0 the initial state); t defaults to T."""
    T, S = J.shape[0], J.shape[1]
    t = T if t is None else t
    P = np.empty((t + 1, S, S), J.dtype)
    P[t] = np.eye(S, dtype=J.dtype)
    for k in range(t - 1, -1, -1):
        P[k] = P[k + 1] @ J[k]  # (S, S)
    return P


@dataclass(frozen=True)
class JacobianNorms:
    """‖∂h_t/∂h_k‖ against the distance t - k, for t the last step of one sequence."""

    distance: np.ndarray  # (t,) 1..t
    spectral: np.ndarray  # (t,) ‖∂h_t/∂h_k‖₂ (the h block; for LSTM c_k held fixed)
    frobenius: np.ndarray  # (t,) ‖∂h_t/∂h_k‖_F
    state_spectral: np.ndarray  # (t,) ‖∂s_t/∂s_k‖₂ of the whole state ((h, c) for LSTM)
    bound: np.ndarray | None  # (t,) (σ'_max μ_max)^(t-k), Elman only


def jacobian_norms(layer, x, *, lengths=None, layer_index: int = 0, direction: int = 0,
                   sequence: int = 0) -> JacobianNorms:
    """Run `layer` on x and measure ∂h_t/∂h_k of one sequence, one layer and direction
    (in that direction's processing order), t its last step."""
    _, _, cache = layer.forward(x, lengths=lengths)
    li = check_positive_int("layer_index", layer_index, 0)
    if li >= layer.num_layers:
        raise ValueError(f"layer_index: expected < {layer.num_layers}, got {li}")
    if direction not in range(layer.num_directions):
        raise ValueError(f"direction: expected 0..{layer.num_directions - 1}, got {direction}")
    dc = cache.layers[li].directions[direction]
    check_range("sequence", sequence, 0, dc.x.shape[1] - 1)
    W_hh = layer.params[f"weight_hh{layer.suffixes(li)[direction]}"]
    J = step_jacobians(layer.cell, dc, W_hh, int(sequence))
    t = int(dc.x.shape[0] if dc.mask is None else dc.mask[:, sequence, 0].sum())
    P = jacobian_products(J[:t])[:-1][::-1]  # (t, S, S): distance 1..t
    H = layer.hidden_size
    Ph = P[:, :H, :H]
    distance = np.arange(1, t + 1)
    bound = None
    if layer.cell.act is not None:  # the Elman bound
        bound = elman_rate(layer.cell, W_hh) ** distance
    return JacobianNorms(distance, np.linalg.norm(Ph, 2, axis=(1, 2)),
                         np.linalg.norm(Ph, "fro", axis=(1, 2)),
                         np.linalg.norm(P, 2, axis=(1, 2)), bound)


def elman_rate(cell: RNNCell, W_hh) -> float:
    """σ'_max μ_max: the per-step factor of the Elman bound."""
    act = cell.act
    return _MAX_SLOPE[act.name](act.param) * float(np.linalg.norm(W_hh, 2))


@dataclass(frozen=True)
class Spectrum:
    """Singular values and spectral radius of each gate block W_h* (H, H) of W_hh."""

    gates: tuple[str, ...]  # block names
    singular_values: np.ndarray  # (G, H), descending
    spectral_radius: np.ndarray  # (G,) max |eigenvalue|


GATE_NAMES = {1: ("h",), 3: ("r", "z", "n"), 4: ("i", "f", "g", "o")}


def spectrum(W_hh: np.ndarray) -> Spectrum:
    """Spectrum of W_hh (G·H, H), block by block (gate order as PyTorch)."""
    H = W_hh.shape[1]
    G = W_hh.shape[0] // H
    blocks = W_hh.reshape(G, H, H)
    return Spectrum(GATE_NAMES.get(G, tuple(map(str, range(G)))),
                    np.linalg.svd(blocks, compute_uv=False),
                    np.abs(np.linalg.eigvals(blocks)).max(-1))

