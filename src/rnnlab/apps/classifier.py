"""Many-to-one sequence classification from .ts, CSV or .npz files.

Each series x_1 .. x_{T_n} (F channels) is standardised per channel with statistics
of the training set's real steps, read k steps per recurrent step (`chunk`, chosen
from the training lengths unless given), run through the recurrent layer with its
own length, and classified from a pooled summary of its states (the last state, the
mean and/or max over its real steps): p_m(class | x) = softmax(W_out φ_m(x) + b_out).
The classifier is an ensemble of M members from different seeds, p = (1/M) Σ_m p_m
(rnnlab.apps.ensemble): echo-state networks (rnnlab.esn, the default; settings by
leave-one-out on TRAIN) or trained RNN/LSTM/GRUs (early stopping on a stratified part
of TRAIN). The test file is read only to evaluate.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from rnnlab.data.sequences import Sequences, interpolate_missing, missing_report, real_steps
from rnnlab.data.windows import Standardizer


def class_list(train: Sequences) -> list[str]:
    """The classes: those the file declares (.ts @classLabel), else the training labels sorted."""
    if train.y is None:
        raise ValueError("TRAIN: the file has no class labels")
    if train.target:
        raise ValueError("TRAIN: the file declares a regression target (@targetLabel true), "
                         "not class labels (@classLabel)")
    labels = sorted(set(train.y.tolist()))
    if len(labels) < 2:
        raise ValueError(f"TRAIN: expected at least 2 classes, got only {labels} in "
                         f"{len(train.y)} series")
    if train.classes:
        return list(train.classes)
    try:  # numeric labels in numeric order
        return sorted(labels, key=float)
    except ValueError:
        return labels


def _some(labels: list[str], shown: int = 5) -> str:
    """The first few labels, and how many there are when not all are shown."""
    if len(labels) <= shown:
        return str(list(labels))
    return "[" + ", ".join(map(repr, labels[:shown - 1])) + f", ... ({len(labels)} in all)]"


def encode(seqs: Sequences, classes: list[str], argument: str) -> np.ndarray:
    """Labels -> indices into `classes`; labels never seen in training raise, naming them."""
    if seqs.y is None:
        raise ValueError(f"{argument}: the file has no class labels")
    unseen = sorted(set(seqs.y.tolist()) - set(classes))
    if unseen:
        raise ValueError(f"{argument}: labels {_some(unseen)} never appear in training "
                         f"(the classes are {_some(classes)})")
    index = {c: i for i, c in enumerate(classes)}
    return np.array([index[c] for c in seqs.y], dtype=np.int64)


def check_compatible(seqs: Sequences, num_channels: int, argument: str) -> None:
    if seqs.num_channels != num_channels:
        raise ValueError(f"{argument}: expected {num_channels} channels as in training, "
                         f"got {seqs.num_channels}")


def prepare(seqs: Sequences, fill_missing: bool, argument: str) -> Sequences:
    """Missing values: interpolated when asked, else an error that says where they are."""
    real = real_steps(seqs.X, seqs.lengths)  # (N, T, 1)
    if not np.isnan(np.where(real, seqs.X, 0.0)).any():
        return seqs
    if not fill_missing:
        raise ValueError(f"{argument}: missing values at {missing_report(seqs.X, seqs.lengths)} "
                         "(use --fill-missing to interpolate them)")
    return interpolate_missing(seqs)


def fit_scaler(seqs: Sequences) -> Standardizer:
    """Per-channel mean and std over the real steps of every training series."""
    real = real_steps(seqs.X, seqs.lengths)  # (N, T, 1)
    return Standardizer.fit(np.where(real, seqs.X, np.nan), axis=(0, 1))


def standardise(seqs: Sequences, scaler: Standardizer) -> np.ndarray:
    """X (N, T, F) standardised, zero past each series' length."""
    return np.where(real_steps(seqs.X, seqs.lengths), scaler.transform(seqs.X), 0.0)


def chunk(X: np.ndarray, lengths: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Read k consecutive steps per recurrent step: x'_s = [x_{sk}; ...; x_{sk+k-1}].

    X (N, T, F) -> (N, ⌈T/k⌉, k·F), zeros past the end; lengths -> ⌈lengths/k⌉. Long
    series (GunPoint, T = 150) become k times shorter for BPTT to cross.
    """
    N, T, F = X.shape
    Tk = -(-T // k)
    Z = np.zeros((N, Tk * k, F), X.dtype)
    Z[:, :T] = X
    return Z.reshape(N, Tk, k * F), -(-lengths // k)  # (N, T/k, k·F), (N,)


# ---- the whole run: files -> members -> accuracy, confusion matrix, recall ----------------


MODELS = ("esn", "rnn", "lstm", "gru")
STEPS = 50  # trained networks: recurrent steps per series that the automatic chunk aims at


@dataclass
class ClassifyConfig:
    model: str = "esn"  # esn (reservoir + ridge readout), or a trained rnn, lstm or gru
    members: int = 5  # ensemble size: members from seeds seed, seed+1, ..., probabilities averaged
    val: float = 0.2  # trained networks: stratified fraction of TRAIN held out (early stopping)
    chunk: int = 0  # k input steps per recurrent step; 0: chosen from the training lengths
    baselines: bool = True  # with --test: 1-NN ED, 1-NN DTW and MiniRocket (aeon) beside
    fill_missing: bool = False  # interpolate missing values instead of stopping on them

    def __post_init__(self):
        from rnnlab._checks import check_option, check_positive_int, check_range

        check_option("model", self.model, MODELS)
        check_positive_int("members", self.members)
        check_positive_int("chunk", self.chunk, minimum=0)
        check_range("val", self.val, 0.0, 1.0, hi_open=True)


def stratified_split(y: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, val): round(fraction · n_c) series of every class c held out, at
    least one where a class has two or more and fraction > 0, never all of a class."""
    rng = np.random.default_rng(seed)
    held = []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        n = min(len(idx) - 1, max(int(fraction > 0), round(fraction * len(idx))))
        held.extend(idx[:n].tolist())
    val = np.sort(np.array(held, dtype=np.int64))
    return np.setdiff1d(np.arange(len(y)), val), val


def fit_esn(cfg: ClassifyConfig, net, X, lengths, y, K: int, out, meta: dict, echo):
    """Echo-state members (rnnlab.apps.reservoir): settings by leave-one-out on TRAIN."""
    from dataclasses import replace

    from rnnlab.apps import ensemble, reservoir
    from rnnlab.apps.network import Predictor
    from rnnlab.kernels._threads import loop_threads

    # small factorisations (SVD of Φ, eigenvalues of W_hh) on the step threads: on this
    # 2-core machine under load, a 50 x 900 SVD took 2.8 s on 2 threads, 0.07 s on 1
    with loop_threads():
        choice = reservoir.select(net, X, lengths, y, K, echo, cfg.chunk or None)
    members, scores = [], []
    for m in range(cfg.members):
        with loop_threads():
            model, score = reservoir.fit_member(net, choice, X, lengths, y, K, net.seed + m)
        net_m = replace(net, cell="rnn", num_layers=1, bidirectional=False, pool=choice["pool"],
                        seed=net.seed + m)
        ensemble.save_member(ensemble.member_dir(out, m), model, net_m,
                             {**meta, "chunk": choice["chunk"]})
        members.append(Predictor(model))
        scores.append(score)
    lambdas = ", ".join(f"{s['lambda']:g}" for s in scores)
    echo(f"esn: {cfg.members} members, ridge lambda {lambdas} (leave-one-out)")
    return ensemble.Ensemble(members, [choice["chunk"]] * cfg.members), {
        "choice": choice, "members": scores}


def fit_networks(cfg: ClassifyConfig, net, X, lengths, y, K: int, out, meta: dict, resume,
                 echo):
    """Trained members: early stopping on a stratified validation part of TRAIN."""
    import math
    from dataclasses import replace

    from rnnlab.apps import ensemble, network

    k = cfg.chunk or max(1, math.ceil(int(lengths.max()) / STEPS))
    i_train, i_val = stratified_split(y, cfg.val, net.seed)
    echo(f"{cfg.model}: chunk {k} ({'given' if cfg.chunk else f'about {STEPS} steps a series'})"
         f", {len(i_train)} series to train on, {len(i_val)} held out (stratified)")
    held = (*chunk(X[i_val], lengths[i_val], k), y[i_val]) if len(i_val) else None
    members, summaries = [], []
    for m in range(cfg.members):
        net_m = replace(net, cell=cfg.model, seed=net.seed + m)
        predictor, summary = network.fit_classifier(
            net_m, *chunk(X[i_train], lengths[i_train], k), y[i_train], K, held,
            ensemble.member_dir(out, m), {**meta, "chunk": k}, resume, echo)
        members.append(predictor)
        summaries.append(summary)
    return ensemble.Ensemble(members, [k] * cfg.members), {
        "choice": {"chunk": k, "train": len(i_train), "val": len(i_val)},
        "members": summaries}


def run(train_file, test_file, cfg: ClassifyConfig, net, out, resume: bool = False,
        echo=print) -> dict:
    """`run_sequences` on a training file and an optional test file (.ts, .csv, .npz)."""
    from rnnlab.data.tables import read_sequences

    test = None if test_file is None else read_sequences(test_file)
    return run_sequences(read_sequences(train_file), test, cfg, net, out, resume, echo)


def run_sequences(train: Sequences, test: Sequences | None, cfg: ClassifyConfig, net, out,
                  resume: bool = False, echo=print) -> dict:
    """Train on TRAIN only (every automatic choice on TRAIN), evaluate on TEST; write
    members/, report.json and confusion.png in out."""
    import json
    import time
    from pathlib import Path

    data = prepare(train, cfg.fill_missing, "TRAIN")
    classes = class_list(data)
    y = encode(data, classes, "TRAIN")
    scaler = fit_scaler(data)
    meta = {"app": "classify", "classify": asdict(cfg), "classes": classes,
            "num_channels": data.num_channels,
            "scaler": {"mean": scaler.mean.tolist(), "std": scaler.std.tolist()}}
    echo(f"{len(y)} training series, {data.num_channels} channels, lengths "
         f"{data.lengths.min()}-{data.lengths.max()}, {len(classes)} classes; per-channel "
         "standardisation from TRAIN")
    X = standardise(data, scaler)  # (N, T, F)
    t0 = time.perf_counter()
    if cfg.model == "esn":
        model, training = fit_esn(cfg, net, X, data.lengths, y, len(classes), out, meta, echo)
    else:
        model, training = fit_networks(cfg, net, X, data.lengths, y, len(classes), out, meta,
                                       resume, echo)
    training["seconds"] = time.perf_counter() - t0
    report = {"config": asdict(cfg), "network": net.to_dict(), "training": training,
              "classes": classes}
    if test is not None:
        test = prepare(test, cfg.fill_missing, "--test")
        check_compatible(test, data.num_channels, "--test")
        y_test = encode(test, classes, "--test")
        report["test"] = evaluate(model, standardise(test, scaler), test.lengths, y_test, classes)
        if cfg.baselines:
            from rnnlab.apps.classify_baselines import baselines

            report["baselines"] = baselines((data, y), (test, y_test), echo)
        from rnnlab.apps.plots import plot_confusion

        C = np.array(report["test"]["confusion"])
        report["plot"] = str(plot_confusion(Path(out) / "confusion.png", C, classes,
                                            f"test accuracy {report['test']['accuracy']:.3f}"))
    (Path(out) / "report.json").write_text(json.dumps(report, indent=2))
    return report


def evaluate(model, X: np.ndarray, lengths: np.ndarray, y: np.ndarray, classes) -> dict:
    """The ensemble's accuracy, confusion matrix C[true, predicted] and recall per class,
    and each member's accuracy alone."""
    from rnnlab.metrics import confusion_matrix, recall_per_class

    P = model.member_probabilities(X, lengths)  # (M, N, K)
    pred = P.mean(0).argmax(1)  # (N,)
    C = confusion_matrix(y, pred, len(classes))
    return {"n": len(y), "accuracy": float(np.mean(pred == y)), "confusion": C.tolist(),
            "recall": dict(zip(classes, recall_per_class(C).tolist())),
            "member_accuracy": np.mean(P.argmax(2) == y, axis=1).tolist()}


def format_report(report: dict) -> str:
    """Accuracy, per-class recall and the confusion matrix as plain text."""
    t, cfg = report["training"], report["config"]
    lines = [f"training {t['seconds']:.1f} s, {cfg['members']} {cfg['model']} members"]
    if "test" not in report:
        return "\n".join([*lines, "(no --test file: nothing evaluated)"])
    test, classes = report["test"], report["classes"]
    w = max(5, *(len(c) for c in classes)) + 1
    lines += [f"test accuracy {test['accuracy']:.4f} on {test['n']} series",
              "confusion (rows true, columns predicted):",
              " " * w + "".join(f"{c:>{w}}" for c in classes) + f"{'recall':>8}"]
    for c, row in zip(classes, test["confusion"]):
        lines.append(f"{c:>{w}}" + "".join(f"{v:>{w}}" for v in row) + f"{test['recall'][c]:>8.3f}")
    lines.append("members alone: " + " ".join(f"{a:.4f}" for a in test["member_accuracy"]))
    for name, b in report.get("baselines", {}).items():
        acc = "n/a" if b["accuracy"] is None else f"{b['accuracy']:.4f}"
        lines.append(f"baseline {name}: {acc} ({b['note']})")
    return "\n".join(lines)


def predict_file(run_folder, file, fill_missing: bool):
    """(predicted labels, accuracy or None when the file has no labels)."""
    from rnnlab.apps import ensemble
    from rnnlab.data.tables import read_sequences

    model, meta = ensemble.load(run_folder, "classify")
    classes = meta["classes"]
    seqs = prepare(read_sequences(file), fill_missing, "FILE")
    check_compatible(seqs, meta["num_channels"], "FILE")
    scaler = Standardizer(*(np.array(meta["scaler"][k]) for k in ("mean", "std")))
    pred = model.predict(standardise(seqs, scaler), seqs.lengths).argmax(1)  # (N,)
    labels = [classes[i] for i in pred]
    if seqs.y is None:
        return labels, None
    return labels, float(np.mean(np.array(labels) == seqs.y))
