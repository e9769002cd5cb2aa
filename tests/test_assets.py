"""SOL and the generic alt (ALT) in scenarios: every venue's newest pack runs them; older packs refuse them."""

import math

import pytest

import sim
from sim import venues as V
from sim.errors import ScenarioError


def sol(venue, **overrides):
    base = {
        "prices.model": "imposed",
        "population.n_positions": 300,
        "scenario.duration_s": 60.0,
        "shock.start_s": 5.0,
        "shock.duration_s": 20.0,
        "market.venue": venue,
        "market.asset": "SOL",
        "market.symbol": "SOLUSDT",
        "market.start_price_usd": 150.0,
        "market.tick_size_usd": 0.01,
        "market.lot_size": 0.01,
    }
    base.update(overrides)
    return sim.load_scenario(None, overrides=base)


@pytest.mark.parametrize("venue", V.VENUES)
def test_a_sol_scenario_runs_on_every_venue_with_the_sol_table(venue):
    scn = sol(venue)
    pk = scn.market.pack()
    rows = pk.tier_rows("SOL", 150.0)
    assert [t.mmr_pct for t in scn.market.tier_table()] == [r.mmr_pct for r in rows]
    res = sim.run(scn)
    liquidated = res.summary["liquidated_notional_usd"]["total"]
    assert math.isfinite(liquidated) and liquidated > 0  # the default crash liquidates SOL positions too


def test_alt_runs_and_older_packs_refuse_new_coins():
    assert sim.run(sol("hyperliquid", **{"market.asset": "ALT", "market.start_price_usd": 20.0})).summary
    with pytest.raises(ScenarioError) as info:
        sol("binance", **{"market.venue_version": "2021-03"})
    assert any("market.asset" in p and "allowed there: BTC, ETH" in p for p in info.value.problems)
    # a table of one's own makes any pack take the coin
    tiers = [{"notional_floor_usd": 0, "max_leverage": 20, "mmr_pct": 2.5, "maintenance_amount_usd": 0}]
    assert sol("binance", **{"market.venue_version": "2021-03", "market.tiers": tiers}).market.asset == "SOL"


@pytest.mark.parametrize("venue", V.VENUES)
@pytest.mark.parametrize("asset", ["SOL", "ALT"])
def test_the_one_position_calculator_takes_the_new_coins_on_every_venue(venue, asset):
    from sim.calc import liquidation

    res = liquidation(venue=venue, side="long", entry=150.0, size=10.0, leverage=5.0, asset=asset)
    rows = V.pack(venue).tier_rows(asset, 150.0)
    mmr = rows[0].mmr_pct / 100 + (V.pack(venue).rules.clearance_fee_pct / 100 if venue == "okx" else 0.0)
    # isolated at initial margin, tier 1, MM on the mark (entry on Bybit: the same number at tier 1)
    expected = 150.0 * (1 - 1 / 5) / (1 - mmr) if venue != "bybit" else 150.0 - (300.0 - 1500 * mmr) / 10
    assert res["liquidation_price"] == pytest.approx(expected, rel=1e-9)
