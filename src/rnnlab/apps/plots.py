"""Plots of the applications (matplotlib, Agg backend) written as PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rnnlab._plotting import pyplot


def _save(plt, fig, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def plot_forecast(path, t_all: np.ndarray, y_all: np.ndarray, t_fc: np.ndarray,
                  forecasts: dict[str, np.ndarray], title: str = "", band=None) -> Path:
    """The target over the whole series and each method's forecasts at times t_fc;
    band = (lower, upper) at t_fc: a shaded prediction interval."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(10, 4))
    ax.plot(t_all, y_all, color="black", lw=1.5, label="truth")
    if band is not None:
        ax.fill_between(t_fc, band[0], band[1], color="tab:blue", alpha=0.2,
                        label="prediction interval")
    for name, y in forecasts.items():
        ax.plot(t_fc, y, lw=2.0 if name in ("model", "rnnlab") else 1.2, label=name)
    ax.axvline(t_fc[0], color="grey", ls=":", lw=1)
    ax.set(xlabel="time step", ylabel="target", title=title)
    ax.legend(loc="upper left", fontsize=8)
    return _save(plt, fig, path)


def plot_confusion(path, C: np.ndarray, labels: list[str], title: str = "") -> Path:
    """The confusion matrix C[true, predicted] as an annotated image."""
    plt = pyplot()
    K = len(labels)
    fig, ax = plt.subplots(figsize=(1.0 + 0.5 * K, 0.8 + 0.5 * K))
    ax.imshow(C, cmap="Blues")
    ax.set_xticks(range(K), labels)
    ax.set_yticks(range(K), labels)
    for i in range(K):
        for j in range(K):
            ax.text(j, i, str(C[i, j]), ha="center", va="center", fontsize=8,
                    color="white" if C[i, j] > C.max() / 2 else "black")
    ax.set(xlabel="predicted", ylabel="true", title=title)
    return _save(plt, fig, path)


def plot_learning_curve(path, log: Path, unit: str = "loss") -> Path:
    """Training loss (smoothed) and validation loss against updates, from a run's log.jsonl."""
    import json

    records = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    train = [(r["step"], r["loss"]) for r in records if "loss" in r and "skipped" not in r]
    val = [(r["step"], r["val_loss"]) for r in records if "val_loss" in r]
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    if train:
        steps, loss = np.array(train).T
        k = max(1, len(loss) // 50)
        smooth = np.convolve(loss, np.ones(k) / k, mode="valid")
        ax.plot(steps[k - 1:], smooth, lw=1.2, label=f"training (mean of {k})")
    if val:
        ax.plot(*np.array(val).T, "o-", lw=1.5, ms=3, label="validation")
    ax.set(xlabel="update", ylabel=unit, title="learning curve")
    ax.legend()
    return _save(plt, fig, path)


class LearningCurve:
    """A trainer callback: <out>/curve.png redrawn after a validation at most every
    `every` seconds, and at the last update."""

    def __init__(self, out: Path, unit: str = "loss", every: float = 60.0):
        import time

        self.out, self.unit, self.every = Path(out), unit, every
        self.clock, self.last = time.monotonic, time.monotonic()

    def __call__(self, trainer, record) -> None:
        due = "val_loss" in record and self.clock() - self.last >= self.every
        if due or trainer.step >= trainer.config.steps:
            self.write()
            self.last = self.clock()

    def write(self) -> Path | None:
        log = self.out / "log.jsonl"
        return plot_learning_curve(self.out / "curve.png", log, self.unit) if log.is_file() else None
