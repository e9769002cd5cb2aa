"""Tiered maintenance margin, liquidation and bankruptcy prices (docs/model.md §2, docs/engine.md §3).

All functions take one position as scalars ``(side, q, ep, w)``: side ±1, size in base units (> 0),
entry price and wallet (USD). Tier arrays: ``floor`` (USD notional, floor[0] = 0, increasing),
``mmr`` (fractions), ``cum`` (maintenance amounts, USD).
"""

import numpy as np

from sim import enums as E
from sim._jit import jit
from sim.state import NEVER


@jit(inline="always", entry=True)
def tier_nb(notional, floor):
    """Index of the last tier whose floor is ≤ ``notional``."""
    j = 0
    for k in range(1, floor.size):
        if floor[k] <= notional:
            j = k
        else:
            break
    return j


@jit(inline="always")
def maintenance_margin_nb(q, price, floor, mmr, cum):
    """MM = notional × MMR(tier) − cum(tier), with the tier of the notional at ``price``."""
    x = q * price
    j = tier_nb(x, floor)
    return x * mmr[j] - cum[j]


@jit(inline="always")
def liquidation_price_nb(side, q, ep, w, floor, mmr, cum):
    """Price where equity equals maintenance margin, with the tier of the notional at that price.

    ``f(P) = W + side·Q·(P − EP) − MM(P)`` is strictly monotone (increasing for a long, decreasing
    for a short), so the root is unique. The tier bracket is found by evaluating ``f`` at the tier
    floors (robust to rounding at a boundary), then the one-tier closed form
    ``(W + cum − side·Q·EP) / (Q·MMR − side·Q)`` is solved and clipped to that bracket.
    Returns 0 for a long that cannot be liquidated at any positive price.
    """
    j = -1
    for k in range(floor.size):
        p_k = floor[k] / q
        f_k = w + side * q * (p_k - ep) - (floor[k] * mmr[k] - cum[k])
        if side * f_k <= 0.0:
            j = k
        else:
            break
    if j < 0:
        return 0.0
    lp = (w + cum[j] - side * q * ep) / (q * mmr[j] - side * q)
    lo = floor[j] / q
    if lp < lo:
        lp = lo
    if j + 1 < floor.size:
        hi = floor[j + 1] / q
        if lp > hi:
            lp = hi
    return lp


@jit(inline="always")
def liquidation_price_entry_nb(side, q, ep, w, floor, mmr, cum):
    """Liquidation price when maintenance margin is charged on the *entry* value (Bybit isolated USDT
    contracts: ``MM = Q·EP·MMR − deduction``, ``LP = EP ∓ (W − MM)/Q``). The tier is the one of the
    entry notional, so MM is a constant and the root is closed form. 0 for a long that cannot be
    liquidated at any positive price."""
    mm = maintenance_margin_nb(q, ep, floor, mmr, cum)
    lp = ep - side * (w - mm) / q
    return max(lp, 0.0)


@jit(inline="always")
def liquidation_price_size_nb(side, q, ep, w, floor, mmr, cum):
    """Liquidation price with tiers set in position size (OKX): ``floor`` and ``cum`` in base units, the
    tier is the one of the size ``Q`` and ``MM(P) = P·(Q·MMR − cum)``, so
    ``LP = (W − s·Q·EP) / (Q·MMR − cum − s·Q)``; 0 for a long that cannot be liquidated."""
    j = tier_nb(q, floor)
    return max((w - side * q * ep) / (q * mmr[j] - cum[j] - side * q), 0.0)


@jit(inline="always", entry=True)
def position_lp_nb(side, q, ep, w, floor, mmr, cum, basis):
    """Liquidation price under the venue's margin basis (0 mark notional, 1 entry value, 2 size)."""
    if basis == 2:
        return liquidation_price_size_nb(side, q, ep, w, floor, mmr, cum)
    if basis == 1:
        return liquidation_price_entry_nb(side, q, ep, w, floor, mmr, cum)
    return liquidation_price_nb(side, q, ep, w, floor, mmr, cum)


@jit(inline="always", entry=True)
def position_mm_nb(q, ep, price, floor, mmr, cum, basis):
    """Maintenance margin of a position at ``price`` under the venue's margin basis."""
    if basis == 2:
        j = tier_nb(q, floor)
        return price * (q * mmr[j] - cum[j])
    x = q * (ep if basis == 1 else price)  # maintenance_margin_nb written out: nested inlining ran ~2x slower
    j = tier_nb(x, floor)
    return x * mmr[j] - cum[j]


@jit(inline="always", entry=True)
def bankruptcy_price_nb(side, q, ep, w):
    """Price where equity is exactly zero (no closing fee)."""
    return ep - side * w / q


@jit(inline="always")
def equity_nb(side, q, ep, w, price):
    return w + side * q * (price - ep)


@jit(inline="always")
def topup_armed_nb(reserve, due):
    """A row with top-up ``reserve`` left and no top-up pending (``due`` = NEVER) would add margin if its margin
    ratio reached the threshold: its trigger key is then its top-up price, else its liquidation price."""
    return reserve > 0.0 and due == NEVER


@jit(inline="always")
def _base_prices_nb(pos, i, tiers):
    """LP, BP and the liquidation key of row ``i``; returns LP."""
    s = pos.side[i]
    q = pos.size[i]
    lp = position_lp_nb(s, q, pos.entry[i], pos.wallet[i], tiers.floor, tiers.mmr, tiers.cum, tiers.basis)
    pos.lp[i] = lp
    pos.bp[i] = bankruptcy_price_nb(s, q, pos.entry[i], pos.wallet[i])
    pos.key[i] = lp if s > 0 else -lp
    return lp


@jit
def _topup_key_nb(pos, i, tiers):
    """An armed row's trigger key: its top-up price, where MM / equity reaches the threshold θ (the liquidation
    price with the rates and amounts divided by θ, ``tu_mmr`` and ``tu_cum``)."""
    s = pos.side[i]
    tp = position_lp_nb(
        s, pos.size[i], pos.entry[i], pos.wallet[i], tiers.floor, tiers.tu_mmr, tiers.tu_cum, tiers.basis
    )
    pos.key[i] = tp if s > 0 else -tp


@jit(inline="always")
def _set_prices_nb(pos, i, tiers):
    _base_prices_nb(pos, i, tiers)
    if topup_armed_nb(pos.reserve[i], pos.tu_due[i]):
        _topup_key_nb(pos, i, tiers)


@jit
def refresh_prices_nb(pos, i, tiers):
    """Recompute LP, BP and trigger key of position row ``i`` after its size or wallet changed."""
    _set_prices_nb(pos, i, tiers)
    pos.version[i] += 1


@jit(entry=True)
def init_prices_nb(pos, tiers, open_code):
    """LP, BP and key of every row (start of a run, and after a funding settlement moved every wallet); rows not
    open are never triggered."""
    # local names for the arrays: read through the tuples inside the loop, the row loop runs ~3x slower
    side, size, entry, wallet, status = pos.side, pos.size, pos.entry, pos.wallet, pos.status
    lps, bps, keys = pos.lp, pos.bp, pos.key
    floor, mmr, cum, basis = tiers.floor, tiers.mmr, tiers.cum, tiers.basis
    for i in range(size.size):
        if status[i] == open_code:
            s = side[i]
            lp = position_lp_nb(s, size[i], entry[i], wallet[i], floor, mmr, cum, basis)
            lps[i] = lp
            bps[i] = bankruptcy_price_nb(s, size[i], entry[i], wallet[i])
            keys[i] = lp if s > 0 else -lp
        else:
            lps[i] = np.nan
            bps[i] = np.nan
            keys[i] = -np.inf
    # a second pass, so the first loop stays tight; _topup_key_nb written out (a call per armed row that takes the
    # tuples costs more than its arithmetic)
    reserve, due, tu_mmr, tu_cum = pos.reserve, pos.tu_due, tiers.tu_mmr, tiers.tu_cum
    for i in range(size.size):
        if status[i] == open_code and topup_armed_nb(reserve[i], due[i]):
            s = side[i]
            tp = position_lp_nb(s, size[i], entry[i], wallet[i], floor, tu_mmr, tu_cum, basis)
            keys[i] = tp if s > 0 else -tp


@jit(entry=True)
def liquidation_prices_nb(side, q, ep, w, floor, mmr, cum, basis, out):
    """Vectorised liquidation price over arrays (population build, calculator)."""
    for i in range(side.size):
        out[i] = position_lp_nb(side[i], q[i], ep[i], w[i], floor, mmr, cum, basis)
    return out


@jit(inline="always")
def _open_nb(s, notional, lev_raw, cross, spare, ep, k, scale, lot, floor, max_lev, tiers, low, high):
    """One position as opened (see :func:`open_and_screen_nb`): ``(alive, size, wallet, liquidation price)``."""
    x = notional * scale
    lev = min(lev_raw, max_lev[tier_nb(x, floor)])
    q = max(np.rint(x / ep / lot), 1.0) * lot
    w = q * ep / lev
    if cross:
        w *= 1.0 + spare
    p = position_lp_nb(s, q, ep, w, tiers[0], tiers[1], tiers[2], tiers[3])
    if s > 0:
        return p < ep and p < low[k], q, w, p
    return p > ep and p > high[k], q, w, p


@jit(entry=True)
def open_and_screen_nb(draws, cross_share, scale, lot, floor, max_lev, tiers, low, high, kept, have, reopen):
    """Positions opened along a price history, and whether they survive to the start (docs/model.md §5.1).

    ``draws`` = ``(side, lev_long, lev_short, notional, u_cross, spare, entry, seg)``, shape (m,) each, a batch as
    drawn: side int8 ±1, the leverage as opened from the longs' and the shorts' mix (the same array when they share
    one), notional USD before scaling, the uniform that makes a cross account (``< cross_share``), spare balance ×
    initial margin, entry price USD and the history segment (int64) of the entry. Each notional is multiplied by
    ``scale``; the leverage is capped at the max leverage of the tier of that notional (``floor``, ``max_lev``); the
    size is rounded to whole ``lot`` s (at least one); the wallet is the initial margin, times ``1 + spare`` for a
    cross account; the liquidation price uses the trigger tiers ``tiers`` = ``(floor, mmr, cum, basis)``. A
    position is alive when that price lies strictly beyond both the entry and the history's extreme from the
    entry's segment to the start (``low``/``high``, running minimum and maximum from the start backwards).

    Survivors are appended, in the order drawn, to ``kept`` = ``(side, lev, notional, mode, spare, entry, seg,
    size, wallet, lp)`` (int8, f8, f8, int8 CROSS/ISOLATED, f8, f8, int64, f8, f8, f8; capacity n, mutated) from row ``have`` on
    until it is full. Returns ``(rows kept in all, survivors in the batch)`` (the batch's survival rate sizes the
    next one, so rows past the capacity are screened too).

    ``reopen``: instead, reopen the first ``have`` kept rows at ``scale`` (:func:`_reopen_nb`; ``draws`` unused,
    returns ``(rows left, 0)``). One kernel for both, so that whatever compiles the screen (``sim.warmup`` builds a
    tiny screened population, too small to need a rescaling) compiles the reopening with it.
    """
    if reopen:
        return _reopen_nb(kept, have, scale, lot, floor, max_lev, tiers, low, high), 0
    side, lev_long, lev_short, notional, u_cross, spare, entry, seg = draws
    k_side, k_lev, k_notional, k_mode, k_spare, k_entry, k_seg, k_size, k_wallet, k_lp = kept
    cap = k_side.size
    alive_n = 0
    for i in range(side.size):
        s = side[i]
        lev = lev_long[i] if s > 0 else lev_short[i]
        cross = u_cross[i] < cross_share
        alive, q, w, p = _open_nb(
            s, notional[i], lev, cross, spare[i], entry[i], seg[i], scale, lot, floor, max_lev, tiers, low, high
        )
        if alive:
            alive_n += 1
            if have < cap:
                k_side[have], k_lev[have], k_notional[have] = s, lev, notional[i]
                k_mode[have] = E.CROSS if cross else E.ISOLATED
                k_spare[have], k_entry[have], k_seg[have] = spare[i], entry[i], seg[i]
                k_size[have], k_wallet[have], k_lp[have] = q, w, p
                have += 1
    return have, alive_n


@jit
def _reopen_nb(kept, have, scale, lot, floor, max_lev, tiers, low, high):
    """Reopen the first ``have`` rows of ``kept`` (as :func:`open_and_screen_nb` keeps them) at a new ``scale``:
    every size, wallet and liquidation price is recomputed and the rows that no longer survive are dropped, the
    others moved up in order (in place). Returns how many are left."""
    side, lev, notional, mode, spare, entry, seg, size, wallet, lp = kept
    j = 0
    for i in range(have):
        alive, q, w, p = _open_nb(
            side[i],
            notional[i],
            lev[i],
            mode[i] == E.CROSS,
            spare[i],
            entry[i],
            seg[i],
            scale,
            lot,
            floor,
            max_lev,
            tiers,
            low,
            high,
        )
        if alive:
            if j < i:
                side[j], lev[j], notional[j], mode[j] = side[i], lev[i], notional[i], mode[i]
                spare[j], entry[j], seg[j] = spare[i], entry[i], seg[i]
            size[j], wallet[j], lp[j] = q, w, p
            j += 1
    return j
