"""`rnnlab charlm`: a character-level language model (char-rnn) on rnnlab.train.

Training: one-hot characters -> a stacked LSTM/GRU/RNN -> softmax over the vocabulary,
trained with stateful truncated BPTT over B parallel streams of the training text
(rnnlab.train.TokenStreams, StreamTBPTT; windows of seq_len, the state carried across
windows and reset every epoch). Loss: mean cross-entropy in nats per character
(bits = nats / ln 2). Validation carries the state across its windows too.

Sampling: p = softmax(z / τ) over the k largest logits (top-k), τ = 0 -> arg max;
the state is first warmed on the prime text; one rnnlab.Stepper step per character.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from rnnlab._checks import check_option, check_positive_int, check_range
from rnnlab.apps.errors import user_errors

app = typer.Typer(no_args_is_help=True, help=__doc__)
CELLS = ("rnn", "lstm", "gru")


@dataclass
class CharLMConfig:
    cell: str = "lstm"  # rnn | lstm | gru
    hidden: int = 128  # units per layer
    layers: int = 2  # stacked layers
    dropout: float = 0.0  # between layers
    seq_len: int = 64  # truncation window k1 = k2 (characters)
    batch_size: int = 32  # parallel streams
    steps: int = 1000  # optimizer updates
    optimizer: str = "adam"  # adam | rmsprop
    lr: float = 2e-3  # base learning rate
    decay: float = 1.0  # lr factor every decay_every updates (1: constant)
    decay_every: int = 1000  # updates between decays
    clip: float = 5.0  # clipping by global norm
    val_fraction: float = 0.1  # the last part of the text, by position
    eval_every: int = 200  # validate (and print a sample) every N updates
    seed: int = 0  # initialisation and dropout

    def __post_init__(self):
        check_option("cell", self.cell, CELLS)
        check_option("optimizer", self.optimizer, ("adam", "rmsprop"))
        for name in ("hidden", "layers", "seq_len", "batch_size", "steps", "decay_every"):
            check_positive_int(name, getattr(self, name))
        check_range("dropout", self.dropout, 0.0, 1.0, hi_open=True)
        check_range("val_fraction", self.val_fraction, 0.0, 1.0, hi_open=True)


def build_model(cfg: CharLMConfig, V: int):
    """One-hot inputs, the layer stack, a V-way softmax readout (float32)."""
    from rnnlab import GRU, LSTM, RNN
    from rnnlab.models import SequenceModel
    from rnnlab.readout import OneHot

    layer = {"rnn": RNN, "lstm": LSTM, "gru": GRU}[cfg.cell]
    rnn = layer(V, cfg.hidden, cfg.layers, dropout=cfg.dropout, dtype=np.float32,
                seed=cfg.seed)
    return SequenceModel(rnn, V, loss="ce", target="each", embedding=OneHot(V),
                         reduction="mean", seed=cfg.seed + 1)


def _streams(ids, cfg: CharLMConfig, what: str):
    from rnnlab.train import TokenStreams

    try:
        return TokenStreams(ids, cfg.batch_size, cfg.seq_len)
    except ValueError:
        raise ValueError(f"{what}: {len(ids)} characters are too few for one window of "
                         f"{cfg.seq_len} + 1 in each of {cfg.batch_size} streams; use a "
                         f"longer text or smaller --seq-len/--batch-size") from None


def make_trainer(text: str, cfg: CharLMConfig, out: Path | None, echo=None, progress=False):
    """The Trainer of a char-LM on `text` (split by position), ready to fit."""
    from rnnlab.data.text import Vocab, split_text
    from rnnlab.optim import Schedule
    from rnnlab.train import StreamTBPTT, TrainConfig, Trainer, TruncatedBPTT, evaluate_stream

    if not text:
        raise ValueError("corpus: the text is empty")
    vocab = Vocab.from_text(text)
    train_text, val_text = split_text(text, cfg.val_fraction)
    streams = _streams(vocab.encode(train_text), cfg, "training text")
    val = _streams(vocab.encode(val_text), cfg, "validation text") if val_text else None
    model = build_model(cfg, len(vocab))
    source = StreamTBPTT(TruncatedBPTT(model, cfg.seq_len, stateful=True), streams,
                         reset_every=streams.per_epoch)
    tc = TrainConfig(steps=cfg.steps, optimizer=cfg.optimizer, lr=cfg.lr, clip="norm",
                     clip_threshold=cfg.clip,
                     schedule=Schedule("step", gamma=cfg.decay, step_size=cfg.decay_every),
                     val_every=cfg.eval_every if val else 0,
                     checkpoint_every=cfg.eval_every if out else 0,
                     out_dir=None if out is None else str(out), progress=progress,
                     unit="chars")

    class StreamTrainer(Trainer):
        def validate(self):  # the state carried across the validation windows
            return evaluate_stream(self.model, (val(b) for b in range(val.per_epoch)))

    callbacks = [] if echo is None else [_sampler(vocab, echo)]
    return StreamTrainer(model, source, tc, val_data=[] if val else None, callbacks=callbacks,
                         meta={"charlm": asdict(cfg)}, vocab=vocab.symbols)


def _sampler(vocab, echo):
    def callback(trainer, record):
        if "val_loss" in record:
            nats = record["val_loss"]
            echo(f"step {trainer.step}: val {nats:.4f} nats/char, "
                 f"{nats / math.log(2):.4f} bits/char")
            echo(sample(trainer.model, vocab, 200, temperature=0.8, seed=trainer.step))
    return callback


def load_model(checkpoint):
    """(model, vocab) from a checkpoint written by `charlm train`."""
    from rnnlab.data.text import Vocab
    from rnnlab.train import load_checkpoint
    from rnnlab.train.checkpoint import split_prefix

    checkpoint = Path(checkpoint)
    if not checkpoint.is_file():
        raise FileNotFoundError(f"CHECKPOINT: {checkpoint} does not exist")
    arrays, meta = load_checkpoint(checkpoint)
    if "charlm" not in meta.get("config", {}) or not meta.get("vocab"):
        raise ValueError(f"CHECKPOINT: {checkpoint} was not written by `rnnlab charlm train`")
    vocab = Vocab(meta["vocab"])
    model = build_model(CharLMConfig(**meta["config"]["charlm"]), len(vocab))
    model.load_params(split_prefix(arrays, "param"))
    return model, vocab


def next_token(z: np.ndarray, temperature: float, top_k: int, rng) -> int:
    """One id from logits z (V,): arg max at τ = 0, else softmax(z/τ) over the top k."""
    if temperature == 0:
        return int(np.argmax(z))
    z = np.asarray(z, np.float64) / temperature
    if 0 < top_k < len(z):
        z = np.where(z >= np.partition(z, -top_k)[-top_k], z, -np.inf)
    p = np.exp(z - z.max())
    return int(rng.choice(len(z), p=p / p.sum()))


def generate(model, vocab, length: int, *, temperature: float = 1.0, top_k: int = 0,
             prime: str = "", seed: int | None = None):
    """Yield `length` characters, one at a time (the state warmed on `prime` first)."""
    check_positive_int("length", length, minimum=0)
    check_range("temperature", temperature, 0.0, math.inf)
    check_positive_int("top_k", top_k, minimum=0)
    rng = np.random.default_rng(seed)
    W, b = model.readout.params["weight"], model.readout.params["bias"]
    stepper = model.rnn.stepper()
    ids = vocab.encode(prime, "--prime") if prime else [rng.integers(len(vocab))]
    for k in ids:
        h = stepper.step_index([int(k)])  # (1, H)
    for _ in range(length):
        k = next_token((h @ W.T + b)[0], temperature, top_k, rng)
        yield vocab.symbols[k]
        h = stepper.step_index([k])


def sample(model, vocab, length: int, **kw) -> str:
    return "".join(generate(model, vocab, length, **kw))


def evaluate_text(model, vocab, text: str, seq_len: int = 256) -> dict:
    """Mean loss over the text as one stream (state carried): nats and bits per char."""
    from rnnlab.train import evaluate_stream

    streams = _streams(vocab.encode(text, "FILE"), CharLMConfig(seq_len=seq_len,
                                                                 batch_size=1), "FILE")
    nats = evaluate_stream(model, (streams(b) for b in range(streams.per_epoch)))["loss"]
    return {"nats_per_char": nats, "bits_per_char": nats / math.log(2),
            "chars": streams.per_epoch * seq_len}


# ---- the commands -------------------------------------------------------------------

@app.command()
def train(
    files: Annotated[list[Path] | None, typer.Argument(
        metavar="[FILE]...", help="UTF-8 text files (none: the Python standard library's "
        "source)")] = None,
    cell: str = typer.Option("lstm", help="rnn, lstm or gru"),
    hidden: int = typer.Option(128, help="units per layer"),
    layers: int = typer.Option(2, help="stacked layers"),
    dropout: float = typer.Option(0.0, help="dropout between layers"),
    seq_len: int = typer.Option(64, help="window of truncated BPTT (characters)"),
    batch_size: int = typer.Option(32, help="parallel streams"),
    steps: int = typer.Option(1000, help="optimizer updates"),
    optimizer: str = typer.Option("adam", help="adam or rmsprop"),
    lr: float = typer.Option(2e-3, help="learning rate"),
    decay: float = typer.Option(1.0, help="lr factor every --decay-every updates"),
    decay_every: int = typer.Option(1000, help="updates between lr decays"),
    clip: float = typer.Option(5.0, help="clip gradients to this global norm"),
    eval_every: int = typer.Option(200, help="validate and print a sample every N updates"),
    seed: int = typer.Option(0, help="random seed"),
    out: Annotated[Path, typer.Option(help="run folder: checkpoints, log")] = Path(
        "runs/charlm"),
    resume: bool = typer.Option(False, help="continue the run in --out exactly"),
):
    """Train a character-level language model; checkpoints in OUT (best and last)."""
    from rnnlab.data.text import read_corpus

    with user_errors():
        cfg = CharLMConfig(cell=cell, hidden=hidden, layers=layers, dropout=dropout,
                           seq_len=seq_len, batch_size=batch_size, steps=steps,
                           optimizer=optimizer, lr=lr, decay=decay, decay_every=decay_every,
                           clip=clip, eval_every=eval_every, seed=seed)
        text = read_corpus(files or ())
        typer.echo(f"corpus: {len(text):,} characters, {len(set(text))} distinct")
        trainer = make_trainer(text, cfg, out, echo=typer.echo, progress=True)
        trainer.fit(resume=resume)
    typer.echo(f"best val {trainer.best:.4f} nats/char; checkpoints in {out}")


@app.command("sample")
def sample_command(
    checkpoint: Annotated[Path, typer.Argument(help="a checkpoint of `charlm train`")],
    length: int = typer.Option(500, help="characters to generate"),
    temperature: float = typer.Option(1.0, help="logits divided by it; 0: arg max"),
    top_k: int = typer.Option(0, help="sample among the k most likely (0: all)"),
    prime: str = typer.Option("", help="text the state is warmed on first"),
    seed: int = typer.Option(None, help="seed for a reproducible sample"),
):
    """Stream generated text to the terminal."""
    with user_errors():
        model, vocab = load_model(checkpoint)
        typer.echo(prime, nl=False)
        for ch in generate(model, vocab, length, temperature=temperature, top_k=top_k,
                           prime=prime, seed=seed):
            typer.echo(ch, nl=False)
    typer.echo()


@app.command("eval")
def eval_command(
    checkpoint: Annotated[Path, typer.Argument(help="a checkpoint of `charlm train`")],
    file: Annotated[Path, typer.Argument(help="UTF-8 text")],
):
    """Loss in nats and bits per character on a text."""
    from rnnlab.data.text import read_text_file

    with user_errors():
        model, vocab = load_model(checkpoint)
        r = evaluate_text(model, vocab, read_text_file(file))
    typer.echo(f"{r['nats_per_char']:.4f} nats/char  {r['bits_per_char']:.4f} bits/char  "
               f"({r['chars']} characters)")
