"""Market inputs drawn or derived from a scenario: the book profile, the shock path, background flow.

* Book profile (docs/model.md §4.1): cumulative resting depth within a relative distance ``x`` of the fair
  price is ``depth_usd_1pct·(x / 1%)^shape`` per side; level ``d`` ticks away holds the increment,
  in base units at the start price. The profile is fixed in ticks at the start price, so a book
  re-centred anywhere keeps its shape. Or explicit levels from a file, as offsets from the start price.
* Shock path (docs/model.md §6): the exogenous index as piecewise-linear ``(t_ms, price)`` points: a gap, a
  ramp, a recorded path, or geometric Brownian motion with Poisson jumps (Merton) drawn from the seed.
* Background flow: a Poisson stream of market orders with lognormal notional, random side.
"""

import math
from typing import NamedTuple

import numpy as np

from sim.world.price_paths import gbm_path


class BookProfile(NamedTuple):
    prof_bid: np.ndarray  # f8 (D+1,), base units by offset; index 0 unused
    prof_ask: np.ndarray
    grid_lo: int  # absolute tick of level 0
    n_levels: int


def book_profile(book_cfg, market_cfg):
    """Target size by tick offset for both sides, and the ladder's extent."""
    from sim.kernels import elementwise  # here: `import sim` must not import Numba

    p0 = market_cfg.start_price_usd
    tick = market_cfg.tick_size_usd
    span = book_cfg.range_pct / 100.0
    grid_lo = int(math.floor(p0 * (1.0 - span) / tick))
    grid_hi = int(math.ceil(p0 * (1.0 + span) / tick))
    levels = getattr(book_cfg, "levels", None)
    if levels is not None:
        prof_bid, prof_ask = _profile_from_levels(levels, p0, tick)
    else:
        dmax = int(math.floor(span * p0 / tick))
        rel = np.arange(dmax + 1) * tick / (0.01 * p0)
        cum_usd = book_cfg.depth_usd_1pct * elementwise.power(rel, book_cfg.shape)
        prof = np.zeros(dmax + 1)
        prof[1:] = np.diff(cum_usd) / p0
        prof_bid, prof_ask = prof, prof.copy()
    return BookProfile(prof_bid, prof_ask, grid_lo, grid_hi - grid_lo + 1)


def _profile_from_levels(levels, p0, tick):
    """Explicit levels as offsets from the start price, counted the way the book counts them: bids
    from the first tick below the fair price, asks from the first tick above it (docs/engine.md §5)."""
    side = levels["side"]
    phi = p0 / tick
    ticks = np.rint(levels["price"] / tick).astype(np.int64)
    offsets = np.where(side > 0, int(math.ceil(phi)) - ticks, ticks - int(math.floor(phi)))
    dmax = int(offsets.max())
    prof_bid = np.zeros(dmax + 1)
    prof_ask = np.zeros(dmax + 1)
    np.add.at(prof_bid, offsets[side > 0], levels["size"][side > 0])
    np.add.at(prof_ask, offsets[side < 0], levels["size"][side < 0])
    return prof_bid, prof_ask


def shock_path(shock_cfg, market_cfg, duration_s=0.0, seed=0):
    """``(t_ms int64, price f8)`` points of the exogenous index path (``duration_s`` and ``seed`` are
    used by the GBM kind only)."""
    p0 = market_cfg.start_price_usd
    start = int(round(shock_cfg.start_s * 1000))
    end_price = p0 * (1.0 + shock_cfg.size_pct / 100.0)
    if shock_cfg.kind in ("none", "flow"):  # a flow moves no fundamental value: its orders do the work
        t, p = [0], [p0]
    elif shock_cfg.kind == "gap":
        t, p = [0, start, start], [p0, p0, end_price]
    elif shock_cfg.kind == "ramp":
        t, p = [0, start, start + int(round(shock_cfg.duration_s * 1000))], [p0, p0, end_price]
    elif shock_cfg.kind == "gbm":
        t_s, p = gbm_path(shock_cfg, p0, duration_s, seed)
        t = np.rint(t_s * 1000.0)
    else:  # replay: the recorded path starts at start_s; before it the index sits at its first price
        path = shock_cfg.path
        prices = replay_prices(path["price"], p0, shock_cfg.rescale, shock_cfg.move_scale)
        t, p = start + np.rint(path["t_s"] * 1000.0), prices
    return np.asarray(t, np.int64), np.asarray(p, np.float64)


def replay_prices(recorded, p0, rescale, move_scale):
    """A recorded path's prices as the run uses them: its moves from its first price (in log terms) times
    ``move_scale``, started at ``p0`` when ``rescale`` is set."""
    from sim.kernels import elementwise  # here: `import sim` must not import Numba

    first = recorded[0]
    prices = recorded
    if move_scale != 1.0:  # the C library's log and exp (sim.kernels.elementwise): the same bits on every CPU
        moves = elementwise.log(recorded / first)
        moves *= move_scale
        prices = first * elementwise.exp(moves, moves)
    return prices * (p0 / first if rescale else 1.0)


def noise_flow(book_cfg, market_cfg, duration_ms, rng, block=4096):
    """Background orders: Poisson arrivals (times in ms), random sides, lognormal notional.

    Drawn in fixed-size blocks, so the stream is a prefix of itself: a longer run with the same seed
    sees exactly the same orders in its first part.
    """
    from sim.kernels import elementwise  # here: `import sim` must not import Numba

    rate = book_cfg.noise_rate_per_s
    times, sides, notionals = [], [], []
    t_end = 0.0
    while rate > 0.0 and t_end <= duration_ms:
        arrivals = t_end + np.cumsum(rng.exponential(1000.0 / rate, block))
        times.append(arrivals)
        sides.append(np.where(rng.random(block) < 0.5, 1, -1).astype(np.int8))
        z = book_cfg.noise_notional_sigma * rng.standard_normal(block)
        notionals.append(book_cfg.noise_notional_median_usd * elementwise.exp(z, z))  # lognormal; the C library's exp
        t_end = arrivals[-1]
    if not times:
        return np.zeros(0, np.int64), np.zeros(0, np.int8), np.zeros(0)
    t = np.concatenate(times)
    keep = t <= duration_ms
    lot = market_cfg.lot_size
    qty = np.maximum(np.round(np.concatenate(notionals)[keep] / market_cfg.start_price_usd / lot), 1.0) * lot
    return np.floor(t[keep]).astype(np.int64), np.concatenate(sides)[keep], qty
