"""Pooling readouts of the many-to-one model: every gradient against finite differences
(float64) and against PyTorch autograd, and padding that changes nothing."""

import numpy as np
import pytest

from core_utils import assert_grads_match_finite_differences
from rnnlab import GRU, LSTM, RNN, Batch, SequenceModel

F64 = {"dtype": np.float64}
POOLS = ["mean", "max", "last+mean", "last+mean+max"]


def _problem(layer, pool, bidirectional=False, seed=0):
    rng = np.random.default_rng(seed)
    model = SequenceModel(layer(2, 3, num_layers=2, bidirectional=bidirectional, seed=1, **F64),
                          3, loss="ce", target="last", reduction="mean", pool=pool, seed=2)
    lengths = np.array([5, 3, 1, 4])
    x = rng.standard_normal((5, 4, 2))
    return model, Batch(x, rng.integers(0, 3, 4), lengths=lengths)


@pytest.mark.parametrize("pool", POOLS)
@pytest.mark.parametrize("layer", [RNN, LSTM, GRU])
def test_pooled_gradients_match_finite_differences(layer, pool):
    model, batch = _problem(layer, pool, bidirectional=layer is GRU)
    assert_grads_match_finite_differences(model, batch, rtol=1e-5)


@pytest.mark.parametrize("pool", POOLS)
def test_pooled_model_matches_pytorch(pool):
    torch = pytest.importorskip("torch")
    from rnnlab import to_torch

    model, batch = _problem(LSTM, pool, bidirectional=True, seed=3)
    loss, grads, _ = model.loss_and_grads(batch)
    net = to_torch(model.rnn)
    W = torch.tensor(model.params["readout.weight"], requires_grad=True)
    b = torch.tensor(model.params["readout.bias"], requires_grad=True)
    x = torch.tensor(batch.x)
    packed = torch.nn.utils.rnn.pack_padded_sequence(x, torch.tensor(batch.lengths),
                                                     enforce_sorted=False)
    out, (h_n, _) = net(packed)
    out, L = torch.nn.utils.rnn.pad_packed_sequence(out, total_length=x.shape[0])  # (T, B, 2H)
    real = (torch.arange(x.shape[0])[:, None] < L[None, :])[..., None]
    parts = {"last": torch.cat([h_n[-2], h_n[-1]], -1),
             "mean": out.sum(0) / L[:, None].double(),
             "max": out.masked_fill(~real, -torch.inf).max(0).values}
    h = torch.cat([parts[k] for k in pool.split("+")], -1)
    t_loss = torch.nn.functional.cross_entropy(h @ W.T + b, torch.tensor(batch.y))
    t_loss.backward()
    assert loss == pytest.approx(t_loss.item(), rel=1e-10)
    np.testing.assert_allclose(grads["readout.weight"], W.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(grads["readout.bias"], b.grad.numpy(), rtol=1e-9, atol=1e-12)
    for name, p in net.named_parameters():
        np.testing.assert_allclose(grads[f"rnn.{name}"], p.grad.numpy(), rtol=1e-8, atol=1e-11,
                                   err_msg=name)


@pytest.mark.parametrize("pool", POOLS)
def test_padding_changes_no_pooled_output(pool):
    model, batch = _problem(GRU, pool)
    x2 = batch.x.copy()
    x2[3:, 1] = 100.0  # series 1 has length 3
    z = model.forward(batch.x, None, batch.lengths)[0]
    np.testing.assert_array_equal(model.forward(x2, None, batch.lengths)[0], z)


def test_pool_errors():
    with pytest.raises(ValueError, match="pool"):
        SequenceModel(GRU(2, 3), 2, target="last", pool="median")
    with pytest.raises(ValueError, match="distinct"):
        SequenceModel(GRU(2, 3), 2, target="last", pool="mean+mean")
    with pytest.raises(ValueError, match="many-to-many"):
        SequenceModel(GRU(2, 3), 2, target="each", pool="mean")


def test_pooled_model_saves_and_loads_through_its_spec(tmp_path):
    import rnnlab

    model, batch = _problem(GRU, "last+mean+max", bidirectional=True)
    model.save(tmp_path / "m.safetensors")
    loaded = rnnlab.load(tmp_path / "m.safetensors")
    assert loaded.pool == "last+mean+max" and loaded.spec.pooling == "last+mean+max"
    np.testing.assert_array_equal(loaded.forward(batch.x, None, batch.lengths)[0],
                                  model.forward(batch.x, None, batch.lengths)[0])


def test_summary_without_cache_equals_the_training_one():
    model, batch = _problem(LSTM, "last+mean+max", bidirectional=True)
    h, _, (_, rcache, _) = model.summary(batch.x, None, batch.lengths)
    h2, _, (_, none, _) = model.summary(batch.x, None, batch.lengths, keep=False)
    np.testing.assert_array_equal(h, h2)
    assert rcache is not None and none is None
