"""Synthetic leveraged populations (docs/model.md §5): scenario + random generator → position arrays.

A population is a structure of arrays over position rows: the traders, then one residual
counterparty account holding the long/short imbalance so open interest balances. Sizes are
heavy-tailed (Pareto notional, tail exponent ``size_tail_alpha``), entry prices are spread over a
synthetic recent price history (which is what gives a liquidation heatmap its shape), leverage is
drawn from the leverage mix and capped by the tier of the position's notional, and a share of
accounts is cross-margined with spare balance (exponential, or heavy-tailed so that some accounts hold far more
than their positions need). Positions that would already be past their liquidation price at the start price are
redrawn: they would have been liquidated before the run.

Entries can also be drawn along a recorded history (``population.history_file``), by time or by traded volume, and
with ``population.survival_screen`` the whole path from each entry to the start is checked: a position whose
liquidation price the path crossed after it was opened is gone, and more positions are opened until
``n_positions`` have survived (docs/model.md §5.1).
"""

from typing import NamedTuple

import numpy as np

from sim import enums as E
from sim.kernels import elementwise
from sim.kernels.behaviour import stop_prices_nb
from sim.kernels.draws import (
    entry_ages_nb,
    history_points_nb,
    mix_lookup_nb,
    open_rows_nb,
    signs_nb,
    split_by_side_nb,
)
from sim.kernels.margin import liquidation_prices_nb, open_and_screen_nb


class PositionArrays(NamedTuple):
    """Position rows, shape (n_traders + 1,); the last row is the residual counterparty."""

    side: np.ndarray  # int8 ±1
    size: np.ndarray  # f8 base units
    entry: np.ndarray  # f8 USD
    wallet: np.ndarray  # f8 USD (isolated margin, or the cross account's balance)
    kind: np.ndarray  # int8 TRADER / COUNTERPARTY
    mode: np.ndarray  # int8 ISOLATED / CROSS
    leverage: np.ndarray  # f8, initial leverage (notional at entry / margin)
    lp: np.ndarray | None = None  # f8, traders' liquidation prices at the trigger tiers when drawn (NaN: the
    # counterparty); None for a positions file
    age_s: np.ndarray | None = None  # f8, how long before the start each trader opened (NaN: the counterparty);
    # None for a positions file

    @property
    def n(self):
        return self.side.size


def price_history(p0, hours, vol_pct_per_day, rng, steps_per_hour=12):
    """A synthetic price history ending at ``p0``: log-Brownian, ``hours`` long, 5-minute steps.

    Returns the prices, evenly spaced in time, from the start of the run backwards.
    """
    n = max(2, int(round(hours * steps_per_hour)) + 1)
    sigma_step = vol_pct_per_day / 100.0 / np.sqrt(24.0 * steps_per_hour)
    steps = rng.standard_normal(n - 1) * sigma_step
    log_back = np.concatenate(([0.0], np.cumsum(steps)))  # walk backwards from p0
    return p0 * elementwise.exp(log_back, log_back)


def sample_history(hist, rng, size):
    """Prices at uniformly random times of an evenly sampled history (linear in between)."""
    x = rng.uniform(0.0, hist.size - 1, size)
    i = np.minimum(x.astype(np.int64), hist.size - 2)
    return hist[i] + (hist[i + 1] - hist[i]) * (x - i)


class History(NamedTuple):
    """A price history before the run, newest first: ``price[0]`` is the start price, ``age_s[k]`` how long before
    the start ``price[k]`` was seen. Segment ``k`` joins points ``k`` and ``k + 1`` (the path is linear in between)
    and has weight ``cum_w[k + 1] − cum_w[k]`` for drawing entry times (its duration, or the volume traded in it).
    ``low[k]`` and ``high[k]`` are the lowest and highest price from point ``k`` to the start, the survival screen's
    lookup: a long entered in segment ``k`` lived through the run-up to the start iff its liquidation price is below
    ``low[k]``, because the path's extremes are at its points.
    """

    price: np.ndarray  # f8 USD, newest first
    age_s: np.ndarray  # f8 s before the start, increasing
    cum_w: np.ndarray  # f8, cumulative segment weights, cum_w[0] = 0
    low: np.ndarray  # f8 running minimum from the start backwards
    high: np.ndarray  # f8 running maximum
    even: bool  # every segment weighs 1 (the synthetic history): draws need no search


def history_of(prices, ages_s, weights=None):
    """A :class:`History` from prices newest first, their ages and optional segment weights (default: durations)."""
    price = np.ascontiguousarray(prices, dtype=np.float64)
    age = np.ascontiguousarray(ages_s, dtype=np.float64)
    w = np.diff(age) if weights is None else np.asarray(weights, dtype=np.float64)
    even = weights is None and bool(np.all(w == w[0]))
    cum_w = np.arange(price.size, dtype=np.float64) if even else np.concatenate(([0.0], np.cumsum(w)))
    return History(price, age, cum_w, np.minimum.accumulate(price), np.maximum.accumulate(price), even)


def synthetic_history(p0, hours, vol_pct_per_day, rng, steps_per_hour=12):
    """:func:`price_history` as a :class:`History` (5-minute points, every segment equally likely)."""
    hist = price_history(p0, hours, vol_pct_per_day, rng, steps_per_hour)
    return history_of(hist, np.arange(hist.size) * (3600.0 / steps_per_hour))


def recorded_history(arrays, p0, lookback_h, weighting):
    """The last ``lookback_h`` hours of a recorded history file (:func:`sim.config.files.read_path_csv` arrays,
    oldest first), scaled so that its last price is the start price ``p0``; segments weighted by time or by the
    volume of the row that closes them."""
    t, price = arrays["t_s"], arrays["price"]
    age = t[-1] - t
    keep = np.flatnonzero(age <= lookback_h * 3600.0)
    first = max(int(keep[0]) - 1, 0) if keep.size else 0  # the row before the window, cut at the window's edge
    price, age = price[first:][::-1] * (p0 / price[-1]), age[first:][::-1]
    if age[-1] > lookback_h * 3600.0 and age.size > 1:
        x = (lookback_h * 3600.0 - age[-2]) / (age[-1] - age[-2])
        price[-1] = price[-2] + (price[-1] - price[-2]) * x
        age[-1] = lookback_h * 3600.0
    weights = None
    if weighting == "volume":
        weights = arrays["volume"][first:][::-1][:-1]  # the newer row of each segment closes it
        if age.size > 1 and not weights.sum() > 0:
            weights = None  # no volume in the window at all: by time
    return history_of(price, age, weights)


def sample_entries(h, rng, size):
    """Entry prices at random points of a history, drawn by its segment weights; also each draw's segment."""
    x = rng.uniform(0.0, h.cum_w[-1], size)
    seg = np.empty(x.size, np.int64)
    history_points_nb(x, h.price, h.cum_w, h.even, x, seg)  # the entries overwrite the draws they come from
    return x, seg


def generate(pop_cfg, market_cfg, rng, trigger_tiers=None):
    """Draw a population from ``[population]`` settings; see the module docstring.

    ``trigger_tiers`` = ``(floor, mmr, cum, basis)`` are the engine's tier arrays (the venue's margin
    basis, any fee counted in its trigger), so no position is born past its liquidation price; by default
    the market's own tiers on the mark basis.
    """
    p0 = market_cfg.start_price_usd
    lot = market_cfg.lot_size
    floor, mmr, cum, max_lev = market_cfg.tier_arrays()
    lp_tiers = trigger_tiers if trigger_tiers is not None else (floor, mmr, cum, 0)
    if pop_cfg.survival_screen:
        return _screened(pop_cfg, market_cfg, rng, lp_tiers)
    lp_floor, lp_mmr, lp_cum, basis = lp_tiers
    n = pop_cfg.n_positions

    side = signs_nb(rng.random(n), pop_cfg.long_share, np.empty(n, np.int8))
    leverage = _leverages(pop_cfg, side, rng)
    notional = _notionals(pop_cfg, rng, n)
    cross = rng.random(n) < pop_cfg.cross_share
    spare_factor = _spares(pop_cfg, rng, n)
    hist = entry_history(pop_cfg, p0, rng)
    entry, seg = sample_entries(hist, rng, n)
    scale = 1.0
    if pop_cfg.open_interest_usd > 0:
        # open interest: the larger side's total size valued at the start price (the few rows
        # redrawn below shift it by a fraction of a percent at most)
        at_start = notional * p0 / entry
        scale = pop_cfg.open_interest_usd / max(at_start[side > 0].sum(), at_start[side < 0].sum(), 1e-300)
    # rows 0..n-1 drawn, row n the counterparty; the leverage capped at its tier's maximum (written back)
    rows = PositionArrays(
        side=np.empty(n + 1, np.int8),
        size=np.empty(n + 1),
        entry=np.empty(n + 1),
        wallet=np.empty(n + 1),
        kind=np.full(n + 1, E.TRADER, np.int8),
        mode=np.empty(n + 1, np.int8),
        leverage=np.empty(n + 1),
        lp=np.empty(n + 1),
        age_s=np.empty(n + 1),
    )
    out = (rows.side, rows.size, rows.entry, rows.wallet, rows.mode, rows.lp)
    open_rows_nb((side, leverage, notional, cross, spare_factor, entry), scale, lot, floor, max_lev, lp_tiers, out)
    size, wallet, lp_all = rows.size[:n], rows.wallet[:n], rows.lp[:n]
    todo = np.flatnonzero(np.where(side > 0, lp_all >= p0, lp_all <= p0))  # rows whose entry must be redrawn
    for attempt in range(6):
        if todo.size == 0:
            break
        # already past its liquidation price at the start: it would not exist; draw another entry,
        # and after five tries open it at the start price.
        if attempt < 5:
            entry[todo], seg[todo] = sample_entries(hist, rng, todo.size)
        else:
            entry[todo], seg[todo] = p0, 0
        rows.entry[todo] = entry[todo]
        size[todo], wallet[todo] = _size_and_wallet(
            notional[todo], entry[todo], leverage[todo], cross[todo], spare_factor[todo], lot
        )
        lp = liquidation_prices_nb(
            side[todo], size[todo], entry[todo], wallet[todo], lp_floor, lp_mmr, lp_cum, basis, np.empty(todo.size)
        )
        lp_all[todo] = lp
        if attempt < 5:  # at the start price (the sixth try) it is not past its liquidation price: done
            todo = todo[np.where(side[todo] > 0, lp >= p0, lp <= p0)]
    _ages(hist, entry, seg, rows.age_s[:n])
    rows.lp[n] = rows.age_s[n] = np.nan
    return _counterparty_row(rows, n, p0, pop_cfg.counterparty_leverage)


def entry_history(pop_cfg, p0, rng):
    """The history entries are drawn along: the recorded one of ``population.history_file`` if given, else a
    synthetic one (which takes the generator's next draws; a recorded one takes none)."""
    if pop_cfg.history is not None:
        return recorded_history(pop_cfg.history, p0, pop_cfg.entry_lookback_h, pop_cfg.entry_weighting)
    return synthetic_history(p0, pop_cfg.entry_lookback_h, pop_cfg.entry_volatility_pct_per_day, rng)


def _ages(hist, entry, seg, out=None):
    """How long before the start each entry was made (linear in the segment, as the price was drawn)."""
    return entry_ages_nb(hist.price, hist.age_s, entry, seg, np.empty(entry.size) if out is None else out)


def _leverages(pop_cfg, side, rng):
    """Each position's leverage as opened, from the leverage mix of its side (``leverage_mix_short`` for shorts
    when set; the draws for one side do not depend on the other's mix)."""
    longs, shorts = _mix_draws(pop_cfg, rng, side.size)
    return longs if shorts is longs else np.where(side > 0, longs, shorts)


def _mix_draws(pop_cfg, rng, n):
    """``n`` leverages from the longs' mix and, when the shorts have their own, ``n`` from theirs (else the same
    array twice): ``rng.choice(levs, size=n, p=prob)`` each, with its uniforms looked up in one pass instead of a
    binary search per draw (same draws, same values)."""

    def choice(levs, prob):
        cdf = np.asarray(prob, dtype=np.float64).cumsum()
        cdf /= cdf[-1]
        u = rng.random(n)
        return mix_lookup_nb(cdf, np.asarray(levs, dtype=np.float64), u, u)

    longs = choice(*pop_cfg.leverage_mix_arrays())
    if pop_cfg.leverage_mix_short is None:
        return longs, longs
    return longs, choice(*pop_cfg.leverage_mix_arrays(short=True))


def _notionals(pop_cfg, rng, n):
    """Pareto notional with tail index ``size_tail_alpha`` from ``notional_min_usd``, capped at ``notional_max_usd``."""
    x = rng.random(n)
    np.subtract(1.0, x, out=x)  # notional_min · (1 − u) ** (−1/alpha), capped; in place, the same operations
    elementwise.power(x, -1.0 / pop_cfg.size_tail_alpha, x)  # the C library's pow: the same bits on every CPU
    x *= pop_cfg.notional_min_usd
    return np.minimum(x, pop_cfg.notional_max_usd, out=x)


def _spares(pop_cfg, rng, n):
    """A cross account's spare balance as a multiple of its position's initial margin (used for cross rows only):
    exponential with mean ``cross_spare_mean``, or Lomax (Pareto II) with median ``cross_spare_median`` and tail
    index ``cross_spare_tail_alpha``, whose tail puts some accounts at many times their margin (effective leverage
    below 1×)."""
    if pop_cfg.cross_spare == "lomax":
        a = pop_cfg.cross_spare_tail_alpha
        scale = pop_cfg.cross_spare_median / (2.0 ** (1.0 / a) - 1.0)
        x = rng.random(n)
        np.subtract(1.0, x, out=x)  # scale · ((1 − u) ** (−1/a) − 1), in place
        elementwise.power(x, -1.0 / a, x)
        x -= 1.0
        x *= scale
        return x
    return rng.exponential(pop_cfg.cross_spare_mean, n) if pop_cfg.cross_spare_mean > 0 else np.zeros(n)


#: Rounds of drawing and screening before the last missing positions are opened at the start price.
SCREEN_ROUNDS = 12
#: The screened population's open interest is within this fraction of population.open_interest_usd.
SCREEN_OI_TOLERANCE = 5e-3


def _screened(pop_cfg, market_cfg, rng, lp_tiers):
    """Open positions along the history and keep those its path did not liquidate, until ``n_positions`` live.

    Rejection sampling: each round draws every attribute of a batch of new positions (side, leverage from the mix,
    notional, margin mode, spare balance, entry along the history), and a position survives when its liquidation
    price lies beyond the history's extreme between its entry and the start (``History.low``/``high``; equality
    liquidates, as in the engine). Survivors are kept in the order drawn. The sizes are then scaled so the survivors
    hold ``open_interest_usd`` (which can move liquidation prices across tier boundaries, so the kept rows are
    screened again and more are drawn until the scale settles within :data:`SCREEN_OI_TOLERANCE`). The leverage mix
    is thus the mix of positions as *opened*; the survivors lean to lower leverage and recent entries, as positions
    that lived do. After :data:`SCREEN_ROUNDS` rounds any still missing are opened at the start price.

    The survivors go straight into arrays of ``n_positions`` rows (the screening kernel appends them and compacts
    them in place when a rescaling drops some), so a batch is never copied, selected or concatenated.
    """
    p0, lot, n = market_cfg.start_price_usd, market_cfg.lot_size, pop_cfg.n_positions
    floor, _, _, max_lev = market_cfg.tier_arrays()
    lp_floor, lp_mmr, lp_cum, basis = lp_tiers
    tiers = (lp_floor, lp_mmr, lp_cum, int(basis))
    hist = entry_history(pop_cfg, p0, rng)
    oi = pop_cfg.open_interest_usd
    scale = 1.0 if oi <= 0 else None
    # the survivors: side, leverage and notional as drawn, margin mode, spare, entry, segment; size, wallet, LP as opened
    lp_out = np.empty(n + 1)  # with the counterparty's row
    kept = (np.empty(n, np.int8), np.empty(n), np.empty(n), np.empty(n, np.int8), np.empty(n), np.empty(n))
    kept += (np.empty(n, np.int64), np.empty(n), np.empty(n), lp_out[:n])
    have, batch = 0, n

    scratch = []

    def side_sums(side, values):
        """The larger side's sum of ``values``, as NumPy sums ``values[side > 0]`` and ``values[side < 0]``."""
        if not scratch or scratch[0].size < values.size:
            scratch[:] = np.empty(values.size), np.empty(values.size)
        longs, shorts = scratch
        nl, ns = split_by_side_nb(side, values, longs, shorts)
        return max(longs[:nl].sum(), shorts[:ns].sum(), 1e-300)

    for rnd in range(SCREEN_ROUNDS + 1):
        if have < n:
            draws = _draw_batch(pop_cfg, rng, batch if rnd < SCREEN_ROUNDS else n - have, hist)
            if rnd == SCREEN_ROUNDS:  # the last few: opened at the start price, where none is past its price
                draws[6][:], draws[7][:] = p0, 0
            if scale is None:  # the first batch sets the scale; later rounds correct it
                at_start = draws[3] * p0
                at_start /= draws[6]
                scale = oi / (side_sums(draws[0], at_start) * n / batch)
            m = draws[0].size
            have, alive = open_and_screen_nb(
                draws, pop_cfg.cross_share, scale, lot, floor, max_lev, tiers, hist.low, hist.high, kept, have, False
            )
            rate = max(alive / m, 0.02)
        if have == n:
            if oi <= 0:
                break
            f = oi / side_sums(kept[0], kept[7] * p0)
            if abs(f - 1.0) <= SCREEN_OI_TOLERANCE or rnd == SCREEN_ROUNDS:
                break
            scale *= f
            # rescaled: a row may have moved to another tier
            have, _ = open_and_screen_nb(
                draws, pop_cfg.cross_share, scale, lot, floor, max_lev, tiers, hist.low, hist.high, kept, have, True
            )
        batch = int(np.ceil((n - have) / rate * 1.1)) + 16
    side, _, _, mode, _, entry, seg, size, wallet, _ = (c[:have] for c in kept)
    pop = with_counterparty(side, size, entry, wallet, mode, p0, pop_cfg.counterparty_leverage)
    lp_out = lp_out[: have + 1]
    lp_out[have] = np.nan
    age = np.empty(have + 1)
    entry_ages_nb(hist.price, hist.age_s, entry, seg, age[:have])
    age[have] = np.nan
    return pop._replace(lp=lp_out, age_s=age)


def _draw_batch(pop_cfg, rng, m, hist):
    """Every attribute of ``m`` new positions as opened, before any scaling to the open interest: the ``draws``
    tuple of :func:`sim.kernels.margin.open_and_screen_nb`. The generator's draws, in this order: side, leverage
    (the shorts' mix after the longs'), notional, margin mode, spare balance, entry."""
    side = signs_nb(rng.random(m), pop_cfg.long_share, np.empty(m, np.int8))
    lev_long, lev_short = _mix_draws(pop_cfg, rng, m)
    notional = _notionals(pop_cfg, rng, m)
    u_cross = rng.random(m)
    spare = _spares(pop_cfg, rng, m)
    entry, seg = sample_entries(hist, rng, m)
    return (side, lev_long, lev_short, notional, u_cross, spare, entry, seg)


def _size_and_wallet(notional, entry, leverage, cross, spare_factor, lot):
    size = np.maximum(np.round(notional / entry / lot), 1.0) * lot
    margin = size * entry / leverage
    wallet = np.where(cross, margin * (1.0 + spare_factor), margin)
    return size, wallet


def from_arrays(arrays, market_cfg, counterparty_leverage):
    """Population from an explicit positions file (arrays as read by :mod:`sim.config.files`)."""
    return with_counterparty(
        arrays["side"].astype(np.int8),
        arrays["size"].astype(float),
        arrays["entry_price"].astype(float),
        arrays["wallet"].astype(float),
        arrays["mode"].astype(np.int8),
        market_cfg.start_price_usd,
        counterparty_leverage,
    )


def with_counterparty(side, size, entry, wallet, mode, p0, cp_leverage):
    """Append the residual counterparty row: it holds −Σ side·size at the start price."""
    n = side.size
    rows = PositionArrays(
        side=_appended(side, 0, np.int8),
        size=_appended(size, 0.0, np.float64),
        entry=_appended(entry, 0.0, np.float64),
        wallet=_appended(wallet, 0.0, np.float64),
        kind=np.full(n + 1, E.TRADER, np.int8),
        mode=_appended(mode, 0, np.int8),
        leverage=np.empty(n + 1),
    )
    return _counterparty_row(rows, n, p0, cp_leverage)


def _counterparty_row(rows, n, p0, cp_leverage):
    """``rows`` (traders in rows 0..n−1) with the residual counterparty written in row ``n``, and every row's
    leverage on the wallet: the chosen leverage for isolated rows, notional / balance for cross."""
    residual = float(np.sum(rows.side[:n] * rows.size[:n]))
    if abs(residual) <= 1e-9 * max(1.0, float(np.abs(rows.size[:n]).max(initial=0.0))):
        residual = 0.0  # a balanced book up to rounding: the counterparty holds nothing
    cp_size = abs(residual)
    rows.side[n] = -1 if residual > 0 else 1
    rows.size[n] = cp_size
    rows.entry[n] = p0
    rows.wallet[n] = cp_size * p0 / cp_leverage
    rows.kind[n] = E.COUNTERPARTY
    rows.mode[n] = E.CROSS
    np.multiply(rows.size[:n], rows.entry[:n], out=rows.leverage[:n])
    np.divide(rows.leverage[:n], rows.wallet[:n], out=rows.leverage[:n])
    rows.leverage[n] = cp_leverage
    return rows


def _appended(a, value, dtype):
    """``a`` with ``value`` appended, as ``dtype`` (one copy)."""
    out = np.empty(a.size + 1, dtype)
    out[:-1] = a
    out[-1] = value
    return out


class Draws(NamedTuple):
    """Per position row: stop trigger price (NaN = none), top-up reserve (USD) and reaction delay (ms)."""

    stop: np.ndarray
    reserve: np.ndarray
    delay_ms: np.ndarray


def no_behaviour(n: int) -> Draws:
    """No stops and no top-ups for ``n`` rows."""
    return Draws(np.full(n, np.nan), np.zeros(n), np.zeros(n, np.int64))


def behaviour_draws(stops, topups, side, kind, wallet, lp, p0, rng) -> Draws:
    """Stops and top-up reserves of trader rows (the residual counterparty gets neither), from the ``[stops]``
    and ``[topups]`` settings (sim.config.behaviour) and the rows' liquidation prices ``lp``.

    Every row takes the same random numbers whatever the shares are, so raising a share adds behaviour to more
    traders without moving the others'.
    """
    n = side.size
    trader = kind == E.TRADER
    u_stop, u_round, u_topup = rng.random(n), rng.random(n), rng.random(n)
    d = rng.exponential(stops.distance_pct / 100.0, n)
    delay = rng.exponential(topups.delay_mean_s, n) if topups.delay_mean_s > 0 else np.zeros(n)
    stop = stop_prices_nb(
        side,
        kind,
        lp,
        d,
        u_round,
        u_stop,
        float(p0),
        float(stops.round_step_usd),
        float(stops.round_share),
        float(stops.share),
        np.empty(n),
    )
    reserve = np.where(trader & (u_topup < topups.share), topups.reserve * wallet, 0.0)
    return Draws(stop, reserve, np.round(delay * 1000.0).astype(np.int64))
