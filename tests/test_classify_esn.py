"""The echo-state network: the ridge readout against the closed-form solve, its
leave-one-out predictions against refits, and the reservoir's initialisation."""

import numpy as np
import pytest

from rnnlab import RNN, SequenceModel
from rnnlab.esn import RidgePath, fit_readout, make_reservoir, summaries
from rnnlab.init import spectral_radius


def _closed_form(Phi, Y, lam):
    """Normal equations of [1, Φ] with the intercept unpenalised."""
    A = np.concatenate([np.ones((len(Phi), 1)), Phi], 1)
    R = lam * np.eye(A.shape[1])
    R[0, 0] = 0.0
    theta = np.linalg.solve(A.T @ A + R, A.T @ Y)  # (1 + P, K)
    return theta[1:].T, theta[0]


@pytest.mark.parametrize("N,P", [(30, 8), (12, 40)])  # over- and under-determined
@pytest.mark.parametrize("lam", [1e-3, 1.0, 50.0])
def test_ridge_equals_the_closed_form_solve(N, P, lam):
    rng = np.random.default_rng(N + P)
    Phi, Y = rng.standard_normal((N, P)) + 3.0, rng.standard_normal((N, 3))
    W, b = RidgePath(Phi, Y).solve(lam)
    W0, b0 = _closed_form(Phi, Y, lam)
    np.testing.assert_allclose(W, W0, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(b, b0, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("N,P", [(20, 6), (10, 25)])
def test_leave_one_out_equals_refits_without_each_row(N, P):
    rng = np.random.default_rng(7)
    Phi, Y = rng.standard_normal((N, P)), rng.standard_normal((N, 2))
    loo = RidgePath(Phi, Y).leave_one_out(0.3)
    for i in range(N):
        keep = np.arange(N) != i
        W, b = _closed_form(Phi[keep], Y[keep], 0.3)
        np.testing.assert_allclose(loo[i], W @ Phi[i] + b, rtol=1e-8, atol=1e-10)


def test_reservoir_and_readout_of_a_separable_problem():
    rng = np.random.default_rng(0)
    model = SequenceModel(RNN(1, 50, dtype=np.float32), 2, loss="ce", target="last",
                          pool="mean+max", seed=1)
    make_reservoir(model, spectral_radius=0.9, input_scale=0.5, sparsity=5, seed=3)
    W_hh = model.rnn.params["weight_hh_l0"]
    assert spectral_radius(W_hh.astype(np.float64)) == pytest.approx(0.9, rel=1e-5)
    assert np.all((W_hh != 0).sum(1) <= 5)
    y = rng.integers(0, 2, 60)
    t = np.arange(40)
    X = np.sin(t[None, :] * np.where(y, 0.5, 0.2)[:, None] + rng.uniform(0, 6, (60, 1)))
    lengths = rng.integers(20, 41, 60)
    Phi = summaries(model, X[..., None], lengths, batch_size=16)
    assert Phi.shape == (60, 100)
    info = fit_readout(model, Phi, y)
    assert info["loo_accuracy"] > 0.95
    W, b = RidgePath(Phi, np.eye(2)[y]).solve(info["lambda"])
    np.testing.assert_allclose(model.readout.params["weight"], W, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.readout.params["bias"], b, rtol=1e-5, atol=1e-6)


def test_reservoir_must_be_a_tanh_rnn():
    from rnnlab import GRU

    with pytest.raises(ValueError, match="tanh RNN"):
        make_reservoir(SequenceModel(GRU(1, 4), 2, target="last"), 0.9, 1.0)


def test_select_searches_chunk_then_radius_and_scale():
    from rnnlab.apps import reservoir
    from rnnlab.apps.network import NetworkConfig

    rng = np.random.default_rng(1)
    y = np.repeat([0, 1], 15)
    t = np.arange(60)
    X = np.sin(t[None] * np.where(y, 0.5, 0.2)[:, None] + rng.uniform(0, 6, (30, 1)))[..., None]
    lengths = np.full(30, 60)
    net = NetworkConfig(cell="rnn", hidden_size=20)
    assert reservoir.chunk_sizes(60) == [1, 3]
    messages = []
    best = reservoir.select(net, X, lengths, y, 2, messages.append)
    assert best["chunk"] in (1, 3) and best["pool"] in reservoir.POOLS
    assert best["spectral_radius"] in reservoir.SPECTRAL_RADII
    assert best["input_scale"] in reservoir.INPUT_SCALES
    assert best["loo_accuracy"] > 0.9 and "esn: chose chunk" in messages[0]
    assert reservoir.select(net, X, lengths, y, 2, messages.append, chunk_size=4)["chunk"] == 4
