"""Venue and ADL-policy comparisons: one run per combination, the rules actually applied, the table,
the files, the command line and the figure."""

import csv
import json
import struct

import numpy as np
import pytest
from matplotlib.figure import Figure

import sim
from sim.cli import main
from sim.enums import TRADER
from sim.report import plots
from sim.studies import compare as C
from sim.venues import DEFAULTS

SCENARIO = "scenarios/venue_comparison.toml"
SMALL = {"population.n_positions": 1500, "scenario.duration_s": 40.0, "shock.start_s": 10.0}
SMALL_FLAGS = [arg for key, value in SMALL.items() for arg in ("--set", f"{key}={value}")]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def base():
    return sim.load_scenario(SCENARIO, overrides=SMALL)


@pytest.fixture(scope="module")
def venues_cmp(compiled, base):
    return C.compare(base)


@pytest.fixture(scope="module")
def policies_cmp(compiled, base):
    return C.compare(base, venues=["binance"], policies="venue_queue,pro_rata,leverage_drain")


def test_one_run_per_combination_with_the_rules_applied(compiled, base):
    seen = []
    cmp = C.compare(base, venues=("okx", "hyperliquid"), policies=("pro_rata", "leverage_drain"), progress=seen.append)
    assert cmp.labels == ("okx/pro_rata", "okx/leverage_drain", "hyperliquid/pro_rata", "hyperliquid/leverage_drain")
    assert [(r.scenario.market.venue, r.scenario.adl.policy) for r in cmp.results] == [
        ("okx", "pro_rata"),
        ("okx", "leverage_drain"),
        ("hyperliquid", "pro_rata"),
        ("hyperliquid", "leverage_drain"),
    ]
    assert cmp.overrides[0] == {"market.venue": "okx", "adl.policy": "pro_rata", "market.venue_version": None}
    assert {r.seed for r in cmp.results} == {base.scenario.seed}
    assert seen == sorted(seen) and seen[-1] == 1.0


def test_default_is_every_venue_under_the_scenarios_policy(venues_cmp, base):
    assert venues_cmp.labels == ("binance", "bybit", "okx", "hyperliquid", "dydx")
    assert venues_cmp.venues == venues_cmp.labels
    assert venues_cmp.policies == (base.adl.policy,) * 5
    assert venues_cmp.scenario is base


def test_venues_differ_on_the_same_draws(venues_cmp):
    traders = [r.accounts[r.accounts["kind"] == TRADER] for r in venues_cmp.results]
    for acc in traders[1:]:  # the same seed: the same traders, sides and sizes drawn
        assert np.array_equal(np.sign(acc["position_start"]), np.sign(traders[0]["position_start"]))
    totals = [r.summary["liquidated_notional_usd"]["total"] for r in venues_cmp.results]
    lp = [acc["liquidation_price_start"] for acc in traders]
    for i in range(4):
        for j in range(i):
            assert totals[i] != totals[j] or not np.allclose(lp[i], lp[j], equal_nan=True), (i, j)
    assert len(set(totals)) > 1


def test_policies_share_the_cascade_and_differ_in_who_pays(policies_cmp):
    assert policies_cmp.labels == ("venue_queue", "pro_rata", "leverage_drain")
    assert set(policies_cmp.venues) == {"binance"}
    assert [r.scenario.adl.policy for r in policies_cmp.results] == list(policies_cmp.labels)
    adl_accounts = [r.summary["adl"]["accounts"] for r in policies_cmp.results]
    assert adl_accounts[0] > 0 and len(set(adl_accounts)) > 1


def test_table_rows_are_the_summaries(venues_cmp):
    rows = venues_cmp.table()
    assert [row["label"] for row in rows] == list(venues_cmp.labels)
    for row, res in zip(rows, venues_cmp.results):
        assert tuple(row) == C.FIELDS
        s = res.summary
        assert (row["venue"], row["policy"]) == (res.scenario.market.venue, res.scenario.adl.policy)
        assert row["liquidated_total_usd"] == s["liquidated_notional_usd"]["total"]
        assert row["liquidated_long_usd"] == s["liquidated_notional_usd"]["long"]
        assert row["full_liquidations"] == s["liquidations"]["full"]
        assert row["fund_min_usd"] == s["insurance_fund_usd"]["min"]
        assert row["fund_end_marked_usd"] == s["insurance_fund_usd"]["end_marked"]
        assert row["adl_notional_usd"] == s["adl"]["notional_usd"]
        assert row["adl_gini_haircut_usd"] == s["adl"]["gini_haircut_usd"]
        assert row["peak_liquidation_minute_usd"] == s["peak_liquidation_minute_usd"]
        for name, path in C.COLUMNS:
            value = s
            for key in path:
                value = value[key]
            assert row[name] == value, name


def test_save_writes_three_files_atomically(venues_cmp, tmp_path):
    out = tmp_path / "cmp"
    assert venues_cmp.save(out) == out.resolve()
    assert sorted(p.name for p in out.iterdir()) == [
        ".liqsim.json",
        "comparison.csv",
        "comparison.json",
        "comparison.png",
    ]
    with open(out / "comparison.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["label"] for r in rows] == list(venues_cmp.labels)
    assert float(rows[2]["liquidated_total_usd"]) == venues_cmp.table()[2]["liquidated_total_usd"]
    doc = json.loads((out / "comparison.json").read_text())
    assert [run["overrides"] for run in doc["runs"]] == [dict(o) for o in venues_cmp.overrides]
    assert doc["base_scenario"]["population"]["n_positions"] == 1500
    assert doc["base_scenario"]["shock"]["kind"] == "gap"
    assert (out / "comparison.png").read_bytes()[:8] == PNG_MAGIC
    venues_cmp.save(out, plot=False)  # an earlier comparison's folder is replaced
    assert sorted(p.name for p in out.iterdir()) == [".liqsim.json", "comparison.csv", "comparison.json"]
    assert json.loads((out / ".liqsim.json").read_text())["kind"] == "comparison"
    assert [p.name for p in tmp_path.iterdir()] == ["cmp"]  # no temporary leftovers


def test_save_refuses_a_foreign_folder(venues_cmp, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(sim.ScenarioError, match="notes.txt"):
        venues_cmp.save(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
    (tmp_path / "afile").write_text("x")
    with pytest.raises(sim.ScenarioError, match="is a file"):
        venues_cmp.save(tmp_path / "afile")


def test_bad_names_and_invalid_combinations_raise_before_any_run(base, monkeypatch):
    import sim.engine

    monkeypatch.setattr(sim.engine, "run", lambda *a, **k: pytest.fail("ran"))
    with pytest.raises(sim.ScenarioError, match=r"venues = 'kraken': must be a comma-separated list of binance"):
        C.compare(base, venues=["kraken"])
    with pytest.raises(sim.ScenarioError, match=r"policies = 'fifo,pro_rata'"):
        C.compare(base, policies="fifo,pro_rata")
    wide = base.with_overrides({"population.leverage_mix": {"10": 0.5, "100": 0.5}})
    with pytest.raises(sim.ScenarioError) as err:
        C.compare(wide)
    # the venues whose max leverage is under 100x (Hyperliquid 40x, dYdX 50x)
    assert [p.split(":")[0] for p in err.value.problems] == ["hyperliquid", "dydx"]
    assert "population.leverage_mix.100" in str(err.value)


def test_a_venue_version_stays_with_its_venue(base):
    pinned = base.with_overrides({"market.venue_version": "2021-03"})
    plan = dict(C.run_overrides(pinned, venues="binance,okx"))
    assert plan["binance"] == {"market.venue": "binance", "adl.policy": "venue_queue"}
    assert plan["okx"]["market.venue_version"] is None
    assert pinned.with_overrides(plan["okx"]).market.venue_version == DEFAULTS["okx"]
    assert pinned.with_overrides(plan["binance"]).market.venue_version == "2021-03"


def test_shipped_scenario_validates_on_every_venue():
    scn = sim.load_scenario(SCENARIO)
    assert scn.population.n_positions == 100_000
    for _, ov in C.run_overrides(scn, policies=list(C.ADL_POLICY_NAMES)):
        scn.with_overrides(ov)


@pytest.mark.parametrize(
    "flag, value, needle",
    [
        (
            "--venues",
            "binance,kraken",
            "--venues = 'binance,kraken': must be a comma-separated list of binance, bybit, okx, hyperliquid, dydx",
        ),
        (
            "--policies",
            "fifo",
            "--policies = 'fifo': must be a comma-separated list of venue_queue, pro_rata, leverage_drain",
        ),
    ],
)
def test_cli_bad_name_exits_2_and_writes_nothing(tmp_path, capsys, flag, value, needle):
    out = tmp_path / "never"
    assert main(["compare", SCENARIO, *SMALL_FLAGS, flag, value, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"liqsim: error: {needle}" in err and "Traceback" not in err
    assert not out.exists() and not list(tmp_path.iterdir())


def test_cli_writes_the_comparison_and_prints_a_table(compiled, tmp_path, capsys):
    out = tmp_path / "cmp"
    assert (
        main(
            [
                "compare",
                SCENARIO,
                *SMALL_FLAGS,
                "--venues",
                "binance,okx",
                "--seed",
                "3",
                "--no-plot",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert sorted(p.name for p in out.iterdir()) == [".liqsim.json", "comparison.csv", "comparison.json"]
    rows = list(csv.DictReader(open(out / "comparison.csv")))
    assert [(r["venue"], r["policy"]) for r in rows] == [("binance", "venue_queue"), ("okx", "venue_queue")]
    assert json.loads((out / "comparison.json").read_text())["seed"] == 3
    printed = capsys.readouterr().out.splitlines()
    assert "liquidated" in printed[1] and "Gini" in printed[1]
    assert printed[2].split()[0] == "binance" and printed[3].split()[0] == "okx"
    assert str(out) in printed[-1]


def png_size(path):
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    return struct.unpack(">II", data[16:24])


@pytest.mark.parametrize("which", ["venues_cmp", "policies_cmp"])
def test_plot_venue_comparison(request, tmp_path, which):
    cmp = request.getfixturevalue(which)
    fig = plots.plot_venue_comparison(cmp)
    assert isinstance(fig, Figure) and len(fig.axes) == 4
    assert tuple(fig.get_size_inches()) == plots.COMPARISON_FIGSIZE
    cumulative = fig.axes[0]
    assert len(cumulative.lines) == len(cmp.results)
    if which == "venues_cmp":  # one colour per venue, the same in every panel
        colors = [line.get_color() for line in cumulative.lines]
        assert colors == [plots.VENUE_COLORS[v] for v in cmp.venues]
    assert "venue_comparison" in fig.get_suptitle()
    fig.savefig(tmp_path / "cmp.png", dpi=plots.COMPARISON_DPI)
    assert png_size(tmp_path / "cmp.png") == (1680, 960)


def test_plot_on_a_given_figure(venues_cmp):
    fig = Figure(figsize=(14, 8))  # room for four panels and their legends (a default-size figure collapses them)
    assert plots.plot_venue_comparison(venues_cmp, fig) is fig
    assert len(fig.axes) == 4
