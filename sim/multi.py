"""Several markets in one run, and cross accounts across them (docs/engine.md §12).

Each market (an instrument on the venue) is a whole single-market run's state, prepared by :func:`sim.engine.prepare`
and allocated by the engine, with its own book, prices, fund, trigger index and event queue. The markets' position
tables are laid end to end in one global table, of which each market sees its slice (NumPy views: the same memory),
so that the account layer (:mod:`sim.kernels.cross`) reads and writes every row of an account wherever it sits.

The markets run in lockstep, one oracle tick at a time: every market's events up to the tick's time, its index,
mark and liquidation work; then the account layer looks at the accounts whose rows crossed their bands, at every
market's new mark, and any market whose rows it forced runs its liquidation work again at the same time, until no
account needs more this tick. A market's own flow between ticks (background orders, the fund's unwinding, arrivals)
is its own business, as in a single-market run.

A run with one market whose rows are one-row cross accounts gives a single-market run's numbers exactly (tested):
every share-out of one row's account changes nothing, and its forced rows are liquidated in the order the single
loop takes them.
"""

import time
from typing import NamedTuple

import numpy as np

from sim import enums as E
from sim import state as S
from sim._jit import compiled
from sim.allocate import allocate, positions
from sim.engine import Raw, _params, _wrap
from sim.kernels.cross import collateral_price_nb, cross_round_nb, group_rows_nb, index_bands_nb, share_all_nb
from sim.kernels.loop import path_price_nb, run_nb, start_nb


class Market(NamedTuple):
    """One market's state during a run (the arguments of :func:`sim.kernels.loop.run_nb`, in its order)."""

    pos: S.Positions
    tiers: S.Tiers
    book: S.BookState
    trig: S.Trigger
    ev: S.Events
    mk: S.MarketState
    sp: S.SpotState
    spp: S.SpotParams
    series: np.ndarray
    perp: S.Perp
    p: S.Params


class Cells(NamedTuple):
    """One-element views of the fields of a market's state records that the lockstep reads and writes at every tick
    and round (``cells.nheld[0]``): a record's field read by name costs about a microsecond, an element of a view a
    tenth of that, and a long run reads them hundreds of thousands of times."""

    nheld: np.ndarray  # work: rows handed over by the loop
    tick: np.ndarray  # work: the oracle tick count
    phase: np.ndarray  # work: where the tick's liquidation work stands
    heap_n: np.ndarray  # work: (1, 2) the re-index heaps' counts
    band_n: np.ndarray  # work: entries written in the band index
    band_top: np.ndarray  # work: (1, 2) each side's highest bucket with an entry
    mark: np.ndarray  # px
    index_price: np.ndarray  # px
    nfills: np.ndarray  # clk: fills written


def cells(pc):
    """The :class:`Cells` of a market's state records, from their one-element arrays ``pc``
    (:func:`sim.state.perp_cells`; the same memory)."""
    group = dict(zip(S.Perp._fields, pc))  # perp_cells keeps Perp's order
    px, work, clk = group["px"], group["work"], group["clk"]
    return Cells(
        work["nheld"],
        work["tick"],
        work["phase"],
        work["heap_n"],
        work["band_n"],
        work["band_top"],
        px["mark"],
        px["index_price"],
        clk["nfills"],
    )


class MultiRaw(NamedTuple):
    """What a several-market run leaves behind: each market's :class:`sim.engine.Raw`, the global rows' accounts
    and markets, and the account layer's state at the end."""

    markets: list  # [Raw], one per market, in the order given
    lo: np.ndarray  # int64 (M + 1,): market m's rows are global rows lo[m]..lo[m + 1] − 1
    accounts: S.CrossAccounts
    rounds: int  # rounds of the account layer over the run (a round that found nothing to do is not counted)
    collateral: S.Collateral  # the holdings at the end (their cash, w; their value at the assets' last prices)


def global_table(inputs):
    """The markets' position tables laid end to end (:func:`sim.allocate.positions`), each market's table as views of
    it (same memory; read-only columns stay read-only, so the loop's compiled types are those of a single-market
    run), and each market's first row."""
    g = positions(inputs)
    lo = np.zeros(len(inputs) + 1, np.int64)
    lo[1:] = np.cumsum([inp.pos_side.size for inp in inputs])
    views = [S.Positions(*(col[lo[m] : lo[m + 1]] for col in g)) for m in range(len(inputs))]
    return g, views, lo


#: Buckets of each side's band index (sim.kernels.bands): keys from 0 to twice the start price for longs (their
#: liquidation prices), from −2 to 0 times it for shorts, so a bucket is 0.003% of the start price wide.
BAND_BUCKETS = 1 << 16
#: Entries of a market's band index per row of the market (at least 1: each row has at most one live entry, so a
#: rewrite always frees room); at 2 the live entries are rewritten at most once per as many puts as there are rows.
BAND_ROOM = 2


#: The move per unit of a market's weight that a row's share of its account's slack is scaled to when its market is
#: still (0.1%: a unit weight is about BTC's), and the look-back of the recent move added to it (seconds).
BASE_MOVE = 0.001
TREND_S = 3.0


def slack_weights(out, base, now, before):
    """Each market's (and collateral asset's) slack weight per USD, ``out[:, 0]`` for longs (and holdings),
    ``out[:, 1]`` for shorts: ``base · BASE_MOVE`` plus the part of the relative move from ``before`` to ``now``
    that went against that side. A safe account's slack is shared out in proportion to notional times this weight,
    so in a steady fall the rows that lose get the slack and cross their bands together, when the whole slack is
    spent, where a share by volatility alone gives the rows that gain a part they never use and the losers cross
    again and again (docs/engine.md §13.2). Any weights above 0 keep every band safe; these only change how often an
    account is looked at."""
    r = now / before - 1.0
    out[:, 0] = base * BASE_MOVE + np.maximum(-r, 0.0)
    out[:, 1] = base * BASE_MOVE + np.maximum(r, 0.0)
    return out


def cross_accounts(row_acct, row_mkt, lo, caps, starts):
    """The account layer's arrays for global rows whose account is ``row_acct`` (−1: isolated) and market
    ``row_mkt``; the markets' rows start at ``lo``, their re-index heaps hold ``caps`` entries each and their marks
    start at ``starts`` (:func:`shared_heaps`)."""
    row_acct = np.ascontiguousarray(row_acct, np.int64)
    n = row_acct.size
    n_acct = int(row_acct.max()) + 1 if n and row_acct.max() >= 0 else 0
    ptr = np.zeros(n_acct + 1, np.int64)
    rows = np.empty(int(np.count_nonzero(row_acct >= 0)), np.int64)
    group_rows_nb(row_acct, ptr, rows)
    r = rows.size
    starts = np.asarray(starts, np.float64)
    n_mkt = starts.size
    sizes = np.diff(np.asarray(lo, np.int64))
    band_at = np.concatenate([[0], np.cumsum(BAND_ROOM * sizes + 64)]).astype(np.int64)
    band_inv = np.repeat((BAND_BUCKETS / (2.0 * starts))[:, None], 2, axis=1)
    return S.CrossAccounts(
        row_acct=row_acct,
        row_mkt=np.ascontiguousarray(row_mkt, np.int16),
        ptr=ptr,
        rows=rows,
        m0=starts,
        state=np.zeros(n_acct, np.int8),
        stamp=np.zeros(n_acct, np.int64),
        forced_at=np.full(n, -1, np.int64),
        why=np.zeros(n, np.int8),
        liq=np.zeros(n_acct, np.int64),
        liq_prev=np.zeros(n_acct, np.int64),
        forced=np.zeros(n, np.int64),
        eq=np.zeros(r),
        mm=np.zeros(r),
        wt=np.zeros(r),
        n=np.zeros(8, np.int64),
        lo=np.asarray(lo, np.int64),
        heap_key=np.zeros(2 * sum(caps)),
        heap_id=np.zeros(2 * sum(caps), np.int64),
        heap_ver=np.zeros(2 * sum(caps), np.int64),
        heap_at=np.concatenate([[0], np.cumsum([2 * c for c in caps])]).astype(np.int64),
        heap_n=np.zeros((len(caps), 2), np.int64),
        band_head=np.full((n_mkt, 2, BAND_BUCKETS), -1, np.int32),
        band_ent=np.zeros((int(band_at[-1]), 3), np.int32),
        band_at=band_at,
        band_n=np.zeros(n_mkt, np.int64),
        band_top=np.full((n_mkt, 2), -1, np.int64),
        band_lo=np.stack([np.zeros(n_mkt), -2.0 * starts], axis=1),
        band_inv=band_inv,
    )


def shared_heaps(markets, ca):
    """The markets with their re-index heaps (``Trigger.heap_*``, empty at the start) and band indexes
    (``Trigger.band_*``) made views of the account layer's (``ca.heap_*``, ``ca.band_*``: same memory), so that the
    layer puts re-priced rows back itself."""
    out = []
    for m, mm in enumerate(markets):
        if mm.perp.work["heap_n"].any():
            raise ValueError("shared_heaps: the markets' heaps must be empty (the start of a run)")
        at, end = ca.heap_at[m], ca.heap_at[m + 1]
        shape = mm.trig.heap_key.shape
        views = {name: getattr(ca, name)[at:end].reshape(shape) for name in ("heap_key", "heap_id", "heap_ver")}
        views["band_head"] = ca.band_head[m]
        views["band_ent"] = ca.band_ent[ca.band_at[m] : ca.band_at[m + 1]]
        mm.perp.work["band_lo"] = ca.band_lo[m]
        mm.perp.work["band_inv"] = ca.band_inv[m]
        out.append(mm._replace(trig=mm.trig._replace(**views)))
    return out


def sync_bands(cs, ca, to_layer):
    """Each market's counts of its re-index heaps and band index, from its loop to the account layer
    (``to_layer``) or back (the arrays themselves are shared); ``cs``: the markets' :class:`Cells`."""
    for m, c in enumerate(cs):
        if to_layer:
            ca.heap_n[m] = c.heap_n[0]
            ca.band_n[m] = c.band_n[0]
            ca.band_top[m] = c.band_top[0]
        else:
            c.heap_n[0] = ca.heap_n[m]
            c.band_n[0] = ca.band_n[m]
            c.band_top[0] = ca.band_top[m]


def collateral_state(spec, n_acct, n_mkt):
    """The account layer's collateral arrays from :func:`simulate_markets`' ``collateral`` (None: none) in a run of
    ``n_mkt`` markets."""
    spec = spec or {"assets": [], "account": [], "asset": [], "units": []}
    acct = np.asarray(spec["account"], np.int64)
    asset = np.asarray(spec["asset"], np.int64)
    units = np.asarray(spec["units"], np.float64)
    paths = [(*a, -1) if len(a) == 3 else tuple(a) for a in spec["assets"]]  # (t_s, price, weight, market)
    if not (acct.size == asset.size == units.size) or np.any(units <= 0):
        raise ValueError("collateral: one account, asset and positive number of units per holding")
    if acct.size and (acct.min() < 0 or acct.max() >= n_acct or asset.min() < 0 or asset.max() >= len(paths)):
        raise ValueError("collateral: a holding names an account or an asset that does not exist")
    for t_s, price, weight, market in paths:
        if not (np.isfinite(weight) and weight > 0):
            raise ValueError(f"collateral: an asset's weight must be a finite number above 0, got {weight!r}")
        if len(t_s) == 0 or len(t_s) != len(price) or np.any(np.diff(t_s) < 0) or not np.all(np.asarray(price) > 0):
            raise ValueError("collateral: an asset's path needs times in order and a positive price at each")
        if market not in range(-1, n_mkt):
            raise ValueError(f"collateral: an asset's market must be one of the {n_mkt} markets or -1, got {market!r}")
    order = np.argsort(acct, kind="stable")
    acct, asset, units = acct[order], asset[order], units[order]
    ptr = np.zeros(n_acct + 1, np.int64)
    ptr[1:] = np.cumsum(np.bincount(acct, minlength=n_acct))
    n_assets = len(paths)
    length = max([len(t) for t, *_ in paths] or [1])
    path_t = np.zeros((n_assets, length), np.int64)
    path_p = np.zeros((n_assets, length))
    for c, (t_s, price, *_) in enumerate(paths):
        path_t[c, : len(t_s)] = np.round(np.asarray(t_s, np.float64) * 1000.0).astype(np.int64)
        path_p[c, : len(price)] = price
    path_n = np.array([len(t) for t, *_ in paths], np.int64)
    h = units.size
    return S.Collateral(
        ptr=ptr,
        asset=asset,
        k=units,
        w=np.zeros(h),
        ver=np.zeros(h, np.int64),
        crossed=np.zeros(h, np.int64),
        eq=np.zeros(h),
        wt=np.zeros(h),
        look=np.zeros(h, np.int64),
        path_t=path_t,
        path_p=path_p,
        path_n=path_n,
        price=np.zeros(n_assets),
        start=np.array([path_price_nb(path_t[c, : path_n[c]], path_p[c, : path_n[c]], 0) for c in range(n_assets)]),
        weight=np.array([float(w) for _, _, w, _ in paths]),
        market=np.array([int(m) for *_, m in paths], np.int64),
        heap_key=np.zeros((n_assets, h + 64)),
        heap_id=np.zeros((n_assets, h + 64), np.int64),
        heap_ver=np.zeros((n_assets, h + 64), np.int64),
        heap_n=np.zeros(n_assets, np.int64),
    )


def _padded(markets):
    """The markets' trigger tiers as padded (M, K) arrays and their lengths and bases."""
    k = max(m.tiers.floor.size for m in markets)
    out = [np.zeros((len(markets), k)) for _ in range(3)]
    for j, m in enumerate(markets):
        for a, col in zip(out, (m.tiers.floor, m.tiers.mmr, m.tiers.cum)):
            a[j, : col.size] = col
    nk = np.array([m.tiers.floor.size for m in markets], np.int64)
    basis = np.array([m.tiers.basis for m in markets], np.int64)
    return (*out, nk, basis)


def simulate_markets(
    inputs, row_acct, method, weight=None, collateral=None, progress=None, on_tick=None, trend_s=TREND_S, timings=None
):
    """Run several markets in lockstep with cross accounts across them.

    Parameters
    ----------
    inputs : list of sim.engine.Inputs
        One per market, as :func:`sim.engine.prepare` makes them; every market must have the same duration and
        oracle interval (one venue's clock). Rows of cross accounts must carry no stop and no top-up reserve.
    row_acct : list of int64 arrays
        For each market, the cross account of each of its position rows (−1: an isolated row), numbered from 0
        across markets.
    method : int
        The venue's rule for a liquidatable account (``enums.ACCT_*``).
    weight : sequence of float, optional
        Each market's volatility scale (default 1 each): with its recent move, the share of an account's slack a row
        gets per USD of notional (:func:`slack_weights`).
    collateral : dict, optional
        Collateral held by the cross accounts, valued on price paths of their own (a depeg is a path) or at a
        market's index:
        ``{"assets": [(t_s, price, weight[, market]), ...], "account": int array, "asset": int array, "units": float
        array}``, one entry per holding: its account, its asset (index into ``assets``) and its effective units (its
        amount times the venue's collateral ratio). ``t_s`` and ``price`` are the asset's path (seconds, USD; linear
        between points); ``weight`` its volatility scale, like a market's; ``market``, if given and not −1, the
        market whose index values it instead of the path after the start (BTC beside a BTC instrument: as the venue
        does, at the index the flows move).
    progress : callable, optional
        ``progress(fraction)`` after every 2% of the run.
    on_tick : callable, optional
        ``on_tick(t_ms, markets, g, accounts, collateral)`` after every oracle tick's work, the account layer's included
        (tests: the brute-force check that no liquidatable account is missed).
    trend_s : float
        The look-back of the recent moves in the slack weights, seconds (0: the volatility scales alone). It changes
        how often accounts are looked at, not what happens to them (up to the rounding of their shares).
    timings : dict, optional
        Filled with where the run's wall time went, in seconds: ``start`` (the markets' state, the account layer's
        arrays, the first share-out and band index), ``loops`` (the markets' loops), ``layer`` (the account
        layer's rounds), ``python`` (the lockstep's bookkeeping between them), ``end`` (the tables) and ``total``
        (benchmarks/bench_multi.py reports them).
    """
    clock = time.perf_counter
    t_enter = clock()
    spent = {"loops": 0.0, "layer": 0.0}
    n_mkt = len(inputs)
    if n_mkt == 0 or len(row_acct) != n_mkt:
        raise ValueError("one row_acct array per market is needed")
    dur = {inp.duration for inp in inputs}
    osc = {inp.oracle_interval for inp in inputs}
    if len(dur) != 1 or len(osc) != 1:
        raise ValueError("every market must have the same duration and oracle interval")
    g, views, lo = global_table(inputs)
    accts = np.concatenate([np.asarray(a, np.int64) for a in row_acct])
    if accts.size != g.side.size:
        raise ValueError("row_acct must give an account (or −1) for every position row of every market")
    member = accts >= 0
    if np.any(member & ~np.isnan(g.stop)) or np.any(member & (g.reserve > 0.0)):
        raise ValueError("rows of cross accounts may carry no stop-loss and no top-up reserve")
    g.cross[member] = 1  # before the markets' sorted indexes are made: they leave these rows to the band index
    parts = [allocate(inp, view) for inp, view in zip(inputs, views)]
    fills = [pt[8] for pt in parts]
    markets = []
    for inp, pt, view in zip(inputs, parts, views):
        _, tiers, book, trig, ev, mk, sp, spp, _, series, perp = pt
        markets.append(Market(view, tiers, book, trig, ev, mk, sp, spp, series, perp, _params(inp)))
    lp_start = [np.where(m.pos.status == E.FLAT, np.nan, m.pos.lp) for m in markets]
    row_mkt = np.repeat(np.arange(n_mkt, dtype=np.int16), np.diff(lo))
    caps = [mm.trig.heap_key.shape[1] for mm in markets]
    ca = cross_accounts(accts, row_mkt, lo, caps, [inp.start_price for inp in inputs])
    markets = shared_heaps(markets, ca)
    cl = collateral_state(collateral, ca.state.size, n_mkt)
    floor, mmr, cum, nk, basis = _padded(markets)
    wts = np.ones(n_mkt) if weight is None else np.asarray(weight, np.float64)
    if wts.shape != (n_mkt,) or not np.all(np.isfinite(wts) & (wts > 0)):
        raise ValueError(f"weight: one finite number above 0 per market ({n_mkt}), got {weight!r}")
    if not (np.isfinite(trend_s) and trend_s >= 0):
        raise ValueError(f"trend_s: a finite number of seconds, 0 or more, got {trend_s!r}")
    mark = np.array([inp.start_price for inp in inputs])
    index = mark.copy()  # the markets' index prices at the round (collateral valued at one)
    tick = np.zeros(n_mkt, np.int64)
    base = np.concatenate([wts, cl.weight])
    wside = np.zeros((base.size, 2))  # the slack weights (slack_weights), before any move: the scales alone
    slack_weights(wside, base, np.ones(base.size), np.ones(base.size))
    share_all_nb(g, ca, cl, mark, tick, floor, mmr, cum, nk, basis, wside)  # bands balanced from the start
    index_bands_nb(g, ca)  # every open cross row in its band index, at a version of at least 1, so the sorted index
    pcs = [S.perp_cells(mm.perp) for mm in markets]  # the loops take the state records as one-element arrays
    cs = [cells(pc) for pc in pcs]
    sync_bands(cs, ca, to_layer=False)  # (the isolated rows by key, then these: sim.allocate.start_order) passes over
    #                                     them
    held = np.zeros(3 * g.side.size + 64 * n_mkt, np.int64)  # each market's held rows (2n + 64) and ADL'd ones
    seen = [0] * n_mkt  # each market's fills looked at for ADL'd rows of cross accounts

    loop = [None] * n_mkt  # each market's loop, looked up for its arguments' types (sim._jit.compiled)

    def run_to(m, t_stop):
        mm = markets[m]
        while True:
            args = (mm.pos, mm.tiers, mm.book, mm.trig, mm.ev, mm.mk, mm.sp, mm.spp, fills[m], mm.series, pcs[m])
            if loop[m] is None:
                loop[m] = compiled(run_nb, *args, mm.p, t_stop)
            t0 = clock()
            status = loop[m](*args, mm.p, t_stop)
            spent["loops"] += clock() - t0
            if status != E.ST_FILLS_FULL:
                return status  # ST_HELD: its tick's work stopped with rows handed over; call again after the layer
            fills[m] = S.grow_fills(fills[m], 2 * fills[m].t.size)
            loop[m] = None

    def deleveraged():
        """Rows of cross accounts that ADL closed (in part) since the last look: at a price worse than the mark for
        them, so their accounts are looked at as if a band had been crossed."""
        rows = []
        for m, c in enumerate(cs):
            nf = int(c.nfills[0])
            if nf == seen[m]:
                continue
            f = fills[m]
            sel = f.kind[seen[m] : nf] == E.ADL
            if sel.any():
                r = f.account[seen[m] : nf][sel]
                r = r[r < lo[m + 1] - lo[m]] + lo[m]
                rows.append(r[ca.row_acct[r] >= 0])
            seen[m] = nf
        return np.unique(np.concatenate(rows)) if rows else np.zeros(0, np.int64)

    def accounts(paused, ring):
        """The account layer at this tick: rounds until no account needs more. ``paused``: the markets whose tick
        work stopped with rows held. A market whose rows a round forced gets a closing pass of its tick work, as
        does a paused market whose arbitrageurs look at the basis once the tick's forced orders are through (prices
        formed by flows); a paused market's other events at this time run at the start of its next call, in the
        same order. ``ring``: this tick's and the look-back's rows of ``prices`` (the slack weights, worked out
        here: most ticks need none)."""
        rounds = 0
        adl = deleveraged()
        if not paused and ca.n[1] == 0 and ca.n[2] == 0 and not has_collateral and adl.size == 0:
            return rounds  # nothing handed over, nothing being liquidated: the common tick
        if ring is not None:
            slack_weights(wside, base, prices[ring[0]], prices[ring[1]])
        kick = {m for m in paused if markets[m].spp.on}
        while True:
            nh = adl.size
            held[:nh] = adl
            adl = adl[:0]
            for m, c in enumerate(cs):
                k = int(c.nheld[0])
                if k:
                    held[nh : nh + k] = markets[m].trig.held[:k] + lo[m]
                    nh += k
                    c.nheld[0] = 0
                mark[m] = c.mark[0]
                index[m] = c.index_price[0]
                tick[m] = c.tick[0]
            # rows handed over, accounts being liquidated, rows forced last round, or collateral prices to look at
            if nh or ca.n[1] or ca.n[2] or (has_collateral and rounds == 0):
                # by account, then row: each account's data is read once, in one sweep over the accounts. The order
                # changes no number: an account's look touches only its own rows, and which rows a mark crosses
                # does not depend on the order they went back in their index
                keyed = ca.row_acct[held[:nh]] * n_rows + held[:nh]
                keyed.sort()
                held[:nh] = keyed % n_rows
                sync_bands(cs, ca, to_layer=True)
                t0 = clock()
                n_forced = layer(
                    g, ca, cl, tick_time, mark, index, tick, floor, mmr, cum, nk, basis, wside, held, nh, method
                )
                spent["layer"] += clock() - t0
                sync_bands(cs, ca, to_layer=False)
                rounds += 1
                kick.update(int(m) for m in np.unique(row_mkt[ca.forced[:n_forced]]))
            if not kick:
                break
            again = set()
            for m in sorted(kick):
                cs[m].phase[0] = 1  # this tick's liquidation work again: forced rows, then a pass
                if run_to(m, tick_time - 1) == E.ST_HELD:  # the work only: the tick's other events wait
                    again.add(m)  # more rows handed over: another round, then another closing pass
            kick = again
        return rounds

    has_collateral = cl.price.size > 0
    coll_price = compiled(collateral_price_nb, cl, 0, index, 0) if has_collateral else None
    n_rows = g.side.size
    layer = compiled(
        cross_round_nb, g, ca, cl, 0, mark, index, tick, floor, mmr, cum, nk, basis, wside, held, 0, method
    )
    for mm in markets:
        start_nb(mm.ev, mm.mk, mm.perp.clk, mm.p)
    t_loop = clock()
    duration = inputs[0].duration
    interval = inputs[0].oracle_interval
    back = 0  # the look-back, in oracle ticks (at most the run's)
    if trend_s > 0:
        back = min(max(1, round(trend_s * 1000.0 / interval)), duration // interval + 1)
    prices = np.zeros((back + 1, base.size))  # the marks and collateral prices of the last ticks, a ring
    total_rounds = 0
    next_report = 0.02
    tick_time = 0
    n_tick = 0
    while tick_time <= duration:
        paused = [m for m in range(n_mkt) if run_to(m, tick_time) == E.ST_HELD]
        ring = None
        if back:
            ring = (n_tick % (back + 1), max(n_tick - back, 0) % (back + 1))
            now = prices[ring[0]]
            for m, c in enumerate(cs):
                now[m] = c.mark[0]
                index[m] = c.index_price[0]
            for c in range(cl.price.size):  # as the account layer prices them
                now[n_mkt + c] = coll_price(cl, c, index, tick_time)
        n_tick += 1
        total_rounds += accounts(paused, ring)
        if on_tick is not None:
            on_tick(tick_time, markets, g, ca, cl)
        if progress is not None and tick_time >= next_report * duration:
            progress(tick_time / max(duration, 1))
            next_report += 0.02
        tick_time += interval
    for m in range(n_mkt):
        run_to(m, duration)  # what is left after the last tick (its samples, its background orders)
    if progress is not None:
        progress(1.0)
    t_end = clock()
    raws: list[Raw] = [
        _wrap(inp, mm.pos, fills[m], mm.series, mm.perp, lp_start[m], mm.sp)
        for m, (inp, mm) in enumerate(zip(inputs, markets))
    ]
    if timings is not None:
        done = clock()
        python = (t_end - t_loop) - spent["loops"] - spent["layer"]
        timings.update(start=t_loop - t_enter, **spent, python=python, end=done - t_end, total=done - t_enter)
    return MultiRaw(markets=raws, lo=lo, accounts=ca, rounds=total_rounds, collateral=cl)


def contagion(res, names=None):
    """What the cross accounts did to each market's liquidations (issue: accounts across instruments, item 9).

    For each market (``names``: its label, default ``market_0``...): the notional of forced closes (liquidation,
    partial and takeover fills at their prices), the part of it on rows of cross accounts, and the part on rows
    first forced when the account's other positions had lost more since the start than the row itself and than its
    collateral (``CrossAccounts.why`` = ``WHY_OTHERS``): **cross-asset liquidations**; and the part first forced when
    the collateral had lost the most (``WHY_COLLATERAL``): **collateral-driven liquidations**. Plus, over the run: accounts that
    had a row forced, the times an account went from healthy to being liquidated (again after a partial step that
    made it safe), rows forced, re-sharings of slack and rounds of the account layer."""
    ca = res.accounts
    names = list(names) if names is not None else [f"market_{m}" for m in range(len(res.markets))]
    out = {}
    for m, (name, raw) in enumerate(zip(names, res.markets)):
        f = raw.fills
        n_rows = int(res.lo[m + 1] - res.lo[m])  # the fund's remainder of an ADL with no holder left is not a row
        forced = np.isin(f["kind"], E.FORCED_KINDS) & (f["account"] < n_rows)
        rows = f["account"][forced] + res.lo[m]  # position rows' global numbers (only rows get forced fills)
        usd = f["qty"][forced] * f["price"][forced]
        member = ca.row_acct[rows] >= 0
        others = ca.why[rows] == E.WHY_OTHERS
        coll = ca.why[rows] == E.WHY_COLLATERAL
        total = float(usd.sum())
        cross_asset = float(usd[others].sum())
        out[name] = {
            "liquidated_usd": total,
            "in_cross_accounts_usd": float(usd[member].sum()),
            "cross_asset_usd": cross_asset,
            "cross_asset_share": cross_asset / total if total > 0 else 0.0,
            "positions_cross_asset": int(np.unique(rows[others]).size),
            "collateral_driven_usd": float(usd[coll].sum()),
            "positions_collateral_driven": int(np.unique(rows[coll]).size),
        }
    return {
        "markets": out,
        "accounts_liquidated": int(np.unique(ca.row_acct[ca.why != 0]).size),  # a row of theirs was forced
        "liquidation_episodes": int(ca.n[5]),  # times an account went from healthy to being liquidated
        "positions_forced": int(ca.n[6]),
        "reshares": int(ca.n[4]),
        "rounds": int(res.rounds),
    }


def one_path(inputs, names, betas, scn):
    """Every instrument follows the first market's fundamental path, its relative moves times the instrument's beta:
    ``p_m(t) = p_m(0)·(1 + β_m·(x(t)/x(0) − 1))``, as a gap's or a ramp's size is scaled (a GBM's draws and a replay's
    recorded moves are the first market's); an instrument with a ``path_file`` replays its own recorded path instead,
    on the first market's clock (as the scenario check put it: ``InstrumentTable.path``). Refuses a path outside an
    instrument's book ladder less its 1% margin, or at a price of 0 or below."""
    from sim.errors import ScenarioError

    base = inputs[0]
    rel = np.asarray(base.path_p, np.float64) / base.path_p[0] - 1.0
    out = [base]
    problems = []
    for inp, name, beta in zip(inputs[1:], names[1:], betas[1:]):
        own = getattr(scn.instruments, name).path
        if own is not None:
            t_ms, path = np.rint(own["t_s"] * 1000.0).astype(np.int64), np.asarray(own["price"], np.float64)
            end = int(np.searchsorted(t_ms, inp.duration, side="right")) + 1  # the run reads up to its end
            seen, head = path[:end], f"instruments.{name}.path_column = {getattr(scn.instruments, name).path_column!r}"
            what = "its recorded path"
        else:
            t_ms, path = base.path_t, inp.start_price * (1.0 + beta * rel)
            seen, head = path, f"instruments.{name}.beta = {beta:g}"
            what = f"with shock.kind = {scn.shock.kind!r} the first market's path times the beta"
        lo = inp.grid_lo * inp.tick * 1.01
        hi = (inp.grid_lo + inp.n_levels - 1) * inp.tick * 0.99
        if seen.min() <= max(lo, 0.0) or seen.max() >= hi:
            problems.append(
                f"{head}: {what} reaches {seen.min():.6g}–{seen.max():.6g} USD, outside {name}'s book ladder less its "
                f"1% margin ({lo:.6g}–{hi:.6g} USD for book.range_pct = {scn.book.range_pct:g}); "
                + ("a larger book.range_pct" if own is not None else "a smaller beta or a larger book.range_pct")
            )
            continue
        out.append(inp._replace(path_t=t_ms, path_p=path))
    if problems:
        raise ScenarioError(problems)
    return out


class MultiRun(NamedTuple):
    """A scenario of several instruments, run: each market's name (its asset), scenario, inputs and what it left
    behind, the accounts, and the contagion section (:func:`contagion`)."""

    names: list
    scenarios: list
    inputs: list
    raw: MultiRaw
    row_acct: list
    contagion: dict


def run_scenario(scn, progress=None, collateral=None, on_tick=None):
    """Run a scenario with ``[instruments]`` (and ``[portfolio]``): every instrument's market in lockstep, its
    traders grouped into cross accounts across them by the portfolio's draws (docs/model.md §5.5), liquidated by
    the venue's rule. Each market's volatility scale for the slack is its ``|beta|`` (a market the shock moves twice
    as far gets twice the slack per USD while prices are still: :func:`slack_weights`). The accounts' collateral is
    the scenario's ``[collateral]`` (:func:`sim.world.collateral.holdings`), or ``collateral`` as
    :func:`simulate_markets` takes it (not both); ``on_tick``: as there."""
    from sim.config.collateral import assets
    from sim.config.instruments import market_scenarios, portfolio_rng
    from sim.engine import prepare
    from sim.world.collateral import holdings
    from sim.world.portfolio import file_accounts, group_accounts

    scenarios = market_scenarios(scn)
    names = [scn.market.asset] + [asset for asset, _ in scn.instruments.items()]
    betas = [1.0] + [float(t.beta) for _, t in scn.instruments.items()]
    inputs = [prepare(s) for s in scenarios]
    if scn.shock.kind in ("gbm", "replay"):
        inputs = one_path(inputs, names, betas, scn)
    if scn.population.file is not None:  # an account snapshot: its users are the accounts
        row_acct = file_accounts(inputs, [s.population.positions for s in scenarios])
    else:
        row_acct = group_accounts(inputs, scn.portfolio, portfolio_rng(scn))
    if scn.collateral.items():
        if collateral is not None:
            raise ValueError("collateral: the scenario has [collateral] already; give one or the other")
        inputs, collateral = holdings(scn.scenario.seed, assets(scn, names, inputs), inputs, row_acct)
    raw = simulate_markets(
        inputs,
        row_acct,
        E.VENUE_ACCT_METHOD[scn.market.venue],
        weight=[max(abs(b), 0.05) for b in betas],
        collateral=collateral,
        progress=progress,
        on_tick=on_tick,
    )
    return MultiRun(names, scenarios, inputs, raw, row_acct, contagion(raw, names))
