"""Collateral tables of the venue packs: which assets a venue takes as perpetuals margin, and at what ratio.

A collateral asset of amount ``a`` at price ``p`` (USD per unit) counts as ``value = p × Σ_k slice_k × ratio_k``,
where the slices cut ``a`` at the table's floors (in units of the asset, lowest first) like tax brackets: the
first ``floor_2`` units at ``ratio_1``, the next ``floor_3 − floor_2`` at ``ratio_2``, and so on. A table with one
row is a flat ratio. Venues call the ratio a *collateral value ratio* (Binance, Bybit) or a *discount rate* (OKX);
``1 − ratio`` is the haircut. Because the floors are amounts, not USD values, the value is linear in the price:
a depeg of a stablecoin, or a fall of BTC, moves the account's margin balance in proportion.

Where each number comes from is in :data:`NOTES` (tags of ``docs/model.md`` §11.1), appended to the pack notes of
the version that carries the table. Only the newest pack of each venue has a table; older versions hold none
(their margin is the quote currency alone, as before).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from types import MappingProxyType

#: One row of a collateral table: (floor in units of the asset, ratio in [0, 1]).
Row = tuple[float, float]

_FLAT_1 = ((0.0, 1.0),)

# Binance USDⓈ-M Multi-Assets Mode (cross margin only).
BINANCE_2025: dict[str, tuple[Row, ...]] = {
    "USDT": ((0.0, 0.9999),),
    "USDC": ((0.0, 0.9999),),
    "USDe": ((0.0, 0.95),),
    "BTC": ((0.0, 0.95),),
}
# Bybit Unified Trading Account, cross margin: BTC tiered by quantity.
BYBIT_2026_09: dict[str, tuple[Row, ...]] = {
    "USDT": _FLAT_1,
    "USDC": _FLAT_1,
    "USDe": ((0.0, 0.95),),
    "BTC": ((0.0, 0.98), (10.0, 0.95), (20.0, 0.9), (30.0, 0.85), (40.0, 0.8), (50.0, 0.0)),
}
# OKX multi-currency margin mode: discount-rate tiers. No USDe found among its collateral.
OKX_2025_05: dict[str, tuple[Row, ...]] = {
    "USDT": _FLAT_1,
    "USDC": _FLAT_1,
    "BTC": BYBIT_2026_09["BTC"],
}
# Hyperliquid's validator-operated perps and dYdX v4: USDC is the only collateral.
USDC_ONLY: dict[str, tuple[Row, ...]] = {"USDC": _FLAT_1}

TABLES: dict[tuple[str, str], Mapping[str, tuple[Row, ...]]] = {
    ("binance", "2025"): MappingProxyType(BINANCE_2025),
    ("bybit", "2026-09"): MappingProxyType(BYBIT_2026_09),
    ("okx", "2025-05"): MappingProxyType(OKX_2025_05),
    ("hyperliquid", "2026-01"): MappingProxyType(USDC_ONLY),
    ("dydx", "2026-03"): MappingProxyType(USDC_ONLY),
}

#: Stablecoins priced at 1 USD unless a price is given (a depeg is a given price, e.g. USDe = 0.65).
DOLLAR_PRICED = ("USDT", "USDC", "USDe")

_BRACKETS = "[INF] tiered ratios are applied bracket-wise (each slice of the amount at its own tier's ratio)"

NOTES: dict[tuple[str, str], tuple[str, ...]] = {
    ("binance", "2025"): (
        "[DOC] collateral (Multi-Assets Mode, cross margin only): BTC, ETH and BNB 'receive a 5% value haircut' → "
        "BTC 0.95 ('What Is Multi-Assets Mode and Which Assets Are Supported?', binance.com/en/support/faq/"
        "29b45c485d664028b9ca1cdf90b24f6f, copy of 2025); USDT and USDC 0.9999: the collateral value ratios of the "
        "same FAQ's table of 2021-05-28 (no later numbers found; the live ones are on the Multi-Assets Info page).",
        "[INF] USDe 0.95: Binance took USDe as Multi-Assets margin in 2025 (its 10 Oct 2025 statements on valuing "
        "USDe collateral at its own spot price), but no ratio was found; BTC's 5% haircut is assumed.",
    ),
    ("bybit", "2026-09"): (
        "[DOC] collateral (Unified Trading Account, cross margin): margin balance = Σ asset × USD index price × "
        "collateral value ratio; BTC tiered by quantity 0–10: 0.98, 10–20: 0.95, 20–30: 0.9, 30–40: 0.85, 40–50: "
        "0.8, above 50: 0; USDT 1 ('Understanding Collateral Value Ratios in Unified Trading Account', bybit.com "
        "help centre, updated 2025-09-18: the page's worked example, the live list may differ). " + _BRACKETS + ".",
        "[INF] USDC 1 (a quote currency of Bybit's perps, as USDT); USDe 0.95: Bybit lists USDe as UTA collateral, "
        "no ratio was found; Binance's BTC haircut is assumed, as for Binance.",
    ),
    ("okx", "2025-05"): (
        "[DOC] collateral (multi-currency and portfolio margin modes): each asset counts at its discount rate, in "
        "tiers that fall with the amount held ('OKX to adjust discount rate tiers for multiple tokens', "
        "okx.com/help, 2025-04 to 2025-09 announcements; none lists BTC, USDT or USDC).",
        "[INF] USDT and USDC 1; BTC: no OKX table found, so the BTC tiers of Bybit's documented example (0.98 up "
        "to 10 BTC ... 0 above 50) are used. " + _BRACKETS + ". USDe is not accepted: not found among OKX's "
        "collateral in the sources read.",
    ),
    ("hyperliquid", "2026-01"): (
        "[DOC] collateral: USDC only ('you use USDC as collateral', onboarding/how-to-start-trading.md of the "
        "docs mirror, 2026). Portfolio margin (2026-05 docs: HYPE and BTC borrowed against at 50% LTV, "
        "liquidation at a ratio of 95%) is a separate mode and is not modelled.",
    ),
    ("dydx", "2026-03"): (
        "[CODE] collateral: USDC only: asset 0 (USDC) is the one asset of the mainnet genesis' assets module and "
        "the quote of every perpetual (protocol/testing/mainnet/genesis.json); docs.dydx.xyz 'Margin': USDC.",
    ),
}


def table(venue: str, version: str) -> Mapping[str, tuple[Row, ...]]:
    """The collateral table of a pack version (asset → rows), empty for a version without one."""
    return TABLES.get((venue, version), MappingProxyType({}))


def value_usd(rows: Sequence[Row], amount: float, price: float) -> float:
    """USD value of ``amount`` units at ``price`` under the bracket-wise ratios of ``rows``."""
    units = 0.0
    for k, (floor, ratio) in enumerate(rows):
        top = rows[k + 1][0] if k + 1 < len(rows) else math.inf
        if amount <= floor:
            break
        units += (min(amount, top) - floor) * ratio
    return units * price


def problems(rows: Sequence[Row]) -> list[str]:
    """What is wrong with a collateral table (empty list if nothing): floors from 0 increasing, ratios in
    [0, 1] and not increasing."""
    out = []
    if not rows or rows[0][0] != 0:
        out.append("the first row must start at 0")
    for (f0, r0), (f1, r1) in zip(rows, rows[1:]):
        if f1 <= f0:
            out.append(f"floor {f1} not above {f0}")
        if r1 > r0:
            out.append(f"ratio {r1} above the previous tier's {r0}")
    out += [f"ratio {r} not in [0, 1]" for _, r in rows if not 0 <= r <= 1]
    return out


for _key, _table in TABLES.items():  # the data must obey what value_usd assumes
    for _asset, _rows in _table.items():
        if _bad := problems(_rows):
            raise RuntimeError(f"collateral {_key} {_asset}: " + "; ".join(_bad))
del _key, _table, _asset, _rows
