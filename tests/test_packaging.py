"""What `pip install liqsim` gives a user: the shipped scenarios by name, saved runs that rerun anywhere, one version.

The wheel test builds the real wheel from a copy of the source tree and reads its file list: the scenarios and their
data must be in it (as ``sim/scenarios``), every module of ``sim`` too, and nothing of the tests or benchmarks.
"""

import shutil
import subprocess
import sys
import tomllib
import zipfile
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
