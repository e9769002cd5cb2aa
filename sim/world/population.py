"""Synthetic leveraged populations (docs/model.md §5): scenario + random generator → position arrays.

A population is a structure of arrays over position rows: the traders, then one residual
counterparty account holding the long/short imbalance so open interest balances. Sizes are
heavy-tailed (Pareto notional, tail exponent ``size_tail_alpha``), entry prices are spread over a
synthetic recent price history (which is what gives a liquidation heatmap its shape), leverage is
drawn from the leverage mix and capped by the tier of the position's notional, and a share of
accounts is cross-margined with spare balance. Positions that would already be past their
liquidation price at the start price are redrawn: they would have been liquidated before the run.
"""

from typing import NamedTuple

import numpy as np

from sim import enums as E
from sim.kernels.behaviour import stop_prices_nb
from sim.kernels.margin import liquidation_prices_nb


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
    return p0 * np.exp(log_back)


def sample_history(hist, rng, size):
    """Prices at uniformly random times of an evenly sampled history (linear in between)."""
    x = rng.uniform(0.0, hist.size - 1, size)
    i = np.minimum(x.astype(np.int64), hist.size - 2)
    return hist[i] + (hist[i + 1] - hist[i]) * (x - i)


def generate(pop_cfg, market_cfg, rng, trigger_tiers=None):
    """Draw a population from ``[population]`` settings; see the module docstring.

    ``trigger_tiers`` = ``(floor, mmr, cum, basis)`` are the engine's tier arrays (the venue's margin
    basis, any fee counted in its trigger), so no position is born past its liquidation price; by default
    the market's own tiers on the mark basis.
    """
    p0 = market_cfg.start_price_usd
    lot = market_cfg.lot_size
    floor, mmr, cum, max_lev = market_cfg.tier_arrays()
    lp_floor, lp_mmr, lp_cum, basis = trigger_tiers if trigger_tiers is not None else (floor, mmr, cum, 0)
    n = pop_cfg.n_positions

    side = np.where(rng.random(n) < pop_cfg.long_share, 1, -1).astype(np.int8)
    levs, prob = pop_cfg.leverage_mix_arrays()
    leverage = rng.choice(levs, size=n, p=prob)
    u = rng.random(n)
    notional = pop_cfg.notional_min_usd * (1.0 - u) ** (-1.0 / pop_cfg.size_tail_alpha)
    notional = np.minimum(notional, pop_cfg.notional_max_usd)
    cross = rng.random(n) < pop_cfg.cross_share
    spare_factor = rng.exponential(pop_cfg.cross_spare_mean, n) if pop_cfg.cross_spare_mean > 0 else np.zeros(n)
    hist = price_history(p0, pop_cfg.entry_lookback_h, pop_cfg.entry_volatility_pct_per_day, rng)
    entry = sample_history(hist, rng, n)
    if pop_cfg.open_interest_usd > 0:
        # open interest: the larger side's total size valued at the start price (the few rows
        # redrawn below shift it by a fraction of a percent at most)
        at_start = notional * p0 / entry
        scale = pop_cfg.open_interest_usd / max(at_start[side > 0].sum(), at_start[side < 0].sum(), 1e-300)
        notional *= scale
    # A position's leverage cannot exceed its tier's maximum.
    tier_idx = np.searchsorted(floor, notional, side="right") - 1
    leverage = np.minimum(leverage, max_lev[tier_idx])

    size, wallet = _size_and_wallet(notional, entry, leverage, cross, spare_factor, lot)
    lp_all = liquidation_prices_nb(side, size, entry, wallet, lp_floor, lp_mmr, lp_cum, basis, np.empty(n))
    todo = np.flatnonzero(np.where(side > 0, lp_all >= p0, lp_all <= p0))  # rows whose entry must be redrawn
    for attempt in range(6):
        if todo.size == 0:
            break
        # already past its liquidation price at the start: it would not exist; draw another entry,
        # and after five tries open it at the start price.
        if attempt < 5:
            entry[todo] = sample_history(hist, rng, todo.size)
        else:
            entry[todo] = p0
        size[todo], wallet[todo] = _size_and_wallet(
            notional[todo], entry[todo], leverage[todo], cross[todo], spare_factor[todo], lot
        )
        lp = liquidation_prices_nb(
            side[todo], size[todo], entry[todo], wallet[todo], lp_floor, lp_mmr, lp_cum, basis, np.empty(todo.size)
        )
        lp_all[todo] = lp
        if attempt < 5:  # at the start price (the sixth try) it is not past its liquidation price: done
            todo = todo[np.where(side[todo] > 0, lp >= p0, lp <= p0)]
    mode = np.where(cross, E.CROSS, E.ISOLATED).astype(np.int8)
    pop = with_counterparty(side, size, entry, wallet, mode, p0, pop_cfg.counterparty_leverage)
    return pop._replace(lp=np.append(lp_all, np.nan))


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
    residual = float(np.sum(side * size))
    if abs(residual) <= 1e-9 * max(1.0, float(np.abs(size).max(initial=0.0))):
        residual = 0.0  # a balanced book up to rounding: the counterparty holds nothing
    cp_side = -1 if residual > 0 else 1
    cp_size = abs(residual)
    n = side.size
    # Leverage on the wallet: the chosen leverage for isolated rows, notional / balance for cross.
    leverage = np.append(size * entry / wallet, cp_leverage)
    return PositionArrays(
        side=np.append(side, cp_side).astype(np.int8),
        size=np.append(size, cp_size),
        entry=np.append(entry, p0),
        wallet=np.append(wallet, cp_size * p0 / cp_leverage),
        kind=np.append(np.full(n, E.TRADER, np.int8), np.int8(E.COUNTERPARTY)),
        mode=np.append(mode, np.int8(E.CROSS)),
        leverage=leverage,
    )


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
