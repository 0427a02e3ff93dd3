"""The one table from names to classes: cells (their layers), initialisations,
optimizers and model schemes. Every command, config and checkpoint names things
through it; nothing else in the package maps strings to classes.

Adding a cell type: its cell file (rnnlab/cells), its kernel binding
(rnnlab/kernels, optional: without one the layer runs the reference loop), a layer
class with `_cell_cls` set, and one `register_cell("name", Layer)`.
"""

from __future__ import annotations

from rnnlab.init import InitConfig, initialize, smart_tanh
from rnnlab.layers import GRU, LSTM, RNN
from rnnlab.optim import OPTIMIZERS

LAYERS: dict[str, type] = {}  # cell name -> its layer class (RNN, LSTM, GRU, ...)


def register_cell(name: str, layer_cls: type) -> None:
    """Make `name` a cell every command, spec and checkpoint can use."""
    if name in LAYERS and LAYERS[name] is not layer_cls:
        raise ValueError(f"cell {name!r} is registered already ({LAYERS[name].__name__})")
    LAYERS[name] = layer_cls


for _name, _cls in (("rnn", RNN), ("lstm", LSTM), ("gru", GRU)):
    register_cell(_name, _cls)


def layer_class(name: str) -> type:
    if name not in LAYERS:
        raise ValueError(f"cell: expected one of {', '.join(LAYERS)}, got {name!r}")
    return LAYERS[name]


def cell_name(layer) -> str:
    """The registered name of a layer's cell type."""
    for name, cls in LAYERS.items():
        if type(layer) is cls:
            return name
    raise ValueError(f"layer: {type(layer).__name__} is not a registered cell type")


# ---- initialisations by name (rnnlab.init has the schemes) ------------------------

INITS = ("default", "spectral", "orthogonal", "sparse", "identity", "chrono", "smart_tanh")


def init_config(name: str, *, seed: int | None = 0, spectral_radius: float = 0.95,
                chrono_T: float | None = None) -> InitConfig | None:
    """The InitConfig of a named initialisation (None: the layer's own, PyTorch's):

        spectral    W_hh, W_ih ~ N(0, 0.1²), each W_hh block rescaled to spectral_radius
        orthogonal  orthogonal W_hh blocks, Glorot W_ih
        sparse      15 non-zero N(0, 1) weights per unit in W_hh (Martens 2010), W_ih ~ N(0, 0.1²)
        identity    W_hh blocks = I (Le et al.'s IRNN), W_ih ~ N(0, 0.1²)
        chrono      PyTorch's weights, chrono gate biases up to chrono_T (LSTM, GRU)
        smart_tanh  Pascanu et al.'s (rnnlab.init.smart_tanh; init_layer applies it)
    """
    if name not in INITS:
        raise ValueError(f"init: expected one of {', '.join(INITS)}, got {name!r}")
    if name == "chrono" and chrono_T is None:
        raise ValueError("init: 'chrono' needs chrono_T, the longest dependency in steps")
    recipes = {"spectral": {"recurrent": "gaussian", "input": "gaussian", "std": 0.1,
                            "spectral_radius": spectral_radius},
               "orthogonal": {"recurrent": "orthogonal", "input": "glorot"},
               "sparse": {"recurrent": "sparse", "input": "gaussian", "std": 0.1},
               "identity": {"recurrent": "identity", "input": "gaussian", "std": 0.1},
               "chrono": {"chrono": chrono_T}}
    if name == "smart_tanh":
        raise ValueError("init: 'smart_tanh' is not an InitConfig recipe; use init_layer")
    return None if name == "default" else InitConfig(**recipes[name], seed=seed)


def init_layer(layer, name: str, *, readout=None, **options) -> None:
    """Initialise `layer` in place by a named scheme (init_config's options); the
    readout too (when given) for 'smart_tanh', whose recipe includes it."""
    if name == "smart_tanh":
        return smart_tanh(layer, readout, seed=options.get("seed", 0))
    cfg = init_config(name, **options)
    if cfg is not None:
        if cfg.chrono is not None and cell_name(layer) not in ("lstm", "gru"):
            raise ValueError("init: 'chrono' sets the gate biases of an LSTM or GRU; "
                             f"cell {cell_name(layer)!r} has no gates")
        initialize(layer, cfg)


def optimizer_class(name: str) -> type:
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer: expected one of {', '.join(OPTIMIZERS)}, got {name!r}")
    return OPTIMIZERS[name]


def scheme_class(name: str) -> type:
    """The Model class of a scheme name (rnnlab.models)."""
    from rnnlab.models import SCHEMES

    if name not in SCHEMES:
        raise ValueError(f"scheme: expected one of {', '.join(SCHEMES)}, got {name!r}")
    return SCHEMES[name]


# ---- sweep runners: what a sweep file may ask to run, by name ----------------------

def _tasks_runner():
    from rnnlab.tasks.run import run_spec

    return run_spec


RUNNERS = {"tasks": _tasks_runner}  # name -> () -> the run function (spec dict -> result)


def sweep_runner(name: str):
    """The run function a sweep names; a sweep file names, it never imports."""
    if name not in RUNNERS:
        raise ValueError(f"run: expected one of the registered runners {sorted(RUNNERS)}, "
                         f"got {name!r}")
    return RUNNERS[name]()
