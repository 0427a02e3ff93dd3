"""Text for the character-level language model: the vocabulary, the corpus, the split.

Vocab: the sorted set of characters of the training text; id = position. It is saved
with every checkpoint (as its list of symbols), so sampling decodes with the same ids.

Default corpus (no FILE): the Python standard library's own source, read from the
running interpreter's installation (sysconfig "stdlib"): the top-level *.py files of
that folder, sorted by name, concatenated until DEFAULT_CHARS characters. The same
interpreter gives the same text on every machine.
"""

from __future__ import annotations

import sysconfig
from pathlib import Path

import numpy as np

from rnnlab.errors import DataError, MissingFile

DEFAULT_CHARS = 1_000_000  # size of the built-in corpus, in characters
BINARY_PROBE = 8192  # bytes read to decide whether a file is text


class Vocab:
    """Characters <-> ids (ids in [0, V))."""

    def __init__(self, symbols):
        self.symbols = list(symbols)
        if not self.symbols:
            raise ValueError("vocab: expected at least one symbol, got an empty list")
        self.index = {s: i for i, s in enumerate(self.symbols)}
        if len(self.index) != len(self.symbols):
            raise ValueError("vocab: symbols must be distinct")

    @classmethod
    def from_text(cls, text: str) -> Vocab:
        return cls(sorted(set(text)))

    def __len__(self) -> int:
        return len(self.symbols)

    def encode(self, text: str, what: str = "text") -> np.ndarray:
        """text -> ids (N,) int64; a character outside the vocabulary is an error."""
        unknown = sorted(set(text) - self.index.keys())
        if unknown:
            raise ValueError(f"{what}: characters not in the model's vocabulary of "
                             f"{len(self)}: {''.join(unknown)!r}")
        return np.fromiter((self.index[c] for c in text), np.int64, len(text))

    def decode(self, ids) -> str:
        return "".join(self.symbols[int(i)] for i in ids)


def default_corpus(chars: int = DEFAULT_CHARS) -> tuple[str, list[str]]:
    """The built-in corpus (see the module docstring) and the files it read."""
    root = Path(sysconfig.get_paths()["stdlib"])
    parts, names, n = [], [], 0
    for path in sorted(root.glob("*.py")):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        parts.append(text)
        names.append(path.name)
        n += len(text)
        if n >= chars:
            break
    corpus = "".join(parts)[:chars]
    if not corpus:
        raise ValueError(f"corpus: no readable *.py files in the standard library at {root}")
    return corpus, names


def read_text_file(path) -> str:
    """One UTF-8 text file; missing, unreadable, binary or empty -> ValueError naming it."""
    path = Path(path)
    if not path.exists():
        raise MissingFile(f"FILE: {path} does not exist")
    if not path.is_file():
        raise DataError(f"FILE: {path} is not a regular file")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise DataError(f"FILE: cannot read {path}: {e.strerror}") from None
    if b"\0" in data[:BINARY_PROBE]:
        raise DataError(f"FILE: {path} looks binary (NUL bytes); expected UTF-8 text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DataError(f"FILE: {path} is not UTF-8 text (byte {e.start})") from None
    if not text:
        raise DataError(f"FILE: {path} is empty")
    return text


def read_corpus(files=()) -> str:
    """The concatenated files, or the built-in corpus when there are none."""
    if not files:
        return default_corpus()[0]
    text = "".join(read_text_file(f) for f in files)
    if not text:
        raise DataError("corpus: the files hold no text")
    return text


def split_text(text: str, val_fraction: float = 0.1) -> tuple[str, str]:
    """By position: the first (1 - val_fraction) of the text trains, the rest validates."""
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction: expected a number in [0, 1), got {val_fraction}")
    cut = round(len(text) * (1.0 - val_fraction))
    return text[:cut], text[cut:]
