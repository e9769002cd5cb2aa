"""The scenario's tables: one frozen dataclass per TOML table (``[scenario]``, ``[market]``, ...).

Every key is a field whose ``metadata["spec"]`` (a :class:`sim.config.schema.Spec`) carries its type, unit, allowed
range and doc. The class names end in ``Table`` where the engine has array state of the same concept
(``MarketTable`` here, :class:`sim.state.MarketState` there). Reading, checking and loading are in
:mod:`sim.config.scenario`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

import numpy as np

from sim import venues
from sim.config import behaviour, mixes, prices
from sim.config.collateral import CollateralTable
from sim.config.instruments import RANGE_MAX_PCT, InstrumentsTable, PortfolioTable
from sim.config.schema import (
    REQUIRED,
    data_file,
    fmt,
    num,
    setting,
)

#: How far rounding sizes to whole lots may move the open interest or the mean background order (market.lot_size).
LOT_TOLERANCE_PCT = 1.0


@dataclass(frozen=True)
class ScenarioTable:
    """``[scenario]``: what the run is called and how long it lasts."""

    name: str = setting(
        "btc_flash_crash",
        "str",
        "Run name; used in output folder names.",
        pattern=r"[A-Za-z0-9_.-]+",
        allowed="letters, digits, `_`, `.`, `-`",
    )
    description: str = setting("", "str", "Free text for people; not used by the engine.")
    seed: int = num(
        0, "[0, 2**63)", "", "Seed of every random draw; the same scenario and seed give the same run.", kind="int"
    )
    duration_s: float = num(300.0, "(0, 86400]", "s", "Simulated time.")


@dataclass(frozen=True)
class Tier:
    """One ``[[market.tiers]]`` entry of the tiered maintenance margin."""

    notional_floor_usd: float = num(REQUIRED, "≥ 0", "USD", "Position notional at which the tier starts.")
    max_leverage: float = num(REQUIRED, "≥ 1", "×", "Largest leverage allowed in the tier.")
    mmr_pct: float = num(REQUIRED, "[0, 100)", "%", "Maintenance margin rate.")
    maintenance_amount_usd: float | None = num(
        None, "≥ 0", "USD", "Maintenance amount (cum); computed from the recurrence when omitted.", optional=True
    )


@dataclass(frozen=True)
class MarketTable:
    """``[market]``: venue, contract, fees, oracle and margin tiers."""

    venue: str = setting(
        "binance",
        "str",
        "Venue whose rule pack applies (tiers, partial liquidation, fees, mark, "
        "fund, ADL); see `liqsim venues` and override single rules in [venue].",
        choices=venues.VENUES,
    )
    venue_version: str | None = setting(
        None,
        "str",
        "Dated version of the venue's rule pack; unset = the default (newest documented) one.",
        optional=True,
        shown_default="newest",
        allowed="a version `liqsim venues` lists for the venue",
    )
    asset: str = setting(
        "BTC",
        "str",
        "Which of the pack's tier tables applies (SOL and ALT, a generic alt with AVAX's numbers: newest packs).",
        choices=venues.ASSETS,
    )
    symbol: str = setting("BTCUSDT", "str", "Contract name, for labels.")
    start_price_usd: float = num(121000.0, "(0, 1e9]", "USD", "Index, mark and last price at t = 0.")
    tick_size_usd: float = num(
        0.1, "(0, market.start_price_usd / 10]", "USD", "Price tick; the book has one level per tick."
    )
    lot_size: float = num(
        0.001,
        "(0, 1e6]",
        "base units",
        "Quantity step of orders and of the synthetic positions' sizes (each at least one lot). Rounding the sizes "
        f"may move the open interest, and the mean background order, by at most {LOT_TOLERANCE_PCT:g}%: a lot "
        "too coarse for population.open_interest_usd spread over population.n_positions is refused.",
    )
    taker_fee_bps: float = num(
        5.0, "[0, 100]", "bp", "Taker fee of background orders, paid to the venue's fee account."
    )
    index_coupling: float = num(
        0.3, "[0, 1]", "fraction", "How far the index is pulled from the shock path toward the perp's last price."
    )
    oracle_interval_s: float = num(1.0, "[0.01, 60]", "s", "Index/mark update period.")
    funding_rate_pct: float = num(
        0.01,
        "[-5, 5]",
        "% per interval",
        "The last funding rate settled before t = 0; the "
        "mark's funding term uses it until the run's first settlement ([funding]).",
    )
    time_to_funding_s: float | None = num(
        None,
        "[0, 86400]",
        "s",
        "Time to a funding settlement at t = 0, modulo venue.funding_interval_h; unset = half the interval.",
        optional=True,
        shown_default="half the interval",
    )
    tiers: tuple[Tier, ...] | None = setting(
        None,
        "tiers",
        "Tiered maintenance margin replacing the venue pack's table (see [[market.tiers]] below).",
        type_name="array of tables",
        optional=True,
        allowed="see below",
        shown_default="the pack's table for market.asset",
    )

    def pack(self) -> venues.Pack:
        """The venue's rule pack (the default version unless ``venue_version`` is set)."""
        return venues.pack(self.venue, self.venue_version)

    def tier_table(self) -> tuple[Tier, ...]:
        """The tiers in force, in USD notional: ``tiers`` if given, else the pack's table for ``asset`` (a
        venue whose tiers are set in position size has them valued at ``start_price_usd`` here; the engine
        itself reads those in coins, :func:`sim.engine.trigger_tiers`)."""
        if self.tiers is not None:
            return self.tiers
        rows = self.pack().tier_rows(self.asset, self.start_price_usd)  # OKX's tiers are sized in coins
        return tuple(Tier(r.notional_floor_usd, r.max_leverage, r.mmr_pct, r.maintenance_amount_usd) for r in rows)

    def tier_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The tiers in force as engine arrays (without any fee a venue adds in its trigger).

        Returns
        -------
        floor, mmr, cum, max_leverage : numpy.ndarray of float64
            Notional floors (USD), maintenance margin rates as fractions, maintenance amounts (USD) and
            maximum leverages, one entry per tier.
        """
        cols = [
            (t.notional_floor_usd, t.mmr_pct / 100.0, t.maintenance_amount_usd, t.max_leverage)
            for t in self.tier_table()
        ]
        arrays = tuple(np.array(c, dtype=np.float64) for c in zip(*cols))
        return cast(tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], arrays)  # one per column


@dataclass(frozen=True)
class PopulationTable:
    """``[population]``: the synthetic trader positions, or a CSV of explicit ones."""

    n_positions: int = num(100000, "[1, 50_000_000]", "positions", "Number of trader positions.", kind="int")
    open_interest_usd: float = num(
        8e9,
        "[0, 1e13]",
        "USD",
        "Open interest: total notional of the larger side at "
        "the start price; positions are scaled to it; 0 keeps sizes as drawn.",
    )
    long_share: float = num(0.6, "[0, 1]", "fraction", "Fraction of positions that are long.")
    leverage_mix: str | tuple[tuple[float, float], ...] = setting(
        mixes.DEFAULT,
        "mix",
        "Leverage → weight; weights are normalised. Write a fractional leverage as a quoted "
        'key ("2.5" = 0.1). Or a named mix: '
        + "; ".join(f'"{k}" = `{mixes.text(m)}`' for k, m in mixes.NAMED.items())
        + ' ("balanced" is the default). A table given here must fit the venue\'s first '
        "tier; a named mix and the default (its table too) are capped instead: every position opens at most at its "
        "tier's max_leverage (so 50 and 100 become 40 on Hyperliquid).",
        type_name="table or name",
        allowed=f"leverage in [1, market.tiers[0].max_leverage] = weight ≥ 0, or one of {', '.join(mixes.NAMED)}",
        shown_default=f"`{mixes.text(mixes.DEFAULT)}`",
    )
    leverage_mix_short: str | tuple[tuple[float, float], ...] | None = setting(
        None,
        "mix",
        "Leverage mix of the short positions, written like leverage_mix; unset = shorts draw from leverage_mix "
        "too. Setting it leaves the longs' draws as they were.",
        type_name="table or name",
        optional=True,
        allowed="as population.leverage_mix",
        shown_default="population.leverage_mix",
    )
    notional_min_usd: float = num(
        200.0,
        "(0, 1e9]",
        "USD",
        "Pareto scale of position notional, as drawn: it "
        "bounds the notional before the sizes are scaled to open_interest_usd (the "
        "scaling multiplies every size by one factor).",
    )
    size_tail_alpha: float = num(
        1.5,
        "(0, 10]",
        "",
        "Pareto tail exponent of position notional: P(notional > x) ~ x^−alpha. Below 1 the mean is infinite and "
        "the largest positions hold most of the open interest, as on real venues (docs/model.md §5.1).",
    )
    notional_max_usd: float = num(
        20e6,
        "[population.notional_min_usd, 1e300]",
        "USD",
        "Largest position notional as drawn (the Pareto draw is capped here), before "
        "the sizes are scaled to open_interest_usd (one factor for every size). 1e300 = no cap.",
    )
    entry_lookback_h: float = num(
        72.0,
        "[0, 720]",
        "h",
        "Entries are spread over the last this many hours of the price history (synthetic, or history_file: "
        "all of it if it is shorter).",
    )
    entry_volatility_pct_per_day: float = num(
        3.0, "[0, 100]", "% per day", "Volatility of the synthetic price history (not with history_file)."
    )
    history_file: str | None = data_file(
        "Recorded price history before the run (CSV: timestamp, price and optionally volume; # lines are "
        "comments; timestamps as for shock.file, unit read from the first). Its last row is the run's start: the "
        "history is scaled so that it ends at market.start_price_usd. Entries are drawn along its last "
        "entry_lookback_h hours instead of a synthetic history; volume is the volume traded since the row before."
    )
    entry_weighting: str = setting(
        "time",
        "str",
        "How entries are spread along the history: time (every moment equally likely) or volume (in proportion "
        "to the volume traded; needs history_file with a volume column).",
        choices=("time", "volume"),
    )
    survival_screen: bool = setting(
        False,
        "bool",
        "Positions whose liquidation price the history crossed between their entry and the start are gone: "
        "positions are opened along the history until n_positions have survived (the leverage mix is then that "
        "of positions as opened). false: only positions past their liquidation price at the start price are "
        "redrawn.",
    )
    cross_share: float = num(0.3, "[0, 1]", "fraction", "Fraction of positions in cross margin mode.")
    cross_spare: str = setting(
        "exponential",
        "str",
        "Distribution of a cross account's spare balance (beyond its position's initial margin): exponential "
        "(mean cross_spare_mean) or lomax, a Pareto tail (median cross_spare_median, tail index "
        "cross_spare_tail_alpha) that gives some accounts many times the margin they need, so their effective "
        "leverage (notional / equity) is below 1×.",
        choices=("exponential", "lomax"),
    )
    cross_spare_mean: float = num(
        1.0, "[0, 100]", "× initial margin", "Mean spare balance of a cross account (cross_spare = exponential)."
    )
    cross_spare_median: float = num(
        1.0, "(0, 1e6]", "× initial margin", "Median spare balance of a cross account (cross_spare = lomax)."
    )
    cross_spare_tail_alpha: float = num(
        1.0, "(0, 10]", "", "Tail index of the spare balance (cross_spare = lomax): P(spare > x) ~ x^−alpha."
    )
    counterparty_leverage: float = num(1.0, "[1, 125]", "", "Leverage of the account holding the long/short residual.")
    file: str | None = data_file(
        "Positions CSV (side, size, entry_price, margin or leverage, mode, wallet) used "
        "instead of the synthetic population; the other keys above except "
        "counterparty_leverage may not be set with it. Every row must have equity > 0 at "
        "market.start_price_usd and a leverage (size·entry_price / margin) within the "
        "max_leverage of the tier of its notional; a solvent row already past its "
        "liquidation price is allowed and is liquidated at the first tick."
    )
    positions: dict[str, np.ndarray] | None = field(default=None, compare=False, repr=False)
    history: dict[str, np.ndarray] | None = field(default=None, compare=False, repr=False)

    def leverage_mix_arrays(self, short: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Leverages and their probabilities (weights normalised to sum to 1), as float64 arrays; a named mix is
        resolved (:mod:`sim.config.mixes`). ``short``: the shorts' mix (``leverage_mix_short`` if set)."""
        mix = self.leverage_mix_short if short and self.leverage_mix_short is not None else self.leverage_mix
        return mixes.arrays(mix)


# Synthetic-population keys that make no sense next to an explicit positions file.
GENERATED = (
    "n_positions",
    "open_interest_usd",
    "long_share",
    "leverage_mix",
    "notional_min_usd",
    "size_tail_alpha",
    "notional_max_usd",
    "entry_lookback_h",
    "entry_volatility_pct_per_day",
    "history_file",
    "entry_weighting",
    "survival_screen",
    "leverage_mix_short",
    "cross_share",
    "cross_spare",
    "cross_spare_mean",
    "cross_spare_median",
    "cross_spare_tail_alpha",
)


@dataclass(frozen=True)
class BookTable:
    """``[book]``: the resting order book and the background order flow."""

    depth_usd_1pct: float = num(
        270e6,
        "(0, 1e13]",
        "USD per side",
        "Resting depth within 1% of the fair price "
        "(BTCUSDT perp median on 10 Oct 2025 before the crash: about 240–300M).",
    )
    shape: float = num(0.8, "(0, 5]", "", "Cumulative depth within x% grows as x^shape.")
    range_pct: float = num(
        40.0,
        f"(0, {fmt(RANGE_MAX_PCT)}]",
        "%",
        "The ladder spans start_price·(1 ± range_pct/100); it must hold the whole shock path plus a 1-point margin.",
    )
    refill_half_life_s: float = num(30.0, "(0, 86400]", "s", "Half-life of makers refilling a taken level.")
    noise_rate_per_s: float = num(2.0, "[0, 1000]", "orders/s", "Rate of background market orders.")
    noise_notional_median_usd: float = num(20000.0, "(0, 1e10]", "USD", "Median notional of a background order.")
    noise_notional_sigma: float = num(1.0, "[0, 5]", "", "Lognormal sigma of background order notional.")
    noise_band_pct: float = num(2.0, "(0, 50]", "%", "Background orders fill at most this far from the index.")
    withdrawal: bool = setting(
        False,
        "bool",
        "Makers pull depth as the index's volatility and one-sided taker flow "
        "rise, and return as it calms (the withdrawal_* keys).",
    )
    withdrawal_volatility_pct: float = num(
        0.1,
        "(0, 100]",
        "% per √s",
        "Index volatility (average absolute move per √second) at which makers keep half their depth.",
    )
    withdrawal_flow_share: float = num(
        0.02,
        "(0, 100]",
        "× depth_usd_1pct per s",
        "One-sided taker flow per second, as a share of depth_usd_1pct, at which makers keep half their depth.",
    )
    withdrawal_window_s: float = num(10.0, "[0.01, 3600]", "s", "Time constant of the volatility and flow averages.")
    withdrawal_floor: float = num(0.05, "(0, 1]", "fraction", "The least share of their depth makers keep.")
    withdrawal_recovery_s: float = num(
        30.0, "(0, 86400]", "s", "Half-life of the makers' return as it calms (they pull at once)."
    )
    withdrawal_spread_bps: float = num(
        0.0,
        "[0, 1000]",
        "bp",
        "Makers also widen the book: at their floor they "
        "quote nothing within this of the fair price, in between in proportion to "
        "what they pulled; 0 = they thin it without widening.",
    )
    file: str | None = data_file(
        "Levels CSV (side, price, size) replacing the synthetic ladder; prices on the "
        "tick grid, bids below and asks above the start price, within the range."
    )
    levels: dict[str, np.ndarray] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class ShockTable:
    """``[shock]``: the exogenous index path."""

    kind: str = setting(
        "ramp",
        "str",
        "none: flat; gap: jump at start_s; ramp: linear move over duration_s; "
        "replay: a recorded path from file; gbm: geometric Brownian motion with Poisson jumps "
        "from start_s, drawn from scenario.seed; flow: no move of the fundamental value, but flow_usd of market "
        "orders sent over duration_s from start_s into flow_into. Under prices.model = endogenous the path of the "
        "other kinds is the fundamental value that informed traders pursue.",
        choices=("none", "gap", "ramp", "replay", "gbm", "flow"),
    )
    start_s: float = num(
        60.0,
        "[0, scenario.duration_s]",
        "s",
        "When the shock starts (not checked against "
        "scenario.duration_s for kind none). Replay: the recorded path starts here; before it "
        "the index stays at the path's first price.",
    )
    size_pct: float = num(
        -10.0,
        "(-95, 95]",
        "%",
        "Size of the move for gap and ramp (−10 = a 10% fall); the end "
        "price must also lie inside the book ladder less 1 point (book.range_pct).",
    )
    duration_s: float = num(60.0, "(0, 86400]", "s", "Length of a ramp, or of a flow.")
    flow_usd: float = num(
        -100e6,
        "[-1e12, 1e12]",
        "USD",
        "Flow: notional of market orders sent, spread evenly over duration_s (negative: sold).",
    )
    flow_into: str = setting(
        "perp",
        "str",
        "Flow: where the orders go: the perp's book, the spot venues (in proportion to their depth; needs "
        "prices.model = endogenous), or both (half each).",
        choices=("perp", "spot", "both"),
    )
    file: str | None = data_file(
        "Path CSV (timestamp, price) to replay; required for replay, not allowed "
        "otherwise. Lines starting with # are comments (e.g. the data's source)."
    )
    time_unit: str = setting(
        "auto",
        "str",
        "Replay: unit of the file's timestamps. auto reads it from the first one: a Unix time between 1990 and 2100 "
        "in seconds, milliseconds, microseconds or nanoseconds, or below 6.31e8 (1990 in seconds) seconds from any "
        "origin; every other row must be in the same range. s, ms, us, ns: that unit, whatever the size.",
        choices=("auto", "s", "ms", "us", "ns"),
    )
    rescale: bool = setting(True, "bool", "Replay: scale the path so it starts at market.start_price_usd.")
    move_scale: float = num(
        1.0,
        "(0, 10]",
        "×",
        "Replay: every move of the recorded path from its first price, in log terms, times this (0.5 = half the "
        "recorded fall: a smaller fundamental shock, to see how much of the rest a cascade adds).",
    )
    volatility_pct_per_day: float = num(3.0, "[0, 100]", "% per √day", "GBM: volatility of the index.")
    drift_pct_per_day: float = num(0.0, "[-50, 50]", "% per day", "GBM: drift of the index.")
    jump_rate_per_h: float = num(0.0, "[0, 3600]", "jumps/h", "GBM: Poisson rate of jumps.")
    jump_mean_pct: float = num(
        -3.0, "(-50, 50]", "%", "GBM: mean jump size (a log-jump is normal around log(1 + mean/100))."
    )
    jump_sd_pct: float = num(2.0, "[0, 50]", "%", "GBM: standard deviation of a log-jump.")
    step_s: float = num(1.0, "[0.01, 3600]", "s", "GBM: time between points of the path.")
    liquidity_factor: float = num(
        1.0,
        "(0, 10]",
        "×",
        "Liquidity shock: every book level's target size is "
        "multiplied by this (0.1 = makers pull 90% at once); 1 = none. Any index kind.",
    )
    liquidity_start_s: float = num(0.0, "[0, scenario.duration_s]", "s", "When the liquidity shock starts.")
    liquidity_duration_s: float = num(
        0.0,
        "[0, 86400]",
        "s",
        "How long it lasts; 0 = to the end of the run. Afterwards the book refills with book.refill_half_life.",
    )
    path: dict[str, np.ndarray] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class InsuranceFundTable:
    """``[insurance_fund]``: the fund's money and how it works off taken-over positions."""

    initial_usd: float = num(50e6, "[0, 1e13]", "USD", "Balance at t = 0 (the backstop vault's on Hyperliquid).")
    isolated_initial_usd: float | None = num(
        None,
        "[0, 1e13]",
        "USD",
        "Balance at t = 0 of an isolated market's own fund (venue.market_type = isolated, dYdX); a cross market "
        "uses initial_usd, the venue's shared fund.",
        optional=True,
        shown_default="insurance_fund.initial_usd",
    )
    unwind_interval_s: float = num(5.0, "(0, 3600]", "s", "How often the fund sells down its inventory.")
    unwind_fraction: float = num(0.2, "(0, 1]", "fraction", "Share of the inventory offered per unwind.")
    unwind_band_pct: float = num(0.5, "(0, 50]", "%", "Unwind orders fill at most this far from the index.")


@dataclass(frozen=True)
class AdlTable:
    """``[adl]``: auto-deleveraging."""

    enabled: bool = setting(
        True, "bool", "Close opposite positions when the fund cannot take over; false makes the fund take everything."
    )
    policy: str = setting(
        "venue_queue",
        "str",
        "Who is deleveraged: venue_queue closes whole positions in the "
        "venue's ranking order (venue.adl_ranking); pro_rata cuts every winner by the same fraction "
        "of its contracts; leverage_drain cuts the most levered first, down to one common "
        "leverage.",
        choices=("venue_queue", "pro_rata", "leverage_drain"),
    )


@dataclass(frozen=True)
class OutputTable:
    """``[output]``: where results go."""

    dir: str = setting(
        "",
        "str",
        "Output folder; empty means `runs/<name>`, the name being `scenario.name` when the file or an override sets it, else the file's name without `.toml`.",
    )
    sample_interval_s: float = num(1.0, "(0, 3600]", "s", "Period of the time-series samples.")
    plot: bool = setting(True, "bool", "Draw the summary plots.")


TABLES: dict[str, type] = {
    "scenario": ScenarioTable,
    "market": MarketTable,
    "venue": venues.VenueTable,
    "population": PopulationTable,
    "stops": behaviour.StopsTable,
    "topups": behaviour.TopUpsTable,
    "arrivals": behaviour.ArrivalsTable,
    "book": BookTable,
    "shock": ShockTable,
    "prices": prices.PricesTable,
    "funding": behaviour.FundingTable,
    "insurance_fund": InsuranceFundTable,
    "adl": AdlTable,
    "output": OutputTable,
    "instruments": InstrumentsTable,
    "portfolio": PortfolioTable,
    "collateral": CollateralTable,
}
