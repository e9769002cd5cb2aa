"""The command line: outputs of a run, the resolved scenario, and clear errors with exit status 2."""

import csv
import gc
import json
import math
import os
import subprocess
import sys

import pytest

import sim
from sim.cli import main

SMALL = [
    "--set",
    "population.n_positions=800",
    "--set",
    "scenario.duration_s=120",
    "--set",
    "shock.start_s=10",
    "--set",
    "shock.duration_s=20",
]


def test_run_writes_every_output(tmp_path, capsys, compiled):
    out = tmp_path / "run1"
    # endogenous prices: every output, the spot venues' spot.csv included
    assert main(["run", *SMALL, "--set", "prices.model=endogenous", "--seed", "3", "--out", str(out)]) == 0
    written = ["adl.csv", "cascade.png", "fills.csv", "scenario.toml", "series.csv", "spot.csv", "summary.json"]
    assert sorted(p.name for p in out.iterdir()) == [".liqsim.json", *written]
    marker = json.loads((out / ".liqsim.json").read_text())  # what wrote the folder, and every file it wrote
    assert marker["kind"] == "run" and marker["liqsim"] == sim.__version__ and marker["pid"] > 0
    assert sorted(marker["files"]) == written
    assert all(marker["files"][name]["size"] == (out / name).stat().st_size for name in written)
    summary = json.loads((out / "summary.json").read_text())
    for key in (
        "liquidated_notional_usd",
        "liquidations",
        "adl",
        "insurance_fund_usd",
        "bad_debt_usd",
        "min_last_price",
        "min_mark_price",
        "final_mark_price",
        "exogenous_drawdown_pct",
        "realized_drawdown_pct",
        "amplification",
        "waves",
        "time_to_quiet_s",
        "open_interest_destroyed_pct",
        "n_positions",
        "runtime_s",
    ):
        assert key in summary
    assert set(summary["liquidated_notional_usd"]) == {"long", "short", "total"}
    assert summary["n_positions"] == 800
    header = (out / "fills.csv").read_text().splitlines()[0].split(",")
    assert header[:9] == ["t", "kind", "account", "side", "adl_cause", "qty", "price", "bankruptcy_price", "fund_delta"]
    assert (out / "cascade.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the tape explains the fund
    with open(out / "fills.csv") as fh:
        deltas = [float(row["fund_delta"]) for row in csv.DictReader(fh)]
    fund = summary["insurance_fund_usd"]
    assert fund["end"] == pytest.approx(fund["start"] + math.fsum(deltas), rel=1e-12, abs=1e-6)
    # the resolved scenario reproduces the run
    again = sim.load_scenario(out / "scenario.toml")
    assert again.scenario.seed == 3 and again.population.n_positions == 800
    printed = capsys.readouterr().out
    assert "liquidated" in printed and str(out) in printed
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary leftovers


def test_accounts_flag_writes_accounts_csv(tmp_path, compiled):
    out = tmp_path / "acc"
    cmd = ["run", *SMALL, "--set", "prices.model=endogenous", "--no-plot", "--accounts", "--quiet", "--out", str(out)]
    assert main(cmd) == 0
    rows = list(csv.DictReader(open(out / "accounts.csv")))
    assert len(rows) == 800 + 1 + 6  # traders, the counterparty, maker, noise, fund, fee, arbitrageurs, flow
    assert {r["kind"] for r in rows} == {
        "trader",
        "counterparty",
        "maker",
        "noise",
        "fund",
        "fee",
        "arbitrageur",
        "flow",
    }
    assert not (out / "cascade.png").exists()
    cash = math.fsum(float(r["cash_end"]) for r in rows)
    assert cash == pytest.approx(math.fsum(float(r["cash_start"]) for r in rows), rel=1e-12, abs=1e-3)


def test_validate_ok(capsys):
    assert main(["validate", "scenarios/calm.toml"]) == 0
    assert "ok" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, needles",
    [
        (["run", "--set", "population.long_share=1.5"], ["population.long_share", "1.5", "[0, 1]"]),
        (["run", "--set", "population.leverage_mx=3"], ["population.leverage_mx", "unknown key", "leverage_mix"]),
        (["run", "--set", "nokey"], ["--set", "nokey", "dotted.key=value"]),
        (["run", "no/such/file.toml"], ["no/such/file.toml", "no such file"]),
        (["validate", "tests/data/scn_malformed.toml"], ["scn_malformed.toml", "line"]),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(tmp_path, capsys, args, needles):
    out = tmp_path / "never"
    code = main([*args, "--out", str(out)] if args[0] == "run" else args)
    assert code == 2
    err = capsys.readouterr().err
    for needle in needles:
        assert needle in err
    assert "Traceback" not in err
    assert not out.exists()


def test_out_folder_with_foreign_files_is_refused(tmp_path, capsys, compiled):
    (tmp_path / "keep.txt").write_text("mine")
    assert main(["run", *SMALL, "--no-plot", "--out", str(tmp_path)]) == 2
    assert "keep.txt" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


def test_out_under_a_file_is_refused_before_the_run(tmp_path, capsys):
    (tmp_path / "afile").write_text("x")
    assert main(["run", "--out", str(tmp_path / "afile" / "sub")]) == 2
    err = capsys.readouterr().err
    assert "cannot be created" in err and "Traceback" not in err


def test_all_problems_are_reported_at_once(capsys):
    assert main(["validate", "scenarios/calm.toml", "--set", "population.long_share=2", "--set", "book.shape=-1"]) == 2
    err = capsys.readouterr().err
    assert "population.long_share" in err and "book.shape" in err


def test_bad_seed_is_an_argument_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["run", "--seed", "-4"])
    assert exc.value.code == 2
    assert "--seed" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "what"),
    [
        (["run", "calm", "--out", ""], "a folder"),
        (["compare", "calm", "--out", " "], "a folder"),
        (["sweep", "calm", "--out", ""], "a folder"),
        (["plot", "severity", "some_sweep", "--out", ""], "a file"),
    ],
)
def test_an_empty_out_is_an_argument_error(argv, what, capsys, tmp_path, monkeypatch):
    """An empty --out wrote into the default folder without a word."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert f"--out = {argv[-1]!r}: an empty path; give {what}, or leave --out out" in err
    assert not (tmp_path / "runs").exists()


def test_python_dash_m_sim_is_the_same_command(tmp_path, compiled):
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "validate", "scenarios/btc_flash_crash.toml"], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    bad = subprocess.run(
        [sys.executable, "-m", "sim", "run", "--set", "shock.kind=crash", "--out", str(tmp_path / "x")],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2
    assert "shock.kind" in bad.stderr and "Traceback" not in bad.stderr
    assert not (tmp_path / "x").exists()


def test_the_default_output_folder_is_named_after_the_scenario_or_its_file(tmp_path, monkeypatch, capsys, compiled):
    monkeypatch.chdir(tmp_path)
    small = "[population]\nn_positions = 800\n[scenario]\nduration_s = 60.0\n"
    (tmp_path / "my_crash.toml").write_text(small)  # no scenario.name: the file's name, not the default scenario's
    (tmp_path / "named.toml").write_text(small.replace("[scenario]\n", '[scenario]\nname = "crash_b"\n'))
    (tmp_path / "elsewhere.toml").write_text(small + '[output]\ndir = "out/here"\n')
    for args, folder in (
        (["my_crash.toml"], "runs/my_crash"),
        (["named.toml"], "runs/crash_b"),
        (["my_crash.toml", "--set", "scenario.name=given"], "runs/given"),
        (["elsewhere.toml"], "out/here"),
        (["--set", "population.n_positions=800", "--set", "scenario.duration_s=60"], "runs/btc_flash_crash"),
    ):
        assert main(["run", *args, "--no-plot", "--quiet"]) == 0, capsys.readouterr().err
        assert json.loads((tmp_path / folder / ".liqsim.json").read_text())["kind"] == "run", folder
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["btc_flash_crash", "crash_b", "given", "my_crash"]
    assert main(["compare", "my_crash.toml", "--venues", "okx", "--no-plot", "--quiet"]) == 0
    assert (tmp_path / "runs" / "my_crash-compare" / "comparison.csv").exists()


def test_a_full_disk_names_the_file_it_could_not_write(tmp_path, monkeypatch, capsys, compiled):
    import errno

    import sim.result

    def full(path, records, table):
        if table == "series":
            raise OSError(errno.ENOSPC, "No space left on device")  # as write() raises it: no file name
        open(path, "w").close()

    monkeypatch.setattr(sim.result, "write_csv", full)
    out = tmp_path / "out"
    assert main(["run", *SMALL, "--no-plot", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == f"liqsim: error: {out / 'series.csv'}: cannot write the results: No space left on device\n"
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("command", ["run", "compare"])
def test_ctrl_c_ends_run_and_compare_with_status_130_and_one_line(tmp_path, monkeypatch, capsys, command):
    import sim.engine

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(sim.engine, "run", interrupted)
    args = ["scenarios/calm.toml", "--venues", "okx"] if command == "compare" else []
    assert main([command, *args, *SMALL, "--out", str(tmp_path / "out")]) == 130
    out = capsys.readouterr()
    assert out.out == "" and out.err.split() == "liqsim: interrupted; no results were written".split()
    assert not list(tmp_path.iterdir())


def test_a_closed_stdout_ends_the_command_quietly(tmp_path):
    """`liqsim venues --verbose | head`: the reader goes away; liqsim stops without a word, as Unix tools do."""
    read, write = os.pipe()
    os.close(read)  # the reader is gone before anything is written
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "venues", "--verbose"], stdout=write, stderr=subprocess.PIPE, text=True
    )
    os.close(write)
    assert (proc.returncode, proc.stderr) == (141, "")


def test_the_command_pauses_the_collector_for_its_imports_and_freezes_them(tmp_path, monkeypatch, compiled):
    """Called without argv (the liqsim command, python -m sim), ``run`` owns the process: the garbage collector is off
    while the scenario loads and the modules import, then on again with what they built frozen out of later
    collections. Called with argv (these tests, other programs), the caller's collector is left alone."""
    import sim.config.scenario as scenario_module

    seen = []
    load = scenario_module.load_scenario
    monkeypatch.setattr(scenario_module, "load_scenario", lambda *a, **k: seen.append(gc.isenabled()) or load(*a, **k))
    frozen = gc.get_freeze_count()
    assert main(["run", *SMALL, "--quiet", "--out", str(tmp_path / "given")]) == 0
    assert seen == [True] and gc.isenabled() and gc.get_freeze_count() == frozen
    monkeypatch.setattr(sys, "argv", ["liqsim", "run", *SMALL, "--quiet", "--out", str(tmp_path / "own")])
    try:
        assert main() == 0
        assert seen == [True, False] and gc.isenabled() and gc.get_freeze_count() > frozen
    finally:
        gc.unfreeze()  # give this test process its collector back as it was
    frozen = gc.get_freeze_count()
    # a run that stops before its imports (a bad value: exit 2) turns the collector back on too
    monkeypatch.setattr(sys, "argv", ["liqsim", "run", "--set", "population.n_positions=-1"])
    assert main() == 2
    assert gc.isenabled() and gc.get_freeze_count() == frozen
