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


def reader(kind: str):
    """Decorate a file reader `f(path, ...)`: whatever goes wrong while parsing becomes a
    DataError naming the file (a ValueError keeps its message), so that any byte string
    either parses or raises the package's own error (tested by fuzzing)."""
    import functools
    import struct
    import zipfile

    def decorate(f):
        @functools.wraps(f)
        def wrapper(path, *args, **kwargs):
            try:
                return f(path, *args, **kwargs)
            except DataError:
                raise
            except FileNotFoundError as e:
                raise MissingFile(f"{path}: no such file ({e.strerror})") from None
            except UnicodeError as e:
                raise DataError(f"{path}: not a UTF-8 {kind} file ({e})") from None
            except ValueError as e:
                raise DataError(str(e)) from None
            except (TypeError, IndexError, KeyError, OverflowError, EOFError, OSError,
                    zipfile.BadZipFile, struct.error) as e:
                raise DataError(f"{path}: not a readable {kind} file ({type(e).__name__}: "
                                f"{e})") from None
        return wrapper
    return decorate
