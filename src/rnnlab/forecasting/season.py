"""The season m of a series: from its time stamps' frequency, else its autocorrelation.

Stamps are parsed as ISO dates/times ('1949-01', '2021-05-01 00:30:00+00:00') or as
'YYYY Mon' ('1991 Jul'); the median step between stamps names the frequency:

    yearly 1, quarterly 4, monthly 12, weekly 52, daily 7, hourly 24, half-hourly 48,
    quarter-hourly 96, minutely 60

Without stamps, m is the first lag ℓ in [2, T/3] where the autocorrelation
r_ℓ = Σ_t (d_t - d̄)(d_{t-ℓ} - d̄) / Σ_t (d_t - d̄)² of the first differences d_t = y_t - y_{t-1}
of the training part (differencing removes a trend's slow decay) is a local maximum above
0.3; else 1 (no season). The first such peak, not the highest: a period P puts peaks at
2P, 3P, ... too, and when P is not a whole number of steps (a 9.6-year cycle) a multiple
can land nearer its peak than P does (19 against 10) and win by noise; taking the first
peak over a threshold is how pitch detection avoids the same "octave error" (de Cheveigné
and Kawahara's YIN, 2002).
"""

from __future__ import annotations

import numpy as np

from rnnlab.data.tables import is_index

MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
# (name, step in seconds, season)
FREQUENCIES = (("yearly", 365.25 * 86400, 1), ("quarterly", 91.3 * 86400, 4),
               ("monthly", 30.44 * 86400, 12), ("weekly", 7 * 86400, 52),
               ("daily", 86400, 7), ("hourly", 3600, 24), ("half-hourly", 1800, 48),
               ("quarter-hourly", 900, 96), ("minutely", 60, 60))
ACF_THRESHOLD = 0.3


def parse_stamp(text: str) -> np.datetime64:
    """One time stamp as datetime64[s]; a ValueError names it when it cannot be read. A
    number is a year only with four digits ('1821'); '5' is a step number, not a date."""
    t = text.strip()
    if t.lstrip("-").isdigit() and len(t) != 4:
        raise ValueError(f"time column: {text!r} is a step number, not a date")
    parts = t.split()
    if len(parts) == 2 and parts[0].isdigit() and parts[1][:3].lower() in MONTHS:
        t = f"{parts[0]}-{MONTHS.index(parts[1][:3].lower()) + 1:02d}"
    if len(t) > 19 and t[19] in "+-Z":  # drop a UTC offset: '2021-05-01 00:30:00+00:00'
        t = t[:19]
    try:
        return np.datetime64(t.replace(" ", "T"), "s")
    except ValueError:
        raise ValueError(f"time column: cannot read {text!r} as a date or time") from None


def parse_stamps(times) -> np.ndarray | None:
    """(T,) datetime64[s], or None when some stamp is not a date (e.g. plain step numbers)."""
    try:
        return np.array([parse_stamp(t) for t in times])
    except ValueError:
        return None


def frequency(stamps: np.ndarray) -> tuple[str, int] | None:
    """(name, season) of the median step between stamps, within 20 % of a known step."""
    if stamps is None or len(stamps) < 2:
        return None
    step = float(np.median(np.diff(stamps).astype(np.float64)))
    for name, seconds, m in FREQUENCIES:
        if abs(step - seconds) <= 0.2 * seconds:
            return name, m
    return None


def season_from_acf(y: np.ndarray) -> int:
    """The lag of the first autocorrelation peak above ACF_THRESHOLD, else 1."""
    y = np.diff(np.asarray(y, float))
    y = y - np.mean(y)
    den = float(y @ y)
    max_lag = len(y) // 3
    if den == 0 or max_lag < 3:
        return 1
    r = np.array([y[lag:] @ y[:-lag] / den for lag in range(1, max_lag + 1)])  # r[l-1] = r_l
    for lag in range(2, max_lag):
        if r[lag - 1] > ACF_THRESHOLD and r[lag - 1] >= r[lag - 2] and r[lag - 1] >= r[lag]:
            return lag
    return 1


def choose_season(times, y_train: np.ndarray, named: str | None = None) -> tuple[int, str]:
    """(m, how it was found): a named frequency ('monthly'), the stamps' step, or the ACF."""
    names = {n: m for n, _, m in FREQUENCIES}
    key = (named or "").replace("_", "-").lower()
    if key in names:
        return names[key], f"the file's frequency {named!r}"
    found = frequency(parse_stamps(times)) if times is not None else None
    if found is not None:
        return found[1], f"the time column's step ({found[0]})"
    return season_from_acf(y_train), "the autocorrelation of the training part"


def future_stamps(times, H: int) -> list[str]:
    """The H stamps after the last one: months counted as months, other steps as the median
    step; a column of whole steps (row numbers) continued; else step numbers T+1 .. T+H."""
    stamps = parse_stamps(times) if times is not None and len(times) >= 2 else None
    found = frequency(stamps)
    if found is None and times is not None and is_index(times):
        last, step = int(float(times[-1])), int(float(times[-1]) - float(times[-2]))
        return [str(last + h * step) for h in range(1, H + 1)]
    if found is None:
        T = 0 if times is None else len(times)
        return [str(T + h) for h in range(1, H + 1)]
    name = found[0]
    if name in ("yearly", "quarterly", "monthly"):
        months = {"yearly": 12, "quarterly": 3, "monthly": 1}[name]
        last = stamps[-1].astype("datetime64[M]")
        out = last + months * np.arange(1, H + 1)
        return [str(s) if name != "yearly" else str(s)[:4] for s in out]
    step = np.median(np.diff(stamps))
    return [str(stamps[-1] + h * step).replace("T", " ") for h in range(1, H + 1)]
