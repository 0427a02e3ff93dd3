"""Vanishing and exploding gradients, seen: a tanh RNN on the temporal-order task with
W_hh at spectral radius 0.9 (vanishing) and 1.5 (exploding).

For each radius it writes, under --out (default: a fresh runs/vanishing_exploding-N; the
committed pictures in docs/images/vanishing_exploding were made with that --out and
--overwrite):

    temporal_rho*.png/.svg   ‖∇L|_t‖ against t at initialisation, one curve per matrix
    jacobian_rho*            ‖∂h_T/∂h_k‖ against T − k with the bound (σ'_max μ_max)^(T−k)
    spectrum_rho*            singular values of W_hh
    heatmap_rho*             log ‖∇L|_t‖ over training (recorded every --every updates)
    curves                   loss and gradient norm (before clipping) of both runs
    remedies                 from the ρ = 0.9 start: clipping alone, clipping + Pascanu's
                             Ω (α = 2), Galvan's simplex direction (+ clipping): loss and
                             ‖∇L|_1‖ / ‖∇L|_T‖, how much gradient reaches the first step

and prints the diagnose table of each network at initialisation. Training goes
through rnnlab.train.Trainer with SGD and clipping by norm, and the diagnostics are
recorded into the run's log by rnnlab.diagnostics.report.DiagnosticsRecorder.

    python examples/vanishing_exploding.py            # about a minute on one core
    python examples/vanishing_exploding.py --steps 40 --out /tmp/ve   # a quick look
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from rnnlab import RNN
from rnnlab.diagnostics import plots
from rnnlab.diagnostics.report import DiagnosticsRecorder, model_report, table_rows, write_plots
from rnnlab.init import InitConfig, initialize
from rnnlab.models import Batch, SequenceModel
from rnnlab.remedies import OmegaRegularizer, SimplexTransform
from rnnlab.tasks import make_task
from rnnlab.train.runs import fresh_run_dir
from rnnlab.train.trainer import FullBPTT, TrainConfig, Trainer


def build(rho: float, hidden: int, seed: int) -> SequenceModel:
    """tanh RNN, W_hh Gaussian rescaled to spectral radius rho, softmax readout."""
    rnn = RNN(6, hidden, nonlinearity="tanh", dtype=np.float64, seed=seed)
    initialize(rnn, InitConfig(recurrent="gaussian", std=0.1, spectral_radius=rho, seed=seed))
    return SequenceModel(rnn, 4, loss="ce", target="each", seed=seed)


def batches(T: int, B: int, seed: int):
    """data(n): a fresh temporal-order batch for update n (a function of n alone)."""
    task = make_task("temporal_order")

    def data(n: int) -> Batch:
        b = task.sample(T, B, np.random.default_rng([seed, n]), dtype=np.float64)
        return Batch(b.x, b.y, mask=b.mask)

    return data


def at_initialisation(model: SequenceModel, batch: Batch, out: Path, label: str):
    """The diagnose table and plots of one batch, before any training."""
    rep = model_report(model, batch)
    for p in write_plots(rep, out / label, f"tanh RNN, spectral radius {label[3:]}"):
        p.rename(out / f"{p.stem.removesuffix('_weight_hh_l0')}_{label}{p.suffix}")
    (out / label).rmdir()
    return table_rows(rep)


def train(model, data, steps: int, every: int, lr: float, remedies=()):
    """SGD (momentum 0.9) with clipping by norm at 1; the diagnostics every `every`
    updates into the log; `remedies` are further gradient transforms."""
    config = TrainConfig(steps=steps, optimizer="sgd", lr=lr, momentum=0.9, clip="norm",
                         clip_threshold=1.0)
    trainer = Trainer(model, FullBPTT(model, data, keep_pass=True), config,
                      transforms=[DiagnosticsRecorder(every), *remedies])
    trainer.fit()
    return trainer.history


def first_to_last(history) -> tuple[list, list]:
    """(steps, ‖∇L|_1‖ / ‖∇L|_T‖) at the updates with recorded diagnostics."""
    rec = [r for r in history if "diagnostics" in r]
    return ([r["step"] for r in rec],
            [r["diagnostics"]["temporal_total"][0] / r["diagnostics"]["temporal_total"][-1]
             for r in rec])


def compare_remedies(args, data):
    """Clipping, clipping + Ω, simplex (+ clipping), all from the ρ = 0.9 start."""
    runs = {"clip": [], "clip + Ω (α = 2)": [OmegaRegularizer(2.0)],
            "simplex + clip": [SimplexTransform(seed=args.seed)]}
    losses, ratios = {}, {}
    print("\n== remedies, from the spectral radius 0.9 start ==")
    for name, remedies in runs.items():
        t0 = time.perf_counter()
        history = train(build(0.9, args.hidden, args.seed), data, args.steps, args.every,
                        args.lr, remedies)
        steps, ratio = first_to_last(history)
        losses[name] = ([r["step"] for r in history], [r["loss"] for r in history])
        ratios[name] = (steps, ratio)
        tail = np.mean([r["loss"] for r in history[-50:]])
        print(f"  {name:18s} mean loss of the last 50 updates {tail:.4f}; "
              f"‖∇L|_1‖/‖∇L|_T‖ first {ratio[0]:.2e}, last {ratio[-1]:.2e}; "
              f"{time.perf_counter() - t0:.1f} s")
    plots.plot_training_curves(None, {"loss": losses, "‖∇L|_1‖ / ‖∇L|_T‖": ratios},
                               args.out / "remedies",
                               title=f"Remedies, tanh RNN from ρ = 0.9, temporal order T = {args.T}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--T", type=int, default=50, help="sequence length")
    ap.add_argument("--hidden", type=int, default=50, help="hidden units")
    ap.add_argument("--batch", type=int, default=20, help="sequences per update")
    ap.add_argument("--steps", type=int, default=400, help="training updates per run")
    ap.add_argument("--every", type=int, default=10, help="record the diagnostics every N updates")
    ap.add_argument("--lr", type=float, default=0.01, help="SGD learning rate (momentum 0.9)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None,
                    help="folder for the plots (default: a fresh runs/vanishing_exploding-N)")
    ap.add_argument("--overwrite", action="store_true", help="replace the plots in --out")
    ap.add_argument("--no-remedies", action="store_true", help="skip the remedies comparison")
    args = ap.parse_args()
    if args.out is None:
        args.out = fresh_run_dir("vanishing_exploding")
    elif args.out.is_dir() and any(args.out.iterdir()) and not args.overwrite:
        ap.error(f"--out {args.out}: holds files already; pass --overwrite to replace them")
    args.out.mkdir(parents=True, exist_ok=True)
    data = batches(args.T, args.batch, args.seed)
    loss_curves, norm_curves = {}, {}
    for rho in (0.9, 1.5):
        label = f"rho{rho}"
        model = build(rho, args.hidden, args.seed)
        print(f"\n== tanh RNN, W_hh spectral radius {rho}, temporal order T = {args.T} ==")
        for name, value in at_initialisation(model, data(0), args.out, label):
            print(f"  {name:48s} {value}")
        t0 = time.perf_counter()
        history = train(model, data, args.steps, args.every, args.lr)
        print(f"  trained {args.steps} updates in {time.perf_counter() - t0:.1f} s; "
              f"final loss {history[-1]['loss']:.4f} (chance ln 4 = {np.log(4):.4f})")
        steps = np.array([r["step"] for r in history])
        loss_curves[f"ρ = {rho}"] = (steps, [r["loss"] for r in history])
        norm_curves[f"ρ = {rho}"] = (steps, [r.get("grad_norm", np.nan) for r in history])
        rec = [r for r in history if "diagnostics" in r]
        plots.plot_temporal_heatmap([r["diagnostics"]["temporal_total"] for r in rec],
                                    [r["step"] for r in rec], args.out / f"heatmap_{label}",
                                    title=f"‖∇L|_t‖ during training, spectral radius {rho}")
    plots.plot_training_curves(None, {"loss": loss_curves, "‖∇L‖ before clipping": norm_curves},
                               args.out / "curves", title=f"Temporal order, T = {args.T}")
    if not args.no_remedies:
        compare_remedies(args, data)
    print(f"\nplots written to {args.out}/")


if __name__ == "__main__":
    main()
