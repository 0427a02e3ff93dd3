"""Issue 12: the model spec (JSON round trip for every cell, scheme and option), save and
rnnlab.load, whole-model export to PyTorch (outputs and gradients) and to ONNX (under
onnxruntime), and the export command."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

import rnnlab
from rnnlab.checkpoint import CheckpointError
from rnnlab.cli import app
from rnnlab.spec import LayerSpec, ModelSpec

T, B = 7, 4
LENGTHS = np.array([7, 3, 5, 1])
CELLS = [("rnn", {"nonlinearity": "tanh"}), ("rnn", {"nonlinearity": "relu"}), ("lstm", {}),
         ("gru", {"reset_after": True}), ("gru", {"reset_after": False})]


def sequence_specs():
    for cell, options in CELLS:
        for scheme in ("many_to_one", "many_to_many"):
            for bidirectional in (False, True):
                for embedding in (None, "embedding", "onehot"):
                    I = 6 if embedding == "onehot" else 5
                    yield ModelSpec(scheme, LayerSpec(cell, I, 6, 2, bidirectional, 0.1, options),
                                    3, "ce", embedding=embedding,
                                    vocab_size=6 if embedding else None, dtype="float64", seed=3)


OTHER_SPECS = [
    ModelSpec("one_to_many", LayerSpec("lstm", 4 + 3, 5), 3, "ce", cond_size=4, feedback=True),
    ModelSpec("one_to_many", LayerSpec("gru", 4, 5, 2), 2, "mse", cond_size=4, dtype="float64"),
    ModelSpec("encoder_decoder", LayerSpec("lstm", 4, 6, 2), 9, "ce", embedding="embedding",
              vocab_size=7, decoder=LayerSpec("lstm", 4, 6, 2), bos=1, dtype="float64"),
]
ALL_SPECS = [*sequence_specs(), *OTHER_SPECS]


def inputs(spec, rng):
    if spec.scheme == "encoder_decoder":
        return {"x": rng.integers(0, spec.vocab_size, (T, B)), "lengths": LENGTHS,
                "y": rng.integers(0, spec.output_size, (5, B))}
    if spec.scheme == "one_to_many":
        y = (rng.integers(0, 3, (5, B)) if spec.loss == "ce"
             else rng.standard_normal((5, B, spec.output_size)))
        return {"x": rng.standard_normal((B, spec.cond_size)), "y": y}
    x = (rng.integers(0, spec.vocab_size, (T, B)) if spec.embedding
         else rng.standard_normal((T, B, spec.rnn.input_size)))
    return {"x": x, "lengths": LENGTHS}


def rnnlab_z(model, spec, d):
    """The readout's output z, as model.forward gives it for each scheme."""
    if spec.scheme == "encoder_decoder":
        return _ed_z(model, d)
    if spec.scheme == "one_to_many":
        out, _, _ = model.rnn.forward(model._inputs(d["x"], d["y"]))
        return model.readout.forward(out)[0]
    return model.forward(d["x"], None, d["lengths"])[0]


def _ed_z(model, d):
    y = d["y"]
    prev = np.concatenate([np.full((1, B), model.bos), y[:-1]])
    xs, _ = model.src_embedding.forward(d["x"])
    _, state, _ = model.encoder.forward(xs, None, d["lengths"])
    out, _, _ = model.decoder.forward(model.tgt_embedding.forward(prev)[0], state)
    return model.readout.forward(out)[0]


@pytest.mark.parametrize("spec", ALL_SPECS, ids=lambda s: f"{s.scheme}-{s.rnn.cell}")
def test_spec_json_round_trip_builds_the_same_model(spec, tmp_path):
    again = ModelSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    assert again == spec
    model = spec.build()
    assert model.spec == spec  # a model describes itself
    model.save(tmp_path / "m.safetensors", meta={"note": "x"})
    loaded = rnnlab.load(tmp_path / "m.safetensors")
    assert loaded.spec == spec and type(loaded) is type(model)
    for name, p in model.params.items():
        np.testing.assert_array_equal(loaded.params[name], p, err_msg=name)


def test_spec_errors_name_the_field():
    with pytest.raises(ValueError, match="cell: expected one of rnn, lstm, gru, got 'cnn'"):
        LayerSpec("cnn")
    with pytest.raises(ValueError, match="unknown fields \\['hidden'\\]"):
        ModelSpec.from_dict({"scheme": "many_to_one", "rnn": {}, "output_size": 2, "hidden": 3})
    with pytest.raises(ValueError, match="options: not options of cell 'lstm'"):
        LayerSpec("lstm", options={"nonlinearity": "relu"})
    with pytest.raises(ValueError, match="scheme: expected one of"):
        ModelSpec("one_to_one", LayerSpec(), 2)


def test_load_refuses_corrupt_missing_and_foreign_files(tmp_path):
    model = OTHER_SPECS[0].build()
    path = model.save(tmp_path / "m.safetensors")
    raw = bytearray(path.read_bytes())
    raw[-3] ^= 0xFF  # a flipped byte inside the tensor data
    (tmp_path / "bad.safetensors").write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match="bad.safetensors.*corrupted"):
        rnnlab.load(tmp_path / "bad.safetensors")
    with pytest.raises(CheckpointError, match="no such file or folder"):
        rnnlab.load(tmp_path / "none")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CheckpointError, match="holds no checkpoint"):
        rnnlab.load(tmp_path / "empty")
    (tmp_path / "text.safetensors").write_text("hello")
    with pytest.raises(CheckpointError, match="text.safetensors: unreadable"):
        rnnlab.load(tmp_path / "text.safetensors")


# ---- PyTorch ------------------------------------------------------------------------

TORCH_SPECS = [s for s in ALL_SPECS
               if not (s.rnn.cell == "gru" and not s.rnn.options["reset_after"])]


@pytest.mark.parametrize("spec", TORCH_SPECS, ids=lambda s: f"{s.scheme}-{s.rnn.cell}")
def test_to_torch_model_equals_rnnlab(spec):
    torch = pytest.importorskip("torch")
    model = spec.build()
    d = inputs(spec, np.random.default_rng(1))
    z = rnnlab_z(model, spec, d)
    module = rnnlab.to_torch(model)
    cast = np.float64 if spec.dtype == "float64" else np.float32
    args = {k: v if k == "lengths" else torch.from_numpy(
        v.astype(cast) if v.dtype.kind == "f" else v) for k, v in d.items()}
    with torch.no_grad():
        zt = module(**args).numpy()
    if spec.scheme in ("many_to_many",):  # past each length rnnlab's z is the bias alone
        mask = (np.arange(T)[:, None] < LENGTHS)[..., None]
        z, zt = z * mask, zt * mask
    tol = 1e-9 if spec.dtype == "float64" else 1e-5
    np.testing.assert_allclose(zt, z, rtol=tol, atol=tol)


def test_to_torch_gradients_equal_rnnlab():
    torch = pytest.importorskip("torch")
    spec = ModelSpec("many_to_one", LayerSpec("lstm", 5, 6, 2, True), 3, "ce",
                     dtype="float64", seed=0)
    model = spec.build()
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((T, B, 5)), rng.integers(0, 3, B)
    loss, grads, _ = model.loss_and_grads(rnnlab.Batch(x, y, LENGTHS))
    module = rnnlab.to_torch(model)
    zt = module(torch.from_numpy(x), LENGTHS)
    lt = torch.nn.functional.cross_entropy(zt, torch.from_numpy(y))
    lt.backward()
    assert lt.item() == pytest.approx(loss, rel=1e-12)
    named = dict(module.named_parameters())
    for name, g in grads.items():
        np.testing.assert_allclose(named[name].grad.numpy(), g, rtol=1e-9, atol=1e-12,
                                   err_msg=name)


# ---- ONNX ---------------------------------------------------------------------------

@pytest.mark.parametrize("spec", list(sequence_specs()), ids=lambda s: f"{s.scheme}-{s.rnn.cell}")
def test_onnx_export_equals_rnnlab_under_onnxruntime(spec, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    from rnnlab.export import to_onnx

    spec = ModelSpec.from_dict({**spec.to_dict(), "dtype": "float32"})
    model = spec.build()
    d = inputs(spec, np.random.default_rng(3))
    x = d["x"] if spec.embedding else d["x"].astype(np.float32)
    z = model.forward(x, None, LENGTHS)[0]
    session = ort.InferenceSession(str(to_onnx(model, tmp_path / "m.onnx")))
    zo = session.run(None, {"x": x, "lengths": LENGTHS.astype(np.int32)})[0]
    if spec.scheme == "many_to_many":
        mask = (np.arange(T)[:, None] < LENGTHS)[..., None]
        z, zo = z * mask, zo * mask
    np.testing.assert_allclose(zo, z, rtol=1e-4, atol=1e-5)


def test_export_command(tmp_path):
    pytest.importorskip("onnx")
    model = next(sequence_specs()).build()
    model.save(tmp_path / "m.safetensors")
    out = CliRunner().invoke(app, ["export", str(tmp_path / "m.safetensors"), "--onnx",
                                   str(tmp_path / "m.onnx")])
    assert out.exit_code == 0, out.output
    assert (tmp_path / "m.onnx").stat().st_size > 1000
    again = CliRunner().invoke(app, ["export", str(tmp_path / "m.safetensors"), "--onnx",
                                     str(tmp_path / "m.onnx")])
    assert again.exit_code == 2 and "--overwrite" in again.output
    seq2seq = OTHER_SPECS[2].build()
    seq2seq.save(tmp_path / "s.safetensors")
    refused = CliRunner().invoke(app, ["export", str(tmp_path / "s.safetensors"), "--onnx",
                                       str(tmp_path / "s.onnx")])
    assert refused.exit_code == 2 and "encoder_decoder" in refused.output
