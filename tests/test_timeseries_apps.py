"""Forecasting and classification applications: input errors, label handling, learning."""

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
    x, _ = clf.to_time_major(s, scaler)
    assert x.shape == (4, 2, 1) and x.dtype == np.float32
    np.testing.assert_array_equal(x[:, 1, 0], [-1, 1, 0, 0])
