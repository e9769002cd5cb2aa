"""The liquidation-price calculator: one position, one venue's rule pack, the engine's own margin kernels.

A position of side ``s`` (+1 long, −1 short), size ``Q`` coins and entry price ``EP`` backed by a wallet
``W`` has equity ``E(P) = W + s·Q·(P − EP)`` at mark price ``P``. It is liquidated where the equity
falls to the maintenance margin ``MM = notional × MMR(tier) − cum(tier)`` (docs/model.md §2.2), so the answer is
the root of ``E(P) = MM(P)``, solved by :func:`sim.kernels.margin.position_lp_nb`, the function the
engine uses. Venue rules change the answer in three ways (docs/model.md §2.2–§2.4):

* the tier is the one of the notional *at the liquidation price* (Binance, OKX, Hyperliquid), or
  MM is charged on the *entry* value, so the tier is the one at entry (Bybit, ``mm_basis = "entry"``);
  OKX sets its tiers in position size (contracts): the tier is the one of the size and MM is
  ``price × (size × MMR − amount)`` with the amount in coins (the size basis of the engine);
* OKX triggers when equity reaches MM **plus** the clearance fee, i.e. at an effective rate of
  MMR + fee rate (``trigger_includes_fee``); the maintenance amount is unchanged by that shift;
* in cross mode the wallet is the account's whole balance, less the maintenance margin of its other
  positions and plus their unrealised PnL (Binance's formula, docs/model.md §2.4).

An account of several positions (each one's liquidation price with the others held, and the share-out of the
account's equity by a venue's method) is :mod:`sim.calc_account`, built on :func:`margin_arrays` and the same kernels.

Units: prices and money in USD, sizes in coins, rates in percent at this interface (the kernels take
fractions). Entry prices are in [1e-8, 1e9] USD and money (notional, margin, wallet and the cross terms)
at most 1e13 USD in magnitude, the upper bounds of the scenario schema; a notional is at least 1e-6 USD.
Bad input raises :class:`sim.errors.ScenarioError` with one message per problem, each naming the
command-line flag, the bad value and what is allowed.
"""

from __future__ import annotations

import math

import numpy as np

from sim import enums as E
from sim.errors import ScenarioError
from sim.kernels.margin import bankruptcy_price_nb, position_lp_nb, position_mm_nb, tier_nb
from sim.venues import DEFAULTS, VENUES, pack, versions
from sim.venues.tables import half_initial_rows

SIDES = {"long": 1, "short": -1}
MODES = ("isolated", "cross")
MIN_PRICE_USD, MAX_PRICE_USD = 1e-8, 1e9  # entry price bounds; the upper one is market.start_price_usd's
MAX_USD = 1e13  # notional and money bound, as the scenario's USD amounts
MIN_NOTIONAL_USD = 1e-6  # below it the arithmetic would run into subnormal numbers


def liquidation(
    venue="binance",
    side="long",
    entry=None,
    size=1.0,
    leverage=None,
    margin=None,
    mode="isolated",
    wallet=None,
    other_mm=None,
    other_upnl=None,
    mmr=None,
    cum=None,
    max_leverage=None,
    asset="BTC",
    version=None,
) -> dict:
    """Liquidation and bankruptcy price of one position, as an exchange's calculator shows them.

    Parameters
    ----------
    venue : str
        A venue of :data:`sim.venues.VENUES` (``binance``, ``bybit``, ``okx``, ``hyperliquid``).
    side : {"long", "short"}
    entry : float
        Entry price, USD, in [1e-8, 1e9]. Required.
    size : float
        Position size in coins, > 0, with a notional ``size × entry`` in [1e-6, 1e13] USD.
    leverage, margin : float, optional
        Isolated mode: exactly one; the isolated margin is ``margin`` or ``size × entry / leverage``.
        Cross mode: optional, only checked against the maximum leverage. Leverage in [1, max]; margin in
        (0, 1e13], and the leverage it implies (notional / margin) at most the maximum.
    mode : {"isolated", "cross"}
    wallet : float, optional
        Cross mode only, and required there: the account's whole balance, USD, in [0, 1e13].
    other_mm, other_upnl : float, optional
        Cross mode only (given in isolated mode, even as 0, they are an error): maintenance margin
        ([0, 1e13]) and unrealised PnL ([−1e13, 1e13]) of the account's other positions, USD; default 0.
        The liquidation price uses ``wallet − other_mm + other_upnl``, the bankruptcy price
        ``wallet + other_upnl``.
    mmr, cum : float, optional
        Replace the venue's tier table by one tier: MMR in percent, [0, 100); maintenance amount in USD,
        [0, 1e13] (default 0; needs ``mmr``).
    max_leverage : float, optional
        Replace the leverage cap (≥ 1). By default the cap is the maximum leverage of the venue's tier of the
        entry notional, also when ``mmr`` replaces the maintenance rates. On a venue whose maintenance rate
        follows from the asset's maximum leverage (Hyperliquid: ``MMR = 1 / (2 × max leverage)``) it also sets
        the rates: the first tier at this leverage, later ones at the lower of theirs and it.
    asset : str
        An asset of the rule pack (``BTC``, ``ETH``; ``SOL`` and ``ALT`` in the newest packs).
    version : str, optional
        The rule pack's version (a date, see :func:`sim.venues.versions`); by default the venue's
        default pack (:data:`sim.venues.DEFAULTS`).

    Returns
    -------
    dict
        Plain JSON values (float, int, str, bool or None):

        ``liquidation_price``
            USD. None when a long is not liquidated at any positive price. 0 when a short is
            liquidated at every price (its equity is at or below the trigger margin even at a price of
            0, e.g. a cross account far under water); ``liquidated_at_any_price`` is then True.
        ``liquidated_at_any_price``
            True exactly when ``liquidation_price`` is 0 (a short liquidated at every price, so also
            at once: ``below_maintenance_at_entry`` is True too).
        ``bankruptcy_price``
            USD, where the equity is zero (no closing fee). None when a long's equity stays positive at
            every positive price; 0 when a short's equity is negative at every price.
        ``maintenance_margin``
            USD, the maintenance margin proper (without any fee) where the position is liquidated: at the
            liquidation price, or at the entry value on entry-basis venues. On venues whose trigger
            includes the clearance fee the equity at the liquidation price is ``trigger_margin``
            (MM + fee part), not this.
        ``trigger_margin``
            USD, what the equity equals at the liquidation price (MM, plus the fee part where it counts).
        ``tier``
            1-based tier used (at the liquidation price, or at entry on entry-basis venues); None when
            ``mmr`` replaces the table or there is no positive liquidation price. ``maintenance_margin``,
            ``trigger_margin``, ``mmr``, ``trigger_mmr_pct`` and ``distance_pct`` are also None then.
        ``mmr``
            Percent, the MMR of that tier, without fee.
        ``trigger_mmr_pct``
            Percent, the rate the trigger uses (``mmr`` + clearance fee where the trigger includes it).
        ``distance_pct``
            ``(liquidation_price − entry) / entry × 100``, signed.
        ``venue``, ``version``, ``asset``, ``side``, ``mode``, ``margin_basis``, ``entry``, ``size``,
        ``notional_usd``, ``leverage`` (given or implied; None in cross mode without one),
        ``initial_margin`` (USD; the isolated margin), ``max_leverage`` (the cap checked),
        ``liquidation_wallet`` (USD, the wallet the liquidation price is solved for),
        ``below_maintenance_at_entry`` (True when the position would be liquidated at once).

    Raises
    ------
    ScenarioError
        Every problem with the input at once.
    """
    problems: list[str] = []
    venue, side, mode = _lower(venue), _lower(side), _lower(mode)
    asset = asset.strip().upper() if isinstance(asset, str) else asset
    given = {
        "--leverage": leverage is not None,
        "--margin": margin is not None,
        "--wallet": wallet is not None,
        "--other-mm": other_mm is not None,
        "--other-upnl": other_upnl is not None,
    }
    entry = _number(
        problems, "--entry", entry, "in [1e-8, 1e9] (USD)", lambda x: MIN_PRICE_USD <= x <= MAX_PRICE_USD, required=True
    )
    size = _number(problems, "--size", size, "> 0 (coins)", lambda x: x > 0, required=True)
    leverage = _number(problems, "--leverage", leverage, "≥ 1", lambda x: x >= 1)
    margin = _number(problems, "--margin", margin, "in (0, 1e13] (USD)", lambda x: 0 < x <= MAX_USD)
    wallet = _number(problems, "--wallet", wallet, "in [0, 1e13] (USD)", lambda x: 0 <= x <= MAX_USD)
    other_mm = _number(
        problems, "--other-mm", 0.0 if other_mm is None else other_mm, "in [0, 1e13] (USD)", lambda x: 0 <= x <= MAX_USD
    )
    other_upnl = _number(
        problems,
        "--other-upnl",
        0.0 if other_upnl is None else other_upnl,
        "in [-1e13, 1e13] (USD)",
        lambda x: -MAX_USD <= x <= MAX_USD,
    )
    mmr = _number(problems, "--mmr", mmr, "in [0, 100) (percent)", lambda x: 0 <= x < 100)
    cum = _number(problems, "--cum", cum, "in [0, 1e13] (USD)", lambda x: 0 <= x <= MAX_USD)
    max_leverage = _number(problems, "--max-leverage", max_leverage, "≥ 1", lambda x: x >= 1)
    if entry is not None and size is not None and not MIN_NOTIONAL_USD <= size * entry <= MAX_USD:
        problems.append(
            f"--size = {_fmt(size)}: the notional --size × --entry = {_fmt(size * entry)} USD must be "
            f"in [1e-6, 1e13] USD; at --entry {_fmt(entry)} that is --size in "
            f"[{_fmt(MIN_NOTIONAL_USD / entry)}, {_fmt(MAX_USD / entry)}]"
        )
        size = None
    _choice(problems, "--side", side, tuple(SIDES))
    _choice(problems, "--mode", mode, MODES)

    if cum is not None and mmr is None and "--mmr" not in _flags(problems):
        problems.append(f"--cum = {_fmt(cum)}: needs --mmr (together they replace the tier table by one tier)")
    if given["--leverage"] and given["--margin"]:
        problems.append("--leverage and --margin: give one of them, not both (the margin is notional / leverage)")
    elif mode == "isolated" and not (given["--leverage"] or given["--margin"]):
        problems.append(
            "--leverage or --margin: isolated mode needs one of them (the position's margin is "
            "--margin, or notional / --leverage)"
        )
    if mode == "isolated":
        for flag in ("--wallet", "--other-mm", "--other-upnl"):
            if given[flag] and flag not in _flags(problems):
                value = {"--wallet": wallet, "--other-mm": other_mm, "--other-upnl": other_upnl}[flag]
                problems.append(
                    f"{flag} = {_fmt(value)}: only for --mode cross (an isolated position is backed by "
                    "its own margin: --margin, or notional / --leverage)"
                )
    elif mode == "cross" and not given["--wallet"]:
        problems.append("--wallet: required in cross mode, the account's whole balance (USD, ≥ 0)")

    pk, rows, cap = _pack(problems, venue, version), None, None
    if pk is not None:
        if asset not in pk.tiers:
            problems.append(
                f"--asset = {asset!r}: must be one of {', '.join(pk.tiers)} ({pk.venue} rules {pk.version})"
            )
        elif entry is not None:
            rows = pk.tier_rows(asset, entry)  # tiers set in size (OKX) are valued at the entry price
            if max_leverage is not None and pk.mmr_from_max_leverage:
                rows = half_initial_rows(rows, max_leverage)  # Hyperliquid: MMR = 1 / (2 × max leverage)
    if rows is not None and entry is not None and size is not None:
        cap = _check_leverage(problems, pk, asset, rows, size * entry, leverage, margin, max_leverage)
    if pk is not None and mmr is not None and pk.rules.trigger_includes_fee and mmr + pk.rules.clearance_fee_pct >= 100:
        problems.append(
            f"--mmr = {_fmt(mmr)}: with the {_fmt(pk.rules.clearance_fee_pct)}% clearance fee {pk.venue} "
            "counts in the trigger it reaches 100%; must be below "
            f"{_fmt(100 - pk.rules.clearance_fee_pct)}"
        )
    if problems:
        raise ScenarioError(problems)
    return _solve(
        pk,
        asset,
        rows,
        SIDES[side],
        mode,
        entry,
        size,
        size * entry,
        leverage,
        margin,
        wallet,
        other_mm,
        other_upnl,
        mmr,
        cum,
        cap,
    )


def _solve(
    pk, asset, rows, s, mode, entry, size, notional, leverage, margin, wallet, other_mm, other_upnl, mmr, cum, cap
):
    """The numbers, once every input is valid."""
    floor, rate, amount, trigger_rate, basis = margin_arrays(pk, asset, rows, mmr, cum)
    rules = pk.rules
    fee = rules.clearance_fee_pct / 100.0 if rules.trigger_includes_fee else 0.0

    if mode == "isolated":
        initial = margin if margin is not None else notional / leverage
        w_lp = w_bp = initial
    else:
        initial = margin if margin is not None else (notional / leverage if leverage is not None else None)
        w_lp = wallet - other_mm + other_upnl
        w_bp = wallet + other_upnl
    if leverage is None and initial is not None:
        leverage = notional / initial

    lp = position_lp_nb(s, size, entry, w_lp, floor, trigger_rate, amount, basis)
    bp = bankruptcy_price_nb(s, size, entry, w_bp)
    at_entry = position_mm_nb(size, entry, entry, floor, trigger_rate, amount, basis)
    out = {
        "venue": pk.venue,
        "version": pk.version,
        "asset": asset,
        "side": "long" if s > 0 else "short",
        "mode": mode,
        "margin_basis": rules.mm_basis,
        "entry": entry,
        "size": size,
        "notional_usd": notional,
        "leverage": leverage,
        "initial_margin": initial,
        "max_leverage": float(cap),
        "liquidation_wallet": w_lp,
        "liquidation_price": None,
        "liquidated_at_any_price": False,
        "bankruptcy_price": float(bp) if bp > 0 else (0.0 if s < 0 else None),
        "maintenance_margin": None,
        "trigger_margin": None,
        "tier": None,
        "mmr": None,
        "trigger_mmr_pct": None,
        "distance_pct": None,
        "below_maintenance_at_entry": bool(w_lp <= at_entry),
    }
    if lp <= 0 and s < 0:  # the kernels' 0 for a short: at or below the trigger at every price, 0 included
        out.update(liquidation_price=0.0, liquidated_at_any_price=True, below_maintenance_at_entry=True)
    elif lp > 0:
        j = tier_nb(size * {E.MM_SIZE: 1.0, E.MM_ENTRY: entry}.get(basis, lp), floor)
        mmr_pct = mmr if mmr is not None else rows[j].mmr_pct
        out.update(
            liquidation_price=float(lp),
            maintenance_margin=float(position_mm_nb(size, entry, lp, floor, rate, amount, basis)),
            trigger_margin=float(position_mm_nb(size, entry, lp, floor, trigger_rate, amount, basis)),
            tier=None if mmr is not None else int(j) + 1,
            mmr=float(mmr_pct),
            trigger_mmr_pct=float(mmr_pct + 100.0 * fee),
            distance_pct=float((lp - entry) / entry * 100.0),
        )
    return out


def margin_arrays(pk, asset, rows, mmr=None, cum=None):
    """The kernels' tier arrays of ``asset`` under pack ``pk``: ``(floor, rate, amount, trigger_rate, basis)``.

    ``rows`` are the pack's rows in USD (:meth:`Pack.tier_rows`); ``mmr`` (percent) and ``cum`` (USD) replace them by
    one tier. Rates are fractions; ``trigger_rate`` adds the clearance fee where the venue's trigger counts it (a
    constant shift leaves the maintenance amounts' recurrence unchanged); ``basis`` is the margin basis code
    (:data:`sim.enums.MM_MARK`, ``MM_ENTRY``, ``MM_SIZE``: OKX's tiers in size, floors and amounts in coins).
    """
    if mmr is None:
        floor = np.array([r.notional_floor_usd for r in rows], np.float64)
        rate = np.array([r.mmr_pct for r in rows], np.float64) / 100.0
        amount = np.array([r.maintenance_amount_usd for r in rows], np.float64)
    else:
        floor, rate, amount = np.zeros(1), np.array([mmr / 100.0]), np.array([cum or 0.0])
    rules = pk.rules
    fee = rules.clearance_fee_pct / 100.0 if rules.trigger_includes_fee else 0.0
    basis = E.MM_ENTRY if rules.mm_basis == "entry" else E.MM_MARK
    if mmr is None and pk.sized_in_coins(asset):  # OKX: the tier is the one of the size, amounts in coins
        coins = pk.tier_rows(asset, 1.0)
        floor, amount = (
            np.array(c, np.float64) for c in zip(*[(r.notional_floor_usd, r.maintenance_amount_usd) for r in coins])
        )
        basis = E.MM_SIZE
    return floor, rate, amount, rate + fee, basis


def _check_leverage(problems, pk, asset, rows, notional, leverage, margin, max_leverage):
    """The leverage cap at the entry notional; records a problem when the leverage (given or implied) exceeds it."""
    j = tier_nb(notional, np.array([r.notional_floor_usd for r in rows], np.float64))
    if max_leverage is not None:
        cap, where = max_leverage, "--max-leverage"
    else:
        cap = rows[j].max_leverage
        where = f"{pk.venue} rules {pk.version}, {asset} tier {j + 1}, for a notional of {notional:,.2f} USD"
    if leverage is not None and leverage > cap:
        problems.append(f"--leverage = {_fmt(leverage)}: must be in [1, {_fmt(cap)}] ({where})")
    elif margin is not None and notional / margin > cap:
        implied = _fmt(round(notional / margin, 2))
        problems.append(
            f"--margin = {_fmt(margin)}: implies a leverage of {implied} on a notional of "
            f"{notional:,.2f} USD; the maximum is {_fmt(cap)} ({where}), so the margin must be "
            f"≥ {notional / cap:,.2f} USD"
        )
    return cap


def _pack(problems, venue, version):
    """The venue's rule pack, or None after recording why not."""
    if venue not in VENUES:
        problems.append(f"--venue = {venue!r}: must be one of {', '.join(VENUES)}")
        return None
    if version is None or version in versions(venue):
        return pack(venue, version)
    problems.append(
        f"--version = {version!r}: {venue} has rule packs {', '.join(versions(venue))} (default {DEFAULTS[venue]})"
    )
    return None


def _number(problems, flag, value, allowed, ok, required=False):
    """``value`` as a float when it is a finite number that passes ``ok``; else None, after recording a problem."""
    if value is None:
        if required:
            problems.append(f"{flag}: required, a number {allowed}")
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        problems.append(f"{flag} = {value!r}: must be a number {allowed}")
        return None
    x = float(value)
    if not math.isfinite(x) or not ok(x):
        problems.append(f"{flag} = {_fmt(x)}: must be a finite number {allowed}")
        return None
    return x


def _flags(problems):
    """The flags that already have a problem (a follow-up message about them would only repeat it)."""
    return {p.split(" ", 1)[0].rstrip(":") for p in problems}


def _choice(problems, flag, value, allowed):
    if value not in allowed:
        problems.append(f"{flag} = {value!r}: must be one of {', '.join(allowed)}")


def _lower(value):
    return value.strip().lower() if isinstance(value, str) else value


def _fmt(x):
    """A number as the user would type it: 150, 0.4, -5, 50000, 1e-7, 1e14, 12345678901234, 1e300, inf."""
    text = f"{x:.10g}"
    if "e" in text:  # 1e-07 → 1e-7, 1e+300 → 1e300
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    if math.isfinite(x) and x == int(x) and abs(x) < 1e15:
        whole = f"{int(x)}"
        if abs(x) < 1e10 or float(text) != x or len(whole) <= len(text):
            return whole
    return text
