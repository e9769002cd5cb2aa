"""The liquidation waterfall (model §3, docs/engine.md §7–§8).

One call does one unit of work and writes at most three fill records, so the loop can stop for a
bigger fill buffer between any two calls and resume exactly:

* :func:`next_triggered_nb` finds the next position a mark move liquidates through the sorted index
  and the re-index heap, O(log n) per position crossed;
* :func:`liquidate_nb` runs the partial-or-full decision, the IOC order on the book, bankruptcy
  settlement, the insurance-fund delta and the fund takeover, and leaves any remainder to ADL;
* :func:`adl_step_nb` closes one ranked opposite position against the bankrupt order.
"""

import math

import numpy as np

from sim import enums as E
from sim import state as S
from sim._jit import jit
from sim.kernels.book import walk_nb
from sim.kernels.heap import heap_compact_nb, heap_pop_nb, heap_push_nb
from sim.kernels.margin import equity_nb, maintenance_margin_nb, refresh_prices_nb, tier_nb


@jit
def record_nb(fl, si, t, kind, account, side, qty, price, bp, fund_delta, fee, mark):
    k = si[S.I_NFILLS]
    fl.t[k] = t
    fl.kind[k] = kind
    fl.account[k] = account
    fl.side[k] = side
    fl.qty[k] = qty
    fl.price[k] = price
    fl.bp[k] = bp
    fl.fund_delta[k] = fund_delta
    fl.fee[k] = fee
    fl.mark[k] = mark
    si[S.I_NFILLS] = k + 1


@jit
def fund_trade_nb(sf, dq, price):
    """The fund buys ``dq`` (signed) at ``price``; returns the PnL it realizes (its fund_delta)."""
    q = sf[S.F_FUND_Q]
    avg = sf[S.F_FUND_AVG]
    realized = 0.0
    sf[S.F_FUND_CASH] -= dq * price
    if q == 0.0 or (q > 0.0) == (dq > 0.0):
        sf[S.F_FUND_AVG] = (abs(q) * avg + abs(dq) * price) / (abs(q) + abs(dq))
        sf[S.F_FUND_Q] = q + dq
    else:
        close = min(abs(dq), abs(q))
        realized = close * (price - avg) * (1.0 if q > 0.0 else -1.0)
        new_q = q + dq
        if abs(dq) > abs(q):
            sf[S.F_FUND_AVG] = price
        elif abs(dq) == abs(q):
            new_q = 0.0
            sf[S.F_FUND_AVG] = 0.0
        sf[S.F_FUND_Q] = new_q
    fund_add_nb(sf, realized)
    return realized


@jit
def set_last_nb(sf, price):
    """A trade printed at ``price``: the new last price, and the run's extremes of it."""
    sf[S.F_LAST] = price
    if price < sf[S.F_MIN_LAST]:
        sf[S.F_MIN_LAST] = price
    if price > sf[S.F_MAX_LAST]:
        sf[S.F_MAX_LAST] = price


@jit
def fund_equity_nb(sf, mark):
    """The fund's equity with its inventory valued at ``mark`` (what it could really pay)."""
    return sf[S.F_FUND_CASH] + sf[S.F_FUND_Q] * mark


@jit
def fund_add_nb(sf, amount):
    sf[S.F_FUND_BAL] += amount
    if sf[S.F_FUND_BAL] < sf[S.F_FUND_MIN]:
        sf[S.F_FUND_MIN] = sf[S.F_FUND_BAL]


@jit
def maker_trade_nb(sf, dq, price):
    """The maker account buys ``dq`` (signed) at ``price``."""
    sf[S.F_MAKER_Q] += dq
    sf[S.F_MAKER_CASH] -= dq * price


@jit
def reduce_position_nb(pos, sf, i, qty, price):
    """Close ``qty`` of row ``i`` at ``price``: realize PnL into the wallet, shrink the size."""
    s = pos.side[i]
    pos.wallet[i] += s * qty * (price - pos.entry[i])
    pos.size[i] -= qty
    if pos.kind[i] == E.TRADER:
        if s > 0:
            sf[S.F_OI_LONG] -= qty
        else:
            sf[S.F_OI_SHORT] -= qty


@jit
def heap_insert_nb(pos, trig, si, i):
    """Push row ``i``'s current key and version onto its side's re-index heap."""
    h = 0 if pos.side[i] > 0 else 1
    slot = S.I_HEAP_LONG if h == 0 else S.I_HEAP_SHORT
    n = si[slot]
    if n >= trig.heap_key.shape[1]:
        n = heap_compact_nb(
            trig.heap_key[h], trig.heap_id[h], trig.heap_ver[h], n, pos.version, pos.status, E.OPEN
        )
    si[slot] = heap_push_nb(trig.heap_key[h], trig.heap_id[h], trig.heap_ver[h], n, pos.key[i], i, pos.version[i])


@jit
def reindex_nb(pos, trig, si, i, tiers):
    """Recompute row ``i``'s prices and put it back in the trigger index, unless it waits in the
    deferred list for the next tick (then the flush indexes its latest key)."""
    refresh_prices_nb(pos, i, tiers.floor, tiers.mmr, tiers.cum)
    if pos.eligible[i] <= si[S.I_TICK]:
        heap_insert_nb(pos, trig, si, i)


@jit
def flush_deferred_nb(pos, trig, si):
    """Make positions partially liquidated in the previous tick eligible again."""
    for k in range(si[S.I_NDEFER]):
        i = trig.deferred[k]
        if pos.status[i] == E.OPEN:
            heap_insert_nb(pos, trig, si, i)
    si[S.I_NDEFER] = 0


@jit
def next_triggered_nb(pos, trig, si, side, mark):
    """Pop the next position of ``side`` that ``mark`` liquidates, or return -1.

    Candidates are the first valid entry of the sorted start-of-run index and the top of the heap of
    re-indexed positions; the larger ``(key, -id)`` wins. Stale entries are dropped on the way.
    """
    h = 0 if side > 0 else 1
    order = trig.order_long if side > 0 else trig.order_short
    cslot = S.I_CUR_LONG if side > 0 else S.I_CUR_SHORT
    hslot = S.I_HEAP_LONG if side > 0 else S.I_HEAP_SHORT
    cur = si[cslot]
    while cur < order.size:
        k = order[cur]
        if pos.status[k] == E.OPEN and pos.version[k] == 0:
            break
        cur += 1
    si[cslot] = cur
    hk = trig.heap_key[h]
    hi = trig.heap_id[h]
    hv = trig.heap_ver[h]
    n = si[hslot]
    while n > 0:
        k = hi[0]
        if pos.status[k] == E.OPEN and hv[0] == pos.version[k]:
            break
        n = heap_pop_nb(hk, hi, hv, n)
    si[hslot] = n
    c_id = order[cur] if cur < order.size else -1
    h_id = hi[0] if n > 0 else -1
    if c_id < 0 and h_id < 0:
        return -1
    use_heap = c_id < 0 or (
        h_id >= 0 and (hk[0] > pos.key[c_id] or (hk[0] == pos.key[c_id] and h_id < c_id))
    )
    best = h_id if use_heap else c_id
    if pos.key[best] < side * mark:
        return -1
    if use_heap:
        si[hslot] = heap_pop_nb(hk, hi, hv, n)
    else:
        si[cslot] = cur + 1
    return best


@jit
def liquidate_nb(i, t, pos, tiers, book, trig, fl, sf, si, p):
    """Liquidate triggered row ``i``: partial step-down if a lower tier suffices, else in full."""
    s = pos.side[i]
    q = pos.size[i]
    m = sf[S.F_MARK]
    j = tier_nb(q * m, tiers.floor)
    if j > 0:
        equity = equity_nb(s, q, pos.entry[i], pos.wallet[i], m)
        for jj in range(j - 1, -1, -1):
            keep = math.floor(min(q, tiers.floor[jj + 1] / m) / p.lot) * p.lot
            r = q - keep
            if keep > 0.0 and equity - p.clearance * r * m > keep * m * tiers.mmr[jj] - tiers.cum[jj]:
                if _partial_nb(i, r, t, pos, tiers, book, trig, fl, sf, si, p):
                    return
                break
    _full_nb(i, t, pos, book, fl, sf, si, p)


@jit
def _partial_nb(i, r, t, pos, tiers, book, trig, fl, sf, si, p):
    """IOC reduction of ``r`` never worse than bankruptcy.

    Returns True when the position came out compliant (equity above the maintenance margin of what
    is left, at the mark); False when nothing filled or it is still under water after the fill and
    the fee, in which case the caller closes the rest in full at once (Binance's step 3 → 4).
    """
    s = pos.side[i]
    m = sf[S.F_MARK]
    bp = pos.bp[i]
    filled, notional, last = walk_nb(book, -s, r, bp, sf[S.F_INDEX], t, p, sf, si)
    if filled <= 0.0:
        return False
    price = notional / filled
    reduce_position_nb(pos, sf, i, filled, price)
    maker_trade_nb(sf, s * filled, price)
    equity = equity_nb(s, pos.size[i], pos.entry[i], pos.wallet[i], m)
    fee = min(p.clearance * filled * price, max(0.0, equity))
    pos.wallet[i] -= fee
    sf[S.F_FUND_CASH] += fee
    fund_add_nb(sf, fee)
    set_last_nb(sf, last)
    sf[S.F_LIQ_NOTIONAL] += filled * price
    record_nb(fl, si, t, E.PARTIAL, i, -s, filled, price, bp, fee, fee, m)
    si[S.I_PARTIAL] += 1
    refresh_prices_nb(pos, i, tiers.floor, tiers.mmr, tiers.cum)
    if equity - fee <= maintenance_margin_nb(pos.size[i], m, tiers.floor, tiers.mmr, tiers.cum):
        return False
    pos.eligible[i] = si[S.I_TICK] + 1
    trig.deferred[si[S.I_NDEFER]] = i
    si[S.I_NDEFER] += 1
    return True


@jit
def _full_nb(i, t, pos, book, fl, sf, si, p):
    """Close row ``i`` in full: book fill vs bankruptcy, then fund takeover, then ADL.

    The IOC order may fill up to ``band`` beyond bankruptcy only while the fund has equity (at the
    mark) to pay the gap; the fund takes over only what its equity can carry after marking the
    position to the mark (so an under-water fund hands the rest to ADL).
    """
    s = pos.side[i]
    m = sf[S.F_MARK]
    bp = pos.bp[i]
    limit = bp * (1.0 - s * p.band) if fund_equity_nb(sf, m) > 0.0 else bp
    filled, notional, last = walk_nb(book, -s, pos.size[i], limit, sf[S.F_INDEX], t, p, sf, si)
    if filled > 0.0:
        price = notional / filled
        fund_delta = s * filled * (price - bp)
        fee = min(p.clearance * filled * price, max(0.0, fund_delta))
        reduce_position_nb(pos, sf, i, filled, bp)
        maker_trade_nb(sf, s * filled, price)
        sf[S.F_FUND_CASH] += fund_delta
        fund_add_nb(sf, fund_delta)
        set_last_nb(sf, last)
        sf[S.F_LIQ_NOTIONAL] += filled * price
        record_nb(fl, si, t, E.LIQUIDATION, i, -s, filled, price, bp, fund_delta, fee, m)
    rem = pos.size[i]
    if rem > p.lot * 1e-9:
        take = rem
        if p.adl_enabled:
            take = min(rem, takeover_capacity_nb(sf, s, bp, m, p.max_inventory))
        if take > 0.0:
            takeover_nb(i, take, t, pos, fl, sf, si)
        rem = pos.size[i]
        if rem > p.lot * 1e-9:
            sf[S.F_ADL_REM] = rem
            sf[S.F_ADL_PRICE] = bp
            si[S.I_ADL_SRC] = i
            return
    pos.status[i] = E.LIQUIDATED
    si[S.I_FULL] += 1


@jit
def takeover_capacity_nb(sf, side, bp, mark, max_inventory):
    """Base units of a side-``side`` position the fund can take at ``bp``.

    With ``E`` the fund's equity at the mark and ``k`` its inventory limit (a multiple of equity), a
    takeover of ``y`` costs ``y·max(0, side·(bp − mark))`` of equity at once; the fund takes the
    largest ``y`` whose inventory after it, valued at the mark, stays within ``k`` times its equity
    after it. Nothing when the fund has no equity left.
    """
    equity = fund_equity_nb(sf, mark)
    if equity <= 0.0:
        return 0.0
    loss = max(0.0, side * (bp - mark))
    room = max_inventory * equity - side * sf[S.F_FUND_Q] * mark
    return max(0.0, room / (mark + max_inventory * loss))


@jit
def takeover_nb(i, qty, t, pos, fl, sf, si):
    """The fund takes ``qty`` of row ``i`` at its bankruptcy price."""
    s = pos.side[i]
    bp = pos.bp[i]
    realized = fund_trade_nb(sf, s * qty, bp)
    reduce_position_nb(pos, sf, i, qty, bp)
    sf[S.F_LIQ_NOTIONAL] += qty * bp
    record_nb(fl, si, t, E.TAKEOVER, i, -s, qty, bp, bp, realized, 0.0, sf[S.F_MARK])


@jit
def rank_nb(pos, trig, exclude, side, price):
    """ADL queue of rows on ``side`` at ``price``: score PnL% × effective leverage (PnL% / leverage
    when losing), highest first, ties by id; rows with no equity left are excluded."""
    n = 0
    for c in range(pos.size.size):
        if pos.side[c] != side or pos.status[c] != E.OPEN or c == exclude:
            continue
        q = pos.size[c]
        if q <= 0.0:
            continue
        ep = pos.entry[c]
        pnl = side * (price - ep) / ep
        eq = pos.wallet[c] + side * q * (price - ep)
        if eq <= 0.0:
            continue
        lev = q * price / eq
        trig.rank[n] = c
        trig.rank_score[n] = -(pnl * lev if pnl > 0.0 else pnl / lev)
        n += 1
    order = np.argsort(trig.rank_score[:n], kind="mergesort")
    ids = trig.rank[:n].copy()
    for k in range(n):
        trig.rank[k] = ids[order[k]]
    return n


@jit
def adl_step_nb(t, pos, tiers, trig, fl, sf, si, p):
    """Close the next ranked opposite position against the bankrupt order (one fill)."""
    i = si[S.I_ADL_SRC]
    s = pos.side[i]
    bp = sf[S.F_ADL_PRICE]
    m = sf[S.F_MARK]
    if si[S.I_RANK_TICK] != si[S.I_TICK] or si[S.I_RANK_SIDE] != s:
        si[S.I_RANK_N] = rank_nb(pos, trig, i, -s, bp)
        si[S.I_RANK_CUR] = 0
        si[S.I_RANK_TICK] = si[S.I_TICK]
        si[S.I_RANK_SIDE] = s
    cur = si[S.I_RANK_CUR]
    while cur < si[S.I_RANK_N] and pos.status[trig.rank[cur]] != E.OPEN:
        cur += 1
    si[S.I_RANK_CUR] = cur
    rem = sf[S.F_ADL_REM]
    if cur >= si[S.I_RANK_N]:
        takeover_nb(i, rem, t, pos, fl, sf, si)
        rem = 0.0
    else:
        c = trig.rank[cur]
        y = min(pos.size[c], rem)
        reduce_position_nb(pos, sf, c, y, bp)
        reduce_position_nb(pos, sf, i, y, bp)
        sf[S.F_LIQ_NOTIONAL] += y * bp
        record_nb(fl, si, t, E.ADL, c, s, y, bp, bp, 0.0, 0.0, m)
        if pos.size[c] <= p.lot * 1e-9:
            pos.status[c] = E.ADL_CLOSED
        else:
            reindex_nb(pos, trig, si, c, tiers)
        rem -= y
    if rem <= p.lot * 1e-9:
        sf[S.F_ADL_REM] = 0.0
        si[S.I_ADL_SRC] = -1
        pos.status[i] = E.LIQUIDATED
        si[S.I_FULL] += 1
    else:
        sf[S.F_ADL_REM] = rem
