"""Ensembles of classifiers: p(class | x) = (1/M) Σ_m p_m(class | x), the mean of the
members' probabilities. Member m reads its own input view (k_m steps per recurrent
step, rnnlab.apps.classifier.chunk) of the same standardised series.

On disk a run folder holds members/<m>/, each a checkpoint folder that
rnnlab.apps.network.load reads (its metadata carries the member's chunk).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


class Ensemble:
    def __init__(self, members: list, chunks: list[int]):
        if not members or len(members) != len(chunks):
            raise ValueError(f"members: expected one chunk per member, got {len(members)} "
                             f"members and {len(chunks)} chunks")
        self.members, self.chunks = members, chunks

    def member_probabilities(self, X: np.ndarray, lengths: np.ndarray,
                             batch_size: int = 256) -> np.ndarray:
        """(M, N, K): each member's probabilities of X (N, T, F) batch-first, batch_size
        series at a time (the layers keep every step's states)."""
        from rnnlab.apps.classifier import chunk

        def member(m, k):
            parts = []
            for i in range(0, len(X), batch_size):
                L = lengths[i : i + batch_size]
                parts.append(m.predict(*chunk(X[i : i + batch_size, : L.max()], L, k)))
            return np.concatenate(parts)

        return np.stack([member(m, k) for m, k in zip(self.members, self.chunks)])

    def predict(self, X: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """(N, K) the mean of the members' probabilities."""
        return self.member_probabilities(X, lengths).mean(0)


def member_dir(out, m: int) -> Path:
    return Path(out) / "members" / str(m)


def save_member(folder, model, net, meta: dict) -> Path:
    """Write a model that was not trained by the Trainer (an echo-state member) as
    folder/best.safetensors, with the metadata rnnlab.apps.network.load reads."""
    return model.save(Path(folder) / "best.safetensors",
                      {"config": {**meta, "network": net.to_dict()}})


def load(out, app: str) -> tuple[Ensemble, dict]:
    """The ensemble of a run folder (members/<m>/), and the first member's metadata."""
    from rnnlab.apps import network

    folders = sorted((Path(out) / "members").glob("*"), key=lambda p: int(p.name))
    if not folders:
        raise FileNotFoundError(f"CHECKPOINT: no members/ folder in {out} (expected the "
                                f"--out folder of `{app} train`)")
    loaded = [network.load(f, app) for f in folders]
    return (Ensemble([p for p, _ in loaded], [meta["chunk"] for _, meta in loaded]),
            loaded[0][1])
