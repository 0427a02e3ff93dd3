"""The trainer: resume reproduces an uninterrupted run bitwise (float64), a truncated
checkpoint gives a clear error and leaves the previous one, the non-finite guard,
gradient transforms, early stopping, logs and kept checkpoints."""

import json

import numpy as np
import pytest

from rnnlab import GRU, LSTM, Batch, SequenceModel
from rnnlab.checkpoint import CheckpointError, load_checkpoint
from rnnlab.errors import TrainingDiverged
from rnnlab.optim import Schedule
from rnnlab.readout import Embedding
from rnnlab.train import (
    FullBPTT,
    StreamTBPTT,
    TokenStreams,
    TrainConfig,
    Trainer,
    TruncatedBPTT,
    evaluate_stream,
)

T, B, I, H = 6, 4, 3, 5


def classifier(seed=1):
    rnn = LSTM(I, H, num_layers=2, dropout=0.3, dtype=np.float64, seed=seed)
    return SequenceModel(rnn, 3, loss="ce", target="last", seed=seed + 1)


def data(step):
    rng = np.random.default_rng([7, step])
    return Batch(rng.standard_normal((T, B, I)), rng.integers(0, 3, B),
                 lengths=rng.integers(1, T + 1, B))


VAL = [data(1000), data(1001)]


def config(tmp_path, name, **kw):
    base = {"steps": 12, "optimizer": "adam", "lr": 0.01, "checkpoint_every": 5, "val_every": 4,
            "schedule": Schedule("exponential", gamma=0.95), "out_dir": str(tmp_path / name)}
    return TrainConfig(**{**base, **kw})


class Interrupt(Exception):
    pass


def interrupt_at(step):
    def callback(trainer, record):
        if trainer.step == step:
            raise Interrupt

    return callback


def test_resume_is_bitwise_equal_to_an_uninterrupted_run(tmp_path):
    model = classifier()
    Trainer(model, FullBPTT(model, data), config(tmp_path, "a"), val_data=VAL).fit()

    first = classifier()
    with pytest.raises(Interrupt):
        Trainer(first, FullBPTT(first, data), config(tmp_path, "b"), val_data=VAL,
                callbacks=[interrupt_at(8)]).fit()
    resumed = classifier(seed=99)  # other weights and dropout stream: all come from the file
    summary = Trainer(resumed, FullBPTT(resumed, data), config(tmp_path, "b"), val_data=VAL).fit(
        resume=True)
    for n, p in model.params.items():
        assert np.array_equal(p, resumed.params[n]), n
    assert summary["step"] == 12
    log = [json.loads(line) for line in (tmp_path / "b" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log if "loss" in r] == list(range(1, 13))  # none twice
    assert json.loads((tmp_path / "b" / "config.json").read_text())["train"]["lr"] == 0.01


@pytest.mark.parametrize("k1, k2", [(4, 4), (3, 5)])
def test_resume_of_a_stateful_tbptt_stream_is_bitwise(tmp_path, k1, k2):
    """Interrupted mid-batch, with k2 > k1 windows reaching into stored chunks and
    dropout masks in them: the stream, its state and its chunks come back exactly."""
    tokens = np.random.default_rng(3).integers(0, 4, 400)

    def make():
        rnn = GRU(3, H, num_layers=2, dropout=0.2, dtype=np.float64, seed=1)
        model = SequenceModel(rnn, 4, loss="ce", reduction="mean",
                              embedding=Embedding(4, 3, dtype=np.float64, seed=2), seed=3)
        streams = TokenStreams(tokens, 2, 9)
        tbptt = TruncatedBPTT(model, k1, k2, stateful=True)
        return model, StreamTBPTT(tbptt, streams, reset_every=streams.per_epoch)

    cfg = {"steps": 20, "checkpoint_every": 4, "optimizer": "rmsprop", "lr": 0.01}
    whole, source = make()
    Trainer(whole, source, config(tmp_path, "a", **cfg)).fit()
    part, source = make()
    with pytest.raises(Interrupt):
        Trainer(part, source, config(tmp_path, "b", **cfg), callbacks=[interrupt_at(10)]).fit()
    part, source = make()
    Trainer(part, source, config(tmp_path, "b", **cfg)).fit(resume=True)
    assert all(np.array_equal(p, part.params[n]) for n, p in whole.params.items())


def test_token_streams_continue_each_stream_and_evaluate_carries_state():
    tokens = np.arange(23)
    streams = TokenStreams(tokens, 2, 3)  # streams 0..10 and 11..21, 3 windows each
    assert streams.per_epoch == 3
    b1, b4 = streams(1), streams(4)
    assert b1.x[:, 0].tolist() == [3, 4, 5] and b1.y[:, 1].tolist() == [15, 16, 17]
    assert np.array_equal(b1.x, b4.x)  # epoch 2 reads the streams again
    rnn = LSTM(3, H, dtype=np.float64, seed=1)
    model = SequenceModel(rnn, 23, loss="ce", reduction="mean", seed=3,
                          embedding=Embedding(23, 3, dtype=np.float64, seed=2))
    whole = evaluate_stream(model, [Batch(streams.streams[:, :9].T, streams.streams[:, 1:10].T)])
    parts = evaluate_stream(model, [streams(i) for i in range(3)])
    assert parts["loss"] == pytest.approx(whole["loss"], rel=1e-12)
    with pytest.raises(ValueError, match="shorter than seq_len"):
        TokenStreams(tokens, 4, 6)


def test_truncated_checkpoint_gives_a_clear_error_and_keeps_the_previous(tmp_path):
    model = classifier()
    trainer = Trainer(model, FullBPTT(model, data), config(tmp_path, "a", keep_last=2))
    trainer.fit()
    kept = trainer.checkpoints()
    assert [p.name for p in kept] == ["step-00000010.safetensors", "step-00000012.safetensors"]
    raw = kept[-1].read_bytes()
    kept[-1].write_bytes(raw[: len(raw) // 2])
    with pytest.raises(CheckpointError, match="truncated.*step-00000010.safetensors, is intact"):
        Trainer(model, FullBPTT(model, data), config(tmp_path, "a")).fit(resume=True)
    arrays, meta = load_checkpoint(kept[0])
    assert meta["step"] == 10 and "param.rnn.weight_hh_l1" in arrays


def test_non_finite_gradients_are_skipped_and_counted():
    model = classifier()
    full = FullBPTT(model, data)

    def source(n):
        loss, grads, info = full(n)
        if n == 1:
            grads["readout.bias"][0] = np.nan
        return loss, grads, info

    trainer = Trainer(model, source, TrainConfig(steps=3, lr=0.1, nonfinite="skip"))
    before = {}
    trainer.callbacks.append(
        lambda t, r: before.setdefault(t.step, {n: p.copy() for n, p in model.params.items()}))
    with pytest.warns(RuntimeWarning, match="1 of 3 updates were skipped.*NaN or Inf"):
        summary = trainer.fit()
    assert summary["skipped"] == 1 and trainer.history[1]["skipped"] == "non-finite"
    assert all(np.array_equal(before[1][n], before[2][n]) for n in before[1])
    assert not all(np.array_equal(before[2][n], before[3][n]) for n in before[2])


def _scripted_losses(model, losses):
    """A source whose update n reports losses[n] (the gradients are the real ones)."""
    full = FullBPTT(model, data)

    def source(n):
        _, grads, info = full(n)
        return losses[n], grads, info

    return source


def test_a_heavy_tailed_batch_that_recurs_is_not_divergence():
    losses = [1.0, 2.0, 5e4, 1.0, 3e4, 1.5, 1.0, 2e4, 1.0, 1.0, 4e4, 1.0] * 3  # spikes, 1 in 4
    model = classifier()
    trainer = Trainer(model, _scripted_losses(model, losses), TrainConfig(steps=len(losses)))
    trainer.fit()
    assert trainer.step == len(losses)


def test_a_loss_that_stays_high_is_divergence():
    losses = [1.0] * 5 + [2e3] * 20  # every update after the fifth over 1000 × the first
    model = classifier()
    trainer = Trainer(model, _scripted_losses(model, losses), TrainConfig(steps=len(losses)))
    with pytest.raises(TrainingDiverged, match="median loss of the last 10 updates"):
        trainer.fit()
    assert trainer.step == 5 + 5  # the median of the last 10 crosses on the 6th high loss


def test_transforms_see_the_gradients_and_can_take_the_step_over():
    model = classifier()
    seen = []

    def halve(grads, trainer):
        seen.append(trainer.step)
        return {n: g / 2 for n, g in grads.items()}

    def skip_odd(grads, trainer):
        return None if trainer.step % 2 else grads

    trainer = Trainer(model, FullBPTT(model, data), TrainConfig(steps=4, clip="none"),
                      transforms=[halve, skip_odd])
    trainer.fit()
    assert seen == [0, 1, 2, 3]
    assert [r.get("skipped") for r in trainer.history] == [None, "transform", None, "transform"]


def test_early_stopping_and_clipping_log(tmp_path):
    model = classifier()
    cfg = TrainConfig(steps=100, lr=0.0, val_every=2, patience=3, clip="norm", clip_threshold=1e-3)
    summary = Trainer(model, FullBPTT(model, data), cfg, val_data=VAL).fit()
    assert summary["stopped_early"] and summary["step"] == 8  # best at 2, then 3 without gain
    assert summary["grad_norm"] > 1e-3  # the norm before clipping is what is logged
    with pytest.raises(ValueError, match="clip: expected one of"):
        TrainConfig(clip="global")


def test_a_run_that_stopped_early_stays_stopped_when_resumed(tmp_path):
    model = classifier()
    cfg = TrainConfig(steps=100, lr=0.0, val_every=2, patience=3, out_dir=str(tmp_path / "r"))
    first = Trainer(model, FullBPTT(model, data), cfg, val_data=VAL)
    first.fit()
    log = (tmp_path / "r" / "log.jsonl").read_text()
    again = Trainer(model, FullBPTT(model, data), cfg, val_data=VAL)
    summary = again.fit(resume=True)
    assert summary["stopped_early"] and again.step == first.step == 8
    assert again.best_step == first.best_step == 2  # kept in the checkpoint
    assert (tmp_path / "r" / "log.jsonl").read_text() == log  # no update, no record


def test_logs_behind_one_interface(tmp_path):
    """jsonl, csv and TensorBoard get the same records; a resume drops what came after
    the checkpoint from each; an unknown logger is one clear error."""
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.util.tensor_util import make_ndarray

    model = classifier()
    cfg = config(tmp_path, "run", steps=6, checkpoint_every=3, val_every=3,
                 loggers=("jsonl", "csv", "tensorboard"))
    Trainer(model, FullBPTT(model, data), cfg, val_data=VAL).fit()
    lines = [json.loads(x) for x in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    rows = (tmp_path / "run" / "log.csv").read_text().splitlines()
    assert rows[0].startswith("step,loss") and len(rows) == 1 + len(lines)
    events = EventAccumulator(str(tmp_path / "run" / "tensorboard"))
    events.Reload()
    losses = [float(make_ndarray(e.tensor_proto)) for e in events.Tensors("loss")]
    assert losses == pytest.approx([r["loss"] for r in lines if "loss" in r], rel=1e-6)
    assert len(events.Tensors("val_loss")) == 2
    with pytest.raises(ValueError, match="loggers: expected some of jsonl, csv, tensorboard"):
        Trainer(model, FullBPTT(model, data), config(tmp_path, "x", loggers=("wandb",))).fit()
