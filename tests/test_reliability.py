"""Issue 13: nothing lost, nothing silently wrong. The run-folder guard and its lock,
divergence, SIGINT/SIGTERM/SIGKILL at random moments then --resume (= an uninterrupted
run, bitwise), corrupt checkpoints and logs, a config file reproducing a run, and every
command's run folder loading with rnnlab.load."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from typer.testing import CliRunner

import rnnlab
import rnnlab.data.text
from rnnlab.checkpoint import load_checkpoint, split_prefix
from rnnlab.cli import app
from rnnlab.train.runs import RunFolderError, RunLock, claim

TEXT = "the quick brown fox jumps over the lazy dog; " * 12
TINY = ["--hidden-size", "8", "--num-layers", "1", "--embedding-dim", "4", "--seq-len", "8",
        "--batch-size", "2", "--eval-every", "5"]


@pytest.fixture
def corpus(tmp_path):
    f = tmp_path / "t.txt"
    f.write_text(TEXT)
    return f


def charlm(corpus, out, *extra):
    return CliRunner().invoke(app, ["charlm", "train", str(corpus), *TINY, "--out", str(out),
                                    *extra])


def final_params(out, step):
    arrays, _ = load_checkpoint(out / "checkpoints" / f"step-{step:08d}.safetensors")
    return split_prefix(arrays, "param")


# ---- the run folder ---------------------------------------------------------------

def test_a_run_never_overwrites_another(corpus, tmp_path):
    out = tmp_path / "run"
    assert charlm(corpus, out, "--steps", "10").exit_code == 0
    before = (out / "best.safetensors").read_bytes()
    again = charlm(corpus, out, "--steps", "3")
    assert again.exit_code == 2 and "--resume" in again.output and "--overwrite" in again.output
    assert (out / "best.safetensors").read_bytes() == before  # untouched
    replaced = charlm(corpus, out, "--steps", "3", "--overwrite")
    assert replaced.exit_code == 0
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert max(r["step"] for r in log) == 3  # the old run's lines are gone
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["step-00000003.safetensors"]
    both = charlm(corpus, out, "--resume", "--overwrite")
    assert both.exit_code == 2 and "give one of the two" in both.output
    (tmp_path / "file").write_text("x")
    assert "is a file" in charlm(corpus, tmp_path / "file").output


def test_a_second_writer_is_refused(tmp_path):
    lock = RunLock(tmp_path / "run").acquire()
    try:
        with pytest.raises(RunFolderError, match=f"another process \\(pid {os.getpid()}\\)"):
            claim(tmp_path / "run", resume=True, overwrite=False)
    finally:
        lock.release()
    claim(tmp_path / "run", resume=True, overwrite=False).release()  # free again


def test_default_out_is_a_fresh_folder(corpus, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for n in (1, 2):
        r = CliRunner().invoke(app, ["charlm", "train", str(corpus), *TINY, "--steps", "2"])
        assert r.exit_code == 0 and f"runs/charlm-{n}" in r.output
    r = CliRunner().invoke(app, ["charlm", "train", str(corpus), "--resume"])
    assert r.exit_code == 2 and "name the run folder" in r.output


# ---- divergence -----------------------------------------------------------------------

def test_divergence_stops_with_an_error_and_keeps_the_best(corpus, tmp_path):
    r = charlm(corpus, tmp_path / "run", "--lr", "1e9", "--steps", "50", "--clip-norm", "0")
    assert r.exit_code == 3 and "diverged at update" in r.output and "Traceback" not in r.output
    log = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert max(r["step"] for r in log) < 50
    best = tmp_path / "run" / "best.safetensors"
    if best.is_file():  # a model from before the divergence, with a finite validation loss
        _, meta = load_checkpoint(best)
        assert np.isfinite(meta["best"])


# ---- interrupts and kills ------------------------------------------------------------

STEPS = 60


def _command(corpus, out):
    return [sys.executable, "-m", "rnnlab.cli", "charlm", "train", str(corpus), *TINY,
            "--steps", str(STEPS), "--out", str(out)]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ref")
    (folder / "t.txt").write_text(TEXT)
    subprocess.run(_command(folder / "t.txt", folder / "ref"), check=True, capture_output=True)
    return final_params(folder / "ref", STEPS)


def _wait_for_checkpoint(out, proc, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        if (out / "checkpoints").is_dir() and any((out / "checkpoints").iterdir()):
            return
        time.sleep(0.01)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_a_signal_at_a_random_moment_then_resume_equals_an_uninterrupted_run(
        corpus, tmp_path, sig, uninterrupted):
    out = tmp_path / "run"
    proc = subprocess.Popen(_command(corpus, out), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    _wait_for_checkpoint(out, proc)
    time.sleep(np.random.default_rng(sig).uniform(0.0, 0.1))  # a random moment after it
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode in (128 + sig, -sig), err  # stopped before the end
    if sig != signal.SIGKILL:
        assert "saved" in err and "--resume" in err and "Traceback" not in err
    resumed = subprocess.run([*_command(corpus, out), "--resume"], check=False,
                             capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    got = final_params(out, STEPS)
    for name, p in uninterrupted.items():
        np.testing.assert_array_equal(got[name], p, err_msg=name)


# ---- damaged files ---------------------------------------------------------------------

def test_flipped_byte_in_a_checkpoint_is_an_error_naming_it(corpus, tmp_path):
    out = tmp_path / "run"
    assert charlm(corpus, out, "--steps", "10").exit_code == 0
    ckpt = out / "checkpoints" / "step-00000010.safetensors"
    raw = bytearray(ckpt.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    ckpt.write_bytes(bytes(raw))
    r = charlm(corpus, out, "--steps", "20", "--resume")
    assert r.exit_code == 2 and "step-00000010.safetensors" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(app, ["charlm", "sample", str(ckpt)])
    assert r.exit_code == 2 and "corrupted" in r.output


def test_a_torn_log_line_does_not_block_resume(corpus, tmp_path):
    out = tmp_path / "run"
    assert charlm(corpus, out, "--steps", "10").exit_code == 0
    with open(out / "log.jsonl", "a") as f:
        f.write('{"step": 11, "lo')  # killed during the write
    assert charlm(corpus, out, "--steps", "12", "--resume").exit_code == 0
    lines = (out / "log.jsonl").read_text().splitlines()
    assert all(json.loads(line) for line in lines) and json.loads(lines[-1])["step"] == 12
    lines.insert(1, "garbage")
    (out / "log.jsonl").write_text("\n".join(lines) + "\n")
    r = charlm(corpus, out, "--steps", "14", "--resume")
    assert r.exit_code == 2 and "log.jsonl:2" in r.output


# ---- configs and the model API -----------------------------------------------------------

def test_a_config_file_plus_overrides_reproduces_a_run_bitwise(corpus, tmp_path):
    first = charlm(corpus, tmp_path / "a", "--steps", "10", "--lr", "0.01", "--cell", "gru")
    assert first.exit_code == 0
    saved = json.loads((tmp_path / "a" / "config.json").read_text())["options"]
    assert saved["lr"] == 0.01 and saved["cell"] == "gru" and "out" not in saved
    again = CliRunner().invoke(app, ["charlm", "train", str(corpus), "--config",
                                     str(tmp_path / "a" / "config.json"), "--out",
                                     str(tmp_path / "b")])
    assert again.exit_code == 0
    a, b = final_params(tmp_path / "a", 10), final_params(tmp_path / "b", 10)
    assert all(np.array_equal(a[n], b[n]) for n in a)
    toml = tmp_path / "c.toml"
    toml.write_text('[network]\ncell = "gru"\n[training]\nlr = 0.01\nsteps = 10\nseed = 1\n')
    over = CliRunner().invoke(app, ["charlm", "train", str(corpus), *TINY, "--config", str(toml),
                                    "--seed", "0", "--out", str(tmp_path / "c")])
    assert over.exit_code == 0  # the command line's --seed 0 wins over the file's seed = 1
    c = final_params(tmp_path / "c", 10)
    assert all(np.array_equal(a[n], c[n]) for n in a)
    toml.write_text('hiden_size = 3\n')
    bad = CliRunner().invoke(app, ["charlm", "train", "--config", str(toml)])
    assert bad.exit_code == 2 and "unknown options ['hiden_size']" in bad.output


def test_every_run_folder_loads_with_rnnlab_load(corpus, tmp_path):
    from rnnlab.apps import charlm as lm
    from rnnlab.apps import classify_text as ct
    from rnnlab.apps import seq2seq as s2s

    assert charlm(corpus, tmp_path / "lm", "--steps", "10").exit_code == 0
    from rnnlab.data.text import split_text
    from rnnlab.train import TokenStreams, evaluate_stream

    _, vocab = lm.load_model(tmp_path / "lm")
    loaded = rnnlab.load(tmp_path / "lm")  # the run folder: its best model
    _, meta = load_checkpoint(tmp_path / "lm" / "best.safetensors")
    val = TokenStreams(vocab.encode(split_text(TEXT, 0.1)[1]), 2, 8)
    again = evaluate_stream(loaded, (val(b) for b in range(val.per_epoch)))["loss"]
    assert again == pytest.approx(meta["best"], rel=1e-6)  # the loss the command reported

    pairs = tmp_path / "p.tsv"
    pairs.write_text("".join(f"{w}\t{w[::-1]}\n" for w in ("ab", "ba", "abc", "cab", "bca",
                                                           "aab", "bba", "cc", "ca", "ac")))
    r = CliRunner().invoke(app, ["seq2seq", "train", str(pairs), "--steps", "30",
                                 "--hidden-size", "8", "--out", str(tmp_path / "s2s")])
    assert r.exit_code == 0, r.output
    m, v = s2s.load_model(tmp_path / "s2s")
    assert type(rnnlab.load(tmp_path / "s2s")).__name__ == "EncoderDecoder"
    t = CliRunner().invoke(app, ["seq2seq", "translate", str(tmp_path / "s2s"), "ab", "ca"])
    assert t.exit_code == 0
    assert t.output.splitlines() == [s2s.translate(m, v, "ab"), s2s.translate(m, v, "ca")]

    csv = tmp_path / "t.csv"
    csv.write_text("text,label\n" + "".join(f"{'good' if i % 2 else 'bad'} film {i},"
                                            f"{'pos' if i % 2 else 'neg'}\n" for i in range(30)))
    r = CliRunner().invoke(app, ["classify-text", str(csv), "--words", "--steps", "20",
                                 "--out", str(tmp_path / "ct")])
    assert r.exit_code == 0, r.output
    model = rnnlab.load(tmp_path / "ct")
    assert model.spec.embedding == "embedding" and model.spec.scheme == "many_to_one"
    _, meta, _ = rnnlab.checkpoint.read_model(tmp_path / "ct")
    assert meta["config"]["classes"] == ["neg", "pos"] and meta["vocab"][0] == "<unk>"
    accuracy = float(r.output.split("held-out accuracy ")[1].split()[0])
    texts, labels = ct.read_labelled(csv)
    order = np.random.default_rng(0).permutation(len(texts))[:6]  # the command's test part
    vocab = rnnlab.data.text.Vocab(meta["vocab"])
    tokens = ct.tokenize([texts[i] for i in order], words=True)
    assert ct.accuracy(model, vocab, meta["config"]["classes"], tokens,
                       [labels[i] for i in order]) == pytest.approx(accuracy, abs=1e-3)

    for run in ("lm", "s2s", "ct"):  # every command that trains draws its learning curve
        assert (tmp_path / run / "curve.png").stat().st_size > 1000
        assert (tmp_path / run / "log.csv").read_text().startswith("step,loss")
    r = CliRunner().invoke(app, ["tasks", "run", "--T", "10", "--hidden-size", "8",
                                 "--max-steps", "10", "--eval-every", "10", "--out",
                                 str(tmp_path / "tasks")])
    assert r.exit_code == 0, r.output
    model = rnnlab.load(tmp_path / "tasks" / "model-seed0.safetensors")
    assert model.spec.rnn.hidden_size == 8
    d = CliRunner().invoke(app, ["diagnose", "--checkpoint", str(tmp_path / "tasks" /
                                                                "model-seed0.safetensors"),
                                 "--task", "adding", "--T", "10", "--out", str(tmp_path / "d")])
    assert d.exit_code == 0, d.output
