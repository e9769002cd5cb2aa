"""Trader behaviour and funding settings (``[stops]``, ``[topups]``, ``[arrivals]``, ``[funding]``).

docs/model.md §5.3 puts stop-loss orders and margin top-ups in the population; they are their own tables so each can be
switched off at once (``share = 0``, the default) and documented in one place. The draws come from the seed's
fourth stream (:func:`sim.world.population.behaviour_draws`), so switching a behaviour on does not change the
positions, the background flow or a GBM path. The engine side is :mod:`sim.kernels.behaviour`; docs/engine.md §9
states the rules.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.config.schema import num, setting


@dataclass(frozen=True)
class StopsTable:
    """``[stops]``: stop-loss orders in the population (market orders through the book when triggered)."""

    share: float = num(0.0, "[0, 1]", "fraction", "Fraction of traders with a stop-loss order; 0 = no stops.")
    distance_pct: float = num(
        3.0,
        "(0, 95]",
        "%",
        "Mean distance of a stop from the start price (exponential); a "
        "stop drawn beyond the position's liquidation price is put halfway to it.",
    )
    round_share: float = num(
        0.5,
        "[0, 1]",
        "fraction",
        "Fraction of stops moved out to the next round number "
        "(down for longs, up for shorts) when that is still inside the liquidation price.",
    )
    round_step_usd: float = num(1000.0, "(0, 1e9]", "USD", "Round numbers are the multiples of this.")


@dataclass(frozen=True)
class TopUpsTable:
    """``[topups]``: traders who add margin when their margin ratio (maintenance margin / equity at the mark)
    reaches a threshold."""

    share: float = num(0.0, "[0, 1]", "fraction", "Fraction of traders who top up; 0 = none.")
    threshold: float = num(
        0.8, "(0, 1)", "MM / equity", "They act when maintenance margin / equity reaches this (liquidation is at 1)."
    )
    target: float = num(
        0.4,
        "(0, topups.threshold)",
        "MM / equity",
        "A top-up adds what brings the ratio down to this, at most the reserve left.",
    )
    reserve: float = num(
        1.0, "(0, 100]", "× wallet", "Cash each of them can add over the run, as a multiple of the wallet at the start."
    )
    delay_mean_s: float = num(
        30.0,
        "[0, 86400]",
        "s",
        "Mean reaction delay (exponential per trader); the margin arrives at the first oracle tick after it.",
    )


@dataclass(frozen=True)
class ArrivalsTable:
    """``[arrivals]``: new positions opened during the run (docs/model.md §5.4), longs more often after a fall.

    Off by default (``rate_pct_per_h = 0``): the draws come from the seed's own ``arrivals`` stream, so switching
    arrivals on changes no other draw. An arrival is an isolated position with the population's leverage mix and
    sizes, opened by a market order through the book."""

    rate_pct_per_h: float = num(
        0.0,
        "[0, 1000]",
        "% per h",
        "Positions opened per hour in calm markets, as a percentage of the starting traders; sizes are drawn from "
        "those traders, so this is also the share of their notional opened per hour. 0 = no arrivals; 0.25 is the "
        "calibrated rate to turn them on with (open interest rebuilt after 2024–2025 sell-offs, docs/model.md §5.4).",
    )
    dip_multiplier: float = num(
        3.0,
        "[1, 100]",
        "×",
        "Buy the dip: the rate of long arrivals at a drawdown of arrivals.dip_drawdown_pct or more from the mark's "
        "rolling peak, as a multiple of their calm rate (linear in between; short arrivals keep their rate). 1 = none.",
    )
    dip_drawdown_pct: float = num(
        10.0, "(0, 100)", "%", "Drawdown from the mark's rolling peak at which long arrivals reach the multiple."
    )
    dip_window_s: float = num(3600.0, "(0, 86400]", "s", "Window of the mark's rolling peak.")


@dataclass(frozen=True)
class FundingTable:
    """``[funding]``: payments between longs and shorts at the venue's interval and by its formula."""

    enabled: bool = setting(
        True,
        "bool",
        "Settle funding at market.time_to_funding_s and every "
        "venue.funding_interval_h after; false = none (the mark's funding term still uses "
        "market.funding_rate_pct).",
    )
    rate_pct: float | None = num(
        None,
        "[-5, 5]",
        "% per interval",
        "A fixed rate for every settlement instead of the venue's premium formula.",
        optional=True,
        shown_default="the formula",
    )
