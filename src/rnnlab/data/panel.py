"""Many series at once: a `Panel`, and the long-format readers that make one.

A panel holds N univariate target series of their own lengths T_i, each with its
time stamps (text, or None) and optional covariates (T_i, C) known up to each row.
Sources: a long-format CSV (`unique_id`, a time column, the target, covariates), a
wide single-series CSV (`rnnlab.data.tables.read_series_csv`), the Monash `.tsf`
format (`rnnlab.data.tsf`), and a pandas DataFrame or parquet file (optional pandas).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnnlab.data.sequences import parse_float
from rnnlab.data.tables import MISSING_TOKENS
from rnnlab.errors import DataError, MissingFile, reader


@dataclass
class Panel:
    ids: list[str]  # N series names
    y: list[np.ndarray]  # N arrays (T_i,) float64: the target
    time: list[np.ndarray | None]  # N arrays (T_i,) of time stamps as text, or None
    covariates: list[np.ndarray] | None = None  # N arrays (T_i, C), or None
    covariate_names: tuple[str, ...] = ()
    frequency: str | None = None  # 'yearly', 'monthly', ... when the source says so
    horizon: int | None = None  # the source's forecast horizon, when it gives one
    target: str = "y"

    def __post_init__(self):
        if not self.y:
            raise ValueError("data: no series")
        for i, y in enumerate(self.y):
            if not np.isfinite(y).all():
                raise ValueError(f"series {self.ids[i]!r}: missing or non-finite values at "
                                 f"positions {np.flatnonzero(~np.isfinite(y))[:5].tolist()}")

    def __len__(self) -> int:
        return len(self.y)


def from_columns(ids, time, y, covariates=None, covariate_names=(), target="y") -> Panel:
    """A panel from long-format columns (rows of all series, each series's rows in time
    order): ids (R,), time (R,) or None, y (R,), covariates (R, C) or None."""
    ids = np.asarray(ids).astype(str)
    order, starts = np.unique(ids, return_index=True)
    order = order[np.argsort(starts)]  # first-appearance order
    names, ys, times, covs = [], [], [], []
    for name in order:
        rows = np.flatnonzero(ids == name)
        if np.any(np.diff(rows) != 1):
            raise ValueError(f"series {str(name)!r}: its rows are not contiguous; sort the file "
                             f"by id, then time")
        names.append(str(name))
        ys.append(np.asarray(y, float)[rows])
        times.append(None if time is None else np.asarray(time).astype(str)[rows])
        if covariates is not None:
            covs.append(np.asarray(covariates, float)[rows])
    return Panel(names, ys, times, covs if covariates is not None else None,
                 tuple(covariate_names), target=target)


def read_long_csv(path, target: str = "y", id_column: str = "unique_id",
                  time_column: str = "ds", covariates: list[str] | None = None) -> Panel:
    """A long-format CSV: one row per (series, time step); rows of a series contiguous and
    in time order. covariates: the numeric columns read besides the target (None: all
    others)."""
    path = Path(path)
    with path.open(newline="") as f:
        rows = [r for r in csv.reader(f) if any(c.strip() for c in r)]
    if len(rows) < 2:
        raise ValueError(f"{path}: expected a header row and data rows")
    header = [h.strip() for h in rows[0]]
    for arg, name in (("--id-column", id_column), ("--time-column", time_column),
                      ("--target", target)):
        if name not in header:
            raise ValueError(f"{arg}: {name!r} is not a column of {path}; columns are {header}")
    if covariates is None:
        covariates = [h for h in header if h not in (id_column, time_column, target)]
    unknown = [c for c in covariates if c not in header]
    if unknown:
        raise ValueError(f"--inputs: unknown column(s) {unknown}; columns are {header}")
    j_id, j_t = header.index(id_column), header.index(time_column)
    cols = [header.index(target)] + [header.index(c) for c in covariates]
    body = rows[1:]
    values = np.empty((len(body), len(cols)))
    for i, row in enumerate(body):
        if len(row) != len(header):
            raise ValueError(f"{path}, row {i + 2}: expected {len(header)} fields, got {len(row)}")
        values[i] = [parse_float(row[j], f"{path}, row {i + 2}, column {header[j]!r}",
                                 MISSING_TOKENS) for j in cols]
    bad = np.argwhere(np.isnan(values))
    if len(bad):
        i, j = bad[0]
        raise ValueError(f"{path}: missing value at row {i + 2} column {header[cols[j]]!r}")
    return from_columns([r[j_id].strip() for r in body], [r[j_t].strip() for r in body],
                        values[:, 0], values[:, 1:] if covariates else None,
                        tuple(covariates), target)


def from_dataframe(df, target: str = "y", id_column: str = "unique_id",
                   time_column: str = "ds", covariates: list[str] | None = None) -> Panel:
    """A long-format pandas DataFrame (the statsforecast layout), sorted by id then time."""
    for arg, name in (("id_column", id_column), ("time_column", time_column),
                      ("target", target)):
        if name not in df.columns:
            raise ValueError(f"{arg}: {name!r} is not a column; columns are {list(df.columns)}")
    if covariates is None:
        covariates = [c for c in df.columns if c not in (id_column, time_column, target)]
    df = df.sort_values([id_column, time_column], kind="stable")
    cov = df[list(covariates)].to_numpy(float) if covariates else None
    return from_columns(df[id_column].to_numpy(), df[time_column].astype(str).to_numpy(),
                        df[target].to_numpy(float), cov, tuple(covariates), target)


def from_table(table, target: str | None, covariates: list[str] | None, name: str) -> Panel:
    """One series from a wide `SeriesTable`: the target column, the others as covariates."""
    from rnnlab.data.tables import select_columns

    target = target or table.columns[-1]
    (j,) = select_columns(table, [target], "--target")
    if covariates is None:
        covariates = [c for c in table.columns if c != target]
    cov_idx = select_columns(table, covariates, "--inputs")
    cov = [table.values[:, cov_idx]] if cov_idx else None
    return Panel([name], [table.values[:, j].copy()], [table.time], cov, tuple(covariates),
                 target=target)


@reader("series")
def read_panel(path, target: str | None = None, time_column: str | None = None,
               id_column: str = "unique_id", covariates: list[str] | None = None,
               fill_missing: bool = False) -> Panel:
    """Dispatch on the file: .tsf; .parquet (pandas); a CSV with an `id_column` is long
    format, any other CSV one series (time column first, numeric columns)."""
    from rnnlab.data.tables import read_series_csv

    path = Path(path)
    if not path.is_file():
        raise MissingFile(f"DATA: {path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".tsf":
        from rnnlab.data.tsf import read_tsf

        return read_tsf(path)
    if suffix == ".parquet":
        pd = _pandas("reading parquet files")
        return from_dataframe(pd.read_parquet(path), target or "y", id_column,
                              time_column or "ds", covariates)
    with path.open(newline="") as f:
        header = [h.strip() for h in next(csv.reader(f), [])]
    if id_column in header:
        return read_long_csv(path, target or "y", id_column, time_column or "ds", covariates)
    table = read_series_csv(path, time_column, "interpolate" if fill_missing else "error")
    if not table.columns:
        raise DataError(f"{path}: expected a numeric column to forecast; its only column, "
                        f"{header[0]!r}, holds text (read as the time column)")
    return from_table(table, target, covariates, path.stem)


def _pandas(why: str):
    try:
        import pandas
    except ImportError:
        raise ValueError(f"pandas is needed for {why}: pip install 'rnnlab[pandas]'") from None
    return pandas
