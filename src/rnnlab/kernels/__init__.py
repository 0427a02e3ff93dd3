"""Fast compiled twins of the cells' time loops (Numba), and the one switch for them.

The layers run either the reference loop (a cell's `step`/`step_backward` in
Python, `rnnlab.layers.run_direction`) or these kernels, which run the whole
time loop of one direction in compiled code: per step one recurrent product
(BLAS) and one fused element-wise pass writing into preallocated (T, B, ...)
buffers. Both fill the same cache, so a forward of one kind can be
back-propagated by the other.

The switch: a layer's `fast` argument (True, False, or None = ask the
environment), and the environment variable RNNLAB_FAST (`0` turns the kernels
off; default on). Without Numba installed the layers fall back to the reference.
Compiled code is cached on disk (`__pycache__` beside these files), so only the
first process compiles; `python -m rnnlab.kernels.warm` compiles ahead of time. Numba checks only the file that defines a kernel: after
editing `_math.py` (compiled into the kernels), delete that `__pycache__`.
"""

from __future__ import annotations

import importlib.util
import os

ENV_VAR = "RNNLAB_FAST"
_OFF = ("0", "false", "no", "off")


def numba_available() -> bool:
    return importlib.util.find_spec("numba") is not None


def use_fast(fast: bool | None = None) -> bool:
    """Resolve the switch: `fast` if given, else RNNLAB_FAST (default on); False
    without Numba unless asked for explicitly, which then raises ImportError."""
    if fast is None:
        return os.environ.get(ENV_VAR, "1").strip().lower() not in _OFF and numba_available()
    if fast and not numba_available():
        raise ImportError("fast=True: the compiled kernels need numba (pip install numba)")
    return bool(fast)


def supports(cell) -> bool:
    """Whether a compiled kernel exists for this cell type."""
    from rnnlab.cells import GRUCell, LSTMCell, RNNCell

    return type(cell) in (RNNCell, LSTMCell, GRUCell)


__all__ = ["ENV_VAR", "numba_available", "supports", "use_fast"]
