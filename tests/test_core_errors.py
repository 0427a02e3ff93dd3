"""Every bad input raises an error whose message names the argument, what was
expected and what came."""

import numpy as np
import pytest

from rnnlab import GRU, LSTM, RNN, Activation

X = np.zeros((5, 2, 3), np.float32)


def test_wrong_rank_and_size_of_x():
    layer = LSTM(3, 4)
    with pytest.raises(ValueError, match=r"x: expected shape \(\*, \*, 3\), got \(5, 2\)"):
        layer.forward(X[:, :, 0])
    with pytest.raises(ValueError, match=r"x: expected shape \(\*, \*, 3\), got \(5, 2, 4\)"):
        layer.forward(np.zeros((5, 2, 4), np.float32))
    with pytest.raises(ValueError, match="x: expected at least one step"):
        layer.forward(np.zeros((0, 2, 3), np.float32))
    with pytest.raises(TypeError, match="x: expected a numpy array, got list"):
        layer.forward(X.tolist())


def test_dtype_mismatch_names_the_argument():
    with pytest.raises(TypeError, match="x: expected dtype float32, got float64"):
        LSTM(3, 4).forward(X.astype(np.float64))
    with pytest.raises(TypeError, match="dtype: expected float32 or float64, got int32"):
        RNN(3, 4, dtype=np.int32)
    with pytest.raises(TypeError, match=r"state h: expected dtype float64, got float32"):
        GRU(3, 4, dtype=np.float64).forward(X.astype(np.float64), np.zeros((1, 2, 4), np.float32))


def test_state_shape_and_arity():
    layer = LSTM(3, 4, 2, bidirectional=True)
    h = np.zeros((4, 2, 4), np.float32)
    with pytest.raises(ValueError, match=r"state c: expected shape \(4, 2, 4\), got \(2, 2, 4\)"):
        layer.forward(X, (h, h[:2]))
    with pytest.raises(ValueError, match=r"state: expected \(h, c\), got 1 arrays"):
        layer.forward(X, (h,))
    with pytest.raises(ValueError, match=r"state h: expected shape \(1, 2, 4\), got \(4, 2, 4\)"):
        RNN(3, 4).forward(X, h)


def test_non_finite_inputs_and_parameters():
    bad = X.copy()
    bad[2, 1, 0] = np.nan
    with pytest.raises(ValueError, match=r"x: expected finite values, got nan at index \(2, 1, 0\)"):
        RNN(3, 4).forward(bad)
    layer = GRU(3, 4)
    layer.params["weight_hh_l0"][0, 0] = np.inf
    with pytest.raises(ValueError, match="parameter weight_hh_l0: expected finite values, got inf"):
        layer.forward(X)


def test_lengths_out_of_range_or_not_matching_the_batch():
    layer = RNN(3, 4)
    with pytest.raises(ValueError, match=r"lengths: expected shape \(2,\) .*got \(3,\)"):
        layer.forward(X, lengths=[5, 5, 5])
    with pytest.raises(ValueError, match=r"lengths: expected values in \[1, 5\].*max 6"):
        layer.forward(X, lengths=[6, 1])
    with pytest.raises(ValueError, match=r"lengths: expected values in \[1, 5\].*min 0"):
        layer.forward(X, lengths=[0, 1])
    with pytest.raises(TypeError, match="lengths: expected integers, got dtype float64"):
        layer.forward(X, lengths=[2.5, 1])


def test_unknown_activation_and_options_out_of_range():
    with pytest.raises(ValueError, match="nonlinearity: expected one of 'tanh'.*got 'softsign'"):
        RNN(3, 4, nonlinearity="softsign")
    with pytest.raises(ValueError, match=r"negative_slope: expected a finite number in \(0, ∞\), got -1"):
        Activation("leaky_relu", negative_slope=-1)
    with pytest.raises(ValueError, match=r"dropout: expected a finite number in \[0, 1\), got 1.5"):
        LSTM(3, 4, dropout=1.5)
    with pytest.raises(ValueError, match="hidden_size: expected an integer >= 1, got 0"):
        LSTM(3, 0)
    with pytest.raises(TypeError, match=r"reset_after: not an option of LSTM \(its options: none\)"):
        LSTM(3, 4, reset_after=True)
    with pytest.raises(TypeError, match="nonlinear: not an option of RNN .*nonlinearity"):
        RNN(3, 4, nonlinear="tanh")


def test_backward_checks_its_gradients():
    layer = LSTM(3, 4)
    out, _, cache = layer.forward(X)
    with pytest.raises(ValueError, match=r"d_output: expected shape \(5, 2, 4\), got \(5, 2, 3\)"):
        layer.backward(cache, np.zeros((5, 2, 3), np.float32))
    with pytest.raises(TypeError, match="cache: expected the Cache returned by forward, got tuple"):
        layer.backward((1, 2), out)


def test_load_state_dict_is_strict():
    layer = LSTM(3, 4)
    sd = layer.state_dict()
    with pytest.raises(KeyError, match=r"missing keys \['bias_hh_l0'\], unexpected keys \['extra'\]"):
        layer.load_state_dict({**{k: v for k, v in sd.items() if k != "bias_hh_l0"}, "extra": 1})
    sd["weight_hh_l0"] = np.zeros((16, 5))
    with pytest.raises(ValueError, match=r"state_dict\['weight_hh_l0'\]: expected shape \(16, 4\), got \(16, 5\)"):
        layer.load_state_dict(sd)
