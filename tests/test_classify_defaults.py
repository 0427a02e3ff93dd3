"""`rnnlab classify` defaults: the echo-state ensemble end to end, test labels never
read for training, the ensemble's probabilities, the stratified split, early stopping."""

import json

import numpy as np
import pytest

from rnnlab.apps import classifier as clf
from rnnlab.apps.ensemble import Ensemble
from test_timeseries_apps import up_down, write_ts


def _files(tmp_path, n_train=40, n_test=30):
    rng = np.random.default_rng(0)
    train = write_ts(tmp_path / "train.ts", *up_down(n_train, rng))
    series, labels = up_down(n_test, rng)
    test = write_ts(tmp_path / "test.ts", series, labels)
    flipped = write_ts(tmp_path / "poisoned.ts", series,
                       [{"up": "down", "down": "up"}[y] for y in labels])
    return train, test, flipped


def _params(folder):
    from safetensors.numpy import load_file

    return load_file(str(folder / "members" / "0" / "best.safetensors"))


@pytest.mark.parametrize("model", ["esn", "gru"])
def test_poisoned_test_labels_give_the_same_model(tmp_path, model):
    from rnnlab.apps.network import NetworkConfig

    train, test, poisoned = _files(tmp_path)
    cfg = clf.ClassifyConfig(model=model, members=2, baselines=False)
    net = NetworkConfig(cell="rnn" if model == "esn" else model, hidden_size=12, epochs=5,
                        batch_size=8, pool="last+mean")
    quiet = {"echo": lambda s: None}
    a = clf.run(train, test, cfg, net, tmp_path / "a", **quiet)
    b = clf.run(train, poisoned, cfg, net, tmp_path / "b", **quiet)
    pa, pb = _params(tmp_path / "a"), _params(tmp_path / "b")
    assert pa.keys() == pb.keys()
    for k in pa:
        np.testing.assert_array_equal(pa[k], pb[k], err_msg=k)
    assert a["training"]["choice"] == b["training"]["choice"]
    assert a["test"]["accuracy"] + b["test"]["accuracy"] == pytest.approx(1.0)


def test_esn_default_command_learns_and_predicts(tmp_path):
    from typer.testing import CliRunner

    from rnnlab.cli import app

    train, test, _ = _files(tmp_path, 60, 40)
    run = CliRunner().invoke
    r = run(app, ["classify", "train", str(train), "--test", str(test), "--members", "3",
                  "--hidden-size", "50", "--out", str(tmp_path / "c")])
    assert r.exit_code == 0, r.output
    assert "esn: chose chunk" in r.output
    report = json.loads((tmp_path / "c" / "report.json").read_text())
    assert report["test"]["accuracy"] >= 0.95
    assert len(report["test"]["member_accuracy"]) == 3
    assert set(report["training"]["choice"]) >= {"chunk", "spectral_radius", "input_scale",
                                                 "pool", "lambda", "loo_accuracy"}
    assert set(report["baselines"]) == {"1nn_euclidean", "1nn_dtw", "minirocket"}
    assert report["baselines"]["1nn_euclidean"]["accuracy"] is not None
    r = run(app, ["classify", "predict", str(tmp_path / "c"), str(test)])
    assert r.exit_code == 0, r.output
    labels = [line.split(",")[1] for line in r.stdout.strip().splitlines()]
    assert len(labels) == 40 and set(labels) <= {"up", "down"}
    accuracy = float(r.output.strip().splitlines()[-1].split()[-1])
    assert accuracy == pytest.approx(report["test"]["accuracy"])
    r = run(app, ["classify", "predict", str(tmp_path / "nothing"), str(test)])
    assert r.exit_code == 2 and "no members/ folder" in r.output
    r = run(app, ["classify", "train", str(train), "--model", "tcn"])
    assert r.exit_code == 2 and "model" in r.output


class _Fixed:
    def __init__(self, P):
        self.P = P

    def predict(self, X, lengths):
        return self.P[: len(X)]


def test_ensemble_probabilities_are_the_mean_of_its_members():
    rng = np.random.default_rng(0)
    P = rng.dirichlet(np.ones(4), size=(3, 6))  # (M, N, K)
    ens = Ensemble([_Fixed(p) for p in P], [1, 2, 3])
    X, lengths = np.zeros((6, 5, 1)), np.full(6, 5)
    np.testing.assert_allclose(ens.predict(X, lengths), P.mean(0), rtol=1e-15)
    np.testing.assert_allclose(ens.predict(X, lengths).sum(1), 1.0)
    with pytest.raises(ValueError, match="one chunk per member"):
        Ensemble([_Fixed(P[0])], [1, 2])


def test_stratified_split_holds_out_every_class():
    y = np.array([0] * 10 + [1] * 5 + [2] * 2 + [3])
    tr, val = clf.stratified_split(y, 0.2, seed=0)
    assert sorted(np.bincount(y[val], minlength=4).tolist()) == sorted([2, 1, 1, 0])
    assert np.bincount(y[val], minlength=4).tolist() == [2, 1, 1, 0]
    assert sorted([*tr, *val]) == list(range(len(y)))
    assert set(y[tr]) == {0, 1, 2, 3}  # never all of a class
    assert len(clf.stratified_split(y, 0.0, 0)[1]) == 0


def test_early_stopping_keeps_the_best_weights(tmp_path):
    from rnnlab.apps import network
    from rnnlab.train import evaluate

    rng = np.random.default_rng(3)
    series, _ = up_down(24, rng)
    X = np.zeros((24, 15, 2))
    lengths = np.array([len(s) for s in series])
    for i, s in enumerate(series):
        X[i, : len(s)] = s
    y = rng.integers(0, 2, 24)  # labels unrelated to the series: the net can only overfit
    net = network.NetworkConfig(cell="gru", hidden_size=8, epochs=60, batch_size=4, lr=0.05,
                                patience=3, pool="mean")
    val = (X[16:], lengths[16:], y[16:])
    predictor, summary = network.fit_classifier(net, X[:16], lengths[:16], y[:16], 2, val,
                                                tmp_path, {"app": "classify"}, False,
                                                echo=lambda s: None)
    log = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    val_losses = [r["val_loss"] for r in log if "val_loss" in r]
    assert summary["stopped_early"] and len(val_losses) < 60
    best = int(np.argmin(val_losses))
    assert len(val_losses) - 1 - best == 3  # stopped after `patience` worse epochs
    batch = network._batches(X[16:].astype(np.float32), lengths[16:], y[16:])(np.arange(8))
    final = evaluate(predictor.model, [batch])["loss"]
    assert final == pytest.approx(min(val_losses), rel=1e-6) and final < val_losses[-1]


def test_baselines_skip_dtw_above_the_budget(monkeypatch):
    from rnnlab.apps import classify_baselines as cb
    from rnnlab.data.sequences import Sequences

    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, 5, 1))
    s = Sequences(X, np.full(6, 5), np.array(list("ababab")))
    y = np.array([0, 1, 0, 1, 0, 1])
    full = cb.baselines((s, y), (s, y), echo=lambda m: None)
    assert full["1nn_euclidean"]["accuracy"] == 1.0  # each series is its own neighbour
    assert full["1nn_dtw"]["accuracy"] == 1.0
    monkeypatch.setattr(cb, "DTW_CELLS", 100.0)  # 30 · 30 cells > 100
    out = cb.baselines((s, y), (s, y), echo=lambda m: None)
    assert out["1nn_dtw"]["accuracy"] is None and "skipped" in out["1nn_dtw"]["note"]
    if full["minirocket"]["note"] != "aeon not installed (pip install 'rnnlab[aeon]')":
        assert full["minirocket"]["accuracy"] is None  # 5 steps: aeon refuses, the run goes on
        assert "aeon refused" in full["minirocket"]["note"]


def test_ensemble_predicts_in_batches_with_each_length():
    seen = []

    class Recorder:
        def predict(self, X, lengths):
            seen.append((X.shape, lengths.tolist()))
            return np.tile([0.25, 0.75], (len(X), 1))

    X, lengths = np.zeros((5, 8, 1)), np.array([8, 3, 4, 2, 6])
    P = Ensemble([Recorder()], [2]).member_probabilities(X, lengths, batch_size=2)
    assert P.shape == (1, 5, 2)
    assert seen == [((2, 4, 2), [4, 2]), ((2, 2, 2), [2, 1]), ((1, 3, 2), [3])]


def test_trained_bidirectional_members_predict_from_their_run_folder(tmp_path):
    from typer.testing import CliRunner

    from rnnlab.cli import app

    train, test, _ = _files(tmp_path, 20, 10)
    r = CliRunner().invoke(app, ["classify", "train", str(train), "--test", str(test),
                                 "--model", "lstm", "--bidirectional", "--members", "2",
                                 "--hidden-size", "6", "--epochs", "2", "--no-baselines",
                                 "--out", str(tmp_path / "b")])
    assert r.exit_code == 0, r.output
    report = json.loads((tmp_path / "b" / "report.json").read_text())
    assert report["network"]["bidirectional"] and len(report["training"]["members"]) == 2
    import rnnlab

    member = rnnlab.load(tmp_path / "b" / "members" / "1")
    assert member.rnn.bidirectional and member.pool == "last+mean+max"
    r = CliRunner().invoke(app, ["classify", "predict", str(tmp_path / "b"), str(test)])
    assert r.exit_code == 0, r.output
    accuracy = float(r.output.strip().splitlines()[-1].split()[-1])
    assert accuracy == pytest.approx(report["test"]["accuracy"])
