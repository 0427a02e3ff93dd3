"""Data: sequence-classification files (.ts, CSV, .npz), series tables and panels of many
series (long-format CSV, .tsf, DataFrame)."""

from rnnlab.data.panel import Panel, read_long_csv, read_panel
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
from rnnlab.data.tsf import read_tsf
from rnnlab.data.windows import Standardizer

__all__ = [
    "Panel",
    "Sequences",
    "SeriesTable",
    "Standardizer",
    "interpolate_missing",
    "pad",
    "read_long_csv",
    "read_panel",
    "read_sequences",
    "read_sequences_csv",
    "read_sequences_npz",
    "read_series_csv",
    "read_ts",
    "read_tsf",
    "select_columns",
]
