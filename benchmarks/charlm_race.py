"""Char-LM race: the same character-level language model trained by rnnlab and by
PyTorch for the same wall-clock budget, with both learning curves against time.

The same recipe on both sides: the text split by position (the last `--val-fraction`
validates), B parallel streams of windows of T characters (rnnlab.train.TokenStreams:
stateful truncated BPTT, the state carried from window to window and reset every
epoch), one-hot or learned-embedding input, an L-layer LSTM with dropout between the
layers, a softmax readout, mean cross-entropy, Adam, clipping by global norm. Both
start from the same weights (rnnlab's initialisation copied into torch) and read the
same batches in the same order; only the dropout masks differ.

The two train in one process, in turns of a second of updates each (A B A B ...,
`--turn`: a training loop's steady state; torch's OpenMP threads keep spinning for
15-35 ms after its updates, which slowed an rnnlab update right after one), each on
its own clock that counts its own updates only, so that the load of a shared machine
falls on both alike; each stops when its clock reaches the budget. Validation (the
whole validation text as B streams, state carried, no dropout) runs at the same marks
of each clock and is not counted. Threads: the same count for both (torch and BLAS).

    python benchmarks/charlm_race.py --budget 60                 # a quick race
    python benchmarks/charlm_race.py --budget 1800 --eval-every 120   # the 30-minute one
    python benchmarks/charlm_race.py --embedding 64              # learned 64-wide embedding
    python benchmarks/charlm_race.py --compare 40 --dropout 0    # per-update losses side by side
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "tinyshakespeare.txt"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default=str(DATA), help="UTF-8 text")
    p.add_argument("--budget", type=float, default=120.0, help="training seconds per side")
    p.add_argument("--eval-every", type=float, default=20.0, help="seconds between validations")
    p.add_argument("--turn", type=float, default=1.0,
                   help="seconds of a side's updates before the other's turn (0: A B A B by "
                        "update, where torch's still-spinning threads slow rnnlab's next one)")
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--embedding", type=int, default=0, help="learned embedding width (0: one-hot)")
    p.add_argument("--dropout", type=float, default=0.2)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--seq-len", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--clip", type=float, default=5.0)
    p.add_argument("--val-fraction", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)),
                   help="torch and BLAS threads (default: every CPU)")
    p.add_argument("--compare", type=int, default=0, metavar="N",
                   help="instead of a race: N updates of each, training losses side by side")
    p.add_argument("--out", default=str(Path(__file__).parent / "results" / "charlm_race.json"))
    return p.parse_args(argv)


# ---- data: the same streams for both ------------------------------------------------


def load_data(args):
    """(vocab, training streams, validation streams) as rnnlab.apps.charlm makes them."""
    from rnnlab.data.text import Vocab, split_text
    from rnnlab.train import TokenStreams

    path = Path(args.data)
    if not path.is_file():
        raise SystemExit(f"--data: {path} does not exist")
    text = path.read_text(encoding="utf-8")
    vocab = Vocab.from_text(text)
    train_text, val_text = split_text(text, args.val_fraction)
    B, T = args.batch_size, args.seq_len
    return (vocab, TokenStreams(vocab.encode(train_text), B, T),
            TokenStreams(vocab.encode(val_text), B, T))


# ---- rnnlab ---------------------------------------------------------------------------


class RnnlabSide:
    """rnnlab's char-LM, built and trained as rnnlab.apps.charlm does."""

    name = "rnnlab"

    def __init__(self, args, V: int, streams, val):
        import numpy as np

        from rnnlab import LSTM
        from rnnlab.models import SequenceModel
        from rnnlab.readout import Embedding, OneHot
        from rnnlab.train import StreamTBPTT, TrainConfig, Trainer, TruncatedBPTT

        E = args.embedding
        rnn = LSTM(E or V, args.hidden, args.layers, dropout=args.dropout, dtype=np.float32,
                   seed=args.seed)
        emb = Embedding(V, E, seed=args.seed + 2) if E else OneHot(V)
        self.model = SequenceModel(rnn, V, loss="ce", target="each", embedding=emb,
                                   reduction="mean", seed=args.seed + 1)
        source = StreamTBPTT(TruncatedBPTT(self.model, args.seq_len, stateful=True), streams,
                             reset_every=streams.per_epoch)
        config = TrainConfig(steps=1, optimizer="adam", lr=args.lr, clip="norm",
                             clip_threshold=args.clip)
        self.trainer = Trainer(self.model, source, config)
        self.val = val

    def update(self) -> float:
        """One optimizer update; its training loss."""
        self.trainer.config.steps = self.trainer.step + 1
        return float(self.trainer.fit()["loss"])

    def validate(self) -> float:
        from rnnlab.train import evaluate_stream

        return evaluate_stream(self.model, (self.val(b) for b in range(self.val.per_epoch)))["loss"]


# ---- torch ----------------------------------------------------------------------------


class TorchSide:
    """The same network in PyTorch (nn.Embedding or one-hot, nn.LSTM, nn.Linear), with
    rnnlab's initial weights, trained on the same batches."""

    name = "torch"

    def __init__(self, args, V: int, streams, val, like: RnnlabSide):
        import torch

        from rnnlab import to_torch

        m = like.model
        self.V, self.streams, self.val, self.args = V, streams, val, args
        self.lstm = to_torch(m.rnn)  # same weights, dropout between layers
        self.readout = torch.nn.Linear(args.hidden, V)
        self.embedding = torch.nn.Embedding(V, args.embedding) if args.embedding else None
        with torch.no_grad():
            self.readout.weight.copy_(torch.from_numpy(m.readout.params["weight"]))
            self.readout.bias.copy_(torch.from_numpy(m.readout.params["bias"]))
            if self.embedding is not None:
                self.embedding.weight.copy_(torch.from_numpy(m.embedding.params["weight"]))
        self.params = [*self.lstm.parameters(), *self.readout.parameters(),
                       *([] if self.embedding is None else self.embedding.parameters())]
        self.optimizer = torch.optim.Adam(self.params, lr=args.lr)
        self.step, self.state = 0, None

    def _inputs(self, tokens):
        import torch

        x = torch.from_numpy(tokens)
        if self.embedding is not None:
            return self.embedding(x)
        return torch.nn.functional.one_hot(x, self.V).float()

    def _loss(self, batch, state):
        import torch

        out, state = self.lstm(self._inputs(batch.x), state)
        z = self.readout(out)  # (T, B, V)
        y = torch.from_numpy(batch.y)
        return torch.nn.functional.cross_entropy(z.reshape(-1, self.V), y.reshape(-1)), state

    def update(self) -> float:
        import torch

        b = self.step  # one window per update, as StreamTBPTT with k1 = seq_len
        if b % self.streams.per_epoch == 0:
            self.state = None  # every epoch starts the streams from the zero state
        self.lstm.train()
        loss, state = self._loss(self.streams(b), self.state)
        self.state = tuple(s.detach() for s in state)
        self.optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.params, self.args.clip)
        self.optimizer.step()
        self.step += 1
        return loss.item()

    def validate(self) -> float:
        import torch

        self.lstm.eval()
        state, total = None, 0.0
        with torch.no_grad():
            for b in range(self.val.per_epoch):
                loss, state = self._loss(self.val(b), state)
                total += float(loss)
        return total / self.val.per_epoch


# ---- the race -------------------------------------------------------------------------


def race(sides, budget: float, eval_every: float, turn: float = 0.0) -> dict:
    """Alternate turns of updates, each of at least `turn` seconds of the side's clock
    (0: one update), until each side's own clock reaches the budget; validate each at
    every multiple of eval_every of its clock (and at the end)."""
    clock = {s.name: 0.0 for s in sides}
    updates = {s.name: 0 for s in sides}
    curves = {s.name: [(0.0, 0, s.validate())] for s in sides}
    next_eval = {s.name: eval_every for s in sides}
    running = list(sides)
    print(f"{'side':7} {'seconds':>8} {'updates':>8} {'val nats/char':>14}", flush=True)
    while running:
        for s in list(running):
            start = clock[s.name]
            while True:  # at least one update a turn
                t0 = time.perf_counter()
                s.update()
                clock[s.name] += time.perf_counter() - t0
                updates[s.name] += 1
                done = clock[s.name] >= budget
                if clock[s.name] >= next_eval[s.name] or done:
                    curves[s.name].append((clock[s.name], updates[s.name], s.validate()))
                    next_eval[s.name] += eval_every
                    c = curves[s.name][-1]
                    print(f"{s.name:7} {c[0]:8.1f} {c[1]:8d} {c[2]:14.4f}  load "
                          f"{os.getloadavg()[0]:.1f}", flush=True)
                if done or clock[s.name] - start >= turn:
                    break
            if done:
                running.remove(s)
    return curves


def reach(curve, level: float) -> float | None:
    """Training seconds at the first validation at or below `level`."""
    return next((t for t, _, v in curve if v <= level), None)


def print_curves(curves: dict, eval_every: float) -> None:
    names = list(curves)
    print()
    print("validation loss (nats/char) at each mark of each side's training clock:")
    print(f"{'mark s':>7} " + " ".join(f"{n + ' upd':>11} {n + ' val':>11}" for n in names))
    marks = sorted({round(t / eval_every) for n in names for t, _, _ in curves[n]})
    for m in marks:
        cells = []
        for n in names:
            pts = [c for c in curves[n] if round(c[0] / eval_every) == m]
            cells.append(f"{pts[0][1]:11d} {pts[0][2]:11.4f}" if pts else f"{'':11} {'':11}")
        print(f"{m * eval_every:7.0f} " + " ".join(cells))
    for n in names:
        t, u, v = curves[n][-1]
        per = t / u if u else float("nan")
        print(f"{n}: {u} updates in {t:.1f} s ({per:.3f} s/update), last val {v:.4f}; "
              + ", ".join(f"{lvl}: " + (f"{s:.0f} s" if (s := reach(curves[n], lvl)) is not None
                                       else "not reached") for lvl in (2.0, 1.7, 1.5)))


def compare(sides, n: int, block: int = 50) -> dict:
    """n updates of each side in turn: the training loss of each update side by side,
    the mean of each block of updates, and both validation losses at the end."""
    rows = []
    print(f"{'update':>6} " + " ".join(f"{s.name:>10}" for s in sides) + f" {'diff':>10}")
    for k in range(1, n + 1):
        losses = [s.update() for s in sides]
        rows.append([k, *losses])
        if k <= 25 or k % block == 0:
            print(f"{k:6d} " + " ".join(f"{v:10.5f}" for v in losses)
                  + f" {losses[1] - losses[0]:10.2e}", flush=True)
    for k0 in range(0, n, block):
        part = rows[k0 : k0 + block]
        means = [sum(r[i + 1] for r in part) / len(part) for i in range(len(sides))]
        print(f"updates {k0 + 1}-{k0 + len(part)}: mean training loss "
              + ", ".join(f"{s.name} {m:.4f}" for s, m in zip(sides, means)))
    val = {s.name: s.validate() for s in sides}
    print("validation after", n, "updates:", ", ".join(f"{k} {v:.4f}" for k, v in val.items()))
    return {"losses": rows, "val": val}


def main(argv=None):
    args = parse_args(argv)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    vocab, streams, val = load_data(args)
    a = RnnlabSide(args, len(vocab), streams, val)
    b = TorchSide(args, len(vocab), streams, val, a)
    a.update()  # compile rnnlab's kernels (cached on disk) and warm torch before the clock
    b.update()
    a = RnnlabSide(args, len(vocab), streams, val)
    b = TorchSide(args, len(vocab), streams, val, a)
    threadpool_limits(args.threads)
    print(f"{args.data}: {len(vocab)} symbols, {streams.per_epoch} updates per epoch; "
          f"{args.layers}x{args.hidden} LSTM, "
          f"{'embedding ' + str(args.embedding) if args.embedding else 'one-hot'}, dropout "
          f"{args.dropout}, batch {args.batch_size}, windows {args.seq_len}, Adam {args.lr}, "
          f"clip {args.clip}; {args.threads} thread(s); load {os.getloadavg()}", flush=True)
    result = {"args": vars(args), "load_start": os.getloadavg()}
    if args.compare:
        result["compare"] = compare([a, b], args.compare)
    else:
        result["curves"] = race([a, b], args.budget, args.eval_every, args.turn)
        print_curves(result["curves"], args.eval_every)
    result["load_end"] = os.getloadavg()
    print(f"load average: start {result['load_start']}, end {result['load_end']}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    sys.exit(main())
