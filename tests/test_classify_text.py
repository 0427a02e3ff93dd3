"""Issue 8: text classification (many-to-one with lengths) on a small generated set."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from rnnlab.apps import classify_text as ct
from rnnlab.cli import app

GOOD, BAD = ["good", "great", "fine", "nice"], ["bad", "awful", "poor", "sad"]
FILL = ["the", "film", "was", "a", "plot", "very", "and", "so"]


def generated(n, seed):
    """Texts of 2-6 filler words and one sentiment word; the label is its polarity."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for _ in range(n):
        words = list(rng.choice(FILL, rng.integers(2, 7)))
        pos = rng.random() < 0.5
        words.insert(rng.integers(len(words) + 1), rng.choice(GOOD if pos else BAD))
        texts.append(" ".join(words))
        labels.append("pos" if pos else "neg")
    return texts, labels


def test_word_level_sentiment_learns():
    texts, labels = generated(240, 0)
    tokens = ct.tokenize(texts, words=True)
    model, vocab, classes = ct.fit(tokens[:200], labels[:200], ct.TextNetwork(),
                                   ct.TextTraining(steps=200, seed=0))
    assert ct.accuracy(model, vocab, classes, tokens[200:], labels[200:]) >= 0.95


def test_bad_csv(tmp_path):
    f = tmp_path / "a.csv"
    f.write_text("sentence,label\nhello,pos\n")
    with pytest.raises(ValueError, match="expected a header with columns 'text'"):
        ct.read_labelled(f)
    f.write_text("text,label\nhello,pos\n,neg\n")
    with pytest.raises(ValueError, match="a.csv:3: empty text"):
        ct.read_labelled(f)
    r = CliRunner().invoke(app, ["classify-text", str(tmp_path / "none.csv")])
    assert r.exit_code == 2 and "does not exist" in r.output
