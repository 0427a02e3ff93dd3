"""rnnlab._malloc: a training loop's freed temporaries are reused without page faults."""

import os
import subprocess
import sys

import pytest

from rnnlab import _malloc

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not _malloc.keep_freed_memory(),
    reason="glibc's mallopt only (Linux with glibc)")

STEPS = """
import resource
import numpy as np
import rnnlab  # noqa: F401 - sets the thresholds

def step():  # eight 5 MiB temporaries, touched, then all freed: a training step's pattern
    arrays = [np.ones(5 << 18, np.float32) for _ in range(8)]
    return sum(float(a[-1]) for a in arrays)

step(); step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(env: dict) -> int:
    out = subprocess.run([sys.executable, "-c", STEPS], env=env, capture_output=True,
                         text=True, check=True)
    return int(out.stdout.split()[-1])


def test_a_repeated_step_touches_no_fresh_pages():
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    env.pop(_malloc.ENV_VAR, None)
    assert _faults(env) < 100  # RNNLAB_MALLOC=0: ~4,000 here (the 40 MiB trimmed and re-faulted)


def test_off_when_asked_or_tuned(monkeypatch):
    monkeypatch.setenv(_malloc.ENV_VAR, "0")
    assert not _malloc.keep_freed_memory()
    monkeypatch.delenv(_malloc.ENV_VAR)
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "1000000")
    assert not _malloc.keep_freed_memory()
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_")
    assert _malloc.keep_freed_memory()
