"""Headline numbers of a run, computed from its records (pure functions, numpy only).

Inputs are the record arrays of :mod:`sim.dtypes` (``FILL_DTYPE``, ``SERIES_DTYPE``,
``ACCOUNT_DTYPE``) plus a ``meta`` dict of run-level scalars written by the engine. Times are
seconds from the start of the run, prices and money are USD, sizes are base units.

The *liquidated side* of a liquidation-kind fill is the side of the position that was closed:

- ``LIQUIDATION``, ``PARTIAL``, ``TAKEOVER``: ``-side`` (the order that closes a long sells);
- ``ADL``: ``+side`` (the record sits on the ADL'd counterparty, whose order side equals the side
  of the bankrupt position).

Liquidated notional is ``qty * price`` of those fills. "Long" always means liquidated longs.

Who paid for auto-deleveraging
------------------------------
An ``ADL`` fill sits on the ADL'd account (the winner on the other side): its ``side`` is the side
of the bankrupt position it absorbs, so the ADL'd position itself has side ``-side``. With ``y`` the
quantity closed, ``P`` the ADL price, ``B`` the bankruptcy price of the bankrupt quantity it took
over and ``m`` the mark at that moment:

- *haircut* ``side * y * (P - m)``: the equity at the mark the ADL'd account loses by being closed
  at ``P`` rather than at the mark (positive = lost; 0 when ADL runs at the mark);
- *deficit covered* ``side * y * (B - m)``: the negative equity at the mark of the bankrupt quantity;
- the two differ by the fund's part, ``fund_delta = side * y * (P - B)``.

:func:`adl_table` aggregates these per ADL'd account and :func:`gini` measures how unevenly the
ADL'd accounts shared the cost, so ADL policies can be compared on the same cascade.
"""

import math

import numpy as np

from sim.enums import ADL, ADL_CAUSE_NAMES, COUNTERPARTY, LIQUIDATED, LIQUIDATION, PARTIAL, TAKEOVER, TRADER
from sim.feedback import feedback_section

#: Fill kinds that close (part of) a position that could not carry its margin.
LIQUIDATION_KINDS = (LIQUIDATION, PARTIAL, TAKEOVER, ADL)

#: Default gap (s) between non-empty 1 s bins that starts a new liquidation wave.
DEFAULT_WAVE_GAP_S = 10.0

#: Width (s) of the rolling window behind ``peak_liquidation_minute_usd``.
PEAK_WINDOW_S = 60.0

#: Rows of :func:`wave_table`.
WAVE_DTYPE = np.dtype(
    [
        ("start_s", "f8"),  # seconds, time of the wave's first liquidation fill
        ("end_s", "f8"),  # seconds, time of its last liquidation fill
        ("notional_usd", "f8"),  # USD, liquidated notional (qty x price) in the wave
        ("count", "i8"),  # number of liquidation-kind fills in the wave
    ]
)

#: Rows of :func:`adl_table`: one per ADL'd account, sorted by account.
ADL_DTYPE = np.dtype(
    [
        ("account", "i8"),  # account row (ACCOUNT_DTYPE.id)
        ("kind", "i1"),  # sim.enums account kind: TRADER, or COUNTERPARTY (the synthetic residual holder)
        ("position_side", "i1"),  # side of the ADL'd position (-side of its fills; 0 if they disagree)
        ("fills", "i8"),  # number of ADL fills on the account
        ("contracts", "f8"),  # base units closed by ADL
        ("notional_usd", "f8"),  # USD, sum of qty x mark
        ("haircut_usd", "f8"),  # USD, sum of the per-fill haircuts (equity at the mark lost)
        ("equity_before_usd", "f8"),  # USD, equity at the mark before its first ADL fill
        ("equity_share", "f8"),  # haircut_usd / equity_before_usd; NaN if that equity <= 0
        ("position_share", "f8"),  # contracts / |position_start|; NaN if it started flat
    ],
    align=True,
)

#: Keys :func:`summarize` reads from ``meta`` (``wave_gap_s`` and ``shock_start_s`` are optional).
REQUIRED_META = (
    "fund_initial",
    "fund_balance_end",
    "bad_debt_usd",
    "final_mark",
    "path_p",
    "start_price",
    "n_positions",
    "runtime_s",
)


# --------------------------------------------------------------------------------------------
# Per-fill helpers


def liquidation_mask(fills):
    """Boolean mask of the fills whose kind is a liquidation kind (LIQUIDATION, PARTIAL, TAKEOVER, ADL)."""
    return np.isin(fills["kind"], LIQUIDATION_KINDS)


def liquidated_side(fills):
    """Side (+1 long, -1 short) of the position each fill liquidated; 0 for other kinds (int8)."""
    side = fills["side"].astype(np.int8)
    out = np.zeros(len(fills), dtype=np.int8)
    adl = fills["kind"] == ADL
    closing = liquidation_mask(fills) & ~adl
    out[closing] = -side[closing]
    out[adl] = side[adl]
    return out


def liquidated_notional(fills):
    """Liquidated notional of each fill in USD (``qty * price``; 0 for non-liquidation kinds)."""
    notional = fills["qty"] * fills["price"]
    return np.where(liquidation_mask(fills), notional, 0.0)


def _binned_rows(fills, bin_s):
    """Bin index, liquidated side and notional (USD) of the fills with a positive liquidated notional."""
    if bin_s <= 0:
        raise ValueError(f"bin_s must be positive, got {bin_s!r}")
    notional = liquidated_notional(fills)
    keep = notional > 0
    bins = np.floor(fills["t"][keep] / bin_s).astype(np.int64)
    return bins, liquidated_side(fills)[keep], notional[keep], fills["t"][keep]


# --------------------------------------------------------------------------------------------
# Bins, waves, windows


def liquidation_bins(fills, bin_s=1.0):
    """Liquidated notional per time bin, split by liquidated side.

    Bins are ``[k*bin_s, (k+1)*bin_s)`` seconds from the start of the run, from 0 up to the bin of
    the last liquidation fill. Returns ``(t_edges, long_usd, short_usd)``: ``t_edges`` (s) has one
    more entry than the two USD arrays. Without liquidations the arrays are empty and
    ``t_edges == [0.0]``.
    """
    bins, side, notional, _ = _binned_rows(fills, bin_s)
    n = int(bins.max()) + 1 if len(bins) else 0
    long_usd = np.bincount(bins[side > 0], weights=notional[side > 0], minlength=n).astype(float)
    short_usd = np.bincount(bins[side < 0], weights=notional[side < 0], minlength=n).astype(float)
    t_edges = np.arange(n + 1, dtype=float) * bin_s
    return t_edges, long_usd, short_usd


def wave_table(fills, gap_s=DEFAULT_WAVE_GAP_S, bin_s=1.0):
    """Liquidation waves as a ``WAVE_DTYPE`` array, in time order.

    Liquidated notional is binned into ``bin_s``-second bins; a wave is a maximal run of non-empty
    bins (positive liquidated notional) in which consecutive non-empty bins start less than
    ``gap_s`` seconds apart. ``start_s``/``end_s`` (s) are the times of the wave's first and last
    liquidation fill, ``notional_usd`` (USD) its liquidated notional and ``count`` its fills.
    """
    bins, _, notional, t = _binned_rows(fills, bin_s)
    if len(bins) == 0:
        return np.zeros(0, dtype=WAVE_DTYPE)
    order = np.argsort(bins, kind="stable")
    bins, notional, t = bins[order], notional[order], t[order]
    occupied = np.unique(bins)
    new_wave = np.concatenate(([True], np.diff(occupied) * bin_s >= gap_s))
    wave_of_bin = np.cumsum(new_wave) - 1
    wave = wave_of_bin[np.searchsorted(occupied, bins)]
    n = int(wave[-1]) + 1
    out = np.zeros(n, dtype=WAVE_DTYPE)
    out["notional_usd"] = np.bincount(wave, weights=notional, minlength=n)
    out["count"] = np.bincount(wave, minlength=n)
    out["start_s"] = np.full(n, np.inf)
    out["end_s"] = np.full(n, -np.inf)
    np.minimum.at(out["start_s"], wave, t)
    np.maximum.at(out["end_s"], wave, t)
    return out


def peak_window_usd(fills, window_s=PEAK_WINDOW_S, bin_s=1.0):
    """Largest liquidated notional (USD) in any window of ``window_s`` seconds.

    The window rolls over ``bin_s`` bins (``round(window_s / bin_s)`` bins wide); 0 without
    liquidations.
    """
    _, long_usd, short_usd = liquidation_bins(fills, bin_s)
    total = long_usd + short_usd
    width = max(1, int(round(window_s / bin_s)))
    if len(total) == 0:
        return 0.0
    if len(total) <= width:
        return float(total.sum())
    windows = np.lib.stride_tricks.sliding_window_view(total, width)
    return float(windows.sum(axis=1).max())


# --------------------------------------------------------------------------------------------
# Prices and the fund


def fund_running_balance(fills, start):
    """Insurance-fund balance (USD) after each fill, in time order: ``start + cumsum(fund_delta)``."""
    order = np.argsort(fills["t"], kind="stable")
    return float(start) + np.cumsum(fills["fund_delta"][order])


def move_pct(prices, ref, direction=0):
    """Largest move of ``prices`` away from ``ref`` in percent, signed (negative for a fall).

    ``direction=-1`` gives the fall ``100*(min/ref - 1)``, ``+1`` the rise ``100*(max/ref - 1)``,
    ``0`` whichever has the larger magnitude (the fall on a tie). Non-finite prices are ignored;
    ``None`` when there is no finite price or ``ref`` is not positive.
    """
    p = np.asarray(prices, dtype=float)
    p = p[np.isfinite(p)]
    if len(p) == 0 or not (ref > 0):
        return None
    down = 100.0 * (p.min() / ref - 1.0)
    up = 100.0 * (p.max() / ref - 1.0)
    if direction < 0:
        return float(down)
    if direction > 0:
        return float(up)
    return float(up) if abs(up) > abs(down) else float(down)


def _finite_min(*arrays):
    """Smallest finite value over the arrays, or ``None``."""
    vals = np.concatenate([np.asarray(a, dtype=float).ravel() for a in arrays])
    vals = vals[np.isfinite(vals)]
    return float(vals.min()) if len(vals) else None


def _num(x):
    """Plain float for JSON: ``None`` for None, NaN and +-inf."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _ratio(a, b):
    """``a / b`` as a JSON number, ``None`` if either is None or ``b`` is 0."""
    if a is None or b is None or b == 0:
        return None
    return _num(a / b)


def _stat(func, values, *args):
    """``func(values, *args)`` as a JSON number; ``None`` for an empty array (and no warning)."""
    if len(values) == 0:
        return None
    return _num(func(values, *args))


# --------------------------------------------------------------------------------------------
# Who paid for auto-deleveraging


def adl_haircut(fills):
    """Haircut of each fill in USD: ``side * qty * (price - mark)`` for ADL fills, 0 otherwise.

    The equity at the mark the ADL'd account loses by being closed at the ADL price instead of the
    mark: positive = lost, 0 when ADL runs at the mark, negative when the ADL price is better than
    the mark for the ADL'd account (e.g. ADL at the previous mark after the mark moved against it).
    """
    side = fills["side"].astype(float)
    haircut = side * fills["qty"] * (fills["price"] - fills["mark"])
    return np.where(fills["kind"] == ADL, haircut, 0.0)


def adl_deficit(fills):
    """Deficit covered by each fill in USD: ``side * qty * (bankruptcy_price - mark)`` for ADL fills,
    0 otherwise.

    The negative equity at the mark of the bankrupt quantity the fill took over (negative when that
    quantity was still above water at the mark). It does not depend on the ADL price, so it is the
    same whether ADL runs at the bankruptcy price or at the mark; ``adl_haircut - adl_deficit`` is
    the fill's ``fund_delta``.
    """
    side = fills["side"].astype(float)
    deficit = side * fills["qty"] * (fills["bankruptcy_price"] - fills["mark"])
    return np.where(fills["kind"] == ADL, deficit, 0.0)


#: What an overshoot is when there is nothing to divide by: ADL that covered no deficit, or no ADL at all.
NO_DEFICIT = "no deficit"
NO_ADL = "no ADL"


def adl_profit_taken(fills, accounts):
    """Profit taken by each fill in USD: for ADL fills, the unrealised profit at the mark of the quantity closed,
    ``max(0, -side * qty * (mark - entry))`` with ``entry`` the ADL'd account's entry price (``-side`` is its
    position's side); 0 otherwise. A queue that closes a winner's whole position takes all of that profit out
    of the market (a haircut of 1 on it, in the framing of Chitra's ADL papers, docs/model.md §3.10); NaN where
    the account's entry price is unknown."""
    out = np.zeros(len(fills))
    adl = fills["kind"] == ADL
    if not np.any(adl):
        return out
    f = fills[adl]
    entry = np.full(len(f), np.nan) if accounts is None else _account_column(accounts, f["account"], "entry_price")
    out[adl] = np.maximum(0.0, -f["side"].astype(float) * f["qty"] * (f["mark"] - entry))
    return out


def overshoot(amount, deficit, count):
    """``amount / deficit`` as a JSON number; :data:`NO_DEFICIT` when ADL ran (``count > 0``) but covered no
    deficit, :data:`NO_ADL` when there was none: never None, so an ADL set off by something other than a
    deficit shows as such."""
    if count == 0:
        return NO_ADL
    if deficit is None or not deficit > 0:
        return NO_DEFICIT
    return _num(amount / deficit)


def _adl_cause_section(fills, accounts):
    """ADL by what set it off: ``deficit``, ``drawdown`` and ``capacity`` (see :func:`summarize`)."""
    adl = fills["kind"] == ADL
    unmatched = (fills["kind"] == TAKEOVER) & (fills["adl_cause"] > 0)
    taken = adl_profit_taken(fills, accounts)
    out = {}
    for code, name in enumerate(ADL_CAUSE_NAMES):
        if code == 0:
            continue
        sel = adl & (fills["adl_cause"] == code)
        f = fills[sel]
        count = int(len(f))
        notional = float(np.sum(f["qty"] * f["mark"]))
        deficit = float(np.maximum(0.0, np.sum(adl_deficit(f))))
        profit = _num(np.sum(taken[sel]))
        left = fills[unmatched & (fills["adl_cause"] == code)]
        out[name] = {
            "count": count,
            "notional_usd": _num(notional),
            "deficit_usd": _num(deficit),
            "profit_taken_usd": profit,
            "haircut_usd": _num(np.sum(adl_haircut(f))),
            "overshoot_notional": overshoot(notional, deficit, count),
            "overshoot_profit": overshoot(profit, deficit, count) if profit is not None or count == 0 else None,
            "no_counterparty_usd": _num(np.sum(left["qty"] * left["price"])),
        }
    return out


def adl_table(fills, accounts):
    """Who paid for ADL: one ``ADL_DTYPE`` row per ADL'd account, sorted by account.

    Parameters
    ----------
    fills : ndarray of FILL_DTYPE
        The tape (any kinds; only ``ADL`` fills are read).
    accounts : ndarray of ACCOUNT_DTYPE
        Rows looked up by ``id`` for ``position_start``; an account missing here gets a NaN
        ``position_share``.

    Returns
    -------
    ndarray of ADL_DTYPE
        ``position_side`` is ``-side`` of the account's ADL fills (0 if they disagree), ``fills``
        their number, ``contracts`` the base units closed, ``notional_usd`` the sum of qty x mark,
        ``haircut_usd`` the sum of :func:`adl_haircut`, ``equity_before_usd`` the ``equity`` of the
        account's earliest ADL fill (equity at the mark before ADL first touched it),
        ``equity_share = haircut_usd / equity_before_usd`` (NaN if that equity is not positive) and
        ``position_share = contracts / |position_start|`` (NaN if the account started flat).
    """
    adl = fills[fills["kind"] == ADL]
    if len(adl) == 0:
        return np.zeros(0, dtype=ADL_DTYPE)
    if not np.all(adl["t"][1:] >= adl["t"][:-1]):  # the engine's tape is in time order already
        adl = adl[np.argsort(adl["t"], kind="stable")]  # so the first row of an account is its earliest
    ids, first, row = np.unique(adl["account"], return_index=True, return_inverse=True)
    n = len(ids)
    side = adl["side"].astype(np.int64)
    lo = np.full(n, 1, dtype=np.int64)
    hi = np.full(n, -1, dtype=np.int64)
    np.minimum.at(lo, row, side)
    np.maximum.at(hi, row, side)

    out = np.zeros(n, dtype=ADL_DTYPE)
    out["account"] = ids
    out["kind"] = _account_column(accounts, ids, "kind", TRADER)
    out["position_side"] = np.where(lo == hi, -lo, 0)
    out["fills"] = np.bincount(row, minlength=n)
    out["contracts"] = np.bincount(row, weights=adl["qty"], minlength=n)
    out["notional_usd"] = np.bincount(row, weights=adl["qty"] * adl["mark"], minlength=n)
    out["haircut_usd"] = np.bincount(row, weights=adl_haircut(adl), minlength=n)
    equity = adl["equity"][first]
    out["equity_before_usd"] = equity
    start = np.abs(_account_column(accounts, ids))
    with np.errstate(over="ignore"):  # a sliver of equity or position gives inf, not a warning
        out["equity_share"] = np.divide(out["haircut_usd"], equity, out=np.full(n, np.nan), where=equity > 0)
        out["position_share"] = np.divide(out["contracts"], start, out=np.full(n, np.nan), where=start > 0)
    return out


def _row_is_id(ids_all):
    """Whether row k holds account k (the engine's tables: ids 0 .. n-1, ascending, so a lookup is an index)."""
    n = len(ids_all)
    return n > 0 and ids_all[0] == 0 and ids_all[-1] == n - 1 and bool(np.all(ids_all[1:] > ids_all[:-1]))


def _account_column(accounts, ids, column="position_start", missing=np.nan):
    """``column`` (default ``position_start``) of the accounts with these ids (``missing`` where there is
    no such row)."""
    out = np.full(len(ids), missing, dtype=np.float64 if column == "position_start" else accounts.dtype[column])
    if len(accounts) == 0:
        return out
    ids_all = accounts["id"]
    n = len(ids_all)
    ids = np.asarray(ids)
    if _row_is_id(ids_all):
        found = (ids >= 0) & (ids < n)
        rows = ids[found]
    else:
        order = np.argsort(ids_all, kind="stable")
        known = ids_all[order]
        at = np.minimum(np.searchsorted(known, ids), n - 1)
        found = known[at] == ids
        rows = order[at[found]]
    out[found] = accounts[column][rows]  # only the rows asked for, not a copy of the whole column
    return out


def gini(values):
    """Gini coefficient of a non-negative vector, or ``None`` if it is empty or sums to 0.

    ``G = mean absolute difference / (2 * mean)``, with the mean absolute difference taken over all
    ``n**2`` ordered pairs: ``G = sum_i sum_j |x_i - x_j| / (2 * n * sum x)``. This is the exact
    value for the ``n`` numbers given, with no small-sample correction. 0 means everyone paid the
    same; when one of ``n`` pays everything ``G = (n - 1) / n``, so ``G < 1`` always. It is computed
    in ``O(n log n)`` from the sorted values ``x_(1) <= ... <= x_(n)``, for which the pair sum is
    ``2 * sum_i (2i - n - 1) * x_(i)``.

    Raises ``ValueError`` for negative or non-finite values.
    """
    v = np.asarray(values, dtype=float).ravel()
    if not np.all(np.isfinite(v)):
        raise ValueError("gini: values must be finite")
    n = len(v)
    if n == 0:
        return None
    if v.min() < 0:
        raise ValueError(f"gini: values must be non-negative, got {v.min()!r}")
    # sorted: the zeros first, then the positive values sorted (the same array as a full sort, and much cheaper
    # when most accounts paid nothing, as over a whole side)
    positive = v[v > 0]
    x = np.zeros(n)
    x[n - positive.size :] = np.sort(positive)
    total = float(x.sum())
    if total == 0:
        return None
    weight = 2.0 * np.arange(1, n + 1) - n - 1
    g = float(np.sum(weight * x)) / (n * total)  # not np.dot: BLAS splits that sum by thread count
    return min(max(g, 0.0), (n - 1) / n)  # clip rounding; both bounds hold exactly in theory


def _gini_paid(values):
    """:func:`gini` of what each account paid (negative amounts count as 0); None if any is NaN."""
    if not np.all(np.isfinite(values)):
        return None
    return gini(np.maximum(values, 0.0))


def _side_ginis(table, accounts, columns):
    """Gini of each of ``columns`` over every position row that held an ADL'd side at the start, counting the
    rows ADL never touched as 0: how concentrated the cost was among all who could have paid (a queue
    that closes a few accounts scores near 1, pro rata lower). None without ADL."""
    if len(table) == 0 or accounts is None or len(accounts) == 0:
        return [None] * len(columns)
    sides = np.unique(table["position_side"][table["position_side"] != 0])
    in_pool = (accounts["kind"] == TRADER) & np.isin(np.sign(accounts["position_start"]), sides)
    ids_all = accounts["id"]
    if _row_is_id(ids_all):
        ids = np.flatnonzero(in_pool)
    else:
        ids = np.sort(ids_all[in_pool])
    if len(ids) == 0:
        return [None] * len(columns)
    at = np.minimum(np.searchsorted(ids, table["account"]), len(ids) - 1)
    hit = ids[at] == table["account"]  # the table has one row per account
    out = []
    for column in columns:
        values = np.zeros(len(ids))
        values[at[hit]] = table[column][hit]
        out.append(_gini_paid(values))
    return out


# --------------------------------------------------------------------------------------------
# Summary sections


def _liquidated_section(fills):
    side = liquidated_side(fills)
    notional = liquidated_notional(fills)
    long_usd = float(notional[side > 0].sum())
    short_usd = float(notional[side < 0].sum())
    return {"long": _num(long_usd), "short": _num(short_usd), "total": _num(long_usd + short_usd)}


def _liquidation_counts(fills, accounts):
    positions = accounts["kind"] <= COUNTERPARTY
    full = int(np.count_nonzero(positions & (accounts["status"] == LIQUIDATED)))
    partial = int(np.count_nonzero(fills["kind"] == PARTIAL))
    return {"full": full, "partial": partial}


def _adl_section(fills, accounts):
    """ADL totals and who paid: see :func:`summarize` for the keys."""
    adl = fills[fills["kind"] == ADL]
    notional = float(np.sum(adl["qty"] * adl["mark"]))
    # pooled: a fill taking over quantity still above water offsets the others
    deficit = float(np.maximum(0.0, np.sum(adl_deficit(adl))))
    table = adl_table(adl, accounts)
    # who paid, among traders: the synthetic holder of the long/short residual is one giant account
    # standing in for many, so it counts in the totals but not in the distribution or the Ginis
    totals, table = table, table[table["kind"] == TRADER]
    haircut = table["haircut_usd"]
    share = table["equity_share"]
    share = share[np.isfinite(share)]
    side_haircut, side_position = _side_ginis(table, accounts, ("haircut_usd", "position_share"))
    count = int(len(adl))
    profit = _num(np.sum(adl_profit_taken(adl, accounts))) if accounts is not None else None
    return {
        "count": count,
        "notional_usd": _num(notional),
        "deficit_covered_usd": _num(deficit),
        "overshoot": _ratio(notional, deficit),
        "profit_taken_usd": profit,
        "overshoot_profit": _ratio(profit, deficit),
        "by_trigger": _adl_cause_section(fills, accounts),
        "accounts": int(len(totals)),
        "contracts": _num(np.sum(adl["qty"])),
        "haircut_usd": _num(np.sum(adl_haircut(adl))),
        "haircut_usd_median": _stat(np.median, haircut),
        "haircut_usd_p90": _stat(np.percentile, haircut, 90),
        "haircut_usd_max": _stat(np.max, haircut),
        "equity_share_median": _stat(np.median, share),
        "equity_share_max": _stat(np.max, share),
        "gini_haircut_usd": _gini_paid(haircut),
        "gini_contracts": _gini_paid(table["contracts"]),
        "gini_haircut_usd_side": side_haircut,
        "gini_position_share_side": side_position,
    }


def _fund_section(fills, series, start, equity_end=None):
    """Balance at cost (start, min, end = start + Σ fund_delta) and, if given, the final equity with
    the fund's inventory valued at the final mark (what it could really pay)."""
    running = fund_running_balance(fills, start)
    low = _finite_min([start], series["fund_balance"], running)
    end = float(start) + float(np.sum(fills["fund_delta"]))
    out = {"start": _num(start), "min": _num(low), "end": _num(end)}
    if equity_end is not None:
        out["end_marked"] = _num(equity_end)
    return out


def _time_to_quiet(fills, shock_start_s):
    """Seconds from the shock start to the last liquidation-kind fill (never negative)."""
    liq_t = fills["t"][liquidation_mask(fills)]
    if len(liq_t) == 0:
        return None if shock_start_s is None else 0.0
    start = 0.0 if shock_start_s is None else float(shock_start_s)
    return max(0.0, float(liq_t.max()) - start)


def _oi_destroyed_pct(series):
    """Share of the traders' open interest (longs plus shorts) gone between the first and last sample."""
    if len(series) == 0:
        return 0.0
    total = series["oi_long"] + series["oi_short"]
    first, last = float(total[0]), float(total[-1])
    if first == 0:
        return 0.0
    return _num(100.0 * (1.0 - last / first))


def _check_meta(meta):
    missing = [k for k in REQUIRED_META if k not in meta]
    if missing:
        raise KeyError(f"summarize: meta is missing {missing}")


class _Columns:
    """A structured array read by field, each field copied into a contiguous array once, on first use.

    A field of ``ACCOUNT_DTYPE`` is read with a 96-byte stride: at 1M accounts each read costs about 5 ms, and the
    summary reads some fields a dozen times (a quarter of a second of the 1M crash's summary). Indexing by anything
    but a field name goes to the array itself."""

    def __init__(self, arr):
        self._arr = arr
        self._cols = {}
        self.dtype = arr.dtype
        self.size = arr.size

    def __len__(self):
        return len(self._arr)

    def __getitem__(self, key):
        if not isinstance(key, str):
            return self._arr[key]
        col = self._cols.get(key)
        if col is None:
            col = self._cols[key] = np.ascontiguousarray(self._arr[key])
        return col


def summarize(fills, series, accounts, meta):
    """Headline metrics of one run as a JSON-ready dict (plain floats/ints; NaN/inf become None).

    ``fills``/``series``/``accounts`` are ``FILL_DTYPE``/``SERIES_DTYPE``/``ACCOUNT_DTYPE`` arrays.
    ``meta`` must hold ``REQUIRED_META``: ``fund_initial``, ``fund_balance_end``, ``bad_debt_usd``
    (USD), ``final_mark``, ``start_price`` (USD), ``path_p`` (USD, the exogenous path),
    ``n_positions``, ``runtime_s`` (s); optional ``shock_start_s`` (s, None/absent = no shock),
    ``wave_gap_s`` (s, default 10), ``min_last``/``max_last``/``min_mark``/``max_mark`` (USD, the
    run's extremes, which samples can miss) and ``fund_equity_end`` (USD, the fund at the final mark).

    The ``adl`` section (module docstring for the haircut and deficit of one fill): ``count`` ADL
    fills, ``notional_usd`` (sum of qty x mark), ``deficit_covered_usd`` (the pooled deficit,
    ``max(0, sum of per-fill deficits)``, from ``bankruptcy_price``), ``overshoot`` (notional per
    dollar of deficit; None without a deficit, and ``by_trigger`` says why), ``profit_taken_usd``
    (:func:`adl_profit_taken`) and ``overshoot_profit`` (profit taken per dollar of deficit, None likewise),
    ``by_trigger`` (the same figures for the ADL set off by a ``deficit`` the fund could not pay, by its
    ``drawdown`` rule, or by its inventory ``capacity``, each with ``count``, ``notional_usd``, ``deficit_usd``,
    ``profit_taken_usd``, ``haircut_usd``, ``overshoot_notional`` and ``overshoot_profit`` (a number, or the
    string ``"no deficit"`` when that ADL covered none, ``"no ADL"`` when there was none: never None) and
    ``no_counterparty_usd``, the bankrupt notional no eligible winner took, which the fund took instead),
    ``accounts`` ADL'd, ``contracts`` (base units) and
    ``haircut_usd`` (totals, every account), then across ADL'd *trader* accounts (rows of
    :func:`adl_table`; the residual counterparty is one synthetic account standing in for many, so it
    is left out of the distribution): the median,
    90th percentile (linear interpolation) and largest ``haircut_usd``, the median and largest
    ``equity_share`` (over the accounts where it is defined), and ``gini_haircut_usd`` /
    ``gini_contracts`` (:func:`gini`; a negative per-account haircut counts as 0 paid). The Gini
    compares the ADL'd accounts with each other only: a single ADL'd account gives 0, however many
    winners were spared; ``gini_haircut_usd_side`` and ``gini_position_share_side`` compare every
    trader row that held an ADL'd side at the start (untouched rows count as 0), so they tell a
    queue that empties a few accounts (near 1) from pro rata (lower).

    ``feedback`` (:mod:`sim.feedback`; needs ``fundamental_t_s``, ``fundamental_p`` and ``duration_s`` in ``meta``,
    else None): the static counterfactual, the cascade multiplier, the forced closes the cascade set off and each
    price's move it caused.

    Money is USD, prices USD, times seconds, ``*_pct`` percent. Drawdowns are signed (negative
    for a fall); the exogenous one takes the larger-magnitude move of the path and the realized
    one measures ``last`` in that same direction, so ``amplification`` compares like with like.
    """
    _check_meta(meta)
    if accounts is not None:
        accounts = _Columns(accounts)
    fills = _Columns(fills)
    start_price = float(meta["start_price"])
    liquidated = _liquidated_section(fills)
    fund = _fund_section(fills, series, float(meta["fund_initial"]), meta.get("fund_equity_end"))
    last_extremes = [v for v in (meta.get("min_last"), meta.get("max_last")) if v is not None]
    mark_extremes = [v for v in (meta.get("min_mark"), meta.get("max_mark")) if v is not None]

    exogenous = move_pct(meta["path_p"], start_price)
    direction = 0 if not exogenous else (1 if exogenous > 0 else -1)
    realized = move_pct(np.concatenate([series["last"], last_extremes]), start_price, direction)

    gap_s = float(meta.get("wave_gap_s", DEFAULT_WAVE_GAP_S))
    end_fund = fund["end"]
    engine_end = _num(meta["fund_balance_end"])
    identity = None if end_fund is None or engine_end is None else abs(end_fund - engine_end)

    waves = wave_table(fills, gap_s)
    return {
        "liquidated_notional_usd": liquidated,
        "liquidations": _liquidation_counts(fills, accounts),
        "adl": _adl_section(fills, accounts),
        "insurance_fund_usd": fund,
        "fund_identity_error_usd": _num(identity),
        "bad_debt_usd": _num(meta["bad_debt_usd"]),
        "min_last_price": _finite_min(series["last"], last_extremes),
        "min_mark_price": _finite_min(series["mark"], fills["mark"], mark_extremes),
        "final_mark_price": _num(meta["final_mark"]),
        "exogenous_drawdown_pct": _num(exogenous),
        "realized_drawdown_pct": _num(realized),
        "amplification": _ratio(realized, exogenous),
        "waves": int(len(waves)),
        "time_to_quiet_s": _num(_time_to_quiet(fills, meta.get("shock_start_s"))),
        "open_interest_destroyed_pct": _oi_destroyed_pct(series),
        "n_positions": int(meta["n_positions"]),
        "runtime_s": _num(meta["runtime_s"]),
        "peak_liquidation_minute_usd": peak_window_usd(fills),
        "long_share_of_liquidated": _ratio(liquidated["long"], liquidated["total"]),
        "behaviour": {k: x if isinstance(x, int) else _num(x) for k, x in meta.get("behaviour", {}).items()},
        "feedback": _feedback(fills, series, accounts, meta, waves),
    }


def _feedback(fills, series, accounts, meta, waves):
    """The ``feedback`` section (:mod:`sim.feedback`); None when ``meta`` lacks the fundamental path
    (``fundamental_t_s``, ``fundamental_p``, ``duration_s``)."""
    if not all(k in meta for k in ("fundamental_t_s", "fundamental_p", "duration_s")):
        return None

    def span(column, lo=(), hi=()):
        values = np.concatenate([series[column], [v for v in (*lo, *hi) if v is not None]])
        values = values[np.isfinite(values)]
        return (float(values.min()), float(values.max())) if values.size else (np.nan, np.nan)

    extremes = {
        "index": span("index"),
        "mark": span("mark", (meta.get("min_mark"),), (meta.get("max_mark"),)),
        "last": span("last", (meta.get("min_last"),), (meta.get("max_last"),)),
    }
    return feedback_section(
        fills,
        accounts,
        meta["fundamental_t_s"],
        meta["fundamental_p"],
        float(meta["start_price"]),
        float(meta["duration_s"]),
        extremes,
        waves,
    )
