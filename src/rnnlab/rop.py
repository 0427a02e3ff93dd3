"""The R-operator of a layer stack and of a SequenceModel (Pearlmutter 1994).

R{f(θ)} = d/dε f(θ + εV) at ε = 0 is the forward-mode derivative of the forward pass
along a direction V of the weights (a dict named as the parameters; missing names
are zero). It runs beside the forward pass's cache, one cell `step_rop` per step:

    R{xp_t}  = W_ih R{x_t} + V_ih x_t + V_bih            all steps in one product
    v_t      = V_hh u_t + V_bhh                          all steps in one product
                                                         (cell.direction_products)
    R{s_t}   = cell.step_rop(R{xp_t}, v_t, R{s_{t-1}}, ...)   s the state, R{s_0} = 0

with lengths as in the forward (past its end a sequence's R-state stays), reversal
for the reverse direction, the dropout mask of the cache on each layer's R-input,
and layer l's R-output the R-input of layer l+1. The readout adds
R{z} = W_out R{h} + V_out h + V_bout. With the loss Hessian and one backward pass
this gives the Gauss-Newton product (rnnlab.gauss_newton).
"""

from __future__ import annotations

import numpy as np

from rnnlab.layers import Cache, DirectionCache, _gather, _select

_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def rforward_direction(cell, cache: DirectionCache, rx, params: tuple, vparams: tuple,
                       fast: bool = False):
    """R{h} (T, B, H) and R{final state} of one direction, from R{x} (T, B, I) (its
    processing order, as cache.x). params, vparams: (W_ih, W_hh, b_ih, b_hh) and
    their directions. fast: the compiled loop (rnnlab.kernels.loops.rforward) where the
    cell has one (the Elman cell), else the cells' step_rop."""
    x, states, aux, mask = cache
    W_ih, W_hh, _, _ = params
    V_ih, V_hh, V_bih, V_bhh = vparams
    T, B, I = x.shape
    rxp = (rx.reshape(T * B, I) @ W_ih.T + x.reshape(T * B, I) @ V_ih.T).reshape(T, B, -1)
    rxp += V_bih  # (T, B, G·H)
    rvp = cell.direction_products(V_hh, V_bhh, aux, states[0][:-1])  # (T, B, G·H)
    if fast:
        from rnnlab.kernels import loops

        if loops.has_rforward(cell):
            rxp += rvp
            rhs = loops.rforward(cell, rxp, states, W_hh, mask)  # (T+1, B, H)
            return (rhs[1:] * mask if mask is not None else rhs[1:]), (rhs[T],)
    rstate = tuple(np.zeros_like(s[0]) for s in states)
    rh = np.empty(x.shape[:2] + (W_hh.shape[1],), x.dtype)  # (T, B, H)
    for t in range(T):
        new = cell.step_rop(rxp[t], rvp[t], rstate, tuple(a[t] for a in aux),
                            tuple(s[t] for s in states), tuple(s[t + 1] for s in states), W_hh)
        rstate = new if mask is None else _select(mask[t], new, rstate)
        rh[t] = rstate[0]
    if mask is not None:
        rh *= mask
    return rh, rstate


def rforward(layer, cache: Cache, v: dict, rx=None):
    """R{output} (T, B, D·H) and R{final state} (as forward's) of a layer stack along
    v (named as layer.params) and R{x} (shaped as x; None = 0), at the point of
    `cache` (layer.forward's, time-major)."""
    if cache.batch_first:
        raise ValueError("cache: the R-operator runs on time-major caches (batch_first=False)")
    first = cache.layers[0].directions[0]
    rinp = np.zeros_like(first.x) if rx is None else np.asarray(rx, first.x.dtype)
    finals, fast = [], layer._use_fast()
    for layer_i, lc in enumerate(cache.layers):
        if lc.dropout_mask is not None:
            rinp = rinp * lc.dropout_mask
        outs = []
        for d, suffix in enumerate(layer.suffixes(layer_i)):
            params = tuple(layer.params[f"{n}{suffix}"] for n in _NAMES)
            vparams = tuple(v.get(f"{n}{suffix}", np.zeros_like(p)) for n, p in zip(_NAMES, params))
            rxd = rinp if d == 0 else _gather(rinp, cache.rev_index)
            rh, rfinal = rforward_direction(layer.cell, lc.directions[d], rxd, params, vparams,
                                            fast)
            outs.append(rh if d == 0 else _gather(rh, cache.rev_index))
            finals.append(rfinal)
        rinp = outs[0] if len(outs) == 1 else np.concatenate(outs, axis=-1)  # (T, B, D·H)
    final = tuple(np.stack(s) for s in zip(*finals))  # each (L·D, B, H)
    return rinp, (final[0] if len(final) == 1 else final)


def _sub(v: dict, prefix: str) -> dict:
    n = len(prefix) + 1
    return {k[n:]: a for k, a in v.items() if k.startswith(prefix + ".")}


def model_rforward(model, cache, v: dict):
    """R{z} of a SequenceModel's outputs and R{top layer's output} (T, B, D·H), along
    v (named as model.params), at the point of model.forward's cache."""
    from rnnlab.models import _top_h
    from rnnlab.readout import Embedding

    ecache, rcache, h = cache
    rx = None
    if isinstance(model.embedding, Embedding) and "embedding.weight" in v:
        rx = v["embedding.weight"][ecache]  # (T, B, E)
    rout, rfinal = rforward(model.rnn, rcache, _sub(v, "rnn"), rx)
    rh = rout if model.target == "each" else _top_h(model.rnn, rfinal)
    W = model.readout.params["weight"]
    vr = _sub(v, "readout")
    rz = rh @ W.T
    if "weight" in vr:
        rz += h @ vr["weight"].T
    if "bias" in vr:
        rz += vr["bias"]
    return rz, rout
