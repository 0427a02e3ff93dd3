"""Hessian-free optimisation (Martens 2010) with structural damping (Martens &
Sutskever 2011), for a SequenceModel.

One update from θ on a gradient batch (and a curvature batch, its first
`curvature_batch_size` sequences):

    g = ∇f(θ)                                       on the gradient batch
    A = G + λ I + μλ S                              G, S on the curvature batch
                                                    (rnnlab.gauss_newton)
    p_1..p_N = CG on ½ pᵀ A p + gᵀ p from ζ p_prev  (rnnlab.cg; ζ the decay, p_prev
                                                    the previous update's last iterate)
    p = backtracking: from the last saved iterate go back while f(θ + p_i) decreases
    ρ = (f(θ + p) - f(θ)) / (½ pᵀ A p + gᵀ p)       the reduction ratio
    λ ← λ·3/2 if ρ < ¼,  λ ← max(λ·2/3, λ_min) if ρ > ¾   Levenberg-Marquardt, floored
    η = the largest of 1, 0.8, 0.8², ... with f(θ + η p) <= f(θ) + c η gᵀp  (0 if none)
    θ ← θ + η p

The floor λ_min (`min_damping`): at chance the quadratic model is accurate for the
small steps taken (ρ > ¾ update after update), so λ shrinks by 2/3 per update whatever
the network has learnt, and the structural term μλS vanishes with it. Martens' rule has
no floor; the default 10⁻⁶ only keeps λ positive. benchmarks/tasks.md has the runs
with a floor of 10⁻³ on adding at T = 200, where λ had run down to 2·10⁻⁴ at chance.

CG runs in float64 whatever the model's dtype (the products G v in the model's):
in float32 its round-off made φ(p) >= 0 for tiny steps, so ρ = -∞ and λ grew without
end (seen on 3-bit temporal order). f is evaluated on the gradient batch; a
non-finite f counts as +∞ (a rejected step,
ρ = -∞). The model must have no dropout (G and f are those of one fixed network).

    hf = HessianFree(model, HFConfig(max_cg_iters=100, curvature_batch_size=200))
    for n in range(updates):
        info = hf.step(batch(n))      # rnnlab.models.Batch; info: loss, rho, cg_iters, ...

`rnnlab tasks run --optimizer hf` runs this loop on the benchmark problems.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnlab._checks import check_positive_int, check_range
from rnnlab.cg import conjugate_gradient
from rnnlab.gauss_newton import GaussNewton, ParamLayout
from rnnlab.models import Batch


@dataclass
class HFConfig:
    """Martens' settings (2010) and Martens & Sutskever's structural damping (2011)."""

    damping: float = 1.0  # initial λ (Levenberg-Marquardt; adapted every update)
    structural: float = 1 / 30  # μ: weight of structural damping relative to λ (M&S: 1/30)
    curvature_batch_size: int | None = None  # sequences for G (None: a fifth of the batch)
    max_cg_iters: int = 300  # CG iterations per update at most
    cg_tol: float = 5e-4  # Martens' ε of the relative-progress stopping rule
    cg_decay: float = 0.95  # ζ: CG starts from ζ times the previous update's solution
    line_search_c: float = 1e-2  # sufficient-decrease constant c
    line_search_shrink: float = 0.8  # η ← 0.8 η
    line_search_tries: int = 60  # then η = 0
    min_damping: float = 1e-6  # λ_min: λ never falls below it (Martens: no floor; see above)

    def __post_init__(self):
        check_range("damping", self.damping, 0.0, np.inf, lo_open=True)
        check_range("min_damping", self.min_damping, 0.0, np.inf)
        if self.min_damping > self.damping:
            raise ValueError(f"min_damping: expected at most damping = {self.damping}, "
                             f"got {self.min_damping}")
        check_range("structural", self.structural, 0.0, np.inf)
        if self.curvature_batch_size is not None:
            check_positive_int("curvature_batch_size", self.curvature_batch_size)
        check_positive_int("max_cg_iters", self.max_cg_iters)
        check_range("cg_decay", self.cg_decay, 0.0, 1.0)
        check_range("line_search_shrink", self.line_search_shrink, 0.0, 1.0, lo_open=True,
                    hi_open=True)


def batch_subset(batch: Batch, n: int, target: str) -> Batch:
    """The first n sequences of a time-major batch (y per step for target 'each',
    per sequence for 'last')."""
    ax = 1 if target == "each" else 0
    y = np.take(batch.y, range(n), axis=ax)
    mask = None if batch.mask is None else np.take(batch.mask, range(n), axis=ax)
    lengths = None if batch.lengths is None else batch.lengths[:n]
    return Batch(batch.x[:, :n], y, lengths, mask)


class HessianFree:
    """Martens' Hessian-free optimizer over a SequenceModel's parameters (in place).

    `step(batch)` does one update and returns what it did: loss (before), new_loss,
    rho, damping (λ after the update), cg_iters, cg_chosen (the backtracked
    iterate), rate (the line search's η).
    """

    def __init__(self, model, config: HFConfig | None = None):
        if getattr(model.rnn, "dropout", 0.0) > 0:
            raise ValueError(f"model: Hessian-free needs a network without dropout, got "
                             f"dropout={model.rnn.dropout}")
        self.model = model
        self.config = config or HFConfig()
        self.damping = self.config.damping
        self.layout = ParamLayout(model.params)
        self.p_prev = np.zeros(self.layout.size)  # float64, as CG
        self.total_cg_iters = 0

    def _loss_at(self, theta: np.ndarray, batch: Batch) -> float:
        """f(θ) on the batch; +∞ when not finite."""
        self.model.load_params(self.layout.unflatten(theta))
        f = self.model.evaluate(batch)[0]
        return f if np.isfinite(f) else np.inf

    def step(self, batch: Batch) -> dict:
        cfg, m = self.config, self.model
        theta0 = self.layout.flatten(m.params)
        f0, grads, _ = m.loss_and_grads(batch)
        g = self.layout.flatten(grads).astype(np.float64)
        B = batch.x.shape[1]
        Bc = min(B, cfg.curvature_batch_size or max(1, B // 5))
        gn = GaussNewton(m, batch_subset(batch, Bc, m.target))
        lam = self.damping

        def A(v):  # float64 in and out
            Gv = gn.product(v.astype(self.layout.dtype), lam * cfg.structural)
            return Gv.astype(np.float64) + lam * v

        res = conjugate_gradient(A, -g, cfg.cg_decay * self.p_prev, max_iters=cfg.max_cg_iters,
                                 tol=cfg.cg_tol)
        self.p_prev = res.x if np.all(np.isfinite(res.x)) else np.zeros_like(res.x)
        self.total_cg_iters += res.iterations
        # backtracking over the saved iterates, from the last
        k = len(res.saved) - 1
        f_k = self._loss_at(theta0 + res.saved[k][1], batch)
        while k > 0:
            f_prev = self._loss_at(theta0 + res.saved[k - 1][1], batch)
            if not f_prev < f_k:
                break
            k, f_k = k - 1, f_prev
        i_chosen, p, phi = res.saved[k]
        rho = (f_k - f0) / phi if phi < 0 and np.isfinite(f_k) else -np.inf
        if rho < 0.25:
            self.damping = lam * 1.5
        elif rho > 0.75:
            self.damping = max(lam * 2 / 3, cfg.min_damping)
        # line search on η
        rate, f_new, slope = 1.0, f_k, float(g @ p)
        for _ in range(cfg.line_search_tries):
            if f_new <= f0 + cfg.line_search_c * rate * slope:
                break
            rate *= cfg.line_search_shrink
            f_new = self._loss_at(theta0 + rate * p, batch)
        else:
            rate, f_new = 0.0, f0
        m.load_params(self.layout.unflatten(theta0 + rate * p))
        return {"loss": f0, "new_loss": f_new, "rho": float(rho), "damping": self.damping,
                "cg_iters": res.iterations, "cg_chosen": i_chosen, "rate": rate}
