"""Remedies: Pascanu's Ω and its W_hh gradient against torch autograd; Galvan's simplex
direction (convex weights, the gradient's norm, descent when the components agree,
switching at ψ); the shrink fallback."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from rnnlab import GRU, RNN
from rnnlab.diagnostics import layer_terms, temporal_components
from rnnlab.optim import global_norm
from rnnlab.remedies import (
    SimplexConfig,
    pascanu_omega,
    shrink_fallback,
    simplex_direction,
    simplex_weights,
)


def _problem(layer, T, B, seed, lengths=None):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((T, B, layer.input_size))
    out, _, cache = layer.forward(x, lengths=lengths)
    g_out = rng.standard_normal(out.shape)
    *_, grads, deltas = layer.backward(cache, g_out, return_deltas=True)
    return x, g_out, cache, grads, deltas


def _torch_omega(layer, x, g_out, lengths):
    """Ω by torch: ∂L/∂h_t from autograd (retain_grad), then the formula with
    ∂L/∂h and σ' detached and W_hh a leaf, as in the paper."""
    p = {n: torch.tensor(v, requires_grad=True) for n, v in layer.params.items()}
    T, B, _ = x.shape
    mask = torch.tensor(np.arange(T)[:, None] < np.asarray(lengths)[None, :], dtype=torch.float64)
    h, hs = torch.zeros(B, layer.hidden_size, dtype=torch.float64), []
    for t in range(T):
        hn = torch.tanh(torch.tensor(x[t]) @ p["weight_ih_l0"].T + p["bias_ih_l0"]
                        + h @ p["weight_hh_l0"].T + p["bias_hh_l0"])
        hn.retain_grad()
        hs.append(hn)
        h = mask[t, :, None] * hn + (1 - mask[t, :, None]) * h
    loss = sum((hs[t] * mask[t, :, None] * torch.tensor(g_out[t])).sum() for t in range(T))
    loss.backward()
    W = torch.tensor(layer.params["weight_hh_l0"], requires_grad=True)
    ratios = []
    for t in range(T):
        for b in range(B):
            dh = hs[t].grad[b] * mask[t, b]
            if mask[t, b] and dh.norm() > 0:
                v = dh * (1 - hs[t].detach()[b] ** 2)
                ratios.append(((v @ W).square().sum() / dh.square().sum() - 1) ** 2)
    omega = torch.stack(ratios).mean()
    omega.backward()
    return omega.item(), W.grad.numpy()


@pytest.mark.parametrize("lengths", [[5, 5, 5], [5, 2, 4]], ids=["full", "lengths"])
def test_omega_and_its_gradient_equal_torch(lengths):
    layer = RNN(3, 4, dtype=np.float64, seed=0)
    x, g_out, cache, _, deltas = _problem(layer, 5, 3, 1, np.array(lengths))
    omega, dW = pascanu_omega(layer, cache, deltas)
    ref_omega, ref_dW = _torch_omega(layer, x, g_out, lengths)
    assert omega == pytest.approx(ref_omega, rel=1e-10)
    np.testing.assert_allclose(dW["weight_hh_l0"], ref_dW, rtol=1e-9, atol=1e-12)


def test_omega_is_elman_only():
    layer = GRU(2, 3, dtype=np.float64, seed=0)
    _, _, cache, _, deltas = _problem(layer, 3, 2, 0)
    with pytest.raises(TypeError, match="layer"):
        pascanu_omega(layer, cache, deltas)


@pytest.mark.parametrize("beta", ["exp", "uniform"])
def test_simplex_direction_is_a_rescaled_convex_combination(beta):
    layer = GRU(3, 4, 2, bidirectional=True, dtype=np.float64, seed=2)
    _, _, cache, grads, deltas = _problem(layer, 6, 2, 3, np.array([6, 4]))
    step = simplex_direction(layer_terms(layer, cache, deltas), grads, np.random.default_rng(4),
                             SimplexConfig(beta=beta))
    assert np.all(step.beta >= 0) and step.beta.sum() == pytest.approx(1.0)
    assert global_norm(step.direction) == pytest.approx(global_norm(grads), rel=1e-12)
    comps = temporal_components(layer_terms(layer, cache, deltas), grads)
    n_t = np.sqrt(sum(np.square(c).reshape(6, -1).sum(1) for c in comps.values()))  # (T,)
    g = {n: np.einsum("t,t...->...", step.beta / n_t, c) for n, c in comps.items()}
    scale = global_norm(grads) / global_norm(g)
    for n in grads:
        np.testing.assert_allclose(step.direction[n], scale * g[n], rtol=1e-10, atol=1e-13)
    dot = sum(float(np.vdot(step.direction[n], grads[n])) for n in grads)
    assert step.cosine == pytest.approx(dot / global_norm(grads) ** 2)
    again = simplex_direction(layer_terms(layer, cache, deltas), grads, np.random.default_rng(5))
    assert not np.allclose(again.beta, step.beta)  # drawn anew every call


def test_simplex_direction_descends_when_components_agree():
    """Identity activation and positive weights and inputs: every component is a
    positive matrix, so each has a positive inner product with ∇L; then so has d."""
    layer = RNN(2, 3, dtype=np.float64, seed=0, nonlinearity="identity")
    rng = np.random.default_rng(6)
    layer.params = {n: np.abs(p) + 0.1 for n, p in layer.params.items()}
    layer.params["weight_hh_l0"] = 0.3 * np.eye(3)
    x = rng.random((7, 2, 2)) + 0.1
    out, _, cache = layer.forward(x)
    *_, grads, deltas = layer.backward(cache, np.ones_like(out), return_deltas=True)
    comps = temporal_components(layer_terms(layer, cache, deltas), grads)
    inner = sum((comps[n] * grads[n]).reshape(7, -1).sum(1) for n in grads)  # (T,)
    assert np.all(inner > 0)
    for seed in range(5):
        terms = layer_terms(layer, cache, deltas)
        step = simplex_direction(terms, grads, np.random.default_rng(seed))
        assert step.cosine > 0


def test_simplex_switches_above_psi():
    layer = RNN(2, 3, dtype=np.float64, seed=0)
    _, _, cache, grads, deltas = _problem(layer, 4, 2, 0)
    norm = global_norm(grads)
    high = simplex_direction(layer_terms(layer, cache, deltas), grads, np.random.default_rng(0),
                             SimplexConfig(psi=0.5 * norm))
    low = simplex_direction(layer_terms(layer, cache, deltas), grads, np.random.default_rng(0),
                            SimplexConfig(psi=2 * norm))
    assert high.switched and high.direction is grads and high.cosine == 1.0
    assert not low.switched and low.cosine < 1.0


def test_simplex_weights():
    rng = np.random.default_rng(0)
    b = simplex_weights(1000, rng, "exp")
    assert b.sum() == pytest.approx(1.0) and b.max() / b.min() <= math.e  # exp(1-u) in (1, e]
    with pytest.raises(ValueError, match="beta"):
        simplex_weights(3, rng, "gauss")
    with pytest.raises(ValueError, match="psi"):
        SimplexConfig(psi=0.0)


def test_shrink_fallback():
    params = {"weight_hh_l0": np.ones((2, 2)), "weight_ih_l0": np.ones((2, 1))}
    ok = {"weight_hh_l0": np.ones((2, 2)), "weight_ih_l0": np.ones((2, 1))}
    assert not shrink_fallback(ok, params, max_norm=10.0)
    assert np.all(params["weight_hh_l0"] == 1.0)
    assert shrink_fallback(ok, params, max_norm=1.0)  # above the bound
    bad = {"weight_hh_l0": np.full((2, 2), np.nan), "weight_ih_l0": np.ones((2, 1))}
    assert shrink_fallback(bad, params)  # non-finite, no bound
    np.testing.assert_allclose(params["weight_hh_l0"], 0.98**2)
    assert np.all(params["weight_ih_l0"] == 1.0)


# ---- plugged into the Trainer --------------------------------------------------------

def _trainer(transforms, steps=6, rho=0.9, keep_pass=True):
    from rnnlab.init import scale_spectral_radius
    from rnnlab.models import Batch, SequenceModel
    from rnnlab.tasks import make_task
    from rnnlab.train.trainer import FullBPTT, TrainConfig, Trainer

    rnn = RNN(6, 8, dtype=np.float64, seed=0)
    rnn.params["weight_hh_l0"][...] = scale_spectral_radius(rnn.params["weight_hh_l0"], rho)
    model = SequenceModel(rnn, 4, loss="ce", seed=1)
    task = make_task("temporal_order")

    def data(n):
        b = task.sample(12, 4, np.random.default_rng([2, n]), dtype=np.float64)
        return Batch(b.x, b.y, mask=b.mask)

    config = TrainConfig(steps=steps, optimizer="sgd", lr=0.05, clip="none")
    return Trainer(model, FullBPTT(model, data, keep_pass=keep_pass), config,
                   transforms=transforms)


def test_trainer_logs_diagnostics_and_simplex_cosine():
    from rnnlab.diagnostics.report import DiagnosticsRecorder
    from rnnlab.remedies import SimplexTransform

    trainer = _trainer([DiagnosticsRecorder(every=3), SimplexTransform(seed=0)])
    trainer.fit()
    h = trainer.history
    assert [r["step"] for r in h if "diagnostics" in r] == [1, 4]
    rec = h[0]["diagnostics"]
    assert len(rec["temporal_total"]) == 12 and "readout.weight" in rec["temporal"]
    assert rec["grad_norm"] > 0 and "rnn.weight_hh_l0" in rec["spectral_radius"]
    assert all(-1 <= r["cosine"] <= 1 and r["switched"] is False for r in h)
    # with clip="none" the logged norm is the direction's, which is ‖∇L‖ by construction
    assert h[0]["grad_norm"] == pytest.approx(rec["grad_norm"], rel=1e-10)


def test_trainer_omega_and_fallback():
    from rnnlab.remedies import OmegaRegularizer, ShrinkFallback

    trainer = _trainer([OmegaRegularizer(alpha=1.0)], steps=2)
    trainer.fit()
    assert all(r["omega"] >= 0 for r in trainer.history)
    trainer = _trainer([ShrinkFallback(max_norm=1e-12)], steps=2)
    W0 = trainer.model.params["rnn.weight_hh_l0"].copy()
    W_ih0 = trainer.model.params["rnn.weight_ih_l0"].copy()
    trainer.fit()
    assert all(r["fallback"] and r["skipped"] == "transform" for r in trainer.history)
    np.testing.assert_allclose(trainer.model.params["rnn.weight_hh_l0"], 0.98**2 * W0)
    np.testing.assert_array_equal(trainer.model.params["rnn.weight_ih_l0"], W_ih0)


def test_transform_without_kept_pass_says_how_to_fix():
    from rnnlab.remedies import SimplexTransform

    trainer = _trainer([SimplexTransform()], steps=1, keep_pass=False)
    with pytest.raises(ValueError, match="keep_pass=True"):
        trainer.fit()
