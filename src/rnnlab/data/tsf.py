"""Reader for the Monash forecasting archive's `.tsf` format.

    # comment lines
    @relation NAME
    @attribute series_name string         one line per attribute, in field order
    @attribute start_timestamp date       types: string, numeric, date
    @frequency yearly                     optional; so are @horizon, @missing, @equallength
    @horizon 6
    @data
    T1:1972-01-01 00-00-00:3600,7700,...  the attributes, then the values (',' separated)

Each data line is one series: its attribute fields separated by ':' and its values last
('?' a missing value, allowed only when `@missing true`). Nothing in the file is executed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rnnlab.data.panel import Panel
from rnnlab.data.sequences import parse_float
from rnnlab.errors import reader

ATTRIBUTE_TYPES = ("string", "numeric", "date")


def _header(lines, path: Path) -> tuple[list[tuple[str, str]], dict[str, str], int]:
    """(attributes [(name, type)], keywords {'frequency': ..}, index of the first data line)."""
    attributes, keywords = [], {}
    for i, line in enumerate(lines):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        if not text.startswith("@"):
            raise ValueError(f"{path}, line {i + 1}: expected a header line starting with '@' "
                             f"before @data, got {text[:40]!r}")
        key, _, rest = text[1:].partition(" ")
        key = key.lower()
        if key == "data":
            return attributes, keywords, i + 1
        if key == "attribute":
            parts = rest.split()
            if len(parts) != 2 or parts[1].lower() not in ATTRIBUTE_TYPES:
                raise ValueError(f"{path}, line {i + 1}: expected '@attribute NAME TYPE' with "
                                 f"TYPE one of {ATTRIBUTE_TYPES}, got {text!r}")
            attributes.append((parts[0], parts[1].lower()))
        else:
            keywords[key] = rest.strip()
    raise ValueError(f"{path}: no @data line")


def _flag(keywords: dict, key: str, path: Path) -> bool:
    value = keywords.get(key, "false").lower()
    if value not in ("true", "false"):
        raise ValueError(f"{path}: @{key}: expected true or false, got {value!r}")
    return value == "true"


@reader(".tsf")
def read_tsf(path) -> Panel:
    """A `.tsf` file as a `Panel`: series named by the first string attribute (else T1, T2,
    ...), time stamps from a `start_timestamp` date attribute when the frequency is known."""
    path = Path(path)
    lines = path.read_text().splitlines()
    attributes, keywords, start = _header(lines, path)
    allow_missing = _flag(keywords, "missing", path)
    horizon = keywords.get("horizon")
    if horizon is not None and not horizon.isdigit():
        raise ValueError(f"{path}: @horizon: expected a positive whole number, got {horizon!r}")
    names = [a for a, _ in attributes]
    ids, ys, starts = [], [], []
    for i, line in enumerate(lines[start:], start=start):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        fields = text.split(":")
        if len(fields) != len(attributes) + 1:
            raise ValueError(f"{path}, line {i + 1}: expected {len(attributes)} attribute "
                             f"field(s) {names} and the values, separated by ':', got "
                             f"{len(fields)} field(s)")
        where = f"{path}, line {i + 1}"
        values = np.array([parse_float(v, f"{where}, value {k + 1}", ("?",))
                           for k, v in enumerate(fields[-1].split(","))])
        if np.isnan(values).any() and not allow_missing:
            raise ValueError(f"{where}: missing value '?' but the header says @missing false")
        row = dict(zip(names, fields[:-1]))
        ids.append(row.get("series_name", f"T{len(ids) + 1}"))
        ys.append(values)
        starts.append(row.get("start_timestamp"))
    if not ys:
        raise ValueError(f"{path}: no series after @data")
    frequency = keywords.get("frequency")
    times = [_stamps(s, len(y), frequency) for s, y in zip(starts, ys)]
    return Panel(ids, ys, times, frequency=frequency,
                 horizon=int(horizon) if horizon is not None else None)


_STEP = {"yearly": "Y", "quarterly": "Q", "monthly": "M", "weekly": "W", "daily": "D",
         "hourly": "h", "half_hourly": "30m", "minutely": "m"}


def _stamps(start: str | None, n: int, frequency: str | None) -> np.ndarray | None:
    """n time stamps as text from the start and frequency (years, months or days), or None."""
    if start is None or frequency not in _STEP:
        return None
    date = start.split(" ")[0]
    try:
        t0 = np.datetime64(date, "D")
    except ValueError:
        return None
    unit = {"Y": "Y", "Q": "M", "M": "M", "W": "W", "D": "D"}.get(_STEP[frequency])
    if unit is None:
        return None
    step = 3 if _STEP[frequency] == "Q" else 1
    stamps = t0.astype(f"datetime64[{unit}]") + step * np.arange(n)
    return stamps.astype(str)
