"""Iterate averaging around any optimizer: Polyak-Ruppert and an exponential moving
average (EMA) of the weights, and evaluation on the averaged weights.

After each update k = 1, 2, ... of the wrapped optimizer (θ_k its new weights):

    polyak   θ̄_k = θ̄_{k-1} + (θ_k - θ̄_{k-1}) / (k - s)   for k > s (the start), i.e. the
             plain mean of θ_{s+1} .. θ_k (Polyak & Juditsky 1992; Ruppert 1988);
             θ̄ = θ_k while k <= s
    ema      θ̄_k = β θ̄_{k-1} + (1 - β) θ_k,  θ̄_0 = θ_0

The wrapped optimizer keeps training the raw weights θ; `averaged(params)` swaps
θ̄ into the live arrays for evaluation and puts θ back after it:

    opt = Averaged(Adam(lr=1e-3), "ema", decay=0.999)   # a Trainer's optimizer, or by hand
    opt.step(model.params, grads)
    with opt.averaged(model.params):
        loss, info = model.evaluate(batch)
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from rnnlab._checks import check_option, check_range

KINDS = ("polyak", "ema")


class Averaged:
    """An optimizer (rnnlab.optim) whose weights are also averaged; see the module
    docstring. Same `step(params, grads, lr=None)` as the optimizer it wraps."""

    def __init__(self, optimizer, kind: str = "polyak", *, decay: float = 0.999, start: int = 0):
        check_option("kind", kind, KINDS)
        check_range("decay", decay, 0.0, 1.0, hi_open=True)
        if isinstance(start, bool) or not isinstance(start, int) or start < 0:
            raise ValueError(f"start: expected an integer >= 0, got {start!r}")
        self.optimizer, self.kind, self.decay, self.start = optimizer, kind, float(decay), start
        self.n = 0  # updates seen
        self.average: dict[str, np.ndarray] = {}

    def __getattr__(self, name):  # lr, state_dict, ... of the wrapped optimizer
        return getattr(self.optimizer, name)

    def step(self, params: dict, grads: dict, lr: float | None = None) -> None:
        if not self.average:  # θ̄_0 = θ_0
            self.average = {n: p.copy() for n, p in params.items()}
        self.optimizer.step(params, grads, lr)
        self.update(params)

    def update(self, params: dict) -> None:
        """Fold the current weights θ_k into θ̄ (step does this after each update)."""
        self.n += 1
        for n, p in params.items():
            avg = self.average.setdefault(n, p.copy())
            if self.kind == "ema":
                avg += (1 - self.decay) * (p - avg)
            elif self.n <= self.start:
                avg[...] = p
            else:
                avg += (p - avg) / (self.n - self.start)

    def state_dict(self) -> dict[str, np.ndarray]:
        """The wrapped optimizer's state, θ̄ under "average.<name>" and the count."""
        out = self.optimizer.state_dict()
        out.update({f"average.{n}": a.copy() for n, a in self.average.items()})
        out["average_n"] = np.array(self.n, np.int64)
        return out

    def load_state_dict(self, state: dict) -> None:
        own = {k: v for k, v in state.items() if k.startswith("average")}
        self.optimizer.load_state_dict({k: v for k, v in state.items() if k not in own})
        self.n = int(np.asarray(own.get("average_n", 0)).item())
        self.average = {k[len("average."):]: np.array(v, copy=True)
                        for k, v in own.items() if k.startswith("average.")}

    @contextmanager
    def averaged(self, params: dict):
        """Within the block, params hold θ̄ (in place); θ is restored on exit."""
        saved = {n: p.copy() for n, p in params.items()}
        try:
            for n, p in params.items():
                if n in self.average:
                    p[...] = self.average[n]
            yield params
        finally:
            for n, p in params.items():
                p[...] = saved[n]
