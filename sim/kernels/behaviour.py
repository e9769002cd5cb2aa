"""Trader behaviour and funding (docs/engine.md §9): stop-loss orders, margin top-ups, funding payments.

* Stops sit in two lists sorted once at the start (long stops by price descending, short stops ascending),
  so :func:`next_stop_nb` finds what the last (or mark) price has crossed with a cursor, O(1) per stop;
  :func:`stop_nb` sends the stop as a market order through the book, never worse than bankruptcy.
* A trader who tops up has, while a top-up is possible, its *top-up price* (where maintenance margin /
  equity reaches the threshold) as its trigger key instead of its liquidation price, so the same sorted
  index finds it; :func:`arm_topup_nb` starts the reaction delay and puts the liquidation price back as
  its key; :func:`apply_topups_nb` adds the margin when the delay is over, up to the trader's reserve.
* Funding: a premium sample per oracle tick; at each settlement :func:`settle_funding_nb` moves
  ``position × price × rate`` from every holder to the other side (money is conserved because positions
  sum to zero) and rebuilds the trigger index, since every wallet changed.
"""

import math

import numpy as np

from sim import enums as E
from sim import state as S
from sim._jit import jit
from sim.kernels.heap import heap_pop_nb, heap_push_nb, order_by_key_into_nb
from sim.kernels.liquidation import (
    fund_add_nb,
    prefetch_row_nb,
    record_nb,
    reindex_nb,
    sell_at_fill_nb,
)
from sim.kernels.margin import equity_nb, init_prices_nb, position_mm_nb


@jit(entry=True)
def stop_prices_nb(side, kind, lp, d, u_round, u_stop, p0, step, round_share, share, out):
    """Stop prices of a population (NaN = no stop; drawn by sim.world.population.behaviour_draws): a stop ``d`` (a
    fraction) from the start price ``p0`` on the losing side, put halfway to the liquidation price ``lp`` when
    it would lie beyond it; moved out to the next multiple of ``step`` when ``u_round < round_share`` and that
    is still inside ``lp``; kept for traders not already past ``lp`` with ``u_stop < share``."""
    for i in range(side.size):
        s = side[i]
        x = lp[i]
        long = s > 0
        past = x >= p0 if long else x <= p0  # liquidated at the first tick anyway
        if kind[i] != E.TRADER or past or not u_stop[i] < share:
            out[i] = np.nan
            continue
        stop = p0 * (1.0 - s * d[i])
        if (stop <= x) if long else (stop >= x):
            stop = 0.5 * (p0 + x)
        snapped = np.floor(stop / step) * step if long else np.ceil(stop / step) * step
        if u_round[i] < round_share and ((snapped > x) if long else (snapped < x)):
            stop = snapped
        out[i] = stop
    return out


@jit(inline="always")
def next_stop_nb(status, stop, stop_long, stop_short, stop_cur, price):
    """Pop the next stop that ``price`` has reached (long stops at or above it first, then short stops at or
    below it), or return -1. Stops of rows no longer open are dropped on the way. Runs before every unit of
    work, so it takes the four arrays it reads rather than the position and trigger tuples."""
    cur = stop_cur[0]
    while cur < stop_long.size and status[stop_long[cur]] != E.OPEN:
        cur += 1
    if cur < stop_long.size and stop[stop_long[cur]] >= price:
        stop_cur[0] = cur + 1
        return stop_long[cur]
    stop_cur[0] = cur
    cur = stop_cur[1]
    while cur < stop_short.size and status[stop_short[cur]] != E.OPEN:
        cur += 1
    if cur < stop_short.size and stop[stop_short[cur]] <= price:
        stop_cur[1] = cur + 1
        return stop_short[cur]
    stop_cur[1] = cur
    return -1


@jit(inline="always")
def stop_nb(i, t, pos, tiers, book, trig, fl, px, acc, work, clk, tot, bh, p):
    """Row ``i``'s stop fired: a market order for the whole position, never worse than its bankruptcy price,
    paying the taker fee (at most the equity left). What the book cannot fill stays open."""
    s = pos.side[i]
    nxt = trig.stop_long if s > 0 else trig.stop_short  # the next stop on this side is most likely the next one
    cur = bh.stop_cur[0 if s > 0 else 1]
    if cur < nxt.size:
        prefetch_row_nb(pos, nxt[cur])
    m = px.mark
    bp = pos.bp[i]
    equity0 = equity_nb(pos.side[i], pos.size[i], pos.entry[i], pos.wallet[i], m)
    filled, price, fee = sell_at_fill_nb(i, pos.size[i], p.taker_fee, t, pos, book, px, acc, p)
    if filled <= 0.0:
        return
    acc.fee_cash += fee
    tot.stop_usd += filled * price
    tot.stops += 1
    record_nb(fl, clk, t, E.STOP, i, -s, filled, price, bp, 0.0, fee, m, equity0)
    if pos.size[i] <= p.lot * 1e-9:
        pos.status[i] = E.STOPPED
    else:
        reindex_nb(pos, trig, work, i, tiers)


@jit(inline="always")
def arm_topup_nb(i, t, pos, tiers, trig, work, bh):
    """Row ``i``'s margin ratio reached the threshold: it tops up after its reaction delay; meanwhile its
    trigger key is its liquidation price again."""
    due = t + pos.tu_delay[i]
    pos.tu_due[i] = due
    bh.npend = heap_push_nb(trig.pend_key, trig.pend_id, trig.pend_ver, bh.npend, -float(due), i, 0)
    reindex_nb(pos, trig, work, i, tiers)


@jit(inline="always")
def apply_topups_nb(t, pos, tiers, trig, px, work, tot, bh, p):
    """Top-ups due by ``t``, earliest first (ties by row): each adds what brings maintenance margin / equity at
    the mark down to the target ratio, at most the reserve left (nothing if the price has recovered)."""
    n = bh.npend
    while n > 0 and -trig.pend_key[0] <= t:
        i = trig.pend_id[0]
        n = heap_pop_nb(trig.pend_key, trig.pend_id, trig.pend_ver, n)
        if pos.status[i] != E.OPEN:
            continue
        pos.tu_due[i] = S.NEVER
        m = px.mark
        need = position_mm_nb(
            pos.size[i], pos.entry[i], m, tiers.floor, tiers.mmr, tiers.cum, tiers.basis
        ) / p.tu_target - equity_nb(pos.side[i], pos.size[i], pos.entry[i], pos.wallet[i], m)
        add = min(pos.reserve[i], need)
        if add > 0.0:
            pos.wallet[i] += add
            pos.reserve[i] -= add
            tot.topup_usd += add
            tot.topups += 1
        reindex_nb(pos, trig, work, i, tiers)
    bh.npend = n


@jit(inline="always")
def funding_rate_nb(premium, interest, clamp, scale, cap):
    """The rate paid per interval: ``F8 = P + clamp(I − P, −c, +c)`` (the 8-hour rate from the premium ``P``
    and the interest ``I``), times the share of 8 hours one interval is, within ``±cap``."""
    f8 = premium + min(max(interest - premium, -clamp), clamp)
    return min(max(f8 * scale, -cap), cap)


@jit(inline="always")
def premium_sample_nb(px, mid, index, p):
    """One premium sample ``mid / index − 1``, weighted 1, 2, 3, ... since the last settlement (Binance) or
    equally."""
    px.prem_n += 1
    w = float(px.prem_n) if p.funding_linear else 1.0
    px.prem_num += w * (mid / index - 1.0)
    px.prem_den += w


@jit(inline="always")
def settle_funding_nb(t, pos, tiers, trig, sp, fl, px, acc, work, clk, tot, p):
    """Pay funding: every holder of ``q`` (signed) pays ``q × price × rate`` (longs pay when it is positive).
    Traders pay from their wallet (the position's margin), which moves their liquidation prices; the fund's
    payment is a ``FUNDING`` record on the tape (its balance moves)."""
    if math.isnan(p.funding_fixed):
        den = px.prem_den
        premium = px.prem_num / den if den > 0.0 else 0.0
        rate = funding_rate_nb(premium, p.funding_interest, p.funding_clamp, p.funding_scale, p.funding_cap)
    else:
        rate = p.funding_fixed
    price = px.index_price if p.funding_at_index else px.mark
    x = price * rate
    traders = 0.0
    side, size, wallet, status, kind = pos.side, pos.size, pos.wallet, pos.status, pos.kind
    for i in range(size.size):
        if status[i] != E.OPEN:
            continue
        pay = side[i] * size[i] * x
        wallet[i] -= pay
        if kind[i] == E.TRADER:
            traders += pay
    tot.funding_usd += traders
    acc.maker_cash -= acc.maker_q * x
    acc.noise_cash -= acc.noise_q * x
    for j in range(sp.perp_q.size):  # the arbitrageurs' and a flow shock's perp legs (endogenous prices)
        sp.perp_cash[j] -= sp.perp_q[j] * x
    q = acc.fund_q
    if q != 0.0:
        pay = q * x
        acc.fund_cash -= pay
        fund_add_nb(acc, -pay)
        record_nb(
            fl,
            clk,
            t,
            E.FUNDING,
            pos.size.size + 2,
            1 if q > 0.0 else -1,
            abs(q),
            price,
            np.nan,
            -pay,
            0.0,
            px.mark,
            np.nan,
        )
    px.funding_rate = rate
    px.prem_num = 0.0
    px.prem_den = 0.0
    px.prem_n = 0
    tot.fundings += 1
    rebuild_index_nb(pos, tiers, trig, work)


@jit(inline="always")
def rebuild_index_nb(pos, tiers, trig, work):
    """Every open row's prices again, and the sorted trigger index rebuilt from them (heaps and band index
    emptied). A row waiting out a cooldown gets version 1, so only the deferred list puts it back."""
    init_prices_nb(pos, tiers, E.OPEN)
    status, version, eligible, tick = pos.status, pos.version, pos.eligible, work.tick
    for i in range(status.size):
        if status[i] == E.OPEN:
            version[i] = 0 if eligible[i] <= tick else 1
    order_by_key_into_nb(
        trig.ids_long, pos.key, trig.order_long, trig.scr_i[0], trig.scr_f[0], trig.scr_f[1], trig.counts
    )
    order_by_key_into_nb(
        trig.ids_short, pos.key, trig.order_short, trig.scr_i[0], trig.scr_f[0], trig.scr_f[1], trig.counts
    )
    work.cur[0] = 0
    work.cur[1] = 0
    work.heap_n[0] = 0
    work.heap_n[1] = 0
    if work.band_n > 0:  # the rows of cross accounts are in the sorted index too now (sim.kernels.bands)
        for b in range(trig.band_head.shape[1]):
            trig.band_head[0, b] = -1
            trig.band_head[1, b] = -1
        work.band_top[0] = -1
        work.band_top[1] = -1
        work.band_n = 0
