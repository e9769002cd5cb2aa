"""Venue rules in the engine (docs/engine.md §3, §4, §7, §10) on tiny hand-built markets.

Every case runs through both engines (the Numba kernels and the pure-Python reference), checks that
they agree with each other, and checks both against numbers worked out by hand from docs/engine.md;
the arithmetic is in the comments. Unless a test says otherwise: one oracle tick per second (ticks
at t = 0, 1000, 2000, ... ms), the index path gaps at t = 1500 so the first tick that sees the new
price is t = 2000, the book is symmetric around an index that sits on the tick grid (so the basis
is 0 and the mark equals the index), and the fund never unwinds inside the run.
"""

import math
from collections import namedtuple

import numpy as np
import pytest
from dsl import engine_result, initial_cash, make_input, money_total
from reference import reference_liquidation_price, reference_run

from sim import enums as E
from sim.engine import simulate

RTOL = 1e-9
ATOL = 1e-7
NEVER = 10**9  # an unwind interval longer than any run here: the fund only looks at t = 0

Fill = namedtuple("Fill", "t kind account side qty price bp fund_delta fee mark equity cause")

# three tiers with a continuous maintenance margin: cum1 = 1000·(0.05 − 0.01) = 40,
# cum2 = 40 + 2000·(0.10 − 0.05) = 140
THREE_TIERS = ([0.0, 1000.0, 2000.0], [0.01, 0.05, 0.10], [0.0, 40.0, 140.0])

GAP_TO_95 = ((0, 100.0), (1500, 100.0), (1500, 95.0))
GAP_TO_85 = ((0, 100.0), (1500, 100.0), (1500, 85.0))


# ------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------


def assert_engines_agree(fast, ref):
    assert len(fast["fills"]) == len(ref["fills"]), (fast["fills"], ref["fills"])
    for a, b in zip(fast["fills"], ref["fills"]):
        assert a[:4] == b[:4], (a, b)  # time, kind, account, side
        np.testing.assert_allclose(a[4:], b[4:], rtol=RTOL, atol=ATOL, equal_nan=True)
    np.testing.assert_allclose(np.array(fast["series"]), np.array(ref["series"]), rtol=RTOL, atol=ATOL, equal_nan=True)
    for key in ("cash", "position", "pos_size", "topup"):
        np.testing.assert_allclose(fast[key], ref[key], rtol=RTOL, atol=ATOL)
    assert fast["pos_status"] == ref["pos_status"]
    np.testing.assert_allclose(fast["fund_balance"], ref["fund_balance"], rtol=RTOL, atol=ATOL)


def run_both(inp):
    """Both engines on ``inp``: the Numba Raw and ``{engine name: result dict}``."""
    raw = simulate(inp)
    results = {"numba": engine_result(raw), "reference": reference_run(inp)}
    assert_engines_agree(results["numba"], results["reference"])
    return raw, results


def tape(res, kinds=None):
    fills = [Fill(*f) for f in res["fills"]]
    return [f for f in fills if kinds is None or f.kind in kinds]


def assert_fill(f, **expected):
    for field, value in expected.items():
        got = getattr(f, field)
        if isinstance(value, float):
            assert got == pytest.approx(value, rel=1e-9, abs=1e-9), (field, f)
        else:
            assert got == value, (field, f)


def assert_money(inp, res):
    """Σ cash never changes, Σ q stays 0, and the tape explains the fund (docs/engine.md §1, §8)."""
    start = money_total(initial_cash(inp))
    marked = [c + q * res["mark"] for c, q in zip(res["cash"], res["position"])]
    assert money_total(marked) == pytest.approx(start, rel=1e-12, abs=1e-6)
    assert money_total(res["cash"]) == pytest.approx(start, rel=1e-12, abs=1e-6)
    assert abs(math.fsum(res["position"])) < 1e-9
    assert res["fund_balance"] == pytest.approx(
        inp.fund_initial + math.fsum(f[7] for f in res["fills"]), rel=1e-12, abs=1e-9
    )


def fund_row(inp):
    return len(inp.pos_side) + 2


# ------------------------------------------------------------------------------------------------
# 1. partial rules
# ------------------------------------------------------------------------------------------------

# Long 30 @ 100 on THREE_TIERS. At the mark 95: N = 2850 → tier 2, MM = 2850·0.10 − 140 = 145,
# E = W + 30·(95 − 100) = W − 150, so W ≤ 295 is triggered.
# Lower tiers at m = 95 (clearance 0.005):
#   j' = 1: keep = floor(2000/95 / 0.001)·0.001 = 21.052, r = 8.948, E' = E − 0.005·8.948·95 = E − 4.2503,
#           MM' = 21.052·95·0.05 − 40 = 59.997
#   j' = 0: keep = floor(1000/95 / 0.001)·0.001 = 10.526, r = 19.474, E' = E − 0.005·19.474·95 = E − 9.25015,
#           MM' = 10.526·95·0.01 = 9.9997


def step_down_market(wallet, prof=1000.0, path=GAP_TO_95, **params):
    positions = [(1, 30.0, 100.0, wallet, E.TRADER), (-1, 30.0, 100.0, 3000.0, E.COUNTERPARTY)]
    base = dict(
        tiers=THREE_TIERS,
        path=path,
        prof=prof,
        duration=3000,
        unwind_interval=NEVER,
        partial_rule=E.PARTIAL_STEP_IOC,
        partial_min_tier=1,
    )
    base.update(params)
    return make_input(positions, **base)


@pytest.mark.parametrize(
    "wallet, keep, w_after",
    [
        # W = 250: E = 100; j' = 1 is compliant (100 − 4.2503 = 95.7497 > 59.997) → keep 21.052.
        # Fill 8.948 @ 94.5 (bid one tick below 95; limit BP = 100 − 250/30 = 91.667):
        # W = 250 + 8.948·(94.5 − 100) = 200.786, fee = 0.005·8.948·94.5 = 4.22793,
        # E'' = 200.786 + 21.052·(95 − 100) = 95.526, E'' − fee = 91.298 > MM(21.052 @ 95, tier 1) = 59.997
        (250.0, 21.052, 200.786 - 4.22793),
        # W = 200: E = 50; j' = 1 is not compliant (50 − 4.2503 = 45.7497 ≤ 59.997), j' = 0 is
        # (50 − 9.25015 = 40.74985 > 9.9997) → keep 10.526.
        # Fill 19.474 @ 94.5 (BP 93.333): W = 200 + 19.474·(−5.5) = 92.893, fee = 0.005·19.474·94.5 = 9.201465,
        # E'' = 92.893 + 10.526·(−5) = 40.263, E'' − fee = 31.0615 > MM(10.526 @ 95, tier 0) = 9.9997
        (200.0, 10.526, 92.893 - 9.201465),
        # W = 212: E = 62 would pass tier 1 without the fee (62 > 59.997) but not with it
        # (62 − 4.2503 = 57.7497 ≤ 59.997); j' = 0: 62 − 9.25015 > 9.9997 → keep 10.526.
        # W = 212 − 107.107 = 104.893, E'' − fee = 104.893 − 52.63 − 9.201465 = 43.0615 > 9.9997
        (212.0, 10.526, 104.893 - 9.201465),
    ],
    ids=["tier1_compliant", "tier1_not_compliant", "tier1_not_compliant_after_fee"],
)
def test_step_down_ioc_keeps_the_largest_compliant_lower_tier(compiled, wallet, keep, w_after):
    inp = step_down_market(wallet)
    _, results = run_both(inp)
    r = 30.0 - keep
    fee = 0.005 * r * 94.5
    for name, res in results.items():
        fills = tape(res)
        assert len(fills) == 1, name  # one reduction, and a compliant rest is left alone at t = 3000
        assert_fill(
            fills[0],
            t=2000,
            kind=E.PARTIAL,
            account=0,
            side=-1,
            qty=r,
            price=94.5,
            bp=100.0 - wallet / 30.0,
            fund_delta=fee,
            fee=fee,
            mark=95.0,
            equity=wallet - 150.0,
        )
        assert res["pos_status"][0] == E.OPEN
        assert res["pos_size"][0] == pytest.approx(keep, rel=1e-12)
        # cash = W − q·EP
        assert res["cash"][0] == pytest.approx(w_after - keep * 100.0, rel=1e-9)
        assert res["fund_balance"] == pytest.approx(1000.0 + fee, rel=1e-12)
        assert_money(inp, res)


def test_step_down_ioc_rest_is_looked_at_again_from_the_next_tick(compiled):
    """The W = 200 case, then the index gaps on to 92 before the next tick. The rest (10.526 units,
    W = 83.691535) has LP = (83.691535 − 1052.6)/(0.10526 − 10.526) = 92.979 and BP =
    100 − 83.691535/10.526 = 92.049; at the mark 92 it is triggered, N = 968.4 is tier 0 → no partial,
    in full: 10.526 @ 91.5 (band open, the fund can pay), fund_delta = 10.526·(91.5 − 92.049) = −5.7795."""
    path = ((0, 100.0), (1500, 100.0), (1500, 95.0), (2500, 95.0), (2500, 92.0))
    inp = step_down_market(200.0, path=path)
    _, results = run_both(inp)
    w_rest = 92.893 - 9.201465
    bp_rest = 100.0 - w_rest / 10.526
    for name, res in results.items():
        fills = tape(res)
        assert [(f.t, f.kind) for f in fills] == [(2000, E.PARTIAL), (3000, E.LIQUIDATION)], name
        assert_fill(fills[0], qty=19.474, price=94.5)
        assert_fill(
            fills[1],
            account=0,
            side=-1,
            qty=10.526,
            price=91.5,
            bp=bp_rest,
            fund_delta=10.526 * (91.5 - bp_rest),
            fee=0.0,
            mark=92.0,
        )
        assert res["pos_status"][0] == E.LIQUIDATED
        assert res["cash"][0] == pytest.approx(0.0, abs=1e-9)  # settled at bankruptcy
        assert_money(inp, res)


def test_step_down_ioc_not_compliant_after_the_fill_is_closed_in_full_the_same_tick(compiled):
    """W = 200 (r = 19.474), but only 5 units bid within BP 93.333 (at 94.5) and 1000 at 93.0.
    Partial: 5 @ 94.5 → W = 200 − 27.5 = 172.5, Q = 25, E'' = 172.5 − 125 = 47.5, fee = 0.005·5·94.5 =
    2.3625, E'' − fee = 45.1375 ≤ MM(25 @ 95 = 2375, tier 2) = 237.5 − 140 = 97.5 → not compliant.
    In full at once: B = 100 − 170.1375/25 = 93.1945, limit B·0.95 = 88.535: 25 @ 93.0,
    fund_delta = 25·(93.0 − 93.1945) = −4.8625, fee = min(…, max(0, −4.86)) = 0."""
    prof = np.zeros(41)
    prof[1] = 5.0  # 94.5
    prof[4] = 1000.0  # 93.0: worse than bankruptcy, reachable only inside the band
    inp = step_down_market(200.0, prof=prof)
    _, results = run_both(inp)
    b = 100.0 - (172.5 - 2.3625) / 25.0
    for name, res in results.items():
        fills = tape(res)
        assert [(f.t, f.kind) for f in fills] == [(2000, E.PARTIAL), (2000, E.LIQUIDATION)], name
        assert_fill(fills[0], qty=5.0, price=94.5, bp=100.0 - 200.0 / 30.0, fund_delta=2.3625, fee=2.3625)
        assert_fill(
            fills[1],
            account=0,
            side=-1,
            qty=25.0,
            price=93.0,
            bp=b,
            fund_delta=25.0 * (93.0 - b),
            fee=0.0,
            equity=47.5 - 2.3625,
        )
        assert res["pos_status"][0] == E.LIQUIDATED
        assert res["cash"][0] == pytest.approx(0.0, abs=1e-9)
        assert res["fund_balance"] == pytest.approx(1000.0 + 2.3625 - 4.8625, rel=1e-12)
        assert_money(inp, res)


@pytest.mark.parametrize("rule", [E.PARTIAL_STEP_IOC, E.PARTIAL_STEP_FOK], ids=["ioc", "fok"])
def test_fill_or_kill_sends_nothing_partial_on_a_thin_book(compiled, rule):
    """W = 250 (r = 8.948 to keep tier 1), BP = 100 − 250/30 = 91.667, bids: 8 units at 94.5 (within BP)
    and 1000 at 90.5 (beyond BP, inside the band).
    IOC: 8 @ 94.5 → W = 250 − 44 = 206, Q = 22, E'' = 206 − 110 = 96, fee = 0.005·8·94.5 = 3.78,
         96 − 3.78 = 92.22 > MM(22 @ 95 = 2090, tier 2) = 209 − 140 = 69 → compliant, stays open with 22
         (rest LP = (202.22 + 140 − 2200)/(2.2 − 22) = 93.83 < 95: untouched at t = 3000).
    FOK: only 8 < 8.948 fillable within BP → no order; in full: 8 @ 94.5 + 22 @ 90.5, VWAP 2747/30 =
         91.5667, fund_delta = 30·(91.5667 − 91.6667) = −3.0, fee 0; no PARTIAL record."""
    prof = np.zeros(41)
    prof[1] = 8.0
    prof[9] = 1000.0
    inp = step_down_market(250.0, prof=prof, partial_rule=rule)
    _, results = run_both(inp)
    bp = 100.0 - 250.0 / 30.0
    for name, res in results.items():
        fills = tape(res)
        assert len(fills) == 1, name
        if rule == E.PARTIAL_STEP_IOC:
            assert_fill(fills[0], t=2000, kind=E.PARTIAL, qty=8.0, price=94.5, bp=bp, fund_delta=3.78, fee=3.78)
            assert res["pos_status"][0] == E.OPEN
            assert res["pos_size"][0] == pytest.approx(22.0, rel=1e-12)
        else:
            assert_fill(
                fills[0],
                t=2000,
                kind=E.LIQUIDATION,
                qty=30.0,
                price=2747.0 / 30.0,
                bp=bp,
                fund_delta=-3.0,
                fee=0.0,
                equity=100.0,
            )
            assert res["pos_status"][0] == E.LIQUIDATED
            assert res["fund_balance"] == pytest.approx(997.0, rel=1e-12)
        assert_money(inp, res)


# OKX to_tier, docs/model.md §10 TV23 scaled: contracts of 0.01 (lot), a long of 150 = 15,000 contracts @ 100, W = 3300.
# Tiers (USD) at the liquidation mark 80: tier-1 cap 1600 = 20 units (2,000 contracts), tier-2 cap 4000 =
# 50 units, tier-3 floor 8000; mmr 1%, 2%, 3%, 5%; cum = 16, 16 + 4000·0.01 = 56, 56 + 8000·0.02 = 216.
# At 80: N = 12000 → tier 3, MM = 600 − 216 = 384, E = 3300 − 3000 = 300 → triggered
# (LP = (3300 + 216 − 15000)/(7.5 − 150) = 80.589), BP = 100 − 3300/150 = 78.
OKX_TIERS = ([0.0, 1600.0, 4000.0, 8000.0], [0.01, 0.02, 0.03, 0.05], [0.0, 16.0, 56.0, 216.0])


def to_tier_market(path=((0, 100.0), (1500, 100.0), (1500, 80.0)), **params):
    positions = [(1, 150.0, 100.0, 3300.0, E.TRADER), (-1, 150.0, 100.0, 15000.0, E.COUNTERPARTY)]
    base = dict(
        tiers=OKX_TIERS,
        path=path,
        prof=1000.0,
        lot=0.01,
        clearance=0.0005,
        duration=3000,
        unwind_interval=NEVER,
        partial_rule=E.PARTIAL_TO_TIER,
        partial_min_tier=2,
        partial_tiers_down=0,
        partial_cooldown=0,
    )
    base.update(params)
    return make_input(positions, **base)


@pytest.mark.parametrize(
    "tiers_down, keep, w_after, mm_after",
    [
        # 0: target tier 0, keep floor(min(150, 1600/80)/0.01)·0.01 = 20 → sends 130 (13,000 contracts).
        # 130 @ 79.5: W = 3300 − 130·20.5 = 635, fee = 0.0005·130·79.5 = 5.1675,
        # E'' − fee = 635 − 400 − 5.1675 = 229.8325 > MM(20 @ 80 = 1600, tier 1) = 32 − 16 = 16
        (0, 20.0, 635.0 - 5.1675, 16.0),
        # 2 from tier 3: target tier 1, keep 4000/80 = 50 → sends 100.
        # 100 @ 79.5: W = 3300 − 2050 = 1250, fee = 0.0005·100·79.5 = 3.975,
        # E'' − fee = 1250 − 1000 − 3.975 = 246.025 > MM(50 @ 80 = 4000, tier 2) = 120 − 56 = 64
        (2, 50.0, 1250.0 - 3.975, 64.0),
    ],
    ids=["tiers_down_0", "tiers_down_2"],
)
def test_to_tier_keeps_what_the_target_tier_allows(compiled, tiers_down, keep, w_after, mm_after):
    inp = to_tier_market(partial_tiers_down=tiers_down)
    _, results = run_both(inp)
    r = 150.0 - keep
    fee = 0.0005 * r * 79.5
    for name, res in results.items():
        fills = tape(res)
        assert len(fills) == 1, name
        assert_fill(
            fills[0],
            t=2000,
            kind=E.PARTIAL,
            account=0,
            side=-1,
            qty=r,
            price=79.5,
            bp=78.0,
            fund_delta=fee,
            fee=fee,
            mark=80.0,
            equity=300.0,
        )
        assert res["pos_status"][0] == E.OPEN
        assert res["pos_size"][0] == pytest.approx(keep, rel=1e-12)
        assert res["cash"][0] == pytest.approx(w_after - keep * 100.0, rel=1e-9)
        assert w_after + keep * (80.0 - 100.0) > mm_after  # compliant at the mark, as computed above
        assert_money(inp, res)


def test_to_tier_below_partial_min_tier_is_liquidated_in_full(compiled):
    """Same market, partial_min_tier = 4 (above tier 3): in full, 150 @ 79.5, fund_delta = 150·(79.5 − 78) =
    225, fee = min(0.0005·150·79.5, 225) = 5.9625."""
    inp = to_tier_market(partial_min_tier=4)
    _, results = run_both(inp)
    for name, res in results.items():
        fills = tape(res)
        assert len(fills) == 1, name
        assert_fill(fills[0], t=2000, kind=E.LIQUIDATION, qty=150.0, price=79.5, bp=78.0, fund_delta=225.0, fee=5.9625)
        assert res["pos_status"][0] == E.LIQUIDATED
        assert_money(inp, res)


@pytest.mark.parametrize(
    "cooldown_ms, t_full",
    [
        (0, 3000),  # max(1, 0) = 1 tick: eligible at the next tick
        (1, 3000),  # ceil(1/1000) = 1
        (2500, 5000),  # ceil(2500/1000) = 3
        (3000, 5000),  # 3 ticks: not touched at t = 3000 and 4000 though triggered there
    ],
)
def test_to_tier_cooldown_counts_oracle_ticks(compiled, cooldown_ms, t_full):
    """After the 130-unit partial at t = 2000 (oracle tick 3) the rest is 20 units, W = 629.8325,
    LP = (629.8325 − 2000)/(0.2 − 20) = 69.2004, BP = 100 − 629.8325/20 = 68.508375. The index gaps on
    to 69 before t = 3000, so the rest is triggered from tick 4 on, but it may be liquidated only from
    tick 3 + max(1, ceil(cooldown/1000)). In full (tier 0): 20 @ 68.5, fund_delta = 20·(68.5 − 68.508375)."""
    path = ((0, 100.0), (1500, 100.0), (1500, 80.0), (2500, 80.0), (2500, 69.0))
    inp = to_tier_market(path=path, partial_cooldown=cooldown_ms, duration=6000)
    _, results = run_both(inp)
    w_rest = 635.0 - 5.1675
    assert reference_liquidation_price(1, 20.0, 100.0, w_rest, *OKX_TIERS) == pytest.approx(
        (w_rest - 2000.0) / (0.2 - 20.0), rel=1e-12
    )  # 69.2004 ≥ 69
    bp_rest = 100.0 - w_rest / 20.0
    for name, res in results.items():
        fills = tape(res)
        assert [(f.t, f.kind) for f in fills] == [(2000, E.PARTIAL), (t_full, E.LIQUIDATION)], name
        assert_fill(fills[0], qty=130.0)
        assert_fill(
            fills[1], account=0, qty=20.0, price=68.5, bp=bp_rest, fund_delta=20.0 * (68.5 - bp_rest), mark=69.0
        )
        assert res["pos_status"][0] == E.LIQUIDATED
        assert_money(inp, res)


# Hyperliquid slices: one tier, mmr 1%, settle at the fill, backstop below 2/3 of MM, clearance 0,
# slice_threshold 378 USD, slice_fraction 0.2. The index gaps to 94.5; bids at 94.0 (100 a level).
#   row 0, C: long 2 @ 100, W 12:  LP = (12 − 200)/(0.02 − 2) = 94.949; at 94.5 E = 12 − 11 = 1 <
#             2/3·MM = 2/3·(2·94.5·0.01 = 1.89) = 1.26 → backstop: TAKEOVER at BP = 100 − 12/2 = 94.
#   row 1, B: long 4 @ 100, W 25:  LP = 375/3.96 = 94.697; E = 3 ≥ 2/3·3.78 = 2.52; N = 4·94.5 = 378 ≤ 378
#             → sent whole: 4 @ 94.0, W = 25 + 4·(94 − 100) = 1 kept.
#   row 2, A: long 10 @ 100, W 63: LP = 937/9.9 = 94.646; E = 8 ≥ 2/3·9.45 = 6.3; N = 945 > 378 → slice
#             floor(0.2·10/0.001)·0.001 = 2: 2 @ 94.0, W = 63 − 12 = 51, Q = 8 (PARTIAL).
#             At t = 3000: LP = (51 − 800)/(0.08 − 8) = 94.571 ≥ 94.5, E = 51 − 44 = 7 ≥ 2/3·7.56 = 5.04:
#             within the cooldown the order is for all 8 (LIQUIDATION), 8 @ 94.0, W = 51 − 48 = 3 kept;
#             without a cooldown it is another slice floor(0.2·8/0.001)·0.001 = 1.6 (PARTIAL), W = 41.4,
#             and the rest (6.4, LP = (41.4 − 640)/(0.064 − 6.4) = 94.476 < 94.5) is left alone at t = 4000.
# Order in the tick: largest key first, C, B, A.


def slices_market(cooldown_ms):
    positions = [
        (1, 2.0, 100.0, 12.0, E.TRADER),
        (1, 4.0, 100.0, 25.0, E.TRADER),
        (1, 10.0, 100.0, 63.0, E.TRADER),
        (-1, 16.0, 100.0, 1600.0, E.COUNTERPARTY),
    ]
    return make_input(
        positions,
        tiers=([0.0], [0.01], [0.0]),
        path=((0, 100.0), (1500, 100.0), (1500, 94.5)),
        prof=100.0,
        duration=4000,
        unwind_interval=NEVER,
        clearance=0.0,
        band=0.0,
        partial_rule=E.PARTIAL_SLICES,
        slice_threshold=378.0,
        slice_fraction=0.2,
        partial_cooldown=cooldown_ms,
        settle_fill=True,
        backstop_fraction=2.0 / 3.0,
    )


@pytest.mark.parametrize("cooldown_ms", [30_000, 0], ids=["cooldown_30s", "no_cooldown"])
def test_slices_settle_at_the_fill_and_backstop(compiled, cooldown_ms):
    inp = slices_market(cooldown_ms)
    _, results = run_both(inp)
    fund = fund_row(inp)
    for name, res in results.items():
        fills = tape(res)
        expected = [
            dict(t=2000, kind=E.TAKEOVER, account=0, side=-1, qty=2.0, price=94.0, bp=94.0, fund_delta=0.0, equity=1.0),
            dict(
                t=2000,
                kind=E.LIQUIDATION,
                account=1,
                side=-1,
                qty=4.0,
                price=94.0,
                bp=93.75,
                fund_delta=0.0,
                fee=0.0,
                equity=3.0,
            ),
            dict(
                t=2000,
                kind=E.PARTIAL,
                account=2,
                side=-1,
                qty=2.0,
                price=94.0,
                bp=93.7,
                fund_delta=0.0,
                fee=0.0,
                equity=8.0,
            ),
        ]
        if cooldown_ms:
            expected.append(
                dict(
                    t=3000,
                    kind=E.LIQUIDATION,
                    account=2,
                    qty=8.0,
                    price=94.0,
                    bp=100.0 - 51.0 / 8.0,
                    fund_delta=0.0,
                    equity=7.0,
                )
            )
        else:
            expected.append(dict(t=3000, kind=E.PARTIAL, account=2, qty=1.6, price=94.0, fund_delta=0.0, equity=7.0))
        assert len(fills) == len(expected), (name, fills)
        for f, exp in zip(fills, expected):
            assert_fill(f, **exp)
        # the traders keep what is left after the fill; the fund gets nothing (clearance 0)
        assert res["cash"][1] == pytest.approx(1.0, rel=1e-12)
        assert res["pos_status"][1] == E.LIQUIDATED
        if cooldown_ms:
            assert res["pos_status"][2] == E.LIQUIDATED
            assert res["cash"][2] == pytest.approx(3.0, rel=1e-12)
        else:
            assert res["pos_status"][2] == E.OPEN
            assert res["pos_size"][2] == pytest.approx(6.4, rel=1e-12)
            assert res["cash"][2] == pytest.approx(41.4 - 6.4 * 100.0, rel=1e-12)
        # the backstopped account ends with nothing; the fund took 2 @ 94 and, marked at 94.5, is up by
        # exactly that account's equity at the mark (1.0); its balance at cost is unchanged
        assert res["pos_status"][0] == E.LIQUIDATED
        assert res["cash"][0] == pytest.approx(0.0, abs=1e-12)
        assert res["fund_balance"] == pytest.approx(1000.0, rel=1e-12)
        assert res["position"][fund] == pytest.approx(2.0, rel=1e-12)
        assert res["mark"] == 94.5
        assert res["cash"][fund] + res["position"][fund] * res["mark"] == pytest.approx(1001.0, rel=1e-12)
        assert_money(inp, res)


@pytest.mark.parametrize("settle_fill", [True, False], ids=["at_fill", "at_bankruptcy"])
def test_settle_at_the_fill_lets_the_trader_keep_the_rest(compiled, settle_fill):
    """No partial rule, clearance 0: long 4 @ 100, W 25 (LP 94.697, BP 93.75), the index gaps to 94.5 and
    the order fills 4 @ 94.0. At the fill: W = 25 + 4·(94 − 100) = 1 stays with the trader, fund_delta 0.
    At bankruptcy: the trader is settled at 93.75 (W = 0) and the fund gets 4·(94 − 93.75) = 1."""
    positions = [(1, 4.0, 100.0, 25.0, E.TRADER), (-1, 4.0, 100.0, 400.0, E.COUNTERPARTY)]
    inp = make_input(
        positions,
        tiers=([0.0], [0.01], [0.0]),
        path=((0, 100.0), (1500, 100.0), (1500, 94.5)),
        prof=100.0,
        duration=2000,
        unwind_interval=NEVER,
        clearance=0.0,
        partial_rule=E.PARTIAL_NONE,
        settle_fill=settle_fill,
    )
    _, results = run_both(inp)
    kept = 1.0 if settle_fill else 0.0
    for name, res in results.items():
        fills = tape(res)
        assert len(fills) == 1, name
        assert_fill(
            fills[0],
            t=2000,
            kind=E.LIQUIDATION,
            account=0,
            qty=4.0,
            price=94.0,
            bp=93.75,
            fund_delta=1.0 - kept,
            fee=0.0,
            equity=3.0,
        )
        assert res["pos_status"][0] == E.LIQUIDATED
        assert res["cash"][0] == pytest.approx(kept, abs=1e-12)
        assert res["fund_balance"] == pytest.approx(1000.0 + 1.0 - kept, rel=1e-12)
        assert_money(inp, res)


# ------------------------------------------------------------------------------------------------
# 2. entry-basis margin (Bybit) and 3. the fee in the trigger (OKX)
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "entry_basis, mark, liquidated",
    [
        (True, 197.5, False),  # just above LP 197
        (True, 197.0, True),  # at LP: equality liquidates
        (True, 196.5, True),
        (False, 197.0, False),  # on the mark basis LP = 196.985 < 197
    ],
    ids=["entry_above", "entry_at", "entry_below", "mark_basis_at_197"],
)
def test_entry_basis_liquidation_price(compiled, entry_basis, mark, liquidated):
    """TV11 (docs/model.md §10) scaled: 1 unit long @ 200, W = 4, mmr 0.5%.
    Entry basis: MM = 1·200·0.005 = 1 (a constant), LP = 200 − (4 − 1)/1 = 197.
    Mark basis: LP = (4 − 200)/(0.005 − 1) = 196/0.995 = 196.985.
    BP = 196; a liquidation fills at the bid one tick (0.5) under the mark, e.g. 196.5 at the mark 197:
    fund_delta = 196.5 − 196 = 0.5, fee = min(0.005·196.5, 0.5) = 0.5."""
    positions = [(1, 1.0, 200.0, 4.0, E.TRADER), (-1, 1.0, 200.0, 200.0, E.COUNTERPARTY)]
    inp = make_input(
        positions,
        tiers=([0.0], [0.005], [0.0]),
        path=((0, 200.0), (1500, 200.0), (1500, mark)),
        start_price=200.0,
        duration=2000,
        unwind_interval=NEVER,
        tier_basis=int(entry_basis),
        partial_rule=E.PARTIAL_STEP_FOK,
    )
    raw, results = run_both(inp)
    lp = 197.0 if entry_basis else 196.0 / 0.995
    assert raw.lp_start[0] == pytest.approx(lp, rel=1e-12)
    assert reference_liquidation_price(1, 1.0, 200.0, 4.0, [0.0], [0.005], [0.0], entry_basis) == pytest.approx(
        lp, rel=1e-12
    )
    for name, res in results.items():
        fills = tape(res)
        if liquidated:
            assert len(fills) == 1, name
            assert_fill(
                fills[0],
                t=2000,
                kind=E.LIQUIDATION,
                qty=1.0,
                price=mark - 0.5,
                bp=196.0,
                fund_delta=mark - 0.5 - 196.0,
                mark=mark,
            )
            assert res["pos_status"][0] == E.LIQUIDATED
        else:
            assert fills == [], name
            assert res["pos_status"][0] == E.OPEN
        assert_money(inp, res)


@pytest.mark.parametrize("fee_in_trigger", [True, False], ids=["fee_in_trigger", "plain_mmr"])
def test_fee_in_trigger_liquidates_earlier(compiled, fee_in_trigger):
    """OKX counts the clearance fee (0.05%) with MM: tier_mmr = 0.004 + 0.0005. Long 1 @ 200, W = 10:
    without the fee LP = (10 − 200)/(0.004 − 1) = 190/0.996 = 190.763, with it 190/0.9955 = 190.859.
    The index gaps to 190.8125 (on the 1/16 tick grid), between the two: liquidated only with the fee.
    Then BP = 190, the bid one tick under: 190.75, fund_delta = 0.75, fee = 0.0005·190.75 = 0.095375."""
    mmr = 0.004 + (0.0005 if fee_in_trigger else 0.0)
    positions = [(1, 1.0, 200.0, 10.0, E.TRADER), (-1, 1.0, 200.0, 200.0, E.COUNTERPARTY)]
    inp = make_input(
        positions,
        tiers=([0.0], [mmr], [0.0]),
        path=((0, 200.0), (1500, 200.0), (1500, 190.8125)),
        start_price=200.0,
        tick=0.0625,
        n_levels=4000,
        clearance=0.0005,
        duration=2000,
        unwind_interval=NEVER,
        partial_rule=E.PARTIAL_TO_TIER,
        mark_method=E.MARK_INDEX_BASIS,
    )
    raw, results = run_both(inp)
    lp = 190.0 / 0.9955 if fee_in_trigger else 190.0 / 0.996
    assert raw.lp_start[0] == pytest.approx(lp, rel=1e-12)
    for name, res in results.items():
        fills = tape(res)
        if fee_in_trigger:
            assert len(fills) == 1, name
            assert_fill(
                fills[0],
                t=2000,
                kind=E.LIQUIDATION,
                qty=1.0,
                price=190.75,
                bp=190.0,
                fund_delta=0.75,
                fee=0.0005 * 190.75,
                mark=190.8125,
            )
        else:
            assert fills == [], name
            assert res["series"][2][2] == 190.8125  # the mark did reach 190.8125
        assert_money(inp, res)


# ------------------------------------------------------------------------------------------------
# 4.–7. ADL
# ------------------------------------------------------------------------------------------------

# The bankrupt long: 10 @ 100, W = 100 → BP 90, LP = (100 − 1000)/(0.04 − 10) = 90.361. No book, so
# nothing fills; with max_inventory = 0 (or no fund equity) the fund's capacity is 0 and the whole 10
# goes to the ADL pool: R = 10, B̄ = 90.
BANKRUPT_LONG = (1, 10.0, 100.0, 100.0, E.TRADER)


@pytest.mark.parametrize(
    "adl_price, fund_initial, price",
    [
        (E.ADL_AT_BANKRUPTCY, 1000.0, 90.0),
        (E.ADL_AT_MARK, 1000.0, 85.0),  # the fund can pay the gap 10·(90 − 85) = 50
        # it cannot (no equity): at bankruptcy. (A fund that can pay part of the gap leaves a deficit pool and a
        # capacity pool, matched one after the other: tests/test_adl_trigger.py.)
        (E.ADL_AT_MARK, 0.0, 90.0),
        # the previous mark 91 lies beyond B̄: clipped to B̄, so the winners pay no more than the deficit
        (E.ADL_AT_PREVIOUS_MARK, 1000.0, 90.0),
    ],
    ids=["bankruptcy", "mark", "mark_fund_cannot_pay", "previous_mark"],
)
def test_adl_execution_price_and_fund_flows(compiled, adl_price, fund_initial, price):
    """Index 100 → 91 (t = 2000, above LP 90.361) → 85 (t = 3000; the previous mark is 91).
    Winners: row 1 short 6 @ 100, W 60: E = 60 + 90 = 150, L = 510/150 = 3.4, score 0.15·3.4 = 0.51;
    row 2 (counterparty) short 4 @ 100, W 400: E = 460, L = 340/460, score 0.15·0.739 = 0.111 → row 1 first.
    Each closes all of it at P: fund_delta = s·y·(P − B̄) = y·(P − 90); wallet += −1·y·(P − 100)."""
    positions = [BANKRUPT_LONG, (-1, 6.0, 100.0, 60.0, E.TRADER), (-1, 4.0, 100.0, 400.0, E.COUNTERPARTY)]
    path = ((0, 100.0), (1500, 100.0), (1500, 91.0), (2500, 91.0), (2500, 85.0))
    inp = make_input(
        positions,
        path=path,
        prof=0.0,
        duration=3000,
        unwind_interval=NEVER,
        fund_initial=fund_initial,
        max_inventory=0.0,
        adl_price=adl_price,
    )
    _, results = run_both(inp)
    fund = fund_row(inp)
    for name, res in results.items():
        fills = tape(res)
        assert len(fills) == 2, (name, fills)
        for f, (row, y, w, eq) in zip(fills, ((1, 6.0, 60.0, 150.0), (2, 4.0, 400.0, 460.0))):
            assert_fill(
                f,
                t=3000,
                kind=E.ADL,
                account=row,
                side=1,
                qty=y,
                price=price,
                bp=90.0,
                fund_delta=y * (price - 90.0),
                fee=0.0,
                mark=85.0,
                equity=eq,
            )
            assert res["pos_status"][row] == E.ADL_CLOSED
            assert res["cash"][row] == pytest.approx(w + y * (100.0 - price), rel=1e-12)
        assert res["pos_status"][0] == E.LIQUIDATED
        assert res["cash"][0] == pytest.approx(0.0, abs=1e-9)
        # the fund pays exactly 10·(P − 90): −50 at the mark, nothing at bankruptcy
        assert res["fund_balance"] == pytest.approx(fund_initial + 10.0 * (price - 90.0), rel=1e-12)
        assert res["cash"][fund] == pytest.approx(fund_initial + 10.0 * (price - 90.0), rel=1e-12)
        assert res["position"][fund] == 0.0
        assert_money(inp, res)


# Ranking market: bankrupt long 4 @ 100, W 40 (BP 90, LP 90.361), no fund → R = 4, B̄ = 90, m = 85.
# Three short winners (one tier, mmr 0.004), scores at m = 85:
#   row 1, A: 1 @ 90,  W 22.5: E = 27.5, L = 85/27.5 = 3.0909,  pnl% = 5/90,   MM = 0.34
#   row 2, B: 2 @ 100, W 100:  E = 130,  L = 170/130 = 1.3077,  pnl% = 15/100, MM = 0.68
#   row 3, C: 2 @ 120, W 60:   E = 130,  L = 170/130 = 1.3077,  pnl% = 35/120, MM = 0.68
#   pnl_leverage (pnl%·L):         A 0.1717, B 0.1962, C 0.3814                     → C, B, A
#   leverage_pnl (uPnL/W · MM/E):  A 5/22.5·0.34/27.5 = 0.002747, B 30/100·0.68/130 = 0.001569,
#                                  C 70/60·0.68/130 = 0.006103                       → C, A, B
#   hyperliquid (EP/m · L for a short): A 90/85·3.0909 = 3.2727, B 100/85·1.3077 = 1.5385,
#                                  C 120/85·1.3077 = 1.8462                          → A, C, B
#   (with m/EP for a short it would be A, B, C.)
# Whole positions in that order until the 4 units are matched (the last one only in part).
# Row 4 is the counterparty, a 1x long (never liquidated).
RANKING_POSITIONS = [
    (1, 4.0, 100.0, 40.0, E.TRADER),
    (-1, 1.0, 90.0, 22.5, E.TRADER),
    (-1, 2.0, 100.0, 100.0, E.TRADER),
    (-1, 2.0, 120.0, 60.0, E.TRADER),
    (1, 1.0, 100.0, 100.0, E.COUNTERPARTY),
]


@pytest.mark.parametrize(
    "ranking, closes",
    [
        (E.RANK_PNL_LEVERAGE, [(3, 2.0), (2, 2.0)]),
        (E.RANK_LEVERAGE_PNL, [(3, 2.0), (1, 1.0), (2, 1.0)]),
        (E.RANK_HYPERLIQUID, [(1, 1.0), (3, 2.0), (2, 1.0)]),
    ],
    ids=list(E.ADL_RANKING_NAMES[:3]),  # the three rankings; dYdX's random order is tested in test_dydx.py
)
def test_adl_ranking_order(compiled, ranking, closes):
    inp = make_input(
        RANKING_POSITIONS,
        path=GAP_TO_85,
        prof=0.0,
        duration=2000,
        unwind_interval=NEVER,
        fund_initial=0.0,
        adl_ranking=ranking,
    )
    _, results = run_both(inp)
    for name, res in results.items():
        fills = tape(res)
        assert [(f.account, f.qty) for f in fills] == [(row, pytest.approx(y)) for row, y in closes], name
        for f in fills:
            assert_fill(f, t=2000, kind=E.ADL, side=1, price=90.0, bp=90.0, fund_delta=0.0)
        for row in (1, 2, 3):
            closed = sum(y for r, y in closes if r == row)
            q0 = RANKING_POSITIONS[row][1]
            assert res["pos_size"][row] == pytest.approx(q0 - closed, abs=1e-12)
            assert res["pos_status"][row] == (E.ADL_CLOSED if closed == q0 else E.OPEN)
        assert_money(inp, res)


# Policy market 1: bankrupt long 10 (R = 10, B̄ = 90, m = 85), no fund.
#   row 1, W1: short 8 @ 100, W 80:  E = 200, L = 680/200 = 3.4    (winner)
#   row 2, W2: short 13 @ 95, W 130: E = 260, L = 1105/260 = 4.25  (winner)
#   row 3, N:  short 5 @ 84,  W 100: E = 95,  L = 425/95 = 4.474  (losing at 85; equity 70 at 90;
#              at the start E = 100 − 80 = 20, LP = (100 + 420)/(0.02 + 5) = 103.6: not triggered)
#   row 4: counterparty long 16 @ 100, W 1600.
# pro_rata: S = 21 winners' units, f = 10/21: W1 closes 8·10/21 = 3.8095, W2 (last winner) the rest
# 10 − 80/21 = 130/21 = 6.1905 = 13·f; N is untouched.
POLICY_POSITIONS = [
    BANKRUPT_LONG,
    (-1, 8.0, 100.0, 80.0, E.TRADER),
    (-1, 13.0, 95.0, 130.0, E.TRADER),
    (-1, 5.0, 84.0, 100.0, E.TRADER),
    (1, 16.0, 100.0, 1600.0, E.COUNTERPARTY),
]

# Policy market 2 (leverage draining): four shorts of 10 @ 100 with W 50, 100, 200, 400:
#   E at 85 = W + 150 = 200, 250, 350, 550; L = 850/E = 4.25, 3.4, 2.4286, 1.5455.
#   Counterparty long 30 @ 100, W 3000.
DRAIN_POSITIONS = (
    [BANKRUPT_LONG]
    + [(-1, 10.0, 100.0, w, E.TRADER) for w in (50.0, 100.0, 200.0, 400.0)]
    + [(1, 30.0, 100.0, 3000.0, E.COUNTERPARTY)]
)


def policy_market(positions, policy, **params):
    base = dict(path=GAP_TO_85, prof=0.0, duration=2000, unwind_interval=NEVER, fund_initial=0.0, adl_policy=policy)
    base.update(params)
    return make_input(positions, **base)


def test_pro_rata_closes_the_same_fraction_of_every_winner(compiled):
    inp = policy_market(POLICY_POSITIONS, E.POLICY_PRO_RATA)
    _, results = run_both(inp)
    for name, res in results.items():
        fills = tape(res)
        assert [f.account for f in fills] == [1, 2], name  # winners in id order; N (row 3) untouched
        for f in fills:
            assert_fill(f, t=2000, kind=E.ADL, side=1, price=90.0, bp=90.0, fund_delta=0.0)
        assert fills[0].qty == pytest.approx(80.0 / 21.0, rel=1e-12)
        assert fills[1].qty == pytest.approx(130.0 / 21.0, rel=1e-12)
        assert fills[0].qty / 8.0 == pytest.approx(fills[1].qty / 13.0, rel=1e-12)
        assert fills[0].qty + fills[1].qty == pytest.approx(10.0, rel=1e-15)
        assert res["pos_size"][3] == 5.0 and res["pos_status"][3] == E.OPEN
        assert res["pos_size"][1] == pytest.approx(8.0 * 11.0 / 21.0, rel=1e-12)
        assert res["pos_size"][2] == pytest.approx(13.0 * 11.0 / 21.0, rel=1e-12)
        assert_money(inp, res)


@pytest.mark.parametrize(
    "adl_price, price, level, cuts",
    [
        # at bankruptcy, g = s·(P − m) = 90 − 85 = 5 (a victim loses 5 of equity per unit at 90).
        # Prefixes: k = 2: L = 85·(20 − 10)/(450 − 50) = 2.125 < 2.4286 (next); k = 3: L* = 85·20/(800 − 50)
        # = 2.2667 ≥ 1.5455 → group of 3. y = (Q·m − L*·E)/(m − L*·g) = (850 − 2.2667·E)/73.667:
        # 5.3846, 3.8462, and the last member the rest 0.7692.
        (E.ADL_AT_BANKRUPTCY, 90.0, 85.0 * 20.0 / 750.0, None),
        # at the mark (the fund can pay the 50 but has max_inventory 0), g = 0:
        # k = 2: L = 850/450 = 1.889 < 2.4286; k = 3: L* = 85·20/800 = 2.125 → y = (850 − 2.125·E)/85 =
        # 5, 3.75, 1.25; fund_delta = y·(85 − 90) each, −50 in all.
        (E.ADL_AT_MARK, 85.0, 2.125, (5.0, 3.75, 1.25)),
    ],
    ids=["at_bankruptcy", "at_mark"],
)
def test_leverage_drain_levels_the_most_levered(compiled, adl_price, price, level, cuts):
    inp = policy_market(
        DRAIN_POSITIONS, E.POLICY_LEVERAGE_DRAIN, adl_price=adl_price, fund_initial=1000.0, max_inventory=0.0
    )
    _, results = run_both(inp)
    g = price - 85.0
    equity = {1: 200.0, 2: 250.0, 3: 350.0, 4: 550.0}
    expected = {row: (850.0 - level * equity[row]) / (85.0 - level * g) for row in (1, 2, 3)}
    if cuts is not None:
        assert [expected[r] for r in (1, 2, 3)] == pytest.approx(list(cuts), rel=1e-12)
    for name, res in results.items():
        fills = tape(res)
        assert [f.account for f in fills] == [1, 2, 3], name  # most levered first; row 4 (L 1.55) untouched
        for f in fills:
            assert_fill(f, t=2000, kind=E.ADL, side=1, price=price, bp=90.0, fund_delta=f.qty * (price - 90.0))
            assert f.qty == pytest.approx(expected[f.account], rel=1e-9)
        assert math.fsum(f.qty for f in fills) == pytest.approx(10.0, rel=1e-12)
        # every cut victim is left at the same leverage L*, read from its final account:
        # equity at m = cash + q·m = E − y·g, leverage = |q|·m / that
        for row in (1, 2, 3):
            q = res["position"][row]
            lev = abs(q) * 85.0 / (res["cash"][row] + q * 85.0)
            assert lev == pytest.approx(level, rel=1e-9), (name, row)
            assert abs(q) * 85.0 / (equity[row] - (10.0 - abs(q)) * g) == pytest.approx(level, rel=1e-9)
        assert res["pos_size"][4] == 10.0 and 850.0 / 550.0 < level
        # the fund pays Σ y·(90 − P): nothing at bankruptcy, 10·(90 − 85) = 50 at the mark
        assert res["fund_balance"] == pytest.approx(1000.0 + 10.0 * (price - 90.0), rel=1e-12)
        assert_money(inp, res)


@pytest.mark.parametrize(
    "policy", [E.POLICY_QUEUE, E.POLICY_PRO_RATA, E.POLICY_LEVERAGE_DRAIN], ids=list(E.ADL_POLICY_NAMES)
)
@pytest.mark.parametrize("positions", [POLICY_POSITIONS, DRAIN_POSITIONS], ids=["winners_and_loser", "drain"])
def test_every_policy_closes_the_pooled_quantity(compiled, policy, positions):
    """Whatever the policy, the ADL fills add up to the bankrupt 10 units, nobody else takes any, and
    every ADL fill is at B̄ = 90 with fund_delta 0."""
    inp = policy_market(positions, policy)
    _, results = run_both(inp)
    for name, res in results.items():
        fills = tape(res)
        assert {f.kind for f in fills} == {E.ADL}, name
        assert math.fsum(f.qty for f in fills) == pytest.approx(10.0, rel=1e-12)
        assert all(f.price == 90.0 and f.fund_delta == 0.0 for f in fills)
        assert res["fund_balance"] == 0.0
        assert_money(inp, res)


@pytest.mark.parametrize("drawdown", [0.3, 0.0], ids=["drawdown_30pct", "no_drawdown_rule"])
def test_drawdown_sends_the_remainder_to_adl(compiled, drawdown):
    """Fund 100, max_inventory 100 (×equity), no book. Index 100 → 90 (t = 2000) → 86 (t = 3000).
    t = 2000: X (long 10 @ 100, W 100, LP 90.361, BP 90) → the fund takes it all at 90 (capacity
      100·100/90 = 111); fund cash = 100 − 900 = −800, q = 10. Peak of its equity so far: 100.
    t = 3000: fund equity at 86 = −800 + 860 = 60 ≤ (1 − 0.3)·100 = 70 → the drawdown rule trips.
      Y (long 1 @ 100, W 12: LP = 88/0.996 = 88.353, BP 88) is triggered; the fund still has equity 60 and
      capacity (100·60 − 10·86)/(86 + 100·(88 − 86)) = 5140/286 = 17.97 ≥ 1, yet with the rule on Y's 1 unit
      goes to ADL (the counterparty short buys 1 @ 88); with adl_drawdown = 0 the fund takes it over at 88."""
    positions = [
        (1, 10.0, 100.0, 100.0, E.TRADER),
        (1, 1.0, 100.0, 12.0, E.TRADER),
        (-1, 11.0, 100.0, 1100.0, E.COUNTERPARTY),
    ]
    path = ((0, 100.0), (1500, 100.0), (1500, 90.0), (2500, 90.0), (2500, 86.0))
    inp = make_input(
        positions,
        path=path,
        prof=0.0,
        duration=3000,
        unwind_interval=NEVER,
        fund_initial=100.0,
        max_inventory=100.0,
        adl_drawdown=drawdown,
    )
    _, results = run_both(inp)
    fund = fund_row(inp)
    for name, res in results.items():
        fills = tape(res)
        assert len(fills) == 2, (name, fills)
        assert_fill(fills[0], t=2000, kind=E.TAKEOVER, account=0, qty=10.0, price=90.0, fund_delta=0.0)
        if drawdown:
            assert_fill(
                fills[1],
                t=3000,
                kind=E.ADL,
                account=2,
                side=1,
                qty=1.0,
                price=88.0,
                bp=88.0,
                fund_delta=0.0,
                equity=1100.0 + 11.0 * 14.0,
            )
            assert res["position"][fund] == 10.0
            # the fund kept equity at the mark all along: 60 > 0
            assert res["cash"][fund] + res["position"][fund] * 86.0 == pytest.approx(60.0, rel=1e-12)
        else:
            assert_fill(
                fills[1], t=3000, kind=E.TAKEOVER, account=1, side=-1, qty=1.0, price=88.0, bp=88.0, fund_delta=0.0
            )
            assert res["position"][fund] == 11.0
        assert res["pos_status"][1] == E.LIQUIDATED
        assert_money(inp, res)


# ------------------------------------------------------------------------------------------------
# 8. Hyperliquid mark
# ------------------------------------------------------------------------------------------------


def hyperliquid_marks(index, basis, book, dt, tau_slow, tau_fast):
    """docs/engine.md §4: median(index + EMAslow(mid − index), B, EMAfast(B)), EMAs time-weighted."""
    marks = []
    ns = ds = nf = df = 0.0
    for b, px in zip(basis, book):
        ns = ns * math.exp(-dt / tau_slow) + b * dt
        ds = ds * math.exp(-dt / tau_slow) + dt
        nf = nf * math.exp(-dt / tau_fast) + px * dt
        df = df * math.exp(-dt / tau_fast) + dt
        marks.append(sorted([index + ns / ds, px, nf / df])[1])
    return marks


def test_hyperliquid_mark_is_the_median_of_the_two_emas_and_the_book(compiled):
    """Index constant at 100, one unit per level (0.5 tick), a book that never refills. A buy of 1 at
    t = 1500 takes the 100.5 ask (last 100.5, best ask 101.0); a sell of 1 at t = 5500 takes the 99.5 bid
    (last 99.5, best bid 99.0). At the ticks t = 0..8000:
      mid − index = 0, 0, 0.25 ×4 (t = 2000..5000: (99.5 + 101)/2 − 100), 0 ×3 (t ≥ 6000: (99 + 101)/2 − 100)
      B = median(bid, ask, last) = 100, 100, 100.5 ×4 (median(99.5, 101, 100.5)), 99.5 ×3 (median(99, 101, 99.5))
    With dt = 1000, τ = 150 s and 30 s: at t = 2000 EMAslow = 0.25/(1 + a + a²), a = e^(−1/150) → 0.083890,
    EMAfast = 100 + 0.5/(1 + b + b²), b = e^(−1/30) → 100.172252; mark = median(100.08389, 100.5, 100.172252) =
    100.172252 (the fast EMA). At t = 6000 B = 99.5, EMAfast = 100.211307, index + EMAslow = 100.143325 → the
    mark is the slow term."""
    positions = [(1, 1.0, 100.0, 100.0, E.TRADER), (-1, 1.0, 100.0, 100.0, E.COUNTERPARTY)]
    inp = make_input(
        positions,
        prof=1.0,
        noise=((1500, 1, 1.0), (5500, -1, 1.0)),
        duration=8000,
        refill_half_life=1e15,
        unwind_interval=NEVER,
        mark_method=E.MARK_HYPERLIQUID,
        ema_slow=150_000.0,
        ema_fast=30_000.0,
    )
    _, results = run_both(inp)
    basis = [0.0, 0.0] + [0.25] * 4 + [0.0] * 3
    book = [100.0, 100.0] + [100.5] * 4 + [99.5] * 3
    expected = hyperliquid_marks(100.0, basis, book, 1000.0, 150_000.0, 30_000.0)
    assert expected[2] == pytest.approx(100.172252, abs=1e-6)
    assert expected[6] == pytest.approx(100.143325, abs=1e-6)
    for name, res in results.items():
        rows = res["series"]
        assert [r[0] for r in rows] == list(range(0, 9000, 1000)), name
        assert [r[3] for r in rows] == [100.0, 100.0] + [100.5] * 4 + [99.5] * 3  # last
        assert [r[4] for r in rows] == [99.5] * 6 + [99.0] * 3  # best bid
        assert [r[5] for r in rows] == [100.5] * 2 + [101.0] * 7  # best ask
        assert [r[2] for r in rows] == pytest.approx(expected, rel=1e-12, abs=1e-12)
        assert [f.kind for f in tape(res)] == [E.NOISE_FILL, E.NOISE_FILL]
        assert_money(inp, res)


# ------------------------------------------------------------------------------------------------
# 9. worked examples at the numbers of docs/model.md §10 (TV22, TV23)
# ------------------------------------------------------------------------------------------------

# TV22, Bybit insurance-fund flow, linear analogue per 1 BTC: a long with LP 7,000 and BP 6,950; a fill
# at 6,980 adds 30 to the fund, a fill at 6,930 takes 20 from it.
# Bybit isolated USDT: MM on the entry value (tier_basis = MM_ENTRY), one tier, mmr 0.5% (Bybit's tier-1 BTC
# rate, as in TV11). Long 1 BTC @ 10,000:
#   BP = EP − W/Q = 6,950              → W = 10,000 − 6,950 = 3,050
#   MM = Q·EP·mmr = 10,000·0.005 = 50  (a constant)
#   LP = EP − (W − MM)/Q = 10,000 − (3,050 − 50) = 7,000
# (On the mark basis the same position would have LP = (3,050 − 10,000)/(0.005 − 1) = 6,984.92.)
# Tick 1.0, grid 6,800 .. 10,199. The index gaps 10,000 → 7,000 (t = 2000); the mark is 7,000 = LP
# (equality liquidates). One tier → no partial: in full, limit B·(1 − band) = 6,950·0.995 = 6,915.25
# (the fund has equity 1,000), so a bid at 6,930 is within reach (band 0.5% ≥ 20/6,950 = 0.288%).
# The only bid (5 BTC) sits 20 ticks (6,980) or 70 ticks (6,930) under the mark; the asks mirror it,
# so the mid stays 7,000 and the basis 0.
#   fill 6,980: fund_delta = 1·(6,980 − 6,950) = +30, fee = min(clearance·6,980, 30)
#               (clearance 0: 0; clearance 0.06%: 4.188 of the 30 is the fee, the rest the margin left)
#   fill 6,930: fund_delta = 1·(6,930 − 6,950) = −20, fee = min(…, max(0, −20)) = 0
# The trader is settled at 6,950 either way: W = 3,050 + 1·(6,950 − 10,000) = 0.
TV22_TIERS = ([0.0], [0.005], [0.0])


@pytest.mark.parametrize("clearance", [0.0, 0.0006], ids=["no_fee", "fee_0.06pct"])
@pytest.mark.parametrize("fill_price, fund_delta", [(6980.0, 30.0), (6930.0, -20.0)], ids=["at_6980", "at_6930"])
def test_tv22_bybit_insurance_fund_flow(compiled, fill_price, fund_delta, clearance):
    offset = int(7000.0 - fill_price)  # 20 or 70 ticks of 1.0
    prof = np.zeros(offset + 1)
    prof[offset] = 5.0
    positions = [(1, 1.0, 10_000.0, 3050.0, E.TRADER), (-1, 1.0, 10_000.0, 10_000.0, E.COUNTERPARTY)]
    inp = make_input(
        positions,
        tiers=TV22_TIERS,
        path=((0, 10_000.0), (1500, 10_000.0), (1500, 7000.0)),
        prof=prof,
        start_price=10_000.0,
        tick=1.0,
        grid_lo=6800,
        n_levels=3400,
        duration=2000,
        unwind_interval=NEVER,
        tier_basis=E.MM_ENTRY,
        partial_rule=E.PARTIAL_STEP_FOK,
        clearance=clearance,
        band=0.005,
        fund_initial=1000.0,
    )
    raw, results = run_both(inp)
    assert raw.lp_start[0] == 7000.0
    assert reference_liquidation_price(1, 1.0, 10_000.0, 3050.0, *TV22_TIERS, True) == 7000.0
    fee = min(clearance * fill_price, max(0.0, fund_delta))
    for name, res in results.items():
        fills = tape(res)
        assert len(fills) == 1, (name, fills)
        # equity at the mark just before the fill: 3,050 + (7,000 − 10,000) = 50 = MM
        assert_fill(
            fills[0],
            t=2000,
            kind=E.LIQUIDATION,
            account=0,
            side=-1,
            qty=1.0,
            price=fill_price,
            bp=6950.0,
            fund_delta=fund_delta,
            fee=fee,
            mark=7000.0,
            equity=50.0,
        )
        assert res["pos_status"][0] == E.LIQUIDATED
        assert res["pos_size"][0] == 0.0
        assert res["cash"][0] == pytest.approx(0.0, abs=1e-9)  # equity 0: settled at 6,950
        assert res["fund_balance"] == pytest.approx(1000.0 + fund_delta, rel=1e-12)
        assert res["cash"][fund_row(inp)] == pytest.approx(1000.0 + fund_delta, rel=1e-12)
        assert res["position"][fund_row(inp)] == 0.0
        assert_money(inp, res)


# TV23, OKX legacy partial liquidation: 15,000 contracts at tier 3 or above, tier-1 max 2,000 contracts
# → close 13,000. One engine unit = one contract (lot 1), priced in USD per contract (e.g. 0.001 BTC
# at 100,000 → 100). Tiers (the 2022 OKX alt schedule's MMRs 1%, 1.5%, 2%), floors in USD chosen so that
# at the liquidation mark 100 tier 1 ends at 200,000/100 = 2,000 contracts and tier 2 at
# 500,000/100 = 5,000; cum1 = 200,000·(0.015 − 0.01) = 1,000, cum2 = 1,000 + 500,000·(0.02 − 0.015) = 3,500.
# Long 15,000 @ 110, W = 165,000 (10x): BP = 110 − 165,000/15,000 = 99,
# LP = (165,000 + 3,500 − 1,650,000)/(15,000·0.02 − 15,000) = 1,481,500/14,700 = 100.782.
# At the start (index 110) E = 165,000 > MM = 1,650,000·0.02 − 3,500 = 29,500: not triggered.
# The index gaps to 100 (t = 2000): N = 1,500,000 → tier 3 (0-based 2 ≥ partial_min_tier 2),
# MM = 30,000 − 3,500 = 26,500 ≥ E = 165,000 − 150,000 = 15,000 → triggered.
# to_tier, tiers_down 0: target tier 1 (0-based 0), keep = floor(min(15,000, 200,000/100)/1)·1 = 2,000,
# r = 13,000; IOC sell 13,000 limit BP 99, filled at the 99.5 bid (20,000 a level):
#   W = 165,000 + 13,000·(99.5 − 110) = 28,500, Q = 2,000, E'' = 28,500 + 2,000·(100 − 110) = 8,500,
#   fee = min(0.0005·13,000·99.5, 8,500) = 646.75, W = 27,853.25;
#   E'' − fee = 7,853.25 > MM(2,000 @ 100 = 200,000, tier 2: 3,000 − 1,000) = 2,000 → compliant, stays open
#   (the rest's LP: 27,853.25 + 2,000·(P − 110) − 20·P = 0 → P = 192,146.75/1,980 = 97.04 < 100).
TV23_TIERS = ([0.0, 200_000.0, 500_000.0], [0.01, 0.015, 0.02], [0.0, 1000.0, 3500.0])


def test_tv23_okx_legacy_partial_closes_down_to_tier_one(compiled):
    positions = [(1, 15_000.0, 110.0, 165_000.0, E.TRADER), (-1, 15_000.0, 110.0, 1_650_000.0, E.COUNTERPARTY)]
    inp = make_input(
        positions,
        tiers=TV23_TIERS,
        path=((0, 110.0), (1500, 110.0), (1500, 100.0)),
        prof=20_000.0,
        start_price=110.0,
        lot=1.0,
        clearance=0.0005,
        duration=2000,
        unwind_interval=NEVER,
        partial_rule=E.PARTIAL_TO_TIER,
        partial_tiers_down=0,
        partial_min_tier=2,
        partial_cooldown=0,
    )
    raw, results = run_both(inp)
    assert raw.lp_start[0] == pytest.approx(1_481_500.0 / 14_700.0, rel=1e-12)
    fee = 0.0005 * 13_000.0 * 99.5
    assert fee == pytest.approx(646.75, rel=1e-12)
    for name, res in results.items():
        fills = tape(res)
        assert len(fills) == 1, (name, fills)
        assert_fill(
            fills[0],
            t=2000,
            kind=E.PARTIAL,
            account=0,
            side=-1,
            qty=13_000.0,
            price=99.5,
            bp=99.0,
            fund_delta=fee,
            fee=fee,
            mark=100.0,
            equity=15_000.0,
        )
        assert fills[0].qty == 13_000.0  # exactly: 15,000 − floor(2,000.0)
        assert res["pos_status"][0] == E.OPEN
        assert res["pos_size"][0] == 2_000.0
        assert res["cash"][0] == pytest.approx(28_500.0 - fee - 2_000.0 * 110.0, rel=1e-12)  # W − q·EP
        assert res["fund_balance"] == pytest.approx(1000.0 + fee, rel=1e-12)
        assert_money(inp, res)


# ------------------------------------------------------------------------------------------------
# 10. rules fixed after review
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("settle_fill", [True, False], ids=["settle_at_fill", "settle_at_bankruptcy"])
def test_slices_whole_order_is_settled_as_the_venue_settles(compiled, settle_fill):
    """Slices with a threshold no position reaches: every order is whole, i.e. a full liquidation.
    Long 2 @ 100, W 9: BP 95.5; one tier 0.4%: E(P) = 2P − 191 ≤ 0.008P below 95.885 (LP), and the
    backstop (2/3 MM) starts below 95.756. Tick 0.1; the index gaps to 95.8 (mark 95.8, bid 95.7):
    E = 0.6, MM = 0.7664, 2/3 MM = 0.511 → a whole order of 2, filled at 95.7 (above BP).
    At the fill the trader keeps 2·(95.7 − 100) + 9 = 0.4; at bankruptcy the fund gets 2·(95.7 − 95.5)."""
    positions = [(1, 2.0, 100.0, 9.0, E.TRADER), (-1, 2.0, 100.0, 200.0, E.COUNTERPARTY)]
    inp = make_input(
        positions,
        path=((0, 100.0), (1500, 100.0), (1500, 95.8)),
        tick=0.1,
        n_levels=2000,
        duration=2000,
        unwind_interval=NEVER,
        clearance=0.0,
        partial_rule=E.PARTIAL_SLICES,
        slice_threshold=1e9,
        backstop_fraction=2.0 / 3.0,
        settle_fill=settle_fill,
    )
    _, results = run_both(inp)
    for _name, res in results.items():
        (f,) = tape(res, (E.LIQUIDATION, E.PARTIAL, E.TAKEOVER))
        assert_fill(f, t=2000, kind=E.LIQUIDATION, account=0, qty=2.0, price=95.7, bp=95.5)
        if settle_fill:
            assert f.fund_delta == 0.0 and res["cash"][0] == pytest.approx(0.4, rel=1e-9)
        else:
            assert f.fund_delta == pytest.approx(0.4, rel=1e-9) and res["cash"][0] == pytest.approx(0.0, abs=1e-9)
        assert res["pos_status"][0] == E.LIQUIDATED
        assert_money(inp, res)


@pytest.mark.parametrize("gap_to, kind", [(94.0, E.ADL), (95.2, E.TAKEOVER)], ids=["under_water", "equity_left"])
def test_backstop_vault_takes_equity_left_and_deleverages_the_rest(compiled, gap_to, kind):
    """Hyperliquid: long 2 @ 100, W 10 (BP 95, LP 95.38). At 95.2 its equity 0.4 is below 2/3 of MM
    (0.508) but not negative: the vault takes it over at 95 and gains 0.4 marked. At 94 its equity is −2:
    the vault does not take it; it goes to ADL against the short at the previous mark clipped to the
    range [mark 94, B̄ 95] → 95 (the previous mark was 100)."""
    positions = [(1, 2.0, 100.0, 10.0, E.TRADER), (-1, 2.0, 100.0, 200.0, E.COUNTERPARTY)]
    inp = make_input(
        positions,
        path=((0, 100.0), (1500, 100.0), (1500, gap_to)),
        prof=0.0,
        duration=2000,
        unwind_interval=NEVER,
        clearance=0.0,
        partial_rule=E.PARTIAL_SLICES,
        settle_fill=True,
        backstop_fraction=2.0 / 3.0,
        mark_method=E.MARK_INDEX_BASIS,
        fund_initial=1000.0,
        max_inventory=100.0,
        adl_price=E.ADL_AT_PREVIOUS_MARK,
    )
    _, results = run_both(inp)
    for name, res in results.items():
        (f,) = tape(res, (E.LIQUIDATION, E.PARTIAL, E.TAKEOVER, E.ADL))
        assert f.kind == kind and f.qty == 2.0 and f.price == 95.0, (name, f)
        assert f.account == (1 if kind == E.ADL else 0)
        assert res["pos_status"][0] == E.LIQUIDATED
        assert_money(inp, res)


def test_adl_at_the_mark_falls_back_to_bankruptcy_once_the_drawdown_rule_trips(compiled):
    """The drawdown market above with OKX's ADL price: at t = 3000 the fund (equity 60 of a peak of 100)
    could pay Y's gap to the mark, 1·(88 − 86) = 2, but its 30% rule has tripped, so ADL runs at
    Y's bankruptcy price 88 and the fund pays nothing."""
    positions = [
        (1, 10.0, 100.0, 100.0, E.TRADER),
        (1, 1.0, 100.0, 12.0, E.TRADER),
        (-1, 11.0, 100.0, 1100.0, E.COUNTERPARTY),
    ]
    path = ((0, 100.0), (1500, 100.0), (1500, 90.0), (2500, 90.0), (2500, 86.0))
    inp = make_input(
        positions,
        path=path,
        prof=0.0,
        duration=3000,
        unwind_interval=NEVER,
        fund_initial=100.0,
        max_inventory=100.0,
        adl_drawdown=0.3,
        adl_price=E.ADL_AT_MARK,
    )
    _, results = run_both(inp)
    for _name, res in results.items():
        fills = tape(res)
        assert_fill(fills[1], t=3000, kind=E.ADL, account=2, qty=1.0, price=88.0, bp=88.0, fund_delta=0.0)
        assert_money(inp, res)


def test_entry_basis_reads_the_partial_tier_at_entry(compiled):
    """Bybit's risk limit is on position value at entry. Two tiers (floor 1,000: 1% / 5%, cum 40), long
    11 @ 100 (entry value 1,100: tier 2), W 120: MM on entry = 1100·0.05 − 40 = 15, LP = 100 − 105/11 =
    90.4545, BP = 89.0909. Gap to 90.4: the notional at the mark (994.4) is in tier 1, the entry value in
    tier 2, so a step-down applies: keep floor(1000/100) = 10, sell r = 1 (E = 14.4, E − 0.005·90.4 = 13.95 >
    MM of 10 at entry = 10). It fills at the 90.0 bid; E″ = 110 + 10·(90.4 − 100) = 14, fee 0.45,
    13.55 > 10: compliant, so it stays open with 10."""
    positions = [(1, 11.0, 100.0, 120.0, E.TRADER), (-1, 11.0, 100.0, 1100.0, E.COUNTERPARTY)]
    inp = make_input(
        positions,
        tiers=([0.0, 1000.0], [0.01, 0.05], [0.0, 40.0]),
        tier_basis=E.MM_ENTRY,
        path=((0, 100.0), (1500, 100.0), (1500, 90.4)),
        duration=2000,
        unwind_interval=NEVER,
    )
    _, results = run_both(inp)
    for _name, res in results.items():
        (f,) = tape(res, (E.LIQUIDATION, E.PARTIAL, E.TAKEOVER))
        assert_fill(f, t=2000, kind=E.PARTIAL, account=0, qty=1.0, price=90.0, fee=0.45)
        assert res["pos_status"][0] == E.OPEN and res["pos_size"][0] == pytest.approx(10.0)
        assert_money(inp, res)


def test_to_tier_repeats_its_drop_until_compliant(compiled):
    """OKX 2025: drop two tiers, re-check, repeat. Four tiers (floors 0 / 1,000 / 2,000 / 3,000; MMR 1 / 2 /
    4 / 8%; cum 0 / 10 / 50 / 170), long 35 @ 100, W 200, no fee. At 95: notional 3,325 (tier 4),
    E = 25 < MM 96. Drop two tiers → keep floor(2000/95) = 21.052, sell 13.948 @ 94.5: W = 123.286,
    E = 18.026 ≤ MM(21.052 @ 95, tier 2) = 29.99 → not compliant, so again from tier 2: keep
    floor(1000/95) = 10.526, sell 10.526 @ 94.5: W = 65.393, E = 12.763 > MM = 10.0 → compliant, open."""
    floors, mmrs = [0.0, 1000.0, 2000.0, 3000.0], [0.01, 0.02, 0.04, 0.08]
    positions = [(1, 35.0, 100.0, 200.0, E.TRADER), (-1, 35.0, 100.0, 3500.0, E.COUNTERPARTY)]
    inp = make_input(
        positions,
        tiers=(floors, mmrs, [0.0, 10.0, 50.0, 170.0]),
        prof=50.0,
        clearance=0.0,
        path=((0, 100.0), (1500, 100.0), (1500, 95.0)),
        duration=2000,
        unwind_interval=NEVER,
        partial_rule=E.PARTIAL_TO_TIER,
        partial_tiers_down=2,
        partial_min_tier=1,
    )
    _, results = run_both(inp)
    for _name, res in results.items():
        first, second = tape(res, (E.LIQUIDATION, E.PARTIAL, E.TAKEOVER))
        assert_fill(first, t=2000, kind=E.PARTIAL, qty=13.948, price=94.5)
        assert_fill(second, t=2000, kind=E.PARTIAL, qty=10.526, price=94.5)
        assert res["pos_status"][0] == E.OPEN and res["pos_size"][0] == pytest.approx(10.526)
        assert_money(inp, res)
