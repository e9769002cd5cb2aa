"""Arrivals (docs/engine.md §9, docs/model.md §5.4): a candidate's time has come; it may open a position.

A long candidate opens with probability ``(1 + (M − 1)·min(1, dd/D)) / M`` (its pre-drawn uniform below it), where
``dd`` is the mark's drawdown from its rolling peak at the last oracle tick: thinning of a Poisson stream drawn at
the highest rate, so the rate of long arrivals rises as the market falls and every draw stays fixed. A short
candidate always opens. An accepted candidate sends a market order for ``margin × leverage / index`` (whole lots, at
least one) through the book, no worse than ``noise_band`` from the index; what fills is its position, at the
order's VWAP, with the margin it held in cash as its wallet less the taker fee. It then enters the trigger index
through the re-index heap, O(log n), so a price move still costs O(positions crossed).
"""

import numpy as np

from sim import enums as E
from sim._jit import jit
from sim.kernels.book import walk_nb
from sim.kernels.liquidation import maker_trade_nb, record_nb, reindex_nb, set_last_nb


@jit(inline="always")
def arrival_accept_nb(px, arv, p, side, u):
    """Whether a candidate of ``side`` with uniform draw ``u`` opens now (see the module docstring)."""
    if side < 0 or p.arr_dip_mult <= 1.0:
        return True
    peak = arv.dip_peak
    dd = max(0.0, 1.0 - px.mark / peak) if peak > 0.0 else 0.0
    return u < (1.0 + (p.arr_dip_mult - 1.0) * min(1.0, dd / p.arr_dip_dd)) / p.arr_dip_mult


@jit
def arrival_nb(t, pos, tiers, book, trig, mk, fl, px, acc, work, clk, tot, arv, p):
    """The next arrival candidate: open its row if it is accepted and its order fills (one ``ARRIVAL`` record).

    Mutates the row's entry, size, wallet, reserve and status, the book, the maker's and the fee account's cash,
    the open interest and the trigger heap. An order that fills nothing leaves the row flat and its cash held."""
    k = arv.next
    arv.next = k + 1
    i = p.arr_row0 + k
    s = np.int64(pos.side[i])  # as every other order's side: walk_nb is compiled for one signature
    if not arrival_accept_nb(px, arv, p, s, mk.arr_u[k]):
        return
    margin = pos.reserve[i]
    index = px.quote  # the book's makers quote around it
    qty = max(np.rint(margin * mk.arr_lev[k] / index / p.lot), 1.0) * p.lot
    filled, notional, last = walk_nb(book, s, qty, index * (1.0 + s * p.noise_band), index, t, p)
    if filled <= 0.0:
        return
    price = notional / filled
    maker_trade_nb(acc, -s * filled, price)
    fee = p.taker_fee * filled * price
    pos.entry[i] = price
    pos.size[i] = filled
    pos.wallet[i] = margin - fee
    pos.reserve[i] = 0.0
    pos.status[i] = E.OPEN
    if s > 0:
        px.oi_long += filled
    else:
        px.oi_short += filled
    acc.fee_cash += fee
    tot.arrival_usd += filled * price
    tot.arrivals += 1
    set_last_nb(px, last)
    record_nb(fl, clk, t, E.ARRIVAL, i, s, filled, price, np.nan, 0.0, fee, px.mark, margin)
    reindex_nb(pos, trig, work, i, tiers)
