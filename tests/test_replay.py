"""The 10 October 2025 replay: the shipped price path, its derivation rule, the scenario, and comment lines in
path CSVs (the path names its source in a header, as the data's terms ask)."""

import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest

import sim
from sim.config.files import read_path_csv
from sim.errors import ScenarioError

ROOT = Path(__file__).resolve().parents[1]
PATH_FILE = ROOT / "scenarios" / "data" / "btc_2025_10_10.csv"
SCENARIO = ROOT / "scenarios" / "replay_2025_10_10.toml"
DERIVE = ROOT / "scenarios" / "data" / "derive_2025_10_10.py"

# The 10 Oct low of Binance's 1-minute BTCUSD_PERP index klines (the 21:20 UTC bar), the series the path is
# derived from; the 5-minute BTCUSDT series has 101,877.69 in the same bar.
INDEX_LOW = 102_497.5

# Set to the folder of Binance's 10 Oct 2025 files to check that the shipped path is rebuilt exactly.
DATA_ENV = "LIQSIM_2025_10_10_DATA"


def _derive_module():
    spec = importlib.util.spec_from_file_location("derive_2025_10_10", DERIVE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# comment lines in path files


def test_path_csv_skips_comment_lines_and_keeps_line_numbers(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text(
        '# source: somewhere, with "quotes" and commas\n  # indented\ntimestamp,price\n'
        "0,100\n# a note between rows\n60,99\n"
    )
    got = read_path_csv(path)
    assert list(got["t_s"]) == [0, 60] and list(got["price"]) == [100, 99]
    bad = tmp_path / "bad.csv"
    bad.write_text("# header\ntimestamp,price\n0,100\n# note\n60,-1\n")
    with pytest.raises(ScenarioError) as info:
        read_path_csv(bad)
    assert info.value.problems == [f"{bad}: line 5: price = '-1': must be a number > 0"]
    only = tmp_path / "only.csv"
    only.write_text("# nothing but a comment\n")
    with pytest.raises(ScenarioError, match="empty file"):
        read_path_csv(only)


# the shipped path


def test_shipped_path_names_its_source():
    header = [line for line in PATH_FILE.read_text(encoding="utf-8").splitlines() if line.startswith("#")]
    text = " ".join(header)
    for needed in (
        "Binance",
        "aaronwu2017/TheGlory",
        "929fd9c3",
        "BTCUSD_PERP-1m-2025-10-10.zip",
        "derive_2025_10_10.py",
        "unix time in seconds (1760126400 is 2025-10-10 20:00:00 UTC",
    ):
        assert needed in text, needed


def test_shipped_path_is_compact_and_keeps_the_low():
    path = read_path_csv(PATH_FILE)
    t, p = path["t_s"], path["price"]
    assert 100 <= len(t) <= 500
    assert t[0] == 0 and t[-1] == 3 * 3600  # 20:00 to 23:00 UTC
    assert path["start_unix_s"] == 1_760_126_400  # 2025-10-10 20:00:00 UTC: a figure of the replay shows its clock
    assert (np.diff(t) > 0).all()
    assert abs(p.min() / INDEX_LOW - 1) < 0.01
    assert 110_000 < p[0] < 120_000 and 110_000 < p[-1] < 120_000  # before the crash and after the rebound
    assert 4800 <= t[np.argmin(p)] < 4860  # in the 21:20 UTC bar


def test_derivation_rule_on_hand_made_bars():
    derive = _derive_module()
    minutes = derive.PATH_START_MIN + np.arange(derive.PATH_BARS)
    bars = np.column_stack([minutes, *(np.full(derive.PATH_BARS, 100.0),) * 4])
    bars[0, 1:] = (100.0, 100.5, 99.0, 99.2)  # falls: high first, then low
    bars[1, 1:] = (99.2, 100.0, 99.1, 99.9)  # rises: low first, then high
    bars[2, 1:] = (99.9, 99.9, 99.0, 99.0)  # open is the high, close the low: the close alone
    bars[3, 1:] = (99.0, 99.2, 98.95, 99.1)  # a range under 0.3%: the close alone
    rows = derive.derive_path(bars)
    assert rows[:8] == [
        (0, 100.0),
        (20, 100.5),
        (40, 99.0),
        (60, 99.2),
        (80, 99.1),
        (100, 100.0),
        (120, 99.9),
        (180, 99.0),
    ]
    assert rows[8] == (240, 99.1)


@pytest.mark.skipif(not os.environ.get(DATA_ENV), reason=f"set {DATA_ENV} to the folder of the 10 Oct 2025 files")
def test_shipped_path_is_rebuilt_from_the_data(capsys):
    derive = _derive_module()
    assert derive.main([os.environ[DATA_ENV], "--out", str(PATH_FILE), "--check"]) == 0
    assert "identical to" in capsys.readouterr().out


# the scenario


def test_scenario_validates_and_replays_the_recorded_prices():
    scn = sim.load_scenario(SCENARIO)
    path = read_path_csv(PATH_FILE)
    assert scn.shock.kind == "replay" and scn.shock.rescale is False
    assert scn.market.start_price_usd == path["price"][0]
    assert scn.scenario.duration_s >= path["t_s"][-1]
    assert scn.market.venue == "binance"


def test_short_replay_is_deterministic_and_liquidates_mostly_longs(compiled):
    # through 21:23 UTC: the lead-in, the crash and the low
    overrides = {"population.n_positions": 2000, "scenario.duration_s": 5000.0}
    a = sim.run(sim.load_scenario(SCENARIO, overrides=overrides))
    b = sim.run(sim.load_scenario(SCENARIO, overrides=overrides))
    assert a.fills.tobytes() == b.fills.tobytes()
    liquidated = a.summary["liquidated_notional_usd"]
    assert liquidated["total"] > 0
    assert liquidated["long"] / liquidated["total"] > 0.8
    assert a.summary["min_mark_price"] == pytest.approx(INDEX_LOW, rel=0.01)
