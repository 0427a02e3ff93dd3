"""Sweeps: grid expansion, results lines, resume after a kill, the summary, the same
table from local workers and from a local Ray cluster, and the CLI commands."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from typer.testing import CliRunner

from rnnlab.cli import app
from rnnlab.tasks.criteria import N_EVAL
from rnnlab.tasks.run import RunConfig
from rnnlab.tasks.summary import COLUMNS, summarize, to_csv, to_markdown, write_summary
from rnnlab.tasks.sweep import (
    InProcess,
    LocalPool,
    SweepConfig,
    append_result,
    execute,
    expand,
    pending,
    read_results,
    run_id,
)

# A run small enough for the test suite: real training, a few updates.
TINY = {"hidden_size": 8, "batch_size": 8, "max_steps": 20, "eval_every": 10, "quick_n": 50,
        "eval_n": 100, "lr": 0.01}


def fake_run(spec: dict) -> dict:
    """A deterministic stand-in for training: 'solves' even seeds at 10 T updates."""
    solved = spec["seed"] % 2 == 0
    return {"solved": solved, "steps": 10 * spec["T"] if solved else None,
            "error_rate": 0.0 if solved else 0.5}


# ---- the grid ------------------------------------------------------------------------

def test_expand_is_the_product_of_list_axes():
    grid = {"task": ["adding", "xor"], "T": [50, 100], "cell": "lstm", "seeds": 3,
            "lr": [0.1, 0.01], "task_options": {"variant": "arjovsky"}}
    specs = expand(grid)
    assert len(specs) == 2 * 2 * 3 * 2
    assert specs[0] == {"task": "adding", "T": 50, "seed": 0, "lr": 0.1, "cell": "lstm",
                        "task_options": {"variant": "arjovsky"}}
    assert len({run_id(s) for s in specs}) == len(specs)
    assert {s["seed"] for s in specs} == {0, 1, 2}
    assert expand({"task": "adding", "seed": [4, 7]}) == [
        {"task": "adding", "seed": 4}, {"task": "adding", "seed": 7}]


@pytest.mark.parametrize("grid, match", [
    ({"seeds": 2, "seed": [1]}, "either 'seeds'"),
    ({"seeds": 0}, "seeds: expected an integer >= 1"),
    ({"T": []}, "axis 'T' is an empty list"),
])
def test_expand_bad_grids(grid, match):
    with pytest.raises(ValueError, match=match):
        expand(grid)


def test_run_id_is_stable_and_order_free():
    a = {"task": "adding", "T": 10, "seed": 0}
    assert run_id(a) == run_id(dict(reversed(list(a.items()))))
    assert run_id(a) != run_id({**a, "seed": 1})


def test_config_file(tmp_path):
    f = tmp_path / "s.toml"
    f.write_text('[grid]\ntask = ["adding"]\nseeds = 2\n[sweep]\nworkers = 3\n')
    cfg = SweepConfig.load(f)
    assert cfg.workers == 3 and cfg.run == "tasks"
    f.write_text("[grid\n")
    with pytest.raises(ValueError, match="not valid TOML"):
        SweepConfig.load(f)
    f.write_text("[sweep]\nworkers = 1\n")
    with pytest.raises(ValueError, match="no \\[grid\\] table"):
        SweepConfig.load(f)
    f.write_text('[grid]\ntask = ["adding"]\n[sweep]\nresults = "../../x.jsonl"\n')
    with pytest.raises(ValueError, match="unknown keys \\['results'\\].*results go to --out"):
        SweepConfig.load(f)


def test_a_sweep_file_never_names_code_to_run(tmp_path, monkeypatch):
    """`run` names a registered runner; a module path is refused before anything is
    imported (a sweep file is data)."""
    (tmp_path / "evil.py").write_text("import pathlib\npathlib.Path('PWNED').write_text('x')\n"
                                      "def run(spec):\n    return {}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    for run in ("evil:run", "subprocess:run", "os:system"):
        f = tmp_path / "s.toml"
        f.write_text(f'[grid]\ntask = ["adding"]\n[sweep]\nrun = "{run}"\n')
        with pytest.raises(ValueError, match="not a registered runner"):
            SweepConfig.load(f)
        out = CliRunner().invoke(app, ["sweep", str(f), "--out", str(tmp_path / "o")])
        assert out.exit_code == 2 and "not a registered runner" in out.output
    assert not (tmp_path / "PWNED").exists() and "evil" not in sys.modules


# ---- results and resume ---------------------------------------------------------------

def test_resume_runs_only_what_is_missing(tmp_path):
    specs = expand({"task": ["adding", "xor"], "T": [10], "seeds": 2})
    results = tmp_path / "r.jsonl"
    calls = []

    def killed_after_first(spec):
        if calls:
            raise KeyboardInterrupt  # the sweep dies during its second run
        calls.append(spec)
        return fake_run(spec)

    with pytest.raises(KeyboardInterrupt):
        execute(specs, results, InProcess(killed_after_first))
    assert [r["spec"] for r in read_results(results)] == specs[:1]

    rerun = []
    ran = execute(specs, results, InProcess(lambda s: rerun.append(s) or fake_run(s)))
    assert ran == 3 and rerun == specs[1:]
    assert sorted(r["id"] for r in read_results(results)) == sorted(map(run_id, specs))
    assert execute(specs, results, InProcess(fake_run)) == 0  # all done: nothing runs


def test_errors_are_recorded_and_retried(tmp_path):
    specs = expand({"task": ["adding"], "T": [10], "seeds": 2})
    results = tmp_path / "r.jsonl"

    def flaky(spec):
        if spec["seed"] == 1:
            raise RuntimeError("boom")
        return fake_run(spec)

    execute(specs, results, InProcess(flaky))
    bad = [r for r in read_results(results) if r["status"] == "error"]
    assert len(bad) == 1 and "RuntimeError: boom" in bad[0]["result"]["error"]
    assert pending(specs, results) == specs[1:]


def test_torn_last_line_is_ignored(tmp_path):
    results = tmp_path / "r.jsonl"
    spec = {"task": "adding", "T": 10, "seed": 0}
    append_result(results, {"id": run_id(spec), "status": "ok", "spec": spec,
                            "result": fake_run(spec), "wall_s": 1.0})
    with open(results, "a") as f:
        f.write('{"id": "abc", "status": "o')  # killed during the write
    assert len(read_results(results)) == 1
    assert pending([spec, {**spec, "seed": 1}], results) == [{**spec, "seed": 1}]


def test_killed_sweep_process_resumes(tmp_path):
    """SIGKILL the real command once its first run is on disk; --resume runs the rest."""
    cfg = tmp_path / "s.toml"
    grid = {**TINY, "max_steps": 300, "eval_every": 100}
    cfg.write_text('[grid]\ntask = ["adding", "xor"]\nT = [10]\nseeds = 2\n'
                   + "".join(f"{k} = {v}\n" for k, v in grid.items())
                   + '[sweep]\nworkers = 1\nrun = "tasks"\n')
    out_dir = tmp_path / "out"
    cmd = [sys.executable, "-m", "rnnlab.cli", "sweep", str(cfg), "--out", str(out_dir)]
    results = out_dir / "results.jsonl"
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.time() + 120
    while not (results.is_file() and read_results(results)) and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    first = read_results(results)
    assert 1 <= len(first) < 4
    refused = subprocess.run(cmd, check=False, capture_output=True, text=True)
    assert refused.returncode == 2 and "--resume" in refused.stderr  # never overwritten
    out = subprocess.run([*cmd, "--resume"], capture_output=True, text=True, check=True).stdout
    assert f"{4 - len(first)} runs done now" in out
    ids = [r["id"] for r in read_results(results)]
    assert len(ids) == len(set(ids)) == 4


# ---- the summary ------------------------------------------------------------------------

def _records(specs, run_fn=fake_run):
    return [{"id": run_id(s), "status": "ok", "spec": s, "result": run_fn(s), "wall_s": 2.0}
            for s in specs]


def test_summary_rates_medians_and_files(tmp_path):
    specs = expand({"task": ["adding"], "T": [10, 20], "cell": ["lstm", "rnn"], "seeds": 4})
    rows = summarize(_records(specs))
    assert len(rows) == 4
    row = next(r for r in rows if r["T"] == 20 and r["method"] == "cell=rnn")
    assert row["runs"] == 4 and row["solved"] == 2 and row["success_rate"] == 0.5
    assert row["median_steps"] == 200 and row["median_time_s"] == 2.0
    assert row["median_error_rate"] == 0.25
    md = to_markdown(rows)
    assert md.splitlines()[0] == "| " + " | ".join(COLUMNS) + " |" and len(md.splitlines()) == 6
    assert to_csv(rows).splitlines()[0] == ",".join(COLUMNS)
    paths = write_summary(_records(specs), tmp_path / "sum")
    assert paths["md"].read_text() == md
    assert paths["png"].stat().st_size > 1000


def test_summary_none_solved_has_no_median_steps():
    specs = expand({"task": ["adding"], "T": [10], "seed": [1, 3]})
    (row,) = summarize(_records(specs))
    assert row["success_rate"] == 0 and row["median_steps"] is None and row["method"] == "default"
    assert "—" in to_markdown([row])


# ---- the same table locally and on Ray ------------------------------------------------------

SMALL_GRID = {"task": ["adding", "temporal_order"], "T": [10], "cell": "lstm", "seeds": 2, **TINY}


def _table(results):
    rows = summarize(read_results(results))
    return [{k: v for k, v in r.items() if k != "median_time_s"} for r in rows]


@pytest.fixture(scope="module")
def local_table(tmp_path_factory):
    results = tmp_path_factory.mktemp("local") / "r.jsonl"
    from rnnlab.tasks.run import run_spec

    assert execute(expand(SMALL_GRID), results, LocalPool(run_spec, 2)) == 4
    records = read_results(results)
    assert all(r["status"] == "ok" and r["result"]["steps_done"] == 20 for r in records)
    return _table(results)


def test_local_pool_equals_in_process(local_table, tmp_path):
    from rnnlab.tasks.run import run_spec

    results = tmp_path / "r.jsonl"
    execute(expand(SMALL_GRID), results, InProcess(run_spec))
    assert _table(results) == local_table
    assert all(r["runs"] == 2 for r in local_table)


def test_ray_local_cluster_gives_the_same_table(local_table, tmp_path):
    import ray  # the test extra installs it

    from rnnlab.tasks.run import run_spec
    from rnnlab.tasks.sweep import RayPool

    results = tmp_path / "r.jsonl"
    try:
        pool = RayPool(run_spec, "local", num_cpus=2)
        assert execute(expand(SMALL_GRID), results, pool) == 4
    finally:
        ray.shutdown()
    assert all(r["status"] == "ok" for r in read_results(results))
    assert _table(results) == local_table


# ---- the commands ------------------------------------------------------------------------

def test_tasks_list_and_run_commands(tmp_path):
    runner = CliRunner()
    out = runner.invoke(app, ["tasks", "list"], terminal_width=200)
    assert out.exit_code == 0 and "temporal_order3" in out.output
    bad = runner.invoke(app, ["tasks", "list", "--T", "-5"])
    assert bad.exit_code == 2 and "--T" in bad.output and "Traceback" not in bad.output
    args = ["tasks", "run", "--task", "adding", "--T", "10", "--seeds", "2", "--hidden-size", "8",
            "--max-steps", "20", "--eval-every", "10", "--out", str(tmp_path / "r")]
    out = runner.invoke(app, args)
    assert out.exit_code == 0, out.output
    assert "seed 0:" in out.output and "seed 1:" in out.output and "error rate" in out.output
    lines = read_results(tmp_path / "r" / "results.jsonl")
    assert [r["spec"]["seed"] for r in lines] == [0, 1]
    assert all(r["result"]["steps_done"] <= 20 for r in lines)
    for r in lines:  # progress: every eval_every updates (every update with hf)
        progress = (tmp_path / "r" / f"updates-seed{r['spec']['seed']}.jsonl").read_text()
        steps = [json.loads(line)["step"] for line in progress.splitlines()]
        assert steps == list(range(10, r["result"]["steps_done"] + 1, 10))
        assert all("loss" in json.loads(line) for line in progress.splitlines())
    again = runner.invoke(app, [*args, "--resume"])  # both seeds done: nothing runs
    assert again.exit_code == 0 and "seed" not in again.output
    bad = runner.invoke(app, ["tasks", "run", "--cell", "transformer"])
    assert bad.exit_code == 2 and "cell: expected one of" in bad.output
    nan = runner.invoke(app, ["tasks", "run", "--lr", "nan", "--out", str(tmp_path / "n")])
    assert nan.exit_code != 0 and "Traceback" not in nan.output


def test_sweep_command_writes_summary_and_fails_on_failed_runs(tmp_path):
    cfg = tmp_path / "s.toml"
    grid = "".join(f"{k} = {v}\n" for k, v in TINY.items())
    cfg.write_text(f'[grid]\ntask = ["adding"]\nT = [10]\nseeds = 2\n{grid}'
                   '[sweep]\nworkers = 1\nrun = "tasks"\n')
    out = CliRunner().invoke(app, ["sweep", str(cfg), "--out", str(tmp_path / "o")])
    assert out.exit_code == 0, out.output
    assert "2 runs done now" in out.output and "| adding | 10 |" in out.output
    assert (tmp_path / "o" / "summary.md").is_file() and (tmp_path / "o" / "summary.csv").is_file()
    line = json.loads((tmp_path / "o" / "results.jsonl").read_text().splitlines()[0])
    assert line["status"] == "ok"
    grid = "".join(f"{k} = {v}\n" for k, v in {**TINY, "lr": 1e9}.items())
    cfg.write_text(f'[grid]\ntask = ["adding"]\nT = [10]\nseeds = 1\n{grid}[sweep]\nworkers = 1\n')
    out = CliRunner().invoke(app, ["sweep", str(cfg), "--out", str(tmp_path / "bad")])
    assert out.exit_code == 1 and "FAILED" in out.output and "diverged" in out.output


def test_sweep_command_with_a_grid_that_leaves_eval_n_to_its_default(tmp_path):
    cfg = tmp_path / "s.toml"
    grid = "".join(f"{k} = {v}\n" for k, v in TINY.items() if k != "eval_n")
    cfg.write_text(f'[grid]\ntask = ["adding"]\nT = [10]\nseeds = 1\n{grid}[sweep]\nworkers = 1\n')
    out = CliRunner().invoke(app, ["sweep", str(cfg), "--out", str(tmp_path / "o")])
    assert out.exit_code == 0, out.output
    assert f"on {N_EVAL} sequences" in out.output


def test_run_config_rejects_unknown_and_bad_options():
    with pytest.raises(ValueError, match="unknown \\['hiden'\\]"):
        RunConfig.from_dict({"hiden": 3})
    with pytest.raises(ValueError, match="remedy: expected one of"):
        RunConfig(remedy="prayer")
    with pytest.raises(ValueError, match="variant: expected one of"):
        RunConfig(task_options={"variant": "x"})
    with pytest.raises(ValueError, match="init: 'chrono' sets the gate biases"):
        RunConfig(cell="rnn", init="chrono")
    with pytest.raises(ValueError, match="forget_bias: init 'chrono'"):
        RunConfig(init="chrono", forget_bias=1.0)


def test_run_initialisations():
    from rnnlab.init import spectral_radius
    from rnnlab.tasks.run import build_model

    for chrono_T, longest in ((None, 40), (500, 500)):  # default: the task's T
        _, model = build_model(RunConfig(task="adding", T=40, hidden_size=30, init="chrono",
                                         chrono_T=chrono_T))
        memory = np.exp(model.rnn.params["bias_ih_l0"][30:60])  # u of every unit
        assert memory.min() >= 1 and memory.max() <= longest - 1
        assert memory.max() > 0.6 * longest  # spread up to the longest dependency
    _, model = build_model(RunConfig(task="temporal_order", cell="rnn", hidden_size=12,
                                     init="spectral", spectral_radius=0.9))
    assert spectral_radius(model.rnn.params["weight_hh_l0"]) == pytest.approx(0.9)
    _, default = build_model(RunConfig(task="temporal_order", hidden_size=12, seed=3))
    _, biased = build_model(RunConfig(task="temporal_order", hidden_size=12, seed=3, forget_bias=2.0))
    assert np.all(biased.rnn.params["bias_ih_l0"][12:24] == 2.0)
    np.testing.assert_array_equal(default.rnn.params["weight_hh_l0"],
                                  biased.rnn.params["weight_hh_l0"])
