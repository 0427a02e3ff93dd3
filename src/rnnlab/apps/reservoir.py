"""The echo-state classifier of `rnnlab classify --model esn` (rnnlab.esn): its settings
chosen on the training data alone by exact leave-one-out, then one member per seed.

The grid: k input steps per recurrent step (`chunk`) such that each series becomes
about 400, 100 or 25 recurrent steps, spectral radius ρ ∈ {0.5, 0.9, 0.99}, input scale
∈ {0.3, 1}, readout on the mean and max of the states (with or without the last
state); for each, λ by leave-one-out (rnnlab.esn.RidgePath). It is searched one
coordinate at a time (k at ρ = 0.9 and scale 1, then ρ and the scale at the best k:
at most 3 + 5 reservoir runs instead of 18). The best leave-one-out accuracy (then
squared error) wins; each member then draws its own reservoir with those settings and
chooses its own λ.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from rnnlab.apps.classifier import chunk
from rnnlab.esn import RidgePath, fit_readout, loo_key, make_reservoir, summaries

STEPS = (400, 100, 25)  # recurrent steps per series the chunk sizes aim at
SPECTRAL_RADII = (0.5, 0.9, 0.99)
INPUT_SCALES = (0.3, 1.0)
POOLS = ("mean+max", "last+mean+max")  # slices of the last+mean+max summary


def chunk_sizes(T: int) -> list[int]:
    """The k tried for series of (at most) T steps: T/k about each of STEPS."""
    return sorted({max(1, math.ceil(T / s)) for s in STEPS})


def build(net, input_size: int, num_classes: int, pool: str):
    """The member's model: a one-layer tanh RNN and its pooled readout."""
    from dataclasses import replace

    from rnnlab.apps import network

    return network.build_model(replace(net, cell="rnn", num_layers=1, bidirectional=False,
                                       pool=pool), input_size, num_classes, "ce")


def _scores(model, W: tuple, Xk, Lk, Y, y, rho: float, scale: float) -> list[dict]:
    """Leave-one-out scores of each pooling with the reservoir W = (W_ih, W_hh) at ρ, scale."""
    H = model.rnn.hidden_size
    model.rnn.params["weight_ih_l0"][...] = scale * W[0]
    model.rnn.params["weight_hh_l0"][...] = rho * W[1]  # spectral radius ρ (ρ(W_hh) = 1)
    Phi = summaries(model, Xk, Lk)  # (N, 3H): last, mean, max
    columns = {"mean+max": slice(H, 3 * H), "last+mean+max": slice(0, 3 * H)}
    return [{"spectral_radius": rho, "input_scale": scale, "pool": pool,
             **RidgePath(Phi[:, columns[pool]], Y).choose(y)} for pool in POOLS]


def select(net, X, lengths, y, num_classes: int, echo=print, chunk_size: int | None = None
           ) -> dict:
    """The settings of the best leave-one-out score on (X (N, T, F), lengths, y), searched
    one coordinate at a time: the chunk size (of `chunk_sizes`, or chunk_size when given)
    at the centre ρ = 0.9, scale 1; then ρ and the input scale at that chunk size."""
    F, Y = X.shape[2], np.eye(num_classes)[y]
    reservoirs = {}

    def trials(k, grid):
        if k not in reservoirs:
            model = build(net, k * F, num_classes, "last+mean+max")
            make_reservoir(model, 1.0, 1.0, seed=net.seed)  # drawn once, rescaled in _scores
            W = tuple(model.rnn.params[n].copy() for n in ("weight_ih_l0", "weight_hh_l0"))
            reservoirs[k] = (model, W, *chunk(X, lengths, k))
        model, W, Xk, Lk = reservoirs[k]
        return [{"chunk": k, **t} for rho, scale in grid
                for t in _scores(model, W, Xk, Lk, Y, y, rho, scale)]

    centre = [(0.9, 1.0)]
    first = [t for k in ([chunk_size] if chunk_size else chunk_sizes(int(lengths.max())))
             for t in trials(k, centre)]
    k = max(first, key=loo_key)["chunk"]
    rest = [g for g in itertools.product(SPECTRAL_RADII, INPUT_SCALES) if g not in centre]
    best = max(first + trials(k, rest), key=loo_key)
    echo(f"esn: chose chunk {best['chunk']}, spectral radius {best['spectral_radius']}, "
         f"input scale {best['input_scale']}, pool {best['pool']} "
         f"(leave-one-out accuracy {best['loo_accuracy']:.3f} on TRAIN)")
    return best


def fit_member(net, choice: dict, X, lengths, y, num_classes: int, seed: int):
    """(model, readout scores): a reservoir drawn with `seed`, its readout by ridge."""
    k = choice["chunk"]
    model = build(net, k * X.shape[2], num_classes, choice["pool"])
    make_reservoir(model, choice["spectral_radius"], choice["input_scale"], seed=seed)
    return model, fit_readout(model, summaries(model, *chunk(X, lengths, k)), y)
