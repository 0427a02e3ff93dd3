"""The tinyshakespeare char-LM benchmark: plot a run's learning curve, time sampling.

    rnnlab charlm train ../shared/data/tinyshakespeare.txt <recipe in charlm.md> --out RUN
    python benchmarks/charlm.py RUN        # RUN/curve.png, a 500-character sample, chars/s
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

from rnnlab._plotting import pyplot
from rnnlab.apps.charlm import load_model, sample


def curve(run: Path) -> Path:
    plt = pyplot()
    recs = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    train = [(r["step"], r["loss"]) for r in recs if "loss" in r]
    val = [(r["step"], r["val_loss"]) for r in recs if "val_loss" in r]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(*np.array(train).T, lw=0.5, alpha=0.5, label="train (window)")
    ax.plot(*np.array(val).T, "o-", label="validation")
    ax.axhline(1.5, ls="--", c="k", lw=0.8, label="1.50 target")
    ax.set(xlabel="update", ylabel="nats per character", ylim=(1.0, 3.5))
    ax.legend()
    fig.savefig(run / "curve.png", dpi=120, bbox_inches="tight")
    print("validation:", ", ".join(f"{s}: {v:.3f}" for s, v in val))
    return run / "curve.png"


def main(run: Path) -> None:
    print("curve:", curve(run))
    model, vocab = load_model(run / "best.safetensors")
    text = sample(model, vocab, 500, temperature=0.8, prime="ROMEO:", seed=0)  # loads the kernels
    print(f"sample (500 characters, --prime ROMEO: --temperature 0.8 --seed 0):\nROMEO:{text}")
    t = time.perf_counter()
    sample(model, vocab, 5000, temperature=0.8, seed=1)
    print(f"sampling speed: {5000 / (time.perf_counter() - t):,.0f} characters/s (B = 1)")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
