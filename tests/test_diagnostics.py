"""Diagnostics: temporal gradient components and Jacobians, against sums, torch autograd
with one parameter copy per step, torch's jacobian, and the Elman bound."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core_utils import CELL_IDS, CELLS, from_tuple, random_problem
from rnnlab import GRU, LSTM, RNN
from rnnlab.diagnostics import (
    jacobian_norms,
    jacobian_products,
    layer_norms,
    layer_terms,
    spectrum,
    step_jacobians,
    temporal_components,
    weighted_gradient,
)
from rnnlab.diagnostics.jacobians import elman_rate
from rnnlab.init import scale_spectral_radius

KINDS = [c for c in CELLS if c[2] in ("rnn-tanh", "rnn-relu", "lstm", "gru-after", "gru-before")]
KIND_IDS = [c[2] for c in KINDS]


def _run_backward(layer, T, B, lengths, seed=0):
    rng = np.random.default_rng(seed)
    x, s0, g_out, g_state = random_problem(layer, T, B, rng, lengths)
    _, _, cache = layer.forward(x, from_tuple(s0), lengths)
    *_, grads, deltas = layer.backward(cache, g_out, from_tuple(g_state), return_deltas=True)
    return (x, s0, g_out, g_state), cache, grads, deltas


@pytest.mark.parametrize("lengths", [None, [5, 2, 5]], ids=["full", "lengths"])
@pytest.mark.parametrize("cls,opts,_id", CELLS, ids=CELL_IDS)
def test_components_sum_to_gradient(cls, opts, _id, lengths):
    layer = cls(3, 4, 2, bidirectional=True, dtype=np.float64, seed=1, **opts)
    _, cache, grads, deltas = _run_backward(layer, 5, 3, lengths)
    terms = layer_terms(layer, cache, deltas)
    comps = temporal_components(terms, grads)
    ones = weighted_gradient(terms, np.ones(5), grads)
    norms = layer_norms(layer, cache, deltas)
    for n, g in grads.items():
        np.testing.assert_allclose(comps[n].sum(0), g, rtol=0, atol=1e-10)
        np.testing.assert_allclose(ones[n], g, rtol=0, atol=1e-10)
        direct = np.sqrt(np.square(comps[n]).reshape(5, -1).sum(1))  # Gram path vs the matrices
        np.testing.assert_allclose(norms.params[n], direct, rtol=1e-10, atol=1e-12)
    assert norms.total.shape == (5,) and np.all(norms.total > 0)


# ---- torch brute force: every step has its own copy of the parameters -----------------

def _torch_step(kind, p, x, h, c):
    """One step of the cell in torch, batch (B, ·); returns (h, c)."""
    a_x = x @ p["weight_ih_l0"].T + p["bias_ih_l0"]
    W, b = p["weight_hh_l0"], p["bias_hh_l0"]
    if kind.startswith("rnn"):
        a = a_x + h @ W.T + b
        return (torch.tanh(a) if kind == "rnn-tanh" else torch.relu(a)), None
    if kind == "lstm":
        i, f, g, o = (a_x + h @ W.T + b).chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c), c
    H = h.shape[1]
    r = torch.sigmoid(a_x[:, :H] + h @ W[:H].T + b[:H])
    z = torch.sigmoid(a_x[:, H : 2 * H] + h @ W[H : 2 * H].T + b[H : 2 * H])
    if kind == "gru-after":
        n = torch.tanh(a_x[:, 2 * H :] + r * (h @ W[2 * H :].T + b[2 * H :]))
    else:
        n = torch.tanh(a_x[:, 2 * H :] + (r * h) @ W[2 * H :].T + b[2 * H :])
    return (1 - z) * n + z * h, None


def _torch_step_norms(layer, kind, problem, lengths):
    x, s0, g_out, g_state = problem
    T, B = x.shape[:2]
    copies = [{n: torch.tensor(v, requires_grad=True) for n, v in layer.params.items()}
              for _ in range(T)]
    h = torch.tensor(s0[0][0])
    c = torch.tensor(s0[1][0]) if kind == "lstm" else None
    mask = torch.ones(T, B, 1, dtype=torch.float64) if lengths is None else \
        torch.tensor((np.arange(T)[:, None] < np.array(lengths))[..., None], dtype=torch.float64)
    loss = 0.0
    for t in range(T):
        hn, cn = _torch_step(kind, copies[t], torch.tensor(x[t]), h, c)
        h = mask[t] * hn + (1 - mask[t]) * h
        c = None if c is None else mask[t] * cn + (1 - mask[t]) * c
        loss = loss + (h * mask[t] * torch.tensor(g_out[t])).sum()
    loss = loss + (h * torch.tensor(g_state[0][0])).sum()
    if c is not None:
        loss = loss + (c * torch.tensor(g_state[1][0])).sum()
    loss.backward()
    return {n: np.array([copies[t][n].grad.norm().item() for t in range(T)]) for n in layer.params}


@pytest.mark.parametrize("lengths", [None, [6, 3]], ids=["full", "lengths"])
@pytest.mark.parametrize("cls,opts,kind", KINDS, ids=KIND_IDS)
def test_step_norms_equal_torch_per_step_copies(cls, opts, kind, lengths):
    layer = cls(3, 5, dtype=np.float64, seed=2, **opts)
    problem, cache, _, deltas = _run_backward(layer, 6, 2, lengths, seed=3)
    ref = _torch_step_norms(layer, kind, problem, lengths)
    norms = layer_norms(layer, cache, deltas)
    for n in layer.params:
        np.testing.assert_allclose(norms.params[n], ref[n], rtol=1e-10, atol=1e-12)
    total = np.sqrt(sum(r**2 for r in ref.values()))
    np.testing.assert_allclose(norms.total, total, rtol=1e-10)


def test_dh_norms_are_the_per_step_state_gradients():
    """‖∂L/∂h_t‖ equals the gradient of L w.r.t. an additive perturbation of h_t
    (torch), for a deep bidirectional GRU with lengths: per layer and direction."""
    layer = GRU(2, 3, 1, bidirectional=True, dtype=np.float64, seed=4)
    lengths = [4, 2]
    (_, _, g_out, g_state), cache, _, deltas = _run_backward(layer, 4, 2, lengths, seed=5)
    norms = layer_norms(layer, cache, deltas)
    # forward direction: ∂L/∂h_t = g_out[t] (masked) + ∂L/∂h_{t+1} ∂h_{t+1}/∂h_t, by rows of J
    dc = cache.layers[0].directions[0]
    W = layer.params["weight_hh_l0"]
    for b in range(2):
        J = step_jacobians(layer.cell, dc, W, b)
        dh = g_state[0][0, b].copy()
        per = np.zeros(4)
        for t in range(lengths[b] - 1, -1, -1):
            dh = dh + g_out[t, b, :3]
            per[t] = dh @ dh
            dh = dh @ J[t]
        deltas_b = deltas["_l0"].dH[:, b]
        np.testing.assert_allclose(np.square(deltas_b).sum(1)[: lengths[b]], per[: lengths[b]],
                                   rtol=1e-10)
    assert set(norms.dh) == {"_l0", "_l0_reverse"}
    np.testing.assert_allclose(norms.dh["_l0"], np.sqrt(np.square(deltas["_l0"].dH).sum((1, 2))))


# ---- Jacobians ----------------------------------------------------------------------

def _torch_final_state(kind, layer, x, s_k, k, b):
    p = {n: torch.tensor(v) for n, v in layer.params.items()}
    H = layer.hidden_size
    h, c = s_k[None, :H], (s_k[None, H:] if kind == "lstm" else None)
    for t in range(k, x.shape[0]):
        h, c = _torch_step(kind, p, torch.tensor(x[t, b : b + 1]), h, c)
    return h[0] if c is None else torch.cat([h[0], c[0]])


@pytest.mark.parametrize("cls,opts,kind", KINDS, ids=KIND_IDS)
def test_jacobian_products_equal_torch_jacobian(cls, opts, kind):
    layer = cls(3, 4, dtype=np.float64, seed=6, **opts)
    x = np.random.default_rng(7).standard_normal((6, 2, 3))
    _, _, cache = layer.forward(x)
    dc = cache.layers[0].directions[0]
    P = jacobian_products(step_jacobians(layer.cell, dc, layer.params["weight_hh_l0"], 1))
    for k in (0, 2, 5):
        s_k = torch.tensor(np.concatenate([s[k, 1] for s in dc.states]))
        ref = torch.autograd.functional.jacobian(
            lambda s, k=k: _torch_final_state(kind, layer, x, s, k, 1), s_k).numpy()
        np.testing.assert_allclose(P[k], ref, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("rho", [0.9, 1.5])
@pytest.mark.parametrize("nonlinearity", ["tanh", "sigmoid", "relu"])
def test_elman_norm_never_exceeds_bound(nonlinearity, rho):
    layer = RNN(2, 8, dtype=np.float64, seed=8, nonlinearity=nonlinearity)
    W = layer.params["weight_hh_l0"]
    layer.params["weight_hh_l0"] = scale_spectral_radius(W, rho)
    assert spectrum(layer.params["weight_hh_l0"]).spectral_radius[0] == pytest.approx(rho)
    x = np.random.default_rng(9).standard_normal((30, 3, 2))
    for b in range(3):
        jn = jacobian_norms(layer, x, sequence=b)
        assert np.all(jn.spectral <= jn.bound * (1 + 1e-12))
        assert np.all(jn.spectral <= jn.frobenius * (1 + 1e-12))
    rate = elman_rate(layer.cell, layer.params["weight_hh_l0"])
    assert jn.bound[4] == pytest.approx(rate**5)


def test_spectrum_per_gate_and_lstm_state_norms():
    layer = LSTM(2, 3, dtype=np.float64, seed=10)
    sp = spectrum(layer.params["weight_hh_l0"])
    assert sp.gates == ("i", "f", "g", "o") and sp.singular_values.shape == (4, 3)
    blocks = layer.params["weight_hh_l0"].reshape(4, 3, 3)
    np.testing.assert_allclose(sp.singular_values[2], np.linalg.svd(blocks[2])[1])
    jn = jacobian_norms(layer, np.ones((5, 1, 2)))
    assert jn.bound is None and np.all(jn.state_spectral >= jn.spectral * (1 - 1e-12))


def test_bad_arguments_name_themselves():
    layer = RNN(2, 3, dtype=np.float64)
    x = np.zeros((4, 2, 2))
    with pytest.raises(ValueError, match="layer_index"):
        jacobian_norms(layer, x, layer_index=1)
    with pytest.raises(ValueError, match="direction"):
        jacobian_norms(layer, x, direction=1)
    with pytest.raises(ValueError, match="sequence"):
        jacobian_norms(layer, x, sequence=2)


def test_plots_write_png_and_svg(tmp_path):
    from rnnlab.diagnostics import plots

    layer = RNN(2, 4, dtype=np.float64, seed=11)
    (_, _, _, _), cache, _, deltas = _run_backward(layer, 8, 2, None)
    tn = layer_norms(layer, cache, deltas)
    jn = jacobian_norms(layer, np.ones((8, 1, 2)))
    written = [
        *plots.plot_temporal_norms(tn.params, tn.total, tmp_path / "temporal"),
        *plots.plot_temporal_heatmap(np.stack([tn.total, 2 * tn.total]), [0, 10], tmp_path / "heat"),
        *plots.plot_jacobian_norms(jn, tmp_path / "jac"),
        *plots.plot_spectrum(spectrum(layer.params["weight_hh_l0"]), tmp_path / "spec"),
        *plots.plot_training_curves([0, 1, 2], {"loss": [3.0, 2.0, 1.0]}, tmp_path / "curves"),
    ]
    assert len(written) == 10
    for p in written:
        head = p.read_bytes()[:64]
        assert head.startswith(b"\x89PNG") if p.suffix == ".png" else b"<?xml" in head


def test_report_record_and_table(tmp_path):
    import json

    from rnnlab.diagnostics.report import make_report, record, table_rows

    layer = RNN(2, 6, dtype=np.float64, seed=12)
    for rho, regime in ((0.5, "vanishing guaranteed"), (3.0, "exploding possible")):
        layer.params["weight_hh_l0"] = scale_spectral_radius(layer.params["weight_hh_l0"], rho)
        (x, _, _, _), cache, grads, deltas = _run_backward(layer, 7, 3, None)
        rec = record(layer_terms(layer, cache, deltas), grads, layer.params, cache, deltas)
        rec = json.loads(json.dumps(rec))
        tn = layer_norms(layer, cache, deltas)
        np.testing.assert_allclose(rec["temporal_total"], tn.total)
        assert rec["spectral_radius"]["weight_hh_l0"][0] == pytest.approx(rho)
        rows = dict(table_rows(make_report(layer, x, cache, grads, deltas)))
        assert regime in rows["weight_hh_l0: σ'_max μ_max"]


@pytest.mark.parametrize("target", ["each", "last"])
def test_model_components_sum_to_the_model_gradient(target):
    """A SequenceModel's terms (recurrent stack + readout) sum to its whole gradient;
    a many-to-one readout's component sits at each sequence's last step."""
    from rnnlab import Batch, SequenceModel
    from rnnlab.diagnostics import model_terms

    rng = np.random.default_rng(13)
    model = SequenceModel(LSTM(3, 4, 2, bidirectional=True, dtype=np.float64, seed=1), 2,
                          loss="ce", target=target, seed=2)
    lengths = np.array([6, 3, 5])
    y = rng.integers(0, 2, (6, 3) if target == "each" else (3,))
    batch = Batch(rng.standard_normal((6, 3, 3)), y, lengths=lengths)
    _, grads, info = model.loss_and_grads(batch, keep_pass=True)
    terms = model_terms(model, info["pass"])
    comps = temporal_components(terms, grads)
    assert set(comps) == set(model.params)
    for n, g in grads.items():
        np.testing.assert_allclose(comps[n].sum(0), g, rtol=0, atol=1e-10, err_msg=n)
    if target == "last":
        steps = np.flatnonzero(np.abs(comps["readout.weight"]).sum((1, 2)))
        np.testing.assert_array_equal(steps, np.unique(lengths - 1))
