"""Spot venues, the index they make, and the traders who carry flow between them and the perp (docs/model.md §1.6).

Each oracle tick, before the index is read, :func:`spot_tick_nb` moves the spot venues: their books refill and their
makers pull or return depth, then a flow shock's slice, the perp makers' hedges, the basis arbitrageurs and the informed
traders trade, in that order. :func:`index_nb` then reads the index off the constituents' prices by the venue's method.

A spot book is continuous (state: :class:`sim.state.SpotState`): within a relative distance ``x`` of its centre ``r``
it holds ``D·(x / 1%)^a`` USD per side, ``D`` the venue's depth within 1% times the makers' share, ``a`` the shape. A
trade's consumed depth ``c`` (USD at the centre, positive when bids were taken) sets the mid
``m = r·(1 − sgn(c)·1%·(|c|/D)^(1/a))``. After the trade the centre keeps a share ``π`` of the move (permanent
impact); the rest is consumed depth, which refills with a half-life, so the mid decays back toward the centre.
Every spot trade is between a taker and the venue's makers: base and cash move between two rows of the ledger, so
each venue's base and cash sum to zero exactly as they started.
"""

import math

import numpy as np

from sim import enums as E
from sim._jit import jit
from sim.kernels.book import best_price_nb, walk_nb
from sim.kernels.liquidation import maker_trade_nb, record_nb, set_last_nb

_MOST = 0.95  # a spot trade stops where its venue's price would have moved 95% (the book's far end)


@jit(inline="always")
def consumed_nb(e, d, a):
    """Depth consumed (USD at the centre) for a mid ``e`` (fraction) below the centre, on a book of depth ``d``."""
    return math.copysign(d * (abs(e) / 0.01) ** a, e)


@jit(inline="always")
def displacement_nb(c, d, a):
    """The mid's relative distance below the centre after ``c`` USD of depth was consumed (inverse of consumed_nb)."""
    return math.copysign(0.01 * (abs(c) / d) ** (1.0 / a), c)


@jit(inline="always")
def area_nb(u, d, a):
    """∫₀ᵘ (1 − displacement(c)) dc: the fills' value (per unit of centre price) of consuming depth from 0 to ``u``."""
    b = 1.0 + 1.0 / a
    return u - 0.01 * d ** (-1.0 / a) * abs(u) ** b / b


@jit(inline="always")
def live_nb(sp, v, t):
    """Venue ``v`` trades at ``t`` (not in an outage)."""
    return not (sp.out_start[v] <= t < sp.out_end[v])


@jit
def spot_trade_nb(sp, spp, v, who, qty, keep):
    """``who`` (enums.SPOT_*) buys ``qty`` base units (negative: sells) on venue ``v`` from its makers, walking the
    venue's book; the centre keeps the share ``keep`` of the move (1 for informed trades: the makers learn from them).
    Returns the quantity filled (signed; less than asked only at the book's far end)."""
    r = sp.center[v]
    d = sp.depth[v] * sp.share[v]
    a = spp.shape
    m0 = sp.mid[v]
    c0 = consumed_nb(1.0 - m0 / r, d, a)
    c1 = c0 - qty * r
    e1 = displacement_nb(c1, d, a)
    if e1 > _MOST or e1 < -_MOST:
        e1 = _MOST if e1 > 0.0 else -_MOST
        c1 = consumed_nb(e1, d, a)
    filled = (c0 - c1) / r
    if filled == 0.0:
        return 0.0
    price = r * (area_nb(c1, d, a) - area_nb(c0, d, a)) / (c1 - c0)
    m1 = r * (1.0 - e1)
    sp.mid[v] = m1
    sp.center[v] = r * math.exp(keep * math.log(m1 / m0))
    value = filled * price
    sp.base[who, v] += filled
    sp.cash[who, v] -= value
    sp.base[E.SPOT_MAKERS, v] -= filled
    sp.cash[E.SPOT_MAKERS, v] += value
    sp.volume[who, v] += abs(value)
    sp.flow_acc[v] += value
    if m1 < sp.low[v]:
        sp.low[v] = m1
    if m1 > sp.high[v]:
        sp.high[v] = m1
    return filled


@jit
def spread_nb(sp, spp, t, who, qty):
    """``who`` buys ``qty`` base units (negative: sells) across the live venues: the perp's hedgers and arbitrageurs send
    ``home_share`` of it to the home venue (the set's first, while it trades) and the rest in proportion to the
    venues' depth now; a flow shock sends it all by depth. Returns the quantity filled."""
    total = 0.0
    for v in range(sp.mid.size):
        if live_nb(sp, v, t):
            total += sp.depth[v] * sp.share[v]
    if total <= 0.0:
        return 0.0
    home = spp.home_share if (who != E.SPOT_FLOW and live_nb(sp, 0, t)) else 0.0
    filled = 0.0
    for v in range(sp.mid.size):
        if live_nb(sp, v, t):
            w = (1.0 - home) * sp.depth[v] * sp.share[v] / total + (home if v == 0 else 0.0)
            filled += spot_trade_nb(sp, spp, v, who, qty * w, spp.permanent)
    return filled


@jit
def perp_fill_nb(t, n_pos, who, side, qty, price, last, sp, fl, px, acc, clk, p):
    """Book ``qty`` bought (``side`` −1: sold) at ``price`` on the perp by the arbitrageurs (``who`` 0) or the flow
    shock (1), against the perp's makers; the taker fee goes to the fee account."""
    sp.perp_q[who] += side * qty
    sp.perp_cash[who] -= side * qty * price
    maker_trade_nb(acc, -side * qty, price)
    fee = p.taker_fee * qty * price
    sp.perp_cash[who] -= fee
    acc.fee_cash += fee
    if not math.isnan(last):
        set_last_nb(px, last)
    kind = E.ARB_FILL if who == 0 else E.FLOW_FILL
    record_nb(fl, clk, t, kind, n_pos + 4 + who, side, qty, price, np.nan, 0.0, fee, px.mark, np.nan)


@jit
def refresh_nb(sp, spp, t, p):
    """Between two oracle ticks: consumed depth refills (the mid decays toward the centre by the resilience
    half-life) and, with spot withdrawal on (prices.withdrawal), makers set their share of depth from the venue's
    volatility and one-sided flow by the perp's rule and parameters (docs/engine.md §5)."""
    dt = float(p.oracle_interval)
    dt_s = dt / 1000.0
    keep = math.exp(-math.log(2.0) * dt / (spp.shape * spp.resilience))  # |e| ∝ |c|^(1/a): c halves in resilience
    a = math.exp(-dt / p.wd_window)
    for v in range(sp.mid.size):
        if not live_nb(sp, v, t):
            sp.flow_acc[v] = 0.0
            continue
        r = sp.center[v]
        sp.mid[v] = r * (1.0 - (1.0 - sp.mid[v] / r) * keep)
        if spp.wd_on:
            ret = abs(math.log(sp.mid[v] / sp.prev[v])) / math.sqrt(dt_s)
            sp.vol[v] = sp.vol[v] * a + ret * (1.0 - a)
            sp.flow[v] = sp.flow[v] * a + sp.flow_acc[v] / dt_s * (1.0 - a)
            half = spp.wd_flow_share * sp.depth[v]
            target = max(p.wd_floor, 1.0 / (1.0 + sp.vol[v] / p.wd_vol_half + abs(sp.flow[v]) / half))
            phi = sp.share[v]
            if target < phi:
                phi = target
            else:
                phi = target - (target - phi) * math.exp(-math.log(2.0) * dt / p.wd_recovery)
            sp.share[v] = phi
        sp.flow_acc[v] = 0.0
        sp.prev[v] = sp.mid[v]


@jit
def spot_tick_nb(t, fundamental, n_pos, book, sp, spp, fl, px, acc, clk, p):
    """One oracle tick of the spot venues and the traders between them and the perp; the index is read afterwards.

    Order: the books refresh; a flow shock's slice; the perp makers hedge their inventory as it was ``hedge_lag``
    ticks ago; the arbitrageurs act on the basis as it was ``arb_lag`` ticks ago; arbitrageurs between spot venues
    narrow their gaps; the informed traders close their share of each venue's gap to the fundamental value
    (:func:`informed_nb`)."""
    dt = float(p.oracle_interval)
    dt_s = dt / 1000.0
    k = sp.ticks[0]
    sp.ticks[0] = k + 1
    index = px.index_price
    if spp.on:
        refresh_nb(sp, spp, t, p)
    if spp.flow_on and spp.flow_start <= t < spp.flow_end:
        usd = spp.flow_rate * min(dt, float(spp.flow_end - t))
        side = 1 if usd > 0.0 else -1
        if spp.flow_perp > 0.0:  # a market order, as far into the book as the ladder goes
            qty = abs(usd) * spp.flow_perp / index
            filled, notional, last = walk_nb(book, side, qty, index * (1.0 + side * 0.9), px.quote, t, p)
            if filled > 0.0:
                perp_fill_nb(t, n_pos, 1, side, filled, notional / filled, last, sp, fl, px, acc, clk, p)
        if spp.on and spp.flow_perp < 1.0:
            spread_nb(sp, spp, t, E.SPOT_FLOW, usd * (1.0 - spp.flow_perp) / index)
    if not spp.on:
        return
    # the lagged views: the perp makers' inventory and the basis (perp mid over the index), ring of lag + 1
    w = sp.hist.shape[1]
    sp.hist[0, k % w] = acc.maker_q
    sp.hist[1, k % w] = 0.0  # until this tick's liquidation work is over (observe_basis_nb)
    if spp.hedge_share > 0.0:
        seen = sp.hist[0, (k - spp.hedge_lag) % w] if k >= spp.hedge_lag else 0.0
        held = 0.0
        for v in range(sp.mid.size):
            held += sp.base[E.SPOT_HEDGERS, v]
        # makers carry up to hedge_free USD of inventory unhedged; they hedge their share of what lies beyond it
        excess = abs(seen) - spp.hedge_free / index
        want = (-spp.hedge_share * math.copysign(excess, seen) if excess > 0.0 else 0.0) - held
        most = spp.hedge_cap * dt_s / index
        if abs(want) > most:
            want = math.copysign(most, want)
        if want != 0.0:
            spread_nb(sp, spp, t, E.SPOT_HEDGERS, want)
    if spp.arb_capital > 0.0:
        seen = sp.hist[1, (k - spp.arb_lag) % w] if k >= spp.arb_lag else 0.0
        arbitrage_nb(t, n_pos, seen, sp, spp, fl, px, acc, clk, p)
    if spp.venue_arb > 0.0:
        venue_arbitrage_nb(sp, spp, t)
    if spp.informed > 0.0:
        for v in range(sp.mid.size):
            if live_nb(sp, v, t):
                informed_nb(sp, spp, v, fundamental)


@jit
def venue_arbitrage_nb(sp, spp, t):
    """Arbitrageurs between spot venues move each live venue's mid the share ``venue_arb`` of the way (in log price)
    to the live venues' depth-weighted mean: they buy where it is cheap and sell where it is dear. Their orders are
    uninformed (``permanent_share`` stays)."""
    ref = np.nan  # deviations from the first live venue's price: equal prices give no trade at all
    num = 0.0
    den = 0.0
    for v in range(sp.mid.size):
        if live_nb(sp, v, t):
            if math.isnan(ref):
                ref = math.log(sp.mid[v])
            d = sp.depth[v] * sp.share[v]
            num += d * (math.log(sp.mid[v]) - ref)
            den += d
    if den <= 0.0:
        return
    mean = num / den
    for v in range(sp.mid.size):
        if not live_nb(sp, v, t):
            continue
        m0 = sp.mid[v]
        gap = mean - (math.log(m0) - ref)
        if gap != 0.0:
            trade_to_nb(sp, spp, v, E.SPOT_VENUE_ARBS, m0 * math.exp(spp.venue_arb * gap), spp.permanent)


@jit(inline="always")
def informed_nb(sp, spp, v, fundamental):
    """Informed traders move venue ``v``'s centre the share ``informed`` of the way (in log price) to the fundamental
    value. Their trades are permanent (the makers learn from them), so mid and centre move by one ratio and what
    transient the venue had (from uninformed orders) still decays on its own: the mid reaches the fundamental value
    from one side, without overshooting it."""
    target = sp.mid[v] * math.exp(spp.informed * math.log(fundamental / sp.center[v]))
    trade_to_nb(sp, spp, v, E.SPOT_INFORMED, target, 1.0)


@jit(inline="always")
def trade_to_nb(sp, spp, v, who, target, keep):
    """``who`` trades venue ``v``'s mid to ``target`` on its book now (the quantity whose consumed depth gets it there);
    the centre keeps the share ``keep`` of the move."""
    r = sp.center[v]
    d = sp.depth[v] * sp.share[v]
    dc = consumed_nb(1.0 - target / r, d, spp.shape) - consumed_nb(1.0 - sp.mid[v] / r, d, spp.shape)
    if dc != 0.0:
        spot_trade_nb(sp, spp, v, who, -dc / r, keep)


@jit
def arbitrage_nb(t, n_pos, basis, sp, spp, fl, px, acc, clk, p):
    """Basis arbitrageurs, acting on the basis they saw ``arb_lag`` ticks ago: below ``−arb_enter`` they buy the perp
    and sell spot, above ``arb_enter`` the reverse, up to ``arb_capital`` of perp notional at ``arb_rate`` per leg;
    within ``arb_exit`` they close both legs at that rate.

    The basis they see is the perp's mid against the index once a tick's forced orders have gone through the book
    (:func:`observe_basis_nb`). Their perp leg is a block trade with the perp's makers at that price (docs/model.md
    §1.6): they stand behind the book and take what the forced orders sold the makers. (The perp's quotes are
    recentred on the index at every tick, so an order of theirs sent through the book would meet the index's price,
    never the discount.)"""
    dt_s = float(p.oracle_interval) / 1000.0
    index = px.index_price
    last = index * (1.0 + basis)  # the price they saw, and bid (or offered) at
    q = sp.perp_q[0]
    step = spp.arb_rate * dt_s / index
    if basis < -spp.arb_enter or basis > spp.arb_enter:
        side = 1 if basis < 0.0 else -1
        qty = min(step, spp.arb_capital / index - side * q)
        if qty <= 0.0:
            return
        perp_fill_nb(t, n_pos, 0, side, qty, last, np.nan, sp, fl, px, acc, clk, p)
        spread_nb(sp, spp, t, E.SPOT_ARBS, -side * qty)
    elif abs(basis) < spp.arb_exit and q != 0.0:
        side = -1 if q > 0.0 else 1
        qty = min(step, abs(q))
        held = 0.0  # close the spot leg where it is held, in proportion
        for v in range(sp.mid.size):
            if live_nb(sp, v, t):
                held += sp.base[E.SPOT_ARBS, v]
        if held == 0.0:
            return
        perp_fill_nb(t, n_pos, 0, side, qty, last, np.nan, sp, fl, px, acc, clk, p)
        for v in range(sp.mid.size):
            if live_nb(sp, v, t) and sp.base[E.SPOT_ARBS, v] != 0.0:
                spot_trade_nb(sp, spp, v, E.SPOT_ARBS, -side * qty * sp.base[E.SPOT_ARBS, v] / held, spp.permanent)


@jit
def observe_basis_nb(t, book, sp, px, p):
    """After a tick's liquidation work: the perp's mid against the index, as the arbitrageurs see it (0 when a side of
    the book is empty)."""
    index = px.index_price
    bid = best_price_nb(book, True, px.quote, t, p)
    ask = best_price_nb(book, False, px.quote, t, p)
    if not (math.isnan(bid) or math.isnan(ask)):
        k = sp.ticks[0] - 1
        sp.hist[1, k % sp.hist.shape[1]] = 0.5 * (bid + ask) / index - 1.0


@jit
def index_nb(sp, spp, t, prev):
    """The index from the constituents' prices by the venue's method; ``prev`` when none is usable.

    A constituent in an outage for longer than ``stale`` ms leaves (its frozen price is used until then). Weighted
    mean: a constituent more than ``outlier`` from the median of the usable ones gets weight 0; with more than one
    such outlier the index is that median. Weighted median: the price at which the cumulative weight, prices
    ascending, first reaches half."""
    k = sp.mid.size
    px = sp.scr_px
    wt = sp.scr_wt
    n = 0
    for v in range(k):
        if sp.out_start[v] <= t < sp.out_end[v] and t - sp.out_start[v] > spp.stale:
            continue
        px[n] = sp.mid[v]
        wt[n] = sp.weight[v]
        n += 1
    if n == 0:
        return prev
    order = sp.scr_order[:n]  # np.argsort(px[:n], kind="stable"): an insertion sort of a handful of venues
    for j in range(n):
        x = px[j]
        i = j
        while i > 0 and px[order[i - 1]] > x:
            order[i] = order[i - 1]
            i -= 1
        order[i] = j
    total = 0.0
    for j in range(n):
        total += wt[j]
    if spp.method == E.INDEX_WEIGHTED_MEDIAN:
        acc = 0.0
        for j in order:
            acc += wt[j]
            if acc >= 0.5 * total:
                return px[j]
        return px[order[n - 1]]
    if n % 2 == 1:
        med = px[order[n // 2]]
    else:
        med = 0.5 * (px[order[n // 2 - 1]] + px[order[n // 2]])
    num = 0.0
    den = 0.0
    outliers = 0
    for j in range(n):
        if abs(px[j] / med - 1.0) > spp.outlier:
            outliers += 1
        else:
            num += wt[j] * (px[j] - med)  # about the median: equal prices give exactly that price
            den += wt[j]
    if outliers > 1 or den <= 0.0:
        return med
    return med + num / den


@jit
def spot_sample_nb(k, sp):
    """Row ``k`` of the spot venues' series: their mids now."""
    if k < sp.series.shape[0]:
        for v in range(sp.mid.size):
            sp.series[k, v] = sp.mid[v]
