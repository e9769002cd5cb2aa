"""Engine state: NamedTuples of NumPy arrays (structure of arrays), record groups, and their allocators.

Kernels receive these and mutate them in place; nothing here is a jitclass. Every piece of state that changes
during a run lives in a named group, and a kernel takes the groups it reads or writes: a book's in its
:class:`BookState`, the spot venues' in :class:`SpotState`, and the perp market's scalars in eight small groups,
each a record (one row of a structured array, its fields named by a dtype below) that a kernel reads and writes
by name (``px.mark = mark``, ``adl.pool_q[c - 1] += q``):

* ``px`` (:data:`PRICES`): the perp's index, mark and last prices, their extremes, the mark's EMAs, funding and
  open interest: what a venue publishes about its market;
* ``acc`` (:data:`ACCOUNTS`): the accounts that are not trader rows (makers, noise, fees, insurance fund);
* ``adl`` (:data:`ADL`): the ADL pools of this (tick, side) and the matching of one of them;
* ``work`` (:data:`WORK`): the oracle tick's liquidation work (tick count, phase, trigger cursors, heaps);
* ``clk`` (:data:`CLOCK`): the event loop's clock and the cursors of the buffers it fills;
* ``tot`` (:data:`TOTALS`): counts and notional totals over the run (read by the summary only);
* ``bh`` (:data:`BEHAVIOUR`): the traders' stop cursors, pending top-ups, the next funding time;
* ``arv`` (:data:`ARRIVALS`): the arrival stream's cursor and the mark's rolling peak it reads.

Why records and not NamedTuples of one-element arrays: Numba counts a reference (an atomic increment and
decrement) for every array of a tuple at every call and every inlined helper that receives it. These groups go
everywhere (every fill record takes the clock, every trade sets the last price), and as 72 one-element arrays they
made a warm run 40-65% slower than the two slot arrays they replace; a record is passed as one pointer and counts
no reference, so they cost what the slots cost. A record is a view of its own one-element array, which it keeps
alive; the :class:`Perp` holds the records for the run.

:func:`allocate_perp` builds them, as one :class:`Perp`. Several markets (venue × instrument) would each get
their own :class:`Perp` (with their own book, positions and trigger index), and a kernel that acts on one market
takes that market's groups, unchanged; what links markets (the index from shared spot venues, a trader's cross
margin) would be groups of their own. A run can stop at any time and resume exactly where it was.
"""

from typing import NamedTuple

import numpy as np

# Times are int64 milliseconds; "never touched" is a time far in the past.
NEVER = -(1 << 62)


def _group(*fields):
    """A record dtype (C-aligned) from ``(name, dtype)`` or ``(name, dtype, shape)`` fields."""
    return np.dtype(list(fields), align=True)


#: The perp's prices, funding and open interest (``px``).
PRICES = _group(
    ("index_price", "f8"),  # USD: the index (oracle) price at the last oracle tick
    ("quote", "f8"),  # USD: the centre of the perp makers' quotes, the index skewed by their unhedged inventory
    ("mark", "f8"),  # USD: the mark price set at the last oracle tick ...
    ("prev_mark", "f8"),  # USD: ... and at the one before
    ("last", "f8"),  # USD: the last trade's price on the perp book
    ("min_last", "f8"),  # USD: extremes of last and mark over the run (samples can miss a wick)
    ("max_last", "f8"),
    ("min_mark", "f8"),
    ("max_mark", "f8"),
    ("ema_slow", "f8", (2,)),  # Hyperliquid mark: time-weighted EMA of the basis (numerator, denominator) ...
    ("ema_fast", "f8", (2,)),  # ... and of the book price
    ("funding_rate", "f8"),  # fraction per interval: the last settled rate (the mark's funding term uses it)
    ("prem_num", "f8"),  # weighted sum of premium samples since the last funding settlement ...
    ("prem_den", "f8"),  # ... the sum of their weights ...
    ("prem_n", "i8"),  # ... and their count
    ("oi_long", "f8"),  # base units: open interest of trader rows, longs ...
    ("oi_short", "f8"),  # ... and shorts
)

#: The accounts that are not trader rows (``acc``), USD and base units.
ACCOUNTS = _group(
    ("maker_cash", "f8"),  # USD: the book's makers (every resting order) ...
    ("maker_q", "f8"),  # base units: ... and their position
    ("noise_cash", "f8"),  # the background orders' account
    ("noise_q", "f8"),
    ("fee_cash", "f8"),  # taker fees collected
    ("fund_cash", "f8"),  # the insurance fund's cash ...
    ("fund_q", "f8"),  # ... its inventory from takeovers ...
    ("fund_avg", "f8"),  # ... at this average price ...
    ("fund_bal", "f8"),  # ... its balance (initial + realized deltas) ...
    ("fund_min", "f8"),  # ... and the lowest balance of the run
    ("dd_peak", "f8"),  # the fund's rolling peak equity (ADL drawdown trigger) ...
    ("dd_ring", "i8", (2,)),  # ... head and length of its ring buffer (Trigger.dd_t, dd_v)
)

#: The ADL pools of this (tick, side) and the matching of one of them against ranked victims (``adl``,
#: docs/engine.md §7.10).
ADL = _group(
    ("pool_q", "f8", (3,)),  # base units: bankrupt quantity waiting per cause (enums.CAUSE_* − 1) ...
    ("pool_cost", "f8", (3,)),  # USD: ... and its Σ quantity × bankruptcy price
    ("rem", "f8"),  # base units: the pool being matched: quantity still to be matched ...
    ("cost", "f8"),  # USD: ... its Σ quantity × bankruptcy price ...
    ("bbar", "f8"),  # USD: ... its quantity-weighted bankruptcy price (set when matching starts) ...
    ("price", "f8"),  # USD: ... and its execution price
    ("plan", "f8"),  # pro-rata factor, or the leverage-draining target leverage
    ("gap", "f8"),  # USD: equity a victim loses per unit closed at the ADL price (leverage draining)
    ("side", "i8"),  # side of the bankrupt positions in the pools (0: empty)
    ("active", "i8"),  # 1 while a pool is being matched
    ("nw", "i8"),  # pro rata: victims sized pro rata (the winners), before the queue of the rest
    ("rank_n", "i8"),  # victims ranked in Trigger.rank ...
    ("rank_cur", "i8"),  # ... and the next one
    ("cause", "i8"),  # cause of the pool being matched (enums.CAUSE_*)
    ("rng", "i8"),  # random ranking (dYdX): the state of the generator of start offsets (Params.adl_seed at t = 0)
    ("x", "i8"),  # dYdX: this block's draw of that generator (every random start in the block is taken from it) ...
    ("x_blk", "i8"),  # ... and the block it was drawn in (WORK.blk; 0 = none yet)
    ("start", "i8", (2,)),  # dYdX: each side's deleveraging start in its list (Trigger.ids_long, ids_short) ...
    ("start_blk", "i8", (2,)),  # ... and the block it was drawn for (0 = none yet)
    ("row", "i8"),  # dYdX: the deleveraged row whose pool is being matched (what no holder takes returns to it)
)

#: An oracle tick's liquidation work (``work``); pairs are (longs, shorts).
WORK = _group(
    ("tick", "i8"),  # oracle ticks so far (positions wait for a tick: Positions.eligible)
    ("phase", "i8"),  # 0 none, 1 first side, 2 second side
    ("first_side", "i8"),  # +1 longs first, -1 shorts first
    ("cur", "i8", (2,)),  # cursors into the sorted trigger index (Trigger.order_long, order_short)
    ("heap_n", "i8", (2,)),  # entries in the re-index heaps (rows of Trigger.heap_*)
    ("ndefer", "i8"),  # positions waiting in Trigger.deferred for a later tick
    ("blk", "i8"),  # dYdX: the block the counters below are for (1 + (tick − 1) // Params.block_ticks; 0 = none) ...
    ("nliq", "i8"),  # ... liquidation orders chosen in it ...
    ("ndel", "i8"),  # ... and deleveragings
    ("win_n", "i8"),  # dYdX: rows of this tick's window of liquidation orders (Trigger.win) ...
    ("win_cur", "i8"),  # ... and the next one to serve
    ("nwait", "i8"),  # dYdX: triggered rows waiting for a later window (Trigger.wait)
    ("nheld", "i8"),  # rows of cross accounts triggered since the account layer last looked (Trigger.held)
    ("band_n", "i8"),  # entries written in the band index of cross rows (Trigger.band_ent; 0: none, as in a
    #                    single-market run) ...
    ("band_top", "i8", (2,)),  # ... each side's highest bucket that may hold one (-1: none) ...
    ("band_lo", "f8", (2,)),  # ... and its buckets: bucket b holds keys from band_lo + b / band_inv (clamped to
    ("band_inv", "f8", (2,)),  #     the first and the last bucket)
)

#: The event loop's clock and the cursors of what it reads and fills (``clk``).
CLOCK = _group(
    ("now", "i8"),  # ms: time of the event being processed
    ("seq", "i8"),  # event sequence counter (owned by the run)
    ("nev", "i8"),  # events in the queue (Events)
    ("noise_next", "i8"),  # next background order (MarketState.noise_*)
    ("nfills", "i8"),  # fill records written (Fills)
    ("nseries", "i8"),  # rows of the time series written
    ("basis_n", "i8"),  # basis samples taken (MarketState.basis)
)

#: Counts and notional totals over the run, read by the summary (``tot``).
TOTALS = _group(
    ("full", "i8"),  # fully liquidated positions
    ("partial", "i8"),  # partial liquidations
    ("stops", "i8"),  # stop orders that filled
    ("topups", "i8"),  # top-ups applied
    ("fundings", "i8"),  # funding settlements
    ("arrivals", "i8"),  # arrivals that opened a position
    ("liq_usd", "f8"),  # USD: notional of forced closes (liquidations, takeovers, ADL)
    ("stop_usd", "f8"),  # USD: notional filled by stop orders
    ("topup_usd", "f8"),  # USD: margin added by top-ups
    ("funding_usd", "f8"),  # USD: net funding paid by trader rows
    ("arrival_usd", "f8"),  # USD: notional opened by arrivals (at the fill)
)

#: Trader behaviour and funding times (``bh``, docs/engine.md §9).
BEHAVIOUR = _group(
    ("stop_cur", "i8", (2,)),  # cursors into the sorted stops (Trigger.stop_long, stop_short)
    ("npend", "i8"),  # top-ups waiting for their reaction delay (entries of the Trigger.pend_* heap)
    ("next_funding", "i8"),  # ms: time of the next funding settlement
)

#: The arrival stream (``arv``, docs/engine.md §9).
ARRIVALS = _group(
    ("next", "i8"),  # next arrival candidate (MarketState.arr_*)
    ("dip_ring", "i8", (2,)),  # head and length of the ring of marks (MarketState.dip_t, dip_v) ...
    ("dip_peak", "f8"),  # USD: ... and the mark's rolling peak it gives (buy-the-dip drawdown)
)


class Perp(NamedTuple):
    """One perp market's groups of changing state, in the order the kernels take them: each a record (``np.record``)
    of the dtype named in the comment, a view of its own one-element array, mutated in place by the kernels."""

    px: np.record  # PRICES
    acc: np.record  # ACCOUNTS
    adl: np.record  # ADL
    work: np.record  # WORK
    clk: np.record  # CLOCK
    tot: np.record  # TOTALS
    bh: np.record  # BEHAVIOUR
    arv: np.record  # ARRIVALS


def new_group(dtype, **values):
    """A record of ``dtype`` (a view of its own one-element array): zero, but for the fields ``values`` sets. An
    ``np.record``, so that the kernels read its fields by attribute in plain Python too (LIQSIM_DISABLE_JIT)."""
    a = np.zeros(1, dtype)
    for name, v in values.items():
        a[name] = v
    return a.view(np.recarray)[0]


def perp_cells(perp):
    """The perp's groups as one-element arrays over the same memory (``cells[k][0]`` is ``perp[k]``), in
    :class:`Perp`'s order: what the event loop's entry takes (:func:`sim.kernels.loop.run_nb`)."""
    out = []
    for r in perp:
        if not isinstance(r.base, np.ndarray) or r.base.shape != (1,):
            raise ValueError("perp_cells: a group that is not a view of its own one-element array (new_group)")
        out.append(r.base.view(np.ndarray))
    return tuple(out)


def allocate_perp(start_price, fund_initial, funding_rate, time_to_funding, oi_long, oi_short, adl_seed=1):
    """The perp's groups at the start of a run: every price at ``start_price``, the fund's cash, balance, lowest
    balance and rolling peak at ``fund_initial``, the open interest given, the first funding at
    ``time_to_funding`` (ms), the ADL start-offset generator at ``adl_seed``."""
    p0, f0 = float(start_price), float(fund_initial)
    prices = ("index_price", "quote", "mark", "prev_mark", "last", "min_last", "max_last", "min_mark", "max_mark")
    return Perp(
        px=new_group(
            PRICES, **dict.fromkeys(prices, p0), funding_rate=funding_rate, oi_long=oi_long, oi_short=oi_short
        ),
        acc=new_group(ACCOUNTS, **dict.fromkeys(("fund_cash", "fund_bal", "fund_min", "dd_peak"), f0)),
        adl=new_group(ADL, rng=adl_seed, row=-1),
        work=new_group(WORK),
        clk=new_group(CLOCK),
        tot=new_group(TOTALS),
        bh=new_group(BEHAVIOUR, next_funding=time_to_funding),
        arv=new_group(ARRIVALS, dip_peak=p0),
    )


class Positions(NamedTuple):
    """Position rows (traders, then the residual counterparty). Shapes (n,)."""

    side: np.ndarray  # int8, +1 long / -1 short
    size: np.ndarray  # f8, base units, mutated
    entry: np.ndarray  # f8, USD
    wallet: np.ndarray  # f8, USD, mutated
    kind: np.ndarray  # int8, enums.TRADER / COUNTERPARTY
    lp: np.ndarray  # f8, liquidation price, mutated (a cross account's row: when forced; its band is its key)
    bp: np.ndarray  # f8, bankruptcy price, mutated (likewise)
    key: np.ndarray  # f8, trigger key (LP for longs, -LP for shorts), mutated
    status: np.ndarray  # int8, enums status, mutated
    version: np.ndarray  # int64, bumped whenever the key changes
    eligible: np.ndarray  # int64, first oracle tick at which the position may be liquidated
    cooldown: np.ndarray  # int64 ms, until when liquidation orders are for the whole position (slices)
    stop: np.ndarray  # f8, stop-loss trigger price (NaN = none)
    reserve: np.ndarray  # f8, cash the trader can still add as margin (top-ups), mutated
    tu_delay: np.ndarray  # int64 ms, the trader's reaction delay before a top-up
    tu_due: np.ndarray  # int64 ms, when the pending top-up is applied (NEVER = none pending), mutated
    cross: np.ndarray  # int8, mutated: 1 = a row of a cross account: crossing its key hands the account to the
    #                    account layer (sim.kernels.cross) instead of liquidating the row; 0 = liquidated as usual


class Tiers(NamedTuple):
    """The trigger tiers: MMR includes the clearance fee on venues that count it in the trigger."""

    floor: np.ndarray  # f8 (k,), USD notional
    mmr: np.ndarray  # f8 (k,), fraction
    cum: np.ndarray  # f8 (k,), USD
    basis: int  # enums.MM_MARK / MM_ENTRY (Bybit: MM on the entry value) / MM_SIZE (OKX: tiers by size, in coins)
    tu_mmr: np.ndarray  # f8 (k,), mmr / top-up threshold: the top-up price is the liquidation price of these
    tu_cum: np.ndarray  # f8 (k,), cum / top-up threshold


class BookState(NamedTuple):
    """One book, all of its state (the book kernels write nothing else): a lazy ladder (size left after the last
    touch and the time of that touch, per level), the walk cursors and its makers' withdrawal."""

    bid_q: np.ndarray  # f8 (n_levels,)
    bid_t: np.ndarray  # int64 (n_levels,), touch time + 1 (0 = never touched)
    ask_q: np.ndarray
    ask_t: np.ndarray
    prof_bid: np.ndarray  # f8 (D+1,), target size by offset in ticks from the fair price
    prof_ask: np.ndarray
    bid_blk: np.ndarray  # int64 (⌈n_levels / 64⌉,): latest touch time + 1 of any level in the block (0 = never)
    ask_blk: np.ndarray
    cum_bid: np.ndarray  # f8 (2, D+1): running sums of prof_bid[d] and d·prof_bid[d] over d = 1..D (depth sums)
    cum_ask: np.ndarray
    cur_t: np.ndarray  # int64 (2,): time of the bid (0) and ask (1) walk cursors (levels before it are empty) ...
    cur_a: np.ndarray  # int64 (2,): ... the absolute tick it stopped at ...
    cur_fair: np.ndarray  # f8 (2,): ... and the fair price it was set at
    share: np.ndarray  # f8 (1,): withdrawal: the makers' share of their normal depth now
    gap: np.ndarray  # f8 (1,): withdrawal: makers quote no nearer than this many ticks to the fair price
    vol: np.ndarray  # f8 (1,): EMA of the index's absolute log return per √s
    flow: np.ndarray  # f8 (1,): EMA of signed taker flow (USD/s, buys positive)
    flow_acc: np.ndarray  # f8 (1,): signed taker notional since the last oracle tick
    prev: np.ndarray  # f8 (1,): the index at the last oracle tick


class Trigger(NamedTuple):
    """What a mark move liquidates: sorted ids per side plus heaps of re-indexed positions."""

    order_long: np.ndarray  # int64, long ids by (key desc, id asc) at the start
    order_short: np.ndarray
    ids_long: np.ndarray  # int64, the same ids in id order (ADL candidates, the funding rebuild)
    ids_short: np.ndarray
    heap_key: np.ndarray  # f8 (2, cap): row 0 longs, row 1 shorts
    heap_id: np.ndarray  # int64 (2, cap)
    heap_ver: np.ndarray  # int64 (2, cap)
    deferred: np.ndarray  # int64 (n,)
    win: np.ndarray  # int64 (n,), dYdX: the rows a block's liquidation orders go to, in the order they are sent
    wait: np.ndarray  # int64 (n,), dYdX: the triggered rows no window has taken yet, in id order (out of the index)
    held: np.ndarray  # int64 (2n + 64,): triggered rows of cross accounts, out of the index, for the account layer
    rank: np.ndarray  # int64 (n,), ADL queue
    rank_score: np.ndarray  # f8 (n,), scratch
    dd_t: np.ndarray  # int64 (w,), ring buffer of oracle-tick times ...
    dd_v: np.ndarray  # f8 (w,), ... and fund equities, decreasing (monotone queue for the rolling peak)
    stop_long: np.ndarray  # int64, long ids with a stop, by (stop desc, id asc)
    stop_short: np.ndarray  # int64, short ids with a stop, by (stop asc, id asc)
    pend_key: np.ndarray  # f8 (n,), heap of pending top-ups: key = −due time ...
    pend_id: np.ndarray  # int64 (n,)
    pend_ver: np.ndarray  # int64 (n,), unused (0)
    scr_i: np.ndarray  # int64 (4, max(n, 4096)), scratch: sorts in the event loop (ADL queue, index rebuild) ...
    scr_f: np.ndarray  # f8 (2, max(n, 4096)), ... which allocates nothing (sim._jit: no reference counting)
    counts: np.ndarray  # int64 (257,), scratch: the radix sort's digit counts
    band_head: np.ndarray  # int32 (2, B): the bands of cross rows, bucketed by key (sim.kernels.bands): each
    #                        bucket's first entry (-1: empty), row 0 longs, row 1 shorts ...
    band_ent: np.ndarray  # int32 (C, 3): ... entries (row, its version when indexed, the bucket's next entry)


class CrossAccounts(NamedTuple):
    """Cross accounts whose rows sit in several markets (sim.kernels.cross). Rows are *global*: the markets'
    position tables laid end to end, market ``m``'s row ``i`` being global row ``lo[m] + i``."""

    row_acct: np.ndarray  # int64 (N,): the account of each global row (−1: an isolated row)
    row_mkt: np.ndarray  # int16 (N,): its market
    ptr: np.ndarray  # int64 (A + 1,): account a's rows are rows[ptr[a]:ptr[a + 1]] ...
    rows: np.ndarray  # int64 (R,): ... global row ids
    m0: np.ndarray  # f8 (M,): each market's mark at the start (enums.WHY_*: losses since the start)
    state: np.ndarray  # int8 (A,), mutated: 0 healthy, 1 being liquidated
    stamp: np.ndarray  # int64 (A,), mutated: the last round that looked at the account
    forced_at: np.ndarray  # int64 (N,), mutated: the oracle tick of the row's last forced liquidation (at most one)
    why: np.ndarray  # int8 (N,), mutated: enums.WHY_* of the row's first forced liquidation (0: none)
    liq: np.ndarray  # int64 (A,), mutated: the accounts looked at every round: being liquidated, or with a row out
    #                  of its index (a partial step's cooldown) ...
    liq_prev: np.ndarray  # int64 (A,), scratch: ... as the round found them
    forced: np.ndarray  # int64 (N,), mutated: rows forced in the last round (liquidated, not handed over)
    eq: np.ndarray  # f8 (R,), scratch: the equity of each row of the account being looked at (from index 0) ...
    mm: np.ndarray  # f8 (R,), scratch: ... maintenance margin ...
    wt: np.ndarray  # f8 (R,), scratch: ... and weight (its share of slack or deficit)
    n: np.ndarray  # int64 (8,), mutated: 0 round, 1 accounts in liq, 2 rows in forced, 3 rows re-priced in the
    #                last round, 4 safe re-allocations, 5 accounts that entered liquidation, 6 rows forced
    lo: np.ndarray  # int64 (M + 1,): market m's rows are global rows lo[m]..lo[m + 1] − 1
    heap_key: np.ndarray  # f8 (H,): every market's re-index heaps end to end (Trigger.heap_* are views of these:
    heap_id: np.ndarray  # int64 (H,)  the layer puts a re-priced row back at once, while its fields are at hand) ...
    heap_ver: np.ndarray  # int64 (H,)
    heap_at: np.ndarray  # int64 (M + 1,): ... market m's longs' heap, then its shorts', in [heap_at[m], heap_at[m + 1])
    heap_n: np.ndarray  # int64 (M, 2), mutated: each heap's entries while the layer runs (WORK.heap_n otherwise)
    band_head: np.ndarray  # int32 (M, 2, B): every market's band index of cross rows (Trigger.band_* are views of
    band_ent: np.ndarray  # int32 (E, 3)       these; sim.kernels.bands) ...
    band_at: np.ndarray  # int64 (M + 1,): ... market m's entries in [band_at[m], band_at[m + 1]) ...
    band_n: np.ndarray  # int64 (M,), mutated: ... entries written, while the layer runs (WORK.band_n otherwise) ...
    band_top: np.ndarray  # int64 (M, 2), mutated: ... highest bucket that may hold one (WORK.band_top otherwise) ...
    band_lo: np.ndarray  # f8 (M, 2): ... and the buckets' keys (WORK.band_lo, band_inv)
    band_inv: np.ndarray  # f8 (M, 2)


class Collateral(NamedTuple):
    """Collateral held by cross accounts (sim.kernels.cross): each holding is an account row of its own, ``k``
    effective units of an asset (its amount times the venue's collateral ratio) and a cash ``w``, so its equity at
    the asset's price ``p`` is ``w + k·p`` and it has no maintenance margin. It starts with ``w = 0`` (the asset
    deposited); sharing an account's slack out moves cash between it and the account's positions (``w < 0``: cash
    borrowed against the asset), and its band, the price at which its equity is used up, ``−w/k``, sits in a heap
    per asset. An asset's price follows a path of its own (a depeg is a path), or a market's index (BTC held beside
    a BTC instrument: the venue values it at its index, which the flows move)."""

    ptr: np.ndarray  # int64 (A + 1,): account a's holdings are [ptr[a], ptr[a + 1])
    asset: np.ndarray  # int64 (H,)
    k: np.ndarray  # f8 (H,): effective units
    w: np.ndarray  # f8 (H,), mutated: cash
    ver: np.ndarray  # int64 (H,), mutated: bumped whenever w changes
    crossed: np.ndarray  # int64 (H,), mutated: the last round in which its band was crossed
    eq: np.ndarray  # f8 (H,), scratch: equity at the round's price ...
    wt: np.ndarray  # f8 (H,), scratch: ... and weight
    look: np.ndarray  # int64 (H,), scratch: accounts whose holdings' bands were crossed this round
    path_t: np.ndarray  # int64 (C, L): each asset's price path, ms ...
    path_p: np.ndarray  # f8 (C, L): ... USD (linear between points; padded) ...
    path_n: np.ndarray  # int64 (C,): ... and its length
    price: np.ndarray  # f8 (C,), mutated: each asset's price at the round
    start: np.ndarray  # f8 (C,): at t = 0
    weight: np.ndarray  # f8 (C,): its volatility scale (as a market's weight; sim.multi.slack_weights)
    market: np.ndarray  # int64 (C,): the market whose index prices it at each round; −1: its path
    heap_key: np.ndarray  # f8 (C, H + 64): bands, a max-heap per asset ...
    heap_id: np.ndarray  # int64 (C, H + 64)
    heap_ver: np.ndarray  # int64 (C, H + 64)
    heap_n: np.ndarray  # int64 (C,)


class Events(NamedTuple):
    t: np.ndarray  # int64 (8,)
    prio: np.ndarray
    seq: np.ndarray
    kind: np.ndarray


class Fills(NamedTuple):
    """Fill columns, (capacity,). Packed into sim.dtypes.FILL_DTYPE after the run."""

    t: np.ndarray  # int64 ms
    kind: np.ndarray  # int8
    account: np.ndarray  # int64
    side: np.ndarray  # int8
    qty: np.ndarray
    price: np.ndarray
    bp: np.ndarray
    fund_delta: np.ndarray
    fee: np.ndarray
    mark: np.ndarray
    equity: np.ndarray
    cause: np.ndarray  # int8, ADL fills: why their pool went to ADL (enums.CAUSE_*); 0 otherwise


class MarketState(NamedTuple):
    """Read-only inputs of the market."""

    path_t: np.ndarray  # int64 ms
    path_p: np.ndarray  # f8 USD
    noise_t: np.ndarray  # int64 ms, sorted
    noise_side: np.ndarray  # int8
    noise_qty: np.ndarray  # f8 base units
    basis: np.ndarray  # f8 (basis_window,), ring buffer (mutated)
    arr_t: np.ndarray  # int64 ms (m,), sorted: arrival candidates; candidate k opens row arr_row0 + k if accepted
    arr_u: np.ndarray  # f8 (m,), uniform [0, 1): accepted when below the candidate's acceptance probability
    arr_lev: np.ndarray  # f8 (m,), leverage of the arriving position (its margin is the row's reserve)
    dip_t: np.ndarray  # int64 (w,), ring buffer of oracle-tick times ... (mutated)
    dip_v: np.ndarray  # f8 (w,), ... and marks, decreasing (monotone queue for the marks' rolling peak)


class Params(NamedTuple):
    """Kernel scalars (docs/engine.md §10). Times in ms, rates as fractions."""

    duration: int
    oracle_interval: int
    sample_interval: int
    unwind_interval: int
    index_coupling: float
    funding_rate: float
    funding_interval: int
    time_to_funding: int
    refill_half_life: float
    clearance: float
    band: float
    taker_fee: float
    noise_band: float
    fund_initial: float
    max_inventory: float
    unwind_fraction: float
    unwind_band: float
    adl_enabled: bool
    start_price: float
    tick: float
    lot: float
    grid_lo: int
    n_levels: int
    # venue rules (sim.venues; codes in sim.enums)
    partial_rule: int
    partial_min_tier: int  # 0-based tier index from which partial liquidation applies
    partial_tiers_down: int  # TO_TIER: 0 = down to the first tier, k = k tiers down
    partial_cooldown: int  # ms
    slice_threshold: float  # USD
    slice_fraction: float
    settle_fill: bool
    backstop_fraction: float
    mark_method: int
    ema_slow: float  # ms
    ema_fast: float  # ms
    adl_drawdown: float  # fraction, 0 = off
    adl_window: int  # ms
    adl_ranking: int
    adl_price: int
    adl_policy: int
    adl_trigger: int  # enums.ADL_TRIGGER_*
    adl_seed: int  # random ranking: the first state of adl.rng, in [1, 2^31 − 2] (a draw of the "adl" stream)
    # settlement at the fillable price (dYdX, docs/engine.md §7.11)
    settle_fillable: bool
    fill_ba: float  # bankruptcy adjustment BA
    fill_smmr: float  # spread to maintenance margin ratio SMMR
    fee_cap: bool  # the fund takes at most `clearance` of a fill's notional from its surplus; the trader keeps the rest
    block_ticks: int  # oracle ticks a position left open waits for its next liquidation order (one block)
    block_pos_frac: float  # the most of a position's notional one order closes ...
    block_pos_min: float  # USD: ... but at least this much
    block_acct: float  # USD: the most notional liquidated per account per block (inf: none)
    block_fund_loss: float  # USD: the most the fund pays for one account's fills per block (inf: none)
    block_liquidations: int  # the most liquidation orders per block, a random window of the triggered rows (0: none)
    block_deleveragings: int  # the most deleveragings per block (0: none)
    deleverage_holders: int  # the most holders one deleveraging walks through (0: none)
    # liquidity shock (docs/engine.md §5)
    depth_shock_factor: float
    depth_shock_start: int  # ms
    depth_shock_end: int  # ms
    # liquidity withdrawal (docs/engine.md §5)
    wd_on: bool
    wd_vol_half: float  # index volatility (absolute log return per √s) at which depth halves
    wd_flow_half: float  # one-sided taker flow (USD/s) at which depth halves
    wd_window: float  # ms, time constant of both averages
    wd_floor: float  # the least share of depth makers keep
    wd_recovery: float  # ms, half-life of their return
    wd_spread: float  # fraction of the fair price inside which makers quote nothing at full withdrawal
    # trader behaviour (docs/engine.md §9)
    stops_on: bool  # some row has a stop
    stop_on_mark: bool  # stops trigger on the mark (else on the last price)
    tu_on: bool  # some row has a top-up reserve
    tu_target: float  # a top-up brings MM / equity at the mark down to this ratio
    # funding (docs/engine.md §9)
    funding_on: bool
    funding_fixed: float  # rate per interval used as is; NaN = the venue's premium formula
    funding_interest: float  # interest rate per 8 h
    funding_clamp: float  # |interest − premium| clamp
    funding_cap: float  # |rate per interval| cap
    funding_scale: float  # interval / 8 h: the share of the 8-hour rate paid per interval
    funding_at_index: bool  # payments valued at the index (oracle) rather than the mark
    funding_linear: bool  # premium samples weighted 1, 2, 3, ... (Binance) rather than equally
    # arrivals (docs/engine.md §9, docs/model.md §5.4)
    arr_on: bool  # some arrival candidate exists
    arr_row0: int  # row of the first arrival candidate
    arr_dip_mult: float  # long arrivals' rate at a drawdown of arr_dip_dd or more, × their calm rate (≥ 1)
    arr_dip_dd: float  # fraction: the drawdown from the mark's rolling peak at which the multiple is reached
    arr_dip_window: int  # ms, the rolling peak's window


N_SERIES_COLS = 12


def allocate_fills(capacity):
    """Empty fill columns of the given capacity."""
    return Fills(
        np.zeros(capacity, np.int64),
        np.zeros(capacity, np.int8),
        np.zeros(capacity, np.int64),
        np.zeros(capacity, np.int8),
        *(np.zeros(capacity) for _ in range(7)),
        np.zeros(capacity, np.int8),
    )


def grow_fills(fills, capacity):
    """Copy ``fills`` into new columns of a larger capacity."""
    new = allocate_fills(capacity)
    for old_col, new_col in zip(fills, new):
        new_col[: old_col.size] = old_col
    return new


class SpotState(NamedTuple):
    """The spot venues whose prices make the index (docs/model.md §1.6): one entry per venue, ``(k,)``, unless said.

    A venue's book is continuous: within a relative distance ``x`` of its centre it holds ``depth · share ·
    (x / 1%)^shape`` USD per side. A trade consumes it and moves the mid; a share of the move is permanent (the
    centre follows), the rest decays as consumed depth refills. Its own group of state: the spot kernels write
    nothing else but the perp legs of the arbitrageurs and of a flow shock, through the perp book's kernels."""

    mid: np.ndarray  # f8, mutated: the venue's price
    center: np.ndarray  # f8, mutated: where its makers' quotes are centred (the mid once the transient has decayed)
    depth: np.ndarray  # f8, USD per side within 1% of the centre, normal times (read-only)
    weight: np.ndarray  # f8, the venue's weight in the index (read-only)
    out_start: np.ndarray  # int64 ms: an outage (no trading, a stale price) from here ...
    out_end: np.ndarray  # int64 ms: ... to here (equal: none)
    share: np.ndarray  # f8, mutated: makers' share of normal depth (liquidity withdrawal)
    vol: np.ndarray  # f8, mutated: EMA of the mid's absolute log return per √s
    flow: np.ndarray  # f8, mutated: EMA of signed taker flow, USD/s (buys positive)
    flow_acc: np.ndarray  # f8, mutated: signed taker notional since the last oracle tick
    prev: np.ndarray  # f8, mutated: the mid at the last oracle tick
    low: np.ndarray  # f8, mutated: the lowest mid of the run
    high: np.ndarray  # f8, mutated: the highest
    base: np.ndarray  # f8 (6, k), mutated: base units held per participant (enums.SPOT_*) and venue
    cash: np.ndarray  # f8 (6, k), mutated: cash per participant and venue (USD)
    volume: np.ndarray  # f8 (6, k), mutated: USD traded per participant and venue
    hist: np.ndarray  # f8 (2, lag + 1), mutated: ring of the perp makers' inventory (row 0) and the basis (row 1)
    perp_q: np.ndarray  # f8 (2,), mutated: perp position of the arbitrageurs (0) and of the flow shock (1)
    perp_cash: np.ndarray  # f8 (2,), mutated: their perp cash (fees paid included)
    ticks: np.ndarray  # int64 (1,), mutated: oracle ticks seen
    series: np.ndarray  # f8 (n_samples, k), mutated: the mids at every sample
    scr_px: np.ndarray  # f8 (k,), scratch: the usable constituents' prices (the index) ...
    scr_wt: np.ndarray  # f8 (k,), ... their weights ...
    scr_order: np.ndarray  # int64 (k,), ... and their order by price


class SpotParams(NamedTuple):
    """Scalars of the spot venues and of the traders between them and the perp (docs/model.md §1.6)."""

    on: bool  # the index is formed by spot venues (prices.model = endogenous)
    flow_on: bool  # a flow shock sends orders
    method: int  # enums.INDEX_*
    outlier: float  # weighted mean: a constituent this far (fraction) from the median gets weight 0
    stale: int  # ms: a constituent whose price is older than this leaves the index
    shape: float  # cumulative depth ∝ distance^shape (1: even depth; 2: depth growing with distance)
    resilience: float  # ms: half-life of consumed depth
    permanent: float  # share of a trade's move its makers keep (the centre follows)
    informed: float  # the share of the gap to the fundamental value informed traders close per oracle tick
    venue_arb: float  # the share of each venue's gap to the others' depth-weighted price closed per oracle tick
    hedge_share: float  # share of the perp makers' inventory beyond hedge_free they hedge on spot
    hedge_free: float  # USD of inventory (at the index) the makers carry unhedged
    hedge_lag: int  # oracle ticks before they act on an inventory change
    hedge_cap: float  # USD/s they can trade on spot
    skew: float  # fraction of the index the perp makers lower their quotes per USD of unhedged long inventory
    home_share: float  # share of the hedgers' and arbitrageurs' spot orders sent to the home venue (the set's first)
    arb_enter: float  # |basis| (fraction of the index) at which arbitrageurs open
    arb_exit: float  # |basis| under which they close
    arb_capital: float  # USD: the most perp notional they hold
    arb_rate: float  # USD/s they trade per leg
    arb_lag: int  # oracle ticks before they act on the basis
    wd_on: bool  # spot makers withdraw (prices.withdrawal), by the perp's rule and parameters
    wd_flow_share: float  # spot withdrawal: flow (USD/s) that halves depth, × the venue's depth
    flow_rate: float  # flow shock: signed USD per ms (negative: selling)
    flow_start: int  # ms
    flow_end: int  # ms
    flow_perp: float  # share of the flow sent to the perp; the rest goes to the spot venues
