"""Linear conjugate gradient on the quadratic φ(x) = ½ xᵀ A x - bᵀ x (A symmetric
positive definite, given only as a product x -> A x), as Hessian-free optimisation
uses it (Martens 2010, section 4):

    r_0 = A x_0 - b,  d_0 = -r_0
    α_i = r_iᵀ r_i / d_iᵀ A d_i,  x_{i+1} = x_i + α_i d_i,  r_{i+1} = r_i + α_i A d_i
    β_i = r_{i+1}ᵀ r_{i+1} / r_iᵀ r_i,  d_{i+1} = -r_{i+1} + β_i d_i
    φ(x_i) = ½ x_iᵀ (r_i - b)

Stopping (Martens' relative-progress rule): after iteration i, with k = max(10, ⌈0.1 i⌉),
stop when i > k, φ(x_i) < 0 and (φ(x_i) - φ(x_{i-k})) / φ(x_i) < k ε; or at max_iters,
or when r = 0 or the curvature dᵀ A d is not positive. The iterates at
i = ⌈γ^j⌉ (γ = 1.3) and the last are kept for backtracking.

A start x0 worse than the origin (φ(x0) > 0 = φ(0): a warm start from a quadratic
that has changed too much, e.g. after the damping grew) is replaced by x0 = 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass
class CGResult:
    x: np.ndarray  # the last iterate
    iterations: int  # products with A after the first
    phi: float  # φ(x)
    saved: list = field(default_factory=list)  # (i, x_i, φ(x_i)) at i = ⌈γ^j⌉ and the last


def _save_points(max_iters: int, gamma: float) -> set[int]:
    points, j = set(), 0
    while (i := math.ceil(gamma**j)) <= max_iters:
        points.add(i)
        j += 1
    return points


def conjugate_gradient(A: Callable[[np.ndarray], np.ndarray], b: np.ndarray,
                       x0: np.ndarray | None = None, *, max_iters: int = 250,
                       tol: float = 5e-4, gamma: float = 1.3) -> CGResult:
    """Minimise φ(x) = ½ xᵀAx - bᵀx from x0 (zeros when None); see the module docstring.
    tol: Martens' ε (0 runs to max_iters or r = 0)."""
    x = np.zeros_like(b) if x0 is None else np.array(x0, dtype=b.dtype)
    r = A(x) - b
    if not 0.5 * float(x @ (r - b)) <= 0:  # φ(x0) > 0 = φ(0), or not finite: start at 0
        x, r = np.zeros_like(b), -b
    d = -r
    rr = float(r @ r)
    phis = [0.5 * float(x @ (r - b))]
    save_at, saved, i = _save_points(max_iters, gamma), [], 0
    while i < max_iters and rr > 0:
        Ad = A(d)
        curv = float(d @ Ad)
        if not curv > 0:
            break
        alpha = rr / curv
        x = x + alpha * d
        r = r + alpha * Ad
        rr_new = float(r @ r)
        d = -r + (rr_new / rr) * d
        rr = rr_new
        i += 1
        phi = 0.5 * float(x @ (r - b))
        phis.append(phi)
        if i in save_at:
            saved.append((i, x.copy(), phi))
        k = max(10, math.ceil(0.1 * i))
        if tol > 0 and i > k and phi < 0 and (phi - phis[i - k]) / phi < k * tol:
            break
    if not saved or saved[-1][0] != i:
        saved.append((i, x.copy(), phis[-1]))
    return CGResult(x, i, phis[-1], saved)
