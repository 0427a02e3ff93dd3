"""Optimizers equal torch.optim step for step; clipping equals clip_grad_norm_;
schedules, state round trip, initialisations."""

import math

import numpy as np
import pytest
import torch

from rnnlab import GRU, LSTM, RNN, init, optim

CASES = [
    (optim.SGD, {"lr": 0.1}, torch.optim.SGD, {"lr": 0.1}),
    (optim.SGD, {"lr": 0.1, "momentum": 0.9}, torch.optim.SGD, {"lr": 0.1, "momentum": 0.9}),
    (optim.SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}, torch.optim.SGD,
     {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    (optim.Adagrad, {"lr": 0.1}, torch.optim.Adagrad, {"lr": 0.1}),
    (optim.RMSprop, {"lr": 0.01}, torch.optim.RMSprop, {"lr": 0.01}),
    (optim.RMSprop, {"lr": 0.01, "momentum": 0.5}, torch.optim.RMSprop, {"lr": 0.01, "momentum": 0.5}),
    (optim.Adam, {"lr": 0.01}, torch.optim.Adam, {"lr": 0.01}),
    (optim.Adam, {"lr": 0.01, "betas": (0.8, 0.9), "weight_decay": 0.1}, torch.optim.Adam,
     {"lr": 0.01, "betas": (0.8, 0.9), "weight_decay": 0.1}),
]


@pytest.mark.parametrize("ours, kw, theirs, tkw", CASES, ids=[
    "sgd", "momentum", "nesterov-wd", "adagrad", "rmsprop", "rmsprop-mom", "adam", "adam-wd"])
def test_optimizer_steps_equal_torch(ours, kw, theirs, tkw):
    rng = np.random.default_rng(0)
    params = {"a": rng.standard_normal((3, 4)), "b": rng.standard_normal(5)}
    tparams = {n: torch.tensor(p.copy(), requires_grad=True) for n, p in params.items()}
    opt, topt = ours(**kw), theirs(list(tparams.values()), **tkw)
    for _ in range(3):  # a fixed gradient per step, several steps so the state matters
        grads = {n: rng.standard_normal(p.shape) for n, p in params.items()}
        opt.step(params, grads)
        for n, t in tparams.items():
            t.grad = torch.tensor(grads[n])
        topt.step()
        for n, p in params.items():
            np.testing.assert_allclose(p, tparams[n].detach().numpy(), rtol=1e-12, atol=1e-14)


def test_optimizer_state_round_trip_continues_identically():
    rng = np.random.default_rng(1)
    p1 = {"w": rng.standard_normal(4)}
    g = [{"w": rng.standard_normal(4)} for _ in range(4)]
    a = optim.Adam(lr=0.1)
    for gi in g[:2]:
        a.step(p1, gi)
    p2, b = {"w": p1["w"].copy()}, optim.Adam(lr=0.1)
    b.load_state_dict(a.state_dict())
    for gi in g[2:]:
        a.step(p1, gi)
        b.step(p2, gi)
    assert np.array_equal(p1["w"], p2["w"])
    with pytest.raises(KeyError, match="unknown slot 'sum'"):
        b.load_state_dict({"step": 1, "sum.w": np.zeros(4)})


@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_equals_torch(max_norm):
    rng = np.random.default_rng(2)
    grads = {"a": rng.standard_normal((3, 4)), "b": rng.standard_normal(5)}
    ts = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads.values()]
    for t, g in zip(ts, grads.values()):
        t.grad = torch.tensor(g.copy())
    ref = torch.nn.utils.clip_grad_norm_(ts, max_norm).item()
    norm = optim.clip_grad_norm(grads, max_norm)
    assert norm == pytest.approx(ref, rel=1e-14)
    for t, g in zip(ts, grads.values()):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-14)
    assert optim.global_norm(grads) <= max_norm * (1 + 1e-12)


def test_clip_by_value_and_non_finite_guard():
    grads = {"a": np.array([-3.0, 0.5, 2.0])}
    assert optim.clip_grad_value(grads, 1.0) == pytest.approx(math.sqrt(13.25))
    assert grads["a"].tolist() == [-1.0, 0.5, 1.0]
    assert optim.all_finite(grads) and not optim.all_finite({"a": np.array([1.0, np.nan])})
    assert math.isinf(optim.global_norm({"a": np.array([np.inf])}))


def test_schedules():
    s = optim.Schedule("step", gamma=0.5, step_size=10)
    assert [s(1.0, n) for n in (0, 9, 10, 25)] == [1.0, 1.0, 0.5, 0.25]
    assert optim.Schedule("exponential", gamma=0.9)(2.0, 2) == pytest.approx(1.62)
    c = optim.Schedule("cosine", total=100, min_lr=0.1)
    assert c(1.0, 0) == 1.0 and c(1.0, 50) == pytest.approx(0.55) and c(1.0, 500) == 0.1
    with pytest.raises(ValueError, match="kind"):
        optim.Schedule("linear")


def test_initialisations_have_their_properties_and_repeat_from_a_seed():
    rnn = RNN(5, 8, nonlinearity="relu", dtype=np.float64)
    init.initialize(rnn, recurrent="identity", input="gaussian", std=0.001, seed=3)
    assert np.array_equal(rnn.params["weight_hh_l0"], np.eye(8))
    assert abs(rnn.params["weight_ih_l0"].std() - 0.001) < 3e-4
    assert not rnn.params["bias_ih_l0"].any()

    lstm = LSTM(5, 8, num_layers=2, dtype=np.float64)
    init.initialize(lstm, recurrent="orthogonal", input="glorot", forget_bias=1.0, seed=3)
    W = lstm.params["weight_hh_l1"]  # (32, 8): four orthogonal 8 x 8 blocks
    for blk in np.split(W, 4):
        np.testing.assert_allclose(blk @ blk.T, np.eye(8), atol=1e-12)
    assert np.all(lstm.params["bias_ih_l0"][8:16] == 1.0) and not lstm.params["bias_hh_l0"].any()
    assert np.abs(lstm.params["weight_ih_l0"]).max() <= math.sqrt(6 / 13)

    gru = GRU(20, 30, dtype=np.float64)
    init.initialize(gru, recurrent="sparse", input="sparse", spectral_radius=1.2, seed=3)
    for blk in np.split(gru.params["weight_hh_l0"], 3):
        assert init.spectral_radius(blk) == pytest.approx(1.2)
        assert np.all((blk != 0).sum(1) == 15)
    first = gru.state_dict()
    init.initialize(gru, recurrent="sparse", input="sparse", spectral_radius=1.2, seed=3)
    assert all(np.array_equal(first[n], p) for n, p in gru.params.items())
    with pytest.raises(ValueError, match="forget_bias: only an LSTM"):
        init.initialize(gru, forget_bias=1.0)
    with pytest.raises(ValueError, match="recurrent: expected one of"):
        init.InitConfig(recurrent="xavier")


def test_chrono_initialisation_sets_gate_timescales():
    lstm = LSTM(3, 50, num_layers=2, bidirectional=True, dtype=np.float64)
    init.initialize(lstm, chrono=100, seed=5)
    for name, b in lstm.params.items():
        if name.startswith("bias_hh"):
            assert not b[:100].any() and b[100:].any()  # i, f zero; g, o PyTorch's
        elif name.startswith("bias_ih"):
            b_i, b_f, _, _ = np.split(b, 4)
            u = np.exp(b_f)  # the drawn u, one per unit
            assert u.min() >= 1 and u.max() <= 99 and u.max() - u.min() > 50
            np.testing.assert_array_equal(b_i, -b_f)
    b_l0, b_l1 = lstm.params["bias_ih_l0"][50:100], lstm.params["bias_ih_l1"][50:100]
    assert not np.array_equal(b_l0, b_l1)  # each layer and direction draws its own
    again = LSTM(3, 50, num_layers=2, bidirectional=True, dtype=np.float64)
    init.initialize(again, chrono=100, seed=5)
    assert all(np.array_equal(again.params[n], p) for n, p in lstm.params.items())

    gru = GRU(3, 40, dtype=np.float64)
    before = gru.state_dict()
    init.set_chrono_bias(gru, 10, 1)
    for name in ("bias_ih_l0", "bias_hh_l0"):  # r and n untouched
        np.testing.assert_array_equal(np.delete(gru.params[name], np.s_[40:80]),
                                      np.delete(before[name], np.s_[40:80]))
    b_z = gru.params["bias_ih_l0"][40:80]
    assert np.all((np.exp(b_z) >= 1) & (np.exp(b_z) <= 9))
    assert not gru.params["bias_hh_l0"][40:80].any()

    with pytest.raises(TypeError, match="chrono: only an LSTM or GRU"):
        init.initialize(RNN(2, 4), chrono=50)
    with pytest.raises(ValueError, match="chrono"):
        init.InitConfig(chrono=1.5)
    with pytest.raises(ValueError, match="forget_bias: chrono sets"):
        init.InitConfig(chrono=50, forget_bias=1.0)
