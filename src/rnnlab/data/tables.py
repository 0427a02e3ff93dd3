"""Readers for CSV and .npz files.

- `read_series_csv`: one multivariate time series, one row per time step, a
  header row, an optional time column (kept as text) and numeric columns.
  Missing values are reported with their row, never silently dropped.
- `read_sequences_csv`: one series per row (univariate), the class label in one
  column; rows may end early (shorter series).
- `read_sequences_npz`: arrays `X` (N, T, F), optional `lengths` (N,), optional `y` (N,).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnnlab.data.sequences import Sequences, pad, parse_float
from rnnlab.errors import MissingFile, reader

MISSING_TOKENS = ("", "?", "NA", "N/A", "NaN", "nan", "null")


@dataclass(frozen=True)
class SeriesTable:
    columns: tuple[str, ...]  # names of the numeric columns
    values: np.ndarray  # (T, C) float64; NaN where a value was missing (with missing="keep")
    time: np.ndarray | None  # (T,) the time column as text, or None


def _rows(path: Path) -> list[list[str]]:
    with path.open(newline="") as f:
        rows = [r for r in csv.reader(f) if any(c.strip() for c in r)]
    if not rows:
        raise ValueError(f"{path}: the file is empty")
    return rows


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def is_index(texts) -> bool:
    """Whether a column counts up in equal whole steps (years, row numbers: 1821, 1822, ...
    or pandas' 0, 1, 2, ...): a time index, not a measurement."""
    try:
        v = np.array([float(t) for t in texts])
    except ValueError:
        return False
    step = np.diff(v)
    return len(v) >= 3 and bool(np.all(v == np.round(v)) and step[0] >= 1 and
                                np.all(step == step[0]))


def read_series_csv(path, time_column: str | None = None, missing: str = "error") -> SeriesTable:
    """Read a CSV with a header row into a `SeriesTable`.

    time_column: the name of a column to keep as time stamps; when None, the first column
    of a file of two or more columns is taken as time if its first value is not a number,
    or if it counts up in equal whole steps (`is_index`: read as a covariate, a row number
    or a year would be a trend the networks extrapolate past the training range).
    missing: 'error' (default) raises naming the rows with missing values;
    'interpolate' fills them linearly in time; 'keep' leaves NaN.
    """
    if missing not in ("error", "interpolate", "keep"):
        raise ValueError(f"missing: expected 'error', 'interpolate' or 'keep', got {missing!r}")
    path = Path(path)
    header, *body = _rows(path)
    header = [h.strip() for h in header]
    if not body:
        raise ValueError(f"{path}: expected a header row and data rows, got only the header")
    first = [row[0].strip() if row else "" for row in body]
    if time_column is None and (not _is_number(first[0]) or
                                (len(header) > 1 and is_index(first))):
        time_column = header[0]
    if time_column is not None and time_column not in header:
        raise ValueError(f"time_column: {time_column!r} is not a column of {path}; "
                         f"columns are {header}")
    t_idx = header.index(time_column) if time_column is not None else None
    cols = [j for j in range(len(header)) if j != t_idx]
    values = np.empty((len(body), len(cols)))  # (T, C)
    for i, row in enumerate(body):
        where = f"{path}, row {i + 2}"  # file line numbers: the header is row 1
        if len(row) != len(header):
            raise ValueError(f"{where}: expected {len(header)} fields, got {len(row)}")
        values[i] = [parse_float(row[j], f"{where}, column {header[j]!r}", MISSING_TOKENS)
                     for j in cols]
    names = tuple(header[j] for j in cols)
    values = _handle_missing(values, names, path, missing)
    time = np.array([r[t_idx].strip() for r in body]) if t_idx is not None else None
    return SeriesTable(names, values, time)


def _handle_missing(values: np.ndarray, names, path, missing: str) -> np.ndarray:
    bad = np.argwhere(np.isnan(values))
    if len(bad) == 0 or missing == "keep":
        return values
    if missing == "error":
        listed = ", ".join(f"row {i + 2} column {names[j]!r}" for i, j in bad[:5])
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        raise ValueError(f"{path}: missing values at {listed}{more} "
                         "(--fill-missing, or missing='interpolate' in Python, fills them)")
    t = np.arange(len(values))
    for j in range(values.shape[1]):
        ok = ~np.isnan(values[:, j])
        if not ok.any():
            raise ValueError(f"{path}: column {names[j]!r} has no values")
        values[~ok, j] = np.interp(t[~ok], t[ok], values[ok, j])
    return values


def select_columns(table: SeriesTable, names: list[str], argument: str) -> list[int]:
    """Indices of `names` in the table; an unknown name raises naming `argument`."""
    unknown = [n for n in names if n not in table.columns]
    if unknown:
        raise ValueError(f"{argument}: unknown column(s) {unknown}; the numeric columns are "
                         f"{list(table.columns)}")
    return [table.columns.index(n) for n in names]


def read_sequences_csv(path, label_column: int = 0) -> Sequences:
    """One univariate series per row, the class label in column `label_column`.

    A first row whose values are not numbers is taken as a header. Rows may be
    shorter than others (trailing empty fields): their length is where the values end.
    """
    path = Path(path)
    rows = _rows(path)
    if not all(_is_number(c) for j, c in enumerate(rows[0]) if j != label_column and c.strip()):
        rows = rows[1:]
    series, labels = [], []
    for i, row in enumerate(rows):
        if len(row) <= label_column:
            raise ValueError(f"{path}, row {i + 1}: no field {label_column} for the label")
        labels.append(row[label_column].strip())
        fields = [c for j, c in enumerate(row) if j != label_column]
        while fields and not fields[-1].strip():
            fields.pop()
        if not fields:
            raise ValueError(f"{path}, row {i + 1}: no values")
        series.append(np.array([[parse_float(c, f"{path}, row {i + 1}, value {t}")]
                                for t, c in enumerate(fields)]))  # (T_i, 1)
    X, lengths = pad(series)
    return Sequences(X, lengths, np.array(labels))


def read_sequences_npz(path) -> Sequences:
    """`X` (N, T, F) or (N, T), optional `lengths` (N,) in [1, T], optional `y` (N,)."""
    path = Path(path)
    with np.load(path, allow_pickle=False) as z:
        if "X" not in z:
            raise ValueError(f"{path}: expected an array named 'X', got {sorted(z.files)}")
        X = np.asarray(z["X"], dtype=np.float64)
        lengths, y = z.get("lengths"), z.get("y")
    if X.ndim == 2:
        X = X[:, :, None]
    if X.ndim != 3:
        raise ValueError(f"{path}: X: expected shape (N, T, F), got {X.shape}")
    N, T, _ = X.shape
    if lengths is None:
        lengths = np.full(N, T, np.int64)
    lengths = np.asarray(lengths)
    if lengths.shape != (N,) or not np.issubdtype(lengths.dtype, np.integer) or \
            (N and (lengths.min() < 1 or lengths.max() > T)):
        raise ValueError(f"{path}: lengths: expected {N} integers in [1, {T}], got "
                         f"shape {lengths.shape} dtype {lengths.dtype}")
    if y is not None and np.asarray(y).shape != (N,):
        raise ValueError(f"{path}: y: expected shape ({N},), got {np.asarray(y).shape}")
    X = X.copy()
    X[np.arange(T)[None, :] >= lengths[:, None]] = 0.0  # zeros past each end, as pad() makes
    return Sequences(X, lengths.astype(np.int64), None if y is None else np.asarray(y).astype(str))


@reader("series")
def read_sequences(path) -> Sequences:
    """Dispatch on the extension: .ts, .csv (or .txt) or .npz."""
    from rnnlab.data.ts_format import read_ts

    path = Path(path)
    if not path.exists():
        raise MissingFile(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".ts":
        return read_ts(path)
    if suffix == ".npz":
        return read_sequences_npz(path)
    if suffix in (".csv", ".txt"):
        return read_sequences_csv(path)
    raise ValueError(f"{path}: expected a .ts, .csv or .npz file, got {suffix!r}")
