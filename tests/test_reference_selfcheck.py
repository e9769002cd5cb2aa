"""Hand-computed checks of the pure-Python reference engine itself (no fast engine involved)."""

import math

import pytest

from sim import enums

try:
    from tests.reference import (
        reference_bankruptcy_price,
        reference_liquidation_price,
        reference_run,
        reference_tier,
    )
except ImportError:  # tests/ on sys.path instead of the repository root
    from reference import (
        reference_bankruptcy_price,
        reference_liquidation_price,
        reference_run,
        reference_tier,
    )


try:
    from tests.dsl import ONE_TIER, TWO_TIERS, initial_cash, make_input
except ImportError:  # tests/ on sys.path instead of the repository root
    from dsl import ONE_TIER, TWO_TIERS, initial_cash, make_input


def check_conservation(inp, res, fund_avg=None):
    """Money and contracts are conserved, and the fund's balance is its cash plus its inventory at cost.

    ``fund_avg``: the fund's average cost, worked out by hand from the test's fills; required when the fund ends
    holding an inventory (a value derived from the balance itself would make the last check an identity).
    """
    assert math.fsum(res["cash"]) == pytest.approx(math.fsum(initial_cash(inp)), abs=1e-7)
    assert math.fsum(res["position"]) == pytest.approx(0.0, abs=1e-9)
    fund_deltas = [f[7] for f in res["fills"]]
    assert res["fund_balance"] == pytest.approx(inp.fund_initial + math.fsum(fund_deltas), abs=1e-9)
    n = len(inp.pos_side)
    fund_cash, fund_q = res["cash"][n + 2], res["fund_q"]
    if fund_q != 0.0:
        assert fund_avg is not None, "the fund holds an inventory: pass its hand-computed average cost"
    assert res["fund_balance"] == pytest.approx(fund_cash + fund_q * (fund_avg or 0.0), abs=1e-7)


# --------------------------------------------------------------------------------------------------
# §3 margin
# --------------------------------------------------------------------------------------------------


def test_tier():
    floors = [0.0, 1000.0, 5000.0]
    assert reference_tier(0.0, floors) == 0
    assert reference_tier(999.99, floors) == 0
    assert reference_tier(1000.0, floors) == 1
    assert reference_tier(4999.0, floors) == 1
    assert reference_tier(1e9, floors) == 2


def test_lp_long_10x():
    Q = 1.0
    EP = 94_200.0
    W = Q * EP / 10
    lp = reference_liquidation_price(1, Q, EP, W, *ONE_TIER)
    assert lp == pytest.approx(85_120.48, abs=0.01)


def test_lp_binance_example():
    lp = reference_liquidation_price(1, 0.02, 50_000.0, 500.0, *ONE_TIER)
    assert lp == pytest.approx(25_100.40, abs=0.01)


def test_lp_short_and_no_root():
    # short 10x at 100: (10 + 100) / (0.004 + 1)
    assert reference_liquidation_price(-1, 1.0, 100.0, 10.0, *ONE_TIER) == pytest.approx(110.0 / 1.004)
    # over-collateralised long: never liquidated (LP 0)
    assert reference_liquidation_price(1, 1.0, 100.0, 200.0, *ONE_TIER) == 0.0
    # a short already under water at every price: LP 0, i.e. triggered at any mark
    assert reference_liquidation_price(-1, 1.0, 100.0, -200.0, *ONE_TIER) == 0.0


def test_lp_picks_consistent_tier():
    # long Q 20 at 100: tier 1 at the root; equity = MM there (W chosen for LP = 95)
    lp = reference_liquidation_price(1, 20.0, 100.0, 155.0, *TWO_TIERS)
    assert lp == pytest.approx(95.0)
    # equity = maintenance margin at LP
    eq = 155.0 + 20.0 * (lp - 100.0)
    mm = 20.0 * lp * 0.05 - 40.0
    assert eq == pytest.approx(mm)


def test_bankruptcy_price():
    assert reference_bankruptcy_price(1, 1.0, 100.0, 10.0) == 90.0
    assert reference_bankruptcy_price(-1, 2.0, 100.0, 10.0) == 105.0


# --------------------------------------------------------------------------------------------------
# runs
# --------------------------------------------------------------------------------------------------


GAP_PATH = ((0, 100.0), (500, 100.0), (500, 89.0))


def test_quiet_run_series():
    inp = make_input([(1, 1.0, 100.0, 10.0, enums.TRADER), (-1, 1.0, 100.0, 1e6, enums.COUNTERPARTY)], duration=0)
    res = reference_run(inp)
    assert res["fills"] == []
    assert len(res["series"]) == 1
    t, index, mark, last, bb, ba, dbid, dask, bal, oil, ois, liq = res["series"][0]
    assert (t, index, mark, last, bb, ba) == (0, 100.0, 100.0, 100.0, 99.5, 100.5)
    # within 1% of 100: bids 99.5 and 99.0, asks 100.5 and 101.0, 100 each
    assert dbid == pytest.approx(100 * 99.5 + 100 * 99.0)
    assert dask == pytest.approx(100 * 100.5 + 100 * 101.0)
    assert (bal, oil, ois, liq) == (1000.0, 1.0, 0.0, 0.0)  # open interest counts trader rows only


def test_gap_full_liquidation_in_deep_book():
    inp = make_input(
        [(1, 1.0, 100.0, 10.0, enums.TRADER), (-1, 1.0, 100.0, 1e6, enums.COUNTERPARTY)],
        path=GAP_PATH,
        duration=3000,
    )
    res = reference_run(inp)
    fills = res["fills"]
    assert len(fills) == 1
    t, kind, account, side, qty, price, bp, fund_delta, fee, mark, _equity, _cause = fills[0]
    assert (t, kind, account, side) == (1000, enums.LIQUIDATION, 0, -1)
    assert qty == 1.0
    assert price == 88.5  # best bid below fair 89 with tick 0.5
    assert bp == 90.0
    assert fund_delta == pytest.approx(-1.5)
    assert fee == 0.0
    assert mark == 89.0  # median(89, 89 + 0, last 100)
    assert res["pos_status"] == [enums.LIQUIDATED, enums.OPEN]
    assert res["pos_size"][0] == 0.0
    assert res["pos_wallet"][0] == pytest.approx(0.0, abs=1e-12)
    assert res["position"][2] == 1.0  # maker bought the position
    assert res["fund_balance"] == pytest.approx(1000.0 - 1.5)
    assert res["last"] == 88.5
    # liquidated notional in the series after the event
    assert res["series"][1][11] == pytest.approx(88.5)
    check_conservation(inp, res)


def test_gap_adl_with_empty_book():
    inp = make_input(
        [
            (1, 1.0, 100.0, 10.0, enums.TRADER),
            (-1, 0.5, 100.0, 1000.0, enums.TRADER),
            (-1, 0.5, 100.0, 50.0, enums.COUNTERPARTY),
        ],
        path=GAP_PATH,
        prof=0.0,
        fund_initial=0.0,
    )
    res = reference_run(inp)
    fills = res["fills"]
    # at P = B = 90 both shorts have pnl 0.1; row 1 lev 45/1005, row 2 lev 45/55 -> row 2 first
    assert [(f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9]) for f in fills] == [
        (1000, enums.ADL, 2, 1, 0.5, 90.0, 90.0, 0.0, 0.0, 89.0),
        (1000, enums.ADL, 1, 1, 0.5, 90.0, 90.0, 0.0, 0.0, 89.0),
    ]
    assert res["pos_status"] == [enums.LIQUIDATED, enums.ADL_CLOSED, enums.ADL_CLOSED]
    assert res["pos_size"] == [0.0, 0.0, 0.0]
    assert res["pos_wallet"][1] == pytest.approx(1005.0)
    assert res["pos_wallet"][2] == pytest.approx(55.0)
    assert res["fund_balance"] == 0.0
    assert res["series"][-1][11] == pytest.approx(90.0)
    check_conservation(inp, res)


def test_gap_takeover_capacity_then_adl():
    # B = 100 - 30/3 = 90, mark 89. Fund capacity: the largest y with y * 89 <= 0.1 * (891 - y * (90 - 89)),
    # i.e. y = 89.1 / 89.1 = 1.0 of the 3.0 remainder; the other 2.0 is ADL'd against row 1 (first in
    # rank), which stays open with 0.5.
    inp = make_input(
        [
            (1, 3.0, 100.0, 30.0, enums.TRADER),
            (-1, 2.5, 100.0, 1000.0, enums.TRADER),
            (-1, 0.5, 100.0, 1000.0, enums.COUNTERPARTY),
        ],
        path=GAP_PATH,
        prof=0.0,
        fund_initial=891.0,
        max_inventory=0.1,
        unwind_interval=0,
    )
    res = reference_run(inp)
    fills = res["fills"]
    # ranking at 90: row 1 lev 225/1025, row 2 lev 45/1005 (same pnl 0.1) -> row 1 first
    assert [(f[1], f[2], f[3], f[4], f[5], f[6]) for f in fills] == [
        (enums.TAKEOVER, 0, -1, pytest.approx(1.0), 90.0, 90.0),
        (enums.ADL, 1, 1, pytest.approx(2.0), 90.0, 90.0),
    ]
    assert res["pos_status"] == [enums.LIQUIDATED, enums.OPEN, enums.OPEN]
    assert res["pos_size"] == [0.0, pytest.approx(0.5), 0.5]
    assert res["pos_wallet"][1] == pytest.approx(1020.0)
    assert res["fund_q"] == pytest.approx(1.0)
    # the fund bought 1.0 at 90 with its cash (891 - 90) and holds it at that cost: balance 801 + 1.0 * 90
    assert res["cash"][3 + 2] == pytest.approx(801.0)  # after the 3 positions: maker, noise, then the fund
    assert res["fund_balance"] == pytest.approx(891.0)
    assert res["series"][-1][11] == pytest.approx(3.0 * 90.0)
    check_conservation(inp, res, fund_avg=90.0)


def test_takeover_then_unwind():
    inp = make_input(
        [(1, 1.0, 100.0, 10.0, enums.TRADER), (-1, 1.0, 100.0, 1e6, enums.COUNTERPARTY)],
        path=GAP_PATH,
        band=0.0,  # limit = B = 90 above every bid: the book fills nothing
        adl_enabled=0,
    )
    res = reference_run(inp)
    n = 2
    fills = res["fills"]
    assert [(f[0], f[1], f[2], f[3], f[4], f[5]) for f in fills] == [
        (1000, enums.TAKEOVER, 0, -1, 1.0, 90.0),
        (1000, enums.FUND_UNWIND, n + 2, -1, 0.5, 88.5),
    ]
    assert fills[0][7] == 0.0
    assert fills[1][7] == pytest.approx(0.5 * (88.5 - 90.0))
    assert math.isnan(fills[1][6])
    assert res["fund_q"] == 0.5
    assert res["fund_balance"] == pytest.approx(1000.0 - 0.75)
    # cash: 1000 - 1.0 * 90 (takeover) + 0.5 * 88.5 (unwind) = 954.25; the 0.5 left is held at its cost, 90
    assert res["cash"][n + 2] == pytest.approx(954.25)
    assert res["pos_status"][0] == enums.LIQUIDATED
    check_conservation(inp, res, fund_avg=90.0)


def test_partial_liquidation():
    # long 20 at 100, W 155, LP 95 in tier 1; mark 94 -> partial down to keep = 10.638 (tier 0)
    inp = make_input(
        [(1, 20.0, 100.0, 155.0, enums.TRADER), (-1, 20.0, 100.0, 1e6, enums.COUNTERPARTY)],
        tiers=TWO_TIERS,
        path=((0, 100.0), (500, 100.0), (500, 94.0)),
        duration=2000,
    )
    res = reference_run(inp)
    fills = [f for f in res["fills"] if f[2] == 0]
    assert len(fills) == 1
    t, kind, account, side, qty, price, bp, fund_delta, fee, mark, _equity, _cause = fills[0]
    assert (t, kind, side, price, mark) == (1000, enums.PARTIAL, -1, 93.5, 94.0)
    assert qty == pytest.approx(9.362)
    assert bp == pytest.approx(100.0 - 155.0 / 20.0)
    expected_fee = 0.005 * 9.362 * 93.5
    assert fee == pytest.approx(expected_fee)
    assert fund_delta == fee
    assert res["pos_size"][0] == pytest.approx(10.638)
    assert res["pos_wallet"][0] == pytest.approx(155.0 + 9.362 * (93.5 - 100.0) - expected_fee)
    assert res["pos_status"][0] == enums.OPEN
    check_conservation(inp, res)


def test_noise_and_book_refill():
    # one bid level of target size 1 at 99.5: sell 0.6 at t=0 leaves 0.4; one half-life later the level
    # holds 1 - 0.6/2 = 0.7; a zero-quantity order is ignored
    inp = make_input(
        [(1, 1.0, 100.0, 50.0, enums.TRADER), (-1, 1.0, 100.0, 50.0, enums.COUNTERPARTY)],
        noise=[(0, -1, 0.6), (1000, -1, 1.0), (1000, 1, 0.0)],
        prof=1.0,
        depth_levels=1,
        duration=1000,
        refill_half_life=1000.0,
    )
    res = reference_run(inp)
    fills = res["fills"]
    assert [(f[0], f[1], f[2], f[3], f[5]) for f in fills] == [
        (0, enums.NOISE_FILL, 3, -1, 99.5),
        (1000, enums.NOISE_FILL, 3, -1, 99.5),
    ]
    assert fills[0][4] == 0.6
    assert fills[1][4] == pytest.approx(1.0 - 0.6 * 0.5)  # 0.4 left, half the gap refilled
    fee = 0.0005 * (0.6 + 0.7) * 99.5
    assert res["cash"][5] == pytest.approx(fee)
    assert res["position"][3] == pytest.approx(-1.3)
    assert res["position"][2] == pytest.approx(1.3)
    check_conservation(inp, res)
