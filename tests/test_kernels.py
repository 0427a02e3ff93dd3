"""The compiled kernels (rnnlab.kernels) equal the reference loop, on every cell and
option, and the one switch selects between them; the Stepper equals the layer."""

import time
import tracemalloc

import numpy as np
import pytest

from core_utils import CELL_IDS, CELLS, as_tuple, from_tuple, random_problem
from rnnlab import LSTM, RNN, Stepper
from rnnlab.kernels import _threads, gru, loops, lstm, rnn
from rnnlab.kernels._blas import BACKEND

TOL = {np.float32: 1e-5, np.float64: 1e-12}
OWN_GEMM = BACKEND == "avx512"  # rnnlab's own float32 gemm runs the loops' products
# (num_layers, bidirectional, lengths): one plain layer; a deep bidirectional padded batch
CONFIGS = [(1, False, None), (2, True, [6, 2, 4])]
CONFIG_IDS = ["1-layer", "2-layer-bidir-lengths"]


def run_both(layer, x, s0, g_out, g_state, lengths):
    """Forward + backward (with deltas) on the reference path and on the fast path."""
    results = []
    for fast in (False, True):
        layer.fast = fast
        out, state, cache = layer.forward(x, from_tuple(s0), lengths)
        back = layer.backward(cache, g_out, from_tuple(g_state), return_deltas=True)
        results.append((out, as_tuple(state), back))
    return results


def assert_close(a, b, tol, what):
    scale = max(1.0, float(np.abs(a).max(initial=0.0)))
    np.testing.assert_allclose(b, a, rtol=0, atol=tol * scale, err_msg=what)


def split_everything(monkeypatch, n: int = 3) -> None:
    """Every time loop as n blocks of one row or more on n threads, whatever the machine."""
    monkeypatch.setenv(_threads.PARALLEL_VAR, "1")
    monkeypatch.setattr(_threads.Choice, "pick", lambda self: True)
    monkeypatch.setattr(_threads, "workers", lambda: 1 if getattr(_threads._inside, "job", False)
                        else n)
    monkeypatch.setattr(_threads, "BLOCKS", n)
    monkeypatch.setattr(_threads, "MIN_ROWS", 1)
    monkeypatch.setattr(_threads, "MIN_FLOPS", 0)


@pytest.mark.parametrize("threads", [1, 3], ids=["1-thread", "3-threads"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("L,bidir,lengths", CONFIGS, ids=CONFIG_IDS)
@pytest.mark.parametrize("cls,opts,_id", CELLS, ids=CELL_IDS)
def test_fast_equals_reference(cls, opts, _id, L, bidir, lengths, dtype, threads, monkeypatch):
    """Also with the loops split into rows on threads and both directions at once."""
    if threads > 1:
        split_everything(monkeypatch, threads)
    else:
        monkeypatch.setattr(_threads, "workers", lambda: 1)
    rng = np.random.default_rng(0)
    layer = cls(4, 5, L, bidirectional=bidir, dtype=dtype, seed=1, **opts)
    lengths = None if lengths is None else np.array(lengths)
    x, s0, g_out, g_state = random_problem(layer, 6, 3, rng, lengths, dtype)
    (out0, st0, (dx0, ds0, gr0, de0)), (out1, st1, (dx1, ds1, gr1, de1)) = run_both(
        layer, x, s0, g_out, g_state, lengths)
    tol = TOL[dtype]
    assert out1.dtype == dtype and dx1.dtype == dtype
    assert_close(out0, out1, tol, "output")
    for a, b in zip(st0, st1):
        assert_close(a, b, tol, "final state")
    assert_close(dx0, dx1, tol, "d input")
    for a, b in zip(as_tuple(ds0), as_tuple(ds1)):
        assert_close(a, b, tol, "d initial state")
    assert gr0.keys() == gr1.keys() == layer.params.keys()
    for name in gr0:
        assert_close(gr0[name], gr1[name], tol, name)
    assert de0.keys() == de1.keys()
    for suffix in de0:
        for field in ("dXP", "dHP", "dH"):
            assert_close(getattr(de0[suffix], field), getattr(de1[suffix], field), tol,
                         f"{field}{suffix}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("cls,opts,_id", CELLS, ids=CELL_IDS)
def test_fast_equals_reference_with_padded_weights(cls, opts, _id, dtype):
    """H = 512: every recurrent weight the loops read (W_hhᵀ and W_hh, whole or the
    GRU's parts) has rows of a multiple of 2 KiB, so the loops get them padded
    (rnnlab.kernels._gemm.padded) and their products read rows further apart, or, in
    float32 on the own gemm, in column panels (rnnlab.kernels._gemm.panels)."""
    from rnnlab.kernels._blas import BACKEND
    from rnnlab.kernels._gemm import padded
    from rnnlab.kernels.loops import _weight

    H = 512
    assert not padded(np.zeros((2, H), dtype)).flags.c_contiguous  # padding is on here
    W = np.zeros((3, 4 * H), dtype)
    in_panels = dtype == np.float32 and BACKEND == "avx512"
    several = _weight(W, dtype, 3)  # several rows: panels or padded rows, for the tiles
    assert several.ndim == 3 if in_panels else not several.flags.c_contiguous
    assert _weight(W, dtype, 1).flags.c_contiguous  # one row: contiguous, for gemv
    rng = np.random.default_rng(0)
    layer = cls(3, H, dtype=dtype, seed=1, **opts)
    x, s0, g_out, g_state = random_problem(layer, 3, 3, rng, None, dtype)
    (out0, _, (dx0, ds0, gr0, _)), (out1, _, (dx1, ds1, gr1, _)) = run_both(
        layer, x, s0, g_out, g_state, None)
    tol = TOL[dtype] * 10  # sums of 512 terms
    assert_close(out0, out1, tol, "output")
    assert_close(dx0, dx1, tol, "d input")
    for a, b in zip(as_tuple(ds0), as_tuple(ds1)):
        assert_close(a, b, tol, "d initial state")
    for name in gr0:
        assert_close(gr0[name], gr1[name], tol, name)


@pytest.mark.parametrize("cls,opts,_id", CELLS, ids=CELL_IDS)
def test_float32_saturated_gates(cls, opts, _id):
    """Large pre-activations (saturated σ and tanh, where float32 tanh is approximated).
    Tolerance 3e-5: the GRU gradients differed by 1.6e-5 on an AVX2 machine (2e-7 per
    step, amplified by the ×8 weights over 10 steps)."""
    rng = np.random.default_rng(3)
    layer = cls(3, 8, dtype=np.float32, seed=2, **opts)
    layer.params = {n: p * 8 for n, p in layer.params.items()}
    x, s0, g_out, g_state = random_problem(layer, 10, 4, rng, None, np.float32)
    x *= 4
    (out0, _, (dx0, _, gr0, _)), (out1, _, (dx1, _, gr1, _)) = run_both(
        layer, x, s0, g_out, g_state, None)
    assert_close(out0, out1, 3e-5, "output")
    assert_close(dx0, dx1, 3e-5, "d input")
    for name in gr0:
        assert_close(gr0[name], gr1[name], 3e-5, name)


def test_caches_are_interchangeable():
    """A forward on one path back-propagates on the other (the caches are the same)."""
    rng = np.random.default_rng(4)
    layer = LSTM(3, 4, 2, bidirectional=True, dtype=np.float64, seed=0)
    x, s0, g_out, g_state = random_problem(layer, 5, 2, rng, [5, 3], np.float64)
    grads = []
    for fwd, bwd in ((True, False), (False, True), (True, True)):
        layer.fast = fwd
        _, _, cache = layer.forward(x, from_tuple(s0), np.array([5, 3]))
        layer.fast = bwd
        grads.append(layer.backward(cache, g_out, from_tuple(g_state))[2])
    for g in grads[1:]:
        for name in g:
            np.testing.assert_allclose(g[name], grads[0][name], rtol=0, atol=1e-12)


def test_bptt_errors_are_reused_only_when_dropped():
    """The BPTT errors live in a per-thread scratch array unless returned (return_deltas):
    the next backward reuses its memory, and returned deltas are never overwritten."""
    rng = np.random.default_rng(5)
    layer = LSTM(3, 6, 2, dtype=np.float32, seed=0, fast=True)
    x, s0, g_out, g_state = random_problem(layer, 7, 4, rng, [7, 2, 5, 7], np.float32)
    _, _, cache = layer.forward(x, from_tuple(s0), np.array([7, 2, 5, 7]))
    first = layer.backward(cache, g_out, from_tuple(g_state))[2]
    kept = layer.backward(cache, g_out, from_tuple(g_state), return_deltas=True)[3]
    saved = {s: d.dXP.copy() for s, d in kept.items()}
    layer.backward(cache, 2 * g_out, from_tuple(g_state))  # reuses the scratch
    for s, d in kept.items():
        np.testing.assert_array_equal(d.dXP, saved[s])
        assert not np.shares_memory(d.dXP, loops.scratch(d.dXP.shape, np.float32))
    a, b = loops.scratch((7, 4, 24), np.float32), loops.scratch((7, 4, 24), np.float32)
    assert np.shares_memory(a, b)
    for name in first:
        np.testing.assert_array_equal(layer.backward(cache, g_out, from_tuple(g_state))[2][name],
                                      first[name])


def test_switch_argument_and_environment(monkeypatch):
    calls = []
    real = loops.forward
    monkeypatch.setattr(loops, "forward", lambda *a: calls.append(1) or real(*a))
    x = np.ones((3, 2, 2), np.float32)
    for env, fast, expected in ((None, None, 1), ("1", None, 1), ("0", None, 0),
                                ("off", None, 0), ("0", True, 1), ("1", False, 0)):
        if env is None:  # the default: on
            monkeypatch.delenv("RNNLAB_FAST", raising=False)
        else:
            monkeypatch.setenv("RNNLAB_FAST", env)
        calls.clear()
        RNN(2, 3, seed=0, fast=fast)(x)
        assert len(calls) == expected, (env, fast)


def test_loops_and_stepper_run_their_products_on_the_step_threads(monkeypatch):
    import scipy.linalg.cython_blas  # noqa: F401 - the BLAS of Numba's np.dot
    from threadpoolctl import ThreadpoolController

    libs = [lib for lib in ThreadpoolController().lib_controllers if lib.user_api == "blas"]
    assert len(libs) >= 1, "no BLAS found for the kernels' products"
    seen = []
    real = loops.lstm.forward
    monkeypatch.setattr(loops.lstm, "forward",
                        lambda *a: seen.append([lib.get_num_threads() for lib in libs]) or real(*a))
    before = [lib.get_num_threads() for lib in libs]
    x = np.ones((3, 2, 2), np.float32)
    monkeypatch.setenv("RNNLAB_PARALLEL", "0")  # auto runs small calls on one BLAS thread
    for env, expected in (("1", [1] * len(libs)), ("0", before)):
        monkeypatch.setenv("RNNLAB_STEP_THREADS", env)
        seen.clear()
        LSTM(2, 3, seed=0, fast=True)(x)
        Stepper(LSTM(2, 3, seed=0, fast=True)).step_index(1)  # generation too
        assert seen == [expected, expected], env
        assert [lib.get_num_threads() for lib in libs] == before  # restored after the loop
    monkeypatch.setenv("RNNLAB_STEP_THREADS", "two")
    with pytest.raises(ValueError, match="RNNLAB_STEP_THREADS: expected a whole number"):
        LSTM(2, 3, seed=0, fast=True)(x)


def test_kernels_are_cached_on_disk():
    for kernel in (rnn.forward, rnn.backward, lstm.forward, lstm.backward, gru.forward_after,
                   gru.backward_after, gru.forward_before, gru.backward_before):
        assert kernel._cache.__class__.__name__ == "FunctionCache", kernel


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "reference"])
@pytest.mark.parametrize("cls,opts,_id", CELLS[::2] + CELLS[6:], ids=CELL_IDS[::2] + CELL_IDS[6:])
def test_stepper_equals_layer(cls, opts, _id, fast):
    rng = np.random.default_rng(5)
    layer = cls(4, 6, 2, dtype=np.float64, seed=0, fast=fast, **opts)
    x, s0, _, _ = random_problem(layer, 7, 2, rng, None, np.float64)
    out, state = layer(x, from_tuple(s0))
    stepper = layer.stepper(batch_size=2, state=from_tuple(s0))
    h = [stepper.step(x[t]).copy() for t in range(7)]
    np.testing.assert_allclose(np.stack(h), out, rtol=0, atol=1e-13)
    for a, b in zip(as_tuple(stepper.state), as_tuple(state)):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-13)
    index = np.array([3, 0])
    onehot = np.zeros_like(x)
    onehot[:, [0, 1], index] = 1
    stepper.reset()
    h = [stepper.step_index(index).copy() for _ in range(7)]
    np.testing.assert_allclose(np.stack(h), layer(onehot)[0], rtol=0, atol=1e-13)


def test_stepper_allocates_no_arrays_per_step():
    H = 512
    stepper = Stepper(LSTM(65, H, 2, dtype=np.float64, seed=0))
    first = stepper.step_index(1)
    x = np.zeros(65)
    tracemalloc.start()
    for k in range(10):
        h = stepper.step_index(k)
        x[k] = 1.0
        h = stepper.step(x)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert np.shares_memory(h, first)
    assert peak < H * 8, peak  # less than one state vector (B, H) over 20 steps: no array data


def test_stepper_bad_input():
    with pytest.raises(ValueError, match="bidirectional"):
        Stepper(LSTM(3, 4, bidirectional=True))
    stepper = Stepper(LSTM(3, 4))
    with pytest.raises(ValueError, match="x: expected shape"):
        stepper.step(np.ones((2, 3), np.float32))
    with pytest.raises(ValueError, match="^x: "):
        stepper.step(np.array([0.0, np.nan, 1.0], np.float32))
    with pytest.raises(TypeError, match="x: expected dtype float32"):
        stepper.step(np.ones(3))
    with pytest.raises(ValueError, match="index"):
        stepper.step_index(3)
    with pytest.raises(ValueError, match="batch_size"):
        Stepper(LSTM(3, 4), batch_size=0)


def test_row_blocks_depend_on_the_shapes_only(monkeypatch):
    """The blocks of a batch never depend on the threads (so neither do the numbers)."""
    big = _threads.MIN_FLOPS
    monkeypatch.delenv(_threads.PARALLEL_VAR, raising=False)
    assert _threads.row_blocks(640, big, 10) == [(0, 640)]  # auto: small steps are not split
    monkeypatch.setenv(_threads.PARALLEL_VAR, "1")
    for n, step_threads in [(1, "1"), (2, "1"), (4, "1"), (4, "2"), (2, "0")]:
        monkeypatch.setattr(_threads, "workers", lambda n=n: n)
        monkeypatch.setenv("RNNLAB_STEP_THREADS", step_threads)
        assert _threads.row_blocks(20, big) == [(0, 10), (10, 20)]
        assert _threads.row_blocks(21, big) == [(0, 10), (10, 21)]
        assert _threads.row_blocks(640, big) == [(0, 320), (320, 640)]  # BLOCKS at most
        few = 2 * _threads.MIN_ROWS - 1
        assert _threads.row_blocks(few, big) == [(0, few)]  # too few rows
        assert _threads.row_blocks(1, big) == [(0, 1)]
        assert _threads.row_blocks(64, big / 2) == [(0, 64)]  # too little work


def test_auto_splits_only_large_steps_and_only_with_cores_to_use(monkeypatch):
    """Unset, RNNLAB_PARALLEL splits a loop whose per-step product reaches
    min_step_flops() (lower on the own gemm, which does not pack W_hh), or, on the own
    gemm, that makes MIN_LOOP_GATES_OWN gate values, when two or more workers may run;
    '0' never splits; anything else is refused."""
    from rnnlab.kernels._blas import BACKEND

    big, T = _threads.min_step_flops(), 100
    assert big == (_threads.MIN_STEP_FLOPS_OWN if BACKEND == "avx512" else _threads.MIN_STEP_FLOPS)
    monkeypatch.delenv(_threads.PARALLEL_VAR, raising=False)
    for n in (1, 2, 4):
        monkeypatch.setattr(_threads, "workers", lambda n=n: n)
        want = [(0, 128)] if n == 1 else [(0, 64), (64, 128)]
        assert _threads.row_blocks(128, T * big, T) == want
        assert _threads.row_blocks(128, T * big * 0.99, T) == [(0, 128)]  # a smaller step
        few = 2 * _threads.MIN_ROWS - 1
        assert _threads.row_blocks(few, T * big * 10, T) == [(0, few)]  # too few rows
    monkeypatch.setattr(_threads, "workers", lambda: 2)
    gates = _threads.MIN_LOOP_GATES_OWN  # a loop of small steps with long element-wise passes
    for own in (True, False):
        monkeypatch.setattr(_threads, "_own_gemm", lambda own=own: own)
        want = [(0, 32), (32, 64)] if own else [(0, 64)]
        assert _threads.row_blocks(64, T * big * 0.1, T, gates) == want
        assert _threads.row_blocks(64, T * big * 0.1, T, gates - 1) == [(0, 64)]
    monkeypatch.setenv(_threads.PARALLEL_VAR, "0")
    assert _threads.row_blocks(128, T * big * 10, T) == [(0, 128)]
    monkeypatch.setenv(_threads.PARALLEL_VAR, "yes")
    with pytest.raises(ValueError, match="RNNLAB_PARALLEL: expected 0, 1 or unset, got 'yes'"):
        _threads.row_blocks(128, T * big, T)


@pytest.mark.parametrize("own", [False, True])
def test_auto_runs_small_calls_on_one_blas_thread_and_restores_it(monkeypatch, own):
    """Auto, with two workers, on a BLAS: a call whose per-step product is under
    MIN_THREADS_FLOPS runs serially with BLAS on one thread (restored after it, even on
    an error); a larger one keeps BLAS's threads and may run its blocks at once. On the
    own gemm every call may: its loops and products split by their own sizes."""
    monkeypatch.setattr(_threads, "_own_gemm", lambda: own)
    threads = [2]
    monkeypatch.setattr(_threads, "_switches", lambda: ((lambda: threads[0],
                                                         lambda k: threads.__setitem__(0, k)),))
    monkeypatch.setattr(_threads, "workers", lambda: getattr(_threads._inside, "n", None) or 2)
    monkeypatch.delenv(_threads.PARALLEL_VAR, raising=False)
    seen = []
    for flops in (_threads.MIN_THREADS_FLOPS / 2, _threads.MIN_THREADS_FLOPS):
        with _threads.serial_or_parallel(_threads.Choice(), flops):
            seen.append((threads[0], _threads.workers()))
        assert threads == [2] and getattr(_threads._inside, "n", None) is None
    assert seen == ([(2, 2)] if own else [(1, 1)]) + [(2, 2)]
    with pytest.raises(RuntimeError), _threads.serial_or_parallel(_threads.Choice(), 1.0):
        raise RuntimeError
    assert threads == [2]


def test_run_parallel_runs_jobs_at_once_and_restores_threads():
    import threading

    libs = _threads._switches()
    before = [get() for get, _ in libs]
    barrier = threading.Barrier(3, timeout=10)  # only passes if the three run at once

    def job(k):
        barrier.wait()
        return k, _threads.workers(), [get() for get, _ in libs]

    results = _threads.run_parallel([lambda k=k: job(k) for k in range(3)], at_once=3)
    assert [r[0] for r in results] == [0, 1, 2]
    assert all(r[1] == 1 for r in results)  # no nesting inside a job
    assert all(r[2] == [_threads.step_threads()] * len(libs) for r in results)
    assert [get() for get, _ in libs] == before
    assert _threads.workers() >= 1

    def fails():
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        _threads.run_parallel([lambda: 1, fails], at_once=2)
    assert [get() for get, _ in libs] == before
    finished = []

    def slow():
        time.sleep(0.2)
        finished.append(True)

    with pytest.raises(RuntimeError, match="boom"):
        _threads.run_parallel([fails, slow], at_once=2)  # the others still finish first
    assert finished == [True]
    assert [get() for get, _ in libs] == before
    seen = _threads.run_parallel([lambda: (threading.current_thread(), _threads.workers())] * 3,
                                 at_once=1)  # one at a time: here, as jobs
    assert seen == [(threading.current_thread(), 1)] * 3


def test_split_loops_run_on_several_threads(monkeypatch):
    """A split loop's blocks really run on distinct threads, and the result is the same."""
    import threading

    names = set()
    real = loops.lstm.forward

    def spy(*a):
        names.add(threading.current_thread().name)
        return real(*a)

    layer = LSTM(3, 16, dtype=np.float64, seed=0, fast=True)
    x = np.random.default_rng(1).standard_normal((5, 24, 3))
    monkeypatch.setattr(_threads, "workers", lambda: 1)
    out1, _ = layer(x)
    split_everything(monkeypatch, 2)
    monkeypatch.setattr(loops.lstm, "forward", spy)
    out2, _ = layer(x)
    assert len(names) == 2
    np.testing.assert_array_equal(out1, out2)


def test_choice_tries_both_then_keeps_the_faster(monkeypatch):
    monkeypatch.setattr(_threads, "EXPLORE", 2)
    monkeypatch.setattr(_threads, "MAX_EXPLORE", 4)
    choice = _threads.Choice()
    picks = []
    for k in range(16):
        parallel = choice.pick()
        picks.append(parallel)
        faster = k < 8  # parallel is faster until call 8, then serial
        choice.record(parallel, 1.0 if parallel == faster else 3.0)
    # both first; then parallel, trying serial after 2 calls, then 4 (it lost: doubled,
    # capped at 4); from k = 8 parallel costs 3: smoothed up, serial's next try wins
    # (k = 10) and serial is kept, parallel tried after 2 calls, then 4
    assert "".join("P" if p else "S" for p in picks) == "PSSPPPSPPPSSPSSS"


def test_serial_or_parallel_splits_loops_and_keeps_blas_threads(monkeypatch):
    monkeypatch.setenv(_threads.PARALLEL_VAR, "1")
    libs = _threads._switches()
    before = [get() for get, _ in libs]
    monkeypatch.setattr(_threads, "workers", lambda: getattr(_threads._inside, "n", None) or 2)
    seen = []
    choice = _threads.Choice()
    for _ in range(2):  # parallel first, then serial
        with _threads.serial_or_parallel(choice, 100):
            seen.append((_threads._inside.n, [get() for get, _ in libs]))
        assert [get() for get, _ in libs] == before
        assert _threads._inside.n is None
    assert seen == [(2, before), (1, before)]  # BLAS's count never depends on the clock
    assert all(m is not None for m in choice.mean)


def test_training_numbers_do_not_depend_on_the_clock(monkeypatch):
    """Whatever the clock-based choice picks (serial or parallel), a run's weights are
    the same bits, so a resumed run equals an uninterrupted one (float32 char-LM, big
    enough for split loops)."""
    monkeypatch.setenv(_threads.PARALLEL_VAR, "1")
    monkeypatch.setattr(_threads, "workers", lambda: getattr(_threads._inside, "n", None) or (
        1 if getattr(_threads._inside, "job", False) else 2))
    from rnnlab.apps import charlm

    text = "".join(chr(97 + (i * 7) % 26) for i in range(20_000))
    weights = []
    for parallel in (True, False):
        monkeypatch.setattr(_threads.Choice, "pick", lambda self, p=parallel: p)
        net = charlm.CharLMNetwork(hidden_size=64, num_layers=2)
        opt = charlm.CharLMTraining(steps=4, batch_size=32, seq_len=32, eval_every=100)
        trainer = charlm.make_trainer(text, net, opt, None)
        trainer.fit()
        weights.append({n: p.copy() for n, p in trainer.model.params.items()})
    for name, p in weights[0].items():
        np.testing.assert_array_equal(weights[1][name], p, err_msg=name)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("cls,opts,_id", CELLS, ids=CELL_IDS)
def test_serial_and_parallel_give_identical_numbers(cls, opts, _id, dtype, monkeypatch):
    """Forced parallel (row blocks and directions on threads at once) and forced serial
    (the same blocks one after the other) give the same bits, forward and every
    gradient, whatever the number of threads: the blocks depend on the shapes only."""
    monkeypatch.setenv(_threads.PARALLEL_VAR, "1")
    monkeypatch.setattr(_threads, "MIN_ROWS", 4)
    monkeypatch.setattr(_threads, "MIN_FLOPS", 0)
    layer = cls(8, 32, 2, bidirectional=True, dtype=dtype, seed=0, fast=True, **opts)
    rng = np.random.default_rng(2)
    lengths = rng.integers(1, 10, 40)
    x, s0, g_out, g_state = random_problem(layer, 9, 40, rng, lengths, dtype)
    results = []
    for n, parallel in [(2, True), (2, False), (1, False), (3, True)]:
        monkeypatch.setattr(_threads, "workers", lambda n=n: getattr(_threads._inside, "n", None)
                            or (1 if getattr(_threads._inside, "job", False) else n))
        monkeypatch.setattr(_threads.Choice, "pick", lambda self, p=parallel: p)
        out, st, cache = layer.forward(x, from_tuple(s0), lengths, training=True)
        dx, ds, grads = layer.backward(cache, g_out, from_tuple(g_state))
        results.append([out, *as_tuple(st), dx, *as_tuple(ds), *grads.values()])
    assert _threads.row_blocks(40, 1.0) == [(0, 20), (20, 40)]  # the loops were split
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_matmul_into_is_numpys_product(dtype):
    """The kernels' product gives NumPy's bits on the OpenBLAS backend (NumPy's own gemm),
    Numba's np.dot's when a side is a vector (gemv and dot, on either backend), the
    product to rounding on MKL's gemm, and zeros when the inner size is 0."""
    from numba import njit

    from rnnlab.kernels._blas import BACKEND, _numpy_gemm, matmul_into

    ours = njit(lambda x, y, out: matmul_into(x, y, out))
    numbas = njit(lambda x, y, out: np.dot(x, y, out))
    rng = np.random.default_rng(0)
    for m, k, n in [(7, 13, 52), (1, 13, 52), (7, 13, 1), (1, 13, 1), (3, 0, 4), (64, 33, 130),
                    (20, 100, 400)]:
        x, y = rng.standard_normal((m, k)).astype(dtype), rng.standard_normal((k, n)).astype(dtype)
        a, b = np.full((m, n), np.nan, dtype), np.full((m, n), np.nan, dtype)
        ours(x, y, a)
        numbas(x, y, b)
        if 1 in (m, n):
            np.testing.assert_array_equal(a, b)
        elif BACKEND == "openblas":
            np.testing.assert_array_equal(a, x @ y if _numpy_gemm() else b)
        np.testing.assert_allclose(a, x.astype(np.float64) @ y, rtol=0, atol=1e-5 * max(k, 1))


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_matmul_into_reads_a_padded_y_as_the_contiguous_one(dtype):
    """A y whose rows lie further apart (rnnlab.kernels._gemm.padded, as the loops get
    their weights at H = 512): gemm with its row stride, whatever the shapes, the same
    bits as the contiguous y (the same gemm reads the same numbers)."""
    from numba import njit

    from rnnlab.kernels._blas import matmul_into
    from rnnlab.kernels._gemm import padded

    ours = njit(lambda x, y, out: matmul_into(x, y, out))
    rng = np.random.default_rng(0)
    n = 2048 // np.dtype(dtype).itemsize
    for m, k in [(7, 13), (1, 40), (20, 2)]:
        x, y = rng.standard_normal((m, k)).astype(dtype), rng.standard_normal((k, n)).astype(dtype)
        y_pad = padded(y)
        assert not y_pad.flags.c_contiguous and np.array_equal(y_pad, y)
        a, b = np.full((m, n), np.nan, dtype), np.full((m, n), np.nan, dtype)
        ours(x, y_pad, a)
        ours(x, y, b)
        if m > 1:  # m = 1: gemv for the contiguous y
            np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(a, x.astype(np.float64) @ y, rtol=0, atol=1e-5 * k)


def _python(backend: str, *args: str):
    """`python ARGS` in a fresh process with RNNLAB_BLAS=backend."""
    import os
    import subprocess
    import sys

    return subprocess.run([sys.executable, *args], env={**os.environ, "RNNLAB_BLAS": backend},
                          capture_output=True, text=True, check=False)


def test_the_blas_backend_is_chosen_by_name_or_refused_in_one_line():
    from rnnlab.kernels._gemm import has_avx512

    def backend(name):
        return _python(name, "-c", "from rnnlab.kernels import _blas; print(_blas.BACKEND)")

    assert backend("openblas").stdout.strip() == "openblas"
    bad = backend("atlas")
    assert bad.returncode != 0
    assert "RNNLAB_BLAS: expected one of auto, openblas, mkl, avx512, got 'atlas'" in bad.stderr
    own, mkl, auto = backend("avx512"), backend("mkl"), backend("auto").stdout.strip()
    if has_avx512():
        assert own.stdout.strip() == "avx512" == auto
    else:
        assert own.returncode != 0 and "RNNLAB_BLAS=avx512: this CPU has no AVX-512" in own.stderr
    if mkl.returncode == 0:
        assert mkl.stdout.strip() == "mkl"
        assert has_avx512() or auto == "mkl"
    else:
        assert "MKL's runtime library (libmkl_rt) was not found" in mkl.stderr
        assert auto == ("avx512" if has_avx512() else "openblas")


@pytest.mark.parametrize("other", ["openblas", "mkl", "avx512"])
def test_the_other_blas_backends_equal_the_reference_too(other):
    """This process runs the kernels on one backend (auto); the fast-equals-reference
    tests run again on each other one this machine has, in a fresh process (the backend
    is bound when the kernels are imported)."""
    from pathlib import Path

    from rnnlab.kernels._blas import BACKEND

    if other == BACKEND:
        pytest.skip(f"{other} is this process's backend")
    if _python(other, "-c", "import rnnlab.kernels._blas").returncode:
        pytest.skip(f"{other} is not available here (MKL: pip install rnnlab[mkl]; "
                    "avx512: a CPU with AVX-512)")
    r = _python(other, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k",
                "fast_equals_reference or matmul_into or serial_and_parallel", str(Path(__file__)))
    assert r.returncode == 0, r.stdout[-3000:]


def test_warm_fills_the_cache_with_what_is_named(tmp_path):
    """rnnlab.kernels.warm compiles the named cells into Numba's cache, and only them."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    code = ("import numpy as np; from rnnlab.kernels.warm import warm; "
            "print(sorted(warm(['rnn'], [np.float32])))")
    res = subprocess.run([sys.executable, "-c", code], check=False, env=env, capture_output=True,
                         text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "['rnn float32']"
    names = {p.name.split("-")[0] for p in tmp_path.rglob("*.nbi")}
    assert {"rnn.forward", "rnn.backward", "rnn.rforward"} <= names
    assert not any(n.startswith(("lstm.", "gru.")) for n in names)
    bad = subprocess.run([sys.executable, "-m", "rnnlab.kernels.warm", "lstn"], check=False,
                         env=env, capture_output=True, text=True, timeout=600)
    assert bad.returncode == 2
    assert bad.stderr.strip() == "cells: expected some of rnn, lstm, gru, got lstn"


def test_layers_restore_blas_threads_after_every_call(monkeypatch):
    """Serial and parallel calls of a layer (both get picked) leave BLAS as it was."""
    monkeypatch.setenv(_threads.PARALLEL_VAR, "1")
    libs = _threads._switches()
    before = [get() for get, _ in libs]
    monkeypatch.setattr(_threads, "EXPLORE", 2)
    monkeypatch.setattr(_threads, "MIN_FLOPS", 0)
    monkeypatch.setattr(_threads, "workers", lambda: getattr(_threads._inside, "n", None) or (
        1 if getattr(_threads._inside, "job", False) else 2))
    layer = LSTM(3, 8, bidirectional=True, seed=0, fast=True)
    x = np.ones((4, 16, 3), np.float32)
    for _ in range(6):
        _, _, cache = layer.forward(x, training=True)
        assert [get() for get, _ in libs] == before
        layer.backward(cache, np.ones((4, 16, 16), np.float32))
        assert [get() for get, _ in libs] == before
    choices = _threads._choices[layer]
    assert all(None not in c.mean for c in choices.values())  # both modes were run


def test_an_own_gemm_that_does_not_compile_falls_back_or_is_refused(monkeypatch):
    """Under auto, a Numba or LLVM the own gemm does not compile on leaves the loops on
    the BLAS with a warning; asked for by name, one clear ImportError."""
    from rnnlab.kernels import _blas, _gemm

    def broken():
        raise RuntimeError("LLVM ERROR: intrinsic not found")

    monkeypatch.setattr(_gemm, "fortran_sgemm", broken)
    with pytest.warns(RuntimeWarning, match="AVX-512 gemm did not compile here"):
        assert _blas._own_sgemm_address("auto") is None
    with pytest.raises(ImportError, match="RNNLAB_BLAS=avx512: rnnlab's AVX-512 gemm did not "
                                          "compile here .RuntimeError: LLVM ERROR"):
        _blas._own_sgemm_address("avx512")


def _lstm_problem(rng, T, B, H, lengths):
    """Buffers of one LSTM direction's forward and BPTT kernels (zero past the ends)."""
    a = rng.standard_normal((T, B, 4 * H)).astype(np.float32)
    bias = rng.standard_normal(4 * H).astype(np.float32)
    W = (rng.standard_normal((4 * H, H)) / np.sqrt(H)).astype(np.float32)  # W_hh
    h, c = np.zeros((T + 1, B, H), np.float32), np.zeros((T + 1, B, H), np.float32)
    h[0], c[0] = rng.standard_normal((2, B, H))
    grads = rng.standard_normal((2, B, H)).astype(np.float32)  # ∂L/∂h_T, ∂L/∂c_T
    return a, bias, W, h, c, rng.standard_normal((T, B, H)).astype(np.float32), grads


def _run_threads(fn, args, threads: int) -> None:
    import threading

    others = [threading.Thread(target=fn, args=args) for _ in range(threads - 1)]
    for t in others:
        t.start()
    fn(*args)
    for t in others:
        t.join()


@pytest.mark.skipif(not OWN_GEMM, reason="the units loops read W_hh in the own gemm's panels")
@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("chunks", [2, 4])
def test_lstm_units_loops_have_the_bits_of_the_whole_loops(chunks, threads):
    """forward_units / backward_units (UNITS in rnnlab.kernels.lstm): every state, gate,
    error and gradient the same bits as the whole loops, on ragged lengths, whether one
    thread claims every task or several share them (more threads than chunks too)."""
    from rnnlab.kernels._gemm import panels

    T, B, H = 7, 3, 128
    lengths = np.array([7, 3, 5], np.int64)
    a, bias, W, h, c, dh_out, (dh_T, dc_T) = _lstm_problem(np.random.default_rng(5), T, B, H,
                                                           lengths)
    sc, of = lstm.gate_scales(H, np.float32)
    runs = []
    for split in (False, True):
        a_, h_, c_ = a.copy(), h.copy(), c.copy()
        if split:
            _run_threads(lstm.forward_units, (a_, bias, sc, of, panels(W.T), lengths, h_, c_,
                                              np.empty((chunks, 4, B, H // chunks), np.float32),
                                              np.zeros(2, np.int64)), threads)
        else:
            lstm.forward(a_, bias, sc, of, panels(W.T), lengths, h_, c_,
                         np.empty((B, 4 * H), np.float32), 0, B)
        dh, dc, dA, dH = (np.full((B, H), np.nan, np.float32), dc_T.copy(),
                          np.full((T, B, 4 * H), np.nan, np.float32),
                          np.full((T, B, H), np.nan, np.float32))
        if split:
            _run_threads(lstm.backward_units, (
                dh_out, a_, c_, panels(W), lengths, dh_T, dh, dc, dA, dH,
                np.empty((chunks, B, H // chunks), np.float32),
                np.empty((chunks, 4 * H // chunks), np.float32), np.zeros(2, np.int64)), threads)
        else:
            lstm.backward(dh_out, a_, c_, panels(W), lengths, dh_T, dh, dc, dA, dH, 0, B)
        runs.append((a_, h_, c_, dh, dc, dA, dH))
    for name, whole, split in zip(("gates", "h", "c", "dh_0", "dc_0", "dA", "dH"), *runs):
        assert not np.isnan(whole).any(), name
        np.testing.assert_array_equal(split, whole, err_msg=name)


def test_unit_chunks_only_for_small_batches_and_large_weights(monkeypatch):
    """Auto with two or more workers: a batch under UNITS_BELOW_ROWS with a W_hh of
    UNITS_FROM_BYTES or more, in chunks of a whole number of panels; else rows."""
    monkeypatch.delenv(_threads.PARALLEL_VAR, raising=False)
    monkeypatch.setattr(_threads, "workers", lambda: 2)
    big, rows = _threads.UNITS_FROM_BYTES, _threads.UNITS_BELOW_ROWS
    assert _threads.unit_chunks(rows - 1, 512, big, 32) == 2
    assert _threads.unit_chunks(rows, 512, big, 32) == 0  # enough rows for row blocks
    assert _threads.unit_chunks(4, 512, big - 1, 32) == 0  # W_hh in the cache
    assert _threads.unit_chunks(4, 512 + 32, big, 32) == 0  # 272 units: not 2 whole panels
    monkeypatch.setattr(_threads, "workers", lambda: 4)
    assert _threads.unit_chunks(4, 512, big, 32) == 4
    monkeypatch.setattr(_threads, "workers", lambda: 1)
    assert _threads.unit_chunks(4, 512, big, 32) == 0
    monkeypatch.setattr(_threads, "workers", lambda: 2)
    for mode in ("0", "1"):
        monkeypatch.setenv(_threads.PARALLEL_VAR, mode)
        assert _threads.unit_chunks(4, 512, big, 32) == 0


@pytest.mark.skipif(not OWN_GEMM, reason="the units loops read W_hh in the own gemm's panels")
def test_lstm_layer_with_units_equals_reference_and_rows(monkeypatch):
    """A deep bidirectional padded float32 LSTM run by units (forced for a small W_hh):
    the reference loop's numbers, and the whole loops' bits."""
    calls = []
    for name in ("forward_units", "backward_units"):
        kernel = getattr(lstm, name)
        monkeypatch.setattr(lstm, name, lambda *a, k=kernel: calls.append(k) or k(*a))
    monkeypatch.delenv(_threads.PARALLEL_VAR, raising=False)
    monkeypatch.setattr(_threads, "workers", lambda: 1 if getattr(_threads._inside, "job", False)
                        else 2)
    rng = np.random.default_rng(6)
    layer = LSTM(5, 64, 2, bidirectional=True, dtype=np.float32, seed=3)
    lengths = [6, 2, 4]
    x, s0, g_out, g_state = random_problem(layer, 6, 3, rng, lengths, np.float32)
    runs = []
    for units_from in (0, _threads.UNITS_FROM_BYTES):
        monkeypatch.setattr(_threads, "UNITS_FROM_BYTES", units_from)
        (out0, _, back0), (out1, st1, back1) = run_both(layer, x, s0, g_out, g_state, lengths)
        if not runs:
            assert calls  # the units loops ran
            assert_close(out0, out1, TOL[np.float32], "output")
            for name in back0[2]:
                assert_close(back0[2][name], back1[2][name], TOL[np.float32], name)
        runs.append([out1, *st1, back1[0], *as_tuple(back1[1]), *back1[2].values()])
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


def test_auto_runs_the_directions_at_once_from_enough_work(monkeypatch):
    """Auto with two workers: a bidirectional layer's directions as jobs at once when
    each is MIN_DIRECTION_MACS or more; RNNLAB_PARALLEL=1 always, 0 never."""
    monkeypatch.delenv(_threads.PARALLEL_VAR, raising=False)
    monkeypatch.setattr(_threads, "workers", lambda: 2)
    big = _threads.MIN_DIRECTION_MACS
    assert _threads.directions_at_once(big) and not _threads.directions_at_once(big - 1)
    monkeypatch.setattr(_threads, "workers", lambda: 1)
    assert not _threads.directions_at_once(big)
    monkeypatch.setenv(_threads.PARALLEL_VAR, "1")
    assert _threads.directions_at_once(0)
    monkeypatch.setenv(_threads.PARALLEL_VAR, "0")
    assert not _threads.directions_at_once(big)
    monkeypatch.delenv(_threads.PARALLEL_VAR)
    monkeypatch.setattr(_threads, "workers", lambda: 1 if getattr(_threads._inside, "job", False)
                        else 2)
    rounds = []
    real = _threads.run_parallel
    monkeypatch.setattr(_threads, "run_parallel", lambda jobs, *a: rounds.append(len(jobs))
                        or real(jobs, *a))
    layer = LSTM(3, 8, bidirectional=True, seed=0, fast=True)
    x = np.ones((5, 2, 3), np.float32)
    for threshold, want in ((0, [2]), (big, [])):
        monkeypatch.setattr(_threads, "MIN_DIRECTION_MACS", threshold)
        rounds.clear()
        layer.forward(x)
        assert rounds == want  # the layer's two directions in one round of jobs, or none
