"""The default `rnnlab forecast train` on ten made-up series nobody tuned for.

    python benchmarks/forecast_madeup.py [--out runs/forecast_madeup] [--no-network]

Each series is generated here from a fixed seed (white noise with outliers, sparse counts,
a random walk below zero, weekly and daily seasons, values near 1e12 and near 1e-9, a
15-value series, a constant one, a trend break), written as a CSV and run through the same
command, without statsforecast (its models are slow on the long seasons). Prints RMSE of
rnnlab, naive and the linear AR, the intervals' coverage, and the command's exit status:
a check that the defaults run and hold on shapes the development files do not have.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def made_up(seed: int = 0) -> dict[str, tuple[np.ndarray, list[str] | None]]:
    """{name: (values, time stamps or None)}."""
    rng = np.random.default_rng(seed)
    noise = rng.normal(size=200)
    noise[[50, 120, 170]] = [80, -60, 100]
    days = np.arange(400)
    weeks = np.arange(160)
    walk = rng.normal(size=100).cumsum()
    return {
        "short": (rng.normal(size=15).cumsum(), None),
        "constant": (np.full(60, 5.0), None),
        "negative_walk": (rng.normal(size=120).cumsum() - 50, None),
        "outliers": (noise, None),
        "counts": (rng.poisson(0.3, size=150).astype(float), None),
        "weekly": (10 + 3 * np.sin(weeks * 2 * np.pi / 52) + 0.5 * rng.normal(size=160),
                   [str(np.datetime64("2020-01-05") + 7 * int(w)) for w in weeks]),
        "daily": (100 + 10 * np.sin(days * 2 * np.pi / 7) + 0.1 * days
                  + 2 * rng.normal(size=400),
                  [str(np.datetime64("2021-01-01") + int(d)) for d in days]),
        "huge": (1e12 * (1 + 0.01 * np.arange(100)) + 1e10 * rng.normal(size=100), None),
        "tiny": (1e-9 * (1 + np.sin(np.arange(100) / 3)) + 1e-11 * rng.normal(size=100),
                 None),
        "trend_break": (np.r_[walk[:70], walk[70:] + 40], None),
    }


def write_csv(path: Path, values: np.ndarray, stamps: list[str] | None) -> Path:
    rows = [f"{s},{float(v)!r}" for s, v in zip(stamps, values)] if stamps else \
        [f"{float(v)!r}" for v in values]
    path.write_text(("date,value\n" if stamps else "value\n") + "\n".join(rows) + "\n")
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "forecast_madeup")
    ap.add_argument("--no-network", action="store_true", help="the baselines' choice only")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    print("| series | exit | rnnlab | naive | linear AR | coverage of 90 % |\n|---|---:|---:|---:|---:|---:|")
    for name, (values, stamps) in made_up().items():
        data = write_csv(args.out / f"{name}.csv", values, stamps)
        run = args.out / name
        cmd = [sys.executable, "-m", "rnnlab.cli", "forecast", "train", str(data), "--out",
               str(run), "--overwrite", "--no-statistical"]
        if args.no_network:
            cmd.append("--no-network")
        done = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
        if done.returncode != 0:
            print(f"| {name} | {done.returncode} | {done.stderr.strip().splitlines()[-1]} |||||")
            continue
        report = json.loads((run / "report.json").read_text())
        total = report["total"]
        rmse = [f"{total[m]['rmse']:.4g}" if m in total else "–"
                for m in ("rnnlab", "naive", "linear_ar")]
        print(f"| {name} | 0 | {' | '.join(rmse)} | {100 * report['coverage']:.0f} % |",
              flush=True)


if __name__ == "__main__":
    main()
