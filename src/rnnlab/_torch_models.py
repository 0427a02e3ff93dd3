"""rnnlab models as torch.nn.Modules (rnnlab.interop.to_torch); imported only with torch."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnnlab.interop import _torch_layer, to_torch_state_dict
from rnnlab.models import EncoderDecoder, OneToMany, SequenceModel
from rnnlab.readout import Embedding, OneHot


def _linear(readout, dtype) -> nn.Linear:
    lin = nn.Linear(readout.hidden_size, readout.output_size).to(dtype)
    lin.load_state_dict(to_torch_state_dict(readout.params))
    return lin


def _embedding(emb, dtype) -> nn.Embedding:
    module = nn.Embedding(emb.vocab_size, emb.dim).to(dtype)
    module.load_state_dict(to_torch_state_dict(emb.params))
    return module


def _run(rnn: nn.Module, x, lengths, state=None):
    """(output (T, B, D·H) zero past each length, final state) as rnnlab's layers."""
    if lengths is None:
        return rnn(x, state)
    packed = pack_padded_sequence(x, torch.as_tensor(lengths, dtype=torch.int64).cpu(),
                                  enforce_sorted=False)
    out, final = rnn(packed, state)
    return pad_packed_sequence(out, total_length=x.shape[0])[0], final


class TorchSequenceModel(nn.Module):
    def __init__(self, model: SequenceModel):
        super().__init__()
        self.dtype = torch.float64 if model.rnn.dtype == np.float64 else torch.float32
        emb = model.embedding
        self.vocab_size = emb.vocab_size if isinstance(emb, OneHot) else None
        self.embedding = _embedding(emb, self.dtype) if isinstance(emb, Embedding) else None
        self.rnn = _torch_layer(model.rnn)
        self.readout = _linear(model.readout, self.dtype)
        self.each, self.D = model.target == "each", model.rnn.num_directions

    def forward(self, x, lengths=None):
        if self.vocab_size is not None:
            x = nn.functional.one_hot(x, self.vocab_size).to(self.dtype)
        elif self.embedding is not None:
            x = self.embedding(x)
        out, final = _run(self.rnn, x, lengths)
        if self.each:
            return self.readout(out)  # (T, B, K)
        h_n = final[0] if isinstance(final, tuple) else final  # (L·D, B, H)
        return self.readout(torch.cat(list(h_n[-self.D:]), dim=-1))  # (B, K)


class TorchOneToMany(nn.Module):
    def __init__(self, model: OneToMany):
        super().__init__()
        self.dtype = torch.float64 if model.rnn.dtype == np.float64 else torch.float32
        self.rnn = _torch_layer(model.rnn)
        self.readout = _linear(model.readout, self.dtype)
        self.C, self.K = model.cond_size, model.readout.output_size
        self.feedback, self.ce = model.feedback, model.loss == "ce"

    def forward(self, x, y):
        T, B = y.shape[0], x.shape[0]
        inp = torch.zeros(T, B, self.rnn.input_size, dtype=self.dtype)
        inp[0, :, : self.C] = x
        if self.feedback:
            prev = y[:-1]
            if self.ce:
                prev = nn.functional.one_hot(prev.clamp(min=0), self.K).to(self.dtype)
            inp[1:, :, self.C :] = prev
        return self.readout(self.rnn(inp)[0])  # (T, B, K)


class TorchEncoderDecoder(nn.Module):
    def __init__(self, model: EncoderDecoder):
        super().__init__()
        dtype = torch.float64 if model.encoder.dtype == np.float64 else torch.float32
        self.src_embedding = _embedding(model.src_embedding, dtype)
        self.tgt_embedding = _embedding(model.tgt_embedding, dtype)
        self.encoder, self.decoder = _torch_layer(model.encoder), _torch_layer(model.decoder)
        self.readout = _linear(model.readout, dtype)
        self.bos = model.bos

    def forward(self, x, lengths, y):
        _, state = _run(self.encoder, self.src_embedding(x), lengths)
        prev = torch.cat([torch.full_like(y[:1], self.bos), y[:-1]])
        prev = torch.where(prev < 0, torch.full_like(prev, self.bos), prev)
        out, _ = self.decoder(self.tgt_embedding(prev), state)
        return self.readout(out)  # (T, B, V)


_MODULES = {SequenceModel: TorchSequenceModel, OneToMany: TorchOneToMany,
            EncoderDecoder: TorchEncoderDecoder}


def torch_model(model) -> nn.Module:
    return _MODULES[type(model)](model).eval()
