"""Many-to-one sequence classification from .ts, CSV or .npz files.

Each series x_1 .. x_{T_n} (F channels) is standardised per channel with statistics
of the training set's real steps, run through the recurrent layer with its own
length (`lengths`), and classified from the state at its last real step:
p(class | x) = softmax(W_out h_{T_n} + b_out).
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
    if train.classes:
        return list(train.classes)
    labels = sorted(set(train.y.tolist()))
    try:  # numeric labels in numeric order
        return sorted(labels, key=float)
    except ValueError:
        return labels


def encode(seqs: Sequences, classes: list[str], argument: str) -> np.ndarray:
    """Labels -> indices into `classes`; labels never seen in training raise, naming them."""
    if seqs.y is None:
        raise ValueError(f"{argument}: the file has no class labels")
    unseen = sorted(set(seqs.y.tolist()) - set(classes))
    if unseen:
        raise ValueError(f"{argument}: labels {unseen} never appear in training "
                         f"(the classes are {classes})")
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


def features(seqs: Sequences, scaler: Standardizer, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The network's input: standardised, then k steps per recurrent step."""
    return chunk(standardise(seqs, scaler), seqs.lengths, k)


# ---- the whole run: files -> network -> accuracy, confusion matrix, recall ---------------------


def split_validation(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, val): a random `fraction` of the n training series held out."""
    from rnnlab._checks import check_range

    check_range("val", fraction, 0.0, 1.0, hi_open=True)
    perm = np.random.default_rng(seed).permutation(n)
    n_val = round(fraction * n)
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


def subset(seqs: Sequences, idx: np.ndarray) -> Sequences:
    return Sequences(seqs.X[idx], seqs.lengths[idx], seqs.y[idx], seqs.classes)


@dataclass
class ClassifyConfig:
    val: float = 0.1  # fraction of TRAIN held out for model selection (0: keep the last weights)
    chunk: int = 1  # k input steps per recurrent step (1: the series as it is)
    fill_missing: bool = False  # interpolate missing values instead of stopping on them


def run(train_file, test_file, cfg: ClassifyConfig, net, out, resume: bool = False,
        echo=print) -> dict:
    """Train on TRAIN (less a validation part for model selection), evaluate on TEST;
    write report.json and confusion.png in out."""
    import json
    from pathlib import Path

    from rnnlab._checks import check_positive_int
    from rnnlab.apps import network
    from rnnlab.data.tables import read_sequences

    k = check_positive_int("chunk", cfg.chunk)
    data = prepare(read_sequences(train_file), cfg.fill_missing, "TRAIN")
    classes = class_list(data)
    y = encode(data, classes, "TRAIN")
    i_train, i_val = split_validation(len(y), cfg.val, net.seed)
    train = subset(data, i_train)
    scaler = fit_scaler(train)
    meta = {"app": "classify", "classify": asdict(cfg), "classes": classes,
            "num_channels": data.num_channels,
            "scaler": {"mean": scaler.mean.tolist(), "std": scaler.std.tolist()}}
    echo(f"{len(i_train)} training series ({len(i_val)} held out), {data.num_channels} channels, "
         f"lengths {data.lengths.min()}-{data.lengths.max()}, {len(classes)} classes")
    held = (*features(subset(data, i_val), scaler, k), y[i_val]) if len(i_val) else None
    model, fit_info = network.fit_classifier(
        net, *features(train, scaler, k), y[i_train], len(classes), held, Path(out), meta,
        resume, echo)
    report = {"config": asdict(cfg), "network": net.to_dict(), "training": fit_info,
              "classes": classes}
    if test_file is not None:
        test = prepare(read_sequences(test_file), cfg.fill_missing, "--test")
        check_compatible(test, data.num_channels, "--test")
        y_test = encode(test, classes, "--test")
        report["test"] = evaluate(model, *features(test, scaler, k), y_test, classes)
        from rnnlab.apps.plots import plot_confusion

        C = np.array(report["test"]["confusion"])
        report["plot"] = str(plot_confusion(Path(out) / "confusion.png", C, classes,
                                            f"test accuracy {report['test']['accuracy']:.3f}"))
    (Path(out) / "report.json").write_text(json.dumps(report, indent=2))
    return report


def evaluate(model, X: np.ndarray, lengths: np.ndarray, y: np.ndarray, classes) -> dict:
    """Accuracy, confusion matrix C[true, predicted] and recall per class."""
    from rnnlab.metrics import confusion_matrix, recall_per_class

    pred = model.predict(X, lengths).argmax(1)  # (N,)
    C = confusion_matrix(y, pred, len(classes))
    return {"n": len(y), "accuracy": float(np.mean(pred == y)), "confusion": C.tolist(),
            "recall": dict(zip(classes, recall_per_class(C).tolist()))}


def format_report(report: dict) -> str:
    """Accuracy, per-class recall and the confusion matrix as plain text."""
    t = report["training"]
    lines = [f"training {t['seconds']:.1f} s, {t['epochs']} epochs"]
    if "test" not in report:
        return "\n".join([*lines, "(no --test file: nothing evaluated)"])
    test, classes = report["test"], report["classes"]
    w = max(5, *(len(c) for c in classes)) + 1
    lines += [f"test accuracy {test['accuracy']:.4f} on {test['n']} series",
              "confusion (rows true, columns predicted):",
              " " * w + "".join(f"{c:>{w}}" for c in classes) + f"{'recall':>8}"]
    for c, row in zip(classes, test["confusion"]):
        lines.append(f"{c:>{w}}" + "".join(f"{v:>{w}}" for v in row) + f"{test['recall'][c]:>8.3f}")
    return "\n".join(lines)


def predict_file(checkpoint, file, fill_missing: bool):
    """(predicted labels, accuracy or None when the file has no labels)."""
    from rnnlab.apps import network
    from rnnlab.data.tables import read_sequences

    model, meta = network.load(checkpoint, "classify")
    classes = meta["classes"]
    seqs = prepare(read_sequences(file), fill_missing, "FILE")
    check_compatible(seqs, meta["num_channels"], "FILE")
    scaler = Standardizer(*(np.array(meta["scaler"][k]) for k in ("mean", "std")))
    pred = model.predict(*features(seqs, scaler, meta["classify"]["chunk"])).argmax(1)  # (N,)
    labels = [classes[i] for i in pred]
    if seqs.y is None:
        return labels, None
    return labels, float(np.mean(np.array(labels) == seqs.y))
