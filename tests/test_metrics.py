"""Tests of sim.metrics on small hand-built records with known answers."""

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import metrics
from sim.dtypes import ACCOUNT_DTYPE, FILL_DTYPE, SERIES_DTYPE
from sim.enums import (
    ADL,
    ADL_CLOSED,
    COUNTERPARTY,
    FEE,
    FUND,
    FUND_UNWIND,
    LIQUIDATED,
    LIQUIDATION,
    MAKER,
    NOISE,
    NOISE_FILL,
    OPEN,
    PARTIAL,
    TAKEOVER,
    TRADER,
)

N_POS = 6
FUND_ID = N_POS + 2

# --------------------------------------------------------------------------------------------
# Builders


def fill(t, kind, side, qty, price, mark, account=0, fund_delta=0.0, bp=math.nan, fee=0.0):
    return dict(
        t=t,
        kind=kind,
        account=account,
        side=side,
        qty=qty,
        price=price,
        bankruptcy_price=bp,
        fund_delta=fund_delta,
        fee=fee,
        mark=mark,
    )


def make_fills(*rows):
    out = np.zeros(len(rows), dtype=FILL_DTYPE)
    out["bankruptcy_price"] = np.nan
    for i, row in enumerate(rows):
        for key, value in row.items():
            out[key][i] = value
    return out


def make_series(**cols):
    n = len(next(iter(cols.values()))) if cols else 0
    out = np.zeros(n, dtype=SERIES_DTYPE)
    for key, value in cols.items():
        out[key] = value
    return out


def make_accounts(statuses):
    """Position rows with the given statuses (last one the counterparty), then the four service rows."""
    n = len(statuses)
    out = np.zeros(n + 4, dtype=ACCOUNT_DTYPE)
    out["id"] = np.arange(n + 4)
    out["kind"][:n] = TRADER
    out["kind"][n - 1] = COUNTERPARTY
    out["kind"][n:] = [MAKER, NOISE, FUND, FEE]
    out["status"][:n] = statuses
    out["status"][n:] = -1
    out["mode"][n:] = -1
    return out


EMPTY_FILLS = np.zeros(0, dtype=FILL_DTYPE)
EMPTY_SERIES = np.zeros(0, dtype=SERIES_DTYPE)


def base_meta(**over):
    meta = dict(
        fund_initial=1000.0,
        fund_balance_end=991.75,
        bad_debt_usd=0.0,
        final_mark=85.0,
        path_p=np.array([100.0, 100.0, 90.0, 90.0]),
        start_price=100.0,
        shock_start_s=5.0,
        n_positions=N_POS,
        runtime_s=0.125,
    )
    meta.update(over)
    return meta


# A run with two waves (bins 10-13 and 30-32), every liquidation kind and ADL on both sides.
BASE_FILLS = make_fills(
    fill(0.5, NOISE_FILL, -1, 5.0, 99.9, 100.0, account=N_POS + 1),
    fill(10.2, LIQUIDATION, -1, 2.0, 95.0, 95.5, account=0, fund_delta=1.0),  # long 190
    fill(10.7, PARTIAL, -1, 1.0, 94.0, 95.0, account=1, fund_delta=0.5),  # long 94
    fill(12.0, LIQUIDATION, +1, 1.0, 96.0, 95.8, account=2, fund_delta=-3.0),  # short 96
    fill(13.5, TAKEOVER, -1, 1.0, 93.0, 92.0, account=FUND_ID),  # long 93
    fill(13.6, ADL, +1, 2.0, 93.0, 92.0, account=3, bp=93.0),  # long 186; deficit 2
    fill(30.0, LIQUIDATION, -1, 1.0, 80.0, 81.0, account=4, fund_delta=-5.0),  # long 80
    fill(31.0, ADL, +1, 1.0, 85.0, 80.0, account=3, bp=85.0),  # long 85; deficit 5
    fill(32.0, ADL, -1, 1.0, 74.0, 79.0, account=5, bp=74.0),  # short 74; deficit 5
    fill(32.5, ADL, +1, 1.0, 90.0, 91.0, account=3, bp=90.0),  # long 90; deficit -1
    fill(40.0, FUND_UNWIND, -1, 1.0, 86.0, 86.0, account=FUND_ID, fund_delta=-2.0),
)
BASE_SERIES = make_series(
    t=[0.0, 10.0, 20.0, 30.0, 40.0],
    index=[100.0, 96.0, 92.0, 90.0, 90.0],
    mark=[100.0, 95.5, 92.0, 81.0, 85.0],
    last=[100.0, 95.0, 92.0, 85.5, 88.0],
    fund_balance=[1000.0, 1001.5, 998.5, 995.0, 991.5],
    oi_long=[50.0, 45.0, 40.0, 35.0, 30.0],
    oi_short=[50.0, 45.0, 40.0, 35.0, 30.0],
)
BASE_ACCOUNTS = make_accounts([LIQUIDATED, OPEN, LIQUIDATED, OPEN, LIQUIDATED, ADL_CLOSED])

LONG = 190 + 94 + 93 + 186 + 80 + 85 + 90
SHORT = 96 + 74
ADL_NOTIONAL = 2 * 92 + 80 + 79 + 91
ADL_DEFICIT = 2 + 5 + 5 - 1  # pooled: the fill above water at the mark offsets the others


@pytest.fixture
def base():
    return metrics.summarize(BASE_FILLS, BASE_SERIES, BASE_ACCOUNTS, base_meta())


def assert_json_plain(obj):
    """Only dicts, plain ints, plain floats (finite), None, and the overshoot markers of adl.by_trigger."""
    if isinstance(obj, dict):
        for value in obj.values():
            assert_json_plain(value)
    else:
        assert obj is None or type(obj) in (int, float) or obj in (metrics.NO_DEFICIT, metrics.NO_ADL), (obj, type(obj))
        if type(obj) is float:
            assert math.isfinite(obj)


# --------------------------------------------------------------------------------------------
# summarize on the base run


def test_summary_keys(base):
    assert list(base) == [
        "liquidated_notional_usd",
        "liquidations",
        "adl",
        "insurance_fund_usd",
        "fund_identity_error_usd",
        "bad_debt_usd",
        "min_last_price",
        "min_mark_price",
        "final_mark_price",
        "exogenous_drawdown_pct",
        "realized_drawdown_pct",
        "amplification",
        "waves",
        "time_to_quiet_s",
        "open_interest_destroyed_pct",
        "n_positions",
        "runtime_s",
        "peak_liquidation_minute_usd",
        "long_share_of_liquidated",
        "behaviour",
        "feedback",
    ]
    assert set(base["liquidated_notional_usd"]) == {"long", "short", "total"}
    assert set(base["liquidations"]) == {"full", "partial"}
    assert set(base["adl"]) == {
        "count",
        "notional_usd",
        "deficit_covered_usd",
        "overshoot",
        "profit_taken_usd",
        "overshoot_profit",
        "by_trigger",
        "accounts",
        "contracts",
        "haircut_usd",
        "haircut_usd_median",
        "haircut_usd_p90",
        "haircut_usd_max",
        "equity_share_median",
        "equity_share_max",
        "gini_haircut_usd",
        "gini_contracts",
        "gini_haircut_usd_side",
        "gini_position_share_side",
    }
    assert set(base["insurance_fund_usd"]) == {"start", "min", "end"}


def test_summary_is_plain_json(base):
    assert_json_plain(base)
    assert json.loads(json.dumps(base, allow_nan=False)) == base


def test_liquidated_notional(base):
    liq = base["liquidated_notional_usd"]
    assert liq["long"] == pytest.approx(LONG)
    assert liq["short"] == pytest.approx(SHORT)
    assert liq["total"] == pytest.approx(LONG + SHORT)
    assert base["long_share_of_liquidated"] == pytest.approx(LONG / (LONG + SHORT))


def test_liquidation_counts(base):
    assert base["liquidations"] == {"full": 3, "partial": 1}


def test_adl(base):
    adl = base["adl"]
    assert adl["count"] == 4
    assert adl["notional_usd"] == pytest.approx(ADL_NOTIONAL)
    assert adl["deficit_covered_usd"] == pytest.approx(ADL_DEFICIT)
    assert adl["overshoot"] == pytest.approx(ADL_NOTIONAL / ADL_DEFICIT)
    assert adl["accounts"] == 2


def test_insurance_fund_and_identity(base):
    fund = base["insurance_fund_usd"]
    assert fund["start"] == 1000.0
    assert fund["end"] == pytest.approx(991.5)
    assert fund["min"] == pytest.approx(991.5)  # running balance after the unwind
    assert base["fund_identity_error_usd"] == pytest.approx(0.25)
    assert base["bad_debt_usd"] == 0.0


def test_prices_and_drawdowns(base):
    assert base["min_last_price"] == 85.5
    assert base["min_mark_price"] == 79.0  # a fill's mark is below every sampled mark
    assert base["final_mark_price"] == 85.0
    assert base["exogenous_drawdown_pct"] == pytest.approx(-10.0)
    assert base["realized_drawdown_pct"] == pytest.approx(-14.5)
    assert base["amplification"] == pytest.approx(1.45)


def test_waves_quiet_oi_and_meta(base):
    assert base["waves"] == 2
    assert base["time_to_quiet_s"] == pytest.approx(32.5 - 5.0)
    assert base["open_interest_destroyed_pct"] == pytest.approx(40.0)
    assert base["n_positions"] == N_POS
    assert base["runtime_s"] == 0.125
    assert base["peak_liquidation_minute_usd"] == pytest.approx(LONG + SHORT)


def test_wave_gap_from_meta():
    def waves(gap):
        meta = base_meta(wave_gap_s=gap)
        return metrics.summarize(BASE_FILLS, BASE_SERIES, BASE_ACCOUNTS, meta)["waves"]

    # non-empty bins 10, 12, 13, 30, 31, 32: the widest gap between bin starts is 17 s
    assert waves(17.0) == 2  # 17 is not < 17
    assert waves(17.5) == 1
    assert waves(2.0) == 3  # 10 | 12, 13 | 30, 31, 32
    assert waves(1.0) == 6


# --------------------------------------------------------------------------------------------
# The liquidated-side rule


def test_liquidated_side_rule():
    fills = make_fills(
        fill(1, LIQUIDATION, -1, 1, 10, 10),
        fill(1, LIQUIDATION, +1, 1, 10, 10),
        fill(1, PARTIAL, -1, 1, 10, 10),
        fill(1, TAKEOVER, +1, 1, 10, 10),
        fill(1, ADL, +1, 1, 10, 10),
        fill(1, ADL, -1, 1, 10, 10),
        fill(1, NOISE_FILL, +1, 1, 10, 10),
        fill(1, FUND_UNWIND, -1, 1, 10, 10),
    )
    assert metrics.liquidated_side(fills).tolist() == [1, -1, 1, -1, 1, -1, 0, 0]
    assert metrics.liquidated_notional(fills).tolist() == [10] * 6 + [0, 0]


def test_adl_counts_for_the_bankrupt_side():
    # an ADL'd short counterparty buys (side +1) to close a bankrupt long: a long liquidation
    fills = make_fills(fill(1, ADL, +1, 3.0, 50.0, 49.0, account=2, bp=50.0))
    s = metrics.summarize(fills, EMPTY_SERIES, make_accounts([OPEN] * 3), base_meta())
    assert s["liquidated_notional_usd"] == {"long": 150.0, "short": 0.0, "total": 150.0}
    assert s["long_share_of_liquidated"] == 1.0
    assert s["adl"]["deficit_covered_usd"] == pytest.approx(3.0)
    assert s["adl"]["overshoot"] == pytest.approx(147.0 / 3.0)


# --------------------------------------------------------------------------------------------
# None / zero cases


def test_empty_run():
    meta = base_meta(shock_start_s=None, fund_balance_end=1000.0)
    s = metrics.summarize(EMPTY_FILLS, EMPTY_SERIES, make_accounts([OPEN, OPEN]), meta)
    assert_json_plain(s)
    assert s["liquidated_notional_usd"] == {"long": 0.0, "short": 0.0, "total": 0.0}
    assert s["liquidations"] == {"full": 0, "partial": 0}
    assert s["adl"]["profit_taken_usd"] == 0.0 and s["adl"]["overshoot_profit"] is None
    assert all(part["overshoot_notional"] == metrics.NO_ADL for part in s["adl"]["by_trigger"].values())
    assert {k: v for k, v in s["adl"].items() if k not in ("profit_taken_usd", "overshoot_profit", "by_trigger")} == {
        "count": 0,
        "notional_usd": 0.0,
        "deficit_covered_usd": 0.0,
        "overshoot": None,
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
    assert s["insurance_fund_usd"] == {"start": 1000.0, "min": 1000.0, "end": 1000.0}
    assert s["fund_identity_error_usd"] == 0.0
    assert s["min_last_price"] is None
    assert s["min_mark_price"] is None
    assert s["realized_drawdown_pct"] is None
    assert s["amplification"] is None
    assert s["waves"] == 0
    assert s["time_to_quiet_s"] is None  # no liquidation and no shock
    assert s["open_interest_destroyed_pct"] == 0.0
    assert s["peak_liquidation_minute_usd"] == 0.0
    assert s["long_share_of_liquidated"] is None


def test_time_to_quiet_cases():
    accounts = make_accounts([OPEN, OPEN])
    # a shock but no liquidation: 0
    s = metrics.summarize(EMPTY_FILLS, EMPTY_SERIES, accounts, base_meta(shock_start_s=5.0))
    assert s["time_to_quiet_s"] == 0.0
    # shock key absent counts as no shock
    meta = base_meta()
    del meta["shock_start_s"]
    assert metrics.summarize(EMPTY_FILLS, EMPTY_SERIES, accounts, meta)["time_to_quiet_s"] is None
    # liquidations without a shock: measured from t = 0
    fills = make_fills(fill(7.5, LIQUIDATION, -1, 1, 10, 10))
    s = metrics.summarize(fills, EMPTY_SERIES, accounts, base_meta(shock_start_s=None))
    assert s["time_to_quiet_s"] == 7.5
    # a liquidation before the shock starts: never negative
    s = metrics.summarize(fills, EMPTY_SERIES, accounts, base_meta(shock_start_s=20.0))
    assert s["time_to_quiet_s"] == 0.0


def test_overshoot_none_when_no_deficit():
    fills = make_fills(fill(1, ADL, +1, 1.0, 90.0, 95.0, bp=90.0), fill(2, ADL, -1, 1.0, 96.0, 95.0, bp=96.0))
    adl = metrics.summarize(fills, EMPTY_SERIES, make_accounts([OPEN] * 2), base_meta())["adl"]
    assert adl["count"] == 2
    assert adl["deficit_covered_usd"] == 0.0
    assert adl["notional_usd"] == pytest.approx(190.0)
    assert adl["overshoot"] is None
    assert adl["accounts"] == 1


def test_non_finite_meta_becomes_none():
    meta = base_meta(bad_debt_usd=math.nan, final_mark=math.inf, runtime_s=math.nan, fund_balance_end=math.nan)
    s = metrics.summarize(BASE_FILLS, BASE_SERIES, BASE_ACCOUNTS, meta)
    assert s["bad_debt_usd"] is None
    assert s["final_mark_price"] is None
    assert s["runtime_s"] is None
    assert s["fund_identity_error_usd"] is None
    assert_json_plain(s)


def test_flat_path_has_no_amplification():
    meta = base_meta(path_p=np.array([100.0, 100.0]))
    s = metrics.summarize(BASE_FILLS, BASE_SERIES, BASE_ACCOUNTS, meta)
    assert s["exogenous_drawdown_pct"] == 0.0
    assert s["amplification"] is None
    # without a direction the realized move is the larger one: the fall to 85.5
    assert s["realized_drawdown_pct"] == pytest.approx(-14.5)


def test_rise_keeps_its_sign():
    series = make_series(
        t=[0.0, 1.0, 2.0], last=[100.0, 103.0, 90.0], mark=[100.0, 103.0, 95.0], oi_long=[1.0, 1.0, 1.0]
    )
    meta = base_meta(path_p=np.array([100.0, 110.0, 95.0]))
    s = metrics.summarize(EMPTY_FILLS, series, make_accounts([OPEN] * 2), meta)
    assert s["exogenous_drawdown_pct"] == pytest.approx(10.0)
    assert s["realized_drawdown_pct"] == pytest.approx(3.0)  # measured in the shock's direction
    assert s["amplification"] == pytest.approx(0.3)


def test_move_pct():
    assert metrics.move_pct([100, 95, 104], 100) == pytest.approx(-5.0)
    assert metrics.move_pct([100, 96, 106], 100) == pytest.approx(6.0)
    assert metrics.move_pct([100, 95, 105], 100) == pytest.approx(-5.0)  # tie goes to the fall
    assert metrics.move_pct([100, 95, 106], 100, direction=-1) == pytest.approx(-5.0)
    assert metrics.move_pct([100, 95, 104], 100, direction=+1) == pytest.approx(4.0)
    assert metrics.move_pct([math.nan, 50.0], 100) == pytest.approx(-50.0)
    assert metrics.move_pct([], 100) is None
    assert metrics.move_pct([1.0], 0.0) is None


def test_fund_min_from_series_and_oi_zero():
    series = make_series(
        t=[0.0, 1.0], fund_balance=[1000.0, 940.0], oi_long=[0.0, 0.0], last=[100.0, 99.0], mark=[100.0, 99.0]
    )
    fills = make_fills(
        fill(0.5, LIQUIDATION, -1, 1, 10, 10, fund_delta=-20.0), fill(0.7, TAKEOVER, -1, 1, 10, 10, fund_delta=+30.0)
    )
    s = metrics.summarize(fills, series, make_accounts([OPEN] * 2), base_meta(fund_balance_end=1010.0))
    assert s["insurance_fund_usd"] == {"start": 1000.0, "min": 940.0, "end": 1010.0}
    assert s["fund_identity_error_usd"] == 0.0
    assert s["open_interest_destroyed_pct"] == 0.0


def test_fund_min_never_above_start():
    fills = make_fills(fill(1, LIQUIDATION, -1, 1, 10, 10, fund_delta=+5.0))
    fund = metrics.summarize(fills, EMPTY_SERIES, make_accounts([OPEN] * 2), base_meta())["insurance_fund_usd"]
    assert fund == {"start": 1000.0, "min": 1000.0, "end": 1005.0}


def test_fund_running_balance_in_time_order():
    fills = make_fills(
        fill(2, LIQUIDATION, -1, 1, 10, 10, fund_delta=-1.0), fill(1, LIQUIDATION, -1, 1, 10, 10, fund_delta=+3.0)
    )
    assert metrics.fund_running_balance(fills, 10.0).tolist() == [13.0, 12.0]


def test_missing_meta_key():
    meta = base_meta()
    del meta["final_mark"]
    with pytest.raises(KeyError, match="final_mark"):
        metrics.summarize(BASE_FILLS, BASE_SERIES, BASE_ACCOUNTS, meta)


def test_only_position_rows_count_as_full_liquidations():
    accounts = make_accounts([LIQUIDATED, LIQUIDATED, ADL_CLOSED, OPEN])
    accounts["status"][-1] = LIQUIDATED  # a service row can never be a liquidated position
    s = metrics.summarize(EMPTY_FILLS, EMPTY_SERIES, accounts, base_meta())
    assert s["liquidations"]["full"] == 2


# --------------------------------------------------------------------------------------------
# Bins, waves and the peak window


def test_liquidation_bins():
    edges, long_usd, short_usd = metrics.liquidation_bins(BASE_FILLS)
    assert edges.tolist() == list(range(34))
    assert len(long_usd) == len(short_usd) == 33
    assert long_usd[10] == pytest.approx(190 + 94)
    assert short_usd[12] == pytest.approx(96)
    assert long_usd[13] == pytest.approx(93 + 186)
    assert short_usd[32] == pytest.approx(74) and long_usd[32] == pytest.approx(90)
    assert long_usd.sum() == pytest.approx(LONG) and short_usd.sum() == pytest.approx(SHORT)
    assert long_usd[0] == 0.0  # the noise fill is not a liquidation


def test_liquidation_bins_width_and_empty():
    edges, long_usd, short_usd = metrics.liquidation_bins(BASE_FILLS, bin_s=5.0)
    assert edges.tolist() == [0, 5, 10, 15, 20, 25, 30, 35]
    assert long_usd[2] == pytest.approx(190 + 94 + 93 + 186)
    assert short_usd[2] == pytest.approx(96)
    edges, long_usd, short_usd = metrics.liquidation_bins(EMPTY_FILLS)
    assert edges.tolist() == [0.0] and len(long_usd) == len(short_usd) == 0
    with pytest.raises(ValueError):
        metrics.liquidation_bins(BASE_FILLS, bin_s=0.0)


def test_wave_table():
    waves = metrics.wave_table(BASE_FILLS)
    assert waves.dtype == metrics.WAVE_DTYPE
    assert waves["start_s"].tolist() == [10.2, 30.0]
    assert waves["end_s"].tolist() == [13.6, 32.5]
    assert waves["notional_usd"] == pytest.approx([190 + 94 + 96 + 93 + 186, 80 + 85 + 74 + 90])
    assert waves["count"].tolist() == [5, 4]
    assert len(metrics.wave_table(BASE_FILLS, gap_s=100.0)) == 1
    assert len(metrics.wave_table(EMPTY_FILLS)) == 0


def test_wave_table_unsorted_fills():
    fills = make_fills(
        fill(50.2, LIQUIDATION, -1, 1, 10, 10), fill(1.5, LIQUIDATION, -1, 1, 20, 10), fill(3.9, ADL, -1, 1, 30, 10)
    )
    waves = metrics.wave_table(fills)
    assert waves["start_s"].tolist() == [1.5, 50.2]
    assert waves["end_s"].tolist() == [3.9, 50.2]
    assert waves["notional_usd"].tolist() == [50.0, 10.0]
    assert waves["count"].tolist() == [2, 1]


def test_peak_liquidation_minute():
    fills = make_fills(
        fill(0.0, LIQUIDATION, -1, 1, 10, 10),
        fill(50.5, LIQUIDATION, -1, 1, 20, 10),
        fill(100.0, LIQUIDATION, +1, 1, 30, 10),
    )
    # [0, 60) holds 30, [41, 101) holds 50
    assert metrics.peak_window_usd(fills) == pytest.approx(50.0)
    s = metrics.summarize(fills, EMPTY_SERIES, make_accounts([OPEN] * 2), base_meta())
    assert s["peak_liquidation_minute_usd"] == pytest.approx(50.0)
    assert s["waves"] == 3
    fills = make_fills(fill(0.0, LIQUIDATION, -1, 1, 10, 10), fill(60.0, LIQUIDATION, -1, 1, 20, 10))
    assert metrics.peak_window_usd(fills) == pytest.approx(20.0)  # 60 s apart: never together
    fills = make_fills(fill(0.0, LIQUIDATION, -1, 1, 10, 10), fill(59.9, LIQUIDATION, -1, 1, 20, 10))
    assert metrics.peak_window_usd(fills) == pytest.approx(30.0)


# --------------------------------------------------------------------------------------------
# Properties

fill_rows = st.lists(
    st.tuples(
        st.floats(0.0, 300.0),
        st.sampled_from([LIQUIDATION, PARTIAL, TAKEOVER, ADL, NOISE_FILL, FUND_UNWIND]),
        st.sampled_from([-1, 1]),
        st.floats(0.001, 10.0),
        st.floats(1.0, 1000.0),
        st.floats(1.0, 1000.0),
        st.floats(-100.0, 100.0),
    ),
    max_size=40,
)


def rows_to_fills(rows):
    return make_fills(
        *[fill(t, k, s, q, p, m, account=i % 5, fund_delta=d) for i, (t, k, s, q, p, m, d) in enumerate(rows)]
    )


@settings(max_examples=150 * settings.default.max_examples // 100, deadline=None)
@given(fill_rows, st.floats(0.5, 30.0))
def test_property_totals_and_waves(rows, gap):
    fills = rows_to_fills(rows)
    s = metrics.summarize(fills, EMPTY_SERIES, make_accounts([OPEN] * 5), base_meta(wave_gap_s=gap))
    liq = s["liquidated_notional_usd"]
    assert liq["total"] == pytest.approx(liq["long"] + liq["short"])
    assert liq["total"] == pytest.approx(metrics.liquidated_notional(fills).sum())

    edges, long_usd, short_usd = metrics.liquidation_bins(fills)
    nonempty = int(np.count_nonzero(long_usd + short_usd > 0))
    assert s["waves"] <= nonempty
    assert (s["waves"] == 0) == (nonempty == 0)
    assert long_usd.sum() == pytest.approx(liq["long"])
    assert short_usd.sum() == pytest.approx(liq["short"])

    waves = metrics.wave_table(fills, gap)
    assert waves["notional_usd"].sum() == pytest.approx(liq["total"])
    assert waves["count"].sum() == np.count_nonzero(metrics.liquidation_mask(fills))
    assert np.all(waves["start_s"] <= waves["end_s"])
    assert np.all(waves["end_s"][:-1] < waves["start_s"][1:])
    assert len(metrics.wave_table(fills, gap + 5.0)) <= len(waves)

    peak = s["peak_liquidation_minute_usd"]
    assert peak <= liq["total"] * (1 + 1e-9) + 1e-9
    if nonempty:
        assert peak >= (long_usd + short_usd).max() * (1 - 1e-9)


@settings(deadline=None)
@given(fill_rows)
def test_property_fund_identity(rows):
    fills = rows_to_fills(rows)
    end = 1000.0 + float(fills["fund_delta"].sum())
    s = metrics.summarize(fills, EMPTY_SERIES, make_accounts([OPEN] * 5), base_meta(fund_balance_end=end))
    fund = s["insurance_fund_usd"]
    assert s["fund_identity_error_usd"] == pytest.approx(0.0, abs=1e-9)
    assert fund["min"] <= min(fund["start"], fund["end"]) + 1e-9
    share = s["long_share_of_liquidated"]
    assert share is None or 0.0 <= share <= 1.0
    assert_json_plain(s)
