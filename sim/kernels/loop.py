"""The event loop (docs/engine.md §6): one kernel that runs a simulation up to a stop time.

Events are ordered by ``(time, priority, seq)``; the liquidation and ADL work that an oracle tick
starts is finished, one unit at a time, before the next event is popped. All state is in arrays, so
:func:`run_nb` can return at any stop time (for progress reports) or when the fill buffer needs to
grow, and a second call resumes exactly where the first stopped.
"""

import math

import numpy as np

from sim import enums as E
from sim._jit import jit
from sim.kernels.adl import adl_begin_nb, adl_step_nb
from sim.kernels.arrivals import arrival_nb
from sim.kernels.bands import band_drain_nb
from sim.kernels.behaviour import (
    apply_topups_nb,
    arm_topup_nb,
    next_stop_nb,
    premium_sample_nb,
    settle_funding_nb,
    stop_nb,
)
from sim.kernels.book import best_price_nb, depth_usd_nb, walk_nb, withdraw_nb
from sim.kernels.fillable import fillable_liquidate_nb, fillable_next_nb, fillable_select_nb
from sim.kernels.heap import event_pop_nb, event_push_nb
from sim.kernels.liquidation import (
    flush_deferred_nb,
    fund_equity_nb,
    fund_trade_nb,
    hold_nb,
    liquidate_nb,
    maker_trade_nb,
    next_triggered_nb,
    record_nb,
    set_last_nb,
)
from sim.kernels.margin import topup_armed_nb
from sim.kernels.spot import index_nb, observe_basis_nb, spot_sample_nb, spot_tick_nb


@jit
def push_event_nb(ev, clk, t, kind):
    clk.nev = event_push_nb(ev, clk.nev, t, kind, clk.seq, kind)
    clk.seq += 1


@jit(entry=True)
def path_price_nb(path_t, path_p, t):
    """Exogenous index path at ``t``: linear between points; a repeated time is a gap."""
    # np.searchsorted(path_t, t, side="right") - 1, its binary search written out (Numba's compiles a
    # dozen helper functions)
    lo = 0
    hi = path_t.size
    while lo < hi:
        mid = lo + ((hi - lo) >> 1)
        if path_t[mid] <= t:
            lo = mid + 1
        else:
            hi = mid
    k = lo - 1
    if k < 0:
        return path_p[0]
    if k >= path_t.size - 1:
        return path_p[path_t.size - 1]
    w = (t - path_t[k]) / (path_t[k + 1] - path_t[k])
    return path_p[k] + (path_p[k + 1] - path_p[k]) * w


@jit(entry=True)
def start_nb(ev, mk, clk, p):
    """Schedule the first events (t = 0) in the order oracle, noise, unwind, sample, then the first arrival."""
    push_event_nb(ev, clk, 0, E.EV_ORACLE)
    if mk.noise_t.size > 0 and mk.noise_t[0] <= p.duration:
        push_event_nb(ev, clk, mk.noise_t[0], E.EV_NOISE)
    push_event_nb(ev, clk, 0, E.EV_UNWIND)
    push_event_nb(ev, clk, 0, E.EV_SAMPLE)
    if mk.arr_t.size > 0 and mk.arr_t[0] <= p.duration:
        push_event_nb(ev, clk, mk.arr_t[0], E.EV_ARRIVAL)


@jit(entry=True)
def run_nb(pos, tiers, book, trig, ev, mk, sp, spp, fl, series, pc, p, t_stop):
    """Run events with time ≤ ``t_stop`` (ms). Returns a status code from :mod:`sim.enums`.

    Mutates every array argument. ``series`` is (n_samples, 12) float64; ``fl`` must have room for
    4 more records whenever work is pending, else ``ST_FILLS_FULL`` is returned. ``pc``: the perp's state records
    as one-element arrays (:func:`sim.state.perp_cells`): a call from Python unboxes an array in a tenth of a
    microsecond and a record in about two, and a run of several markets calls this at every oracle tick.
    """
    px, acc, adl, work, clk, tot, bh, arv = pc
    return _run_nb(
        pos,
        tiers,
        book,
        trig,
        ev,
        mk,
        sp,
        spp,
        fl,
        series,
        px[0],
        acc[0],
        adl[0],
        work[0],
        clk[0],
        tot[0],
        bh[0],
        arv[0],
        p,
        t_stop,
    )


@jit(inline="always")
def _run_nb(pos, tiers, book, trig, ev, mk, sp, spp, fl, series, px, acc, adl, work, clk, tot, bh, arv, p, t_stop):
    """:func:`run_nb` on the records themselves (inlined: the kernels it calls are the loop's, as the compile
    helper reads them, sim._compile.ordered_callees)."""
    while True:
        if clk.nfills + 4 > fl.t.size:
            return E.ST_FILLS_FULL
        now = clk.now
        if adl.active:
            adl_step_nb(now, pos, tiers, trig, fl, px, acc, adl, work, clk, tot, p)
            continue
        if p.stops_on and work.tick > 0:  # from the first oracle tick on (docs/engine.md §6)
            i = next_stop_nb(
                pos.status,
                pos.stop,
                trig.stop_long,
                trig.stop_short,
                bh.stop_cur,
                px.mark if p.stop_on_mark else px.last,
            )
            if i >= 0:
                stop_nb(i, now, pos, tiers, book, trig, fl, px, acc, work, clk, tot, bh, p)
                continue
        if work.phase > 0 and p.settle_fillable:  # dYdX: the block's window of orders (docs/engine.md §7.11)
            if adl.side != 0:
                adl_begin_nb(pos, tiers, trig, px, acc, adl, work, p)
            elif work.phase == 1:
                fillable_select_nb(now, pos, tiers, trig, px, adl, work, bh, p)
                work.phase = 2
            else:
                i = fillable_next_nb(pos, trig, work, px)
                if i >= 0:
                    fillable_liquidate_nb(i, now, pos, tiers, book, trig, fl, px, acc, adl, work, clk, tot, p)
                    if adl.side != 0:  # an account deleveraged: matched at once, at its own bankruptcy price
                        adl_begin_nb(pos, tiers, trig, px, acc, adl, work, p)
                else:
                    work.phase = 0
                    band_drain_nb(pos, trig, work, px.mark)  # as below
                    if work.nheld > 0:
                        return E.ST_HELD
                    if spp.on:
                        observe_basis_nb(now, book, sp, px, p)
            continue
        if work.phase > 0:
            side = work.first_side if work.phase == 1 else -work.first_side
            i = next_triggered_nb(pos, trig, work, side, px.mark)
            if i >= 0 and p.tu_on and topup_armed_nb(pos.reserve[i], pos.tu_due[i]):
                arm_topup_nb(
                    i, now, pos, tiers, trig, work, bh
                )  # its top-up price was crossed, not its liquidation price
            elif i >= 0 and pos.cross[i] != 0:
                hold_nb(trig, work, i)  # a cross account's row: its account decides (sim.kernels.cross)
            elif i >= 0:
                liquidate_nb(i, now, pos, tiers, book, trig, fl, px, acc, adl, work, clk, tot, p)
            elif adl.side != 0:
                adl_begin_nb(pos, tiers, trig, px, acc, adl, work, p)  # the side's pass is over: match its pool
            else:
                work.phase = (work.phase + 1) % 3
                if work.phase == 0:
                    band_drain_nb(pos, trig, work, px.mark)  # the cross rows of the band index that the mark crossed
                if work.phase == 0 and work.nheld > 0:
                    # rows of cross accounts crossed: the account layer looks at their accounts, then runs a closing
                    # pass of this tick's work (sim.multi), which ends here again with nothing held
                    return E.ST_HELD
                if work.phase == 0 and spp.on:  # the tick's forced orders are through: what arbitrageurs see
                    observe_basis_nb(now, book, sp, px, p)
            continue
        if clk.nev == 0:
            return E.ST_FINISHED
        if ev.t[0] > t_stop:
            return E.ST_DONE
        t = ev.t[0]
        kind = ev.kind[0]
        clk.nev = event_pop_nb(ev, clk.nev)
        clk.now = t
        if kind == E.EV_ORACLE:
            oracle_nb(t, pos, tiers, book, trig, mk, sp, spp, fl, px, acc, work, clk, tot, bh, arv, p)
            if t + p.oracle_interval <= p.duration:
                push_event_nb(ev, clk, t + p.oracle_interval, E.EV_ORACLE)
        elif kind == E.EV_NOISE:
            noise_nb(t, pos.size.size, book, mk, fl, px, acc, clk, p)
            k = clk.noise_next
            if k < mk.noise_t.size and mk.noise_t[k] <= p.duration:
                push_event_nb(ev, clk, mk.noise_t[k], E.EV_NOISE)
        elif kind == E.EV_UNWIND:
            unwind_nb(t, pos.size.size, book, fl, px, acc, clk, p)
            if t + p.unwind_interval <= p.duration:
                push_event_nb(ev, clk, t + p.unwind_interval, E.EV_UNWIND)
        elif kind == E.EV_ARRIVAL:
            arrival_nb(t, pos, tiers, book, trig, mk, fl, px, acc, work, clk, tot, arv, p)
            k = arv.next
            if k < mk.arr_t.size and mk.arr_t[k] <= p.duration:
                push_event_nb(ev, clk, mk.arr_t[k], E.EV_ARRIVAL)
        else:
            sample_nb(t, book, series, sp, spp, px, acc, clk, tot, p)
            if t + p.sample_interval <= p.duration:
                push_event_nb(ev, clk, t + p.sample_interval, E.EV_SAMPLE)


@jit
def oracle_nb(t, pos, tiers, book, trig, mk, sp, spp, fl, px, acc, work, clk, tot, bh, arv, p):
    """The index (from the spot venues after their tick, or from the shock path and the perp's last price), a basis
    sample, the venue's mark, a premium sample and any funding due, the fund's rolling peak, top-ups due; then open
    this tick's liquidation work."""
    work.tick += 1
    x = path_price_nb(mk.path_t, mk.path_p, t)  # the fundamental value (docs/model.md §1.6)
    if spp.on or spp.flow_on:
        spot_tick_nb(t, x, pos.size.size, book, sp, spp, fl, px, acc, clk, p)
    if spp.on:
        index = index_nb(sp, spp, t, px.index_price)
    else:
        index = x + p.index_coupling * (px.last - x)
    px.index_price = index
    quote = quote_nb(index, sp, acc, spp) if spp.skew != 0.0 else index
    px.quote = quote
    if p.wd_on:
        withdraw_nb(book, index, p)
    bid = best_price_nb(book, True, quote, t, p)
    ask = best_price_nb(book, False, quote, t, p)
    mid = quote if (math.isnan(bid) or math.isnan(ask)) else 0.5 * (bid + ask)
    basis = mk.basis
    w = basis.size
    if clk.basis_n == 0:
        basis[:] = mid - index
    else:
        basis[clk.basis_n % w] = mid - index
    clk.basis_n += 1
    total = 0.0
    for k in range(w):
        total += basis[k]
    last = px.last
    if p.mark_method == E.MARK_ORACLE:
        mark = index  # dYdX: margin at the oracle price
    elif p.mark_method == E.MARK_INDEX_BASIS:
        mark = index + total / w
    elif p.mark_method == E.MARK_HYPERLIQUID:
        # median(oracle + 150 s EMA of the basis, median(bid, ask, last), 30 s EMA of the latter)
        b = index if math.isnan(bid) else bid
        a = index if math.isnan(ask) else ask
        book_px = median3_nb(b, a, last)
        dt = float(p.oracle_interval)
        slow = ema_nb(px.ema_slow, mid - index, dt, p.ema_slow)
        fast = ema_nb(px.ema_fast, book_px, dt, p.ema_fast)
        mark = median3_nb(index + slow, book_px, fast)
    else:
        interval = p.funding_interval
        tau = interval - ((interval - p.time_to_funding + t) % interval)
        mark = median3_nb(index * (1.0 + px.funding_rate * tau / interval), index + total / w, last)
    px.prev_mark = px.mark
    px.mark = mark
    if mark < px.min_mark:
        px.min_mark = mark
    if mark > px.max_mark:
        px.max_mark = mark
    if p.funding_on:
        premium_sample_nb(px, mid, index, p)
        if t >= bh.next_funding:  # at most one settlement per tick, however short the interval
            settle_funding_nb(t, pos, tiers, trig, sp, fl, px, acc, work, clk, tot, p)
            while bh.next_funding <= t:
                bh.next_funding += p.funding_interval
    if p.adl_drawdown > 0.0:
        acc.dd_peak = rolling_max_nb(trig.dd_t, trig.dd_v, acc.dd_ring, t, fund_equity_nb(acc, mark), p.adl_window)
    if p.arr_on:  # the arrivals' buy-the-dip rule reads the mark's drawdown from this peak
        arv.dip_peak = rolling_max_nb(mk.dip_t, mk.dip_v, arv.dip_ring, t, mark, p.arr_dip_window)
    flush_deferred_nb(pos, trig, work)
    if p.tu_on:
        apply_topups_nb(t, pos, tiers, trig, px, work, tot, bh, p)
    work.first_side = 1 if mark < px.prev_mark else -1
    work.phase = 1


@jit(inline="always")
def quote_nb(index, sp, acc, spp):
    """The centre of the perp makers' quotes: the index lowered by ``skew`` per USD of their unhedged long inventory
    (their perp position at the index plus their hedgers' spot holdings at each venue's mid), raised for a short
    one; at most half the index either way."""
    unhedged = acc.maker_q * index
    for v in range(sp.mid.size):
        unhedged += sp.base[E.SPOT_HEDGERS, v] * sp.mid[v]
    excess = abs(unhedged) - spp.hedge_free  # what they carry calmly, as their hedgers do (prices.hedge_threshold_usd)
    if excess <= 0.0:
        return index
    s = min(0.5, spp.skew * excess)
    return index * (1.0 - math.copysign(s, unhedged))


@jit(inline="always")
def median3_nb(a, b, c):
    return max(min(a, b), min(max(a, b), c))


@jit(inline="always")
def ema_nb(ema, sample, dt, tau):
    """Hyperliquid's time-weighted EMA: ``num ← num·e^(−dt/τ) + sample·dt``, same for ``den`` with
    1; the value is ``num/den``. ``ema`` holds (num, den)."""
    decay = math.exp(-dt / tau)
    ema[0] = ema[0] * decay + sample * dt
    ema[1] = ema[1] * decay + dt
    return ema[0] / ema[1]


@jit
def rolling_max_nb(buf_t, buf_v, ring, t, value, window):
    """Push ``(t, value)`` into the monotone ring buffer ``buf_t``/``buf_v`` (its head and length in ``ring``, int64
    (2,), mutated) and return the largest value over the last ``window`` ms. Used for the fund's
    rolling peak (ADL drawdown rule) and the mark's (arrivals' buy-the-dip rule)."""
    cap = buf_t.size
    head = ring[0]
    n = ring[1]
    while n > 0 and buf_v[(head + n - 1) % cap] <= value:
        n -= 1
    if n == cap:
        head = (head + 1) % cap
        n -= 1
    buf_t[(head + n) % cap] = t
    buf_v[(head + n) % cap] = value
    n += 1
    while buf_t[head] < t - window:
        head = (head + 1) % cap
        n -= 1
    ring[0] = head
    ring[1] = n
    return buf_v[head]


@jit
def noise_nb(t, n_pos, book, mk, fl, px, acc, clk, p):
    """One background market order of the noise account; it pays the taker fee to the fee account."""
    k = clk.noise_next
    clk.noise_next = k + 1
    side = np.int64(mk.noise_side[k])  # as every other order's side: walk_nb is compiled for one signature
    qty = mk.noise_qty[k]
    if qty <= 0.0:
        return
    quote = px.quote  # background orders meet the makers' quotes, within their band of them
    filled, notional, last = walk_nb(book, side, qty, quote * (1.0 + side * p.noise_band), quote, t, p)
    if filled <= 0.0:
        return
    price = notional / filled
    acc.noise_q += side * filled
    acc.noise_cash -= side * filled * price
    maker_trade_nb(acc, -side * filled, price)
    fee = p.taker_fee * filled * price
    acc.noise_cash -= fee
    acc.fee_cash += fee
    set_last_nb(px, last)
    record_nb(fl, clk, t, E.NOISE_FILL, n_pos + 1, side, filled, price, np.nan, 0.0, fee, px.mark, np.nan)


@jit
def unwind_nb(t, n_pos, book, fl, px, acc, clk, p):
    """The fund works a slice of its inventory into the book, no worse than a band around index."""
    q = acc.fund_q
    if q == 0.0:
        return
    sign = 1.0 if q > 0.0 else -1.0
    qty = min(abs(q), max(p.lot, p.unwind_fraction * abs(q)))
    index = px.index_price
    side = -int(sign)
    filled, notional, last = walk_nb(book, side, qty, index * (1.0 - sign * p.unwind_band), px.quote, t, p)
    if filled <= 0.0:
        return
    price = notional / filled
    realized = fund_trade_nb(acc, side * filled, price)
    maker_trade_nb(acc, -side * filled, price)
    set_last_nb(px, last)
    record_nb(fl, clk, t, E.FUND_UNWIND, n_pos + 2, side, filled, price, np.nan, realized, 0.0, px.mark, np.nan)


@jit
def sample_nb(t, book, series, sp, spp, px, acc, clk, tot, p):
    """One row of the time series (docs/engine.md §11), and of the spot venues' when they are on."""
    k = clk.nseries
    if k >= series.shape[0]:
        return
    if spp.on:
        spot_sample_nb(k, sp)
    quote = px.quote
    row = series[k]
    row[0] = t / 1000.0
    row[1] = px.index_price
    row[2] = px.mark
    row[3] = px.last
    row[4] = best_price_nb(book, True, quote, t, p)
    row[5] = best_price_nb(book, False, quote, t, p)
    row[6] = depth_usd_nb(book, True, quote, t, p, 0.01)
    row[7] = depth_usd_nb(book, False, quote, t, p, 0.01)
    row[8] = acc.fund_bal
    row[9] = px.oi_long
    row[10] = px.oi_short
    row[11] = tot.liq_usd
    clk.nseries = k + 1
