"""Success criteria of Pascanu, Mikolov & Bengio (2013).

On N = 10,000 freshly generated sequences, a sequence is wrong when

    regression       its error at a scored step exceeds the threshold:
                     (z - y)² > 0.04 (variant 'martens': |z - y| > 0.04)
    classification   argmax z ≠ y at a scored step (memorization: at ANY of its steps)
    binary           sign(z) disagrees with the target at the scored step

z is the readout before its non-linearity (logits; F is monotone, so argmax and
sign read the same from z as from F(z)). When the task is solved, by criterion:

    paper   the error rate (wrong / N) is under 1 %   (the paper's; the default)
    code    no sequence is wrong                       (Pascanu's script: error < 0.0001 %)

Lengths: `evaluate` draws each batch's length as training does (`T_max`, see
rnnlab.tasks.problems.draw_length), as in Pascanu's script.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from rnnlab import losses
from rnnlab._checks import check_array, check_option, check_positive_int
from rnnlab.tasks.problems import Batch, draw_length
from rnnlab.tasks.registry import Task

SOLVED_BELOW = 0.01  # criterion 'paper': solved when under 1 % of the sequences are wrong
N_EVAL = 10_000  # fresh sequences the criterion is measured on
CRITERIA = ("paper", "code")


def wrong(task: Task, z: np.ndarray, batch: Batch) -> np.ndarray:
    """(B,) bool: which sequences of `batch` the outputs z (L, B, K) get wrong."""
    L, B = batch.mask.shape
    z = check_array("z", z, (L, B, task.n_out))
    if task.kind == "regression":
        e = (z - batch.y)[..., 0]  # (L, B)
        bad = (np.abs(e) if task.error == "absolute" else e * e) > task.threshold
    else:
        bad = ~losses.correct(z, batch.y, task.loss)  # (L, B)
    return np.any(bad & batch.scored, axis=0)


@dataclass(frozen=True)
class Score:
    error_rate: float  # wrong / n
    n_wrong: int
    n: int
    chance_error: float  # the error rate of the best input-blind predictor
    chance_loss: float
    loss: float  # the task's loss, mean over every target (reduction 'mean')
    criterion: str = "paper"  # one of CRITERIA

    @property
    def solved(self) -> bool:
        if self.criterion == "code":
            return self.n_wrong == 0
        return self.error_rate < SOLVED_BELOW


def evaluate(predict: Callable[[np.ndarray], np.ndarray], task: Task, T: int,
             rng: np.random.Generator, *, n: int = N_EVAL, batch_size: int = 1000,
             dtype=np.float32, criterion: str = "paper", T_max: int | None = None) -> Score:
    """Score `predict` (x (L, B, F) -> z (L, B, K)) on n fresh sequences drawn in
    batches of `batch_size`, each batch of length draw_length(T, T_max) (and its own
    length where the task draws one)."""
    check_option("criterion", criterion, CRITERIA)
    n = check_positive_int("n", n)
    batch_size = check_positive_int("batch_size", batch_size)
    loss_fn = losses.get_loss(task.loss)
    n_wrong, total_loss, done = 0, 0.0, 0
    while done < n:
        b = min(batch_size, n - done)
        batch = task.sample(draw_length(T, T_max, rng), b, rng, dtype=dtype)
        z = predict(batch.x)
        n_wrong += int(wrong(task, z, batch).sum())
        total_loss += loss_fn(z, batch.y, batch.mask, "mean")[0] * b
        done += b
    chance_loss, chance_error = task.chance(T)
    return Score(n_wrong / n, n_wrong, n, chance_error, chance_loss, total_loss / n, criterion)
