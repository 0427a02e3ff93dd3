"""Forecasting and classification applications: input errors, label handling, learning."""

import json

import numpy as np
import pytest

from rnnlab.apps import classifier as clf
from rnnlab.apps import forecaster as fc
from rnnlab.data import Sequences, WindowConfig
from rnnlab.data.tables import SeriesTable


def table(T=60, C=3):
    v = np.random.default_rng(0).normal(size=(T, C)).cumsum(0) + 50
    return SeriesTable(tuple("abc"[:C]), v, None)


# ---- forecasting: columns and strategies ---------------------------------------------------


@pytest.mark.parametrize("kwargs, message", [
    ({"target": "z"}, r"--target: unknown column\(s\) \['z'\]"),
    ({"inputs": ["a", "q"]}, r"--inputs: unknown column\(s\) \['q'\]"),
    ({"strategy": "both"}, r"strategy: expected one of 'direct', 'recursive', got 'both'"),
    ({"target": "c", "inputs": ["a", "b"], "strategy": "recursive"},
     r"the target 'c' must be one of --inputs"),
    ({"season": 0}, r"season: expected an integer >= 1"),
])
def test_forecast_config_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        fc.build_frame(table(), fc.ForecastConfig(**kwargs))


def test_forecast_defaults_and_training_arrays():
    cfg = fc.ForecastConfig(windows=WindowConfig(window=4, horizon=3, test=10, val=5))
    frame = fc.build_frame(table(), cfg)
    assert cfg.target == "c" and cfg.inputs == ["a", "b", "c"]
    X, Y = fc.training_arrays(frame, "direct", "train")
    assert X.shape == (45 - 4 - 3 + 1, 4, 3) and Y.shape == (X.shape[0], 3)
    X1, Y1 = fc.training_arrays(frame, "recursive", "train")
    assert Y1.shape == (X1.shape[0], 3)
    np.testing.assert_array_equal(Y1[:-1], X1[1:, -1])  # next step of every input column
    assert fc.ForecastConfig.from_dict(cfg.to_dict()) == cfg


def test_network_forecast_strategies_agree_for_a_perfect_one_step_model():
    """A linear series is forecast exactly by 'last value + slope': both strategies."""
    t = np.arange(80.0)
    tab = SeriesTable(("x", "y"), np.stack([t, 2 * t + 1], 1), None)
    cfg = fc.ForecastConfig(target="y", windows=WindowConfig(window=3, horizon=4, test=12, val=0,
                                                             diff=1))
    frame = fc.build_frame(tab, cfg)
    o = frame.origins("test")
    X, _ = frame.windows(o)
    one_step = lambda X: X[:, -1]  # the differenced series is constant
    rec = fc.network_forecast(one_step, frame, "recursive", o, X)
    direct = fc.network_forecast(lambda X: np.repeat(X[:, -1, 1:], 4, 1), frame, "direct", o, X)
    np.testing.assert_allclose(rec, frame.truth(o))
    np.testing.assert_allclose(direct, frame.truth(o))


# ---- classification: labels, channels, missing values --------------------------------------


def seqs(y, F=2, classes=None, nan=False):
    X = np.ones((len(y), 5, F))
    if nan:
        X[0, 2, 1] = np.nan
    return Sequences(X, np.full(len(y), 5), np.array(y), classes)


def test_class_list_and_encoding():
    assert clf.class_list(seqs(["10", "9", "2"])) == ["2", "9", "10"]
    assert clf.class_list(seqs(["b", "a"])) == ["a", "b"]
    assert clf.class_list(seqs(["1"], classes=("1", "2"))) == ["1", "2"]
    np.testing.assert_array_equal(clf.encode(seqs(["b", "a", "b"]), ["a", "b"], "TEST"), [1, 0, 1])


def test_classification_input_errors():
    with pytest.raises(ValueError, match=r"TEST: labels \['c'\] never appear in training"):
        clf.encode(seqs(["a", "c"]), ["a", "b"], "TEST")
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

    return NetworkConfig(**{"cell": "gru", "hidden": 16, "epochs": 20, "batch_size": 32,
                            "lr": 1e-2, **kw})


def test_rnn_beats_the_linear_autoregression_on_the_builtin_example(tmp_path):
    """x3 is non-linear in the recent past of x1 and x2: least squares on the same
    window cannot follow it, the RNN must (seeded, deterministic)."""
    cfg = fc.ForecastConfig(windows=WindowConfig(window=8, test=0.2, val=0.1))
    report = fc.run(fc.builtin_example(), cfg, small_net(), tmp_path, echo=lambda s: None)
    test = report["test"]
    assert test["model"]["rmse"] < 0.75 * test["linear_ar"]["rmse"]
    assert test["linear_ar"]["rmse"] < test["naive"]["rmse"]
    assert (tmp_path / "forecast.png").stat().st_size > 0
    assert (tmp_path / "best.safetensors").is_file()


def test_resumed_forecaster_equals_an_uninterrupted_one(tmp_path):
    table = fc.builtin_example()
    table = SeriesTable(table.columns, table.values[:300], None)

    def go(out, epochs, resume=False):
        cfg = fc.ForecastConfig(windows=WindowConfig(window=6, test=0.2, val=0.1))
        return fc.run(table, cfg, small_net(hidden=8, epochs=epochs), out, resume=resume,
                      echo=lambda s: None)

    whole = go(tmp_path / "a", 6)
    go(tmp_path / "b", 3)
    resumed = go(tmp_path / "b", 6, resume=True)
    assert resumed["training"]["steps"] == whole["training"]["steps"]
    assert resumed["training"]["started_at_step"] == whole["training"]["steps"] // 2 > 0
    assert resumed["test"]["model"] == whole["test"]["model"]


def write_csv(path, T=120):
    t = np.arange(T)
    rng = np.random.default_rng(3)
    a = np.sin(t / 5) + 0.1 * rng.normal(size=T)
    b = np.roll(a, 2) ** 2 + 10
    rows = ["month,a,b"] + [f"m{i},{x:.5f},{y:.5f}" for i, x, y in zip(t, a, b)]
    path.write_text("\n".join(rows) + "\n")
    return path


def test_forecast_commands(tmp_path):
    from typer.testing import CliRunner

    from rnnlab.cli import app

    data = write_csv(tmp_path / "s.csv")
    run = CliRunner().invoke
    r = run(app, ["forecast", "train", str(data), "--target", "b", "--window", "6", "--horizon",
                  "3", "--strategy", "recursive", "--epochs", "2", "--hidden", "8",
                  "--out", str(tmp_path / "run")])
    assert r.exit_code == 0, r.output
    assert "seasonal_naive_1" in r.output and "linear_ar" in r.output
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert report["config"]["strategy"] == "recursive" and report["test_windows"] > 0
    r = run(app, ["forecast", "predict", str(tmp_path / "run"), str(data)])
    assert r.exit_code == 0, r.output
    lines = r.output.strip().splitlines()
    assert lines[0] == "step,forecast" and len(lines) == 4
    assert all(np.isfinite(float(line.split(",")[1])) for line in lines[1:])


@pytest.mark.parametrize("args, message", [
    (["--target", "c"], "--target: unknown column(s) ['c']"),
    (["--window", "100"], "too few rows (120) for one train window"),
    (["--log", "--target", "a"], "log: every value must be > 0"),
])
def test_forecast_command_errors(tmp_path, args, message):
    from typer.testing import CliRunner

    from rnnlab.cli import app

    data = write_csv(tmp_path / "s.csv")
    r = CliRunner().invoke(app, ["forecast", "train", str(data), "--epochs", "1",
                                 "--out", str(tmp_path / "run"), *args])
    assert r.exit_code == 2 and message in r.output


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
                  "--members", "2", "--hidden", "8", "--epochs", "30", "--lr", "0.02",
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
        return clf.run(train, test, cfg, small_net(hidden=8, epochs=epochs, batch_size=8),
                       tmp_path / out, resume=resume, echo=lambda s: None)

    whole = go("a", 6)
    go("b", 3)
    resumed = go("b", 6, resume=True)
    (r,), (w,) = resumed["training"]["members"], whole["training"]["members"]
    assert r["steps"] == w["steps"]
    assert r["started_at_step"] == w["steps"] // 2 > 0
    assert r["best_val_loss"] == w["best_val_loss"]
    assert resumed["test"] == whole["test"]
