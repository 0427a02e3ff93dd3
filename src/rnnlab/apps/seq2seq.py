"""`rnnlab seq2seq`: a character-level encoder-decoder (Cho et al. 2014) on
rnnlab.models.EncoderDecoder, trained with teacher forcing through rnnlab.train.

One vocabulary for both sides; id 0 ("\\0") is both the decoder's start symbol and
the end of every target. Decoding: greedy, or beam search keeping the K prefixes of
highest log-probability Σ log p(y_t | y_<t, x), a prefix ending at id 0 finished.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from rnnlab._checks import check_positive_int, check_range
from rnnlab.apps.options import (
    OptimizerOptions,
    RunOptions,
    TokenNetworkOptions,
    load_command_model,
)
from rnnlab.config import command, resolved_options
from rnnlab.errors import DataError

app = typer.Typer(no_args_is_help=True, help=__doc__)
END = "\0"


@dataclass
class Seq2SeqNetwork(TokenNetworkOptions):
    cell: str = "gru"  # the cell of encoder and decoder: rnn (tanh) | lstm | gru
    hidden_size: int = 64  # units per layer (encoder and decoder)
    embedding_dim: int = 16  # character embedding size (source and target)


@dataclass
class Seq2SeqTraining(OptimizerOptions):
    lr: float = 1e-2  # learning rate
    clip_norm: float = 5.0  # clip the gradient to this global norm (0: no clipping)
    steps: int = 2000  # optimizer updates
    test: float = 0.2  # fraction of the pairs held out for the reported accuracy
    beam: int = 1  # beam width when decoding the held-out pairs (1: greedy)
    digits: int = 3  # built-in task: numbers below 10^digits (2 or 3)
    to_words: bool = False  # built-in task: digits -> words instead of words -> digits

    def __post_init__(self):
        super().__post_init__()
        for name in ("steps", "beam"):
            check_positive_int(name, getattr(self, name))
        check_range("test", self.test, 0.0, 1.0, lo_open=True, hi_open=True)


def make_vocab(pairs):
    from rnnlab.data.text import Vocab

    chars = set().union(*(set(s) | set(t) for s, t in pairs))
    if END in chars:
        raise ValueError("pairs: the NUL character is reserved")
    return Vocab([END, *sorted(chars)])


def model_spec(net: Seq2SeqNetwork, V: int, seed: int):
    """Encoder and decoder stacks over one V-symbol vocabulary, id 0 the start symbol."""
    from rnnlab.spec import ModelSpec

    stack = net.layer(net.embedding_dim)
    return ModelSpec("encoder_decoder", stack, V, "ce", embedding="embedding", vocab_size=V,
                     decoder=stack, bos=0, seed=seed)


def make_batch(pairs, vocab):
    """Pairs -> Batch: x (S, B) padded with 0 and lengths, y (T, B) target + end, mask."""
    from rnnlab.models import Batch

    src = [vocab.encode(s, "source") for s, _ in pairs]
    tgt = [np.append(vocab.encode(t, "target"), 0) for _, t in pairs]
    S, T, B = max(map(len, src)), max(map(len, tgt)), len(pairs)
    x, y = np.zeros((S, B), np.int64), np.full((T, B), -1, np.int64)
    for b, (s, t) in enumerate(zip(src, tgt, strict=True)):
        x[: len(s), b], y[: len(t), b] = s, t
    return Batch(x, y, np.array([len(s) for s in src]), (y >= 0).astype(np.float32))


def train_model(pairs, net: Seq2SeqNetwork, opt: Seq2SeqTraining,
                run: RunOptions | None = None, progress: bool = False):
    """(model, vocab) trained on the (source, target) pairs."""
    from rnnlab.apps.plots import LearningCurve
    from rnnlab.train import FullBPTT, Trainer, epoch_batches

    vocab = make_vocab(pairs)
    model = model_spec(net, len(vocab), opt.seed).build()
    data = epoch_batches(len(pairs), min(opt.batch_size, len(pairs)),
                         lambda idx: make_batch([pairs[i] for i in idx], vocab), seed=opt.seed)
    meta = {"command": "seq2seq train", "options": resolved_options({"network": net, "training": opt})}
    callbacks = [] if run is None else [LearningCurve(run.out)]
    Trainer(model, FullBPTT(model, data), opt.train_config(run, steps=opt.steps,
                                                           progress=progress),
            meta=meta, vocab=vocab.symbols, callbacks=callbacks).fit(
        resume=run is not None and run.resume)
    return model, vocab


def _step(model, k: int, state):
    """One decoder step from token k: (log-probabilities (V,), new state)."""
    xt, _ = model.tgt_embedding.forward(np.array([[k]]))
    out, state = model.decoder(xt, state)
    z = model.readout.forward(out)[0][0, 0].astype(np.float64)  # (V,)
    return z - z.max() - np.log(np.exp(z - z.max()).sum()), state


def beam_decode(model, src_ids, K: int = 1, max_len: int = 40) -> list[int]:
    """The most likely target ids (without the end) under beam search of width K."""
    K = check_positive_int("beam", K)
    xs, _ = model.src_embedding.forward(np.asarray(src_ids)[:, None])  # (S, 1, E)
    _, state = model.encoder(xs, None)
    live, done = [(0.0, [], state)], []
    for _ in range(max_len):
        cands = []
        for score, seq, st in live:
            logp, st2 = _step(model, seq[-1] if seq else 0, st)
            for k in np.argsort(-logp, kind="stable")[:K]:
                cands.append((score + logp[k], [*seq, int(k)], st2))
        cands.sort(key=lambda c: -c[0])
        live = []
        for c in cands[:K]:
            (done if c[1][-1] == 0 else live).append(c)
        if not live or (done and max(d[0] for d in done) >= live[0][0]):
            break
    best = max(done or live, key=lambda c: c[0])[1]
    return best[:-1] if best and best[-1] == 0 else best


def translate(model, vocab, source: str, beam: int = 1) -> str:
    return vocab.decode(beam_decode(model, vocab.encode(source, "source"), beam))


def accuracy(model, vocab, pairs, beam: int = 1) -> dict:
    """Exact-match and per-character accuracy (position by position, over the target); a
    source with characters the training pairs never had is scored as wrong, and counted
    in "unseen"."""
    exact = chars = total = unseen = 0
    for s, t in pairs:
        total += len(t)
        if not set(s) <= vocab.index.keys():
            unseen += 1
            continue
        p = translate(model, vocab, s, beam)
        exact += p == t
        chars += sum(a == b for a, b in zip(p, t, strict=False))
    return {"exact": exact / len(pairs), "char": chars / total, "unseen": unseen}


def read_pairs(path) -> list[tuple[str, str]]:
    """A tab-separated file: source<TAB>target per line."""
    from rnnlab.data.text import read_text_file

    pairs = []
    for i, line in enumerate(read_text_file(path).splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) != 2 or not all(parts):
            raise DataError(f"FILE: {path}:{i}: expected 'source<TAB>target', got {line!r}")
        pairs.append((parts[0], parts[1]))
    if len(pairs) < 2:
        raise DataError(f"FILE: {path} holds {len(pairs)} pairs; expected at least 2")
    return pairs


def load_model(checkpoint):
    """(model, vocab) from a checkpoint file or run folder of `seq2seq train`."""
    return load_command_model(checkpoint, "seq2seq train")


def split_pairs(pairs, test: float, seed: int):
    order = np.random.default_rng(seed).permutation(len(pairs))
    n_test = max(1, round(len(pairs) * test))
    if n_test >= len(pairs):
        raise ValueError(f"--test {test}: leaves none of the {len(pairs)} pairs to train on")
    return [pairs[i] for i in order[n_test:]], [pairs[i] for i in order[:n_test]]


@command(app, network=Seq2SeqNetwork, training=Seq2SeqTraining, run=RunOptions)
def train(
    file: Annotated[Path | None, typer.Argument(help="TSV source<TAB>target (none: number "
                                                "words -> digits)")] = None,
    *, network: Seq2SeqNetwork, training: Seq2SeqTraining, run: RunOptions,
):
    """Train on pairs and report exact-match and per-character accuracy held out."""
    from rnnlab.data.numbers import number_pairs

    run.folder("seq2seq")
    if file is None:
        train_pairs, test_pairs = number_pairs(training.digits, training.test, training.seed,
                                               training.to_words)
    else:
        train_pairs, test_pairs = split_pairs(read_pairs(file), training.test, training.seed)
    model, vocab = train_model(train_pairs, network, training, run, progress=True)
    beam = training.beam
    r = accuracy(model, vocab, test_pairs, beam)
    for s, t in [p for p in test_pairs if set(p[0]) <= vocab.index.keys()][:5]:
        typer.echo(f"{s!r} -> {translate(model, vocab, s, beam)!r} (want {t!r})")
    if r["unseen"]:
        typer.echo(f"{r['unseen']} held-out sources have characters no training pair has: "
                   "scored as wrong")
    typer.echo(f"held out {len(test_pairs)}: exact match {r['exact']:.3f}, "
               f"per character {r['char']:.3f} (beam {beam}); model in {run.out}")


@app.command("translate")
def translate_command(
    checkpoint: Annotated[Path, typer.Argument(help="a checkpoint or run folder of "
                                               "`seq2seq train`")],
    text: Annotated[list[str], typer.Argument(help="source strings")],
    beam: int = typer.Option(1, help="beam width (1: greedy)"),
):
    """Translate source strings with a trained model."""
    model, vocab = load_model(checkpoint)
    for s in text:
        typer.echo(translate(model, vocab, s, beam))
