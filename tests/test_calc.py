"""The liquidation-price calculator (``liqsim calc``) and the venue listing (``liqsim venues``).

Worked examples of docs/model.md §2.4, §2.5 and §10 (TV1, TV11, TV12, W1, W2); the tier at the
liquidation price; the cross-mode terms; the same position on the four venues; one clear message per
bad flag, with exit status 2 and no traceback.
"""

import json
import subprocess
import sys

import pytest

from sim.calc import liquidation
from sim.cli import main
from sim.errors import ScenarioError
from sim.venues import VENUES, pack


def cli(capsys, *args):
    """``liqsim ARGS`` in-process: (exit status, stdout, stderr); argparse's own errors exit via SystemExit."""
    try:
        code = main(list(args))
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def trigger_rate(venue, mmr_pct):
    """The rate the venue's trigger uses, as a fraction: the MMR, plus the clearance fee where it counts."""
    rules = pack(venue).rules
    return (mmr_pct + (rules.clearance_fee_pct if rules.trigger_includes_fee else 0.0)) / 100.0


def reference_lp(venue, side, entry, size, wallet, asset="BTC"):
    """Liquidation price and trigger MM from the rule pack alone, by trying each tier's closed form.

    Entry basis: the tier and MM of the entry value, ``LP = EP − side·(W − MM)/Q``. Size basis (OKX): the
    tier of the size, ``LP = (W − side·Q·EP)/(Q·rate − cum − side·Q)``. Mark basis: the one tier whose
    bracket holds the root of ``W + side·Q·(P − EP) = Q·P·rate − cum``.
    """
    if pack(venue).sized_in_coins(asset):  # OKX: the tier of the size, amounts in coins, MM = P·(Q·rate − cum)
        row = [r for r in pack(venue).tier_rows(asset, 1.0) if r.notional_floor_usd <= size][-1]
        rate = trigger_rate(venue, row.mmr_pct)
        lp = (wallet - side * size * entry) / (size * rate - row.maintenance_amount_usd - side * size)
        return lp, lp * (size * rate - row.maintenance_amount_usd)
    rows = pack(venue).tier_rows(asset, entry)
    if pack(venue).rules.mm_basis == "entry":
        row = [r for r in rows if r.notional_floor_usd <= size * entry][-1]
        mm = size * entry * trigger_rate(venue, row.mmr_pct) - row.maintenance_amount_usd
        return entry - side * (wallet - mm) / size, mm
    for k, row in enumerate(rows):
        rate = trigger_rate(venue, row.mmr_pct)
        lp = (wallet + row.maintenance_amount_usd - side * size * entry) / (size * rate - side * size)
        top = rows[k + 1].notional_floor_usd if k + 1 < len(rows) else float("inf")
        if row.notional_floor_usd <= size * lp < top:
            return lp, size * lp * rate - row.maintenance_amount_usd
    raise AssertionError("no tier holds the root")


# --- worked examples --------------------------------------------------------------------------------------


def test_tv1_binance_cross_one_position(capsys):
    # docs/model.md §10 TV1: wallet 500, long 0.02 BTC (1,000 USDT) at 50,000, MMR 0.4 %, cum 0 -> 25,100.40
    res = liquidation(venue="binance", side="long", entry=50_000, size=0.02, mode="cross", wallet=500, mmr=0.4, cum=0)
    assert res["liquidation_price"] == pytest.approx(25_100.40, abs=0.005)
    assert res["bankruptcy_price"] == pytest.approx(25_000.0)
    assert res["tier"] is None and res["mmr"] == 0.4
    code, out, _ = cli(
        capsys,
        "calc",
        "--venue",
        "binance",
        "--side",
        "long",
        "--entry",
        "50000",
        "--size",
        "0.02",
        "--mode",
        "cross",
        "--wallet",
        "500",
        "--mmr",
        "0.4",
        "--cum",
        "0",
        "--json",
    )
    assert code == 0
    printed = json.loads(out)
    keys = {"liquidation_price", "bankruptcy_price", "maintenance_margin", "tier", "mmr", "distance_pct"}
    assert keys <= set(printed)
    assert printed["liquidation_price"] == pytest.approx(25_100.40, abs=0.005)


def test_model_example_long_10x():
    # docs/model.md §2.4 / §10 W1: long 10x at 94,200, MMR 0.40 %, cum 0, isolated -> 85,120.48
    res = liquidation(venue="binance", side="long", entry=94_200, leverage=10, mmr=0.4, cum=0)
    assert res["liquidation_price"] == pytest.approx(85_120.48, abs=0.005)
    assert res["initial_margin"] == pytest.approx(9_420.0)


@pytest.mark.parametrize("side, expected", [("long", 54_216.87), ("short", 65_737.05)])
def test_exact_formula_not_the_shortcut(side, expected):
    # docs/model.md §10 W2: 60,000 at 10x, MMR 0.4 %: exact 54,216.87 / 65,737.05 (the shortcut says 54,240 / 65,760)
    res = liquidation(venue="binance", side=side, entry=60_000, leverage=10, mmr=0.4)
    assert res["liquidation_price"] == pytest.approx(expected, abs=0.005)
    assert res["distance_pct"] == pytest.approx((expected - 60_000) / 600, abs=1e-5)


def test_tv11_bybit_isolated_on_the_entry_value(capsys):
    # docs/model.md §2.4 / §10 TV11: 1 BTC long at 20,000, 50x, MMR 0.5 % -> IM 400, MM 100, LP 19,700
    res = liquidation(venue="bybit", side="long", entry=20_000, size=1, leverage=50, mmr=0.5)
    assert res["initial_margin"] == pytest.approx(400.0, abs=1e-9)
    assert res["maintenance_margin"] == pytest.approx(100.0, abs=1e-9)
    assert res["liquidation_price"] == pytest.approx(19_700.0, abs=1e-9)
    code, out, _ = cli(
        capsys, "calc", "--venue", "bybit", "--side", "long", "--entry", "20000", "--leverage", "50", "--mmr", "0.5"
    )
    assert code == 0
    for needle in (
        "liquidation price",
        "19,700.00",
        "bankruptcy price",
        "maintenance margin",
        "100.00",
        "tier",
        "0.5%",
        "-1.50%",
        "bybit",
        pack("bybit").version,
    ):
        assert needle in out


@pytest.mark.parametrize("side, expected", [("long", 9_800.0), ("short", 10_200.0)])
def test_tv12_bybit_bankruptcy(side, expected):
    # docs/model.md §2.5 / §10 TV12: 1 BTC at 10,000, 50x -> 9,800 long, 10,200 short
    res = liquidation(venue="bybit", side=side, entry=10_000, size=1, leverage=50)
    assert res["bankruptcy_price"] == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("s, side", [(1, "long"), (-1, "short")])
def test_hyperliquid_matches_its_documented_formula(s, side):
    # docs/model.md §2.4: liq = price − side·margin_available/size/(1 − l·side), margin_available = isolated
    # margin − MM at the entry price, l = MMR of the tier (no clearance fee on Hyperliquid)
    assert not pack("hyperliquid").rules.trigger_includes_fee
    row = pack("hyperliquid").tiers["BTC"][0]
    size, price, lev = 2.0, 80_000.0, 10
    margin = size * price / lev
    assert size * price < pack("hyperliquid").tiers["BTC"][1].notional_floor_usd  # one tier all the way
    l = row.mmr_pct / 100
    available = margin - (size * price * l - row.maintenance_amount_usd)
    expected = price - s * available / size / (1 - l * s)
    res = liquidation(venue="hyperliquid", side=side, entry=price, size=size, leverage=lev)
    assert res["liquidation_price"] == pytest.approx(expected, rel=1e-12)
    assert res["mmr"] == row.mmr_pct and res["tier"] == 1


# --- tiers, fees and the cross terms ----------------------------------------------------------------------


@pytest.mark.parametrize("side, s, scale, entry_tier, lp_tier", [("long", 1, 1.2, 2, 1), ("short", -1, 0.9, 1, 2)])
def test_binance_tier_at_the_liquidation_price(side, s, scale, entry_tier, lp_tier):
    # The entry notional sits on one side of the tier-2 floor, the liquidation price on the other: the
    # answer uses the tier of the notional at the liquidation price (docs/model.md §2.2).
    rows = pack("binance").tiers["BTC"]
    entry, lev = 50_000.0, 5
    size = scale * rows[1].notional_floor_usd / entry
    res = liquidation(venue="binance", side=side, entry=entry, size=size, leverage=lev)
    lp, margin = res["liquidation_price"], size * entry / lev
    assert res["tier"] == lp_tier != entry_tier
    row = rows[lp_tier - 1]
    assert row.notional_floor_usd <= size * lp < rows[lp_tier].notional_floor_usd
    mm = size * lp * row.mmr_pct / 100 - row.maintenance_amount_usd
    assert margin + s * size * (lp - entry) == pytest.approx(mm, rel=1e-10)  # equity at LP = MM at LP
    assert res["maintenance_margin"] == pytest.approx(mm, rel=1e-10)
    assert res["mmr"] == row.mmr_pct
    # the entry tier's closed form would have given another price
    wrong = rows[entry_tier - 1]
    naive = (margin + wrong.maintenance_amount_usd - s * size * entry) / (size * wrong.mmr_pct / 100 - s * size)
    assert abs(naive - lp) > 1e-6 * lp


def test_fee_in_the_trigger_is_not_in_the_maintenance_margin():
    # OKX counts the clearance fee in the trigger: equity at LP = MM + fee part; maintenance_margin is MM proper
    rules = pack("okx").rules
    res = liquidation(venue="okx", side="long", entry=100_000, size=1, leverage=20)
    lp = res["liquidation_price"]
    fee = rules.clearance_fee_pct / 100 if rules.trigger_includes_fee else 0.0
    assert 5_000 + (lp - 100_000) == pytest.approx(res["trigger_margin"], rel=1e-12)
    assert res["trigger_margin"] - res["maintenance_margin"] == pytest.approx(lp * fee, rel=1e-9, abs=1e-9)
    assert res["trigger_mmr_pct"] == pytest.approx(res["mmr"] + 100 * fee)


@pytest.mark.parametrize("side, s", [("long", 1), ("short", -1)])
def test_cross_other_positions_move_the_price(side, s):
    # LP = (W − TMM_other + UPNL_other + cum − side·Q·EP) / (Q·MMR − side·Q): each USD of other MM moves
    # a long's LP up by 1/(Q·(1 − MMR)), a short's down by 1/(Q·(1 + MMR)); other uPnL the other way
    kw = dict(venue="binance", side=side, entry=50_000, size=0.02, mode="cross", wallet=500, mmr=0.4)
    base = liquidation(**kw)
    per_usd = 1 / (0.02 * (1 - s * 0.004))
    more_mm = liquidation(**kw, other_mm=100)
    assert more_mm["liquidation_price"] - base["liquidation_price"] == pytest.approx(s * 100 * per_usd, rel=1e-9)
    assert more_mm["bankruptcy_price"] == pytest.approx(base["bankruptcy_price"])  # other MM is not a loss
    gain = liquidation(**kw, other_upnl=60)
    assert gain["liquidation_price"] - base["liquidation_price"] == pytest.approx(-s * 60 * per_usd, rel=1e-9)
    assert gain["bankruptcy_price"] - base["bankruptcy_price"] == pytest.approx(-s * 60 / 0.02, rel=1e-9)


def test_cross_leverage_is_optional_but_capped():
    res = liquidation(venue="binance", side="long", entry=50_000, size=0.02, mode="cross", wallet=500)
    assert res["leverage"] is None and res["liquidation_price"] > 0
    with pytest.raises(ScenarioError, match="--leverage = 1000"):
        liquidation(venue="binance", side="long", entry=50_000, size=0.02, mode="cross", wallet=500, leverage=1000)


def test_a_well_margined_long_has_no_liquidation_price(capsys):
    res = liquidation(venue="binance", side="long", entry=20_000, margin=50_000)
    assert res["liquidation_price"] is None and res["bankruptcy_price"] is None and res["distance_pct"] is None
    assert res["liquidated_at_any_price"] is False and res["below_maintenance_at_entry"] is False
    code, out, _ = cli(capsys, "calc", "--venue", "binance", "--side", "long", "--entry", "20000", "--margin", "50000")
    assert code == 0 and "none: not liquidated at any positive price" in out and "liquidated at once" not in out


@pytest.mark.parametrize("venue", VENUES)
def test_a_short_under_water_at_every_price_is_liquidated_at_any_price(capsys, venue):
    # cross wallet 1,000 with −1,000,000 of other uPnL: even at a price of 0 the short's equity (−949,000) is
    # below its maintenance margin, so every price liquidates it; JSON and text say the same thing
    args = [
        "calc",
        "--venue",
        venue,
        "--side",
        "short",
        "--entry",
        "50000",
        "--mode",
        "cross",
        "--wallet",
        "1000",
        "--other-upnl",
        "-1e6",
    ]
    res = liquidation(venue=venue, side="short", entry=50_000, mode="cross", wallet=1000, other_upnl=-1e6)
    assert res["liquidation_price"] == 0.0 and res["liquidated_at_any_price"] is True
    assert res["below_maintenance_at_entry"] is True and res["bankruptcy_price"] == 0.0
    assert res["tier"] is None and res["maintenance_margin"] is None and res["distance_pct"] is None
    code, out, _ = cli(capsys, *args, "--json")
    assert code == 0 and json.loads(out) == res
    code, out, _ = cli(capsys, *args)
    assert code == 0
    assert "0.00: liquidated at any price" in out and "0.00: bankrupt at any price" in out
    assert "not liquidated" not in out and "none" not in out and "liquidated at once" not in out
    # the equals form and the spaced form of a negative value are the same flag
    assert cli(capsys, *args[:-2], "--other-upnl=-1e6")[1] == out


def test_a_long_under_water_is_liquidated_above_its_entry():
    # the mirror case: a long's equity grows with the price, so its liquidation price is positive (above entry)
    res = liquidation(venue="binance", side="long", entry=50_000, mode="cross", wallet=1000, other_upnl=-1e6)
    assert res["liquidation_price"] > 50_000 and res["liquidated_at_any_price"] is False
    assert res["below_maintenance_at_entry"] is True and res["bankruptcy_price"] > 50_000


def test_a_short_just_solvent_at_price_zero_has_a_positive_liquidation_price():
    res = liquidation(venue="binance", side="short", entry=50_000, mode="cross", wallet=1000, other_upnl=-40_000)
    assert 0 < res["liquidation_price"] < 50_000 and res["liquidated_at_any_price"] is False
    assert res["below_maintenance_at_entry"] is True


# --- OKX: tiers set in contracts ---------------------------------------------------------------------------


def test_okx_tier_follows_the_position_size():
    # 15 BTC at 50,000 is 1,500 contracts of 0.01 BTC: OKX tier 2 (1,000–5,000 contracts), whatever the USD
    # table at the 100,000 reference price says (its tier-2 floor, 1M USD, is above this 750k notional)
    okx = pack("okx")
    assert okx.tiers["BTC"][1].notional_floor_usd == 1e6
    res = liquidation(venue="okx", side="long", entry=50_000, size=15, leverage=10)
    assert res["tier"] == 2 and res["mmr"] == 0.5
    lp, mm = reference_lp("okx", 1, 50_000, 15, 15 * 50_000 / 10)
    assert res["liquidation_price"] == pytest.approx(lp, rel=1e-12)
    assert res["trigger_margin"] == pytest.approx(mm, rel=1e-12)
    # 8 BTC at 150,000 is 800 contracts: tier 1, though its 1.2M USD notional is above that 1M floor
    res = liquidation(venue="okx", side="short", entry=150_000, size=8, leverage=10)
    assert res["tier"] == 1 and res["mmr"] == 0.4
    # the leverage cap is the size's tier too: tier 2 allows 66.66x at any price
    for entry in (50_000, 100_000, 200_000):
        with pytest.raises(ScenarioError, match=r"--leverage = 100: must be in \[1, 66.66\] .*BTC tier 2"):
            liquidation(venue="okx", side="long", entry=entry, size=15, leverage=100)


# --- magnitudes and signs at the edge ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, needles, absent",
    [
        (["--entry", "1e300", "--leverage", "1"], ["--entry = 1e300", "[1e-8, 1e9]"], ["--leverage", "--margin"]),
        (
            ["--entry", "1e308", "--size", "1e10", "--leverage", "1"],
            ["--entry = 1e308", "[1e-8, 1e9]"],
            ["--size", "--leverage", "--margin"],
        ),
        (["--entry", "1e-300", "--leverage", "1"], ["--entry = 1e-300", "[1e-8, 1e9]"], ["--size", "--leverage"]),
        (
            ["--entry", "1e8", "--size", "1e10", "--leverage", "1"],
            ["--size = 1e10", "--size × --entry = 1e18 USD", "[1e-6, 1e13]", "--size in [1e-14, 100000]"],
            ["error: --entry", "--leverage"],
        ),
        (
            ["--entry", "50000", "--size", "1e-320", "--leverage", "10"],
            ["--size = ", "e-321", "[1e-6, 1e13]"],
            ["error: --entry", "--leverage"],
        ),
        (["--entry", "50000", "--margin", "1e14"], ["--margin = 1e14", "(0, 1e13]"], ["--entry"]),
        (["--entry", "50000", "--mode", "cross", "--wallet", "1e14"], ["--wallet = 1e14", "[0, 1e13]"], ["--entry"]),
        (
            ["--entry", "50000", "--mode", "cross", "--wallet", "1", "--other-upnl", "-1e14"],
            ["--other-upnl = -1e14", "[-1e13, 1e13]"],
            ["--wallet"],
        ),
        (
            ["--entry", "50000", "--mode", "cross", "--wallet", "1", "--other-mm", "1e14"],
            ["--other-mm = 1e14", "[0, 1e13]"],
            ["--wallet"],
        ),
        (
            ["--entry", "50000", "--leverage", "10", "--mmr", "1", "--cum", "1e14"],
            ["--cum = 1e14", "[0, 1e13]"],
            ["--mmr ="],
        ),
    ],
)
def test_absurd_magnitudes_name_the_flag_and_its_range(capsys, args, needles, absent):
    code, out, err = cli(capsys, "calc", "--venue", "binance", "--side", "short", *args)
    assert code == 2 and out == "" and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    for needle in needles:
        assert needle in err, err
    for needle in absent:
        assert needle not in err, err


def test_the_largest_allowed_magnitudes_give_finite_answers():
    res = liquidation(venue="binance", side="short", entry=1e9, size=1e4, leverage=1)  # 1e13 USD notional
    assert res["notional_usd"] == 1e13 and 1e9 < res["liquidation_price"] < 2e9
    assert res["bankruptcy_price"] == pytest.approx(2e9)
    res = liquidation(venue="okx", side="long", entry=1e-8, size=100, leverage=1)  # 1e-6 USD notional
    assert res["liquidation_price"] is None and res["bankruptcy_price"] is None


@pytest.mark.parametrize(
    "args, needles",
    [
        (["--mode", "cross", "--wallet", "1000", "--other-upnl", "-1e6x"], ["--other-upnl", "'-1e6x'", "number"]),
        (["--leverage", "10", "--size", "-1e-3"], ["--size = -0.001", "> 0"]),
        (["--leverage", "10", "--size", "-1E-3"], ["--size = -0.001", "> 0"]),
        (["--leverage", "10", "--size", "-.5"], ["--size = -0.5", "> 0"]),
        (["--leverage", "10", "--other-upnl", "-1e6"], ["--other-upnl = -1000000", "only for --mode cross"]),
        (["--mode", "cross", "--wallet", "-2.5e3"], ["--wallet = -2500", "[0, 1e13]"]),
        (["--leverage", "-inf"], ["--leverage = -inf", "≥ 1"]),
        (["--margin", "-NaN"], ["--margin = nan", "(0, 1e13]"]),
    ],
)
def test_negative_numbers_in_any_notation_reach_the_checks(capsys, args, needles):
    code, out, err = cli(capsys, "calc", "--venue", "binance", "--side", "long", "--entry", "50000", *args)
    assert code == 2 and out == "" and "expected one argument" not in err
    for needle in needles:
        assert needle in err, err


def test_negative_scientific_values_are_used_in_cross_mode(capsys):
    base = [
        "calc",
        "--venue",
        "binance",
        "--side",
        "long",
        "--entry",
        "50000",
        "--size",
        "0.02",
        "--mode",
        "cross",
        "--wallet",
        "500",
        "--mmr",
        "0.4",
        "--json",
    ]
    code, out, _ = cli(capsys, *base, "--other-upnl", "-6e1")
    assert code == 0
    expected = liquidation(
        venue="binance", side="long", entry=50_000, size=0.02, mode="cross", wallet=500, mmr=0.4, other_upnl=-60
    )
    assert json.loads(out) == expected and expected["liquidation_wallet"] == 440


@pytest.mark.parametrize("flag, key", [("--other-mm", "other_mm"), ("--other-upnl", "other_upnl")])
@pytest.mark.parametrize("value", ["0", "0.0", "-0"])
def test_cross_only_flags_given_as_zero_in_isolated_mode_are_rejected(capsys, flag, key, value):
    code, out, err = cli(capsys, "calc", "--venue", "binance", *POS, "--leverage", "10", flag, value)
    assert code == 2 and out == ""
    assert f"{flag} = 0: only for --mode cross" in err
    with pytest.raises(ScenarioError, match=f"{flag} = 0: only for --mode cross"):
        liquidation(venue="binance", side="long", entry=50_000, leverage=10, **{key: 0})
    res = liquidation(venue="binance", side="long", entry=50_000, mode="cross", wallet=5000, **{key: 0})
    assert res["liquidation_wallet"] == 5000  # in cross mode 0 is an ordinary value


@pytest.mark.parametrize("side, s", [("long", 1), ("short", -1)])
@pytest.mark.parametrize("size", [0.4, 7.0])
def test_same_position_four_venues(side, s, size):
    # One position (size BTC at 100,000, 20x isolated, default packs) has four liquidation prices, ordered by
    # the maintenance margin each venue's trigger asks per dollar of entry notional: highest → highest long
    # LP and lowest short LP. That rate is the tier MMR (+ the fee where the trigger includes it) less the
    # maintenance amount over the notional: at 0.4 BTC every venue is in a tier with no amount, so the
    # tier rates alone give the order (Bybit 0.33 % < Binance 0.40 % < OKX 0.40 % + 0.05 % fee); at 7 BTC
    # Binance's and Bybit's tier 2 (0.5 %, amounts 300 and 510) ask less than OKX's tier 1 (700 contracts),
    # so Binance passes OKX and the amount has to be counted.
    entry = 100_000.0
    FOUR = ("binance", "bybit", "okx", "hyperliquid")  # the venues these orders were worked out for
    res = {v: liquidation(venue=v, side=side, entry=entry, size=size, leverage=20) for v in FOUR}
    lps = {v: r["liquidation_price"] for v, r in res.items()}
    assert len({round(p, 6) for p in lps.values()}) == 4, lps
    rate = {}
    for v in FOUR:
        lp, mm = reference_lp(v, s, entry, size, size * entry / 20)
        assert lps[v] == pytest.approx(lp, rel=1e-12), v
        rate[v] = mm / (size * entry)
        assert res[v]["trigger_mmr_pct"] == pytest.approx(100 * trigger_rate(v, res[v]["mmr"]))
    by_lp = sorted(FOUR, key=lps.get)
    assert by_lp == sorted(FOUR, key=rate.get)[::s], (rate, lps)
    by_tier_rate = sorted(FOUR, key=lambda v: res[v]["trigger_mmr_pct"])[::s]
    if size == 0.4:
        assert all(r["tier"] == 1 for r in res.values())
        assert all(pack(v).tiers["BTC"][0].maintenance_amount_usd == 0 for v in FOUR)
        assert by_lp == by_tier_rate
    else:
        assert [res[v]["tier"] for v in FOUR] == [2, 2, 1, 1]
        assert by_lp != by_tier_rate


def test_calc_compiles_only_the_margin_kernels():
    code = (
        "import sys; from sim.calc import liquidation; "
        "liquidation(venue='binance', side='long', entry=50000, leverage=10); "
        "bad = [m for m in ('sim.engine', 'sim.kernels.loop', 'sim.world.population') if m in sys.modules]; "
        "assert not bad, bad"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


# --- bad flags --------------------------------------------------------------------------------------------

POS = ["--side", "long", "--entry", "50000"]


@pytest.mark.parametrize(
    "args, needles",
    [
        (["--venue", "kraken", *POS, "--leverage", "10"], ["--venue", "kraken", "binance", "hyperliquid"]),
        (
            ["--venue", "binance", "--side", "sideways", "--entry", "50000", "--leverage", "10"],
            ["--side", "sideways", "long", "short"],
        ),
        (
            ["--venue", "binance", "--side", "long", "--entry", "-5", "--leverage", "10"],
            ["--entry = -5", "[1e-8, 1e9]"],
        ),
        (["--venue", "binance", *POS, "--leverage", "10", "--margin", "500"], ["--leverage", "--margin", "not both"]),
        (["--venue", "binance", *POS], ["--leverage", "--margin", "isolated"]),
        (["--venue", "binance", *POS, "--leverage", "10", "--cum", "50"], ["--cum", "50", "--mmr"]),
        (["--venue", "binance", *POS, "--leverage", "500"], ["--leverage = 500", "binance", "tier"]),
        (["--venue", "binance", *POS, "--leverage", "10", "--wallet", "1000"], ["--wallet", "1000", "cross"]),
        (["--venue", "binance", *POS, "--mode", "cross"], ["--wallet", "cross"]),
        (["--venue", "binance", "--side", "long", "--leverage", "10"], ["--entry", "required"]),
        (["--venue", "binance", *POS, "--leverage", "ten"], ["--leverage", "'ten'", "number"]),
        (["--venue", "binance", *POS, "--leverage", "10", "--mmr", "150"], ["--mmr", "150", "[0, 100)"]),
        (["--venue", "binance", *POS, "--leverage", "10", "--asset", "DOGE"], ["--asset", "DOGE", "BTC"]),
        (["--venue", "binance", *POS, "--leverage", "10", "--version", "1999-01-01"], ["--version", "1999-01-01"]),
    ],
)
def test_bad_flag_exits_2_naming_it(capsys, args, needles):
    assert_refused(cli(capsys, "calc", *args), needles)


def assert_refused(result, needles):
    """``liqsim calc`` ended with exit 2, nothing on stdout, one error line holding every needle, no traceback."""
    code, out, err = result
    assert code == 2 and out == ""
    assert err.startswith("liqsim: error: ")
    for needle in needles:
        assert needle in err
    assert "Traceback" not in err


def test_leverage_cap_names_the_maximum(capsys):
    rows = pack("binance").tiers["BTC"]
    top = [r for r in rows if r.notional_floor_usd <= 50_000][-1].max_leverage
    _, _, err = cli(capsys, "calc", "--venue", "binance", *POS, "--leverage", "500")
    assert f"[1, {top:g}]" in err
    _, _, err = cli(capsys, "calc", "--venue", "binance", *POS, "--leverage", "30", "--max-leverage", "20")
    assert "--leverage = 30" in err and "--max-leverage" in err
    _, _, err = cli(capsys, "calc", "--venue", "binance", *POS, "--margin", "1")
    assert "--margin = 1" in err and f"{50_000 / top:,.2f}" in err


def test_every_problem_is_reported_at_once(capsys):
    code, _, err = cli(capsys, "calc", "--venue", "kraken", "--side", "sideways", "--entry", "-5", "--cum", "3")
    assert code == 2
    lines = err.strip().splitlines()
    assert all(line.startswith("liqsim: error: ") for line in lines)
    for flag in ("--venue", "--side", "--entry", "--cum", "--leverage or --margin"):
        assert any(flag in line for line in lines), flag
    with pytest.raises(ScenarioError) as exc:
        liquidation(venue="kraken", side="sideways", entry=float("nan"), leverage=10)
    assert len(exc.value.problems) == 3


# --- the venue listing ------------------------------------------------------------------------------------


def test_venues_lists_all_four(capsys):
    code, out, _ = cli(capsys, "venues")
    assert code == 0
    for venue in VENUES:
        assert venue in out
    code, out, _ = cli(capsys, "venues", "--verbose")
    assert code == 0 and all(v in out for v in VENUES)
    code, out, _ = cli(capsys, "venues", "--json")
    assert code == 0
    records = json.loads(out)
    assert all(v in json.dumps(records) for v in VENUES)
