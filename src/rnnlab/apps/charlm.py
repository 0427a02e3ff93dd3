"""`rnnlab charlm`: a character-level language model (char-rnn) on rnnlab.train.

Training: characters -> a learned embedding (or one-hot, --embedding-dim 0) -> a stacked
LSTM/GRU/RNN -> softmax over the vocabulary,
trained with stateful truncated BPTT over B parallel streams of the training text
(rnnlab.train.TokenStreams, StreamTBPTT; windows of seq_len, the state carried across
windows and reset every epoch). Loss: mean cross-entropy in nats per character
(bits = nats / ln 2). Validation carries the state across its windows too.

Sampling: p = softmax(z / τ) over the k largest logits (top-k), τ = 0 -> arg max;
the state is first warmed on the prime text; one rnnlab.Stepper step per character.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from rnnlab._checks import check_positive_int, check_range
from rnnlab.apps.options import (
    NetworkOptions,
    OptimizerOptions,
    RunOptions,
    load_command_model,
)
from rnnlab.config import command, resolved_options

app = typer.Typer(no_args_is_help=True, help=__doc__)


@dataclass
class CharLMNetwork(NetworkOptions):
    hidden_size: int = 128  # units per layer
    num_layers: int = 2  # stacked layers
    embedding_dim: int = 64  # learned character embedding size (0: one-hot input)

    def __post_init__(self):
        super().__post_init__()
        check_positive_int("embedding_dim", self.embedding_dim, minimum=0)


@dataclass
class CharLMTraining(OptimizerOptions):
    lr: float = 2e-3  # learning rate
    clip_norm: float = 5.0  # clip the gradient to this global norm (0: no clipping)
    steps: int = 1000  # optimizer updates
    seq_len: int = 64  # truncation window k1 = k2 (characters)
    decay: float = 1.0  # lr factor every decay_every updates (1: constant)
    decay_every: int = 1000  # updates between decays
    val_fraction: float = 0.1  # the last part of the text, by position, for validation
    eval_every: int = 200  # validate (and print a sample) every N updates

    def __post_init__(self):
        super().__post_init__()
        for name in ("steps", "seq_len", "decay_every", "eval_every"):
            check_positive_int(name, getattr(self, name))
        check_range("decay", self.decay, 0.0, math.inf, lo_open=True, hi_open=True)
        check_range("val_fraction", self.val_fraction, 0.0, 1.0, hi_open=True)


def model_spec(net: CharLMNetwork, V: int, seed: int):
    """Characters (ids) -> embedding or one-hot -> the stack -> a V-way softmax (float32)."""
    from rnnlab.spec import ModelSpec

    E = net.embedding_dim
    return ModelSpec("many_to_many", net.layer(E or V), V, "ce",
                     embedding="embedding" if E else "onehot", vocab_size=V, seed=seed)


def _streams(ids, batch_size: int, seq_len: int, what: str):
    from rnnlab.train import TokenStreams

    try:
        return TokenStreams(ids, batch_size, seq_len)
    except ValueError:
        raise ValueError(f"{what}: {len(ids)} characters are too few for one window of "
                         f"{seq_len} + 1 in each of {batch_size} streams; use a "
                         f"longer text or smaller --seq-len/--batch-size") from None


def make_trainer(text: str, net: CharLMNetwork, opt: CharLMTraining, run: RunOptions | None,
                 echo: bool = False, progress: bool = False, callbacks=()):
    """The Trainer of a char-LM on `text` (split by position), ready to fit; echo: print
    the validation loss and a sample at every validation."""
    from rnnlab.data.text import Vocab, split_text
    from rnnlab.optim import Schedule
    from rnnlab.train import StreamTBPTT, Trainer, TruncatedBPTT, evaluate_stream

    if not text:
        raise ValueError("corpus: the text is empty")
    vocab = Vocab.from_text(text)
    train_text, val_text = split_text(text, opt.val_fraction)
    streams = _streams(vocab.encode(train_text), opt.batch_size, opt.seq_len, "training text")
    val_ids = vocab.encode(val_text)
    # validation reads fewer, longer streams when the held-out text is short: the same
    # per-character loss, and a short corpus still trains with the default batch size
    val_streams = max(1, min(opt.batch_size, len(val_ids) // (opt.seq_len + 1)))
    val = _streams(val_ids, val_streams, opt.seq_len, "validation text") if val_text else None
    model = model_spec(net, len(vocab), opt.seed).build()
    source = StreamTBPTT(TruncatedBPTT(model, opt.seq_len, stateful=True), streams,
                         reset_every=streams.per_epoch)
    tc = opt.train_config(run, steps=opt.steps, progress=progress, unit="chars",
                          schedule=Schedule("step", gamma=opt.decay, step_size=opt.decay_every),
                          val_every=opt.eval_every if val else 0,
                          checkpoint_every=opt.eval_every if run else 0)

    class StreamTrainer(Trainer):
        def validate(self):  # the state carried across the validation windows
            return evaluate_stream(self.model, (val(b) for b in range(val.per_epoch)))

    callbacks = [*callbacks, _sampler(vocab)] if echo else list(callbacks)
    options = resolved_options({"network": net, "training": opt})
    return StreamTrainer(model, source, tc, val_data=[] if val else None, callbacks=callbacks,
                         meta={"command": "charlm train", "options": options},
                         vocab=vocab.symbols)


def _sampler(vocab):
    def callback(trainer, record):
        if "val_loss" in record:
            nats = record["val_loss"]
            trainer.print(f"step {trainer.step}: val {nats:.4f} nats/char, "
                          f"{nats / math.log(2):.4f} bits/char")
            trainer.print(sample(trainer.model, vocab, 200, temperature=0.8, seed=trainer.step))
    return callback


def load_model(checkpoint):
    """(model, vocab) from a checkpoint file or run folder of `charlm train`."""
    return load_command_model(checkpoint, "charlm train")


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
    E = model.embedding.params.get("weight")  # (V, D), or None for one-hot inputs

    def step(k: int):
        return stepper.step_index([k]) if E is None else stepper.step(E[k])  # (1, H)

    ids = vocab.encode(prime, "--prime") if prime else [rng.integers(len(vocab))]
    for k in ids:
        h = step(int(k))
    for _ in range(length):
        k = next_token((h @ W.T + b)[0], temperature, top_k, rng)
        yield vocab.symbols[k]
        h = step(k)


def sample(model, vocab, length: int, **kw) -> str:
    return "".join(generate(model, vocab, length, **kw))


def evaluate_text(model, vocab, text: str, seq_len: int = 256) -> dict:
    """Mean loss over the text as one stream (state carried): nats and bits per char."""
    from rnnlab.train import evaluate_stream

    streams = _streams(vocab.encode(text, "FILE"), 1, seq_len, "FILE")
    nats = evaluate_stream(model, (streams(b) for b in range(streams.per_epoch)))["loss"]
    return {"nats_per_char": nats, "bits_per_char": nats / math.log(2),
            "chars": streams.per_epoch * seq_len}


# ---- the commands -------------------------------------------------------------------

@command(app, network=CharLMNetwork, training=CharLMTraining, run=RunOptions)
def train(
    files: Annotated[list[Path] | None, typer.Argument(
        metavar="[FILE]...", help="UTF-8 text files (none: the Python standard library's "
        "source)")] = None,
    *, network: CharLMNetwork, training: CharLMTraining, run: RunOptions,
):
    """Train a character-level language model; checkpoints in the run folder."""
    from rnnlab.apps.plots import LearningCurve
    from rnnlab.data.text import read_corpus

    run.folder("charlm")
    text = read_corpus(files or ())
    typer.echo(f"corpus: {len(text):,} characters, {len(set(text))} distinct; run folder "
               f"{run.out}")
    trainer = make_trainer(text, network, training, run, echo=True, progress=True,
                           callbacks=[LearningCurve(run.out, "nats/char")])
    trainer.fit(resume=run.resume)
    typer.echo(f"best val {trainer.best:.4f} nats/char; model in {run.out} "
               f"(rnnlab.load('{run.out}'))")


@app.command("sample")
def sample_command(
    checkpoint: Annotated[Path, typer.Argument(help="a checkpoint or run folder of `charlm train`")],
    length: int = typer.Option(500, help="characters to generate"),
    temperature: float = typer.Option(1.0, help="logits divided by it; 0: arg max"),
    top_k: int = typer.Option(0, help="sample among the k most likely (0: all)"),
    prime: str = typer.Option("", help="text the state is warmed on first"),
    seed: int = typer.Option(None, help="seed for a reproducible sample"),
):
    """Stream generated text to the terminal."""
    model, vocab = load_model(checkpoint)
    typer.echo(prime, nl=False)
    for ch in generate(model, vocab, length, temperature=temperature, top_k=top_k,
                       prime=prime, seed=seed):
        typer.echo(ch, nl=False)
    typer.echo()


@app.command("eval")
def eval_command(
    checkpoint: Annotated[Path, typer.Argument(help="a checkpoint or run folder of `charlm train`")],
    file: Annotated[Path, typer.Argument(help="UTF-8 text")],
):
    """Loss in nats and bits per character on a text."""
    from rnnlab.data.text import read_text_file

    model, vocab = load_model(checkpoint)
    r = evaluate_text(model, vocab, read_text_file(file))
    typer.echo(f"{r['nats_per_char']:.4f} nats/char  {r['bits_per_char']:.4f} bits/char  "
               f"({r['chars']} characters)")
