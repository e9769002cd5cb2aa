"""How prices are formed (``[prices]``): imposed by the shock path, or by spot venues, hedgers and arbitrageurs.

With ``model = "imposed"`` the index follows the shock path (pulled toward the perp's last price by
``market.index_coupling``), as liqsim did before; the golden runs and the replay of the recorded 10 Oct 2025 index
use it. With ``model = "endogenous"`` (the default) the shock path
is a *fundamental value* that informed traders pursue on a set of spot venues, each with its own book; the index is
made from those venues' prices by the venue's method; the perp's makers hedge on them and basis arbitrageurs trade
between them and the perp, so forced orders on the perp reach the index. docs/model.md §1.6 states the rules and
the calibration's sources; :mod:`sim.world.spot` holds the venue sets.

Calibration (docs/calibration.md; ``python docs/calibrate.py`` prints its tables): ``shape`` and ``resilience_s`` are
fitted so that a sale into the spot venues moves the index as the square-root law of metaorder impact predicts for
BTC in 2025, within the band its published inputs allow, and so that the default crash's realized move over the
fundamental one falls in the range of documented liquidation events; the 10 October 2025 recovery fixes the
resilience. The other traders' keys are assumptions the calibration checked (it stays in range with them) but did not
fit.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.config.schema import num, setting

CONSTITUENT_SETS = ("venue", "binance_index", "hyperliquid_oracle", "top4")


@dataclass(frozen=True)
class PricesTable:
    """``[prices]``: the price model, the spot venues of the index and the traders who connect them to the perp."""

    model: str = setting(
        "endogenous",
        "str",
        "imposed: the index follows the shock path (market.index_coupling pulls it toward the perp's last price; "
        "liqsim's earlier model, kept for comparison and the golden runs); "
        "endogenous: the shock path is a fundamental value that informed traders pursue on spot venues, and the index "
        "is made from those venues' prices, which the perp's hedgers and arbitrageurs also move.",
        choices=("imposed", "endogenous"),
    )
    constituents: str = setting(
        "venue",
        "str",
        "Endogenous: the spot venues of the index, with their weights and depths (docs/model.md §1.6); venue: the "
        "market venue's own (binance_index for Binance, Bybit and OKX, hyperliquid_oracle for Hyperliquid).",
        choices=CONSTITUENT_SETS,
    )
    index_method: str = setting(
        "venue",
        "str",
        "Endogenous: weighted_mean (Binance: constituents further than outlier_pct from the median get weight 0; "
        "with two or more such, the median), weighted_median (Hyperliquid's oracle), or venue: the market venue's.",
        choices=("venue", "weighted_mean", "weighted_median"),
    )
    outlier_pct: float = num(5.0, "(0, 100]", "%", "Weighted mean: a constituent this far from the median is left out.")
    stale_s: float = num(
        10.0, "[0, 86400]", "s", "A constituent in an outage leaves the index once its price is older than this."
    )
    depth_factor: float = num(
        1.0, "(0, 1e6]", "×", "Every spot venue's depth within 1% is its calibrated figure times this."
    )
    shape: float = num(
        1.25,
        "[0.5, 3]",
        "exponent",
        "Spot books hold depth ∝ distance^shape within a distance of the mid: 1 = even depth, 2 = depth growing "
        "with distance (a single sweep then moves the price by the square root of its size). Calibrated "
        "(docs/calibration.md): 1.25 puts sales into spot inside the square-root law's band while a crash still "
        "moves the index as far beyond the fundamental value as documented events did (2 would match the law's "
        "exponent in one sweep, but leaves the far book too deep for a cascade to overshoot as events did).",
    )
    resilience_s: float = num(
        300.0,
        "(0, 86400]",
        "s",
        "Half-life of consumed spot depth: the transient part of a move decays with it (the price's transient "
        "halves in shape × this). Calibrated (docs/calibration.md): BTC's transient after the low of 10 Oct 2025 "
        "halved in about 6 minutes, and impact at participation rates up to the market's volume then stays in the "
        "square-root law's band.",
    )
    permanent_share: float = num(
        0.3,
        "[0, 1]",
        "fraction",
        "Share of a spot trade's price move that stays once consumed depth has refilled (informed traders then "
        "restore the fundamental value). An assumption the calibration kept (docs/calibration.md).",
    )
    informed_half_life_s: float = num(
        20.0,
        "[0, 86400]",
        "s",
        "Informed traders close half of each spot venue's gap to the fundamental value in this time; 0 = none.",
    )
    venue_arb_half_life_s: float = num(
        2.0,
        "[0, 86400]",
        "s",
        "Arbitrageurs between spot venues close half of each venue's gap to the others' depth-weighted price in "
        "this time; 0 = none.",
    )
    hedge_share: float = num(
        0.5, "[0, 1]", "fraction", "Share of their perp inventory the perp's makers hedge on the spot venues."
    )
    hedge_threshold_usd: float = num(
        50e6,
        "[0, 1e12]",
        "USD",
        "Inventory the perp's makers carry unhedged (its notional at the index); they hedge hedge_share of what lies "
        "beyond it; without it the model cascades by itself at rest. An assumption (docs/calibration.md §6).",
    )
    hedge_latency_s: float = num(1.0, "[0, 3600]", "s", "How long the makers take to act on an inventory change.")
    hedge_capacity_usd_per_s: float = num(
        20e6, "[0, 1e12]", "USD/s", "The most the makers trade on spot per second (all venues)."
    )
    inventory_skew: float = num(
        0.0,
        "[0, 100]",
        "× the spot books' slope",
        "The perp's makers centre their quotes below the index when they hold long inventory they have not hedged "
        "(above it when short): by 1% per the constituents' combined depth within 1% of excess inventory beyond "
        "hedge_threshold_usd, times this (at most 50%). 1 = they price it at what selling it into the spot books "
        "at once would move them; 0 = they quote around the index whatever they hold. 10 Oct 2025's record "
        "allows about 0.03 at most (docs/model.md §1.6).",
    )
    home_share: float = num(
        0.5,
        "[0, 1]",
        "fraction",
        "Share of the hedgers' and arbitrageurs' spot orders sent to the home venue (the constituent set's first: "
        "Binance); the rest goes to every venue in proportion to its depth. An assumption (docs/model.md §1.6).",
    )
    arb_threshold_bps: float = num(
        10.0,
        "(0, 10000]",
        "bp",
        "Arbitrageurs open when the perp's mid is this far from the index; they close within half of it.",
    )
    arb_capital_usd: float = num(500e6, "[0, 1e13]", "USD", "The most perp notional the arbitrageurs hold.")
    arb_rate_usd_per_s: float = num(10e6, "[0, 1e12]", "USD/s", "How fast they trade, per leg.")
    arb_latency_s: float = num(
        2.0,
        "[0, 3600]",
        "s",
        "How long they take to act on the basis; at least one oracle interval (they see a tick's basis once its "
        "forced orders are through the book).",
    )
    withdrawal: bool = setting(
        False,
        "bool",
        "Spot makers pull depth as their venue's volatility and one-sided flow rise, by the rule and parameters of "
        "book.withdrawal_* (independent of book.withdrawal, which is the perp's). Off by default: not calibrated for "
        "spot, and with it the default crash overshoots beyond documented events (docs/calibration.md).",
    )
    outage_venue: str = setting(
        "",
        "str",
        "A constituent that stops trading (its price goes stale) from outage_start_s for outage_duration_s; empty = none.",
    )
    outage_start_s: float = num(0.0, "[0, scenario.duration_s]", "s", "When the outage starts.")
    outage_duration_s: float = num(0.0, "[0, 86400]", "s", "How long it lasts.")
