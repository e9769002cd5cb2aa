"""The order book: a lazy tick ladder that refills toward a profile around the fair price.

Each side keeps, per level, the size left after the last touch and the time of that touch (stored
plus one, so that zero means never touched). The size
now is computed on demand: makers quote only on their side of the fair price (bids below it, asks
above it, so the book can never cross) and every level relaxes toward the profile size at its
current distance from the fair price with a half-life (resilience and re-centering, docs/model.md §4.3). An
untouched level is simply full. Work is O(levels an order walks), never O(ladder).

Level ``i`` is absolute tick ``grid_lo + i``, price ``(grid_lo + i)·tick``. Offsets ``d = 1..D``
count ticks away from the fair price; ``prof[d]`` is the target size (base units).
"""

import math

import numpy as np

from sim._jit import jit


@jit
def level_size_nb(q0, stamp, target, t, half_life):
    """Size of a level at time ``t`` (ms) last left at size ``q0`` at time ``stamp − 1``.

    ``stamp`` is the touch time plus one, so 0 means "never touched" (full) and the time arrays can
    start as untouched zero pages.
    """
    if target <= 0.0:
        return 0.0
    if stamp == 0:
        return target
    dt = t - (stamp - 1)
    if dt >= 60.0 * half_life:
        return target
    return target - (target - q0) * math.exp(-math.log(2.0) * dt / half_life)


@jit(inline="always")
def level_now_nb(q0, stamp, target, d, t, book, p):
    """A level's size now (``d`` ticks from the fair price), with the liquidity shock and the makers'
    withdrawal: the target is scaled, and a level holding more than its scaled target is cut to it at once
    (makers pull); a level inside the withdrawal's gap is empty; without either, :func:`level_size_nb`."""
    if p.wd_on and d <= book.gap[0]:
        return 0.0
    shocked = p.depth_shock_start <= t < p.depth_shock_end
    scale = (p.depth_shock_factor if shocked else 1.0) * (book.share[0] if p.wd_on else 1.0)
    size = level_size_nb(q0, stamp, target * scale, t, p.refill_half_life)
    if (shocked or p.wd_on) and size > target * scale:
        size = target * scale
    return size


@jit
def top_ticks_nb(fair, tick):
    """Absolute ticks of the first bid (just below ``fair``) and first ask (just above)."""
    phi = fair / tick
    return np.int64(math.ceil(phi)) - 1, np.int64(math.floor(phi)) + 1


@jit
def best_price_nb(book, is_bid, fair, t, p):
    """Best quoted price on one side, NaN if nothing is quoted within the profile's reach."""
    bid_top, ask_bot = top_ticks_nb(fair, p.tick)
    qeps = p.lot * 1e-6
    dmax = book.prof_bid.size - 1
    step = -1 if is_bid else 1
    a = bid_top if is_bid else ask_bot
    q = book.bid_q if is_bid else book.ask_q
    tt = book.bid_t if is_bid else book.ask_t
    prof = book.prof_bid if is_bid else book.prof_ask
    a, d = _cursor_start_nb(book, is_bid, a, fair, t)
    while d <= dmax:
        i = a - p.grid_lo
        if i < 0 or i >= p.n_levels:
            break
        if level_now_nb(q[i], tt[i], prof[d], d, t, book, p) >= qeps:
            return a * p.tick
        a += step
        d += 1
    return np.nan


@jit
def _cursor_start_nb(book, is_bid, a_top, fair, t):
    """Where a walk may start: levels before the side's cursor are known empty at this (time, fair)."""
    k = 0 if is_bid else 1
    step = -1 if is_bid else 1
    if book.cur_t[k] == t and book.cur_fair[k] == fair and step * (book.cur_a[k] - a_top) > 0:
        return book.cur_a[k], step * (book.cur_a[k] - a_top) + 1
    return a_top, 1


@jit
def walk_nb(book, side, qty, limit, fair, t, p):
    """Execute an IOC market order; returns ``(filled, notional, last_price)``.

    ``side`` +1 buys (walks the asks upward), −1 sells (walks the bids downward); ``limit`` is the
    worst acceptable level price. The book, and nothing else, is mutated: its levels, the side's walk cursor and the
    taker flow its makers see. ``filled`` is ``qty − unfilled`` so a fully filled order reports exactly ``qty``.
    """
    is_bid = side < 0
    bid_top, ask_bot = top_ticks_nb(fair, p.tick)
    a0 = bid_top if is_bid else ask_bot
    step = -1 if is_bid else 1
    q = book.bid_q if is_bid else book.ask_q
    tt = book.bid_t if is_bid else book.ask_t
    prof = book.prof_bid if is_bid else book.prof_ask
    blk = book.bid_blk if is_bid else book.ask_blk
    dmax = prof.size - 1
    qeps = p.lot * 1e-6
    rem = qty
    notional = 0.0
    last = np.nan
    a, d = _cursor_start_nb(book, is_bid, a0, fair, t)
    while rem > 0.0:
        if d > dmax:
            break
        i = a - p.grid_lo
        if i < 0 or i >= p.n_levels:
            break
        price = a * p.tick
        if (is_bid and price < limit) or ((not is_bid) and price > limit):
            break
        size = level_now_nb(q[i], tt[i], prof[d], d, t, book, p)
        if size >= qeps:
            take = min(size, rem)
            q[i] = size - take
            tt[i] = t + 1
            blk[i >> BLOCK_SHIFT] = t + 1
            rem -= take
            notional += take * price
            last = price
            if q[i] >= qeps:
                break
        a += step
        d += 1
    k = 0 if is_bid else 1
    book.cur_t[k] = t
    book.cur_a[k] = a
    book.cur_fair[k] = fair
    book.flow_acc[0] += side * notional  # taker flow the makers see (withdrawal)
    return qty - rem, notional, last


#: Levels per block of the ladder's touch summary (BookState.bid_blk / ask_blk).
BLOCK_SHIFT = 6


@jit
def depth_usd_nb(book, is_bid, fair, t, p, pct):
    """USD value quoted on one side within ``pct`` (fraction) of the fair price; no mutation.

    The levels are taken a block at a time (``1 << BLOCK_SHIFT`` levels): a block no walk touched within 60
    refill half-lives holds exactly its scaled profile, summed from the profile's running sums; only the other
    blocks are read level by level. A side within 1% spans some 12,000 ticks at 0.1 USD, and the series samples
    it every second, so this is most of a default run's time otherwise. The profile's far tail below the
    quantity floor (``lot·1e-6``, a ten-thousandth of a dollar a level) counts in an untouched block.
    """
    bid_top, ask_bot = top_ticks_nb(fair, p.tick)
    qeps = p.lot * 1e-6
    q = book.bid_q if is_bid else book.ask_q
    tt = book.bid_t if is_bid else book.ask_t
    prof = book.prof_bid if is_bid else book.prof_ask
    blk = book.bid_blk if is_bid else book.ask_blk
    c0 = book.cum_bid[0] if is_bid else book.cum_ask[0]
    c1 = book.cum_bid[1] if is_bid else book.cum_ask[1]
    a0 = bid_top if is_bid else ask_bot
    step = -1 if is_bid else 1
    i0 = a0 - p.grid_lo
    if i0 < 0 or i0 >= p.n_levels:
        return 0.0
    # the last offset: within the profile, the grid and the band (the band's edge by the level loop's own test)
    d_last = prof.size - 1
    d_last = min(d_last, i0 + 1 if is_bid else p.n_levels - i0)
    edge = fair * (1.0 - pct) if is_bid else fair * (1.0 + pct)
    d_band = max(0, int(step * (edge / p.tick - a0))) + 1
    while d_band >= 1 and _beyond_nb(is_bid, (a0 + step * (d_band - 1)) * p.tick, edge):
        d_band -= 1
    while not _beyond_nb(is_bid, (a0 + step * d_band) * p.tick, edge):
        d_band += 1
    d_last = min(d_last, d_band)
    d = 1
    if p.wd_on and book.gap[0] >= 1.0:  # the withdrawal's gap is empty
        d = int(min(book.gap[0], float(d_last))) + 1
    shocked = p.depth_shock_start <= t < p.depth_shock_end
    scale = (p.depth_shock_factor if shocked else 1.0) * (book.share[0] if p.wd_on else 1.0)
    full_after = 60.0 * p.refill_half_life
    total = 0.0
    while d <= d_last:
        i = i0 + step * (d - 1)
        left = (i & ((1 << BLOCK_SHIFT) - 1)) + 1 if is_bid else (1 << BLOCK_SHIFT) - (i & ((1 << BLOCK_SHIFT) - 1))
        e = min(d_last, d + left - 1)
        stamp = blk[i >> BLOCK_SHIFT]
        if stamp == 0 or t - (stamp - 1) >= full_after:  # every level at its scaled profile
            if scale > 0.0:
                total += scale * p.tick * ((a0 - step) * (c0[e] - c0[d - 1]) + step * (c1[e] - c1[d - 1]))
        else:
            for k in range(d, e + 1):
                j = i0 + step * (k - 1)
                size = level_now_nb(q[j], tt[j], prof[k], k, t, book, p)
                if size >= qeps:
                    total += size * ((a0 + step * (k - 1)) * p.tick)
        d = e + 1
    return total


@jit(inline="always")
def _beyond_nb(is_bid, price, edge):
    """Whether a level at ``price`` lies beyond the band's ``edge`` (below it for bids, above it for asks)."""
    return price < edge if is_bid else price > edge


@jit
def fillable_nb(book, side, qty, limit, fair, t, p):
    """How much of an order of ``qty`` would fill now within ``limit`` (at most ``qty``); no mutation.

    A fill-or-kill order asks this first and walks the book only when the answer is the whole ``qty``.
    """
    is_bid = side < 0
    bid_top, ask_bot = top_ticks_nb(fair, p.tick)
    step = -1 if is_bid else 1
    q = book.bid_q if is_bid else book.ask_q
    tt = book.bid_t if is_bid else book.ask_t
    prof = book.prof_bid if is_bid else book.prof_ask
    dmax = prof.size - 1
    qeps = p.lot * 1e-6
    total = 0.0
    a, d = _cursor_start_nb(book, is_bid, bid_top if is_bid else ask_bot, fair, t)
    while total < qty and d <= dmax:
        i = a - p.grid_lo
        if i < 0 or i >= p.n_levels:
            break
        price = a * p.tick
        if (is_bid and price < limit) or ((not is_bid) and price > limit):
            break
        size = level_now_nb(q[i], tt[i], prof[d], d, t, book, p)
        if size >= qeps:
            total += size
        a += step
        d += 1
    return min(total, qty)


@jit
def withdraw_nb(book, index, p):
    """Makers' share of their normal depth after an oracle tick (docs/engine.md §5): it falls at once to
    ``max(floor, 1 / (1 + vol/vol_half + |flow|/flow_half))`` when that is lower, and returns toward it
    with the recovery half-life otherwise. ``vol`` and ``flow`` are EMAs, over ``wd_window``, of the
    index's absolute log return per √s and of the signed taker flow in USD/s since the last tick. Makers
    also stop quoting within ``wd_spread·(1 − share)/(1 − floor)`` of the fair price (in ticks)."""
    dt = float(p.oracle_interval)
    dt_s = dt / 1000.0
    a = math.exp(-dt / p.wd_window)
    ret = abs(math.log(index / book.prev[0])) / math.sqrt(dt_s)
    book.vol[0] = book.vol[0] * a + ret * (1.0 - a)
    book.flow[0] = book.flow[0] * a + book.flow_acc[0] / dt_s * (1.0 - a)
    book.flow_acc[0] = 0.0
    book.prev[0] = index
    target = max(p.wd_floor, 1.0 / (1.0 + book.vol[0] / p.wd_vol_half + abs(book.flow[0]) / p.wd_flow_half))
    phi = book.share[0]
    if target < phi:
        phi = target
    else:
        phi = target - (target - phi) * math.exp(-math.log(2.0) * dt / p.wd_recovery)
    book.share[0] = phi
    # and widen: the levels within wd_spread · (share pulled / most they pull) of the fair price go empty
    gap = 0.0
    if p.wd_floor < 1.0:
        gap = p.wd_spread * index / p.tick * (1.0 - phi) / (1.0 - p.wd_floor)
    book.gap[0] = gap
