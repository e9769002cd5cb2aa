"""The Numba engine against the pure-Python reference engine on small random markets.

Both engines implement docs/engine.md; they must produce the same tape, the same series and the same
final accounts (up to float rounding) for any input. Hypothesis draws the markets.
"""

import math

import numpy as np
from dsl import ONE_TIER, TWO_TIERS, engine_result, make_input
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import reference_run

from sim import enums
from sim.engine import simulate

RTOL = 1e-9
ATOL = 1e-7

# three tiers at the scale of these small markets (floors 500 and 1,500 USD), amounts by the recurrence
THREE_TIERS = ([0.0, 500.0, 1500.0], [0.004, 0.01, 0.025], [0.0, 500.0 * 0.006, 500.0 * 0.006 + 1500.0 * 0.015])
# the same set in position size (floors 5 and 15 base units, amounts in base units) for the size basis
SIZE_TIERS = ([0.0, 5.0, 15.0], [0.004, 0.01, 0.025], [0.0, 5.0 * 0.006, 5.0 * 0.006 + 15.0 * 0.015])


@st.composite
def venue_rules(draw):
    """Kernel scalars of the venue rules (docs/engine.md §10), drawn over every combination that the
    scenario validation allows (settlement at the fill needs a backstop)."""
    settle_fill = draw(st.booleans())
    return dict(
        tier_basis=draw(st.sampled_from([enums.MM_MARK, enums.MM_ENTRY, enums.MM_SIZE])),
        partial_rule=draw(
            st.sampled_from(
                [
                    enums.PARTIAL_NONE,
                    enums.PARTIAL_STEP_IOC,
                    enums.PARTIAL_STEP_FOK,
                    enums.PARTIAL_TO_TIER,
                    enums.PARTIAL_SLICES,
                ]
            )
        ),
        partial_min_tier=draw(st.sampled_from([1, 2])),
        partial_tiers_down=draw(st.sampled_from([0, 1, 2])),
        partial_cooldown=draw(st.sampled_from([0, 1500, 3000])),
        slice_threshold=draw(st.sampled_from([0.0, 0.0, 500.0, 2000.0])),
        slice_fraction=draw(st.sampled_from([0.2, 0.5])),
        settle_fill=settle_fill,
        backstop_fraction=draw(st.sampled_from([2.0 / 3.0, 0.5] if settle_fill else [0.0, 0.0, 2.0 / 3.0])),
        mark_method=draw(
            st.sampled_from([enums.MARK_BINANCE, enums.MARK_INDEX_BASIS, enums.MARK_HYPERLIQUID, enums.MARK_ORACLE])
        ),
        ema_slow=draw(st.sampled_from([1500.0, 5000.0])),
        ema_fast=draw(st.sampled_from([500.0, 3000.0])),
        adl_drawdown=draw(st.sampled_from([0.0, 0.0, 0.05, 0.3])),
        adl_window=draw(st.sampled_from([2000, 8 * 3600 * 1000])),
        adl_ranking=draw(
            st.sampled_from(
                [enums.RANK_PNL_LEVERAGE, enums.RANK_LEVERAGE_PNL, enums.RANK_HYPERLIQUID, enums.RANK_RANDOM]
            )
        ),
        adl_seed=draw(st.integers(1, 2147483646)),
        adl_price=draw(st.sampled_from([enums.ADL_AT_BANKRUPTCY, enums.ADL_AT_MARK, enums.ADL_AT_PREVIOUS_MARK])),
        adl_policy=draw(st.sampled_from([enums.POLICY_QUEUE, enums.POLICY_PRO_RATA, enums.POLICY_LEVERAGE_DRAIN])),
        max_inventory=draw(st.sampled_from([0.0, 0.2, 1.0])),
        adl_trigger=draw(st.sampled_from([enums.ADL_TRIGGER_CAPACITY, enums.ADL_TRIGGER_DEFICIT])),
    )


@st.composite
def fillable_rules(draw):
    """Venue rules with settlement at the fillable price (dYdX, docs/engine.md §7.11): the fillable-price formula,
    the fee cap on or off, the per-block limits (often binding at this scale) and ADL with any ranking."""
    rules = draw(venue_rules())
    rules.update(
        settle_fill=False,
        backstop_fraction=0.0,
        settle_fillable=True,
        fill_ba=draw(st.sampled_from([1.0, 1.0, 2.0])),
        fill_smmr=draw(st.sampled_from([1.5, 1.5, 0.1, 5.0])),
        fee_cap=draw(st.booleans()),
        clearance=draw(st.sampled_from([0.015, 0.002, 0.0005, 0.0])),
        block_ticks=draw(st.sampled_from([1, 1, 2])),
        block_pos_frac=draw(st.sampled_from([1.0, 0.1, 0.5])),
        block_pos_min=draw(st.sampled_from([0.0, 100.0, 1000.0])),
        block_acct=draw(st.sampled_from([math.inf, math.inf, 300.0])),
        block_fund_loss=draw(st.sampled_from([math.inf, math.inf, 20.0])),
        # the node's caps: orders (a random window of the triggered rows), deleveragings and holders walked per block
        block_liquidations=draw(st.sampled_from([0, 0, 1, 2, 3])),
        block_deleveragings=draw(st.sampled_from([0, 0, 1, 2])),
        deleverage_holders=draw(st.sampled_from([0, 0, 1, 2])),
        adl_ranking=draw(st.sampled_from([enums.RANK_RANDOM, enums.RANK_RANDOM, enums.RANK_PNL_LEVERAGE])),
    )
    return rules


@st.composite
def behaviours(draw, positions):
    """Stops (some at a shared round price, so ties are exercised, some reached at the start), top-up reserves and
    delays, and funding settled by the formula or at a fixed rate, often within the run."""
    stops, reserves, delays = [], [], []
    for side, _q, _ep, w, kind in positions:
        trader = kind == 0
        if trader and draw(st.booleans()):
            shared = 95.0 if side > 0 else 105.0
            own = draw(st.floats(85.0, 99.9) if side > 0 else st.floats(100.1, 115.0))
            reached = draw(st.floats(100.0, 104.0) if side > 0 else st.floats(96.0, 100.0))  # fires at the first tick
            stops.append(draw(st.sampled_from([shared, own, own, reached])))
        else:
            stops.append(math.nan)
        reserves.append(draw(st.sampled_from([0.0, 0.5 * w, 2.0 * w])) if trader else 0.0)
        delays.append(draw(st.sampled_from([0, 500, 1500, 4000])))
    threshold = draw(st.sampled_from([0.5, 0.8, 0.95]))
    return dict(
        stops=stops,
        reserves=reserves,
        delays=delays,
        stop_on_mark=draw(st.booleans()),
        tu_threshold=threshold,
        tu_target=threshold * draw(st.sampled_from([0.3, 0.7])),
        funding_on=draw(st.booleans()),
        time_to_funding=draw(st.sampled_from([0, 1500, 4000, 20_000])),
        funding_interval=draw(st.sampled_from([2000, 3000, 8 * 3600 * 1000])),
        funding_fixed=draw(st.sampled_from([math.nan, math.nan, 0.002, -0.003])),
        funding_interest=draw(st.sampled_from([0.0001, -0.0002])),
        funding_clamp=draw(st.sampled_from([0.0005, 0.0])),
        funding_cap=draw(st.sampled_from([0.003, 0.0001])),
        funding_scale=draw(st.sampled_from([1.0, 0.125])),
        funding_at_index=draw(st.booleans()),
        funding_linear=draw(st.booleans()),
    )


@st.composite
def arrival_candidates(draw):
    """Arrival candidates (sim.world.arrivals) on a 100 ms grid, so they share milliseconds with oracle ticks,
    background orders and each other, and the buy-the-dip rule's scalars."""
    times = sorted(100 * t for t in draw(st.lists(st.integers(0, 100), max_size=8)))
    cands = [
        (
            t,
            draw(st.floats(0.0, 0.999)),
            draw(st.sampled_from([-1, 1])),
            draw(st.sampled_from([2.0, 10.0, 50.0])),
            draw(st.floats(5.0, 300.0)),
        )
        for t in times
    ]
    rule = dict(
        arr_dip_mult=draw(st.sampled_from([1.0, 3.0, 10.0])),
        arr_dip_dd=draw(st.sampled_from([0.02, 0.1])),
        arr_dip_window=draw(st.sampled_from([1500, 3600 * 1000])),
    )
    return cands, rule


@st.composite
def markets(draw, rules=False, behaviour=False, arrivals=False, fillable=False):
    n = draw(st.integers(1, 10))
    positions = []
    for _ in range(n):
        side = draw(st.sampled_from([-1, 1]))
        q = draw(st.floats(0.5, 30.0))
        ep = draw(st.floats(90.0, 110.0))
        lev = draw(st.sampled_from([2.0, 5.0, 10.0, 20.0, 50.0]))
        spare = draw(st.sampled_from([0.0, 0.0, 0.5, 3.0]))  # cross accounts carry spare balance
        positions.append((side, q, ep, q * ep / lev * (1.0 + spare), 0))
    residual = sum(p[0] * p[1] for p in positions)
    positions.append((-1 if residual > 0 else 1, abs(residual), 100.0, abs(residual) * 100.0, 1))
    size = draw(st.floats(-15.0, 15.0))
    ramp = draw(st.integers(0, 8000))
    path = ((0, 100.0), (2000, 100.0), (2000 + ramp, 100.0 * (1.0 + size / 100.0)))
    # on a 100 ms grid, so background orders often share a millisecond with an oracle tick
    times = sorted(100 * t for t in draw(st.lists(st.integers(0, 100), max_size=20)))
    noise = [(t, draw(st.sampled_from([-1, 1])), draw(st.floats(0.1, 20.0))) for t in times]
    venue = draw(fillable_rules()) if fillable else draw(venue_rules()) if rules else {}
    if behaviour:
        venue.update(draw(behaviours(positions)))
    if arrivals:
        cands, rule = draw(arrival_candidates())
        venue.update(rule, arrivals=cands)
    tiers = [ONE_TIER, SIZE_TIERS] if venue.get("tier_basis") == enums.MM_SIZE else [ONE_TIER, TWO_TIERS, THREE_TIERS]
    if fillable:  # a high maintenance fraction, where the fund's fee cap binds (dYdX's long-tail tiers)
        tiers = tiers + [([0.0], [0.05], [0.0])]
    return make_input(
        positions,
        tiers=draw(st.sampled_from(tiers)),
        path=path,
        noise=noise,
        prof=draw(st.floats(1.0, 50.0)),
        depth_levels=draw(st.integers(5, 60)),
        duration=10_000,
        oracle_interval=draw(st.sampled_from([700, 1000, 1300])),
        sample_interval=draw(st.sampled_from([500, 1000])),
        index_coupling=draw(st.floats(0.0, 0.8)),
        fund_initial=draw(st.sampled_from([0.0, 50.0, 1000.0])),
        adl_enabled=draw(st.booleans()),
        band=draw(st.sampled_from([0.0, 0.01, 0.05])),
        basis_window=draw(st.integers(1, 5)),
        funding_rate=draw(st.floats(-0.001, 0.001)),
        unwind_interval=draw(st.sampled_from([500, 1000, 3000])),
        refill_half_life=draw(st.sampled_from([200.0, 1000.0, 5000.0])),
        depth_shock_factor=draw(st.sampled_from([1.0, 1.0, 0.2, 3.0])),
        depth_shock_start=draw(st.sampled_from([0, 2000, 2300])),
        depth_shock_end=draw(st.sampled_from([0, 4000, 20_000])),
        wd_on=draw(st.booleans()),
        wd_vol_half=draw(st.sampled_from([0.0005, 0.005])),
        wd_flow_half=draw(st.sampled_from([50.0, 5000.0])),
        wd_window=draw(st.sampled_from([1000.0, 5000.0])),
        wd_floor=draw(st.sampled_from([0.05, 0.5])),
        wd_recovery=draw(st.sampled_from([500.0, 5000.0])),
        wd_spread=draw(st.sampled_from([0.0, 0.0, 0.002, 0.02])),
        **venue,
    )


def assert_same(fast, ref):
    assert len(fast["fills"]) == len(ref["fills"])
    for a, b in zip(fast["fills"], ref["fills"]):
        assert a[:4] == b[:4] and a[11:] == b[11:], (a, b)  # time, kind, account, side; ADL cause
        np.testing.assert_allclose(a[4:], b[4:], rtol=RTOL, atol=ATOL, equal_nan=True)
    np.testing.assert_allclose(np.array(fast["series"]), np.array(ref["series"]), rtol=RTOL, atol=ATOL, equal_nan=True)
    for key in ("cash", "position", "pos_size", "topup"):
        np.testing.assert_allclose(fast[key], ref[key], rtol=RTOL, atol=ATOL)
    assert fast["pos_status"] == ref["pos_status"]
    np.testing.assert_allclose(fast["fund_balance"], ref["fund_balance"], rtol=RTOL, atol=ATOL)


@settings(max_examples=300 * settings.default.max_examples // 100)
@given(markets())
def test_numba_engine_matches_reference(compiled, inp):
    assert_same(engine_result(simulate(inp)), reference_run(inp))


@settings(max_examples=400 * settings.default.max_examples // 100)
@given(markets(rules=True))
def test_numba_engine_matches_reference_under_venue_rules(compiled, inp):
    assert_same(engine_result(simulate(inp)), reference_run(inp))


@settings(max_examples=300 * settings.default.max_examples // 100)
@given(markets(rules=True, behaviour=True))
def test_numba_engine_matches_reference_with_stops_topups_and_funding(compiled, inp):
    assert_same(engine_result(simulate(inp)), reference_run(inp))


@settings(max_examples=200 * settings.default.max_examples // 100)
@given(markets(rules=True, behaviour=True, arrivals=True))
def test_numba_engine_matches_reference_with_arrivals(compiled, inp):
    """Positions that open during the run: accepted or not by the buy-the-dip rule, then liquidated, deleveraged,
    stopped or paid funding like any other."""
    assert_same(engine_result(simulate(inp)), reference_run(inp))


@settings(max_examples=300 * settings.default.max_examples // 100)
@given(markets(fillable=True))
def test_numba_engine_matches_reference_under_fillable_settlement(compiled, inp):
    """dYdX's rules: orders at the fillable price block by block, the fund's fee cap and per-block limits,
    deleveraging of accounts under water from a random start."""
    assert_same(engine_result(simulate(inp)), reference_run(inp))


@settings(max_examples=100 * settings.default.max_examples // 100)
@given(markets(fillable=True, behaviour=True, arrivals=True))
def test_numba_engine_matches_reference_under_fillable_settlement_with_behaviour(compiled, inp):
    assert_same(engine_result(simulate(inp)), reference_run(inp))


#: A small generated crowd in a thin book, hit hard enough that the cascade reaches ADL.
GENERATED = {
    "population.n_positions": 150,
    "scenario.duration_s": 90.0,
    "shock.start_s": 10.0,
    "shock.duration_s": 20.0,
    "shock.size_pct": -15.0,
    "book.depth_usd_1pct": 3e3,
    "book.range_pct": 30.0,
    "insurance_fund.initial_usd": 0.0,
    "book.noise_rate_per_s": 1.0,
    "market.tick_size_usd": 10.0,
}


def _generated_run(overrides):
    """The Numba engine's and the reference's runs of :data:`GENERATED` with ``overrides``: (fast result, inputs)."""
    import sim
    from sim.engine import prepare

    inp = prepare(sim.load_scenario(None, overrides={**GENERATED, **overrides}))
    return engine_result(simulate(inp)), inp


def test_matches_reference_on_a_generated_population(compiled):
    """A population from the real generator, a real tier table and a cascade that reaches ADL."""
    fast, inp = _generated_run({})
    kinds = {f[1] for f in fast["fills"]}
    assert {sim_kind for sim_kind in kinds} >= {0, 3}  # liquidations and ADL both happened
    assert_same(fast, reference_run(inp))


def test_matches_reference_on_a_generated_population_under_dydx(compiled):
    """The dYdX pack on a generated population: liquidations block by block at the fillable price, the fund
    drained, accounts under water deleveraged from a random start; the reference agrees fill for fill."""
    fast, inp = _generated_run(
        {"market.venue": "dydx", "insurance_fund.initial_usd": 200.0, "venue.block_position_min_usd": 100.0}
    )
    kinds = {f[1] for f in fast["fills"]}
    assert kinds >= {enums.PARTIAL, enums.ADL}, kinds
    assert_same(fast, reference_run(inp))
