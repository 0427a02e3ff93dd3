"""Oracle 2: PyTorch. Outputs, final states and every gradient (parameters, inputs,
initial states) equal torch.nn.RNN/LSTM/GRU and their Cell versions, including two
layers, bidirectional and packed (variable-length) batches; the reset-before GRU
and the activations torch lacks against a small torch autograd loop."""

import numpy as np
import pytest
import torch

import rnnlab
from core_utils import as_tuple, from_tuple, random_problem
from rnnlab import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell

TOL = {np.float32: 1e-5, np.float64: 1e-10}
TORCH_DTYPE = {np.float32: torch.float32, np.float64: torch.float64}


def _torch_run(module, x, s0, lengths, g_out, g_state):
    """Run a torch module on numpy inputs; return outputs, states and all gradients."""
    xt = torch.tensor(x, requires_grad=True)
    st = [torch.tensor(s, requires_grad=True) for s in s0]
    inp = xt
    if lengths is not None:
        inp = torch.nn.utils.rnn.pack_padded_sequence(
            xt, torch.tensor(lengths), batch_first=module.batch_first, enforce_sorted=False)
    out, state = module(inp, from_tuple(tuple(st)))
    if lengths is not None:
        out, _ = torch.nn.utils.rnn.pad_packed_sequence(
            out, batch_first=module.batch_first, total_length=x.shape[1 if module.batch_first else 0])
    state = as_tuple(state)
    loss = (out * torch.tensor(g_out)).sum() + sum(
        (s * torch.tensor(g)).sum() for s, g in zip(state, g_state))
    loss.backward()
    grads = {n: p.grad.numpy() for n, p in module.named_parameters()}
    return (out.detach().numpy(), [s.detach().numpy() for s in state], xt.grad.numpy(),
            [s.grad.numpy() for s in st], grads)


def _assert_close(a, b, tol, what):
    assert a.dtype == b.dtype, what
    assert np.max(np.abs(a - b)) < tol, f"{what}: max abs difference {np.max(np.abs(a - b))}"


LAYERS = [(RNN, "RNN", {"nonlinearity": "tanh"}), (RNN, "RNN", {"nonlinearity": "relu"}),
          (LSTM, "LSTM", {}), (GRU, "GRU", {})]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cls,kind,opts", LAYERS, ids=["rnn-tanh", "rnn-relu", "lstm", "gru"])
@pytest.mark.parametrize("seed,num_layers,bidirectional,batch_first,packed",
                         [(0, 1, False, False, True), (1, 2, True, False, False),
                          (2, 1, True, True, True), (3, 2, True, False, True)])
def test_layer_equals_torch(cls, kind, opts, dtype, seed, num_layers, bidirectional, batch_first,
                            packed):
    """Random sizes and seeds; packed inputs through pack_padded_sequence."""
    rng = np.random.default_rng(seed)
    T, B, I, H = (int(rng.integers(1, n)) for n in (9, 6, 6, 9))
    torch.manual_seed(seed)
    module = getattr(torch.nn, kind)(I, H, num_layers, bidirectional=bidirectional,
                                     batch_first=batch_first, **opts).to(TORCH_DTYPE[dtype])
    layer = rnnlab.from_torch(module)
    assert isinstance(layer, cls) and layer.dtype == dtype
    lengths = rng.integers(1, T + 1, B) if packed else None
    if packed:
        lengths[0] = T
    x, s0, g_out, g_state = random_problem(layer, T, B, rng, lengths, dtype)
    out_t, state_t, dx_t, ds0_t, grads_t = _torch_run(module, x, s0, lengths, g_out, g_state)

    out, state, cache = layer.forward(x, from_tuple(s0), lengths)
    dx, ds0, grads = layer.backward(cache, g_out, from_tuple(g_state))
    tol = TOL[dtype]
    _assert_close(out, out_t, tol, "output")
    for a, b in zip(as_tuple(state), state_t):
        _assert_close(a, b, tol, "final state")
    _assert_close(dx, dx_t, tol, "d input")
    for a, b in zip(as_tuple(ds0), ds0_t):
        _assert_close(a, b, tol, "d initial state")
    assert list(grads) == list(grads_t)
    for n in grads:
        _assert_close(grads[n], grads_t[n], tol, n)


def test_torch_round_trip_keeps_weights_and_outputs():
    layer = LSTM(3, 5, 2, bidirectional=True, seed=0)
    module = rnnlab.to_torch(layer)
    back = rnnlab.from_torch(module)
    for n, p in layer.params.items():
        np.testing.assert_array_equal(back.params[n], p)
    x = np.random.default_rng(0).standard_normal((6, 2, 3)).astype(np.float32)
    out_t, _ = module(torch.from_numpy(x))
    np.testing.assert_allclose(layer(x)[0], out_t.detach().numpy(), atol=1e-5)


CELLS = [(RNNCell, "RNNCell", {"nonlinearity": "tanh"}), (RNNCell, "RNNCell", {"nonlinearity": "relu"}),
         (LSTMCell, "LSTMCell", {}), (GRUCell, "GRUCell", {})]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cls,kind,opts", CELLS, ids=["rnn-tanh", "rnn-relu", "lstm", "gru"])
def test_cell_equals_torch_cell(cls, kind, opts, dtype):
    rng = np.random.default_rng(7)
    B, I, H = 4, 3, 5
    torch.manual_seed(0)
    module = getattr(torch.nn, kind)(I, H, **opts).to(TORCH_DTYPE[dtype])
    params = tuple(p.detach().numpy() for p in module.parameters())  # W_ih, W_hh, b_ih, b_hh
    cell = cls(**opts)
    n_state = len(cell.state_names)
    x = rng.standard_normal((B, I)).astype(dtype)
    s0 = tuple(rng.standard_normal((B, H)).astype(dtype) for _ in range(n_state))
    g = tuple(rng.standard_normal((B, H)).astype(dtype) for _ in range(n_state))

    xt = torch.tensor(x, requires_grad=True)
    st = [torch.tensor(s, requires_grad=True) for s in s0]
    new_t = as_tuple(module(xt, from_tuple(tuple(st))))
    sum((s * torch.tensor(gi)).sum() for s, gi in zip(new_t, g)).backward()

    new, aux = cell.forward(x, s0, params)
    dx, ds0, dparams = cell.backward(g, aux, x, s0, new, params)
    tol = TOL[dtype]
    for a, b in zip(new, new_t):
        _assert_close(a, b.detach().numpy(), tol, "state")
    _assert_close(dx, xt.grad.numpy(), tol, "dx")
    for a, b in zip(ds0, st):
        _assert_close(a, b.grad.numpy(), tol, "d state")
    for a, p in zip(dparams, module.parameters()):
        _assert_close(a, p.grad.numpy(), tol, "parameter")


def _torch_activation(name, a):
    return {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu,
            "leaky_relu": lambda v: torch.nn.functional.leaky_relu(v, 0.05),
            "elu": lambda v: torch.nn.functional.elu(v, 0.7), "identity": lambda v: v}[name](a)


def _torch_loop(kind, opts, p, x, h0):
    """A reference written directly from the equations, differentiated by torch."""
    W_ih, W_hh, b_ih, b_hh = p
    h, outs = h0, []
    for t in range(x.shape[0]):
        if kind == "rnn":
            h = _torch_activation(opts["nonlinearity"], x[t] @ W_ih.T + b_ih + h @ W_hh.T + b_hh)
        else:  # reset-before GRU (Cho et al. 2014)
            xr, xz, xn = (x[t] @ W_ih.T + b_ih).chunk(3, 1)
            Wr, Wz, Wn = W_hh.chunk(3, 0)
            br, bz, bn = b_hh.chunk(3, 0)
            r = torch.sigmoid(xr + h @ Wr.T + br)
            z = torch.sigmoid(xz + h @ Wz.T + bz)
            n = torch.tanh(xn + (r * h) @ Wn.T + bn)
            h = (1 - z) * n + z * h
        outs.append(h)
    return torch.stack(outs), h


EXTRA = [("rnn", RNN, {"nonlinearity": a, "negative_slope": 0.05, "alpha": 0.7})
         for a in ("sigmoid", "leaky_relu", "elu", "identity")]
EXTRA += [("gru", GRU, {"reset_after": False})]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind,cls,opts", EXTRA, ids=[e[2].get("nonlinearity", "gru-before") for e in EXTRA])
def test_cells_torch_lacks_equal_autograd_loop(kind, cls, opts, dtype):
    rng = np.random.default_rng(11)
    T, B, I, H = 6, 3, 4, 5
    layer = cls(I, H, dtype=dtype, seed=3, **opts)
    x, s0, g_out, g_state = random_problem(layer, T, B, rng, None, dtype)
    p = [torch.tensor(layer.params[f"{n}_l0"], requires_grad=True)
         for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    xt = torch.tensor(x, requires_grad=True)
    h0 = torch.tensor(s0[0][0], requires_grad=True)
    out_t, h_t = _torch_loop(kind, opts, p, xt, h0)
    ((out_t * torch.tensor(g_out)).sum() + (h_t * torch.tensor(g_state[0][0])).sum()).backward()

    out, _h_n, cache = layer.forward(x, s0[0])
    dx, dh0, grads = layer.backward(cache, g_out, g_state[0])
    tol = TOL[dtype]
    _assert_close(out, out_t.detach().numpy(), tol, "output")
    _assert_close(dx, xt.grad.numpy(), tol, "dx")
    _assert_close(dh0[0], h0.grad.numpy(), tol, "dh0")
    for n, pt in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), p):
        _assert_close(grads[f"{n}_l0"], pt.grad.numpy(), tol, n)
