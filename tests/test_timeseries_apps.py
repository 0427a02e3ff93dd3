"""Forecasting and classification applications: input errors, label handling, learning."""

import json

import numpy as np
import pytest

from rnnlab.apps import classifier as clf
from rnnlab.data import Sequences

# ---- classification: labels, channels, missing values --------------------------------------


def seqs(y, F=2, classes=None, nan=False):
    X = np.ones((len(y), 5, F))
    if nan:
        X[0, 2, 1] = np.nan
    return Sequences(X, np.full(len(y), 5), np.array(y), classes)


def test_class_list_and_encoding():
    assert clf.class_list(seqs(["10", "9", "2"])) == ["2", "9", "10"]
    assert clf.class_list(seqs(["b", "a"])) == ["a", "b"]
    assert clf.class_list(seqs(["2", "1"], classes=("1", "2", "3"))) == ["1", "2", "3"]
    np.testing.assert_array_equal(clf.encode(seqs(["b", "a", "b"]), ["a", "b"], "TEST"), [1, 0, 1])


def test_classification_input_errors():
    with pytest.raises(ValueError, match=r"TRAIN: expected at least 2 classes, got only \['a'\] "
                                         r"in 2 series"):
        clf.class_list(seqs(["a", "a"], classes=("a", "b")))  # declared, but one present
    with pytest.raises(ValueError, match=r"TEST: labels \['c'\] never appear in training"):
        clf.encode(seqs(["a", "c"]), ["a", "b"], "TEST")
    with pytest.raises(ValueError, match=r"TEST: labels \['0', '1', '10', '11', \.\.\. \(12 in "
                                         r"all\)\] never appear in training \(the classes are "
                                         r"\['a', 'b'\]\)$"):
        clf.encode(seqs([str(i) for i in range(12)]), ["a", "b"], "TEST")
    regression = Sequences(np.ones((3, 5, 1)), np.full(3, 5), np.array(["0.5", "1.5", "2"]),
                           target=True)
    with pytest.raises(ValueError, match=r"TRAIN: the file declares a regression target"):
        clf.class_list(regression)
    with pytest.raises(ValueError, match=r"TEST: expected 2 channels as in training, got 3"):
        clf.check_compatible(seqs(["a"], F=3), 2, "TEST")
    with pytest.raises(ValueError, match=r"TRAIN: missing values at series 0 channel 1 step 2"):
        clf.prepare(seqs(["a"], nan=True), False, "TRAIN")
    assert not np.isnan(clf.prepare(seqs(["a"], nan=True), True, "TRAIN").X).any()


def test_scaling_uses_real_steps_only():
    X = np.zeros((2, 4, 1))
    X[0, :, 0] = [1, 3, 1, 3]
    X[1, :2, 0] = [1, 3]  # then padding zeros, which must not enter the statistics
    s = Sequences(X, np.array([4, 2]), np.array(["a", "b"]))
    scaler = clf.fit_scaler(s)
    assert scaler.mean[0] == 2.0 and scaler.std[0] == 1.0
    np.testing.assert_array_equal(clf.standardise(s, scaler)[1, :, 0], [-1, 1, 0, 0])


# ---- training through rnnlab.train: learning, resume, the commands ---------------------------


def small_net(**kw):
    from rnnlab.apps.network import NetworkConfig

    return NetworkConfig(**{"cell": "gru", "hidden_size": 16, "epochs": 20, "batch_size": 32,
                            "lr": 1e-2, **kw})


def write_ts(path, series, labels, classes="up down"):
    F = series[0].shape[1]
    head = (f"@problemName toy\n@univariate {'true' if F == 1 else 'false'}\n@dimensions {F}\n"
            f"@equalLength false\n@classLabel true {classes}\n@data\n")
    lines = [":".join(",".join(f"{v:.4f}" for v in s[:, f]) for f in range(F)) + f":{y}"
             for s, y in zip(series, labels)]
    path.write_text(head + "\n".join(lines) + "\n")
    return path


def up_down(n, rng, F=2):
    """Rising or falling noisy ramps of lengths 5..15: separable only by their direction."""
    series, labels = [], []
    for i in range(n):
        T = int(rng.integers(5, 16))
        sign = 1 if i % 2 else -1
        ramp = sign * np.linspace(0, 1, T)[:, None] + rng.uniform(-1, 1)
        series.append(ramp + 0.1 * rng.normal(size=(T, F)))
        labels.append("up" if sign > 0 else "down")
    return series, labels


def test_classify_commands(tmp_path):
    from typer.testing import CliRunner

    from rnnlab.cli import app

    rng = np.random.default_rng(0)
    train = write_ts(tmp_path / "train.ts", *up_down(60, rng))
    test = write_ts(tmp_path / "test.ts", *up_down(40, rng))
    run = CliRunner().invoke
    r = run(app, ["classify", "train", str(train), "--test", str(test), "--model", "gru",
                  "--members", "2", "--hidden-size", "8", "--epochs", "30", "--lr", "0.02",
                  "--no-baselines", "--out", str(tmp_path / "c")])
    assert r.exit_code == 0, r.output
    report = json.loads((tmp_path / "c" / "report.json").read_text())
    assert report["test"]["accuracy"] >= 0.95
    assert np.sum(report["test"]["confusion"]) == 40
    assert (tmp_path / "c" / "confusion.png").stat().st_size > 0
    r = run(app, ["classify", "predict", str(tmp_path / "c"), str(test)])
    assert r.exit_code == 0, r.output
    labels = [line.split(",")[1] for line in r.stdout.strip().splitlines()]
    assert len(labels) == 40 and set(labels) <= {"up", "down"}
    # errors: a label training never saw, a file with other dimensions
    s, _ = up_down(4, rng)
    bad = write_ts(tmp_path / "bad.ts", s, ["up", "down", "sideways", "up"], "up down sideways")
    r = run(app, ["classify", "train", str(train), "--test", str(bad), "--epochs", "1",
                  "--out", str(tmp_path / "d")])
    assert r.exit_code == 2 and "labels ['sideways'] never appear in training" in r.output
    three = write_ts(tmp_path / "three.ts", *up_down(4, rng, F=3))
    r = run(app, ["classify", "predict", str(tmp_path / "c"), str(three)])
    assert r.exit_code == 2 and "expected 2 channels as in training, got 3" in r.output


def test_chunk_reads_k_steps_per_recurrent_step():
    X = np.arange(2 * 5 * 2, dtype=float).reshape(2, 5, 2)
    Z, lengths = clf.chunk(X, np.array([5, 3]), 2)
    assert Z.shape == (2, 3, 4) and list(lengths) == [3, 2]
    np.testing.assert_array_equal(Z[0, 0], [0, 1, 2, 3])  # x_0 then x_1
    np.testing.assert_array_equal(Z[0, 2], [8, 9, 0, 0])  # x_4 then padding


def test_resumed_classifier_equals_an_uninterrupted_one(tmp_path):
    rng = np.random.default_rng(1)
    train = write_ts(tmp_path / "train.ts", *up_down(30, rng))
    test = write_ts(tmp_path / "test.ts", *up_down(20, rng))
    cfg = clf.ClassifyConfig(model="gru", members=1, val=0.2, baselines=False)

    def go(out, epochs, resume=False):
        return clf.run(train, test, cfg, small_net(hidden_size=8, epochs=epochs, batch_size=8),
                       tmp_path / out, resume=resume, echo=lambda s: None)

    whole = go("a", 6)
    go("b", 3)
    resumed = go("b", 6, resume=True)
    (r,), (w,) = resumed["training"]["members"], whole["training"]["members"]
    assert r["steps"] == w["steps"]
    assert r["started_at_step"] == w["steps"] // 2 > 0
    assert r["best_val_loss"] == w["best_val_loss"]
    assert resumed["test"] == whole["test"]
