"""`rnnlab forecast`: the hybrid forecaster (a baseline chosen on validation, corrected by
an ensemble of small networks) on one or many series, backtested against naive, seasonal
naive, drift, linear AR and (with statsforecast) AutoARIMA/AutoETS/AutoTheta; forecasts
after the end of the data with prediction intervals."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from rnnlab._checks import check_option, check_positive_int, check_range
from rnnlab.apps.options import FolderOptions, NetworkOptions, OptimizerOptions, OutOptions
from rnnlab.config import command
from rnnlab.errors import Interrupted

app = typer.Typer(no_args_is_help=True, help=__doc__)

DATA_HELP = ("CSV (one series: a time column and numeric columns; many: long format with "
             "--id-column), .tsf or .parquet file; none: the built-in example")


@dataclass
class ForecastData:
    target: str | None = None  # column forecast [default: y in long format, else the last]
    inputs: tuple[str, ...] = ()  # covariate columns the networks read [default: all others]
    time_column: str | None = None  # time column [default: ds, else the 1st if text or steps]
    #                                 (steps: equal whole steps, as years or row numbers)
    id_column: str = "unique_id"  # series id column of a long-format file
    fill_missing: bool = False  # interpolate missing values (one series)
    horizon: int | None = None  # H, steps forecast [default: the file's, else 1]

    def __post_init__(self):
        if self.horizon is not None:
            check_positive_int("horizon", self.horizon)

    def load(self, data):
        from rnnlab.apps import forecaster as fc

        return fc.load_panel(data, self.target, self.time_column, list(self.inputs) or None,
                             self.fill_missing, self.id_column)


@dataclass
class ForecastMethod:
    season: int | None = None  # m [default: from the time column, else the autocorrelation]
    transform: str = "auto"  # none | log | auto (chosen on validation)
    baseline: str = "auto"  # naive, seasonal_naive, drift, ses, theta, mean, ar, ar+..., auto
    center: str = "auto"  # the AR windows' level: last | mean | history | auto (validation)
    window: int | None = None  # K of the linear AR [default: chosen on validation]
    val: float = 0.2  # validation part of each training part (a fraction or a count)
    network: bool = True  # train the networks that correct the baseline
    ensemble: int = 3  # networks (seeds) averaged
    level: float = 0.9  # nominal coverage of the prediction intervals

    def __post_init__(self):
        from rnnlab.forecasting.hybrid import BASELINES, CENTERS, TRANSFORMS

        check_option("transform", self.transform, TRANSFORMS)
        check_option("baseline", self.baseline, BASELINES)
        check_option("center", self.center, ("auto", *CENTERS))
        check_range("level", self.level, 0.0, 1.0, lo_open=True, hi_open=True)
        check_positive_int("ensemble", self.ensemble)
        for name in ("season", "window"):
            if getattr(self, name) is not None:
                check_positive_int(name, getattr(self, name))


@dataclass
class Backtest:
    test: float | None = None  # held-out values per series and fold: a fraction or a count
    folds: int = 1  # rolling-origin folds, each refitted
    statistical: bool = True  # AutoARIMA/AutoETS/AutoTheta beside (with statsforecast)

    def __post_init__(self):
        check_positive_int("folds", self.folds)


@dataclass
class ForecastNetwork(NetworkOptions):
    cell: str = "gru"  # the networks' cell: rnn (tanh) | lstm | gru


@dataclass
class ForecastTraining(OptimizerOptions):
    epochs: int = 100  # most passes over the training windows
    patience: int = 10  # epochs without a better validation error before stopping (0: never)

    def __post_init__(self):
        super().__post_init__()
        check_positive_int("epochs", self.epochs)
        check_positive_int("patience", self.patience, minimum=0)


def _configs(data: ForecastData, method: ForecastMethod, network: ForecastNetwork,
             training: ForecastTraining, folder: OutOptions, backtest: Backtest | None = None):
    from dataclasses import asdict

    from rnnlab.apps import forecaster as fc
    from rnnlab.apps.network import NetworkConfig
    from rnnlab.forecasting.hybrid import HybridConfig

    hybrid = HybridConfig(**asdict(method))
    net = NetworkConfig(**asdict(network), **{k: v for k, v in asdict(training).items()},
                        overwrite=folder.overwrite, resume=getattr(folder, "resume", False))
    backtest = backtest or Backtest(folds=1, statistical=False)
    return fc.ForecastConfig(hybrid, data.horizon, backtest.test, backtest.folds,
                             backtest.statistical), net


@command(app, data=ForecastData, method=ForecastMethod, backtest=Backtest,
         network=ForecastNetwork, training=ForecastTraining, folder=FolderOptions)
def train(
    file: Annotated[Path | None, typer.Argument(metavar="DATA", help=DATA_HELP)] = None,
    *, data: ForecastData, method: ForecastMethod, backtest: Backtest,
    network: ForecastNetwork, training: ForecastTraining, folder: FolderOptions,
):
    """Backtest: fit on each fold's training part (choices on validation inside it), score
    every method on the same held-out windows; report.json and forecast.png in the run
    folder. Ctrl-C saves the networks' progress; --resume continues exactly (finished
    networks are loaded, the one interrupted resumes from its checkpoint)."""
    from rnnlab.apps import forecaster as fc
    from rnnlab.train.runs import claim

    folder.folder("forecast")
    panel = data.load(file)
    cfg, net = _configs(data, method, network, training, folder, backtest)
    claim(folder.out, resume=folder.resume, overwrite=folder.overwrite).release()
    try:
        report = fc.run(panel, cfg, net, folder.out, echo=typer.echo)
    except Interrupted as e:  # the trainer named a network's folder: name the run's
        raise Interrupted(f"interrupted: the networks' progress is saved in {folder.out}; run "
                          f"the same command with --resume --out {folder.out} to continue "
                          "exactly", e.exit_code) from None
    typer.echo(fc.format_report(report))


@command(app, data=ForecastData, method=ForecastMethod, network=ForecastNetwork,
         training=ForecastTraining, folder=OutOptions)
def predict(
    file: Annotated[Path | None, typer.Argument(metavar="DATA", help=DATA_HELP)] = None,
    *, data: ForecastData, method: ForecastMethod, network: ForecastNetwork,
    training: ForecastTraining, folder: OutOptions,
):
    """Refit on all of DATA (every choice again on its last part), then print the H values
    after each series' end as CSV: series,time,forecast,lower,upper."""
    from rnnlab.apps import forecaster as fc
    from rnnlab.train.runs import claim

    folder.folder("forecast-predict")
    panel = data.load(file)
    cfg, net = _configs(data, method, network, training, folder)
    claim(folder.out, resume=False, overwrite=folder.overwrite).release()
    rows, _ = fc.forecast_after_end(panel, cfg, net, folder.out,
                                    echo=lambda s: typer.echo(s, err=True))
    level = method.level
    typer.echo(f"series,time,forecast,lower_{100 * level:.0f},upper_{100 * level:.0f}")
    for sid, stamp, y, lo, hi in rows:
        typer.echo(f"{sid},{stamp},{y:.6g},{lo:.6g},{hi:.6g}")
