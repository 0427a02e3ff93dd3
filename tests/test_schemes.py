"""The four schemes: every parameter's gradient against finite differences (float64),
the many-to-one state at each sequence's own last step, and the schemes learning."""

import numpy as np
import pytest

from core_utils import assert_grads_match_finite_differences
from rnnlab import GRU, LSTM, RNN, Batch, EncoderDecoder, OneToMany, SequenceModel
from rnnlab.readout import Embedding, OneHot

F64 = {"dtype": np.float64}


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


# ---- learning, seeded and small ----------------------------------------------------------

def test_lstm_learns_the_adding_problem_T20():
    from rnnlab._demo import run_demo

    assert run_demo(steps=600, T=20, seed=0, echo=lambda s: None) < 0.01


def reverse_batch(rng, B, max_len=5):
    """Digit strings of length 2..max_len and their reversal (padding -1, masked)."""
    lengths = rng.integers(2, max_len + 1, B)
    x = rng.integers(0, 10, (max_len, B))
    y = np.full((max_len, B), -1)
    for b, n in enumerate(lengths):
        y[:n, b] = x[:n, b][::-1]
    return Batch(x, y, lengths=lengths, mask=y >= 0)


def test_gru_encoder_decoder_learns_to_reverse_digit_strings():
    from rnnlab.optim import Schedule
    from rnnlab.train import FullBPTT, TrainConfig, Trainer

    model = EncoderDecoder(GRU(8, 32, seed=0), GRU(8, 32, seed=1), 10, 11, bos=10, seed=2)
    cfg = TrainConfig(steps=2500, lr=0.01, clip_threshold=5.0,
                      schedule=Schedule("cosine", total=2500, min_lr=5e-4))
    data = FullBPTT(model, lambda n: reverse_batch(np.random.default_rng([1, n]), 32))
    Trainer(model, data, cfg).fit()
    test = reverse_batch(np.random.default_rng(999), 1000)
    pred = model.greedy_decode(test.x, test.lengths, steps=5)  # (5, B)
    sequence_accuracy = np.all((pred == test.y) | ~test.mask, axis=0).mean()
    assert sequence_accuracy > 0.95


@pytest.mark.parametrize("feedback", [True, False])
def test_one_to_many_emits_a_fixed_sequence_from_a_one_hot(feedback):
    from rnnlab.train import FullBPTT, TrainConfig, Trainer

    seqs = np.array([[1, 2, 3, 4, 0, 1, 2, 3], [4, 4, 3, 3, 2, 2, 1, 1], [0, 2, 4, 1, 3, 0, 2, 4]])
    model = OneToMany(GRU(3 + 5 * feedback, 16, seed=0), 3, 5, loss="ce", feedback=feedback,
                      seed=1)
    batch = Batch(np.eye(3, dtype=np.float32), seqs.T)
    Trainer(model, FullBPTT(model, lambda n: batch), TrainConfig(steps=300, lr=0.02)).fit()
    generated = model.generate(np.eye(3, dtype=np.float32), 8).argmax(-1)  # (8, 3)
    assert np.array_equal(generated.T, seqs)
