"""The account layer (docs/engine.md §13): cross accounts whose positions sit in several markets.

A market's event loop knows rows, not accounts. Each row of a cross account holds a part of its account's cash as
its wallet, and so has an isolated liquidation price, its *band*, kept in its market's trigger index (its band
index, sim.kernels.bands). While every row is on the safe side of its band the account is safe, since then
``Σ (wallet_k + uPnL_k) ≥ Σ MM_k``: a price move in one market costs nothing in the others, and the work per move
is the rows whose band it crossed, not the accounts. A crossed band hands the row over (``Positions.cross``: the
loop puts it in ``Trigger.held`` instead of liquidating it), and after every market's tick :func:`cross_round_nb`
looks at each handed-over account as a whole, at every market's mark:

* **safe** (equity above the sum of maintenance margins): its slack, equity − maintenance, is shared out again
  among its rows in proportion to each row's notional times its weight (its market's volatility scale plus its
  market's recent move against the row's side, ``sim.multi.slack_weights``), and every row is re-priced and put back
  in its market's index;
* **liquidatable**: its equity (or deficit) is shared out among its rows by the venue's rule (docs/model.md §2.11,
  ``enums.ACCT_*``) and the rows that rule liquidates now are *forced* (``cross = 0``, their key lifted to the
  mark): the caller runs their markets' liquidation work again at the same time, each forced row going through its
  market's own waterfall (partial steps, book, fund, ADL) with its share as its equity, so its bankruptcy price is
  the account's. Then the account is looked at again, until it is safe or nothing more can be taken this tick.

Money only moves between the rows of one account (every re-sharing is written as changes that sum to zero), so
each market's fund, book and ADL see exactly the flows of isolated rows.

All rows here are *global*: the markets' position tables laid end to end (``sim.multi``); market ``m`` sees its
slice. Tiers are per market, padded: ``floor[m, :nk[m]]``.
"""

from sim import enums as E
from sim._jit import jit
from sim.kernels.bands import band_bucket_nb, band_compact_nb, band_link_nb
from sim.kernels.heap import heap_compact_nb, heap_pop_nb, heap_push_nb
from sim.kernels.loop import path_price_nb
from sim.kernels.margin import bankruptcy_price_nb, position_lp_nb, position_mm_nb
from sim.kernels.prefetch import prefetch_nb


@jit(inline="always")
def _market_nb(ca, i):
    """The market of global row ``i``, from the markets' first rows (a few compares where ``ca.row_mkt[i]`` would
    be one more cache line per row)."""
    m = 0
    while i >= ca.lo[m + 1]:
        m += 1
    return m


@jit(inline="always")
def _holdings_nb(cl, a):
    """Account ``a``'s collateral holdings, ``[j0, j1)`` (with no collateral in the run, none, without reading
    ``cl.ptr``: a cache line per look saved)."""
    if cl.asset.size == 0:
        return 0, 0
    return cl.ptr[a], cl.ptr[a + 1]


@jit(inline="always")
def _among_nb(held, h0, h1, i):
    """Row ``i`` is one of ``held[h0:h1]`` (an account's rows handed over this round: a few at most)."""
    for k in range(h0, h1):
        if held[k] == i:
            return True
    return False


@jit(inline="always")
def _band_push_nb(g, ca, i, m):
    """Put cross row ``i`` (global, market ``m``) in its market's band index at its key (sim.kernels.bands),
    rewriting the index with its live entries first when its entries have run out."""
    at = ca.band_at[m]
    ent = ca.band_ent[at : ca.band_at[m + 1]]
    head = ca.band_head[m]
    lo = ca.lo[m]
    n = ca.band_n[m]
    if n >= ent.shape[0]:
        hi = ca.lo[m + 1]
        n = band_compact_nb(
            head,
            ent,
            n,
            ca.band_top[m],
            ca.band_lo[m],
            ca.band_inv[m],
            g.side[lo:hi],
            g.key[lo:hi],
            g.version[lo:hi],
            g.status[lo:hi],
            g.cross[lo:hi],
        )
    h = 0 if g.side[i] > 0 else 1
    b = band_bucket_nb(ca.band_lo[m, h], ca.band_inv[m, h], head.shape[1], g.key[i])
    ent[n, 0] = i - lo
    ent[n, 1] = g.version[i]
    band_link_nb(head, ent, n, h, b)
    if b > ca.band_top[m, h]:
        ca.band_top[m, h] = b
    ca.band_n[m] = n + 1


@jit(inline="always")
def _index_nb(g, ca, i, m, tick, cross):
    """Put re-priced global row ``i`` (market ``m``) back in its market's trigger index, unless it waits for a later
    tick (deferred: the flush indexes its latest key): a cross row (``cross``, its ``Positions.cross``, which the
    caller knows) in the band index, a row just forced in the re-index heap, where the loop liquidates it (as the
    loop's own re-indexing does, on views of the heaps)."""
    if g.status[i] != E.OPEN or g.eligible[i] > tick[m]:
        return
    if cross != 0:
        _band_push_nb(g, ca, i, m)
        return
    lo = ca.lo[m]
    cap = (ca.heap_at[m + 1] - ca.heap_at[m]) >> 1
    h = 0 if g.side[i] > 0 else 1
    at = ca.heap_at[m] + h * cap
    hk = ca.heap_key[at : at + cap]
    hi = ca.heap_id[at : at + cap]
    hv = ca.heap_ver[at : at + cap]
    n = ca.heap_n[m, h]
    if n >= cap:
        n = heap_compact_nb(hk, hi, hv, n, g.version[lo : ca.lo[m + 1]], g.status[lo : ca.lo[m + 1]], E.OPEN)
    ca.heap_n[m, h] = heap_push_nb(hk, hi, hv, n, g.key[i], i - lo, g.version[i])


@jit(inline="always")
def _reprice_nb(g, i, m, floor, mmr, cum, nk, basis):
    """Liquidation and bankruptcy price and trigger key of global row ``i`` (market ``m``) from its wallet."""
    lp = _band_nb(g, i, m, floor, mmr, cum, nk, basis)
    g.lp[i] = lp
    g.bp[i] = bankruptcy_price_nb(g.side[i], g.size[i], g.entry[i], g.wallet[i])


@jit(inline="always")
def _band_nb(g, i, m, floor, mmr, cum, nk, basis):
    """The band of global row ``i`` (market ``m``) from its wallet: its liquidation price, as its trigger key (a new
    version); returns it. A safe account's rows get only this: a row's ``lp`` and ``bp`` are read only when it is
    liquidated, and a forced row is re-priced whole (:func:`_reprice_nb`) first; two cache lines a row fewer."""
    k = nk[m]
    s = g.side[i]
    lp = position_lp_nb(s, g.size[i], g.entry[i], g.wallet[i], floor[m, :k], mmr[m, :k], cum[m, :k], basis[m])
    g.key[i] = lp if s > 0 else -lp
    g.version[i] += 1
    return lp


@jit(inline="always")
def _measure_nb(a, g, ca, cl, mark, floor, mmr, cum, nk, basis, weight):
    """Each row's equity, maintenance margin and weight at the marks (``ca.eq``, ``ca.mm``, ``ca.wt``, from their
    start whatever the account: a scratch that stays in cache, read back by the account's next steps); returns
    the account's equity and the sum of maintenance margins and of weights. A closed row's equity is the cash it
    holds; it has no margin and no weight. Weight: the slack's share when the account is safe, a row's notional
    times ``weight[m, 0]`` (a long) or ``weight[m, 1]`` (a short), a holding's value times ``weight[M + c, 0]``
    (``M`` markets; ``sim.multi.slack_weights``); a liquidated account's equity is shared by margin (under the
    trigger tiers) instead."""
    equity = 0.0
    total_mm = 0.0
    total_wt = 0.0
    lo = ca.ptr[a]
    for k in range(lo, ca.ptr[a + 1]):
        i = ca.rows[k]
        if g.status[i] == E.OPEN:
            m = _market_nb(ca, i)
            q = g.size[i]
            x = mark[m]
            nn = nk[m]
            eq = g.wallet[i] + g.side[i] * q * (x - g.entry[i])
            mm = position_mm_nb(q, g.entry[i], x, floor[m, :nn], mmr[m, :nn], cum[m, :nn], basis[m])
            ca.eq[k - lo] = eq
            ca.mm[k - lo] = mm
            ca.wt[k - lo] = q * x * weight[m, 0 if g.side[i] > 0 else 1]
            equity += eq
            total_mm += mm
            total_wt += ca.wt[k - lo]
        else:
            ca.eq[k - lo] = g.wallet[i]
            ca.mm[k - lo] = 0.0
            ca.wt[k - lo] = 0.0
            equity += g.wallet[i]
    j0, j1 = _holdings_nb(cl, a)
    for j in range(j0, j1):  # collateral: equity w + k·p, no margin
        c = cl.asset[j]
        x = cl.price[c]
        cl.eq[j] = cl.w[j] + cl.k[j] * x
        cl.wt[j] = cl.k[j] * x * weight[mark.size + c, 0]
        equity += cl.eq[j]
        total_wt += cl.wt[j]
    return equity, total_mm, total_wt


@jit
def _coll_push_nb(cl, j):
    """Put holding ``j``'s band ``−w/k`` in its asset's heap (stale entries dropped first when it is full)."""
    c = cl.asset[j]
    hk = cl.heap_key[c]
    hi = cl.heap_id[c]
    hv = cl.heap_ver[c]
    n = cl.heap_n[c]
    if n >= hk.size:
        m = 0
        for e in range(n):  # keep the live entries, then heapify them again by pushing them one by one
            if hv[e] == cl.ver[hi[e]]:
                hk[m] = hk[e]
                hi[m] = hi[e]
                hv[m] = hv[e]
                m += 1
        n = 0
        for e in range(m):
            n = heap_push_nb(hk, hi, hv, n, hk[e], hi[e], hv[e])
    cl.heap_n[c] = heap_push_nb(hk, hi, hv, n, -cl.w[j] / cl.k[j], j, cl.ver[j])


@jit(inline="always")
def _reallocate_nb(a, r, g, ca, cl, mark, tick, floor, mmr, cum, nk, basis, slack, total_wt, held, h0, h1):
    """Share the slack of safe account ``a`` among its open rows by weight (closed rows' cash goes with it) and
    re-price them. Returns False, changing nothing, when a row handed over in this round (``held[h0:h1]``, its
    holdings: ``r``) would still be past its band at its mark: the slack is rounding, the account is liquidatable."""
    lo = ca.ptr[a]
    hi = ca.ptr[a + 1]
    for k in range(lo, hi):  # first, whether it holds
        i = ca.rows[k]
        if g.status[i] != E.OPEN or not _among_nb(held, h0, h1, i):
            continue
        m = _market_nb(ca, i)
        w = g.wallet[i] + ((ca.mm[k - lo] - ca.eq[k - lo]) + slack * (ca.wt[k - lo] / total_wt))
        nn = nk[m]
        s = g.side[i]
        lp = position_lp_nb(s, g.size[i], g.entry[i], w, floor[m, :nn], mmr[m, :nn], cum[m, :nn], basis[m])
        if (lp if s > 0 else -lp) >= s * mark[m]:
            return False
    j0, j1 = _holdings_nb(cl, a)
    for j in range(j0, j1):
        if cl.crossed[j] == r and r >= 0:
            w = cl.w[j] + (slack * (cl.wt[j] / total_wt) - cl.eq[j])
            if -w / cl.k[j] >= cl.price[cl.asset[j]]:
                return False
    for j in range(j0, j1):  # the holdings' share: equity s·wt/W, band at −w/k
        cl.w[j] += slack * (cl.wt[j] / total_wt) - cl.eq[j]
        cl.ver[j] += 1
        _coll_push_nb(cl, j)
    for k in range(lo, hi):
        i = ca.rows[k]
        if g.status[i] != E.OPEN:
            g.wallet[i] -= ca.eq[k - lo]  # its cash joins the slack shared among the open rows
            continue
        g.wallet[i] += (ca.mm[k - lo] - ca.eq[k - lo]) + slack * (ca.wt[k - lo] / total_wt)
        m = _market_nb(ca, i)
        _band_nb(g, i, m, floor, mmr, cum, nk, basis)
        if r >= 0:  # in a round (at the start index_bands_nb indexes every row)
            _index_nb(g, ca, i, m, tick, 1)  # a safe account's open rows are all cross rows
        ca.n[3] += 1
    return True


@jit(inline="always")
def _candidate_nb(g, ca, i, tick):
    """Row ``i`` may be forced at oracle tick ``tick``: open, in its index (no cooldown) and not forced in it yet."""
    return g.status[i] == E.OPEN and g.eligible[i] <= tick and ca.forced_at[i] != tick


@jit(inline="always")
def _liquidate_nb(a, g, ca, cl, mark, tick, floor, mmr, cum, nk, basis, method, equity, total_mm):
    """Share the equity of liquidatable account ``a`` out by the venue's rule and force the rows the rule takes now
    (eligible this tick and not forced yet in it), into their markets' re-index heaps. Its other rows are re-priced
    but stay out of the band index: the account is on the list, looked at every round until a safe share-out puts
    them back. Returns the number forced (0: it waits for a later tick)."""
    lo = ca.ptr[a]
    hi = ca.ptr[a + 1]
    n_cand = 0
    best = -1
    for k in range(lo, hi):
        i = ca.rows[k]
        m = _market_nb(ca, i)
        if method == E.ACCT_DYDX and ca.forced_at[i] == tick[m]:
            return 0  # dYdX: one liquidation order per account per block (an oracle tick here)
        if _candidate_nb(g, ca, i, tick[m]):
            n_cand += 1
            if best < 0 or ca.mm[k - lo] > ca.mm[best - lo]:
                best = k  # the largest maintenance margin, the first row on ties
    if n_cand == 0:
        return 0
    pick = -1  # one row (Binance, Bybit: the largest margin; dYdX: from a pseudo-random start); -1: all candidates
    if method == E.ACCT_CROSS:
        pick = best
    elif method == E.ACCT_DYDX:
        start = (a * 2654435761 + tick[_market_nb(ca, ca.rows[lo])] * 40503) % n_cand
        c = 0
        for k in range(lo, hi):
            i = ca.rows[k]
            m = _market_nb(ca, i)
            if _candidate_nb(g, ca, i, tick[m]):
                if c == start:
                    pick = k
                    break
                c += 1
    coll_loss = 0.0  # what the collateral has lost since the start, and the open positions' unrealised losses
    j0, j1 = _holdings_nb(cl, a)
    for j in range(j0, j1):
        c = cl.asset[j]
        coll_loss += cl.k[j] * max(0.0, cl.start[c] - cl.price[c])
        cl.w[j] -= cl.eq[j]  # its equity joins the share-out (cash borrowed against it); its band is the price now
        cl.ver[j] += 1
    pos_loss = 0.0  # and the open positions' losses since the start
    for k in range(lo, hi):
        i = ca.rows[k]
        if g.status[i] == E.OPEN:
            m = _market_nb(ca, i)
            pos_loss += max(0.0, -g.side[i] * g.size[i] * (mark[m] - ca.m0[m]))
    for k in range(lo, hi):  # the share-out, as changes of the rows' cash that sum to zero
        i = ca.rows[k]
        if g.status[i] != E.OPEN:
            g.wallet[i] -= ca.eq[k - lo]
            continue
        m = _market_nb(ca, i)
        if method == E.ACCT_CROSS:
            share = equity if k == pick else 0.0  # the row taken first holds the whole equity; the others none
        elif total_mm > 0.0:  # by the trigger tiers' margin (OKX's include the clearance fee, as its ratio does)
            share = equity * (ca.mm[k - lo] / total_mm)
        else:
            share = 0.0
        g.wallet[i] += share - ca.eq[k - lo]
        _reprice_nb(g, i, m, floor, mmr, cum, nk, basis)
        taken = _candidate_nb(g, ca, i, tick[m]) and (pick < 0 or k == pick)  # open: the loop skipped closed rows
        if taken:
            s = g.side[i]
            if g.key[i] < s * mark[m]:
                g.key[i] = s * mark[m]  # liquidated at this mark whatever its own margin says
            g.cross[i] = 0
            ca.forced_at[i] = tick[m]
            if ca.why[i] == 0:  # which part of the account had lost the most since the start
                own = max(0.0, -g.side[i] * g.size[i] * (mark[m] - ca.m0[m]))
                if own >= pos_loss - own and own >= coll_loss:
                    ca.why[i] = E.WHY_OWN
                elif coll_loss > pos_loss - own:
                    ca.why[i] = E.WHY_COLLATERAL
                else:
                    ca.why[i] = E.WHY_OTHERS
            ca.forced[ca.n[2]] = i
            ca.n[2] += 1
            ca.n[6] += 1
            _index_nb(g, ca, i, m, tick, 0)
        ca.n[3] += 1
    return 1


@jit(entry=True)
def collateral_price_nb(cl, c, index, t):
    """Collateral asset ``c``'s price at time ``t`` (ms): the index of the market that prices it (``index``, one per
    market; BTC beside a BTC instrument), else its own path."""
    m = cl.market[c]
    if m >= 0:
        return index[m]
    return path_price_nb(cl.path_t[c, : cl.path_n[c]], cl.path_p[c, : cl.path_n[c]], t)


@jit(entry=True)
def cross_round_nb(g, ca, cl, t, mark, index, tick, floor, mmr, cum, nk, basis, weight, held, nh, method):
    """One round of the account layer after every market's tick (or after the liquidation work of the last round):
    the rows forced in the last round are cross rows again; every account that has a row in ``held[:nh]`` (global
    rows handed over by the markets, grouped by account: the caller sorts them by account), a collateral holding
    whose band the asset's price at time ``t`` crossed (on its path, or its market's index in ``index``), or is
    being liquidated is looked at, at the marks ``mark`` (one per market) and oracle ticks ``tick``. Puts the rows
    of safe accounts back in their markets' band indexes and forced rows in their re-index heaps (``ca.band_*`` and
    ``ca.heap_*``: the caller hands their counts over) and fills ``ca.forced[:ca.n[2]]`` (rows forced: run their
    markets' liquidation work again); returns the number forced."""
    for k in range(ca.n[2]):
        g.cross[ca.forced[k]] = 1
    ca.n[2] = 0
    ca.n[3] = 0
    r = ca.n[0] + 1
    ca.n[0] = r
    look = ca.stamp  # stamps only: the accounts to look at are read back from the held rows and the old list
    n_liq = ca.n[1]
    for k in range(n_liq):  # the list is written anew below
        ca.liq_prev[k] = ca.liq[k]
    n_coll = 0
    for c in range(cl.price.size):  # each collateral asset's price, and the holdings whose band it crossed
        x = collateral_price_nb(cl, c, index, t)
        cl.price[c] = x
        hk = cl.heap_key[c]
        hi = cl.heap_id[c]
        hv = cl.heap_ver[c]
        n = cl.heap_n[c]
        while n > 0:
            j = hi[0]
            if hv[0] != cl.ver[j]:
                n = heap_pop_nb(hk, hi, hv, n)  # stale: its cash changed since
            elif hk[0] >= x:
                n = heap_pop_nb(hk, hi, hv, n)
                cl.crossed[j] = r
                cl.look[n_coll] = j
                n_coll += 1
            else:
                break
        cl.heap_n[c] = n
    ca.n[1] = 0
    n_all = nh + n_coll + n_liq
    for k in range(n_all):
        _ahead_nb(g, ca, cl, held, nh, n_coll, n_all, k, r)
        if k < nh:
            a = ca.row_acct[held[k]]
        elif k < nh + n_coll:
            a = _holder_nb(cl, cl.look[k - nh])
        else:
            a = ca.liq_prev[k - nh - n_coll]
        if a < 0 or look[a] == r:
            continue
        look[a] = r
        h1 = k  # the account's handed-over rows: the run of held rows from here (an account first met past the
        while h1 < nh and ca.row_acct[held[h1]] == a:  # held rows has none, or it would have been met there)
            h1 += 1
        _account_nb(a, r, g, ca, cl, mark, tick, floor, mmr, cum, nk, basis, weight, method, held, k, h1)
    return ca.n[2]


@jit(inline="always")
def _acct_at_nb(ca, held, nh, n_coll, n_all, k):
    """The account of the ``k``-th entry of the round's list (held rows, crossed holdings, accounts being
    liquidated); -1 for a holding or past the end (nothing to load ahead)."""
    if k < nh:
        return ca.row_acct[held[k]]
    if k < nh + n_coll or k >= n_all:
        return -1
    return ca.liq_prev[k - nh - n_coll]


@jit(inline="always")
def _ahead_nb(g, ca, cl, held, nh, n_coll, n_all, k, r):
    """Start loading what the accounts a few places ahead in the round's list will read, one dependent step per
    distance (a held row's account, then the account's row list, then its rows' fields): the accounts are far
    apart in memory, and each one's loads wait on the one before, so without this the layer waits on memory."""
    if k + 24 < nh:
        prefetch_nb(ca.row_acct, held[k + 24])
    a = _acct_at_nb(ca, held, nh, n_coll, n_all, k + 16)
    if a >= 0:
        prefetch_nb(ca.stamp, a)
        prefetch_nb(ca.ptr, a)
        prefetch_nb(ca.state, a)
        if cl.asset.size > 0:
            prefetch_nb(cl.ptr, a)
    a = _acct_at_nb(ca, held, nh, n_coll, n_all, k + 8)
    if a >= 0 and ca.stamp[a] != r:
        prefetch_nb(ca.rows, ca.ptr[a])
    a = _acct_at_nb(ca, held, nh, n_coll, n_all, k + 4)
    if a >= 0 and ca.stamp[a] != r:
        _rows_ahead_nb(g, ca, a, ca.state[a] != 0)


@jit(inline="always")
def _rows_ahead_nb(g, ca, a, liquidated):
    """Start loading the fields of account ``a``'s rows that a look at it reads and writes (and, ``liquidated``,
    what a forced row's bookkeeping reads too)."""
    for kk in range(ca.ptr[a], ca.ptr[a + 1]):
        i = ca.rows[kk]
        prefetch_nb(g.status, i)
        prefetch_nb(g.side, i)
        prefetch_nb(g.size, i)
        prefetch_nb(g.entry, i)
        prefetch_nb(g.wallet, i)
        prefetch_nb(g.key, i)
        prefetch_nb(g.version, i)
        prefetch_nb(g.eligible, i)
        if liquidated:
            prefetch_nb(g.lp, i)
            prefetch_nb(g.bp, i)
            prefetch_nb(g.cross, i)
            prefetch_nb(ca.forced_at, i)
            prefetch_nb(ca.why, i)


@jit
def _holder_nb(cl, j):
    """The account of collateral holding ``j`` (binary search of ``cl.ptr``)."""
    lo = 0
    hi = cl.ptr.size - 1
    while hi - lo > 1:
        mid = (lo + hi) >> 1
        if cl.ptr[mid] <= j:
            lo = mid
        else:
            hi = mid
    return lo


@jit(inline="always")
def _account_nb(a, r, g, ca, cl, mark, tick, floor, mmr, cum, nk, basis, weight, method, held, h0, h1):
    """Look at account ``a`` as a whole (its rows handed over this round: ``held[h0:h1]``): share its slack out
    again if it is safe, else liquidate it."""
    equity, total_mm, total_wt = _measure_nb(a, g, ca, cl, mark, floor, mmr, cum, nk, basis, weight)
    if total_mm <= 0.0:  # nothing open: nothing to liquidate, nothing to protect
        ca.state[a] = 0
        return
    slack = equity - total_mm
    if (
        slack > 0.0
        and total_wt > 0.0
        and _reallocate_nb(a, r, g, ca, cl, mark, tick, floor, mmr, cum, nk, basis, slack, total_wt, held, h0, h1)
    ):
        if ca.state[a] == 0:
            ca.n[4] += 1
        ca.state[a] = 0
        for k in range(ca.ptr[a], ca.ptr[a + 1]):
            i = ca.rows[k]
            if g.status[i] == E.OPEN and g.eligible[i] > tick[_market_nb(ca, i)]:
                # a row waiting out a partial step's cooldown is out of its index, so its band would not be seen
                # crossed: the account is looked at every round until the row is back
                ca.liq[ca.n[1]] = a
                ca.n[1] += 1
                break
        return
    if ca.state[a] == 0:
        ca.state[a] = 1
        ca.n[5] += 1
    ca.liq[ca.n[1]] = a  # looked at again after the liquidation work, and at every tick until it is safe
    ca.n[1] += 1
    _liquidate_nb(a, g, ca, cl, mark, tick, floor, mmr, cum, nk, basis, method, equity, total_mm)


@jit(entry=True)
def share_all_nb(g, ca, cl, mark, tick, floor, mmr, cum, nk, basis, weight):
    """Share every safe account's slack out among its rows and holdings at the marks ``mark`` and the collateral's
    starting prices (the start of a run: the rows come with the margins they were opened with, so a 100× row in a
    rich account would cross its band at the first move), and index every holding's band. Re-prices the rows; the
    caller re-sorts the markets' indexes (``tick``, the markets' oracle ticks, is not read: no row goes to a heap
    here). Returns the accounts shared out."""
    for c in range(cl.price.size):
        cl.price[c] = cl.start[c]
    n = 0
    n_acct = ca.state.size
    for a in range(n_acct):
        if a + 4 < n_acct:  # an account's rows are anywhere in the markets' tables
            _rows_ahead_nb(g, ca, a + 4, False)
        equity, total_mm, total_wt = _measure_nb(a, g, ca, cl, mark, floor, mmr, cum, nk, basis, weight)
        slack = equity - total_mm
        if total_mm > 0.0 and slack > 0.0 and total_wt > 0.0:
            _reallocate_nb(a, -1, g, ca, cl, mark, tick, floor, mmr, cum, nk, basis, slack, total_wt, ca.forced, 0, 0)
            n += 1
        else:
            j0, j1 = _holdings_nb(cl, a)
            for j in range(j0, j1):
                _coll_push_nb(cl, j)
    ca.n[3] = 0
    return n


@jit(entry=True)
def index_bands_nb(g, ca):
    """Put every open row of a cross account in its market's band index (the start of a run, after
    :func:`share_all_nb`), each at a version of at least 1: the sorted start-of-run index, which reads only rows at
    version 0, then passes over them."""
    for m in range(ca.band_n.size):
        for i in range(ca.lo[m], ca.lo[m + 1]):
            if g.cross[i] != 0 and g.status[i] == E.OPEN:
                if g.version[i] == 0:
                    g.version[i] = 1
                _band_push_nb(g, ca, i, m)


@jit(entry=True)
def group_rows_nb(row_acct, ptr, rows):
    """Each account's rows, in row order: ``rows[ptr[a]:ptr[a + 1]]`` are the rows ``i`` with ``row_acct[i] == a``
    (−1: none); ``ptr`` (A + 1 zeros) and ``rows`` (one place per row of an account) are filled here, by a
    counting sort: the stable argsort of the accounts in O(rows)."""
    n_acct = ptr.size - 1
    for i in range(row_acct.size):
        a = row_acct[i]
        if a >= 0:
            ptr[a + 1] += 1
    for a in range(n_acct):
        ptr[a + 1] += ptr[a]
    for i in range(row_acct.size):  # ptr[a] walks through account a's places, then is set back
        a = row_acct[i]
        if a >= 0:
            rows[ptr[a]] = i
            ptr[a] += 1
    for a in range(n_acct, 0, -1):
        ptr[a] = ptr[a - 1]
    ptr[0] = 0
