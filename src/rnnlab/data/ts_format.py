"""Reader for the sktime/UEA `.ts` text format.

Layout: comment lines start with '#' or '%', header lines with '@' (`@problemName`,
`@univariate`, `@dimensions`, `@equalLength`, `@seriesLength`, `@missing`,
`@timeStamps`, `@classLabel true L1 L2 ...`, `@targetLabel true`), in any case and
with any spacing, then `@data` and one series per line: channels separated by ':',
values by ',', the class label (or regression target) last when `@classLabel true`,
`@targetLabel true`, or, as in aeon's `load_from_ts_file`, when neither is declared.
A missing value is '?' or NaN. With `@timeStamps true` a channel is a list of
`(time stamp,value)` pairs: the values are read in their order, the stamps are not.
Lines before `@data` that are neither headers nor comments are skipped (free text some
archives carry, which aeon skips too). Channels of one series must have the same
length; series may differ in length unless `@equalLength true`.

Every error names the file and the line number.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from rnnlab.data.sequences import Sequences, pad, parse_float
from rnnlab.errors import reader

COMMENTS = ("#", "%")


def _bool(value: str, where: str) -> bool:
    v = value.strip().lower()
    if v not in ("true", "false"):
        raise ValueError(f"{where}: expected true or false, got {value!r}")
    return v == "true"


def _header(lines, path) -> tuple[dict, int]:
    """Parse the '@' lines up to @data; return (header, index of the first data line)."""
    head: dict = {}
    for i, raw in enumerate(lines):
        line = raw.strip()
        if not line or line.startswith(COMMENTS):
            continue
        if not line.startswith("@"):
            continue  # free text before the data
        key, *tokens = line[1:].split()
        key, rest, where = key.lower(), " ".join(tokens), f"{path}, line {i + 1}"
        if key == "data":
            return head, i + 1
        if key == "classlabel":
            flag, *labels = tokens or [""]
            head["classes"] = tuple(labels) if _bool(flag, where) else None
        elif key == "targetlabel":
            head["target"] = _bool(rest, where)
        elif key in ("univariate", "equallength", "missing", "timestamps"):
            head[key] = _bool(rest, where)
        elif key in ("dimensions", "serieslength"):
            try:
                head[key] = int(rest)
            except ValueError:
                raise ValueError(f"{where}: @{key} expects an integer, got {rest!r}") from None
        else:
            head[key] = rest.strip()
    raise ValueError(f"{path}: no @data line found")


@reader(".ts")
def read_ts(path) -> Sequences:
    """Read a `.ts` file into `Sequences` (X (N, T, F) padded, lengths, labels)."""
    path = Path(path)
    lines = path.read_text().splitlines()
    head, start = _header(lines, path)
    values = _stamped_values if head.get("timestamps") else _values
    classes = head.get("classes", ())  # () : labels last, none declared (aeon's default)
    if head.get("target"):
        classes = ()  # a regression target last, read as a label
    F = head.get("dimensions", 1 if head.get("univariate") else None)
    series, labels = [], []
    for i in range(start, len(lines)):
        line = lines[i].strip()
        if not line or line.startswith(COMMENTS):
            continue
        where = f"{path}, line {i + 1}"
        fields = _channels(line) if head.get("timestamps") else line.split(":")
        if classes is not None:
            label = fields.pop().strip()
            if classes and label not in classes:
                raise ValueError(f"{where}: class label {label!r} is not one of the declared "
                                 f"labels {list(classes)}")
            labels.append(label)
        if F is None:
            F = len(fields)
        if len(fields) != F:
            raise ValueError(f"{where}: expected {F} channels (separated by ':'), "
                             f"got {len(fields)}")
        channels = [[parse_float(v, f"{where}, channel {f}") for v in values(ch)]
                    for f, ch in enumerate(fields)]
        T = {len(c) for c in channels}
        if len(T) > 1:
            raise ValueError(f"{where}: channels have different lengths "
                             f"{[len(c) for c in channels]}")
        series.append(np.array(channels).T)  # (T_i, F)
    if not series:
        raise ValueError(f"{path}: no series after @data")
    X, lengths = pad(series)
    _check_lengths(head, lengths, path)
    if head.get("missing") is False and np.isnan(X).any():
        n = int(np.argwhere(np.isnan(X))[0, 0])
        raise ValueError(f"{path}: @missing false, but series {n} has missing values ('?')")
    return Sequences(X, lengths, np.array(labels) if classes is not None else None,
                     classes or None, bool(head.get("target")))


def _values(channel: str) -> list[str]:
    return channel.split(",")


def _stamped_values(channel: str) -> list[str]:
    """'(t1,v1),(t2,v2)' -> ['v1', 'v2']."""
    pairs = re.findall(r"\(([^()]*)\)", channel)
    if not pairs:
        raise ValueError(f"expected (time stamp,value) pairs with @timeStamps true, got "
                         f"{channel[:40]!r}")
    return [pair.rsplit(",", 1)[-1] for pair in pairs]


def _channels(line: str) -> list[str]:
    """The ':'-separated fields of a time-stamped line (':' inside a stamp's clock time
    does not separate)."""
    return [f for f in re.split(r":(?![^()]*\))", line)]


def _check_lengths(head: dict, lengths: np.ndarray, path) -> None:
    declared = head.get("serieslength")
    if head.get("equallength") and len(set(lengths.tolist())) > 1:
        raise ValueError(f"{path}: @equalLength true, but series lengths range from "
                         f"{lengths.min()} to {lengths.max()}")
    if head.get("equallength") and declared is not None and lengths[0] != declared:
        raise ValueError(f"{path}: @seriesLength {declared}, but the series have length "
                         f"{lengths[0]}")
