"""Optimizers, learning-rate schedules, gradient clipping and the non-finite guard.

Optimizers work on dicts: `opt.step(params, grads, lr)` updates every array of
`params` IN PLACE from the array of the same name in `grads`. They follow
torch.optim's update rules exactly (g ← g + λθ first when weight_decay λ > 0):

    SGD        b ← μ b + g (b = g at the first step);  g ← g + μ b (nesterov) or b;  θ ← θ - η g
    Adagrad    s ← s + g²;                              θ ← θ - η g / (√s + ε)
    RMSprop    v ← α v + (1-α) g²;  u = g / (√v + ε);   b ← μ b + u (μ > 0) or u;  θ ← θ - η b
    Adam       m ← β1 m + (1-β1) g;  v ← β2 v + (1-β2) g²;  at step n:
               θ ← θ - (η / (1-β1ⁿ)) m / (√v / √(1-β2ⁿ) + ε)

(SGD without momentum is plain or mini-batch gradient descent, by the batch it is given.)
`state_dict()` returns {"step": n, "<slot>.<param name>": array, ...}, flat and
ready for safetensors; `load_state_dict` restores it.

Clipping (Pascanu et al. 2013), both in place and returning the norm before clipping:

    clip_grad_norm   ‖g‖ = √(Σ over all parameters of Σ g²);  if ‖g‖ ≥ c: g ← c g / ‖g‖
    clip_grad_value  g ← min(max(g, -c), c) element-wise
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rnnlab._checks import check_option, check_range

# ---- gradients ------------------------------------------------------------------

def global_norm(grads: dict[str, np.ndarray]) -> float:
    """‖g‖ over all arrays together (float64 accumulation); inf/nan when any entry is."""
    return math.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64))) for g in grads.values()))


def all_finite(grads: dict[str, np.ndarray]) -> bool:
    """The non-finite guard's test: False when any gradient entry is NaN or ±Inf."""
    return all(bool(np.isfinite(g).all()) for g in grads.values())


def clip_grad_norm(grads: dict[str, np.ndarray], max_norm: float) -> float:
    """Rescale all gradients together to norm `max_norm` when their norm is at least it.
    Returns the norm before clipping (as torch.nn.utils.clip_grad_norm_)."""
    check_range("max_norm", max_norm, 0.0, math.inf, lo_open=True)
    norm = global_norm(grads)
    if math.isfinite(norm) and norm >= max_norm:
        # torch: coefficient max_norm / (norm + 1e-6), clamped to 1
        scale = min(max_norm / (norm + 1e-6), 1.0)
        for g in grads.values():
            g *= g.dtype.type(scale)
    return norm


def clip_grad_value(grads: dict[str, np.ndarray], clip_value: float) -> float:
    """Clamp every entry to [-c, c]. Returns the global norm before clipping."""
    check_range("clip_value", clip_value, 0.0, math.inf, lo_open=True)
    norm = global_norm(grads)
    for g in grads.values():
        np.clip(g, -clip_value, clip_value, out=g)
    return norm


# ---- optimizers -----------------------------------------------------------------

class Optimizer:
    """Base: per-parameter state slots (arrays) created lazily at the first step."""

    slots: tuple[str, ...] = ()

    def __init__(self, lr: float, weight_decay: float = 0.0):
        self.lr = check_range("lr", lr, 0.0, math.inf)
        self.weight_decay = check_range("weight_decay", weight_decay, 0.0, math.inf)
        self.step_count = 0
        self.state: dict[str, dict[str, np.ndarray]] = {s: {} for s in self.slots}

    def step(self, params: dict, grads: dict, lr: float | None = None) -> None:
        """One update of every parameter that has a gradient; lr overrides self.lr."""
        missing = [n for n in grads if n not in params]
        if missing:
            raise KeyError(f"grads: no parameter named {missing}")
        self.step_count += 1
        lr = self.lr if lr is None else lr
        for name, g in grads.items():
            p = params[name]
            if self.weight_decay:
                g = g + self.weight_decay * p
            self._update(name, p, g, lr)

    def _slot(self, slot: str, name: str, like: np.ndarray) -> np.ndarray:
        s = self.state[slot]
        if name not in s:
            s[name] = np.zeros_like(like)
        return s[name]

    def _update(self, name: str, p: np.ndarray, g: np.ndarray, lr: float) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict[str, np.ndarray]:
        out = {"step": np.array(self.step_count, np.int64)}
        for slot, arrays in self.state.items():
            out.update({f"{slot}.{n}": a.copy() for n, a in arrays.items()})
        return out

    def load_state_dict(self, state: dict) -> None:
        if "step" not in state:
            raise KeyError("optimizer state_dict: missing key 'step'")
        self.step_count = int(np.asarray(state["step"]).item())
        self.state = {s: {} for s in self.slots}
        for key, a in state.items():
            if key == "step":
                continue
            slot, _, name = key.partition(".")
            if slot not in self.state:
                raise KeyError(f"optimizer state_dict: unknown slot {slot!r} in key {key!r} "
                               f"(this optimizer has {self.slots})")
            self.state[slot][name] = np.array(a, copy=True)


class SGD(Optimizer):
    """Gradient descent, with momentum μ (heavy ball) or Nesterov momentum."""

    slots = ("momentum_buffer",)

    def __init__(self, lr: float = 0.01, momentum: float = 0.0, nesterov: bool = False,
                 weight_decay: float = 0.0):
        super().__init__(lr, weight_decay)
        self.momentum = check_range("momentum", momentum, 0.0, 1.0)
        if nesterov and self.momentum == 0:
            raise ValueError("nesterov: needs momentum > 0, got momentum 0")
        self.nesterov = bool(nesterov)

    def _update(self, name, p, g, lr):
        if self.momentum:
            first = name not in self.state["momentum_buffer"]
            b = self._slot("momentum_buffer", name, p)
            if first:
                b[...] = g
            else:
                b *= self.momentum
                b += g
            g = g + self.momentum * b if self.nesterov else b
        p -= p.dtype.type(lr) * g


class Adagrad(Optimizer):
    slots = ("sum",)

    def __init__(self, lr: float = 0.01, eps: float = 1e-10, weight_decay: float = 0.0):
        super().__init__(lr, weight_decay)
        self.eps = check_range("eps", eps, 0.0, math.inf)

    def _update(self, name, p, g, lr):
        s = self._slot("sum", name, p)
        s += g * g
        p -= lr * g / (np.sqrt(s) + self.eps)


class RMSprop(Optimizer):
    """Tieleman and Hinton's RMSprop, as torch.optim.RMSprop (not centered)."""

    slots = ("square_avg", "momentum_buffer")

    def __init__(self, lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-8,
                 momentum: float = 0.0, weight_decay: float = 0.0):
        super().__init__(lr, weight_decay)
        self.alpha = check_range("alpha", alpha, 0.0, 1.0)
        self.eps = check_range("eps", eps, 0.0, math.inf)
        self.momentum = check_range("momentum", momentum, 0.0, 1.0)

    def _update(self, name, p, g, lr):
        v = self._slot("square_avg", name, p)
        v *= self.alpha
        v += (1 - self.alpha) * g * g
        u = g / (np.sqrt(v) + self.eps)
        if self.momentum:
            b = self._slot("momentum_buffer", name, p)
            b *= self.momentum
            b += u
            u = b
        p -= lr * u


class Adam(Optimizer):
    slots = ("exp_avg", "exp_avg_sq")

    def __init__(self, lr: float = 0.001, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0):
        super().__init__(lr, weight_decay)
        self.beta1 = check_range("betas[0]", betas[0], 0.0, 1.0, hi_open=True)
        self.beta2 = check_range("betas[1]", betas[1], 0.0, 1.0, hi_open=True)
        self.eps = check_range("eps", eps, 0.0, math.inf)

    def _update(self, name, p, g, lr):
        m, v = self._slot("exp_avg", name, p), self._slot("exp_avg_sq", name, p)
        m *= self.beta1
        m += (1 - self.beta1) * g
        v *= self.beta2
        v += (1 - self.beta2) * g * g
        n = self.step_count
        bc1, bc2 = 1 - self.beta1**n, 1 - self.beta2**n
        p -= (lr / bc1) * m / (np.sqrt(v) / math.sqrt(bc2) + self.eps)


OPTIMIZERS = {"sgd": SGD, "adagrad": Adagrad, "rmsprop": RMSprop, "adam": Adam}


# ---- learning-rate schedules ----------------------------------------------------

SCHEDULES = ("constant", "step", "exponential", "cosine")


@dataclass
class Schedule:
    """η(n) at update n = 0, 1, 2, ... from the base rate η0:

        constant     η0
        step         η0 · gamma^⌊n / step_size⌋
        exponential  η0 · gamma^n
        cosine       η_min + (η0 - η_min) (1 + cos(π min(n, total) / total)) / 2
    """

    kind: str = "constant"  # one of SCHEDULES
    gamma: float = 0.1  # step: factor every step_size updates; exponential: factor per update
    step_size: int = 1000  # step: updates between decays
    total: int = 1000  # cosine: updates to reach min_lr
    min_lr: float = 0.0  # cosine: the final rate

    def __post_init__(self):
        check_option("kind", self.kind, SCHEDULES)
        check_range("gamma", self.gamma, 0.0, math.inf, lo_open=True)
        if self.step_size < 1 or self.total < 1:
            raise ValueError(f"step_size, total: expected >= 1, got {self.step_size}, {self.total}")

    def __call__(self, base_lr: float, n: int) -> float:
        if self.kind == "step":
            return base_lr * self.gamma ** (n // self.step_size)
        if self.kind == "exponential":
            return base_lr * self.gamma**n
        if self.kind == "cosine":
            frac = min(n, self.total) / self.total
            return self.min_lr + (base_lr - self.min_lr) * (1 + math.cos(math.pi * frac)) / 2
        return base_lr
