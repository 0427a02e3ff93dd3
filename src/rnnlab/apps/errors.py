"""Bad input in a command: one line naming the problem, not a traceback."""

from __future__ import annotations

from contextlib import contextmanager

import typer


@contextmanager
def user_errors():
    """Turn ValueError / FileNotFoundError / KeyError into 'error: ...' and exit code 2."""
    try:
        yield
    except (ValueError, FileNotFoundError, KeyError) as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
