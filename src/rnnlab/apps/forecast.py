"""`rnnlab forecast`: the hybrid forecaster (a baseline chosen on validation, corrected by
an ensemble of small networks) on one or many series, backtested against naive, seasonal
naive, drift, linear AR and (with statsforecast) AutoARIMA/AutoETS/AutoTheta; forecasts
after the end of the data with prediction intervals."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rnnlab.apps.errors import user_errors

app = typer.Typer(no_args_is_help=True, help=__doc__)

DATA_HELP = ("CSV (one series: a time column and numeric columns; many: long format with "
             "--id-column), .tsf or .parquet file; none: the built-in example")


def _names(text: str | None) -> list[str] | None:
    return [n.strip() for n in text.split(",") if n.strip()] if text else None


def _configs(horizon, test, folds, season, transform, baseline, center, window, val, network,
             ensemble, level, statistical, cell, hidden, layers, epochs, batch_size, lr,
             patience, seed, overwrite):
    from rnnlab._checks import check_option
    from rnnlab.apps import forecaster as fc
    from rnnlab.apps.network import NetworkConfig
    from rnnlab.forecasting.hybrid import BASELINES, CENTERS, TRANSFORMS, HybridConfig

    check_option("transform", transform, TRANSFORMS)
    check_option("baseline", baseline, BASELINES)
    check_option("center", center, ("auto", *CENTERS))
    if not 0 < level < 1:
        raise ValueError(f"--level: expected a coverage in (0, 1), got {level}")
    hybrid = HybridConfig(season=season, transform=transform, baseline=baseline, center=center,
                          window=window,
                          val=val, network=network, ensemble=ensemble, level=level)
    net = NetworkConfig(cell=cell, hidden=hidden, layers=layers, epochs=epochs,
                        batch_size=batch_size, lr=lr, seed=seed, patience=patience,
                        overwrite=overwrite)
    return fc.ForecastConfig(hybrid, horizon, test, folds, statistical), net


@app.command()
def train(
    data: Annotated[Path | None, typer.Argument(help=DATA_HELP)] = None,
    target: str = typer.Option(None, help="column forecast [default: y in long format, else "
                               "the last column]"),
    inputs: str = typer.Option(None, help="covariate columns the networks read, "
                               "comma-separated [default: all others]"),
    time_column: str = typer.Option(None, help="time column [default: ds in long format, "
                                    "else the first column when it is not numeric]"),
    id_column: str = typer.Option("unique_id", help="series id column of a long-format file"),
    fill_missing: bool = typer.Option(False, help="interpolate missing values (one series)"),
    horizon: int = typer.Option(None, min=1, help="H [default: the file's, else 1]"),
    test: float = typer.Option(None, help="held-out values per series and fold: a fraction "
                               "or a count [default: the file's horizon, else 0.2]"),
    folds: int = typer.Option(1, min=1, help="rolling-origin folds, each refitted"),
    season: int = typer.Option(None, min=1, help="m [default: from the time column, else "
                               "the autocorrelation]"),
    transform: str = typer.Option("auto", help="none, log or auto (validation)"),
    baseline: str = typer.Option("auto", help="naive, seasonal_naive, drift, ses, ar, "
                                 "ar+naive, ar+seasonal_naive, ar+drift, ar+ses or auto "
                                 "(validation)"),
    center: str = typer.Option("auto", help="windows' level: last, mean or auto (validation)"),
    window: int = typer.Option(None, min=1, help="K of the linear AR [default: validation]"),
    val: float = typer.Option(0.2, help="validation part of each training part"),
    network: bool = typer.Option(True, help="train the correcting networks"),
    ensemble: int = typer.Option(3, min=1, help="networks (seeds) averaged"),
    level: float = typer.Option(0.9, help="nominal coverage of the prediction intervals"),
    statistical: bool = typer.Option(True, help="AutoARIMA/AutoETS/AutoTheta (statsforecast)"),
    cell: str = typer.Option("gru", help="rnn, lstm or gru"),
    hidden: int = typer.Option(32, min=1, help="hidden units per layer"),
    layers: int = typer.Option(1, min=1, help="stacked recurrent layers"),
    epochs: int = typer.Option(100, min=1, help="most passes over the training windows"),
    batch_size: int = typer.Option(32, min=1, help="windows per update"),
    lr: float = typer.Option(3e-3, help="Adam learning rate"),
    patience: int = typer.Option(10, min=0, help="epochs without a better validation error "
                                 "before stopping (0: never)"),
    seed: int = typer.Option(0, help="seed of the first network"),
    out: Annotated[Path, typer.Option(help="output folder: report.json, forecast.png")] =
        Path("runs/forecast"),
    overwrite: bool = typer.Option(False, help="replace the run already in --out"),
):
    """Backtest: fit on each fold's training part (choices on validation inside it), score
    every method on the same held-out windows."""
    from rnnlab.apps import forecaster as fc

    with user_errors():
        panel = fc.load_panel(data, target, time_column, _names(inputs), fill_missing,
                              id_column)
        cfg, net = _configs(horizon, test, folds, season, transform, baseline, center, window,
                            val, network, ensemble, level, statistical, cell, hidden, layers,
                            epochs, batch_size, lr, patience, seed, overwrite)
        report = fc.run(panel, cfg, net, out, echo=typer.echo)
    typer.echo(fc.format_report(report))


@app.command()
def predict(
    data: Annotated[Path | None, typer.Argument(help=DATA_HELP)] = None,
    target: str = typer.Option(None, help="column forecast"),
    inputs: str = typer.Option(None, help="covariate columns, comma-separated"),
    time_column: str = typer.Option(None, help="time column"),
    id_column: str = typer.Option("unique_id", help="series id column of a long-format file"),
    fill_missing: bool = typer.Option(False, help="interpolate missing values (one series)"),
    horizon: int = typer.Option(None, min=1, help="H [default: the file's, else 1]"),
    season: int = typer.Option(None, min=1, help="m [default: from the time column]"),
    transform: str = typer.Option("auto", help="none, log or auto"),
    baseline: str = typer.Option("auto", help="as in train"),
    center: str = typer.Option("auto", help="as in train"),
    window: int = typer.Option(None, min=1, help="K of the linear AR"),
    val: float = typer.Option(0.2, help="validation part"),
    network: bool = typer.Option(True, help="train the correcting networks"),
    ensemble: int = typer.Option(3, min=1, help="networks (seeds) averaged"),
    level: float = typer.Option(0.9, help="nominal coverage of the prediction intervals"),
    cell: str = typer.Option("gru", help="rnn, lstm or gru"),
    hidden: int = typer.Option(32, min=1, help="hidden units per layer"),
    epochs: int = typer.Option(100, min=1, help="most passes over the windows"),
    patience: int = typer.Option(10, min=0, help="early-stopping patience"),
    seed: int = typer.Option(0, help="seed of the first network"),
    out: Annotated[Path, typer.Option(help="folder for the networks' checkpoints")] =
        Path("runs/forecast-predict"),
    overwrite: bool = typer.Option(False, help="replace the networks already in --out"),
):
    """Refit on all of DATA (every choice again on its last part), then print the H values
    after each series' end as CSV: series,time,forecast,lower,upper."""
    from rnnlab.apps import forecaster as fc

    with user_errors():
        panel = fc.load_panel(data, target, time_column, _names(inputs), fill_missing,
                              id_column)
        cfg, net = _configs(horizon, None, 1, season, transform, baseline, center, window, val,
                            network, ensemble, level, False, cell, hidden, 1, epochs, 32,
                            3e-3, patience, seed, overwrite)
        rows, _ = fc.forecast_after_end(panel, cfg, net, out,
                                        echo=lambda s: typer.echo(s, err=True))
    typer.echo(f"series,time,forecast,lower_{100 * level:.0f},upper_{100 * level:.0f}")
    for sid, stamp, y, lo, hi in rows:
        typer.echo(f"{sid},{stamp},{y:.6g},{lo:.6g},{hi:.6g}")
