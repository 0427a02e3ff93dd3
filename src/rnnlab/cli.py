"""The `rnnlab` command. Each application owns its sub-command group; this module
only registers them (their heavy imports stay inside the commands, so that
`rnnlab --help` stays fast) and holds the one error path: whatever a command raises
becomes one line on stderr and a non-zero exit (rnnlab.errors), never a traceback."""

from __future__ import annotations

import os
import sys
import traceback

import typer
from typer.core import TyperGroup

from rnnlab.errors import Interrupted, TrainingDiverged


def _message(e: BaseException) -> str:
    text = e.args[0] if isinstance(e, KeyError) and e.args else str(e)
    return " ".join(str(text).split()) or type(e).__name__


class Commands(TyperGroup):
    """The command group whose invoke turns every exception into one line."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except Interrupted as e:
            typer.echo(f"interrupted: {_message(e)}", err=True)
            raise typer.Exit(e.exit_code) from None
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            raise typer.Exit(130) from None
        except BrokenPipeError:
            raise  # the reader went away (`| head`): run() ends quietly
        except TrainingDiverged as e:
            typer.echo(f"error: {_message(e)}", err=True)
            raise typer.Exit(3) from None
        except (ValueError, KeyError, TypeError, OSError) as e:
            if os.environ.get("RNNLAB_TRACEBACK"):
                traceback.print_exc()
            typer.echo(f"error: {_message(e)}", err=True)
            raise typer.Exit(2) from None
        except Exception as e:
            if type(e).__module__.startswith(("typer", "click")):
                raise  # usage errors and exits: the command-line library reports them
            if os.environ.get("RNNLAB_TRACEBACK"):
                traceback.print_exc()
            typer.echo(f"internal error: {type(e).__name__}: {_message(e)} (set "
                       "RNNLAB_TRACEBACK=1 to see the traceback, and please report it)",
                       err=True)
            raise typer.Exit(1) from None


# rich_markup_mode=None: a usage error is reported in plain lines, not in a box.
app = typer.Typer(cls=Commands, add_completion=False, no_args_is_help=True,
                  rich_markup_mode=None, pretty_exceptions_enable=False,
                  help="Recurrent neural networks with exact BPTT, in NumPy.")


@app.callback()
def main():
    """rnnlab: Elman RNNs, LSTMs and GRUs trained with exact BPTT."""


def _register() -> None:
    from rnnlab.apps.charlm import app as charlm_app
    from rnnlab.apps.classify import app as classify_app
    from rnnlab.apps.classify_text import app as classify_text_app
    from rnnlab.apps.diagnose import app as diagnose_app
    from rnnlab.apps.export import app as export_app
    from rnnlab.apps.forecast import app as forecast_app
    from rnnlab.apps.seq2seq import app as seq2seq_app
    from rnnlab.tasks.cli import app as tasks_app
    from rnnlab.tasks.cli import sweep_app

    for name, sub in (("charlm", charlm_app), ("seq2seq", seq2seq_app),
                      ("forecast", forecast_app), ("classify", classify_app),
                      ("tasks", tasks_app)):
        app.add_typer(sub, name=name)
    for single in (classify_text_app, sweep_app, diagnose_app, export_app):
        app.registered_commands += single.registered_commands


_register()


def run() -> None:
    """The console script: the app, with Python's own 'Broken pipe' silenced."""
    try:
        app()
    except BrokenPipeError:
        sys.stderr.close()


if __name__ == "__main__":
    run()
