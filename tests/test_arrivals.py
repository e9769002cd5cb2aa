"""Arrivals: positions that open during a run (docs/model.md §5.4, docs/engine.md §9).

The draws (sim.world.arrivals), the buy-the-dip thinning, an arrival's order and money, its later liquidation, the
engine against the reference on a generated population, money conservation with arrivals on (hypothesis), and the
switch-off comparison on a two-leg crash: the second leg liquidates far more when traders keep arriving.
"""

import math

import numpy as np
import pytest
from dsl import engine_result, initial_cash, make_input
from hypothesis import given, settings
from reference import reference_run
from test_differential import assert_same, markets

import sim
from sim import enums as E
from sim.engine import prepare, simulate
from sim.errors import ScenarioError
from sim.world import arrivals

# a long holder and its counterparty, so the book is not empty of positions
BASE = [(1, 1.0, 100.0, 50.0, 0), (-1, 1.0, 100.0, 100.0, 1)]


def arrival_fills(res):
    return [f for f in res["fills"] if f[1] == E.ARRIVAL]


def test_acceptance_rule():
    # shorts always; longs 1/M in calm markets, rising linearly to 1 at the full drawdown
    assert arrivals.acceptance(-1, 0.5, 3.0, 0.1) == 1.0
    assert arrivals.acceptance(1, 0.0, 3.0, 0.1) == pytest.approx(1 / 3)
    assert arrivals.acceptance(1, 0.05, 3.0, 0.1) == pytest.approx(2 / 3)
    assert arrivals.acceptance(1, 0.2, 3.0, 0.1) == 1.0
    assert arrivals.acceptance(1, 0.2, 1.0, 0.1) == 1.0


def test_an_arrival_opens_through_the_book_and_posts_its_margin(compiled):
    """Margin 100 at 10× and index 100: an order for 10, filled at the first ask (100.5, tick 0.5); its wallet is
    the margin less the taker fee, the maker sold it, and money and contracts are conserved."""
    inp = make_input(BASE, prof=100.0, duration=3000, arrivals=[(1500, 0.5, 1, 10.0, 100.0)])
    res = engine_result(simulate(inp))
    (fill,) = arrival_fills(res)
    row = 2
    assert fill[:4] == (1500, E.ARRIVAL, row, 1)
    assert fill[4] == pytest.approx(10.0) and fill[5] == pytest.approx(100.5)
    fee = 0.0005 * 10.0 * 100.5
    assert fill[8] == pytest.approx(fee) and fill[10] == pytest.approx(100.0)  # equity before: the margin held
    assert res["pos_status"][row] == E.OPEN
    assert res["position"][row] == pytest.approx(10.0)
    assert res["position"][3] == pytest.approx(-10.0)  # the maker
    assert res["topup"][row] == 0.0  # posting margin is not a top-up
    assert math.fsum(res["cash"]) == pytest.approx(math.fsum(initial_cash(inp)), abs=1e-9)
    assert math.fsum(res["position"]) == pytest.approx(0.0, abs=1e-12)
    assert_same(res, reference_run(inp))


def test_a_candidate_that_is_not_accepted_keeps_its_cash(compiled):
    inp = make_input(BASE, duration=3000, arr_dip_mult=3.0, arrivals=[(1500, 0.5, 1, 10.0, 100.0)])
    res = engine_result(simulate(inp))
    assert arrival_fills(res) == []  # calm market: a long candidate opens with probability 1/3, u = 0.5
    assert res["pos_status"][2] == E.FLAT
    assert res["cash"][2] == pytest.approx(100.0)


@pytest.mark.parametrize("dip_on", [True, False])
def test_buying_the_dip_is_what_opens_the_long(compiled, dip_on):
    """After a 20% fall the same long candidate (u = 0.5) opens: the drawdown from the mark's peak lifts its
    acceptance to 1. Switched off (no multiplier), calm or not, it opens; a multiplier with no fall keeps it out."""
    fall = ((0, 100.0), (1000, 100.0), (2000, 80.0))
    cands = [(4500, 0.5, 1, 10.0, 100.0), (4600, 0.999, -1, 10.0, 100.0)]
    mult = 3.0 if dip_on else 1.0
    fallen = engine_result(simulate(make_input(BASE, path=fall, duration=6000, arr_dip_mult=mult, arrivals=cands)))
    calm = engine_result(simulate(make_input(BASE, duration=6000, arr_dip_mult=mult, arrivals=cands)))
    assert [f[3] for f in arrival_fills(fallen)] == [1, -1]
    assert [f[3] for f in arrival_fills(calm)] == ([-1] if dip_on else [1, -1])  # the short always opens


def test_an_arrival_is_liquidated_by_a_later_fall(compiled):
    """A 50× long that opened after the first leg is liquidated by the second, like any position."""
    path = ((0, 100.0), (1000, 100.0), (2000, 95.0), (5000, 95.0), (6000, 85.0))
    inp = make_input(BASE, path=path, duration=9000, arrivals=[(3000, 0.0, 1, 50.0, 20.0)])
    res = engine_result(simulate(inp))
    (opened,) = arrival_fills(res)
    row = opened[2]
    liq = [f for f in res["fills"] if f[2] == row and f[1] in (E.LIQUIDATION, E.TAKEOVER)]
    assert liq and liq[0][0] > 5000
    assert res["pos_status"][row] == E.LIQUIDATED
    assert_same(res, reference_run(inp))


@settings(max_examples=100 * settings.default.max_examples // 100)
@given(markets(rules=True, behaviour=True, arrivals=True))
def test_money_and_contracts_are_conserved_with_arrivals(compiled, inp):
    res = engine_result(simulate(inp))
    assert math.fsum(res["cash"]) == pytest.approx(math.fsum(initial_cash(inp)), rel=1e-12, abs=1e-7)
    assert math.fsum(res["position"]) == pytest.approx(0.0, abs=1e-9)
    opened = {f[2] for f in arrival_fills(res)}
    for i in range(int(inp.arr_row0) if inp.arr_on else len(inp.pos_side), len(inp.pos_side)):
        assert (res["pos_status"][i] != E.FLAT) == (i in opened)


SMALL = {
    "population.n_positions": 400,
    "scenario.duration_s": 600.0,
    "book.depth_usd_1pct": 5e6,
    "population.open_interest_usd": 3e7,
}


def test_draws_are_their_own_stream_and_change_nothing_else():
    off = prepare(sim.load_scenario(None, overrides=SMALL))
    scn = sim.load_scenario(None, overrides={**SMALL, "arrivals.rate_pct_per_h": 200.0})
    on, again = prepare(scn), prepare(scn)
    n = off.pos_side.size
    for name in ("pos_side", "pos_size", "pos_entry", "pos_wallet", "pos_kind", "pos_reserve"):
        assert np.array_equal(getattr(on, name)[:n], getattr(off, name)), name
    for name in ("noise_t", "noise_side", "noise_qty", "path_t", "path_p"):
        assert np.array_equal(getattr(on, name), getattr(off, name)), name
    for name in ("arr_t", "arr_u", "arr_lev", "pos_reserve", "pos_side"):
        assert np.array_equal(getattr(on, name), getattr(again, name)), name  # same seed, same draws
    m = on.arr_t.size
    assert on.arr_on and on.arr_row0 == n and on.pos_side.size == n + m
    assert np.all(np.diff(on.arr_t) >= 0) and on.arr_t[-1] <= on.duration
    assert np.all(on.pos_size[n:] == 0.0) and np.all(on.pos_reserve[n:] > 0.0)
    # long candidates at π·M of the rate, shorts at (1 − π): 400 traders at 200%/h over 10 min, M = 3
    side = on.pos_side[n:]
    pi = float(np.mean(off.pos_side[off.pos_kind == E.TRADER] > 0))
    for count, mean in ((np.sum(side > 0), 800 / 6 * pi * 3), (np.sum(side < 0), 800 / 6 * (1 - pi))):
        assert abs(count - mean) < 5 * math.sqrt(mean)
    assert not off.arr_on and off.arr_t.size == 0


def test_off_by_default():
    scn = sim.load_scenario(None)
    assert scn.arrivals.rate_pct_per_h == 0.0


def test_a_bad_rate_names_the_key():
    with pytest.raises(ScenarioError) as info:
        sim.load_scenario(None, overrides={"arrivals.rate_pct_per_h": -1.0})
    assert "arrivals.rate_pct_per_h = -1.0" in str(info.value) and "[0, 1000]" in str(info.value)


def test_matches_reference_on_a_generated_population_with_arrivals(compiled):
    scn = sim.load_scenario(
        None,
        overrides={
            "population.n_positions": 120,
            "scenario.duration_s": 90.0,
            "shock.start_s": 10.0,
            "shock.duration_s": 20.0,
            "shock.size_pct": -15.0,
            "book.depth_usd_1pct": 3e3,
            "book.range_pct": 30.0,
            "insurance_fund.initial_usd": 0.0,
            "book.noise_rate_per_s": 1.0,
            "market.tick_size_usd": 10.0,
            "arrivals.rate_pct_per_h": 1000.0,
            "arrivals.dip_window_s": 30.0,
        },
    )
    inp = prepare(scn)
    fast = engine_result(simulate(inp))
    assert len(arrival_fills(fast)) > 5
    assert_same(fast, reference_run(inp))


def two_leg(tmp_path, rate):
    """Two 10% legs an hour apart (the second from the level the first left), 600 traders."""
    path = tmp_path / "two_legs.csv"
    path.write_text("timestamp,price\n0,100\n300,100\n600,90\n4200,90\n4500,81\n5400,81\n")
    scn = sim.load_scenario(
        None,
        overrides={
            "population.n_positions": 600,
            "population.open_interest_usd": 6e7,
            "book.depth_usd_1pct": 3e7,
            "scenario.duration_s": 5400.0,
            "shock.kind": "replay",
            "shock.file": str(path),
            "shock.start_s": 0.0,
            "arrivals.rate_pct_per_h": rate,
        },
    )
    return sim.run(scn)


def test_arrivals_give_the_second_leg_something_to_liquidate(compiled, tmp_path):
    """Switch-off comparison: with traders arriving (and buying the dip after the first leg) the second leg
    liquidates more than twice what it does without; the first leg barely changes."""
    results = {rate: two_leg(tmp_path, rate) for rate in (0.0, 40.0)}
    legs = {}
    for rate, res in results.items():
        f = res.fills
        liq = np.isin(f["kind"], (E.LIQUIDATION, E.PARTIAL, E.TAKEOVER, E.ADL))
        usd = f["qty"] * f["price"]
        legs[rate] = (float(usd[liq & (f["t"] < 4200)].sum()), float(usd[liq & (f["t"] >= 4200)].sum()))
    assert results[0.0].summary["behaviour"].get("arrivals") is None
    assert results[40.0].summary["behaviour"]["arrivals"] > 100
    (first_off, second_off), (first_on, second_on) = legs[0.0], legs[40.0]
    assert second_on > 2.5 * second_off  # $50M against $18M
    assert first_on == pytest.approx(first_off, rel=0.25)
    acc = results[40.0].accounts
    assert math.isclose(acc["equity_start"].sum(), acc["equity_end"].sum(), rel_tol=1e-12, abs_tol=1e-3)
    # the feedback section describes the starting population: arrivals' forced closes are not in its split
    f = results[40.0].fills
    forced = np.isin(f["kind"], (E.LIQUIDATION, E.PARTIAL, E.TAKEOVER)) & (f["account"] < acc.size - 4)
    from_start = forced & (acc["position_start"][np.minimum(f["account"], acc.size - 1)] != 0)
    assert np.any(forced & ~from_start)
    attributed = results[40.0].summary["feedback"]["attributed_usd"]
    assert attributed == pytest.approx(float(np.sum((f["qty"] * f["price"])[from_start])))
