"""Sequence classification benchmark: every data set in ../shared/data/ucr with the same
default command (no per-set flag), the trained-GRU variant, the baselines, and the
digits read as images; prints a Markdown table.

    python benchmarks/classify_bench.py [--data ../shared/data/ucr] [--out runs/bench]
                                        [--no-gru] [--no-digits] [--aeon]

--aeon runs the classification sets bundled with aeon (an optional extra; no network)
instead: real sets this project's defaults were not developed on.

Per data set it runs, each as its own process (the times include nothing else):

    rnnlab classify train X_TRAIN.ts --test X_TEST.ts                    (the default: 5 ESNs)
    rnnlab classify train X_TRAIN.ts --test X_TEST.ts --members 1 --no-baselines  (one ESN)
    rnnlab classify train X_TRAIN.ts --test X_TEST.ts --model gru --members 1 --no-baselines

and reads the accuracies, training times and baselines (1-NN ED, 1-NN DTW, MiniRocket
when aeon is installed) from each run's report.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = {"default": [], "esn1": ["--members", "1", "--no-baselines"],
            "gru1": ["--model", "gru", "--members", "1", "--no-baselines"]}
# pixel by pixel means one pixel per recurrent step: --chunk 1 (the default would read
# 3 pixels per step); the default's own choice is listed too
DIGITS = {"rows": ["--images", "rows"], "pixels": ["--images", "pixels", "--chunk", "1"],
          "permuted pixels": ["--images", "pixels", "--permute", "0", "--chunk", "1"],
          "pixels, automatic chunk": ["--images", "pixels"]}


def classify(args: list[str], out: Path) -> dict:
    """Run `rnnlab classify train ARGS --out OUT`; its report plus the wall time."""
    t0 = time.perf_counter()
    cmd = [sys.executable, "-m", "rnnlab.cli", "classify", "train", *args, "--out", str(out)]
    done = subprocess.run(cmd, check=False, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{done.stdout}\n{done.stderr}")
    report = json.loads((out / "report.json").read_text())
    return {**report, "wall": time.perf_counter() - t0}


def cell(report: dict | None) -> str:
    if report is None:
        return "–"
    return f"{report['test']['accuracy']:.3f} ({report['training']['seconds']:.0f} s)"


def baseline(report: dict, name: str) -> str:
    b = report["baselines"][name]
    return "n/a" if b["accuracy"] is None else f"{b['accuracy']:.3f} ({b['seconds']:.0f} s)"


def data_sets(folder: Path) -> dict[str, Path]:
    """{name: NAME_TRAIN.ts} of the sets in folder that have a NAME_TEST.ts."""
    return {f.name[: -len("_TRAIN.ts")]: f for f in sorted(folder.glob("*_TRAIN.ts"))
            if f.with_name(f.name.replace("_TRAIN", "_TEST")).is_file()}


DEVELOPMENT = ("ACSF1", "GunPoint", "JapaneseVowels", "OSULeaf")  # ../shared/data/ucr


def aeon_sets() -> dict[str, Path]:
    """The classification sets bundled with aeon (their .ts files declare @classLabel),
    less the development sets and the equal-length copies ("_eq") of the others."""
    try:
        import aeon.datasets
    except ImportError:
        raise SystemExit("--aeon: aeon is not installed (pip install aeon)") from None
    found = {}
    for folder in sorted((Path(aeon.datasets.__file__).parent / "data").iterdir()):
        for name, train in data_sets(folder).items():
            if name not in DEVELOPMENT and not name.endswith("_eq") and \
                    "@classlabel true" in train.read_text()[:4000].lower():
                found[name] = train
    return found


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "ucr")
    p.add_argument("--out", type=Path, default=ROOT / "runs" / "classify_bench")
    p.add_argument("--no-gru", action="store_true", help="skip the trained-GRU runs")
    p.add_argument("--no-digits", action="store_true", help="skip the digits runs")
    p.add_argument("--aeon", action="store_true", help="the sets bundled with aeon instead")
    a = p.parse_args()
    sets = data_sets(a.data) if not a.aeon else aeon_sets()
    if not sets:
        raise SystemExit(f"no *_TRAIN.ts files in {a.data}")
    variants = {k: v for k, v in VARIANTS.items() if not (a.no_gru and k == "gru1")}
    print("| data set | rnnlab default (5 ESNs) | one ESN | trained GRU | 1-NN ED | "
          "1-NN DTW | MiniRocket | default: choice |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for name, train in sets.items():
        files = [str(train), "--test", str(train.with_name(f"{name}_TEST.ts"))]
        r = {k: classify(files + v, a.out / name / k) for k, v in variants.items()}
        c = r["default"]["training"]["choice"]
        choice = (f"chunk {c['chunk']}, ρ {c['spectral_radius']}, scale {c['input_scale']}, "
                  f"{c['pool']}, LOO {c['loo_accuracy']:.3f}")
        print(f"| {name} | {cell(r['default'])} | {cell(r['esn1'])} | {cell(r.get('gru1'))} | "
              f"{baseline(r['default'], '1nn_euclidean')} | {baseline(r['default'], '1nn_dtw')}"
              f" | {baseline(r['default'], 'minirocket')} | {choice} |", flush=True)
    if a.no_digits:
        return
    print("\n| digits (8×8; 1347 train, 450 test) | rnnlab default (5 ESNs) | recurrent steps |")
    print("|---|---:|---:|")
    for name, v in DIGITS.items():
        r = classify(["digits", "--no-baselines", *v], a.out / name.replace(" ", "_"))
        steps = -(-(8 if name == "rows" else 64) // r["training"]["choice"]["chunk"])
        print(f"| {name} | {cell(r)} | {steps} |", flush=True)


if __name__ == "__main__":
    main()
