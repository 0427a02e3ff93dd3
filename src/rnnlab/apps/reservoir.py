"""The echo-state classifier of `rnnlab classify --model esn` (rnnlab.esn): its settings
chosen on the training data alone by exact leave-one-out, then one member per seed.

The grid: k input steps per recurrent step (`chunk`) such that each series becomes
about 400, 100 or 25 recurrent steps, spectral radius ρ ∈ {0.5, 0.9, 0.99}, input scale
∈ {0.1, 0.3, 1}, readout on the mean and max of the states (with or without the last
state); for each, λ by leave-one-out (rnnlab.esn.RidgePath). The best leave-one-out
accuracy (then squared error) wins; each member then draws its own reservoir with
those settings and chooses its own λ.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from rnnlab.apps.classifier import chunk
from rnnlab.esn import RidgePath, fit_readout, loo_key, make_reservoir, summaries

STEPS = (400, 100, 25)  # recurrent steps per series the chunk sizes aim at
SPECTRAL_RADII = (0.5, 0.9, 0.99)
INPUT_SCALES = (0.1, 0.3, 1.0)
POOLS = ("mean+max", "last+mean+max")  # slices of the last+mean+max summary


def chunk_sizes(T: int) -> list[int]:
    """The k tried for series of (at most) T steps: T/k about each of STEPS."""
    return sorted({max(1, math.ceil(T / s)) for s in STEPS})


def build(net, input_size: int, num_classes: int, pool: str):
    """The member's model: a one-layer tanh RNN and its pooled readout."""
    from dataclasses import replace

    from rnnlab.apps import network

    return network.build_model(replace(net, cell="rnn", layers=1, pool=pool), input_size,
                               num_classes, "ce")


def select(net, X, lengths, y, num_classes: int, echo=print, chunk_size: int | None = None
           ) -> dict:
    """The settings of the best leave-one-out score on (X (N, T, F), lengths, y); the
    chunk sizes of `chunk_sizes`, or only chunk_size when given."""
    H, F = net.hidden, X.shape[2]
    columns = {"mean+max": slice(H, 3 * H), "last+mean+max": slice(0, 3 * H)}
    Y, best = np.eye(num_classes)[y], None
    for k in [chunk_size] if chunk_size else chunk_sizes(int(lengths.max())):
        Xk, Lk = chunk(X, lengths, k)
        model = build(net, k * F, num_classes, "last+mean+max")
        make_reservoir(model, 1.0, 1.0, seed=net.seed)  # drawn once, rescaled below
        W_ih, W_hh = (model.rnn.params[n].copy() for n in ("weight_ih_l0", "weight_hh_l0"))
        for rho, scale in itertools.product(SPECTRAL_RADII, INPUT_SCALES):
            model.rnn.params["weight_ih_l0"][...] = scale * W_ih
            model.rnn.params["weight_hh_l0"][...] = rho * W_hh  # spectral radius ρ
            Phi = summaries(model, Xk, Lk)  # (N, 3H): last, mean, max
            for pool in POOLS:
                score = RidgePath(Phi[:, columns[pool]], Y).choose(y)
                trial = {"chunk": k, "spectral_radius": rho, "input_scale": scale,
                         "pool": pool, **score}
                if best is None or loo_key(trial) > loo_key(best):
                    best = trial
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
