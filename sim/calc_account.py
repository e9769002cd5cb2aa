"""The account calculator: several positions in one cross-margin account, one venue's margins, one share-out method.

An account holds a wallet ``W`` (USD: a quote-currency balance, plus the value of any collateral assets after the
venue's haircuts, below) and positions
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

**Share-out of the account's equity** (docs/model.md §2.9; each venue's rule for a cross account, §2.11), by method:

``dydx``
    dYdX v4 closes position ``i`` at its bankruptcy price ``m_i·(1 − s_i·MMF_i·TNC/TMMR)``: the position takes the
    share ``MM_i / TMMR`` of the account's total net collateral ``TNC`` (= ``E``), with ``TMMR = Σ MM_j``. The shares
    sum to ``TNC``, and a close at that price leaves ``TNC / TMMR`` unchanged.
``cross``
    Binance and Bybit in cross margin: a position's bankruptcy price with the others held at their marks is where
    the account's equity is 0, so the position closed first takes the account's whole equity (or deficit); the
    others are then closed at their marks with nothing left. Neither venue publishes the order in which a cross
    account's positions are closed: liqsim assumes the largest maintenance margin first [INF].
``okx``
    OKX in cross margin: a full liquidation hands every cross position to the liquidation engine together, at the
    bankruptcy price (margin ratio 0). How the equity is divided among them is not published; liqsim divides it by
    trigger margin, ``share_i = E·TMM_i / Σ TMM_j`` with ``TMM`` the maintenance margin plus the clearance fee (the
    denominator of OKX's margin ratio) [INF], position ``i`` closing at ``m_i − s_i·share_i/Q_i``.
``hyperliquid``
    Hyperliquid's backstop takes a cross account as a whole (every cross position and the cross margin): the
    positions pass to the liquidator vault at their marks and the equity goes with them to the vault, attributed
    to no position (``account_share_usd``); a negative equity is what sets off ADL.

**Collateral** (docs/model.md §2.10). Besides the plain quote balance ``wallet``, the account may hold collateral
assets ``c`` of amount ``a_c`` at price ``p_c``; each counts as ``p_c × Σ_k slice_k × ratio_k`` under the venue's
table (:mod:`sim.venues.collateral`: the newest pack of each venue; tiered ratios apply slice by slice), and ``W``
is ``wallet + Σ_c value_c``. Stablecoins (USDT, USDC, USDe) are priced at 1 unless ``prices`` says otherwise (a
depeg); any other asset (BTC) needs a price, or, when the account holds a position in the same coin, is valued at
that position's mark, and then moves with it: in that position's liquidation and bankruptcy prices the
collateral's value is ``k·P`` (``k`` its units after the ratios), a root of a piecewise-linear equation solved
exactly piece by piece (:func:`_tied_lp`). Every other collateral is held at its price in the roots.

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
from sim.venues import collateral as collateral_tables

METHODS = E.ACCT_METHOD_NAMES
DEFAULT_METHOD = {venue: E.ACCT_METHOD_NAMES[code] for venue, code in E.VENUE_ACCT_METHOD.items()}


def account(venue, positions, wallet=None, marks=None, version=None, method=None, collateral=None, prices=None) -> dict:
    """Each position's liquidation price with the others held, and the account's share-out by a venue's method.

    Parameters
    ----------
    venue : str
        A venue of :data:`sim.venues.VENUES` (dYdX v4's included).
    positions : sequence
        Each ``(coin, side, size, entry)`` or the text ``"COIN,SIDE,SIZE,ENTRY"``: a coin the venue has tiers for
        (at most one position per coin, as in one-way mode), ``long`` or ``short``, size in coins (> 0) and entry
        price in USD ([1e-8, 1e9]), with a notional ``size × entry`` in [1e-6, 1e13] USD.
    wallet : float, optional
        The account's quote-currency balance, USD, in [−1e13, 1e13] (the positions' realised PnL and fees included;
        negative when realised losses exceed the deposits, as a dYdX subaccount's USDC balance may be). Default 0
        when ``collateral`` is given; one of the two is required.
    marks : mapping or sequence of str, optional
        Mark price by coin (``{"BTC": 108000}`` or ``["BTC=108000"]``), USD in [1e-8, 1e9]; a coin not given is
        marked at its entry price.
    version : str, optional
        The venue's rule-pack version (default: its default pack).
    method : {"cross", "okx", "hyperliquid", "dydx"}, optional
        The share-out method; default the venue's own (:data:`DEFAULT_METHOD`).
    collateral : mapping or sequence of str, optional
        Collateral by asset (``{"BTC": 1.5, "USDe": 20000}`` or ``["BTC=1.5", "USDe=20000"]``): an asset of the pack's
        ``collateral`` table (names as the venue writes them, case-insensitive), amount finite and > 0, at most
        1e13.
    prices : mapping or sequence of str, optional
        USD price by collateral asset (``{"USDe": 0.65}`` or ``["USDe=0.65"]``), in [1e-8, 1e9]. Default: 1 for
        USDT, USDC and USDe. An asset the account also holds a position in is valued at that position's mark (its
        entry when not marked; a price for it is an error: give the mark), and moves with it in that position's
        liquidation and bankruptcy prices; another asset without a price is an error.

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
        account_share_usd, rule}``: the positions' shares plus ``account_share_usd`` sum to the equity;
        ``close_order`` is 1, 2, ... under ``cross``, 1 for every position under ``okx`` (all together) and None
        where no order applies (dYdX's is pseudo-random, Hyperliquid's backstop takes the account at once).

        ``wallet`` is the quote balance, ``collateral`` one dict per asset ``{asset, amount, price, price_from,
        ratio, value_usd}`` (``ratio`` = value / (amount × price), the tiers' blend), ``collateral_usd`` their sum
        and ``margin_balance_usd`` = wallet + collateral_usd, the balance the equity starts from.
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
    given = _pairs(collateral)
    wallet = _wallet(problems, 0.0 if wallet is None and given else wallet)
    rows, named = _positions(problems, positions, venue, pk, coins)
    mark = _marks(problems, marks, rows, named)
    held = _collateral(problems, given, venue, pk)
    price = _prices(problems, prices, held, rows, mark)
    if problems:
        raise ScenarioError(problems)
    assets = [_asset_value(pk, a, q, *price[a]) for a, q in held.items()]
    # a collateral in a position's coin moves with that position's price: k USD of value per USD of price
    tied = {c["asset"]: c["value_usd"] / c["price"] for c in assets if c["price_from"] == "mark"}
    res = _solve(venue, pk, method, wallet + math.fsum(c["value_usd"] for c in assets), rows, mark, tied)
    res.update(
        wallet=wallet,
        collateral=assets,
        collateral_usd=math.fsum(c["value_usd"] for c in assets),
        margin_balance_usd=res["wallet"],
    )
    return res


def _solve(venue, pk, method, wallet, rows, mark, tied=None):
    """The numbers, once every input is valid; ``tied`` maps a coin to the collateral value that moves with its
    price (USD per USD of price)."""
    tied = tied or {}
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
                k=tied.get(coin, 0.0),
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
        "shareout": _shareout(method, pos, equity, mm, tmm, backstop),
    }


def _position(p, w_lp, w_bp):
    """One position's answer: its numbers at the mark, its liquidation and bankruptcy prices with the others held."""
    s, q, ep, m = p["s"], p["q"], p["ep"], p["m"]
    floor, rate, amount, trig, basis = p["arrays"]
    k = p["k"]
    if k:  # collateral in this coin: its value k·P moves with the price too
        lp = _tied_lp(p, w_lp - k * m)
        net = s * q + k
        bp = (s * q * ep - (w_bp - k * m)) / net if net else -1.0
        s_bp = -1 if net < 0 else 1
    else:
        lp = float(position_lp_nb(s, q, ep, w_lp, floor, trig, amount, basis))
        bp = float(bankruptcy_price_nb(s, q, ep, w_bp))
        s_bp = s
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
        "bankruptcy_price": bp if bp > 0 else (0.0 if s_bp < 0 else None),
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


def _tied_lp(p, w0):
    """Liquidation price of a position whose account holds collateral in its coin: the root nearest the mark of
    ``w0 + k·P + s·Q·(P − EP) − TMM(P)``, which is piecewise linear in ``P`` (one piece per tier on the mark
    basis), so each piece's root is exact. 0 (short) or −1 (long) when no root: liquidated at every price or
    at none, as the kernels' convention."""
    s, q, ep, m, k = p["s"], p["q"], p["ep"], p["m"], p["k"]
    floor, _, amount, trig, basis = p["arrays"]

    def f(price):
        return w0 + k * price + s * q * (price - ep) - float(position_mm_nb(q, ep, price, floor, trig, amount, basis))

    cuts = [float(x) / q for x in floor[1:]] if basis == E.MM_MARK else []
    edges = [0.0, *[c for c in cuts if 0 < c < MAX_PRICE_USD * 10], MAX_PRICE_USD * 10]
    roots = []
    for a, b in zip(edges, edges[1:]):
        fa, fb = f(a), f(b)
        if fa == 0 or fa * fb < 0:
            roots.append(a if fa == 0 else a + (b - a) * fa / (fa - fb))
    if roots:
        return min(roots, key=lambda r: abs(r - m))
    return 0.0 if f(m) <= 0 else -1.0


def _shareout(method, pos, equity, mm, tmm, backstop):
    """How the account's equity (a deficit when negative) is shared among its positions by ``method``; ``mm`` and
    ``tmm`` are the account's maintenance and trigger margins."""
    shares = []
    account_share = 0.0
    if method == "dydx":
        rule = (
            "dYdX v4: one position per block, picked from a pseudo-random start; position i closes at "
            "m_i·(1 − s_i·MMF_i·TNC/TMMR), taking the share MM_i/TMMR of the total net collateral TNC"
        )
        for p in pos:
            share = equity * p["mm"] / mm if mm > 0 else 0.0
            shares.append((p, None, p["m"] - p["s"] * share / p["q"], share))
        if mm <= 0:
            account_share = equity
    elif method == "okx":
        rule = (
            "OKX: a full liquidation takes every cross position together at the bankruptcy price; position i takes "
            "the share TMM_i/ΣTMM of the equity (maintenance margin plus clearance fee) [INF: the split is not "
            "published]"
        )
        for p in pos:
            share = equity * p["tmm"] / tmm if tmm > 0 else 0.0
            shares.append((p, 1, p["m"] - p["s"] * share / p["q"], share))
        if tmm <= 0:
            account_share = equity
    elif method == "cross":
        rule = (
            "cross margin: the position closed first takes the whole equity at its bankruptcy price (equity 0 "
            "with the others at their marks); the others close at their marks. Order: largest maintenance margin "
            "first [INF: Binance and Bybit publish none]"
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
        problems.append(f"--wallet: required unless --collateral is given, {allowed}")
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


def _pairs(items):
    """``NAME=VALUE`` items (a mapping, a sequence of text or of pairs) as ``(text, name, value)``; ``None`` for a
    name when the text has no ``=``."""
    if items is None:
        return []
    items = items.items() if isinstance(items, Mapping) else items
    if isinstance(items, str):
        items = [items]
    out = []
    for item in items:
        if isinstance(item, str):
            name, eq, value = item.partition("=")
            out.append((item, name.strip() if eq else None, value))
        else:
            name, value = item
            out.append((f"{name}={value}", str(name).strip(), value))
    return out


def _collateral(problems, given, venue, pk):
    """Amount by collateral asset (the venue's spelling), after a problem for each bad ``ASSET=AMOUNT``."""
    table = dict(pk.collateral) if pk is not None else {}
    spelled = {a.upper(): a for a in table}
    accepted = ", ".join(table) if table else "none: this version has no collateral table (use --wallet)"
    out: dict[str, float] = {}
    for text, name, value in given:
        flag = f"--collateral = {text!r}"
        if name is None:
            problems.append(f"{flag}: must be ASSET=AMOUNT (e.g. BTC=1.5)")
            continue
        asset = spelled.get(name.upper())
        x = _float(value)
        if pk is None:
            continue  # the venue or version is reported already
        if asset is None:
            problems.append(
                f"{flag}: {venue} rules {pk.version} do not accept {name} as collateral; accepted: {accepted}"
            )
        elif x is None or not 0 < x <= MAX_USD:
            problems.append(f"{flag}: the amount must be a finite number in (0, 1e13] ({asset})")
        elif asset in out:
            problems.append(f"{flag}: a second amount of {asset}; give one per asset")
        else:
            out[asset] = x
    return out


def _prices(problems, prices, held, rows, mark):
    """``(price, source)`` by collateral asset: --price, 1 for a stablecoin, or the mark of a position in the coin."""
    marked = {coin: mark.get(coin, ep) for coin, _, _, ep in rows}
    out = {}
    for text, name, value in _pairs(prices):
        flag = f"--price = {text!r}"
        asset = next((a for a in held if name is not None and a.upper() == name.upper()), None)
        x = _float(value)
        if name is None:
            problems.append(f"{flag}: must be ASSET=PRICE (e.g. USDe=0.65)")
        elif x is None or not MIN_PRICE_USD <= x <= MAX_PRICE_USD:
            problems.append(f"{flag}: the price must be a finite number in [1e-8, 1e9] (USD)")
        elif asset is None:
            problems.append(f"{flag}: no --collateral in {name} (collateral given: {', '.join(held) or 'none'})")
        elif asset in out:
            problems.append(f"{flag}: a second price for {asset}; give one per asset")
        elif asset.upper() in marked:
            problems.append(
                f"{flag}: {asset} collateral is valued at the {asset} position's mark: give --mark {asset}=PRICE"
            )
        else:
            out[asset] = (x, "--price")
    for asset in held:
        if asset in out:
            continue
        if asset in collateral_tables.DOLLAR_PRICED:
            out[asset] = (1.0, "par")
        elif asset.upper() in marked:
            out[asset] = (marked[asset.upper()], "mark")
        else:
            problems.append(
                f"--collateral {asset}: needs --price {asset}=PRICE (USD; only USDT, USDC and USDe default to 1, "
                f"and a {asset} position would lend its mark)"
            )
    return out


def _asset_value(pk, asset, amount, price, source):
    value = collateral_tables.value_usd(pk.collateral[asset], amount, price)
    return dict(
        asset=asset,
        amount=amount,
        price=price,
        price_from=source,
        ratio=value / (amount * price),
        value_usd=value,
    )


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
        f"  {'wallet':<20} {usd(res['wallet'])} USD" + (" (quote currency)" if res["collateral"] else ""),
        *_collateral_lines(res, usd),
        f"  {'equity':<20} {usd(res['equity_usd'])} USD ("
        + ("margin balance" if res["collateral"] else "wallet")
        + " + unrealised PnL at the marks)",
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


def _collateral_lines(res, usd):
    """The collateral table and the margin balance, when the account holds collateral."""
    if not res["collateral"]:
        return []
    table = [("  collateral", "amount", "price", "from", "ratio", "value USD")]
    for c in res["collateral"]:
        table.append(
            (
                f"  {c['asset']}",
                f"{c['amount']:,.10g}",
                usd(c["price"]),
                c["price_from"],
                f"{c['ratio']:.6g}",
                usd(c["value_usd"]),
            )
        )
    return _columns(table) + [
        f"  {'margin balance':<20} {usd(res['margin_balance_usd'])} USD (wallet + Σ amount × price × ratio)"
    ]


def _columns(table, left=1):
    """Rows of cells as lines: the first ``left`` columns left-aligned, the others right-aligned."""
    widths = [max(len(row[k]) for row in table) for k in range(len(table[0]))]
    return [
        "  " + "  ".join(c.ljust(w) if k < left else c.rjust(w) for k, (c, w) in enumerate(zip(row, widths))).rstrip()
        for row in table
    ]
