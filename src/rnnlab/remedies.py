"""Remedies for vanishing and exploding gradients, as gradient transforms.

Each works from one BPTT pass (`backward(..., return_deltas=True)`) and returns a
new gradient (or a decision), so any optimizer can follow it. The classes at the
end plug them into rnnlab.train.Trainer(transforms=[...]) (they need a source
that keeps the pass: FullBPTT(model, data, keep_pass=True)).

- `shrink_fallback`: Pascanu et al.'s guard. When ‖∇L‖ is NaN, Inf or above
  `max_norm`, the step is replaced by W_hh ← W_hh − 0.02·W_hh (every recurrent
  matrix) and the optimizer does not step. Clipping itself is rnnlab.optim's.
- `pascanu_omega`: the regulariser of Pascanu, Mikolov and Bengio (2013), for the
  Elman RNN:

      Ω = mean over (k, b) of ( ‖(∂L/∂h_{k+1}) ∂h_{k+1}/∂h_k‖² / ‖∂L/∂h_{k+1}‖² − 1 )²

  with ∂h_{k+1}/∂h_k = diag(σ'(a_{k+1})) W_hh, over every real step and sequence b
  (k = 0 reads the initial state) whose ∂L/∂h_{k+1} is non-zero, summed over layers
  and directions. Its gradient is taken, as in the paper, only through the
  immediate dependence on W_hh: ∂L/∂h_{k+1} and σ' are held constant. With
  v = ∂L/∂h_{k+1} ⊙ σ'(a_{k+1}), q = v W_hh, n = ‖∂L/∂h_{k+1}‖², ρ = ‖q‖²/n:

      ∂Ω/∂W_hh = Σ_{k,b} 4 (ρ − 1) / (N n) · vᵀ q       (N terms)

- `simplex_direction`: Galvan's direction. The temporal components ∇L|_t are
  normalised, g_t = ∇L|_t / ‖∇L|_t‖, combined with random weights β on the simplex
  drawn anew every call (β_t = exp(1 − u_t) / Σ_s exp(1 − u_s), u ~ U(0, 1), or
  uniform on the simplex), g = Σ β_t g_t, and rescaled to the gradient's norm,
  d = ‖∇L‖ g / ‖g‖. Above ‖∇L‖ > ψ it switches back to the plain gradient. d is
  NOT a descent direction in general (a component may point against ∇L and still
  get its share); it is when every ⟨∇L|_t, ∇L⟩ > 0. The cosine between d and ∇L is
  returned so the trainer can log it every step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rnnlab._checks import check_option, check_range
from rnnlab._linalg import outer_sum
from rnnlab.diagnostics.temporal import Term, temporal_norms, weighted_gradient
from rnnlab.layers import Cache
from rnnlab.optim import global_norm


def shrink_fallback(grads: dict, params: dict, max_norm: float = np.inf, shrink: float = 0.02) -> bool:
    """If ‖grads‖ is not finite or exceeds max_norm, shrink every W_hh in place
    (W_hh ← (1 − shrink) W_hh) and return True: the caller then skips its step."""
    check_range("shrink", shrink, 0.0, 1.0, hi_open=True)
    norm = global_norm(grads)
    if math.isfinite(norm) and norm <= max_norm:
        return False
    for name, p in params.items():
        if "weight_hh" in name:
            p *= 1.0 - shrink
    return True


def pascanu_omega(layer, cache: Cache, deltas: dict,
                  prefix: str = "") -> tuple[float, dict[str, np.ndarray]]:
    """Ω and ∂Ω/∂W_hh (immediate dependence) for every layer and direction of an Elman
    stack: (Ω, {prefix + 'weight_hh_l0': (H, H), ...}). See the module docstring."""
    if layer.cell.act is None:
        raise TypeError(f"layer: Pascanu's regulariser is defined here for the Elman RNN, "
                        f"got {type(layer).__name__}")
    terms = []
    for li, lc in enumerate(cache.layers):
        for d, suffix in enumerate(layer.suffixes(li)):
            dc, delta = lc.directions[d], deltas[suffix]
            H = delta.dH.shape[-1]
            dH = delta.dH.reshape(-1, H)  # (T·B, H) ∂L/∂h_{k+1}
            v = delta.dHP.reshape(-1, H)  # (T·B, H) ∂L/∂h_{k+1} ⊙ σ'(a_{k+1}), BPTT's own
            q = v @ layer.params[f"weight_hh{suffix}"]  # the part of ∂L/∂h_k from step k+1
            n = np.einsum("ij,ij->i", dH, dH)  # (T·B,)
            real = n > 0 if dc.mask is None else (n > 0) & dc.mask.reshape(-1)
            terms.append((suffix, v, q, np.where(real, n, 1.0), real))
    N = max(sum(int(real.sum()) for *_, real in terms), 1)
    omega, grads = 0.0, {}
    for suffix, v, q, n, real in terms:
        rho = np.where(real, np.einsum("ij,ij->i", q, q) / n, 1.0)  # (T·B,), 1 off the terms
        omega += float(np.square(rho - 1).sum()) / N
        coef = (4 * (rho - 1) / (N * n)).astype(v.dtype)  # (T·B,), 0 off the terms
        grads[f"{prefix}weight_hh{suffix}"] = outer_sum(coef[:, None] * v, q)  # (H, H)
    return omega, grads


BETAS = ("exp", "uniform")


@dataclass
class SimplexConfig:
    """Galvan's simplex direction."""

    beta: str = "exp"  # 'exp': β ∝ exp(1 − u), u ~ U(0,1); 'uniform': uniform on the simplex
    psi: float = math.inf  # switch back to the plain gradient when ‖∇L‖ > psi

    def __post_init__(self):
        check_option("beta", self.beta, BETAS)
        if not self.psi > 0:
            raise ValueError(f"psi: expected a value in (0, inf], got {self.psi!r}")


@dataclass(frozen=True)
class SimplexStep:
    """What the direction was made of, for the log."""

    direction: dict  # name -> array: the direction d (or ∇L when switched)
    beta: np.ndarray  # (T,) the simplex weights (zero at steps with no component)
    switched: bool  # True when ‖∇L‖ > ψ and d = ∇L
    grad_norm: float  # ‖∇L‖
    cosine: float  # cos(d, ∇L)


def simplex_weights(n: int, rng: np.random.Generator, beta: str = "exp") -> np.ndarray:
    """n random weights on the simplex (β ≥ 0, Σ β = 1), drawn anew every call."""
    check_option("beta", beta, BETAS)
    if beta == "uniform":
        return rng.dirichlet(np.ones(n))
    e = np.exp(1.0 - rng.random(n))
    return e / e.sum()


def simplex_direction(terms: list[Term], grads: dict, rng: np.random.Generator,
                      config: SimplexConfig | None = None) -> SimplexStep:
    """Galvan's direction (see the module docstring) from the temporal terms of one
    pass (rnnlab.diagnostics.layer_terms / model_terms); `grads` is ∇L; every
    parameter in it must have terms."""
    config = config or SimplexConfig()
    g_norm = global_norm(grads)
    norms = temporal_norms(terms).total  # (T,) ‖∇L|_t‖
    live = norms > 0
    beta = np.zeros_like(norms)
    if g_norm > config.psi or not live.any():
        return SimplexStep(grads, beta, True, g_norm, 1.0)
    beta[live] = simplex_weights(int(live.sum()), rng, config.beta)
    w = np.where(live, beta / np.where(live, norms, 1.0), 0.0)  # (T,) β_t / ‖∇L|_t‖
    g = weighted_gradient(terms, w, grads)  # Σ β_t g_t in one product per block
    scale = g_norm / global_norm(g)
    d = {n: a * scale for n, a in g.items()}
    cosine = sum(float(np.vdot(d[n], grads[n])) for n in grads) / (g_norm * g_norm)
    return SimplexStep(d, beta, False, g_norm, cosine)


# ---- as transforms of rnnlab.train.Trainer: (grads, trainer) -> grads | None -----------

def kept_pass(trainer, who: str):
    """The update's (cache, dz, deltas), kept by the source (loss_and_grads(keep_pass=True))."""
    kept = trainer.info.get("pass")
    if kept is None:
        raise ValueError(f"{who}: needs the per-step errors of the update; train with a source "
                         "that keeps them, e.g. FullBPTT(model, data, keep_pass=True)")
    return kept


def log_value(trainer, **values) -> None:
    """Add fields to this update's log record."""
    trainer.info.setdefault("log", {}).update(values)


@dataclass
class ShrinkFallback:
    """Pascanu et al.'s fallback as a transform: see shrink_fallback."""

    max_norm: float = math.inf  # ‖∇L‖ above this (or NaN/Inf) replaces the step by the shrink
    shrink: float = 0.02  # W_hh ← (1 − shrink) W_hh

    def __call__(self, grads, trainer):
        if shrink_fallback(grads, trainer.model.params, self.max_norm, self.shrink):
            log_value(trainer, fallback=True)
            return None
        return grads


@dataclass
class OmegaRegularizer:
    """Adds α ∂Ω/∂W_hh (immediate dependence) to the gradient of every W_hh of the
    model's Elman stack (`model.rnn`); logs Ω."""

    alpha: float = 2.0  # weight α of Ω

    def __call__(self, grads, trainer):
        (_, rcache, _), _, deltas = kept_pass(trainer, "OmegaRegularizer")
        omega, d_omega = pascanu_omega(trainer.model.rnn, rcache, deltas, prefix="rnn.")
        for n, g in d_omega.items():
            grads[n] = grads[n] + (self.alpha * g).astype(grads[n].dtype)
        log_value(trainer, omega=omega)
        return grads


class SimplexTransform:
    """Galvan's direction as a transform; logs the cosine with ∇L and the switch."""

    def __init__(self, config: SimplexConfig | None = None, seed: int | None = None):
        self.config = config or SimplexConfig()
        self.rng = np.random.default_rng(seed)

    def __call__(self, grads, trainer):
        from rnnlab.diagnostics.temporal import model_terms

        terms = model_terms(trainer.model, kept_pass(trainer, "SimplexTransform"))
        step = simplex_direction(terms, grads, self.rng, self.config)
        log_value(trainer, cosine=step.cosine, switched=step.switched)
        return {n: a.astype(grads[n].dtype, copy=False) for n, a in step.direction.items()}
