"""Element-wise activations σ of the Elman RNN, each with its derivative written in
terms of its output y = σ(a), so that backward needs only the stored states.

    tanh        y = tanh(a)                      σ'(a) = 1 - y²
    sigmoid     y = 1 / (1 + e^-a)               σ'(a) = y (1 - y)
    relu        y = max(a, 0)                    σ'(a) = [y > 0]
    leaky_relu  y = a if a > 0 else slope·a      σ'(a) = 1 if y > 0 else slope   (slope > 0)
    elu         y = a if a > 0 else α(e^a - 1)   σ'(a) = 1 if y > 0 else y + α   (α > 0)
    identity    y = a                            σ'(a) = 1
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnlab._checks import check_option, check_range

ACTIVATIONS = ("tanh", "sigmoid", "relu", "leaky_relu", "elu", "identity")


def sigmoid(a: np.ndarray) -> np.ndarray:
    """Logistic function, stable for large |a|."""
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(a.dtype, copy=False)


@dataclass(frozen=True)
class Activation:
    """σ and σ' (from the output) by name."""

    name: str = "tanh"
    negative_slope: float = 0.01  # leaky_relu's slope for a <= 0
    alpha: float = 1.0  # elu's saturation value -α

    def __post_init__(self):
        check_option("nonlinearity", self.name, ACTIVATIONS)
        check_range("negative_slope", self.negative_slope, 0.0, np.inf, lo_open=True)
        check_range("alpha", self.alpha, 0.0, np.inf, lo_open=True)

    @property
    def param(self) -> float:
        """The one shape parameter the activation uses (slope or α)."""
        return self.negative_slope if self.name == "leaky_relu" else self.alpha

    def __call__(self, a: np.ndarray) -> np.ndarray:
        n, p = self.name, self.param
        if n == "tanh":
            return np.tanh(a)
        if n == "sigmoid":
            return sigmoid(a)
        if n == "relu":
            return np.maximum(a, 0)
        if n == "leaky_relu":
            return np.where(a > 0, a, a * p)
        if n == "elu":
            return np.where(a > 0, a, p * np.expm1(np.minimum(a, 0)))
        return a.copy()

    def grad_from_output(self, y: np.ndarray) -> np.ndarray:
        """σ'(a) expressed through y = σ(a)."""
        n, p = self.name, self.param
        if n == "tanh":
            return 1 - y * y
        if n == "sigmoid":
            return y * (1 - y)
        if n == "relu":
            return (y > 0).astype(y.dtype)
        if n == "leaky_relu":
            return np.where(y > 0, 1, p).astype(y.dtype)
        if n == "elu":
            return np.where(y > 0, 1, y + p).astype(y.dtype)
        return np.ones_like(y)
