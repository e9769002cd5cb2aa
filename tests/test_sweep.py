"""Sweeps: grid × seeds expansion, the table, resume (and redoing outdated runs), failures of runs and of worker
processes, atomic writes, validation, the [sweep] table, the written spec, the command line with Ctrl-C, and the
Dask executor on real clusters giving the local executor's numbers."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pandas as pd
import pytest

import sim
import sim.cli_progress
import sim.studies.sweep
from sim.cli import main
from sim.errors import ScenarioError
from sim.outputs import versions
from sim.studies.sweep import flatten, plan_sweep, run_pool, run_sweep

# one run takes a few hundredths of a second once compiled
SMALL = {"population.n_positions": 2000, "scenario.duration_s": 120.0, "shock.start_s": 10.0, "shock.duration_s": 20.0}
SMALL["prices.model"] = "imposed"  # the sweep machinery, on the runs its tables were written for
SMALL_ARGS = [arg for key, value in SMALL.items() for arg in ("--set", f"{key}={value}")]
GRID = {"population.long_share": [0.5, 0.7], "market.venue": ["binance", "okx"]}
GRID_ARGS = ["--grid", "population.long_share=[0.5,0.7]", "--grid", "market.venue=[binance,okx]", "--seeds", "2"]
FIXED = ["run_id", "seed", "population.long_share", "market.venue", "status", "error", "runtime_s"]
POSITIONS = "side,size,entry_price,leverage,mode\nlong,1,121000,10,isolated\nshort,1,121000,10,isolated\n"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def local_sweep(tmp_path_factory, compiled):
    """The 2 × 2 grid × 2 seeds sweep on the local process pool, with the progress it reported."""
    out = tmp_path_factory.mktemp("sweep") / "local"
    calls = []
    table = run_sweep(
        None,
        GRID,
        seeds=2,
        out=out,
        overrides=SMALL,
        workers=2,
        progress=lambda done, total: calls.append((done, total)),
    )
    return table, out, calls


def _files(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def _metrics(table):
    return table.drop(columns=["runtime_s"])


def _records(folder):
    return [json.loads(p.read_text()) for p in sorted((folder / "runs").glob("*.json"))]


def _copy(out, tmp_path):
    shutil.copytree(out, tmp_path / "copy")
    return tmp_path / "copy"


def test_every_combination_times_every_seed_in_grid_order(local_sweep):
    table, out, calls = local_sweep
    assert len(table) == 8
    assert list(table.columns[:7]) == FIXED
    rows = list(zip(table["population.long_share"], table["market.venue"], table["seed"]))
    assert rows == [(ls, v, s) for ls in (0.5, 0.7) for v in ("binance", "okx") for s in (0, 1)]
    assert set(table["status"]) == {"ok"} and table["error"].isna().all()
    assert table["run_id"].is_unique and all(re.fullmatch(r"r[0-9a-f]{16}", rid) for rid in table["run_id"])
    # nested summary sections are dotted columns; integers stay integers, money is float
    for col in ("adl.notional_usd", "liquidated_notional_usd.total", "insurance_fund_usd.min", "behaviour.topups"):
        assert col in table.columns
    assert pd.api.types.is_integer_dtype(table["liquidations.full"])
    assert pd.api.types.is_float_dtype(table["adl.notional_usd"])
    assert list(table.columns).count("runtime_s") == 1 and (table["runtime_s"] > 0).all()
    # the files: the marker, one record per run, the spec, the table in both formats, no temporary leftovers
    tops = ["results.csv", "results.parquet", "sweep.toml"]
    assert _files(out) == sorted([".liqsim.json", *tops, "runs", *(f"runs/{rid}.json" for rid in table["run_id"])])
    marker = json.loads((out / ".liqsim.json").read_text())  # lists what the sweep wrote into the folder itself
    assert marker["kind"] == "sweep" and sorted(marker["files"]) == tops and "pending" not in marker
    pd.testing.assert_frame_equal(pd.read_parquet(out / "results.parquet"), table)
    csv = pd.read_csv(out / "results.csv")
    assert list(csv.columns) == list(table.columns) and csv["run_id"].tolist() == table["run_id"].tolist()
    assert csv["adl.notional_usd"].tolist() == table["adl.notional_usd"].tolist()  # floats round-trip exactly
    assert calls == [(k, 8) for k in range(9)]
    assert (table.attrs["ran"], table.attrs["skipped"], table.attrs["failed"], table.attrs["redone"]) == (8, 0, 0, 0)
    # a record says where and with what it ran: a pool worker process, not this one
    for rec in _records(out):
        assert rec["versions"] == versions() and re.fullmatch(r"[0-9a-f]{16}", rec["settings"])
        assert re.fullmatch(r"pid \d+", rec["worker"]) and rec["worker"] != f"pid {os.getpid()}"


def test_metrics_are_those_of_sim_run_on_the_same_overrides(local_sweep):
    table, _, _ = local_sweep
    for row in table.to_dict("records"):
        scn = sim.load_scenario(
            None,
            overrides={
                **SMALL,
                "population.long_share": row["population.long_share"],
                "market.venue": row["market.venue"],
                "scenario.seed": row["seed"],
            },
        )
        res = sim.run(scn)
        assert row["adl.notional_usd"] == res.summary["adl"]["notional_usd"]
        assert row["liquidations.full"] == res.summary["liquidations"]["full"]
        for key, value in flatten(res.summary).items():
            if isinstance(row[key], str) and not isinstance(value, str) and value is not None:
                value = json.dumps(value, sort_keys=True)  # a column mixing numbers and text (an overshoot marker)
            assert pd.isna(row[key]) if value is None else row[key] == value, key
    # the seed is applied: the two seeds of a combination differ
    assert table["liquidated_notional_usd.total"][0] != table["liquidated_notional_usd.total"][1]


def test_resume_runs_only_what_is_missing_or_unreadable_and_clears_leftovers(local_sweep, tmp_path):
    table, out, _ = local_sweep
    copy = _copy(out, tmp_path)
    ids = list(table["run_id"])
    (copy / "runs" / f"{ids[2]}.json").unlink()
    (copy / "runs" / f"{ids[5]}.json").write_text('{"run_id": "')  # a torn file counts as not done
    # temporary files of writes an earlier crash interrupted
    (copy / ".results.csv.tmp-99-0123abcd").write_text("run_id,se")
    (copy / "runs" / f".{ids[0]}.json.tmp-99-0123abcd").write_text('{"run')
    before = {p.name: p.stat().st_mtime_ns for p in (copy / "runs").iterdir()}
    again = run_sweep(None, GRID, seeds=2, out=copy, overrides=SMALL, workers=1)
    assert (again.attrs["ran"], again.attrs["skipped"], again.attrs["failed"]) == (2, 6, 0)
    after = {p.name: p.stat().st_mtime_ns for p in (copy / "runs").iterdir()}
    assert {name for name in after if before.get(name) != after[name]} == {f"{ids[2]}.json", f"{ids[5]}.json"}
    pd.testing.assert_frame_equal(_metrics(again), _metrics(table))
    assert not [f for f in _files(copy) if ".tmp-" in f]


def test_runs_done_with_other_settings_or_versions_are_redone(local_sweep, tmp_path, capsys):
    table, out, _ = local_sweep
    copy = _copy(out, tmp_path)
    ids = list(table["run_id"])
    for rid, key, value in ((ids[0], "versions", {**versions(), "numba": "0.1.0"}), (ids[3], "settings", "0" * 16)):
        path = copy / "runs" / f"{rid}.json"
        path.write_text(json.dumps({**json.loads(path.read_text()), key: value}))
    assert main(["sweep", *GRID_ARGS, *SMALL_ARGS, "--executor", "serial", "--out", str(copy)]) == 0
    assert (
        "2 ran now (0 failed), 6 skipped as already done; 2 runs redone: settings or versions changed"
        in capsys.readouterr().out
    )
    assert json.loads((copy / "runs" / f"{ids[0]}.json").read_text())["versions"] == versions()
    # another base scenario changes every run's settings: all are redone, none mixed in from the old one
    other = {**SMALL, "population.n_positions": 2500}
    again = run_sweep(None, GRID, seeds=2, out=copy, overrides=other, executor="serial")
    assert (again.attrs["ran"], again.attrs["redone"]) == (8, 8)
    assert (again["liquidated_notional_usd.total"] != table["liquidated_notional_usd.total"]).all()
    # a label is not a setting: renaming the scenario redoes nothing
    named = run_sweep(None, GRID, seeds=2, out=copy, overrides={**other, "scenario.name": "renamed"}, executor="serial")
    assert named.attrs["ran"] == 0 and named.attrs["skipped"] == 8


def test_a_failing_run_is_recorded_the_others_complete_and_resume_retries_it(tmp_path, monkeypatch, capsys, compiled):
    import sim.engine

    real = sim.engine.run

    def flaky(scn, progress=None):
        if scn.scenario.seed == 1:
            raise RuntimeError("engine blew up")
        return real(scn, progress=progress)

    monkeypatch.setattr(sim.engine, "run", flaky)
    grid = {"population.long_share": [0.5, 0.7]}
    table = run_sweep(None, grid, seeds=2, out=tmp_path / "s", overrides=SMALL, executor="serial")
    assert list(table["status"]) == ["ok", "failed", "ok", "failed"]
    assert list(table["error"][[1, 3]]) == ["RuntimeError: engine blew up"] * 2
    assert table["adl.notional_usd"][[1, 3]].isna().all() and table["adl.notional_usd"][[0, 2]].notna().all()
    assert table.attrs["failed"] == 2
    record = json.loads((tmp_path / "s" / "runs" / f"{table['run_id'][1]}.json").read_text())
    assert record["status"] == "failed" and record["error"] == "RuntimeError: engine blew up"
    # the command line names the failed runs and ends with status 1, the table written
    assert (
        main(
            [
                "sweep",
                "--grid",
                "population.long_share=[0.5]",
                "--seeds",
                "2",
                *SMALL_ARGS,
                "--executor",
                "serial",
                "--out",
                str(tmp_path / "cli"),
            ]
        )
        == 1
    )
    captured = capsys.readouterr()
    assert "(seed 1) failed: RuntimeError: engine blew up" in captured.err and "1 failed" in captured.out
    assert (tmp_path / "cli" / "results.parquet").exists()
    monkeypatch.setattr(sim.engine, "run", real)
    again = run_sweep(None, grid, seeds=2, out=tmp_path / "s", overrides=SMALL, executor="serial")
    assert (again.attrs["ran"], again.attrs["skipped"]) == (2, 2) and set(again["status"]) == {"ok"}


def _ok(x, shared=None):
    return {"status": "ok", "error": None, "runtime_s": 0.0, "metrics": {"x": x, "shared": shared}}


def _wait_for(path, timeout=60.0):
    """Wait until the file ``path`` exists (the pool tests order events by files, never by sleeping)."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} never appeared")
        time.sleep(0.01)


def _die_beside_0(folder, x):
    """A pool task: 1's worker process dies (killed, out of memory) as soon as 0 is running beside it; 0 blocks
    the first time (until the broken pool kills its worker) and returns when run again; the others return."""
    started = Path(folder) / "0-started"
    if x == 0 and not started.exists():
        started.touch()
        time.sleep(120)  # never reached the end: the pool terminates its workers once one has died
    if x == 1:
        _wait_for(started)
        os._exit(3)
    return _ok(x, folder)


def _die_once_0_is_recorded(marker, x):
    """A pool task: returns at once, except on 1, whose worker process dies once run 0's record is being written
    (``marker`` exists)."""
    if x == 1:
        _wait_for(Path(marker))
        os._exit(3)
    return _ok(x)


def _died(records, key):
    return records[key]["status"] == "failed" and "died while running it alone" in records[key]["error"]


def test_a_dead_worker_process_fails_its_run_only_not_those_beside_it(tmp_path):
    records = {}
    run_pool([(k, (k,)) for k in range(10)], 2, records.__setitem__, task=_die_beside_0, shared=str(tmp_path))
    assert sorted(records) == list(range(10)) and _died(records, 1)
    # 0 was running when 1's worker died: it ran again, alone, and its record is the run's own
    assert [records[k] for k in range(10) if k != 1] == [_ok(k, str(tmp_path)) for k in range(10) if k != 1]


def test_a_worker_dying_while_a_record_is_written_is_handled(tmp_path, monkeypatch):
    # While run 0's record is written (on_done), the worker running 1 dies, and on_done returns only once the pool
    # has seen it (1's future failed): the next submit is then certain to find the pool broken.
    module = sys.modules[run_pool.__module__]
    pools, refused = [], []

    class Watched(module.ProcessPoolExecutor):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.futures = []
            pools.append(self)

        def submit(self, *args, **kwargs):
            try:
                fut = super().submit(*args, **kwargs)
            except BrokenProcessPool:
                refused.append(len(pools))
                raise
            self.futures.append(fut)
            return fut

    monkeypatch.setattr(module, "ProcessPoolExecutor", Watched)
    marker = tmp_path / "recording-0"
    records = {}

    def slow_on_done(key, record):
        if key == 0:
            marker.touch()  # the worker running 1 (submitted second) dies now
            assert wait(pools[0].futures[1:2], timeout=60).done, "the worker running 1 did not die"
        records[key] = record

    run_pool([(k, (k,)) for k in range(4)], 2, slow_on_done, task=_die_once_0_is_recorded, shared=str(marker))
    assert refused == [1]  # the first pool refused the next submit: the case this test is about happened
    assert sorted(records) == [0, 1, 2, 3] and _died(records, 1)
    assert [records[k] for k in (0, 2, 3)] == [_ok(0), _ok(2), _ok(3)]


def _cannot_start():
    raise RuntimeError("cannot start")


class _NoStart:
    """Data a worker process cannot unpickle, as if it could not import the package."""

    def __reduce__(self):
        return _cannot_start, ()


def test_workers_that_cannot_start_fail_the_runs_with_that_message():
    records = {}
    run_pool([(k, (k,)) for k in range(3)], 2, records.__setitem__, task=_die_once_0_is_recorded, shared=_NoStart())
    assert sorted(records) == [0, 1, 2]
    assert all("worker processes cannot start" in r["error"] for r in records.values())


def test_the_tables_are_written_together_or_not_at_all(local_sweep, tmp_path, monkeypatch, capsys):
    _, out, _ = local_sweep
    copy = _copy(out, tmp_path)

    def torn(self, path, **kw):
        open(path, "w").write("run_id,se")
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(pd.DataFrame, "to_csv", torn)
    assert main(["sweep", *GRID_ARGS, *SMALL_ARGS, "--out", str(copy)]) == 2
    assert "cannot write the results: No space left on device" in capsys.readouterr().err
    # the earlier tables are gone (a rerun outdates them) and the new parquet was not put in place without its
    # csv: a reader never finds tables of two different sweeps side by side
    assert not (copy / "results.csv").exists() and not (copy / "results.parquet").exists()
    assert not [f for f in _files(copy) if ".tmp-" in f] and len(_records(copy)) == 8


def test_bad_grid_values_are_all_reported_before_anything_runs(tmp_path, capsys):
    out = tmp_path / "never"
    code = main(
        [
            "sweep",
            "--grid",
            "population.long_share=[0.5,1.5]",
            "--grid",
            "market.venue=[binance,kraken]",
            "--grid",
            "population.leverage_mix=[{2=1},{500=1}]",
            "--grid",
            "population.leverage_mx=[3]",
            "--grid",
            "nokey",
            "--seeds",
            "2",
            "--out",
            str(out),
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    for needle in (
        "--grid population.long_share = 1.5: must be a number in [0, 1]",
        "--grid market.venue = 'kraken': must be one of binance, bybit, okx, hyperliquid",
        "--grid population.leverage_mix.500: leverage must be in [1, 150]",
        "--grid population.leverage_mx: unknown key; allowed:",
        "--grid 'nokey': expected dotted.key=",
    ):
        assert needle in err
    assert "Traceback" not in err and not out.exists()
    with pytest.raises(ScenarioError) as exc:  # the same from Python
        run_sweep(None, {"population.long_share": [0.5, 1.5]}, seeds=2, out=out)
    assert exc.value.problems == ["--grid population.long_share = 1.5: must be a number in [0, 1]"]
    assert not out.exists()


def test_every_command_line_problem_is_reported_at_once(tmp_path, capsys):
    out = tmp_path / "never"
    flags = [
        "--grid",
        "population.long_share=[0.5,0.6",
        "--grid",
        "market.venue=[okx]",
        "--executor",
        "spark",
        "--scheduler",
        "tcp://127.0.0.1:9",
        "--workers",
        "0",
        "--seeds",
        "two",
        "--set",
        "population.n_positions=-1",
        "--out",
        str(out),
    ]
    needles = [
        "--grid 'population.long_share=[0.5,0.6': unbalanced quotes or brackets",
        "--executor = 'spark': must be one of",
        "--scheduler = 'tcp://127.0.0.1:9': needs --executor dask",
        "--workers = '0': must be a whole",
        "--seeds = 'two': must be a whole number ≥ 1",
        "override: population.n_positions = -1",
    ]
    for extra, more in (([], []), (["--set", "nokey"], ["--set 'nokey': expected dotted.key=value"])):
        assert main(["sweep", *flags, *extra]) == 2
        err = capsys.readouterr().err
        for needle in needles + more:
            assert needle in err, needle
        assert "Traceback" not in err and not out.exists()


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        ({"grid": {"scenario.seed": [1, 2]}}, "--grid scenario.seed: cannot be a grid key"),
        ({"grid": {"population.long_share": []}}, "--grid population.long_share = []: needs at least one value"),
        ({"grid": {"population.long_share": 0.5}}, "--grid population.long_share = 0.5: must be a list of values"),
        ({"grid": {"population.long_share": [0.5, 0.5]}}, "--grid population.long_share: 0.5 is listed twice"),
        (
            {"grid": {"population.n_positions": ["1e3", "1000"]}},
            "--grid population.n_positions: 1e3 and 1000 are the same value (1000); list each value once",
        ),
        (
            {"grid": {"scenario.duration_s": [30.0], "shock.start_s": [10.0, 40.0]}},
            "--grid shock.start_s = 40.0: must be a number in [0, 30]",
        ),
        ({"seeds": 0}, "--seeds = 0: must be a whole number ≥ 1"),
        ({"seeds": "2.5"}, "--seeds = '2.5': must be a whole number ≥ 1"),
        (
            {"seeds": "1e9"},
            "--seeds: too many runs: 1 combination(s) × 1,000,000,000 seed(s) = 1,000,000,000; at most "
            "1,000,000 are allowed",
        ),
        ({"executor": "spark"}, "--executor = 'spark': must be one of local, dask, serial"),
        ({"scheduler": "tcp://127.0.0.1:8786"}, "--scheduler = 'tcp://127.0.0.1:8786': needs --executor dask"),
        ({"workers": 0}, "--workers = 0: must be a whole number ≥ 1"),
        ({"workers": "2", "executor": "serial"}, "--workers = 2: --executor serial runs in this process; --workers is"),
        (
            {"workers": 2, "executor": "dask", "scheduler": "tcp://127.0.0.1:8786"},
            "--workers = 2: the cluster at --scheduler has its own workers",
        ),
    ],
)
def test_one_message_per_bad_setting(tmp_path, kwargs, needle):
    with pytest.raises(ScenarioError) as exc:
        run_sweep(None, **{"grid": {}, **kwargs}, out=tmp_path / "x")
    assert any(p.startswith(needle) for p in exc.value.problems), exc.value.problems
    assert not (tmp_path / "x").exists()


def test_grid_grammar_on_the_command_line(tmp_path, capsys, compiled):
    out = tmp_path / "g"
    # items split at top-level commas, each read like a --set value: TOML, else plain text
    assert (
        main(
            [
                "sweep",
                "--grid",
                "population.leverage_mix=[{2 = 0.5, 10 = 0.5}, {5 = 1}]",
                "--grid",
                'scenario.description=["a, b", c]',
                "--grid",
                "market.venue=okx",
                *SMALL_ARGS,
                "--executor",
                "serial",
                "--quiet",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    table = pd.read_csv(out / "results.csv")
    assert [json.loads(t) for t in table["population.leverage_mix"]] == [{"2": 0.5, "10": 0.5}] * 2 + [{"5": 1.0}] * 2
    assert list(table["scenario.description"]) == ["a, b", "c", "a, b", "c"]
    assert set(table["market.venue"]) == {"okx"} and set(table["status"]) == {"ok"}
    assert (
        main(
            [
                "sweep",
                "--grid",
                "a.b=[1,,2]",
                "--grid",
                "a.c=[1,[2]",
                "--grid",
                "a.d=[]",
                "--grid",
                "market.venue=[okx]",
                "--grid",
                "market.venue=[bybit]",
                "--grid",
                "scenario.description=[a,b",
                "--grid",
                "a.e=[1]2",
                "--out",
                str(tmp_path / "never"),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    for needle in (
        "--grid 'a.b=[1,,2]': an empty value between commas",
        "--grid 'a.c=[1,[2]': unbalanced",
        "--grid 'a.d=[]': needs at least one value",
        "--grid market.venue: given twice",
        "--grid 'scenario.description=[a,b': unbalanced",  # not the text "[a,b" for a string key
        "--grid 'a.e=[1]2': text after the closing ']': '2'",
    ):
        assert needle in err
    assert not (tmp_path / "never").exists()
    # from Python, a string value is read the same way
    plan = plan_sweep(None, {"population.leverage_mix": ["{2 = 0.5, 10 = 0.5}"], "population.n_positions": ["2e3"]})
    assert plan.grid == {"population.leverage_mix": [{"2": 0.5, "10": 0.5}], "population.n_positions": [2000]}


def test_run_ids_are_stable_and_do_not_depend_on_spelling(monkeypatch):
    a = plan_sweep(None, {"population.long_share": [1, 0.5]}, seeds=2, overrides={"scenario.seed": 7})
    b = plan_sweep(None, {"population.long_share": ["1.0", 0.5]}, seeds=2, overrides={"scenario.seed": 7})
    assert [r.run_id for r in a.runs] == [r.run_id for r in b.runs]
    assert [r.seed for r in a.runs] == [7, 8, 7, 8]
    assert len({r.run_id for r in a.runs}) == 4
    # pinned: a change of the id scheme orphans every sweep folder's runs, so it must be deliberate
    assert plan_sweep(None, {"population.long_share": [0.5]}).runs[0].run_id == "r6a51987febaaacbb"
    # two runs never share an id (and so a record file), however unlikely a collision of 64 bits is
    monkeypatch.setattr(sim.studies.sweep, "run_id", lambda params, seed: "r" + "0" * 16)
    with pytest.raises(RuntimeError, match="same run id"):
        plan_sweep(None, seeds=2)


def test_sweep_table_in_a_file_and_the_command_line(tmp_path, capsys, compiled):
    path = tmp_path / "swp.toml"
    path.write_text(
        "[scenario]\nduration_s = 120\n[population]\nn_positions = 2000\n[shock]\nstart_s = 10\n"
        "duration_s = 20\n\n[sweep]\nseeds = 2\n\n[sweep.grid]\npopulation.long_share = [0.5, 0.6]\n"
        '"market.venue" = ["okx"]\n'
    )
    assert sim.load_scenario(path).population.n_positions == 2000  # `liqsim run` runs the base scenario
    assert main(["validate", str(path)]) == 0
    assert "[sweep]: 4 runs" in capsys.readouterr().out
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "2"]) == 0
    assert "4 ran now (0 failed), 0 skipped" in capsys.readouterr().out
    table = pd.read_parquet(out / "results.parquet")
    assert list(zip(table["population.long_share"], table["seed"])) == [(0.5, 0), (0.5, 1), (0.6, 0), (0.6, 1)]
    assert set(table["market.venue"]) == {"okx"}
    # --grid replaces the file's values of its key, --seeds its seeds
    plan = plan_sweep(path, {"market.venue": ["binance", "bybit"]}, seeds=3)
    assert plan.grid == {"population.long_share": [0.5, 0.6], "market.venue": ["binance", "bybit"]}
    assert plan.seeds == (0, 1, 2) and len(plan.runs) == 12
    # a bad [sweep] table is reported with the file and key, by validate and by sweep
    bad = tmp_path / "bad.toml"
    bad.write_text("[sweep]\nseeds = 0\nshuffle = true\n[sweep.grid]\npopulation.long_share = 0.5\n")
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    for needle in (
        f"{bad}: sweep.seeds = 0: must be an integer ≥ 1",
        f"{bad}: sweep.shuffle: unknown key",
        f"{bad}: sweep.grid.population.long_share = 0.5: must be an array of values",
    ):
        assert needle in err


def test_paths_in_a_sweep_table_are_read_like_the_files_own(tmp_path, monkeypatch):
    home, folder = tmp_path / "home", tmp_path / "scn"
    home.mkdir()
    folder.mkdir()
    (folder / "p.csv").write_text(POSITIONS)
    (home / "q.csv").write_text(POSITIONS)
    (folder / "s.toml").write_text('[sweep.grid]\n"population.file" = ["./sub/../p.csv", "~/q.csv"]\n')
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)  # relative to the file's folder, not to the current one
    plan = plan_sweep(folder / "s.toml")
    assert plan.grid == {"population.file": [str(folder / "p.csv"), str(home / "q.csv")]}
    # a --grid path, typed on the command line, is relative to the current folder (as a --set path is)
    assert plan_sweep(folder / "s.toml", {"population.file": ["scn/p.csv"]}).grid["population.file"] == [
        str(folder / "p.csv")
    ]


def test_the_written_spec_plans_the_same_runs(tmp_path, monkeypatch, capsys, compiled):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "scn").mkdir()
    (tmp_path / "p.csv").write_text(POSITIONS)
    (tmp_path / "scn" / "q.csv").write_text(POSITIONS)
    (tmp_path / "scn" / "s.toml").write_text(
        '[scenario]\nduration_s = 60\n[population]\nfile = "q.csv"\n[sweep.grid]\n"market.venue" = ["binance", "okx"]\n'
    )
    short = ["--set", "scenario.duration_s=60", "--executor", "serial"]
    # a grid key that clashes with defaults a resolved scenario would pin; a file with a relative data file and
    # a venue grid (each venue takes its own default rule pack)
    for args, out in (([*short, "--grid", "population.file=[p.csv]"], "o1"), (["scn/s.toml", *short], "o2")):
        assert main(["sweep", *args, "--quiet", "--out", out]) == 0
        ids = list(pd.read_csv(f"{out}/results.csv")["run_id"])
        assert [r.run_id for r in plan_sweep(Path(out) / "sweep.toml").runs] == ids
        monkeypatch.chdir(tmp_path / "scn")  # the written spec does not depend on the current folder
        assert main(["sweep", f"../{out}/sweep.toml", "--executor", "serial", "--out", f"../{out}"]) == 0
        assert f"0 ran now (0 failed), {len(ids)} skipped as already done" in capsys.readouterr().out
        monkeypatch.chdir(tmp_path)
    # a data file's contents are part of a run's settings: changed, its runs are redone
    (tmp_path / "p.csv").write_text(POSITIONS.replace(",1,", ",2,"))
    assert main(["sweep", "o1/sweep.toml", "--executor", "serial", "--out", "o1"]) == 0
    assert "1 ran now (0 failed), 0 skipped as already done; 1 runs redone" in capsys.readouterr().out


def test_output_folders_that_are_not_a_sweeps_are_refused_before_anything(local_sweep, tmp_path, monkeypatch, capsys):
    """A sweep writes only into an empty folder or one provably a sweep's: its marker of kind sweep, every file the
    marker lists as it is, runs/ a folder of run records; everything else is refused before anything compiles or
    runs, saying what was found, and left as it was."""
    _, out, _ = local_sweep

    def never():
        raise AssertionError("compiled before the folder was checked")

    monkeypatch.setattr(sim.studies.sweep, "_compile_once", never)
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "mine.txt").write_text("x")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "runs").write_text("x")
    marked = {}
    for name, spoil in (
        ("added", lambda d: (d / "mine.txt").write_text("x")),
        ("runs_a_file", lambda d: (shutil.rmtree(d / "runs"), (d / "runs").write_text("x"))),
        ("runs_notes", lambda d: (d / "runs" / "notes.txt").write_text("x")),
        ("edited", lambda d: (d / "results.csv").write_text((d / "results.csv").read_text().replace("ok", "OK"))),
        ("unmarked", lambda d: (d / ".liqsim.json").unlink()),  # as an older liqsim left it
        ("a_run", lambda d: (d / ".liqsim.json").write_text('{"kind": "run", "files": {}}')),
    ):
        marked[name] = shutil.copytree(out, tmp_path / name)
        spoil(marked[name])
    before = _files(tmp_path)
    for folder, needle in (
        ("a", "holds files liqsim did not write (mine.txt) and no .liqsim.json marker"),
        ("b", "holds files liqsim did not write (runs) and no .liqsim.json marker"),
        ("added", "output folder: holds files liqsim did not write (mine.txt); liqsim never deletes"),
        ("runs_a_file", "holds files changed since liqsim wrote them (runs (not a folder, unlike a sweep's runs/))"),
        ("runs_notes", "holds files liqsim did not write (runs/notes.txt)"),
        ("edited", "holds files changed since liqsim wrote them (results.csv)"),
        ("unmarked", "but no .liqsim.json marker: it looks like the output of an older liqsim"),
        ("a_run", "holds a liqsim run (.liqsim.json), not a sweep,"),
    ):
        with pytest.raises(ScenarioError, match=re.escape(needle)) as err:
            run_sweep(None, GRID, seeds=2, out=tmp_path / folder, overrides=SMALL)
        assert "move or remove it yourself, or choose another folder" in str(err.value)
    assert main(["sweep", *GRID_ARGS, *SMALL_ARGS, "--out", str(tmp_path / "b")]) == 2
    assert "holds files liqsim did not write (runs)" in capsys.readouterr().err
    assert _files(tmp_path) == before


def test_a_sweep_folder_stays_provably_its_own_through_resumes_and_severity(local_sweep, tmp_path, capsys):
    """The marker follows every file written into the folder over time: after a resume and a severity figure
    the folder is still provably the sweep's, and a crash that left a table half-renamed does not change that."""
    _, out, _ = local_sweep
    copy = _copy(out, tmp_path)
    assert main(["plot", "severity", str(copy), "--x", "population.long_share", "--quiet"]) == 0
    marker = json.loads((copy / ".liqsim.json").read_text())
    assert sorted(marker["files"]) == ["results.csv", "results.parquet", "severity.csv", "severity.png", "sweep.toml"]
    assert main(["plot", "severity", str(copy), "--x", "population.long_share", "--quiet"]) == 0  # its own: replaced
    # a table renamed into place but not yet listed (a crash between the rename and the marker's update)
    marker = json.loads((copy / ".liqsim.json").read_text())
    marker["pending"] = {"results.csv": marker["files"].pop("results.csv")}
    (copy / ".liqsim.json").write_text(json.dumps(marker))
    again = run_sweep(None, GRID, seeds=2, out=copy, overrides=SMALL, executor="serial")
    assert again.attrs["skipped"] == 8 and not (copy / "severity.png").exists()
    marker = json.loads((copy / ".liqsim.json").read_text())
    assert sorted(marker["files"]) == ["results.csv", "results.parquet", "sweep.toml"] and "pending" not in marker


def test_the_eta_clock_starts_with_the_first_run(tmp_path, monkeypatch, compiled):
    seen = []
    monkeypatch.setattr(
        sim.cli_progress._Progress, "__call__", lambda self, fraction, note="": seen.append((fraction, self.t0))
    )
    monkeypatch.setattr(sim.studies.sweep, "_compile_once", lambda: time.sleep(0.5))  # a first compile, shortened
    t0 = time.perf_counter()
    assert main(["sweep", *SMALL_ARGS, "--executor", "serial", "--out", str(tmp_path / "o")]) == 0
    assert [f for f, _ in seen] == [0.0, 1.0] and seen[0][1] > t0 + 0.5


@pytest.mark.parametrize("executor", ["local", "dask"])
def test_ctrl_c_stops_the_sweep_with_status_130_and_one_message(tmp_path, executor, compiled, request):
    if executor == "dask":
        pytest.importorskip("distributed")
        held = _hold_port(8787)  # distributed's default HTTP port, busy as on a machine with a cluster running
        request.addfinalizer(lambda: held and held.close())
    out = tmp_path / "out"
    cmd = [
        sys.executable,
        "-m",
        "sim",
        "sweep",
        "--grid",
        "population.long_share=[0.5,0.6,0.7]",
        "--seeds",
        "100",
        *SMALL_ARGS,
        "--executor",
        executor,
        "--workers",
        "2",
        "--out",
        str(out),
    ]
    # Ctrl-C is as at a terminal even when this test runs where SIGINT is ignored (a background job inherits
    # that, and a process that starts with SIGINT ignored rightly keeps ignoring it)
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 120
        while not (out / "runs").is_dir() or not any((out / "runs").glob("r*.json")):
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C at a terminal: every process of the group gets it
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, err
    message = "liqsim: interrupted; the finished runs are saved: run the same command again to resume"
    # nothing else: no worker's traceback or warning, not even distributed's about its default HTTP port (8787),
    # which this test holds busy
    assert err.split() == message.split(), err
    assert not (out / "results.csv").exists() and len(_records(out)) >= 1


def _hold_port(port):
    """A listening socket on ``port`` of loopback, or None when something else already holds it (busy either way)."""
    sock = socket.socket()
    try:
        sock.bind(("127.0.0.1", port))
        sock.listen()
    except OSError:
        sock.close()
        return None
    return sock


def test_dask_cluster_gives_the_local_tables_numbers_and_records_failures(local_sweep, tmp_path):
    distributed = pytest.importorskip("distributed")
    table, out, _ = local_sweep

    def fail_seed_one():  # runs in each worker process
        import sim.engine

        real = sim.engine.run
        sim.engine.run = lambda scn, progress=None: (
            (_ for _ in ()).throw(RuntimeError("blew up on a worker"))
            if scn.scenario.seed == 1
            else real(scn, progress=progress)
        )

    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
    ):
        remote = run_sweep(
            None,
            GRID,
            seeds=2,
            out=tmp_path / "dask",
            overrides=SMALL,
            executor="dask",
            scheduler=cluster.scheduler_address,
        )
        workers = set(client.scheduler_info()["workers"])
        client.run(fail_seed_one)
        failing = run_sweep(
            None,
            {"population.long_share": [0.5]},
            seeds=2,
            out=tmp_path / "fail",
            overrides=SMALL,
            executor="dask",
            scheduler=cluster.scheduler_address,
        )
    pd.testing.assert_frame_equal(_metrics(remote), _metrics(table), check_exact=True)
    pd.testing.assert_frame_equal(
        _metrics(pd.read_parquet(tmp_path / "dask" / "results.parquet")),
        _metrics(pd.read_parquet(out / "results.parquet")),
        check_exact=True,
    )
    assert {r["worker"] for r in _records(tmp_path / "dask")} <= workers  # every run ran on the cluster's workers
    assert list(failing["status"]) == ["ok", "failed"] and failing["error"][1] == "RuntimeError: blew up on a worker"
    assert failing["adl.notional_usd"][0] == table["adl.notional_usd"][0]


def test_dask_without_an_address_starts_a_local_cluster(local_sweep, tmp_path):
    pytest.importorskip("distributed")
    table, _, _ = local_sweep
    got = run_sweep(
        None,
        {"population.long_share": [0.7], "market.venue": ["okx"]},
        seeds=2,
        out=tmp_path / "d",
        overrides=SMALL,
        executor="dask",
        workers=2,
    )
    where = {r["worker"] for r in _records(tmp_path / "d")}
    assert all(w.startswith("tcp://") for w in where) and len(where) <= 2  # Dask workers, not pool processes
    assert "# executor: dask, local cluster of 2 workers" in (tmp_path / "d" / "sweep.toml").read_text()
    pd.testing.assert_frame_equal(_metrics(got), _metrics(table.iloc[6:].reset_index(drop=True)), check_exact=True)


def _children(pid):
    """Live processes whose parent is ``pid`` (from /proc; a zombie counts as gone)."""
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, ppid = stat.read_text().rsplit(")", 1)[1].split()[:2]
        except (OSError, ValueError, IndexError):
            continue
        if int(ppid) == pid and state != "Z":
            kids.append(int(stat.parent.name))
    return kids


def _gone(pid):
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state == "Z"


def _sweeping(out, grid="population.long_share=[0.5,0.6,0.7]"):
    """A `liqsim sweep` of hundreds of runs on two pool workers, returned once its first runs are recorded."""
    cmd = [sys.executable, "-m", "sim", "sweep", "--grid", grid, "--seeds", "100", *SMALL_ARGS]
    proc = subprocess.Popen(
        [*cmd, "--workers", "2", "--out", str(out)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 120
    while not (out / "runs").is_dir() or not any((out / "runs").glob("r*.json")):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    return proc


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_a_killed_sweep_leaves_no_worker_behind_and_a_second_sweep_is_refused_meanwhile(tmp_path, sig, compiled):
    out = tmp_path / "out"
    proc = _sweeping(out)
    try:
        workers = _children(proc.pid)
        assert len(workers) >= 2  # the pool's (and multiprocessing's resource tracker)
        if sig == signal.SIGTERM:  # another sweep into the same folder meanwhile: refused, naming the first
            other = subprocess.run(
                [sys.executable, "-m", "sim", "sweep", "--grid", "population.long_share=[0.9]", *SMALL_ARGS]
                + ["--executor", "serial", "--out", str(out)],
                cwd=ROOT,
                capture_output=True,
                text=True,
            )
            assert other.returncode == 2
            assert f"in use by another liqsim (pid {proc.pid}, `python -m sim sweep --grid" in other.stderr
        proc.send_signal(sig)  # to the sweep's process alone, as `kill PID` or a job scheduler sends it
        _, err = proc.communicate(timeout=60)
        deadline = time.monotonic() + 20
        while not all(_gone(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [pid for pid in workers if not _gone(pid)] == []
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        for pid in _children(proc.pid):
            os.kill(pid, signal.SIGKILL)
    if sig == signal.SIGTERM:
        assert proc.returncode == 143
        message = "liqsim: terminated; the finished runs are saved: run the same command again to resume"
        assert err.split() == message.split()
        assert not (out / "results.csv").exists() and json.loads((out / ".liqsim.json").read_text())["pid"] == proc.pid


def test_a_plain_script_without_a_main_guard_runs_its_sweep(tmp_path, compiled):
    """The pool's workers start with "spawn", which would run the calling script again in each of them: without an
    `if __name__ == "__main__":` guard every run then failed and the sweep returned as if all was well."""
    script = tmp_path / "plain.py"
    script.write_text(
        "import sim\n"
        f"table = sim.sweep.run_sweep(None, {{'population.long_share': [0.5, 0.7]}}, seeds=2, out='o', "
        f"overrides={SMALL!r}, workers=2)\n"
        "print(','.join(table['status']))\n"
    )
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert (proc.returncode, proc.stdout.strip()) == (0, "ok,ok,ok,ok"), proc.stderr
    assert proc.stderr == ""


def test_a_sweep_started_while_a_spawned_process_starts_says_to_add_the_guard(monkeypatch):
    import multiprocessing

    monkeypatch.setattr(multiprocessing.current_process(), "_inheriting", True, raising=False)
    with pytest.raises(RuntimeError, match=r'if __name__ == "__main__":'):
        run_sweep(None, GRID, seeds=1, executor="serial")


def test_the_default_folder_is_named_after_the_file_and_its_spec_resumes_there(tmp_path, monkeypatch, capsys, compiled):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "study.toml").write_text("[sweep]\nseeds = 2\n[sweep.grid]\n'population.long_share' = [0.5, 0.7]\n")
    table = run_sweep("study.toml", overrides=SMALL, executor="serial")
    assert table.attrs["out"] == str(tmp_path / "runs" / "study-sweep")  # not btc_flash_crash-sweep
    assert main(["sweep", "runs/study-sweep/sweep.toml", "--executor", "serial"]) == 0
    assert "0 ran now (0 failed), 4 skipped as already done" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["study-sweep"]
