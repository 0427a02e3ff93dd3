"""Echo-state networks (Jaeger 2001; Lukoševičius 2012) as rnnlab models: a tanh RNN
layer whose weights stay fixed, and a readout solved in closed form.

The reservoir is `SequenceModel.rnn` (a one-layer tanh `rnnlab.RNN`) with

    W_hh  sparse (`sparsity` non-zero N(0, 1) weights per unit), rescaled to spectral
          radius ρ (rnnlab.init's "sparse" scheme and spectral_radius option)
    W_ih  Glorot-uniform, times `input_scale`; biases 0,

run once over every series; the model's pooling (e.g. pool="mean+max", the mean and
the maximum of every unit over the series' real steps) summarises each series into
φ (P,). The readout z = W φ + b is ridge regression of the one-hot targets Y (N, K):

    (W, b) = argmin ‖Y - Φ Wᵀ - 1 bᵀ‖² + λ ‖W‖²    (b not penalised)
           W = Yᶜᵀ Φᶜ (Φᶜᵀ Φᶜ + λ I)⁻¹,  b = ȳ - W φ̄,   Φᶜ = Φ - 1 φ̄ᵀ, Yᶜ = Y - 1 ȳᵀ.

With the thin SVD Φᶜ = U diag(σ) Vᵀ every λ costs one product, and the exact
leave-one-out predictions of the whole training set follow from the hat matrix
H = 11ᵀ/N + U diag(σ²/(σ² + λ)) Uᵀ:  ŷ₍₋ᵢ₎ = (ŷᵢ - Hᵢᵢ yᵢ) / (1 - Hᵢᵢ). λ is chosen by
that leave-one-out accuracy (ties: the smaller leave-one-out squared error).
"""

from __future__ import annotations

import numpy as np

from rnnlab.init import initialize

LAMBDAS = tuple(10.0 ** np.arange(-4, 4))  # the ridge strengths tried by leave-one-out


def make_reservoir(model, spectral_radius: float, input_scale: float, sparsity: int = 10,
                   seed: int = 0) -> None:
    """Re-initialise model.rnn in place as a reservoir (see the module docstring)."""
    rnn = model.rnn
    if type(rnn).__name__ != "RNN" or rnn.cell.act.name != "tanh" or rnn.num_layers != 1:
        raise ValueError("esn: the reservoir is a one-layer tanh RNN")
    initialize(rnn, recurrent="sparse", input="glorot", sparsity=sparsity,
               spectral_radius=spectral_radius, seed=seed)
    for name, p in rnn.params.items():
        if name.startswith("weight_ih"):
            p *= input_scale


def summaries(model, X: np.ndarray, lengths: np.ndarray, batch_size: int = 512) -> np.ndarray:
    """Φ (N, P) float64: the pooled reservoir states of X (N, T, F) batch-first."""
    out = []
    for i in range(0, len(X), batch_size):
        L = lengths[i : i + batch_size]
        x = np.ascontiguousarray(X[i : i + batch_size, : L.max()].transpose(1, 0, 2),
                                 model.rnn.dtype)  # (T, B, F)
        out.append(model.summary(x, None, L, keep=False)[0].astype(np.float64))
    return np.concatenate(out)


class RidgePath:
    """The ridge solutions of Φ (N, P) -> Y (N, K) for every λ from one thin SVD."""

    def __init__(self, Phi: np.ndarray, Y: np.ndarray):
        self.phi_mean, self.y_mean = Phi.mean(0), Y.mean(0)  # (P,), (K,)
        self.U, self.s, Vt = np.linalg.svd(Phi - self.phi_mean, full_matrices=False)
        self.V, self.Y = Vt.T, Y
        self.UtY = self.U.T @ (Y - self.y_mean)  # (r, K)

    def solve(self, lam: float) -> tuple[np.ndarray, np.ndarray]:
        """(W (K, P), b (K,)) for ridge strength λ."""
        W = (self.V * (self.s / (self.s**2 + lam))) @ self.UtY  # (P, K)
        return W.T, self.y_mean - self.phi_mean @ W

    def leave_one_out(self, lam: float) -> np.ndarray:
        """(N, K) each training row's prediction by the fit on all the other rows."""
        shrink = self.s**2 / (self.s**2 + lam)  # (r,)
        fitted = self.y_mean + self.U @ (shrink[:, None] * self.UtY)  # (N, K)
        h = 1.0 / len(self.Y) + (self.U**2) @ shrink  # (N,) the hat matrix's diagonal
        return (fitted - h[:, None] * self.Y) / (1.0 - h)[:, None]

    def choose(self, y: np.ndarray, lambdas=LAMBDAS) -> dict:
        """{"lambda", "loo_accuracy", "loo_mse"} of the λ with the best leave-one-out
        accuracy, then the least leave-one-out squared error."""
        def score(lam):
            P = self.leave_one_out(lam)
            return {"lambda": float(lam), "loo_accuracy": float(np.mean(P.argmax(1) == y)),
                    "loo_mse": float(np.mean((P - self.Y) ** 2))}
        return max(map(score, lambdas), key=loo_key)


def loo_key(score: dict) -> tuple[float, float]:
    """Order of leave-one-out scores: accuracy, then the smaller squared error."""
    return score["loo_accuracy"], -score["loo_mse"]


def fit_readout(model, Phi: np.ndarray, y: np.ndarray, lambdas=LAMBDAS) -> dict:
    """Solve model.readout by ridge on Φ -> one-hot(y), λ by leave-one-out; return
    the chosen λ's scores (RidgePath.choose)."""
    K = model.readout.output_size
    path = RidgePath(Phi, np.eye(K)[y])
    score = path.choose(y, lambdas)
    W, b = path.solve(score["lambda"])
    model.readout.params["weight"][...] = W
    model.readout.params["bias"][...] = b
    return score
