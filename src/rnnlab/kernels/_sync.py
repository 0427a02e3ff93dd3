"""Tasks shared by threads inside a compiled loop: the loops that split each step's
units over threads (rnnlab.kernels.lstm, UNITS) claim (phase, chunk) tasks in order
from one counter and wait, before a phase, until every task of the phase before it is
done. A thread that never comes leaves its tasks to the others: nothing waits for a
thread, only for tasks that a running thread has claimed.

sync is an int64 array of two counters, zero at the start: [0] tasks claimed,
[1] tasks done. Claiming and finishing are atomic (sequentially consistent), waiting
reads with acquire order, so what a task wrote is seen by the tasks of the next phase.
"""

from __future__ import annotations

import platform

from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic
from numba.np.arrayobj import make_array

_X86 = platform.machine().lower() in ("x86_64", "amd64")  # whose spin-wait hint is pause


def _slot(context, builder, sig, args):
    return builder.gep(make_array(sig.args[0])(context, builder, args[0]).data, [args[1]])


@intrinsic
def fetch_add(typingctx, sync, i):
    """sync[i] += 1 atomically; the value before."""
    sig = types.int64(sync, types.intp)

    def codegen(context, builder, sig, args):
        return builder.atomic_rmw("add", _slot(context, builder, sig, args),
                                  ir.Constant(ir.IntType(64), 1), "seq_cst")

    return sig, codegen


@intrinsic
def load_acquire(typingctx, sync, i):
    """sync[i], read atomically with acquire order."""
    sig = types.int64(sync, types.intp)

    def codegen(context, builder, sig, args):
        return builder.load_atomic(_slot(context, builder, sig, args), "acquire", 8)

    return sig, codegen


@intrinsic
def pause(typingctx):
    """x86's spin-wait hint (pause: the waiting core yields to its sibling and leaves
    the loop without a mis-speculation); nothing on other CPUs."""
    sig = types.void()

    def codegen(context, builder, sig, args):
        if _X86:
            builder.call(cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(ir.VoidType(), []), "llvm.x86.sse2.pause"), [])
        return context.get_dummy_value()

    return sig, codegen


@njit(inline="always")
def claim(sync, chunks, phases):
    """The next task (phase, chunk), once every task of the phase before it is done;
    (-1, -1) when all are claimed."""
    task = fetch_add(sync, 0)
    phase = task // chunks
    if phase >= phases:
        return -1, -1
    while load_acquire(sync, 1) < phase * chunks:
        pause()
    return phase, task % chunks


@njit(inline="always")
def done(sync):
    """Mark the claimed task done."""
    fetch_add(sync, 1)
