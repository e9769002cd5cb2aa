"""What `pip install liqsim` gives a user: the shipped scenarios by name, saved runs that rerun anywhere, one version.

The wheel test builds the real wheel from a copy of the source tree and reads its file list: the scenarios and their
data must be in it (as ``sim/scenarios``), every module of ``sim`` too, and nothing of the tests or benchmarks.
"""

import json
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest

import sim
from sim.cli import main
from sim.config import shipped
from sim.errors import ScenarioError

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
SHIPPED = sorted(p.stem for p in SCENARIOS.glob("*.toml"))
SMALL = {"population.n_positions": 1500}


# ------------------------------------------------------------------------------------------------ the scenarios


def test_every_scenario_file_is_shipped_by_name():
    assert shipped.names() == SHIPPED and "calm" in SHIPPED
    for name in SHIPPED:
        assert sim.load_scenario(name) == sim.load_scenario(SCENARIOS / f"{name}.toml")
    assert sim.load_scenario("calm").source == "calm"  # messages name it as the user wrote it


def test_a_path_wins_over_a_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "calm").write_text('[scenario]\nname = "my_calm"\n')
    assert sim.load_scenario("calm").scenario.name == "my_calm"
    assert sim.load_scenario(SCENARIOS / "calm.toml").scenario.name == "calm"


def test_an_unknown_name_lists_the_shipped_ones(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ScenarioError) as info:
        sim.load_scenario("nope")
    assert info.value.problems == [
        "nope: no such file, nor a shipped scenario; the shipped ones: " + ", ".join(SHIPPED)
    ]
    assert main(["validate", "nope"]) == 2
    assert main(["run", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("liqsim: error: nope: no such file, nor a shipped scenario") == 2 and "calm" in err
    assert not (tmp_path / "runs").exists()
    # a path that is not there is reported as a missing file, as before
    with pytest.raises(ScenarioError, match=r"^no/such\.toml: no such file$"):
        sim.load_scenario("no/such.toml")


def test_validate_reads_a_shipped_sweep_by_name(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert main(["validate", "leverage_mix_severity"]) == 0
    assert "[sweep]: 210 runs" in capsys.readouterr().out


# ------------------------------------------------------------------------------------------------ saved scenarios


def _summary(folder):
    doc = json.loads((folder / "summary.json").read_text())
    for key in ("runtime_s", "timings"):
        doc.pop(key)
    return doc


def test_a_saved_run_holds_no_absolute_path_and_reruns_the_same(tmp_path, monkeypatch, compiled):
    monkeypatch.chdir(tmp_path)
    first = tmp_path / "runs" / "replay"
    args = ["--set", "population.n_positions=1500", "--no-plot", "--quiet"]
    assert main(["run", "replay_2025_10_10", *args, "--out", str(first)]) == 0
    text = (first / "scenario.toml").read_text()
    assert 'file = "shipped:data/btc_2025_10_10.csv"' in text
    for root in {str(ROOT), str(tmp_path), str(Path.home()), sys.prefix}:
        assert root not in text
    assert not re.search(r'= "(/|[A-Za-z]:\\\\)', text)  # no absolute path at all
    # rerun from the saved file, from another folder: the same run
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    again = tmp_path / "again"
    assert main(["run", str(first / "scenario.toml"), *args, "--out", str(again)]) == 0
    assert _summary(again) == _summary(first)


def test_a_sweep_toml_holds_no_absolute_path_and_replans_the_same_runs(tmp_path, monkeypatch, compiled):
    from sim.studies.sweep import plan_sweep, run_sweep

    monkeypatch.chdir(tmp_path)
    out = tmp_path / "sweeps" / "replay"
    grid, small = {"population.long_share": [0.6]}, {"population.n_positions": 1500, "scenario.duration_s": 600}
    table = run_sweep("replay_2025_10_10", grid, 1, out, executor="serial", overrides=small)
    assert list(table["status"]) == ["ok"]
    text = (out / "sweep.toml").read_text()
    assert 'file = "shipped:data/btc_2025_10_10.csv"' in text
    assert not re.search(r'= "(/|[A-Za-z]:\\\\)', text) and str(tmp_path) not in text and str(ROOT) not in text
    again = plan_sweep(out / "sweep.toml")
    assert [r.run_id for r in again.runs] == list(table["run_id"])
    assert [r.settings for r in again.runs] == [
        r.settings for r in plan_sweep("replay_2025_10_10", grid, 1, small).runs
    ]


def test_data_files_of_ones_own_are_saved_relative_to_the_run(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(SCENARIOS / "data" / "btc_2025_10_10.csv", data / "path.csv")
    (data / "pos.csv").write_text("side,size,entry_price,leverage\nlong,1,100000,10\nshort,2,100000,5\n")
    scn_dir = tmp_path / "scenarios"
    scn_dir.mkdir()
    (scn_dir / "mine.toml").write_text(
        '[population]\nfile = "../data/pos.csv"\n'
        '[shock]\nkind = "replay"\nfile = "../data/path.csv"\n'
        "[market]\nstart_price_usd = 100000.0\n"
    )
    scn = sim.load_scenario(scn_dir / "mine.toml")
    out = tmp_path / "runs" / "mine"
    out.mkdir(parents=True)
    saved = tomllib.loads(scn.to_toml(relative_to=out))
    assert saved["population"]["file"] == "../../data/pos.csv"
    assert saved["shock"]["file"] == "../../data/path.csv"
    (out / "scenario.toml").write_text(scn.to_toml(relative_to=out))
    back = sim.load_scenario(out / "scenario.toml")
    assert back == scn and back.shock.file == scn.shock.file == str(data / "path.csv")
    # without a folder, to_dict keeps absolute paths (what a sweep hashes)
    assert scn.to_dict()["shock"]["file"] == str(data / "path.csv")


def test_a_shipped_reference_is_read_in_files_and_overrides(tmp_path):
    (tmp_path / "s.toml").write_text(
        '[shock]\nkind = "replay"\nfile = "shipped:data/btc_2025_10_10.csv"\nrescale = true\n'
    )
    path = str((shipped.folder() / "data" / "btc_2025_10_10.csv").resolve())
    assert sim.load_scenario(tmp_path / "s.toml").shock.file == path
    over = sim.load_scenario(None, {"shock.kind": "replay", "shock.file": "shipped:data/btc_2025_10_10.csv"})
    assert over.shock.file == path
    with pytest.raises(ScenarioError, match=r"shock\.file = 'shipped:data/nope\.csv': no such file"):
        sim.load_scenario(None, {"shock.kind": "replay", "shock.file": "shipped:data/nope.csv"})


# ------------------------------------------------------------------------------------------------------ version


def test_one_version_everywhere(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0 and capsys.readouterr().out == f"liqsim {sim.__version__}\n"
    assert version("liqsim") == sim.__version__  # the installed metadata reads sim/_version.py
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["dynamic"] == ["version"]
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "sim._version.__version__"}


# -------------------------------------------------------------------------------------------------------- wheel


def test_the_package_list_names_every_package_of_sim():
    listed = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "sim").rglob("__init__.py")}
    assert set(listed) == found | {"sim.scenarios"}


_LEAVE_OUT = shutil.ignore_patterns(
    ".git", ".venv*", "build", "dist", "runs", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis"
)


@pytest.mark.slow
def test_the_wheel_ships_the_scenarios_and_no_tests(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=_LEAVE_OUT)
    dist = tmp_path / "dist"
    done = subprocess.run(  # the build tools of this environment (the test extra): no download
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist), str(src)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (wheel,) = dist.glob("liqsim-*.whl")
    assert wheel.name.startswith(f"liqsim-{sim.__version__}-py3-none-any")
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in SHIPPED:
        assert f"sim/scenarios/{name}.toml" in names
    assert "sim/scenarios/README.md" in names
    data = {p.name for p in (SCENARIOS / "data").glob("*.csv")}
    assert data and {f"sim/scenarios/data/{n}" for n in data} <= names
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "sim").rglob("*.py")}
    assert modules <= names, sorted(modules - names)
    tops = {n.split("/")[0] for n in names}
    assert tops == {"sim", f"liqsim-{sim.__version__}.dist-info"}, tops  # no tests/, benchmarks/, scenarios/
    assert not [n for n in names if n.endswith(".pyc") or "/data/" in n and n.endswith(".py")]
    entry = zipfile.ZipFile(wheel).read(f"liqsim-{sim.__version__}.dist-info/entry_points.txt").decode()
    assert "liqsim = sim.cli:main" in entry


@pytest.mark.slow
def test_the_source_distribution_can_run_the_tests(tmp_path):
    # a user building from the sdist gets the test suite (with its fixtures, golden runs and data), the scenarios,
    # the docs and the notebooks, not only the package
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=_LEAVE_OUT)
    dist = tmp_path / "dist"
    done = subprocess.run(
        [sys.executable, "-m", "build", "--sdist", "--no-isolation", "--outdir", str(dist), str(src)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (sdist,) = dist.glob("liqsim-*.tar.gz")
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True)
    wanted = {"tests/conftest.py", "tests/golden/regenerate.py", "README.md", "LICENSE", "pyproject.toml", ".ci/run"}
    if tracked.returncode == 0:  # every tracked file under these folders
        wanted |= {
            n
            for n in tracked.stdout.split()
            if n.split("/")[0] in ("tests", "benchmarks", "notebooks", "docs", "scenarios", "sim")
        }
    assert wanted <= names, sorted(wanted - names)[:10]
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
