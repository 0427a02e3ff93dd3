"""One look at a recurrent layer: every diagnostic of one BPTT pass, as a record
(JSON-ready, for the trainer's log), a table and a set of plots."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnnlab._checks import check_positive_int
from rnnlab.diagnostics.jacobians import (
    JacobianNorms,
    Spectrum,
    elman_rate,
    jacobian_norms,
    spectrum,
)
from rnnlab.diagnostics.temporal import TemporalNorms, layer_terms, model_terms, temporal_norms


@dataclass(frozen=True)
class Report:
    """The diagnostics of one layer stack on one batch."""

    temporal: TemporalNorms  # ‖∇L|_t‖ per parameter and total, ‖∂L/∂h_t‖
    jacobian: JacobianNorms  # layer 0, forward direction, first sequence
    spectra: dict[str, Spectrum]  # per weight_hh name
    grad_norm: float  # ‖∇L‖ of the layer's parameters
    rates: dict[str, float]  # Elman only: σ'_max μ_max per weight_hh name


def make_report(layer, x, cache, grads: dict, deltas: dict, lengths=None,
                terms: list | None = None) -> Report:
    """Gather the diagnostics from a forward/backward pass (backward with return_deltas);
    terms (default: the layer's own) and grads may cover a whole model."""
    W_names = [n for n in layer.params if n.startswith("weight_hh")]
    rates = ({n: elman_rate(layer.cell, layer.params[n]) for n in W_names}
             if layer.cell.act is not None else {})
    x0 = x[:1] if layer.batch_first else x[:, :1]
    l0 = None if lengths is None else np.asarray(lengths)[:1]
    terms = layer_terms(layer, cache, deltas) if terms is None else terms
    return Report(
        temporal_norms(terms, cache, deltas),
        jacobian_norms(layer, x0, lengths=l0),
        {n: spectrum(layer.params[n]) for n in W_names},
        float(np.sqrt(sum(np.vdot(g, g) for g in grads.values()))),
        rates,
    )


def model_report(model, batch) -> Report:
    """make_report of a SequenceModel (vector inputs) on one batch: one training pass
    (dropout on, as in training), the readout's components included."""
    _, grads, info = model.loss_and_grads(batch, keep_pass=True)
    (_, rcache, _), _, deltas = info["pass"]
    return make_report(model.rnn, batch.x, rcache, grads, deltas, batch.lengths,
                       model_terms(model, info["pass"]))


def record(terms: list, grads: dict, params: dict, cache=None, deltas=None) -> dict:
    """A JSON-ready record for a training log: ‖∇L‖, the temporal norms (total and per
    parameter) of `terms`, ‖∂L/∂h_t‖ per direction (given the layer's cache and
    deltas) and the spectral radius of each W_hh block in `params`."""
    tn = temporal_norms(terms, cache, deltas)
    return {
        "grad_norm": float(np.sqrt(sum(np.vdot(g, g) for g in grads.values()))),
        "temporal_total": tn.total.tolist(),
        "temporal": {n: v.tolist() for n, v in tn.params.items()},
        "dh": {s: v.tolist() for s, v in tn.dh.items()},
        "spectral_radius": {n: spectrum(p).spectral_radius.tolist()
                            for n, p in params.items() if "weight_hh" in n},
    }


def _ratio(a: np.ndarray) -> float:
    """first / last of a positive series (how much it decays over the window)."""
    a = np.asarray(a, float)
    return float(a[0] / a[-1]) if a[-1] > 0 else float("inf")


def table_rows(rep: Report) -> list[tuple[str, str]]:
    """(quantity, value) rows summarising a report."""
    tn, jn = rep.temporal, rep.jacobian
    rows = [("‖∇L‖", f"{rep.grad_norm:.4g}"),
            ("‖∇L|_t‖ at t = 1 / t = T", f"{tn.total[0]:.3g} / {tn.total[-1]:.3g}"),
            ("‖∇L|_1‖ / ‖∇L|_T‖", f"{_ratio(tn.total):.3g}")]
    for s, v in tn.dh.items():
        rows.append((f"‖∂L/∂h_1‖ / ‖∂L/∂h_T‖ ({s[1:]})", f"{_ratio(v):.3g}"))
    rows.append((f"‖∂h_t/∂h_k‖₂ at t−k = 1 / {jn.distance[-1]}",
                 f"{jn.spectral[0]:.3g} / {jn.spectral[-1]:.3g}"))
    for n, sp in rep.spectra.items():
        rows.append((f"{n}: spectral radius ({', '.join(sp.gates)})",
                     ", ".join(f"{r:.3g}" for r in sp.spectral_radius)))
        rows.append((f"{n}: largest singular value μ_max",
                     ", ".join(f"{s[0]:.3g}" for s in sp.singular_values)))
    for n, rate in rep.rates.items():
        regime = "vanishing guaranteed" if rate < 1 else "exploding possible"
        rows.append((f"{n}: σ'_max μ_max", f"{rate:.3g} ({regime})"))
    return rows


def write_plots(rep: Report, outdir, label: str = "") -> list[Path]:
    """The plots of a report under outdir (PNG and SVG each); label ends each title."""
    from rnnlab.diagnostics import plots

    outdir, end = Path(outdir), f" ({label})" if label else ""
    paths = plots.plot_temporal_norms(rep.temporal.params, rep.temporal.total, outdir / "temporal",
                                      title=f"Temporal gradient components{end}")
    paths += plots.plot_jacobian_norms(rep.jacobian, outdir / "jacobian",
                                       title=f"Jacobian norms across time{end}")
    for n, sp in rep.spectra.items():
        paths += plots.plot_spectrum(sp, outdir / f"spectrum_{n}", title=f"Spectrum of {n}{end}")
    return paths


class DiagnosticsRecorder:
    """A rnnlab.train.Trainer transform that changes nothing: every `every` updates it
    adds `record(...)` of the update to the log line, under "diagnostics". Put it
    first, before transforms that change the gradient."""

    def __init__(self, every: int = 10):
        self.every = check_positive_int("every", every)

    def __call__(self, grads, trainer):
        if trainer.step % self.every == 0:
            from rnnlab.remedies import kept_pass, log_value

            kept = kept_pass(trainer, "DiagnosticsRecorder")
            (_, rcache, _), _, deltas = kept
            rec = record(model_terms(trainer.model, kept), grads, trainer.model.params,
                         rcache, deltas)
            log_value(trainer, diagnostics=rec)
        return grads
