"""Runs of several instruments end to end: `liqsim run` and `sim.run`, their folder, and collateral in scenarios.

* `liqsim run` writes one folder for the whole run (marker kind "instruments"), replaces only its own kind, and
  `sim.run` returns a MultiResult whose per-instrument tables agree with the contagion section.
* `[collateral.<ASSET>]`: holders move part of their margin into the asset at its start price, counted at the
  venue's ratio; a depeg alone liquidates accounts, and the same run without the depeg does not (switched off).
* Bad collateral settings end with one message naming the key, exit status 2.
"""

import json
import math

import numpy as np
import pytest

import sim
from sim.cli import main

SMALL = {"population.n_positions": 12000}


@pytest.fixture(scope="module")
def depeg(compiled):
    """The shipped depeg-alone scenario, small, with and without its depeg."""
    scn = sim.load_scenario("usde_depeg", overrides=SMALL)
    return sim.run(scn), sim.run(scn.with_overrides({"collateral.USDe.move_pct": 0.0}))


def test_liqsim_run_writes_one_folder_for_a_run_of_several_instruments(compiled, tmp_path, capsys):
    out = tmp_path / "multi"
    args = ["run", "multi_asset_crash", "--set", "population.n_positions=12000", "--out", str(out), "--accounts"]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "4 instruments" in text and "cross-asset" in text and str(out) in text
    marker = json.loads((out / ".liqsim.json").read_text())
    assert marker["kind"] == "instruments"
    for name in ("BTC", "ETH", "SOL", "ALT"):
        for table in ("fills", "series", "adl", "accounts"):
            assert (out / f"{table}_{name}.csv").is_file()
    assert {"summary.json", "instruments.csv", "scenario.toml", "cascade.png", "cross_rows.csv"} <= set(marker["files"])
    doc = json.loads((out / "summary.json").read_text())
    assert doc["instruments"] == ["BTC", "ETH", "SOL", "ALT"]
    rows = (out / "instruments.csv").read_text().splitlines()
    assert len(rows) == 5 and rows[0].startswith("instrument,symbol,beta")
    for line in rows[1:]:
        name, liq = line.split(",")[0], float(line.split(",")[7])
        assert liq == pytest.approx(doc["contagion"]["markets"][name]["liquidated_usd"], rel=1e-12)
    assert main(args) == 0  # its own folder: replaced
    assert (
        sim.load_scenario(str(out / "scenario.toml")).instruments == sim.load_scenario("multi_asset_crash").instruments
    )


def test_a_run_folder_is_not_replaced_by_a_run_of_several_instruments(compiled, tmp_path, capsys):
    out = tmp_path / "one"
    assert main(["run", "btc_flash_crash", "--set", "population.n_positions=2000", "--out", str(out), "--no-plot"]) == 0
    before = sorted(p.name for p in out.iterdir())
    capsys.readouterr()
    assert main(["run", "multi_asset_crash", "--set", "population.n_positions=2000", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "holds a liqsim run (.liqsim.json), not a run of several instruments" in err and "Traceback" not in err
    assert sorted(p.name for p in out.iterdir()) == before


def test_sim_run_returns_one_result_per_instrument_and_the_contagion(compiled):
    scn = sim.load_scenario("multi_asset_crash", overrides=SMALL)
    res = sim.run(scn)
    again = sim.run(scn)
    assert res.names == ("BTC", "ETH", "SOL", "ALT")
    table = res.instruments()
    assert np.array_equal(table, again.instruments())  # same seed, same numbers
    for r in table:
        one = res.markets[r["instrument"]]
        assert one.summary["n_positions"] == r["positions"]
        assert one.scenario.market.asset == r["instrument"]
        t, usd, cause = res.forced(r["instrument"])
        assert math.fsum(usd) == pytest.approx(r["liquidated_usd"], rel=1e-9)
        assert math.fsum(usd[cause == 2]) == pytest.approx(r["cross_asset_usd"], rel=1e-9)
    assert res.summary["cross_asset_usd"] > 0
    frames = res.to_frames()
    assert list(frames["instruments"]["instrument"]) == list(res.names)
    fig = res.plot()
    assert len(fig.axes) == 3


def test_a_collateral_depeg_alone_liquidates_and_nothing_does_without_it(depeg):
    off, on = depeg[1], depeg[0]
    assert on.summary["collateral_driven_usd"] > 1e6
    assert off.summary["collateral_driven_usd"] == 0.0
    assert on.summary["liquidated_usd"] > 10 * max(off.summary["liquidated_usd"], 1.0)
    assert on.summary["cross_asset_usd"] == 0.0  # prices did not move: nothing else set them off
    assert "collateral" in set(on.cross_rows["cause"])
    t, p = on.collateral["USDe"]
    assert p[0] == 1.0 and p.min() == pytest.approx(0.65)


def test_holders_move_their_margin_into_collateral_at_its_start_price_less_the_haircut(compiled):
    from sim.config.collateral import assets
    from sim.config.instruments import market_scenarios, portfolio_rng
    from sim.engine import prepare
    from sim.world.collateral import holdings
    from sim.world.portfolio import group_accounts

    scn = sim.load_scenario(
        "multi_asset_crash",
        overrides={
            **SMALL,
            "collateral.USDe.share": 0.4,
            "collateral.USDe.margin_share": 0.75,
            "collateral.BTC.share": 1.0,
            "collateral.BTC.margin_share": 0.25,
        },
    )
    inputs = [prepare(s) for s in market_scenarios(scn)]
    names = ["BTC", "ETH", "SOL", "ALT"]
    row_acct = group_accounts(inputs, scn.portfolio, portfolio_rng(scn))
    after, spec = holdings(scn.scenario.seed, assets(scn, names, inputs), inputs, row_acct)
    acct = np.concatenate(row_acct)
    w0 = np.concatenate([i.pos_wallet for i in inputs])
    w1 = np.concatenate([i.pos_wallet for i in after])
    assert np.array_equal(w0[acct < 0], w1[acct < 0])  # isolated rows keep their wallets
    n_acct = int(acct.max()) + 1
    margin = np.bincount(acct[acct >= 0], weights=w0[acct >= 0], minlength=n_acct)
    usde = spec["account"][spec["asset"] == 0]
    btc = spec["account"][spec["asset"] == 1]
    assert btc.size == np.count_nonzero(margin > 0)  # share 1: every account with margin
    assert 0.3 < usde.size / btc.size < 0.5  # share 0.4
    moved = np.zeros(n_acct)
    moved[usde] += 0.75
    moved[btc] += 0.25
    left = np.bincount(acct[acct >= 0], weights=w1[acct >= 0], minlength=n_acct)
    assert np.allclose(left, margin * (1 - moved), rtol=1e-12, atol=1e-9)
    # Binance counts both at 0.95 (sim.venues.collateral): effective units = 0.95 × amount, amount = moved USD / price
    assert np.allclose(spec["units"][spec["asset"] == 0], 0.95 * 0.75 * margin[usde], rtol=1e-12)
    assert np.allclose(spec["units"][spec["asset"] == 1], 0.95 * 0.25 * margin[btc] / 121000.0, rtol=1e-12)
    t_s, price, _, market = spec["assets"][1]  # BTC: valued at the BTC market's index; its path gives the start
    assert market == 0 and spec["assets"][0][3] == -1
    assert np.array_equal(price, inputs[0].path_p) and np.array_equal(t_s, inputs[0].path_t / 1000.0)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"collateral.BTC.move_pct": -5}, "collateral.BTC.move_pct = -5.0: BTC moves with its instrument"),
        (
            {"collateral.USDT.margin_share": 0.7, "collateral.USDe.margin_share": 0.6},
            "collateral: the margin_share values sum to 1.3",
        ),
        (
            {"market.venue": "dydx", "collateral.USDe.share": 0.5},
            "collateral.USDe: the dydx 2026-03 pack does not take",
        ),
        ({"collateral.USDe.move_pct": -100}, "collateral.USDe.move_pct = -100: must be a number in (-100, 1000]"),
        (
            {"collateral.USDe.share": 0.5, "population.cross_share": 0.0},  # a traceback in holdings() before
            "population.cross_share = 0.0: leaves no cross-margin traders to group into the accounts that hold",
        ),
    ],
)
def test_bad_collateral_is_one_message_naming_the_key(overrides, message, tmp_path, capsys):
    with pytest.raises(sim.ScenarioError) as err:
        sim.load_scenario("multi_asset_crash", overrides=overrides)
    assert message in str(err.value)
    sets = [x for k, v in overrides.items() for x in ("--set", f"{k}={v}")]
    assert main(["run", "multi_asset_crash", *sets, "--out", str(tmp_path / "o")]) == 2
    assert message in capsys.readouterr().err and not (tmp_path / "o").exists()


def test_collateral_needs_instruments():
    with pytest.raises(sim.ScenarioError, match=r"collateral = 'USDe': needs \[instruments\]"):
        sim.load_scenario("btc_flash_crash", overrides={"collateral.USDe.share": 0.5})


def test_an_instruments_own_problem_is_the_only_message():
    """A bad key of the only instrument: one message, not a second saying the collateral needs instruments."""
    with pytest.raises(sim.ScenarioError) as err:
        sim.load_scenario("usde_depeg", overrides={"instruments.ETH.lot_size": math.nan})
    assert err.value.problems == ["override: instruments.ETH.lot_size = nan: must be a number in (0, 1e6]"]
    with pytest.raises(sim.ScenarioError) as err:  # [instruments.ETH] beside market.asset = ETH: that alone
        sim.load_scenario("usde_depeg", overrides={"market.asset": "ETH", "collateral.BTC.share": 0.5})
    assert err.value.problems == [
        "usde_depeg: instruments.ETH: is market.asset, the first instrument; list the other instruments"
    ]


def test_warmup_with_instruments_leaves_nothing_for_a_run_of_several(compiled, tmp_path):
    """`liqsim warmup --instruments` also compiles the account layer: afterwards, in a fresh process on the same
    cache, nothing is pending with sim.multi imported."""
    import os
    import subprocess
    import sys

    env = dict(os.environ)
    code = "import sim.multi; from sim._compile import pending; print(len(pending()))"
    done = subprocess.run([sys.executable, "-m", "sim", "warmup", "--instruments"], env=env, capture_output=True)
    assert done.returncode == 0
    left = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert left.stdout.strip() == "0"


def test_side_correlation_makes_portfolios_directional_and_cross_asset_liquidations_more_common(compiled):
    """portfolio.side_correlation: the same rows join accounts (each market's long and short counts in accounts
    unchanged), but at 0.9 far more accounts hold one direction than at 0, and a crash finds more cross-asset
    liquidations among them; at −0.9 fewer accounts are one-sided (hedged pairs)."""
    from sim.config.instruments import market_scenarios, portfolio_rng
    from sim.engine import prepare
    from sim.world.portfolio import group_accounts

    base = {**SMALL, "portfolio.instruments": {"2": 1.0}}
    one_sided, members = {}, {}
    for rho in (0.0, 0.9, -0.9):
        scn = sim.load_scenario("multi_asset_crash", overrides={**base, "portfolio.side_correlation": rho})
        inputs = [prepare(s) for s in market_scenarios(scn)]
        acct = np.concatenate(group_accounts(inputs, scn.portfolio, portfolio_rng(scn)))
        side = np.concatenate([i.pos_side for i in inputs])
        m = acct >= 0
        n, longs = np.bincount(acct[m]), np.bincount(acct[m], weights=side[m] > 0)
        one_sided[rho] = float(np.mean((longs == 0) | (longs == n)))
        members[rho] = np.flatnonzero(m)
    assert np.array_equal(members[0.9], members[0.0]) and np.array_equal(members[-0.9], members[0.0])
    assert one_sided[0.9] > one_sided[0.0] + 0.25 and one_sided[-0.9] < one_sided[0.0] - 0.2
    plain = sim.run(sim.load_scenario("multi_asset_crash", overrides=base))
    directional = sim.run(sim.load_scenario("multi_asset_crash", overrides={**base, "portfolio.side_correlation": 0.9}))
    assert directional.summary["cross_asset_usd"] > 1.1 * plain.summary["cross_asset_usd"]  # 16% more here


def test_collateral_needs_accounts_of_several_instruments():
    with pytest.raises(sim.ScenarioError, match="collateral = 'USDe': is held by accounts of several instruments"):
        sim.load_scenario("multi_asset_crash", overrides={"portfolio.share": 0.0, "collateral.USDe.share": 0.5})


def test_the_markets_of_several_instruments_must_fit_in_memory_together(monkeypatch):
    """Each instrument's market fits alone; together they do not: refused before anything is allocated, naming
    population.n_positions and what would fit."""
    monkeypatch.setenv("LIQSIM_MEMORY_LIMIT_GB", "1")
    sim.load_scenario("btc_flash_crash", overrides={"population.n_positions": 1_000_000})  # the first market alone
    with pytest.raises(sim.ScenarioError, match=r"population.n_positions = 1000000: with 3 more instrument\(s\)"):
        sim.load_scenario("multi_asset_crash", overrides={"population.n_positions": 1_000_000})
    sim.load_scenario("multi_asset_crash", overrides={"population.n_positions": 600_000})


def test_btc_collateral_is_valued_at_the_btc_markets_index_which_the_cascade_moves(compiled, monkeypatch):
    """Under prices formed by flows the BTC index falls below the shock's path as the cascade sells into the spot
    venues; BTC collateral is valued at that index at every round (as the venue counts it), and valuing it on the
    path instead liquidates less."""
    import sim.config.collateral as coll
    from sim.kernels.loop import path_price_nb
    from sim.multi import run_scenario

    over = {
        **SMALL,
        "prices.model": "endogenous",
        "collateral.BTC.share": 1.0,
        "collateral.BTC.margin_share": 0.5,
    }
    scn = sim.load_scenario("multi_asset_crash", overrides=over)
    gap = []

    def check(t, markets, g, ca, cl):
        x = markets[0].perp.px["index_price"]
        assert cl.market[0] == 0 and cl.price[0] == x
        gap.append(x / path_price_nb(cl.path_t[0, : cl.path_n[0]], cl.path_p[0, : cl.path_n[0]], t) - 1.0)

    on = run_scenario(scn, on_tick=check)
    assert min(gap) < -0.03  # the index fell more than 3% below the path

    assets = coll.assets
    monkeypatch.setattr(coll, "assets", lambda *a: [x._replace(market=-1) for x in assets(*a)])
    off = run_scenario(scn)
    assert off.raw.collateral.market[0] == -1
    usd = [sum(m["collateral_driven_usd"] for m in r.contagion["markets"].values()) for r in (on, off)]
    assert usd[0] > 1.1 * usd[1] > 0, usd


def test_collateral_with_no_account_drawn_to_hold_it_runs_without_holdings(compiled):
    """A population so small that the portfolio draws no account: the collateral has no holder, its path is still
    there, and the run goes on."""
    from sim.config.collateral import assets
    from sim.config.instruments import market_scenarios
    from sim.engine import prepare
    from sim.world.collateral import holdings

    scn = sim.load_scenario("usde_depeg", overrides=SMALL)
    inputs = [prepare(s) for s in market_scenarios(scn)]
    none = [np.full(inp.pos_side.size, -1, np.int64) for inp in inputs]
    after, spec = holdings(0, assets(scn, ["BTC", "ETH"], inputs), inputs, none)
    assert len(spec["assets"]) == 1 and all(np.array_equal(a.pos_wallet, b.pos_wallet) for a, b in zip(after, inputs))
    assert spec["account"].size == spec["asset"].size == spec["units"].size == 0


@pytest.mark.parametrize("overrides", [{"stops.share": 1.0}, {"population.n_positions": 4}])
def test_collateral_nobody_holds_runs_to_the_end(overrides, compiled, tmp_path):
    """Every trader kept isolated by a stop, or too few traders for a portfolio: the scenario's collateral has no
    holder (a traceback at the end of the run before), the run writes its folder and reports the depeg's path."""
    res = sim.run(sim.load_scenario("usde_depeg", overrides={**SMALL, **overrides}))
    assert res.summary["collateral_driven_usd"] == 0.0
    t, price = res.collateral["USDe"]
    assert t.size == price.size >= 2 and price.min() < price[0]
    sets = [x for k, v in {**SMALL, **overrides}.items() for x in ("--set", f"{k}={v}")]
    assert main(["run", "usde_depeg", *sets, "--no-plot", "--quiet", "--out", str(tmp_path / "o")]) == 0
    assert (tmp_path / "o" / "summary.json").exists()
