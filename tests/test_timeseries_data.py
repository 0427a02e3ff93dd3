"""Readers (.ts, CSV, .npz), standardisation and metrics (forecasting windows and
baselines: tests/test_forecast_hybrid.py)."""

from pathlib import Path

import numpy as np
import pytest

from rnnlab import metrics
from rnnlab.data import (
    Standardizer,
    interpolate_missing,
    read_sequences,
    read_series_csv,
    read_ts,
    select_columns,
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
    ("@classLabel true a\n1,2:a\n", r"no @data line"),  # free text before @data is skipped
    ("@classLabel true a\n", r"no @data line"),
    ("@timeStamps true\n@classLabel false\n@data\n1,2\n", r"expected \(time stamp,value\) pairs"),
    ("@dimensions two\n@data\n", r"line 1: @dimensions expects an integer"),
    ("@univariate maybe\n@data\n", r"line 1: expected true or false"),
])
def test_ts_bad_headers(tmp_path, text, message):
    with pytest.raises(ValueError, match=message):
        read_ts(write(tmp_path, "bad.ts", text))


def test_ts_time_stamps_and_free_text(tmp_path):
    """@timeStamps true: (stamp,value) pairs, the values in order (':' in a clock time does
    not split channels); a free-text line before @data is skipped."""
    text = ("Free text some archives carry\n@timeStamps true\n@univariate false\n"
            "@classLabel true a b\n@data\n"
            "(2007-01-01 00:00:00,1.5),(2007-01-01 00:00:01,2.5):(2007-01-01 00:00:00,3),"
            "(2007-01-01 00:00:01,4):a\n"
            "(1,5),(2,6),(3,7):(1,8),(2,9),(3,10):b\n")
    s = read_ts(write(tmp_path, "stamps.ts", text))
    assert s.lengths.tolist() == [2, 3] and s.y.tolist() == ["a", "b"]
    assert s.X[0, :2].tolist() == [[1.5, 3.0], [2.5, 4.0]]
    assert s.X[1].tolist() == [[5.0, 8.0], [6.0, 9.0], [7.0, 10.0]]


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


# ---- standardisation, metrics ---------------------------------------------------------------


def test_standardizer_round_trip_and_constant_column():
    a = np.array([[1.0, 5.0], [3.0, 5.0]])
    s = Standardizer.fit(a)
    np.testing.assert_array_equal(s.transform(a), [[-1, 0], [1, 0]])
    np.testing.assert_array_equal(s.inverse(s.transform(a)), a)


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
    from rnnlab.forecasting.baselines import seasonal_naive
    from rnnlab.forecasting.windows import Origins, targets

    y = [read_series_csv(DATA / "airline.csv").values[:, 0]]
    o = Origins(np.array([0]), np.array([108]))  # a 36-month forecast from the first 108
    got = metrics.forecast_metrics(targets(y, o, 36), seasonal_naive(y, o, 36, 12), 1.0)
    assert got["rmse"] == pytest.approx(73.6, abs=0.05)
    assert got["smape"] == pytest.approx(0.145, abs=0.0005)
