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
    o = frame.origins(part)
    if strategy == "direct":
        X, Y = frame.windows(o)
        return X, Y[:, :, 0]  # (N, H)
    X, Y = frame.windows(o, targets=frame.inputs, horizon=1)
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
