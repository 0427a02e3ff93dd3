"""The four schemes: every parameter's gradient against finite differences (float64),
the many-to-one state at each sequence's own last step, and the schemes learning."""

import numpy as np
import pytest

from rnnlab import GRU, LSTM, RNN, Batch, EncoderDecoder, OneToMany, SequenceModel
from rnnlab.readout import Embedding, OneHot

F64 = {"dtype": np.float64}


def assert_grads_match_finite_differences(model, batch, rtol=1e-6):
    _, grads, _ = model.loss_and_grads(batch)
    assert set(grads) == set(model.params)
    eps = 1e-6
    for name, p in model.params.items():
        num = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            old = p[i]
            p[i] = old + eps
            up = model.evaluate(batch)[0]
            p[i] = old - eps
            down = model.evaluate(batch)[0]
            p[i] = old
            num[i] = (up - down) / (2 * eps)
        np.testing.assert_allclose(grads[name], num, rtol=rtol, atol=1e-8, err_msg=name)


@pytest.mark.parametrize("layer", [RNN, LSTM, GRU])
def test_many_to_many_with_embedding_and_lengths(layer):
    rng = np.random.default_rng(0)
    model = SequenceModel(layer(3, 4, num_layers=2, seed=1, **F64), 5, loss="ce",
                          embedding=Embedding(5, 3, seed=2, **F64), seed=3)
    batch = Batch(rng.integers(0, 5, (6, 3)), rng.integers(0, 5, (6, 3)), lengths=np.array([6, 2, 4]))
    assert_grads_match_finite_differences(model, batch)


@pytest.mark.parametrize("loss", ["mse", "bce", "hinge"])
def test_many_to_one_bidirectional_from_own_last_step(loss):
    rng = np.random.default_rng(1)
    model = SequenceModel(GRU(2, 3, bidirectional=True, seed=1, **F64), 2, loss=loss,
                          target="last", seed=3)
    lengths = np.array([5, 3, 1])
    x = rng.standard_normal((5, 3, 2))
    y = {"mse": rng.standard_normal((3, 2)), "bce": (rng.random((3, 2)) < 0.5) * 1.0,
         "hinge": rng.choice([-1.0, 1.0], (3, 2))}[loss]
    batch = Batch(x, y, lengths=lengths)
    assert_grads_match_finite_differences(model, batch)
    # garbage past each length changes nothing: the output is read at each own last step
    x2 = x.copy()
    x2[3:, 1] = 100.0
    assert model.evaluate(Batch(x2, y, lengths))[0] == model.evaluate(batch)[0]


def test_one_to_many_with_feedback_gradients():
    rng = np.random.default_rng(2)
    model = OneToMany(LSTM(3 + 4, 4, seed=1, **F64), 3, 4, loss="ce", feedback=True, seed=2)
    batch = Batch(np.eye(3)[[0, 2]], rng.integers(0, 4, (5, 2)))
    assert_grads_match_finite_differences(model, batch)


def test_encoder_decoder_gradients():
    rng = np.random.default_rng(3)
    model = EncoderDecoder(GRU(3, 4, seed=1, **F64), GRU(2, 4, seed=2, **F64), 5, 6, seed=3)
    y = rng.integers(1, 6, (4, 3))
    mask = np.ones((4, 3), bool)
    mask[2:, 1] = False
    y[~mask] = -1
    batch = Batch(rng.integers(0, 5, (5, 3)), y, lengths=np.array([5, 2, 3]), mask=mask)
    assert_grads_match_finite_differences(model, batch)


def test_scheme_errors_name_the_argument():
    with pytest.raises(ValueError, match="embedding: its dim 4 must equal"):
        SequenceModel(RNN(3, 4), 2, embedding=OneHot(4))
    with pytest.raises(ValueError, match="rnn: input_size must be cond_size \\+ output_size = 7"):
        OneToMany(RNN(3, 4), 3, 4, feedback=True)
    with pytest.raises(ValueError, match="encoder: expected a unidirectional"):
        EncoderDecoder(GRU(3, 4, bidirectional=True), GRU(3, 4), 5, 5)
    with pytest.raises(ValueError, match="decoder: expected the encoder's cell type"):
        EncoderDecoder(GRU(3, 4), LSTM(3, 4), 5, 5)
