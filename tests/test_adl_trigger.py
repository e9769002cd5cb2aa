"""What sets ADL off (docs/model.md §3.7, §3.10): a deficit the fund cannot pay, its drawdown rule, or its inventory
capacity; Hyperliquid's vault never deleverages an account with equity left; the summary reports ADL by trigger with
both overshoots, and markers instead of None; era-correct Hyperliquid packs and the calculator's MMR rule.

Engine cases run through both engines (tests/test_venue_rules.py helpers) with the arithmetic in the comments.
"""

import math

import numpy as np
import pytest
from dsl import make_input
from test_venue_rules import BANKRUPT_LONG, NEVER, assert_fill, assert_money, fund_row, run_both, tape

from sim import calc, metrics
from sim import enums as E
from sim import venues as V

# A solvent remainder: long 10 @ 100, W 100 (BP 90) on one tier of 5% MMR: LP = (100 − 1000)/(0.5 − 10) = 94.737.
# The index gaps to 92 (on the tick grid, so the mark is 92): the long is triggered with equity 100 − 80 = 20 > 0,
# no book fills it (prof = 0), so 10 go to the fund at BP 90, a takeover that costs the fund nothing at the mark.
WIDE_MMR = ([0.0], [0.05], [0.0])
GAP_TO_92 = ((0, 100.0), (1500, 100.0), (1500, 92.0))
WINNERS = [(-1, 6.0, 100.0, 60.0, E.TRADER), (-1, 4.0, 100.0, 400.0, E.COUNTERPARTY)]


def solvent_market(trigger, **params):
    base = dict(
        tiers=WIDE_MMR,
        path=GAP_TO_92,
        prof=0.0,
        duration=2000,
        unwind_interval=NEVER,
        fund_initial=1000.0,
        max_inventory=0.0,
        adl_trigger=trigger,
    )
    base.update(params)
    tiers = base.pop("tiers")
    path = base.pop("path")
    prof = base.pop("prof")
    return make_input([BANKRUPT_LONG] + WINNERS, tiers=tiers, path=path, prof=prof, **base)


def adl_section(raw):
    return metrics._adl_section(raw.fills, raw.accounts)


def test_capacity_trigger_deleverages_a_solvent_remainder_and_reports_it_as_capacity(compiled):
    """Capacity (max_inventory 0): the fund may hold nothing, so the 10 go to ADL at B̄ = 90 against row 1 (6) then
    row 2 (4), cause capacity. Each fill's deficit s·y·(B̄ − m) = y·(90 − 92) < 0: no deficit at all, and the
    winners gain y·2 against the mark (haircut −12 and −8)."""
    inp = solvent_market(E.ADL_TRIGGER_CAPACITY)
    raw, results = run_both(inp)
    for name, res in results.items():
        fills = tape(res, (E.ADL, E.TAKEOVER))
        assert [(f.kind, f.account, f.qty, f.cause) for f in fills] == [
            (E.ADL, 1, 6.0, E.CAUSE_CAPACITY),
            (E.ADL, 2, 4.0, E.CAUSE_CAPACITY),
        ], name
        for f in fills:
            assert_fill(f, price=90.0, bp=90.0, mark=92.0, fund_delta=0.0)
        assert_money(inp, res)
    adl = adl_section(raw)
    assert adl["count"] == 2 and adl["deficit_covered_usd"] == 0.0
    assert adl["overshoot"] is None and adl["overshoot_profit"] is None  # the totals; by_trigger says why
    cap = adl["by_trigger"]["capacity"]
    assert cap["count"] == 2 and cap["notional_usd"] == pytest.approx(10 * 92.0)
    assert cap["deficit_usd"] == 0.0 and cap["haircut_usd"] == pytest.approx(-20.0)
    assert cap["overshoot_notional"] == metrics.NO_DEFICIT
    assert adl["by_trigger"]["deficit"]["overshoot_notional"] == metrics.NO_ADL
    assert adl["by_trigger"]["deficit"]["count"] == 0


def test_deficit_trigger_lets_the_fund_take_what_it_can_pay_for(compiled):
    """The same market under the deficit trigger: the takeover costs the fund nothing at the mark, so it takes all
    10 at 90 whatever its inventory limit, and nobody is deleveraged (switching the rule off the capacity
    trigger removes the ADL of the test above)."""
    inp = solvent_market(E.ADL_TRIGGER_DEFICIT)
    raw, results = run_both(inp)
    for name, res in results.items():
        fills = tape(res, (E.ADL, E.TAKEOVER))
        assert [(f.kind, f.account, f.qty, f.price) for f in fills] == [(E.TAKEOVER, 0, 10.0, 90.0)], name
        assert res["position"][fund_row(inp)] == 10.0
        assert_money(inp, res)
    assert adl_section(raw)["count"] == 0
    assert {k: v["overshoot_notional"] for k, v in adl_section(raw)["by_trigger"].items()} == dict.fromkeys(
        ("deficit", "drawdown", "capacity"), metrics.NO_ADL
    )


@pytest.mark.parametrize("trigger", [E.ADL_TRIGGER_CAPACITY, E.ADL_TRIGGER_DEFICIT])
def test_a_fund_that_can_pay_part_of_the_loss_splits_the_pool(compiled, trigger):
    """Under water: BANKRUPT_LONG on the default tier (B 90, LP 90.361), index 100 → 91 (t = 2000) → 85 (t = 3000),
    fund 40, ADL at the mark while the fund can pay. At m = 85 each unit the fund takes at 90 costs it 5: it can pay
    for 40 / 5 = 8 units; the other 2 are a deficit.

    * capacity (max_inventory 0): the fund may hold none of the 8 either. Pools: deficit 2, then capacity 8. The
      deficit pool's gap 2·5 = 10 ≤ 40: at the mark 85 (row 1 closes 2, the fund pays 10). The capacity pool's gap
      8·5 = 40 > 30 left: at bankruptcy 90 (row 1 its other 4, row 2 all 4).
    * deficit: the fund takes the 8 (its equity at the mark falls to 0) and the 2 go to ADL; its gap 10 > 0 left:
      at bankruptcy 90 (row 1 closes 2).
    """
    positions = [BANKRUPT_LONG] + WINNERS
    path = ((0, 100.0), (1500, 100.0), (1500, 91.0), (2500, 91.0), (2500, 85.0))
    inp = make_input(
        positions,
        path=path,
        prof=0.0,
        duration=3000,
        unwind_interval=NEVER,
        fund_initial=40.0,
        max_inventory=0.0,
        adl_price=E.ADL_AT_MARK,
        adl_trigger=trigger,
    )
    raw, results = run_both(inp)
    if trigger == E.ADL_TRIGGER_CAPACITY:
        expected = [
            (E.ADL, 1, 2.0, 85.0, E.CAUSE_DEFICIT),
            (E.ADL, 1, 4.0, 90.0, E.CAUSE_CAPACITY),
            (E.ADL, 2, 4.0, 90.0, E.CAUSE_CAPACITY),
        ]
    else:
        expected = [(E.TAKEOVER, 0, 8.0, 90.0, 0), (E.ADL, 1, 2.0, 90.0, E.CAUSE_DEFICIT)]
    for name, res in results.items():
        got = [(f.kind, f.account, f.qty, f.price, f.cause) for f in tape(res, (E.ADL, E.TAKEOVER))]
        assert len(got) == len(expected), (name, got)
        for g, e in zip(got, expected):
            assert g[:3] == e[:3] and g[4] == e[4], (name, got)
            assert g[3] == pytest.approx(e[3], rel=1e-12), (name, got)
        assert_money(inp, res)
    by = adl_section(raw)["by_trigger"]
    # the deficit pool covered 2 units under water by 5 each
    assert by["deficit"]["deficit_usd"] == pytest.approx(10.0)
    assert by["deficit"]["notional_usd"] == pytest.approx(2 * 85.0)
    assert by["deficit"]["overshoot_notional"] == pytest.approx(17.0)


def hyperliquid_market(fund_initial, index_after):
    """A Hyperliquid-like venue (settle at the fill, vault below 2/3 MM, deficit trigger, no book) on
    BANKRUPT_LONG (B 90, LP 90.361, MM at m: 10·m·0.004): at 90 its equity is 0, below 2/3 of MM (2.4), so the
    vault is asked to take it; at 85 it is −50, under water."""
    path = ((0, 100.0), (1500, 100.0), (1500, index_after))
    return make_input(
        [BANKRUPT_LONG] + WINNERS,
        path=path,
        prof=0.0,
        duration=3000,
        unwind_interval=NEVER,
        fund_initial=fund_initial,
        settle_fill=True,
        backstop_fraction=2.0 / 3.0,
        partial_rule=E.PARTIAL_NONE,
        adl_price=E.ADL_AT_BANKRUPTCY,
        adl_trigger=E.ADL_TRIGGER_DEFICIT,
    )


def test_hyperliquid_never_deleverages_an_account_with_equity_left(compiled):
    """At 90 the long's equity is 100 − 100 = 0 ≥ 0 but below 2/3 of MM (3.6): the vault would take it, but it has
    no equity (fund 0). Under the deficit trigger the account is not deleveraged: it stays open, and is looked at
    again every tick (still no vault, still not under water: never an ADL fill)."""
    inp = hyperliquid_market(0.0, 90.0)
    raw, results = run_both(inp)
    for name, res in results.items():
        assert tape(res, (E.ADL,)) == [], name
        assert res["pos_status"][0] == E.OPEN and res["pos_size"][0] == 10.0, name
        assert_money(inp, res)
    # with the capacity trigger (today's rule before this change) the same account was deleveraged
    raw, results = run_both(inp._replace(adl_trigger=E.ADL_TRIGGER_CAPACITY))
    for name, res in results.items():
        assert {f.cause for f in tape(res, (E.ADL,))} == {E.CAUSE_DEFICIT}, name


def test_hyperliquid_deleverages_an_account_under_water(compiled):
    """At 85 the long's equity is −50: ADL at B 90 against row 1 (6) and row 2 (4), a deficit of 10·5 = 50; the
    vault (fund 1000) takes nothing."""
    inp = hyperliquid_market(1000.0, 85.0)
    raw, results = run_both(inp)
    for name, res in results.items():
        fills = tape(res, (E.ADL, E.TAKEOVER))
        assert [(f.kind, f.account, f.qty, f.cause) for f in fills] == [
            (E.ADL, 1, 6.0, E.CAUSE_DEFICIT),
            (E.ADL, 2, 4.0, E.CAUSE_DEFICIT),
        ], name
        assert_money(inp, res)
    by = adl_section(raw)["by_trigger"]
    assert by["deficit"]["deficit_usd"] == pytest.approx(50.0)
    assert by["deficit"]["overshoot_notional"] == pytest.approx(850.0 / 50.0)
    # profit taken: row 1 (short @ 100) closes 6 with 6·15 = 90 of profit at the mark, row 2 4·15 = 60
    assert by["deficit"]["profit_taken_usd"] == pytest.approx(150.0)
    assert by["deficit"]["overshoot_profit"] == pytest.approx(3.0)
    assert by["capacity"]["overshoot_profit"] == metrics.NO_ADL


def test_overshoot_is_never_none():
    assert metrics.overshoot(100.0, 0.0, 0) == metrics.NO_ADL
    assert metrics.overshoot(100.0, 0.0, 3) == metrics.NO_DEFICIT
    assert metrics.overshoot(100.0, -5.0, 3) == metrics.NO_DEFICIT
    assert metrics.overshoot(100.0, 4.0, 3) == 25.0


# ------------------------------------------------------------------------------------------------ packs, calc


def test_packs_set_adl_off_as_their_venues_document():
    for p in V.all_packs():
        expected = "capacity" if p.venue == "binance" else "deficit"
        assert p.rules.adl_trigger == expected, (p.venue, p.version)
        assert any("adl_trigger" in note for note in p.notes), (p.venue, p.version)


def test_hyperliquid_before_2025_is_50x_with_a_1_percent_mmr():
    old = V.pack("hyperliquid", "2024")
    for asset in ("BTC", "ETH"):
        (tier,) = old.tiers[asset]
        assert (tier.max_leverage, tier.mmr_pct) == (50.0, 1.0)
    assert V.pack("hyperliquid").tiers["BTC"][0].mmr_pct == 1.25  # the default stays the newest


@pytest.mark.parametrize("version", ["2024", "2026-01"])
def test_calc_derives_hyperliquid_mmr_from_the_max_leverage(version):
    """MMR = 1 / (2 × 50) = 1%: long 1 @ 100,000 at 50x, LP = 100,000 × (1 − 0.02) / (1 − 0.01) = 98,989.90."""
    out = calc.liquidation("hyperliquid", "long", entry=100_000.0, leverage=50, max_leverage=50, version=version)
    assert out["mmr"] == 1.0
    assert out["liquidation_price"] == pytest.approx(100_000 * 0.98 / 0.99, rel=1e-12)
    # 20x: 2.5%; and the second BTC tier of 2026-01 (20x) is not raised above it
    rows = V.tables.half_initial_rows(V.pack("hyperliquid").tiers["BTC"], 10.0)
    assert [(r.max_leverage, r.mmr_pct) for r in rows] == [(10.0, 5.0), (10.0, 5.0)]
    assert calc.liquidation("hyperliquid", "long", entry=100.0, leverage=20, max_leverage=20)["mmr"] == 2.5


def test_calc_keeps_other_venues_rates_under_a_max_leverage():
    out = calc.liquidation("binance", "long", entry=100_000.0, leverage=50, max_leverage=50)
    assert out["mmr"] == 0.4


def test_solvent_and_bankrupt_remainders_conserve_money_in_mixed_pools(compiled):
    """A sweep of fund sizes between 'pays nothing' and 'pays everything' on the split market: both engines agree
    and money is conserved whatever the split."""
    positions = [BANKRUPT_LONG] + WINNERS
    path = ((0, 100.0), (1500, 100.0), (1500, 91.0), (2500, 91.0), (2500, 85.0))
    for fund in np.linspace(0.0, 60.0, 7):
        for trigger in (E.ADL_TRIGGER_CAPACITY, E.ADL_TRIGGER_DEFICIT):
            inp = make_input(
                positions,
                path=path,
                prof=0.0,
                duration=3000,
                unwind_interval=NEVER,
                fund_initial=float(fund),
                max_inventory=0.5,
                adl_price=E.ADL_AT_MARK,
                adl_trigger=trigger,
            )
            _, results = run_both(inp)
            for res in results.values():
                assert_money(inp, res)
                assert math.isfinite(res["fund_balance"])
