"""The shapes of a venue rule pack, the tier arithmetic, and the ``[venue]`` override table.

A pack is one venue's liquidation rules at one date: a :class:`Rules` record (every overridable parameter)
and tiered maintenance-margin tables per asset (:class:`TierRow`). Maintenance margin is the "tax bracket"
form every venue here uses: ``MM = notional × MMR(tier) − amount(tier)`` with
``amount_n = amount_{n−1} + floor_n × (MMR_n − MMR_{n−1})`` and ``amount_1 = 0``, which makes MM continuous
in notional (docs/model.md §2.2). Rates are in percent, money in USD (USDT/USDC taken at par).

:class:`VenueTable` is the scenario's ``[venue]`` table: one optional key per :class:`Rules` field, declared
with the same spec helpers as :mod:`sim.config.scenario`; an absent key (None) keeps the pack's value, and
:func:`resolve` applies the given ones.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from sim.config.schema import breaks, fmt, must, num, setting, specs

# The allowed values of the string rules; the engine maps them to its own integer codes.
MM_BASES = ("mark", "entry")
PARTIAL_RULES = ("step_down_ioc", "step_down_fok", "to_tier", "slices", "none")
SETTLES = ("bankruptcy", "fill", "fillable")
MARK_METHODS = ("binance", "index_basis", "hyperliquid", "oracle")
ADL_RANKINGS = ("pnl_leverage", "leverage_pnl", "hyperliquid", "random")
MARKET_TYPES = ("cross", "isolated")
ADL_PRICES = ("bankruptcy", "mark", "previous_mark")
ADL_TRIGGERS = ("deficit", "capacity")
FUNDING_PRICES = ("mark", "index")
FUNDING_WEIGHTINGS = ("linear", "equal")
STOP_TRIGGERS = ("last", "mark")


@dataclass(frozen=True)
class TierRow:
    """One maintenance-margin tier; field names match ``[[market.tiers]]`` of a scenario."""

    notional_floor_usd: float  # position notional at which the tier starts
    max_leverage: float  # largest leverage a position of this size may be opened with
    mmr_pct: float  # maintenance margin rate, percent
    maintenance_amount_usd: float  # "cum" / deduction, from the recurrence


@dataclass(frozen=True)
class Rules:
    """Every overridable liquidation rule of a venue; the field names are the keys of ``[venue]``.

    The docs of :class:`VenueTable` say what each one means; the packs' notes say where each value comes from.
    """

    clearance_fee_pct: float
    liquidation_band_pct: float
    trigger_includes_fee: bool
    mm_basis: str
    partial_rule: str
    partial_min_tier: int
    partial_tiers_down: int
    partial_cooldown_s: float
    slice_threshold_usd: float
    slice_fraction: float
    settle: str
    backstop_mm_fraction: float
    mark_method: str
    mark_basis_window_s: float
    mark_ema_slow_s: float
    mark_ema_fast_s: float
    max_inventory_pct: float
    adl_drawdown_pct: float
    adl_drawdown_window_h: float
    adl_ranking: str
    adl_price: str
    adl_trigger: str
    funding_interval_h: float
    funding_interest_pct: float
    funding_clamp_pct: float
    funding_cap_pct: float
    funding_price: str
    funding_weighting: str
    stop_trigger: str
    # dYdX's rules (settle = "fillable"); the defaults leave every other venue as it was
    fillable_smmr: float = 1.5
    fillable_ba: float = 1.0
    liquidation_fee_cap: bool = True
    block_s: float = 1.0
    block_position_pct: float = 100.0
    block_position_min_usd: float = 0.0
    block_account_usd: float = 0.0
    block_fund_loss_usd: float = 0.0
    market_type: str = "cross"
    funding_cap_margin_factor: float = 0.0
    block_liquidations: int = 0
    block_deleveragings: int = 0
    deleverage_holders: int = 0


@dataclass(frozen=True)
class Pack:
    """One venue's rules at one date.

    ``tiers`` maps an asset ("BTC", "ETH", and in the newest packs "SOL", "ALT") to its tier rows, lowest first; it is a read-only mapping and takes
    no part in hashing (the rest of the pack identifies it). ``version`` is the date of the source of the
    numbers ("YYYY", "YYYY-MM" or "YYYY-MM-DD"); ``notes`` hold the provenance, one line each, tagged
    [DOC]/[CODE]/[SEC]/[INF]/[VER] as in docs/model.md §11.1.

    Most venues set their tiers in USD notional. A venue that sets them in position *size* (OKX: contracts of a
    fixed number of coins) has its floors in coins in ``size_floors`` (asset → floors, lowest first); its
    ``tiers`` are then those floors turned into USD at ``reference_price_usd[asset]``, for display, and
    :meth:`tier_rows` turns them into USD at any other price. Both mappings are empty for USD-notional packs.
    """

    venue: str
    version: str
    source: str
    rules: Rules
    tiers: Mapping[str, tuple[TierRow, ...]] = field(hash=False)
    notes: tuple[str, ...]
    size_floors: Mapping[str, tuple[float, ...]] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    reference_price_usd: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    #: The maintenance rate follows from the asset's maximum leverage, MMR = 1 / (2 × max leverage) (Hyperliquid):
    #: a calculator given another maximum leverage derives the rates from it, not from the table.
    mmr_from_max_leverage: bool = False
    #: Collateral the venue takes for perpetuals margin: asset → rows ``(floor in units of the asset, ratio)``,
    #: lowest first (:mod:`sim.venues.collateral`); empty for a version without a table (quote currency only).
    collateral: Mapping[str, tuple[tuple[float, float], ...]] = field(
        default_factory=lambda: MappingProxyType({}), hash=False
    )

    def sized_in_coins(self, asset: str) -> bool:
        """True when this pack sets the asset's tiers in position size (coins), not in USD notional."""
        return asset in self.size_floors

    def tier_rows(self, asset: str, price: float) -> tuple[TierRow, ...]:
        """The asset's tier table in USD notional for positions valued at ``price``.

        For a pack whose tiers are set in USD notional this is ``tiers[asset]`` itself, whatever the price. For
        one whose tiers are set in position size (:meth:`sized_in_coins`), each floor is its size floor (coins)
        times ``price``, and the maintenance amounts are recomputed from those floors by the recurrence of
        :func:`maintenance_amounts`; leverages and rates are unchanged. So a position of size ``Q`` valued at
        ``price`` falls in the tier of its size: ``Q × price`` ≥ ``floor × price`` exactly when ``Q`` ≥ ``floor``.
        At ``reference_price_usd[asset]`` the result equals ``tiers[asset]``.

        Parameters
        ----------
        asset : str
            An asset of ``tiers`` ("BTC", "ETH").
        price : float
            USD per coin, finite and > 0; used only by packs whose tiers are set in size.

        Returns
        -------
        tuple of TierRow

        Raises
        ------
        KeyError
            For an asset the pack has no table for.
        ValueError
            For a price that is not a finite number > 0 (size-set packs only).
        """
        base = self.tiers[asset]
        if asset not in self.size_floors:
            return base
        if isinstance(price, bool) or not isinstance(price, numbers.Real) or not 0 < float(price) < math.inf:
            raise ValueError(f"price = {price!r}: must be a finite number > 0 (USD per {asset})")
        return sized_rows(self.size_floors[asset], base, float(price))


# --------------------------------------------------------------------------------------------- tier arithmetic


def maintenance_amounts(floors: Sequence[float], mmrs_pct: Sequence[float]) -> tuple[float, ...]:
    """The maintenance amounts of a tier table from its floors and rates.

    ``amount_1 = 0`` and ``amount_n = amount_{n−1} + floor_n × (MMR_n − MMR_{n−1}) / 100``. Summed in decimal
    arithmetic on the numbers as written, so a published table's round amounts come out exactly.

    Parameters
    ----------
    floors : sequence of float
        Notional floor of each tier, USD, lowest first.
    mmrs_pct : sequence of float
        Maintenance margin rate of each tier, percent.

    Returns
    -------
    tuple of float
        One amount per tier, USD.
    """
    if len(floors) != len(mmrs_pct):
        raise ValueError(f"{len(floors)} floors but {len(mmrs_pct)} rates: one of each per tier")
    out, total = [], Decimal(0)
    for i, (floor, mmr) in enumerate(zip(floors, mmrs_pct)):
        if i:
            total += Decimal(repr(float(floor))) * (Decimal(repr(float(mmr))) - Decimal(repr(float(mmrs_pct[i - 1]))))
        out.append(float(total / 100))
    return tuple(out)


def sized_rows(size_floors: Sequence[float], ladder: Sequence[TierRow], price: float) -> tuple[TierRow, ...]:
    """A tier table set in position size, in USD at ``price``.

    Floors are ``size_floors × price``; leverages and rates are those of ``ladder`` (one row per floor);
    maintenance amounts come from the recurrence on the new floors.
    """
    if len(size_floors) != len(ladder):
        raise ValueError(f"{len(size_floors)} size floors but {len(ladder)} tiers: one of each per tier")
    floors = [float(f) * price for f in size_floors]
    amounts = maintenance_amounts(floors, [t.mmr_pct for t in ladder])
    return tuple(TierRow(f, t.max_leverage, t.mmr_pct, a) for f, t, a in zip(floors, ladder, amounts))


def tier_index(tiers: Sequence[TierRow], notional_usd: float) -> int:
    """The 0-based index of the tier a position of this notional (USD, ≥ 0) falls in."""
    return max(bisect.bisect_right([t.notional_floor_usd for t in tiers], notional_usd) - 1, 0)


def maintenance_margin_usd(tiers: Sequence[TierRow], notional_usd: float) -> float:
    """Maintenance margin of a position of this notional: ``notional × MMR − amount`` of its tier, USD."""
    t = tiers[tier_index(tiers, notional_usd)]
    return notional_usd * t.mmr_pct / 100.0 - t.maintenance_amount_usd


def tier_problems(tiers: Sequence[TierRow]) -> list[str]:
    """What is wrong with a tier table (empty list if nothing).

    A table must start at notional 0, have increasing floors, non-increasing max leverage, non-decreasing
    rates, amounts from the recurrence, and no tier where a position opened at the tier's max leverage is
    already below maintenance (``1/max_leverage > MMR``).
    """
    if not tiers:
        return ["no tiers"]
    problems = []
    if tiers[0].notional_floor_usd != 0:
        problems.append(f"tier 1 starts at {fmt(tiers[0].notional_floor_usd)} USD, not 0")
    for n, (prev, t) in enumerate(zip(tiers, tiers[1:]), start=2):
        if t.notional_floor_usd <= prev.notional_floor_usd:
            problems.append(f"tier {n}: floor {fmt(t.notional_floor_usd)} not above tier {n - 1}'s")
        if t.max_leverage > prev.max_leverage:
            problems.append(f"tier {n}: max leverage {fmt(t.max_leverage)} above tier {n - 1}'s")
        if t.mmr_pct < prev.mmr_pct:
            problems.append(f"tier {n}: MMR {fmt(t.mmr_pct)}% below tier {n - 1}'s")
    for n, t in enumerate(tiers, start=1):
        if not 0 < t.mmr_pct < 100:
            problems.append(f"tier {n}: MMR {fmt(t.mmr_pct)}% not in (0, 100)")
        if t.max_leverage < 1:
            problems.append(f"tier {n}: max leverage {fmt(t.max_leverage)} below 1")
        elif 100.0 / t.max_leverage <= t.mmr_pct:
            problems.append(
                f"tier {n}: at its max leverage {fmt(t.max_leverage)} a position opens at or below "
                f"maintenance (MMR {fmt(t.mmr_pct)}%)"
            )
    expected = maintenance_amounts([t.notional_floor_usd for t in tiers], [t.mmr_pct for t in tiers])
    for n, (t, amount) in enumerate(zip(tiers, expected), start=1):
        if abs(t.maintenance_amount_usd - amount) > 1e-9 * max(1.0, abs(amount)):
            problems.append(
                f"tier {n}: maintenance amount {fmt(t.maintenance_amount_usd)} but the recurrence gives {fmt(amount)}"
            )
    return problems


# ------------------------------------------------------------------------------------------ the [venue] table

_PACK = "venue pack"


def _opt(rng: str, unit: str, doc: str, **kw: Any) -> Any:
    """An optional number key whose absence means "the pack's value"."""
    return num(None, rng, unit, doc, optional=True, shown_default=_PACK, **kw)


def _opt_choice(choices: tuple[str, ...], doc: str) -> Any:
    return setting(None, "str", doc, choices=choices, optional=True, shown_default=_PACK)


@dataclass(frozen=True)
class VenueTable:
    """``[venue]``: overrides of the chosen venue pack's rules; a key left out keeps the pack's value."""

    clearance_fee_pct: float | None = _opt(
        "[0, 10]",
        "%",
        "Liquidation clearance fee on liquidated notional, paid to the insurance fund (Hyperliquid: none).",
    )
    liquidation_band_pct: float | None = _opt(
        "[0, 50]",
        "%",
        "A full liquidation's IOC may fill this far beyond the bankruptcy price while the fund can pay the gap.",
    )
    trigger_includes_fee: bool | None = setting(
        None,
        "bool",
        "Liquidate when equity ≤ maintenance margin + clearance fee (OKX) rather than ≤ maintenance margin.",
        optional=True,
        shown_default=_PACK,
    )
    mm_basis: str | None = _opt_choice(
        MM_BASES,
        "Maintenance margin on notional at the mark (mark) or at the entry price (entry: Bybit isolated USDT).",
    )
    partial_rule: str | None = _opt_choice(
        PARTIAL_RULES,
        "How large positions are reduced before a full "
        "liquidation: tier step-down by IOC or FOK, down to a tier, fixed "
        "slices, or none.",
    )
    partial_min_tier: int | None = _opt(
        "[1, 1000]", "tier", "1-based tier from which partial liquidation applies.", kind="int"
    )
    partial_tiers_down: int | None = _opt(
        "[0, 1000]", "tiers", "to_tier only: 0 reduces to tier 1, k drops k tiers.", kind="int"
    )
    partial_cooldown_s: float | None = _opt(
        "[0, 3600]",
        "s",
        "After a partial: tier rules freeze the position "
        "this long; slices: orders are for the whole position this long.",
    )
    slice_threshold_usd: float | None = _opt(
        "≥ 0", "USD", "slices only: positions above this notional are reduced by slices."
    )
    slice_fraction: float | None = _opt("(0, 1]", "fraction", "slices only: share of the position sent per slice.")
    settle: str | None = _opt_choice(
        SETTLES,
        "bankruptcy: the trader loses the whole margin, the fund gets fill "
        "vs bankruptcy; fill: the trader is settled at the fill and keeps the rest; fillable (dYdX): one IOC order "
        "per block at the fillable price, the fund pays each fill's gap below bankruptcy and takes a fee out of "
        "what is above it, and an account under water whose order filled nothing is deleveraged.",
    )
    backstop_mm_fraction: float | None = _opt(
        "[0, 1)",
        "fraction of MM",
        "A backstop vault takes the position "
        "over when equity falls below this fraction of maintenance "
        "margin; 0 = no backstop. With a backstop, an account already "
        "under water goes to ADL instead (Hyperliquid).",
    )
    mark_method: str | None = _opt_choice(
        MARK_METHODS,
        "Mark price: median of three (binance), index plus a "
        "moving-average basis (index_basis), or Hyperliquid's EMA median.",
    )
    mark_basis_window_s: float | None = _opt(
        "[0, 3600]", "s", "Window of the basis moving average (binance, index_basis)."
    )
    mark_ema_slow_s: float | None = _opt("[0, 3600]", "s", "hyperliquid: time constant of the oracle-basis EMA.")
    mark_ema_fast_s: float | None = _opt("[0, 3600]", "s", "hyperliquid: time constant of the EMA of the book median.")
    max_inventory_pct: float | None = _opt(
        "[0, 10000]",
        "% of equity",
        "Largest net notional the fund or vault may hold from takeovers (only with adl_trigger = capacity).",
    )
    adl_drawdown_pct: float | None = _opt(
        "[0, 100]", "%", "ADL also starts when the fund falls this far from its rolling peak; 0 = off."
    )
    adl_drawdown_window_h: float | None = _opt("(0, 168]", "h", "Window of that rolling peak.")
    adl_ranking: str | None = _opt_choice(
        ADL_RANKINGS,
        "ADL queue order: PnL% × effective leverage, Binance's "
        "LeveragePnL, or Hyperliquid's (mark/entry) × notional/equity.",
    )
    adl_price: str | None = _opt_choice(
        ADL_PRICES,
        "Price ADL closes at: the liquidated order's bankruptcy "
        "price, the mark (bankruptcy once the fund is nearly empty), or the "
        "previous mark.",
    )
    adl_trigger: str | None = _opt_choice(
        ADL_TRIGGERS,
        "What sets ADL off: deficit (only a bankrupt remainder the fund cannot pay for at the mark, or will not "
        "once its drawdown rule trips; no inventory limit) or capacity (also what would take the fund's "
        "inventory past max_inventory_pct).",
    )
    funding_interval_h: float | None = _opt(
        "[0.01, 24]", "h", "Funding is settled this often (market.time_to_funding_s sets the first settlement)."
    )
    funding_interest_pct: float | None = _opt("[-1, 1]", "% per 8 h", "Interest term of the funding formula.")
    funding_clamp_pct: float | None = _opt(
        "[0, 1]", "%", "The formula's clamp: rate = premium + clamp(interest − premium, ±this), per 8 h."
    )
    funding_cap_pct: float | None = _opt(
        "[0, 100]", "% per interval", "Cap and floor of the rate paid per interval (the 8-hour rate × interval / 8)."
    )
    funding_price: str | None = _opt_choice(
        FUNDING_PRICES,
        "Price a payment is valued at: position × price × rate (Hyperliquid: the oracle, i.e. the index).",
    )
    funding_weighting: str | None = _opt_choice(
        FUNDING_WEIGHTINGS,
        "Premium samples (one per oracle tick) averaged with weights 1, 2, 3, ... (Binance) or equally.",
    )
    stop_trigger: str | None = _opt_choice(
        STOP_TRIGGERS, "Price that triggers traders' stop-loss orders: the last trade or the mark."
    )
    fillable_smmr: float | None = _opt(
        "(0, 100]",
        "ratio",
        "fillable only: spread to maintenance margin ratio: the order's limit is P·(1 ∓ ABR·SMMR·MMF) at the oracle "
        "price P, with ABR = clamp(BA·(1 − equity/MM), 0, 1).",
    )
    fillable_ba: float | None = _opt("[1, 100]", "ratio", "fillable only: bankruptcy adjustment BA of that formula.")
    liquidation_fee_cap: bool | None = setting(
        None,
        "bool",
        "fillable only: the fund takes at most clearance_fee_pct of a fill's notional out of what the fill leaves "
        "above the bankruptcy price and the trader keeps the rest (dYdX); false: the fund takes all of it.",
        optional=True,
        shown_default=_PACK,
    )
    block_s: float | None = _opt(
        "(0, 60]",
        "s",
        "fillable only: block time; a position whose liquidation order leaves it open is tried again a block "
        "later (at the first oracle tick at or after it).",
    )
    block_position_pct: float | None = _opt(
        "(0, 100]", "% of notional", "fillable only: most of a position's notional one block's order may close ..."
    )
    block_position_min_usd: float | None = _opt(
        "≥ 0", "USD", "fillable only: ... but at least this much (a position of no more is closed whole)."
    )
    block_account_usd: float | None = _opt(
        "≥ 0", "USD", "fillable only: most notional (at the oracle price) liquidated per account per block; 0 = none."
    )
    block_fund_loss_usd: float | None = _opt(
        "≥ 0", "USD", "fillable only: most the fund may pay for one account's fills per block; 0 = no limit."
    )
    market_type: str | None = _opt_choice(
        MARKET_TYPES,
        "cross: the market shares the venue's insurance fund (insurance_fund.initial_usd); isolated: it has its "
        "own (insurance_fund.isolated_initial_usd). With one market per run this only sets the fund's start.",
    )
    funding_cap_margin_factor: float | None = _opt(
        "[0, 100]",
        "ratio",
        "The 8-hour rate is also capped at ±this × (initial − maintenance margin fraction) of the market's first "
        "tier (dYdX: funding_rate_clamp_factor_ppm), the tighter of this and funding_cap_pct applying; 0 = off.",
    )
    block_liquidations: int | None = _opt(
        "[0, 1000000]",
        "orders",
        "fillable only: most liquidation orders per block, sent to a window of the triggered accounts that starts "
        "at a random place in their list (in id order); the others wait for the next block; 0 = no limit.",
        kind="int",
    )
    block_deleveragings: int | None = _opt(
        "[0, 1000000]",
        "accounts",
        "fillable only: most accounts deleveraged per block; one past it stays open for the next block; 0 = no limit.",
        kind="int",
    )
    deleverage_holders: int | None = _opt(
        "[0, 1000000]",
        "holders",
        "fillable only: most open holders one deleveraging walks through from its random start; what they do not "
        "take stays open on the account until the next block; 0 = no limit.",
        kind="int",
    )


def resolve(pack: Pack, table: VenueTable) -> Rules:
    """The pack's rules with every key given in the table (not None) replacing the pack's value.

    Parameters
    ----------
    pack : Pack
        The venue pack the scenario chose.
    table : VenueTable
        The scenario's ``[venue]`` overrides.

    Returns
    -------
    Rules
    """
    cast = {"float": float, "int": int, "bool": bool, "str": str}
    given = {
        name: cast[spec.kind](getattr(table, name))
        for name, spec in specs(VenueTable).items()
        if getattr(table, name) is not None
    }
    return dataclasses.replace(pack.rules, **given)


def rules_problems(rules: Rules) -> list[str]:
    """Values of a :class:`Rules` outside what ``[venue]`` accepts, or rules that contradict each other."""
    problems = []
    for name, spec in specs(VenueTable).items():
        x = getattr(rules, name)
        if spec.choices and x not in spec.choices:
            problems.append(f"{name} = {x!r}: {must(spec)}")
        elif spec.kind in ("float", "int") and (isinstance(x, bool) or breaks(spec, x, None)):
            problems.append(f"{name} = {x!r}: {must(spec)}")
        elif spec.kind == "bool" and not isinstance(x, bool):
            problems.append(f"{name} = {x!r}: {must(spec)}")
    if rules.mark_method == "hyperliquid" and not (rules.mark_ema_slow_s > 0 and rules.mark_ema_fast_s > 0):
        problems.append("mark_method = 'hyperliquid' needs mark_ema_slow_s > 0 and mark_ema_fast_s > 0")
    if rules.mark_method in ("binance", "index_basis") and rules.mark_basis_window_s <= 0:
        problems.append(f"mark_method = {rules.mark_method!r} needs mark_basis_window_s > 0")
    return problems
