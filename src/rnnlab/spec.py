"""The model spec: one dataclass that describes a whole model, builds it, and is what
every checkpoint stores (so `rnnlab.load` rebuilds any model any command wrote).

    spec = ModelSpec("many_to_one", LayerSpec("gru", input_size=3, hidden_size=32),
                     output_size=5, loss="ce")
    model = spec.build()                 # a rnnlab.models.SequenceModel
    ModelSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec
    model.spec == spec                   # every Model describes itself

Schemes (rnnlab.models): many_to_one and many_to_many (SequenceModel, optionally with
token inputs through an embedding), one_to_many (OneToMany), encoder_decoder
(EncoderDecoder: `rnn` is the encoder, `decoder` the decoder, `vocab_size` the source
vocabulary, `output_size` the target vocabulary). Seeds: the stack draws from seed,
the readout from seed + 1, an embedding from seed + 2 (the decoder from seed + 3).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING

from rnnlab._checks import check_option, check_positive_int, check_range
from rnnlab.errors import DataError

if TYPE_CHECKING:
    from rnnlab.layers import _RecurrentLayer
    from rnnlab.models import Model

EMBEDDINGS = ("embedding", "onehot")


@dataclass
class LayerSpec:
    """A recurrent stack (rnnlab.RNN/LSTM/GRU)."""

    cell: str = "lstm"  # a registered cell: rnn | lstm | gru
    input_size: int = 1  # I: features per step (the embedding's dim for token inputs)
    hidden_size: int = 32  # H: units per layer and direction
    num_layers: int = 1  # stacked layers
    bidirectional: bool = False  # a reverse direction in every layer
    dropout: float = 0.0  # between layers, in training
    options: dict = field(default_factory=dict)  # the cell's own (nonlinearity, reset_after)

    def __post_init__(self):
        from rnnlab.registry import layer_class

        cell_cls = layer_class(self.cell)._cell_cls
        try:  # every option spelled out, so that equal models have equal specs
            self.options = cell_cls(**self.options).options()
        except TypeError as e:
            raise ValueError(f"options: not options of cell {self.cell!r} ({e})") from None
        for name in ("input_size", "hidden_size", "num_layers"):
            check_positive_int(name, getattr(self, name))
        check_range("dropout", self.dropout, 0.0, 1.0, hi_open=True)

    def build(self, dtype: str, seed: int | None) -> _RecurrentLayer:
        from rnnlab.registry import layer_class

        return layer_class(self.cell)(self.input_size, self.hidden_size, self.num_layers,
                                      bidirectional=self.bidirectional, dropout=self.dropout,
                                      dtype=dtype, seed=seed, **self.options)

    @classmethod
    def of(cls, layer: _RecurrentLayer) -> LayerSpec:
        """The spec of an existing layer."""
        from rnnlab.registry import cell_name

        return cls(cell_name(layer), layer.input_size, layer.hidden_size, layer.num_layers,
                   layer.bidirectional, layer.dropout, layer.cell_options)


@dataclass
class ModelSpec:
    """A whole model: scheme, recurrent stack, input, readout, loss, dtype."""

    scheme: str  # many_to_one | many_to_many | one_to_many | encoder_decoder
    rnn: LayerSpec  # the recurrent stack (the encoder of encoder_decoder)
    output_size: int  # K: readout units (classes, targets, or the target vocabulary)
    loss: str = "mse"  # mse | ce | bce | hinge (rnnlab.losses); encoder_decoder: ce
    reduction: str = "mean"  # mean | sum over targets
    embedding: str | None = None  # token inputs: 'embedding' (learned E (V, I)) | 'onehot'
    vocab_size: int | None = None  # V of the token inputs (the source vocabulary)
    pooling: str = "last"  # many_to_one: what the readout sees of the top layer's states
    cond_size: int | None = None  # one_to_many: C, the size of the conditioning input
    feedback: bool = False  # one_to_many: the previous output is fed back as input
    decoder: LayerSpec | None = None  # encoder_decoder: the decoder stack
    bos: int = 0  # encoder_decoder: the start symbol's target id
    dtype: str = "float32"  # float32 | float64
    seed: int | None = 0  # initialisation (see the module docstring)

    def __post_init__(self):
        from rnnlab.registry import scheme_class

        if isinstance(self.rnn, dict):
            self.rnn = LayerSpec(**self.rnn)
        if isinstance(self.decoder, dict):
            self.decoder = LayerSpec(**self.decoder)
        scheme_class(self.scheme)
        check_positive_int("output_size", self.output_size)
        check_option("dtype", self.dtype, ("float32", "float64"))
        if self.embedding is not None:
            check_option("embedding", self.embedding, EMBEDDINGS)
            check_positive_int("vocab_size", self.vocab_size)

    def build(self) -> Model:
        """A freshly initialised Model of this spec."""
        from rnnlab.registry import scheme_class

        return scheme_class(self.scheme).from_spec(self)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> ModelSpec:
        """The inverse of to_dict; unknown keys are an error that names them."""
        if not isinstance(d, dict):
            raise DataError(f"model spec: expected a JSON object, got {type(d).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise DataError(f"model spec: unknown fields {unknown}; expected some of "
                             f"{sorted(known)}")
        try:
            return cls(**d)
        except TypeError as e:
            raise DataError(f"model spec: {e}") from None
