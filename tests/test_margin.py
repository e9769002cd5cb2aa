"""Liquidation and bankruptcy prices against the worked examples of docs/model.md
(§2.4, §2.5 and §10), through the same kernel functions the engine uses."""

import numpy as np
import pytest

from sim.config.scenario import load_scenario
from sim.kernels.margin import (
    bankruptcy_price_nb,
    equity_nb,
    liquidation_price_nb,
    maintenance_margin_nb,
    tier_nb,
)

ONE = (np.array([0.0]), np.array([0.004]), np.array([0.0]))


def binance_btc_tiers():
    # the table of the worked examples TV5/TV5b: Binance's 2024-10 snapshot (not the newest default)
    floor, mmr, cum, _ = load_scenario(None, overrides={"market.venue_version": "2024-10"}).market.tier_arrays()
    return floor, mmr, cum


def test_model_example_long_10x():
    # docs/model.md §10 W1: long 10x at 94,200, MMR 0.40%, cum 0, WB = initial margin -> 85,120.48
    q, ep = 1.0, 94_200.0
    assert liquidation_price_nb(1, q, ep, q * ep / 10, *ONE) == pytest.approx(85_120.48, abs=0.005)


def test_exact_formula_not_the_shortcut():
    # docs/model.md §10 W2: 60,000 at 10x, MMR 0.4%: exact 54,216.87 (the shortcut says 54,240); short 65,737.05
    assert liquidation_price_nb(1, 1.0, 60_000.0, 6_000.0, *ONE) == pytest.approx(54_216.87, abs=0.005)
    assert liquidation_price_nb(-1, 1.0, 60_000.0, 6_000.0, *ONE) == pytest.approx(65_737.05, abs=0.005)


def test_tv1_binance_cross_one_position():
    # TV1: WB 500, long 1,000 USDT notional at 50,000 (Q 0.02), MMR 0.4%, cum 0 -> 25,100.40
    assert liquidation_price_nb(1, 0.02, 50_000.0, 500.0, *ONE) == pytest.approx(25_100.4016, abs=1e-4)


def test_tv5_tv5b_tiered_maintenance_margin_is_continuous():
    floor, mmr, cum = binance_btc_tiers()
    # TV5: notional 1,000,000 is tier 3 (index 2): 1e6 x 0.65% - 950 = 5,550
    assert tier_nb(1_000_000.0, floor) == 2
    assert maintenance_margin_nb(1.0, 1_000_000.0, floor, mmr, cum) == pytest.approx(5_550.0)
    # TV5b: at the 600,000 boundary both tiers give 2,950
    assert 600_000 * mmr[1] - cum[1] == pytest.approx(2_950.0)
    assert 600_000 * mmr[2] - cum[2] == pytest.approx(2_950.0)


def test_tv10_maintenance_amount_recurrence():
    # TV10 (COIN-M, same recurrence): level 5 = 50 x (5% - 2.5%) + 0.56 = 1.81
    scn = load_scenario(
        None,
        overrides={
            "market.tiers": [
                {"notional_floor_usd": 0, "max_leverage": 125, "mmr_pct": 0.4},
                {"notional_floor_usd": 10, "max_leverage": 20, "mmr_pct": 2.5, "maintenance_amount_usd": 0.21},
                {"notional_floor_usd": 50, "max_leverage": 10, "mmr_pct": 5.0},
            ],
            "population.leverage_mix": {"10": 1.0},
        },
    )
    _, _, cum, _ = scn.market.tier_arrays()
    assert cum[1] == pytest.approx(10 * (0.025 - 0.004))
    assert cum[2] == pytest.approx(cum[1] + 50 * (0.05 - 0.025))


def test_tv12_bankruptcy_price():
    # TV12: 1 BTC long at 10,000, 50x -> 9,800; the short mirror -> 10,200
    assert bankruptcy_price_nb(1, 1.0, 10_000.0, 200.0) == pytest.approx(9_800.0)
    assert bankruptcy_price_nb(-1, 1.0, 10_000.0, 200.0) == pytest.approx(10_200.0)


@pytest.mark.parametrize("side", [1, -1])
@pytest.mark.parametrize("notional", [20_000.0, 400_000.0, 2_000_000.0, 40_000_000.0, 300_000_000.0])
@pytest.mark.parametrize("lev", [2.0, 10.0, 20.0])
def test_equity_equals_maintenance_margin_at_lp(side, notional, lev):
    """The defining property, across the real tier table: equity(LP) = MM(LP) with LP's own tier."""
    floor, mmr, cum = binance_btc_tiers()
    ep = 100_000.0
    q = notional / ep
    w = notional / lev
    lp = liquidation_price_nb(side, q, ep, w, floor, mmr, cum)
    if side > 0 and lp == 0.0:
        assert equity_nb(side, q, ep, w, 1e-9) > maintenance_margin_nb(q, 1e-9, floor, mmr, cum)
        return
    assert equity_nb(side, q, ep, w, lp) == pytest.approx(
        maintenance_margin_nb(q, lp, floor, mmr, cum), rel=1e-9, abs=1e-6
    )
    # just inside the trigger: equity below MM; just outside: above
    inside = lp * (1 - side * 1e-6)
    outside = lp * (1 + side * 1e-6)
    assert equity_nb(side, q, ep, w, inside) < maintenance_margin_nb(q, inside, floor, mmr, cum)
    assert equity_nb(side, q, ep, w, outside) > maintenance_margin_nb(q, outside, floor, mmr, cum)


def test_lp_root_on_a_tier_boundary_is_well_defined():
    floor, mmr, cum = binance_btc_tiers()
    # choose W so that the root sits exactly at the 600k boundary for Q = 6 (price 100,000)
    q, ep = 6.0, 110_000.0
    w = (600_000 * mmr[2] - cum[2]) - q * (100_000.0 - ep)
    lp = liquidation_price_nb(1, q, ep, w, floor, mmr, cum)
    assert lp == pytest.approx(100_000.0, rel=1e-12)
