"""Liquidation heatmaps: where liquidations *could* happen before a shock, and where they *did*.

Two views of the same question, as plain arrays (numpy only; :mod:`sim.report.plots` draws them):

- :func:`predictive_heatmap` reads the starting positions (``ACCOUNT_DTYPE``): the notional each
  price level would force-sell if the mark reached it, split into longs (levels below the start
  price) and shorts (above it). It is the picture a trader sees on a "liquidation map" before the
  shock. It is computed from the *starting* positions only: during a cascade, partial liquidations,
  ADL and fund changes move some liquidation prices, so the run can liquidate more or less at a
  level than the map says.
- :func:`historical_heatmap` reads the tape (``FILL_DTYPE``): liquidated notional by fill time and
  fill price, with the liquidated-side rule of :mod:`sim.metrics` (``LIQUIDATION``, ``PARTIAL``,
  ``TAKEOVER`` and ``ADL`` fills; an ADL fill counts for the bankrupt side).

Price bins are regular in price, ``bin_pct`` percent of the start price wide, and anchored on the
start price: ``start + k * width`` is an edge for every integer ``k``, so the two maps of one run
share their grid and the start price is never inside a bin. Bins are half-open, ``[lo, hi)``: a
price exactly on an edge belongs to the bin above it. Time bins are ``[k * bin_s, (k + 1) * bin_s)``
seconds from the start of the run, as in :func:`sim.metrics.liquidation_bins`. Money is USD.
"""

import math
from typing import NamedTuple

import numpy as np

from sim import metrics
from sim.enums import TRADER


class PredictiveHeatmap(NamedTuple):
    """Liquidatable notional by price level at the start of a run (see :func:`predictive_heatmap`)."""

    edges: np.ndarray  # (n + 1,) USD, price bin edges, increasing
    long_usd: np.ndarray  # (n,) USD, |position_start| x liquidation_price_start of the longs in each bin
    short_usd: np.ndarray  # (n,) USD, the same for the shorts
    long_count: np.ndarray  # (n,) int64, number of long positions in each bin
    short_count: np.ndarray  # (n,) int64, number of short positions in each bin
    start_price: float  # USD, the anchor of the grid


class HistoricalHeatmap(NamedTuple):
    """Liquidated notional by time and price over a run (see :func:`historical_heatmap`)."""

    t_edges: np.ndarray  # (n_t + 1,) s, time bin edges from 0
    price_edges: np.ndarray  # (n_p + 1,) USD, price bin edges, increasing
    long_usd: np.ndarray  # (n_t, n_p) USD, qty x price of the fills that liquidated longs
    short_usd: np.ndarray  # (n_t, n_p) USD, the same for shorts
    start_price: float  # USD, the anchor of the price grid


def _bin_width(start_price, bin_pct):
    if not (start_price > 0 and math.isfinite(start_price)):
        raise ValueError(f"start_price must be a positive number, got {start_price!r}")
    if not (bin_pct > 0 and math.isfinite(bin_pct)):
        raise ValueError(f"bin_pct must be positive, got {bin_pct!r}")
    return start_price * bin_pct / 100.0


def price_edges(start_price, bin_pct, prices=None, range_pct=None):
    """Bin edges (USD) of width ``bin_pct`` % of ``start_price``, with ``start_price`` on an edge.

    With ``range_pct`` the edges run from ``range_pct`` % below the start price to as far above it
    (rounded out to whole bins); otherwise they span ``prices`` (every price in ``[edges[0],
    edges[-1])``). Without prices the result is ``[start_price]``: no bins.
    """
    width = _bin_width(start_price, bin_pct)
    if range_pct is not None:
        if not (range_pct > 0 and math.isfinite(range_pct)):
            raise ValueError(f"range_pct must be positive, got {range_pct!r}")
        n = math.ceil(range_pct / bin_pct - 1e-9)
        return start_price + np.arange(-n, n + 1) * width
    prices = np.asarray([] if prices is None else prices, dtype=float)
    if len(prices) == 0:
        return np.array([float(start_price)])
    lo = math.floor((prices.min() - start_price) / width)
    hi = math.floor((prices.max() - start_price) / width) + 1
    edges = start_price + np.arange(lo, hi + 1) * width
    # start + k * width rounds: make sure the extremes really sit inside [edges[0], edges[-1])
    if prices.min() < edges[0]:
        edges = np.concatenate(([edges[0] - width], edges))
    if prices.max() >= edges[-1]:
        edges = np.concatenate((edges, [edges[-1] + width]))
    return edges


def _bin_of(edges, prices):
    """Bin index of each price (``[lo, hi)`` bins; -1 or ``len(edges) - 1`` outside the edges)."""
    return np.searchsorted(edges, prices, side="right") - 1


def predictive_heatmap(accounts, start_price, bin_pct=0.25, range_pct=None):
    """Liquidatable notional (USD) by price level, longs and shorts, from the starting positions.

    Parameters
    ----------
    accounts : ndarray of ACCOUNT_DTYPE
        Only trader rows (``kind == TRADER``) that held a position at the start and have a positive,
        finite ``liquidation_price_start`` count. The residual counterparty (one synthetic account
        standing in for many), makers, noise, fund and fee rows are left out, and so are positions
        that can never be liquidated (NaN or 0 liquidation price, e.g. a 1x long).
    start_price : float
        USD, the price the run starts at (``scenario.market.start_price_usd``): the grid's anchor.
    bin_pct : float
        Bin width in percent of ``start_price``.
    range_pct : float, optional
        Keep the bins within ``range_pct`` % either side of the start price; positions liquidated
        outside them are left out. By default the bins span every counted liquidation price.

    Returns
    -------
    PredictiveHeatmap
        ``long_usd[k]`` is ``sum |position_start| * liquidation_price_start`` over the longs whose
        liquidation price lies in ``[edges[k], edges[k + 1])``: what would be force-sold if the mark
        reached that level, before the shock moved anything; ``short_usd`` likewise. The map is
        computed from the starting positions: a cascade moves the liquidation prices of accounts it
        liquidates in part or deleverages, which this picture does not follow.
    """
    rows = accounts[accounts["kind"] == TRADER]
    lp = rows["liquidation_price_start"].astype(float)
    q = rows["position_start"].astype(float)
    keep = np.isfinite(lp) & (lp > 0) & np.isfinite(q) & (q != 0)
    lp, q = lp[keep], q[keep]
    edges = price_edges(float(start_price), bin_pct, lp, range_pct)
    n = len(edges) - 1
    k = _bin_of(edges, lp)
    inside = (k >= 0) & (k < n)
    k, lp, q = k[inside], lp[inside], q[inside]
    notional = np.abs(q) * lp
    long, short = q > 0, q < 0
    return PredictiveHeatmap(
        edges=edges,
        long_usd=np.bincount(k[long], weights=notional[long], minlength=n).astype(float),
        short_usd=np.bincount(k[short], weights=notional[short], minlength=n).astype(float),
        long_count=np.bincount(k[long], minlength=n).astype(np.int64),
        short_count=np.bincount(k[short], minlength=n).astype(np.int64),
        start_price=float(start_price),
    )


def liquidatable_within(heatmap, pct):
    """``(long_usd, short_usd)`` of a :class:`PredictiveHeatmap` in the bins that lie wholly within
    ``pct`` % of its start price: what a move of ``-pct`` % (longs) or ``+pct`` % (shorts) of the
    mark would liquidate, by the starting positions."""
    p0 = heatmap.start_price
    lo, hi = heatmap.edges[:-1], heatmap.edges[1:]
    tol = 1e-9 * p0  # bins whose edge is the limit up to rounding count as inside
    inside = (lo >= p0 * (1 - pct / 100.0) - tol) & (hi <= p0 * (1 + pct / 100.0) + tol)
    return float(heatmap.long_usd[inside].sum()), float(heatmap.short_usd[inside].sum())


def historical_heatmap(fills, start_price, bin_s=5.0, bin_pct=0.25):
    """Liquidated notional (USD) by fill time and fill price, longs and shorts.

    Parameters
    ----------
    fills : ndarray of FILL_DTYPE
        The tape; only fills with a positive :func:`sim.metrics.liquidated_notional` count
        (``qty * price`` of ``LIQUIDATION``, ``PARTIAL``, ``TAKEOVER`` and ``ADL`` fills), on the side
        :func:`sim.metrics.liquidated_side` gives them.
    start_price : float
        USD, the anchor of the price grid (``scenario.market.start_price_usd``).
    bin_s : float
        Time bin width in seconds; bins run from 0 to the bin of the last liquidation.
    bin_pct : float
        Price bin width in percent of ``start_price``; the bins span the liquidation fills' prices.

    Returns
    -------
    HistoricalHeatmap
        ``long_usd[i, j]`` is the notional of the long liquidations filled in time bin ``i`` at a
        price in bin ``j``; summed over prices it equals ``sim.metrics.liquidation_bins(fills,
        bin_s)``, and in all it equals the run's liquidated notional per side. A run without
        liquidations gives ``(0, 0)`` arrays, ``t_edges == [0.0]`` and ``price_edges ==
        [start_price]``.
    """
    if not (bin_s > 0 and math.isfinite(bin_s)):
        raise ValueError(f"bin_s must be positive, got {bin_s!r}")
    notional = metrics.liquidated_notional(fills)
    keep = notional > 0
    side = metrics.liquidated_side(fills)[keep]
    notional, t, price = notional[keep], fills["t"][keep], fills["price"][keep]
    p_edges = price_edges(float(start_price), bin_pct, price)
    n_p = len(p_edges) - 1
    # the same time bins as metrics.liquidation_bins, so the two agree bin by bin
    t_bin = np.floor(t / bin_s).astype(np.int64)
    n_t = int(t_bin.max()) + 1 if len(t_bin) else 0
    cell = t_bin * n_p + _bin_of(p_edges, price)
    size = n_t * n_p

    def grid(mask):
        return np.bincount(cell[mask], weights=notional[mask], minlength=size).astype(float).reshape(n_t, n_p)

    return HistoricalHeatmap(
        t_edges=np.arange(n_t + 1, dtype=float) * bin_s,
        price_edges=p_edges,
        long_usd=grid(side > 0),
        short_usd=grid(side < 0),
        start_price=float(start_price),
    )
