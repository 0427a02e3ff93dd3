"""One-step recurrent cells: forward and backward side by side, in plain NumPy."""

from rnnlab.cells._base import Cell
from rnnlab.cells.gru import GRUCell
from rnnlab.cells.lstm import LSTMCell
from rnnlab.cells.rnn import RNNCell

__all__ = ["Cell", "GRUCell", "LSTMCell", "RNNCell"]
