"""The trainer: a fit loop that never loses work.

One update n = 0, 1, ..., steps-1:

    loss, grads, info = source(n)            full BPTT on data(n), or TBPTT's update n
    grads = transform(grads, trainer) ...    gradient transforms, in order (issue-7
                                             remedies); one returning None skips the step
    guard: any NaN/Inf in grads or loss  ->  training stops (TrainingDiverged), or with
                                             nonfinite="skip" the update is skipped and counted
    divergence: median of the last DIVERGE_WINDOW losses > diverge_factor · (the first
                update's loss), tested once that many have come  ->  TrainingDiverged
                (a median, so that a batch of heavy-tailed targets, which comes back
                every epoch, is not taken for it)
    ‖g‖ = clip(grads)                        by global norm (default) or by value; the
                                             norm BEFORE clipping is logged
    η = schedule(lr, n);  optimizer.step(model.params, grads, η)

then, every `val_every` updates, validation (and early stopping after `patience`
validations without improvement), and every `checkpoint_every` updates a checkpoint.
Every update writes one JSON line to `<out_dir>/log.jsonl` (step, loss, accuracy
where it applies, grad_norm, lr, time, skipped); validations write {"step", "val_*"}.

A run folder holds config.json (the resolved configuration), log.jsonl (and the other
logs of rnnlab.train.logs) and checkpoints/step-XXXXXXXX.safetensors (the last
`keep_last`) plus best.safetensors. rnnlab.train.runs guards it: a fresh run refuses a
folder that holds anything (unless `overwrite`), one process writes at a time. SIGINT
and SIGTERM end the update under way, save a checkpoint and raise Interrupted.
A checkpoint holds the parameters, the optimizer state, the source's carried state
(TBPTT streams), the step, the state of every generator (each layer's `rng`, for
dropout), the trainer's counters, the config and the vocabulary. `fit(resume=True)`
continues from the latest checkpoint; with a data function that depends on the
update index only, the resumed run ends with bitwise the same weights as an
uninterrupted one.
"""

from __future__ import annotations

import math
import signal
import threading
import time
import warnings
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from rnnlab._checks import check_option, check_positive_int, check_range
from rnnlab.checkpoint import CheckpointError, load_checkpoint, save_checkpoint, split_prefix
from rnnlab.errors import Interrupted, TrainingDiverged
from rnnlab.models import Batch, Model
from rnnlab.optim import (
    OPTIMIZERS,
    SGD,
    RMSprop,
    Schedule,
    all_finite,
    clip_grad_norm,
    clip_grad_value,
    global_norm,
)
from rnnlab.train import logs, runs

DIVERGE_WINDOW = 10  # losses whose median the divergence test reads


@dataclass
class TrainConfig:
    """Everything the fit loop does; the CLI options map onto these fields."""

    steps: int = 1000  # optimizer updates in all
    optimizer: str = "adam"  # sgd | adagrad | rmsprop | adam
    lr: float = 1e-3  # base learning rate η0
    momentum: float = 0.0  # sgd, rmsprop: momentum μ
    nesterov: bool = False  # sgd: Nesterov momentum
    weight_decay: float = 0.0  # L2: g ← g + λθ
    schedule: Schedule = field(default_factory=Schedule)  # η(n) from η0 (default constant)
    clip: str = "norm"  # norm | value | none
    clip_threshold: float = 1.0  # the global norm c, or the value bound
    val_every: int = 0  # validate every N updates (0: at the end only, when there is val data)
    patience: int = 0  # stop after this many validations without improvement (0: never)
    checkpoint_every: int = 0  # updates between checkpoints (0: at the end only); needs out_dir
    keep_last: int = 3  # step checkpoints kept, besides best.safetensors
    out_dir: str | None = None  # the run folder; None: no files at all
    progress: bool = False  # a rich progress bar on the terminal
    unit: str = "targets"  # what the progress bar counts per second (a char LM: "chars")
    nonfinite: str = "stop"  # a NaN/Inf loss or gradient: stop (TrainingDiverged) | skip
    diverge_factor: float = 1e3  # stop when the recent losses' median > this × the first
    #                              update's loss (0: never)
    loggers: tuple[str, ...] = ("jsonl", "csv")  # run logs in out_dir: jsonl, csv, tensorboard
    overwrite: bool = False  # replace a run already in out_dir (else refused unless resumed)

    def __post_init__(self):
        if isinstance(self.schedule, dict):
            self.schedule = Schedule(**self.schedule)
        check_positive_int("steps", self.steps)
        check_option("optimizer", self.optimizer, OPTIMIZERS)
        check_range("lr", self.lr, 0.0, math.inf, hi_open=True)
        check_option("nonfinite", self.nonfinite, ("stop", "skip"))
        check_range("diverge_factor", self.diverge_factor, 0.0, math.inf, hi_open=True)
        self.loggers = tuple(self.loggers)
        check_option("clip", self.clip, ("norm", "value", "none"))
        check_range("clip_threshold", self.clip_threshold, 0.0, math.inf, lo_open=True)
        for name in ("val_every", "patience", "checkpoint_every"):
            check_positive_int(name, getattr(self, name), minimum=0)
        check_positive_int("keep_last", self.keep_last)

    def make_optimizer(self):
        kw = {"lr": self.lr, "weight_decay": self.weight_decay}
        if self.optimizer == "sgd":
            return SGD(momentum=self.momentum, nesterov=self.nesterov, **kw)
        if self.optimizer == "rmsprop":
            return RMSprop(momentum=self.momentum, **kw)
        return OPTIMIZERS[self.optimizer](**kw)


class FullBPTT:
    """The update source of whole-sequence training: update n is full BPTT on data(n).
    data must be a function of n alone (e.g. rnnlab.train.epoch_batches) for resume.
    keep_pass: info["pass"] keeps the update's per-step errors for the transforms
    that need them (rnnlab.remedies, rnnlab.diagnostics; SequenceModel only)."""

    def __init__(self, model: Model, data: Callable[[int], Batch], keep_pass: bool = False):
        self.model, self.data, self.keep_pass = model, data, keep_pass

    def __call__(self, n: int):
        if self.keep_pass:
            return self.model.loss_and_grads(self.data(n), keep_pass=True)
        return self.model.loss_and_grads(self.data(n))


class StreamTBPTT:
    """The update source of truncated BPTT: update n is chunk n mod U of batch n div U,
    U = ceil(T / k1) updates per batch (every batch has the same T). reset_every: the
    carried state is reset before batches b with b mod reset_every = 0 (e.g.
    TokenStreams.per_epoch: every epoch starts the streams from the zero state)."""

    def __init__(self, tbptt, data: Callable[[int], Batch], reset_every: int | None = None):
        self.tbptt, self.data = tbptt, data
        self.reset_every = None if reset_every is None else check_positive_int(
            "reset_every", reset_every)
        self._index, self._batch = 0, data(0)
        self.per_batch = tbptt.n_updates(len(self._batch.x))

    def __call__(self, n: int):
        b, u = divmod(n, self.per_batch)
        if b != self._index:
            self._index, self._batch = b, self.data(b)
        if u == 0 and self.reset_every and b % self.reset_every == 0:
            self.tbptt.reset()
        return self.tbptt.update(self._batch, u)

    def state_dict(self) -> dict:
        return self.tbptt.state_dict()

    def load_state_dict(self, d: dict) -> None:
        self.tbptt.load_state_dict(d)


def _summary(records: list[dict]) -> dict:
    """Loss (mean weighted by sequences) and accuracy over evaluated batches."""
    n = sum(r["n"] for r in records)
    out = {"loss": sum(r["loss"] * r["n"] for r in records) / max(n, 1)}
    count = sum(r.get("count", 0) for r in records)
    if count:
        out["accuracy"] = sum(r["correct"] for r in records) / count
    return out


def evaluate(model: Model, batches: Iterable[Batch]) -> dict:
    """{"loss", "accuracy" (classification)} over batches, no gradients, dropout off."""
    records = []
    for b in batches:
        loss, info = model.evaluate(b)
        records.append({"loss": loss, **info})
    return _summary(records)


def evaluate_stream(model, batches: Iterable[Batch]) -> dict:
    """The same over consecutive windows of B streams (TokenStreams order), carrying
    the state from each batch to the next (a many-to-many SequenceModel)."""
    state, records = None, []
    for b in batches:
        z, state, _ = model.forward(b.x, state)
        loss, _, info = model.score(z, b.y, b.mask)
        records.append({"loss": loss, **info})
    return _summary(records)


class Trainer:
    """Fit `model` with updates from `source` (FullBPTT, StreamTBPTT, or any callable
    n -> (loss, grads, info)); see the module docstring.

    val_data: a list of Batches, or a callable returning an iterable of them.
    transforms: callables (grads, trainer) -> grads | None, applied before clipping;
        they read trainer.info and may add fields to the update's log line in
        trainer.info["log"] (a dict).
    callbacks: callables (trainer, record) after every update, its validation and its
        checkpoint (the record then holds val_* too): sampling, plots, printing, ...
    meta: extra JSON saved in config.json and in every checkpoint (e.g. the app's config).
    vocab: the vocabulary (list of symbols), saved with every checkpoint.
    """

    def __init__(self, model: Model, source, config: TrainConfig | None = None, *,
                 val_data=None, transforms: Iterable = (), callbacks: Iterable = (),
                 meta: dict | None = None, vocab: list | None = None):
        self.model, self.source = model, source
        self.config = config or TrainConfig()
        self.optimizer = self.config.make_optimizer()
        self.val_data = val_data
        self.transforms, self.callbacks = list(transforms), list(callbacks)
        self.meta, self.vocab = meta or {}, vocab
        self.step = 0  # updates done
        self.skipped = 0  # updates skipped by the non-finite guard
        self.best = math.inf  # best validation loss
        self.best_step = 0  # the update after which it was reached
        self.bad_validations = 0  # validations since the best
        self.info: dict = {}  # the info of the last update (for transforms)
        self.history: list[dict] = []  # every record of this process
        self.first_loss: float | None = None  # the divergence test's reference
        self.recent_losses: list[float] = []  # the last DIVERGE_WINDOW finite losses
        self.out_dir = None if self.config.out_dir is None else Path(self.config.out_dir)
        self._logs: list = []
        self._signal: int | None = None  # a SIGINT/SIGTERM received during fit
        self._bar = None

    # ---- the loop -----------------------------------------------------------------

    def fit(self, resume: bool | str | Path = False) -> dict:
        """Run to config.steps (or early stop). resume: True (latest checkpoint of
        out_dir, if any) or a checkpoint path. Returns the last records."""
        lock = None
        if self.out_dir is not None:
            lock = runs.claim(self.out_dir, resume=bool(resume), overwrite=self.config.overwrite)
        try:
            self._logs = [] if self.out_dir is None else logs.open_logs(self.out_dir,
                                                                        self.config.loggers)
            if resume:
                self._resume(resume)
            if self.out_dir is not None:
                self._write_config()
            with self._signals():
                return self._fit()
        finally:
            for log in self._logs:
                log.close()
            if lock is not None:
                lock.release()

    def _fit(self) -> dict:
        cfg = self.config
        stopped = self._stopped_early()  # a resumed run that had stopped stays stopped
        last = {}
        with self._progress() as bar:
            self._bar = bar
            try:
                while self.step < cfg.steps and not stopped:
                    last = self._update()
                    if (cfg.val_every and self.step % cfg.val_every == 0
                            and self.val_data is not None):
                        last.update(self._validate())
                        stopped = self._stopped_early()
                    if cfg.checkpoint_every and self.step % cfg.checkpoint_every == 0:
                        self.save()
                    bar.update(last)
                    for cb in self.callbacks:
                        cb(self, last)
                    if self._signal is not None:
                        self._interrupt()
            finally:
                self._bar = None
        if not last:  # resumed from the end of a finished run: nothing new to record
            return {"stopped_early": stopped, "skipped": self.skipped}
        if self.val_data is not None and "val_loss" not in last:
            last.update(self._validate())
        if self.out_dir is not None:
            self.save()
        if self.skipped:
            warnings.warn(f"{self.skipped} of {self.step} updates were skipped: their loss or "
                          "gradients were NaN or Inf (the weights were left as they were; "
                          "the log marks them 'skipped')", RuntimeWarning, stacklevel=2)
        return {**last, "stopped_early": stopped, "skipped": self.skipped}

    def _stopped_early(self) -> bool:
        return bool(self.config.patience) and self.bad_validations >= self.config.patience

    def print(self, text: str) -> None:
        """Print a line above the progress bar (or plainly when there is none)."""
        if self._bar is not None and self._bar.console is not None:
            self._bar.console.print(text, markup=False, highlight=False)
        else:
            print(text, flush=True)

    @contextmanager
    def _signals(self):
        """SIGINT/SIGTERM during fit: finish the update, save, raise Interrupted."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def handler(signum, frame):
            if self._signal is not None:  # a second Ctrl-C: stop now
                raise KeyboardInterrupt
            self._signal = signum

        old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for s, h in old.items():
                signal.signal(s, h)

    def _interrupt(self):
        name = signal.Signals(self._signal).name
        code = 128 + self._signal
        self._signal = None
        if self.out_dir is None:
            raise Interrupted(f"{name} at update {self.step}: stopped (nothing saved: the "
                              "run has no output folder)", code)
        path = self.save()
        raise Interrupted(f"{name} at update {self.step}: saved {path}; run the same command "
                          f"with --resume --out {self.out_dir} to continue exactly", code)

    def _diverged(self, n: int, why: str):
        lr = self.config.schedule(self.config.lr, n)
        kept = ""
        if self.out_dir is not None and (self.out_dir / "best.safetensors").is_file():
            kept = f"; the best model so far is {self.out_dir / 'best.safetensors'}"
        return TrainingDiverged(f"training diverged at update {n + 1}: {why}; lower the "
                                f"learning rate (lr {lr:g}) or clip harder{kept}")

    def _check_divergence(self, n: int, loss: float) -> None:
        if self.first_loss is None:
            self.first_loss = loss
            return
        self.recent_losses = [*self.recent_losses, loss][-DIVERGE_WINDOW:]
        if not self.config.diverge_factor or len(self.recent_losses) < DIVERGE_WINDOW:
            return
        recent = float(np.median(self.recent_losses))
        if recent > self.config.diverge_factor * max(self.first_loss, 1e-12):
            raise self._diverged(n, f"the median loss of the last {DIVERGE_WINDOW} "
                                    f"updates, {recent:.4g}, is over "
                                    f"{self.config.diverge_factor:g} × the first update's "
                                    f"{self.first_loss:.4g}")

    def _update(self) -> dict:
        cfg, n, t0 = self.config, self.step, time.perf_counter()
        loss, grads, self.info = self.source(n)
        if math.isfinite(loss):
            self._check_divergence(n, float(loss))
        for transform in self.transforms:
            if grads is None:
                break
            grads = transform(grads, self)
        record = {"step": n + 1, "loss": loss, **self.info.pop("log", {})}  # transforms' fields
        if self.info.get("count"):
            record["accuracy"] = self.info["correct"] / self.info["count"]
            record["targets"] = self.info["count"]
        lr = cfg.schedule(cfg.lr, n)
        if grads is None:
            record.update(skipped="transform")
        elif not (math.isfinite(loss) and all_finite(grads)):
            if cfg.nonfinite == "stop":
                raise self._diverged(n, f"loss {loss} or its gradients are not finite")
            self.skipped += 1
            record.update(skipped="non-finite", grad_norm=global_norm(grads))
        else:
            record["grad_norm"] = self._clip(grads)
            self.optimizer.step(self.model.params, grads, lr)
        self.step = n + 1
        record.update(lr=lr, time=time.perf_counter() - t0)
        self._log(record)
        return record

    def _clip(self, grads) -> float:
        cfg = self.config
        if cfg.clip == "norm":
            return clip_grad_norm(grads, cfg.clip_threshold)
        if cfg.clip == "value":
            return clip_grad_value(grads, cfg.clip_threshold)
        return global_norm(grads)

    def validate(self) -> dict:
        batches = self.val_data() if callable(self.val_data) else self.val_data
        return evaluate(self.model, batches)

    def _validate(self) -> dict:
        result = {f"val_{k}": v for k, v in self.validate().items()}
        improved = result["val_loss"] < self.best
        if improved:
            self.best, self.best_step, self.bad_validations = result["val_loss"], self.step, 0
            if self.out_dir is not None:
                self.save(self.out_dir / "best.safetensors")
        else:
            self.bad_validations += 1
        self._log({"step": self.step, **result, "best": improved})
        return result

    # ---- files --------------------------------------------------------------------

    @property
    def checkpoint_dir(self) -> Path:
        return self.out_dir / "checkpoints"

    def resolved_config(self) -> dict:
        return {"train": asdict(self.config), "model": self.model.spec.to_dict(), **self.meta}

    def _write_config(self) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        runs.write_json(self.out_dir / "config.json", self.resolved_config())

    def _log(self, record: dict) -> None:
        self.history.append(record)
        for log in self._logs:
            log.write(record)

    def save(self, path=None) -> Path:
        """Write a checkpoint (default: checkpoints/step-XXXXXXXX.safetensors, keeping
        the last keep_last)."""
        arrays = {f"param.{n}": p for n, p in self.model.params.items()}
        arrays.update({f"optim.{k}": a for k, a in self.optimizer.state_dict().items()})
        if hasattr(self.source, "state_dict"):
            arrays.update({f"source.{k}": a for k, a in self.source.state_dict().items()})
        meta = {"spec": self.model.spec.to_dict(), "step": self.step, "skipped": self.skipped,
                "best": self.best, "best_step": self.best_step,
                "bad_validations": self.bad_validations,
                "first_loss": self.first_loss, "recent_losses": self.recent_losses,
                "rngs": {n: g.bit_generator.state for n, g in self.model.rngs().items()},
                "config": self.resolved_config(), "vocab": self.vocab}
        if path is None:
            path = self.checkpoint_dir / f"step-{self.step:08d}.safetensors"
        save_checkpoint(path, arrays, meta)
        if path.parent == self.checkpoint_dir:
            for old in self.checkpoints()[: -self.config.keep_last]:
                old.unlink()
        return path

    def checkpoints(self) -> list[Path]:
        """This run's step checkpoints, oldest first."""
        if self.out_dir is None or not self.checkpoint_dir.is_dir():
            return []
        return sorted(self.checkpoint_dir.glob("step-*.safetensors"))

    def load(self, path) -> None:
        """Restore everything a checkpoint holds (see the module docstring)."""
        arrays, meta = load_checkpoint(path)
        self.model.load_params(split_prefix(arrays, "param"))
        self.optimizer.load_state_dict(split_prefix(arrays, "optim"))
        if hasattr(self.source, "load_state_dict"):
            self.source.load_state_dict(split_prefix(arrays, "source"))
        rngs = self.model.rngs()
        for name, state in meta["rngs"].items():
            rngs[name].bit_generator.state = state
        self.step, self.skipped = meta["step"], meta["skipped"]
        self.best, self.bad_validations = meta["best"], meta["bad_validations"]
        self.best_step = meta.get("best_step", 0)
        self.first_loss = meta.get("first_loss")
        self.recent_losses = meta.get("recent_losses", [])
        self.vocab = meta.get("vocab", self.vocab)

    def _resume(self, resume) -> None:
        if resume is True:
            found = self.checkpoints()
            if not found:
                return  # nothing to resume: a fresh run
            path = found[-1]
            try:
                self.load(path)
            except CheckpointError as e:
                previous = f" The previous one, {found[-2]}, is intact: delete the damaged " \
                    "file to resume from it." if len(found) > 1 else ""
                raise CheckpointError(f"{e}.{previous}") from e
        else:
            self.load(resume)
        self._truncate_log()

    def _truncate_log(self) -> None:
        """Drop the log records written after the checkpoint we resume from."""
        for log in self._logs:
            log.truncate(self.step)

    def _progress(self):
        return _Progress(self.config.steps, self.step, self.config.unit,
                         enabled=self.config.progress)


class _Progress:
    """A rich progress bar showing the loss, the validation loss, the targets per
    second and the updates skipped, or nothing. `console` is where text goes while it
    runs (Trainer.print), so that nothing printed collides with the bar."""

    def __init__(self, total: int, done: int, unit: str, enabled: bool):
        self.total, self.done, self.unit, self.enabled = total, done, unit, enabled
        self.skipped = 0
        self.console = None

    def __enter__(self):
        if self.enabled:
            from rich import progress as rp

            self.bar = rp.Progress(rp.TextColumn("train"), rp.BarColumn(),
                                   rp.MofNCompleteColumn(), rp.TimeRemainingColumn(),
                                   rp.TextColumn("{task.fields[status]}"))
            self.bar.start()
            self.console = self.bar.console
            self.task = self.bar.add_task("train", total=self.total, completed=self.done,
                                          status="")
        return self

    def update(self, record: dict) -> None:
        if not self.enabled:
            return
        status = f"loss {record['loss']:.4f}"
        if "val_loss" in record:
            status += f"  val {record['val_loss']:.4f}"
        if "targets" in record:
            status += f"  {record['targets'] / record['time']:,.0f} {self.unit}/s"
        self.skipped += "skipped" in record
        if self.skipped:
            status += f"  skipped {self.skipped}"
        self.bar.update(self.task, completed=record["step"], status=status)

    def __exit__(self, *exc):
        if self.enabled:
            self.bar.stop()
