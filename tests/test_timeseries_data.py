"""Readers (.ts, CSV, .npz), chronological windows without leakage, baselines and metrics."""

from pathlib import Path

import numpy as np
import pytest

from rnnlab import metrics
from rnnlab.data import (
    ForecastFrame,
    Standardizer,
    WindowConfig,
    fit_linear_ar,
    interpolate_missing,
    linear_ar,
    naive,
    read_sequences,
    read_series_csv,
    read_ts,
    recursive_forecast,
    seasonal_naive,
    select_columns,
    split_sizes,
)

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

HEAD = "# a comment\n@problemName toy\n@timeStamps false\n"


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


# ---- .ts reader -----------------------------------------------------------------------


def test_ts_univariate_equal_length(tmp_path):
    p = write(tmp_path, "u.ts", HEAD + "@univariate true\n@equalLength true\n@seriesLength 3\n"
              "@classLabel true a b\n@data\n1,2,3:a\n\n4,5.5,-6e1:b\n")
    s = read_ts(p)
    np.testing.assert_array_equal(s.X[:, :, 0], [[1, 2, 3], [4, 5.5, -60]])
    np.testing.assert_array_equal(s.lengths, [3, 3])
    assert list(s.y) == ["a", "b"] and s.classes == ("a", "b")


def test_ts_multivariate_unequal_lengths_and_missing(tmp_path):
    p = write(tmp_path, "m.ts", HEAD + "@univariate false\n@dimensions 2\n@equalLength false\n"
              "@missing true\n@classLabel true x y\n@data\n1,2:3,4:x\n5,?,7:8,9,10:y\n")
    s = read_ts(p)
    assert s.X.shape == (2, 3, 2)
    np.testing.assert_array_equal(s.lengths, [2, 3])
    np.testing.assert_array_equal(s.X[0], [[1, 3], [2, 4], [0, 0]])  # zeros past the end
    assert np.isnan(s.X[1, 1, 0]) and s.X[1, 2, 1] == 10
    filled = interpolate_missing(s)
    assert filled.X[1, 1, 0] == 6.0 and not np.isnan(filled.X).any()


def test_ts_without_labels(tmp_path):
    s = read_ts(write(tmp_path, "n.ts", "@classLabel false\n@data\n1,2\n3,4,5\n"))
    assert s.y is None and list(s.lengths) == [2, 3]


@pytest.mark.parametrize("body, message", [
    ("1,2:3,4:a\n1,2:a\n", r"line 8: expected 2 channels"),
    ("1,2:3,4:a\n1,x:3,4:a\n", r"line 8, channel 0: expected a number, got 'x'"),
    ("1,2:3,4:c\n", r"line 7: class label 'c' is not one of the declared labels"),
    ("1,2:3,4,5:a\n", r"line 7: channels have different lengths \[2, 3\]"),
    ("1,2:3,4:a\n1,2,3:4,5,6:b\n", r"@equalLength true, but series lengths range from 2 to 3"),
    ("1,?:3,4:a\n", r"@missing false, but series 0 has missing values"),
    ("", r"no series after @data"),
])
def test_ts_malformed_lines_name_the_line(tmp_path, body, message):
    text = ("@dimensions 2\n@equalLength true\n@missing false\n@classLabel true a b\n"
            "# data follows\n@data\n" + body)
    with pytest.raises(ValueError, match=message):
        read_ts(write(tmp_path, "bad.ts", text))


@pytest.mark.parametrize("text, message", [
    ("@classLabel true a\n1,2:a\n", r"line 2: expected a header line"),
    ("@classLabel true a\n", r"no @data line"),
    ("@timeStamps true\n@classLabel false\n@data\n", r"@timeStamps true is not supported"),
    ("@dimensions two\n@data\n", r"line 1: @dimensions expects an integer"),
    ("@univariate maybe\n@data\n", r"line 1: expected true or false"),
])
def test_ts_bad_headers(tmp_path, text, message):
    with pytest.raises(ValueError, match=message):
        read_ts(write(tmp_path, "bad.ts", text))


@pytest.mark.skipif(not (DATA / "ucr").exists(), reason="../shared/data/ucr not found")
def test_ts_reads_japanese_vowels():
    s = read_ts(DATA / "ucr" / "JapaneseVowels_TRAIN.ts")
    assert s.X.shape[0] == 270 and s.num_channels == 12 and len(s.classes) == 9
    assert 7 <= s.lengths.min() and s.lengths.max() <= 29


# ---- CSV and .npz readers ------------------------------------------------------------------


def test_series_csv_time_column_and_values(tmp_path):
    p = write(tmp_path, "s.csv", "date,a,b\n2000-01,1,2\n2000-02,3,4.5\n")
    t = read_series_csv(p)
    assert t.columns == ("a", "b") and list(t.time) == ["2000-01", "2000-02"]
    np.testing.assert_array_equal(t.values, [[1, 2], [3, 4.5]])
    assert read_series_csv(write(tmp_path, "n.csv", "a,b\n1,2\n")).time is None


def test_series_csv_missing_values_are_reported_with_their_row(tmp_path):
    p = write(tmp_path, "m.csv", "t,a,b\n1,1,2\n2,,4\n3,5,NA\n4,7,8\n")
    with pytest.raises(ValueError, match=r"row 3 column 'a', row 4 column 'b'"):
        read_series_csv(p, time_column="t")
    t = read_series_csv(p, time_column="t", missing="interpolate")
    np.testing.assert_array_equal(t.values, [[1, 2], [3, 4], [5, 6], [7, 8]])


@pytest.mark.parametrize("text, kwargs, message", [
    ("a,b\n1,x\n", {}, r"row 2, column 'b': expected a number, got 'x'"),
    ("a,b\n1,2,3\n", {}, r"row 2: expected 2 fields, got 3"),
    ("a,b\n", {}, r"only the header"),
    ("a,b\n1,2\n", {"time_column": "when"}, r"time_column: 'when' is not a column"),
    ("a,b\n1,2\n", {"missing": "drop"}, r"missing: expected 'error'"),
])
def test_series_csv_errors(tmp_path, text, kwargs, message):
    with pytest.raises(ValueError, match=message):
        read_series_csv(write(tmp_path, "e.csv", text), **kwargs)


def test_select_columns_names_the_unknown_column(tmp_path):
    t = read_series_csv(write(tmp_path, "s.csv", "a,b\n1,2\n"))
    assert select_columns(t, ["b", "a"], "--inputs") == [1, 0]
    with pytest.raises(ValueError, match=r"--target: unknown column\(s\) \['c'\]"):
        select_columns(t, ["c"], "--target")


def test_sequences_csv_header_and_unequal_rows(tmp_path):
    s = read_sequences(write(tmp_path, "c.csv", "label,t0,t1,t2\nu,1,2,3\nv,4,5,\n"))
    assert list(s.y) == ["u", "v"] and list(s.lengths) == [3, 2] and s.X.shape == (2, 3, 1)
    with pytest.raises(ValueError, match=r"row 2, value 1: expected a number"):
        read_sequences(write(tmp_path, "d.csv", "u,1,2\nv,3,oops\n"))


def test_sequences_npz(tmp_path):
    X = np.arange(24.0).reshape(2, 4, 3)
    np.savez(tmp_path / "a.npz", X=X, lengths=np.array([4, 2]), y=np.array([0, 1]))
    s = read_sequences(tmp_path / "a.npz")
    assert list(s.y) == ["0", "1"] and list(s.lengths) == [4, 2]
    np.testing.assert_array_equal(s.X[0], X[0])
    assert (s.X[1, 2:] == 0).all()
    np.savez(tmp_path / "b.npz", X=X, lengths=np.array([4, 5]))
    with pytest.raises(ValueError, match=r"lengths: expected 2 integers in \[1, 4\]"):
        read_sequences(tmp_path / "b.npz")
    np.savez(tmp_path / "c.npz", data=X)
    with pytest.raises(ValueError, match=r"expected an array named 'X'"):
        read_sequences(tmp_path / "c.npz")
    with pytest.raises(ValueError, match=r"expected a \.ts, \.csv or \.npz file"):
        read_sequences(write(tmp_path, "x.json", "{}"))


# ---- splits and windows: no leakage --------------------------------------------------------


def leaky_series(T=60, n_train=40):
    """Column 0 is the row index; column 1 jumps to 1e6 from the end of training on, so
    any statistic or window that sees a later row shows it at once."""
    v = np.stack([np.arange(T, dtype=float), np.where(np.arange(T) < n_train, 1.0, 1e6)], 1)
    v[:, 1] += np.sin(np.arange(T))
    return v


@pytest.mark.parametrize("diff", [0, 1, 3])
def test_windows_and_scaling_never_see_the_future(diff):
    v = leaky_series()
    cfg = WindowConfig(window=5, horizon=3, test=10, val=10, diff=diff)
    f = ForecastFrame(v, inputs=[0, 1], target=1, cfg=cfg)
    assert f.sizes == (40, 10, 10)
    train_rows = v[diff:40] - (v[:40 - diff] if diff else 0)
    np.testing.assert_allclose(f.scaler.mean, train_rows.mean(0))
    np.testing.assert_allclose(f.scaler.std, np.where(train_rows.std(0) > 0, train_rows.std(0), 1))
    for part, (lo, hi) in {"train": (0, 40), "val": (40, 50), "test": (50, 60)}.items():
        o = f.origins(part)
        X, Y = f.windows(o)
        d_in = f.scaler.inverse(X)  # (N, K, 2) the inputs before scaling
        if diff == 0:  # column 0 is then the row index itself: all inputs precede the origin
            np.testing.assert_allclose(d_in[:, -1, 0], o - 1)
        assert o.min() >= lo and (o + cfg.horizon - 1).max() < hi
        assert (o - cfg.window).min() >= diff
        if part == "train":
            assert np.abs(d_in).max() < 1e3  # no 1e6 from later rows
            assert np.abs(Y * f.scaler.std[1] + f.scaler.mean[1]).max() < 1e3
    last = f.origins("train")[-1]
    assert last + cfg.horizon == 40  # the training part is used up to its last row


@pytest.mark.parametrize("log, diff", [(False, 0), (True, 0), (False, 1), (True, 12)])
def test_to_values_inverts_the_pipeline(log, diff):
    rng = np.random.default_rng(0)
    v = np.exp(rng.normal(size=(80, 2)).cumsum(0) * 0.1) + 1
    f = ForecastFrame(v, [0, 1], 0, WindowConfig(window=6, horizon=15, test=20, val=0,
                                                 log=log, diff=diff))
    o = np.concatenate([f.origins("train"), f.origins("test")])
    _, Y = f.windows(o)
    np.testing.assert_allclose(f.to_values(o, Y[:, :, 0]), f.truth(o), rtol=1e-12)


def test_split_sizes_and_errors():
    assert split_sizes(100, 0.2, 0.1) == (70, 10, 20)
    assert split_sizes(144, 36, 0) == (108, 0, 36)
    with pytest.raises(ValueError, match=r"test: expected at least one test row"):
        split_sizes(10, 0.01, 0)
    with pytest.raises(ValueError, match=r"leave no training rows out of 10"):
        split_sizes(10, 5, 5)
    with pytest.raises(ValueError, match=r"val: expected a fraction in \[0, 1\) or a whole"):
        split_sizes(10, 2, 1.5)


def test_too_few_rows_for_a_window():
    with pytest.raises(ValueError, match=r"data: too few rows \(20\) for one train window"):
        ForecastFrame(np.ones((20, 1)), [0], 0, WindowConfig(window=12, horizon=5, test=4, val=0))
    with pytest.raises(ValueError, match=r"log: every value must be > 0"):
        ForecastFrame(-np.ones((20, 1)), [0], 0, WindowConfig(window=2, test=4, log=True))


def test_standardizer_round_trip_and_constant_column():
    a = np.array([[1.0, 5.0], [3.0, 5.0]])
    s = Standardizer.fit(a)
    np.testing.assert_array_equal(s.transform(a), [[-1, 0], [1, 0]])
    np.testing.assert_array_equal(s.inverse(s.transform(a)), a)


# ---- baselines, recomputed independently ---------------------------------------------------


def test_baselines_against_plain_loops():
    rng = np.random.default_rng(1)
    T, K, H, m = 90, 4, 5, 7
    v = np.stack([np.sin(np.arange(T) * 2 * np.pi / m) + 0.1 * rng.normal(size=T),
                  rng.normal(size=T)], 1) + 3
    f = ForecastFrame(v, [0, 1], 0, WindowConfig(window=K, horizon=H, test=20, val=5))
    o = f.origins("test")
    y = v[:, 0]
    naive_loop = np.array([[y[t - 1]] * H for t in o])
    snaive_loop = np.array([[y[t + h - m * (h // m + 1)] for h in range(H)] for t in o])
    np.testing.assert_array_equal(naive(f, o), naive_loop)
    np.testing.assert_array_equal(seasonal_naive(f, o, m), snaive_loop)
    # least squares on raw values by the normal equations: the same forecasts, since an
    # affine rescaling of inputs and targets does not change a fit that has a bias
    rows = [t for t in range(K, 65 - H + 1)]
    A = np.array([np.concatenate([v[t - K:t].ravel(), [1.0]]) for t in rows])
    B = np.array([y[t:t + H] for t in rows])
    W = np.linalg.solve(A.T @ A, A.T @ B)
    A_test = np.array([np.concatenate([v[t - K:t].ravel(), [1.0]]) for t in o])
    np.testing.assert_allclose(linear_ar(f, fit_linear_ar(f), o), A_test @ W, rtol=1e-8)


def test_recursive_forecast_feeds_its_outputs_back():
    X = np.zeros((2, 3, 2))
    X[1] = 10.0
    out = recursive_forecast(lambda w: w[:, -1] + [1.0, 2.0], X, H=4, target_pos=1)
    np.testing.assert_array_equal(out, [[2, 4, 6, 8], [12, 14, 16, 18]])


# ---- metrics -------------------------------------------------------------------------------


def test_metrics_by_hand():
    y, y_hat = np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 5.0])
    assert metrics.mae(y, y_hat) == 1.0
    assert metrics.rmse(y, y_hat) == pytest.approx(np.sqrt(5 / 3))
    assert metrics.smape(y, y_hat) == pytest.approx((2 / 3 + 0 + 4 / 8) / 3)
    assert metrics.smape([0.0], [0.0]) == 0.0
    assert metrics.mase_scale([1.0, 3.0, 6.0], 1) == 2.5
    assert metrics.forecast_metrics(y, y_hat, 2.5)["mase"] == pytest.approx(0.4)
    with pytest.raises(ValueError, match=r"season: 3 needs more than 3 training values"):
        metrics.mase_scale([1.0, 2.0, 3.0], 3)
    C = metrics.confusion_matrix([0, 0, 1, 2], [0, 1, 1, 1], 3)
    np.testing.assert_array_equal(C, [[1, 1, 0], [0, 1, 0], [0, 1, 0]])
    np.testing.assert_array_equal(metrics.recall_per_class(C), [0.5, 1.0, 0.0])


@pytest.mark.skipif(not (DATA / "airline.csv").exists(),
                    reason="../shared/data/airline.csv not found")
def test_airline_seasonal_naive_matches_the_reference():
    t = read_series_csv(DATA / "airline.csv")
    f = ForecastFrame(t.values, [0], 0, WindowConfig(window=12, horizon=36, test=36, val=0))
    o = f.origins("test")
    got = metrics.forecast_metrics(f.truth(o), seasonal_naive(f, o, 12), 1.0)
    assert got["rmse"] == pytest.approx(73.6, abs=0.05)
    assert got["smape"] == pytest.approx(0.145, abs=0.0005)
