"""Checkpoints: ONE safetensors file each, arrays plus JSON metadata, written atomically.

Arrays are stored under prefixed names ("param.rnn.weight_hh_l0", "optim.exp_avg.…",
"source.state.0"); everything else (step, the state of every random generator, the
resolved config, the vocabulary, the trainer's counters) is one JSON document in the
safetensors metadata under the key "rnnlab". No pickle anywhere.

Writing goes to a temporary file in the same folder, flushed to disk, then renamed
over the target (os.replace), so a crash leaves either the old file or the new one.
A damaged (e.g. truncated) file is detected on load and reported with a clear
`CheckpointError`; the other checkpoints of the run are untouched.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

FORMAT = "rnnlab-checkpoint-1"


class CheckpointError(ValueError):
    """A checkpoint file that cannot be read back whole."""


def save_checkpoint(path, arrays: dict[str, np.ndarray], meta: dict) -> Path:
    """Write arrays and meta (JSON-ready) to `path` atomically; return the path."""
    from safetensors.numpy import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: np.ascontiguousarray(a) for k, a in arrays.items()}
    metadata = {"rnnlab": json.dumps({"format": FORMAT, **meta})}
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


def load_checkpoint(path) -> tuple[dict[str, np.ndarray], dict]:
    """Read (arrays, meta) back; raise CheckpointError for a missing, truncated or
    foreign file."""
    from safetensors import safe_open

    path = Path(path)
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
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"checkpoint {path}: format {meta.get('format')!r}, "
                              f"expected {FORMAT!r}")
    return arrays, meta


def split_prefix(arrays: dict, prefix: str) -> dict:
    """The arrays stored under "prefix.", with the prefix taken off."""
    p = prefix + "."
    return {k[len(p):]: a for k, a in arrays.items() if k.startswith(p)}

