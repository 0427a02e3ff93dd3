"""Truncated backpropagation through time, TBPTT(k1, k2) (Williams and Peng 1990).

The forward pass runs through the stream once, step by step (in chunks of k1 steps,
each a layer forward from the state the previous chunk ended in). Update u happens
after step t_u = min(u·k1, T) (steps counted from 1; the last chunk may be shorter,
n_u = t_u - t_{u-1} steps). Its gradient is exactly

    ∇θ L_u,   L_u = Σ_{t ∈ (t_u - m_u, t_u]} ℓ_t,   m_u = min(n_u, k2)

computed with the state s_{t_u - k2} (h, and c for the LSTM, every layer) held
constant: the gradient stops at the start of the window (t_u - k2, t_u] of the last
k2 steps, and each loss is back-propagated to that start only. So:

    k1 = k2   chunked BPTT: each chunk's losses, back-propagated within the chunk
    k2 > k1   overlapping windows: every loss enters exactly one update, and flows
              back up to k2 steps; the k2 - k1 older steps of the window are re-used
              from the stored caches of the previous chunks (nothing is recomputed)
    k2 < k1   the cheap variant of the lecture notes: only the last k2 losses of each
              chunk enter, back-propagated within the last k2 steps; the first
              k1 - k2 steps of each chunk are forward only

The ℓ_t reduce as the model's loss says (rnnlab.losses: reduction "sum" divides by B,
"mean" by the number of losses in L_u). One window with k1 = k2 = T is full BPTT.
With updates in between (the online algorithm of Williams and Peng), the older part of
a k2 > k1 window keeps the states computed with the weights of their time and is
back-propagated with the current weights; it is not recomputed.

Streams: `stateful=True` carries the final state (and the stored chunks) from one
batch to the next, as B parallel streams of one long sequence; `reset()` starts
again from the zero state. Truncation is for unidirectional layers (a reverse
direction would need the future): bidirectional models are refused.
"""

from __future__ import annotations

import math

import numpy as np

from rnnlab._checks import check_positive_int
from rnnlab.layers import Cache, DirectionCache, LayerCache
from rnnlab.models import Batch, SequenceModel, add_grads


def slice_layer_cache(cache: Cache, start: int, stop: int) -> Cache:
    """The cache of steps [start, stop) of a unidirectional layer forward: the same
    as a forward over those steps from the state at `start`."""
    layers = tuple(
        LayerCache(None if lc.dropout_mask is None else lc.dropout_mask[start:stop], tuple(
            DirectionCache(dc.x[start:stop], tuple(s[start : stop + 1] for s in dc.states),
                           tuple(a[start:stop] for a in dc.aux),
                           None if dc.mask is None else dc.mask[start:stop])
            for dc in lc.directions))
        for lc in cache.layers)
    return Cache(layers, None, cache.batch_first)


def slice_model_cache(cache, start: int, stop: int):
    """The same for a SequenceModel(target="each") cache (embedding, layers, readout)."""
    ecache, rcache, hcache = cache
    return (None if ecache is None else ecache[start:stop],
            slice_layer_cache(rcache, start, stop), hcache[start:stop])


class TruncatedBPTT:
    """TBPTT(k1, k2) for a many-to-many SequenceModel; see the module docstring.

    `update(batch, u)` runs chunk u of batch (call u = 0, 1, ... in order) and returns
    (loss L_u, grads, info); `updates(batch)` yields them all. Apply the optimizer
    between updates: the next chunk then runs with the new weights.
    """

    def __init__(self, model: SequenceModel, k1: int, k2: int | None = None,
                 stateful: bool = False):
        if not isinstance(model, SequenceModel) or model.target != "each":
            raise ValueError("model: truncated BPTT needs a many-to-many SequenceModel "
                             "(target='each')")
        if model.rnn.bidirectional:
            raise ValueError("model: truncated BPTT runs forward in time and cannot "
                             "truncate a bidirectional layer (its reverse direction reads "
                             "the future); use full BPTT")
        self.model = model
        self.k1 = check_positive_int("k1", k1)
        self.k2 = self.k1 if k2 is None else check_positive_int("k2", k2)
        self.stateful = bool(stateful)
        self.reset()

    def reset(self) -> None:
        """Forget the carried state and the stored chunks: the next chunk starts from zero."""
        self.state = None
        self.chunks: list = []  # caches of earlier chunks still inside future windows

    def n_updates(self, T: int) -> int:
        return math.ceil(T / self.k1)

    def updates(self, batch: Batch):
        for u in range(self.n_updates(len(batch.x))):
            yield self.update(batch, u)

    def update(self, batch: Batch, u: int):
        if batch.lengths is not None:
            raise ValueError("batch.lengths: truncated BPTT runs over streams of equal length; "
                             "use a mask for missing targets")
        T = len(batch.x)
        start, stop = u * self.k1, min((u + 1) * self.k1, T)
        if not 0 <= start < T:
            raise ValueError(f"u: expected an update index in [0, {self.n_updates(T)}), got {u}")
        if u == 0 and not self.stateful:
            self.reset()
        n, B = stop - start, batch.x.shape[1]
        z, final, cache = self.model.forward(batch.x[start:stop], self.state, training=True)
        m = min(n, self.k2)
        losses = np.zeros((n, B), bool)  # (n, B): the steps whose loss enters L_u
        losses[n - m :] = True
        if batch.mask is not None:
            losses &= np.asarray(batch.mask[start:stop], bool)
        loss, dz, info = self.model.score(z, batch.y[start:stop], losses)
        self.chunks.append(cache)
        grads = self._backward_window(dz, n)
        self.state = final
        self._drop_chunks(n_next=min(self.k1, T - stop) if stop < T else min(self.k1, T))
        return loss, grads, info

    def _backward_window(self, dz, n: int) -> dict:
        """BPTT over the last k2 steps: the newest chunk with the loss, then the stored
        ones with the state gradient alone."""
        grads, d_state, left = {}, None, self.k2
        for i in range(len(self.chunks) - 1, -1, -1):
            c = self.chunks[i]
            n_c = len(c[2])
            take = min(n_c, left)
            if take < n_c:
                c = slice_model_cache(c, n_c - take, n_c)
            newest = i == len(self.chunks) - 1
            d_state, g = self.model.backward(c, dz[n - take :] if newest else None, d_state)
            add_grads(grads, g)
            left -= take
            if left == 0:
                break
        return grads

    def _drop_chunks(self, n_next: int) -> None:
        """Keep the chunks that hold the k2 - n_next steps the next window re-uses."""
        need = self.k2 - n_next
        kept, steps = [], 0
        for c in reversed(self.chunks):
            if steps >= need:
                break
            kept.append(c)
            steps += len(c[2])
        self.chunks = kept[::-1]

    # ---- checkpoints: the carried state and the stored chunks -------------------------

    def state_dict(self) -> dict[str, np.ndarray]:
        """The carried state and the stored chunk caches, as named arrays, so that a
        resumed stream continues exactly (k2 > k1 windows reach into stored chunks)."""
        out = {}
        if self.state is not None:
            states = self.state if isinstance(self.state, tuple) else (self.state,)
            out.update({f"state.{i}": s for i, s in enumerate(states)})
        for i, cache in enumerate(self.chunks):
            out.update({f"chunk{i}.{k}": a for k, a in _flatten_chunk(cache).items()})
        return out

    def load_state_dict(self, d: dict) -> None:
        self.reset()
        states = _numbered(d, "state.")
        if states:
            self.state = states[0] if len(states) == 1 else tuple(states)
        i = 0
        while f"chunk{i}.h" in d:
            p = f"chunk{i}."
            self.chunks.append(_unflatten_chunk({k[len(p):]: a for k, a in d.items()
                                                 if k.startswith(p)}))
            i += 1


def _flatten_chunk(cache) -> dict[str, np.ndarray]:
    """A SequenceModel chunk cache as named arrays: e (tokens), h (readout input), and per
    layer l: l.drop, l.x, l.s<j> (states), l.a<j> (aux), l.mask."""
    ecache, rcache, hcache = cache
    out = {"h": hcache}
    if ecache is not None:
        out["e"] = ecache
    for l, lc in enumerate(rcache.layers):
        (dc,) = lc.directions
        named = {"drop": lc.dropout_mask, "x": dc.x, "mask": dc.mask,
                 **{f"s{j}": s for j, s in enumerate(dc.states)},
                 **{f"a{j}": a for j, a in enumerate(dc.aux)}}
        out.update({f"{l}.{k}": a for k, a in named.items() if a is not None})
    return out


def _numbered(d: dict, prefix: str) -> tuple:
    """(d[prefix0], d[prefix1], ...) for as long as the keys exist."""
    out = []
    while f"{prefix}{len(out)}" in d:
        out.append(d[f"{prefix}{len(out)}"])
    return tuple(out)


def _unflatten_chunk(d: dict):
    layers = []
    while f"{len(layers)}.x" in d:
        p = f"{len(layers)}."
        dc = DirectionCache(d[p + "x"], _numbered(d, p + "s"), _numbered(d, p + "a"),
                            d.get(p + "mask"))
        layers.append(LayerCache(d.get(p + "drop"), (dc,)))
    return d.get("e"), Cache(tuple(layers), None, False), d["h"]
