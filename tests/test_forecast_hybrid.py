"""The hybrid forecaster: baselines by hand, no leakage, zero network = baseline, folds,
and the coverage of its prediction intervals."""

import itertools

import numpy as np
import pytest

from rnnlab.apps import network
from rnnlab.apps.network import NetworkConfig
from rnnlab.forecasting import backtest as bt
from rnnlab.forecasting import baselines as bl
from rnnlab.forecasting.hybrid import Hybrid, HybridConfig, fit_hybrid
from rnnlab.forecasting.windows import Origins, input_windows, origins_between, window_scale

TINY_NET = NetworkConfig(cell="gru", hidden_size=4, epochs=3, batch_size=16, patience=2)


def seasonal_series(T=240, m=12, noise=0.3, seed=0):
    t = np.arange(T)
    rng = np.random.default_rng(seed)
    return 50 + 0.1 * t + 5 * np.sin(2 * np.pi * t / m) + noise * rng.normal(size=T)


def test_baselines_against_plain_loops():
    rng = np.random.default_rng(1)
    series = [rng.normal(size=30).cumsum() + 10, rng.normal(size=20).cumsum()]
    o = Origins(np.array([0, 0, 1]), np.array([5, 25, 13]))
    H, m = 4, 3
    nv, sn, dr = bl.naive(series, o, H), bl.seasonal_naive(series, o, H, m), \
        bl.drift(series, o, H)
    mu = bl.mean(series, o, H)
    for n, (i, t) in enumerate(zip(o.sid, o.t)):
        y = series[i]
        for h in range(H):
            assert mu[n, h] == pytest.approx(sum(y[:t]) / t)
            assert nv[n, h] == y[t - 1]
            assert sn[n, h] == y[t + h - m * (h // m + 1)]
            assert dr[n, h] == pytest.approx(y[t - 1] + (h + 1) * (y[t - 1] - y[0]) / (t - 1))


@pytest.mark.parametrize("m", [12, 7])
def test_seasonal_indices_recover_an_additive_season_over_a_trend(m):
    c = np.sin(np.arange(m)) ** 3
    c -= c.mean()
    t = np.arange(5 * m + 3)
    y = 3 + 0.2 * t + c[t % m]
    np.testing.assert_allclose(bl.seasonal_indices(y, m), c, atol=1e-12)
    assert not bl.seasonal_indices(y[:2 * m - 1], m).any()  # too short: no season


def test_theta_against_its_definition():
    """SES on the deseasonalised series with drift b/2 (Hyndman & Billah 2003), by a
    plain loop, with the indices and slope of each series' training part."""
    rng = np.random.default_rng(3)
    series = [seasonal_series(60, 4, 1.0, 1), 20 + rng.normal(size=50).cumsum()]
    H, m = 3, 4
    theta = bl.Theta.fit(series, origins_between([60, 50], 1, [40, 30], H, first=2), H, m)
    a = theta.alpha
    o = Origins(np.array([0, 0, 1]), np.array([5, 52, 33]))
    got = theta.predict(series, o, H)
    for n, (i, t) in enumerate(zip(o.sid, o.t)):
        end = (40, 30)[i]
        c = bl.seasonal_indices(series[i][:end], m)
        d = series[i] - c[np.arange(len(series[i])) % m]
        b = np.polyfit(np.arange(end), d[:end], 1)[0]
        assert theta.slope[i] == pytest.approx(b)
        ell = d[0]
        for k in range(1, t):
            ell = a * d[k] + (1 - a) * ell
        for h in range(1, H + 1):
            want = ell + b / 2 * (h - 1 + 1 / a - (1 - a) ** t / a) + c[(t + h - 1) % m]
            assert got[n, h - 1] == pytest.approx(want)


def test_windows_pad_on_the_left_and_scale_from_the_past():
    series = [np.array([3.0, 5.0, 4.0, 8.0, 100.0])]
    X, lengths = input_windows(series, Origins(np.array([0, 0]), np.array([2, 4])), 3)
    np.testing.assert_array_equal(X, [[3, 3, 5], [5, 4, 8]])
    np.testing.assert_array_equal(lengths, [2, 3])
    level, scale = window_scale(series, Origins(np.array([0]), np.array([4])))
    assert level[0] == 8 and scale[0] == pytest.approx((2 + 1 + 4) / 3)


def test_the_historical_level_is_the_mean_of_the_whole_past():
    series = [np.array([3.0, 5.0, 4.0, 8.0, 100.0]), np.full(6, 7.0)]
    o = Origins(np.array([0, 1]), np.array([4, 5]))
    level, scale = window_scale(series, o, "history", K=2)
    np.testing.assert_allclose(level, [5, 7])  # (3 + 5 + 4 + 8) / 4; 100 comes after t
    assert scale[0] == pytest.approx((2 + 1 + 4) / 3)
    assert scale[1] == pytest.approx(7 / 100)  # a constant past: |z_{t-1}| / 100


def test_an_ar_on_the_historical_level_can_revert_to_the_mean():
    """On white noise around 100 a one-lag AR relative to the last value can only follow
    that value (its coefficients on the levels sum to 1); relative to the historical mean it
    forecasts that mean."""
    y = 100 + np.random.default_rng(0).normal(size=400)
    o = origins_between([400], 50, 400, 1)
    train = origins_between([400], 1, 400, 1, first=2)
    hist = bl.LinearAR.fit([y], train, 1, 1, 1.0, "history").predict([y], o)[:, 0]
    last = bl.LinearAR.fit([y], train, 1, 1, 1.0, "last").predict([y], o)[:, 0]
    assert np.abs(hist - 100).max() < 0.5
    assert np.corrcoef(last, y[o.t - 1])[0, 1] > 0.99
    assert np.mean((hist - y[o.t]) ** 2) < 0.6 * np.mean((last - y[o.t]) ** 2)


def test_linear_ar_solves_its_ridge_normal_equations():
    rng = np.random.default_rng(2)
    series = [rng.normal(size=80).cumsum() + 20 for _ in range(3)]
    o = origins_between([80] * 3, 1, 80, 2, first=2)
    K, lam = 5, 0.7
    ar = bl.LinearAR.fit(series, o, K, 2, lam)
    X, _ = input_windows(series, o, K)
    level, scale = window_scale(series, o)
    A = np.c_[(X - level[:, None]) / scale[:, None], np.ones(len(X))]
    Y = (np.stack([series[i][t:t + 2] for i, t in zip(o.sid, o.t)]) - level[:, None]) / \
        scale[:, None]
    grad = A.T @ (A @ ar.W - Y) + lam * ar.W
    np.testing.assert_allclose(grad, 0, atol=1e-8)
    np.testing.assert_allclose(ar.predict(series, o), level[:, None] + scale[:, None] * (A @ ar.W))


def test_a_zero_network_is_exactly_its_baseline():
    y = seasonal_series()
    series, ends = [y], np.array([200])
    base = fit_hybrid(series, ends, HybridConfig(network=False), season=(12, "given"))
    o = origins_between([240], 200, 240, 1)
    net = network.build_model(TINY_NET, 1, 1, "mse")
    for v in net.readout.params.values():
        v[...] = 0
    hybrid = Hybrid(**{**base.__dict__, "nets": [network.Predictor(net)], "K_net": 13})
    assert hybrid.nets and not base.nets
    np.testing.assert_array_equal(hybrid.predict(series, o), base.predict(series, o))


def poisoned(y, end):
    z = y.copy()
    z[end:] = 1e6 * (1 + np.arange(len(y) - end))  # a future that no fit may see
    return z


@pytest.mark.parametrize("net", [None, TINY_NET])
def test_no_leakage_past_the_training_end(tmp_path, net):
    """Fitting on y[:end] and forecasting from origins <= end give the same numbers, choices
    and intervals whatever follows the end."""
    y, end = seasonal_series(), 180
    cfg = HybridConfig(ensemble=2)
    o = origins_between([240], 120, end + 1, 1)
    fits = [fit_hybrid([s], np.array([end]), cfg, net, tmp_path / str(k), season=(12, "given"))
            for k, s in enumerate((y, poisoned(y, end)))]
    a, b = fits
    assert a.choices == b.choices and a.baseline == b.baseline and a.transform == b.transform
    np.testing.assert_array_equal(a.residuals, b.residuals)
    np.testing.assert_array_equal(a.ar.W, b.ar.W)
    np.testing.assert_array_equal(a.theta.season, b.theta.season)
    np.testing.assert_array_equal(a.theta.slope, b.theta.slope)
    for u, v in zip(a.interval([y], o), b.interval([poisoned(y, end)], o)):
        np.testing.assert_array_equal(u, v)


def test_folds_never_overlap_their_training_data():
    lengths = np.array([60, 45])
    n_test = bt.test_sizes(lengths, 0.1)  # 6 and 4 (rounded), per series
    np.testing.assert_array_equal(bt.test_sizes([8, 100], 0.2, 3), [3, 20])  # >= H each
    folds = bt.make_folds(lengths, n_test, 2, 3)
    assert [f.k for f in folds] == [1, 2, 3]
    for f in folds:
        for i in range(2):
            t = f.origins.t[f.origins.sid == i]
            assert t.min() == f.ends[i] and t.max() + 2 <= f.stops[i]  # inside the held-out part
            assert f.stops[i] - f.ends[i] == n_test[i]
    np.testing.assert_array_equal(folds[-1].stops, lengths)
    for a, b in itertools.pairwise(folds):
        np.testing.assert_array_equal(a.stops, b.ends)  # adjacent, disjoint held-out parts
    with pytest.raises(ValueError, match="--folds, --test: series 0 has 60 values"):
        bt.make_folds(lengths, n_test, 2, 11)
    with pytest.raises(ValueError, match="--test: 1 held-out values cannot hold a horizon"):
        bt.make_folds(lengths, np.array([1, 1]), 2, 1)


def test_interval_coverage_on_a_series_with_known_noise():
    """Gaussian noise around a seasonal mean: 90 % intervals cover 85-95 % of 1200 steps."""
    y = seasonal_series(T=3000, noise=1.0, seed=5)
    end = 1800
    model = fit_hybrid([y], np.array([end]), HybridConfig(network=False), season=(12, "given"))
    o = origins_between([3000], end, 3000, 1)
    _, lo, hi = model.interval([y], o)
    cover = bt.coverage([y], o, lo, hi)
    assert 0.85 <= cover <= 0.95
    # the half-width is near the noise's 95 % quantile (1.645 sigma, sigma >= 1)
    assert 1.5 <= np.median(hi - lo) / 2 <= 2.6


def test_an_interval_reads_only_the_values_before_its_origin():
    y = seasonal_series(T=300, noise=1.0, seed=3)
    model = fit_hybrid([y], np.array([200]), HybridConfig(network=False), season=(12, "given"))
    o = origins_between([300], 200, 300, 2)
    cut = 250
    a = model.interval([y], o)
    b = model.interval([poisoned(y, cut)], o)
    past = o.t <= cut
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u[past], v[past])
        assert not np.array_equal(u[~past], v[~past])  # the later ones do read the poison


def test_intervals_widen_when_the_noise_grows_after_the_training_end():
    """Noise σ = 1 up to the end, σ = 3 after: the calibration set takes in the new
    residuals as they are observed, so coverage recovers; the validation residuals alone
    would cover about 42 % (P(|Z| < 1.645 / 3))."""
    rng = np.random.default_rng(4)
    T, end = 1400, 600
    y = 50 + 5 * np.sin(2 * np.pi * np.arange(T) / 12) + \
        np.where(np.arange(T) < end, 1.0, 3.0) * rng.normal(size=T)
    model = fit_hybrid([y], np.array([end]), HybridConfig(network=False), season=(12, "given"))
    o = origins_between([T], end, T, 1)
    _, lo, hi = model.interval([y], o)
    width = (hi - lo)[:, 0]
    assert np.median(width[-200:]) > 2.5 * np.median(width[:20])
    assert bt.coverage([y], o.take(o.t >= end + 400), lo[-400:], hi[-400:]) >= 0.85


def test_the_hybrid_finds_the_season_and_beats_seasonal_naive():
    y = seasonal_series()
    ends = np.array([200])
    model = fit_hybrid([y], ends, HybridConfig(network=False), season=(12, "given"))
    o = origins_between([240], 200, 240, 1)
    scores = bt.score([y], ends, o, {"hybrid": model.predict([y], o),
                                     "snaive": bl.seasonal_naive([y], o, 1, 12)}, 12)
    assert scores["hybrid"]["mae"] < 0.5 * scores["snaive"]["mae"]
    assert set(model.choices) == {"season", "transform", "window", "center", "baseline", "floor"}


def test_a_global_fit_over_series_of_unequal_lengths_sees_no_future():
    rng = np.random.default_rng(4)
    series = [seasonal_series(T, seed=k) + rng.normal() for k, T in enumerate((90, 120, 70))]
    ends = np.array([70, 100, 50])
    cfg = HybridConfig(network=False)
    clean = fit_hybrid(series, ends, cfg, season=(12, "given"))
    dirty = fit_hybrid([poisoned(y, e) for y, e in zip(series, ends)], ends, cfg,
                       season=(12, "given"))
    assert clean.choices == dirty.choices
    np.testing.assert_array_equal(clean.ar.W, dirty.ar.W)
    o = origins_between([len(y) for y in series], ends - 10, ends + 1, 1)
    np.testing.assert_array_equal(clean.predict(series, o),
                                  dirty.predict([poisoned(y, e) for y, e in zip(series, ends)], o))


def test_a_backtest_fold_is_blind_to_what_follows_it(tmp_path):
    from rnnlab.apps import forecaster as fc
    from rnnlab.data.panel import Panel

    y = seasonal_series()
    cfg = fc.ForecastConfig(HybridConfig(season=12, network=False), test=20, folds=2,
                            statistical=False)
    reports = [fc.run(Panel(["s"], [s], [None]), cfg, None, tmp_path / str(k), echo=lambda _: None)
               for k, s in enumerate((y, poisoned(y, 220)))]  # fold 1 ends at 220
    assert reports[0]["folds"][0] == {**reports[1]["folds"][0],
                                      "seconds": reports[0]["folds"][0]["seconds"]}
    assert reports[0]["folds"][1]["scores"] != reports[1]["folds"][1]["scores"]


def test_log_transform_stays_finite_after_a_later_zero():
    y = seasonal_series()
    model = fit_hybrid([y], np.array([200]), HybridConfig(transform="log", network=False),
                       season=(12, "given"))
    z = y.copy()
    z[205:] = 0.0  # after the training part: not a reason to fail
    forecast = model.predict([z], origins_between([240], 200, 240, 1))
    assert model.transform == "log" and np.isfinite(forecast).all()
    with pytest.raises(ValueError, match="--transform: log needs every training value > 0"):
        fit_hybrid([y - 60], np.array([200]), HybridConfig(transform="log", network=False),
                   season=(12, "given"))
