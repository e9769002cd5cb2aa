"""Scenario loading, validation messages, overrides, round trips and the CSV readers."""

import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.config.docs import schema_markdown
from sim.config.files import read_book_csv, read_path_csv, read_positions_csv
from sim.config.scenario import Scenario, load_scenario, parse_scenario
from sim.config.tables import MarketTable
from sim.errors import ScenarioError, capped
from sim.venues import DEFAULTS

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
SCENARIOS = ROOT / "scenarios"


def problems_of(fn, *args, **kw):
    """The problems a call raises (it must raise ScenarioError)."""
    with pytest.raises(ScenarioError) as info:
        fn(*args, **kw)
    assert str(info.value) == "\n".join(info.value.problems)
    return info.value.problems


def toml_file(tmp_path, text, name="s.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def csv_file(tmp_path, text, name="f.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


# ------------------------------------------------------------------------------------------- shipped files


def test_default_scenario_file_equals_builtin_defaults():
    builtin = load_scenario(None)
    from_file = load_scenario(SCENARIOS / "btc_flash_crash.toml")
    # loading pins the venue pack's default version, so a saved scenario reruns the same rules
    assert builtin == from_file == Scenario(market=MarketTable(venue_version=DEFAULTS["binance"]))
    assert builtin.scenario.name == "btc_flash_crash"
    assert from_file.source.endswith("btc_flash_crash.toml")


def test_calm_scenario():
    scn = load_scenario(SCENARIOS / "calm.toml")
    assert scn.scenario.name == "calm"
    assert scn.shock.kind == "none"


def test_readme_is_the_generated_markdown():
    assert (SCENARIOS / "README.md").read_text() == schema_markdown()


def test_markdown_command_prints_the_reference():
    done = subprocess.run(
        [sys.executable, "-m", "sim.config.scenario", "--markdown"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout == schema_markdown() and done.stderr == ""  # no runpy warning about a second copy
    usage = subprocess.run([sys.executable, "-m", "sim.config.scenario"], cwd=ROOT, capture_output=True, text=True)
    assert usage.returncode == 2 and usage.stderr == "usage: python -m sim.config.scenario --markdown\n"


def test_defaults():
    scn = Scenario()
    assert scn.population.open_interest_usd == 8e9 and scn.book.depth_usd_1pct == 270e6
    assert (scn.scenario.duration_s, scn.shock.duration_s, scn.book.refill_half_life_s) == (300, 60, 30)
    assert (scn.shock.kind, scn.shock.start_s, scn.shock.size_pct) == ("ramp", 60, -10)


def test_markdown_lists_every_key_with_its_range():
    md = schema_markdown()
    for needle in (
        "`long_share` | number | fraction | `0.6` | [0, 1]",
        "`seed` | integer |  | `0` | [0, 2**63)",
        "`open_interest_usd` | number | USD | `8e9` | [0, 1e13] | Open interest: ",
        "`leverage_mix` | table or name |  | `{2 = 0.2, 5 = 0.3, 10 = 0.25, 20 = 0.15, 50 = 0.07, 100 = 0.03}` "
        "| leverage in [1, market.tiers[0].max_leverage] = weight ≥ 0, or one of conservative, balanced, "
        "degen |",
        "`tiers` | array of tables, optional |  | the pack's table for market.asset | see below |",
        '`venue` | string |  | `"binance"` | `binance`, `bybit`, `okx`, `hyperliquid`, `dydx` |',
        "`clearance_fee_pct` | number, optional | % | venue pack |",
        "`file` | path, optional |  | unset | a CSV file |",
        "(0, market.start_price_usd / 10]",
        "### `[[market.tiers]]`",
        "| 1.2e9 | 1 | 50 | 421482000 |",
    ):
        assert needle in md


# ---------------------------------------------------------------------------------------- message kinds


def test_unknown_key_lists_allowed_keys(tmp_path):
    path = toml_file(tmp_path, "[population]\nleverage_mx = 3\n")
    (msg,) = problems_of(load_scenario, path)
    assert msg.startswith(
        f"{path}: population.leverage_mx: unknown key; allowed: counterparty_leverage, cross_share, cross_spare, "
    )


def test_unknown_table():
    (msg,) = problems_of(parse_scenario, {"populaton": {}})
    assert msg == (
        "<dict>: populaton: unknown table; allowed: adl, arrivals, book, collateral, funding, instruments, insurance_fund, market, "
        "output, population, portfolio, prices, scenario, shock, stops, sweep, topups, venue"
    )


@pytest.mark.parametrize(
    "table, key, value, allowed",
    [
        ("population", "long_share", "0.5", "must be a number in [0, 1]"),
        ("population", "long_share", True, "must be a number in [0, 1]"),
        ("population", "n_positions", 1.5, "must be an integer in [1, 50000000]"),
        ("scenario", "seed", False, "must be an integer in [0, 2**63)"),
        ("adl", "enabled", 1, "must be true or false"),
        ("market", "symbol", 3, "must be a string"),
        ("shock", "kind", "crash", "must be one of none, gap, ramp, replay, gbm, flow"),
        ("scenario", "name", "my run", "must be a non-empty string of letters, digits, '_', '.', '-' only"),
        ("population", "file", 5, "must be a file path (a string)"),
        ("market", "tiers", {"mmr_pct": 1}, "must be a non-empty array of tables ([[market.tiers]])"),
        (
            "population",
            "leverage_mix",
            [2, 10],
            "must be a table of leverage = weight, e.g. {2 = 0.5, 10 = 0.5}, or a name: conservative, balanced, degen",
        ),
    ],
)
def test_wrong_type(table, key, value, allowed):
    (msg,) = problems_of(parse_scenario, {table: {key: value}}, source="x.toml")
    assert msg == f"x.toml: {table}.{key} = {value!r}: {allowed}"


def test_numbers_are_coerced_but_never_from_bools_or_strings():
    scn = parse_scenario({"scenario": {"duration_s": 600, "seed": 7.0}, "population": {"n_positions": 1e6}})
    assert scn.scenario.duration_s == 600.0 and isinstance(scn.scenario.duration_s, float)
    assert scn.scenario.seed == 7 and isinstance(scn.scenario.seed, int)
    assert scn.population.n_positions == 1_000_000 and isinstance(scn.population.n_positions, int)
    assert len(problems_of(parse_scenario, {"market": {"lot_size": float("nan"), "tick_size_usd": "0.1"}})) == 2


@pytest.mark.parametrize(
    "table, key, value, allowed",
    [
        ("population", "long_share", 1.5, "must be a number in [0, 1]"),
        ("scenario", "duration_s", 0, "must be a number in (0, 86400]"),
        ("scenario", "seed", 2**63, "must be an integer in [0, 2**63)"),
        ("shock", "size_pct", -95, "must be a number in (-95, 95]"),
        ("shock", "size_pct", 96, "must be a number in (-95, 95]"),
        ("market", "oracle_interval_s", 0.001, "must be a number in [0.01, 60]"),
        ("population", "size_tail_alpha", 0, "must be a number in (0, 10]"),
        ("population", "open_interest_usd", -1, "must be a number in [0, 1e13]"),
        ("population", "open_interest_usd", 2e13, "must be a number in [0, 1e13]"),
    ],
)
def test_out_of_range(table, key, value, allowed):
    (msg,) = problems_of(parse_scenario, {table: {key: value}}, source="scenarios/x.toml")
    assert msg == f"scenarios/x.toml: {table}.{key} = {value!r}: {allowed}"


@pytest.mark.parametrize(
    "data, expected",
    [
        (
            {"market": {"tick_size_usd": 20000}},
            "market.tick_size_usd = 20000: must be a number in (0, 12100] (12100 = market.start_price_usd / 10)",
        ),
        (
            {"population": {"notional_min_usd": 1e6, "notional_max_usd": 5e5}},
            "population.notional_max_usd = 500000.0: must be a number in [1e6, 1e300] (1e6 = population.notional_min_usd)",
        ),
        (
            {"scenario": {"duration_s": 30}},
            "shock.start_s = 60.0: must be a number in [0, 30] (30 = scenario.duration_s)",
        ),
    ],
)
def test_inconsistent_values(data, expected):
    assert problems_of(parse_scenario, data) == [f"<dict>: {expected}"]


def test_shock_start_is_only_bounded_by_the_run_when_there_is_a_shock():
    scn = parse_scenario({"scenario": {"duration_s": 30}, "shock": {"kind": "none", "start_s": 100}})
    assert scn.shock.start_s == 100
    for kind in ("gap", "ramp"):
        (msg,) = problems_of(parse_scenario, {"scenario": {"duration_s": 30}, "shock": {"kind": kind, "start_s": 100}})
        assert msg == "<dict>: shock.start_s = 100: must be a number in [0, 30] (30 = scenario.duration_s)"
    md = schema_markdown()
    assert "not checked against scenario.duration_s for kind none" in md
    assert "Replay: the recorded path starts here; before it the index stays at the path's first price." in md


@pytest.mark.parametrize(
    "data, expected",
    [
        (
            {"market": {"tick_size_usd": 0.001}},
            "market.tick_size_usd = 0.001: would make 96,800,000 book ladder levels (2·book.range_pct/100·"
            "market.start_price_usd / market.tick_size_usd) with book.range_pct = 40, market.start_price_usd = 121000; at "
            "most 20,000,000 are allowed: market.tick_size_usd must be at least 0.00484, or lower book.range_pct",
        ),
        (
            {"market": {"start_price_usd": 1e9, "lot_size": 1e-6}, "book": {"range_pct": 95}},
            "market.tick_size_usd = 0.1: would make 19,000,000,000 book ladder levels (2·book.range_pct/100·"
            "market.start_price_usd / market.tick_size_usd) with book.range_pct = 95, market.start_price_usd = 1e9; at "
            "most 20,000,000 are allowed: market.tick_size_usd must be at least 95, or lower book.range_pct",
        ),
        (
            {"output": {"sample_interval_s": 1e-5}},
            "output.sample_interval_s = 1e-05: would make 30,000,000 samples (scenario.duration_s / "
            "output.sample_interval_s) with scenario.duration_s = 300; at most 5,000,000 are allowed: "
            "output.sample_interval_s must be at least 6e-05",
        ),
        (
            {"scenario": {"duration_s": 86400}, "book": {"noise_rate_per_s": 1000}},
            "book.noise_rate_per_s = 1000: would make 86,400,000 expected background orders (book.noise_rate_per_s · "
            "scenario.duration_s) with scenario.duration_s = 86400; at most 20,000,000 are allowed: book.noise_rate_per_s "
            "must be at most 231.4814815",
        ),
    ],
)
def test_resource_bounds(data, expected):
    assert problems_of(parse_scenario, data) == [f"<dict>: {expected}"]


def test_resource_bounds_allow_the_limit_and_are_all_reported(monkeypatch):
    monkeypatch.setenv("LIQSIM_MEMORY_LIMIT_GB", "1000")  # these runs need about 8 GB: whatever this machine has
    scn = parse_scenario(
        {
            "scenario": {"duration_s": 86400},
            "book": {"noise_rate_per_s": 231.4814815},
            "output": {"sample_interval_s": 0.01728},
            "market": {"tick_size_usd": 0.00484},
        }
    )
    assert scn.output.sample_interval_s == 0.01728
    got = problems_of(
        load_scenario,
        SCENARIOS / "calm.toml",
        {
            "scenario.duration_s": 86400,
            "book.noise_rate_per_s": 500,
            "output.sample_interval_s": 0.01,
            "market.tick_size_usd": 0.001,
        },
    )
    assert [m.split(": ")[:2] for m in got] == [
        ["override", "market.tick_size_usd = 0.001"],
        ["override", "output.sample_interval_s = 0.01"],
        ["override", "book.noise_rate_per_s = 500"],
    ]


def tiers(*rows):
    keys = ("notional_floor_usd", "max_leverage", "mmr_pct", "maintenance_amount_usd")
    return {"market": {"tiers": [dict(zip(keys, r)) for r in rows]}}


def test_tier_maintenance_amount_must_follow_the_recurrence():
    (msg,) = problems_of(parse_scenario, tiers((0, 100, 0.5, 0), (10000, 50, 1.0, 60), (1e6, 20, 2.0)))
    assert msg == (
        "<dict>: market.tiers[1].maintenance_amount_usd = 60: expected 50 from cum[n] = cum[n-1] + "
        "floor[n]·(MMR[n] − MMR[n-1]) with cum[0] = 0 (MMR as a fraction)"
    )


def test_tier_maintenance_amounts_are_computed_when_omitted():
    scn = parse_scenario(
        {**tiers((0, 100, 0.5), (10000, 50, 1.0), (1e6, 20, 2.0, 10050.004)), "population": {"leverage_mix": {"10": 1}}}
    )
    floor, mmr, cum, lev = scn.market.tier_arrays()
    np.testing.assert_allclose(cum, [0, 50, 10050.004])
    np.testing.assert_allclose(mmr, [0.005, 0.01, 0.02])
    assert floor.dtype == lev.dtype == np.float64 and list(lev) == [100, 50, 20]


def test_tier_ordering_rules_name_the_entry():
    got = problems_of(parse_scenario, tiers((10, 100, 0.5), (5, 120, 0.4), (20, 150, 0.9)))
    assert got == [
        "<dict>: market.tiers[0].notional_floor_usd = 10: the first tier must start at 0",
        "<dict>: market.tiers[1].notional_floor_usd = 5: must be greater than market.tiers[0].notional_floor_usd = 10",
        "<dict>: market.tiers[1].mmr_pct = 0.4: must be at least market.tiers[0].mmr_pct = 0.5",
        "<dict>: market.tiers[1].max_leverage = 120: must be at most market.tiers[0].max_leverage = 100",
        "<dict>: market.tiers[2].max_leverage = 150: must be at most market.tiers[1].max_leverage = 120",
        "<dict>: market.tiers[2].mmr_pct = 0.9: must be below 100 / max_leverage = 0.6666666666666666, or a "
        "position opened at the tier's maximum leverage would start below maintenance",
    ]


def test_tier_entries_must_be_complete_tables():
    got = problems_of(
        parse_scenario, {"market": {"tiers": [{"notional_floor_usd": 0, "max_leverage": 10, "mmr": 1}, 3]}}
    )
    assert got == [
        "<dict>: market.tiers[0].mmr: unknown key; allowed: maintenance_amount_usd, max_leverage, mmr_pct, "
        "notional_floor_usd",
        "<dict>: market.tiers[0].mmr_pct: missing; required in every market.tiers entry",
        "<dict>: market.tiers[1] = 3: must be a table",
    ]


def test_leverage_mix_is_sorted_and_checked_against_the_first_tier():
    scn = parse_scenario({"population": {"leverage_mix": {"10": 1, "2.5": 3, "1": 0}}})
    assert scn.population.leverage_mix == ((1.0, 0.0), (2.5, 3.0), (10.0, 1.0))
    lev, prob = scn.population.leverage_mix_arrays()
    np.testing.assert_allclose(prob, [0, 0.75, 0.25])
    assert scn.to_dict()["population"]["leverage_mix"] == {"1": 0.0, "2.5": 3.0, "10": 1.0}
    (msg,) = problems_of(parse_scenario, {"population": {"leverage_mix": {"200": 1}}})
    assert msg == "<dict>: population.leverage_mix.200: leverage must be in [1, 150] (market.tiers[0].max_leverage)"


def test_leverage_mix_problems(tmp_path):
    path = toml_file(tmp_path, "[population.leverage_mix]\n2.5 = 1\nx = 1\n0.5 = 1\n")
    got = problems_of(load_scenario, path)
    assert got == [
        f"{path}: population.leverage_mix.2 = {{'5': 1}}: is a table, not a weight; quote a fractional leverage, "
        'e.g. "2.5" = 0.1',
        f"{path}: population.leverage_mix.x: the key must be a leverage: a number ≥ 1",
        f"{path}: population.leverage_mix.0 = {{'5': 1}}: is a table, not a weight; quote a fractional leverage, "
        'e.g. "2.5" = 0.1',
    ]
    (msg,) = problems_of(parse_scenario, {"population": {"leverage_mix": {"2": 0, "5": -1}}})
    assert msg == "<dict>: population.leverage_mix.5 = -1: the weight must be a number ≥ 0"
    (msg,) = problems_of(parse_scenario, {"population": {"leverage_mix": {"2": 0}}})
    assert msg == "<dict>: population.leverage_mix = {'2': 0}: needs at least one positive weight"


def test_tables_must_be_tables(tmp_path):
    path = toml_file(tmp_path, "market = 3\n[[adl]]\nenabled = true\n")
    assert problems_of(load_scenario, path) == [
        f"{path}: market = 3: must be a table ([market])",
        f"{path}: adl: must be a table ([adl]), not an array of tables ([[adl]])",
    ]


def test_population_file_excludes_synthetic_keys():
    got = problems_of(
        parse_scenario,
        {
            "population": {
                "file": str(DATA / "scn_positions.csv"),
                "n_positions": 5,
                "open_interest_usd": 8e9,
                "long_share": 0.5,
                "counterparty_leverage": 3,
            }
        },
    )
    assert got == [
        f"<dict>: population.{key} = {value!r}: cannot be set together with population.file (the positions come "
        "from the file)"
        for key, value in (("n_positions", 5), ("open_interest_usd", 8e9), ("long_share", 0.5))
    ]


def positions_problems(tmp_path, rows, **population):
    path = csv_file(tmp_path, "side,size,entry_price,leverage,mode,wallet\n" + rows)
    return path, problems_of(
        parse_scenario, {"market": BINANCE_2024_10, "population": {"file": str(path), **population}}
    )


# the tier table these cases were written against (125x to 50k, then 100x)
BINANCE_2024_10 = {"venue_version": "2024-10"}


def test_positions_bankrupt_at_the_start_price(tmp_path):
    # 10x long from 135000 at 121000: margin 13500, loss 14000; cross wallet 20000 survives the same loss
    path, got = positions_problems(
        tmp_path,
        "long,1,135000,10,,\nlong,1,135000,10,cross,20000\n\nshort,1,110000,10,cross,11000\nlong,1,100000,10,,\n",
    )
    assert got == [
        f"{path}: line 2: equity at market.start_price_usd = 121000 is -500 USD (wallet + side·size·(start price − "
        "entry_price)); it must be > 0, or the position is bankrupt before the run starts (population.file)",
        f"{path}: line 5: equity at market.start_price_usd = 121000 is 0 USD (wallet + side·size·(start price − "
        "entry_price)); it must be > 0, or the position is bankrupt before the run starts (population.file)",
    ]
    # solvent but already past its liquidation price: allowed, liquidated at the first tick
    assert parse_scenario(
        {
            "population": {
                "file": str(csv_file(tmp_path, "side,size,entry_price,leverage\nlong,1,130000,10\n", "ok.csv"))
            }
        }
    )
    md = schema_markdown()
    assert "a solvent row already past its liquidation price is allowed and is liquidated at the first tick" in md


def test_positions_above_their_tier_leverage(tmp_path):
    # notional 121000 is in the 50k tier (100x); 0.1 BTC = 12100 is in the first tier (125x)
    path, got = positions_problems(
        tmp_path, "long,1,121000,101,,\nlong,0.1,121000,125,,\nshort,1,121000,100,cross,2000\nlong,1,121000,100,,\n"
    )
    assert got == [
        f"{path}: line 2: leverage = 101 (size·entry_price / margin = 121000 / 1198.019802): must be at most 100, "
        "the max_leverage of market.tiers[1] for a notional of 121000 USD (population.file)",
    ]
    path = csv_file(
        tmp_path,
        "side,size,entry_price,margin,mode,wallet\nshort,1,121000,1000,cross,5000\nlong,1,121000,1500,,\n",
        "m.csv",
    )
    (msg,) = problems_of(parse_scenario, {"market": BINANCE_2024_10, "population": {"file": str(path)}})
    assert msg == (
        f"{path}: line 2: leverage = 121 (size·entry_price / margin = 121000 / 1000): must be at most "
        "100, the max_leverage of market.tiers[1] for a notional of 121000 USD (population.file)"
    )
    tiers_ = {"market": {"tiers": [{"notional_floor_usd": 0, "max_leverage": 20, "mmr_pct": 1}]}}
    got = problems_of(parse_scenario, {**tiers_, "population": {"file": str(path)}})
    assert [m.split(": ")[1] for m in got] == ["line 2", "line 3"]
    assert all("must be at most 20, the max_leverage of market.tiers[0]" in m for m in got)


def test_position_file_problems_are_capped_and_join_the_others(tmp_path):
    path, got = positions_problems(tmp_path, "long,1,200000,10,,\n" * 15 + "long,1,121000,200,,\n" * 10, long_share=0.5)
    assert got[0] == (
        "<dict>: population.long_share = 0.5: cannot be set together with population.file (the "
        "positions come from the file)"
    )
    assert len(got) == 22 and got[-1] == "... and 5 more"
    assert got[1].startswith(f"{path}: line 2: equity at") and got[16].startswith(f"{path}: line 17: leverage = 200")


def test_replay_needs_a_file_and_only_replay_takes_one():
    (msg,) = problems_of(parse_scenario, {"shock": {"kind": "replay"}})
    assert msg == "<dict>: shock.kind = 'replay': replay needs shock.file (a CSV with columns timestamp,price)"
    (msg,) = problems_of(parse_scenario, {"shock": {"kind": "gap", "file": "p.csv"}})
    assert msg == "<dict>: shock.file = 'p.csv': only allowed with shock.kind = 'replay' (it is 'gap')"


def test_shock_must_stay_inside_the_book_range(tmp_path):
    (msg,) = problems_of(parse_scenario, {"shock": {"kind": "gap", "size_pct": -45}})
    assert msg == (
        "<dict>: shock.size_pct = -45.0: the index path reaches 66550 USD, outside the book ladder less "
        "its 1% margin (73810–168190 USD for book.range_pct = 40); book.range_pct would have to be at "
        "least 46"
    )
    assert parse_scenario({"shock": {"kind": "ramp", "size_pct": -39}}).shock.size_pct == -39
    path = csv_file(tmp_path, "timestamp,price\n0,100\n10,50\n20,90\n")
    (msg,) = problems_of(parse_scenario, {"shock": {"kind": "replay", "file": str(path)}})
    assert msg.startswith(f"<dict>: shock.file = '{path}': the index path reaches 60500 USD")
    assert parse_scenario({"shock": {"kind": "replay", "file": str(path)}, "book": {"range_pct": 51}})


def test_data_file_problems_join_the_scenario_problems(tmp_path):
    csv_file(tmp_path, "side,price,size\nbid,121000.05,1\n", "book.csv")
    path = toml_file(tmp_path, '[book]\nfile = "book.csv"\n[population]\nfile = "nope.csv"\n')
    assert problems_of(load_scenario, path) == [
        f"{path}: population.file = 'nope.csv': no such file ({tmp_path / 'nope.csv'})",
        f"{tmp_path / 'book.csv'}: line 2: price = '121000.05': must be a multiple of the tick size 0.1 "
        "(market.tick_size_usd)",
    ]


def test_malformed_toml_names_the_line():
    path = DATA / "scn_malformed.toml"
    (msg,) = problems_of(load_scenario, path)
    assert msg.startswith(f"{path}: line 6, column 15: invalid TOML: ")


def test_missing_scenario_file(tmp_path):
    assert problems_of(load_scenario, tmp_path / "nope.toml") == [f"{tmp_path / 'nope.toml'}: no such file"]


def test_every_problem_is_reported_at_once(tmp_path):
    path = toml_file(
        tmp_path,
        """
[scenario]
name = "a b"
seed = -1
[market]
tick_size_usd = "0.1"
colour = "red"
[population]
long_share = 2
[shock]
kind = "replay"
[output]
plot = "yes"
""",
    )
    got = problems_of(load_scenario, path, {"book.shape": 9})
    keys = [m.split(": ")[1].split(" =")[0] for m in got]
    assert keys == [
        "scenario.name",
        "scenario.seed",
        "market.colour",
        "market.tick_size_usd",
        "population.long_share",
        "book.shape",
        "output.plot",
        "shock.kind",
    ]
    assert all(m.startswith(f"{path}: ") for m in got if "book.shape" not in m)


# ------------------------------------------------------------------------------------------------ overrides


def test_override_strings_are_read_as_toml_values():
    scn = load_scenario(
        overrides={
            "population.n_positions": "2e5",
            "adl.enabled": "false",
            "population.leverage_mix": "{2=0.5, 10=0.5}",
            "scenario.name": "123",
            "scenario.description": "a calm day",
            "market.symbol": '"ETHUSDT"',
            "book.shape": 1.25,
            "population.open_interest_usd": " 2.5e9 ",
        }
    )
    assert scn.population.n_positions == 200_000 and scn.adl.enabled is False
    assert scn.population.leverage_mix == ((2.0, 0.5), (10.0, 0.5))
    assert (scn.scenario.name, scn.scenario.description, scn.market.symbol) == ("123", "a calm day", "ETHUSDT")
    assert scn.book.shape == 1.25 and scn.population.open_interest_usd == 2.5e9
    assert load_scenario(overrides={"population.open_interest_usd": "0"}).population.open_interest_usd == 0


def test_override_problems():
    got = problems_of(
        load_scenario,
        SCENARIOS / "calm.toml",
        {"population.long_share": "1.5", "seed": 1, "population.nope": 1, "market.tick_size_usd": "x"},
    )
    assert got[0].startswith("override: seed: unknown key; allowed: adl.<key>, arrivals.<key>, book.<key>")
    assert got[1].startswith("override: population.nope: unknown key; allowed: population.counterparty_leverage, ")
    assert got[2:] == [
        "override: market.tick_size_usd = 'x': must be a number in (0, market.start_price_usd / 10]",
        "override: population.long_share = 1.5: must be a number in [0, 1]",
    ]


def test_with_overrides_is_validated_like_the_file():
    base = load_scenario(SCENARIOS / "calm.toml")
    scn = base.with_overrides({"shock.kind": "gap", "shock.size_pct": "-20"})
    assert scn.scenario.name == "calm" and scn.shock.kind == "gap" and scn.shock.size_pct == -20
    assert base.shock.kind == "none"
    assert base.with_overrides({"scenario.duration_s": "30"}).scenario.duration_s == 30  # no shock: start_s unused
    (msg,) = problems_of(base.with_overrides, {"scenario.duration_s": "30", "shock.kind": "gap"})
    assert (
        msg
        == f"{SCENARIOS / 'calm.toml'}: shock.start_s = 60.0: must be a number in [0, 30] (30 = scenario.duration_s)"
    )
    assert Scenario().with_overrides({"output.plot": False}).output.plot is False


def test_relative_paths(tmp_path, monkeypatch):
    scn = load_scenario(DATA / "scn_files.toml")
    assert scn.population.file == str(DATA / "scn_positions.csv")
    monkeypatch.chdir(tmp_path)
    csv_file(tmp_path, "side,price,size\nask,121000.2,1\n", "here.csv")
    assert scn.with_overrides({"book.file": "here.csv"}).book.file == str(tmp_path / "here.csv")
    assert parse_scenario({"book": {"file": "here.csv"}}).book.file == str(tmp_path / "here.csv")
    assert load_scenario(overrides={"book.file": ""}).book.file is None


# ------------------------------------------------------------------------------------------------ round trip


def round_trip(scn, tmp_path):
    text = scn.to_toml()
    back = load_scenario(toml_file(tmp_path, text, "back.toml"))
    assert tomllib.loads(text) == scn.to_dict()
    return back


@pytest.mark.parametrize("source", [None, SCENARIOS / "calm.toml", DATA / "scn_files.toml"])
def test_round_trip(source, tmp_path):
    scn = load_scenario(source)
    assert round_trip(scn, tmp_path) == scn


def test_scenario_with_data_files():
    scn = load_scenario(DATA / "scn_files.toml")
    pos = scn.population.positions
    assert scn.population.n_positions == 4 and scn.population.counterparty_leverage == 2
    assert pos["side"].dtype == np.int8 and list(pos["side"]) == [1, -1, -1, 1]
    assert list(pos["mode"]) == [0, 1, 0, 1]
    np.testing.assert_allclose(pos["wallet"], [6000, 20000, 1190, 4840])
    np.testing.assert_allclose(pos["margin"], [6000, 122500.5 * 1.25 / 20, 1190, 4840])
    assert list(pos["line"]) == [2, 3, 4, 5]
    assert len(scn.book.levels["price"]) == 6
    assert list(scn.shock.path["t_s"]) == [0, 1, 1, 30, 90]
    assert "n_positions" not in scn.to_dict()["population"] and "open_interest_usd" not in scn.to_dict()["population"]
    assert "array(" not in repr(scn)


@settings(max_examples=40 * settings.default.max_examples // 100, deadline=None)
@given(
    seed=st.integers(0, 2**63 - 1),
    long_share=st.floats(0, 1),
    size=st.floats(-38, 38),
    mix=st.dictionaries(st.floats(1, 125), st.floats(0.01, 10), min_size=1, max_size=5),
    name=st.from_regex(r"[A-Za-z0-9_.-]{1,12}", fullmatch=True),
    ramp=st.booleans(),
)
def test_round_trip_property(tmp_path_factory, seed, long_share, size, mix, name, ramp):
    scn = load_scenario(
        overrides={
            "scenario.seed": seed,
            "population.long_share": long_share,
            "shock.size_pct": size,
            "population.leverage_mix": {str(k): w for k, w in mix.items()},
            "scenario.name": name,
            "shock.kind": "ramp" if ramp else "gap",
        }
    )
    assert round_trip(scn, tmp_path_factory.mktemp("rt")) == scn


# ------------------------------------------------------------------------------------------------- CSV files


def test_positions_csv_margin_column(tmp_path):
    path = csv_file(tmp_path, "Side, Size ,entry_price,margin\nshort,2,100,50\n\nlong,1,200,200\n")
    pos = read_positions_csv(path)
    assert list(pos["side"]) == [-1, 1] and list(pos["wallet"]) == [50, 200] and list(pos["mode"]) == [0, 0]
    assert list(pos["margin"]) == [50, 200] and list(pos["line"]) == [2, 4] and pos["line"].dtype == np.int64
    assert pos["size"].dtype == pos["entry_price"].dtype == np.float64


def test_positions_csv_bad_rows_are_all_reported(tmp_path):
    path = csv_file(
        tmp_path,
        "side,size,entry_price,leverage,mode,wallet\n"
        "up,1,100,10,,\n"
        "long,-1,100,10,,\n"
        "long,1,,10,,\n"
        "long,1,100,0.5,,\n"
        "long,1,100,10,hedge,\n"
        "long,1,100,10,isolated,50\n"
        "long,1,100,10,cross,5\n"
        "long,1,100\n",
    )
    assert problems_of(read_positions_csv, path) == [
        f"{path}: line 9: 3 fields, but the header has 6 (side, size, entry_price, leverage, mode, wallet)",
        f"{path}: line 2: side = 'up': must be one of long, short, 1, -1, +1",
        f"{path}: line 3: size = '-1': must be a number > 0",
        f"{path}: line 4: entry_price = '': must not be blank",
        f"{path}: line 5: leverage = '0.5': must be a number ≥ 1",
        f"{path}: line 6: mode = 'hedge': must be one of isolated, cross",
        f"{path}: line 7: wallet = '50': must be blank for isolated rows (an isolated position's wallet is its margin)",
        f"{path}: line 8: wallet = '5': must be at least the row's margin (10 USD) for a cross account",
    ]


@pytest.mark.parametrize(
    "header, expected",
    [
        ("side,size,entry_price,margin,leverage", "needs exactly one of the columns margin or leverage"),
        ("side,size,entry_price", "needs exactly one of the columns margin or leverage"),
        ("side,size,margin", "missing column(s) entry_price; required: side, size, entry_price"),
        (
            "side,size,entry_price,margin,colour",
            "unknown column 'colour'; allowed: side, size, entry_price, margin, leverage, mode, wallet",
        ),
        ("side,size,size,entry_price,margin", "column 'size' appears more than once"),
    ],
)
def test_positions_csv_header_problems(tmp_path, header, expected):
    path = csv_file(tmp_path, f"\n{header}\nlong,1,100,10,1\n")
    assert problems_of(read_positions_csv, path) == [f"{path}: line 2: {expected}"]


def test_csv_file_level_problems(tmp_path):
    assert problems_of(read_book_csv, tmp_path / "none.csv") == [f"{tmp_path / 'none.csv'}: no such file"]
    empty = csv_file(tmp_path, "\n\n")
    assert problems_of(read_book_csv, empty) == [
        f"{empty}: empty file; expected a header line with columns side, price, size"
    ]
    header_only = csv_file(tmp_path, "side,price,size\n")
    assert problems_of(read_book_csv, header_only) == [f"{header_only}: no data rows after the header"]


def test_csv_problems_are_capped(tmp_path):
    path = csv_file(tmp_path, "side,price,size\n" + "bid,-1,1\n" * 25)
    got = problems_of(read_book_csv, path)
    assert len(got) == 21 and got[-1] == "... and 5 more"
    assert capped(["a", "b"], 1) == ["a", "... and 1 more"]


def test_book_csv_checks_the_market(tmp_path):
    path = csv_file(
        tmp_path,
        "side,price,size\nbid,99.95,1\nbid,101,1\nask,100.5,0\nask,200,1\nspread,1,1\nbid,99.9,1\nbid,99.9,2\n",
    )
    assert problems_of(read_book_csv, path, tick_size=0.1, start_price=100.0, range_pct=40) == [
        f"{path}: line 2: price = '99.95': must be a multiple of the tick size 0.1 (market.tick_size_usd)",
        f"{path}: line 3: price = '101': a bid must be below the start price 100 (market.start_price_usd)",
        f"{path}: line 4: size = '0': must be a number > 0",
        f"{path}: line 5: price = '200': must lie within the book range 60–140 (market.start_price_usd ± "
        "book.range_pct = 40%)",
        f"{path}: line 6: side = 'spread': must be one of bid, ask",
        f"{path}: line 8: price = '99.9': the bid side lists this price twice",
    ]
    levels = read_book_csv(DATA / "scn_book.csv")
    assert list(levels["side"]) == [1, 1, 1, -1, -1, -1] and levels["side"].dtype == np.int8


def test_path_csv(tmp_path):
    path = read_path_csv(DATA / "scn_path.csv")  # millisecond timestamps
    assert list(path["t_s"]) == [0, 1, 1, 30, 90] and path["price"][0] == 60000
    seconds = read_path_csv(csv_file(tmp_path, "timestamp,price\n1760130000,1\n1760130000.5,2\n"))
    assert list(seconds["t_s"]) == [0, 0.5]
    bad = csv_file(tmp_path, "timestamp,price\n10,1\n5,1\nsoon,1\n20,inf\n")
    assert problems_of(read_path_csv, bad) == [
        f"{bad}: line 3: timestamp = '5': must not be earlier than the previous row's timestamp",
        f"{bad}: line 4: timestamp = 'soon': must be a finite number",
        f"{bad}: line 5: price = 'inf': must be a number > 0",
    ]
    short = csv_file(tmp_path, "timestamp,price\n10,1\n")
    assert problems_of(read_path_csv, short) == [f"{short}: needs at least 2 rows, found 1"]


def test_venue_rules_that_contradict_each_other_are_refused():
    def problems(overrides):
        with pytest.raises(ScenarioError) as exc:
            load_scenario(None, overrides=overrides)
        return exc.value.problems

    # the key the user set is blamed, not the pack's mark_method it contradicts
    (msg,) = problems({"market.venue": "hyperliquid", "venue.mark_ema_slow_s": 0})
    assert msg.startswith("override: venue.mark_ema_slow_s = 0: mark_method = 'hyperliquid' needs mark_ema_slow_s")
    # a fee counted in the trigger may not put a position opened at the tier's maximum leverage past it
    (msg,) = problems({"market.venue": "okx", "venue.clearance_fee_pct": 1})
    assert msg.startswith(
        "override: venue.clearance_fee_pct = 1: with the fee counted in the trigger, tier 1's "
        "MMR + fee = 1.4% must stay below 100 / max_leverage = 1%"
    )
    (msg,) = problems({"venue.partial_min_tier": 50})
    assert "venue.partial_min_tier = 50: must be at most the number of tiers" in msg
    (msg,) = problems({"venue.partial_rule": "slices"})
    assert "slices need a backstop" in msg


def test_a_saved_default_scenario_reruns_on_a_venue_with_a_lower_maximum_leverage(tmp_path):
    """A saved scenario writes the default mix as its table (50× and 100× in it); read back on Hyperliquid (40×) it
    is capped like the default, so the run's scenario.toml reruns there. Another table must fit (test_mixes)."""
    from sim.config import mixes
    from sim.config.scenario import load_scenario

    scn = load_scenario(None, overrides={"market.venue": "hyperliquid"})
    path = tmp_path / "s.toml"
    path.write_text(scn.to_toml(relative_to=tmp_path))
    back = load_scenario(str(path))
    assert back.population.leverage_mix == mixes.DEFAULT
    assert back.to_dict() == scn.to_dict()
