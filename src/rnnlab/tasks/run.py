"""One benchmark run: train a network on a task until it is solved or a step budget
is spent, judging it with Pascanu et al.'s criterion as it goes.

The training is rnnlab.train.Trainer's (full BPTT on fresh batches; batch n is drawn
from default_rng([seed, n]), so a run is a function of its configuration), or with
optimizer 'hf' rnnlab.hf.HessianFree's (one Hessian-free update per batch). Each
batch's length is drawn in [T, T_max) when T_max is given (Pascanu et al.'s script).
Every `eval_every` updates the net is scored on `quick_n` fresh sequences (on the
averaged weights with `averaging`); when that looks solved, the full test of
`eval_n` = 10,000 fresh sequences decides, by the chosen criterion ('paper': under
1 % wrong; 'code': none wrong). The run stops at the first full test it passes.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from functools import partial

import numpy as np

from rnnlab._checks import check_option, check_positive_int, check_range
from rnnlab.hf import HFConfig
from rnnlab.optim import OPTIMIZERS
from rnnlab.registry import INITS, layer_class
from rnnlab.tasks.criteria import CRITERIA, N_EVAL, evaluate
from rnnlab.tasks.problems import draw_length
from rnnlab.tasks.registry import make_task

REMEDIES = ("none", "clip", "omega", "simplex")


@dataclass
class RunConfig:
    """A benchmark run; the `rnnlab tasks run` options and a sweep's grid keys map onto it."""

    task: str = "adding"  # one of rnnlab.tasks.TASKS
    T: int = 100  # sequence length (the task's own T); the shortest with T_max
    T_max: int | None = None  # lengths drawn per batch in [T, T_max) (None: T only)
    cell: str = "lstm"  # rnn | lstm | gru
    nonlinearity: str = "tanh"  # the Elman RNN's σ
    hidden_size: int = 50  # hidden units H
    num_layers: int = 1  # stacked layers
    optimizer: str = "adam"  # sgd | adagrad | rmsprop | adam | hf (Hessian-free: the hf_* options)
    lr: float = 1e-3  # learning rate η
    momentum: float = 0.0  # sgd, rmsprop
    batch_size: int = 20  # sequences per update
    max_steps: int = 10_000  # update budget
    remedy: str = "clip"  # none | clip (global norm) | omega (clip + Pascanu's Ω) | simplex
    clip_threshold: float = 1.0  # the global-norm threshold of 'clip' and 'omega'
    omega_alpha: float = 2.0  # weight of Ω for remedy 'omega'
    init: str = "default"  # default (PyTorch's), spectral, orthogonal, sparse, identity, chrono, smart_tanh
    spectral_radius: float = 0.95  # 'spectral': W_hh ~ N(0, 0.1²) rescaled to this radius
    chrono_T: float | None = None  # 'chrono' (LSTM, GRU): the longest dependency (None: T)
    forget_bias: float | None = None  # LSTM forget-gate bias (None: the init's own)
    hf_damping: float = HFConfig.damping  # hf: initial Levenberg-Marquardt λ
    hf_min_damping: float = HFConfig.min_damping  # hf: floor λ_min under λ (Martens: none)
    hf_structural: float = HFConfig.structural  # hf: structural damping μ (Martens & Sutskever)
    hf_curvature_batch_size: int | None = None  # hf: sequences for G (None: batch_size / 5)
    hf_max_cg_iters: int = HFConfig.max_cg_iters  # hf: CG iterations per update at most
    averaging: str = "none"  # none | polyak | ema: evaluate on averaged weights (not with hf)
    averaging_decay: float = 0.999  # ema: β
    averaging_start: int = 0  # polyak: average the iterates after this many updates
    criterion: str = "paper"  # paper (< 1 % wrong) | code (none wrong)
    eval_every: int = 100  # updates between quick checks
    quick_n: int = 1000  # sequences of the quick check
    eval_n: int = N_EVAL  # sequences of the full test
    seed: int = 0  # weights, data and the test sequences
    task_options: dict = field(default_factory=dict)  # the task's own, e.g. {"variant": "arjovsky"}

    def __post_init__(self):
        layer_class(self.cell)
        check_option("remedy", self.remedy, REMEDIES)
        check_option("init", self.init, INITS)
        check_option("optimizer", self.optimizer, (*OPTIMIZERS, "hf"))
        check_option("criterion", self.criterion, CRITERIA)
        check_option("averaging", self.averaging, ("none", "polyak", "ema"))
        if self.optimizer == "hf" and self.remedy in ("omega", "simplex"):
            raise ValueError(f"remedy: '{self.remedy}' changes gradient updates; optimizer "
                             "'hf' takes none (use remedy 'none')")
        if self.averaging != "none" and self.optimizer == "hf":
            raise ValueError("averaging: wraps a gradient optimizer (sgd, adagrad, rmsprop, "
                             "adam), not hf")
        if self.optimizer == "hf":
            self.hf_config()  # validates the hf_* options
        if self.T_max is not None and self.T_max < self.T:
            raise ValueError(f"T_max: expected at least T = {self.T}, got {self.T_max}")
        check_range("lr", self.lr, 0.0, math.inf, lo_open=True, hi_open=True)
        check_range("momentum", self.momentum, 0.0, 1.0, hi_open=True)
        check_range("clip_threshold", self.clip_threshold, 0.0, math.inf, lo_open=True,
                    hi_open=True)
        check_range("omega_alpha", self.omega_alpha, 0.0, math.inf, hi_open=True)
        check_range("spectral_radius", self.spectral_radius, 0.0, math.inf, lo_open=True,
                    hi_open=True)
        for name in ("T", "hidden_size", "num_layers", "batch_size", "max_steps", "eval_every",
                     "quick_n", "eval_n"):
            check_positive_int(name, getattr(self, name))
        make_task(self.task, **self.task_options)  # validates the task and its options
        if self.init == "chrono" and self.cell == "rnn":
            raise ValueError("init: 'chrono' sets the gate biases of an LSTM or GRU; "
                             "cell 'rnn' has no gates")
        if self.init == "chrono" and self.forget_bias is not None:
            raise ValueError("forget_bias: init 'chrono' sets the forget-gate biases itself; "
                             f"got forget_bias={self.forget_bias}")

    def hf_config(self):
        """The rnnlab.hf.HFConfig of the hf_* options (hf_x is its field x)."""
        names = ("damping", "min_damping", "structural", "curvature_batch_size", "max_cg_iters")
        try:
            return HFConfig(**{n: getattr(self, f"hf_{n}") for n in names})
        except ValueError as e:
            raise ValueError(f"hf_{e}") from None

    @classmethod
    def from_dict(cls, d: dict) -> RunConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"run options: unknown {unknown}; expected some of {sorted(known)}")
        return cls(**d)


def build_model(cfg: RunConfig):
    """The network: a layer stack with a readout at every step (the task's mask picks
    the steps that carry a loss)."""
    from rnnlab.init import set_forget_bias
    from rnnlab.registry import init_layer
    from rnnlab.spec import LayerSpec, ModelSpec

    task = make_task(cfg.task, **cfg.task_options)
    options = {"nonlinearity": cfg.nonlinearity} if cfg.cell == "rnn" else {}
    stack = LayerSpec(cfg.cell, task.n_in, cfg.hidden_size, cfg.num_layers, options=options)
    model = ModelSpec("many_to_many", stack, task.n_out, task.loss, seed=cfg.seed).build()
    init_layer(model.rnn, cfg.init, seed=cfg.seed, spectral_radius=cfg.spectral_radius,
               chrono_T=cfg.chrono_T or cfg.T, readout=model.readout)
    if cfg.forget_bias is not None:
        set_forget_bias(model.rnn, cfg.forget_bias)
    return task, model


def _transforms(cfg: RunConfig) -> list:
    if cfg.remedy == "omega":
        from rnnlab.remedies import OmegaRegularizer

        return [OmegaRegularizer(cfg.omega_alpha)]
    if cfg.remedy == "simplex":
        from rnnlab.remedies import SimplexTransform

        return [SimplexTransform(seed=cfg.seed)]
    return []


def _sgd_updates(cfg: RunConfig, model, data, on_step):
    """rnnlab.train.Trainer's updates: (advance(until) -> last loss, steps done, extras,
    the weights to evaluate: a context manager)."""
    from rnnlab.averaging import Averaged
    from rnnlab.train import FullBPTT, TrainConfig, Trainer

    source = FullBPTT(model, data, keep_pass=cfg.remedy in ("omega", "simplex"))  # Ω, simplex
    train = TrainConfig(steps=cfg.eval_every, optimizer=cfg.optimizer, lr=cfg.lr,
                        momentum=cfg.momentum, clip="none" if cfg.remedy == "none" else "norm",
                        clip_threshold=cfg.clip_threshold)
    callbacks = [] if on_step is None else [lambda tr, rec: on_step(tr.step, rec)]
    trainer = Trainer(model, source, train, transforms=_transforms(cfg), callbacks=callbacks)
    weights = contextlib.nullcontext
    if cfg.averaging != "none":
        trainer.optimizer = Averaged(trainer.optimizer, cfg.averaging, decay=cfg.averaging_decay,
                                     start=cfg.averaging_start)
        weights = partial(trainer.optimizer.averaged, model.params)

    def advance(until: int) -> float:
        train.steps = until
        return trainer.fit().get("loss", math.nan)

    return advance, lambda: trainer.step, dict, weights


def _hf_updates(cfg: RunConfig, model, data, on_step):
    """rnnlab.hf.HessianFree's updates, one per batch; extras: the CG iterations."""
    from rnnlab.hf import HessianFree

    hf = HessianFree(model, cfg.hf_config())
    done = [0]

    def advance(until: int) -> float:
        loss = math.nan
        while done[0] < until:
            info = hf.step(data(done[0]))
            done[0] += 1
            loss = info["new_loss"]
            if on_step is not None:
                on_step(done[0], info)
        return loss

    def extras() -> dict:
        return {"cg_iters": hf.total_cg_iters, "damping": hf.damping}

    return advance, lambda: done[0], extras, contextlib.nullcontext


def run(cfg: RunConfig, on_step: Callable[[int, dict], None] | None = None,
        save_to=None) -> dict:
    """Train and judge; return {"solved", "steps" (updates to solve, or None),
    "error_rate" (last full test), "chance_error", "loss", "steps_done", "wall_s"}
    (and for optimizer 'hf' "cg_iters", the CG iterations in all, and "damping").
    on_step(step, record) is called after every update (progress bars); save_to: a
    file the final model is saved to (rnnlab.load reads it; the raw, not averaged,
    weights)."""
    from rnnlab.models import Batch

    t0 = time.perf_counter()
    task, model = build_model(cfg)
    dtype = model.rnn.dtype

    def data(n: int) -> Batch:
        rng = np.random.default_rng([cfg.seed, n])
        b = task.sample(draw_length(cfg.T, cfg.T_max, rng), cfg.batch_size, rng, dtype=dtype)
        return Batch(b.x, b.y, mask=b.mask)

    updates = _hf_updates if cfg.optimizer == "hf" else _sgd_updates
    advance, steps_done, extras, weights = updates(cfg, model, data, on_step)
    test_rng = np.random.default_rng([cfg.seed, 2**31 - 1])  # never the training stream

    def predict(x):
        with weights():  # the averaged weights with averaging
            return model.forward(x)[0]  # (L, B, K) logits

    def score(n):
        return evaluate(predict, task, cfg.T, test_rng, n=n, dtype=dtype,
                        criterion=cfg.criterion, T_max=cfg.T_max)

    solved_at, full, last_loss = None, None, math.nan
    while steps_done() < cfg.max_steps:
        last_loss = advance(min(steps_done() + cfg.eval_every, cfg.max_steps))
        if score(cfg.quick_n).solved:
            full = score(cfg.eval_n)
            if full.solved:
                solved_at = steps_done()
                break
    if solved_at is None:
        full = score(cfg.eval_n)  # the final error rate, on a fresh full test
    if save_to is not None:
        model.save(save_to, meta={"command": "tasks run", "run": asdict(cfg)})
    return {"solved": solved_at is not None, "steps": solved_at,
            "error_rate": full.error_rate, "chance_error": full.chance_error,
            "test_loss": full.loss, "chance_loss": full.chance_loss, "loss": last_loss,
            "steps_done": steps_done(), "wall_s": time.perf_counter() - t0, **extras()}


def run_spec(spec: dict) -> dict:
    """A sweep's run function: a flat dict of RunConfig fields -> run()'s result."""
    return run(RunConfig.from_dict(spec))
