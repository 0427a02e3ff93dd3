"""Weights and whole models to and from PyTorch. Names, shapes and gate order are
already PyTorch's, so conversion is only a change of array type; torch is imported on
use.

`to_torch(layer)` gives torch.nn.RNN/LSTM/GRU; `to_torch(model)` gives a torch.nn.Module
of the whole model (embedding, recurrent stack, readout) whose forward returns the same
z (the readout's output before F, i.e. logits for "ce") as rnnlab's:

    SequenceModel   forward(x, lengths=None)   x (T, B, I) floats or (T, B) token ids;
                                               lengths through pack_padded_sequence
    OneToMany       forward(x, y)              x (B, C); y the targets fed back (teacher forcing)
    EncoderDecoder  forward(x, lengths, y)     source ids (S, B), target ids (T, B) (teacher forcing)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from rnnlab.layers import _RecurrentLayer

if TYPE_CHECKING:
    import torch
    from numpy.typing import DTypeLike

    from rnnlab.models import Model


def to_torch_state_dict(state: dict[str, np.ndarray]) -> dict:
    """NumPy arrays -> torch tensors (same dtype, copied)."""
    import torch

    return {n: torch.from_numpy(np.array(a, copy=True)) for n, a in state.items()}


def from_torch_state_dict(state: dict) -> dict[str, np.ndarray]:
    """torch tensors (any device) -> NumPy arrays."""
    return {n: t.detach().cpu().numpy().copy() for n, t in state.items()}


def from_torch(module: torch.nn.Module, dtype: DTypeLike | None = None) -> _RecurrentLayer:
    """An rnnlab layer with the configuration and weights of a torch.nn.RNN/LSTM/GRU."""
    from rnnlab.registry import LAYERS

    kind = type(module).__name__
    if kind.lower() not in LAYERS:
        raise TypeError(f"module: expected torch.nn.RNN, LSTM or GRU, got {kind}")
    if not module.bias or getattr(module, "proj_size", 0):
        raise ValueError("module: bias=False and proj_size > 0 are not supported")
    options = {"nonlinearity": module.nonlinearity} if kind == "RNN" else {}
    sd = from_torch_state_dict(module.state_dict())
    layer = LAYERS[kind.lower()](
        module.input_size, module.hidden_size, module.num_layers,
        bidirectional=module.bidirectional, dropout=module.dropout,
        batch_first=module.batch_first, dtype=dtype or next(iter(sd.values())).dtype, **options,
    )
    layer.load_state_dict(sd)
    return layer


def to_torch(obj: _RecurrentLayer | Model) -> torch.nn.Module:
    """A torch.nn.Module with the configuration and weights of an rnnlab layer or model
    (see the module docstring)."""
    from rnnlab.models import Model

    if isinstance(obj, Model):
        from rnnlab._torch_models import torch_model

        return torch_model(obj)
    return _torch_layer(obj)


def _torch_layer(layer: _RecurrentLayer):
    import torch

    kind = type(layer).__name__
    options = {}
    if kind == "RNN":
        if layer.cell.act.name not in ("tanh", "relu"):
            raise ValueError(f"layer: torch.nn.RNN has no {layer.cell.act.name!r} nonlinearity")
        options["nonlinearity"] = layer.cell.act.name
    if kind == "GRU" and not layer.cell.reset_after:
        raise ValueError("layer: torch.nn.GRU computes the reset-after GRU only")
    module = getattr(torch.nn, kind)(
        layer.input_size, layer.hidden_size, layer.num_layers, bidirectional=layer.bidirectional,
        dropout=layer.dropout, batch_first=layer.batch_first, **options,
    ).to(torch.float64 if layer.dtype == np.float64 else torch.float32)
    module.load_state_dict(to_torch_state_dict(layer.params))
    return module
