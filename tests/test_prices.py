"""Prices formed by flows (prices.model = endogenous, docs/model.md §1.6): money on every venue, the directions the
feedback must take, the spot book's arithmetic, the index methods, outages and the scenario rules."""

import math

import numpy as np
import pytest
from dsl import initial_cash
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
from sim import enums as E
from sim.config.scenario import parse_scenario
from sim.engine import prepare, simulate
from sim.errors import ScenarioError
from sim.kernels.spot import index_nb
from sim.world import spot as spot_world

BASE = {
    "population.n_positions": 3000,
    "scenario.duration_s": 240.0,
    "shock.start_s": 20.0,
    "shock.duration_s": 40.0,
    "prices.model": "endogenous",
}


def scenario(**overrides):
    return sim.load_scenario(None, overrides={**BASE, **overrides})


def multiplier(**overrides):
    return sim.run(scenario(**overrides)).summary["feedback"]["cascade_multiplier"]


def assert_conserved(inp, raw):
    """The perp's ledger (traders, makers, noise, fund, fees, arbitrageurs, flow) and every spot venue's."""
    acc = raw.accounts
    start = initial_cash(inp) + [0.0] * (len(acc) - len(initial_cash(inp)))
    assert math.fsum(acc["cash_end"]) == pytest.approx(math.fsum(start), rel=1e-12, abs=1e-3)
    assert abs(math.fsum(acc["position_end"])) < 1e-9 * max(1.0, np.abs(acc["position_start"]).sum())
    if raw.spot is not None:
        scale = max(1.0, raw.spot["volume"].sum())
        for v in range(len(raw.spot["names"])):
            assert abs(math.fsum(raw.spot["cash"][:, v])) <= 1e-9 * scale
            assert abs(math.fsum(raw.spot["base"][:, v])) <= 1e-9 * scale / inp.start_price


@settings(max_examples=25)
@given(
    seed=st.integers(0, 2**31),
    kind=st.sampled_from(["gap", "ramp", "flow", "none"]),
    into=st.sampled_from(["perp", "spot", "both"]),
    size=st.floats(-25.0, 25.0),
    depth=st.sampled_from([0.05, 1.0, 1e4]),
    shape=st.sampled_from([1.0, 2.0]),
    hedge=st.floats(0.0, 1.0),
    capital=st.sampled_from([0.0, 1e8, 1e10]),
    informed=st.sampled_from([0.0, 2.0, 60.0]),
    withdrawal=st.booleans(),
    outage=st.booleans(),
    method=st.sampled_from(["venue", "weighted_mean", "weighted_median"]),
)
def test_money_is_conserved_on_every_venue(
    compiled, seed, kind, into, size, depth, shape, hedge, capital, informed, withdrawal, outage, method
):
    over = {
        "scenario.seed": seed,
        "population.n_positions": 400,
        "scenario.duration_s": 120.0,
        "population.open_interest_usd": 2e8,
        "shock.kind": kind,
        "shock.size_pct": size,
        "shock.flow_usd": size * 2e7,
        "shock.flow_into": into,
        "prices.depth_factor": depth,
        "prices.shape": shape,
        "prices.hedge_share": hedge,
        "prices.arb_capital_usd": capital,
        "prices.informed_half_life_s": informed,
        "prices.index_method": method,
        "book.withdrawal": withdrawal,
        "prices.withdrawal": withdrawal,
        "market.time_to_funding_s": 50.0,  # a settlement mid-run charges the arbitrageurs' and the flow's perp legs too
    }
    if outage:
        over.update(
            {"prices.outage_venue": "coinbase", "prices.outage_start_s": 30.0, "prices.outage_duration_s": 40.0}
        )
    scn = sim.load_scenario(None, overrides={**BASE, **over})
    inp = prepare(scn)
    raw = simulate(inp)
    assert_conserved(inp, raw)
    assert np.all(np.isfinite(raw.spot["end"])) and np.all(raw.spot["end"] > 0)


# ----------------------------------------------------------------------------------------- feedback directions


def test_books_deep_everywhere_give_a_multiplier_of_one(compiled):
    """No book moves, so prices are the fundamental path as fast informed traders carry it: the run liquidates what
    the imposed model with a perp book as deep does (whose multiplier is 1 but for partial liquidations and the
    mark's own terms). Slow informed traders lag the path, which liquidates less: not feedback."""
    deep = {"book.depth_usd_1pct": 1e12}
    imposed = multiplier(**deep, **{"prices.model": "imposed"})
    m = multiplier(**deep, **{"prices.depth_factor": 1e6, "prices.informed_half_life_s": 1.0})
    assert m == pytest.approx(imposed, abs=0.01)
    assert m == pytest.approx(1.0, abs=0.05)
    lagging = multiplier(**deep, **{"prices.depth_factor": 1e6, "prices.informed_half_life_s": 60})
    assert lagging < m


def test_thinner_spot_books_feed_the_cascade(compiled):
    thin, deep = multiplier(**{"prices.depth_factor": 0.3}), multiplier(**{"prices.depth_factor": 3.0})
    assert thin > deep * 1.05
    assert thin > 1.1


def test_switching_the_transmission_off_removes_the_feedback(compiled):
    """Hedgers and arbitrageurs are how forced orders on the perp reach the index: without them the perp's cascade
    cannot move spot, and the multiplier falls to about what the perp's own wick adds."""
    on = multiplier()
    off = multiplier(**{"prices.hedge_share": 0.0, "prices.arb_capital_usd": 0.0})
    assert on > off * 1.05
    assert off == pytest.approx(1.0, abs=0.05)


def test_arbitrageurs_with_no_latency_still_trade(compiled):
    """They act at the next tick at the earliest: a tick's basis is only seen once its forced orders are through."""
    res = simulate(prepare(scenario(**{"prices.arb_latency_s": 0.0})))
    assert np.any(res.fills["kind"] == E.ARB_FILL)


#: A crash the crowd survives in part (a smaller crowd, a 5% fundamental fall), so that the multiplier has room to
#: move: in BASE's 10% crash nearly every long within reach is liquidated whatever the hedgers do, and the
#: multiplier is pinned near its ceiling.
ROOM = {"population.open_interest_usd": 2e9, "shock.size_pct": -5.0}
SEEDS = range(6)


def multipliers(**overrides):
    """The multiplier of the same crash over several seeds (paired: the same crowds for every variant)."""
    return np.array([multiplier(**ROOM, **overrides, **{"scenario.seed": s}) for s in SEEDS])


def test_slower_or_smaller_hedgers_give_a_larger_multiplier(compiled):
    """Makers who hedge late or slowly carry the forced flow longer: the index falls later, by as much, onto a crowd
    the perp's mark has already thinned. (Removing the hedgers altogether removes the transmission instead, and the
    multiplier falls to about 1: test_switching_the_transmission_off_removes_the_feedback.)"""
    base = multipliers()
    slow = multipliers(**{"prices.hedge_latency_s": 30.0})
    small = multipliers(**{"prices.hedge_capacity_usd_per_s": 2e6})
    assert np.all(slow > base) and slow.mean() > 1.02 * base.mean()
    assert small.mean() > 1.01 * base.mean()


AVERSE = {"prices.inventory_skew": 1.0}  # makers who price unhedged inventory at the spot books' slope


def test_smaller_arbitrageurs_give_a_larger_multiplier_when_makers_are_averse_to_inventory(compiled):
    """Arbitrageurs take the makers' inventory off the perp and sell it on spot. Makers averse to inventory quote the
    perp down by what they carry, so without arbitrageurs the perp, and its mark, stay at a discount: fewer
    arbitrageurs, a larger multiplier. With makers as calm as 10 Oct 2025's record allows (a skew of at most 0.03,
    docs/model.md §1.6) the arbitrageurs' spot sales move the thinner spot books more than the discount they
    remove, and the direction reverses: the model says which way, it is not assumed."""
    base = multipliers(**AVERSE)
    for fewer in ({"prices.arb_capital_usd": 0.0}, {"prices.arb_capital_usd": 50e6}):
        assert np.all(multipliers(**AVERSE, **fewer) > base)
    calm = {"prices.inventory_skew": 0.03}
    assert multipliers(**calm, **{"prices.arb_capital_usd": 0.0}).mean() < multipliers(**calm).mean()


def test_makers_averse_to_inventory_drag_the_mark_below_the_index_and_stay_calm_at_rest(compiled):
    skewed = sim.run(scenario(**AVERSE)).summary["feedback"]["move_pct"]
    plain = sim.run(scenario()).summary["feedback"]["move_pct"]
    assert plain["mark"] == pytest.approx(plain["index"], abs=0.05)
    assert skewed["mark"] < skewed["index"] - 3.0 and skewed["mark"] < plain["mark"]
    rest = sim.run(scenario(**AVERSE, **{"shock.kind": "none"}))
    assert rest.summary["liquidated_notional_usd"]["total"] == 0.0
    assert np.ptp(rest.series["mark"]) < 1e-3 * rest.series["mark"][0]


def test_a_more_levered_crowd_cascades_more(compiled):
    """The same fundamental shock: the more levered crowd drags the index further below it. (The multiplier is a
    ratio: a crowd the static path already wipes out has little left to add, so it is compared between the
    conservative and the balanced mix only.)"""
    low, mult = {}, {}
    for mix in ("conservative", "balanced", "degen"):
        res = sim.run(scenario(**{"population.leverage_mix": mix}))
        low[mix], mult[mix] = res.series["index"].min(), res.summary["feedback"]["cascade_multiplier"]
    assert max(low["degen"], low["balanced"]) < low["conservative"]
    assert mult["balanced"] > mult["conservative"]


# ----------------------------------------------------------------------------------------- the spot book


def test_a_flow_into_linear_spot_books_moves_the_index_by_their_depth(compiled):
    """With nobody else trading and every move permanent, selling X USD over books of even depth D (per side within
    1%) moves each venue by about X/ΣD percent: the calibration's arithmetic (docs/model.md §1.6)."""
    over = {
        "prices.shape": 1.0,  # even depth (the calibrated default is 1.25)
        "shock.kind": "flow",
        "shock.flow_usd": -20e6,
        "shock.flow_into": "spot",
        "prices.informed_half_life_s": 0.0,
        "prices.hedge_share": 0.0,
        "prices.arb_capital_usd": 0.0,
        "prices.permanent_share": 1.0,
        "population.open_interest_usd": 5e6,
        "population.n_positions": 400,
    }
    raw = simulate(prepare(scenario(**over)))
    total_depth = raw.spot["depth_usd"].sum()
    moved = raw.series["index"][-1] / raw.series["index"][0] - 1.0
    assert moved == pytest.approx(-0.01 * 20e6 / total_depth, rel=0.03)
    # the same through a book whose depth grows with distance moves it by the square root of that share
    over["prices.shape"] = 2.0
    raw2 = simulate(prepare(scenario(**over)))
    moved2 = raw2.series["index"][-1] / raw2.series["index"][0] - 1.0
    assert abs(moved2) > abs(moved)


def test_transient_impact_decays_and_informed_traders_restore_the_fundamental_value(compiled):
    over = {
        "shock.kind": "flow",
        "shock.flow_usd": -50e6,
        "shock.flow_into": "spot",
        "shock.duration_s": 10.0,
        "prices.resilience_s": 30.0,  # so that the transient is gone within the run (the calibrated default: 300 s)
        "prices.hedge_share": 0.0,
        "prices.arb_capital_usd": 0.0,
        "population.open_interest_usd": 5e6,
        "population.n_positions": 400,
        "scenario.duration_s": 400.0,
    }
    raw = simulate(prepare(scenario(**over)))
    idx = raw.series["index"]
    low = idx.min()
    assert low < 0.995 * idx[0]  # the sale moved it ...
    assert idx[-1] == pytest.approx(idx[0], rel=2e-3)  # ... and it came back
    assert idx.max() <= idx[0] * (1 + 1e-4)  # without overshooting


def test_an_outage_freezes_a_venue_and_it_leaves_the_index_when_stale(compiled):
    over = {
        "shock.kind": "gap",
        "shock.size_pct": -8.0,
        "prices.outage_venue": "binance",
        "prices.outage_start_s": 10.0,
        "prices.outage_duration_s": 200.0,
        "prices.stale_s": 5.0,
        "prices.index_method": "weighted_mean",
    }
    raw = simulate(prepare(scenario(**over)))
    t, mids = raw.spot["t"], raw.spot["mid"]
    k = raw.spot["names"].index("binance")
    during = (t > 12) & (t < 200)
    assert np.all(mids[during, k] == mids[during][0, k])  # frozen
    others = np.delete(mids, k, axis=1)
    assert others[t == 100].max() < 0.95 * mids[t == 100, k][0]
    # binance (51% of the weight) would hold the weighted mean up; once stale it is out
    assert raw.series["index"][raw.series["t"] == 100][0] == pytest.approx(others[t == 100].mean(), rel=0.01)


# ----------------------------------------------------------------------------------------- index methods


def _state(prices, weights, method, outlier=0.05):
    setup = spot_world.setup(scenario(), 1000, 100_000)
    k = len(prices)
    setup = setup._replace(
        names=tuple(f"v{i}" for i in range(k)),
        depth=np.full(k, 1e7),
        weight=np.asarray(weights, float),
        out_start=np.zeros(k, np.int64),
        out_end=np.zeros(k, np.int64),
        params=setup.params._replace(method=method, outlier=outlier),
    )
    sp = spot_world.state(setup, 100.0, 2)
    sp.mid[:] = prices
    return sp, setup.params


@pytest.mark.parametrize(
    "prices, weights, method, expected",
    [
        ([100, 101, 102], [1, 1, 2], E.INDEX_WEIGHTED_MEAN, (100 + 101 + 204) / 4),
        ([100, 101, 120], [1, 1, 2], E.INDEX_WEIGHTED_MEAN, 100.5),  # one outlier: weight 0
        ([100, 80, 120, 101], [1, 1, 1, 1], E.INDEX_WEIGHTED_MEAN, 100.5),  # two outliers: the median
        ([100, 101, 120], [1, 1, 3], E.INDEX_WEIGHTED_MEDIAN, 120),
        ([100, 101, 120, 90], [3, 2, 2, 1], E.INDEX_WEIGHTED_MEDIAN, 100),
    ],
)
def test_index_methods(prices, weights, method, expected):
    sp, spp = _state(prices, weights, method)
    assert index_nb(sp, spp, 0, -1.0) == pytest.approx(expected)


# ----------------------------------------------------------------------------------------- scenario rules


@pytest.mark.parametrize(
    "over, key",
    [
        ({"shock": {"kind": "flow", "flow_into": "spot"}, "prices": {"model": "imposed"}}, "shock.flow_into"),
        ({"prices": {"model": "endogenous"}, "market": {"index_coupling": 0.5}}, "market.index_coupling"),
        ({"prices": {"model": "endogenous", "outage_venue": "nasdaq"}}, "prices.outage_venue"),
        ({"prices": {"model": "imposed", "outage_venue": "coinbase"}}, "prices.outage_venue"),
    ],
)
def test_keys_that_do_not_fit_the_price_model_are_refused(over, key):
    with pytest.raises(ScenarioError) as info:
        parse_scenario(over)
    assert any(f": {key} = " in p for p in info.value.problems), info.value.problems


def test_no_shock_and_no_background_flow_trade_nothing_and_prices_stay(compiled):
    res = simulate(prepare(scenario(**{"shock.kind": "none", "book.noise_rate_per_s": 0.0})))
    assert len(res.fills) == 0
    assert np.all(res.series["index"] == res.series["index"][0])
    assert res.spot["volume"].sum() == 0.0


def test_same_seed_same_endogenous_run_bit_for_bit(compiled):
    a = simulate(prepare(scenario(**{"book.withdrawal": True, "prices.withdrawal": True})))
    b = simulate(prepare(scenario(**{"book.withdrawal": True, "prices.withdrawal": True})))
    assert a.fills.tobytes() == b.fills.tobytes()
    assert a.spot["mid"].tobytes() == b.spot["mid"].tobytes()
    assert a.spot["cash"].tobytes() == b.spot["cash"].tobytes()
