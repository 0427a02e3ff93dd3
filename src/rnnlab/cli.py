"""The `rnnlab` command. Each application owns its sub-command group; this module
only registers them (their heavy imports stay inside the commands, so that
`rnnlab --help` stays fast)."""

from __future__ import annotations

import typer

from rnnlab.apps.charlm import app as charlm_app
from rnnlab.apps.classify import app as classify_app
from rnnlab.apps.classify_text import main as classify_text
from rnnlab.apps.diagnose import app as diagnose_app
from rnnlab.apps.forecast import app as forecast_app
from rnnlab.apps.seq2seq import app as seq2seq_app
from rnnlab.tasks.cli import app as tasks_app
from rnnlab.tasks.cli import sweep

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Recurrent neural networks with exact BPTT, in NumPy.")


@app.callback()
def main():
    """rnnlab: Elman RNNs, LSTMs and GRUs trained with exact BPTT."""


@app.command()
def demo(
    steps: int = typer.Option(2000, min=1, help="training steps"),
    T: int = typer.Option(20, "--T", min=2, help="sequence length of the adding problem"),
    seed: int = typer.Option(0, help="random seed"),
):
    """Train a small LSTM on the adding problem and print its loss falling."""
    from rnnlab._demo import run_demo

    run_demo(steps=steps, T=T, seed=seed, echo=typer.echo)


app.add_typer(charlm_app, name="charlm")
app.add_typer(seq2seq_app, name="seq2seq")
app.command("classify-text")(classify_text)
app.add_typer(forecast_app, name="forecast")
app.add_typer(classify_app, name="classify")
app.add_typer(tasks_app, name="tasks")
app.command("sweep")(sweep)
app.add_typer(diagnose_app, name="diagnose")


if __name__ == "__main__":
    app()
