"""Plots of the diagnostics (matplotlib, Agg backend), each written as PNG and SVG.

Every function takes the values it draws and a path stem ('out/temporal' writes
out/temporal.png and out/temporal.svg) and returns the two paths.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rnnlab._plotting import pyplot


def _save(fig, stem) -> list[Path]:
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.parent / f"{stem.name}.png", stem.parent / f"{stem.name}.svg"]  # '.9' stays
    for p in paths:
        fig.savefig(p, dpi=120, bbox_inches="tight")
    pyplot().close(fig)
    return paths


def _positive(a) -> np.ndarray:
    """Zeros and non-finite values masked so that a log axis can show the rest."""
    a = np.asarray(a, float)
    return np.ma.masked_where(~(np.isfinite(a) & (a > 0)), a)


def _decades(values) -> float:
    """log10(max / min) of the positive finite values (of every run when a dict)."""
    runs = values.values() if isinstance(values, dict) else [(None, values)]
    a = np.concatenate([np.ravel(np.asarray(v, float)) for _, v in runs])
    a = a[np.isfinite(a) & (a > 0)]
    return float(np.log10(a.max() / a.min())) if a.size else 0.0


def plot_temporal_norms(params: dict, total, stem, title: str = "") -> list[Path]:
    """‖∇L|_t‖ against t: one curve per parameter matrix and the total."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    t = np.arange(1, len(total) + 1)
    for name, v in params.items():
        ax.plot(t, _positive(v), lw=1, label=name)
    ax.plot(t, _positive(total), "k", lw=2, label="total")
    ax.set(yscale="log", xlabel="time step t", ylabel="‖∇L|_t‖ (Frobenius)",
           title=title or "Temporal gradient components")
    ax.legend(fontsize=7, ncol=2)
    return _save(fig, stem)


def plot_temporal_heatmap(norms, train_steps, stem, title: str = "") -> list[Path]:
    """log10 ‖∇L|_t‖ over training: norms (S, T) recorded at train_steps (S,)."""
    plt = pyplot()
    norms = np.asarray(norms, float)
    fig, ax = plt.subplots(figsize=(7, 4))
    logn = np.log10(_positive(norms))
    im = ax.imshow(logn.T, aspect="auto", origin="lower", cmap="viridis",
                   extent=(train_steps[0], train_steps[-1], 0.5, norms.shape[1] + 0.5))
    fig.colorbar(im, ax=ax, label="log10 ‖∇L|_t‖")
    ax.set(xlabel="training step", ylabel="time step t",
           title=title or "Temporal gradient norms during training")
    return _save(fig, stem)


def plot_jacobian_norms(jn, stem, title: str = "") -> list[Path]:
    """‖∂h_t/∂h_k‖ (spectral and Frobenius) against t - k, with the Elman bound."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(jn.distance, _positive(jn.spectral), "o-", ms=3, label="‖∂h_t/∂h_k‖₂")
    ax.plot(jn.distance, _positive(jn.frobenius), "s-", ms=3, label="‖∂h_t/∂h_k‖_F")
    if jn.bound is not None:
        ax.plot(jn.distance, _positive(jn.bound), "k--", label="bound (σ'_max μ_max)^(t−k)")
    ax.set(yscale="log", xlabel="distance t − k", ylabel="Jacobian norm",
           title=title or "Jacobian norms across time")
    ax.legend(fontsize=8)
    return _save(fig, stem)


def plot_spectrum(sp, stem, title: str = "") -> list[Path]:
    """Singular values of each gate block of W_hh, with the spectral radius."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    idx = np.arange(1, sp.singular_values.shape[1] + 1)
    for gate, s, rho in zip(sp.gates, sp.singular_values, sp.spectral_radius):
        ax.plot(idx, _positive(s), "o-", ms=3, label=f"W_h{gate}: spectral radius {rho:.3g}")
    ax.axhline(1.0, color="gray", lw=0.8, ls=":")
    ax.set(yscale="log", xlabel="index i", ylabel="singular value σ_i",
           title=title or "Spectrum of W_hh")
    ax.legend(fontsize=8)
    return _save(fig, stem)


def plot_training_curves(steps, series: dict, stem, title: str = "") -> list[Path]:
    """One panel per series (e.g. loss, gradient norm) against training step; log y
    when a series spans a decade or more. A series is an array over `steps`, or a
    dict {run label: (steps, values)} drawn on one panel."""
    plt = pyplot()
    fig, axes = plt.subplots(len(series), 1, figsize=(7, 2.6 * len(series)), sharex=True,
                             squeeze=False)
    for ax, (name, values) in zip(axes[:, 0], series.items()):
        if isinstance(values, dict):  # several runs on one panel
            for label, (s, v) in values.items():
                ax.plot(s, _positive(v), lw=1, label=label)
            ax.legend(fontsize=8)
        else:
            ax.plot(steps, _positive(values), lw=1)
        ax.set(yscale="log" if _decades(values) >= 1 else "linear", ylabel=name)
    axes[-1, 0].set_xlabel("training step")
    axes[0, 0].set_title(title or "Training")
    return _save(fig, stem)
