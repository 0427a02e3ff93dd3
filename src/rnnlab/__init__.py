"""rnnlab: Elman RNNs, LSTMs and GRUs with exact hand-written backpropagation through time."""

from rnnlab._malloc import keep_freed_memory
from rnnlab.activations import ACTIVATIONS, Activation
from rnnlab.cells import Cell, GRUCell, LSTMCell, RNNCell
from rnnlab.checkpoint import load
from rnnlab.interop import from_torch, from_torch_state_dict, to_torch, to_torch_state_dict
from rnnlab.layers import GRU, LSTM, RNN
from rnnlab.models import Batch, EncoderDecoder, Model, OneToMany, SequenceModel
from rnnlab.optim import SGD, Adagrad, Adam, RMSprop, Schedule
from rnnlab.readout import Embedding, OneHot, Readout
from rnnlab.spec import LayerSpec, ModelSpec
from rnnlab.stepper import Stepper

keep_freed_memory()  # a step's freed temporaries reused by the next (rnnlab._malloc)

__version__ = "0.1.0"

__all__ = [
    "ACTIVATIONS",
    "GRU",
    "LSTM",
    "RNN",
    "SGD",
    "Activation",
    "Adagrad",
    "Adam",
    "Batch",
    "Cell",
    "Embedding",
    "EncoderDecoder",
    "GRUCell",
    "LSTMCell",
    "LayerSpec",
    "Model",
    "ModelSpec",
    "OneHot",
    "OneToMany",
    "RMSprop",
    "RNNCell",
    "Readout",
    "Schedule",
    "SequenceModel",
    "Stepper",
    "from_torch",
    "from_torch_state_dict",
    "load",
    "to_torch",
    "to_torch_state_dict",
]
