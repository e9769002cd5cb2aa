"""Positions that open during a run (docs/model.md §5.4): candidates drawn before the run, thinned in the kernel.

Nobody in the starting population opens a position once the run has begun, so a long event would find nothing
left to liquidate in its second leg. Arrivals add new traders at a rate, and more longs after a fall (buying the
dip). Everything random is drawn here, from the seed's ``arrivals`` stream, before the engine starts:

* **Two Poisson streams of candidates**, longs and shorts. With ``λ`` positions per hour (``arrivals.rate_pct_per_h``
  of the starting traders) and ``π`` the population's long share, shorts arrive at ``λ·(1 − π)`` and long
  candidates at ``λ·π·M``, where ``M = arrivals.dip_multiplier`` is the most the long rate can rise.
* **Thinning in the kernel.** A long candidate at time ``t`` opens a position when its uniform draw is below
  ``(1 + (M − 1)·min(1, dd(t)/D)) / M``, with ``dd(t)`` the mark's drawdown from its rolling peak and ``D =
  arrivals.dip_drawdown_pct``; a short candidate always opens. The accepted longs are then a Poisson process of
  rate ``λ·π·(1 + (M − 1)·min(1, dd/D))`` (Lewis and Shedler's thinning), which the cascade itself can raise, and
  the draws stay fixed whatever the run does: the same seed gives the same arrivals for the same prices.
* **Attributes per candidate**: its side (which stream), a leverage from the population's mix for that side, and a
  notional resampled from the starting traders' notionals at the start price (so a file population lends its
  own sizes), the leverage capped by the tier of that notional. The margin the trader posts is notional ÷ leverage:
  cash the account holds from the start (its top-up *reserve* field) and moves into the position's wallet when the
  order fills (docs/engine.md §9).

Each candidate gets a position row of its own, flat until it opens, after the population's rows: the sorted trigger
index and the ADL candidate lists hold every row from the start, so an arrival costs one heap insertion.
"""

from typing import NamedTuple

import numpy as np

from sim import enums as E


class Arrivals(NamedTuple):
    """Arrival candidates, shape (m,), by time (ties: longs first, then draw order)."""

    t_ms: np.ndarray  # int64 ms from the start, ≤ the run's duration
    u: np.ndarray  # f8 uniform [0, 1): the thinning draw
    side: np.ndarray  # int8 ±1
    leverage: np.ndarray  # f8, as opened (capped by the tier of the notional)
    margin: np.ndarray  # f8 USD the trader posts: notional / leverage

    @property
    def n(self):
        return self.t_ms.size


def no_arrivals() -> Arrivals:
    """No arrivals."""
    return Arrivals(np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int8), np.zeros(0), np.zeros(0))


def draw(cfg, pop_cfg, market_cfg, pop, duration_ms, rng) -> Arrivals:
    """Arrival candidates of a run (see the module docstring).

    ``cfg`` is the ``[arrivals]`` table, ``pop_cfg`` the ``[population]`` one (its leverage mixes), ``pop`` the
    starting population (:class:`sim.world.population.PositionArrays`: its traders' count, long share and
    notionals), ``duration_ms`` the run's length and ``rng`` the ``arrivals`` stream's generator.
    """
    trader = pop.kind == E.TRADER
    n_traders = int(np.count_nonzero(trader))
    if cfg.rate_pct_per_h <= 0 or n_traders == 0 or duration_ms <= 0:
        return no_arrivals()
    hours = duration_ms / 3_600_000.0
    rate = cfg.rate_pct_per_h / 100.0 * n_traders  # positions per hour
    long_share = float(np.mean(pop.side[trader] > 0))
    mult = float(cfg.dip_multiplier)
    n_long = int(rng.poisson(rate * long_share * mult * hours))
    n_short = int(rng.poisson(rate * (1.0 - long_share) * hours))
    side = np.concatenate([np.ones(n_long, np.int8), -np.ones(n_short, np.int8)])
    m = side.size
    if m == 0:
        return no_arrivals()
    # given their number, a Poisson process's times are uniform over the run
    t_ms = np.floor(rng.random(m) * (duration_ms + 1)).astype(np.int64)
    u = rng.random(m)
    leverage = _leverages(pop_cfg, side, rng)
    p0 = float(market_cfg.start_price_usd)
    notionals = pop.size[trader] * p0
    notional = notionals[rng.integers(0, notionals.size, m)]
    floor, _, _, max_lev = market_cfg.tier_arrays()
    leverage = np.minimum(leverage, max_lev[np.searchsorted(floor, notional, side="right") - 1])
    order = np.lexsort((np.arange(m), -side, t_ms))  # by time, longs first, then draw order: a total order
    return Arrivals(t_ms[order], u[order], side[order], leverage[order], (notional / leverage)[order])


def _leverages(pop_cfg, side, rng):
    """Leverage as opened, from the mix of the arrival's side (``population.leverage_mix_short`` for shorts when
    set); both draws are made for every candidate, so one side's mix does not move the other's draws."""
    levs, prob = pop_cfg.leverage_mix_arrays()
    longs = rng.choice(levs, size=side.size, p=prob)
    if pop_cfg.leverage_mix_short is None:
        return longs
    levs_s, prob_s = pop_cfg.leverage_mix_arrays(short=True)
    shorts = rng.choice(levs_s, size=side.size, p=prob_s)
    return np.where(side > 0, longs, shorts)


def acceptance(side, drawdown, multiplier, full_drawdown):
    """Probability that a candidate of ``side`` opens at a drawdown ``drawdown`` (fraction) of the mark from its
    rolling peak: 1 for shorts; for longs ``(1 + (M − 1)·min(1, dd/D)) / M`` (the kernel's rule, for tests and
    docs)."""
    if side < 0:
        return 1.0
    return (1.0 + (multiplier - 1.0) * min(1.0, max(0.0, drawdown) / full_drawdown)) / multiplier


def rows(arr: Arrivals, pop):
    """The position rows of the candidates, to append after ``pop``'s: flat (size 0, no entry yet, wallet 0), the
    margin held as cash in the reserve column, isolated, with no stop and no top-up delay. Returns the columns
    ``(side, size, entry, wallet, kind, mode, leverage, stop, reserve, delay)``."""
    m = arr.n
    return (
        arr.side.astype(np.int8),
        np.zeros(m),
        np.zeros(m),
        np.zeros(m),
        np.full(m, E.TRADER, np.int8),
        np.full(m, E.ISOLATED, np.int8),
        arr.leverage.astype(np.float64),
        np.full(m, np.nan),
        arr.margin.astype(np.float64),
        np.zeros(m, np.int64),
    )
