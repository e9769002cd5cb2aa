"""Venue rule packs: each venue's liquidation rules as data, with the few pure functions around them.

A *pack* (:class:`Pack`) is one venue's rules at one dated version: a :class:`Rules` record of every rule the
engine lets a scenario override (clearance fee, trigger, partial liquidation, settlement, backstop, mark
price, fund inventory, ADL trigger, ranking and price), tiered maintenance-margin tables for BTC and ETH (in the
newest packs also SOL and ALT, a generic high-volatility alt with AVAX's numbers) (:class:`TierRow`, tax-bracket form ``MM = notional × MMR − amount``, amounts from the recurrence of
:func:`maintenance_amounts`). Venues: Binance, Bybit, OKX (centralised: bankruptcy-price settlement, insurance
fund), Hyperliquid (settlement at the fill, backstop vault) and dYdX (orders per block at the fillable price, the
fund's capped fee, deleveraging from a random start). Tiers set in position size (OKX's contracts)
are kept in coins and turned into USD at a price by :meth:`Pack.tier_rows`; for every other venue
``tier_rows`` returns ``Pack.tiers`` unchanged.

Usage::

    from sim import venues
    p = venues.pack("okx")                  # the default version, DEFAULTS["okx"]
    p = venues.pack("binance", "2021-03")   # a dated one; venues.versions("binance") lists them
    rows = p.tier_rows("BTC", 50_000.0)     # the BTC tiers in USD for positions valued at 50,000 USD/BTC
    rules = venues.resolve(p, table)        # a scenario's [venue] overrides (VenueTable) applied
    text = venues.venues_text(verbose=True)  # the `liqsim venues --verbose` table

The newest pack of each venue also lists the collateral it takes for perpetuals margin with its haircuts
(``Pack.collateral``, :mod:`sim.venues.collateral`).

Every number carries its provenance in ``Pack.notes`` with the tags of ``docs/model.md`` §11.1:
[DOC] the venue states it, [CODE] code or fixtures encode it, [SEC] a secondary source, [INF] our
inference, [VER] recomputed by us.
"""

from sim.venues import collateral
from sim.venues.packs import (
    ALT_COIN,
    ASSETS,
    CORE_ASSETS,
    DEFAULTS,
    VENUES,
    all_packs,
    effective_trigger_mmr_pct,
    newest,
    pack,
    versions,
)
from sim.venues.report import venues_records, venues_text
from sim.venues.schema import (
    ADL_PRICES,
    ADL_RANKINGS,
    MARK_METHODS,
    MM_BASES,
    PARTIAL_RULES,
    SETTLES,
    Pack,
    Rules,
    TierRow,
    VenueTable,
    maintenance_amounts,
    maintenance_margin_usd,
    resolve,
    rules_problems,
    sized_rows,
    tier_index,
    tier_problems,
)

__all__ = [
    "VENUES",
    "ASSETS",
    "CORE_ASSETS",
    "ALT_COIN",
    "collateral",
    "DEFAULTS",
    "TierRow",
    "Rules",
    "Pack",
    "VenueTable",
    "pack",
    "versions",
    "newest",
    "all_packs",
    "resolve",
    "maintenance_amounts",
    "maintenance_margin_usd",
    "tier_index",
    "tier_problems",
    "sized_rows",
    "rules_problems",
    "effective_trigger_mmr_pct",
    "venues_records",
    "venues_text",
    "MM_BASES",
    "PARTIAL_RULES",
    "SETTLES",
    "MARK_METHODS",
    "ADL_RANKINGS",
    "ADL_PRICES",
]
