"""rnnlab.tasks: generators (layout, targets recomputed from the inputs, chance levels,
seeding) and the success criterion of Pascanu et al. on hand-made predictions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnnlab.tasks import (
    TASKS,
    Score,
    adding,
    copying,
    evaluate,
    forecast3,
    make_task,
    memorization,
    multiplication,
    multivariate_series,
    permutation,
    temporal_order,
    temporal_order3,
    wrong,
    xor,
)
from rnnlab.tasks.forecast import BURN_IN, NOISE

DRAWS = 200  # batches drawn when checking layouts


def rng(seed=0):
    return np.random.default_rng(seed)


def _markers(x):
    """(p0, p1) per sequence from the marker channel of an adding-family input."""
    t, b = np.nonzero(x[..., 1] == 1)
    order = np.lexsort((t, b))
    t, b = t[order], b[order]
    assert np.array_equal(np.bincount(b, minlength=x.shape[1]), np.full(x.shape[1], 2))
    return t[0::2], t[1::2]


# ---- layouts: markers always inside their documented ranges ----------------------

@pytest.mark.parametrize("variant", ["pascanu", "martens"])
def test_adding_length_and_markers_in_range(variant):
    g, T, lengths = rng(1), 50, set()
    for _ in range(DRAWS):
        b = adding(T, 8, g, variant=variant)
        L = len(b.x)
        lengths.add(L)
        assert T <= L < 1.1 * T
        p0, p1 = _markers(b.x)
        assert np.all(p0 < int(0.1 * L)) and np.all(p1 >= int(0.1 * L)) and np.all(p1 < int(0.5 * L))
        assert np.all((b.x[..., 0] >= 0) & (b.x[..., 0] < 1))
        assert b.mask[-1].all() and b.mask.sum() == 8
    assert lengths == set(range(T, T + T // 10))  # every length of [T, 1.1T) occurs


def test_arjovsky_adding_markers_in_each_half_and_sum_target():
    g, T = rng(2), 40
    for _ in range(DRAWS):
        b = adding(T, 8, g, variant="arjovsky")
        assert len(b.x) == T
        p0, p1 = _markers(b.x)
        assert np.all(p0 < T // 2) and np.all(p1 >= T // 2)
        idx = np.arange(8)
        np.testing.assert_allclose(b.y[-1, :, 0], b.x[p0, idx, 0] + b.x[p1, idx, 0], rtol=1e-6)


def _symbols(x):
    return x.argmax(-1)  # (L, B) from one-hot inputs


@pytest.mark.parametrize("gen, windows", [
    (temporal_order, ((0.1, 0.2), (0.5, 0.6))),
    (temporal_order3, ((0.1, 0.2), (0.3, 0.4), (0.6, 0.7))),
])
def test_temporal_order_positions_and_label(gen, windows):
    g, T = rng(3), 60
    for _ in range(DRAWS // 4):
        b = gen(T, 16, g)
        assert np.all(b.x.sum(-1) == 1)  # one-hot
        s = _symbols(b.x)
        label = np.zeros(16, int)
        for j in range(16):
            pos = np.nonzero(s[:, j] < 2)[0]  # A or B: exactly one per window
            assert len(pos) == len(windows)
            for k, ((lo, hi), p) in enumerate(zip(windows, pos)):
                assert int(lo * T) <= p < int(hi * T)
                label[j] += s[p, j] << k
        np.testing.assert_array_equal(b.y[-1], label)
        assert b.mask[-1].all() and b.mask.sum() == 16


def test_permutation_layout_and_label():
    b = permutation(30, 64, rng(4))
    s = _symbols(b.x)
    assert np.all(s[0] < 2) and np.all(s[1:] >= 2)
    assert set(np.unique(s[1:])) <= set(range(2, 100))
    np.testing.assert_array_equal(b.y[-1], s[0])


@pytest.mark.parametrize("bits, n_values, n_pos", [(5, 2, 5), (20, 5, 10)])
def test_memorization_layout_and_targets(bits, n_values, n_pos):
    T, B = 30, 32
    b = memorization(T, B, rng(5), bits=bits)
    L = T + 2 * n_pos + 1
    assert b.x.shape == (L, B, n_values + 2)
    s = _symbols(b.x)
    blank, go = n_values, n_values + 1
    assert np.all(s[:n_pos] < n_values)
    assert np.all(s[n_pos:n_pos + T] == blank) and np.all(s[n_pos + T] == go)
    assert np.all(s[n_pos + T + 1:] == blank)
    np.testing.assert_array_equal(b.y[-n_pos:], s[:n_pos])  # the pattern, recomputed
    assert np.all(b.y[:-n_pos] == blank)
    assert b.mask.all() and b.scored[-n_pos:].all() and not b.scored[:-n_pos].any()


def test_copying_is_arjovskys_layout():
    T = 25
    b = copying(T, 16, rng(6))
    assert b.x.shape == (T + 20, 16, 10)
    s = _symbols(b.x)
    assert np.all(s[:10] < 8) and np.all(s[10:T + 9] == 8) and np.all(s[T + 9] == 9)
    np.testing.assert_array_equal(b.y[-10:], s[:10])


# ---- targets recomputed from the inputs -------------------------------------------

def test_adding_multiplication_xor_targets_from_inputs():
    g = rng(7)
    idx = np.arange(32)
    for _ in range(20):
        for gen, f in [(adding, lambda a, c: (a + c) / 2),
                       (lambda *a: adding(*a, target="sum"), lambda a, c: a + c),
                       (multiplication, lambda a, c: a * c),
                       (xor, lambda a, c: np.float32(a != c)),
                       (lambda *a: xor(*a, output="hinge"), lambda a, c: np.where(a != c, 1, -1))]:
            b = gen(40, 32, g)
            p0, p1 = _markers(b.x)
            want = f(b.x[p0, idx, 0], b.x[p1, idx, 0])
            np.testing.assert_allclose(b.y[-1, :, 0], want, rtol=1e-6)
            assert np.all(b.y[:-1] == b.y[0, 0])  # a placeholder outside the mask
    assert set(np.unique(xor(40, 256, g).x[..., 0])) == {0.0, 1.0}


def test_forecast3_follows_its_equation():
    s = multivariate_series(400, rng(8), batch=3, noise=0.0)  # (n, B, 3)
    x1, x2, x3 = s[..., 0], s[..., 1], s[..., 2]
    want = np.tanh(2 * x1[2:-1] * x2[1:-2]) + 0.5 * np.sin(np.pi * x2[:-3])
    np.testing.assert_allclose(x3[3:], want, atol=1e-12)
    noisy = multivariate_series(20000, rng(9), noise=NOISE)
    resid = noisy[3:, 2] - (np.tanh(2 * noisy[2:-1, 0] * noisy[1:-2, 1])
                            + 0.5 * np.sin(np.pi * noisy[:-3, 1]))
    assert abs(resid.std() - NOISE) < 0.002
    assert BURN_IN > 10 and abs(noisy[:, 1].var() - 0.25) < 0.03  # x2 stationary
    b = forecast3(4, 5, rng(10))
    assert b.x.shape == (4, 5, 3) and b.mask[-1].all() and b.mask.sum() == 5


# ---- chance level of an input-blind predictor ----------------------------------------

def _blind(task, T):
    """The best input-blind logits z (L, B, K) for `task` (the chance predictor)."""
    def predict(x):
        L, B, _ = x.shape
        z = np.zeros((L, B, task.n_out))
        if task.name == "adding":
            z[:] = 1.0 if task.options.get("target") == "sum" else 0.5
        elif task.name == "multiplication":
            z[:] = 0.25
        elif task.name == "permutation":
            z[:] = -1e9
            z[..., :2] = 0.0  # half on symbol 0, half on 1
        elif task.name in ("memorization", "copying"):
            n_pos = 5 if task.n_out == 3 else 10
            z[..., -1] = 1e9  # blank
            z[-n_pos:] = 0.0
            z[-n_pos:, :, -1] = -1e9  # uniform over the values where the pattern is due
        return z  # xor, temporal order, forecast3: z = 0
    return predict


@pytest.mark.parametrize("name, options", [(n, {}) for n in TASKS] + [
    ("adding", {"target": "sum"}), ("adding", {"variant": "martens"}),
    ("multiplication", {"variant": "martens"}), ("xor", {"output": "hinge"}),
    ("memorization", {"bits": 20}), ("memorization", {"bits": 20, "layout": "pascanu"})])
def test_chance_level_of_a_blind_predictor(name, options):
    task = make_task(name, **options)
    T, N = (10 if name in ("permutation", "copying") else 20), 6000
    score = evaluate(_blind(task, T), task, T, rng(11), n=N, batch_size=1000)
    chance_loss, chance_error = task.chance(T)
    p = chance_error
    assert abs(score.error_rate - p) <= 4 * math.sqrt(p * (1 - p) / N) + 1e-12
    # loss: within sampling error (the per-sequence loss has std below 0.6 for all of them)
    tol = 4 * 0.6 / math.sqrt(N) if task.kind == "regression" else 1e-6
    assert abs(score.loss - chance_loss) <= tol, (score.loss, chance_loss)


# ---- seeding --------------------------------------------------------------------------

@pytest.mark.parametrize("name", TASKS)
def test_seeded_reproducibility(name):
    task = make_task(name)
    a, b, c = (task.sample(20, 6, rng(s)) for s in (3, 3, 4))
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not (a.x.shape == c.x.shape and np.array_equal(a.x, c.x))
    assert task.sample(20, 6, rng(3), dtype=np.float64).x.dtype == np.float64


# ---- the criterion on hand-made predictions --------------------------------------------

def _perfect(task, batch):
    if task.kind == "regression":
        return batch.y.astype(np.float64)
    if task.kind == "binary":
        return np.where(batch.y > 0.5, 5.0, -5.0)
    z = np.zeros(batch.y.shape + (task.n_out,))
    np.put_along_axis(z, batch.y[..., None], 1.0, -1)
    return z


def _spoil(task, z, batch, which):
    """Make exactly the sequences `which` wrong at one scored step."""
    z = z.copy()
    for j in which:
        t = np.nonzero(batch.scored[:, j])[0][-1]
        if task.kind == "regression":
            z[t, j] += 0.25  # squared error 0.0625 > 0.04
        elif task.kind == "binary":
            z[t, j] = -z[t, j]
        else:
            z[t, j] = np.roll(z[t, j], 1)
    return z


@pytest.mark.parametrize("name", ["adding", "xor", "temporal_order", "memorization"])
def test_criterion_all_right_one_percent_all_wrong(name):
    task, N = make_task(name), 10_000
    batch = task.sample(20, N, rng(12))
    z = _perfect(task, batch)
    assert not wrong(task, z, batch).any()
    w = wrong(task, _spoil(task, z, batch, range(100)), batch)
    assert w.sum() == 100 and w[:100].all()  # exactly 1 %: not solved (under 1 % needed)
    assert not Score(w.mean(), int(w.sum()), N, 0.5, 1.0, 0.0).solved
    assert Score(99 / N, 99, N, 0.5, 1.0, 0.0).solved
    assert wrong(task, _spoil(task, z, batch, range(N)), batch).all()


def test_regression_threshold_is_strict_and_variant_absolute():
    batch = adding(20, 3, rng(13))
    z = batch.y.astype(np.float64).copy()
    z[-1, :, 0] += [0.19, 0.21, -0.05]  # squared errors 0.0361, 0.0441, 0.0025
    np.testing.assert_array_equal(wrong(make_task("adding"), z, batch), [False, True, False])
    # |error| > 0.04 (Hochreiter & Schmidhuber, Martens & Sutskever)
    np.testing.assert_array_equal(wrong(make_task("adding", variant="martens"), z, batch),
                                  [True, True, True])


def test_memorization_judges_pattern_steps_only():
    task = make_task("memorization")
    batch = task.sample(10, 4, rng(14))
    z = _perfect(task, batch)
    z[0, 0] = np.roll(z[0, 0], 1)  # a wrong blank, before the go symbol: not judged
    z[-1, 1] = np.roll(z[-1, 1], 1)  # one wrong pattern step: the sequence is wrong
    np.testing.assert_array_equal(wrong(task, z, batch), [False, True, False, False])


# ---- bad input --------------------------------------------------------------------------

@pytest.mark.parametrize("call, match", [
    (lambda: adding(5, 4, rng()), "T: expected an integer >= 10"),
    (lambda: adding(20, 0, rng()), "B: expected an integer >= 1"),
    (lambda: adding(20, 4, np.random.RandomState(0)), "rng: expected a numpy.random.Generator"),
    (lambda: adding(20, 4, rng(), variant="x"), "variant: expected one of"),
    (lambda: adding(20, 4, rng(), target="max"), "target: expected one of"),
    (lambda: memorization(20, 4, rng(), bits=7), "bits: expected one of"),
    (lambda: memorization(20, 4, rng(), layout="cho"), "layout: expected one of"),
    (lambda: evaluate(None, make_task("adding"), 20, rng(), criterion="best"),
     "criterion: expected one of"),
    (lambda: make_task("adding", variant="hinton"), "variant: expected one of"),
    (lambda: make_task("sorting"), "task: expected one of"),
    (lambda: make_task("permutation", bits=5), "options: task 'permutation'"),
])
def test_bad_input_names_the_argument(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()



# ---- Pascanu et al.'s setup as their code has it (pascanur/trainingRNNs) -----------------

@pytest.mark.parametrize("bits, n_values, n_pos", [(5, 2, 5), (20, 5, 10)])
def test_memorization_pascanu_layout(bits, n_values, n_pos):
    """His MemTask: length T + 2 n_pos; the pattern, then blanks, 'go' replacing the blank
    on the first of the last n_pos steps; blank targets, then the pattern; every step
    scored."""
    T, B = 30, 32
    b = memorization(T, B, rng(5), bits=bits, layout="pascanu")
    L = T + 2 * n_pos
    assert b.x.shape == (L, B, n_values + 2) and b.y.shape == (L, B)
    s = _symbols(b.x)
    blank, go = n_values, n_values + 1
    assert np.all(s[:n_pos] < n_values)
    expected = np.full((L, B), blank)
    expected[:n_pos] = s[:n_pos]
    expected[L - n_pos] = go  # = T + n_pos, his `length + n_pos`
    np.testing.assert_array_equal(s, expected)
    np.testing.assert_array_equal(b.y[-n_pos:], s[:n_pos])
    assert np.all(b.y[:-n_pos] == blank)
    assert b.mask.all() and b.scored.all()


def test_memorization_pascanu_counts_any_wrong_step():
    task = make_task("memorization", layout="pascanu")
    batch = task.sample(10, 4, rng(14))
    z = _perfect(task, batch)
    z[0, 0] = np.roll(z[0, 0], 1)  # a wrong blank step: his code counts it
    z[-1, 1] = np.roll(z[-1, 1], 1)
    np.testing.assert_array_equal(wrong(task, z, batch), [True, True, False, False])


def test_criteria_paper_and_code():
    """paper: under 1 % of the sequences wrong; code (his script): none wrong."""
    for n_wrong, paper, code in [(0, True, True), (1, True, False), (99, True, False),
                                 (100, False, False)]:
        args = (n_wrong / 10_000, n_wrong, 10_000, 0.5, 1.0, 0.0)
        assert Score(*args).solved is paper and Score(*args, criterion="paper").solved is paper
        assert Score(*args, criterion="code").solved is code


def test_draw_length_is_his_min_max_range():
    from rnnlab.tasks.problems import draw_length

    g = rng(20)
    lengths = np.array([draw_length(50, 200, g) for _ in range(20_000)])
    assert lengths.min() == 50 and lengths.max() == 199  # [min_length, max_length)
    counts = np.bincount(lengths - 50, minlength=150)
    assert abs(lengths.mean() - 124.5) < 1.0 and counts.min() > 60  # uniform: 133 each
    g, h = rng(21), rng(21)
    assert draw_length(50, None, g) == 50 and draw_length(50, 50, g) == 50
    assert g.integers(1 << 30) == h.integers(1 << 30)  # a fixed length draws nothing


def test_evaluate_draws_a_length_per_batch():
    task, seen = make_task("temporal_order"), []

    def predict(x):
        seen.append(len(x))
        return np.zeros(x.shape[:2] + (task.n_out,))

    evaluate(predict, task, 20, rng(22), n=3000, batch_size=100, T_max=60)
    assert len(seen) == 30 and min(seen) >= 20 and max(seen) < 60 and len(set(seen)) > 5


def test_smart_tanh_is_pascanus_initialisation():
    from rnnlab import LSTM, RNN
    from rnnlab.init import smart_tanh, spectral_radius
    from rnnlab.readout import Readout

    rnn, readout = RNN(6, 100, dtype=np.float64), Readout(100, 4, dtype=np.float64)
    smart_tanh(rnn, readout, seed=3)
    W = rnn.params["weight_hh_l0"]
    # his h_{t-1}·W keeps 15 entries per row of W: 15 outgoing weights per unit,
    # a column of W_hh in rnnlab's W_hh h_{t-1}
    np.testing.assert_array_equal((W != 0).sum(0), 15)
    assert spectral_radius(W) == pytest.approx(0.95, rel=1e-9)
    for a in (rnn.params["weight_ih_l0"], readout.params["weight"]):
        assert abs(a.mean()) < 0.003 and 0.008 < a.std() < 0.012  # N(0, 0.01²)
    for n in ("bias_ih_l0", "bias_hh_l0"):
        assert not rnn.params[n].any()
    assert not readout.params["bias"].any()
    lstm = LSTM(3, 20, dtype=np.float64)
    smart_tanh(lstm, seed=0)
    for blk in np.split(lstm.params["weight_hh_l0"], 4):  # each gate block on its own
        assert spectral_radius(blk) == pytest.approx(0.95, rel=1e-9)


def test_run_with_hf_lengths_and_code_criterion():
    from rnnlab.tasks.run import RunConfig, run

    cfg = RunConfig(task="adding", T=10, T_max=14, cell="rnn", init="smart_tanh",
                    optimizer="hf", batch_size=40, hf_max_cg_iters=8, max_steps=2,
                    eval_every=1, quick_n=50, eval_n=100, criterion="code")
    steps = []
    r = run(cfg, on_step=lambda step, rec: steps.append((step, rec["loss"])))
    assert [s for s, _ in steps] == [1, 2] and r["steps_done"] == 2
    assert 2 <= r["cg_iters"] <= 16 and r["damping"] > 0
    assert steps[1][1] <= steps[0][1] * 1.5  # a fresh batch, but no blow-up


@pytest.mark.parametrize("options, match", [
    ({"optimizer": "lbfgs"}, "optimizer: expected one of"),
    ({"criterion": "strict"}, "criterion: expected one of"),
    ({"T": 100, "T_max": 50}, "T_max: expected at least T = 100"),
    ({"init": "smart"}, "init: expected one of"),
    ({"optimizer": "hf", "remedy": "omega"}, "remedy: 'omega' changes gradient updates"),
    ({"optimizer": "hf", "hf_max_cg_iters": 0}, "^hf_max_cg_iters: expected an integer >= 1"),
    ({"optimizer": "hf", "hf_damping": -1.0}, "^hf_damping: expected .*, got -1.0"),
    ({"optimizer": "hf", "hf_min_damping": 2.0}, "^hf_min_damping: expected at most damping"),
])
def test_run_config_rejects_bad_options(options, match):
    from rnnlab.tasks.run import RunConfig

    with pytest.raises(ValueError, match=match):
        RunConfig(**options)


def test_summary_reports_cg_iterations_of_solved_hf_runs():
    from rnnlab.tasks.summary import summarize

    def rec(seed, solved, cg):
        spec = {"task": "adding", "T": 50, "optimizer": "hf", "seed": seed}
        result = {"solved": solved, "steps": 10 if solved else None, "error_rate": 0.0,
                  "cg_iters": cg}
        return {"id": str(seed), "status": "ok", "spec": spec, "result": result, "wall_s": 1.0}

    (row,) = summarize([rec(0, True, 300), rec(1, True, 500), rec(2, False, 9000)])
    assert row["median_cg_iters"] == 400 and row["median_steps"] == 10
    sgd = {"id": "s", "status": "ok", "spec": {"task": "adding", "T": 50, "seed": 0},
           "result": {"solved": True, "steps": 5, "error_rate": 0.0}, "wall_s": 1.0}
    assert summarize([sgd])[0]["median_cg_iters"] is None


def test_run_builds_smart_tanh_with_its_readout():
    from rnnlab.tasks.run import RunConfig, build_model

    _, model = build_model(RunConfig(task="temporal_order", cell="rnn", hidden_size=40,
                                     init="smart_tanh", seed=5))
    np.testing.assert_array_equal((model.rnn.params["weight_hh_l0"] != 0).sum(0), 15)
    assert not model.readout.params["bias"].any()
    assert 0.007 < model.readout.params["weight"].std() < 0.013  # N(0, 0.01²), not U(±1/√H)
