"""Freed memory kept for the next step: glibc's malloc tuned for a training loop.

A training step allocates the same large temporaries every time (a layer's gates,
states and errors: megabytes each) and frees them at its end. With glibc's defaults,
blocks of over 128 KiB (raised on the fly, at most to 32 MiB) come from mmap and go
back to the system when freed, and the heap is trimmed once 2x that is free at its
top, so the next step touches fresh pages again: a page fault per 4 KiB, and with
two threads a TLB shoot-down between the cores for every block returned. On a 2-core
Zen 5 (`benchmarks/README.md`, issue 16, seventh session) charlm's LSTM step took
1,834 faults and 2-16 ms of system time out of 19-26 ms at two threads; with blocks
up to 32 MiB from the heap and 256 MiB of it kept when freed, no faults and 13 ms.

So on Linux with glibc, importing rnnlab sets M_MMAP_THRESHOLD (32 MiB, glibc's
largest) and M_TRIM_THRESHOLD (256 MiB): a process keeps up to that much freed heap
per arena (a thread that allocates has its own) instead of returning it at once.
Not where the user tuned malloc (any MALLOC_*_ variable of glibc's in the
environment) or set RNNLAB_MALLOC=0; elsewhere (macOS, musl) nothing happens.
"""

from __future__ import annotations

import ctypes
import os
import sys

ENV_VAR = "RNNLAB_MALLOC"
MMAP_THRESHOLD = 32 << 20  # blocks up to this from the heap (glibc refuses more)
TRIM_THRESHOLD = 256 << 20  # freed heap kept at its top up to this
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt's parameters (malloc.h)
_GLIBC_VARS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_",
               "MALLOC_MMAP_MAX_")


def keep_freed_memory() -> bool:
    """Set glibc's thresholds (module docstring) unless turned off or tuned already;
    whether they were set."""
    if sys.platform != "linux" or os.environ.get(ENV_VAR, "1").strip() == "0":
        return False
    if any(var in os.environ for var in _GLIBC_VARS):
        return False
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # noqa: B018 - glibc only: musl's mallopt does nothing
    except (OSError, AttributeError):
        return False
    return bool(libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
