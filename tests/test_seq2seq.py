"""Issue 8: the encoder-decoder on number words (translation, greedy and beam decoding)."""

from __future__ import annotations

import numpy as np
import pytest

from rnnlab.apps import seq2seq
from rnnlab.data.numbers import number_pairs, number_words


@pytest.fixture(scope="module")
def trained():
    train, test = number_pairs(2, 0.1, seed=0)
    net = seq2seq.Seq2SeqNetwork(cell="lstm", hidden_size=64)
    model, vocab = seq2seq.train_model(train, net, seq2seq.Seq2SeqTraining(steps=1000,
                                                                           batch_size=16))
    return model, vocab, test


def test_number_words():
    assert number_words(312) == "three hundred and twelve"
    assert number_words(40) == "forty" and number_words(7) == "seven"
    assert number_words(905) == "nine hundred and five"
    with pytest.raises(ValueError, match="n: expected an integer in"):
        number_words(1000)


def test_split_holds_out_composites_only():
    train, test = number_pairs(2, 0.1, seed=0)
    assert len(train) + len(test) == 100 and not {s for s, _ in train} & {s for s, _ in test}
    assert all(" " in s for s, _ in test)  # e.g. "forty two": every word seen in training
    assert number_pairs(2, 0.1, seed=0) == (train, test)
    assert number_pairs(2, 0.5, seed=0, to_words=True)[0][0][0].isdigit()
    with pytest.raises(ValueError, match="digits: expected 2 or 3"):
        number_pairs(1)


def test_two_digit_number_words_held_out(trained):
    model, vocab, test = trained
    assert seq2seq.accuracy(model, vocab, test)["exact"] >= 0.95


def test_a_held_out_source_with_unseen_characters_is_scored_wrong(trained):
    model, vocab, test = trained
    r = seq2seq.accuracy(model, vocab, [*test, ("forty-two!", "42")])  # '-', '!' unseen
    assert r["unseen"] == 1
    assert r["exact"] == seq2seq.accuracy(model, vocab, test)["exact"] * len(test) / (len(test) + 1)


def test_beam_one_is_greedy(trained):
    model, vocab, test = trained
    for source, _ in test + [("ninety", "90"), ("one", "1"), ("twenty", "20")]:
        ids = vocab.encode(source)
        greedy = list(model.greedy_decode(ids[:, None], steps=40)[:, 0])
        greedy = greedy[: greedy.index(0)] if 0 in greedy else greedy
        assert seq2seq.beam_decode(model, ids, K=1) == greedy
        wide = seq2seq.beam_decode(model, ids, K=3)
        assert wide and 0 not in wide


def test_bad_pairs_file(tmp_path):
    f = tmp_path / "p.tsv"
    f.write_text("one\t1\ntwo 2\n")
    with pytest.raises(ValueError, match=r"p.tsv:2: expected 'source<TAB>target'"):
        seq2seq.read_pairs(f)
    with pytest.raises(ValueError, match="beam"):
        seq2seq.beam_decode(None, np.array([1]), K=0)
