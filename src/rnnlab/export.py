"""ONNX export of many-to-one and many-to-many models with ONNX's own RNN, LSTM and GRU
operators (the optional `onnx` package; onnxruntime runs the result).

The graph's inputs: "x" (T, B, I) floats, or (T, B) int64 token ids; "lengths" (B,)
int32, each sequence's real steps (ONNX's sequence_lens: the state stops at each
sequence's end and the outputs past it are zero, as rnnlab's lengths). Output "z":
(T, B, K) for many_to_many, (B, K) for many_to_one: the readout before F, as
model.forward.

Weights move to ONNX's layouts: W (D, G·H, I), R (D, G·H, H), B (D, 2·G·H) = [Wb; Rb],
gates reordered from PyTorch's (LSTM i f g o -> ONNX i o f c; GRU r z n -> ONNX z r h).
The reset-after GRU is ONNX's linear_before_reset = 1, the reset-before GRU = 0.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rnnlab.errors import UserError

_GATE_ORDER = {"lstm": [0, 3, 1, 2], "gru": [1, 0, 2], "rnn": [0]}  # PyTorch block -> ONNX
_OPS = {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN"}
_ACTIVATIONS = {"tanh": "Tanh", "relu": "Relu", "sigmoid": "Sigmoid"}
OPSET = 17


def _blocks(W: np.ndarray, order: list[int]) -> np.ndarray:
    """W's gate blocks (rows, or entries of a bias) in `order`."""
    parts = np.split(W, len(order))
    return np.concatenate([parts[i] for i in order])


def _layer_weights(rnn, layer: int, cell: str):
    """(W, R, B) of one layer, directions stacked on axis 0, in ONNX's gate order."""
    order = _GATE_ORDER[cell]
    Ws, Rs, Bs = [], [], []
    for suffix in rnn.suffixes(layer):
        p = rnn.params
        Ws.append(_blocks(p[f"weight_ih{suffix}"], order))
        Rs.append(_blocks(p[f"weight_hh{suffix}"], order))
        Bs.append(np.concatenate([_blocks(p[f"bias_ih{suffix}"], order),
                                  _blocks(p[f"bias_hh{suffix}"], order)]))
    return np.stack(Ws), np.stack(Rs), np.stack(Bs)


def _cell_attributes(rnn, cell: str) -> dict:
    options = rnn.cell_options
    if cell == "rnn":
        act = options["nonlinearity"]
        if act not in _ACTIVATIONS:
            raise UserError(f"export: ONNX's RNN operator runs tanh, relu or sigmoid, not "
                            f"{act!r}")
        return {"activations": [_ACTIVATIONS[act]] * rnn.num_directions}
    if cell == "gru":
        return {"linear_before_reset": int(options["reset_after"])}
    return {}


def to_onnx(model, path) -> Path:
    """Write `model` (a many_to_one or many_to_many SequenceModel) to an ONNX file."""
    try:
        import onnx
        from onnx import TensorProto, helper, numpy_helper
    except ImportError:
        raise UserError("export: ONNX export needs the onnx package (pip install "
                        "'rnnlab[onnx]')") from None
    from rnnlab.registry import cell_name

    spec = model.spec
    if spec.scheme not in ("many_to_one", "many_to_many"):
        raise UserError(f"export: ONNX export covers many_to_one and many_to_many models, "
                        f"got {spec.scheme}")
    rnn, cell = model.rnn, cell_name(model.rnn)
    dtype = TensorProto.DOUBLE if rnn.dtype == np.float64 else TensorProto.FLOAT
    D, H = rnn.num_directions, rnn.hidden_size
    inits, nodes = [], []

    def const(name, array):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    tokens = spec.embedding is not None
    x_in = helper.make_tensor_value_info("x", TensorProto.INT64 if tokens else dtype,
                                         ["T", "B"] if tokens else ["T", "B", rnn.input_size])
    lengths_in = helper.make_tensor_value_info("lengths", TensorProto.INT32, ["B"])
    x = "x"
    if tokens:
        table = (model.embedding.params["weight"] if spec.embedding == "embedding"
                 else np.eye(spec.vocab_size, dtype=rnn.dtype))
        nodes.append(helper.make_node("Gather", [const("embedding", table), "x"], ["x_emb"]))
        x = "x_emb"
    shape_tbf = const("shape_tbf", np.array([0, 0, D * H], np.int64))
    for layer in range(rnn.num_layers):
        W, R, B = _layer_weights(rnn, layer, cell)
        names = [const(f"W{layer}", W), const(f"R{layer}", R), const(f"B{layer}", B)]
        outputs = [f"Y{layer}", f"Y_h{layer}"]
        nodes.append(helper.make_node(
            _OPS[cell], [x, *names, "lengths"], outputs, hidden_size=H,
            direction="bidirectional" if D == 2 else "forward", **_cell_attributes(rnn, cell)))
        # Y (T, D, B, H) -> (T, B, D·H), the next layer's input
        nodes.append(helper.make_node("Transpose", [f"Y{layer}"], [f"Yt{layer}"],
                                      perm=[0, 2, 1, 3]))
        nodes.append(helper.make_node("Reshape", [f"Yt{layer}", shape_tbf], [f"out{layer}"]))
        x = f"out{layer}"
    top = rnn.num_layers - 1
    if spec.scheme == "many_to_one":  # Y_h (D, B, H) -> (B, D·H): each sequence's last step
        nodes.append(helper.make_node("Transpose", [f"Y_h{top}"], ["h_t"], perm=[1, 0, 2]))
        nodes.append(helper.make_node("Reshape", ["h_t", const("shape_bf", np.array(
            [0, D * H], np.int64))], ["h"]))
        x = "h"
    weight = model.readout.params["weight"]
    nodes.append(helper.make_node("MatMul", [x, const("readout_wT", weight.T)], ["zw"]))
    nodes.append(helper.make_node("Add", ["zw", const("readout_b", model.readout.params[
        "bias"])], ["z"]))
    z_shape = ["B", spec.output_size] if spec.scheme == "many_to_one" else [
        "T", "B", spec.output_size]
    graph = helper.make_graph(nodes, "rnnlab", [x_in, lengths_in],
                              [helper.make_tensor_value_info("z", dtype, z_shape)], inits)
    onnx_model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                   producer_name="rnnlab")
    onnx.checker.check_model(onnx_model)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(onnx_model, str(path))
    return path
