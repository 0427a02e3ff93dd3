"""Helpers for the core tests: layers by name, random objectives, finite differences."""

from __future__ import annotations

import numpy as np

from rnnlab import GRU, LSTM, RNN

# (layer class, cell options, id): every cell, activation and GRU convention
CELLS = [(RNN, {"nonlinearity": a}, f"rnn-{a}")
         for a in ("tanh", "sigmoid", "relu", "leaky_relu", "elu", "identity")]
CELLS += [(LSTM, {}, "lstm"), (GRU, {"reset_after": True}, "gru-after"),
          (GRU, {"reset_after": False}, "gru-before")]
CELL_IDS = [c[2] for c in CELLS]


def as_tuple(state):
    return state if isinstance(state, tuple) else (state,)


def from_tuple(states):
    return states[0] if len(states) == 1 else tuple(states)


def random_problem(layer, T, B, rng, lengths=None, dtype=np.float64):
    """x, initial state and the weights G of the objective L = Σ G_out·out + Σ G_s·state."""
    n_state = len(layer.cell.state_names)
    LD = layer.num_layers * layer.num_directions
    x = rng.standard_normal((T, B, layer.input_size)).astype(dtype)
    if layer.batch_first:
        x = x.transpose(1, 0, 2).copy()
    s0 = tuple(0.5 * rng.standard_normal((LD, B, layer.hidden_size)).astype(dtype)
               for _ in range(n_state))
    out_shape = (B, T) if layer.batch_first else (T, B)
    g_out = rng.standard_normal(out_shape + (layer.num_directions * layer.hidden_size,)).astype(dtype)
    if lengths is not None:  # outputs past each length are constant zero
        mask = np.arange(T)[:, None] < np.asarray(lengths)[None, :]
        g_out *= (mask.T if layer.batch_first else mask)[..., None]
    g_state = tuple(rng.standard_normal(s.shape).astype(dtype) for s in s0)
    return x, s0, g_out, g_state


def objective(layer, x, s0, g_out, g_state, lengths=None, training=False, rng_state=None):
    if rng_state is not None:
        layer.rng.bit_generator.state = rng_state
    out, state, _ = layer.forward(x, from_tuple(s0), lengths, training=training)
    return float(np.sum(out * g_out) + sum(np.sum(s * g) for s, g in zip(as_tuple(state), g_state)))


def analytic(layer, x, s0, g_out, g_state, lengths=None, training=False, rng_state=None):
    """(dx, ds0 tuple, grads) of the objective by rnnlab's backward."""
    if rng_state is not None:
        layer.rng.bit_generator.state = rng_state
    _, _, cache = layer.forward(x, from_tuple(s0), lengths, training=training)
    dx, ds0, grads = layer.backward(cache, g_out, from_tuple(g_state))
    return dx, as_tuple(ds0), grads


def directional_fd(f, a: np.ndarray, direction: np.ndarray, eps=1e-6) -> float:
    """Central difference of f along `direction`, perturbing array `a` in place."""
    a += eps * direction
    fp = f()
    a -= 2 * eps * direction
    fm = f()
    a += eps * direction
    return (fp - fm) / (2 * eps)


def rel_err(a: float, b: float) -> float:
    return abs(a - b) / max(abs(a), abs(b), 1e-12)


def assert_grads_match_finite_differences(model, batch, rtol=1e-6):
    _, grads, _ = model.loss_and_grads(batch)
    assert set(grads) == set(model.params)
    eps = 1e-6
    for name, p in model.params.items():
        num = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            old = p[i]
            p[i] = old + eps
            up = model.evaluate(batch)[0]
            p[i] = old - eps
            down = model.evaluate(batch)[0]
            p[i] = old
            num[i] = (up - down) / (2 * eps)
        np.testing.assert_allclose(grads[name], num, rtol=rtol, atol=1e-8, err_msg=name)
