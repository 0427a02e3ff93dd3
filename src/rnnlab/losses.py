"""Losses on the readout's pre-activation z = W_out h + b_out, with their exact gradients.

Each loss takes z (..., K), a target and an optional mask (...) over the leading
axes, whose last one is the batch: (B, K) for one output per sequence, (T, B, K)
for one per step. It returns (L, ∂L/∂z). Per target position n = (t, b):

    mse     ℓ_n = Σ_k (z_k - y_k)²                 F = identity, y real
    hinge   ℓ_n = Σ_k max(0, 1 - y_k z_k)          F = identity, y in {-1, +1}
    bce     ℓ_n = Σ_k softplus(z_k) - y_k z_k      F = sigmoid, y in {0, 1} (or [0, 1])
    ce      ℓ_n = logsumexp(z) - z_y               F = softmax, y an integer class (...)

all computed stably from z (never from F(z)). The total, with mask m_n in {0, 1}
(1 where a target exists; a masked position contributes exactly nothing, value
and gradient):

    reduction="sum"   L = (1/B) Σ_n m_n ℓ_n   sum over time steps, mean over the batch
    reduction="mean"  L = Σ_n m_n ℓ_n / Σ_n m_n   mean over every real target (per token)

"sum" is the default (the classic texts sum the step losses); "mean" is what a
language model reports (nats per token). For (B, K) outputs the two agree when
nothing is masked. Note that mse sums over the K outputs (it is not divided by K).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from rnnlab._checks import check_array, check_option

REDUCTIONS = ("sum", "mean")
# The readout non-linearity F that goes with each loss.
OUTPUT_ACTIVATION = {"mse": "identity", "hinge": "identity", "bce": "sigmoid", "ce": "softmax"}


def _weights(z: np.ndarray, mask, reduction: str, lead: tuple) -> np.ndarray:
    """w_n = m_n / normaliser, shaped as the leading axes of z."""
    check_option("reduction", reduction, REDUCTIONS)
    if mask is None:
        m = np.ones(lead, z.dtype)
    else:
        m = check_array("mask", np.asarray(mask), lead).astype(z.dtype)
    if reduction == "sum":
        return m / lead[-1]
    return m / max(float(m.sum()), 1.0)


def _check_pair(z, y):
    z = check_array("z", z, (None,) * np.ndim(z))
    if z.ndim < 2:
        raise ValueError(f"z: expected shape (..., B, K) with at least 2 axes, got {z.shape}")
    y = check_array("target", np.asarray(y), z.shape)
    return z, y


def mse(z, y, mask=None, reduction: str = "sum"):
    """Squared error Σ_k (z_k - y_k)²; ∂ℓ/∂z = 2 (z - y)."""
    z, y = _check_pair(z, y)
    w = _weights(z, mask, reduction, z.shape[:-1])[..., None]
    e = z - y
    return float(np.sum(w * e * e)), (2 * w * e).astype(z.dtype)


def hinge(z, y, mask=None, reduction: str = "sum"):
    """Hinge max(0, 1 - y z) for y in {-1, +1}; ∂ℓ/∂z = -y where y z < 1, else 0."""
    z, y = _check_pair(z, y)
    if not np.all(np.abs(y) == 1):
        raise ValueError("target: expected values in {-1, +1} for the hinge loss, "
                         f"got {np.unique(y)[:5]}")
    w = _weights(z, mask, reduction, z.shape[:-1])[..., None]
    margin = 1 - y * z
    active = margin > 0
    return float(np.sum(w * np.where(active, margin, 0))), (-w * y * active).astype(z.dtype)


def bce(z, y, mask=None, reduction: str = "sum"):
    """Binary cross-entropy of sigmoid(z): softplus(z) - y z; ∂ℓ/∂z = sigmoid(z) - y."""
    from rnnlab.activations import sigmoid

    z, y = _check_pair(z, y)
    if np.any((y < 0) | (y > 1)):
        raise ValueError(f"target: expected values in [0, 1] for bce, got min {y.min()}, max {y.max()}")
    w = _weights(z, mask, reduction, z.shape[:-1])[..., None]
    softplus = np.logaddexp(0, z)
    return float(np.sum(w * (softplus - y * z))), (w * (sigmoid(z) - y)).astype(z.dtype)


def log_softmax(z: np.ndarray) -> np.ndarray:
    """log softmax over the last axis, stable: z - max - log Σ exp(z - max)."""
    s = z - z.max(-1, keepdims=True)
    return s - np.log(np.exp(s).sum(-1, keepdims=True))


def softmax(z: np.ndarray) -> np.ndarray:
    return np.exp(log_softmax(z))


def ce(z, y, mask=None, reduction: str = "sum"):
    """Softmax cross-entropy from logits: logsumexp(z) - z_y; ∂ℓ/∂z = softmax(z) - onehot(y).

    y: integer classes shaped as the leading axes of z; at masked positions any value
    (e.g. -1 padding) is accepted.
    """
    z = check_array("z", z, (None,) * np.ndim(z))
    if z.ndim < 2:
        raise ValueError(f"z: expected shape (..., B, K) with at least 2 axes, got {z.shape}")
    lead, K = z.shape[:-1], z.shape[-1]
    y = np.asarray(y)
    if y.shape != lead or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"target: expected integer classes of shape {lead}, got {y.dtype} {y.shape}")
    w = _weights(z, mask, reduction, lead)
    real = w != 0 if mask is not None else np.ones(lead, bool)
    if np.any(real & ((y < 0) | (y >= K))):
        raise ValueError(f"target: expected classes in [0, {K}), got min {y[real].min()}, "
                         f"max {y[real].max()}")
    yc = np.where(real, y, 0)[..., None]  # (..., 1)
    logp = log_softmax(z)
    loss = -float(np.sum(w * np.take_along_axis(logp, yc, -1)[..., 0]))
    dz = np.exp(logp)
    np.put_along_axis(dz, yc, np.take_along_axis(dz, yc, -1) - 1, -1)
    return loss, (w[..., None] * dz).astype(z.dtype)


LOSSES: dict[str, Callable] = {"mse": mse, "hinge": hinge, "bce": bce, "ce": ce}


# Loss Hessians ∂²L/∂z² times a vector v (..., K), weighted as the loss (w_n as above):
# the middle factor of the Gauss-Newton product G = Jᵀ H_L J (rnnlab.gauss_newton).
# Each is positive semi-definite because the loss is convex in z.

def mse_hessian(z, v, mask=None, reduction: str = "sum") -> np.ndarray:
    """mse: H_L v = 2 w v."""
    return 2 * _weights(z, mask, reduction, z.shape[:-1])[..., None] * v


def bce_hessian(z, v, mask=None, reduction: str = "sum") -> np.ndarray:
    """bce with sigmoid: H_L v = w σ(z)(1 - σ(z)) ⊙ v."""
    from rnnlab.activations import sigmoid

    s = sigmoid(z)
    return _weights(z, mask, reduction, z.shape[:-1])[..., None] * s * (1 - s) * v


def ce_hessian(z, v, mask=None, reduction: str = "sum") -> np.ndarray:
    """ce with softmax, p = softmax(z): H_L v = w (p ⊙ v - p (pᵀv))."""
    p = softmax(z)
    w = _weights(z, mask, reduction, z.shape[:-1])[..., None]
    return w * p * (v - np.sum(p * v, -1, keepdims=True))


LOSS_HESSIANS: dict[str, Callable] = {"mse": mse_hessian, "bce": bce_hessian, "ce": ce_hessian}


def get_loss_hessian(name: str) -> Callable:
    """The Hessian-vector product of a loss; hinge has none (its Hessian is 0 a.e.)."""
    check_option("loss (Gauss-Newton needs a twice differentiable loss)", name, LOSS_HESSIANS)
    return LOSS_HESSIANS[name]


def get_loss(name: str) -> Callable:
    check_option("loss", name, LOSSES)
    return LOSSES[name]


def output(z: np.ndarray, loss: str) -> np.ndarray:
    """y = F(z): the readout's output for the non-linearity that goes with `loss`."""
    from rnnlab.activations import sigmoid

    F = OUTPUT_ACTIVATION[loss]
    return softmax(z) if F == "softmax" else sigmoid(z) if F == "sigmoid" else z


def correct(z: np.ndarray, y, loss: str) -> np.ndarray:
    """Per position: whether the prediction is right (classification losses only).
    ce: argmax z = y; bce: every (z_k > 0) = y_k; hinge: every sign(z_k) = y_k."""
    if loss == "ce":
        return z.argmax(-1) == y
    if loss == "bce":
        return np.all((z > 0) == (np.asarray(y) > 0.5), axis=-1)
    if loss == "hinge":
        return np.all(np.where(z > 0, 1, -1) == y, axis=-1)
    raise ValueError(f"loss: accuracy needs a classification loss (ce, bce, hinge), got {loss!r}")
