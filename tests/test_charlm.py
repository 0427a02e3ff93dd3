"""Issue 8: the character-level language model (vocab, corpus, errors, training, sampling)."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from rnnlab.apps import charlm
from rnnlab.cli import app
from rnnlab.data.text import Vocab, default_corpus, read_corpus, read_text_file, split_text

TEXT = ("the quick brown fox jumps over the lazy dog. " * 5)[:200]


NET = ("cell", "hidden_size", "num_layers", "embedding_dim")


def tiny(**kw):
    """(network, training) options of a tiny char-LM."""
    base = {"hidden_size": 64, "num_layers": 1, "seq_len": 20, "batch_size": 1, "steps": 300,
            "lr": 1e-2, "val_fraction": 0.0, "eval_every": 1000, **kw}
    return (charlm.CharLMNetwork(**{k: v for k, v in base.items() if k in NET}),
            charlm.CharLMTraining(**{k: v for k, v in base.items() if k not in NET}))


@pytest.fixture(scope="module")
def overfit():
    trainer = charlm.make_trainer(TEXT, *tiny(), None)
    trainer.fit()
    return trainer.model, Vocab.from_text(TEXT)


def test_vocab_round_trip():
    v = Vocab.from_text(TEXT + "é\n\t")
    assert v.decode(v.encode(TEXT + "é\n\t")) == TEXT + "é\n\t"
    assert Vocab(v.symbols).index == v.index
    with pytest.raises(ValueError, match=r"--prime: characters not in.*'Z'"):
        v.encode("Zebra", "--prime")


def test_default_corpus_is_deterministic_python_source():
    a, files = default_corpus(50_000)
    b, _ = default_corpus(50_000)
    assert a == b and len(a) == 50_000 and files == sorted(files)
    assert "def " in a and "import " in a


def test_split_by_position():
    train, val = split_text("abcdefghij", 0.1)
    assert (train, val) == ("abcdefghi", "j")


def test_bad_inputs(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_text_file(tmp_path / "nope.txt")
    (tmp_path / "bin").write_bytes(b"ab\0cd")
    with pytest.raises(ValueError, match="binary"):
        read_text_file(tmp_path / "bin")
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(ValueError, match="empty"):
        read_corpus([tmp_path / "empty.txt"])
    with pytest.raises(ValueError, match="too few for one window"):
        charlm.make_trainer("short text", *tiny(), None)
    with pytest.raises(ValueError, match="corpus: the text is empty"):
        charlm.make_trainer("", *tiny(), None)
    with pytest.raises(ValueError, match="cell"):
        tiny(cell="cnn")


def test_a_short_validation_text_is_read_in_fewer_streams():
    """1,000 characters, 10 % held out: 100 cannot fill 8 streams of 21, but fill 4."""
    text = ("the quick brown fox jumps over the lazy dog. " * 23)[:1000]
    trainer = charlm.make_trainer(text, *tiny(batch_size=8, steps=3, val_fraction=0.1), None)
    assert np.isfinite(trainer.fit()["val_loss"])


def test_cli_bad_file_is_one_line(tmp_path):
    r = CliRunner().invoke(app, ["charlm", "train", str(tmp_path / "missing.txt")])
    assert r.exit_code == 2 and "error: FILE:" in r.output


def test_tiny_lstm_overfits_200_chars(overfit):
    model, vocab = overfit
    assert charlm.evaluate_text(model, vocab, TEXT, seq_len=20)["nats_per_char"] < 0.1


def test_sampling_seeded_argmax_and_top_k(overfit):
    model, vocab = overfit
    kw = {"temperature": 1.5, "prime": "the ", "top_k": 0}
    assert charlm.sample(model, vocab, 80, seed=3, **kw) == charlm.sample(model, vocab, 80,
                                                                          seed=3, **kw)
    # temperature 0: each character is the arg max of the logits after the text so far
    text = charlm.sample(model, vocab, 30, temperature=0, prime="the ")
    z, _, _ = model.forward(vocab.encode("the " + text)[:, None])  # (T, 1, V)
    assert vocab.decode(np.argmax(z[3:-1, 0], axis=1)) == text
    # top-k: every drawn character is among the k best at its step
    for k in (1, 3):
        text = charlm.sample(model, vocab, 60, temperature=5.0, top_k=k, prime="t", seed=1)
        z, _, _ = model.forward(vocab.encode("t" + text)[:, None])
        best = np.argsort(z[:-1, 0], axis=1)[:, -k:]  # (60, k)
        assert all(i in row for i, row in zip(vocab.encode(text), best, strict=True))


def test_resume_equals_uninterrupted(tmp_path):
    from rnnlab.apps.options import RunOptions

    text = TEXT * 2
    kw = {"eval_every": 5, "val_fraction": 0.1, "seq_len": 8, "batch_size": 2, "hidden_size": 16}
    full = charlm.make_trainer(text, *tiny(steps=12, **kw), RunOptions(tmp_path / "a"))
    full.fit()
    charlm.make_trainer(text, *tiny(steps=5, **kw), RunOptions(tmp_path / "b")).fit()
    resumed = charlm.make_trainer(text, *tiny(steps=12, **kw), RunOptions(tmp_path / "b"))
    resumed.fit(resume=True)
    for name, p in full.model.params.items():
        np.testing.assert_array_equal(p, resumed.model.params[name], err_msg=name)


def test_checkpoint_sample_and_eval_commands(tmp_path):
    text_file = tmp_path / "t.txt"
    text_file.write_text(TEXT * 2)
    run = CliRunner().invoke(app, ["charlm", "train", str(text_file), "--hidden-size", "8",
                                   "--num-layers", "1", "--seq-len", "8", "--batch-size", "2",
                                   "--steps", "4", "--eval-every", "2",
                                   "--out", str(tmp_path / "run")])
    assert run.exit_code == 0, run.output
    ckpt = str(tmp_path / "run" / "best.safetensors")
    r = CliRunner().invoke(app, ["charlm", "sample", ckpt, "--length", "20", "--seed", "1",
                                 "--prime", "the"])
    assert r.exit_code == 0 and len(r.output.strip()) >= 20
    r = CliRunner().invoke(app, ["charlm", "sample", ckpt, "--prime", "XYZ"])
    assert r.exit_code == 2 and "not in the model's vocabulary" in r.output
    r = CliRunner().invoke(app, ["charlm", "eval", ckpt, str(text_file)])
    assert r.exit_code == 0 and "bits/char" in r.output
