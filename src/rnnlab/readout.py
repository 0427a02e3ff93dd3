"""The layers around the recurrent stack: the readout and the token input.

Readout (an affine map on the last axis; F is applied by the loss, see rnnlab.losses):

    z_t = W_out h_t + b_out          W_out (K, H) "weight", b_out (K,) "bias"
    ∂L/∂h_t = W_outᵀ ∂L/∂z_t,  ∂L/∂W_out = Σ_t ∂L/∂z_t h_tᵀ,  ∂L/∂b_out = Σ_t ∂L/∂z_t

Embedding (token inputs): x_t = E[k_t], E (V, D) "weight"; ∂L/∂E[k] = Σ_{t: k_t = k} ∂L/∂x_t.
OneHot: x_t = e_{k_t} in R^V, no parameters.

Every component has `params` (a dict of arrays, updated in place by the optimizers),
`forward(...) -> (out, cache)` and `backward(cache, d_out) -> (d_in, grads)`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import DTypeLike

from rnnlab._checks import check_array, check_dtype, check_positive_int
from rnnlab._linalg import matmul, outer_sum


class Readout:
    """z = W_out h + b_out over the last axis, initialised as PyTorch's nn.Linear
    (uniform in ±1/√H)."""

    def __init__(self, hidden_size: int, output_size: int, *, dtype: DTypeLike = np.float32,
                 seed: int | None = None):
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        self.output_size = check_positive_int("output_size", output_size)
        self.dtype = check_dtype(dtype)
        self.rng = np.random.default_rng(seed)
        k = 1.0 / np.sqrt(hidden_size)
        self.params = {
            "weight": self.rng.uniform(-k, k, (output_size, hidden_size)).astype(self.dtype),
            "bias": self.rng.uniform(-k, k, output_size).astype(self.dtype),
        }

    def forward(self, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """h (..., H) -> (z (..., K), cache)."""
        h = check_array("h", h, (None,) * (np.ndim(h) - 1) + (self.hidden_size,), self.dtype)
        z = matmul(h.reshape(-1, self.hidden_size), self.params["weight"].T)
        return z.reshape(h.shape[:-1] + (self.output_size,)) + self.params["bias"], h

    def backward(self, h: np.ndarray, dz: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Return (∂L/∂h, {"weight", "bias"})."""
        K, H = self.output_size, self.hidden_size
        dz2, h2 = dz.reshape(-1, K), h.reshape(-1, H)
        grads = {"weight": outer_sum(dz2, h2), "bias": dz2.sum(0)}  # (K, H), (K,)
        return matmul(dz2, self.params["weight"]).reshape(dz.shape[:-1] + (H,)), grads


def _check_tokens(tokens, V: int) -> np.ndarray:
    tokens = np.asarray(tokens)
    if not np.issubdtype(tokens.dtype, np.integer):
        raise TypeError(f"tokens: expected integer token ids, got dtype {tokens.dtype}")
    if tokens.size and (tokens.min() < 0 or tokens.max() >= V):
        raise ValueError(f"tokens: expected ids in [0, {V}), got min {tokens.min()}, "
                         f"max {tokens.max()}")
    return tokens


class Embedding:
    """x = E[k]: token ids (...) -> vectors (..., D); E ~ N(0, 1) as PyTorch's nn.Embedding."""

    def __init__(self, vocab_size: int, dim: int, *, dtype: DTypeLike = np.float32,
                 seed: int | None = None):
        self.vocab_size = check_positive_int("vocab_size", vocab_size)
        self.dim = check_positive_int("dim", dim)
        self.dtype = check_dtype(dtype)
        self.rng = np.random.default_rng(seed)
        self.params = {"weight": self.rng.standard_normal((vocab_size, dim)).astype(self.dtype)}

    def forward(self, tokens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        tokens = _check_tokens(tokens, self.vocab_size)
        return self.params["weight"][tokens], tokens  # (..., D)

    def backward(self, tokens: np.ndarray,
                 dx: np.ndarray) -> tuple[None, dict[str, np.ndarray]]:
        dE = np.zeros_like(self.params["weight"])
        np.add.at(dE, tokens.reshape(-1), dx.reshape(-1, self.dim))
        return None, {"weight": dE}


class OneHot:
    """x = e_k in R^V: token ids (...) -> (..., V); no parameters."""

    def __init__(self, vocab_size: int, *, dtype: DTypeLike = np.float32):
        self.vocab_size = self.dim = check_positive_int("vocab_size", vocab_size)
        self.dtype = check_dtype(dtype)
        self.params: dict[str, np.ndarray] = {}

    def forward(self, tokens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        tokens = _check_tokens(tokens, self.vocab_size)
        return np.eye(self.vocab_size, dtype=self.dtype)[tokens], tokens  # (..., V)

    def backward(self, tokens: np.ndarray,
                 dx: np.ndarray) -> tuple[None, dict[str, np.ndarray]]:
        return None, {}
