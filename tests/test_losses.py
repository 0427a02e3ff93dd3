"""Losses: value and gradient against finite differences (float64) and torch autograd;
masked positions contribute exactly nothing; the readout and embedding backward."""

import numpy as np
import pytest
import torch

from rnnlab import losses
from rnnlab.readout import Embedding, OneHot, Readout

T, B, K = 4, 3, 5


def make(loss, rng, lead=(T, B)):
    z = rng.standard_normal(lead + (K,))
    if loss == "ce":
        y = rng.integers(0, K, lead)
    elif loss == "mse":
        y = rng.standard_normal(lead + (K,))
    elif loss == "hinge":
        y = rng.choice([-1.0, 1.0], lead + (K,))
    else:
        y = (rng.random(lead + (K,)) < 0.5).astype(float)
    mask = rng.random(lead) < 0.7
    return z, y, mask


def torch_loss(loss, z, y, mask, reduction):
    """The same total, written with torch's own losses, per position then reduced."""
    zt = torch.tensor(z, requires_grad=True)
    if loss == "ce":
        per = torch.nn.functional.cross_entropy(zt.reshape(-1, K), torch.tensor(y).reshape(-1),
                                                reduction="none").reshape(y.shape)
    elif loss == "mse":
        per = ((zt - torch.tensor(y)) ** 2).sum(-1)
    elif loss == "hinge":
        per = torch.clamp(1 - torch.tensor(y) * zt, min=0).sum(-1)
    else:
        per = torch.nn.functional.binary_cross_entropy_with_logits(
            zt, torch.tensor(y), reduction="none").sum(-1)
    m = torch.tensor(mask, dtype=torch.float64)
    norm = m.shape[-1] if reduction == "sum" else m.sum()
    total = (per * m).sum() / norm
    total.backward()
    return total.item(), zt.grad.numpy()


@pytest.mark.parametrize("reduction", losses.REDUCTIONS)
@pytest.mark.parametrize("loss", list(losses.LOSSES))
def test_loss_and_gradient_match_torch(loss, reduction):
    rng = np.random.default_rng(1)
    z, y, mask = make(loss, rng)
    value, dz = losses.get_loss(loss)(z, y, mask, reduction)
    ref_value, ref_dz = torch_loss(loss, z, y, mask, reduction)
    assert value == pytest.approx(ref_value, rel=1e-12)
    np.testing.assert_allclose(dz, ref_dz, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("loss", list(losses.LOSSES))
def test_loss_gradient_matches_finite_differences(loss):
    rng = np.random.default_rng(2)
    z, y, mask = make(loss, rng, lead=(B,))
    if loss == "hinge":  # keep away from the kink at y z = 1
        z = np.where(np.abs(1 - y * z) < 0.05, z + 0.2, z)
    f = losses.get_loss(loss)
    _, dz = f(z, y, mask)
    eps, num = 1e-6, np.zeros_like(z)
    for i in np.ndindex(z.shape):
        zp, zm = z.copy(), z.copy()
        zp[i] += eps
        zm[i] -= eps
        num[i] = (f(zp, y, mask)[0] - f(zm, y, mask)[0]) / (2 * eps)
    np.testing.assert_allclose(dz, num, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("loss", list(losses.LOSSES))
def test_masked_steps_contribute_exactly_nothing(loss):
    rng = np.random.default_rng(3)
    z, y, mask = make(loss, rng)
    value, dz = losses.get_loss(loss)(z, y, mask, "sum")
    z2, y2 = z.copy(), y.copy()
    z2[~mask] = 1e3  # anything at masked positions, even targets out of range
    y2[~mask] = -7 if loss == "ce" else y2[~mask]
    value2, dz2 = losses.get_loss(loss)(z2, y2, mask, "sum")
    assert value2 == value
    assert np.all(dz2[~mask] == 0) and np.array_equal(dz2[mask], dz[mask])


def test_cross_entropy_is_stable_for_huge_logits():
    z = np.array([[1e4, 0.0, -1e4]])
    value, dz = losses.ce(z, np.array([1]))
    assert value == pytest.approx(1e4) and np.isfinite(dz).all()


def test_bad_targets_name_the_argument():
    with pytest.raises(ValueError, match="target.*-1, \\+1"):
        losses.hinge(np.zeros((2, 1)), np.zeros((2, 1)))
    with pytest.raises(ValueError, match="target.*classes in \\[0, 3\\)"):
        losses.ce(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match="reduction"):
        losses.mse(np.zeros((2, 1)), np.zeros((2, 1)), reduction="avg")
    with pytest.raises(ValueError, match="mask: expected shape"):
        losses.mse(np.zeros((2, 1)), np.zeros((2, 1)), mask=np.ones(3))


def test_readout_and_embedding_gradients_match_torch():
    rng = np.random.default_rng(4)
    ro, emb = Readout(6, K, dtype=np.float64, seed=0), Embedding(7, 6, dtype=np.float64, seed=0)
    tokens = rng.integers(0, 7, (T, B))
    dz = rng.standard_normal((T, B, K))
    x, ecache = emb.forward(tokens)
    z, h = ro.forward(x)
    dx, g_ro = ro.backward(h, dz)
    _, g_emb = emb.backward(ecache, dx)
    E = torch.tensor(emb.params["weight"], requires_grad=True)
    W = torch.tensor(ro.params["weight"], requires_grad=True)
    b = torch.tensor(ro.params["bias"], requires_grad=True)
    zt = E[torch.tensor(tokens)] @ W.T + b
    np.testing.assert_allclose(z, zt.detach().numpy(), rtol=1e-13)
    (zt * torch.tensor(dz)).sum().backward()
    for ours, ref in ((g_ro["weight"], W), (g_ro["bias"], b), (g_emb["weight"], E)):
        np.testing.assert_allclose(ours, ref.grad.numpy(), rtol=1e-12, atol=1e-13)
    onehot, _ = OneHot(7, dtype=np.float64).forward(tokens)
    assert np.array_equal(onehot.argmax(-1), tokens) and np.all(onehot.sum(-1) == 1)
    with pytest.raises(ValueError, match="tokens: expected ids in \\[0, 7\\)"):
        emb.forward(np.array([7]))
