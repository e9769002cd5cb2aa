"""The account calculator: several positions in one cross-margin account, one venue's margins, one share-out method.

An account holds a wallet ``W`` (USD; the only collateral is the quote currency, USDT or USDC) and positions
``i = 1..n`` in distinct coins, each with side ``s_i`` (+1 long, −1 short), size ``Q_i`` coins, entry ``EP_i`` and
current mark ``m_i``. At the marks its equity is ``E = W + Σ uPnL_i`` with ``uPnL_i = s_i·Q_i·(m_i − EP_i)`` and its
maintenance margin is ``MM = Σ MM_i(m_i)``, each position's from the venue's tier table for its coin
(docs/model.md §2.2). The account is liquidatable when ``E`` falls to ``MM`` (docs/model.md §2.9).

**Liquidation price of position i with the others held.** The root in ``P`` of

    W + Σ_{j≠i} uPnL_j(m_j) + s_i·Q_i·(P − EP_i) = Σ_{j≠i} MM_j(m_j) + MM_i(P),

which is the one-position root of :func:`sim.kernels.margin.position_lp_nb` (the engine's) with the wallet
``W − Σ_{j≠i} MM_j + Σ_{j≠i} uPnL_j``: Binance's cross formula with its ``TMM1`` and ``UPNL1`` terms, and Hyperliquid's
``margin_available`` (docs/model.md §2.4). The moving position's tier follows its notional at the root, as in the
one-position calculator (:mod:`sim.calc`); on OKX the clearance fee counts in the trigger of every position.

**Share-out of the account's equity** (docs/model.md §2.9), by method:

``dydx``
    dYdX v4 closes position ``i`` at its bankruptcy price ``m_i·(1 − s_i·MMF_i·TNC/TMMR)``: the position takes the
    share ``MM_i / TMMR`` of the account's total net collateral ``TNC`` (= ``E``), with ``TMMR = Σ MM_j``. The shares
    sum to ``TNC``, and a close at that price leaves ``TNC / TMMR`` unchanged.
``cross``
    Binance, Bybit and OKX in cross margin: a position's bankruptcy price with the others held at their marks is
    where the account's equity is 0, so the position closed first takes the account's whole equity (or deficit);
    the others are then closed at their marks with nothing left. The venues do not publish the order in which a
    cross account's positions are closed: liqsim assumes the largest maintenance margin first [INF].
``hyperliquid``
    Hyperliquid's backstop takes a cross account as a whole (every cross position and the cross margin): the
    positions pass to the liquidator vault at their marks and the equity goes with them to the vault, attributed
    to no position (``account_share_usd``); a negative equity is what sets off ADL.

A venue's default method is its own (``dydx`` for ``venue="dydx"``); ``method`` selects another one, so that the
same account can be shared out under each rule. Every venue's margins, dYdX's included, come from its rule pack.

Bad input raises :class:`sim.errors.ScenarioError` with one message per problem naming the flag, the bad value and
what is allowed.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping

from sim import enums as E
from sim.calc import MAX_PRICE_USD, MAX_USD, MIN_NOTIONAL_USD, MIN_PRICE_USD, SIDES, _fmt, _pack, margin_arrays
from sim.errors import ScenarioError
from sim.kernels.margin import bankruptcy_price_nb, position_lp_nb, position_mm_nb, tier_nb
from sim.venues import VENUES

METHODS = ("cross", "hyperliquid", "dydx")
DEFAULT_METHOD = {"binance": "cross", "bybit": "cross", "okx": "cross", "hyperliquid": "hyperliquid", "dydx": "dydx"}


def account(venue, positions, wallet, marks=None, version=None, method=None) -> dict:
    """Each position's liquidation price with the others held, and the account's share-out by a venue's method.

    Parameters
    ----------
    venue : str
        A venue of :data:`sim.venues.VENUES` (dYdX v4's included).
    positions : sequence
        Each ``(coin, side, size, entry)`` or the text ``"COIN,SIDE,SIZE,ENTRY"``: a coin the venue has tiers for
        (at most one position per coin, as in one-way mode), ``long`` or ``short``, size in coins (> 0) and entry
        price in USD ([1e-8, 1e9]), with a notional ``size × entry`` in [1e-6, 1e13] USD.
    wallet : float
        The account's balance, USD, in [−1e13, 1e13] (the positions' realised PnL and fees included; negative when
        realised losses exceed the deposits, as a dYdX subaccount's USDC balance may be).
    marks : mapping or sequence of str, optional
        Mark price by coin (``{"BTC": 108000}`` or ``["BTC=108000"]``), USD in [1e-8, 1e9]; a coin not given is
        marked at its entry price.
    version : str, optional
        The venue's rule-pack version (default: its default pack).
    method : {"cross", "hyperliquid", "dydx"}, optional
        The share-out method; default the venue's own (:data:`DEFAULT_METHOD`).

    Returns
    -------
    dict
        Plain JSON values. ``equity_usd``, ``maintenance_margin_usd`` (without fee), ``trigger_margin_usd`` (what
        the equity is compared with: the maintenance margin, plus the clearance fee on OKX), ``margin_ratio_pct``
        (trigger margin / equity × 100; None when the equity is ≤ 0), ``liquidatable`` (equity ≤ trigger margin;
        under ``dydx`` strictly below, as dYdX's code has it), ``bankrupt`` (equity ≤ 0), ``backstop`` (Hyperliquid
        only: equity below its backstop fraction of the maintenance margin; else None), ``positions`` (one dict
        each, in the order given) and ``shareout``.

        A position's ``liquidation_price`` is None when the account cannot lose it at any positive price
        (``liquidation`` says ``"none"``), 0 when a short is liquidated at every price
        (``liquidated_at_any_price``); ``bankruptcy_price`` likewise (equity 0 with the others held), and
        ``distance_pct`` is measured from the mark. ``tier`` and ``mmr_pct`` are those at the mark,
        ``liquidation_tier`` the one at the liquidation price.

        ``shareout`` = ``{method, equity_usd, positions: [{coin, close_order, close_price, share_usd}],
        account_share_usd, rule}``: the positions' shares plus ``account_share_usd`` sum to the equity.
    """
    problems: list[str] = []
    venue = venue.strip().lower() if isinstance(venue, str) else venue
    method = method.strip().lower() if isinstance(method, str) else method
    pk = None
    if venue in VENUES:
        pk = _pack(problems, venue, version)
        coins = tuple(pk.tiers) if pk is not None else ()
    else:
        problems.append(f"--venue = {venue!r}: must be one of {', '.join(VENUES)}")
        coins = ()
    if method is None:
        method = DEFAULT_METHOD.get(venue)
    elif method not in METHODS:
        problems.append(f"--method = {method!r}: must be one of {', '.join(METHODS)}")
    wallet = _wallet(problems, wallet)
    rows, named = _positions(problems, positions, venue, pk, coins)
    mark = _marks(problems, marks, rows, named)
    if problems:
        raise ScenarioError(problems)
    return _solve(venue, pk, method, wallet, rows, mark)


def _solve(venue, pk, method, wallet, rows, mark):
    """The numbers, once every input is valid."""
    pos = []
    for coin, s, q, ep in rows:
        m = mark.get(coin, ep)
        floor, rate, amount, trig, basis = _margins(pk, coin, ep)
        pos.append(
            dict(
                coin=coin,
                s=s,
                q=q,
                ep=ep,
                m=m,
                arrays=(floor, rate, amount, trig, basis),
                upnl=s * q * (m - ep),
                mm=float(position_mm_nb(q, ep, m, floor, rate, amount, basis)),
                tmm=float(position_mm_nb(q, ep, m, floor, trig, amount, basis)),
            )
        )
    equity = wallet + math.fsum(p["upnl"] for p in pos)
    mm = math.fsum(p["mm"] for p in pos)
    tmm = math.fsum(p["tmm"] for p in pos)
    out_pos = []
    for i, p in enumerate(pos):
        others = [o for k, o in enumerate(pos) if k != i]
        other_upnl = math.fsum(o["upnl"] for o in others)
        other_tmm = math.fsum(o["tmm"] for o in others)
        out_pos.append(_position(p, wallet - other_tmm + other_upnl, wallet + other_upnl))
    if method == "dydx":
        liquidatable = mm > 0 and mm > equity  # dYdX: liquidatable when MMR > 0 and MMR > TNC
    else:
        liquidatable = equity <= tmm
    backstop = None
    if venue == "hyperliquid" and pk.rules.backstop_mm_fraction > 0:
        backstop = bool(equity < pk.rules.backstop_mm_fraction * mm)
    return {
        "venue": venue,
        "version": pk.version,
        "method": method,
        "margin_basis": pk.rules.mm_basis,
        "wallet": wallet,
        "equity_usd": equity,
        "maintenance_margin_usd": mm,
        "trigger_margin_usd": tmm,
        "margin_ratio_pct": tmm / equity * 100.0 if equity > 0 else None,
        "liquidatable": bool(liquidatable),
        "bankrupt": bool(equity <= 0),
        "backstop": backstop,
        "positions": out_pos,
        "shareout": _shareout(method, pos, equity, mm, backstop),
    }


def _position(p, w_lp, w_bp):
    """One position's answer: its numbers at the mark, its liquidation and bankruptcy prices with the others held."""
    s, q, ep, m = p["s"], p["q"], p["ep"], p["m"]
    floor, rate, amount, trig, basis = p["arrays"]
    lp = float(position_lp_nb(s, q, ep, w_lp, floor, trig, amount, basis))
    bp = float(bankruptcy_price_nb(s, q, ep, w_bp))
    out = {
        "coin": p["coin"],
        "side": "long" if s > 0 else "short",
        "size": q,
        "entry": ep,
        "mark": m,
        "notional_usd": q * m,
        "upnl_usd": p["upnl"],
        "maintenance_margin_usd": p["mm"],
        "trigger_margin_usd": p["tmm"],
        "tier": _tier(q, ep, m, floor, basis) + 1,
        "mmr_pct": float(rate[_tier(q, ep, m, floor, basis)] * 100.0),
        "liquidation_wallet": w_lp,
        "liquidation_price": None,
        "liquidated_at_any_price": False,
        "liquidation_tier": None,
        "distance_pct": None,
        "bankruptcy_price": bp if bp > 0 else (0.0 if s < 0 else None),
    }
    if lp <= 0 and s < 0:  # the kernels' 0 for a short: at or below the trigger at every price
        out.update(liquidation_price=0.0, liquidated_at_any_price=True)
    elif lp > 0:
        out.update(
            liquidation_price=lp,
            liquidation_tier=_tier(q, ep, lp, floor, basis) + 1,
            distance_pct=(lp - m) / m * 100.0,
        )
    return out


def _shareout(method, pos, equity, mm, backstop):
    """How the account's equity (a deficit when negative) is shared among its positions by ``method``."""
    shares = []
    account_share = 0.0
    if method == "dydx":
        rule = (
            "dYdX v4: position i closes at m_i·(1 − s_i·MMF_i·TNC/TMMR), taking the share MM_i/TMMR of the "
            "total net collateral TNC"
        )
        for p in pos:
            share = equity * p["mm"] / mm if mm > 0 else 0.0
            shares.append((p, None, p["m"] - p["s"] * share / p["q"], share))
        if mm <= 0:
            account_share = equity
    elif method == "cross":
        rule = (
            "cross margin: the position closed first takes the whole equity at its bankruptcy price (equity 0 "
            "with the others at their marks); the others close at their marks. Order: largest maintenance margin "
            "first [INF: not published]"
        )
        order = sorted(range(len(pos)), key=lambda k: (-pos[k]["mm"], k))
        rank = {k: r + 1 for r, k in enumerate(order)}
        for k, p in enumerate(pos):
            share = equity if rank[k] == 1 else 0.0
            shares.append((p, rank[k], p["m"] - p["s"] * share / p["q"], share))
    else:
        rule = (
            "Hyperliquid: the backstop takes the whole cross account; every position passes to the liquidator "
            "vault at its mark and the equity goes to the vault with them (a deficit sets off ADL)"
            + ("" if backstop is None else f"; backstop now: {'yes' if backstop else 'no'}")
        )
        for p in pos:
            shares.append((p, None, p["m"], 0.0))
        account_share = equity
    return {
        "method": method,
        "equity_usd": equity,
        "positions": [
            {
                "coin": p["coin"],
                "close_order": order_k,
                "close_price": price if price > 0 else (0.0 if p["s"] < 0 else None),
                "share_usd": share,
            }
            for p, order_k, price, share in shares
        ],
        "account_share_usd": account_share,
        "rule": rule,
    }


def _tier(q, ep, price, floor, basis):
    """0-based tier of a position at ``price`` under the margin basis (size, entry value or notional at the price)."""
    x = q if basis == E.MM_SIZE else q * (ep if basis == E.MM_ENTRY else price)
    return int(tier_nb(x, floor))


def _margins(pk, coin, entry):
    """The kernels' tier arrays of ``coin``: ``(floor, rate, amount, trigger_rate, basis)``."""
    return margin_arrays(pk, coin, pk.tier_rows(coin, entry))


def _wallet(problems, wallet):
    allowed = "a finite number in [-1e13, 1e13] (USD, the account's balance)"
    if wallet is None:
        problems.append(f"--wallet: required, {allowed}")
        return None
    x = _float(wallet)
    if x is None or not -MAX_USD <= x <= MAX_USD:
        problems.append(f"--wallet = {_show(wallet)}: must be {allowed}")
        return None
    return x


def _positions(problems, positions, venue, pk, coins):
    """The valid positions as ``(coin, side, size, entry)`` tuples, after recording a problem for each bad one."""
    fmt = "COIN,SIDE,SIZE,ENTRY (e.g. BTC,long,2,110000)"
    if isinstance(positions, str) or not positions:
        problems.append(f"--position: at least one, each {fmt}")
        return [], set()
    where = f"{venue} rules {pk.version}" if pk is not None else f"{venue}"
    rows, seen = [], set()
    for item in positions:
        fields = [f.strip() for f in item.split(",")] if isinstance(item, str) else _fields(item)
        text = item if isinstance(item, str) else ",".join(str(f) for f in fields)
        flag = f"--position = {text!r}"
        if len(fields) != 4:
            problems.append(f"{flag}: must be {fmt}, four fields, not {len(fields)}")
            seen.add(fields[0].strip().upper() if fields and isinstance(fields[0], str) else None)
            continue
        coin, side, size, entry = fields
        coin = coin.strip().upper() if isinstance(coin, str) else coin
        side = side.strip().lower() if isinstance(side, str) else side
        size, entry = _float(size), _float(entry)
        bad = len(problems)
        if coins and coin not in coins:
            problems.append(f"{flag}: no tier table for coin {coin!r} in {where}; coins with one: {', '.join(coins)}")
        elif coin in seen:
            problems.append(f"{flag}: a second {coin} position; one position per coin (one-way mode): net them")
        if side not in SIDES:
            problems.append(f"{flag}: side {fields[1]!r} must be one of {', '.join(SIDES)}")
        if size is None or size <= 0:
            problems.append(f"{flag}: size {fields[2]!r} must be a finite number > 0 (coins)")
        if entry is None or not MIN_PRICE_USD <= entry <= MAX_PRICE_USD:
            problems.append(f"{flag}: entry {fields[3]!r} must be a finite number in [1e-8, 1e9] (USD)")
        elif size is not None and size > 0 and not MIN_NOTIONAL_USD <= size * entry <= MAX_USD:
            problems.append(f"{flag}: the notional size × entry = {_fmt(size * entry)} USD must be in [1e-6, 1e13] USD")
        seen.add(coin)
        if len(problems) == bad:
            rows.append((coin, SIDES[side], size, entry))
    return rows, seen


def _marks(problems, marks, rows, named):
    """Mark price by coin; a problem for each bad ``COIN=PRICE``, coin without a position or notional out of range."""
    if marks is None:
        return {}
    items = marks.items() if isinstance(marks, Mapping) else marks
    if isinstance(items, str):
        items = [items]
    held = {coin: q for coin, _, q, _ in rows}
    out = {}
    for item in items:
        if isinstance(item, str):
            text = item
            coin, eq, price = item.partition("=")
            if not eq:
                problems.append(f"--mark = {text!r}: must be COIN=PRICE (e.g. BTC=108000)")
                continue
        else:
            coin, price = item
            text = f"{coin}={price}"
        coin = coin.strip().upper() if isinstance(coin, str) else coin
        x = _float(price)
        flag = f"--mark = {text!r}"
        if x is None or not MIN_PRICE_USD <= x <= MAX_PRICE_USD:
            problems.append(f"{flag}: the price must be a finite number in [1e-8, 1e9] (USD)")
        elif coin in out:
            problems.append(f"{flag}: a second mark for {coin}; give one per coin")
        elif coin not in held:
            if coin not in named:  # a named position with a problem of its own is reported already
                problems.append(
                    f"{flag}: no position in {coin!r} (positions named: {', '.join(sorted(c for c in named if isinstance(c, str)))})"
                )
        elif not MIN_NOTIONAL_USD <= held[coin] * x <= MAX_USD:
            problems.append(f"{flag}: the notional size × mark = {_fmt(held[coin] * x)} USD must be in [1e-6, 1e13]")
        else:
            out[coin] = x
    return out


def _fields(item):
    """A position given as a sequence, as a list (a non-sequence is one field, reported as such)."""
    try:
        return list(item)
    except TypeError:
        return [item]


def _float(value):
    """``value`` as a finite float (numbers, or text as ``float`` reads it), else None."""
    if isinstance(value, bool):
        return None
    try:
        x = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _show(value):
    return _fmt(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else repr(value)


def account_text(res) -> str:
    """The account calculator's answer as aligned lines and two small tables (``liqsim calc --position``)."""

    def usd(x):
        if x is None:
            return "none"
        return f"{x:,.2f}" if x == 0 or abs(x) >= 1 else f"{x:.6g}"

    ratio = res["margin_ratio_pct"]
    lines = [
        f"  {'account':<20} {res['venue']}, rules of {res['version']}; share-out by the {res['method']} method",
        f"  {'wallet':<20} {usd(res['wallet'])} USD",
        f"  {'equity':<20} {usd(res['equity_usd'])} USD (wallet + unrealised PnL at the marks)",
        f"  {'maintenance margin':<20} {usd(res['maintenance_margin_usd'])} USD"
        + (
            f" (the trigger adds the clearance fee: {usd(res['trigger_margin_usd'])})"
            if res["trigger_margin_usd"] != res["maintenance_margin_usd"]
            else ""
        ),
        f"  {'margin ratio':<20} "
        + (f"{ratio:.2f}% (liquidated at 100%)" if ratio is not None else "none: the equity is at or below 0"),
        f"  {'liquidatable now':<20} "
        + ("yes" if res["liquidatable"] else "no")
        + (" (bankrupt: equity ≤ 0)" if res["bankrupt"] else "")
        + ("" if res["backstop"] is None else f"; backstop by the vault now: {'yes' if res['backstop'] else 'no'}"),
        "",
        "  liquidation price: where the account's equity meets its maintenance margin as that coin moves, the others",
        "  held at their marks; bankruptcy: where the equity is 0",
    ]
    head = (
        "coin",
        "side",
        "size",
        "entry",
        "mark",
        "notional",
        "uPnL",
        "MM",
        "tier (MMR)",
        "liquidation",
        "from mark",
        "bankruptcy",
    )
    table: list[tuple[str, ...]] = [head]
    for p in res["positions"]:
        if p["liquidated_at_any_price"]:
            lp, dist = "any price", ""
        elif p["liquidation_price"] is None:
            lp, dist = "none", ""
        else:
            lp, dist = usd(p["liquidation_price"]), f"{p['distance_pct']:+.2f}%"
        bp = "any price" if p["bankruptcy_price"] == 0 else usd(p["bankruptcy_price"])
        table.append(
            (
                p["coin"],
                p["side"],
                f"{p['size']:g}",
                usd(p["entry"]),
                usd(p["mark"]),
                usd(p["notional_usd"]),
                usd(p["upnl_usd"]),
                usd(p["maintenance_margin_usd"]),
                f"{p['tier']} ({p['mmr_pct']:g}%)",
                lp,
                dist,
                bp,
            )
        )
    lines += _columns(table, left=2)
    share = res["shareout"]
    rule = f"share-out of the equity ({share['method']}): {share['rule']}"
    lines += ["", *textwrap.wrap(rule, 110, initial_indent="  ", subsequent_indent="    ")]
    ordered = any(p["close_order"] is not None for p in share["positions"])
    table = [("coin", *(("order",) if ordered else ()), "close price", "share of equity")]
    for p in share["positions"]:
        order = (str(p["close_order"]),) if ordered else ()
        table.append((p["coin"], *order, usd(p["close_price"]), usd(p["share_usd"])))
    blank = ("",) * (len(table[0]) - 2)
    if share["account_share_usd"] or share["method"] == "hyperliquid":
        table.append(
            (
                "account (to the vault)" if share["method"] == "hyperliquid" else "account",
                *blank,
                usd(share["account_share_usd"]),
            )
        )
    table.append(("total", *blank, usd(share["equity_usd"])))
    lines += _columns(table)
    return "\n".join(lines)


def _columns(table, left=1):
    """Rows of cells as lines: the first ``left`` columns left-aligned, the others right-aligned."""
    widths = [max(len(row[k]) for row in table) for k in range(len(table[0]))]
    return [
        "  " + "  ".join(c.ljust(w) if k < left else c.rjust(w) for k, (c, w) in enumerate(zip(row, widths))).rstrip()
        for row in table
    ]
