"""Long-term-dependency problems, their success criteria, and sweeps over them.

Generators (time-major, see `rnnlab.tasks.problems`): adding, multiplication, xor,
temporal_order, temporal_order3, permutation, memorization, copying, and the seed
example of multivariate forecasting (`forecast3`, `multivariate_series`).
`make_task(name, **options)` binds a problem with its loss, sizes and chance level;
`evaluate` and `wrong` judge a predictor the way Pascanu et al. (2013) did.
"""

from rnnlab.tasks.criteria import N_EVAL, SOLVED_BELOW, Score, evaluate, wrong
from rnnlab.tasks.forecast import COLUMNS, forecast3, multivariate_series
from rnnlab.tasks.problems import (
    Batch,
    adding,
    copying,
    marked_pair,
    memorization,
    multiplication,
    permutation,
    temporal_order,
    temporal_order3,
    xor,
)
from rnnlab.tasks.registry import TASKS, Task, describe, make_task

__all__ = [
    "COLUMNS",
    "N_EVAL",
    "SOLVED_BELOW",
    "TASKS",
    "Batch",
    "Score",
    "Task",
    "adding",
    "copying",
    "describe",
    "evaluate",
    "forecast3",
    "make_task",
    "marked_pair",
    "memorization",
    "multiplication",
    "multivariate_series",
    "permutation",
    "temporal_order",
    "temporal_order3",
    "wrong",
    "xor",
]
