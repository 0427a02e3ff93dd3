"""The hybrid forecaster: a baseline chosen on validation, and a network that corrects it.

On the transformed series z = g(y) (g = identity or log, chosen on validation), with
each origin's window scaled by its own past (`rnnlab.forecasting.windows`: level ℓ,
scale s), the forecast in scaled units is

    ỹ = b̃(x̃) + (1/E) Σ_e f_e(x̃, c̃)         ẑ = ℓ + s ỹ,   ŷ = g⁻¹(ẑ)

b̃ the baseline (the historical mean, naive, seasonal naive, drift, SES, Theta, the global
linear AR, or the mean of the AR and one of the others), f_e the e-th of E networks (an
ensemble of seeds) reading the last max(K, 2m + 1, 2H) values relative to the last one,
(x - z_{t-1}) / s, whatever the baseline's level, and the covariates' windows c̃
(standardised with training statistics), trained on the targets ỹ - b̃ = (z - b) / s with
early stopping, then refitted on the whole training part for their best epoch counts. ŷ is
clipped at 0 when no training value is negative. The networks' readouts start at zero, so
an untrained hybrid is its baseline exactly; the networks are kept only when their
validation error is below the baseline's. Every choice (season, transform, AR window K,
the windows' level ℓ: last value, window mean or historical mean, baseline, networks) is
made on the last part of each series' training data (validation) and recorded.

Prediction intervals are split-conformal, the calibration set growing as values come in:
at origin (i, t), step h, the ⌈(n + 1)(1 - α)⌉-th smallest of the n scaled residuals
r = |z - ẑ| / s of the validation windows and of the earlier origins of series i whose
step-h target is already observed (t' + h < t), and [g⁻¹(ẑ - q s), g⁻¹(ẑ + q s)]. Only
values before t enter, and a drift in the errors after the training end (a series whose
noise grows with its level) widens the later intervals instead of going unnoticed.
"""

from __future__ import annotations

import bisect
import itertools
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from rnnlab.forecasting import baselines as bl
from rnnlab.forecasting.windows import (
    Origins,
    input_windows,
    origins_between,
    targets,
    window_scale,
)

TRANSFORMS = ("auto", "none", "log")
CENTERS = ("last", "mean", "history")
BASELINES = ("auto", "naive", "seasonal_naive", "drift", "ses", "theta", "ar", "ar+naive",
             "ar+seasonal_naive", "ar+drift", "ar+ses", "ar+theta", "mean")


@dataclass
class HybridConfig:
    horizon: int = 1  # H: steps forecast from each origin
    season: int | None = None  # m; None: from the time column's frequency, else the ACF
    transform: str = "auto"  # none | log | auto (chosen on validation)
    baseline: str = "auto"  # one of BASELINES; auto: chosen on validation
    center: str = "auto"  # the AR windows' level: last, mean, history or auto (validation)
    window: int | None = None  # K; None: chosen on validation from max(H, 4) and m + 1
    val: float = 0.2  # validation part of each training part: a fraction, or a count (>= H)
    network: bool = True  # train the correcting networks
    ensemble: int = 3  # E: networks (seeds) averaged
    level: float = 0.9  # nominal coverage of the prediction intervals
    ridge: float = 1.0  # λ of the linear AR

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Hybrid:
    """A fitted hybrid: apply it with `predict` / `interval` to any series' past."""

    H: int
    m: int
    transform: str
    K: int
    baseline: str
    ar: bl.LinearAR
    K_net: int = 0  # the networks' window: max(K, 2m + 1, 2H), two seasons and a step
    alpha: float = 0.3  # the SES smoothing factor
    theta: bl.Theta | None = None  # the Theta method's fit
    center: str = "last"  # the windows' level ℓ: 'last' value, 'mean' of the last K, 'history'
    floor: float | None = None  # 0 when no training value is negative: forecasts clipped there
    log_floor: float = 0.0  # the least training value, > 0 with the log transform
    cov_stats: tuple | None = None  # (mean (C,), std (C,)) of the covariates' training parts
    nets: list = field(default_factory=list)  # the ensemble's predictors (empty: baseline)
    residuals: np.ndarray | None = None  # (n, H) scaled validation residuals (calibration)
    level: float = 0.9  # the intervals' nominal coverage
    choices: dict = field(default_factory=dict)  # what was chosen, and why

    def _z(self, series):
        """g(y): log(max(y, y_min)) with y_min the least training value (a value <= 0 after
        the training part stays finite), or y."""
        if self.transform != "log":
            return list(series)
        return [np.log(np.maximum(y, self.log_floor)) for y in series]

    def _inverse(self, z):
        y = np.exp(z) if self.transform == "log" else z
        return y if self.floor is None else np.maximum(y, self.floor)

    def base_scaled(self, zs, o: Origins, level, scale) -> np.ndarray:
        """b̃ (N, H): the baseline in each window's scaled units."""
        parts = []
        for name in self.baseline.split("+"):
            if name == "ar":
                X, _ = input_windows(zs, o, self.K)
                parts.append(self.ar.scaled((X - level[:, None]) / scale[:, None]))
            elif name == "theta":
                parts.append((self.theta.predict(zs, o, self.H) - level[:, None])
                             / scale[:, None])
            else:
                b = bl.simple(name, zs, o, self.H, self.m, self.alpha)
                parts.append((b - level[:, None]) / scale[:, None])
        return np.mean(parts, axis=0)

    def scaled_forecast(self, series, o: Origins, covariates=None):
        """(ẑ (N, H), scale (N,)): the forecast in transformed units and each window's s."""
        zs = self._z(series)
        level, scale = window_scale(zs, o, self.center, self.K)
        y_t = self.base_scaled(zs, o, level, scale)
        if self.nets:
            inputs = network_inputs(zs, o, scale, covariates, self.K_net,
                                    self.cov_stats)
            y_t = y_t + np.mean([net.predict(inputs) for net in self.nets], axis=0)
        return level[:, None] + scale[:, None] * y_t, scale

    def fit_baselines(self, zs, o: Origins, ridge: float) -> None:
        """Fit the linear AR, SES's α and Theta on the origins o of the transformed series."""
        self.ar = bl.LinearAR.fit(zs, o, self.K, self.H, ridge, self.center)
        self.alpha = bl.fit_ses(zs, o, self.H)
        self.theta = bl.Theta.fit(zs, o, self.H, self.m)

    def predict(self, series, o: Origins, covariates=None) -> np.ndarray:
        """ŷ (N, H) in original units."""
        return self._inverse(self.scaled_forecast(series, o, covariates)[0])

    def scaled_residuals(self, series, o: Origins, covariates=None):
        """(ẑ, s, r): the forecast and scales of scaled_forecast, and r (N, H) = |z - ẑ| / s
        where the target is in the series (NaN past its end)."""
        z, s = self.scaled_forecast(series, o, covariates)
        zs = self._z(series)
        r = np.full_like(z, np.nan)
        for n, (i, t) in enumerate(zip(o.sid, o.t)):
            known = zs[i][t:t + self.H]
            r[n, :len(known)] = np.abs(known - z[n, :len(known)]) / s[n]
        return z, s, r

    def interval(self, series, o: Origins, covariates=None):
        """(ŷ, lower, upper), each (N, H), the intervals at the configured level."""
        z, s, r = self.scaled_residuals(series, o, covariates)
        half = np.empty_like(z)
        for i in np.unique(o.sid):
            rows = np.flatnonzero(o.sid == i)
            rows = rows[np.argsort(o.t[rows], kind="stable")]
            for h in range(self.H):
                pool, j = sorted(self.residuals[:, h]), 0
                for n in rows:  # origins in time order; add those observed before t
                    while j < len(rows) and o.t[rows[j]] + h < o.t[n]:
                        bisect.insort(pool, r[rows[j], h])
                        j += 1
                    half[n, h] = conformal_quantile(pool, self.level) * s[n]
        return self._inverse(z), self._inverse(z - half), self._inverse(z + half)


def conformal_quantile(pool: list, level: float) -> float:
    """The ⌈(n + 1)·level⌉-th smallest of the n sorted residuals (the largest when that is
    past n)."""
    k = min(len(pool), int(np.ceil((len(pool) + 1) * level)))
    return float(pool[k - 1])


def network_inputs(zs, o: Origins, scale, covariates, K: int, cov_stats=None):
    """(N, K, 1 + C) float32: the window relative to its last value in units of s, (x -
    z_{t-1}) / s, and the covariates' windows, standardised with the means and standard
    deviations of their training parts (cov_stats)."""
    X, _ = input_windows(zs, o, K)
    level = X[:, -1]  # z_{t-1}
    x = ((X - level[:, None]) / scale[:, None])[:, :, None]
    if covariates is None:
        return x.astype(np.float32)
    C = np.stack([input_windows([c[:, j] for c in covariates], o, K)[0]
                  for j in range(covariates[0].shape[1])], axis=2)  # (N, K, C)
    C = (C - cov_stats[0]) / cov_stats[1]
    return np.concatenate([x, C], axis=2).astype(np.float32)


# ---- fitting: every choice on validation windows inside the training part --------------


def mase_scales(series, ends, m: int) -> np.ndarray:
    """(N,) `rnnlab.metrics.mase_scale` of each training part (lag 1 where m is too long for
    it); 1 where that is 0."""
    from rnnlab.metrics import mase_scale

    out = np.array([mase_scale(y[:c], m if c > m else 1) for y, c in zip(series, ends)])
    return np.where(out > 0, out, 1.0)


def scaled_error(series, o: Origins, y_hat, scales) -> float:
    """Mean over series of RMSE_i / scale_i on these origins (an RMSSE-like error: squared,
    as the networks' loss, and each series weighted alike)."""
    err = ((targets(series, o, y_hat.shape[1]) - y_hat) ** 2).mean(axis=1)  # (N,)
    ids = np.unique(o.sid)
    return float(np.mean([np.sqrt(err[o.sid == i].mean()) / scales[i] for i in ids]))


def validation_split(lengths, ends, H: int, val: float, m: int = 1):
    """(fit_ends (N,), fit origins, val origins): the last n_val values of each training
    part are validation, n_val = max(H, round(val · end) (or the count val), m), m capped
    at a third of the training part."""
    ends = np.asarray(ends)
    n_val = np.maximum(H, np.round(val * ends) if val < 1 else int(val)).astype(int)
    n_val = np.maximum(n_val, np.minimum(m, ends // 3))
    fit_ends = ends - n_val
    return fit_ends, origins_between(lengths, 1, fit_ends, H, first=2), \
        origins_between(lengths, fit_ends, ends, H, first=2)


def fit_hybrid(series, ends, cfg: HybridConfig, net=None, out=None, covariates=None,
               season: tuple[int, str] | None = None, echo=print) -> Hybrid:
    """Fit on y_i[:ends_i] of every series; season = (m, reason) when already found."""
    H = cfg.horizon
    lengths = [len(y) for y in series]
    m, why = season if season is not None else (cfg.season, "given")
    choices = {"season": (m, why)}
    _, o_fit, o_val = validation_split(lengths, ends, H, cfg.val, m)
    if len(o_fit) == 0 or len(o_val) == 0:
        raise ValueError(f"data: too short for a validation part: {min(ends)} training values "
                         f"with horizon {H} and --val {cfg.val}")
    scales = mase_scales(series, ends, m)
    best = _choose_baseline(series, ends, o_fit, o_val, cfg, m, scales)
    (err, transform, K, center, baseline), candidates = best
    choices.update(transform=(transform, "validation" if cfg.transform == "auto" else "given"),
                   window=(K, "validation" if cfg.window is None else "given"),
                   center=(center, "validation" if cfg.center == "auto" else "given"),
                   baseline=(baseline, f"validation error {err:.4g} (RMSSE-like), best of "
                                       f"{len(candidates)}" if cfg.baseline == "auto"
                             else "given"))
    model = Hybrid(H, m, transform, K, baseline, None, max(K, 2 * m + 1, 2 * H), center=center,
                   log_floor=min(float(y[:c].min()) for y, c in zip(series, ends)),
                   choices=choices)
    if all((y[:c] >= 0).all() for y, c in zip(series, ends)):
        model.floor = 0.0
        choices["floor"] = (0.0, "no negative value in the training part")
    zs = model._z(series)
    model.fit_baselines(zs, o_fit, cfg.ridge)
    if covariates is not None:
        past = np.concatenate([c[:e] for c, e in zip(covariates, ends)])  # (ΣT_i, C)
        sd = past.std(axis=0)
        model.cov_stats = (past.mean(axis=0), np.where(sd > 0, sd, 1.0))
    epochs = None
    if cfg.network and net is not None:
        epochs = _fit_networks(model, zs, o_fit, o_val, cfg, net, out, covariates, series,
                               scales, echo)
    model.residuals = model.scaled_residuals(series, o_val, covariates)[2]  # calibration
    model.level = cfg.level
    o_all = origins_between(lengths, 1, ends, H, first=2)  # refit on the whole training part
    model.fit_baselines(zs, o_all, cfg.ridge)
    if epochs is not None:
        model.nets, _ = _train_networks(model, zs, o_all, None, covariates, net, epochs,
                                        Path(out) / "refit")
    return model


def _choose_baseline(series, ends, o_fit, o_val, cfg, m, scales):
    """((error, transform, K, center, baseline), all candidates' errors) on the validation
    origins."""
    H = cfg.horizon
    positive = all((y[:c] > 0).all() for y, c in zip(series, ends))
    transforms = [cfg.transform] if cfg.transform != "auto" else \
        (["none", "log"] if positive else ["none"])
    if cfg.transform == "log" and not positive:
        raise ValueError("--transform: log needs every training value > 0")
    Ks = [cfg.window] if cfg.window else sorted({max(H, 4), m + 1} - {2})
    centers = [cfg.center] if cfg.center != "auto" else list(CENTERS)
    names = [cfg.baseline] if cfg.baseline != "auto" else \
        [b for b in BASELINES[1:] if m > 1 or "seasonal" not in b]
    candidates = []
    log_floor = min(float(y[:c].min()) for y, c in zip(series, ends))
    for transform in transforms:  # SES's α and Theta depend on the transform only
        zs = Hybrid(H, m, transform, 0, "ar", None, log_floor=log_floor)._z(series)
        alpha, theta = bl.fit_ses(zs, o_fit, H), bl.Theta.fit(zs, o_fit, H, m)
        for K, center in itertools.product(Ks, centers):
            ar = bl.LinearAR.fit(zs, o_fit, K, H, cfg.ridge, center)
            model = Hybrid(H, m, transform, K, "ar", ar, alpha=alpha, theta=theta,
                           center=center, log_floor=log_floor)
            for name in names:
                model.baseline = name
                err = scaled_error(series, o_val, model.predict(series, o_val), scales)
                candidates.append((err, transform, K, center, name))
    return min(candidates, key=lambda c: c[0]), candidates


def _train_networks(model: Hybrid, zs, o_train, o_val, covariates, net, epochs, out):
    """(predictors, best epochs): one network per seed (net.seed, net.seed + 1, ...) or per
    entry of epochs, trained on the scaled targets' corrections ỹ - b̃ of o_train; with
    o_val, early stopping keeps each one's best validation epoch."""
    from dataclasses import replace

    from rnnlab.apps import network

    def arrays(o):
        level, scale = window_scale(zs, o, model.center, model.K)
        Y = (targets(zs, o, model.H) - level[:, None]) / scale[:, None]
        Y = Y - model.base_scaled(zs, o, level, scale)
        inputs = network_inputs(zs, o, scale, covariates, model.K_net, model.cov_stats)
        return inputs, None, Y.astype(np.float32)

    train, val = arrays(o_train), None if o_val is None else arrays(o_val)
    nets, best = [], []
    for e, n_epochs in enumerate(epochs):
        cfg_e = replace(net, seed=net.seed + e, epochs=n_epochs)
        m = network.build_model(cfg_e, train[0].shape[2], model.H, "mse")
        for v in m.readout.params.values():
            v[...] = 0  # start at the baseline exactly
        predictor, summary = network.fit(m, cfg_e, train, val, Path(out) / f"net-{e}",
                                         {"app": "forecast"}, net.resume,
                                         echo=lambda *_: None)
        nets.append(predictor)
        best.append(summary["best_epoch"] or n_epochs)
    return nets, best


def _fit_networks(model: Hybrid, zs, o_fit, o_val, cfg, net, out, covariates, series,
                  scales, echo):
    """Train the ensemble on the fit part with early stopping on validation; keep it when
    its validation error (MASE-like, original units) is below the baseline's. Returns each
    network's best epoch count, or None when dropped."""
    base_err = scaled_error(series, o_val, model.predict(series, o_val), scales)
    model.nets, best = _train_networks(model, zs, o_fit, o_val, covariates, net,
                                       [net.epochs] * cfg.ensemble, out)
    err = scaled_error(series, o_val, model.predict(series, o_val, covariates), scales)
    keep = err < base_err
    model.choices["network"] = (keep, (f"validation error {err:.4g} with {len(best)} networks "
                                       f"(best epochs {best}), {base_err:.4g} without; "
                                       f"refitted on the whole training part"))
    echo(f"networks: validation error {err:.4g} vs the baseline's {base_err:.4g}: "
         f"{'kept' if keep else 'dropped'}")
    if not keep:
        model.nets = []
        return None
    return best

