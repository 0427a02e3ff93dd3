"""Oracle 3: self-consistency. A layer equals a loop over its cell; a padded batch
with lengths equals each sequence run alone; lengths all = T equals no lengths;
batch_first equals time-major; inference equals forward; dropout is seeded."""

import numpy as np
import pytest

from core_utils import CELL_IDS, CELLS, as_tuple, from_tuple, random_problem


@pytest.mark.parametrize("stacked", [True, False], ids=["stacked", "apart"])
@pytest.mark.parametrize("cls,opts,_id", CELLS, ids=CELL_IDS)
def test_layer_equals_loop_over_cell(cls, opts, _id, stacked, monkeypatch):
    """Both ways of the weight gradients (rnnlab.layers.weight_grads): x_t, 1 and
    h_{t-1} in one product, or a product each."""
    import rnnlab.layers

    monkeypatch.setattr(rnnlab.layers, "STACK_BELOW", 10**9 if stacked else 0)
    rng = np.random.default_rng(0)
    T, B, I, H = 7, 3, 4, 5
    layer = cls(I, H, dtype=np.float64, seed=1, **opts)
    x, s0, g_out, g_state = random_problem(layer, T, B, rng)
    out, state, cache = layer.forward(x, from_tuple(s0))
    dx, ds0, grads = layer.backward(cache, g_out, from_tuple(g_state))

    cell = layer.cell
    params = tuple(layer.params[f"{n}_l0"] for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
    states, auxs = [tuple(s[0] for s in s0)], []
    for t in range(T):
        new, aux = cell.forward(x[t], states[-1], params)
        states.append(new)
        auxs.append(aux)
    np.testing.assert_allclose(out, np.stack([s[0] for s in states[1:]]), rtol=0, atol=1e-13)
    for a, b in zip(as_tuple(state), states[-1]):
        np.testing.assert_allclose(a[0], b, rtol=0, atol=1e-13)

    dstate = tuple(g[0] for g in g_state)
    total = [np.zeros_like(p) for p in params]
    dxs = np.empty_like(x)
    for t in range(T - 1, -1, -1):
        dstate = (dstate[0] + g_out[t],) + dstate[1:]
        dxs[t], dstate, dp = cell.backward(dstate, auxs[t], x[t], states[t], states[t + 1], params)
        total = [a + b for a, b in zip(total, dp)]
    np.testing.assert_allclose(dx, dxs, rtol=0, atol=1e-12)
    for a, b in zip(as_tuple(ds0), dstate):
        np.testing.assert_allclose(a[0], b, rtol=0, atol=1e-12)
    for n, g in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), total):
        np.testing.assert_allclose(grads[f"{n}_l0"], g, rtol=0, atol=1e-11)


@pytest.mark.parametrize("cls,opts,_id", [CELLS[0], CELLS[6], CELLS[7], CELLS[8]],
                         ids=[CELL_IDS[0], *CELL_IDS[6:9]])
def test_padded_batch_equals_each_sequence_alone(cls, opts, _id):
    """Deep bidirectional: the reverse direction starts at each sequence's own end."""
    rng = np.random.default_rng(2)
    T, I, H = 6, 3, 4
    lengths = np.array([6, 2, 4, 1])
    layer = cls(I, H, 2, bidirectional=True, dtype=np.float64, seed=3, **opts)
    x, s0, g_out, g_state = random_problem(layer, T, len(lengths), rng, lengths)
    x[np.arange(T)[:, None] >= lengths] = 123.0  # padding must not matter
    out, state, cache = layer.forward(x, from_tuple(s0), lengths)
    dx, ds0, grads = layer.backward(cache, g_out, from_tuple(g_state))
    total = {n: np.zeros_like(g) for n, g in grads.items()}
    for b, L in enumerate(lengths):
        sl = (slice(None), slice(b, b + 1))
        out_b, state_b, cache_b = layer.forward(x[:L, b : b + 1], from_tuple(tuple(s[sl] for s in s0)))
        np.testing.assert_allclose(out[:L, b : b + 1], out_b, atol=1e-13)
        assert np.all(out[L:, b] == 0)
        for a, c in zip(as_tuple(state), as_tuple(state_b)):
            np.testing.assert_allclose(a[sl], c, atol=1e-13)
        dx_b, ds0_b, g_b = layer.backward(cache_b, g_out[:L, b : b + 1],
                                          from_tuple(tuple(g[sl] for g in g_state)))
        np.testing.assert_allclose(dx[:L, b : b + 1], dx_b, atol=1e-12)
        assert np.all(dx[L:, b] == 0)
        for a, c in zip(as_tuple(ds0), as_tuple(ds0_b)):
            np.testing.assert_allclose(a[sl], c, atol=1e-12)
        total = {n: total[n] + g_b[n] for n in total}
    for n in grads:
        np.testing.assert_allclose(grads[n], total[n], atol=1e-11)


@pytest.mark.parametrize("cls,opts,_id", CELLS[6:], ids=CELL_IDS[6:])
def test_full_lengths_equal_no_lengths_and_batch_first_equals_time_major(cls, opts, _id):
    rng = np.random.default_rng(4)
    T, B, I, H = 5, 3, 2, 3
    layer = cls(I, H, 2, bidirectional=True, dtype=np.float64, seed=5, **opts)
    x, s0, g_out, g_state = random_problem(layer, T, B, rng)
    ref_out, _ref_state, cache = layer.forward(x, from_tuple(s0))
    ref_grads = layer.backward(cache, g_out, from_tuple(g_state))
    out, _state, cache = layer.forward(x, from_tuple(s0), lengths=np.full(B, T))
    grads = layer.backward(cache, g_out, from_tuple(g_state))
    np.testing.assert_allclose(out, ref_out, atol=1e-14)
    np.testing.assert_allclose(grads[0], ref_grads[0], atol=1e-14)
    for n in grads[2]:
        np.testing.assert_allclose(grads[2][n], ref_grads[2][n], atol=1e-13)

    bf = cls(I, H, 2, bidirectional=True, batch_first=True, dtype=np.float64, **opts)
    bf.load_state_dict(layer.state_dict())
    out_bf, _, cache_bf = bf.forward(x.transpose(1, 0, 2).copy(), from_tuple(s0))
    dx_bf, _, grads_bf = bf.backward(cache_bf, g_out.transpose(1, 0, 2).copy(), from_tuple(g_state))
    np.testing.assert_allclose(out_bf, ref_out.transpose(1, 0, 2), atol=1e-14)
    np.testing.assert_allclose(dx_bf, ref_grads[0].transpose(1, 0, 2), atol=1e-14)
    for n in grads_bf:
        np.testing.assert_allclose(grads_bf[n], ref_grads[2][n], atol=1e-13)


@pytest.mark.parametrize("cls,opts,_id", CELLS[6:], ids=CELL_IDS[6:])
def test_inference_call_equals_forward(cls, opts, _id):
    layer = cls(3, 4, 2, bidirectional=True, seed=0, **opts)
    x = np.random.default_rng(0).standard_normal((5, 2, 3)).astype(np.float32)
    lengths = np.array([5, 3])
    out, state, _ = layer.forward(x, lengths=lengths)
    out2, state2 = layer(x, lengths=lengths)
    np.testing.assert_array_equal(out, out2)
    for a, b in zip(as_tuple(state), as_tuple(state2)):
        np.testing.assert_array_equal(a, b)
    assert out.dtype == np.float32


def test_dropout_is_reproducible_from_the_seed_and_off_in_inference():
    from rnnlab import LSTM

    x = np.random.default_rng(0).standard_normal((5, 2, 3)).astype(np.float32)
    a, b = (LSTM(3, 8, 3, dropout=0.5, seed=9) for _ in range(2))
    out_a = a.forward(x, training=True)[0]
    np.testing.assert_array_equal(out_a, b.forward(x, training=True)[0])
    clean = a.forward(x)[0]
    assert not np.allclose(out_a, clean)
    np.testing.assert_array_equal(clean, a(x)[0])


def test_state_dict_round_trip_and_dtype_cast():
    from rnnlab import GRU

    a = GRU(3, 4, 2, bidirectional=True, seed=0)
    b = GRU(3, 4, 2, bidirectional=True, dtype=np.float64, seed=1)
    b.load_state_dict(a.state_dict())
    assert all(p.dtype == np.float64 for p in b.params.values())
    for n, p in a.params.items():
        np.testing.assert_array_equal(b.params[n], p.astype(np.float64))
    sd = a.state_dict()
    sd["weight_ih_l0"][:] = 0  # a copy: the layer is untouched
    assert np.any(a.params["weight_ih_l0"] != 0)


def test_default_initialisation_is_pytorch_uniform():
    from rnnlab import LSTM

    H = 16
    layer = LSTM(8, H, 2, seed=0)
    k = 1 / np.sqrt(H)
    allp = np.concatenate([p.ravel() for p in layer.params.values()])
    assert np.all(np.abs(allp) <= k) and allp.max() > 0.9 * k and allp.min() < -0.9 * k
    np.testing.assert_array_equal(LSTM(8, H, 2, seed=0).params["weight_hh_l1"], layer.params["weight_hh_l1"])
