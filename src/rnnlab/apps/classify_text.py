"""`rnnlab classify-text`: many-to-one classification of texts (the sentiment scheme).

Each text is a sequence of characters (or words, --words) -> an embedding -> a layer
stack run with the text's own length -> a softmax over the labels from the last real
step (rnnlab.models.SequenceModel(target="last")), trained through rnnlab.train.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from rnnlab.apps.errors import user_errors


def read_labelled(path, text_column: str = "text", label_column: str = "label"):
    """(texts, labels) of a CSV with a header naming the two columns."""
    from rnnlab.data.text import read_text_file

    rows = list(csv.DictReader(read_text_file(path).splitlines()))
    if not rows or text_column not in rows[0] or label_column not in rows[0]:
        raise ValueError(f"FILE: {path}: expected a header with columns {text_column!r} and "
                         f"{label_column!r}")
    texts = [r[text_column] for r in rows]
    empty = [i + 2 for i, t in enumerate(texts) if not t]
    if empty:
        raise ValueError(f"FILE: {path}:{empty[0]}: empty text")
    return texts, [r[label_column] for r in rows]


def tokenize(texts, words: bool) -> list[list[str]]:
    return [t.split() if words else list(t) for t in texts]


def fit(tokens, labels, *, hidden=32, steps=300, batch_size=16, lr=1e-2, seed=0):
    """(model, vocab, classes) trained on token lists and their labels."""
    from rnnlab import GRU
    from rnnlab.data.text import Vocab
    from rnnlab.models import Batch, SequenceModel
    from rnnlab.readout import Embedding
    from rnnlab.train import FullBPTT, TrainConfig, Trainer, epoch_batches

    vocab = Vocab(["<unk>", *sorted({s for t in tokens for s in t})])
    classes = sorted(set(labels))
    y = np.array([classes.index(c) for c in labels])
    rnn = GRU(16, hidden, dtype=np.float32, seed=seed)
    model = SequenceModel(rnn, len(classes), loss="ce", target="last", reduction="mean",
                          embedding=Embedding(len(vocab), 16, seed=seed + 1), seed=seed + 2)

    def make(idx):
        x, lengths = encode(vocab, [tokens[i] for i in idx])
        return Batch(x, y[idx], lengths)

    data = epoch_batches(len(tokens), min(batch_size, len(tokens)), make, seed=seed)
    Trainer(model, FullBPTT(model, data), TrainConfig(steps=steps, lr=lr)).fit()
    return model, vocab, classes


def encode(vocab, token_lists):
    """Token lists -> ids (T, B) padded with 0 (unknown tokens -> 0) and lengths (B,)."""
    T, B = max(map(len, token_lists)), len(token_lists)
    x = np.zeros((T, B), np.int64)
    for b, t in enumerate(token_lists):
        x[: len(t), b] = [vocab.index.get(s, 0) for s in t]
    return x, np.array([len(t) for t in token_lists])


def accuracy(model, vocab, classes, tokens, labels) -> float:
    x, lengths = encode(vocab, tokens)
    pred = model.predict(x, lengths).argmax(-1)  # (B,)
    return float(np.mean([classes[p] == c for p, c in zip(pred, labels, strict=True)]))


def main(
    file: Annotated[Path, typer.Argument(help="CSV with a header: text and label columns")],
    text_column: str = typer.Option("text", help="the text column"),
    label_column: str = typer.Option("label", help="the label column"),
    words: bool = typer.Option(False, help="word tokens instead of characters"),
    test: float = typer.Option(0.2, help="held-out fraction"),
    steps: int = typer.Option(300, help="optimizer updates"),
    seed: int = typer.Option(0, help="random seed"),
):
    """Train on part of FILE and report accuracy on the rest."""
    with user_errors():
        texts, labels = read_labelled(file, text_column, label_column)
        tokens = tokenize(texts, words)
        order = np.random.default_rng(seed).permutation(len(texts))
        n_test = max(1, round(len(texts) * test))
        te, tr = order[:n_test], order[n_test:]
        model, vocab, classes = fit([tokens[i] for i in tr], [labels[i] for i in tr],
                                    steps=steps, seed=seed)
        acc = accuracy(model, vocab, classes, [tokens[i] for i in te], [labels[i] for i in te])
    typer.echo(f"held-out accuracy {acc:.3f} on {len(te)} texts ({len(classes)} classes)")
