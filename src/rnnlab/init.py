"""Initialisations of the input weights W_ih and recurrent weights W_hh of a layer.

Each gate block (H rows) of a weight matrix is drawn on its own, so that every
gate's square W_hh block (H, H) gets the property asked for (orthogonal, identity,
spectral radius ρ). Schemes:

    pytorch      U(-1/√H, 1/√H)                       (the layers' own default)
    glorot       U(-a, a), a = √(6 / (fan_in + fan_out)), per block (H, fan_in)
    gaussian     N(0, σ²), σ = 0.01 by default         (Pascanu et al.'s "basic")
    sparse       k = 15 non-zero N(0, 1) weights per unit (row), the rest 0 (Martens 2010)
    orthogonal   Q of the QR of a Gaussian matrix (sign-corrected), per block
    identity     I per square block (Le et al.'s IRNN, with ReLU), 0 for W_ih blocks

`spectral_radius=ρ` then rescales each W_hh block to max |eigenvalue| = ρ (echo-state
style, e.g. 0.95 or 1.2); `forget_bias=b` sets the LSTM forget-gate biases: b_ih[f] = b,
b_hh[f] = 0 (so the pre-activation starts at b); `chrono=T_max` sets the gate biases of
an LSTM or GRU by Tallec & Ollivier's chrono initialisation (`set_chrono_bias`). Biases
are otherwise set to zero, except with "pytorch". Everything is drawn from
`np.random.default_rng(seed)`.

`smart_tanh` is Pascanu et al.'s initialisation of a tanh RNN as their code draws
it, readout included (see its docstring).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rnnlab._checks import check_option, check_positive_int, check_range

SCHEMES = ("pytorch", "glorot", "gaussian", "sparse", "orthogonal", "identity")


def glorot(rng, shape) -> np.ndarray:
    a = math.sqrt(6.0 / (shape[0] + shape[1]))
    return rng.uniform(-a, a, shape)


def gaussian(rng, shape, std: float = 0.01) -> np.ndarray:
    return rng.normal(0.0, std, shape)


def sparse(rng, shape, k: int = 15, std: float = 1.0) -> np.ndarray:
    """k non-zero N(0, std²) entries per row at random columns (all when k >= columns)."""
    W = np.zeros(shape)
    k = min(check_positive_int("sparsity", k), shape[1])
    for row in W:
        row[rng.choice(shape[1], k, replace=False)] = rng.normal(0.0, std, k)
    return W


def orthogonal(rng, shape) -> np.ndarray:
    """A (semi-)orthogonal matrix: QR of a Gaussian, columns' signs fixed by diag(R)."""
    rows, cols = shape
    A = rng.standard_normal((max(rows, cols), min(rows, cols)))
    Q, R = np.linalg.qr(A)
    Q *= np.sign(np.diag(R))
    return Q if rows >= cols else Q.T


def identity(rng, shape) -> np.ndarray:
    return np.eye(*shape)


def spectral_radius(W: np.ndarray) -> float:
    return float(np.max(np.abs(np.linalg.eigvals(W))))


def scale_spectral_radius(W: np.ndarray, rho: float) -> np.ndarray:
    """W · ρ / ρ(W) for a square W (unchanged when ρ(W) = 0)."""
    r = spectral_radius(W)
    return W * (rho / r) if r > 0 else W


@dataclass
class InitConfig:
    """How to initialise a layer (rnnlab.RNN/LSTM/GRU); see the module docstring."""

    recurrent: str = "pytorch"  # scheme of W_hh, one of SCHEMES
    input: str = "pytorch"  # scheme of W_ih, one of SCHEMES ("identity" gives zeros)
    std: float = 0.01  # gaussian: σ
    sparsity: int = 15  # sparse: non-zero weights per unit
    spectral_radius: float | None = None  # rescale each W_hh block to this radius
    forget_bias: float | None = None  # LSTM: the forget gate's bias
    chrono: float | None = None  # LSTM/GRU: chrono gate biases for dependencies up to T_max
    seed: int | None = 0  # the generator of every draw

    def __post_init__(self):
        check_option("recurrent", self.recurrent, SCHEMES)
        check_option("input", self.input, SCHEMES)
        check_range("std", self.std, 0.0, math.inf, lo_open=True)
        check_positive_int("sparsity", self.sparsity)
        if self.spectral_radius is not None:
            check_range("spectral_radius", self.spectral_radius, 0.0, math.inf, lo_open=True)
        if self.chrono is not None:
            check_range("chrono", self.chrono, 2.0, math.inf, lo_open=True)
            if self.forget_bias is not None:
                raise ValueError("forget_bias: chrono sets the forget-gate biases itself; "
                                 f"give one of the two, got forget_bias={self.forget_bias} and "
                                 f"chrono={self.chrono}")


def _draw(rng, scheme: str, shape, cfg: InitConfig) -> np.ndarray:
    if scheme == "gaussian":
        return gaussian(rng, shape, cfg.std)
    if scheme == "sparse":
        return sparse(rng, shape, cfg.sparsity)
    if scheme == "identity" and shape[0] != shape[1]:
        return np.zeros(shape)  # identity is for the square recurrent blocks
    return {"glorot": glorot, "orthogonal": orthogonal, "identity": identity}[scheme](rng, shape)


def initialize(layer, cfg: InitConfig | None = None, **options) -> None:
    """Re-initialise every parameter of `layer` in place (cfg, or InitConfig(**options))."""
    cfg = cfg or InitConfig(**options)
    rng = np.random.default_rng(cfg.seed)
    H, G = layer.hidden_size, layer.cell.num_gates
    k = 1.0 / math.sqrt(H)
    for name, p in layer.params.items():
        kind = "recurrent" if name.startswith("weight_hh") else (
            "input" if name.startswith("weight_ih") else "bias")
        scheme = cfg.recurrent if kind == "recurrent" else cfg.input
        if kind == "bias" or scheme == "pytorch":
            both_pytorch = cfg.recurrent == cfg.input == "pytorch"
            new = rng.uniform(-k, k, p.shape) if kind != "bias" or both_pytorch else np.zeros(p.shape)
        else:
            blocks = [_draw(rng, scheme, (H, p.shape[1]), cfg) for _ in range(G)]
            if kind == "recurrent" and cfg.spectral_radius is not None:
                blocks = [scale_spectral_radius(B, cfg.spectral_radius) for B in blocks]
            new = np.concatenate(blocks)  # (G·H, ·)
        p[...] = new
    if cfg.forget_bias is not None:
        set_forget_bias(layer, cfg.forget_bias)
    if cfg.chrono is not None:
        set_chrono_bias(layer, cfg.chrono, rng)


def set_forget_bias(layer, value: float) -> None:
    """LSTM: b_ih[f] = value, b_hh[f] = 0 in every layer and direction (gate order i, f, g, o)."""
    if layer.cell.state_names != ("h", "c"):
        raise ValueError(f"forget_bias: only an LSTM has a forget gate, got {type(layer).__name__}")
    H = layer.hidden_size
    for name, p in layer.params.items():
        if name.startswith("bias_"):
            p[H : 2 * H] = value if name.startswith("bias_ih") else 0.0


def set_chrono_bias(layer, T_max: float, rng: np.random.Generator | int | None = 0) -> None:
    """Chrono initialisation (Tallec & Ollivier 2018) for dependencies up to T_max steps.

    Per unit j, u_j ~ U[1, T_max - 1] and
        LSTM   b_f = log u_j, b_i = -log u_j    (gate order i, f, g, o)
        GRU    b_z = log u_j                    (h_t = (1 - z) ⊙ n + z ⊙ h_{t-1})
    so that at the start unit j keeps its state with σ(log u_j) = 1 - 1/(1 + u_j): a
    memory of about 1 + u_j steps, spread over [2, T_max] across the units (and, for
    the LSTM, an input gate closed as much). The values go into b_ih; b_hh of those
    gates is 0. Every layer and direction draws its own u.
    """
    signs = layer.cell.memory_gates  # gate block -> sign of log u
    if not signs:
        raise TypeError("chrono: only an LSTM or GRU has gates to set, got "
                        f"{type(layer).__name__}")
    check_range("chrono", T_max, 2.0, math.inf, lo_open=True)
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    H = layer.hidden_size
    for name, b_ih in layer.params.items():
        if not name.startswith("bias_ih"):
            continue
        log_u = np.log(rng.uniform(1.0, T_max - 1.0, H))  # (H,)
        b_hh = layer.params[name.replace("bias_ih", "bias_hh")]
        for block, sign in signs.items():
            b_ih[block * H : (block + 1) * H] = sign * log_u
            b_hh[block * H : (block + 1) * H] = 0.0


def smart_tanh(layer, readout=None, *, seed: int | None = 0, k: int = 15, std: float = 0.01,
               rho: float = 0.95) -> None:
    """Pascanu, Mikolov & Bengio's 'smart_tanh' (their RNN.py), in place:

        W_ih ~ N(0, σ²);  W_hh: k non-zero N(0, σ²) weights per column, rescaled to
        spectral radius ρ;  biases 0;  readout weight ~ N(0, σ²), bias 0

    σ = 0.01, k = 15, ρ = 0.95. Their code multiplies h_{t-1} W from the left and keeps
    k entries per row of W, i.e. k outgoing weights per unit: per column of rnnlab's
    W_hh (which computes W_hh h_{t-1}). Each gate block is drawn on its own.
    """
    rng = np.random.default_rng(seed)
    H = layer.hidden_size
    for name, p in layer.params.items():
        if name.startswith("weight_hh"):
            p[...] = np.concatenate([scale_spectral_radius(sparse(rng, (H, H), k, std).T, rho)
                                     for _ in range(layer.cell.num_gates)])
        elif name.startswith("weight_ih"):
            p[...] = gaussian(rng, p.shape, std)
        else:
            p[...] = 0.0
    if readout is not None:
        readout.params["weight"][...] = gaussian(rng, readout.params["weight"].shape, std)
        readout.params["bias"][...] = 0.0
