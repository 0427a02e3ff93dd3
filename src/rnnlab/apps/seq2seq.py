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

from rnnlab._checks import check_option, check_positive_int
from rnnlab.apps.errors import user_errors

app = typer.Typer(no_args_is_help=True, help=__doc__)
END = "\0"


@dataclass
class Seq2SeqConfig:
    cell: str = "gru"  # gru | lstm
    hidden: int = 64  # units per layer (encoder and decoder)
    embed: int = 16  # character embedding size
    steps: int = 2000  # optimizer updates
    batch_size: int = 32  # pairs per update
    lr: float = 1e-2  # Adam
    clip: float = 5.0  # global norm
    seed: int = 0

    def __post_init__(self):
        check_option("cell", self.cell, ("gru", "lstm"))
        for name in ("hidden", "embed", "steps", "batch_size"):
            check_positive_int(name, getattr(self, name))


def make_vocab(pairs):
    from rnnlab.data.text import Vocab

    chars = set().union(*(set(s) | set(t) for s, t in pairs))
    if END in chars:
        raise ValueError("pairs: the NUL character is reserved")
    return Vocab([END, *sorted(chars)])


def build_model(cfg: Seq2SeqConfig, V: int):
    from rnnlab import GRU, LSTM
    from rnnlab.models import EncoderDecoder

    layer = {"gru": GRU, "lstm": LSTM}[cfg.cell]
    enc = layer(cfg.embed, cfg.hidden, dtype=np.float32, seed=cfg.seed)
    dec = layer(cfg.embed, cfg.hidden, dtype=np.float32, seed=cfg.seed + 1)
    return EncoderDecoder(enc, dec, V, V, bos=0, reduction="mean", seed=cfg.seed + 2)


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


def train_model(pairs, cfg: Seq2SeqConfig, out: Path | None = None, progress=False):
    """(model, vocab) trained on the (source, target) pairs."""
    from rnnlab.train import FullBPTT, TrainConfig, Trainer, epoch_batches

    vocab = make_vocab(pairs)
    model = build_model(cfg, len(vocab))
    data = epoch_batches(len(pairs), min(cfg.batch_size, len(pairs)),
                         lambda idx: make_batch([pairs[i] for i in idx], vocab), seed=cfg.seed)
    tc = TrainConfig(steps=cfg.steps, lr=cfg.lr, clip_threshold=cfg.clip, progress=progress,
                     out_dir=None if out is None else str(out))
    Trainer(model, FullBPTT(model, data), tc, vocab=vocab.symbols).fit()
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
    """Exact-match and per-character accuracy (position by position, over the target)."""
    exact = chars = total = 0
    for s, t in pairs:
        p = translate(model, vocab, s, beam)
        exact += p == t
        chars += sum(a == b for a, b in zip(p, t, strict=False))
        total += len(t)
    return {"exact": exact / len(pairs), "char": chars / total}


def read_pairs(path) -> list[tuple[str, str]]:
    """A tab-separated file: source<TAB>target per line."""
    from rnnlab.data.text import read_text_file

    pairs = []
    for i, line in enumerate(read_text_file(path).splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) != 2 or not all(parts):
            raise ValueError(f"FILE: {path}:{i}: expected 'source<TAB>target', got {line!r}")
        pairs.append((parts[0], parts[1]))
    if len(pairs) < 2:
        raise ValueError(f"FILE: {path} holds {len(pairs)} pairs; expected at least 2")
    return pairs


@app.command()
def train(
    file: Annotated[Path | None, typer.Argument(help="TSV source<TAB>target (none: number "
                                                "words -> digits)")] = None,
    digits: int = typer.Option(3, help="built-in task: numbers below 10^digits (2 or 3)"),
    to_words: bool = typer.Option(False, help="built-in task: digits -> words"),
    test: float = typer.Option(0.2, help="held-out fraction"),
    cell: str = typer.Option("gru", help="gru or lstm"),
    hidden: int = typer.Option(64, help="units"),
    steps: int = typer.Option(2000, help="optimizer updates"),
    lr: float = typer.Option(1e-2, help="Adam learning rate"),
    beam: int = typer.Option(1, help="beam width for the test set (1: greedy)"),
    seed: int = typer.Option(0, help="random seed"),
):
    """Train on pairs and report exact-match and per-character accuracy held out."""
    from rnnlab.data.numbers import number_pairs

    with user_errors():
        cfg = Seq2SeqConfig(cell=cell, hidden=hidden, steps=steps, lr=lr, seed=seed)
        if file is None:
            train_pairs, test_pairs = number_pairs(digits, test, seed, to_words)
        else:
            pairs = read_pairs(file)
            order = np.random.default_rng(seed).permutation(len(pairs))
            n_test = max(1, round(len(pairs) * test))
            test_pairs = [pairs[i] for i in order[:n_test]]
            train_pairs = [pairs[i] for i in order[n_test:]]
        model, vocab = train_model(train_pairs, cfg, progress=True)
        r = accuracy(model, vocab, test_pairs, beam)
    for s, t in test_pairs[:5]:
        typer.echo(f"{s!r} -> {translate(model, vocab, s, beam)!r} (want {t!r})")
    typer.echo(f"held out {len(test_pairs)}: exact match {r['exact']:.3f}, "
               f"per character {r['char']:.3f} (beam {beam})")
