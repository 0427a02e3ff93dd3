"""Run logs behind one interface: each writer takes every record the trainer makes
(an update's {"step", "loss", "grad_norm", "lr", "time", ...} or a validation's
{"step", "val_loss", ...}), can drop what came after a step (resume), and closes.

    jsonl        <out>/log.jsonl   one JSON object a line (always written)
    csv          <out>/log.csv     fixed columns (CSV_COLUMNS), empty where absent
    tensorboard  <out>/tensorboard/ scalars per step (the optional `tensorboard` package)
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from rnnlab.errors import DataError

LOGGERS = ("jsonl", "csv", "tensorboard")
CSV_COLUMNS = ("step", "loss", "accuracy", "grad_norm", "lr", "time", "skipped", "val_loss",
               "val_accuracy")


class LogError(DataError):
    """A run log that cannot be read back."""


class JSONLinesLog:
    def __init__(self, out_dir: Path):
        self.path = out_dir / "log.jsonl"

    def write(self, record: dict) -> None:
        with open(self.path, "a") as f:
            f.write(json.dumps(record) + "\n")

    def truncate(self, step: int) -> None:
        """Keep the records of steps <= step; a torn last line (a kill mid-write) goes."""
        if not self.path.is_file():
            return
        lines = [line for line in self.path.read_text().splitlines() if line.strip()]
        keep = []
        for i, line in enumerate(lines):
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                if i == len(lines) - 1:
                    break  # torn by a kill during the write
                raise LogError(f"{self.path}:{i + 1}: not a JSON record; the log is damaged "
                               "(delete the line to resume)") from None
            if record.get("step", 0) <= step:
                keep.append(line)
        self.path.write_text("".join(line + "\n" for line in keep))

    def close(self) -> None:
        pass


class CSVLog:
    def __init__(self, out_dir: Path):
        self.path = out_dir / "log.csv"

    def write(self, record: dict) -> None:
        new = not self.path.is_file()
        with open(self.path, "a", newline="") as f:
            w = csv.writer(f)
            if new:
                w.writerow(CSV_COLUMNS)
            w.writerow([record.get(c, "") for c in CSV_COLUMNS])

    def truncate(self, step: int) -> None:
        if not self.path.is_file():
            return
        rows = list(csv.reader(self.path.read_text().splitlines()))
        keep = [rows[0]] + [r for r in rows[1:] if len(r) == len(CSV_COLUMNS) and r[0].isdigit()
                            and int(r[0]) <= step]
        with open(self.path, "w", newline="") as f:
            csv.writer(f).writerows(keep)

    def close(self) -> None:
        pass


class TensorBoardLog:
    """Scalars for TensorBoard (`pip install tensorboard`); a resumed run appends a new
    event file, and TensorBoard shows the latest value of each step."""

    def __init__(self, out_dir: Path):
        try:
            from tensorboard.summary import Writer
        except ImportError:
            raise ValueError("loggers: 'tensorboard' needs the tensorboard package "
                             "(pip install tensorboard)") from None
        self.writer = Writer(str(out_dir / "tensorboard"))

    def write(self, record: dict) -> None:
        for key, value in record.items():
            if key != "step" and isinstance(value, int | float) and not isinstance(value, bool):
                self.writer.add_scalar(key, value, step=record["step"])
        self.writer.flush()

    def truncate(self, step: int) -> None:
        pass

    def close(self) -> None:
        self.writer.close()


_WRITERS = {"jsonl": JSONLinesLog, "csv": CSVLog, "tensorboard": TensorBoardLog}


def open_logs(out_dir: Path, names) -> list:
    """The writers named (jsonl always among them)."""
    unknown = [n for n in names if n not in LOGGERS]
    if unknown:
        raise ValueError(f"loggers: expected some of {', '.join(LOGGERS)}, got {unknown}")
    return [_WRITERS[n](out_dir) for n in dict.fromkeys(("jsonl", *names))]
