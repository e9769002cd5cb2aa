"""Stops, margin top-ups and funding (docs/engine.md §9): hand-built cases through both engines, the funding
formula against docs/model.md §10, and scenario runs showing each behaviour moves outcomes the way it
should (stops clustered at a round number fire in a burst there, top-ups mean fewer liquidations, funding eats
margin over a long run)."""

import math

import numpy as np
import pytest
from dsl import initial_cash, make_input, money_total
from reference import reference_liquidation_price
from test_venue_rules import assert_money, run_both, tape

import sim
from sim import enums as E
from sim.engine import prepare
from sim.kernels.behaviour import funding_rate_nb

FIVE_PCT = ([0.0], [0.05], [0.0])  # one tier, MMR 5%: the top-up and liquidation prices are far apart
RAMP = ((0, 100.0), (2000, 100.0), (10_000, 92.0))  # the index falls 1 per second from t = 2 s: 99 at 3 s, ...


def long_and_counterparty(wallet=10.0, q=1.0):
    """A long trader of ``q`` at 100 and the residual counterparty holding the short."""
    return [(1, q, 100.0, wallet, E.TRADER), (-1, q, 100.0, 100.0 * q, E.COUNTERPARTY)]


# ------------------------------------------------------------------------------------------------
# funding formula: docs/model.md §10 TV7, TV8 and W3 (Hyperliquid's hourly 1/8)
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "premium, expected",
    [
        (0.0005, 0.0001),
        (0.0010, 0.0005),
        (-0.0010, -0.0005),
        (0.0006, 0.0001),
        (-0.0004, 0.0001),
    ],
)
def test_binance_funding_rate_from_the_premium(premium, expected):
    # TV7: F = P + clamp(I − P, ±0.05%) with I = 0.01%; a 4-hour contract pays half of it
    assert funding_rate_nb(premium, 0.0001, 0.0005, 1.0, 0.003) == pytest.approx(expected, abs=1e-15)
    assert funding_rate_nb(premium, 0.0001, 0.0005, 0.5, 0.003) == pytest.approx(expected / 2, abs=1e-15)


def test_funding_caps_and_the_hourly_eighth():
    # TV8: BTCUSDT's cap 0.75 × 0.4% = ±0.30%
    assert funding_rate_nb(0.01, 0.0001, 0.0005, 1.0, 0.003) == 0.003
    assert funding_rate_nb(-0.01, 0.0001, 0.0005, 1.0, 0.003) == -0.003
    # Hyperliquid's example: premium 1% → 8-hour rate 0.95%, paid hourly at 1/8 = 0.11875% (under the 4% cap)
    assert funding_rate_nb(0.01, 0.0001, 0.0005, 1.0 / 8.0, 0.04) == pytest.approx(0.0011875, rel=1e-12)


def test_venue_funding_and_stop_conventions_reach_the_kernel():
    for venue, interval_ms, at_index, on_mark, scale in (
        ("binance", 8 * 3600_000, False, False, 1.0),
        ("hyperliquid", 3600_000, True, True, 0.125),
    ):
        inp = prepare(sim.load_scenario(None, overrides={"market.venue": venue, "population.n_positions": 50}))
        assert (inp.funding_interval, inp.funding_at_index, inp.stop_on_mark, inp.funding_scale) == (
            interval_ms,
            at_index,
            on_mark,
            scale,
        )
        assert inp.time_to_funding == interval_ms // 2  # unset: half the interval
        assert inp.funding_on and math.isnan(inp.funding_fixed)
        assert not inp.stops_on and not inp.tu_on  # behaviour is off unless a share is set


# ------------------------------------------------------------------------------------------------
# hand-built cases (both engines)
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("s", [1, -1])
def test_a_stop_on_the_mark_closes_the_whole_position_through_the_book(compiled, s):
    # a long stop at 97 on a fall, or its mirror: a short stop at 103 on a rise
    path = tuple((t, 100.0 + s * (p - 100.0)) for t, p in RAMP)
    positions = [(s, 1.0, 100.0, 10.0, E.TRADER), (-s, 1.0, 100.0, 100.0, E.COUNTERPARTY)]
    inp = make_input(positions, path=path, stops=[100.0 - 3.0 * s, math.nan], stop_on_mark=True, duration=9000)
    raw, res = run_both(inp)
    for r in res.values():
        (f,) = tape(r, {E.STOP})
        # the mark (= index, on the tick grid) reaches the stop exactly at t = 5 s: it fires at that tick
        assert (f.t, f.account, f.side, f.qty, f.bp) == (5000, 0, -s, 1.0, 100.0 - 10.0 * s)
        assert abs(f.price - 100.0) <= 4.0 and f.fee == pytest.approx(0.0005 * f.price, rel=1e-12)
        assert r["pos_status"][0] == E.STOPPED and r["pos_size"][0] == 0.0
        assert not tape(r, {E.LIQUIDATION, E.PARTIAL, E.TAKEOVER})
        assert_money(inp, r)
    assert res["reference"]["pos_wallet"][0] == pytest.approx(10.0 + s * (f.price - 100.0) - f.fee, rel=1e-12)
    assert raw.behaviour["stop_fills"] == 1


def test_a_stop_on_the_last_price_waits_for_a_trade_there(compiled):
    # last stays at 100 while only the index falls; a background sell at 5.5 s prints 96.5 and fires the 97 stop
    # at once, not the 95.5 one (the mark would have crossed both by 7 s)
    positions = long_and_counterparty() + [(1, 1.0, 100.0, 10.0, E.TRADER), (-1, 1.0, 100.0, 100.0, E.COUNTERPARTY)]
    inp = make_input(
        positions, path=RAMP, stops=[97.0, math.nan, 95.5, math.nan], noise=[(5500, -1, 50.0)], duration=7000
    )
    _, res = run_both(inp)
    for r in res.values():
        (noise,) = tape(r, {E.NOISE_FILL})
        (f,) = tape(r, {E.STOP})
        assert noise.price == 96.5 and (f.t, f.account) == (5500, 0)
        assert r["pos_status"][2] == E.OPEN


def test_a_top_up_after_its_delay_keeps_the_position_alive(compiled):
    delay = 1500
    inp = make_input(
        long_and_counterparty(),
        tiers=FIVE_PCT,
        path=RAMP,
        reserves=[20.0, 0.0],
        delays=[delay, 0],
        tu_threshold=0.8,
        tu_target=0.4,
        duration=10_000,
    )
    raw, res = run_both(inp)
    marks = dict(zip(np.round(raw.series["t"] * 1000).astype(int), raw.series["mark"]))
    # the top-up price is the liquidation price with MMR / threshold: (10 − 100) / (0.0625 − 1) = 96
    topup_price = reference_liquidation_price(1, 1.0, 100.0, 10.0, [0.0], [0.05 / 0.8], [0.0])
    armed = min(t for t, m in marks.items() if m <= topup_price)
    applied = min(t for t in marks if t >= armed + delay)  # the first oracle tick after the delay
    m = marks[applied]
    add = 1.0 * m * 0.05 / 0.4 - (10.0 + (m - 100.0))  # back to MM / equity = 0.4
    for r in res.values():
        assert r["pos_status"][0] == E.OPEN and not tape(r, {E.LIQUIDATION, E.PARTIAL, E.TAKEOVER})
        assert_money(inp, r)
    assert res["reference"]["pos_wallet"][0] == pytest.approx(10.0 + add, rel=1e-12)
    assert (raw.behaviour["topups"], raw.behaviour["topup_usd"]) == (1, pytest.approx(add, rel=1e-12))
    # without the reserve the same position is liquidated when the mark reaches 90 / 0.95 = 94.74
    _, bare = run_both(make_input(long_and_counterparty(), tiers=FIVE_PCT, path=RAMP, duration=10_000))
    (f,) = tape(bare["numba"], {E.LIQUIDATION, E.TAKEOVER})[:1]
    assert f.t == 8000 and bare["numba"]["pos_status"][0] == E.LIQUIDATED


def test_a_top_up_too_slow_for_the_move_does_not_save_the_position(compiled):
    inp = make_input(
        long_and_counterparty(), tiers=FIVE_PCT, path=RAMP, reserves=[20.0, 0.0], delays=[5000, 0], duration=10_000
    )
    raw, res = run_both(inp)
    assert res["numba"]["pos_status"][0] == E.LIQUIDATED and raw.behaviour["topups"] == 0


@pytest.mark.parametrize("fixed, per_settlement", [(0.001, 2 * 100.0 * 0.001), (math.nan, 2 * 100.0 * 0.0001)])
def test_funding_moves_margin_from_longs_to_shorts_at_each_settlement(compiled, fixed, per_settlement):
    # settlements are due at 1.5 s, 4.5 s and 7.5 s and paid at the next oracle ticks (2, 5, 8 s); the mark is
    # 100 and the premium 0 (the book is centred on the index), so the formula gives the interest rate 0.01%
    positions = [(1, 2.0, 100.0, 50.0, E.TRADER), (-1, 2.0, 100.0, 200.0, E.COUNTERPARTY)]
    inp = make_input(
        positions, funding_on=True, funding_fixed=fixed, time_to_funding=1500, funding_interval=3000, duration=10_000
    )
    raw, res = run_both(inp)
    ref = res["reference"]
    assert ref["pos_wallet"][0] == pytest.approx(50.0 - 3 * per_settlement, rel=1e-12)
    assert ref["pos_wallet"][1] == pytest.approx(200.0 + 3 * per_settlement, rel=1e-12)
    assert raw.behaviour["funding_settlements"] == 3
    assert raw.behaviour["funding_paid_by_traders_usd"] == pytest.approx(3 * per_settlement, rel=1e-12)
    assert money_total(res["numba"]["cash"]) == pytest.approx(money_total(initial_cash(inp)), abs=1e-9)


# ------------------------------------------------------------------------------------------------
# scenario runs: each behaviour moves outcomes the way it should
# ------------------------------------------------------------------------------------------------

SLOW_FALL = {
    "prices.model": "imposed",  # the behaviours under the index path (test_prices has the endogenous model)
    "population.n_positions": 5000,
    "scenario.duration_s": 200.0,
    "shock.duration_s": 120.0,
    "shock.size_pct": -6.0,
}


def run(**overrides):
    return sim.run(sim.load_scenario(None, overrides={**SLOW_FALL, **overrides}))


def test_stops_clustered_at_a_round_number_fire_in_a_burst_there(compiled):
    stops = {"stops.share": 0.1, "stops.round_step_usd": 5000.0}
    clustered, spread = run(**stops, **{"stops.round_share": 1.0}), run(**stops, **{"stops.round_share": 0.0})

    def burst(res):
        f = res.fills[res.fills["kind"] == E.STOP]
        t_cross = res.series["t"][np.argmax(res.series["last"] <= 120_000.0)]  # last first trades at 120,000
        return f[np.abs(f["t"] - t_cross) <= 1.0], f

    near, every = burst(clustered)
    near_spread, every_spread = burst(spread)
    assert len(every) > 100 and len(every_spread) > 100  # about as many stops fire either way ...
    assert len(near) > 0.2 * len(every) and len(near) > 3 * len(near_spread)  # ... but clustered ones at once
    assert np.all(np.abs(near["price"] - 120_000.0) < 0.01 * 120_000.0)  # and at the round number (their own sweep)
    acc = clustered.accounts
    assert math.fsum(acc["cash_end"]) == pytest.approx(math.fsum(acc["cash_start"]), rel=1e-12, abs=1e-3)


def test_topups_mean_fewer_liquidations(compiled):
    tu = {"topups.delay_mean_s": 0.5, "topups.reserve": 2.0}
    off, on = run(**tu), run(**tu, **{"topups.share": 0.5})
    assert on.summary["behaviour"]["topups"] > 100 and on.summary["behaviour"]["topup_usd"] > 0
    assert on.summary["liquidations"]["full"] < 0.8 * off.summary["liquidations"]["full"]
    assert on.summary["liquidated_notional_usd"]["total"] < off.summary["liquidated_notional_usd"]["total"]
    slow = run(**{**tu, "topups.share": 0.5, "topups.delay_mean_s": 5.0})
    assert on.summary["liquidations"]["full"] < slow.summary["liquidations"]["full"]  # late margin saves fewer
    acc = on.accounts
    assert math.fsum(acc["cash_end"]) == pytest.approx(math.fsum(acc["cash_start"]), rel=1e-12, abs=1e-3)


def test_funding_eats_margin_over_a_long_run(compiled):
    # no price move at all: 10 settlements of 0.5% take 5% of notional from longs (the shorts' side gains it)
    base = {
        "prices.model": "imposed",  # no price move at all, not even the hedgers' (test_prices has the endogenous model)
        "population.n_positions": 2000,
        "scenario.duration_s": 1800.0,
        "shock.kind": "none",
        "venue.funding_interval_h": 0.05,
        "market.time_to_funding_s": 60.0,
        "funding.rate_pct": 0.5,
    }
    longs_pay = sim.run(sim.load_scenario(None, overrides=base))
    shorts_pay = sim.run(sim.load_scenario(None, overrides={**base, "funding.rate_pct": -0.5}))
    none = sim.run(sim.load_scenario(None, overrides={**base, "funding.enabled": False}))
    assert longs_pay.summary["behaviour"]["funding_settlements"] == 10
    assert longs_pay.summary["behaviour"]["funding_paid_by_traders_usd"] > 0
    assert longs_pay.summary["liquidated_notional_usd"]["long"] > 0
    assert longs_pay.summary["liquidated_notional_usd"]["short"] == 0
    assert shorts_pay.summary["liquidated_notional_usd"]["short"] > 0
    assert shorts_pay.summary["liquidated_notional_usd"]["long"] == 0
    assert none.summary["liquidated_notional_usd"]["total"] == 0
    for res in (longs_pay, shorts_pay):
        acc = res.accounts
        assert math.fsum(acc["cash_end"]) == pytest.approx(math.fsum(acc["cash_start"]), rel=1e-12, abs=1e-3)


def test_behaviour_keys_are_validated(tmp_path):
    from test_scenario import problems_of

    from sim.config.scenario import parse_scenario

    assert problems_of(parse_scenario, {"topups": {"threshold": 0.5, "target": 0.6}}) == [
        "<dict>: topups.target = 0.6: must be a number in (0, 0.5) (0.5 = topups.threshold)"
    ]
    assert problems_of(parse_scenario, {"stops": {"share": 1.5}}) == [
        "<dict>: stops.share = 1.5: must be a number in [0, 1]"
    ]


def test_the_shipped_traders_scenario_runs_with_its_behaviour(compiled):
    from pathlib import Path

    scn = sim.load_scenario(
        Path(__file__).resolve().parents[1] / "scenarios" / "traders.toml", overrides={"population.n_positions": 3000}
    )
    assert (scn.stops.share, scn.topups.share, scn.book.withdrawal) == (0.1, 0.2, True)
    res = sim.run(scn)
    assert res.summary["behaviour"]["stop_fills"] > 0 and res.summary["behaviour"]["topups"] > 0
    kinds = set(res.fills["kind"].tolist())
    assert E.STOP in kinds and E.LIQUIDATION in kinds
    again = sim.run(scn)  # the behaviour draws come from the seed too: bit for bit the same run
    assert again.fills.tobytes() == res.fills.tobytes() and again.accounts.tobytes() == res.accounts.tobytes()


def test_an_older_scenario_key_says_where_it_went_and_schedules_carry_over(tmp_path):
    from test_scenario import problems_of

    from sim.config.scenario import parse_scenario

    assert problems_of(parse_scenario, {"market": {"funding_interval_h": 8.0}}) == [
        "<dict>: market.funding_interval_h = 8.0: no longer here: set venue.funding_interval_h instead (each venue "
        "pack has its own interval; Hyperliquid pays hourly)"
    ]
    # a Binance schedule (next settlement in 4 h) read on an hourly venue keeps its hours: the next is at the hour
    scn = sim.load_scenario(
        None,
        overrides={"market.venue": "hyperliquid", "market.time_to_funding_s": 14400.0, "population.n_positions": 50},
    )
    assert prepare(scn).time_to_funding == 0
    scn = sim.load_scenario(None, overrides={"market.time_to_funding_s": 5000.0, "population.n_positions": 50})
    assert prepare(scn).time_to_funding == 5_000_000


def test_behaviour_on_a_balanced_positions_file_and_a_row_already_past_its_price(tmp_path, compiled):
    # the counterparty of a balanced file holds nothing (no liquidation price to place a stop against), and a
    # row already past its liquidation price gets no stop: it is liquidated at the first tick
    path = tmp_path / "positions.csv"
    path.write_text(
        "side,size,entry_price,leverage,mode\nlong,1,121000,10,isolated\nshort,1,121000,10,isolated\n"
        "long,1,123000,50,isolated\nshort,1,121000,10,isolated\n"
    )  # row 2: equity 460 < MM 484
    scn = sim.load_scenario(
        None,
        overrides={
            "population.file": str(path),
            "stops.share": 1.0,
            "topups.share": 0.5,
            "scenario.duration_s": 30.0,
            "shock.start_s": 10.0,
        },
    )
    inp = prepare(scn)
    assert np.isnan(inp.pos_stop[2]) and not np.isnan(inp.pos_stop[0]) and np.isnan(inp.pos_stop[-1])
    res = sim.run(scn)
    assert res.accounts["status"][2] == E.LIQUIDATED
    assert not np.any((res.fills["kind"] == E.STOP) & (res.fills["t"] == 0.0))
