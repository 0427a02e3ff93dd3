"""`rnnlab diagnose`: fresh network on a task, a Trainer checkpoint, an .npz batch."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from rnnlab.cli import app

SMALL = ["diagnose", "--T", "12", "--batch-size", "3", "--hidden-size", "6"]


def test_fresh_network_on_a_task(tmp_path):
    res = CliRunner().invoke(app, [*SMALL, "--spectral-radius", "1.5", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "σ'_max μ_max" in res.output and "exploding possible" in res.output
    report = json.loads((tmp_path / "report.json").read_text())
    assert len(report["temporal_total"]) == 12 and len(report["jacobian_bound"]) == 12
    assert "readout.weight" in report["temporal"]
    assert (tmp_path / "temporal.png").is_file() and (tmp_path / "jacobian.svg").is_file()


def test_checkpoint_and_npz_batch(tmp_path):
    from rnnlab import GRU
    from rnnlab.models import Batch, SequenceModel
    from rnnlab.train.trainer import FullBPTT, TrainConfig, Trainer

    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((7, 3, 2)), rng.integers(0, 2, 3)
    model = SequenceModel(GRU(2, 4, dtype=np.float64, seed=0, reset_after=False), 2, loss="ce",
                          target="last", seed=1)
    run = tmp_path / "run"
    Trainer(model, FullBPTT(model, lambda n: Batch(x, y)),
            TrainConfig(steps=2, out_dir=str(run))).fit()
    ckpt = max((run / "checkpoints").glob("*.safetensors"))
    np.savez(tmp_path / "batch.npz", x=x, y=y)
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["diagnose", "--checkpoint", str(ckpt), "--data", str(tmp_path / "batch.npz"),
                                   "--out", str(out)])
    assert res.exit_code == 0, res.output
    report = json.loads((out / "report.json").read_text())
    expected = model.loss_and_grads(Batch(x, y))[1]  # the checkpoint is the trained model
    total = np.sqrt(sum(np.square(g).sum() for g in expected.values()))
    assert float(report["rows"]["‖∇L‖"]) == pytest.approx(total, rel=1e-3)
    assert "(r, z, n)" in res.output  # a GRU again (its reset_before convention: the norm above)


def test_npz_without_y_names_the_option(tmp_path):
    np.savez(tmp_path / "bad.npz", x=np.zeros((4, 2, 6)))
    res = CliRunner().invoke(app, [*SMALL, "--data", str(tmp_path / "bad.npz"), "--out",
                                   str(tmp_path)])
    assert res.exit_code != 0 and "--data" in res.output and "'y'" in res.output
