"""Gauss-Newton products, conjugate gradient and the Hessian-free optimizer.

Oracles: PyTorch (torch.func: a Jacobian-vector product, the loss Hessian by
forward-over-reverse, a vector-Jacobian product) for G v; finite differences in
float64 for the R-operator and the structural-damping term; a direct solve for CG.
"""

from __future__ import annotations

import numpy as np
import pytest

from rnnlab import GRU, LSTM, RNN
from rnnlab.gauss_newton import GaussNewton
from rnnlab.models import Batch, SequenceModel
from rnnlab.rop import model_rforward

torch = pytest.importorskip("torch")
from torch.func import functional_call, jvp, vjp

T, B, I, H, K = 6, 3, 2, 4, 3
LENGTHS = np.array([6, 2, 4])


def _model(cls, opts, loss, target="each", num_layers=2, bidirectional=False, seed=0):
    rnn = cls(I, H, num_layers, bidirectional=bidirectional, dtype=np.float64, seed=seed, **opts)
    return SequenceModel(rnn, K, loss=loss, target=target, reduction="mean", seed=seed + 1)


def _batch(model, loss, rng, lengths=LENGTHS):
    x = rng.standard_normal((T, B, I))
    lead = (T, B) if model.target == "each" else (B,)
    if loss == "ce":
        y = rng.integers(0, K, lead)
    elif loss == "bce":
        y = rng.integers(0, 2, lead + (K,)).astype(np.float64)
    else:
        y = rng.standard_normal(lead + (K,))
    return Batch(x, y, lengths=lengths)


def _torch_module(model):
    rnn = model.rnn
    kind = {RNN: torch.nn.RNN, LSTM: torch.nn.LSTM, GRU: torch.nn.GRU}[type(rnn)]
    kw = {"nonlinearity": rnn.cell.act.name} if isinstance(rnn, RNN) else {}
    return kind(I, H, rnn.num_layers, bidirectional=rnn.bidirectional, dtype=torch.float64, **kw)


def _torch_outputs(model, batch):
    """z(p) in PyTorch: each sequence run on its own real steps (packed semantics),
    outputs past its length zero, then the readout."""
    module = _torch_module(model)
    x = torch.tensor(batch.x)
    lengths = batch.lengths if batch.lengths is not None else np.full(B, T)

    def f(p):
        rp = {k[4:]: a for k, a in p.items() if k.startswith("rnn.")}
        outs, tops = [], []
        for b, n in enumerate(lengths):
            out, state = functional_call(module, rp, (x[:n, b : b + 1],))
            outs.append(torch.nn.functional.pad(out, (0, 0, 0, 0, 0, T - n)))
            h_n = state[0] if isinstance(state, tuple) else state  # (L·D, 1, H)
            D = model.rnn.num_directions
            tops.append(torch.cat(list(h_n[-D:]), -1))  # (1, D·H)
        h = torch.cat(outs, 1) if model.target == "each" else torch.cat(tops, 0)
        return h @ p["readout.weight"].T + p["readout.bias"]

    return f


def _torch_loss(model, batch):
    y = torch.tensor(batch.y)
    mask = model._mask(batch, T)
    lead = (T, B) if model.target == "each" else (B,)
    m = torch.tensor(np.ones(lead) if mask is None else np.asarray(mask, float))

    def loss(z):
        if model.loss == "mse":
            ell = ((z - y) ** 2).sum(-1)
        elif model.loss == "bce":
            ell = (torch.nn.functional.softplus(z) - y * z).sum(-1)
        else:
            ell = -torch.log_softmax(z, -1).gather(-1, y.clamp(min=0)[..., None])[..., 0]
        return (m * ell).sum() / m.sum()

    return loss


def _torch_gv(model, batch, v: dict) -> dict:
    p = {n: torch.tensor(a) for n, a in model.params.items()}
    tv = {n: torch.tensor(v[n]) for n in p}
    f, loss = _torch_outputs(model, batch), _torch_loss(model, batch)
    z, jv = jvp(f, (p,), (tv,))  # J v
    _, hjv = jvp(torch.func.grad(loss), (z,), (jv,))  # H_L J v
    _, pull = vjp(f, p)
    return {n: a.numpy() for n, a in pull(hjv)[0].items()}  # Jᵀ H_L J v


TORCH_CASES = [  # (layer, options, loss, target, bidirectional)
    (RNN, {"nonlinearity": "tanh"}, "mse", "each", False),
    (RNN, {"nonlinearity": "tanh"}, "ce", "last", False),
    (LSTM, {}, "ce", "each", False),
    (LSTM, {}, "bce", "last", True),
    (GRU, {"reset_after": True}, "mse", "each", True),
    (GRU, {"reset_after": True}, "ce", "last", False),
]


@pytest.mark.parametrize("cls,opts,loss,target,bidir", TORCH_CASES,
                         ids=[f"{c[0].__name__}-{c[2]}-{c[3]}-{'bi' if c[4] else 'uni'}"
                              for c in TORCH_CASES])
@pytest.mark.parametrize("fast", [False, True], ids=["reference", "fast"])
def test_gauss_newton_product_equals_torch(cls, opts, loss, target, bidir, fast):
    rng = np.random.default_rng(0)
    model = _model(cls, opts, loss, target, bidirectional=bidir)
    model.rnn.fast = fast
    batch = _batch(model, loss, rng)
    gn = GaussNewton(model, batch)
    v = {n: rng.standard_normal(a.shape) for n, a in model.params.items()}
    ours = gn.layout.unflatten(gn.product(gn.layout.flatten(v)))
    ref = _torch_gv(model, batch, v)
    for n in ref:
        np.testing.assert_allclose(ours[n], ref[n], rtol=1e-10, atol=1e-10, err_msg=n)


ALL_CELLS = [(RNN, {"nonlinearity": a}) for a in ("tanh", "sigmoid", "elu")]
ALL_CELLS += [(LSTM, {}), (GRU, {"reset_after": True}), (GRU, {"reset_after": False})]
CELL_IDS = ["rnn-tanh", "rnn-sigmoid", "rnn-elu", "lstm", "gru-after", "gru-before"]


@pytest.mark.parametrize("cls,opts", ALL_CELLS, ids=CELL_IDS)
@pytest.mark.parametrize("target", ["each", "last"])
def test_rop_equals_finite_differences(cls, opts, target):
    """R{z} and R{h} = central differences of z and of the top layer's output along v."""
    rng = np.random.default_rng(1)
    model = _model(cls, opts, "mse", target, bidirectional=cls is GRU)
    batch = _batch(model, "mse", rng)
    v = {n: rng.standard_normal(a.shape) for n, a in model.params.items()}
    _, _, cache = model.forward(batch.x, None, batch.lengths)
    rz, rh = model_rforward(model, cache, v)

    def at(eps):
        for n, p in model.params.items():
            p += eps * v[n]
        z = model.forward(batch.x, None, batch.lengths)[0]
        out, _ = model.rnn(batch.x, None, batch.lengths)
        for n, p in model.params.items():
            p -= eps * v[n]
        return z, out

    eps = 1e-6
    (zp, hp), (zm, hm) = at(eps), at(-eps)
    np.testing.assert_allclose(rz, (zp - zm) / (2 * eps), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(rh, (hp - hm) / (2 * eps), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("cls,opts", ALL_CELLS, ids=CELL_IDS)
@pytest.mark.parametrize("loss", ["mse", "ce", "bce"])
def test_gauss_newton_is_symmetric_psd(cls, opts, loss):
    """uᵀ G v = vᵀ G u and vᵀ G v >= 0 on random probes; the structural term too."""
    rng = np.random.default_rng(2)
    model = _model(cls, opts, loss)
    gn = GaussNewton(model, _batch(model, loss, rng))
    for _ in range(3):
        u, v = rng.standard_normal((2, gn.layout.size))
        for mu in (0.0, 0.7):
            gu, gv = gn.product(u, mu), gn.product(v, mu)
            assert abs(u @ gv - v @ gu) <= 1e-10 * max(1.0, abs(u @ gv))
            assert v @ gv >= -1e-12 * np.linalg.norm(v) * np.linalg.norm(gv)


@pytest.mark.parametrize("cls,opts", ALL_CELLS, ids=CELL_IDS)
def test_structural_damping_term_equals_its_definition(cls, opts):
    """S v = d/dε ∇S(θ + εv) at ε = 0, S(θ) = ½ Σ_{t,b} ‖h(θ) - h(θ_k)‖² / B, by central
    differences of ∇S (computed by the layer's own BPTT)."""
    rng = np.random.default_rng(3)
    model = _model(cls, opts, "mse")
    batch = _batch(model, "mse", rng)
    gn = GaussNewton(model, batch)
    v = rng.standard_normal(gn.layout.size)
    sv = gn.product(v, 1.0) - gn.product(v, 0.0)
    h_k, _ = model.rnn(batch.x, None, batch.lengths)
    vd = gn.layout.unflatten(v)

    def grad_s(eps):
        for n, p in model.params.items():
            p += eps * vd[n]
        out, _, cache = model.rnn.forward(batch.x, None, batch.lengths)
        g = model.rnn.backward(cache, (out - h_k) / B)[2]
        for n, p in model.params.items():
            p -= eps * vd[n]
        return gn.layout.flatten({f"rnn.{n}": a for n, a in g.items()})

    eps = 1e-6
    fd = (grad_s(eps) - grad_s(-eps)) / (2 * eps)
    np.testing.assert_allclose(sv, fd, rtol=1e-6, atol=1e-8)
    assert np.linalg.norm(sv) > 1e-3  # the term is not trivially zero


# ---- conjugate gradient -------------------------------------------------------------

def _spd(n, rng, cond=100.0):
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return (q * np.geomspace(1, cond, n)) @ q.T


def test_cg_matches_a_direct_solve():
    from rnnlab.cg import conjugate_gradient

    rng = np.random.default_rng(4)
    A, b = _spd(20, rng), rng.standard_normal(20)
    x_star = np.linalg.solve(A, b)
    for x0 in (None, rng.standard_normal(20)):
        res = conjugate_gradient(lambda v: A @ v, b, x0, max_iters=60, tol=0.0)
        np.testing.assert_allclose(res.x, x_star, rtol=1e-8, atol=1e-10)
        assert res.phi == pytest.approx(0.5 * x_star @ A @ x_star - b @ x_star, rel=1e-10)


def test_cg_phi_decreases_and_iterates_are_kept_at_powers_of_gamma():
    from rnnlab.cg import conjugate_gradient

    rng = np.random.default_rng(5)
    A, b = _spd(50, rng, cond=1e4), rng.standard_normal(50)
    res = conjugate_gradient(lambda v: A @ v, b, max_iters=30, tol=0.0)
    its = [i for i, _, _ in res.saved]
    assert its == [1, 2, 3, 4, 5, 7, 9, 11, 14, 18, 24, 30]  # ⌈1.3^j⌉ <= 30, and the last
    phis = [p for _, _, p in res.saved]
    assert np.all(np.diff(phis) < 0)
    for _, x, phi in res.saved:  # φ from the residual equals φ from its definition
        assert phi == pytest.approx(0.5 * x @ A @ x - b @ x, rel=1e-9)


def test_cg_stops_by_relative_progress():
    from rnnlab.cg import conjugate_gradient

    rng = np.random.default_rng(6)
    A, b = _spd(400, rng, cond=1e6), rng.standard_normal(400)
    loose = conjugate_gradient(lambda v: A @ v, b, max_iters=400, tol=1e-2)
    tight = conjugate_gradient(lambda v: A @ v, b, max_iters=400, tol=1e-6)
    assert 10 < loose.iterations < tight.iterations


# ---- the Hessian-free optimizer ---------------------------------------------------

def _adding_batch(n, rng, T_=20):
    from rnnlab.tasks.problems import adding

    b = adding(T_, n, rng, dtype=np.float64)
    return Batch(b.x, b.y, mask=b.mask)


def test_hf_updates_follow_martens_rules_and_lower_the_loss():
    from rnnlab.hf import HessianFree, HFConfig

    rnn = RNN(2, 16, dtype=np.float64, seed=0)
    model = SequenceModel(rnn, 1, loss="mse", target="each", reduction="mean", seed=0)
    hf = HessianFree(model, HFConfig(damping=1.0, max_cg_iters=40, curvature_batch_size=20))
    rng = np.random.default_rng(7)
    batch = _adding_batch(100, rng)
    first = model.evaluate(batch)[0]
    for _ in range(6):
        lam = hf.damping
        info = hf.step(batch)
        assert info["new_loss"] <= info["loss"]  # the line search never accepts a rise
        assert info["new_loss"] == pytest.approx(model.evaluate(batch)[0], rel=1e-12)
        expected = lam * 1.5 if info["rho"] < 0.25 else lam * 2 / 3 if info["rho"] > 0.75 else lam
        assert hf.damping == pytest.approx(expected)
        assert 1 <= info["cg_iters"] <= 40
    assert model.evaluate(batch)[0] < 0.5 * first  # 0.248 -> 0.043 when written


def test_hf_damping_never_falls_below_its_floor():
    """Near chance ρ > ¾ update after update, so λ falls by 2/3 each time: from 1 it goes
    below 0.05 within 8 updates (0.039 when written); with min_damping = 0.05 it stops there."""
    from rnnlab.hf import HessianFree, HFConfig

    def dampings(floor):
        model = SequenceModel(RNN(2, 16, dtype=np.float64, seed=0), 1, loss="mse",
                              target="each", reduction="mean", seed=0)
        hf = HessianFree(model, HFConfig(damping=1.0, min_damping=floor, max_cg_iters=40,
                                         curvature_batch_size=20))
        rng = np.random.default_rng(7)
        return [hf.step(_adding_batch(100, rng))["damping"] for _ in range(8)]

    free, floored = dampings(0.0), dampings(0.05)
    assert min(free) < 0.05  # the run where the floor matters
    assert min(floored) == pytest.approx(0.05) and all(lam >= 0.05 for lam in floored)


@pytest.mark.parametrize("options, match", [
    ({"min_damping": -1.0}, "min_damping: expected .*, got -1.0"),
    ({"damping": 1e-3, "min_damping": 1e-2}, "min_damping: expected at most damping = 0.001"),
])
def test_hf_config_rejects_a_bad_floor(options, match):
    from rnnlab.hf import HFConfig

    with pytest.raises(ValueError, match=match):
        HFConfig(**options)


def test_hf_rejects_a_non_finite_step_and_keeps_the_weights(monkeypatch):
    """A curvature product gone non-finite: no step, ρ = -∞ so λ is raised, the warm start
    reset; then a product that makes CG's step explode: the line search rejects it (η = 0)."""
    from rnnlab.gauss_newton import GaussNewton as GN
    from rnnlab.hf import HessianFree, HFConfig

    model = SequenceModel(RNN(2, 8, dtype=np.float64, seed=0), 1, loss="mse", reduction="mean")
    hf = HessianFree(model, HFConfig(max_cg_iters=5, line_search_tries=5))
    before = {n: p.copy() for n, p in model.params.items()}
    monkeypatch.setattr(GN, "product", lambda self, v, structural=0.0: np.full_like(v, np.nan))
    info = hf.step(_adding_batch(20, np.random.default_rng(8)))
    assert info["rho"] == -np.inf and hf.damping == pytest.approx(1.5)
    assert info["new_loss"] == info["loss"] and not hf.p_prev.any()
    for n, p in model.params.items():
        np.testing.assert_array_equal(p, before[n])
    hf.damping = 1e-30  # A ≈ 1e-30 I: p ≈ -1e30 g, f(θ + η p) overflows for every η tried
    monkeypatch.setattr(GN, "product", lambda self, v, structural=0.0: 0.0 * v)
    with np.errstate(all="ignore"):
        info = hf.step(_adding_batch(20, np.random.default_rng(9)))
    assert info["rate"] == 0.0 and info["new_loss"] == info["loss"]
    for n, p in model.params.items():
        np.testing.assert_array_equal(p, before[n])


def test_hf_refuses_dropout():
    from rnnlab.hf import HessianFree

    model = SequenceModel(RNN(2, 8, 2, dropout=0.2, seed=0), 1, loss="mse")
    with pytest.raises(ValueError, match="without dropout, got dropout=0.2"):
        HessianFree(model)


@pytest.mark.parametrize("target", ["each", "last"])
def test_curvature_batch_is_the_first_sequences(target):
    from rnnlab.hf import batch_subset

    rng = np.random.default_rng(10)
    model = _model(RNN, {}, "ce", target)
    batch = _batch(model, "ce", rng)
    sub = batch_subset(batch, 2, target)
    full = GaussNewton(model, batch)
    part = GaussNewton(model, sub)
    np.testing.assert_array_equal(part.z, full.z[..., :2, :])  # the same sequences' outputs
    np.testing.assert_array_equal(sub.lengths, LENGTHS[:2])
    v = rng.standard_normal(full.layout.size)
    assert not np.allclose(part.product(v), full.product(v))  # ... and a different G


@pytest.mark.parametrize("loss", ["mse", "ce", "bce"])
@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_loss_hessian_equals_differences_of_the_loss_gradient(loss, reduction):
    from rnnlab.losses import get_loss, get_loss_hessian

    rng = np.random.default_rng(11)
    z, v = rng.standard_normal((2, 5, 4, 3))
    mask = rng.random((5, 4)) < 0.7
    y = {"mse": rng.standard_normal((5, 4, 3)), "ce": rng.integers(0, 3, (5, 4)),
         "bce": rng.integers(0, 2, (5, 4, 3)).astype(float)}[loss]
    grad = get_loss(loss)
    eps = 1e-6
    fd = (grad(z + eps * v, y, mask, reduction)[1] - grad(z - eps * v, y, mask, reduction)[1]) / (2 * eps)
    hv = get_loss_hessian(loss)(z, v, mask, reduction)
    np.testing.assert_allclose(hv, fd, rtol=1e-6, atol=1e-9)
    assert not hv[~mask].any()  # masked positions contribute nothing
    with pytest.raises(ValueError, match="twice differentiable"):
        get_loss_hessian("hinge")


def test_cg_replaces_a_start_worse_than_the_origin():
    from rnnlab.cg import conjugate_gradient

    rng = np.random.default_rng(12)
    A, b = _spd(30, rng), rng.standard_normal(30)
    bad = 100 * np.linalg.solve(A, b)  # φ(bad) = 5000 bᵀA⁻¹b - 100 bᵀA⁻¹b > 0
    good = 0.9 * np.linalg.solve(A, b)  # φ(good) < 0: kept
    cold = conjugate_gradient(lambda v: A @ v, b, None, max_iters=3, tol=0.0)
    from_bad = conjugate_gradient(lambda v: A @ v, b, bad, max_iters=3, tol=0.0)
    from_good = conjugate_gradient(lambda v: A @ v, b, good, max_iters=3, tol=0.0)
    np.testing.assert_array_equal(from_bad.x, cold.x)
    assert from_good.phi < cold.phi  # the warm start helped


def test_hf_solves_in_float64_for_a_float32_model():
    from rnnlab.hf import HessianFree, HFConfig

    model = SequenceModel(RNN(2, 8, seed=0), 1, loss="mse", reduction="mean")  # float32
    hf = HessianFree(model, HFConfig(max_cg_iters=5))
    from rnnlab.tasks.problems import adding

    b = adding(20, 20, np.random.default_rng(13))  # float32
    info = hf.step(Batch(b.x, b.y, mask=b.mask))
    assert hf.p_prev.dtype == np.float64 and hf.p_prev.any()
    assert all(p.dtype == np.float32 for p in model.params.values())
    assert info["new_loss"] <= info["loss"]


@pytest.mark.parametrize("cls,opts", [(LSTM, {}), (GRU, {"reset_after": False})], ids=["lstm", "gru-before"])
def test_hf_trains_gated_cells_with_lengths(cls, opts):
    from rnnlab.hf import HessianFree, HFConfig

    rng = np.random.default_rng(14)
    model = _model(cls, opts, "ce", "last")
    batch = _batch(model, "ce", rng)
    hf = HessianFree(model, HFConfig(max_cg_iters=20, curvature_batch_size=2))
    first = model.evaluate(batch)[0]
    for _ in range(3):
        info = hf.step(batch)
        assert info["new_loss"] <= info["loss"] and info["cg_iters"] >= 1
    assert model.evaluate(batch)[0] < first
