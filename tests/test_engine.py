"""Engine behaviour: money conservation over random scenarios, hand-built waterfall cases, and the
properties a cascade model must have (zero shock, monotone in shock size, mirror symmetry,
determinism)."""

import math

import numpy as np
import pytest
from dsl import TWO_TIERS, initial_cash, make_input
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
from sim import enums as E
from sim.engine import prepare, simulate


def small(**overrides):
    base = {
        "prices.model": "imposed",  # the perp's own mechanics under the index path (test_prices has the endogenous model)
        "population.n_positions": 400,
        "scenario.duration_s": 120.0,
        "shock.start_s": 10.0,
        "shock.duration_s": 30.0,
    }
    base.update(overrides)
    return sim.load_scenario(None, overrides=base)


def assert_money_conserved(inp, raw):
    acc = raw.accounts
    assert math.fsum(acc["cash_end"]) == pytest.approx(math.fsum(initial_cash(inp)), rel=1e-12, abs=1e-4)
    assert math.fsum(acc["cash_start"]) == pytest.approx(math.fsum(initial_cash(inp)), rel=1e-12, abs=1e-4)
    assert abs(math.fsum(acc["position_end"])) < 1e-9 * max(1.0, np.abs(acc["position_start"]).sum())
    # the tape explains the fund
    assert raw.fund_balance == pytest.approx(inp.fund_initial + math.fsum(raw.fills["fund_delta"]), rel=1e-12, abs=1e-4)


# ------------------------------------------------------------------------------------------------
# invariants over random scenarios
# ------------------------------------------------------------------------------------------------


@settings(max_examples=80 * settings.default.max_examples // 100)
@given(
    seed=st.integers(0, 2**32),
    kind=st.sampled_from(["gap", "ramp", "none"]),
    size=st.floats(-30.0, 30.0),
    long_share=st.floats(0.0, 1.0),
    depth=st.sampled_from([2e4, 2e5, 2e6, 2e8]),
    fund=st.sampled_from([0.0, 1e4, 5e7]),
    adl=st.booleans(),
    coupling=st.floats(0.0, 1.0),
    half_life=st.sampled_from([1.0, 30.0, 600.0]),
    venue=st.sampled_from(["binance", "dydx"]),
)
def test_money_is_conserved(compiled, seed, kind, size, long_share, depth, fund, adl, coupling, half_life, venue):
    scn = small(
        **{
            "market.venue": venue,  # dYdX: fills at the fillable price settled per fill, deleveraging at bankruptcy
            "scenario.seed": seed,
            "shock.kind": kind,
            "shock.size_pct": size,
            "population.long_share": long_share,
            "book.depth_usd_1pct": depth,
            "insurance_fund.initial_usd": fund,
            "adl.enabled": adl,
            "market.index_coupling": coupling,
            "book.refill_half_life_s": half_life,
            "population.open_interest_usd": 5e6,
        }
    )
    inp = prepare(scn)
    raw = simulate(inp)
    assert_money_conserved(inp, raw)
    ser = raw.series
    both = ~np.isnan(ser["best_bid"]) & ~np.isnan(ser["best_ask"])
    assert np.all(ser["best_bid"][both] < ser["best_ask"][both])  # never crossed
    # liquidated accounts are flat; open ones keep a size
    liq = raw.accounts["status"][: inp.pos_side.size] == E.LIQUIDATED
    assert np.all(np.abs(raw.accounts["position_end"][: inp.pos_side.size][liq]) <= inp.lot * 1e-9)
    if not adl:
        assert not np.any(raw.fills["kind"] == E.ADL)
    assert_only_crossed_positions_are_liquidated(raw)


def assert_only_crossed_positions_are_liquidated(raw):
    """A position's first forced close happens only once the mark has reached its liquidation price."""
    seen = set()
    lp_start = raw.accounts["liquidation_price_start"]
    for f in raw.fills:
        i = int(f["account"])
        if i in seen or f["kind"] not in (E.LIQUIDATION, E.PARTIAL, E.TAKEOVER):
            seen.add(i)
            continue
        seen.add(i)
        side = -int(f["side"])  # the order closes the position
        assert side * (lp_start[i] - f["mark"]) >= -1e-9 * lp_start[i], (i, lp_start[i], f["mark"])


# ------------------------------------------------------------------------------------------------
# hand-built waterfall cases
# ------------------------------------------------------------------------------------------------

LONG_10X = (1, 10.0, 100.0, 100.0, E.TRADER)  # LP = (100 - 1000)/(10*0.004 - 10) = 90.36, BP = 90
SHORT_CP = (-1, 10.0, 100.0, 1000.0, E.COUNTERPARTY)
CRASH = ((0, 100.0), (1500, 100.0), (1500, 85.0))


def fills_of(raw, kind):
    return raw.fills[raw.fills["kind"] == kind]


def test_a_dust_counterparty_is_flat_and_never_adl_d():
    """0.1 + 0.2 longs against 0.3 short leave a float residual of 5.6e-17: rounding, not a position."""
    residual = 0.1 + 0.2 - 0.3
    positions = [
        (1, 0.1, 100.0, 1.0, E.TRADER),
        (1, 0.2, 100.0, 2.0, E.TRADER),
        (-1, 0.3, 100.0, 30.0, E.TRADER),
        (-1, residual, 100.0, residual * 20, E.COUNTERPARTY),
    ]
    inp = make_input(
        positions, path=((0, 100.0), (2000, 100.0), (2500, 80.0)), duration=5000, fund_initial=0.0, prof=0.01
    )
    raw = simulate(inp)
    assert raw.accounts["status"][3] == E.FLAT
    assert 3 not in raw.fills["account"].tolist()
    assert raw.full == 2
    assert_money_conserved(inp, raw)


def test_tv22_fund_delta_sign_follows_the_fill_vs_bankruptcy():
    """TV22 (docs/model.md §10, linear analogue): fills better than bankruptcy pay the fund, worse ones draw on it."""
    # the index gaps to 90.30 (below LP 90.36); the only bids sit 10 ticks (90.20, better than BP 90)
    # or 50 ticks (89.80, worse) below it
    for offset, expected in ((10, 10.0 * 0.20), (50, -10.0 * 0.20)):
        prof = np.zeros(61)
        prof[offset] = 1_000.0
        path = ((0, 100.0), (1500, 100.0), (1500, 90.30))
        inp = make_input(
            [LONG_10X, SHORT_CP], path=path, prof=prof, band=0.5, duration=2000, tick=0.01, n_levels=20_000
        )
        raw = simulate(inp)
        liq = fills_of(raw, E.LIQUIDATION)
        assert len(liq) == 1
        f = liq[0]
        assert f["bankruptcy_price"] == pytest.approx(90.0)
        assert f["price"] == pytest.approx(90.30 - offset * 0.01)
        assert f["fund_delta"] == pytest.approx(expected)
        assert f["fee"] == pytest.approx(min(inp.clearance * 10.0 * f["price"], max(0.0, expected)))
        assert_money_conserved(inp, raw)


def test_thin_book_leads_to_fund_takeover_then_unwind():
    # 1 unit per level within 3 ticks: the 10-unit liquidation can fill only 3 on the book
    inp = make_input(
        [LONG_10X, SHORT_CP],
        path=CRASH,
        prof=1.0,
        depth_levels=3,
        band=0.0,
        fund_initial=1e6,
        duration=20_000,
        unwind_interval=500,
    )
    raw = simulate(inp)
    takeover = fills_of(raw, E.TAKEOVER)
    assert len(takeover) == 1
    assert takeover["qty"][0] == pytest.approx(10.0 - fills_of(raw, E.LIQUIDATION)["qty"].sum())
    assert takeover["price"][0] == pytest.approx(90.0)  # at the bankruptcy price
    unwinds = fills_of(raw, E.FUND_UNWIND)
    assert len(unwinds) > 0 and np.all(unwinds["side"] == -1)  # the fund sells its inherited long
    assert raw.accounts["status"][0] == E.LIQUIDATED
    assert not np.any(raw.fills["kind"] == E.ADL)
    assert_money_conserved(inp, raw)


def test_empty_fund_triggers_adl_in_ranking_order():
    # shorts (the ADL candidates) with different profit and leverage at the bankruptcy price 90
    shorts = [
        (-1, 2.0, 100.0, 40.0, E.TRADER),  # 5x, entry 100
        (-1, 2.0, 110.0, 22.0, E.TRADER),  # 10x, entry 110 (more profit, more leverage)
        (-1, 2.0, 95.0, 190.0, E.TRADER),  # 1x, entry 95
        (-1, 2.0, 80.0, 80.0, E.TRADER),  # losing at 90
    ]
    residual = 10.0 - 8.0
    positions = [LONG_10X] + shorts + [(-1, residual, 100.0, residual * 100.0, E.COUNTERPARTY)]
    inp = make_input(positions, path=CRASH, prof=0.0, fund_initial=0.0, duration=2000)
    raw = simulate(inp)
    adl = fills_of(raw, E.ADL)

    # expected ranking at P = 90: score = pnl% x leverage (pnl% / leverage when losing)
    def score(side, q, ep, w, _kind):
        pnl = side * (90.0 - ep) / ep
        eq = w + side * q * (90.0 - ep)
        lev = q * 90.0 / eq
        return pnl * lev if pnl > 0 else pnl / lev

    candidates = sorted(range(1, len(positions)), key=lambda i: (-score(*positions[i]), i))
    expected = []
    remaining = 10.0
    for c in candidates:
        if remaining <= 0:
            break
        expected.append(c)
        remaining -= positions[c][1]
    assert adl["account"].tolist() == expected
    assert np.all(adl["price"] == pytest.approx(90.0))  # at the bankruptcy price
    assert adl["qty"].sum() == pytest.approx(10.0)
    assert np.all(adl["side"] == 1)  # the short winners buy back
    assert raw.accounts["status"][0] == E.LIQUIDATED
    assert raw.bad_debt == 0.0
    assert_money_conserved(inp, raw)


def test_adl_off_leaves_the_deficit_as_bad_debt():
    # no book at all, no fund: the fund must take the position at BP 90 and cannot sell it
    inp = make_input([LONG_10X, SHORT_CP], path=CRASH, prof=0.0, fund_initial=0.0, adl_enabled=False, duration=3000)
    raw = simulate(inp)
    assert len(fills_of(raw, E.TAKEOVER)) == 1
    deficit = 10.0 * (90.0 - raw.final_mark)  # what the inherited long has lost below bankruptcy
    assert raw.final_mark == pytest.approx(85.0)
    assert raw.bad_debt == pytest.approx(deficit)
    assert_money_conserved(inp, raw)


def test_large_position_is_reduced_partially_to_a_lower_tier():
    # two tiers (floor 1000): 20 units at 100 = 2,000 notional is in tier 2; W chosen so LP ~ 95
    big = (1, 20.0, 100.0, 155.0, E.TRADER)
    positions = [big, (-1, 20.0, 100.0, 2000.0, E.COUNTERPARTY)]
    path = ((0, 100.0), (1500, 100.0), (1500, 94.9))
    inp = make_input(positions, tiers=TWO_TIERS, path=path, prof=1_000.0, duration=2000)
    raw = simulate(inp)
    partial = fills_of(raw, E.PARTIAL)
    assert len(partial) == 1
    m = partial["mark"][0]
    keep = math.floor(1000.0 / m / inp.lot) * inp.lot  # the most that fits tier 1 at the mark
    assert partial["qty"][0] == pytest.approx(20.0 - keep)
    assert partial["fund_delta"][0] == pytest.approx(inp.clearance * partial["qty"][0] * partial["price"][0])
    assert raw.accounts["status"][0] == E.OPEN
    assert raw.accounts["position_end"][0] == pytest.approx(keep)
    assert_money_conserved(inp, raw)


def test_partial_that_leaves_the_position_under_water_becomes_a_full_liquidation():
    """Binance's step 3 → 4: if the reduced position is still not compliant after the fill and the
    fee, it is closed in full at once, not left at zero equity until the next tick."""
    big = (1, 20.0, 100.0, 155.0, E.TRADER)  # tier 2 at 93 (notional 1,860); BP 92.25
    prof = np.zeros(41)
    prof[1] = 10.0  # only 10 units, at 92.5 (one tick below the fair price 93)
    path = ((0, 100.0), (1500, 100.0), (1500, 93.0))
    inp = make_input(
        [big, (-1, 20.0, 100.0, 2000.0, E.COUNTERPARTY)], tiers=TWO_TIERS, path=path, prof=prof, duration=2000
    )
    raw = simulate(inp)
    f = raw.fills
    assert f["kind"].tolist() == [E.PARTIAL, E.LIQUIDATION, E.TAKEOVER]
    assert len(set(f["t"].tolist())) == 1  # all in the same tick
    keep = math.floor(1000.0 / 93.0 / inp.lot) * inp.lot
    assert f["qty"][0] == pytest.approx(20.0 - keep)
    assert f["qty"][1] == pytest.approx(10.0 - (20.0 - keep))  # what the level had left
    assert f["qty"][0] + f["qty"][1] + f["qty"][2] == pytest.approx(20.0)
    assert raw.accounts["status"][0] == E.LIQUIDATED
    assert_money_conserved(inp, raw)


def test_an_empty_fund_neither_pays_gaps_nor_takes_over():
    """With no fund equity the IOC order stops at bankruptcy and the remainder goes to ADL."""
    shorts = [(-1, 5.0, 100.0, 500.0, E.TRADER), (-1, 5.0, 100.0, 500.0, E.COUNTERPARTY)]
    prof = np.zeros(41)
    prof[30] = 100.0  # bids only far below bankruptcy
    inp = make_input([LONG_10X] + shorts, path=CRASH, prof=prof, fund_initial=0.0, band=0.5, duration=2000)
    raw = simulate(inp)
    assert not np.any(raw.fills["kind"] == E.LIQUIDATION)  # nothing filled below bankruptcy
    assert not np.any(raw.fills["kind"] == E.TAKEOVER)
    assert fills_of(raw, E.ADL)["qty"].sum() == pytest.approx(10.0)
    assert raw.bad_debt == 0.0
    assert_money_conserved(inp, raw)


# ------------------------------------------------------------------------------------------------
# properties
# ------------------------------------------------------------------------------------------------


def test_zero_shock_liquidates_nothing(compiled):
    scn = small(**{"shock.kind": "none", "book.noise_rate_per_s": 0.0, "population.n_positions": 5000})
    res = sim.run(scn)
    assert res.summary["liquidated_notional_usd"]["total"] == 0.0
    assert len(res.fills) == 0
    # with background flow the mark jitters by a few ticks: only positions sitting within that jitter
    # of their liquidation price may go
    calm = sim.run(small(**{"shock.kind": "none", "population.n_positions": 20_000, "scenario.duration_s": 300.0}))
    marks = calm.series["mark"]
    assert np.ptp(marks) < 0.001 * calm.scenario.market.start_price_usd
    assert calm.summary["liquidated_notional_usd"]["total"] < 1e-3 * 8e9
    assert_only_crossed_positions_are_liquidated(calm)


@pytest.mark.parametrize("seed", [1, 2])
def test_bigger_shock_never_liquidates_less(compiled, seed):
    """Same seed, a deeper fall: never fewer positions liquidated, never less quantity. (Measured in
    positions and base units: in dollars a deeper fall liquidates at lower prices.)"""
    counts, quantities = [], []
    for size in np.arange(-2.0, -30.0, -1.0):
        res = sim.run(
            small(
                **{
                    "scenario.seed": seed,
                    "shock.kind": "gap",
                    "shock.size_pct": float(size),
                    "population.n_positions": 2000,
                }
            )
        )
        hit = np.isin(res.fills["kind"], (E.LIQUIDATION, E.PARTIAL, E.TAKEOVER))
        partial_only = set(res.fills["account"][res.fills["kind"] == E.PARTIAL].tolist())
        liquidated = set(np.flatnonzero(res.accounts["status"] == E.LIQUIDATED).tolist())
        counts.append(len(liquidated | partial_only))
        quantities.append(
            float(res.fills["qty"][hit].sum()) + float(res.fills["qty"][res.fills["kind"] == E.ADL].sum())
        )
    assert counts == sorted(counts) and counts[-1] > counts[0]
    assert all(b >= a * (1 - 1e-12) for a, b in zip(quantities, quantities[1:]))


def test_a_short_squeeze_destroys_open_interest(compiled):
    res = sim.run(small(**{"shock.size_pct": 15.0, "population.n_positions": 3000}))
    assert res.summary["liquidated_notional_usd"]["short"] > 0
    assert res.summary["liquidated_notional_usd"]["long"] == 0
    assert res.summary["open_interest_destroyed_pct"] > 0


def test_mirrored_population_under_mirrored_shock_gives_mirrored_results():
    """Reflect prices about the start price (P -> 2·P0 − P) and swap longs and shorts: with no
    price-proportional terms (MMR, fees, bands, funding) the model is exactly symmetric."""
    rng = np.random.default_rng(7)
    positions = []
    for _ in range(30):
        side = int(rng.choice([-1, 1]))
        q = float(rng.uniform(0.5, 5.0))
        ep = float(rng.uniform(95.0, 105.0))
        positions.append((side, q, ep, q * ep / float(rng.choice([5.0, 10.0, 20.0])), E.TRADER))
    residual = sum(p[0] * p[1] for p in positions)
    positions.append((-1 if residual > 0 else 1, abs(residual), 100.0, abs(residual) * 100.0, E.COUNTERPARTY))
    mirrored = [(-s, q, 200.0 - ep, w, k) for s, q, ep, w, k in positions]
    times = np.sort(rng.integers(0, 8000, 40))
    noise = [(int(t), int(rng.choice([-1, 1])), float(rng.uniform(0.1, 2.0))) for t in times]
    mirrored_noise = [(t, -side, q) for t, side, q in noise]
    # bands wide enough never to bind (they are multiplicative, the only asymmetric terms left)
    common = dict(
        tiers=([0.0], [0.0], [0.0]),
        prof=3.0,
        depth_levels=60,
        clearance=0.0,
        band=0.5,
        funding_rate=0.0,
        adl_enabled=False,
        unwind_band=0.5,
        noise_band=0.5,
        fund_initial=1e6,
        index_coupling=0.4,
        duration=8000,
        unwind_interval=700,
    )
    down = simulate(make_input(positions, path=((0, 100.0), (1000, 100.0), (4000, 80.0)), noise=noise, **common))
    up = simulate(make_input(mirrored, path=((0, 100.0), (1000, 100.0), (4000, 120.0)), noise=mirrored_noise, **common))
    a, b = down.fills, up.fills
    assert len(a) == len(b)
    assert {E.LIQUIDATION, E.NOISE_FILL} <= set(a["kind"].tolist())
    assert np.sum(a["kind"] == E.LIQUIDATION) >= 5
    assert a["kind"].tolist() == b["kind"].tolist()
    assert a["account"].tolist() == b["account"].tolist()
    assert (a["side"] == -b["side"]).all()
    np.testing.assert_allclose(a["qty"], b["qty"], rtol=1e-9)
    np.testing.assert_allclose(a["price"], 200.0 - b["price"], rtol=1e-9)
    np.testing.assert_allclose(a["fund_delta"], b["fund_delta"], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(down.series["mark"], 200.0 - up.series["mark"], rtol=1e-9)
    assert down.accounts["status"].tolist() == up.accounts["status"].tolist()


def test_same_seed_is_bit_for_bit_identical(compiled):
    scn = small(**{"scenario.seed": 11})
    a, b = sim.run(scn), sim.run(scn)
    assert a.fills.tobytes() == b.fills.tobytes()
    assert a.series.tobytes() == b.series.tobytes()
    assert a.accounts.tobytes() == b.accounts.tobytes()
    c = sim.run(small(**{"scenario.seed": 12}))
    assert c.fills.tobytes() != a.fills.tobytes()


def test_a_longer_run_repeats_the_shorter_one_first(compiled):
    """Background flow is drawn so that a longer run with the same seed starts exactly the same."""
    short = sim.run(small(**{"scenario.duration_s": 60.0}))
    long = sim.run(small(**{"scenario.duration_s": 120.0}))
    n = len(short.fills)
    assert n > 0 and long.fills[:n].tobytes() == short.fills.tobytes()


def test_population_file_round_trip(tmp_path, compiled):
    """An explicit positions file is used as given, with the residual on the counterparty."""
    path = tmp_path / "positions.csv"
    path.write_text("side,size,entry_price,leverage\nlong,2,121000,20\nlong,1,120000,50\nshort,1,122000,10\n")
    res = sim.run(
        sim.load_scenario(
            None,
            overrides={
                "population.file": str(path),
                "scenario.duration_s": 120.0,
                "shock.start_s": 5.0,
                "shock.duration_s": 10.0,
            },
        )
    )
    acc = res.accounts
    assert acc["kind"][:4].tolist() == [E.TRADER, E.TRADER, E.TRADER, E.COUNTERPARTY]
    assert acc["position_start"][:4].tolist() == [2.0, 1.0, -1.0, -2.0]
    assert acc["status"][0] == E.LIQUIDATED and acc["status"][1] == E.LIQUIDATED  # 20x and 50x longs, -10%
    assert acc["status"][2] == E.OPEN


@pytest.mark.parametrize("mix", ["{125=1.0}", "{100=0.5, 20=0.5}"])
def test_drawn_liquidation_prices_are_the_final_positions(mix):
    """The population draw hands its liquidation prices on (stops and top-ups are placed from them): they must be
    those of the positions as finally drawn, rows redrawn or opened at the start price included."""
    from sim.engine import trigger_tiers
    from sim.kernels.margin import liquidation_prices_nb
    from sim.world.population import generate

    scn = sim.load_scenario(
        None,
        overrides={
            "population.n_positions": 20_000,
            "population.leverage_mix": mix,
            "population.entry_volatility_pct_per_day": 60.0,
        },
    )
    tiers = trigger_tiers(scn.market, scn.rules())
    pop = generate(scn.population, scn.market, np.random.default_rng(3), tiers)
    at_start = pop.entry[:-1] == scn.market.start_price_usd
    assert at_start.sum() > 0  # the sixth try happened
    fresh = liquidation_prices_nb(pop.side, pop.size, pop.entry, pop.wallet, *tiers, np.empty(pop.n))
    assert np.array_equal(pop.lp[:-1], fresh[:-1])
    assert np.isnan(pop.lp[-1])  # the counterparty's is not drawn
