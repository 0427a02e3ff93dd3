"""The summary of a sweep: per (task, T, method) the success rate, the median
number of updates to solve and, for Hessian-free runs, of CG iterations (over the
solved runs), and the median wall time, as rows, markdown, CSV and a plot of
success rate against T per method.

A method is everything in a run's specification other than task, T and seed
(cell, optimizer, remedy, initialisation, ...), written as its varying values.
"""

from __future__ import annotations

import csv
import io
import statistics
from pathlib import Path

GROUP = ("task", "T")  # with the method, the key of a row
COLUMNS = ("task", "T", "method", "runs", "solved", "success_rate", "median_steps",
           "median_cg_iters", "median_time_s", "median_error_rate")


def _method(spec: dict, varying: list[str]) -> str:
    return " ".join(f"{k}={spec[k]}" for k in varying) or "default"


def summarize(records: list[dict]) -> list[dict]:
    """Rows (dicts with COLUMNS) from results records with status "ok" (the last
    record of a run counts); a record's result holds solved, steps, error_rate."""
    latest = {r["id"]: r for r in records if r.get("status") == "ok"}
    runs = list(latest.values())
    keys = sorted({k for r in runs for k in r["spec"]} - set(GROUP) - {"seed"})
    varying = [k for k in keys
               if len({repr(r["spec"].get(k)) for r in runs}) > 1]
    groups: dict[tuple, list[dict]] = {}
    for r in runs:
        key = (r["spec"]["task"], r["spec"]["T"], _method(r["spec"], varying))
        groups.setdefault(key, []).append(r)
    rows = []
    for (task, T, method), recs in sorted(groups.items(), key=lambda kv: kv[0]):
        results = [r["result"] for r in recs]
        solved = [r for r in results if r["solved"]]
        cg = [r["cg_iters"] for r in solved if "cg_iters" in r]  # optimizer 'hf' only
        rows.append({
            "task": task, "T": T, "method": method, "runs": len(results),
            "solved": len(solved), "success_rate": len(solved) / len(results),
            "median_steps": statistics.median(r["steps"] for r in solved) if solved else None,
            "median_cg_iters": statistics.median(cg) if cg else None,
            "median_time_s": statistics.median(r["wall_s"] for r in recs),
            "median_error_rate": statistics.median(r["error_rate"] for r in results),
        })
    return rows


def _fmt(v) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.0f}" if abs(v) >= 1000 else f"{v:.3g}"
    return str(v)


def to_markdown(rows: list[dict], columns=COLUMNS) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_fmt(r[c]) for c in columns) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def to_csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, COLUMNS, lineterminator="\n")
    w.writeheader()
    w.writerows({c: "" if r[c] is None else r[c] for c in COLUMNS} for r in rows)
    return buf.getvalue()


def plot_success(rows: list[dict], path) -> Path:
    """Success rate against T, one line per method, one panel per task (PNG)."""
    from rnnlab._plotting import pyplot

    plt = pyplot()

    tasks = sorted({r["task"] for r in rows})
    fig, axes = plt.subplots(1, len(tasks), figsize=(4.5 * len(tasks), 3.5), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        mine = [r for r in rows if r["task"] == task]
        for method in sorted({r["method"] for r in mine}):
            pts = sorted((r["T"], r["success_rate"]) for r in mine if r["method"] == method)
            ax.plot(*zip(*pts), marker="o", label=method)
        ax.set(title=task, xlabel="T", ylabel="success rate", ylim=(-0.05, 1.05))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def write_summary(records: list[dict], stem) -> dict[str, Path]:
    """stem.md, stem.csv and (when a run succeeded) stem.png; returns the paths written."""
    rows = summarize(records)
    stem = Path(stem)
    out = {"md": stem.with_suffix(".md"), "csv": stem.with_suffix(".csv")}
    out["md"].write_text(to_markdown(rows))
    out["csv"].write_text(to_csv(rows))
    if rows:
        out["png"] = plot_success(rows, stem.with_suffix(".png"))
    return out
