"""The liquidation waterfall under a venue's rules (docs/model.md §3, docs/engine.md §7–§8).

One call does one unit of work and writes at most three fill records, so the loop can stop for a
bigger fill buffer between any two calls and resume exactly:

* :func:`next_triggered_nb` finds the next position a mark move liquidates through the sorted index
  and the re-index heap, O(log n) per position crossed;
* :func:`liquidate_nb` runs the venue's backstop check and partial rule (step-down IOC or FOK, tier
  target, or slices), the order on the book, settlement at bankruptcy or at the fill, the
  insurance-fund delta and the fund takeover, and hands any remainder to the ADL pool
  (:mod:`sim.kernels.adl`).
"""

import math

import numpy as np

from sim import enums as E
from sim._jit import jit
from sim.kernels.book import fillable_nb, walk_nb
from sim.kernels.heap import heap_compact_nb, heap_pop_nb, heap_push_nb
from sim.kernels.margin import equity_nb, position_mm_nb, refresh_prices_nb, tier_nb
from sim.kernels.prefetch import prefetch_nb


@jit(inline="always")
def record_nb(fl, clk, t, kind, account, side, qty, price, bp, fund_delta, fee, mark, equity):
    k = clk.nfills
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
    fl.equity[k] = equity
    clk.nfills = k + 1


@jit
def fund_trade_nb(acc, dq, price):
    """The fund buys ``dq`` (signed) at ``price``; returns the PnL it realizes (its fund_delta)."""
    q = acc.fund_q
    avg = acc.fund_avg
    realized = 0.0
    acc.fund_cash -= dq * price
    if q == 0.0 or (q > 0.0) == (dq > 0.0):
        acc.fund_avg = (abs(q) * avg + abs(dq) * price) / (abs(q) + abs(dq))
        acc.fund_q = q + dq
    else:
        close = min(abs(dq), abs(q))
        realized = close * (price - avg) * (1.0 if q > 0.0 else -1.0)
        new_q = q + dq
        if abs(dq) > abs(q):
            acc.fund_avg = price
        elif abs(dq) == abs(q):
            new_q = 0.0
            acc.fund_avg = 0.0
        acc.fund_q = new_q
    fund_add_nb(acc, realized)
    return realized


@jit(inline="always")
def set_last_nb(px, price):
    """A trade printed at ``price``: the new last price, and the run's extremes of it."""
    px.last = price
    if price < px.min_last:
        px.min_last = price
    if price > px.max_last:
        px.max_last = price


@jit(inline="always")
def fund_equity_nb(acc, mark):
    """The fund's equity with its inventory valued at ``mark`` (what it could really pay)."""
    return acc.fund_cash + acc.fund_q * mark


@jit(inline="always")
def fund_add_nb(acc, amount):
    acc.fund_bal += amount
    if acc.fund_bal < acc.fund_min:
        acc.fund_min = acc.fund_bal


@jit(inline="always")
def maker_trade_nb(acc, dq, price):
    """The maker account buys ``dq`` (signed) at ``price``."""
    acc.maker_q += dq
    acc.maker_cash -= dq * price


@jit(inline="always")
def reduce_position_nb(side, size, entry, wallet, kind, px, i, qty, price):
    """Close ``qty`` of row ``i`` at ``price``: realize PnL into the wallet, shrink the size.

    The helpers the waterfall inlines take the arrays or values they use, not the position tuple: Numba copies
    every argument of an inlined function, and a copy of the tuple counts a reference to each of its sixteen
    arrays (and is code to compile)."""
    s = side[i]
    wallet[i] += s * qty * (price - entry[i])
    size[i] -= qty
    if kind[i] == E.TRADER:
        if s > 0:
            px.oi_long -= qty
        else:
            px.oi_short -= qty


@jit
def heap_insert_nb(pos, trig, work, i):
    """Push row ``i``'s current key and version onto its side's re-index heap."""
    h = 0 if pos.side[i] > 0 else 1
    n = work.heap_n[h]
    if n >= trig.heap_key.shape[1]:
        n = heap_compact_nb(trig.heap_key[h], trig.heap_id[h], trig.heap_ver[h], n, pos.version, pos.status, E.OPEN)
    work.heap_n[h] = heap_push_nb(trig.heap_key[h], trig.heap_id[h], trig.heap_ver[h], n, pos.key[i], i, pos.version[i])


@jit
def reindex_nb(pos, trig, work, i, tiers):
    """Recompute row ``i``'s prices and put it back in the trigger index, unless it waits in the
    deferred list for the next tick (then the flush indexes its latest key)."""
    refresh_prices_nb(pos, i, tiers)
    if pos.eligible[i] <= work.tick:
        heap_insert_nb(pos, trig, work, i)


@jit
def defer_nb(pos, trig, work, i, ticks):
    """Row ``i`` may not be liquidated again before ``ticks`` oracle ticks from now."""
    pos.eligible[i] = work.tick + ticks
    trig.deferred[work.ndefer] = i
    work.ndefer += 1


@jit(inline="always")
def hold_nb(trig, work, i):
    """Triggered row ``i`` of a cross account leaves the index for the account layer, which looks at its whole
    account after the tick's work (sim.kernels.cross): liquidate some of its rows, or move margin between them."""
    if work.nheld < trig.held.size:
        trig.held[work.nheld] = i
        work.nheld += 1


@jit(inline="always")
def flush_deferred_nb(pos, trig, work):
    """Index the deferred positions whose wait is over; keep the others waiting."""
    keep = 0
    for k in range(work.ndefer):
        i = trig.deferred[k]
        if pos.status[i] != E.OPEN:
            continue
        if pos.eligible[i] <= work.tick:
            heap_insert_nb(pos, trig, work, i)
        else:
            trig.deferred[keep] = i
            keep += 1
    work.ndefer = keep


@jit(inline="always")
def tier_price_nb(entry, mark, basis):
    """What a position's size is multiplied by to read its tier: the mark, its ``entry`` price on the entry
    basis, or 1 when tiers are set in size (floors in base units)."""
    if basis == E.MM_SIZE:
        return 1.0
    return entry if basis == E.MM_ENTRY else mark


@jit(inline="always")
def adl_tripped_nb(acc, p, mark):
    """The venue's drawdown rule: the fund's equity fell ``adl_drawdown`` below its rolling peak, so it
    stops absorbing (no takeovers, no gaps paid) and bankrupt remainders go to ADL."""
    peak = acc.dd_peak
    return p.adl_drawdown > 0.0 and peak > 0.0 and fund_equity_nb(acc, mark) <= (1.0 - p.adl_drawdown) * peak


@jit(inline="always")
def prefetch_row_nb(pos, j):
    """Start loading the fields of row ``j`` that its liquidation, stop or ADL fill reads (sim.kernels.prefetch)."""
    prefetch_nb(pos.status, j)
    prefetch_nb(pos.version, j)
    prefetch_nb(pos.key, j)
    prefetch_nb(pos.size, j)
    prefetch_nb(pos.entry, j)
    prefetch_nb(pos.wallet, j)
    prefetch_nb(pos.bp, j)
    prefetch_nb(pos.side, j)
    prefetch_nb(pos.kind, j)


@jit(inline="always")
def next_triggered_nb(pos, trig, work, side, mark):
    """Pop the next position of ``side`` that ``mark`` liquidates, or return -1.

    Candidates are the first valid entry of the sorted start-of-run index and the top of the heap of
    re-indexed positions; the larger ``(key, -id)`` wins. Stale entries are dropped on the way.
    """
    h = 0 if side > 0 else 1
    order = trig.order_long if side > 0 else trig.order_short
    cur = work.cur[h]
    while cur < order.size:
        k = order[cur]
        if pos.status[k] == E.OPEN and pos.version[k] == 0:
            break
        cur += 1
    work.cur[h] = cur
    hk = trig.heap_key[h]
    hi = trig.heap_id[h]
    hv = trig.heap_ver[h]
    n = work.heap_n[h]
    while n > 0:
        k = hi[0]
        if pos.status[k] == E.OPEN and hv[0] == pos.version[k]:
            break
        n = heap_pop_nb(hk, hi, hv, n)
    work.heap_n[h] = n
    c_id = order[cur] if cur < order.size else -1
    h_id = hi[0] if n > 0 else -1
    if c_id < 0 and h_id < 0:
        return -1
    use_heap = c_id < 0 or (h_id >= 0 and (hk[0] > pos.key[c_id] or (hk[0] == pos.key[c_id] and h_id < c_id)))
    best = h_id if use_heap else c_id
    if pos.key[best] < side * mark:
        return -1
    if use_heap:
        work.heap_n[h] = heap_pop_nb(hk, hi, hv, n)
    else:
        work.cur[h] = cur + 1
        if cur + 1 < order.size:
            prefetch_row_nb(pos, order[cur + 1])  # most likely the next one
    return best


@jit(inline="always")
def liquidate_nb(i, t, pos, tiers, book, trig, fl, px, acc, adl, work, clk, tot, p):
    """Liquidate triggered row ``i`` by the venue's rules: backstop, partial rule, else in full.

    Numba copies an inlined function into every place that calls it, so the full close is called from one
    place only (it is the larger part of this code, which the event loop inlines)."""
    q = pos.size[i]
    m = px.mark
    full = True  # close in full (after the partial rule, if one applies and leaves the position non-compliant)
    on_book = True  # with an order on the book first; False: a backstop takes the account as it is
    rule = p.partial_rule
    if p.backstop_fraction > 0.0:
        ep = pos.entry[i]
        mm = position_mm_nb(q, ep, m, tiers.floor, tiers.mmr, tiers.cum, tiers.basis)
        on_book = not equity_nb(pos.side[i], q, ep, pos.wallet[i], m) < p.backstop_fraction * mm
    if on_book and rule == E.PARTIAL_SLICES:
        whole = pos.cooldown[i] > t or q * m <= p.slice_threshold
        x = q if whole else min(q, max(p.lot, math.floor(p.slice_fraction * q / p.lot) * p.lot))
        if x < q:
            close_at_fill_nb(i, x, E.PARTIAL, t, pos, tiers, book, trig, fl, px, acc, work, clk, tot, p)
            full = False
    elif on_book:
        j = tier_nb(q * tier_price_nb(pos.entry[i], m, tiers.basis), tiers.floor)
        while rule != E.PARTIAL_NONE and j > 0 and j >= p.partial_min_tier:
            r = partial_size_nb(i, j, pos, tiers, m, p)
            if r <= 0.0:
                break
            before = pos.size[i]
            if _partial_nb(i, r, t, pos, tiers, book, trig, fl, px, acc, work, clk, tot, p):
                full = False
                break
            if rule != E.PARTIAL_TO_TIER or pos.size[i] >= before:
                break  # one reduction only (Binance, Bybit), or nothing filled
            # OKX: still not compliant after dropping tiers: drop again from the tier it is in now
            j = tier_nb(pos.size[i] * tier_price_nb(pos.entry[i], m, tiers.basis), tiers.floor)
    if full:
        _full_nb(i, t, pos, tiers, book, trig, fl, px, acc, adl, work, clk, tot, p, on_book)


@jit
def partial_size_nb(i, j, pos, tiers, mark, p):
    """Quantity a partial liquidation of row ``i`` (tier ``j`` at the mark) sends; 0 for none.

    Tier target (OKX): keep what the target tier allows (``partial_tiers_down`` tiers lower, or the
    first tier). Step-down (Binance, Bybit): keep the most that a lower tier allows and that is
    compliant at the mark after the clearance fee on the part sold. Tiers are by notional at the mark,
    or at the entry price on the entry basis (Bybit's risk limit is on position value at entry).
    """
    q = pos.size[i]
    m = mark
    px = tier_price_nb(pos.entry[i], m, tiers.basis)
    if p.partial_rule == E.PARTIAL_TO_TIER:
        jj = 0 if p.partial_tiers_down <= 0 else max(0, j - p.partial_tiers_down)
        keep = math.floor(min(q, tiers.floor[jj + 1] / px) / p.lot) * p.lot
        return q - keep if keep > 0.0 else 0.0
    equity = equity_nb(pos.side[i], pos.size[i], pos.entry[i], pos.wallet[i], m)
    for jj in range(j - 1, -1, -1):
        keep = math.floor(min(q, tiers.floor[jj + 1] / px) / p.lot) * p.lot
        r = q - keep
        if tiers.basis != E.MM_MARK:
            mm = position_mm_nb(keep, pos.entry[i], m, tiers.floor, tiers.mmr, tiers.cum, tiers.basis)
        else:
            mm = keep * m * tiers.mmr[jj] - tiers.cum[jj]
        if keep > 0.0 and equity - p.clearance * r * m > mm:
            return r
    return 0.0


@jit
def cooldown_ticks_nb(p):
    """Oracle ticks a position waits after a compliant partial liquidation (at least the next tick)."""
    return max(1, (p.partial_cooldown + p.oracle_interval - 1) // p.oracle_interval)


@jit
def _partial_nb(i, r, t, pos, tiers, book, trig, fl, px, acc, work, clk, tot, p):
    """Reduction of ``r`` never worse than bankruptcy: IOC, or fill-or-kill under ``step_down_fok``.

    Returns True when the position came out compliant (equity above the maintenance margin of what
    is left, at the mark), and it then waits out the venue's cooldown; False when nothing filled or
    it is still under water after the fill and the fee, in which case the caller closes the rest in
    full at once (Binance's step 3 → 4).
    """
    s = pos.side[i]
    m = px.mark
    bp = pos.bp[i]
    if p.partial_rule == E.PARTIAL_STEP_FOK and fillable_nb(book, -s, r, bp, px.quote, t, p) < r:
        return False
    equity0 = equity_nb(pos.side[i], pos.size[i], pos.entry[i], pos.wallet[i], m)
    filled, notional, last = walk_nb(book, -s, r, bp, px.quote, t, p)
    if filled <= 0.0:
        return False
    price = notional / filled
    reduce_position_nb(pos.side, pos.size, pos.entry, pos.wallet, pos.kind, px, i, filled, price)
    maker_trade_nb(acc, s * filled, price)
    equity = equity_nb(pos.side[i], pos.size[i], pos.entry[i], pos.wallet[i], m)
    fee = min(p.clearance * filled * price, max(0.0, equity))
    pos.wallet[i] -= fee
    acc.fund_cash += fee
    fund_add_nb(acc, fee)
    set_last_nb(px, last)
    tot.liq_usd += filled * price
    record_nb(fl, clk, t, E.PARTIAL, i, -s, filled, price, bp, fee, fee, m, equity0)
    tot.partial += 1
    refresh_prices_nb(pos, i, tiers)
    if equity - fee <= position_mm_nb(pos.size[i], pos.entry[i], m, tiers.floor, tiers.mmr, tiers.cum, tiers.basis):
        return False
    defer_nb(pos, trig, work, i, cooldown_ticks_nb(p))
    return True


@jit(inline="always")
def sell_at_fill_nb(i, x, fee_rate, t, pos, book, px, acc, p):
    """Close ``x`` of row ``i`` with a market order never worse than its bankruptcy price; the trader is
    settled at the fill and pays ``fee_rate`` of the notional, at most the equity left at the mark. Returns
    ``(filled, price, fee)``; the caller books the fee and the record."""
    s = pos.side[i]
    filled, notional, last = walk_nb(book, -s, x, pos.bp[i], px.quote, t, p)
    if filled <= 0.0:
        return 0.0, np.nan, 0.0
    price = notional / filled
    reduce_position_nb(pos.side, pos.size, pos.entry, pos.wallet, pos.kind, px, i, filled, price)
    maker_trade_nb(acc, s * filled, price)
    fee = min(
        fee_rate * filled * price,
        max(0.0, equity_nb(pos.side[i], pos.size[i], pos.entry[i], pos.wallet[i], px.mark)),
    )
    pos.wallet[i] -= fee
    set_last_nb(px, last)
    return filled, price, fee


@jit
def close_at_fill_nb(i, x, kind, t, pos, tiers, book, trig, fl, px, acc, work, clk, tot, p):
    """Settlement at the fill (Hyperliquid): a market order of ``x`` never worse than bankruptcy; the
    trader keeps what is left after the fill and any clearance fee. A position left open (a slice, or
    an order the book could not fill) is looked at again from the next tick."""
    s = pos.side[i]
    m = px.mark
    bp = pos.bp[i]
    equity0 = equity_nb(pos.side[i], pos.size[i], pos.entry[i], pos.wallet[i], m)
    filled, price, fee = sell_at_fill_nb(i, x, p.clearance, t, pos, book, px, acc, p)
    if filled > 0.0:
        acc.fund_cash += fee
        fund_add_nb(acc, fee)
        tot.liq_usd += filled * price
        record_nb(fl, clk, t, kind, i, -s, filled, price, bp, fee, fee, m, equity0)
        if kind == E.PARTIAL:
            pos.cooldown[i] = t + p.partial_cooldown
            tot.partial += 1
    if pos.size[i] <= p.lot * 1e-9:
        pos.status[i] = E.LIQUIDATED
        tot.full += 1
        return
    refresh_prices_nb(pos, i, tiers)
    defer_nb(pos, trig, work, i, 1)


@jit(inline="always")
def _full_nb(i, t, pos, tiers, book, trig, fl, px, acc, adl, work, clk, tot, p, on_book):
    """Close row ``i`` in full: book fill vs bankruptcy, then fund takeover, then the ADL pool.

    The IOC order may fill up to ``band`` beyond bankruptcy only while the fund can pay the gap (it
    has equity at the mark and its drawdown rule has not tripped). Venues that settle at the fill
    send a plain order never worse than bankruptcy instead (:func:`close_at_fill_nb`). Without
    ``on_book`` (a backstop takes the account) no order is sent: the position goes to the fund or to ADL
    as it is.
    """
    if on_book and p.settle_fill:
        close_at_fill_nb(i, pos.size[i], E.LIQUIDATION, t, pos, tiers, book, trig, fl, px, acc, work, clk, tot, p)
        return
    if on_book:
        s = pos.side[i]
        m = px.mark
        bp = pos.bp[i]
        can_pay = fund_equity_nb(acc, m) > 0.0 and not adl_tripped_nb(acc, p, m)
        limit = bp * (1.0 - s * p.band) if can_pay else bp
        equity0 = equity_nb(pos.side[i], pos.size[i], pos.entry[i], pos.wallet[i], m)
        filled, notional, last = walk_nb(book, -s, pos.size[i], limit, px.quote, t, p)
        if filled > 0.0:
            price = notional / filled
            fund_delta = s * filled * (price - bp)
            fee = min(p.clearance * filled * price, max(0.0, fund_delta))
            reduce_position_nb(pos.side, pos.size, pos.entry, pos.wallet, pos.kind, px, i, filled, bp)
            maker_trade_nb(acc, s * filled, price)
            acc.fund_cash += fund_delta
            fund_add_nb(acc, fund_delta)
            set_last_nb(px, last)
            tot.liq_usd += filled * price
            record_nb(fl, clk, t, E.LIQUIDATION, i, -s, filled, price, bp, fund_delta, fee, m, equity0)
    settle_rest_nb(i, t, pos, tiers, trig, fl, px, acc, adl, work, clk, tot, p)


@jit(inline="always")
def settle_rest_nb(i, t, pos, tiers, trig, fl, px, acc, adl, work, clk, tot, p):
    """What is left of row ``i`` goes to the fund at its bankruptcy price, as much as the venue's ADL trigger
    lets it take (everything if ADL is off); the rest is settled at bankruptcy into this tick's ADL pools,
    one per cause (docs/model.md §3.7):

    * the fund's drawdown rule has tripped: it takes nothing (cause drawdown);
    * a backstop vault (``backstop_fraction > 0``, Hyperliquid) takes only accounts whose equity at the mark is
      not negative: one under water is deleveraged (cause deficit);
    * otherwise the fund takes what its equity at the mark can pay the loss of, ``y·max(0, s·(bp − m))``
      (``adl_trigger`` deficit), or what also keeps its inventory within ``max_inventory`` times its equity
      (capacity): the part it could not pay for is deleveraged for a deficit, the part it could pay for but
      not hold for capacity.

    A backstop vault under ``adl_trigger`` deficit never deleverages an account with equity left: what it
    cannot take (it has no equity) stays open and is looked at again from the next tick (Hyperliquid
    deleverages only accounts under water).
    """
    s = pos.side[i]
    bp = pos.bp[i]
    m = px.mark
    rem = pos.size[i]
    dust = p.lot * 1e-9
    if rem > dust:
        take = rem
        cause = 0
        paid = rem  # what the fund's equity could pay the loss of, whatever its inventory
        keep_open = False
        if p.adl_enabled:
            if adl_tripped_nb(acc, p, m):
                take = 0.0
                cause = E.CAUSE_DRAWDOWN
            elif (
                p.backstop_fraction > 0.0 and equity_nb(pos.side[i], pos.size[i], pos.entry[i], pos.wallet[i], m) < 0.0
            ):
                take = 0.0  # the vault takes over accounts with equity left; negative ones go to ADL
                cause = E.CAUSE_DEFICIT
            else:
                paid = min(rem, fund_can_pay_nb(acc, s, bp, m))
                take = paid
                if p.adl_trigger == E.ADL_TRIGGER_CAPACITY:
                    take = min(rem, takeover_capacity_nb(acc, s, bp, m, p.max_inventory))
                else:
                    keep_open = p.backstop_fraction > 0.0
        if take > dust:  # a capacity left only by rounding (after a takeover that filled it) is none
            takeover_nb(i, take, t, pos, fl, px, acc, clk, tot)
        rest = pos.size[i]
        if rest > dust and keep_open:
            refresh_prices_nb(pos, i, tiers)
            defer_nb(pos, trig, work, i, 1)
            return
        if rest > dust:
            reduce_position_nb(pos.side, pos.size, pos.entry, pos.wallet, pos.kind, px, i, rest, bp)
            if cause == 0:
                # beyond what the fund could pay for: a deficit; between that and what it took: its capacity
                short = min(rest, max(0.0, rem - paid))
                if short <= dust:
                    short = 0.0
                if rest - short <= dust:
                    short = rest
                if short > 0.0:
                    pool_add_nb(adl, s, E.CAUSE_DEFICIT, short, bp)
                if short < rest:
                    pool_add_nb(adl, s, E.CAUSE_CAPACITY, rest - short, bp)
            else:
                pool_add_nb(adl, s, cause, rest, bp)
    pos.status[i] = E.LIQUIDATED
    tot.full += 1


@jit(inline="always")
def pool_add_nb(adl, side, cause, qty, bp):
    """``qty`` of side ``side`` settled at ``bp`` joins this tick's ADL pool of ``cause``."""
    adl.pool_q[cause - 1] += qty
    adl.pool_cost[cause - 1] += qty * bp
    adl.side = side


@jit(inline="always")
def fund_can_pay_nb(acc, side, bp, mark):
    """Base units of a side-``side`` position the fund's equity at the mark can pay the loss of when it takes
    them at ``bp`` (``max(0, side·(bp − mark))`` each): all of them when there is no loss and it has equity, none
    when it has no equity left."""
    equity = fund_equity_nb(acc, mark)
    if equity <= 0.0:
        return 0.0
    loss = side * (bp - mark)
    return equity / loss if loss > 0.0 else np.inf


@jit(inline="always")
def takeover_capacity_nb(acc, side, bp, mark, max_inventory):
    """Base units of a side-``side`` position the fund can take at ``bp``.

    With ``E`` the fund's equity at the mark and ``k`` its inventory limit (a multiple of equity), a
    takeover of ``y`` costs ``y·max(0, side·(bp − mark))`` of equity at once; the fund takes the
    largest ``y`` whose inventory after it, valued at the mark, stays within ``k`` times its equity
    after it. Nothing when the fund has no equity left.
    """
    equity = fund_equity_nb(acc, mark)
    if equity <= 0.0:
        return 0.0
    loss = max(0.0, side * (bp - mark))
    room = max_inventory * equity - side * acc.fund_q * mark
    return max(0.0, room / (mark + max_inventory * loss))


@jit
def takeover_nb(i, qty, t, pos, fl, px, acc, clk, tot):
    """The fund (or a backstop vault) takes ``qty`` of row ``i`` at its bankruptcy price."""
    s = pos.side[i]
    bp = pos.bp[i]
    m = px.mark
    equity0 = equity_nb(pos.side[i], pos.size[i], pos.entry[i], pos.wallet[i], m)
    realized = fund_trade_nb(acc, s * qty, bp)
    reduce_position_nb(pos.side, pos.size, pos.entry, pos.wallet, pos.kind, px, i, qty, bp)
    tot.liq_usd += qty * bp
    record_nb(fl, clk, t, E.TAKEOVER, i, -s, qty, bp, bp, realized, 0.0, m, equity0)
