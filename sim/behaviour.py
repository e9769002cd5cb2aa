"""Trader behaviour and funding settings (``[stops]``, ``[topups]``, ``[funding]``) and the draws behind them.

MODEL §5 puts stop-loss orders and margin top-ups in the population; they are their own tables so each can be
switched off at once (``share = 0``, the default) and documented in one place. The draws come from the seed's
fourth stream, so switching a behaviour on does not change the positions, the background flow or a GBM path.
The engine side is :mod:`sim.kernels.behaviour`; docs/engine.md §9 states the rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from sim import enums as E
from sim._schema import num, setting


@dataclass(frozen=True)
class Stops:
    """``[stops]``: stop-loss orders in the population (market orders through the book when triggered)."""

    share: float = num(0.0, "[0, 1]", "fraction", "Fraction of traders with a stop-loss order; 0 = no stops.")
    distance_pct: float = num(3.0, "(0, 95]", "%", "Mean distance of a stop from the start price (exponential); a "
                              "stop drawn beyond the position's liquidation price is put halfway to it.")
    round_share: float = num(0.5, "[0, 1]", "fraction", "Fraction of stops moved out to the next round number "
                             "(down for longs, up for shorts) when that is still inside the liquidation price.")
    round_step_usd: float = num(1000.0, "(0, 1e9]", "USD", "Round numbers are the multiples of this.")


@dataclass(frozen=True)
class TopUps:
    """``[topups]``: traders who add margin when their margin ratio (maintenance margin / equity at the mark)
    reaches a threshold."""

    share: float = num(0.0, "[0, 1]", "fraction", "Fraction of traders who top up; 0 = none.")
    threshold: float = num(0.8, "(0, 1)", "MM / equity", "They act when maintenance margin / equity reaches this "
                           "(liquidation is at 1).")
    target: float = num(0.4, "(0, topups.threshold)", "MM / equity", "A top-up adds what brings the ratio down to "
                        "this, at most the reserve left.")
    reserve: float = num(1.0, "(0, 100]", "× wallet", "Cash each of them can add over the run, as a multiple of the "
                         "wallet at the start.")
    delay_mean_s: float = num(30.0, "[0, 86400]", "s", "Mean reaction delay (exponential per trader); the margin "
                              "arrives at the first oracle tick after it.")


@dataclass(frozen=True)
class Funding:
    """``[funding]``: payments between longs and shorts at the venue's interval and by its formula."""

    enabled: bool = setting(True, "bool", "Settle funding at market.time_to_funding_s and every "
                            "venue.funding_interval_h after; false = none (the mark's funding term still uses "
                            "market.funding_rate_pct).")
    rate_pct: float | None = num(None, "[-5, 5]", "% per interval", "A fixed rate for every settlement instead of "
                                 "the venue's premium formula.", optional=True, shown_default="the formula")


class Draws(NamedTuple):
    """Per position row: stop trigger price (NaN = none), top-up reserve (USD) and reaction delay (ms)."""

    stop: np.ndarray
    reserve: np.ndarray
    delay_ms: np.ndarray


def none(n: int) -> Draws:
    """No stops and no top-ups for ``n`` rows."""
    return Draws(np.full(n, np.nan), np.zeros(n), np.zeros(n, np.int64))


def draw(stops: Stops, topups: TopUps, side: np.ndarray, kind: np.ndarray, wallet: np.ndarray, lp: np.ndarray,
         p0: float, rng: np.random.Generator) -> Draws:
    """Stops and top-up reserves of trader rows (the residual counterparty gets neither).

    Every row takes the same random numbers whatever the shares are, so raising a share adds behaviour to more
    traders without moving the others'.
    """
    n = side.size
    trader = kind == E.TRADER
    u_stop, u_round, u_topup = rng.random(n), rng.random(n), rng.random(n)
    d = rng.exponential(stops.distance_pct / 100.0, n)
    delay = rng.exponential(topups.delay_mean_s, n) if topups.delay_mean_s > 0 else np.zeros(n)
    long = side > 0
    past = np.where(long, lp >= p0, lp <= p0)  # already past its liquidation price: liquidated at the first tick
    stop = p0 * (1.0 - side * d)
    beyond = np.where(long, stop <= lp, stop >= lp)
    stop = np.where(beyond, 0.5 * (p0 + lp), stop)
    step = stops.round_step_usd
    snapped = np.where(long, np.floor(stop / step) * step, np.ceil(stop / step) * step)
    inside = np.where(long, snapped > lp, snapped < lp)
    stop = np.where((u_round < stops.round_share) & inside, snapped, stop)
    stop = np.where(trader & ~past & (u_stop < stops.share), stop, np.nan)
    reserve = np.where(trader & (u_topup < topups.share), topups.reserve * wallet, 0.0)
    return Draws(stop, reserve, np.round(delay * 1000.0).astype(np.int64))

