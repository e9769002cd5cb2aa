"""Auto-deleveraging: the bankrupt quantity a tick could not place is matched against winners.

During one side's liquidation pass, every remainder that neither the book nor the fund could take
is settled at its own bankruptcy price into a pool (:func:`sim.kernels.liquidation.settle_rest_nb`).
When the pass ends, the pool is matched once against the opposite side (docs/engine.md §7.10):

* :func:`adl_begin_nb` fixes the execution price (bankruptcy, mark or previous mark, by venue),
  ranks the candidates (by the venue's score, or, for dYdX, in id order cyclically from a pseudo-random start)
  and plans the policy — the venue's queue (whole positions in rank order),
  pro rata over the winners (the same fraction of every winner's contracts), or leverage draining
  (cut the most levered first until everyone cut is at one common leverage; Campbell, Hey,
  Moallemi and Nutz 2026);
* :func:`adl_step_nb` closes one victim per call (one fill record), so the loop can stop for a
  bigger fill buffer between any two victims; what no victim takes goes to the fund.

The fund pays (or receives) the difference between the execution price and the pool's bankruptcy
price, so money is conserved whatever price the venue uses.
"""

import numpy as np

from sim import enums as E
from sim._jit import jit
from sim.kernels.heap import argsort_nb
from sim.kernels.liquidation import (
    adl_tripped_nb,
    defer_nb,
    fund_add_nb,
    fund_equity_nb,
    fund_trade_nb,
    prefetch_row_nb,
    record_nb,
    reduce_position_nb,
    reindex_nb,
)
from sim.kernels.margin import equity_nb, refresh_prices_nb


@jit(inline="always")
def reopen_nb(pos, tiers, trig, px, work, tot, p, i, qty, price):
    """Row ``i`` (deleveraged, its whole position settled into the pool at its bankruptcy price ``price``) holds
    ``qty`` again, at that price with the wallet the settlement left (zero equity at it): the part no holder took,
    as the fund would have held it, so money is conserved. It waits for the next block."""
    pos.size[i] = qty
    pos.entry[i] = price
    pos.status[i] = E.OPEN
    if pos.kind[i] == E.TRADER:
        if pos.side[i] > 0:
            px.oi_long += qty
        else:
            px.oi_short += qty
    tot.full -= 1
    refresh_prices_nb(pos, i, tiers)  # its liquidation and bankruptcy prices and trigger key
    defer_nb(pos, trig, work, i, p.block_ticks)


# The generator of the random ranking's start offsets (dYdX): Park and Miller's "minimal standard" generator,
# x ← 48271·x mod (2^31 − 1), exact in int64 arithmetic, so the reference engine reproduces it with Python integers.
MINSTD_A = 48271
MINSTD_M = 2147483647


@jit(inline="always")
def block_of_nb(work, p):
    """Number the block of the current oracle tick (1, 2, ...: ``p.block_ticks`` ticks a block) into ``work.blk``,
    zeroing its counters of liquidation orders and deleveragings when a new block begins."""
    b = 1 + (work.tick - 1) // p.block_ticks
    if work.blk != b:
        work.blk = b
        work.nliq = 0
        work.ndel = 0
    return b


@jit(inline="always")
def block_draw_nb(adl, b):
    """Block ``b``'s pseudo-random draw, made at its first use in the block (advancing ``adl.rng``) and reused by every
    random start in it: dYdX seeds a new generator with the previous block's time for each walk (x/clob/keeper/
    random.go GetPseudoRand), so every walk of one block starts from the same first value, modulo its list's length."""
    if adl.x_blk != b:
        adl.rng = (MINSTD_A * adl.rng) % MINSTD_M
        adl.x = adl.rng
        adl.x_blk = b
    return adl.x


@jit(inline="always")
def random_start_nb(pos, adl, cand, h, b):
    """Where side ``h``'s deleveragings of block ``b`` start in its list ``cand`` (id order): at the open holder whose
    rank among the open ones is the block's draw modulo their count, fixed for the block (dYdX's list of holders is
    fixed for a block; holders that closed since are skipped)."""
    if adl.start_blk[h] != b:
        x = block_draw_nb(adl, b)
        size, status = pos.size, pos.status
        n_open = 0
        for r in range(cand.size):
            c = cand[r]
            if status[c] == E.OPEN and size[c] > 0.0:
                n_open += 1
        r0 = 0
        if n_open > 0:
            k = x % n_open
            for r in range(cand.size):
                c = cand[r]
                if status[c] == E.OPEN and size[c] > 0.0:
                    if k == 0:
                        r0 = r
                        break
                    k -= 1
        adl.start[h] = r0
        adl.start_blk[h] = b
    return adl.start[h]


@jit(inline="always")
def adl_score_nb(s, q, ep, w, mark, eq, mm, ranking):
    """Queue score of a position (side ``s``, size ``q``, entry ``ep``, wallet ``w``) at the mark, with ``eq``
    its equity and ``mm`` its maintenance margin there (higher is deleveraged first).

    * ``pnl_leverage`` (BitMEX, Bybit, OKX): PnL% × effective leverage, or PnL% ÷ leverage when
      losing; effective leverage = notional at mark ÷ equity at mark.
    * ``leverage_pnl`` (Binance, as quoted on its developer forum): max(0, uPnL) ÷ max(1, wallet) ×
      maintenance margin ÷ equity.
    * ``hyperliquid``: (mark ÷ entry) × notional ÷ account value; for a short the ratio is
      entry ÷ mark, so a winning short ranks like a winning long (the docs leave shorts open).

    Each expression is evaluated exactly as written (left to right, no fastmath), as the reference engine does:
    the queue is ordered by these floats, so two positions whose scores are equal in exact arithmetic but round
    apart must round the same way in both engines (docs/engine.md §7.10).
    """
    if ranking == E.RANK_LEVERAGE_PNL:
        return max(0.0, s * q * (mark - ep)) / max(1.0, w) * mm / eq
    lev = q * mark / eq
    if ranking == E.RANK_HYPERLIQUID:
        return (mark / ep if s > 0 else ep / mark) * lev
    pnl = s * (mark - ep) / ep
    return pnl * lev if pnl > 0.0 else pnl / lev


@jit(inline="always")
def adl_price_nb(px, acc, p, side, qty, bbar):
    """Execution price of the pool: the bankruptcy price; the mark while the fund can pay the whole
    gap to bankruptcy and its drawdown rule has not tripped, else the bankruptcy price (OKX); or the previous mark (Hyperliquid), kept
    between the mark and the bankruptcy price: after a gap a stale pre-gap mark would make the winners
    pay more than the deficit and hand the difference to the vault."""
    mark = px.mark
    if p.adl_price == E.ADL_AT_MARK:
        gap = qty * max(0.0, side * (bbar - mark))
        return mark if fund_equity_nb(acc, mark) >= gap and not adl_tripped_nb(acc, p, mark) else bbar
    if p.adl_price == E.ADL_AT_PREVIOUS_MARK:
        return min(max(px.prev_mark, min(mark, bbar)), max(mark, bbar))
    return bbar


@jit(inline="always")
def next_pool_nb(adl):
    """Move the first non-empty cause's pool (deficit, drawdown, capacity) into the pool being matched; returns
    whether one was left."""
    for cause in range(1, 4):
        k = cause - 1
        if adl.pool_q[k] > 0.0:
            adl.rem = adl.pool_q[k]
            adl.cost = adl.pool_cost[k]
            adl.pool_q[k] = 0.0
            adl.pool_cost[k] = 0.0
            adl.cause = cause
            return True
    return False


@jit
def adl_begin_nb(pos, tiers, trig, px, acc, adl, work, p):
    """Rank the opposite side and plan the matching of this tick's next pool (one cause at a time: each is
    matched against the queue as it stands after the previous one)."""
    s = adl.side
    if not next_pool_nb(adl):
        adl.side = 0
        return
    rem = adl.rem
    bbar = adl.cost / rem
    mark = px.mark
    price = adl_price_nb(px, acc, p, s, rem, bbar)
    adl.bbar = bbar
    adl.price = price
    cs = -s
    n = 0
    nw = 0
    open_size = 0.0  # of the candidates
    # local names for the arrays (read through the tuples, this scan over every row runs several times slower)
    size, entry, wallet, status = pos.size, pos.entry, pos.wallet, pos.status
    rank, score = trig.rank, trig.rank_score
    policy, ranking = p.adl_policy, p.adl_ranking
    floor, mmr, cum, basis = tiers.floor, tiers.mmr, tiers.cum, tiers.basis
    cand = trig.ids_long if cs > 0 else trig.ids_short  # the side's rows open at the start, in id order
    start = 0
    if ranking == E.RANK_RANDOM and cand.size > 0:
        start = random_start_nb(pos, adl, cand, 0 if cs > 0 else 1, block_of_nb(work, p))
    if ranking == E.RANK_RANDOM and policy == E.POLICY_QUEUE:
        _begin_random_queue_nb(pos, trig, adl, cand, start, cs, mark, price, rem, p.deleverage_holders)
        return
    for r in range(cand.size):
        c = cand[r]
        q = size[c]
        if status[c] != E.OPEN or q <= 0.0:
            continue
        ep = entry[c]
        w = wallet[c]
        eq = equity_nb(cs, q, ep, w, mark)
        if eq <= 0.0 or equity_nb(cs, q, ep, w, price) <= 0.0:
            continue  # a victim must stay solvent at the mark and at the price it is closed at
        rank[n] = c
        open_size += q
        if policy == E.POLICY_LEVERAGE_DRAIN:
            score[n] = -q * mark / eq
        elif policy == E.POLICY_PRO_RATA and cs * (mark - ep) > 0.0:
            score[n] = -np.inf  # winners first, in id order
            nw += 1
        elif ranking == E.RANK_RANDOM:
            score[n] = float((r - start) % cand.size)  # dYdX: cyclically from the start, no ranking
        else:
            mm = 0.0
            if ranking == E.RANK_LEVERAGE_PNL and cs * (mark - ep) > 0.0:
                # position_mm_nb written out: a call that takes the tier arrays, even inlined, costs more than
                # the arithmetic (Numba counts references to array arguments), and this runs for every
                # candidate of every ADL tick
                x = q if basis == E.MM_SIZE else q * (ep if basis == E.MM_ENTRY else mark)
                j = 0
                for k in range(1, floor.size):
                    if floor[k] <= x:
                        j = k
                    else:
                        break
                mm = mark * (x * mmr[j] - cum[j]) if basis == E.MM_SIZE else x * mmr[j] - cum[j]
            score[n] = -adl_score_nb(cs, q, ep, w, mark, eq, mm, ranking)
        n += 1
    if p.adl_policy == E.POLICY_QUEUE:
        n = _queue_head_nb(pos, trig, n, rem, open_size)
    else:
        _sort_all_nb(trig, n)
    adl.rank_cur = 0
    adl.nw = nw
    plan = 0.0
    if p.adl_policy == E.POLICY_PRO_RATA:
        total = 0.0
        for k in range(nw):
            total += pos.size[trig.rank[k]]
        plan = min(1.0, rem / total) if total > 0.0 else 0.0
    elif p.adl_policy == E.POLICY_LEVERAGE_DRAIN:
        n, plan = _drain_level_nb(pos, trig, n, rem, mark, s * (price - mark))
        adl.gap = s * (price - mark)
    adl.rank_n = n
    adl.plan = plan
    adl.active = 1


@jit(inline="always")
def _begin_random_queue_nb(pos, trig, adl, cand, start, cs, mark, price, rem, holders):
    """dYdX's queue: the eligible holders in id order, cyclically from ``start``, only as far as the pool reaches
    and through at most ``holders`` open ones (0: all; x/clob/flags MaxDeleveragingSubaccountsToIterate).

    The order is known without scores, so the walk stops at the first prefix whose sizes exceed ``rem`` (the
    criterion of :func:`_queue_head_nb`): a deleveraged account costs the holders it reaches, not a pass over
    the whole side (dYdX deleverages account by account, so a cascade makes one such walk per account).
    """
    size, entry, wallet, status = pos.size, pos.entry, pos.wallet, pos.status
    m = cand.size
    n = 0
    head = 0.0
    seen = 0
    for k in range(m):
        r = start + k
        if r >= m:
            r -= m
        c = cand[r]
        q = size[c]
        if status[c] != E.OPEN or q <= 0.0:
            continue
        seen += 1  # an open holder is checked whether or not it can take part
        if equity_nb(cs, q, entry[c], wallet[c], mark) > 0.0 and equity_nb(cs, q, entry[c], wallet[c], price) > 0.0:
            trig.rank[n] = c  # a victim must stay solvent at the mark and at the price it is closed at
            trig.rank_score[n] = float(k)
            n += 1
            head += q
            if head > rem + 1.0:
                break
        if seen == holders:
            break
    adl.rank_cur = 0
    adl.nw = 0
    adl.rank_n = n
    adl.plan = 0.0
    adl.active = 1


@jit
def _sort_nb(trig, sel, n):
    """Put the candidates ``sel[:n]`` (ascending positions among the entries of ``trig.rank``, which are in id
    order) first in ``trig.rank``, ordered by ``(rank_score, id)``; returns how many. Works in the trigger's
    scratch rows (``scr_i`` rows 0–2, ``scr_f`` row 0); ``sel`` may be row 3."""
    ids = trig.scr_i[0]
    scores = trig.scr_f[0, :n]
    for k in range(n):
        ids[k] = trig.rank[sel[k]]
        scores[k] = trig.rank_score[sel[k]]
    order = trig.scr_i[1]
    argsort_nb(scores, order, trig.scr_i[2])  # stable: ties stay in id order
    for k in range(n):
        trig.rank[k] = ids[order[k]]
        trig.rank_score[k] = scores[order[k]]
    return n


@jit
def _sort_all_nb(trig, n):
    """:func:`_sort_nb` of the first ``n`` candidates, all of them."""
    sel = trig.scr_i[3]
    for k in range(n):
        sel[k] = k
    return _sort_nb(trig, sel, n)


@jit(inline="always")
def _queue_head_nb(pos, trig, n, rem, total):
    """Order only the head of the queue that the pool can reach: the candidates with the lowest
    ``(rank_score, id)`` whose sizes (``total`` over all ``n``) add up to more than ``rem`` (a whole position
    per victim, in queue order). Everything at or below a cut score is kept, ties included, so the head is
    ordered exactly as in a sort of every candidate. The cut is read from a sorted strided sample of the
    scores, aimed at four times the number of average-sized victims the pool needs and raised 4x at a time
    until the head holds enough: an ADL tick costs one pass over the candidates and a sort of its head."""
    if total <= 0.0:
        return _sort_all_nb(trig, n)
    sizes, rank, scores = pos.size, trig.rank, trig.rank_score
    m = min(n, 4096)
    stride = max(1, n // m)
    sample = trig.scr_f[1, :m]  # scores[0 : stride * m : stride], then sorted through its order
    for k in range(m):
        sample[k] = scores[k * stride]
    order = trig.scr_i[1]
    argsort_nb(sample, order, trig.scr_i[2])
    want = 4.0 * rem / total  # share of the candidates wanted
    sel = trig.scr_i[3]
    while want * m < m - 1:
        cut = sample[order[int(want * m) + 1]]
        k = 0
        head = 0.0
        for c in range(n):
            if scores[c] <= cut:
                sel[k] = c
                k += 1
                head += sizes[rank[c]]
        if head > rem + 1.0:
            return _sort_nb(trig, sel, k)
        want *= 4.0
    return _sort_all_nb(trig, n)


@jit(inline="always")
def _drain_level_nb(pos, trig, n, rem, mark, gap):
    """Water-filling on leverage: the smallest group of most-levered victims and the common leverage
    ``L`` they are cut to so that together they close ``rem``.

    Closing ``y`` of a victim with size ``Q`` and equity ``E`` at the ADL price costs it ``y·gap`` of
    equity, so its leverage after the cut is ``(Q − y)·m / (E − y·gap)``; setting that to ``L`` gives
    ``y = (Q·m − L·E) / (m − L·gap)``, and summed over the group ``L = m·(ΣQ − rem) / (ΣE − rem·gap)``.
    The group grows until ``L`` is no lower than the next victim's leverage. Returns ``(group size,
    L)``; ``L = 0`` means even closing everyone in full is not enough.
    """
    sq = 0.0
    se = 0.0
    for k in range(n):
        c = trig.rank[k]
        sq += pos.size[c]
        se += equity_nb(pos.side[c], pos.size[c], pos.entry[c], pos.wallet[c], mark)
        den = se - rem * gap
        if sq < rem or den <= 0.0:
            continue
        level = mark * (sq - rem) / den
        if k + 1 == n:
            return n, level
        nxt = trig.rank[k + 1]
        if level >= pos.size[nxt] * mark / equity_nb(
            pos.side[nxt], pos.size[nxt], pos.entry[nxt], pos.wallet[nxt], mark
        ):
            return k + 1, level
    return n, 0.0


@jit(inline="always")
def adl_step_nb(t, pos, tiers, trig, fl, px, acc, adl, work, clk, tot, p):
    """Close the next victim against the pool (one fill), or hand what is left to the fund."""
    s = adl.side
    rem = adl.rem
    price = adl.price
    bbar = adl.bbar
    mark = px.mark
    dust = p.lot * 1e-9
    cur = adl.rank_cur
    n = adl.rank_n
    while cur < n and pos.status[trig.rank[cur]] != E.OPEN:
        cur += 1
    if rem <= dust or cur >= n:
        if rem > dust and p.settle_fillable and adl.row >= 0:
            # dYdX: the holders walked took only part: the rest stays on the account, tried again next block
            reopen_nb(pos, tiers, trig, px, work, tot, p, adl.row, rem, bbar)
        elif rem > dust:  # no eligible counterparty is left: the fund takes the rest (docs/model.md §3.10)
            realized = fund_trade_nb(acc, s * rem, bbar)
            tot.liq_usd += rem * bbar
            record_nb(fl, clk, t, E.TAKEOVER, pos.size.size + 2, -s, rem, bbar, bbar, realized, 0.0, mark, np.nan)
            fl.cause[clk.nfills - 1] = adl.cause
        adl.row = -1
        adl.rem = 0.0
        adl.cost = 0.0
        adl.active = 0
        adl.cause = 0
        more = False
        for k in range(3):
            more = more or adl.pool_q[k] > 0.0
        if not more:
            adl.side = 0  # else the loop begins the next cause's pool
        return
    c = trig.rank[cur]
    if cur + 1 < n:
        prefetch_row_nb(pos, trig.rank[cur + 1])
    q = pos.size[c]
    plan = adl.plan
    y = q
    if p.adl_policy == E.POLICY_PRO_RATA and cur < adl.nw:
        if plan < 1.0 and cur < adl.nw - 1:
            y = q * plan
    elif p.adl_policy == E.POLICY_LEVERAGE_DRAIN and plan > 0.0 and cur < n - 1:
        gap = adl.gap
        y = (q * mark - plan * equity_nb(pos.side[c], pos.size[c], pos.entry[c], pos.wallet[c], mark)) / (
            mark - plan * gap
        )
        y = min(q, max(0.0, y))
    y = min(y, rem)
    equity0 = equity_nb(pos.side[c], pos.size[c], pos.entry[c], pos.wallet[c], mark)
    fund_delta = s * y * (price - bbar)
    reduce_position_nb(pos.side, pos.size, pos.entry, pos.wallet, pos.kind, px, c, y, price)
    acc.fund_cash += fund_delta
    fund_add_nb(acc, fund_delta)
    tot.liq_usd += y * price
    record_nb(fl, clk, t, E.ADL, c, s, y, price, bbar, fund_delta, 0.0, mark, equity0)
    fl.cause[clk.nfills - 1] = adl.cause
    if pos.size[c] <= dust:
        pos.status[c] = E.ADL_CLOSED
    else:
        reindex_nb(pos, trig, work, c, tiers)
    adl.rem = rem - y
    adl.rank_cur = cur + 1
