"""Oracle 1: finite differences in float64 on every parameter, the inputs and the
initial states, for every cell and activation, 1 and 2 layers, uni- and
bidirectional, with and without lengths, and with dropout between layers."""

import itertools

import numpy as np
import pytest

from core_utils import (
    CELL_IDS,
    CELLS,
    analytic,
    directional_fd,
    objective,
    random_problem,
    rel_err,
)

T, B, I, H = 5, 3, 3, 4
LENGTHS = np.array([5, 2, 4])


def _check_all_arrays(layer, lengths, training=False, rng_state=None, seed=0):
    """Directional derivative along a random direction, separately for every array."""
    rng = np.random.default_rng(seed)
    x, s0, g_out, g_state = random_problem(layer, T, B, rng, lengths)
    args = (layer, x, s0, g_out, g_state, lengths, training, rng_state)
    dx, ds0, grads = analytic(*args)
    arrays = [("x", x, dx)] + [(f"state{k}", s, d) for k, (s, d) in enumerate(zip(s0, ds0))]
    arrays += [(n, layer.params[n], grads[n]) for n in layer.params]
    for name, a, g in arrays:
        v = rng.standard_normal(a.shape)
        fd = directional_fd(lambda: objective(*args), a, v)
        assert rel_err(fd, float(np.sum(g * v))) < 1e-6, name


@pytest.mark.parametrize("cls,opts,_id", CELLS, ids=CELL_IDS)
@pytest.mark.parametrize("num_layers,bidirectional,with_lengths",
                         list(itertools.product([1, 2], [False, True], [False, True])))
def test_every_array_matches_finite_differences(cls, opts, _id, num_layers, bidirectional,
                                                with_lengths):
    layer = cls(I, H, num_layers, bidirectional=bidirectional, dtype=np.float64, seed=1, **opts)
    _check_all_arrays(layer, LENGTHS if with_lengths else None)


@pytest.mark.parametrize("cls,opts,_id", CELLS, ids=CELL_IDS)
def test_every_entry_matches_finite_differences(cls, opts, _id):
    """Coordinate by coordinate on a one-layer bidirectional layer with lengths."""
    layer = cls(2, 3, 1, bidirectional=True, dtype=np.float64, seed=2, **opts)
    rng = np.random.default_rng(3)
    lengths = np.array([4, 2])
    x, s0, g_out, g_state = random_problem(layer, 4, 2, rng, lengths)
    args = (layer, x, s0, g_out, g_state, lengths)
    dx, ds0, grads = analytic(*args)
    for a, g in [(x, dx), *zip(s0, ds0), *((layer.params[n], grads[n]) for n in layer.params)]:
        fd = np.empty_like(a)
        for idx in np.ndindex(a.shape):
            e = np.zeros_like(a)
            e[idx] = 1
            fd[idx] = directional_fd(lambda: objective(*args), a, e)
        np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("cls,opts,_id", [CELLS[0], CELLS[6], CELLS[7]], ids=CELL_IDS[:1] + CELL_IDS[6:8])
def test_dropout_between_layers_matches_finite_differences(cls, opts, _id):
    """With the same dropout masks (same generator state) the gradient is exact."""
    layer = cls(I, H, 3, dropout=0.5, dtype=np.float64, seed=4, **opts)
    _check_all_arrays(layer, None, training=True, rng_state=layer.rng.bit_generator.state)


def test_leaky_relu_and_elu_with_non_default_shape_parameters():
    from rnnlab import RNN

    for opts in ({"nonlinearity": "leaky_relu", "negative_slope": 0.3},
                 {"nonlinearity": "elu", "alpha": 0.5}):
        _check_all_arrays(RNN(I, H, dtype=np.float64, seed=5, **opts), LENGTHS)
