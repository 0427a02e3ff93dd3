"""The pathological long-term-dependency problems (Hochreiter & Schmidhuber 1997,
Martens & Sutskever 2011, Pascanu, Mikolov & Bengio 2013, Arjovsky et al. 2016).

Every generator is a function of (T, B, rng) returning a `Batch`, time-major:

    x       (L, B, F)  inputs; L = T except where stated (adding draws L from [T, 1.1T))
    y       (L, B, 1)  float targets (regression, binary), or (L, B) int class indices;
                       steps outside the mask hold a placeholder (0; +1 for hinge)
    mask    (L, B)     True at the steps that carry a target (the loss is taken there)
    scored  (L, B)     True at the steps the success criterion judges (⊆ mask)

As in Pascanu et al.'s generators, one length L is drawn per batch; the sequences
of a batch share it, so no padding is needed. Marker positions are drawn per
sequence. Positions are 0-based: "[0.1L, 0.5L)" means int(0.1L) <= p < int(0.5L).
Chance levels (the loss and the error rate of the best input-blind predictor) are
in `rnnlab.tasks.registry`, beside each task.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rnnlab._checks import check_dtype, check_option, check_positive_int


class Batch(NamedTuple):
    x: np.ndarray  # (L, B, F)
    y: np.ndarray  # (L, B, 1) float or (L, B) int
    mask: np.ndarray  # (L, B) bool: steps with a target
    scored: np.ndarray  # (L, B) bool: steps the criterion judges


ADDING_VARIANTS = ("pascanu", "martens", "arjovsky")


def _check(T, B, rng, min_T: int) -> tuple[int, int]:
    T = check_positive_int("T", T, min_T)
    B = check_positive_int("B", B)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng: expected a numpy.random.Generator, got {type(rng).__name__}")
    return T, B


def _last_step(L: int, B: int, y_last: np.ndarray, dtype, fill: float = 0):
    """(mask, y) with the targets y_last (B,) at the last step only: float targets
    (L, B, 1) of `dtype`, integer ones as class indices (L, B). The other steps hold
    `fill`, a placeholder the loss accepts (it is masked out)."""
    mask = np.zeros((L, B), bool)
    mask[-1] = True
    if y_last.dtype.kind == "f":
        y = np.full((L, B, 1), fill, dtype)
        y[-1, :, 0] = y_last.reshape(B)
    else:
        y = np.zeros((L, B), np.int64)
        y[-1] = y_last
    return mask, y


def _one_hot(symbols: np.ndarray, n: int, dtype) -> np.ndarray:
    """symbols (L, B) int -> (L, B, n) one-hot."""
    return (symbols[..., None] == np.arange(n)).astype(dtype)


def marked_pair(T: int, B: int, rng: np.random.Generator, variant: str = "pascanu"):
    """The sequence length L and the two marked positions p0, p1 (B,) of the adding family.

    pascanu / martens: L uniform in [T, 1.1T), p0 in [0, 0.1L), p1 in [0.1L, 0.5L).
    arjovsky: L = T, p0 in [0, T/2), p1 in [T/2, T).
    """
    check_option("variant", variant, ADDING_VARIANTS)
    if variant == "arjovsky":
        L = T
        return L, rng.integers(0, L // 2, B), rng.integers(L // 2, L, B)
    L = T + int(rng.integers(0, max(1, T // 10)))
    p0 = rng.integers(0, int(0.1 * L), B)
    p1 = rng.integers(int(0.1 * L), int(0.5 * L), B)
    return L, p0, p1


def _marked_values(T, B, rng, variant, values: np.ndarray | None, dtype):
    """x (L, B, 2): channel 0 the value, channel 1 the marker (1 at p0 and p1)."""
    L, p0, p1 = marked_pair(T, B, rng, variant)
    x = np.zeros((L, B, 2), dtype)
    x[..., 0] = rng.random((L, B)) if values is None else values[:L]
    b = np.arange(B)
    x[p0, b, 1] = 1
    x[p1, b, 1] = 1
    return x, x[p0, b, 0].astype(np.float64), x[p1, b, 0].astype(np.float64)


def adding(T: int, B: int, rng: np.random.Generator, *, variant: str = "pascanu",
           target: str | None = None, dtype=np.float32) -> Batch:
    """Adding problem: x_t = (v_t, m_t), v_t ~ U[0, 1), m_t = 1 at two marked steps.

    Target at the last step: (v_p0 + v_p1) / 2 ('mean'), or v_p0 + v_p1 ('sum', the
    default of variant 'arjovsky', Arjovsky et al.'s uRNN setup). Loss: MSE.
    Variants (placement in `marked_pair`): 'pascanu' (default; wrong when the
    squared error > 0.04), 'martens' (same data, Hochreiter & Schmidhuber's and
    Martens & Sutskever's |error| > 0.04), 'arjovsky' (markers in each half, sum).
    """
    T, B = _check(T, B, rng, 10)
    target = target or ("sum" if variant == "arjovsky" else "mean")
    check_option("target", target, ("mean", "sum"))
    x, a, b = _marked_values(T, B, rng, variant, None, check_dtype(dtype))
    s = a + b
    mask, y = _last_step(len(x), B, s / 2 if target == "mean" else s, x.dtype)
    return Batch(x, y, mask, mask)


def multiplication(T: int, B: int, rng: np.random.Generator, *, variant: str = "pascanu",
                   dtype=np.float32) -> Batch:
    """Multiplication problem: the adding problem's inputs, target v_p0 · v_p1. MSE."""
    T, B = _check(T, B, rng, 10)
    x, a, b = _marked_values(T, B, rng, variant, None, check_dtype(dtype))
    mask, y = _last_step(len(x), B, a * b, x.dtype)
    return Batch(x, y, mask, mask)


def xor(T: int, B: int, rng: np.random.Generator, *, variant: str = "pascanu",
        output: str = "sigmoid", dtype=np.float32) -> Batch:
    """XOR problem: the adding problem's layout with binary values v_t ∈ {0, 1}.

    Target at the last step: v_p0 XOR v_p1, as 0/1 for a sigmoid output with binary
    cross-entropy ('sigmoid') or as ±1 for a hinge loss ('hinge'). One output unit;
    the criterion reads its sign (score > 0 means 1).
    """
    T, B = _check(T, B, rng, 10)
    check_option("output", output, ("sigmoid", "hinge"))
    L_max = T + max(1, T // 10)
    bits = rng.integers(0, 2, (L_max, B)).astype(np.float64)
    x, a, b = _marked_values(T, B, rng, variant, bits, check_dtype(dtype))
    t = np.logical_xor(a > 0.5, b > 0.5).astype(np.float64)
    hinge = output == "hinge"
    mask, y = _last_step(len(x), B, 2 * t - 1 if hinge else t, x.dtype, fill=1 if hinge else 0)
    return Batch(x, y, mask, mask)


# temporal order: (start, end) of each marked position as fractions of T
ORDER_WINDOWS = {2: ((0.1, 0.2), (0.5, 0.6)), 3: ((0.1, 0.2), (0.3, 0.4), (0.6, 0.7))}


def _temporal_order(T, B, rng, bits: int, dtype) -> Batch:
    T, B = _check(T, B, rng, 10)
    symbols = rng.integers(2, 6, (T, B))  # distractors c, d, e, f = 2..5
    label = np.zeros(B, np.int64)
    b = np.arange(B)
    for k, (lo, hi) in enumerate(ORDER_WINDOWS[bits]):
        p = rng.integers(int(lo * T), int(hi * T), B)
        v = rng.integers(0, 2, B)  # A = 0, B = 1
        symbols[p, b] = v
        label += v << k
    mask, y = _last_step(T, B, label, check_dtype(dtype))
    return Batch(_one_hot(symbols, 6, dtype), y, mask, mask)


def temporal_order(T: int, B: int, rng: np.random.Generator, *, dtype=np.float32) -> Batch:
    """Temporal order: one-hot over 6 symbols (A=0, B=1, distractors 2..5).

    A or B at one step in [0.1T, 0.2T) and at one in [0.5T, 0.6T), distractors
    elsewhere; class at the last step v0 + 2 v1 ∈ {AA, BA, AB, BB} = 0..3. Softmax.
    """
    return _temporal_order(T, B, rng, 2, dtype)


def temporal_order3(T: int, B: int, rng: np.random.Generator, *, dtype=np.float32) -> Batch:
    """3-bit temporal order: A or B at three steps, in [0.1T, 0.2T), [0.3T, 0.4T) and
    [0.6T, 0.7T); class v0 + 2 v1 + 4 v2 (8 classes) at the last step. Softmax."""
    return _temporal_order(T, B, rng, 3, dtype)


def permutation(T: int, B: int, rng: np.random.Generator, *, dtype=np.float32) -> Batch:
    """Random permutation: one-hot over 100 symbols; symbol 0 or 1 at the first step,
    symbols 2..99 at the others; the first symbol is the class at the last step
    (100-way softmax)."""
    T, B = _check(T, B, rng, 2)
    symbols = rng.integers(2, 100, (T, B))
    symbols[0] = rng.integers(0, 2, B)
    mask, y = _last_step(T, B, symbols[0].copy(), check_dtype(dtype))
    return Batch(_one_hot(symbols, 100, dtype), y, mask, mask)


def _recall(n_blank: int, B: int, rng, n_values: int, n_pos: int, dtype,
            go_on_recall: bool = False) -> Batch:
    """pattern (n_pos steps) | blank × n_blank | go | blank × n_pos, or with
    go_on_recall: pattern | blank × n_blank | go | blank × (n_pos - 1), the go
    symbol on the first of the last n_pos steps.

    Input symbols: values 0..n_values-1, blank n_values, go n_values+1 (one-hot).
    Target classes at every step: blank (= n_values), except the pattern over the
    last n_pos steps. The loss covers every step; the criterion judges the last
    n_pos steps.
    """
    L = 2 * n_pos + n_blank + (0 if go_on_recall else 1)
    blank = n_values
    pattern = rng.integers(0, n_values, (n_pos, B))
    symbols = np.full((L, B), blank)
    symbols[:n_pos] = pattern
    symbols[n_pos + n_blank] = n_values + 1  # go
    y = np.full((L, B), blank, np.int64)
    y[-n_pos:] = pattern
    mask = np.ones((L, B), bool)
    scored = np.zeros((L, B), bool)
    scored[-n_pos:] = True
    return Batch(_one_hot(symbols, n_values + 2, check_dtype(dtype)), y, mask, scored)


MEMORIZATION_LAYOUTS = ("rnnlab", "pascanu")


def memorization(T: int, B: int, rng: np.random.Generator, *, bits: int = 5,
                 layout: str = "rnnlab", dtype=np.float32) -> Batch:
    """Noiseless memorization (Martens & Sutskever): a pattern of n_pos symbols from
    n_values to reproduce after T blanks. bits=5: 2 values × 5 positions; bits=20:
    5 values × 10 positions. Softmax over n_values + 1 (the values and blank).

    layout 'rnnlab': pattern | T blanks | go | n_pos blanks; L = T + 2 n_pos + 1;
        blank targets up to the go step, the pattern over the last n_pos steps, which
        alone the criterion judges.
    layout 'pascanu' (his code's MemTask): pattern | T blanks | go, n_pos - 1 blanks;
        L = T + 2 n_pos, 'go' replaces the blank on the first recall step; blank
        targets before the last n_pos steps, and a sequence is wrong when ANY of its
        steps is (every step is scored).
    """
    check_option("bits", bits, (5, 20))
    check_option("layout", layout, MEMORIZATION_LAYOUTS)
    n_values, n_pos = (2, 5) if bits == 5 else (5, 10)
    T, B = _check(T, B, rng, 1)
    if layout == "rnnlab":
        return _recall(T, B, rng, n_values, n_pos, dtype)
    b = _recall(T, B, rng, n_values, n_pos, dtype, go_on_recall=True)
    return Batch(b.x, b.y, b.mask, np.ones_like(b.scored))


def draw_length(T: int, T_max: int | None, rng: np.random.Generator) -> int:
    """A batch's length as in Pascanu et al.'s training script: uniform in
    [T, T_max) when T_max > T (his min_length, max_length), else T."""
    if T_max is None or T_max <= T:
        return T
    return T + int(rng.integers(T_max - T))


def copying(T: int, B: int, rng: np.random.Generator, *, dtype=np.float32) -> Batch:
    """Copying memory (Arjovsky et al. 2016): 10 symbols from 8, T - 1 blanks, the
    delimiter, 10 blanks; the 10 symbols are to be reproduced over the last 10
    steps. Length T + 20, as in the paper. Softmax over 9 classes (8 + blank)."""
    T, B = _check(T, B, rng, 1)
    return _recall(T - 1, B, rng, 8, 10, dtype)
