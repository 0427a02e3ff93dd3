"""Input validation: every error names the argument, what was expected and what came."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def check_dtype(dtype) -> np.dtype:
    """Return `dtype` as a NumPy dtype; only float32 and float64 are allowed."""
    try:
        dt = np.dtype(dtype)
    except TypeError as e:
        raise TypeError(f"dtype: expected float32 or float64, got {dtype!r}") from e
    if dt not in FLOAT_DTYPES:
        raise TypeError(f"dtype: expected float32 or float64, got {dt}")
    return dt


def check_option(name: str, value, options: Iterable) -> None:
    """Raise ValueError unless `value` is one of `options`."""
    options = tuple(options)
    if value not in options:
        raise ValueError(f"{name}: expected one of {', '.join(map(repr, options))}, got {value!r}")


def check_positive_int(name: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return int(value)


def check_range(name: str, value, lo: float, hi: float, *, lo_open=False, hi_open=False) -> float:
    """Raise ValueError unless lo <= value <= hi (ends open where asked)."""
    try:
        v = float(value)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{name}: expected a number, got {value!r}") from e
    ok = (v > lo if lo_open else v >= lo) and (v < hi if hi_open else v <= hi)
    if not (np.isfinite(v) and ok):
        left = "(" if lo_open or lo == -np.inf else "["
        right = ")" if hi_open or hi == np.inf else "]"
        span = f"{left}{_bound(lo)}, {_bound(hi)}{right}"
        kind = "a finite number" if np.isfinite(lo) or np.isfinite(hi) else "a number"
        raise ValueError(f"{name}: expected {kind} in {span}, got {value!r}")
    return v


def _bound(x: float) -> str:
    return "∞" if x == np.inf else "-∞" if x == -np.inf else f"{x:g}"


def check_array(name: str, a, shape: tuple, dtype: np.dtype | None = None) -> np.ndarray:
    """Check rank, sizes (None = any size), dtype and finiteness of an array.

    `shape` describes the expected shape; entries may be None (any size). The
    returned array is `a` itself when it already is an ndarray, no copy is made.
    """
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{name}: expected a numpy array, got {type(a).__name__}")
    expected = "(" + ", ".join("*" if s is None else str(s) for s in shape) + ")"
    if a.ndim != len(shape) or any(s is not None and s != n for s, n in zip(shape, a.shape)):
        raise ValueError(f"{name}: expected shape {expected}, got {a.shape}")
    if dtype is not None and a.dtype != dtype:
        raise TypeError(f"{name}: expected dtype {dtype}, got {a.dtype}")
    check_finite(name, a)
    return a


def check_finite(name: str, a: np.ndarray) -> None:
    if not np.isfinite(a).all():
        bad = np.argwhere(~np.isfinite(a))[0]
        raise ValueError(
            f"{name}: expected finite values, got {a[tuple(bad)]} at index {tuple(int(i) for i in bad)}"
        )


def check_lengths(lengths, T: int, B: int) -> np.ndarray | None:
    """Validate per-sequence lengths: integers in [1, T], one per batch element."""
    if lengths is None:
        return None
    lengths = np.asarray(lengths)
    if lengths.shape != (B,):
        raise ValueError(f"lengths: expected shape ({B},) (one per batch element), got {lengths.shape}")
    integral = np.issubdtype(lengths.dtype, np.integer) or (
        np.issubdtype(lengths.dtype, np.floating) and np.all(lengths == np.round(lengths)))
    if not integral:
        raise TypeError(f"lengths: expected integers, got dtype {lengths.dtype}")
    lengths = lengths.astype(np.int64)
    if lengths.min() < 1 or lengths.max() > T:
        raise ValueError(
            f"lengths: expected values in [1, {T}] (the sequence length), "
            f"got min {lengths.min()} and max {lengths.max()}"
        )
    return lengths
