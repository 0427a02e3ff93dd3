"""AutoARIMA, AutoETS and AutoTheta from statsforecast (an optional extra), on the same
windows as the backtest: each fitted once on a fold's training part, then forecasting from
every origin of the fold with the observed values up to it (cross_validation with
refit=False). `available()` says whether statsforecast is installed."""

from __future__ import annotations

import numpy as np

from rnnlab.forecasting.windows import Origins

MODELS = ("AutoARIMA", "AutoETS", "AutoTheta")


def available() -> bool:
    try:
        import statsforecast  # noqa: F401
    except ImportError:
        return False
    return True


def forecasts(series, ends, stops, o: Origins, H: int, m: int):
    """({model: (N, H)}, notes) on the origins o of one fold (series cut at stops); a model
    that statsforecast cannot fit here (e.g. AutoETS on a tiny series) is left out and
    named in the notes."""
    out, notes = {}, []
    for name in MODELS:
        try:
            out[name] = _cross_validation(name, series, stops, o, H, m)
        except Exception as e:  # noqa: BLE001 (statsforecast refuses in many ways: report, go on)
            notes.append(f"{name} left out: {type(e).__name__}: {e}")
    return out, notes


def _cross_validation(name: str, series, stops, o: Origins, H: int, m: int) -> np.ndarray:
    import pandas as pd
    from statsforecast import StatsForecast
    from statsforecast import models as sm

    out = np.full((len(o), H), np.nan)
    row = {(i, t): n for n, (i, t) in enumerate(zip(o.sid, o.t))}
    n_windows = {i: int(np.sum(o.sid == i)) for i in np.unique(o.sid)}
    for w in sorted(set(n_windows.values())):  # cross_validation needs one n_windows
        ids = [i for i, n in n_windows.items() if n == w]
        df = pd.DataFrame({"unique_id": np.concatenate([[str(i)] * stops[i] for i in ids]),
                           "ds": np.concatenate([np.arange(1, stops[i] + 1) for i in ids]),
                           "y": np.concatenate([series[i][:stops[i]] for i in ids])})
        sf = StatsForecast(models=[getattr(sm, name)(season_length=m)], freq=1, n_jobs=1)
        cv = sf.cross_validation(df=df, h=H, n_windows=w, step_size=1, refit=False)
        cv = cv.reset_index() if "unique_id" not in cv.columns else cv
        for rec in cv.itertuples(index=False):
            i, cutoff = int(rec.unique_id), int(rec.cutoff)
            out[row[(i, cutoff)], int(rec.ds) - cutoff - 1] = getattr(rec, name)
    return out
