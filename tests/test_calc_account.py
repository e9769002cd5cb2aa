"""The account calculator (``liqsim calc --position``): several positions, one venue's margins, one share-out method.

The liquidation price of each position with the others held is checked against the one-position calculator (one
position gives its cross numbers exactly), against Binance's cross formula written out by hand (worked example TV24
of docs/model.md §10), and, on random accounts, against the balance it solves for, evaluated from the rule packs
without the kernels. The share-outs sum to the equity; dYdX's keeps TNC/TMMR unchanged when a position closes at its
bankruptcy price; OKX's closes every position together, sharing the equity by trigger margin (worked by hand). Every bad input has its message, exit status 2 and no traceback.
"""

import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_calc import assert_refused, cli

from sim.calc import liquidation
from sim.calc_account import account
from sim.errors import ScenarioError
from sim.venues import VENUES, pack

EXAMPLE = ["BTC,long,2,110000", "ETH,short,30,4000"]
MARKS = ["BTC=108000", "ETH=3900"]


def ref_mm(venue, coin, q, ep, price, trigger=True):
    """Maintenance margin (with the clearance fee where the venue's trigger counts it) from the pack alone."""
    pk = pack(venue)
    fee = pk.rules.clearance_fee_pct if trigger and pk.rules.trigger_includes_fee else 0.0
    if pk.sized_in_coins(coin):  # OKX: the tier of the size, amounts in coins, MM = P·(Q·rate − amount)
        row = [r for r in pk.tier_rows(coin, 1.0) if r.notional_floor_usd <= q][-1]
        return price * (q * (row.mmr_pct + fee) / 100.0 - row.maintenance_amount_usd)
    x = q * (ep if pk.rules.mm_basis == "entry" else price)
    row = [r for r in pk.tier_rows(coin, ep) if r.notional_floor_usd <= x][-1]
    return x * (row.mmr_pct + fee) / 100.0 - row.maintenance_amount_usd


def balance(venue, wallet, rows, marks, i, price):
    """Equity minus trigger maintenance of the account with position ``i`` at ``price``, the others at their marks."""
    eq, mm = wallet, 0.0
    for k, (coin, s, q, ep) in enumerate(rows):
        p = price if k == i else marks[coin]
        eq += s * q * (p - ep)
        mm += ref_mm(venue, coin, q, ep, p)
    return eq - mm


# --- one position: the one-position calculator's cross numbers --------------------------------------------


@pytest.mark.parametrize("venue", VENUES)
@pytest.mark.parametrize("side", ["long", "short"])
@pytest.mark.parametrize("size, wallet", [(0.5, 3_000.0), (20.0, 150_000.0), (400.0, 2e6)])
def test_one_position_gives_the_cross_calculator_exactly(venue, side, size, wallet):
    one = liquidation(venue=venue, side=side, entry=60_000, size=size, mode="cross", wallet=wallet)
    for marks in (None, {"BTC": 57_000.0}):
        res = account(venue, [("BTC", side, size, 60_000)], wallet, marks=marks)
        (p,) = res["positions"]
        assert p["liquidation_price"] == one["liquidation_price"]
        assert p["bankruptcy_price"] == one["bankruptcy_price"]
        assert p["liquidated_at_any_price"] == one["liquidated_at_any_price"]
        if one["tier"] is not None:
            assert p["liquidation_tier"] == one["tier"]
    # and every method shares the whole equity out to the one position at that bankruptcy price
    for method in ("cross", "okx", "dydx"):
        share = account(venue, [("BTC", side, size, 60_000)], wallet, method=method)["shareout"]
        assert share["positions"][0]["share_usd"] == pytest.approx(wallet, rel=1e-12)
        assert share["positions"][0]["close_price"] == pytest.approx(one["bankruptcy_price"], rel=1e-12)


def test_one_position_with_the_others_as_numbers_matches():
    """The account's answer for BTC is the one-position cross answer with --other-mm / --other-upnl set to ETH's."""
    res = account("binance", EXAMPLE, 50_000, marks=MARKS)
    btc, eth = res["positions"]
    one = liquidation(
        venue="binance",
        side="long",
        entry=110_000,
        size=2,
        mode="cross",
        wallet=50_000,
        other_mm=eth["trigger_margin_usd"],
        other_upnl=eth["upnl_usd"],
    )
    assert btc["liquidation_price"] == one["liquidation_price"]
    assert btc["bankruptcy_price"] == one["bankruptcy_price"]


# --- two positions: a worked example and the balance --------------------------------------------------------


def test_tv24_binance_cross_two_positions():
    """TV24 (docs/model.md §10): Binance's cross formula with TMM1 and UPNL1 written out by hand.

    Binance 2025 tables: ETH short 30 at 3,900 is 117,000 USD, tier 2 (0.5%, amount 50): TMM1 = 535, and its PnL
    UPNL1 = +3,000. BTC long 2, tier 1 (0.4%, amount 0): LP = (50,000 − 535 + 3,000 + 0 − 2 × 110,000) /
    (2 × 0.004 − 2) = 84,103.92. Bankruptcy (equity 0): 110,000 − (50,000 + 3,000)/2 = 83,500.
    """
    res = account("binance", EXAMPLE, 50_000, marks=MARKS)
    btc, eth = res["positions"]
    assert eth["maintenance_margin_usd"] == pytest.approx(535.0)
    assert eth["upnl_usd"] == 3_000.0 and btc["upnl_usd"] == -4_000.0
    assert btc["liquidation_price"] == pytest.approx((50_000 - 535 + 3_000 - 220_000) / (0.008 - 2), rel=1e-12)
    assert round(btc["liquidation_price"], 2) == 84_103.92
    assert btc["bankruptcy_price"] == pytest.approx(83_500.0)
    assert res["equity_usd"] == 49_000.0 and res["maintenance_margin_usd"] == pytest.approx(864.0 + 535.0)
    assert not res["liquidatable"]


@pytest.mark.parametrize("venue", VENUES)
def test_two_positions_balance_at_each_liquidation_price(venue):
    res = account(venue, EXAMPLE, 20_000, marks=MARKS)
    rows = [("BTC", 1, 2.0, 110_000.0), ("ETH", -1, 30.0, 4_000.0)]
    marks = {"BTC": 108_000.0, "ETH": 3_900.0}
    for i, p in enumerate(res["positions"]):
        lp = p["liquidation_price"]
        assert lp is not None and lp > 0
        assert balance(venue, 20_000, rows, marks, i, lp) == pytest.approx(0.0, abs=1e-7 * 500_000)
        # the other position's loss counts: alone, the same wallet would put the price further away
        alone = account(venue, [EXAMPLE[i]], 20_000, marks=[MARKS[i]])["positions"][0]["liquidation_price"]
        assert lp != alone


def test_a_long_the_others_cover_has_no_liquidation_price(capsys):
    res = account("binance", ["BTC,long,0.1,100000", "ETH,short,1,4000"], 50_000)
    assert res["positions"][0]["liquidation_price"] is None
    code, out, _ = cli(capsys, "calc", "--venue", "binance", "--position", "BTC,long,0.1,100000", "--wallet", "50000")
    assert code == 0 and "none" in out and not re.search(r"\bnan\b", out, re.IGNORECASE)


def test_a_short_the_account_cannot_carry_is_liquidated_at_any_price(capsys):
    # BTC long deep under water: the ETH short is liquidated even at an ETH price of 0
    args = ["BTC,long,10,100000", "ETH,short,1,4000"]
    res = account("binance", args, 1_000, marks=["BTC=80000"])
    eth = res["positions"][1]
    assert eth["liquidated_at_any_price"] and eth["liquidation_price"] == 0.0
    assert res["liquidatable"] and res["bankrupt"] and res["margin_ratio_pct"] is None
    code, out, _ = cli(capsys, "calc", "--venue", "binance", *[f"--position={a}" for a in args], "--wallet", "1000",
                       "--mark", "BTC=80000")  # fmt: skip
    assert code == 0 and "any price" in out


# --- share-out ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("wallet", [50_000.0, 3_000.0, -0.0, 500.0])
def test_dydx_shares_sum_to_tnc_and_closing_keeps_the_ratio(wallet):
    res = account("dydx", EXAMPLE, wallet, marks=MARKS)
    tnc, tmmr = res["equity_usd"], res["maintenance_margin_usd"]
    share = res["shareout"]
    assert sum(p["share_usd"] for p in share["positions"]) == pytest.approx(tnc, abs=1e-9 * 1e5)
    for p, s in zip(res["positions"], share["positions"], strict=True):
        sign = 1 if p["side"] == "long" else -1
        mmf = pack("dydx").tier_rows(p["coin"], 1.0)[0].mmr_pct / 100.0
        # dYdX's formula: m·(1 − s·MMF·TNC/TMMR)
        assert s["close_price"] == pytest.approx(p["mark"] * (1 - sign * mmf * tnc / tmmr), rel=1e-12)
        assert s["share_usd"] == pytest.approx(tnc * p["maintenance_margin_usd"] / tmmr, rel=1e-12)
    # close BTC at its bankruptcy price: the realised PnL goes to the wallet, ETH stays
    btc_close = share["positions"][0]["close_price"]
    after = account("dydx", [EXAMPLE[1]], wallet + 2 * (btc_close - 110_000), marks=[MARKS[1]])
    assert after["equity_usd"] / after["maintenance_margin_usd"] == pytest.approx(tnc / tmmr, rel=1e-9)


def test_dydx_deficit_is_shared_and_closes_beyond_the_marks():
    res = account("dydx", ["BTC,long,2,110000", "ETH,long,30,4000"], 10_000, marks=["BTC=105000", "ETH=3700"])
    assert res["equity_usd"] < 0 and res["liquidatable"] and res["bankrupt"]
    for p, s in zip(res["positions"], res["shareout"]["positions"], strict=True):
        assert s["share_usd"] < 0 and s["close_price"] > p["mark"]  # a long closed above its mark: the fund pays


def test_the_method_changes_the_share_out():
    """The same account under each method: cross gives the whole equity to one position, dYdX shares it by
    maintenance margin, Hyperliquid's backstop takes it with the account as a whole."""
    by = {m: account("binance", EXAMPLE, 50_000, marks=MARKS, method=m)["shareout"] for m in ("cross", "dydx")}
    by["hyperliquid"] = account("hyperliquid", EXAMPLE, 50_000, marks=MARKS)["shareout"]
    for share in by.values():
        total = sum(p["share_usd"] for p in share["positions"]) + share["account_share_usd"]
        assert total == pytest.approx(share["equity_usd"], rel=1e-12)
    cross, dydx, hl = by["cross"], by["dydx"], by["hyperliquid"]
    assert [p["share_usd"] for p in cross["positions"]] == [49_000.0, 0.0]  # BTC has the larger MM: closed first
    assert [p["close_order"] for p in cross["positions"]] == [1, 2]
    assert cross["positions"][1]["close_price"] == 3_900.0
    assert 0 < dydx["positions"][1]["share_usd"] < 49_000.0
    assert dydx["positions"][0]["close_price"] > cross["positions"][0]["close_price"]
    assert [p["close_price"] for p in hl["positions"]] == [108_000.0, 3_900.0]
    assert hl["account_share_usd"] == pytest.approx(49_000.0)


def test_cross_order_is_the_largest_maintenance_margin_first():
    res = account("binance", ["BTC,long,0.1,100000", "ETH,short,300,4000"], 50_000)
    assert [p["close_order"] for p in res["shareout"]["positions"]] == [2, 1]
    assert res["shareout"]["positions"][1]["share_usd"] == res["equity_usd"]


def test_hyperliquid_backstop_below_two_thirds_of_maintenance():
    rows = ["BTC,long,10,100000", "ETH,long,100,4000"]
    mm = account("hyperliquid", rows, 100_000)["maintenance_margin_usd"]  # 1.25% of 1M + 2% of 400k = 20,500
    # marks that leave the equity at 0.8 × MM, then at 0.5 × MM (BTC moves, ETH at its entry)
    for frac, backstop in ((0.8, False), (0.5, True)):
        btc = 100_000 - (100_000 - frac * mm) / 10  # equity = 100,000 + 10 × (m − 100,000)
        res = account("hyperliquid", rows, 100_000, marks={"BTC": btc})
        assert res["liquidatable"] and res["backstop"] is backstop
    assert account("binance", rows, 100_000)["backstop"] is None


def test_okx_takes_every_cross_position_together_sharing_the_equity_by_trigger_margin():
    """OKX's full liquidation hands all cross contracts over at once (docs/model.md §2.11); the split by maintenance
    plus fee is liqsim's [INF]. By hand, OKX 2025-05 tiers (coins), fee 0.05%: BTC 20 coins is tier 2 (0.5%,
    amount 0.01 BTC), so TMM = 108,000 × (20 × 0.55% − 0.01) = 10,800; ETH 30 coins is tier 1 (0.4%), TMM =
    117,000 × 0.45% = 526.5. Equity 100,000 − 40,000 + 3,000 = 63,000."""
    rows = ["BTC,long,20,110000", "ETH,short,30,4000"]
    res = account("okx", rows, 100_000, marks=MARKS)
    share = res["shareout"]
    assert res["method"] == share["method"] == "okx"  # OKX's default
    assert res["trigger_margin_usd"] == pytest.approx(11_326.5, rel=1e-12)
    btc, eth = share["positions"]
    assert btc["share_usd"] == pytest.approx(63_000 * 10_800 / 11_326.5, rel=1e-12)  # 60,071.51
    assert eth["share_usd"] == pytest.approx(63_000 * 526.5 / 11_326.5, rel=1e-12)  # 2,928.49
    assert btc["close_price"] == pytest.approx(108_000 - 63_000 * 10_800 / 11_326.5 / 20, rel=1e-12)  # 104,996.42
    assert eth["close_price"] == pytest.approx(3_900 + 63_000 * 526.5 / 11_326.5 / 30, rel=1e-12)  # 3,997.62
    assert [p["close_order"] for p in share["positions"]] == [1, 1] and share["account_share_usd"] == 0.0
    # not the split by maintenance margin alone (9,720 and 468), nor the cross method's one-takes-all
    assert btc["share_usd"] != pytest.approx(63_000 * 9_720 / 10_188, rel=1e-6)
    cross = account("okx", rows, 100_000, marks=MARKS, method="cross")["shareout"]["positions"]
    assert [p["share_usd"] for p in cross] == [63_000.0, 0.0] and cross[1]["close_price"] == 3_900.0


def test_okx_shares_a_deficit_beyond_every_mark():
    """Under water, every position's bankruptcy lies past its mark (a long's above, a short's below): prices the book
    will not give, so the fund pays each position's gap."""
    res = account("okx", ["BTC,long,2,110000", "ETH,short,30,4000"], -2_000, marks=MARKS)
    btc, eth = res["shareout"]["positions"]
    assert res["equity_usd"] == pytest.approx(-3_000.0)
    assert btc["share_usd"] < 0 and eth["share_usd"] < 0
    assert btc["close_price"] > 108_000 and eth["close_price"] < 3_900
    assert btc["share_usd"] + eth["share_usd"] == pytest.approx(-3_000.0, rel=1e-12)


def test_okx_counts_the_fee_in_the_account_trigger():
    res = account("okx", EXAMPLE, 50_000, marks=MARKS)
    fee = pack("okx").rules.clearance_fee_pct / 100.0
    assert res["trigger_margin_usd"] == pytest.approx(res["maintenance_margin_usd"] + fee * (216_000 + 117_000))


# --- random accounts ----------------------------------------------------------------------------------------

COINS = {v: tuple(pack(v).tiers) for v in VENUES}
ENTRY = {"BTC": 100_000.0, "ETH": 4_000.0, "SOL": 150.0, "ALT": 20.0}


@st.composite
def accounts(draw):
    venue = draw(st.sampled_from(sorted(COINS)))
    coins = draw(st.lists(st.sampled_from(COINS[venue]), min_size=1, max_size=3, unique=True))
    rows, marks = [], {}
    for coin in coins:
        ep = ENTRY[coin] * draw(st.floats(0.5, 2.0))
        notional = draw(st.floats(1e3, 5e7))
        rows.append((coin, draw(st.sampled_from([1, -1])), notional / ep, ep))
        marks[coin] = ep * draw(st.floats(0.7, 1.3))
    gross = sum(q * ep for _, _, q, ep in rows)
    wallet = gross * draw(st.floats(0.0, 1.5))
    return venue, rows, marks, wallet


def _run(venue, rows, marks, wallet, method=None):
    positions = [(c, "long" if s > 0 else "short", q, ep) for c, s, q, ep in rows]
    return account(venue, positions, wallet, marks=marks, method=method)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(accounts())
def test_random_accounts_balance_at_every_liquidation_price(acc):
    venue, rows, marks, wallet = acc
    res = _run(venue, rows, marks, wallet)
    scale = wallet + sum(q * max(ep, marks[c]) for c, _, q, ep in rows)
    for i, p in enumerate(res["positions"]):
        lp = p["liquidation_price"]
        if p["liquidated_at_any_price"]:
            assert balance(venue, wallet, rows, marks, i, 0.0) <= 1e-9 * scale
        elif lp is None:
            assert balance(venue, wallet, rows, marks, i, 1e-12) > -1e-9 * scale
        else:
            assert abs(balance(venue, wallet, rows, marks, i, lp)) <= 1e-9 * max(scale, rows[i][2] * lp)
    for method in ("cross", "okx", "hyperliquid", "dydx"):
        share = _run(venue, rows, marks, wallet, method)["shareout"]
        total = sum(p["share_usd"] for p in share["positions"]) + share["account_share_usd"]
        assert total == pytest.approx(res["equity_usd"], abs=1e-9 * scale)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(accounts(), st.floats(0.01, 0.3))
def test_moving_the_others_against_the_account_moves_each_price_toward_its_mark(acc, move):
    venue, rows, marks, wallet = acc
    if len(rows) < 2:
        return
    before = _run(venue, rows, marks, wallet)["positions"]
    coin, s, _, _ = rows[0]
    worse = dict(marks, **{coin: marks[coin] * (1 - s * move)})  # the first position loses
    after = _run(venue, rows, worse, wallet)["positions"]
    for b, a in zip(before[1:], after[1:], strict=True):
        lb, la = b["liquidation_price"], a["liquidation_price"]
        if b["side"] == "long":  # up toward the mark (None: no price at all)
            assert lb is None or (la is not None and la >= lb * (1 - 1e-12))
        else:  # down toward the mark (0: liquidated at any price)
            assert la <= lb * (1 + 1e-12)


# --- the command line ---------------------------------------------------------------------------------------


def test_cli_account_text_and_json(capsys):
    args = ["calc", "--venue", "binance", *[f"--position={p}" for p in EXAMPLE], "--wallet", "50000"]
    args += [a for m in MARKS for a in ("--mark", m)]
    code, out, err = cli(capsys, *args)
    assert code == 0 and err == ""
    assert "84,103.92" in out and "83,500.00" in out and "49,000.00" in out and "cross" in out
    code, out, _ = cli(capsys, *args, "--json")
    res = json.loads(out)
    assert res["positions"][0]["coin"] == "BTC" and res["method"] == "cross"
    code, out, _ = cli(capsys, *args, "--method", "dydx")
    assert code == 0 and "dYdX v4" in out
    code, out, _ = cli(capsys, "calc", "--venue", "dydx", *[f"--position={p}" for p in EXAMPLE], "--wallet", "5000")
    assert code == 0 and "1.2%" in out and "dydx, rules of 2026-03" in out


ACCOUNT = ["--venue", "binance", "--position", "BTC,long,2,110000", "--wallet", "50000"]


@pytest.mark.parametrize(
    "args, needles",
    [
        (["--venue", "binance", "--position", "BTC,long,2", "--wallet", "5"], ["--position = 'BTC,long,2'", "four"]),
        (
            ["--venue", "binance", "--version", "2021-03", "--position", "SOL,long,2,150", "--wallet", "5"],
            ["--position = 'SOL,long,2,150'", "'SOL'", "binance rules 2021-03", "coins with one: BTC, ETH"],
        ),
        (["--venue", "binance", "--position", "BTC,up,2,1e5", "--wallet", "5"], ["side 'up'", "long, short"]),
        (["--venue", "binance", "--position", "BTC,long,-2,1e5", "--wallet", "5"], ["size '-2'", "> 0"]),
        (["--venue", "binance", "--position", "BTC,long,2,x", "--wallet", "5"], ["entry 'x'", "[1e-8, 1e9]"]),
        (["--venue", "binance", "--position", "BTC,long,1e20,1e5", "--wallet", "5"], ["notional", "[1e-6, 1e13]"]),
        (
            ["--venue", "binance", "--position", "BTC,long,1,1e5", "--position", "btc,short,1,1e5", "--wallet", "5"],
            ["'btc,short,1,1e5'", "second BTC", "one position per coin"],
        ),  # fmt: skip
        (["--venue", "binance", "--position", "BTC,long,2,110000"], ["--wallet", "required"]),
        ([*ACCOUNT[:-1], "-2e13"], ["--wallet = -2e13", "[-1e13, 1e13]"]),
        ([*ACCOUNT[:-1], "lots"], ["--wallet = 'lots'", "[-1e13, 1e13]"]),
        ([*ACCOUNT, "--mark", "BTC108000"], ["--mark = 'BTC108000'", "COIN=PRICE"]),
        ([*ACCOUNT, "--mark", "BTC=0"], ["--mark = 'BTC=0'", "[1e-8, 1e9]"]),
        ([*ACCOUNT, "--mark", "ETH=3900"], ["--mark = 'ETH=3900'", "no position", "BTC"]),
        ([*ACCOUNT, "--mark", "BTC=1", "--mark", "BTC=2"], ["--mark = 'BTC=2'", "second mark"]),
        ([*ACCOUNT, "--method", "isolated"], ["--method = 'isolated'", "cross, okx, hyperliquid, dydx"]),
        (["--venue", "kraken", *ACCOUNT[2:]], ["--venue = 'kraken'", "binance", "dydx"]),
        (["--venue", "dydx", *ACCOUNT[2:], "--version", "2024"], ["--version = '2024'", "dydx", "2026-03"]),
        (["--venue", "dydx", "--position", "DOGE,long,1,1", "--wallet", "5"], ["'DOGE'", "BTC, ETH"]),
        ([*ACCOUNT, "--version", "1999"], ["--version = '1999'", "binance"]),
        ([*ACCOUNT, "--side", "long", "--leverage", "5"], ["--side, --leverage", "not with --position"]),
        (
            ["--venue", "binance", "--side", "long", "--entry", "1e5", "--leverage", "5", "--mark", "BTC=1"],
            ["--mark", "only with --position"],
        ),  # fmt: skip
        (["--venue", "binance", "--entry", "1e5", "--leverage", "5"], ["--side", "required", "--position"]),
    ],
)
def test_bad_account_input_exits_2_naming_it(capsys, args, needles):
    assert_refused(cli(capsys, "calc", *args), needles)


def test_every_account_problem_at_once():
    with pytest.raises(ScenarioError) as exc:
        account("binance", ["BTC,long,2", "DOGE,up,-1,x"], -5e13, marks=["SOL=1", "BTC108"], method="foo")
    assert len(exc.value.problems) == 9


@pytest.mark.parametrize(
    "command",
    [
        "$ liqsim calc --venue binance --position BTC,long,2,110000",
        "$ liqsim calc --venue okx --position BTC,long,2,110000",
        "$ liqsim calc --venue binance --position BTC,long,1,100000",
    ],
)
def test_the_readme_examples_are_real_runs(capsys, command):
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    start = text.index(command)
    block = text[start : text.index("```", start)].splitlines()
    command = " ".join(line.rstrip("\\").strip() for line in block[:2]).split()[2:]
    code, out, _ = cli(capsys, *command)
    assert code == 0 and out.rstrip("\n") == "\n".join(block[2:]).rstrip("\n")


# --- collateral (docs/model.md §2.10) ----------------------------------------------------------------------------


def test_binance_haircuts_by_hand():
    """Binance Multi-Assets Mode: USDC at 0.9999, BTC at 0.95 (its FAQ): 10,000 USDC + 1 BTC at 100,000 count as
    9,999 + 95,000 = 104,999 USD of margin balance, on top of the quote wallet."""
    res = account("binance", ["ETH,short,10,4000"], 1_000, collateral=["USDC=10000", "BTC=1"], prices=["BTC=100000"])
    by = {c["asset"]: c for c in res["collateral"]}
    assert by["USDC"]["value_usd"] == pytest.approx(9_999.0) and by["USDC"]["price_from"] == "par"
    assert by["BTC"]["value_usd"] == pytest.approx(95_000.0) and by["BTC"]["ratio"] == pytest.approx(0.95)
    assert res["collateral_usd"] == pytest.approx(104_999.0)
    assert res["margin_balance_usd"] == pytest.approx(105_999.0) and res["wallet"] == 1_000
    assert res["equity_usd"] == pytest.approx(105_999.0)  # marked at entry: no PnL
    plain = account("binance", ["ETH,short,10,4000"], 105_999.0)
    assert res["positions"][0]["liquidation_price"] == pytest.approx(plain["positions"][0]["liquidation_price"])


def test_bybit_btc_tiers_apply_slice_by_slice():
    """Bybit's example tiers: 15 BTC = 10 at 0.98 + 5 at 0.95."""
    res = account("bybit", ["SOL,long,100,150"], None, collateral={"BTC": 15}, prices={"BTC": 100_000})
    assert res["collateral_usd"] == pytest.approx((10 * 0.98 + 5 * 0.95) * 100_000)
    assert res["collateral"][0]["ratio"] == pytest.approx((10 * 0.98 + 5 * 0.95) / 15)


def test_a_usde_depeg_moves_every_liquidation_price_and_can_liquidate_an_account_no_position_of_which_moved():
    """10 Oct 2025: Binance valued USDe collateral at its own spot price, about 0.65; accounts margined with USDe
    were liquidated although their positions had not moved."""
    positions, marks = ["BTC,long,1,100000", "SOL,long,100,150", "ETH,short,2,4000"], ["BTC=94000"]
    par = account("binance", positions, None, marks, collateral=["USDe=10000"])
    dep = account("binance", positions, None, marks, collateral=["USDe=10000"], prices=["USDe=0.65"])
    assert par["collateral_usd"] == pytest.approx(9_500.0) and dep["collateral_usd"] == pytest.approx(6_175.0)
    assert not par["liquidatable"] and dep["liquidatable"]
    assert [p["mark"] for p in par["positions"]] == [p["mark"] for p in dep["positions"]]
    for a, b in zip(par["positions"], dep["positions"]):
        assert abs(b["liquidation_price"] - b["mark"]) < abs(a["liquidation_price"] - a["mark"])
        # the depeg's loss, 3,325 USD, moves each price by that much over the position's net exposure
        assert abs(b["liquidation_price"] - a["liquidation_price"]) * b["size"] == pytest.approx(3_325.0, rel=0.01)


def test_btc_collateral_moves_with_the_price_of_btc():
    one = account("okx", ["ETH,long,1,4000"], None, collateral=["BTC=2"], prices=["BTC=100000"])
    two = account("okx", ["ETH,long,1,4000"], None, collateral=["BTC=2"], prices=["BTC=80000"])
    assert two["collateral_usd"] == pytest.approx(one["collateral_usd"] * 0.8)
    # with a BTC position, the collateral is valued at its mark, and moves with it in that position's prices
    held = account("binance", ["BTC,long,1,100000"], 0, ["BTC=90000"], collateral=["BTC=0.5"])
    c = held["collateral"][0]
    assert c["price"] == 90_000 and c["price_from"] == "mark" and c["value_usd"] == pytest.approx(0.5 * 0.95 * 90_000)
    p = held["positions"][0]
    lp, k = p["liquidation_price"], 0.5 * 0.95
    tiers = pack("binance").tier_rows("BTC", lp)
    mm = lp * tiers[0].mmr_pct / 100 - tiers[0].maintenance_amount_usd
    assert k * lp + (lp - 100_000) == pytest.approx(mm, abs=1e-6)  # equity at the LP, collateral revalued, = MM
    assert k * p["bankruptcy_price"] + (p["bankruptcy_price"] - 100_000) == pytest.approx(0.0, abs=1e-6)
    fixed = account("binance", ["BTC,long,1,100000"], 0.5 * 0.95 * 90_000, ["BTC=90000"])
    assert lp > fixed["positions"][0]["liquidation_price"]  # collateral falling with BTC: liquidated sooner


def test_python_api_matches_the_cli(capsys):
    args = ["--venue", "bybit", "--position", "BTC,short,1,100000", "--position", "SOL,long,50,150"]
    extra = ["--collateral", "USDT=3000", "--collateral", "USDe=5000", "--price", "USDe=0.9", "--mark", "SOL=140"]
    code, out, _ = cli(capsys, "calc", *args, *extra, "--json")
    assert code == 0
    api = account(
        "bybit", ["BTC,short,1,100000", "SOL,long,50,150"], None, {"SOL": 140}, collateral={"USDT": 3000, "USDe": 5000},
        prices={"USDe": 0.9},
    )  # fmt: skip
    assert json.loads(out) == json.loads(json.dumps(api))
    code, text, _ = cli(capsys, "calc", *args, *extra)
    assert code == 0 and "USDe" in text and "0.95" in text and "margin balance" in text


COLL = ["--venue", "binance", "--position", "BTC,long,1,100000"]


@pytest.mark.parametrize(
    "args, needles",
    [
        (
            ["--venue", "hyperliquid", *COLL[2:], "--collateral", "USDe=1000"],
            ["--collateral = 'USDe=1000'", "accepted: USDC"],
        ),
        (["--venue", "okx", *COLL[2:], "--collateral", "usde=1"], ["do not accept usde", "USDT, USDC, BTC"]),
        ([*COLL, "--version", "2024-10", "--collateral", "USDT=1"], ["no collateral table", "--wallet"]),
        ([*COLL, "--collateral", "USDC"], ["--collateral = 'USDC'", "ASSET=AMOUNT"]),
        ([*COLL, "--collateral", "USDC=-5"], ["--collateral = 'USDC=-5'", "(0, 1e13]"]),
        ([*COLL, "--collateral", "USDC=1", "--collateral", "usdc=2"], ["second amount of USDC"]),
        ([*COLL[:2], "--position", "ETH,long,1,4000", "--collateral", "BTC=1"], ["needs --price BTC=PRICE"]),
        ([*COLL, "--collateral", "BTC=1", "--price", "BTC=90000"], ["--price = 'BTC=90000'", "--mark BTC=PRICE"]),
        ([*COLL, "--collateral", "USDe=1", "--price", "USDe=0"], ["--price = 'USDe=0'", "[1e-8, 1e9]"]),
        ([*COLL, "--collateral", "USDe=1", "--price", "USDT=1"], ["--price = 'USDT=1'", "no --collateral in USDT"]),
        ([*COLL, "--collateral", "USDe=1", "--price", "USDe"], ["--price = 'USDe'", "ASSET=PRICE"]),
        (COLL, ["--wallet: required unless --collateral"]),
        (
            ["--venue", "binance", "--side", "long", "--entry", "1e5", "--leverage", "5", "--collateral", "USDC=1"],
            ["--collateral", "only with --position"],
        ),  # fmt: skip
    ],
)
def test_bad_collateral_input_exits_2_naming_it(capsys, args, needles):
    code, out, err = cli(capsys, "calc", *args)
    assert code == 2 and out == ""
    for needle in needles:
        assert needle in err
    assert "Traceback" not in err
