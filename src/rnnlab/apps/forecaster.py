"""Forecasting one or many series: the hybrid forecaster against honest baselines.

Data in (a single-series CSV, a long-format CSV, a .tsf or parquet file, or the built-in
example), a rolling-origin backtest out (`rnnlab.forecasting.backtest`): in each fold
the hybrid (`rnnlab.forecasting.hybrid`: a baseline chosen on validation, corrected by an
ensemble of small networks) and every baseline (naive, seasonal naive, drift, linear AR,
and AutoARIMA/AutoETS/AutoTheta when statsforecast is installed) forecast the same
windows; the report scores each per fold and in total, with the intervals' empirical
coverage next to their nominal level, and plots the last fold of the first series.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from rnnlab.data.panel import Panel
from rnnlab.forecasting import backtest as bt
from rnnlab.forecasting import statistical
from rnnlab.forecasting.hybrid import HybridConfig, fit_hybrid
from rnnlab.forecasting.season import choose_season, future_stamps
from rnnlab.forecasting.windows import Origins


@dataclass
class ForecastConfig:
    hybrid: HybridConfig = field(default_factory=HybridConfig)
    horizon: int | None = None  # H; None: the file's horizon (.tsf), else 1
    test: float | None = None  # held-out values per series and fold: a fraction or a count;
    #                            None: the horizon when the file gives one, else 0.2
    folds: int = 1  # rolling-origin folds, each refitted
    statistical: bool = True  # AutoARIMA, AutoETS, AutoTheta when statsforecast is installed

    def to_dict(self) -> dict:
        return asdict(self)


BUILTIN_ROWS = 1000  # length of the built-in example series
BUILTIN_SEED = 0  # its generator's seed: the same series everywhere


def builtin_example() -> Panel:
    """The seed example (rnnlab.tasks.forecast.multivariate_series, 1000 steps): x3
    forecast from its past and the covariates x1, x2."""
    from rnnlab.tasks.forecast import multivariate_series

    v = multivariate_series(BUILTIN_ROWS, np.random.default_rng(BUILTIN_SEED))  # (n, 3)
    return Panel(["example"], [v[:, 2].copy()], [None], [v[:, :2].copy()], ("x1", "x2"),
                 target="x3")


def load_panel(data, target=None, time_column=None, inputs=None, fill_missing=False,
               id_column: str = "unique_id") -> Panel:
    from rnnlab.data.panel import read_panel

    if data is None:
        return builtin_example()
    return read_panel(data, target, time_column, id_column, inputs, fill_missing)


def resolve(panel: Panel, cfg: ForecastConfig) -> tuple[int, np.ndarray]:
    """(H, held-out values per series) from the config and the file."""
    H = cfg.horizon or panel.horizon or 1
    test = cfg.test if cfg.test is not None else (panel.horizon or 0.2)
    return H, bt.test_sizes([len(y) for y in panel.y], test, H)


def _cut(panel: Panel, stops):
    ys = [y[:s] for y, s in zip(panel.y, stops)]
    cov = None if panel.covariates is None else [c[:s] for c, s in zip(panel.covariates, stops)]
    return ys, cov


def find_season(panel: Panel, cfg: ForecastConfig, end: int) -> tuple[int, str]:
    """m as given, else from the file's frequency or time column, else the ACF of the first
    series' training part."""
    if cfg.hybrid.season is not None:
        return cfg.hybrid.season, "given (--season)"
    return choose_season(panel.time[0], panel.y[0][:end], panel.frequency)


def run(panel: Panel, cfg: ForecastConfig, net, out, echo=print) -> dict:
    """The backtest; writes report.json and forecast.png in out and returns the report."""
    out = Path(out)
    H, n_test = resolve(panel, cfg)
    hcfg = HybridConfig(**{**asdict(cfg.hybrid), "horizon": H})
    folds = bt.make_folds([len(y) for y in panel.y], n_test, H, cfg.folds)
    season = find_season(panel, cfg, int(folds[0].ends[0]))
    echo(f"{len(panel)} series, horizon {H}, {cfg.folds} fold(s) of {int(n_test.min())}"
         f"{'' if n_test.min() == n_test.max() else f'-{int(n_test.max())}'} held-out values "
         f"per series; season {season[0]} ({season[1]})")
    use_stats = cfg.statistical and statistical.available()
    report = {"config": cfg.to_dict(), "network": net.to_dict() if net else None,
              "series": len(panel), "horizon": H, "season": season[0], "folds": []}
    t0 = time.perf_counter()
    for fold in folds:
        ys, cov = _cut(panel, fold.stops)
        t_fit = time.perf_counter()
        model = fit_hybrid(ys, fold.ends, hcfg, net, out / f"fold-{fold.k}", cov, season, echo)
        seconds = time.perf_counter() - t_fit
        o = fold.origins
        y_hat, lo, hi = model.interval(ys, o, cov)
        forecasts = {"rnnlab": y_hat, **bt.baseline_forecasts(ys, fold.ends, o, H, season[0])}
        if use_stats:
            stats, notes = statistical.forecasts(ys, fold.ends, fold.stops, o, H, season[0])
            forecasts.update(stats)
            for note in notes:
                echo(f"fold {fold.k}: {note}")
        choices = {k: [_plain(v[0]), v[1]] for k, v in model.choices.items()}
        echo(f"fold {fold.k}: " + "; ".join(f"{k} {v[0]} ({v[1]})" for k, v in choices.items()
                                            if k != "season"))
        per_series = {}
        scores = bt.score(ys, fold.ends, o, forecasts, season[0], per_series)
        report["folds"].append({
            "k": fold.k, "origins": len(o), "choices": choices, "seconds": seconds,
            "scores": scores, "coverage": bt.coverage(ys, o, lo, hi),
            "per_series": {panel.ids[i]: v for i, v in per_series.items()}})
        if fold.k == len(folds):
            report["plot"] = str(plot(panel, fold, o, forecasts, (lo, hi), out / "forecast.png"))
    report["seconds"] = time.perf_counter() - t0
    report["total"] = bt.average([f["scores"] for f in report["folds"]])
    report["coverage"] = float(np.mean([f["coverage"] for f in report["folds"]]))
    report["level"] = hcfg.level
    report["statistical"] = use_stats
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=2))
    return report


def _plain(v):
    return v.item() if isinstance(v, np.generic) else v


PLOTTED = ("rnnlab", "naive", "linear_ar", "AutoARIMA", "AutoTheta")  # the rest: report.json


def plot(panel: Panel, fold, o: Origins, forecasts: dict, band, path):
    """The first series from three held-out lengths before the fold, and the first-step
    forecasts of the hybrid (with its interval) and a few baselines from each origin."""
    from rnnlab.apps.plots import plot_forecast

    first = o.sid == 0
    t = o.t[first]
    start = max(0, int(fold.ends[0]) - 3 * (int(fold.stops[0]) - int(fold.ends[0])))
    span = np.arange(start, fold.stops[0])
    return plot_forecast(path, span, panel.y[0][span], t,
                         {k: v[first, 0] for k, v in forecasts.items() if k in PLOTTED},
                         title=f"{panel.ids[0]}: one-step forecasts from each origin, with "
                               f"the hybrid's prediction interval",
                         band=(band[0][first, 0], band[1][first, 0]))


def format_report(report: dict) -> str:
    """The total table (and per fold when there are several), and the coverage."""
    lines = []
    parts = [("total" if len(report["folds"]) > 1 else "test", report["total"])]
    if len(report["folds"]) > 1:
        parts = [(f"fold {f['k']}", f["scores"]) for f in report["folds"]] + parts
    for title, scores in parts:
        lines += [f"{title}:", (f"  {'method':<16}{'MAE':>11}{'RMSE':>11}{'sMAPE %':>9}"
                               f"{'MASE':>8}")]
        for name, m in scores.items():
            lines.append(f"  {name:<16}{m['mae']:>11.4g}{m['rmse']:>11.4g}"
                         f"{100 * m['smape']:>9.2f}{m['mase']:>8.3f}")
    lines.append(f"intervals: coverage {100 * report['coverage']:.1f} % at nominal "
                 f"{100 * report['level']:.0f} %; {report['seconds']:.1f} s in all")
    if not report["statistical"] and report["config"]["statistical"]:
        lines.append("AutoARIMA/AutoETS/AutoTheta: statsforecast is not installed "
                     "(pip install 'rnnlab[stats]')")
    return "\n".join(lines)


def forecast_after_end(panel: Panel, cfg: ForecastConfig, net, out, echo=print):
    """Refit on every value of every series and forecast the H steps after each end.
    Returns rows (series, stamp, forecast, lower, upper)."""
    H, _ = resolve(panel, cfg)
    hcfg = HybridConfig(**{**asdict(cfg.hybrid), "horizon": H})
    lengths = np.array([len(y) for y in panel.y])
    season = find_season(panel, cfg, int(lengths[0]))
    echo(f"refitting on all the data ({int(lengths.sum())} values in {len(panel)} series); "
         f"season {season[0]} ({season[1]})")
    model = fit_hybrid(panel.y, lengths, hcfg, net, Path(out) / "refit", panel.covariates,
                       season, echo)
    o = Origins(np.arange(len(panel)), lengths)
    y_hat, lo, hi = model.interval(panel.y, o, panel.covariates)  # reads y_i[:T_i] only
    rows = []
    for i in range(len(panel)):
        for h, stamp in enumerate(future_stamps(panel.time[i], H)):
            rows.append((panel.ids[i], stamp, y_hat[i, h], lo[i, h], hi[i, h]))
    return rows, model
