"""Run folders: the one guard every command that writes a run goes through.

Rules:
- a fresh run starts only in a folder that does not exist or is empty; a folder that
  holds anything is refused unless the run resumes it (`resume`) or replaces it
  (`overwrite`, which deletes the files a run writes there, and the runs nested in
  it, and nothing else);
- one writer at a time: an exclusive lock (`.lock`, flock) is held while the run
  writes, and a second process is refused;
- with no folder named, a run gets a fresh one: `runs/<name>-<n>`, n the next free
  number (`fresh_run_dir`);
- a JSON file of the run is written whole or not at all (`write_json`: a temporary file
  renamed over it), so a resumed run never reads half of one.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from pathlib import Path

from rnnlab.errors import UserError

LOCK = ".lock"
# What a run writes into its folder (removed by overwrite; anything else is kept).
RUN_FILES = ("config.json", "log.jsonl", "log.csv", "best.safetensors", "model.safetensors",
             "report.json", "results.jsonl", "summary.md", "summary.csv", "summary.json",
             "checkpoints", "tensorboard", LOCK)
RUN_GLOBS = ("*.png", "*.svg", "model-seed*.safetensors", "updates-seed*.jsonl")


def write_json(path: Path, obj) -> None:
    """path <- obj as indented JSON, atomically (a temporary file renamed over it)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2))
    tmp.replace(path)


class RunFolderError(UserError):
    """A run folder that cannot be used as asked."""


def fresh_run_dir(name: str, root: Path | str = "runs") -> Path:
    """runs/<name>-1, -2, ...: the first that does not exist yet."""
    root = Path(root)
    n = 1
    while (root / f"{name}-{n}").exists():
        n += 1
    return root / f"{name}-{n}"


def _holds_anything(path: Path) -> bool:
    return path.is_dir() and any(p.name != LOCK for p in path.iterdir())


def _clear(path: Path) -> None:
    for name in RUN_FILES:
        p = path / name
        if p.is_dir():
            shutil.rmtree(p)
        elif p.exists() and name != LOCK:
            p.unlink()
    for pattern in RUN_GLOBS:
        for p in path.glob(pattern):
            p.unlink()
    for p in path.iterdir():  # runs nested in this one (a forecast's networks)
        if p.is_dir() and any((p / name).exists() for name in ("config.json", "log.jsonl")):
            shutil.rmtree(p)


class RunLock:
    """An exclusive lock on a run folder for as long as a run writes to it."""

    def __init__(self, path: Path):
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> RunLock:
        self.path.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise RunFolderError(f"--out {self.path}: another process (pid {holder}) is "
                                 "writing to this run folder; wait for it or use another "
                                 "--out") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def claim(path, *, resume: bool, overwrite: bool) -> RunLock:
    """Check `path` against the rules above and lock it; return the held lock."""
    path = Path(path)
    if resume and overwrite:
        raise RunFolderError("--resume and --overwrite: give one of the two (continue the "
                             "run, or replace it)")
    if path.exists() and not path.is_dir():
        raise RunFolderError(f"--out {path}: is a file; expected a folder for the run")
    lock = RunLock(path).acquire()
    try:
        if _holds_anything(path) and not resume:
            if not overwrite:
                raise RunFolderError(
                    f"--out {path}: the folder holds files already (an earlier run?); "
                    "pass --resume to continue that run, --overwrite to replace it, or "
                    "name another --out")
            _clear(path)
    except BaseException:
        lock.release()
        raise
    return lock
