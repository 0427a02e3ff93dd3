"""`rnnlab classify-text`: many-to-one classification of texts (the sentiment scheme).

Each text is a sequence of characters (or words, --words) -> an embedding -> a layer
stack run with the text's own length -> a softmax over the labels from the last real
step (rnnlab.models.SequenceModel(target="last")), trained through rnnlab.train.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from rnnlab._checks import check_positive_int, check_range
from rnnlab.apps.options import OptimizerOptions, RunOptions, TokenNetworkOptions
from rnnlab.config import command, resolved_options
from rnnlab.errors import DataError

app = typer.Typer()


@dataclass
class TextNetwork(TokenNetworkOptions):
    cell: str = "gru"  # the recurrent cell: rnn (tanh) | lstm | gru


@dataclass
class TextTraining(OptimizerOptions):
    lr: float = 1e-2  # learning rate
    batch_size: int = 16  # texts per update
    steps: int = 300  # optimizer updates
    text_column: str = "text"  # the CSV column holding the text
    label_column: str = "label"  # the CSV column holding the label
    words: bool = False  # word tokens instead of characters
    test: float = 0.2  # fraction of the texts held out for the reported accuracy

    def __post_init__(self):
        super().__post_init__()
        check_positive_int("steps", self.steps)
        check_range("test", self.test, 0.0, 1.0, lo_open=True, hi_open=True)


def read_labelled(path, text_column: str = "text", label_column: str = "label"):
    """(texts, labels) of a CSV with a header naming the two columns."""
    from rnnlab.data.text import read_text_file

    try:
        rows = list(csv.DictReader(read_text_file(path).splitlines()))
    except csv.Error as e:
        raise DataError(f"FILE: {path}: not a readable CSV ({e})") from None
    if not rows or text_column not in rows[0] or label_column not in rows[0]:
        raise DataError(f"FILE: {path}: expected a header with columns {text_column!r} and "
                        f"{label_column!r}")
    for i, r in enumerate(rows, 2):
        if not r[text_column] or r[label_column] is None:
            what = "empty text" if not r[text_column] else "no label"
            raise DataError(f"FILE: {path}:{i}: {what}")
    return [r[text_column] for r in rows], [r[label_column] for r in rows]


def tokenize(texts, words: bool) -> list[list[str]]:
    return [t.split() if words else list(t) for t in texts]


def fit(tokens, labels, net: TextNetwork, opt: TextTraining, run: RunOptions | None = None):
    """(model, vocab, classes) trained on token lists and their labels."""
    from rnnlab.apps.plots import LearningCurve
    from rnnlab.data.text import Vocab
    from rnnlab.models import Batch
    from rnnlab.spec import ModelSpec
    from rnnlab.train import FullBPTT, Trainer, epoch_batches

    vocab = Vocab(["<unk>", *sorted({s for t in tokens for s in t})])
    classes = sorted(set(labels))
    if len(classes) < 2:
        raise ValueError(f"labels: expected at least 2 classes in the training texts, got "
                         f"{classes}")
    y = np.array([classes.index(c) for c in labels])
    spec = ModelSpec("many_to_one", net.layer(net.embedding_dim), len(classes), "ce",
                     embedding="embedding", vocab_size=len(vocab), seed=opt.seed)
    model = spec.build()

    def make(idx):
        x, lengths = encode(vocab, [tokens[i] for i in idx])
        return Batch(x, y[idx], lengths)

    data = epoch_batches(len(tokens), min(opt.batch_size, len(tokens)), make, seed=opt.seed)
    meta = {"command": "classify-text", "classes": classes,
            "options": resolved_options({"network": net, "training": opt})}
    callbacks = [] if run is None else [LearningCurve(run.out)]
    Trainer(model, FullBPTT(model, data), opt.train_config(run, steps=opt.steps), meta=meta,
            vocab=vocab.symbols, callbacks=callbacks).fit(resume=run is not None and run.resume)
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


@command(app, "classify-text", network=TextNetwork, training=TextTraining, run=RunOptions)
def main(
    file: Annotated[Path, typer.Argument(help="CSV with a header: text and label columns")],
    *, network: TextNetwork, training: TextTraining, run: RunOptions,
):
    """Train on part of FILE and report accuracy on the rest."""
    run.folder("classify-text")
    texts, labels = read_labelled(file, training.text_column, training.label_column)
    tokens = tokenize(texts, training.words)
    order = np.random.default_rng(training.seed).permutation(len(texts))
    n_test = max(1, round(len(texts) * training.test))
    if n_test >= len(texts):
        raise ValueError(f"--test {training.test}: leaves no text of {len(texts)} to train on")
    te, tr = order[:n_test], order[n_test:]
    model, vocab, classes = fit([tokens[i] for i in tr], [labels[i] for i in tr], network,
                                training, run)
    acc = accuracy(model, vocab, classes, [tokens[i] for i in te], [labels[i] for i in te])
    typer.echo(f"held-out accuracy {acc:.3f} on {len(te)} texts ({len(classes)} classes); "
               f"model in {run.out}")
