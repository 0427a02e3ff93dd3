"""Multivariate forecasting from a CSV file: an RNN against honest baselines.

The series is split chronologically (train | val | test), transformed (optional log
and differencing) and standardised with training statistics only (see
`rnnlab.data.windows`). A many-to-one network reads the last K steps of the input
columns and forecasts the next H values of the target:

- direct: one output per step of the horizon, ŷ_{t..t+H-1} = W_out h_K + b_out;
- recursive: a one-step model of every input column, fed its own forecasts H times
  (the target must be one of the inputs).

On the test part it is scored (MAE, RMSE, sMAPE, MASE, in original units) next to
the naive, seasonal-naive and least-squares autoregression baselines.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from rnnlab.data import baselines
from rnnlab.data.tables import SeriesTable, select_columns
from rnnlab.data.windows import ForecastFrame, WindowConfig, recursive_forecast
from rnnlab.metrics import forecast_metrics, mase_scale


@dataclass
class ForecastConfig:
    target: str | None = None  # the column forecast; None: the last numeric column
    inputs: list[str] | None = None  # the columns the network reads; None: all numeric columns
    windows: WindowConfig = field(default_factory=WindowConfig)
    strategy: str = "direct"  # 'direct' (H outputs) or 'recursive' (one step, fed back)
    season: int = 1  # period of the seasonal-naive baseline and of the MASE scale

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> ForecastConfig:
        return cls(**{**d, "windows": WindowConfig(**d["windows"])})


def build_frame(table: SeriesTable, cfg: ForecastConfig) -> ForecastFrame:
    """Resolve the columns (errors name --target / --inputs) and window the series."""
    from rnnlab._checks import check_option, check_positive_int

    check_option("strategy", cfg.strategy, ("direct", "recursive"))
    check_positive_int("season", cfg.season)
    cfg.target = cfg.target or table.columns[-1]
    cfg.inputs = list(cfg.inputs or table.columns)
    (target,) = select_columns(table, [cfg.target], "--target")
    inputs = select_columns(table, cfg.inputs, "--inputs")
    if cfg.strategy == "recursive" and target not in inputs:
        raise ValueError(f"strategy: 'recursive' feeds forecasts back as inputs, so the target "
                         f"{cfg.target!r} must be one of --inputs {cfg.inputs}")
    return ForecastFrame(table.values, inputs, target, cfg.windows)


def training_arrays(frame: ForecastFrame, strategy: str, part: str):
    """X (N, K, C_in) and the network's targets: (N, H) direct, (N, C_in) recursive."""
    if strategy == "direct":
        X, Y = frame.windows(frame.origins(part))
        return X, Y[:, :, 0]  # (N, H)
    X, Y = frame.windows(frame.origins(part, horizon=1), targets=frame.inputs, horizon=1)
    return X, Y[:, 0, :]  # (N, C_in)


def network_forecast(predict, frame: ForecastFrame, strategy: str, origins, X) -> np.ndarray:
    """(N, H) forecasts in original units; predict maps X (N, K, C_in) to the network's outputs."""
    if strategy == "direct":
        s_hat = predict(X)  # (N, H)
    else:
        s_hat = recursive_forecast(predict, X, frame.H, frame.inputs.index(frame.target))
    return frame.to_values(origins, s_hat)


def baseline_forecasts(frame: ForecastFrame, season: int, origins) -> dict[str, np.ndarray]:
    """The three baselines on these origins, each (N, H) in original units."""
    W = baselines.fit_linear_ar(frame)
    return {"naive": baselines.naive(frame, origins),
            f"seasonal_naive_{season}": baselines.seasonal_naive(frame, origins, season),
            "linear_ar": baselines.linear_ar(frame, W, origins)}


def score(frame: ForecastFrame, forecasts: dict[str, np.ndarray], origins, season: int) -> dict:
    """Metrics of each method on the test windows; MASE scaled by the training target."""
    scale = mase_scale(frame.raw[: frame.sizes[0], frame.target], season)
    y = frame.truth(origins)
    return {name: forecast_metrics(y, y_hat, scale) for name, y_hat in forecasts.items()}


def tiling_origins(frame: ForecastFrame, part: str = "test") -> np.ndarray:
    """Origins H apart from the first one of `part`: their forecasts tile it without overlap."""
    o = frame.origins(part)
    return o[:: frame.H]


# ---- the whole run: data -> network and baselines -> report, plot, checkpoint -----------------


BUILTIN_ROWS = 1000  # length of the built-in example series
BUILTIN_SEED = 0  # its generator's seed: the same series everywhere


def builtin_example() -> SeriesTable:
    """The seed example: x1, x2 and x3 = a non-linear function of their recent past
    (rnnlab.tasks.forecast.multivariate_series), 1000 steps, always the same."""
    from rnnlab.tasks.forecast import COLUMNS, multivariate_series

    values = multivariate_series(BUILTIN_ROWS, np.random.default_rng(BUILTIN_SEED))  # (n, 3)
    return SeriesTable(COLUMNS, values, None)


def load_table(data, time_column: str | None, fill_missing: bool) -> SeriesTable:
    """A CSV file, or with no file the built-in three-variable example."""
    from rnnlab.data.tables import read_series_csv

    if data is None:
        return builtin_example()
    return read_series_csv(data, time_column, "interpolate" if fill_missing else "error")


def run(table: SeriesTable, cfg: ForecastConfig, net, out, resume: bool = False,
        echo=print) -> dict:
    """Train the network on the training windows (validation for model selection), score
    it and the baselines on the test windows; write report.json and forecast.png in out."""
    import json
    from pathlib import Path

    from rnnlab.apps import network

    frame = build_frame(table, cfg)
    X, Y = training_arrays(frame, cfg.strategy, "train")
    val = training_arrays(frame, cfg.strategy, "val")
    val = val if len(val[0]) else None  # no validation window fits: keep the last weights
    meta = {"app": "forecast", "forecast": cfg.to_dict(), "columns": list(table.columns),
            "scaler": {"mean": frame.scaler.mean.tolist(), "std": frame.scaler.std.tolist()}}
    echo(f"{len(X)} training windows of {frame.K} steps x {len(frame.inputs)} columns, "
         f"forecasting {cfg.target!r} {frame.H} step(s) ahead ({cfg.strategy})")
    model, fit_info = network.fit_regressor(net, X, Y, val, Path(out), meta, resume, echo)
    o = frame.origins("test")
    X_test, _ = frame.windows(o)
    forecasts = {"model": network_forecast(model.predict, frame, cfg.strategy, o, X_test),
                 **baseline_forecasts(frame, cfg.season, o)}
    report = {"config": meta["forecast"], "network": net.to_dict(), "training": fit_info,
              "test_windows": len(o), "test": score(frame, forecasts, o, cfg.season)}
    report["plot"] = str(plot(frame, forecasts, o, Path(out) / "forecast.png", cfg.target))
    (Path(out) / "report.json").write_text(json.dumps(report, indent=2))
    return report


def plot(frame: ForecastFrame, forecasts: dict, origins, path, target: str):
    """The target and the forecasts from origins H apart, which tile the test part."""
    from rnnlab.apps.plots import plot_forecast

    tile = np.isin(origins, tiling_origins(frame))
    t_fc = (origins[tile][:, None] + np.arange(frame.H)).ravel()
    return plot_forecast(path, np.arange(len(frame.raw)), frame.raw[:, frame.target], t_fc,
                         {k: v[tile].ravel() for k, v in forecasts.items()},
                         title=f"{target}: {frame.H}-step forecasts on the test part")


def format_report(report: dict) -> str:
    """The test metrics of the network and the baselines as a plain table."""
    seconds = report["training"]["seconds"]
    lines = [f"test: {report['test_windows']} windows; training {seconds:.1f} s",
             f"{'method':<22}{'MAE':>10}{'RMSE':>10}{'sMAPE':>10}{'MASE':>8}"]
    for name, m in report["test"].items():
        lines.append(f"{name:<22}{m['mae']:>10.4g}{m['rmse']:>10.4g}{m['smape']:>10.4f}"
                     f"{m['mase']:>8.3f}")
    return "\n".join(lines)


def predict_after_end(checkpoint, table: SeriesTable) -> np.ndarray:
    """The H values of the target after the end of `table`, in original units: (H,)."""
    from rnnlab.apps import network
    from rnnlab.data.windows import Standardizer

    model, meta = network.load(checkpoint, "forecast")
    cfg = ForecastConfig.from_dict(meta["forecast"])
    missing = [c for c in meta["columns"] if c not in table.columns]
    if missing:
        raise ValueError(f"DATA: columns {missing} of the training file are missing; "
                         f"the file has {list(table.columns)}")
    scaler = Standardizer(*(np.array(meta["scaler"][k]) for k in ("mean", "std")))
    cols = [table.columns.index(c) for c in meta["columns"]]
    values = table.values[:, cols]
    frame = ForecastFrame(values, [meta["columns"].index(c) for c in cfg.inputs],
                          meta["columns"].index(cfg.target), cfg.windows, scaler)
    origin, X = frame.future()
    return network_forecast(model.predict, frame, cfg.strategy, origin, X)[0]
