"""A run's state at its start: the position table with every row's prices, the sorted trigger index and its
heaps, the book, the event queue, the fill buffer, the series and the perp's groups, from the inputs
(:class:`sim.engine.Inputs`, docs/engine.md §2). :func:`allocate` makes one market's; sim.multi lays several
markets' position tables end to end (:func:`positions`) and makes each market's state on its view.
"""

import numpy as np

from sim import enums as E
from sim import state as S
from sim.kernels.book import BLOCK_SHIFT
from sim.kernels.heap import order_by_key_nb, split_sides_nb
from sim.kernels.margin import init_prices_nb
from sim.world import spot as spot_world


def _read_only(a, dtype):
    """``a`` as ``dtype`` without a copy when it already is, behind a read-only view: the kernels share the
    inputs they never write (a write would not compile)."""
    view = np.asarray(a, dtype).view()
    view.flags.writeable = False
    return view


def positions(inputs):
    """The position table at the start of a run: the rows of ``inputs`` (one market's, or several markets' laid
    end to end for sim.multi) with their prices still to be set. Columns the kernels never write are the inputs'
    own arrays behind read-only views when there is one market (copies, read-only too, when there are several)."""

    def column(name, dtype, copy):
        parts = [getattr(inp, name) for inp in inputs]
        if len(parts) == 1:
            return np.array(parts[0], dtype) if copy else _read_only(parts[0], dtype)
        whole = np.concatenate([np.asarray(a, dtype) for a in parts])
        whole.flags.writeable = copy
        return whole

    n = sum(inp.pos_side.size for inp in inputs)
    # a row holding no more than rounding dust (e.g. a counterparty facing a balanced book) is flat
    status = np.concatenate([np.where(inp.pos_size > inp.lot * 1e-9, E.OPEN, E.FLAT).astype(np.int8) for inp in inputs])
    return S.Positions(
        side=column("pos_side", np.int8, False),
        size=column("pos_size", np.float64, True),  # copies: the kernels mutate size, wallet,
        entry=column("pos_entry", np.float64, True),  # the entry (an arrival sets it)
        wallet=column("pos_wallet", np.float64, True),
        kind=column("pos_kind", np.int8, False),
        lp=np.zeros(n),
        bp=np.zeros(n),
        key=np.zeros(n),
        status=status,
        version=np.zeros(n, np.int64),
        eligible=np.zeros(n, np.int64),
        cooldown=np.full(n, S.NEVER, np.int64),
        stop=column("pos_stop", np.float64, False),
        reserve=column("pos_reserve", np.float64, True),  # and the top-up reserve
        tu_delay=column("pos_delay", np.int64, False),
        tu_due=np.full(n, S.NEVER, np.int64),
        cross=np.zeros(n, np.int8),  # every row its own account; sim.multi marks the rows of cross accounts
    )


def start_order(ids, pos):
    """The sorted start-of-run trigger index of rows ``ids``: by key descending, then id ascending. Rows of cross
    accounts (sim.multi marks them first) are not sorted but put last, in id order: they sit in their band index
    (sim.kernels.bands) at a version the sorted index passes over."""
    if not pos.cross.any():
        return order_by_key_nb(ids, pos.key)
    cross = pos.cross[ids] != 0
    return np.concatenate([order_by_key_nb(ids[~cross], pos.key), ids[cross]])


def allocate(inp, pos=None):
    """A run's state for ``inp``; ``pos``: its position table already made (:func:`positions`; sim.multi passes
    views of the markets' global table)."""
    pos = positions([inp]) if pos is None else pos
    n = pos.side.size
    status = pos.status
    floor, mmr, cum = (np.ascontiguousarray(a, np.float64) for a in (inp.tier_floor, inp.tier_mmr, inp.tier_cum))
    tiers = S.Tiers(floor, mmr, cum, int(inp.tier_basis), mmr / inp.tu_threshold, cum / inp.tu_threshold)
    init_prices_nb(pos, tiers, E.OPEN)
    listed = status  # the rows of the side lists (ADL candidates, funding rebuilds): open ones, and every arrival
    if inp.arr_on:
        listed = status.copy()
        listed[inp.arr_row0 :] = E.OPEN
    ids_long, ids_short, q_long, q_short = split_sides_nb(pos.side, listed, pos.kind, pos.size, E.OPEN, E.TRADER)
    sels = [ids_long, ids_short]
    orders = [start_order(sel, pos) for sel in sels]
    cap = n + 64
    n_ticks = inp.duration // inp.oracle_interval + 1
    dd_cap = (min(n_ticks, inp.adl_window // inp.oracle_interval + 1) + 2) if inp.adl_drawdown > 0 else 1
    dip_cap = (min(n_ticks, inp.arr_dip_window // inp.oracle_interval + 1) + 2) if inp.arr_on else 1
    trig = S.Trigger(
        order_long=orders[0],
        order_short=orders[1],
        ids_long=sels[0],
        ids_short=sels[1],
        heap_key=np.zeros((2, cap)),
        heap_id=np.zeros((2, cap), np.int64),
        heap_ver=np.zeros((2, cap), np.int64),
        deferred=np.zeros(n, np.int64),
        win=np.zeros(n, np.int64),
        wait=np.zeros(n, np.int64),
        held=np.zeros(2 * n + 64, np.int64),  # a row can be popped twice in a pass (index and heap, after a rebuild)
        rank=np.zeros(n, np.int64),
        rank_score=np.zeros(n),
        dd_t=np.zeros(dd_cap, np.int64),
        dd_v=np.zeros(dd_cap),
        stop_long=stop_order(pos, 1, ids_long),
        stop_short=stop_order(pos, -1, ids_short),
        pend_key=np.zeros(n),
        pend_id=np.zeros(n, np.int64),
        pend_ver=np.zeros(n, np.int64),
        scr_i=np.empty((4, max(n, 4096)), np.int64),
        scr_f=np.empty((2, max(n, 4096))),
        counts=np.zeros(257, np.int64),
        band_head=np.full((2, 1), -1, np.int32),  # no cross rows: sim.multi makes these views of its band index
        band_ent=np.zeros((1, 3), np.int32),
    )
    book = new_book(inp.n_levels, inp.prof_bid, inp.prof_ask, inp.start_price)
    ev = S.Events(*(np.zeros(8, np.int64) for _ in range(4)))
    mk = S.MarketState(
        path_t=np.ascontiguousarray(inp.path_t, np.int64),
        path_p=np.ascontiguousarray(inp.path_p, np.float64),
        noise_t=np.ascontiguousarray(inp.noise_t, np.int64),
        noise_side=np.ascontiguousarray(inp.noise_side, np.int8),
        noise_qty=np.ascontiguousarray(inp.noise_qty, np.float64),
        basis=np.zeros(inp.basis_window),
        arr_t=np.ascontiguousarray(inp.arr_t, np.int64),
        arr_u=np.ascontiguousarray(inp.arr_u, np.float64),
        arr_lev=np.ascontiguousarray(inp.arr_lev, np.float64),
        dip_t=np.zeros(dip_cap, np.int64),
        dip_v=np.zeros(dip_cap),
    )
    n_unwind = inp.duration // inp.unwind_interval + 1
    fills = S.allocate_fills(inp.noise_t.size + inp.arr_t.size + n_unwind + n // 4 + 1024)
    n_samples = inp.duration // inp.sample_interval + 1
    series = np.full((n_samples, S.N_SERIES_COLS), np.nan)
    sp = spot_world.state(inp.spot, inp.start_price, n_samples)
    perp = S.allocate_perp(
        inp.start_price,
        inp.fund_initial,
        inp.funding_rate,
        inp.time_to_funding,
        q_long.sum(),  # traders' sizes in id order, summed by NumPy
        q_short.sum(),
        inp.adl_seed,
    )
    return pos, tiers, book, trig, ev, mk, sp, inp.spot.params, fills, series, perp


def new_book(n_levels, prof_bid, prof_ask, start_price):
    """A full book (every level untouched) of ``n_levels`` with the given profiles, no cursor, makers all there."""
    prof_bid, prof_ask = (np.ascontiguousarray(a, np.float64) for a in (prof_bid, prof_ask))
    n_blocks = (n_levels >> BLOCK_SHIFT) + 1
    cum_bid = _running_sums(prof_bid)
    return S.BookState(
        bid_q=np.zeros(n_levels),
        bid_t=np.zeros(n_levels, np.int64),
        ask_q=np.zeros(n_levels),
        ask_t=np.zeros(n_levels, np.int64),
        prof_bid=prof_bid,
        prof_ask=prof_ask,
        bid_blk=np.zeros(n_blocks, np.int64),
        ask_blk=np.zeros(n_blocks, np.int64),
        cum_bid=cum_bid,
        cum_ask=cum_bid if np.array_equal(prof_ask, prof_bid) else _running_sums(prof_ask),  # equal unless a file
        cur_t=np.full(2, S.NEVER, np.int64),
        cur_a=np.zeros(2, np.int64),
        cur_fair=np.full(2, np.nan),
        share=np.ones(1),
        gap=np.zeros(1),
        vol=np.zeros(1),
        flow=np.zeros(1),
        flow_acc=np.zeros(1),
        prev=np.full(1, float(start_price)),
    )


def _running_sums(prof):
    """Rows ``Σ_{k≤d} prof[k]`` and ``Σ_{k≤d} k·prof[k]`` for d = 0..D (offset 0 is no level)."""
    out = np.empty((2, prof.size))
    w = prof.copy()
    w[0] = 0.0
    np.cumsum(w, out=out[0])
    w *= np.arange(prof.size)
    np.cumsum(w, out=out[1])
    return out


def stop_order(pos, side, open_ids):
    """Rows of ``side`` (``open_ids``: its open rows, ascending) with a stop, in the order a move reaches them:
    long stops by price descending, short stops ascending, ties by row."""
    ids = open_ids[~np.isnan(pos.stop[open_ids])]
    return ids[np.lexsort((ids, -side * pos.stop[ids]))].astype(np.int64)
