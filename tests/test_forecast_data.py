"""Many-series readers (.tsf, long-format CSV, DataFrame), seasons and time stamps."""

from pathlib import Path

import numpy as np
import pytest

from rnnlab.data.panel import read_long_csv, read_panel
from rnnlab.data.tsf import read_tsf
from rnnlab.forecasting.season import choose_season, future_stamps, season_from_acf

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"

TSF = """# a comment
@relation toy
@attribute series_name string
@attribute start_timestamp date
@frequency yearly
@horizon 2
@missing false
@equallength false
@data
A:1990-01-01 00-00-00:1,2,3,4.5
B:2001-01-01 00-00-00:10,20,30
"""


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_tsf_reads_series_stamps_and_header(tmp_path):
    p = read_tsf(write(tmp_path, "a.tsf", TSF))
    assert p.ids == ["A", "B"] and p.horizon == 2 and p.frequency == "yearly"
    np.testing.assert_array_equal(p.y[0], [1, 2, 3, 4.5])
    np.testing.assert_array_equal(p.y[1], [10, 20, 30])
    assert list(p.time[1]) == ["2001", "2002", "2003"]


@pytest.mark.parametrize("text, message", [
    (TSF.replace("@data\n", ""), "line 9: expected a header line starting with '@' before @data"),
    (TSF.split("@data")[0], "no @data line"),
    (TSF.replace("date\n", "datum\n"), "expected '@attribute NAME TYPE'"),
    (TSF.replace("A:1990-01-01 00-00-00:", "A:"), "line 10: expected 2 attribute field(s)"),
    (TSF.replace("4.5", "?"), "line 10: missing value '?' but the header says @missing false"),
    (TSF.replace("4.5", "x"), "line 10, value 4: expected a number, got 'x'"),
    (TSF.replace("@horizon 2", "@horizon two"), "@horizon: expected a positive whole number"),
    (TSF.replace("@relation toy", "relation toy"), "line 2: expected a header line"),
])
def test_tsf_errors_name_the_line(tmp_path, text, message):
    with pytest.raises(ValueError) as e:
        read_tsf(write(tmp_path, "a.tsf", text))
    assert message in str(e.value)


LONG = "unique_id,ds,y,price\nA,2020-01,1,5\nA,2020-02,2,6\nA,2020-03,3,7\nB,2020-01,7,1\n" \
       "B,2020-02,8,2\n"


def test_long_csv_splits_series_and_covariates(tmp_path):
    p = read_long_csv(write(tmp_path, "l.csv", LONG))
    assert p.ids == ["A", "B"] and p.covariate_names == ("price",)
    np.testing.assert_array_equal(p.y[0], [1, 2, 3])
    np.testing.assert_array_equal(p.covariates[1][:, 0], [1, 2])
    assert list(p.time[1]) == ["2020-01", "2020-02"]
    assert read_panel(write(tmp_path, "l2.csv", LONG), covariates=[]).covariates is None


@pytest.mark.parametrize("text, kwargs, message", [
    (LONG, {"target": "sales"}, "--target: 'sales' is not a column"),
    (LONG, {"covariates": ["cost"]}, "--inputs: unknown column(s) ['cost']"),
    (LONG + "A,2020-04,4,8\n", {}, "series 'A': its rows are not contiguous"),
    (LONG.replace("A,2020-02,2", "A,2020-02,"), {}, "missing value at row 3 column 'y'"),
    (LONG.replace("A,2020-02,2", "A,2020-02,two"), {}, "row 3, column 'y': expected a number"),
])
def test_long_csv_errors(tmp_path, text, kwargs, message):
    with pytest.raises(ValueError) as e:
        read_long_csv(write(tmp_path, "l.csv", text), **kwargs)
    assert message in str(e.value)


def test_read_panel_dispatch_and_missing_file(tmp_path):
    one = read_panel(write(tmp_path, "w.csv", "month,a,b\n2020-01,1,2\n2020-02,3,4\n"),
                     target="a")
    assert one.ids == ["w"] and one.target == "a" and one.covariate_names == ("b",)
    assert read_panel(write(tmp_path, "l.csv", LONG)).ids == ["A", "B"]
    with pytest.raises(FileNotFoundError, match="no such file"):
        read_panel(tmp_path / "none.csv")
    values = read_panel(write(tmp_path, "v.csv", "value\n1.5\n2.5\n3\n"))  # no time column
    assert values.target == "value" and list(values.y[0]) == [1.5, 2.5, 3.0]
    with pytest.raises(ValueError, match="expected a numeric column to forecast; its only "
                                         "column, 'value', holds text"):
        read_panel(write(tmp_path, "t.csv", "value\nabc\ndef\n"))


def test_dataframe_matches_the_csv(tmp_path):
    pd = pytest.importorskip("pandas")
    from rnnlab.data.panel import from_dataframe

    p = from_dataframe(pd.read_csv(write(tmp_path, "l.csv", LONG)))
    q = read_long_csv(tmp_path / "l.csv")
    assert p.ids == q.ids
    for a, b in zip(p.y + p.covariates, q.y + q.covariates):
        np.testing.assert_array_equal(a, b)


def test_season_from_stamps_and_acf():
    assert choose_season(["1949-01", "1949-02", "1949-03"], None)[0] == 12
    assert choose_season(["1991 Jul", "1991 Aug", "1991 Sep"], None)[0] == 12
    assert choose_season(["2021-05-01 00:00:00+00:00", "2021-05-01 00:30:00+00:00"], None)[0] \
        == 48
    assert choose_season(None, None, "yearly") == (1, "the file's frequency 'yearly'")
    t = np.arange(300)
    rng = np.random.default_rng(0)
    assert season_from_acf(np.sin(2 * np.pi * t / 7) + 0.1 * rng.normal(size=300) + t) == 7
    assert season_from_acf(rng.normal(size=300)) == 1
    cycle = np.sin(2 * np.pi * np.arange(1000) / 9.6)  # r_19 = 0.97 > r_10 = 0.96
    assert season_from_acf(cycle) == 10  # the period, not its multiple


def test_a_first_column_of_whole_steps_is_time_not_a_covariate(tmp_path):
    """Years and pandas' row numbers are a time index; read as a covariate they would be a
    trend the networks extrapolate past the training range."""
    years = tmp_path / "lynx.csv"
    years.write_text("year,lynx\n" + "".join(f"{1821 + i},{v}\n" for i, v in
                                                 enumerate([269, 321, 585, 871, 1475])))
    p = read_panel(years)
    assert p.covariates is None and p.y[0].tolist() == [269, 321, 585, 871, 1475]
    assert choose_season(p.time[0], p.y[0]) == (1, "the time column's step (yearly)")
    rows = tmp_path / "rows.csv"
    rows.write_text(",y\n" + "".join(f"{i},{np.sin(i)}\n" for i in range(40)))
    p = read_panel(rows)
    assert p.covariates is None and p.time[0][:2].tolist() == ["0", "1"]
    assert choose_season(p.time[0], p.y[0])[1] == "the autocorrelation of the training part"
    assert future_stamps(p.time[0], 2) == ["40", "41"]  # the next rows, not years 0040
    measured = tmp_path / "measured.csv"
    measured.write_text("x,y\n1,2\n2,3\n4,5\n")  # not equal steps: a covariate
    assert read_panel(measured).covariate_names == ("x",)


def test_future_stamps():
    assert future_stamps(["1960-11", "1960-12"], 2) == ["1961-01", "1961-02"]
    assert future_stamps(["1990", "1991"], 1) == ["1992"]
    assert future_stamps(["2021-05-01 00:00:00", "2021-05-01 00:30:00"], 1) == \
        ["2021-05-01 01:00:00"]
    assert future_stamps(None, 2) == ["1", "2"]


def test_m1_yearly_reads():
    path = DATA / "forecasting" / "m1_yearly_dataset.tsf"
    if not path.exists():
        pytest.skip(f"{path} is missing (../shared/data)")
    p = read_tsf(path)
    assert len(p) == 181 and p.horizon == 6 and min(len(y) for y in p.y) == 15
