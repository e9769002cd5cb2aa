"""Liquidation at the fillable price, block by block (dYdX v4; docs/model.md §2.8, docs/engine.md §7.11).

A triggered account sends one IOC order per block, limited to the *fillable price*
``P·(1 − side·ABR·SMMR·MMF)`` at the oracle price ``P``, with ``ABR = clamp(BA·(1 − TNC/TMMR), 0, 1)``. The order
fills at the makers' prices, level by level, and every fill settles with the insurance fund against the account's
bankruptcy price: below it the fund pays the gap (as long as its balance covers it and it has not paid the block's
limit for this account, else matching stops); above it the fund takes a fee of at most ``clearance`` of the fill's
notional and the trader keeps the rest. The order's size is capped per block (a share of the position's notional,
with a floor, and a cap per account). An account whose order filled nothing while its equity is negative is
deleveraged in full at its bankruptcy price (:mod:`sim.kernels.adl`, random ranking); any other account left open
is tried again a block later.

The formulas take the account's total net collateral (TNC) and total maintenance margin requirement (TMMR) as
arguments: in today's engine an account holds one position, so they are that position's equity and maintenance
margin, and an engine with several positions per account passes its sums instead.
"""

import math

from sim import enums as E
from sim._jit import jit
from sim.kernels.adl import block_draw_nb, block_of_nb
from sim.kernels.behaviour import arm_topup_nb
from sim.kernels.book import best_price_nb, walk_nb
from sim.kernels.heap import argsort_nb
from sim.kernels.liquidation import (
    defer_nb,
    fund_add_nb,
    fund_equity_nb,
    heap_insert_nb,
    hold_nb,
    maker_trade_nb,
    next_triggered_nb,
    pool_add_nb,
    record_nb,
    reduce_position_nb,
    set_last_nb,
    settle_rest_nb,
)
from sim.kernels.margin import bankruptcy_price_nb, equity_nb, position_mm_nb, refresh_prices_nb, topup_armed_nb


@jit(inline="always", entry=True)
def fillable_price_nb(side, price, tnc, tmmr, mmf, ba, smmr):
    """The limit of a liquidation order closing a ``side`` position (±1) at oracle price ``price``.

    ``tnc`` and ``tmmr`` are the account's total net collateral and maintenance margin (USD, ``tmmr`` > 0), ``mmf``
    the position's maintenance fraction; ``ba`` the bankruptcy adjustment and ``smmr`` the spread to maintenance
    margin ratio. A long sells no lower than ``price·(1 − ABR·SMMR·MMF)``, a short buys no higher than
    ``price·(1 + ABR·SMMR·MMF)``.
    """
    abr = min(1.0, max(0.0, ba * (1.0 - tnc / tmmr)))
    return price * (1.0 - side * abr * smmr * mmf)


@jit(inline="always", entry=True)
def insurance_fund_delta_nb(side, qty, price, bp, max_fee, fee_cap):
    """The fund's side of a fill of ``qty`` closing a ``side`` position at ``price`` with bankruptcy price ``bp``
    (USD; x/clob/keeper/liquidations.go GetLiquidationInsuranceFundDelta): the trader's receipt at the fill minus
    its receipt at bankruptcy, ``side·qty·(price − bp)``; negative, the fund pays it; positive, the fund takes at
    most ``max_fee`` of the fill's notional (all of it without ``fee_cap``) and the trader keeps the rest."""
    ifd = side * qty * (price - bp)
    if ifd < 0.0 or not fee_cap:
        return ifd
    return min(ifd, max_fee * qty * price)


@jit(inline="always", entry=True)
def block_size_nb(q, price, lot, frac, min_usd, account_left):
    """Base units one block's order may close of a position of size ``q`` at oracle price ``price``.

    The cap is ``min(max(min(min_usd, N), frac·N), account_left)`` of notional ``N = q·price``; a position within
    it is closed whole, else the cap in whole lots (at least one).
    """
    n = q * price
    cap = min(max(min(min_usd, n), frac * n), account_left)
    if n <= cap:
        return q
    return min(q, max(math.floor(cap / price / lot) * lot, lot))


@jit
def fillable_liquidate_nb(i, t, pos, tiers, book, trig, fl, px, acc, adl, work, clk, tot, p):
    """One block's liquidation order for triggered row ``i``; writes at most one fill record.

    Mutates the row, the book, the fund and the makers' account; a row left open waits ``p.block_ticks`` oracle
    ticks; a row deleveraged joins the ADL pool (cause deficit), which the loop matches at once.
    """
    s = pos.side[i]
    m = px.mark
    q = pos.size[i]
    ep = pos.entry[i]
    dust = p.lot * 1e-9
    tnc = equity_nb(s, q, ep, pos.wallet[i], m)
    tmmr = position_mm_nb(q, ep, m, tiers.floor, tiers.mmr, tiers.cum, tiers.basis)
    limit = fillable_price_nb(s, m, tnc, tmmr, tmmr / (q * m), p.fill_ba, p.fill_smmr)
    x = block_size_nb(q, m, p.lot, p.block_pos_frac, p.block_pos_min, p.block_acct)
    bp0 = pos.bp[i]
    rem = x
    filled = 0.0
    notional = 0.0
    fund_delta = 0.0
    fee = 0.0
    lost = 0.0  # what the fund paid for this account in this block
    while rem > dust:
        best = best_price_nb(book, s > 0, px.quote, t, p)
        if math.isnan(best) or s * (best - limit) < 0.0:
            break  # nothing left on the book within the fillable price
        bp = pos.bp[i]
        take = rem
        if s * (best - bp) < 0.0:  # below bankruptcy: the fund pays the gap, as far as it can and may
            room = min(fund_equity_nb(acc, m), p.block_fund_loss - lost)
            if room <= 0.0:
                break
            take = min(rem, room / (s * (bp - best)))
        got, cost, last = walk_nb(book, -s, take, best, px.quote, t, p)
        if got <= 0.0:
            break
        price = cost / got
        d = insurance_fund_delta_nb(s, got, price, bp, p.clearance, p.fee_cap)
        if d < 0.0:
            lost -= d
            reduce_position_nb(pos.side, pos.size, pos.entry, pos.wallet, pos.kind, px, i, got, bp)
        else:
            reduce_position_nb(pos.side, pos.size, pos.entry, pos.wallet, pos.kind, px, i, got, price)
            pos.wallet[i] -= d
            fee += d
        maker_trade_nb(acc, s * got, price)
        acc.fund_cash += d
        fund_add_nb(acc, d)
        set_last_nb(px, last)
        fund_delta += d
        filled += got
        notional += got * price
        if pos.size[i] > dust:  # the trader kept part of a surplus: its bankruptcy price moved
            pos.bp[i] = bankruptcy_price_nb(s, pos.size[i], ep, pos.wallet[i])
        rem -= got
        if take < rem + got and got >= take:
            break  # the fund could pay no more in this block
    if filled > 0.0:
        kind = E.LIQUIDATION if x >= q else E.PARTIAL
        tot.liq_usd += notional
        record_nb(fl, clk, t, kind, i, -s, filled, notional / filled, bp0, fund_delta, fee, m, tnc)
        if kind == E.PARTIAL:
            tot.partial += 1
    if pos.size[i] <= dust:
        pos.status[i] = E.LIQUIDATED
        tot.full += 1
        return
    if filled <= 0.0 and equity_nb(s, pos.size[i], ep, pos.wallet[i], m) < 0.0:
        if p.adl_enabled and p.block_deleveragings > 0 and work.ndel >= p.block_deleveragings:
            pass  # the block's deleveragings are used up: it stays open and waits for the next block
        elif p.adl_enabled:  # deleveraged in full at its bankruptcy price; the fund pays nothing
            work.ndel += 1
            rest = pos.size[i]
            bp = pos.bp[i]
            reduce_position_nb(pos.side, pos.size, pos.entry, pos.wallet, pos.kind, px, i, rest, bp)
            pool_add_nb(adl, s, E.CAUSE_DEFICIT, rest, bp)
            adl.row = i  # what the holders do not take returns to it (sim.kernels.adl.reopen_nb)
            pos.status[i] = E.LIQUIDATED
            tot.full += 1
            return
        else:  # no deleveraging: the fund takes it over, and what it cannot pay is bad debt
            settle_rest_nb(i, t, pos, tiers, trig, fl, px, acc, adl, work, clk, tot, p)
            return
    refresh_prices_nb(pos, i, tiers)
    defer_nb(pos, trig, work, i, p.block_ticks)


# ``Positions.eligible`` of a row that waits in ``Trigger.wait`` for a window slot: out of the trigger index (the
# re-index and the deferred list put back only rows eligible by now) until :func:`fillable_select_nb` returns it
WAITING = 1 << 62


@jit
def fillable_select_nb(t, pos, tiers, trig, px, adl, work, bh, p):
    """Choose the oracle tick's liquidation orders (dYdX, x/clob/keeper/liquidations.go
    LiquidateSubaccountsAgainstOrderbook): every triggered row of both sides, in id order as the chain's list of
    liquidatable accounts [INF: its order], a window of at most the block's orders left
    (``p.block_liquidations``, 0: all) cyclically from the block's random draw modulo their number, sent most
    under water first: by ``|fillable − oracle| / oracle`` descending, then by the order's notional at the oracle
    price descending (``SortLiquidationOrders``; ties in id order where the chain uses the order's hash).

    Writes the window into ``trig.win[:work.win_n]``. The triggered rows left out wait in ``trig.wait`` (id order),
    out of the trigger index, and the next tick takes them back without a pass through the index: those still
    triggered and not armed for a top-up are kept, the others go back to the index and are read from it with the
    new ones (as in the other venues' pass, a row whose top-up price was crossed arms its top-up). A cascade
    that leaves tens of thousands of accounts waiting for their turn thus costs a pass over them per block, not
    a re-sort. Sorts in the trigger's scratch rows (no ADL matching is under way between ticks).
    """
    b = block_of_nb(work, p)
    m = px.mark
    wait = trig.wait
    kw = 0
    for j in range(work.nwait):  # the rows waiting from earlier ticks, in id order
        i = wait[j]
        if pos.status[i] != E.OPEN:
            continue
        if pos.cross[i] != 0:  # forced by its account's check at an earlier tick: its account looks again
            pos.eligible[i] = work.tick  # out of the waiting list
            hold_nb(trig, work, i)
            continue
        if (p.tu_on and topup_armed_nb(pos.reserve[i], pos.tu_due[i])) or pos.key[i] < pos.side[i] * m:
            pos.eligible[i] = work.tick  # back to the index: read below with the others, or later
            heap_insert_nb(pos, trig, work, i)
            continue
        wait[kw] = i
        kw += 1
    fresh = trig.scr_i[3]
    kn = 0
    for h in range(2):
        side = 1 - 2 * h
        while True:
            i = next_triggered_nb(pos, trig, work, side, m)
            if i < 0:
                break
            if pos.eligible[i] > work.tick:
                continue  # indexed twice (a deferred row's key did not change), or waiting: taken already
            if p.tu_on and topup_armed_nb(pos.reserve[i], pos.tu_due[i]):
                arm_topup_nb(i, t, pos, tiers, trig, work, bh)  # its top-up price was crossed
                continue
            if pos.cross[i] != 0:
                hold_nb(trig, work, i)  # a cross account's row: its account decides (sim.kernels.cross)
                continue
            pos.eligible[i] = work.tick + 1
            fresh[kn] = i
            kn += 1
    work.win_n = 0
    work.win_cur = 0
    k = kw + kn
    if k == 0:
        work.nwait = 0
        return
    order = trig.scr_i[0]
    tmp = trig.scr_i[1]
    fid = trig.scr_f[0, :kn]
    for j in range(kn):
        fid[j] = float(fresh[j])  # exact: row ids are far below 2^53
    argsort_nb(fid, order, trig.scr_i[2])
    for j in range(kn):
        tmp[j] = fresh[order[j]]
    win = trig.win  # every triggered row, in id order: the waiting ones merged with the fresh ones
    a = 0
    c = 0
    for j in range(k):
        if c >= kn or (a < kw and wait[a] < tmp[c]):
            win[j] = wait[a]
            a += 1
        else:
            win[j] = tmp[c]
            c += 1
    w = k if p.block_liquidations <= 0 else min(k, max(0, p.block_liquidations - work.nliq))
    off = block_draw_nb(adl, b) % k
    work.nliq += w
    ids = trig.scr_i[3]  # the window in id order: win[off:off + w], or its two runs when it wraps around
    wrap = max(0, off + w - k)
    for j in range(wrap):
        ids[j] = win[j]
    for j in range(w - wrap):
        ids[wrap + j] = win[off + j]
    nw = 0  # the others wait, in id order: win[wrap:off] and win[off + w:k]
    for j in range(wrap, off):
        wait[nw] = win[j]
        nw += 1
    for j in range(off + w, k):
        wait[nw] = win[j]
        nw += 1
    for j in range(nw):
        pos.eligible[wait[j]] = WAITING
    work.nwait = nw
    key1 = trig.scr_f[0, :w]  # −|fillable − oracle| / oracle
    key2 = trig.scr_f[1, :w]  # −notional of the order at the oracle price
    for j in range(w):
        i = ids[j]
        q = pos.size[i]
        s = pos.side[i]
        tnc = equity_nb(s, q, pos.entry[i], pos.wallet[i], m)
        tmmr = position_mm_nb(q, pos.entry[i], m, tiers.floor, tiers.mmr, tiers.cum, tiers.basis)
        limit = fillable_price_nb(s, m, tnc, tmmr, tmmr / (q * m), p.fill_ba, p.fill_smmr)
        key1[j] = -(abs(limit - m) / m)
        key2[j] = -(block_size_nb(q, m, p.lot, p.block_pos_frac, p.block_pos_min, p.block_acct) * m)
    argsort_nb(key2, order, trig.scr_i[2])  # stable: by notional, ties in id order ...
    for j in range(w):
        tmp[j] = ids[order[j]]
        trig.rank_score[j] = key1[order[j]]
    argsort_nb(trig.rank_score[:w], order, trig.scr_i[2])  # ... then by the spread, ties as they were
    for j in range(w):
        win[j] = tmp[order[j]]
    work.win_n = w


@jit(inline="always")
def fillable_next_nb(pos, trig, work, px):
    """The next row of the tick's window still open and liquidatable, or -1; a row that no longer is (it was an ADL
    victim) goes back to the trigger index at the next tick."""
    while work.win_cur < work.win_n:
        i = trig.win[work.win_cur]
        work.win_cur += 1
        if pos.status[i] != E.OPEN:
            continue
        if pos.key[i] < pos.side[i] * px.mark:
            defer_nb(pos, trig, work, i, 1)
            continue
        return i
    return -1
