"""Who paid for auto-deleveraging: per-account ADL table, haircuts, deficit, overshoot and Gini.

Every case is built by hand from FILL_DTYPE / ACCOUNT_DTYPE records with answers worked out on paper.
Unless a test says otherwise a bankrupt long is being closed: the ADL'd shorts buy (``side = +1``),
its bankruptcy price is 95 and the mark 90, so each base unit carries 5 USD of deficit.
"""

import math
import os
import subprocess
import sys
import warnings
from itertools import permutations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import metrics
from sim.dtypes import ACCOUNT_DTYPE, FILL_DTYPE, SERIES_DTYPE
from sim.enums import ADL, COUNTERPARTY, FEE, FUND, LIQUIDATION, MAKER, NOISE, NOISE_FILL, TRADER
from sim.result import Result

B, M = 95.0, 90.0

# --------------------------------------------------------------------------------------------
# Builders


def adl_fill(t, account, qty, price=B, bp=B, mark=M, side=+1, equity=math.nan):
    """An ADL fill as the engine writes it: ``fund_delta = side * qty * (price - bp)``."""
    return dict(
        t=t,
        kind=ADL,
        account=account,
        side=side,
        qty=qty,
        price=price,
        bankruptcy_price=bp,
        fund_delta=side * qty * (price - bp),
        fee=0.0,
        mark=mark,
        equity=equity,
    )


def other_fill(t, kind, account, side=-1, qty=1.0, price=M, mark=M, equity=math.nan):
    return dict(
        t=t,
        kind=kind,
        account=account,
        side=side,
        qty=qty,
        price=price,
        bankruptcy_price=math.nan,
        fund_delta=0.0,
        fee=0.0,
        mark=mark,
        equity=equity,
    )


def make_fills(*rows):
    out = np.zeros(len(rows), dtype=FILL_DTYPE)
    out["bankruptcy_price"] = np.nan
    out["equity"] = np.nan
    for i, row in enumerate(rows):
        for key, value in row.items():
            out[key][i] = value
    return out


def make_accounts(position_start):
    """Trader rows ``0..n-1`` with these signed starting positions, then the four service rows."""
    n = len(position_start)
    out = np.zeros(n + 4, dtype=ACCOUNT_DTYPE)
    out["id"] = np.arange(n + 4)
    out["kind"][:n] = TRADER
    out["kind"][n:] = [MAKER, NOISE, FUND, FEE]
    out["position_start"][:n] = position_start
    return out


EMPTY_FILLS = np.zeros(0, dtype=FILL_DTYPE)
EMPTY_SERIES = np.zeros(0, dtype=SERIES_DTYPE)


def adl_summary(fills, accounts):
    meta = dict(
        fund_initial=1000.0,
        fund_balance_end=1000.0,
        bad_debt_usd=0.0,
        final_mark=M,
        path_p=np.array([100.0, M]),
        start_price=100.0,
        n_positions=len(accounts) - 4,
        runtime_s=0.0,
    )
    return metrics.summarize(fills, EMPTY_SERIES, accounts, meta)["adl"]


def assert_json_plain(section):
    for key, value in section.items():
        if key == "by_trigger":
            for part in value.values():
                assert_json_plain({k: v for k, v in part.items() if v not in (metrics.NO_DEFICIT, metrics.NO_ADL)})
            continue
        assert value is None or type(value) in (int, float), (key, value)
        if type(value) is float:
            assert math.isfinite(value), key


def pairwise_gini(x):
    """The definition itself: mean absolute difference over all n^2 pairs / (2 * mean)."""
    n, total = len(x), sum(x)
    return sum(abs(a - b) for a in x for b in x) / (2 * n * total)


# --------------------------------------------------------------------------------------------
# Gini


@pytest.mark.parametrize(
    "values, expected",
    [
        ([1, 1, 1], 0.0),
        ([0, 0, 3], 2 / 3),
        ([3, 0, 0], 2 / 3),
        ([1, 2, 3], 2 / 9),  # pairs |1-2| + |1-3| + |2-3| = 4, twice over ordered pairs: 8 / (2*3*6)
        ([0, 1], 0.5),
        ([0, 0, 0, 7.5], 0.75),  # one of n pays all: (n - 1) / n
        ([5.0], 0.0),
    ],
)
def test_gini_known_values(values, expected):
    assert metrics.gini(values) == pytest.approx(expected, abs=1e-15)
    assert metrics.gini(np.array(values, dtype=float)) == pytest.approx(pairwise_gini(values), abs=1e-15)


def test_gini_undefined_and_invalid():
    assert metrics.gini([]) is None
    assert metrics.gini([0.0, 0.0]) is None
    with pytest.raises(ValueError, match="non-negative"):
        metrics.gini([1.0, -0.5])
    with pytest.raises(ValueError, match="finite"):
        metrics.gini([1.0, math.nan])
    assert type(metrics.gini(np.array([1, 2], dtype=np.int64))) is float


# --------------------------------------------------------------------------------------------
# Policies on the same bankrupt long


def test_pro_rata_equal_position_share():
    # three shorts of 10, 20 and 30 each lose 10% of their position
    accounts = make_accounts([-10.0, -20.0, -30.0])
    fills = make_fills(
        adl_fill(5.0, 0, 1.0, equity=100.0), adl_fill(5.0, 1, 2.0, equity=200.0), adl_fill(5.0, 2, 3.0, equity=300.0)
    )
    table = metrics.adl_table(fills, accounts)
    assert table.dtype == metrics.ADL_DTYPE
    assert table["account"].tolist() == [0, 1, 2]
    assert table["position_side"].tolist() == [-1, -1, -1]
    assert table["fills"].tolist() == [1, 1, 1]
    assert table["contracts"].tolist() == [1.0, 2.0, 3.0]
    assert table["notional_usd"] == pytest.approx([90.0, 180.0, 270.0])
    assert table["haircut_usd"] == pytest.approx([5.0, 10.0, 15.0])  # ADL at bankruptcy: 5 per unit
    assert table["equity_before_usd"].tolist() == [100.0, 200.0, 300.0]
    assert table["equity_share"] == pytest.approx([0.05] * 3)
    assert table["position_share"] == pytest.approx([0.1] * 3)

    s = adl_summary(fills, accounts)
    assert_json_plain(s)
    assert s["count"] == 3 and s["accounts"] == 3
    assert s["contracts"] == pytest.approx(6.0)
    assert s["notional_usd"] == pytest.approx(540.0)
    assert s["deficit_covered_usd"] == pytest.approx(30.0)
    assert s["overshoot"] == pytest.approx(18.0)
    assert s["haircut_usd"] == pytest.approx(30.0)
    assert s["haircut_usd_median"] == pytest.approx(10.0)
    assert s["haircut_usd_p90"] == pytest.approx(14.0)  # linear: 10 + 0.8 * (15 - 10)
    assert s["haircut_usd_max"] == pytest.approx(15.0)
    assert s["equity_share_median"] == pytest.approx(0.05)
    assert s["equity_share_max"] == pytest.approx(0.05)
    # the same share of every position: contracts are as unequal as the positions themselves
    assert s["gini_contracts"] == pytest.approx(2 / 9)
    assert s["gini_contracts"] == pytest.approx(metrics.gini([10.0, 20.0, 30.0]))
    assert s["gini_haircut_usd"] == pytest.approx(2 / 9)


def test_queue_one_victim_pays_nearly_all():
    # the top-ranked short is closed in full; later ticks take dust from the next three
    eps = 0.001
    accounts = make_accounts([-10.0, -10.0, -10.0, -10.0])
    fills = make_fills(
        adl_fill(5.0, 0, 10.0, equity=400.0), *[adl_fill(6.0 + k, k, eps, equity=400.0) for k in (1, 2, 3)]
    )
    table = metrics.adl_table(fills, accounts)
    assert table["position_share"] == pytest.approx([1.0, 1e-4, 1e-4, 1e-4])
    s = adl_summary(fills, accounts)
    n = 4
    # sorted (eps, eps, eps, 10): sum (2i - n - 1) x_(i) = -3 eps + 3 * 10, over n * (10 + 3 eps)
    expected = (30.0 - 3 * eps) / (n * (10.0 + 3 * eps))
    assert s["gini_contracts"] == pytest.approx(expected)
    assert s["gini_haircut_usd"] == pytest.approx(expected)  # haircut is 5 per unit for everyone
    assert 0.74 < s["gini_contracts"] < (n - 1) / n
    assert s["haircut_usd_max"] == pytest.approx(50.0)
    assert s["equity_share_max"] == pytest.approx(50.0 / 400.0)
    assert s["deficit_covered_usd"] == pytest.approx(5.0 * (10.0 + 3 * eps))
    # only ADL'd accounts are compared: one victim alone is "equal" among the victims
    alone = adl_summary(fills[:1], accounts)
    assert alone["gini_contracts"] == 0.0 and alone["accounts"] == 1
    # ... but among everyone who held that side, one of four paying everything is as unequal as it gets
    assert alone["gini_position_share_side"] == pytest.approx((n - 1) / n)
    assert alone["gini_haircut_usd_side"] == pytest.approx((n - 1) / n)


def test_side_gini_is_zero_when_every_holder_loses_the_same_share():
    accounts = make_accounts([-10.0, -20.0, -30.0])
    fills = make_fills(*[adl_fill(5.0, k, 0.1 * q, equity=400.0) for k, q in enumerate((10.0, 20.0, 30.0))])
    s = adl_summary(fills, accounts)
    assert s["gini_position_share_side"] == pytest.approx(0.0, abs=1e-12)
    assert s["gini_contracts"] == pytest.approx(2 / 9)  # contracts follow the position sizes


def test_adl_at_mark_has_no_haircut_but_a_deficit():
    accounts = make_accounts([-4.0, -4.0])
    fills = make_fills(adl_fill(5.0, 0, 2.0, price=M, equity=50.0), adl_fill(5.0, 1, 1.0, price=M, equity=50.0))
    assert fills["fund_delta"].tolist() == [-10.0, -5.0]  # the fund pays the whole deficit
    table = metrics.adl_table(fills, accounts)
    assert table["haircut_usd"].tolist() == [0.0, 0.0]
    assert table["equity_share"].tolist() == [0.0, 0.0]
    s = adl_summary(fills, accounts)
    assert s["haircut_usd"] == 0.0
    assert s["deficit_covered_usd"] == pytest.approx(15.0)  # from bankruptcy_price, not price
    assert s["overshoot"] == pytest.approx(270.0 / 15.0)
    assert s["gini_haircut_usd"] is None  # nobody paid anything
    assert s["gini_contracts"] == pytest.approx(1 / 6)
    assert_json_plain(s)


def test_haircut_minus_deficit_is_the_fund_delta():
    fills = make_fills(
        adl_fill(1.0, 0, 2.0),  # at bankruptcy
        adl_fill(2.0, 1, 1.0, price=M),  # at the mark
        adl_fill(3.0, 2, 0.5, price=88.0, mark=91.0, bp=94.0),  # at the previous mark
        adl_fill(4.0, 3, 1.5, side=-1, price=101.0, bp=101.0, mark=104.0),  # a bankrupt short
        other_fill(4.5, LIQUIDATION, 4),
    )
    gap = metrics.adl_haircut(fills) - metrics.adl_deficit(fills)
    assert gap == pytest.approx(fills["fund_delta"])
    assert metrics.adl_haircut(fills)[-1] == 0.0 and metrics.adl_deficit(fills)[-1] == 0.0
    # the bankrupt short at 101 with the mark at 104: 3 of deficit per unit, met by the long's haircut
    assert metrics.adl_deficit(fills)[3] == pytest.approx(4.5)
    assert metrics.adl_haircut(fills)[3] == pytest.approx(4.5)


def test_price_better_than_the_mark_pays_nothing_in_the_gini():
    # ADL at the previous mark: one short is bought back at 92 (loses 2), the other at 88 (gains 2)
    accounts = make_accounts([-5.0, -5.0])
    fills = make_fills(adl_fill(5.0, 0, 1.0, price=92.0, equity=20.0), adl_fill(6.0, 1, 1.0, price=88.0, equity=20.0))
    table = metrics.adl_table(fills, accounts)
    assert table["haircut_usd"] == pytest.approx([2.0, -2.0])
    s = adl_summary(fills, accounts)
    assert s["haircut_usd"] == pytest.approx(0.0)
    assert s["haircut_usd_max"] == pytest.approx(2.0)
    assert s["haircut_usd_median"] == pytest.approx(0.0)
    assert s["gini_haircut_usd"] == pytest.approx(0.5)  # as if [2, 0]
    assert s["equity_share_max"] == pytest.approx(0.1)
    assert s["deficit_covered_usd"] == pytest.approx(10.0)


def test_deficit_is_pooled_over_fills():
    # the second fill took over quantity still above water at the mark: it offsets the first
    fills = make_fills(adl_fill(1.0, 0, 1.0), adl_fill(2.0, 1, 1.0, price=86.0, bp=86.0, mark=88.0))
    s = adl_summary(fills, make_accounts([-1.0, -1.0]))
    assert s["deficit_covered_usd"] == pytest.approx(5.0 - 2.0)
    assert s["overshoot"] == pytest.approx((90.0 + 88.0) / 3.0)
    fills = make_fills(adl_fill(1.0, 0, 1.0, price=86.0, bp=86.0, mark=88.0))
    s = adl_summary(fills, make_accounts([-1.0]))
    assert s["deficit_covered_usd"] == 0.0 and s["overshoot"] is None


def test_missing_bankruptcy_price_is_not_a_number():
    fills = make_fills(adl_fill(1.0, 0, 1.0, bp=math.nan))
    s = adl_summary(fills, make_accounts([-1.0]))
    assert s["deficit_covered_usd"] is None and s["overshoot"] is None
    assert s["haircut_usd"] == pytest.approx(5.0)
    assert_json_plain(s)


# --------------------------------------------------------------------------------------------
# Aggregation per account


def test_several_fills_per_account_aggregate():
    accounts = make_accounts([0.0, 0.0, 0.0, 4.0, 0.0, 0.0, 0.0, -7.0])
    fills = make_fills(
        other_fill(0.5, NOISE_FILL, 7, equity=999.0),  # not an ADL fill: its equity is ignored
        adl_fill(30.0, 7, 1.0, price=95.0, bp=95.0, mark=90.0, equity=50.0),
        adl_fill(10.0, 7, 2.0, price=100.0, bp=100.0, mark=96.0, equity=80.0),  # the earliest
        adl_fill(20.0, 7, 0.5, price=97.0, bp=97.0, mark=95.0, equity=60.0),
        adl_fill(25.0, 3, 1.0, side=-1, price=101.0, bp=101.0, mark=104.0, equity=30.0),
    )
    table = metrics.adl_table(fills, accounts)
    assert table["account"].tolist() == [3, 7]  # sorted by account
    long3, short7 = table
    assert short7["position_side"] == -1 and long3["position_side"] == 1
    assert short7["fills"] == 3 and long3["fills"] == 1
    assert short7["contracts"] == pytest.approx(3.5)
    assert short7["notional_usd"] == pytest.approx(90.0 + 192.0 + 47.5)
    assert short7["haircut_usd"] == pytest.approx(5.0 + 8.0 + 1.0)
    assert short7["equity_before_usd"] == 80.0
    assert short7["equity_share"] == pytest.approx(14.0 / 80.0)
    assert short7["position_share"] == pytest.approx(0.5)
    assert long3["haircut_usd"] == pytest.approx(3.0)
    assert long3["equity_share"] == pytest.approx(0.1)
    assert long3["position_share"] == pytest.approx(0.25)
    s = adl_summary(fills, accounts)
    assert s["count"] == 4 and s["accounts"] == 2
    assert s["contracts"] == pytest.approx(4.5)
    assert s["haircut_usd"] == pytest.approx(17.0)
    assert s["gini_haircut_usd"] == pytest.approx(metrics.gini([3.0, 14.0]))


def test_equal_times_keep_record_order_for_the_first_equity():
    fills = make_fills(adl_fill(5.0, 0, 1.0, equity=40.0), adl_fill(5.0, 0, 1.0, equity=35.0))
    table = metrics.adl_table(fills, make_accounts([-2.0]))
    assert table["equity_before_usd"].tolist() == [40.0]
    assert table["fills"].tolist() == [2]
    assert table["position_share"].tolist() == [1.0]


def test_fills_on_both_sides_have_no_position_side():
    fills = make_fills(adl_fill(1.0, 0, 1.0), adl_fill(2.0, 0, 1.0, side=-1, price=100.0, bp=100.0, mark=99.0))
    assert metrics.adl_table(fills, make_accounts([-1.0]))["position_side"].tolist() == [0]


def test_undefined_shares_are_nan():
    accounts = make_accounts([-1.0, -1.0, -1.0, 0.0])
    fills = make_fills(
        adl_fill(1.0, 0, 1.0, equity=0.0),  # no equity to lose from
        adl_fill(1.0, 1, 1.0, equity=-3.0),
        adl_fill(1.0, 2, 1.0),  # equity not recorded
        adl_fill(1.0, 3, 1.0, equity=10.0),  # started flat
        adl_fill(1.0, 99, 1.0, equity=10.0),
    )  # no such account row
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = metrics.adl_table(fills, accounts)
        s = adl_summary(fills, accounts)
    assert np.isnan(table["equity_share"][:3]).all()
    assert table["equity_share"][3:] == pytest.approx([0.5, 0.5])
    assert table["position_share"][:3].tolist() == [1.0, 1.0, 1.0]
    assert np.isnan(table["position_share"][3:]).all()
    assert s["equity_share_median"] == pytest.approx(0.5)  # over the defined shares only
    assert s["equity_share_max"] == pytest.approx(0.5)
    assert_json_plain(s)

    fills = make_fills(adl_fill(1.0, 0, 1.0, equity=0.0))
    s = adl_summary(fills, accounts)
    assert s["equity_share_median"] is None and s["equity_share_max"] is None


def test_without_adl_everything_is_zero_or_none():
    accounts = make_accounts([-1.0, 1.0])
    no_adl = make_fills(other_fill(1.0, LIQUIDATION, 1, equity=2.0), other_fill(2.0, NOISE_FILL, 5))
    for fills in (EMPTY_FILLS, no_adl):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            table = metrics.adl_table(fills, accounts)
            s = adl_summary(fills, accounts)
        assert table.dtype == metrics.ADL_DTYPE and len(table) == 0
        assert s == {
            "count": 0,
            "notional_usd": 0.0,
            "deficit_covered_usd": 0.0,
            "overshoot": None,
            "profit_taken_usd": 0.0,
            "overshoot_profit": None,
            "by_trigger": {
                name: {
                    "count": 0,
                    "notional_usd": 0.0,
                    "deficit_usd": 0.0,
                    "profit_taken_usd": 0.0,
                    "haircut_usd": 0.0,
                    "overshoot_notional": metrics.NO_ADL,
                    "overshoot_profit": metrics.NO_ADL,
                    "no_counterparty_usd": 0.0,
                }
                for name in ("deficit", "drawdown", "capacity")
            },
            "accounts": 0,
            "contracts": 0.0,
            "haircut_usd": 0.0,
            "haircut_usd_median": None,
            "haircut_usd_p90": None,
            "haircut_usd_max": None,
            "equity_share_median": None,
            "equity_share_max": None,
            "gini_haircut_usd": None,
            "gini_contracts": None,
            "gini_haircut_usd_side": None,
            "gini_position_share_side": None,
        }
    assert len(metrics.adl_table(make_fills(adl_fill(1.0, 0, 1.0)), accounts[:0])) == 1


# --------------------------------------------------------------------------------------------
# Result


def make_result(fills, accounts):
    return Result(scenario=None, summary={}, fills=fills, series=EMPTY_SERIES, accounts=accounts)


def test_result_adl_table_and_frame():
    pd = pytest.importorskip("pandas")
    accounts = make_accounts([-10.0, -20.0])
    fills = make_fills(
        other_fill(0.5, NOISE_FILL, 6), adl_fill(1.0, 1, 2.0, equity=100.0), adl_fill(2.0, 0, 1.0, equity=50.0)
    )
    res = make_result(fills, accounts)
    table = res.adl_table()
    assert table.dtype == metrics.ADL_DTYPE
    assert table.tolist() == metrics.adl_table(fills, accounts).tolist()
    frame = res.to_frames()["adl"]
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == list(metrics.ADL_DTYPE.names)
    assert frame["account"].tolist() == [0, 1]
    assert frame["haircut_usd"].tolist() == pytest.approx([5.0, 10.0])

    empty = make_result(EMPTY_FILLS, accounts).to_frames()["adl"]
    assert len(empty) == 0 and list(empty.columns) == list(metrics.ADL_DTYPE.names)


# --------------------------------------------------------------------------------------------
# Properties

paid = st.lists(st.floats(0.0, 1e6, allow_subnormal=False), min_size=1, max_size=30)


@settings(max_examples=200 * settings.default.max_examples // 100, deadline=None)
@given(paid, st.randoms(use_true_random=False), st.floats(1e-3, 1e3))
def test_property_gini_range_permutation_scaling(values, rnd, scale):
    g = metrics.gini(values)
    if sum(values) == 0:
        assert g is None
        return
    assert 0.0 <= g < 1.0
    assert g <= (len(values) - 1) / len(values)
    shuffled = list(values)
    rnd.shuffle(shuffled)
    assert metrics.gini(shuffled) == g  # sorted first: exactly the same computation
    assert metrics.gini([v * scale for v in values]) == pytest.approx(g, abs=1e-9)
    assert g == pytest.approx(pairwise_gini(values), abs=1e-9)


def test_gini_all_orders_of_a_small_vector():
    values = [0.0, 2.0, 3.0, 7.0]
    assert {metrics.gini(list(p)) for p in permutations(values)} == {metrics.gini(values)}


adl_rows = st.lists(
    st.tuples(
        st.floats(0.0, 100.0),  # t
        st.integers(0, 5),  # account
        st.sampled_from([-1, 1]),  # side
        st.floats(0.001, 10.0),  # qty
        st.floats(50.0, 150.0),  # price
        st.floats(50.0, 150.0),  # bankruptcy price
        st.floats(50.0, 150.0),  # mark
        st.floats(-100.0, 1000.0),  # equity
    ),
    max_size=30,
)


@settings(max_examples=150 * settings.default.max_examples // 100, deadline=None)
@given(adl_rows)
def test_property_table_adds_up(rows):
    fills = make_fills(*[adl_fill(t, a, q, price=p, bp=b, mark=m, side=s, equity=e) for t, a, s, q, p, b, m, e in rows])
    accounts = make_accounts([3.0, -2.0, 0.0, 1.0, -5.0, 4.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = metrics.adl_table(fills, accounts)
        s = adl_summary(fills, accounts)
    assert_json_plain(s)
    assert table["account"].tolist() == sorted(set(fills["account"].tolist()))
    assert table["fills"].sum() == s["count"] == len(rows)
    assert s["accounts"] == len(table)
    assert table["contracts"].sum() == pytest.approx(s["contracts"])
    assert table["notional_usd"].sum() == pytest.approx(s["notional_usd"])
    assert table["haircut_usd"].sum() == pytest.approx(s["haircut_usd"], abs=1e-6)
    haircut_total = s["haircut_usd"]
    deficit_sum = float(metrics.adl_deficit(fills).sum())
    assert haircut_total - deficit_sum == pytest.approx(float(fills["fund_delta"].sum()), abs=1e-6)
    assert s["deficit_covered_usd"] == pytest.approx(max(0.0, deficit_sum), abs=1e-6)
    for key in ("gini_haircut_usd", "gini_contracts"):
        assert s[key] is None or 0.0 <= s[key] < 1.0
    if len(table):
        assert s["haircut_usd_median"] <= s["haircut_usd_p90"] <= s["haircut_usd_max"]


def test_the_residual_counterparty_counts_in_totals_but_not_in_who_paid():
    accounts = make_accounts([-10.0, -10.0, -500.0])
    accounts["kind"][2] = COUNTERPARTY  # the synthetic holder of the long/short residual
    fills = make_fills(
        adl_fill(5.0, 0, 1.0, equity=400.0),
        adl_fill(5.0, 1, 1.0, equity=400.0),
        adl_fill(5.0, 2, 50.0, equity=40_000.0),
    )
    table = metrics.adl_table(fills, accounts)
    assert table["kind"].tolist() == [TRADER, TRADER, COUNTERPARTY]
    s = adl_summary(fills, accounts)
    assert s["accounts"] == 3 and s["contracts"] == pytest.approx(52.0)
    assert s["haircut_usd"] == pytest.approx(5.0 * 52.0)
    # the two traders paid alike: without the giant residual account the split is even
    assert s["gini_contracts"] == 0.0 and s["haircut_usd_max"] == pytest.approx(5.0)
    assert s["gini_position_share_side"] == pytest.approx(0.0)


def test_gini_does_not_depend_on_thread_counts():
    """Same inputs, same figures on any machine: a BLAS dot product splits its sum by thread count, and a
    run's Gini over a whole side has hundreds of thousands of terms."""
    code = (
        "import numpy as np; from sim import metrics; x = np.random.default_rng(1).pareto(1.5, 300_000); "
        "x[::3] = 0.0; print(repr(metrics.gini(x)))"
    )
    out = set()
    for threads in ("1", "2", "4"):
        env = {**os.environ, "OPENBLAS_NUM_THREADS": threads, "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
        out.add(proc.stdout.strip())
    assert len(out) == 1, out
