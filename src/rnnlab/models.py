"""Models: a recurrent stack with its input and readout, one per sequence scheme.

The common interface, which the trainer, the optimizers, the diagnostics and the
gradient remedies rely on:

    model.params                  one flat dict of the live arrays, named
                                  "<component>.<name>" ("rnn.weight_hh_l0", "readout.weight")
    model.loss_and_grads(batch)   -> (loss, grads, info): training pass, dropout on;
                                  grads named as params; info has "n" (sequences) and,
                                  for classification losses, "correct" and "count"
    model.evaluate(batch)         -> (loss, info): the same without gradients, dropout off
    model.rngs()                  every generator the model draws from (checkpoints save them)
    model.load_params(flat)       copy values into the live arrays (in place)
    model.spec                    its rnnlab.spec.ModelSpec (Model.from_spec is the inverse)
    model.save(path)              a weights-only checkpoint; rnnlab.load(path) reads it back

Arrays are time-major. A `Batch` holds x, y, and optionally lengths (B,) and a mask
over y's leading axes. The schemes (Karpathy's pictures; Cho et al. 2014):

    SequenceModel(target="last")   many-to-one: z = W_out h_last + b, h_last the top
                                   layer's state at each sequence's own last step
                                   (both directions' final states when bidirectional)
    SequenceModel(target="each")   many-to-many, equal length: z_t = W_out h_t + b
    OneToMany                      x (B, C) enters at step 1 only; the net emits T outputs,
                                   feeding back its previous output when feedback=True
    EncoderDecoder                 the encoder's final state starts the decoder; teacher
                                   forcing in training, greedy decoding at inference

The loss and its reduction are those of rnnlab.losses.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from rnnlab import losses
from rnnlab._checks import check_option, check_positive_int
from rnnlab.readout import Embedding, OneHot, Readout

if TYPE_CHECKING:
    from rnnlab.layers import _RecurrentLayer
    from rnnlab.spec import ModelSpec

State = np.ndarray | tuple[np.ndarray, ...]  # a layer's state: h, or (h, c); (L·D, B, H) each
Grads = dict[str, np.ndarray]  # gradients named as the parameters


@dataclass
class Batch:
    """One mini-batch, time-major."""

    x: np.ndarray  # (T, B, I) floats, (T, B) token ids, or (B, C) for OneToMany
    y: np.ndarray  # (T, B[, K]) per step, or (B[, K]) per sequence
    lengths: np.ndarray | None = None  # (B,) real steps of x
    mask: np.ndarray | None = None  # over y's leading axes: 1 where a target exists


def _prefixed(prefix: str, d: dict) -> dict:
    return {f"{prefix}.{n}": a for n, a in d.items()}


def add_grads(total: dict, grads: dict) -> dict:
    """total += grads, name by name (in place; new names are copied in)."""
    for n, g in grads.items():
        if n in total:
            total[n] += g
        else:
            total[n] = g.copy()
    return total


class Model:
    """Base: components by name (each with .params), the loss, and the interface above."""

    loss: str
    reduction: str
    seed: int | None = None  # the spec's seed when built from one

    def components(self) -> dict:
        raise NotImplementedError

    @property
    def params(self) -> dict[str, np.ndarray]:
        flat = {}
        for prefix, comp in self.components().items():
            flat.update(_prefixed(prefix, comp.params))
        return flat

    def load_params(self, flat: dict) -> None:
        own = self.params
        missing = sorted(set(own) - set(flat))
        unexpected = sorted(set(flat) - set(own))
        if missing or unexpected:
            raise KeyError(f"params: missing {missing}, unexpected {unexpected}")
        for n, p in own.items():
            a = np.asarray(flat[n])
            if a.shape != p.shape:
                raise ValueError(f"params[{n!r}]: expected shape {p.shape}, got {a.shape}")
            if a.dtype.kind not in "fiu":
                raise TypeError(f"params[{n!r}]: expected real numbers, got dtype {a.dtype}")
            p[...] = a

    def rngs(self) -> dict[str, np.random.Generator]:
        return {p: c.rng for p, c in self.components().items() if hasattr(c, "rng")}

    def loss_and_grads(self, batch: Batch) -> tuple[float, Grads, dict]:
        raise NotImplementedError

    def evaluate(self, batch: Batch) -> tuple[float, dict]:
        raise NotImplementedError

    @property
    def spec(self) -> ModelSpec:
        """The rnnlab.spec.ModelSpec that rebuilds this model (weights aside)."""
        raise NotImplementedError

    @classmethod
    def from_spec(cls, spec: ModelSpec) -> Model:
        raise NotImplementedError

    def save(self, path: str | os.PathLike, meta: dict | None = None) -> Path:
        """Write the spec and the weights (and `meta`, JSON-ready) to one checkpoint file,
        atomically; rnnlab.load(path) returns the model."""
        from rnnlab.checkpoint import save_model

        return save_model(self, path, meta)

    def score(self, z: np.ndarray, y: np.ndarray,
              mask: np.ndarray | None) -> tuple[float, np.ndarray, dict]:
        """(L, ∂L/∂z, info) of outputs z against targets y where mask is set, with this
        model's loss and reduction; info as loss_and_grads'."""
        loss, dz = losses.get_loss(self.loss)(z, y, mask, self.reduction)
        info = {"n": int(z.shape[-2])}
        if self.loss in ("ce", "bce", "hinge"):
            real = np.ones(z.shape[:-1], bool) if mask is None else np.asarray(mask, bool)
            info["correct"] = int(np.sum(losses.correct(z, y, self.loss) & real))
            info["count"] = int(real.sum())
        return loss, dz, info


def _check_time_major(rnn, name: str = "rnn"):
    if rnn.batch_first:
        raise ValueError(f"{name}: models are time-major; build the layer with batch_first=False")


def _top_h(rnn, state):
    """The top layer's final h of every direction, (B, D·H), from a layer's final state."""
    h_n = state[0] if isinstance(state, tuple) else state  # (L·D, B, H)
    D = rnn.num_directions
    return np.concatenate(list(h_n[-D:]), axis=-1)


def _d_state_from_top(rnn, d_top, B):
    """∂L/∂(final state) with ∂L/∂(top layer's final h) = d_top (B, D·H), zero elsewhere."""
    L, D, H = rnn.num_layers, rnn.num_directions, rnn.hidden_size
    dh = np.zeros((L * D, B, H), rnn.dtype)
    for d in range(D):
        dh[(L - 1) * D + d] = d_top[:, d * H : (d + 1) * H]
    if len(rnn.cell.state_names) == 1:
        return dh
    return (dh,) + tuple(np.zeros_like(dh) for _ in rnn.cell.state_names[1:])


POOLS = ("last", "mean", "max")


def _check_pool(pool: str) -> tuple[str, ...]:
    kinds = tuple(pool.split("+"))
    for k in kinds:
        check_option("pool", k, POOLS)
    if len(set(kinds)) != len(kinds):
        raise ValueError(f"pool: expected distinct summaries joined by '+', got {pool!r}")
    return kinds


def pool_forward(kinds: tuple[str, ...], out: np.ndarray, last: np.ndarray,
                 lengths: np.ndarray | None) -> tuple[np.ndarray, tuple]:
    """The per-sequence summary h (B, P·D·H): the P summaries in `kinds`, concatenated.

    out (T, B, D·H) the top layer's outputs (zero past each length T_b), last (B, D·H)
    the final states; "mean": (1/T_b) Σ_{t<T_b} out_t, "max": max_{t<T_b} out_t (per unit).
    Returns (h, cache); the cache holds what the backward needs."""
    T, B = out.shape[:2]
    L = np.full(B, T) if lengths is None else np.asarray(lengths)  # (B,)
    parts, argmax = [], None
    for k in kinds:
        if k == "last":
            parts.append(last)
        elif k == "mean":
            parts.append(out.sum(0) / L[:, None].astype(out.dtype))  # (B, D·H)
        else:
            real = np.arange(T)[:, None, None] < L[None, :, None]  # (T, B, 1)
            argmax = np.where(real, out, -np.inf).argmax(0)  # (B, D·H)
            parts.append(np.take_along_axis(out, argmax[None], 0)[0])
    return np.concatenate(parts, axis=-1), (kinds, out.shape, L, argmax)


def pool_backward(cache: tuple, dh: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(∂L/∂out (T, B, D·H) or None, ∂L/∂last (B, D·H) or None) from ∂L/∂h (B, P·D·H):
    mean spreads dh/T_b over the real steps, max routes dh to each unit's argmax step."""
    kinds, shape, L, argmax = cache
    T = shape[0]
    d_out, d_last = None, None
    for k, g in zip(kinds, np.split(dh, len(kinds), axis=-1)):
        if k == "last":
            d_last = g
            continue
        d_out = np.zeros(shape, dh.dtype) if d_out is None else d_out
        if k == "mean":
            real = np.arange(T)[:, None, None] < L[None, :, None]  # (T, B, 1)
            d_out += real * (g / L[:, None].astype(dh.dtype))[None]
        else:
            np.put_along_axis(d_out, argmax[None], np.take_along_axis(d_out, argmax[None], 0)
                              + g[None], 0)
    return d_out, d_last


class SequenceModel(Model):
    """Many-to-one (target="last") or many-to-many (target="each") over a layer stack.

    embedding: None (x are vectors), an Embedding or OneHot (x are token ids).
    The loss picks the readout's non-linearity F (rnnlab.losses.OUTPUT_ACTIVATION).
    pool (target="last"): what the readout sees of each sequence, summaries joined by
    '+' from "last" (the final state), "mean" and "max" (over its real steps), e.g.
    "last+mean"; the readout then reads P·D·H values (`pool_forward`).
    """

    def __init__(self, rnn: _RecurrentLayer, output_size: int, *, loss: str = "mse",
                 target: str = "each",
                 embedding: Embedding | OneHot | None = None, reduction: str = "sum",
                 seed: int | None = None, pool: str = "last"):
        _check_time_major(rnn)
        check_option("loss", loss, losses.LOSSES)
        check_option("target", target, ("each", "last"))
        check_option("reduction", reduction, losses.REDUCTIONS)
        if embedding is not None and embedding.dim != rnn.input_size:
            raise ValueError(f"embedding: its dim {embedding.dim} must equal the layer's "
                             f"input_size {rnn.input_size}")
        self.rnn, self.embedding = rnn, embedding
        self.target, self.loss, self.reduction = target, loss, reduction
        self.pool, kinds = pool, _check_pool(pool)
        if target == "each" and kinds != ("last",):
            raise ValueError(f"pool: a many-to-many model reads every step; got pool={pool!r}")
        D = rnn.num_directions
        self.readout = Readout(len(kinds) * D * rnn.hidden_size,
                               check_positive_int("output_size", output_size),
                               dtype=rnn.dtype, seed=seed)

    def components(self) -> dict:
        comps = {"rnn": self.rnn, "readout": self.readout}
        if self.embedding is not None:
            comps["embedding"] = self.embedding
        return comps

    @property
    def spec(self) -> ModelSpec:
        from rnnlab.spec import LayerSpec, ModelSpec

        emb = self.embedding
        return ModelSpec("many_to_one" if self.target == "last" else "many_to_many",
                         LayerSpec.of(self.rnn), self.readout.output_size, self.loss,
                         self.reduction,
                         embedding=None if emb is None else _EMBEDDING_NAMES[type(emb)],
                         vocab_size=None if emb is None else emb.vocab_size,
                         pooling=self.pool, dtype=str(self.rnn.dtype), seed=self.seed)

    @classmethod
    def from_spec(cls, spec: ModelSpec) -> Model:
        _check_unused(spec, ("cond_size", "decoder"))
        dtype, seed = spec.dtype, spec.seed
        embedding = None
        if spec.embedding == "onehot":
            embedding = OneHot(spec.vocab_size, dtype=dtype)
        elif spec.embedding == "embedding":
            embedding = Embedding(spec.vocab_size, spec.rnn.input_size, dtype=dtype,
                                  seed=_offset(seed, 2))
        model = cls(spec.rnn.build(dtype, seed), spec.output_size, loss=spec.loss,
                    target="last" if spec.scheme == "many_to_one" else "each",
                    embedding=embedding, reduction=spec.reduction, seed=_offset(seed, 1),
                    pool=spec.pooling)
        model.seed = seed
        return model

    # ---- the pieces (truncated BPTT runs them chunk by chunk) --------------------

    def summary(self, x: np.ndarray, state: State | None = None,
                lengths: np.ndarray | None = None, training: bool = False,
                keep: bool = True) -> tuple[np.ndarray, State, tuple]:
        """What the readout reads: (h, final state, (ecache, rcache, pcache)); h (T, B, D·H)
        for "each", (B, P·D·H) the pooled summaries for "last" (pcache None otherwise).
        keep=False: inference only, the layer stores nothing for backward (rcache None)."""
        ecache, pcache, rcache = None, None, None
        if self.embedding is not None:
            x, ecache = self.embedding.forward(x)  # (T, B, E)
        if keep:
            out, final, rcache = self.rnn.forward(x, state, lengths, training=training)
        else:
            out, final = self.rnn(x, state, lengths)
        h = out
        if self.target == "last":
            h, pcache = pool_forward(_check_pool(self.pool), out, _top_h(self.rnn, final),
                                     lengths)
        return h, final, (ecache, rcache, pcache)

    def forward(self, x: np.ndarray, state: State | None = None,
                lengths: np.ndarray | None = None,
                training: bool = False) -> tuple[np.ndarray, State, tuple]:
        """Return (z, final state, cache); z (T, B, K) for "each", (B, K) for "last".
        The cache is (ecache, rcache, h) with h the readout's input, and a fourth value,
        the pooling's cache, when the readout reads more than the last state."""
        h, final, (ecache, rcache, pcache) = self.summary(x, state, lengths, training)
        z, hcache = self.readout.forward(h)
        pooled = self.target == "last" and self.pool != "last"
        return z, final, (ecache, rcache, hcache) + ((pcache,) if pooled else ())

    def backward(self, cache: tuple, dz: np.ndarray | None = None, d_state: State | None = None,
                 *, return_deltas: bool = False) -> tuple:
        """Return (∂L/∂(initial state), grads) from ∂L/∂z (None: no loss on these
        outputs) and ∂L/∂(final state); with return_deltas, a third value: the
        stack's per-step errors (layer.backward's, for rnnlab.diagnostics)."""
        ecache, rcache, hcache, *pcache = cache
        grads, d_out = {}, None
        if dz is not None:
            dh, g = self.readout.backward(hcache, dz)
            grads.update(_prefixed("readout", g))
            if self.target == "each":
                d_out = dh
            else:
                d_out, d_last = pool_backward(pcache[0], dh) if pcache else (None, dh)
                if d_last is not None:
                    d_top = _d_state_from_top(self.rnn, d_last, d_last.shape[0])
                    d_state = d_top if d_state is None else _add_states(d_state, d_top)
        dx, d0, g, *deltas = self.rnn.backward(rcache, d_out, d_state, return_deltas=return_deltas)
        grads.update(_prefixed("rnn", g))
        if self.embedding is not None:
            grads.update(_prefixed("embedding", self.embedding.backward(ecache, dx)[1]))
        return (d0, grads, deltas[0]) if return_deltas else (d0, grads)

    def _mask(self, batch: Batch, T: int):
        """Targets exist where batch.mask says and, per step, before each length."""
        mask = batch.mask
        if self.target == "each" and batch.lengths is not None:
            real = np.arange(T)[:, None] < np.asarray(batch.lengths)[None, :]  # (T, B)
            mask = real if mask is None else np.asarray(mask, bool) & real
        return mask

    def loss_and_grads(self, batch: Batch, *,
                       keep_pass: bool = False) -> tuple[float, Grads, dict]:
        """keep_pass: info["pass"] = (cache, dz, deltas) of this forward/backward, what
        the temporal diagnostics and remedies (rnnlab.remedies) are built from."""
        z, _, cache = self.forward(batch.x, None, batch.lengths, training=True)
        loss, dz, info = self.score(z, batch.y, self._mask(batch, len(batch.x)))
        _, grads, *deltas = self.backward(cache, dz, return_deltas=keep_pass)
        if keep_pass:
            info["pass"] = (cache, dz, deltas[0])
        return loss, grads, info

    def evaluate(self, batch: Batch) -> tuple[float, dict]:
        z, _, _ = self.forward(batch.x, None, batch.lengths)
        loss, _, info = self.score(z, batch.y, self._mask(batch, len(batch.x)))
        return loss, info

    def predict(self, x: np.ndarray, lengths: np.ndarray | None = None) -> np.ndarray:
        """y = F(z), the readout's output."""
        return losses.output(self.forward(x, None, lengths)[0], self.loss)


def _add_states(a, b):
    if isinstance(a, tuple):
        return tuple(x + y for x, y in zip(a, b))
    return a + b


def _feedback(z, loss: str) -> np.ndarray:
    """What a generating net feeds back of its own output: one-hot of argmax (ce),
    thresholded bits (bce), z itself otherwise."""
    if loss == "ce":
        return np.eye(z.shape[-1], dtype=z.dtype)[z.argmax(-1)]
    if loss == "bce":
        return (z > 0).astype(z.dtype)
    return z


def _target_as_input(y, loss: str, K: int, dtype) -> np.ndarray:
    """Teacher forcing: the target in the form the net would feed back."""
    if loss == "ce":
        return np.eye(K, dtype=dtype)[np.where(y < 0, 0, y)]
    return np.asarray(y, dtype)


class OneToMany(Model):
    """One input vector x (B, C), T outputs. The layer's input at step t is
    [x if t = 0 else 0; f_{t-1}] where f_{t-1} is the previous output fed back
    (0 at t = 0, absent when feedback=False, so input_size = C (+ K)). In training
    f_{t-1} is the target y_{t-1} (teacher forcing); `generate` feeds back its own
    output (rnnlab.models._feedback)."""

    def __init__(self, rnn: _RecurrentLayer, cond_size: int, output_size: int, *,
                 loss: str = "mse",
                 feedback: bool = False, reduction: str = "sum", seed: int | None = None):
        _check_time_major(rnn)
        if rnn.bidirectional:
            raise ValueError("rnn: a generating net runs forward in time; got bidirectional=True")
        check_option("loss", loss, losses.LOSSES)
        self.cond_size = check_positive_int("cond_size", cond_size)
        K = check_positive_int("output_size", output_size)
        expected = cond_size + (K if feedback else 0)
        if rnn.input_size != expected:
            raise ValueError(f"rnn: input_size must be cond_size{' + output_size' * feedback} = "
                             f"{expected}, got {rnn.input_size}")
        self.rnn, self.feedback, self.loss, self.reduction = rnn, bool(feedback), loss, reduction
        self.readout = Readout(rnn.hidden_size, K, dtype=rnn.dtype, seed=seed)

    def components(self) -> dict:
        return {"rnn": self.rnn, "readout": self.readout}

    @property
    def spec(self) -> ModelSpec:
        from rnnlab.spec import LayerSpec, ModelSpec

        return ModelSpec("one_to_many", LayerSpec.of(self.rnn), self.readout.output_size,
                         self.loss, self.reduction, cond_size=self.cond_size,
                         feedback=self.feedback, dtype=str(self.rnn.dtype), seed=self.seed)

    @classmethod
    def from_spec(cls, spec: ModelSpec) -> Model:
        _check_unused(spec, ("embedding", "decoder"))
        if spec.cond_size is None:
            raise ValueError("model spec: one_to_many needs cond_size")
        model = cls(spec.rnn.build(spec.dtype, spec.seed), spec.cond_size, spec.output_size,
                    loss=spec.loss, feedback=spec.feedback, reduction=spec.reduction,
                    seed=_offset(spec.seed, 1))
        model.seed = spec.seed
        return model

    def _inputs(self, x, y) -> np.ndarray:
        T, B = y.shape[0], x.shape[0]
        inp = np.zeros((T, B, self.rnn.input_size), self.rnn.dtype)  # (T, B, C [+ K])
        inp[0, :, : self.cond_size] = x
        if self.feedback:
            K = self.readout.output_size
            inp[1:, :, self.cond_size :] = _target_as_input(y[:-1], self.loss, K, self.rnn.dtype)
        return inp

    def _run(self, batch: Batch, training: bool):
        out, _, cache = self.rnn.forward(self._inputs(batch.x, batch.y), training=training)
        z, h = self.readout.forward(out)  # (T, B, K)
        return (*self.score(z, batch.y, batch.mask), cache, h)

    def loss_and_grads(self, batch: Batch) -> tuple[float, Grads, dict]:
        loss, dz, info, cache, h = self._run(batch, training=True)
        dh, g = self.readout.backward(h, dz)
        _, _, g_rnn = self.rnn.backward(cache, dh)
        return loss, {**_prefixed("rnn", g_rnn), **_prefixed("readout", g)}, info

    def evaluate(self, batch: Batch) -> tuple[float, dict]:
        loss, _, info, _, _ = self._run(batch, training=False)
        return loss, info

    def generate(self, x: np.ndarray, steps: int) -> np.ndarray:
        """z (steps, B, K): the net run on its own outputs from x (B, C)."""
        B = x.shape[0]
        inp = np.zeros((1, B, self.rnn.input_size), self.rnn.dtype)
        inp[0, :, : self.cond_size] = x
        state, zs = None, []
        for _ in range(check_positive_int("steps", steps)):
            out, state = self.rnn(inp, state)
            z, _ = self.readout.forward(out[0])  # (B, K)
            zs.append(z)
            inp = np.zeros_like(inp)
            if self.feedback:
                inp[0, :, self.cond_size :] = _feedback(z, self.loss)
        return np.stack(zs)


class EncoderDecoder(Model):
    """Cho et al. (2014): an encoder reads the source tokens; its final state (at each
    sequence's own last step, with lengths) is the decoder's initial state. The decoder
    reads [bos, y_0, ..., y_{T-2}] (teacher forcing) and predicts y_0 .. y_{T-1} through
    a softmax readout (cross-entropy). Batch: x (S, B) source ids, lengths (B,), y (T, B)
    target ids, mask (T, B) where targets exist (padding may be any id, e.g. -1)."""

    def __init__(self, encoder: _RecurrentLayer, decoder: _RecurrentLayer, src_vocab: int,
                 tgt_vocab: int, *, bos: int = 0,
                 reduction: str = "sum", seed: int | None = None):
        for name, r in (("encoder", encoder), ("decoder", decoder)):
            _check_time_major(r, name)
            if r.bidirectional:
                raise ValueError(f"{name}: expected a unidirectional layer (its final state "
                                 "starts the decoder), got bidirectional=True")
        if (type(encoder), encoder.hidden_size, encoder.num_layers) != (
                type(decoder), decoder.hidden_size, decoder.num_layers):
            raise ValueError("decoder: expected the encoder's cell type, hidden_size and "
                             "num_layers (its state is the decoder's initial state)")
        if not 0 <= bos < tgt_vocab:
            raise ValueError(f"bos: expected a target id in [0, {tgt_vocab}), got {bos}")
        self.encoder, self.decoder, self.bos = encoder, decoder, int(bos)
        self.loss, self.reduction = "ce", reduction
        self.src_embedding = Embedding(src_vocab, encoder.input_size, dtype=encoder.dtype, seed=seed)
        self.tgt_embedding = Embedding(tgt_vocab, decoder.input_size, dtype=decoder.dtype,
                                       seed=None if seed is None else seed + 1)
        self.readout = Readout(decoder.hidden_size, tgt_vocab, dtype=decoder.dtype,
                               seed=None if seed is None else seed + 2)

    def components(self) -> dict:
        return {"encoder": self.encoder, "decoder": self.decoder, "src_embedding": self.src_embedding,
                "tgt_embedding": self.tgt_embedding, "readout": self.readout}

    @property
    def spec(self) -> ModelSpec:
        from rnnlab.spec import LayerSpec, ModelSpec

        return ModelSpec("encoder_decoder", LayerSpec.of(self.encoder),
                         self.tgt_embedding.vocab_size, "ce", self.reduction,
                         embedding="embedding", vocab_size=self.src_embedding.vocab_size,
                         decoder=LayerSpec.of(self.decoder), bos=self.bos,
                         dtype=str(self.encoder.dtype), seed=self.seed)

    @classmethod
    def from_spec(cls, spec: ModelSpec) -> Model:
        _check_unused(spec, ("cond_size",))
        if spec.decoder is None or spec.vocab_size is None or spec.loss != "ce":
            raise ValueError("model spec: encoder_decoder needs decoder, vocab_size (the "
                             "source vocabulary) and loss 'ce'")
        dtype, seed = spec.dtype, spec.seed
        model = cls(spec.rnn.build(dtype, seed), spec.decoder.build(dtype, _offset(seed, 3)),
                    spec.vocab_size, spec.output_size, bos=spec.bos, reduction=spec.reduction,
                    seed=_offset(seed, 2))
        model.seed = seed
        return model

    def _run(self, batch: Batch, training: bool):
        y = np.asarray(batch.y)
        prev = np.concatenate([np.full((1, y.shape[1]), self.bos), y[:-1]])  # (T, B)
        prev = np.where(prev < 0, self.bos, prev)
        xs, ecache = self.src_embedding.forward(batch.x)  # (S, B, E)
        _, state, enc_cache = self.encoder.forward(xs, None, batch.lengths, training=training)
        xt, tcache = self.tgt_embedding.forward(prev)  # (T, B, E)
        out, _, dec_cache = self.decoder.forward(xt, state, training=training)
        z, h = self.readout.forward(out)  # (T, B, V)
        loss, dz, info = self.score(z, y, batch.mask)
        return loss, dz, info, (ecache, enc_cache, tcache, dec_cache, h)

    def loss_and_grads(self, batch: Batch) -> tuple[float, Grads, dict]:
        loss, dz, info, (ecache, enc_cache, tcache, dec_cache, h) = self._run(batch, True)
        dh, g_out = self.readout.backward(h, dz)
        dxt, d_state, g_dec = self.decoder.backward(dec_cache, dh)
        dxs, _, g_enc = self.encoder.backward(enc_cache, None, d_state)
        grads = {**_prefixed("encoder", g_enc), **_prefixed("decoder", g_dec),
                 **_prefixed("src_embedding", self.src_embedding.backward(ecache, dxs)[1]),
                 **_prefixed("tgt_embedding", self.tgt_embedding.backward(tcache, dxt)[1]),
                 **_prefixed("readout", g_out)}
        return loss, grads, info

    def evaluate(self, batch: Batch) -> tuple[float, dict]:
        loss, _, info, _ = self._run(batch, False)
        return loss, info

    def greedy_decode(self, x: np.ndarray, lengths: np.ndarray | None = None,
                      steps: int = 10) -> np.ndarray:
        """Token ids (steps, B): at each step the argmax of the softmax is fed back."""
        xs, _ = self.src_embedding.forward(x)
        _, state = self.encoder(xs, None, lengths)
        tok = np.full((1, x.shape[1]), self.bos)
        out_tokens = []
        for _ in range(check_positive_int("steps", steps)):
            xt, _ = self.tgt_embedding.forward(tok)
            out, state = self.decoder(xt, state)
            tok = self.readout.forward(out)[0].argmax(-1)  # (1, B)
            out_tokens.append(tok[0])
        return np.stack(out_tokens)


_EMBEDDING_NAMES = {Embedding: "embedding", OneHot: "onehot"}


def _offset(seed: int | None, k: int) -> int | None:
    return None if seed is None else seed + k


def _check_unused(spec, names: tuple[str, ...]) -> None:
    """Fields another scheme uses must be unset (a spec says one thing only)."""
    for name in names:
        if getattr(spec, name) not in (None, False):
            raise ValueError(f"model spec: {name} does not apply to scheme {spec.scheme!r}")


SCHEMES = {"many_to_one": SequenceModel, "many_to_many": SequenceModel,
           "one_to_many": OneToMany, "encoder_decoder": EncoderDecoder}
