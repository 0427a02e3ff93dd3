"""Every forecasting file in ../shared/data with the same default `rnnlab forecast train`.

    python benchmarks/forecast_bench.py [--data ../shared/data] [--out runs/forecast_bench]
    python benchmarks/forecast_bench.py --dev     # the same on the files without their test part
    python benchmarks/forecast_bench.py --aeon    # on real series bundled with aeon

No per-file flags (--overwrite only lets a rerun replace the last one's folders): the
target is each file's last column, the season comes from the time column (or the .tsf
frequency); the held-out part is the default (the last 20 % one step
ahead, or the file's horizon for a .tsf). The statsforecast models run in the same
command on the same windows. Prints one table per kind of evaluation.

--dev runs the same command on copies of the files cut before their held-out part (the
last 20 % of a single series, the last @horizon values of each .tsf series), so that the
default command's own held-out part lies inside the real training data: a development
set for changing the defaults that never reads a test value.

--aeon runs it on real series this project's defaults were not developed on, read from
the data bundled with aeon (an optional extra; no network): the Canadian lynx trappings
(yearly, 1821-1934), shampoo sales (monthly, 3 years) and the five quarterly US
macroeconomic series of Hyndman's `uschange` (per cent changes, 1970-2016), each
written as a two-column CSV with a time column.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
METHODS = ("rnnlab", "naive", "seasonal_naive", "drift", "linear_ar", "AutoARIMA", "AutoETS",
           "AutoTheta")


def files(data: Path) -> list[Path]:
    found = [data / "airline.csv"] + sorted((data / "forecasting").glob("*.csv")) + \
        sorted((data / "forecasting").glob("*.tsf"))
    return [f for f in found if f.is_file()]


def dev_copy(path: Path, dest: Path) -> Path:
    """path without its held-out part, written to dest/(the same relative name)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    lines = path.read_text().splitlines()
    if path.suffix == ".csv":
        rows = len(lines) - 1
        dest.write_text("\n".join(lines[:1 + rows - round(0.2 * rows)]) + "\n")
        return dest
    horizon = next(int(line.split()[1]) for line in lines if line.lower().startswith("@horizon"))
    at_data, out = False, []
    for line in lines:
        if at_data and line.strip():
            head, _, values = line.rpartition(":")
            line = f"{head}:{','.join(values.split(',')[:-horizon])}"
        at_data = at_data or line.strip().lower() == "@data"
        out.append(line)
    dest.write_text("\n".join(out) + "\n")
    return dest


def aeon_series(dest: Path) -> list[Path]:
    """The bundled real series (see the docstring) as CSV files in dest."""
    import csv

    try:
        import aeon.datasets
    except ImportError:
        raise SystemExit("--aeon: aeon is not installed (pip install aeon)") from None
    src = Path(aeon.datasets.__file__).parent / "data"
    dest.mkdir(parents=True, exist_ok=True)
    lynx = list(csv.reader((src / "Lynx" / "Lynx.csv").open()))[1:]
    (dest / "lynx.csv").write_text("year,lynx\n" + "".join(f"{y},{v}\n" for y, v in lynx))
    (dest / "shampoo.csv").write_text((src / "ShampooSales" / "ShampooSales.csv").read_text())
    paths = [dest / "lynx.csv", dest / "shampoo.csv"]
    rows = list(csv.DictReader((src / "Uschange" / "Uschange.csv").open()))
    for column in ("Consumption", "Income", "Production", "Savings", "Unemployment"):
        path = dest / f"uschange_{column.lower()}.csv"
        quarters = ((r["Quarter"].split(" Q"), r[column]) for r in rows)
        path.write_text(f"quarter,{column.lower()}\n" + "".join(
            f"{y}-{3 * int(q) - 2:02d}-01,{v}\n" for (y, q), v in quarters))
        paths.append(path)
    return paths


def run(path: Path, out: Path) -> tuple[dict, float]:
    cmd = [sys.executable, "-m", "rnnlab.cli", "forecast", "train", str(path), "--out", str(out),
           "--overwrite"]
    print("$", " ".join(["rnnlab", *cmd[3:]]), flush=True)
    t0 = time.perf_counter()
    done = subprocess.run(cmd, check=False, capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"{path.name}: failed\n{done.stdout}\n{done.stderr}")
    print("\n".join(line for line in done.stdout.splitlines() if line.startswith("fold")))
    return json.loads((out / "report.json").read_text()), seconds


def cell(scores: dict, name: str, key: str, scale: float = 1.0) -> str:
    return f"{scale * scores[name][key]:.4g}" if name in scores else "–"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT / ".." / "shared" / "data")
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "forecast_bench")
    ap.add_argument("--dev", action="store_true",
                    help="the files without their held-out part (see the docstring)")
    ap.add_argument("--aeon", action="store_true",
                    help="real series bundled with aeon instead (see the docstring)")
    args = ap.parse_args()
    if args.aeon and args.dev:
        raise SystemExit("--aeon, --dev: choose one (the aeon series have no test part here)")
    if args.aeon:
        args.out = args.out / "aeon"
        paths = aeon_series(args.out / "data")
    elif not (args.data / "forecasting").is_dir():
        raise SystemExit(f"{args.data}/forecasting: not found (the shared data folder)")
    else:
        paths = files(args.data)
    if args.dev:
        args.out = args.out / "dev"
        paths = [dev_copy(p, args.out / "data" / p.relative_to(args.data)) for p in paths]
    single, multi = [], []
    for path in paths:
        report, seconds = run(path, args.out / path.stem)
        (multi if path.suffix == ".tsf" else single).append((path, report, seconds))
    head = " | ".join(METHODS)
    print(f"\nOne series, one step ahead on the held-out part, RMSE (coverage of the 90 % "
          f"intervals)\n\n| series (m) | {head} | coverage | wall |")
    print("|---|" + "---:|" * (len(METHODS) + 2))
    for path, r, seconds in single:
        s = r["total"]
        print(f"| {path.name} ({r['season']}) | " + " | ".join(cell(s, n, "rmse") for n in METHODS)
              + f" | {100 * r['coverage']:.0f} % | {seconds:.0f} s |")
    for path, r, seconds in multi:
        s = r["total"]
        print(f"\n{path.name}: {r['series']} series, horizon {r['horizon']}, sMAPE % / MASE "
              f"(mean over series), coverage {100 * r['coverage']:.0f} % of nominal 90 %, "
              f"{seconds:.0f} s\n")
        print("| method | sMAPE % | MASE |\n|---|---:|---:|")
        for n in METHODS:
            if n in s:
                print(f"| {n} | {cell(s, n, 'smape', 100)} | {cell(s, n, 'mase')} |")
    for path, r, _ in single + multi:
        print(f"\n{path.name} choices: " + "; ".join(
            f"{k} {v[0]} ({v[1]})" for k, v in r["folds"][0]["choices"].items()))


if __name__ == "__main__":
    main()
