"""`rnnlab export MODEL --onnx FILE`: a trained model (checkpoint file or run folder) as
an ONNX graph built from ONNX's own RNN/LSTM/GRU operators (rnnlab.export)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer()


@app.command("export")
def export(
    model: Annotated[Path, typer.Argument(help="a checkpoint file or run folder")],
    onnx: Annotated[Path, typer.Option(help="the ONNX file to write")],
    overwrite: bool = typer.Option(False, help="replace an existing --onnx file"),
):
    """Write a trained model as ONNX (checked by rnnlab's tests under onnxruntime)."""
    from rnnlab.checkpoint import load
    from rnnlab.export import to_onnx

    if onnx.exists() and not overwrite:
        raise ValueError(f"--onnx {onnx}: exists already; pass --overwrite to replace it")
    path = to_onnx(load(model), onnx)
    typer.echo(f"wrote {path}")
