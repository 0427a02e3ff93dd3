"""The trainer: a fit loop that never loses work.

One update n = 0, 1, ..., steps-1:

    loss, grads, info = source(n)            full BPTT on data(n), or TBPTT's update n
    grads = transform(grads, trainer) ...    gradient transforms, in order (issue-7
                                             remedies); one returning None skips the step
    guard: any NaN/Inf in grads or loss  ->  the step is skipped and counted, never applied
    ‖g‖ = clip(grads)                        by global norm (default) or by value; the
                                             norm BEFORE clipping is logged
    η = schedule(lr, n);  optimizer.step(model.params, grads, η)

then, every `val_every` updates, validation (and early stopping after `patience`
validations without improvement), and every `checkpoint_every` updates a checkpoint.
Every update writes one JSON line to `<out_dir>/log.jsonl` (step, loss, accuracy
where it applies, grad_norm, lr, time, skipped); validations write {"step", "val_*"}.

A run folder holds config.json (the resolved configuration), log.jsonl and
checkpoints/step-XXXXXXXX.safetensors (the last `keep_last`) plus best.safetensors.
A checkpoint holds the parameters, the optimizer state, the source's carried state
(TBPTT streams), the step, the state of every generator (each layer's `rng`, for
dropout), the trainer's counters, the config and the vocabulary. `fit(resume=True)`
continues from the latest checkpoint; with a data function that depends on the
update index only, the resumed run ends with bitwise the same weights as an
uninterrupted one.
"""

from __future__ import annotations

import json
import math
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rnnlab._checks import check_option, check_positive_int, check_range
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
from rnnlab.train.checkpoint import CheckpointError, load_checkpoint, save_checkpoint, split_prefix


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

    def __post_init__(self):
        if isinstance(self.schedule, dict):
            self.schedule = Schedule(**self.schedule)
        check_positive_int("steps", self.steps)
        check_option("optimizer", self.optimizer, OPTIMIZERS)
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
        self.bad_validations = 0  # validations since the best
        self.info: dict = {}  # the info of the last update (for transforms)
        self.history: list[dict] = []  # every record of this process
        self.out_dir = None if self.config.out_dir is None else Path(self.config.out_dir)

    # ---- the loop -----------------------------------------------------------------

    def fit(self, resume: bool | str | Path = False) -> dict:
        """Run to config.steps (or early stop). resume: True (latest checkpoint of
        out_dir, if any) or a checkpoint path. Returns the last records."""
        cfg = self.config
        if resume:
            self._resume(resume)
        if self.out_dir is not None:
            self._write_config()
        stopped, last = False, {}
        with self._progress() as bar:
            while self.step < cfg.steps and not stopped:
                last = self._update()
                if cfg.val_every and self.step % cfg.val_every == 0 and self.val_data is not None:
                    last.update(self._validate())
                    stopped = bool(cfg.patience) and self.bad_validations >= cfg.patience
                if cfg.checkpoint_every and self.step % cfg.checkpoint_every == 0:
                    self.save()
                bar(last)
                for cb in self.callbacks:
                    cb(self, last)
        if self.val_data is not None and "val_loss" not in last:
            last.update(self._validate())
        if self.out_dir is not None:
            self.save()
        if self.skipped:
            warnings.warn(f"{self.skipped} of {self.step} updates were skipped: their loss or "
                          "gradients were NaN or Inf (the weights were left as they were; "
                          "the log marks them 'skipped')", RuntimeWarning, stacklevel=2)
        return {**last, "stopped_early": stopped, "skipped": self.skipped}

    def _update(self) -> dict:
        cfg, n, t0 = self.config, self.step, time.perf_counter()
        loss, grads, self.info = self.source(n)
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
            self.best, self.bad_validations = result["val_loss"], 0
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
        return {"train": asdict(self.config), "model": self.model.config(), **self.meta}

    def _write_config(self) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        path = self.out_dir / "config.json"
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.resolved_config(), indent=2))
        tmp.replace(path)

    def _log(self, record: dict) -> None:
        self.history.append(record)
        if self.out_dir is not None:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            with open(self.out_dir / "log.jsonl", "a") as f:
                f.write(json.dumps(record) + "\n")

    def save(self, path=None) -> Path:
        """Write a checkpoint (default: checkpoints/step-XXXXXXXX.safetensors, keeping
        the last keep_last)."""
        arrays = {f"param.{n}": p for n, p in self.model.params.items()}
        arrays.update({f"optim.{k}": a for k, a in self.optimizer.state_dict().items()})
        if hasattr(self.source, "state_dict"):
            arrays.update({f"source.{k}": a for k, a in self.source.state_dict().items()})
        meta = {"step": self.step, "skipped": self.skipped, "best": self.best,
                "bad_validations": self.bad_validations,
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
        """Drop the log lines written after the checkpoint we resume from."""
        log = None if self.out_dir is None else self.out_dir / "log.jsonl"
        if log is None or not log.is_file():
            return
        keep = [line for line in log.read_text().splitlines()
                if line.strip() and json.loads(line)["step"] <= self.step]
        log.write_text("".join(line + "\n" for line in keep))

    def _progress(self):
        return _Progress(self.config.steps, self.step, self.config.unit,
                         enabled=self.config.progress)


class _Progress:
    """A rich progress bar showing the loss, the validation loss, the targets per
    second and the updates skipped, or nothing."""

    def __init__(self, total: int, done: int, unit: str, enabled: bool):
        self.total, self.done, self.unit, self.enabled = total, done, unit, enabled
        self.skipped = 0

    def __enter__(self):
        if not self.enabled:
            return lambda record: None
        from rich import progress as rp

        self.bar = rp.Progress(rp.TextColumn("train"), rp.BarColumn(), rp.MofNCompleteColumn(),
                               rp.TimeRemainingColumn(), rp.TextColumn("{task.fields[status]}"))
        self.bar.start()
        task = self.bar.add_task("train", total=self.total, completed=self.done, status="")

        def update(record):
            status = f"loss {record['loss']:.4f}"
            if "val_loss" in record:
                status += f"  val {record['val_loss']:.4f}"
            if "targets" in record:
                status += f"  {record['targets'] / record['time']:,.0f} {self.unit}/s"
            self.skipped += "skipped" in record
            if self.skipped:
                status += f"  skipped {self.skipped}"
            self.bar.update(task, completed=record["step"], status=status)

        return update

    def __exit__(self, *exc):
        if self.enabled:
            self.bar.stop()
