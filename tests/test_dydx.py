"""dYdX v4's rules (docs/model.md §2.8): the pack, the fillable price, the insurance fund's fee cap, the per-block
limits, deleveraging from a random start, isolated markets. Each mechanism is shown to work by hand-built cases
whose numbers are worked out in the comments, and to matter by switching it off."""

import dataclasses
import math

import numpy as np
import pytest
from dsl import make_input
from test_engine import assert_money_conserved

import sim
from sim import enums as E
from sim import venues as V
from sim.engine import prepare, simulate
from sim.kernels.adl import MINSTD_A, MINSTD_M
from sim.kernels.fillable import block_size_nb, fillable_price_nb, insurance_fund_delta_nb
from sim.kernels.margin import bankruptcy_price_nb

MMF = ([0.0], [0.012], [0.0])  # dYdX's tier 0: one tier, MMF 1.2%
GAP = ((0, 100.0), (2000, 100.0), (2000, 96.0))  # the oracle price gaps from 100 to 96 at t = 2 s
SHORT_CP = (-1, 10.0, 100.0, 1000.0, E.COUNTERPARTY)


def dydx(positions, prof=100.0, **kw):
    """Inputs under dYdX's kernel rules: settlement at the fillable price, mark = oracle, random ADL ranking."""
    base = dict(
        tiers=MMF,
        path=GAP,
        duration=6000,
        fund_initial=1000.0,
        settle_fillable=True,
        mark_method=E.MARK_ORACLE,
        clearance=0.015,
        adl_ranking=E.RANK_RANDOM,
        adl_trigger=E.ADL_TRIGGER_DEFICIT,
        partial_rule=E.PARTIAL_NONE,
        index_coupling=0.0,
        depth_levels=40,
    )
    base.update(kw)
    return make_input(positions, prof=prof, **base)


def profile(empty_ticks, size=100.0, levels=40):
    """A book with nothing within ``empty_ticks`` of the fair price and ``size`` per level beyond."""
    prof = np.full(levels + 1, size)
    prof[: empty_ticks + 1] = 0.0
    return prof


def liquidation_fills(raw):
    return raw.fills[np.isin(raw.fills["kind"], (E.LIQUIDATION, E.PARTIAL))]


# ------------------------------------------------------------------------------------------------------ the pack


def test_the_pack_is_tier_0_with_the_genesis_rules():
    p = V.pack("dydx")
    assert p.version == V.DEFAULTS["dydx"] == "2026-03"
    for asset in ("BTC", "ETH"):  # IMF 2% → 50x, MMF 0.6 × 2% = 1.2%, one tier
        assert p.tiers[asset] == (V.TierRow(0.0, 50.0, 1.2, 0.0),)
    r = p.rules
    assert (r.settle, r.mark_method, r.adl_ranking, r.adl_price) == ("fillable", "oracle", "random", "bankruptcy")
    assert (r.fillable_smmr, r.fillable_ba, r.clearance_fee_pct, r.liquidation_fee_cap) == (1.5, 1.0, 1.5, True)
    assert (r.block_position_pct, r.block_position_min_usd) == (10.0, 1000.0)
    assert (r.block_account_usd, r.block_fund_loss_usd) == (100_000.0, 1_000_000.0)
    assert (r.funding_interval_h, r.market_type) == (1.0, "cross")
    assert all(note[:5] in ("[DOC]", "[CODE", "[INF]", "[SEC]") for note in p.notes)
    assert "a9a116c" in p.notes[0] and "[SEC] values" in p.notes[0]  # the 2% is not from a mainnet file
    assert any("84d4664" in note for note in p.notes) and any("live values not verified" in n for n in p.notes)
    # every other pack keeps the inert defaults of the new rules
    for other in V.all_packs():
        if other.venue != "dydx":
            assert other.rules.settle != "fillable" and other.rules.market_type == "cross"


def test_the_launch_pack_has_the_mainnet_genesis_margins():
    # mainnet genesis 2023-10-26: initial_margin_ppm 50,000 (20x), maintenance_fraction_ppm 600,000 → MMF 3%
    old, new = V.pack("dydx", "2023-10"), V.pack("dydx")
    assert V.versions("dydx") == ("2023-10", "2026-03")
    for asset in ("BTC", "ETH"):
        assert old.tiers[asset] == (V.TierRow(0.0, 20.0, 3.0, 0.0),)
    assert old.rules == new.rules and "mainnet" in old.notes[0]
    scn = sim.load_scenario(None, overrides={"market.venue": "dydx", "market.venue_version": "2023-10"})
    assert prepare(scn).tier_mmr[0] == pytest.approx(0.03)


def test_the_venue_listing_shows_dydx(capsys):
    from sim.cli import main

    assert main(["venues"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("dydx"))
    assert "fillable" in row and "oracle" in row and "random" in row and "per 1s block: 10% >=1,000" in row


def test_a_dydx_run_measures_margin_at_the_oracle_price():
    scn = sim.load_scenario(None, overrides={"market.venue": "dydx", "population.n_positions": 2000})
    res = sim.run(scn)
    assert np.array_equal(res.series["mark"], res.series["index"])
    assert res.summary["liquidations"]["partial"] > 0  # large positions go block by block


def test_funding_is_capped_at_600_percent_of_the_tier_margin_gap():
    # dYdX clamps the 8-hour rate to ±6 × (IMF − MMF): 6 × (2% − 1.2%) = 4.8% per 8 h, 0.6% of it an hour
    from sim.engine import funding_cap, funding_params

    p = V.pack("dydx")
    r = p.rules
    assert (r.funding_cap_margin_factor, r.funding_cap_pct, r.funding_interest_pct) == (6.0, 100.0, 0.0)
    assert funding_cap(r, p.tiers["BTC"][0]) == pytest.approx(0.006, rel=1e-12)
    # launch tiers (5%, 3%): 12% per 8 h, 1.5% an hour
    assert funding_cap(r, V.TierRow(0.0, 20.0, 3.0, 0.0)) == pytest.approx(0.015, rel=1e-12)
    # a scenario's own tiers move the cap; the tighter of the two caps applies; factor 0 is funding_cap_pct alone
    scn = sim.load_scenario(None, overrides={"market.venue": "dydx"})
    assert funding_params(scn.funding, r, None, scn.market.tier_table()[0])["funding_cap"] == pytest.approx(0.006)
    assert funding_cap(dataclasses.replace(r, funding_cap_pct=0.5), p.tiers["BTC"][0]) == 0.005
    assert funding_cap(dataclasses.replace(r, funding_cap_margin_factor=0.0), p.tiers["BTC"][0]) == 1.0


def test_a_dydx_premium_of_10_percent_pays_the_capped_rate():
    # a premium of 10% (8-hour rate) would pay 1.25% an hour; dYdX pays 0.6% of the oracle price
    scn = sim.load_scenario(None, overrides={"market.venue": "dydx"})
    inp = prepare(scn)
    from sim.kernels.behaviour import funding_rate_nb

    assert funding_rate_nb(0.10, inp.funding_interest, inp.funding_clamp, inp.funding_scale, inp.funding_cap) == (
        pytest.approx(0.006, rel=1e-12)
    )
    assert funding_rate_nb(-0.10, inp.funding_interest, inp.funding_clamp, inp.funding_scale, inp.funding_cap) == (
        pytest.approx(-0.006, rel=1e-12)
    )
    assert inp.funding_at_index  # paid at the oracle price (mark = index on dYdX)


# ------------------------------------------------------------------------------- dYdX's own test values, ported
# The expected numbers of v4-chain's unit tests (protocol/x/clob/keeper/liquidations_test.go at commit 84d4664),
# converted from quantums and subticks to USD and BTC; liqsim's kernels, not dYdX's code, compute them. Their
# market: BTC at the oracle price 50,000, a 0.1 BTC position, initial margin 20%, maintenance 10%; the test
# liquidation config has BA 1 and SMMR 0.1 unless a case says otherwise.
P50K = 50_000.0


def tnc_tmmr(usdc, side, q=0.1, mmf=0.1):
    """An account of ``usdc`` and ``side·q`` BTC at 50,000: its total net collateral and maintenance requirement."""
    return usdc + side * q * P50K, q * P50K * mmf


@pytest.mark.parametrize(
    "usdc, side, ba, smmr, expected",
    [
        (-4_501.0, 1, 1.0, 0.1, 49_999.0),  # slightly below maintenance: TNC 499, TMMR 500
        (-4_501.0, 1, 2.0, 0.1, 49_998.0),  # bankruptcyAdjustmentPpm 2,000,000
        (-4_501.0, 1, 1.0, 0.2, 49_998.0),  # spreadToMaintenanceMarginRatioPpm 200,000
        (5_499.0, -1, 1.0, 0.1, 50_001.0),
        (5_499.0, -1, 2.0, 0.1, 50_002.0),
        (5_499.0, -1, 1.0, 0.2, 50_002.0),
        (-5_000.0, 1, 1.0, 0.1, 49_500.0),  # at the bankruptcy price: ABR 1
        (5_000.0, -1, 1.0, 0.1, 50_500.0),
        (-5_500.0, 1, 1.0, 0.1, 49_500.0),  # below it: ABR clamped to 1
        (4_500.0, -1, 1.0, 0.1, 50_500.0),
        (-4_501.0, 1, 4_294.967295, 0.1, 49_500.0),  # BA = max uint32 ppm
        (-4_501.0, 1, 1.0, 1e-6, 49_999.99999),  # SMMR 1 ppm
    ],
)
def test_dydx_get_fillable_price_values(usdc, side, ba, smmr, expected):
    # v4-chain TestGetFillablePrice (expected prices in subticks × 100 = USD per BTC)
    tnc, tmmr = tnc_tmmr(usdc, side)
    assert fillable_price_nb(side, P50K, tnc, tmmr, 0.1, ba, smmr) == pytest.approx(expected, rel=1e-12)


def test_dydx_get_fillable_price_with_two_positions():
    # TestGetFillablePrice, "multiple long positions": 0.004 BTC and 0.1 ETH at 3,000 long, USDC −490: TNC 10,
    # TMMR 20 + 30 = 50; the ETH order's limit is 2,976 (372/125 subticks)
    assert fillable_price_nb(1, 3_000.0, 10.0, 50.0, 0.1, 1.0, 0.1) == pytest.approx(2_976.0, rel=1e-12)


@pytest.mark.parametrize(
    "usdc, side, closed, expected_usd",
    [
        (-4_501.0, 1, 0.1, 4_501.0),
        (5_499.0, -1, 0.1, -5_499.0),
        (-5_000.0, 1, 0.1, 5_000.0),
        (-5_000.0, 1, 0.05, 2_500.0),  # half the position
        (5_000.0, -1, 0.05, -2_500.0),
        (5_000.0, -1, 0.1, -5_000.0),
        (-5_100.0, 1, 0.1, 5_100.0),  # below the bankruptcy price
        (4_900.0, -1, 0.1, -4_900.0),
    ],
)
def test_dydx_get_bankruptcy_price_values(usdc, side, closed, expected_usd):
    # v4-chain TestGetBankruptcyPriceInQuoteQuantums: the quote a close of ``closed`` BTC must receive (negative: may
    # pay) for the account to end with no collateral; liqsim holds the position at entry 50,000 with wallet TNC
    tnc, _ = tnc_tmmr(usdc, side)
    bp = bankruptcy_price_nb(side, 0.1, P50K, tnc)
    assert side * closed * bp == pytest.approx(expected_usd, rel=1e-12)


def test_dydx_bankruptcy_price_with_two_positions():
    # TestGetBankruptcyPriceInQuoteQuantums, "multiple long positions": closing the 0.1 ETH (MM 30 of TMMR 50, TNC 10)
    # must receive 294 = 300 − 10·30/50: the position takes its share MM/TMMR of TNC (sim.calc_account's rule)
    mm_eth, tmmr, tnc = 30.0, 50.0, 10.0
    bp = bankruptcy_price_nb(1, 0.1, 3_000.0, tnc * mm_eth / tmmr)
    assert 0.1 * bp == pytest.approx(294.0, rel=1e-12)


@pytest.mark.parametrize(
    "side, price, bp, max_fee, expected",
    [
        (1, 56_100.0, 51_000.0, 0.005, 28.05),  # 10% above bankruptcy: the 0.5% fee cap binds
        (1, 56_100.0, 51_000.0, 0.025, 140.25),
        (1, 56_100.0, 51_000.0, 1.0, 510.0),  # a 100% cap: the whole surplus
        (-1, 44_100.0, 49_000.0, 0.005, 22.05),
        (-1, 44_100.0, 49_000.0, 0.025, 110.25),
        (-1, 44_100.0, 49_000.0, 1.0, 490.0),
        (-1, 49_000.0, 49_000.0, 0.005, 0.0),  # at bankruptcy
        (1, 50_490.0, 51_000.0, 0.005, -51.0),  # 1% below bankruptcy: the fund covers the loss
        (-1, 49_490.0, 49_000.0, 0.005, -49.0),
    ],
)
def test_dydx_get_liquidation_insurance_fund_delta_values(side, price, bp, max_fee, expected):
    # v4-chain TestGetLiquidationInsuranceFundDelta (0.1 BTC; USDC −5,100 long / 4,900 short: bankruptcy 51,000 /
    # 49,000), in USD
    assert insurance_fund_delta_nb(side, 0.1, price, bp, max_fee, True) == pytest.approx(expected, rel=1e-12)


def test_dydx_max_and_min_position_notional_liquidatable_values():
    # v4-chain TestGetMaxAndMinPositionNotionalLiquidatable (the order size of its GetLiquidatablePositionSizeDelta):
    # 1 BTC at 50,000 with max portion 100% → all of it; 50% → $25,000; a $5 position under a $10 minimum → all $5
    assert block_size_nb(1.0, P50K, 1e-8, 1.0, 0.0001, math.inf) == 1.0
    assert block_size_nb(1.0, P50K, 1e-8, 0.5, 0.0001, math.inf) * P50K == pytest.approx(25_000.0, rel=1e-12)
    assert block_size_nb(0.0001, P50K, 1e-8, 1.0, 10.0, math.inf) == 0.0001


# ------------------------------------------------------------------------------------------------ fillable price


def test_fillable_price_formula():
    # TNC/TMMR = 0.5 → ABR = 0.5; a long sells no lower than 96·(1 − 0.5·1.5·0.012) = 95.136
    assert fillable_price_nb(1, 96.0, 5.76, 11.52, 0.012, 1.0, 1.5) == pytest.approx(95.136, rel=1e-12)
    assert fillable_price_nb(-1, 96.0, 5.76, 11.52, 0.012, 1.0, 1.5) == pytest.approx(96.864, rel=1e-12)
    # ABR is clamped to [0, 1]: under water the spread is the whole SMMR·MMF, at TNC ≥ TMMR none
    assert fillable_price_nb(1, 100.0, -50.0, 12.0, 0.012, 1.0, 1.5) == pytest.approx(98.2, rel=1e-12)
    assert fillable_price_nb(1, 100.0, 12.0, 12.0, 0.012, 1.0, 1.5) == 100.0
    # BA scales ABR: BA = 2 at TNC/TMMR = 0.75 gives ABR = 0.5
    assert fillable_price_nb(1, 100.0, 9.0, 12.0, 0.012, 2.0, 1.5) == pytest.approx(99.1, rel=1e-12)


# A long of 10 at 100 with wallet 45.76: at the oracle price 96 its TNC is 5.76 and its TMMR 11.52 (ratio 0.5), so its
# order's limit is 95.136 and its bankruptcy price 100 − 4.576 = 95.424.
LONG_HALF = (1, 10.0, 100.0, 45.76, E.TRADER)


def test_the_order_never_fills_beyond_the_fillable_price():
    # the first bid is two ticks down (95.0 < 95.136): nothing fills, the account (TNC > 0) waits for the next block
    inp = dydx([LONG_HALF, SHORT_CP], prof=profile(1), duration=3000)
    raw = simulate(inp)
    assert len(liquidation_fills(raw)) == 0
    assert raw.accounts["status"][0] == E.OPEN and not np.any(raw.fills["kind"] == E.ADL)
    # a wider spread (SMMR 5: limit 96·(1 − 0.5·5·0.012) = 93.12) reaches it, and the fund pays the gap to 95.424
    raw = simulate(dydx([LONG_HALF, SHORT_CP], prof=profile(1), duration=3000, fill_smmr=5.0))
    (f,) = liquidation_fills(raw)
    assert f["price"] == 95.0 and f["qty"] == 10.0
    assert f["fund_delta"] == pytest.approx(-10 * 0.424, rel=1e-9) and f["fee"] == 0.0
    assert raw.fund_balance == pytest.approx(1000.0 - 4.24, rel=1e-12)


def test_fills_are_at_the_makers_prices_level_by_level():
    # 4 per level: 95.5 (4), then 95.0 would be beyond the limit: 4 filled at the maker's price
    raw = simulate(dydx([LONG_HALF, SHORT_CP], prof=4.0, duration=2500))
    (f,) = liquidation_fills(raw)
    assert (f["qty"], f["price"], f["bankruptcy_price"]) == (4.0, 95.5, pytest.approx(95.424))
    assert f["fund_delta"] == pytest.approx(4 * 0.076, rel=1e-9)  # above bankruptcy: the fund's fee, under its cap


# ----------------------------------------------------------------------------------------------------- fee cap

# MMF 5%: a long of 10 at 100 with wallet 83.2 has TNC 43.2 and TMMR 48 at 96 (ratio 0.9, limit 95.28), bankruptcy
# price 91.68. Its fill at 95.5 leaves 10·(95.5 − 91.68) = 38.2 above bankruptcy; the cap is 1.5% of 955 = 14.325.
MMF5 = ([0.0], [0.05], [0.0])
LONG_MMF5 = (1, 10.0, 100.0, 83.2, E.TRADER)


def test_the_fund_takes_at_most_the_fee_cap_and_the_trader_keeps_the_rest():
    inp = dydx([LONG_MMF5, SHORT_CP], tiers=MMF5, duration=2500)
    raw = simulate(inp)
    (f,) = liquidation_fills(raw)
    assert f["price"] == 95.5 and f["qty"] == 10.0
    assert f["fund_delta"] == pytest.approx(14.325, rel=1e-12) and f["fee"] == f["fund_delta"]
    # the trader, now flat, keeps its wallet 83.2 + 10·(95.5 − 100) − 14.325 = 23.875
    assert raw.accounts["cash_end"][0] == pytest.approx(23.875, rel=1e-9)
    assert_money_conserved(inp, raw)


def test_the_bankruptcy_price_moves_after_a_surplus_fill_and_prices_the_next_level():
    # LONG_MMF5 (bankruptcy 91.68) with SMMR 20 (limit 96·(1 − 0.1·20·0.05) = 86.4) sells into 4 at 95.5, then 100 at
    # 91.0. Level 1: surplus 4·3.82 = 15.28, the fund takes the cap 0.015·4·95.5 = 5.73, the trader keeps 9.55:
    # wallet 83.2 − 18 − 5.73 = 59.47 on 6 left, bankruptcy 100 − 59.47/6 = 90.0883. Level 2 is then a surplus
    # too, 6·(91 − 90.0883) = 5.47 (under its cap 8.19): the fund takes it and the trader ends with nothing.
    # At the stale 91.68 it would have been a loss of 4.08 for the fund instead.
    book = np.zeros(41)
    book[1], book[10] = 4.0, 100.0
    inp = dydx([LONG_MMF5, SHORT_CP], tiers=MMF5, prof=book, duration=2500, fill_smmr=20.0)
    raw = simulate(inp)
    (f,) = liquidation_fills(raw)
    assert f["qty"] == 10.0 and f["price"] == pytest.approx((4 * 95.5 + 6 * 91.0) / 10, rel=1e-12)
    assert f["fund_delta"] == pytest.approx(5.73 + 5.47, rel=1e-9) and f["fee"] == f["fund_delta"]
    assert raw.accounts["cash_end"][0] == pytest.approx(0.0, abs=1e-9)
    assert_money_conserved(inp, raw)


def test_the_fee_cap_on_a_partial_order_leaves_the_surplus_with_the_open_account():
    # a long of 100 at 100, wallet 832 (TNC/TMMR 0.9 at 96 with MMF 5%): one block's order is max(10% of 9,600,
    # 1,000) = 1,000 USD → 10.416 at 95.5; surplus 10.416·(95.5 − 91.68) = 39.789, of which the fund takes
    # 0.015·10.416·95.5 = 14.921; the account stays open with 89.584 and keeps the other 24.868 in its wallet
    big = (1, 100.0, 100.0, 832.0, E.TRADER)
    cp = (-1, 100.0, 100.0, 10_000.0, E.COUNTERPARTY)
    inp = dydx([big, cp], tiers=MMF5, prof=1000.0, duration=2500, **LIMITS)
    raw = simulate(inp)
    (f,) = liquidation_fills(raw)
    assert f["kind"] == E.PARTIAL and f["qty"] == pytest.approx(10.416) and f["price"] == 95.5
    assert f["fund_delta"] == pytest.approx(0.015 * 10.416 * 95.5, rel=1e-9)
    assert raw.accounts["status"][0] == E.OPEN and raw.accounts["position_end"][0] == pytest.approx(89.584)
    # its equity at the oracle price: 832 + 100·(96 − 100) − 0.015·10.416·95.5 − 10.416·(96 − 95.5)
    expected = 832.0 - 400.0 - 0.015 * 10.416 * 95.5 - 10.416 * 0.5
    assert raw.accounts["equity_end"][0] == pytest.approx(expected, rel=1e-9)
    assert_money_conserved(inp, raw)
    uncapped = liquidation_fills(
        simulate(dydx([big, cp], tiers=MMF5, prof=1000.0, duration=2500, fee_cap=False, **LIMITS))
    )
    assert uncapped["fund_delta"][0] == pytest.approx(10.416 * (95.5 - 91.68), rel=1e-9)


def test_without_the_fee_cap_the_fund_keeps_everything():
    inp = dydx([LONG_MMF5, SHORT_CP], tiers=MMF5, duration=2500, fee_cap=False)
    raw = simulate(inp)
    (f,) = liquidation_fills(raw)
    assert f["fund_delta"] == pytest.approx(38.2, rel=1e-12)
    assert raw.accounts["cash_end"][0] == pytest.approx(0.0, abs=1e-9)  # the whole margin is lost
    assert_money_conserved(inp, raw)


@pytest.mark.parametrize("mmf", [0.012, 0.03])
@pytest.mark.parametrize("ratio", [0.2, 0.5, 0.7])
def test_the_fee_cap_binds_at_or_below_the_oracle_only_where_mmf_exceeds_it(mmf, ratio):
    # A long of 10 at 100 with TNC/TMMR = ratio at the oracle price 96 (TMMR = 960·MMF): a fill at p ≤ 96 leaves
    # TNC − 10·(96 − p) < TMMR = MMF·960 above bankruptcy, so the 1.5% cap can bind only where MMF > 1.5%
    # (dYdX's 1.2%: never; the launch's 3%: for accounts with enough equity left)
    tmmr = 960.0 * mmf
    long = (1, 10.0, 100.0, 40.0 + ratio * tmmr, E.TRADER)
    raw = simulate(dydx([long, SHORT_CP], tiers=([0.0], [mmf], [0.0]), duration=2500))
    uncapped = simulate(dydx([long, SHORT_CP], tiers=([0.0], [mmf], [0.0]), duration=2500, fee_cap=False))
    (f,), (g,) = liquidation_fills(raw), liquidation_fills(uncapped)
    assert f["price"] <= 96.0 and f["price"] == g["price"] and f["qty"] == g["qty"] == 10.0
    surplus = ratio * tmmr - 10.0 * (96.0 - f["price"])  # = g's fund delta, the whole surplus
    assert g["fund_delta"] == pytest.approx(surplus, rel=1e-9) and surplus < mmf * 10.0 * f["price"]
    binds = surplus > 0.015 * 10.0 * f["price"]
    assert binds == (f["fund_delta"] < g["fund_delta"])
    if mmf <= 0.015:
        assert not binds
    assert binds == (mmf == 0.03 and ratio == 0.7)  # the cases here: 15.16 > 14.325 only there


# -------------------------------------------------------------------------------------------- per-block limits

# A long of 100 at 100 with wallet 457.6 (the LONG_HALF account scaled by 10): notional 9,600 at 96.
LONG_BIG = (1, 100.0, 100.0, 457.6, E.TRADER)
BIG_CP = (-1, 100.0, 100.0, 10_000.0, E.COUNTERPARTY)
LIMITS = dict(block_pos_frac=0.1, block_pos_min=1000.0)


def test_block_size():
    # max(10% of 9,600, 1,000) = 1,000 USD → 10.416 of 100 at 96 (whole lots of 0.001)
    assert block_size_nb(100.0, 96.0, 0.001, 0.1, 1000.0, math.inf) == pytest.approx(10.416)
    assert block_size_nb(10.0, 96.0, 0.001, 0.1, 1000.0, math.inf) == 10.0  # 960 ≤ 1,000: whole
    assert block_size_nb(100.0, 96.0, 0.001, 1.0, 0.0, 500.0) == pytest.approx(5.208)  # the account's cap
    assert block_size_nb(100.0, 96.0, 0.001, 1e-9, 0.0, math.inf) == 0.001  # at least one lot


def test_a_big_position_is_cut_block_by_block():
    inp = dydx([LONG_BIG, BIG_CP], prof=1000.0, **LIMITS)
    raw = simulate(inp)
    fills = liquidation_fills(raw)
    assert list(fills["t"]) == [2.0, 3.0, 4.0, 5.0, 6.0]  # one order per 1 s block (an oracle tick)
    assert np.all(fills["kind"] == E.PARTIAL)
    assert np.all(fills["qty"] * fills["mark"] <= 1000.0 + 1e-6)
    assert raw.accounts["status"][0] == E.OPEN
    assert_money_conserved(inp, raw)


def test_without_block_limits_a_big_position_closes_in_one_go():
    raw = simulate(dydx([LONG_BIG, BIG_CP], prof=1000.0))
    (f,) = liquidation_fills(raw)
    assert f["t"] == 2.0 and f["kind"] == E.LIQUIDATION and f["qty"] == 100.0
    assert raw.accounts["status"][0] == E.LIQUIDATED


def test_a_longer_block_waits_longer():
    raw = simulate(dydx([LONG_BIG, BIG_CP], prof=1000.0, block_ticks=2, **LIMITS))
    assert list(liquidation_fills(raw)["t"]) == [2.0, 4.0, 6.0]


def test_the_account_cap_per_block():
    raw = simulate(dydx([LONG_BIG, BIG_CP], prof=1000.0, block_acct=500.0, duration=2500))
    (f,) = liquidation_fills(raw)
    assert f["qty"] == pytest.approx(5.208)


def test_the_fund_pays_at_most_its_block_limit_per_account():
    # SMMR 5 lets the order reach 95.0, below bankruptcy 95.424: 0.424 per unit from the fund; a limit of 2 USD per
    # block stops the fill at 2 / 0.424 = 4.717 units; the next block goes on
    inp = dydx([LONG_HALF, SHORT_CP], prof=profile(1), duration=2500, fill_smmr=5.0, block_fund_loss=2.0)
    raw = simulate(inp)
    (f,) = liquidation_fills(raw)
    assert f["fund_delta"] == pytest.approx(-2.0, rel=1e-9) and f["qty"] == pytest.approx(2.0 / 0.424, rel=1e-9)
    unlimited = liquidation_fills(simulate(dydx([LONG_HALF, SHORT_CP], prof=profile(1), duration=2500, fill_smmr=5.0)))
    assert unlimited["qty"][0] == 10.0
    assert_money_conserved(inp, raw)


def test_at_most_block_liquidations_orders_per_block_from_a_random_window():
    # three longs triggered at t = 2 s; one order per block: the first goes to the x1 mod 3-th in id order, the next
    # block's to the x2 mod 2-th of the two left, the third block's to the last
    three = [LONG_HALF, LONG_HALF, LONG_HALF, (-1, 30.0, 100.0, 3000.0, E.COUNTERPARTY)]
    for seed in (1, 7, 12345):
        inp = dydx(three, duration=4500, adl_seed=seed, block_liquidations=1)
        raw = simulate(inp)
        fills = liquidation_fills(raw)
        x1 = first_draw(seed)
        x2 = (MINSTD_A * x1) % MINSTD_M
        left = [0, 1, 2]
        expected = [left.pop(x1 % 3)]
        expected.append(left.pop(x2 % 2))
        expected += left
        assert list(fills["t"]) == [2.0, 3.0, 4.0] and list(fills["account"]) == expected, seed
        assert_money_conserved(inp, raw)
    # without the cap all three go in the first block
    assert list(liquidation_fills(simulate(dydx(three, duration=4500)))["t"]) == [2.0, 2.0, 2.0]


def test_the_window_sends_the_most_under_water_first_then_the_largest():
    # |fillable − oracle| / oracle = ABR·SMMR·MMF: LONG_HALF (TNC/TMMR 0.5) before a long at 0.7; two accounts under
    # water (ABR 1) tie on it and go by notional, the larger first; all before LONG_HALF
    near = (1, 10.0, 100.0, 48.064, E.TRADER)  # TNC 8.064 = 0.7 × 11.52
    small_under = (1, 2.0, 100.0, 6.0, E.TRADER)
    big_under = (1, 4.0, 100.0, 12.0, E.TRADER)
    rows = [near, LONG_HALF, small_under, big_under, (-1, 26.0, 100.0, 3000.0, E.COUNTERPARTY)]
    raw = simulate(dydx(rows, duration=2500, fund_initial=1e6))
    assert list(liquidation_fills(raw)["account"]) == [3, 2, 1, 0]


def test_at_most_block_deleveragings_per_block():
    # both accounts under water fill nothing at t = 2 s; with one deleveraging a block the second waits for t = 3 s
    inp = dydx([*TWO_UNDER, *SHORTS_AFTER_TWO, CP_ELEVEN], prof=profile(20), duration=3500, block_deleveragings=1)
    raw = simulate(inp)
    adl = raw.fills[raw.fills["kind"] == E.ADL]
    assert sorted(set(adl["t"])) == [2.0, 3.0] and list(adl[adl["t"] == 2.0]["qty"]) == [2.0]
    assert raw.accounts["status"][0] == raw.accounts["status"][1] == E.LIQUIDATED
    assert_money_conserved(inp, raw)
    unlimited = simulate(dydx([*TWO_UNDER, *SHORTS_AFTER_TWO, CP_ELEVEN], prof=profile(20), duration=3500))
    assert set(unlimited.fills[unlimited.fills["kind"] == E.ADL]["t"]) == {2.0}


def test_a_deleveraging_walks_at_most_deleverage_holders_and_the_rest_stays_open():
    # LONG_UNDER (10, bankruptcy 97) against shorts of 3: two holders a block take 3 + 3, the 4 left stay on the
    # account (at 97, zero equity there) and go the next block (3 + 1); the fund takes nothing over
    inp, raw, adl = deleveraged(1, deleverage_holders=2, duration=3500)
    assert list(adl["t"]) == [2.0, 2.0, 3.0, 3.0] and list(adl["qty"]) == [3.0, 3.0, 3.0, 1.0]
    assert np.all(adl["price"] == 97.0) and not np.any(raw.fills["kind"] == E.TAKEOVER)
    assert raw.fund_balance == 1000.0 and raw.accounts["status"][0] == E.LIQUIDATED
    assert_money_conserved(inp, raw)
    # without the cap all four in the first block
    assert list(deleveraged(1, duration=3500)[2]["t"]) == [2.0] * 4


def test_the_dydx_fund_never_takes_a_position_over():
    # only 6 of the 10 can be deleveraged: the third short (4 at 96.5, wallet 1) would be under water at the price 97,
    # so it may not take part; the other 4 stay on the account, block after block
    two_shorts = [LONG_UNDER, *SHORTS[:2], (-1, 4.0, 96.5, 1.0, E.COUNTERPARTY)]
    inp = dydx(two_shorts, prof=profile(20), duration=4500)
    raw = simulate(inp)
    assert not np.any(raw.fills["kind"] == E.TAKEOVER) and raw.fund_balance == 1000.0
    assert raw.accounts["status"][0] == E.OPEN and raw.accounts["position_end"][0] == pytest.approx(4.0)
    assert_money_conserved(inp, raw)
    # the same without dYdX's rule (settlement at the bankruptcy price) hands the 4 to the fund
    other = simulate(dydx(two_shorts, prof=profile(20), duration=4500, settle_fillable=False))
    assert np.any(other.fills["kind"] == E.TAKEOVER)


def test_block_ticks_from_block_s_and_the_oracle_tick():
    from sim.engine import venue_params

    r = V.pack("dydx").rules
    assert venue_params(r, "venue_queue", 1000)["block_ticks"] == 1  # 1 s blocks, 1 s oracle ticks
    assert venue_params(dataclasses.replace(r, block_s=2.0), "venue_queue", 1000)["block_ticks"] == 2
    assert venue_params(r, "venue_queue", 250)["block_ticks"] == 4
    assert venue_params(dataclasses.replace(r, block_s=1.5), "venue_queue", 1000)["block_ticks"] == 2  # rounded up
    # an oracle tick longer than a block: each tick is one block, so the per-block caps apply per tick (fewer
    # orders a second than the chain's; docs/model.md §2.8)
    assert venue_params(r, "venue_queue", 2000)["block_ticks"] == 1
    p = V.pack("dydx").rules
    assert (p.block_liquidations, p.block_deleveragings, p.deleverage_holders) == (50, 10, 500)


def test_a_fund_that_cannot_pay_refuses_the_fill():
    # the fund holds 1 USD: it pays 1 / 0.424 = 2.358 units' gap, then the order stops; the account (TNC > 0) waits
    inp = dydx([LONG_HALF, SHORT_CP], prof=profile(1), duration=2500, fill_smmr=5.0, fund_initial=1.0)
    raw = simulate(inp)
    (f,) = liquidation_fills(raw)
    assert f["qty"] == pytest.approx(1.0 / 0.424, rel=1e-9) and raw.fund_balance == pytest.approx(0.0, abs=1e-9)
    assert raw.accounts["status"][0] == E.OPEN and not np.any(raw.fills["kind"] == E.ADL)


# ----------------------------------------------------------------------------------------------- deleveraging

# A long of 10 at 100 with wallet 30 is under water at 96 (equity −10; bankruptcy price 97); no bid lies within its
# fillable price (96·(1 − 1.5·0.012) = 94.27), so its order fills nothing and it is deleveraged against five shorts
# of 3 (ids 1–5) with different leverages; the counterparty (id 6) holds the residual long.
LONG_UNDER = (1, 10.0, 100.0, 30.0, E.TRADER)
SHORTS = [(-1, 3.0, 100.0, w, E.TRADER) for w in (300.0, 30.0, 150.0, 15.0, 60.0)]
CP_LONG = (1, 5.0, 100.0, 500.0, E.COUNTERPARTY)


def deleveraged(seed, duration=2500, **kw):
    inp = dydx([LONG_UNDER, *SHORTS, CP_LONG], prof=profile(20), duration=duration, adl_seed=seed, **kw)
    raw = simulate(inp)
    return inp, raw, raw.fills[raw.fills["kind"] == E.ADL]


def test_an_account_under_water_whose_order_filled_nothing_is_deleveraged_from_a_random_start():
    for seed in (1, 7, 12345, 2**31 - 2):
        inp, raw, adl = deleveraged(seed)
        start = (MINSTD_A * seed) % MINSTD_M % 5  # the first draw of the run's generator, over the 5 listed shorts
        expected = [1 + (start + k) % 5 for k in range(4)]  # cyclically, each giving min(remaining, its size)
        assert list(adl["account"]) == expected, seed
        assert list(adl["qty"]) == [3.0, 3.0, 3.0, 1.0]
        assert np.all(adl["price"] == 97.0) and np.all(adl["bankruptcy_price"] == 97.0)
        assert np.all(adl["fund_delta"] == 0.0) and raw.fund_balance == 1000.0  # the fund pays nothing
        assert len(liquidation_fills(raw)) == 0 and raw.accounts["status"][0] == E.LIQUIDATED
        assert_money_conserved(inp, raw)


def first_draw(seed):
    """The first draw of the run's generator: the first block with a triggered account takes it."""
    return (MINSTD_A * seed) % MINSTD_M


# Two longs of 2 at 100 with wallet 6: at the oracle price 96 their equity is −2, bankruptcy price 97
TWO_UNDER = [(1, 2.0, 100.0, 6.0, E.TRADER), (1, 2.0, 100.0, 6.0, E.TRADER)]
SHORTS_AFTER_TWO = [(-1, 3.0, 100.0, w, E.TRADER) for w in (300.0, 30.0, 150.0, 15.0, 60.0)]
CP_ELEVEN = (1, 11.0, 100.0, 1000.0, E.COUNTERPARTY)


def test_every_deleveraging_of_a_block_starts_at_the_same_holder():
    # dYdX seeds each walk's generator with the previous block's time, so both accounts deleveraged in the block at
    # t = 2 s start at holder 2 + x mod 5: the first takes 2 of its 3, the second the 1 left and 1 of the next
    for seed in (1, 7, 12345, 2**31 - 2):
        inp = dydx([*TWO_UNDER, *SHORTS_AFTER_TWO, CP_ELEVEN], prof=profile(20), duration=2500, adl_seed=seed)
        raw = simulate(inp)
        adl = raw.fills[raw.fills["kind"] == E.ADL]
        r0 = first_draw(seed) % 5
        assert list(adl["account"]) == [2 + r0, 2 + r0, 2 + (r0 + 1) % 5], seed
        assert list(adl["qty"]) == [2.0, 1.0, 1.0] and np.all(adl["t"] == 2.0)
        assert_money_conserved(inp, raw)


def test_the_start_is_drawn_over_the_open_holders_only():
    # t = 2 s (oracle 96): long A (3 at 100, wallet 9, equity −3) is deleveraged whole against the holder at x1 mod 5,
    # which closes; t = 3 s (oracle 92): long B (2 at 100, wallet 15, equity −1) starts at the x2 mod 4-th of the four
    # shorts still open (x2 the next draw), not at x2 mod 5 of the list as it was at the start
    path = ((0, 100.0), (2000, 100.0), (2000, 96.0), (3000, 96.0), (3000, 92.0))
    rows = [(1, 3.0, 100.0, 9.0, E.TRADER), (1, 2.0, 100.0, 15.0, E.TRADER), *SHORTS_AFTER_TWO]
    rows.append((1, 10.0, 100.0, 1000.0, E.COUNTERPARTY))
    for seed in (1, 7, 12345):
        inp = dydx(rows, path=path, prof=profile(40), depth_levels=60, duration=3500, adl_seed=seed)
        raw = simulate(inp)
        adl = raw.fills[raw.fills["kind"] == E.ADL]
        x1 = first_draw(seed)
        x2 = (MINSTD_A * x1) % MINSTD_M
        first = 2 + x1 % 5
        still_open = [r for r in range(2, 7) if r != first]
        assert list(adl["account"]) == [first, still_open[x2 % 4]], seed
        assert list(adl["t"]) == [2.0, 3.0] and list(adl["qty"]) == [3.0, 2.0]
        assert_money_conserved(inp, raw)


def test_random_counterparties_differ_from_a_ranked_queue():
    # ranked by PnL% × effective leverage, the most levered winners (ids 4, 2, 5, ...) go first, whatever the seed
    ranked = [list(deleveraged(s, adl_ranking=E.RANK_PNL_LEVERAGE)[2]["account"]) for s in (1, 7)]
    assert ranked[0] == ranked[1] == [4, 2, 5, 3]
    randoms = {tuple(deleveraged(s)[2]["account"]) for s in (1, 7, 12345, 99)}
    assert len(randoms) > 1 and tuple(ranked[0]) not in randoms


def test_an_account_with_equity_left_is_not_deleveraged():
    # wallet 45.76: TNC 5.76 > 0 at 96; its order fills nothing (empty book near the price): it waits, no ADL
    raw = simulate(dydx([LONG_HALF, SHORT_CP], prof=profile(20), duration=4000))
    assert len(raw.fills) == 0 and raw.accounts["status"][0] == E.OPEN


def test_without_adl_the_fund_takes_the_account_over():
    inp, raw, adl = deleveraged(1, adl_enabled=False)
    assert len(adl) == 0
    (t,) = raw.fills[raw.fills["kind"] == E.TAKEOVER]
    assert (t["qty"], t["price"]) == (10.0, 97.0)
    assert_money_conserved(inp, raw)


def test_the_same_seed_gives_the_same_victims_in_a_scenario():
    over = {
        "market.venue": "dydx",
        "population.n_positions": 3000,
        "insurance_fund.initial_usd": 0.0,
        "shock.size_pct": -20.0,
    }
    a, b = (sim.run(sim.load_scenario(None, overrides=over)) for _ in range(2))
    assert a.summary["adl"]["count"] > 0
    assert a.fills.tobytes() == b.fills.tobytes()  # bit for bit
    c = sim.run(sim.load_scenario(None, overrides={**over, "scenario.seed": 1}))
    assert a.fills.tobytes() != c.fills.tobytes()


# ---------------------------------------------------------------------------------------------- isolated markets


def test_an_isolated_market_starts_with_its_own_fund():
    over = {"market.venue": "dydx", "population.n_positions": 500, "insurance_fund.isolated_initial_usd": 1e5}
    cross = prepare(sim.load_scenario(None, overrides=over))
    iso = prepare(sim.load_scenario(None, overrides={**over, "venue.market_type": "isolated"}))
    assert cross.fund_initial == 50e6 and iso.fund_initial == 1e5
    # unset, an isolated market's fund starts like the shared one: the switch alone changes nothing
    same = prepare(sim.load_scenario(None, overrides={"market.venue": "dydx", "venue.market_type": "isolated"}))
    assert same.fund_initial == 50e6


def test_an_isolated_market_with_a_small_fund_deleverages_more():
    over = {
        "market.venue": "dydx",
        "population.n_positions": 3000,
        "shock.size_pct": -20.0,
        "insurance_fund.isolated_initial_usd": 0.0,
    }
    cross = sim.run(sim.load_scenario(None, overrides=over)).summary
    iso = sim.run(sim.load_scenario(None, overrides={**over, "venue.market_type": "isolated"})).summary
    assert iso["insurance_fund_usd"]["start"] == 0.0 and cross["insurance_fund_usd"]["start"] == 50e6
    assert iso["adl"]["notional_usd"] > cross["adl"]["notional_usd"]


def test_a_bad_market_type_names_the_field():
    with pytest.raises(sim.ScenarioError, match=r"venue.market_type = 'shared': must be one of cross, isolated"):
        sim.load_scenario(None, overrides={"market.venue": "dydx", "venue.market_type": "shared"})
