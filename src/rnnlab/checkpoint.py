"""Checkpoints: ONE safetensors file each, arrays plus JSON metadata, written atomically
and verified on every load. This module is the package's only checkpoint reader.

Arrays are stored under prefixed names ("param.rnn.weight_hh_l0", "optim.exp_avg.…",
"source.state.0"); everything else (the model spec, step, the state of every random
generator, the resolved config, the vocabulary, the trainer's counters) is one JSON
document in the safetensors metadata under the key "rnnlab". No pickle anywhere.

Integrity: the metadata holds the SHA-256 of every array's bytes and of itself;
`load_checkpoint` recomputes them, so a flipped byte in the tensor data or in the
metadata is an error that names the file (and the array). Writing goes to a temporary file in the same folder, fsynced,
then renamed over the target (os.replace): a crash leaves the old file or the new one.

Models: `save_model(model, path, meta)` (= model.save) writes the spec and the
parameters; `load(path)` (= rnnlab.load) rebuilds the model from any checkpoint that
holds a spec: a model file, a trainer checkpoint, or a run folder (its best.safetensors,
else its latest step checkpoint).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from rnnlab.errors import DataError

if TYPE_CHECKING:
    from rnnlab.models import Model

FORMAT = "rnnlab-checkpoint-2"


class CheckpointError(DataError):
    """A checkpoint file that cannot be read back whole, or is not what was expected."""


def _digest(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).view(np.uint8).data).hexdigest()


def _meta_digest(doc: dict) -> str:
    """SHA-256 of the metadata itself (its own digest left out), in canonical JSON."""
    body = {k: v for k, v in doc.items() if k != "sha256_meta"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def save_checkpoint(path: str | os.PathLike, arrays: dict[str, np.ndarray], meta: dict) -> Path:
    """Write arrays and meta (JSON-ready) to `path` atomically; return the path."""
    from safetensors.numpy import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: np.ascontiguousarray(a) for k, a in arrays.items()}
    doc = {"format": FORMAT, **meta, "sha256": {k: _digest(a) for k, a in tensors.items()}}
    doc["sha256_meta"] = _meta_digest(doc)
    metadata = {"rnnlab": json.dumps(doc)}
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        save_file(tensors, tmp, metadata=metadata)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def load_checkpoint(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict]:
    """Read (arrays, meta) back, verified; raise CheckpointError naming the file for a
    missing, truncated, corrupted or foreign one."""
    from safetensors import safe_open

    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"checkpoint {path}: is a folder; expected a .safetensors file "
                              "(rnnlab.load also takes a run folder)")
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path}: no such file")
    try:
        with safe_open(str(path), framework="np") as f:
            meta = json.loads((f.metadata() or {})["rnnlab"])
            arrays = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (not a dict)
    except Exception as e:  # safetensors raises its own error types for damaged files
        raise CheckpointError(
            f"checkpoint {path}: unreadable, truncated or not an rnnlab checkpoint "
            f"({type(e).__name__}: {e}); the run's other checkpoints are untouched") from e
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else None
        raise CheckpointError(f"checkpoint {path}: format {found!r}, expected {FORMAT!r}")
    if meta.get("sha256_meta") != _meta_digest(meta):
        raise CheckpointError(f"checkpoint {path}: its metadata is corrupted (its SHA-256 "
                              "differs from the one written with it)")
    del meta["sha256_meta"]
    sha = meta.pop("sha256", None)
    if not isinstance(sha, dict) or set(sha) != set(arrays):
        raise CheckpointError(f"checkpoint {path}: its checksums do not list its arrays "
                              "(damaged metadata)")
    for name, a in arrays.items():
        if _digest(a) != sha[name]:
            raise CheckpointError(f"checkpoint {path}: array {name!r} is corrupted (its "
                                  "SHA-256 differs from the one written with it)")
    return arrays, meta


def split_prefix(arrays: dict, prefix: str) -> dict:
    """The arrays stored under "prefix.", with the prefix taken off."""
    p = prefix + "."
    return {k[len(p):]: a for k, a in arrays.items() if k.startswith(p)}


# ---- models ------------------------------------------------------------------------

def resolve(path: str | os.PathLike) -> Path:
    """A checkpoint file, or a run folder: its best.safetensors, else its latest step
    checkpoint, else its one model*.safetensors (tasks run: model-seed<N>)."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"checkpoint {path}: no such file or folder")
    if not path.is_dir():
        return path
    steps = sorted((path / "checkpoints").glob("step-*.safetensors"), reverse=True)
    for p in (path / "best.safetensors", *steps):
        if p.is_file():
            return p
    models = sorted(path.glob("model*.safetensors"))
    if len(models) == 1:
        return models[0]
    if models:
        raise CheckpointError(f"checkpoint {path}: the folder holds {len(models)} models "
                              f"({', '.join(p.name for p in models)}); name one")
    raise CheckpointError(f"checkpoint {path}: the folder holds no checkpoint "
                          "(best.safetensors, checkpoints/step-*.safetensors, model*.safetensors)")


def save_model(model: Model, path: str | os.PathLike, meta: dict | None = None) -> Path:
    """Write model.spec, its parameters and `meta` to one checkpoint file."""
    arrays = {f"param.{n}": p for n, p in model.params.items()}
    return save_checkpoint(path, arrays, {"spec": model.spec.to_dict(), "meta": meta or {}})


def read_model(path: str | os.PathLike) -> tuple[Model, dict, Path]:
    """(model, meta, file) from a checkpoint file or run folder; meta is what was saved
    with the model (model.save's meta, or a trainer's resolved config and vocabulary)."""
    from rnnlab.spec import ModelSpec

    file = resolve(path)
    arrays, meta = load_checkpoint(file)
    if "spec" not in meta:
        raise CheckpointError(f"checkpoint {file}: holds no model spec (written by an older "
                              "rnnlab, or not a model checkpoint)")
    try:
        model = ModelSpec.from_dict(meta["spec"]).build()
        model.load_params(split_prefix(arrays, "param"))
    except (ValueError, KeyError, TypeError) as e:
        raise CheckpointError(f"checkpoint {file}: its spec and weights do not make a model "
                              f"({e})") from None
    extra = dict(meta.get("meta", {}))
    for key in ("config", "vocab"):  # a trainer checkpoint's
        if key in meta:
            extra[key] = meta[key]
    return model, extra, file


def load(path: str | os.PathLike) -> Model:
    """The model saved in a checkpoint file or run folder, ready to use (weights only;
    a trainer's resume state stays in its checkpoints)."""
    return read_model(path)[0]
