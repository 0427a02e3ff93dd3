"""Truncated BPTT(k1, k2): one window equals full BPTT; every update's gradient equals
a brute-force torch autograd reference that detaches the state at the window's start."""

import numpy as np
import pytest
import torch

from rnnlab import GRU, LSTM, RNN, Batch, SequenceModel, to_torch
from rnnlab.readout import Embedding
from rnnlab.train import TruncatedBPTT

T, B, I, H, K = 11, 2, 3, 4, 2


def make_model(layer, num_layers=1, **kw):
    rnn = layer(I, H, num_layers=num_layers, dtype=np.float64, seed=1, **kw)
    return SequenceModel(rnn, K, loss="mse", seed=2)


def stream(rng, T=T):
    return Batch(rng.standard_normal((T, B, I)), rng.standard_normal((T, B, K)))


def test_one_window_k1_eq_k2_eq_T_is_full_bptt_exactly():
    rng = np.random.default_rng(0)
    for layer in (RNN, LSTM, GRU):
        model = make_model(layer, num_layers=2)
        batch = stream(rng)
        loss, grads, _ = model.loss_and_grads(batch)
        [(tloss, tgrads, _)] = list(TruncatedBPTT(model, T, T).updates(batch))
        assert tloss == loss
        assert all(np.array_equal(grads[n], tgrads[n]) for n in grads)


def torch_reference(model, batch, k1, k2):
    """Per update: the gradient of the losses of its last min(n, k2) steps, with the
    state detached k2 steps before the update (brute force, from the stream's start)."""
    net = to_torch(model.rnn)
    ro = torch.nn.Linear(H, K).double()
    with torch.no_grad():
        ro.weight.copy_(torch.tensor(model.readout.params["weight"]))
        ro.bias.copy_(torch.tensor(model.readout.params["bias"]))
    x, y = torch.tensor(batch.x), torch.tensor(batch.y)
    refs = []
    for u in range(-(-T // k1)):
        t_u = min((u + 1) * k1, T)
        n = t_u - u * k1
        m, w = min(n, k2), max(0, t_u - k2)
        with torch.no_grad():
            _, s = net(x[:w]) if w > 0 else (None, None)
        if s is not None:
            s = tuple(a.detach() for a in s) if isinstance(s, tuple) else s.detach()
        out, _ = net(x[w:t_u], s)
        z = ro(out)
        loss = ((z - y[w:t_u]) ** 2)[t_u - m - w :].sum() / B
        net.zero_grad()
        ro.zero_grad()
        loss.backward()
        g = {f"rnn.{n}": p.grad.numpy().copy() for n, p in net.named_parameters()}
        g.update({"readout.weight": ro.weight.grad.numpy().copy(),
                  "readout.bias": ro.bias.grad.numpy().copy()})
        refs.append((loss.item(), g))
    return refs


@pytest.mark.parametrize("k1, k2", [(3, 3), (2, 5), (4, 2)], ids=["k1=k2", "k2>k1", "k2<k1"])
@pytest.mark.parametrize("layer", [RNN, LSTM, GRU])
def test_each_update_equals_torch_with_detached_state(layer, k1, k2):
    rng = np.random.default_rng(1)
    model = make_model(layer, num_layers=2)
    batch = stream(rng)
    ours = list(TruncatedBPTT(model, k1, k2).updates(batch))
    refs = torch_reference(model, batch, k1, k2)
    assert len(ours) == len(refs)
    for (loss, grads, _), (ref_loss, ref) in zip(ours, refs):
        assert loss == pytest.approx(ref_loss, rel=1e-12)
        assert set(grads) == set(ref)
        for n in ref:
            np.testing.assert_allclose(grads[n], ref[n], rtol=1e-10, atol=1e-12, err_msg=n)


@pytest.mark.parametrize("k1, k2", [(3, 3), (2, 5)])
def test_stateful_streams_carry_state_and_windows_across_batches(k1, k2):
    """Two stateful batches of 6 steps == one stream of 12; reset starts from zero."""
    rng = np.random.default_rng(2)
    model = SequenceModel(LSTM(I, H, dtype=np.float64, seed=1), 5, loss="ce",
                          embedding=Embedding(5, I, dtype=np.float64, seed=3), seed=2)
    tokens, targets = rng.integers(0, 5, (12, B)), rng.integers(0, 5, (12, B))
    whole = list(TruncatedBPTT(model, k1, k2).updates(Batch(tokens, targets)))
    tb = TruncatedBPTT(model, k1, k2, stateful=True)
    parts = [r for s in (slice(0, 6), slice(6, 12)) for r in tb.updates(Batch(tokens[s], targets[s]))]
    assert len(parts) == len(whole)
    for (l1, g1, _), (l2, g2, _) in zip(whole, parts):
        assert l1 == pytest.approx(l2, rel=1e-13)
        for n in g1:
            np.testing.assert_allclose(g1[n], g2[n], rtol=1e-12, atol=1e-14)
    tb.reset()
    first = next(tb.updates(Batch(tokens[:6], targets[:6])))
    assert first[0] == pytest.approx(whole[0][0], rel=1e-13)


def test_truncation_refuses_bidirectional_and_lengths():
    with pytest.raises(ValueError, match="cannot truncate a bidirectional"):
        TruncatedBPTT(make_model(GRU, bidirectional=True), 3)
    with pytest.raises(ValueError, match="k2: expected an integer >= 1"):
        TruncatedBPTT(make_model(GRU), 3, 0)
    batch = stream(np.random.default_rng(3))
    batch.lengths = np.full(B, T)
    with pytest.raises(ValueError, match="batch.lengths"):
        next(TruncatedBPTT(make_model(RNN), 3).updates(batch))
