"""Data: sequence-classification files (.ts, CSV, .npz), forecasting windows and baselines."""

from rnnlab.data.baselines import fit_linear_ar, linear_ar, naive, seasonal_naive
from rnnlab.data.sequences import Sequences, interpolate_missing, pad
from rnnlab.data.tables import (
    SeriesTable,
    read_sequences,
    read_sequences_csv,
    read_sequences_npz,
    read_series_csv,
    select_columns,
)
from rnnlab.data.ts_format import read_ts
from rnnlab.data.windows import (
    ForecastFrame,
    Standardizer,
    WindowConfig,
    recursive_forecast,
    split_sizes,
)

__all__ = [
    "ForecastFrame",
    "Sequences",
    "SeriesTable",
    "Standardizer",
    "WindowConfig",
    "fit_linear_ar",
    "interpolate_missing",
    "linear_ar",
    "naive",
    "pad",
    "read_sequences",
    "read_sequences_csv",
    "read_sequences_npz",
    "read_series_csv",
    "read_ts",
    "recursive_forecast",
    "seasonal_naive",
    "select_columns",
    "split_sizes",
]
