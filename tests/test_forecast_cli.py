"""`rnnlab forecast train / predict` end to end, the covariates, the statsforecast windows."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from rnnlab.apps import forecaster as fc
from rnnlab.apps.network import NetworkConfig
from rnnlab.cli import app
from rnnlab.forecasting.hybrid import BASELINES, HybridConfig

FAST = ["--epochs", "2", "--hidden-size", "4", "--ensemble", "1", "--no-statistical"]


def write_csv(path, T=120):
    t = np.arange(T)
    rng = np.random.default_rng(3)
    a = 20 + 5 * np.sin(2 * np.pi * t / 12) + 0.3 * rng.normal(size=T)
    months = [f"{1990 + i // 12}-{i % 12 + 1:02d}" for i in t]
    path.write_text("\n".join(["month,a"] + [f"{m},{x:.4f}" for m, x in zip(months, a)]) + "\n")
    return path


def test_train_backtests_folds_and_reports_every_method(tmp_path):
    data = write_csv(tmp_path / "s.csv", T=240)  # 120 values: a margin of 5 % at best
    r = CliRunner().invoke(app, ["forecast", "train", str(data), "--folds", "2", "--test", "12",
                                 "--out", str(tmp_path / "run"), *FAST])
    assert r.exit_code == 0, r.output
    assert "season 12 (the time column's step (monthly))" in r.output
    for name in ("fold 1:", "fold 2:", "total:", "rnnlab", "seasonal_naive", "drift",
                 "linear_ar", "coverage"):
        assert name in r.output
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert [f["origins"] for f in report["folds"]] == [12, 12]
    assert report["folds"][0]["choices"]["baseline"][0] in BASELINES[1:]  # not 'auto'
    assert list(report["folds"][1]["per_series"]) == ["s"]
    assert report["folds"][1]["per_series"]["s"] == report["folds"][1]["scores"]  # one series
    rn, sn = report["total"]["rnnlab"], report["total"]["seasonal_naive"]
    assert rn["mae"] < sn["mae"]
    assert (tmp_path / "run" / "forecast.png").stat().st_size > 0
    again = ["forecast", "train", str(data), "--out", str(tmp_path / "run"), *FAST]
    r = CliRunner().invoke(app, again)
    assert r.exit_code == 2 and "--overwrite to replace it" in r.output
    assert CliRunner().invoke(app, [*again, "--overwrite"]).exit_code == 0


def test_predict_refits_and_prints_dates_with_intervals(tmp_path):
    data = write_csv(tmp_path / "s.csv")
    r = CliRunner().invoke(app, ["forecast", "predict", str(data), "--horizon", "3",
                                 "--out", str(tmp_path / "p"), *FAST[:-1]])
    assert r.exit_code == 0, r.output
    assert "refitting on all the data (120 values in 1 series)" in r.output
    lines = [x for x in r.output.splitlines() if x.startswith(("s,", "series"))]
    assert lines[0] == "series,time,forecast,lower_90,upper_90"
    assert [x.split(",")[1] for x in lines[1:]] == ["2000-01", "2000-02", "2000-03"]
    for x in lines[1:]:
        y, lo, hi = map(float, x.split(",")[2:])
        assert lo < y < hi


@pytest.mark.parametrize("args, message", [
    (["--target", "c"], "--target: unknown column(s) ['c']"),
    (["--transform", "sqrt"], "transform: expected one of"),
    (["--folds", "30"], "too few for 30 fold(s)"),
    (["--level", "90"], "level: expected a finite number in (0, 1), got 90"),
])
def test_train_errors_are_one_line(tmp_path, args, message):
    data = write_csv(tmp_path / "s.csv")
    r = CliRunner().invoke(app, ["forecast", "train", str(data), "--out", str(tmp_path / "r"),
                                 *FAST, *args])
    assert r.exit_code == 2 and message in r.output, r.output


def test_covariates_let_the_network_beat_the_linear_ar_on_the_builtin_example(tmp_path):
    """x3 is non-linear in the recent past of the covariates x1 and x2: the AR on x3's own
    past cannot follow it, the hybrid's networks read x1 and x2 (seeded, deterministic)."""
    panel = fc.builtin_example()
    cfg = fc.ForecastConfig(HybridConfig(season=1, ensemble=1), statistical=False)
    net = NetworkConfig(cell="gru", hidden_size=16, epochs=15, batch_size=32, lr=1e-2, patience=5)
    report = fc.run(panel, cfg, net, tmp_path, echo=lambda s: None)
    test = report["total"]
    assert report["folds"][0]["choices"]["network"][0] is True
    assert test["rnnlab"]["rmse"] < 0.75 * test["linear_ar"]["rmse"]


def test_statistical_models_forecast_the_same_windows():
    """With refit=False the first origin's forecast is a plain fit-and-forecast on the
    training part."""
    pytest.importorskip("statsforecast")
    import pandas as pd
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS

    from rnnlab.forecasting import statistical
    from rnnlab.forecasting.windows import origins_between

    y = np.sin(np.arange(60) / 3) + 5 + 0.01 * np.arange(60)
    o = origins_between([60], 50, 60, 2)
    got, notes = statistical.forecasts([y], np.array([50]), np.array([60]), o, 2, 1)
    assert notes == []
    df = pd.DataFrame({"unique_id": "0", "ds": np.arange(1, 51), "y": y[:50]})
    ref = StatsForecast(models=[AutoETS(season_length=1)], freq=1).forecast(df=df, h=2)
    np.testing.assert_allclose(got["AutoETS"][0], ref["AutoETS"].to_numpy(), rtol=1e-6)
    assert np.isfinite(got["AutoARIMA"]).all() and got["AutoTheta"].shape == (9, 2)
    tiny, notes = statistical.forecasts([y[:8]], np.array([6]), np.array([8]),
                                        origins_between([8], 6, 8, 1), 1, 1)
    assert "AutoETS" not in tiny and notes[0].startswith("AutoETS left out: ")


def test_m1_yearly_naive_and_drift_match_the_reference(tmp_path):
    """The .tsf read, the 6-step hold-out and the M-competition aggregation reproduce the
    statsforecast figures of ../shared/data/README.md (naive 22.4 % / 4.89, drift 16.7 % /
    3.49); the hybrid's baseline alone (no networks) already beats drift."""
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "forecasting" / \
        "m1_yearly_dataset.tsf"
    if not path.exists():
        pytest.skip(f"{path} is missing (../shared/data)")
    panel = fc.load_panel(path)
    cfg = fc.ForecastConfig(HybridConfig(network=False), statistical=False)
    total = fc.run(panel, cfg, None, tmp_path, echo=lambda s: None)["total"]
    assert 100 * total["naive"]["smape"] == pytest.approx(22.43, abs=0.01)
    assert total["naive"]["mase"] == pytest.approx(4.894, abs=0.001)
    assert total["drift"]["mase"] == pytest.approx(3.489, abs=0.001)
    assert total["rnnlab"]["mase"] < total["drift"]["mase"]


def test_an_interrupted_backtest_resumes_to_the_same_report(tmp_path, monkeypatch):
    """Ctrl-C in the middle of the networks' training saves; --resume loads the finished
    networks, continues the interrupted one from its checkpoint, and reports the same
    forecasts as a run that was never stopped."""
    import signal

    from rnnlab.train.trainer import Trainer

    data = write_csv(tmp_path / "s.csv")
    args = ["forecast", "train", str(data), "--epochs", "6", "--hidden-size", "4",
            "--ensemble", "2", "--patience", "3", "--no-statistical"]
    update = Trainer._update
    r = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "whole")])
    assert r.exit_code == 0, r.output

    def interrupting(self):  # at the second update of the second network
        record = update(self)
        if self.out_dir.parent.name == "fold-1" and self.out_dir.name == "net-1" and \
                self.step == 2:
            self._signal = signal.SIGINT  # what the SIGINT handler sets
        return record

    monkeypatch.setattr(Trainer, "_update", interrupting)
    out = tmp_path / "stopped"
    r = CliRunner().invoke(app, [*args, "--out", str(out)])
    assert r.exit_code == 130, r.output
    assert f"--resume --out {out}" in r.output and "Traceback" not in r.output
    assert not (out / "report.json").exists()
    finished = sorted(p.parent.name for p in out.glob("fold-1/net-*/summary.json"))
    monkeypatch.setattr(Trainer, "_update", update)
    r = CliRunner().invoke(app, [*args, "--out", str(out), "--resume"])
    assert r.exit_code == 0, r.output
    whole, resumed = (json.loads((tmp_path / d / "report.json").read_text())
                      for d in ("whole", "stopped"))
    assert finished == ["net-0"]
    assert resumed["folds"][0]["choices"] == whole["folds"][0]["choices"]
    assert resumed["total"] == whole["total"] and resumed["coverage"] == whole["coverage"]
