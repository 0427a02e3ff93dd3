"""The task catalogue: each problem with its sizes, loss, success threshold and
chance level.

Chance level = the loss and the error rate of the best predictor that ignores the
inputs (the constant E[y] under MSE, the class frequencies under cross-entropy;
for the recall tasks the memoryless predictor of Arjovsky et al.: blank where the
target is blank, uniform over the values where the pattern is due).

    adding (mean)        MSE Var((a+b)/2) = 1/24 ≈ 0.0417;  P(|a+b-1| > 0.4) = 0.36
    adding (sum)         MSE Var(a+b) = 1/6 ≈ 0.1667;       P(|a+b-1| > 0.2) = 0.64
    multiplication       MSE Var(ab) = 1/9 - 1/16 = 7/144 ≈ 0.0486;
                         P(|ab - 1/4| > 0.2) = F(0.05) + 1 - F(0.45) ≈ 0.390, F(c) = c - c ln c
    xor                  BCE ln 2 (hinge: 1 at score 0); error 1/2
    temporal order       ln 4; 3/4          3-bit: ln 8; 7/8
    permutation          ln 2 (half on symbol 0, half on 1); 1/2
    memorization         n_pos ln(n_values) / L per step, L = T + 2 n_pos + 1 (layout 'pascanu':
                         T + 2 n_pos); 1 - n_values^-n_pos
    copying              10 ln 8 / (T + 20) per step; 1 - 8^-10
    forecast3            Var(x3) ≈ 0.367; ≈ 0.751 (Monte Carlo, 5·10^6 steps)

With the absolute-error criterion of variant 'martens' the error rates become
P(|a+b-1| > 0.08) = 0.8464 (adding) and 1 - F(0.29) + F(0.21) ≈ 0.889 (multiplication).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from rnnlab._checks import check_option
from rnnlab.tasks import problems as P
from rnnlab.tasks.forecast import forecast3

THRESHOLD = 0.04  # Pascanu et al.: a regression sequence is wrong when its error exceeds this


def _F(c: float) -> float:
    """P(ab <= c) for a, b ~ U[0, 1) independent."""
    return c - c * math.log(c)


@dataclass(frozen=True)
class Task:
    """One problem, options bound. `sample(T, B, rng)` draws a batch."""

    name: str
    generate: Callable  # (T, B, rng, dtype=...) -> Batch
    n_in: int  # input features F
    n_out: int  # readout size (classes for softmax tasks)
    kind: str  # 'regression' | 'classification' | 'binary'
    loss: str  # 'mse' | 'ce' | 'bce' | 'hinge'
    chance: Callable[[int], tuple[float, float]]  # T -> (loss, error rate) ignoring the inputs
    error: str = "squared"  # regression criterion: 'squared' or 'absolute' error > threshold
    threshold: float = THRESHOLD
    options: dict = field(default_factory=dict)

    def sample(self, T: int, B: int, rng: np.random.Generator, dtype=np.float32) -> P.Batch:
        return self.generate(T, B, rng, dtype=dtype)


def _spec(generate, n_in, n_out, kind, loss, chance, error="squared") -> dict:
    """The fields of a Task other than its name and options."""
    return {"generate": generate, "n_in": n_in, "n_out": n_out, "kind": kind, "loss": loss,
            "chance": chance, "error": error}


def _adding(variant="pascanu", target=None):
    check_option("variant", variant, P.ADDING_VARIANTS)
    target = target or ("sum" if variant == "arjovsky" else "mean")
    check_option("target", target, ("mean", "sum"))
    absolute = variant == "martens"
    if target == "mean":
        err = 0.92**2 if absolute else 0.6**2
        loss = 1 / 24
    else:
        err = 0.96**2 if absolute else 0.8**2
        loss = 1 / 6
    return _spec(generate=partial(P.adding, variant=variant, target=target), n_in=2, n_out=1,
                kind="regression", loss="mse", chance=lambda T: (loss, err),
                error="absolute" if absolute else "squared")


def _multiplication(variant="pascanu"):
    check_option("variant", variant, P.ADDING_VARIANTS)
    absolute = variant == "martens"
    err = 1 - _F(0.29) + _F(0.21) if absolute else _F(0.05) + 1 - _F(0.45)
    return _spec(generate=partial(P.multiplication, variant=variant), n_in=2, n_out=1,
                kind="regression", loss="mse", chance=lambda T: (7 / 144, err),
                error="absolute" if absolute else "squared")


def _xor(variant="pascanu", output="sigmoid"):
    check_option("variant", variant, P.ADDING_VARIANTS)
    check_option("output", output, ("sigmoid", "hinge"))
    loss = math.log(2) if output == "sigmoid" else 1.0
    return _spec(generate=partial(P.xor, variant=variant, output=output), n_in=2, n_out=1,
                kind="binary", loss="bce" if output == "sigmoid" else "hinge",
                chance=lambda T: (loss, 0.5))


def _classes(generate, n_in, n_out, k):
    return _spec(generate=generate, n_in=n_in, n_out=n_out, kind="classification",
                loss="ce", chance=lambda T: (math.log(k), 1 - 1 / k))


def _memorization(bits=5, layout="rnnlab"):
    check_option("bits", bits, (5, 20))
    check_option("layout", layout, P.MEMORIZATION_LAYOUTS)
    n_values, n_pos = (2, 5) if bits == 5 else (5, 10)
    extra = 2 * n_pos + (layout == "rnnlab")  # L - T
    return _spec(generate=partial(P.memorization, bits=bits, layout=layout), n_in=n_values + 2,
                n_out=n_values + 1, kind="classification", loss="ce",
                chance=lambda T: (n_pos * math.log(n_values) / (T + extra),
                                  1 - float(n_values) ** -n_pos))


def _copying():
    return _spec(generate=P.copying, n_in=10, n_out=9, kind="classification",
                loss="ce", chance=lambda T: (10 * math.log(8) / (T + 20), 1 - 8.0**-10))


def _forecast3(noise=0.05):
    return _spec(generate=partial(forecast3, noise=noise), n_in=3, n_out=1, kind="regression",
                loss="mse", chance=lambda T: (0.367, 0.751))


# name -> (builder of the Task fields from the options, one-line description)
_BUILDERS: dict[str, tuple[Callable, str]] = {
    "adding": (_adding, "mean (or sum) of two marked values; MSE"),
    "multiplication": (_multiplication, "product of two marked values; MSE"),
    "xor": (_xor, "XOR of two marked bits; sigmoid or hinge"),
    "temporal_order": (lambda: _classes(P.temporal_order, 6, 4, 4),
                       "order of 2 symbols A/B among distractors; 4 classes"),
    "temporal_order3": (lambda: _classes(P.temporal_order3, 6, 8, 8),
                        "order of 3 symbols A/B among distractors; 8 classes"),
    "permutation": (lambda: _classes(P.permutation, 100, 100, 2),
                    "recall the first of 100 symbols (0 or 1); 100 classes"),
    "memorization": (_memorization, "reproduce a 5-bit (or 20-bit) pattern after T blanks"),
    "copying": (_copying, "copying memory (Arjovsky et al.): 10 symbols from 8 after T steps"),
    "forecast3": (_forecast3, "next x3 from the last T steps of 3 variables; MSE"),
}

TASKS = tuple(_BUILDERS)


def describe(name: str) -> str:
    check_option("task", name, TASKS)
    return _BUILDERS[name][1]


def make_task(name: str, **options) -> Task:
    """The task `name` with its options (variant='pascanu'|'martens'|'arjovsky' and
    target='mean'|'sum' for adding; variant for multiplication and xor; output=
    'sigmoid'|'hinge' for xor; bits=5|20 for memorization; noise for forecast3)."""
    check_option("task", name, TASKS)
    build = _BUILDERS[name][0]
    try:
        fields = build(**options)
    except TypeError as e:
        raise ValueError(f"options: task {name!r} got options {sorted(options)} it does not "
                         f"take ({e})") from e
    return Task(name=name, options=dict(options), **fields)
