"""Iterate averaging (rnnlab.averaging) against a hand computation, and evaluation on the
averaged weights in a benchmark run."""

from __future__ import annotations

import numpy as np
import pytest

from rnnlab.averaging import Averaged
from rnnlab.optim import SGD, Adam


def _trajectory(opt, steps=7, seed=0):
    """Run opt on one parameter with fixed random gradients; return (params, grads)."""
    rng = np.random.default_rng(seed)
    params = {"w": rng.standard_normal((3, 2)), "b": rng.standard_normal(2)}
    grads = [{n: rng.standard_normal(p.shape) for n, p in params.items()} for _ in range(steps)]
    return params, grads


@pytest.mark.parametrize("start", [0, 3])
def test_polyak_is_the_mean_of_the_iterates_after_start(start):
    params, grads = _trajectory(None)
    avg = Averaged(SGD(lr=0.1), "polyak", start=start)
    thetas = []
    for g in grads:
        avg.step(params, g)
        thetas.append({n: p.copy() for n, p in params.items()})
    for n in params:  # θ_k = θ_{k-1} - 0.1 g_k by hand, then the plain mean of θ_{s+1..K}
        theta, by_hand = params[n] + 0.1 * sum(g[n] for g in grads), []
        for g in grads:
            theta = theta - 0.1 * g[n]
            by_hand.append(theta)
        np.testing.assert_allclose(thetas[-1][n], by_hand[-1], rtol=1e-12)
        np.testing.assert_allclose(avg.average[n], np.mean(by_hand[start:], axis=0), rtol=1e-12)


def test_ema_follows_its_recursion_from_the_initial_weights():
    params, grads = _trajectory(None)
    theta0 = {n: p.copy() for n, p in params.items()}
    avg, beta = Averaged(SGD(lr=0.05, momentum=0.9), "ema", decay=0.8), 0.8
    ref_opt, ref = SGD(lr=0.05, momentum=0.9), {n: p.copy() for n, p in params.items()}
    by_hand = {n: p.copy() for n, p in theta0.items()}
    for g in grads:
        avg.step(params, g)
        ref_opt.step(ref, g)
        by_hand = {n: beta * a + (1 - beta) * ref[n] for n, a in by_hand.items()}
    for n in params:
        np.testing.assert_array_equal(params[n], ref[n])  # the raw trajectory is untouched
        np.testing.assert_allclose(avg.average[n], by_hand[n], rtol=1e-12)


def test_averaged_swaps_in_the_average_and_restores_even_on_error():
    params, grads = _trajectory(None)
    avg = Averaged(Adam(lr=0.01), "polyak")
    for g in grads:
        avg.step(params, g)
    raw = {n: p.copy() for n, p in params.items()}
    with avg.averaged(params) as inside:
        assert inside is params
        for n in params:
            np.testing.assert_array_equal(params[n], avg.average[n])
            assert not np.array_equal(params[n], raw[n])
    for n in params:
        np.testing.assert_array_equal(params[n], raw[n])
    with pytest.raises(RuntimeError), avg.averaged(params):
        raise RuntimeError("evaluation failed")
    for n in params:
        np.testing.assert_array_equal(params[n], raw[n])


def test_state_dict_round_trip_continues_identically():
    params, grads = _trajectory(None, steps=6)
    a = Averaged(Adam(lr=0.01), "ema", decay=0.9)
    for g in grads[:3]:
        a.step(params, g)
    b = Averaged(Adam(lr=0.01), "ema", decay=0.9)
    b.load_state_dict(a.state_dict())
    pb = {n: p.copy() for n, p in params.items()}
    for g in grads[3:]:
        a.step(params, g)
        b.step(pb, g)
    for n in params:
        np.testing.assert_array_equal(pb[n], params[n])
        np.testing.assert_array_equal(b.average[n], a.average[n])
    assert a.lr == 0.01  # the wrapped optimizer's attributes show through


@pytest.mark.parametrize("kwargs, match", [
    ({"kind": "swa"}, "kind: expected one of"),
    ({"kind": "ema", "decay": 1.0}, "decay: expected .*, got 1.0"),
    ({"kind": "polyak", "start": -1}, "start: expected an integer >= 0"),
])
def test_bad_options_name_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Averaged(SGD(lr=0.1), **kwargs)


def test_a_run_is_judged_on_the_averaged_weights():
    """EMA with β = 0 is the raw weights: the same result as no averaging; Polyak's mean
    of the iterates judges other weights (a different test loss)."""
    from rnnlab.tasks.run import RunConfig, run

    base = {"task": "adding", "T": 10, "cell": "rnn", "hidden_size": 8, "batch_size": 10,
            "max_steps": 30, "eval_every": 30, "quick_n": 20, "eval_n": 200}
    plain = run(RunConfig(**base))
    ema0 = run(RunConfig(**base, averaging="ema", averaging_decay=0.0))
    polyak = run(RunConfig(**base, averaging="polyak"))
    assert ema0["test_loss"] == plain["test_loss"] and ema0["loss"] == plain["loss"]
    assert polyak["loss"] == plain["loss"]  # training itself is untouched
    assert polyak["test_loss"] != pytest.approx(plain["test_loss"], rel=1e-6)
    with pytest.raises(ValueError, match="averaging: wraps a gradient optimizer"):
        RunConfig(**base, optimizer="hf", averaging="ema")
