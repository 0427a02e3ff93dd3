"""The package's error types. Every mistake a user can make (an argument, a file, a
folder) raises a `UserError` whose message is one line naming what was expected, what
came and where; the `rnnlab` command prints that line and exits non-zero
(rnnlab.cli.run), never with a traceback.

    UserError          a bad argument or input                     exit 2
      DataError        a file that is not what its reader expects  exit 2
        MissingFile    a file that is not there (also a FileNotFoundError)
    TrainingDiverged   the loss became non-finite or exploded      exit 3
    Interrupted        SIGINT / SIGTERM during training (saved)    exit 130 / 143
"""

from __future__ import annotations


class UserError(ValueError):
    """A bad argument, option or input, reported as one line."""


class DataError(UserError):
    """A data, config or checkpoint file that cannot be read as what it should be."""


class MissingFile(DataError, FileNotFoundError):
    """A file named by the user that does not exist."""


class TrainingDiverged(RuntimeError):
    """Training stopped: the loss became NaN/Inf or exploded (rnnlab.train.TrainConfig's
    nonfinite and diverge_factor say when)."""


class Interrupted(Exception):
    """Training stopped by a signal after saving; `exit_code` is 128 + the signal."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code
