"""Tiered maintenance-margin tables of the venue packs, as published (or as close as the sources allow).

Each table is written as floors, max leverages and rates; maintenance amounts always come from the
recurrence (:func:`sim.venues.schema.maintenance_amounts`). Where a source states the amounts too they are
kept here and checked against the recurrence when this module is imported, so an edited number that breaks
the published arithmetic fails at once. Where each table comes from is in the pack notes
(:mod:`sim.venues.packs`) and in ``docs/model.md`` §2.6.
"""

from __future__ import annotations

from collections.abc import Sequence

from sim.venues.schema import TierRow, maintenance_amounts, tier_problems


def rows(
    floors: Sequence[float],
    levs: Sequence[float],
    mmrs_pct: Sequence[float],
    stated_amounts: Sequence[float] | None = None,
) -> tuple[TierRow, ...]:
    """Tier rows from columns; amounts from the recurrence, equal to ``stated_amounts`` when those are given."""
    if not len(floors) == len(levs) == len(mmrs_pct):
        raise ValueError("floors, leverages and rates must have one entry per tier")
    amounts = maintenance_amounts(floors, mmrs_pct)
    if stated_amounts is not None and tuple(float(a) for a in stated_amounts) != amounts:
        raise RuntimeError(f"stated maintenance amounts {tuple(stated_amounts)} differ from the recurrence {amounts}")
    return tuple(TierRow(float(f), float(lv), float(m), a) for f, lv, m, a in zip(floors, levs, mmrs_pct, amounts))


def scaled(table: Sequence[TierRow], factor: float) -> tuple[TierRow, ...]:
    """The same ladder with every floor multiplied by ``factor`` (amounts recomputed)."""
    return rows(
        [t.notional_floor_usd * factor for t in table], [t.max_leverage for t in table], [t.mmr_pct for t in table]
    )


# --------------------------------------------------------------------------------------------------- Binance

# freqtrade binance_leverage_tiers.json, commit 3d9514d2 (2024-10-24): BTCUSDT and ETHUSDT.
BINANCE_2024_10_BTC = rows(
    (0, 50e3, 600e3, 3e6, 12e6, 70e6, 100e6, 230e6, 480e6, 600e6, 800e6, 1.2e9),
    (125, 100, 75, 50, 25, 20, 10, 5, 4, 3, 2, 1),
    (0.40, 0.50, 0.65, 1.00, 2.00, 2.50, 5.00, 10.0, 12.5, 15.0, 25.0, 50.0),
    (0, 50, 950, 11_450, 131_450, 481_450, 2_981_450, 14_481_450, 26_481_450, 41_481_450, 121_481_450, 421_481_450),
)
BINANCE_2024_10_ETH = rows(
    (0, 50e3, 600e3, 3e6, 12e6, 50e6, 65e6, 150e6, 320e6, 400e6, 530e6, 800e6),
    (125, 100, 75, 50, 25, 20, 10, 5, 4, 3, 2, 1),
    (0.40, 0.50, 0.65, 1.00, 2.00, 2.50, 5.00, 10.0, 12.5, 15.0, 25.0, 50.0),
    (0, 50, 950, 11_450, 131_450, 381_450, 2_006_450, 9_506_450, 17_506_450, 27_506_450, 80_506_450, 280_506_450),
)
# gist highfestiva/b71e76f51eed84d56c1be8ebbcc286b5 (2021-03): caps, rates and amounts; the leverages are not
# sourced: they are assumed (pack note).
BINANCE_2021_03_BTC = rows(
    (0, 50e3, 250e3, 1e6, 10e6, 20e6, 50e6, 100e6, 200e6, 300e6),
    (125, 100, 50, 20, 10, 5, 4, 3, 2, 1),
    (0.4, 0.5, 1.0, 2.5, 5.0, 10.0, 12.5, 15.0, 25.0, 50.0),
    (0, 50, 1_300, 16_300, 266_300, 1_266_300, 2_516_300, 5_016_300, 25_016_300, 100_016_300),
)
# The same freqtrade snapshot (commit 3d9514d2, 2024-10-24): SOLUSDT, and AVAXUSDT for the generic alt ALT
# (packs.ALT_COIN says why AVAX).
BINANCE_2024_10_SOL = rows(
    (0, 20e3, 100e3, 800e3, 4e6, 8e6, 40e6, 80e6, 100e6, 200e6),
    (100, 75, 50, 25, 20, 10, 5, 4, 2, 1),
    (0.5, 0.65, 1.0, 2.0, 2.5, 5.0, 10.0, 12.5, 25.0, 50.0),
    (0, 30, 380, 8_380, 28_380, 228_380, 2_228_380, 4_228_380, 16_728_380, 66_728_380),
)
BINANCE_2024_10_ALT = rows(
    (0, 5e3, 25e3, 80e3, 400e3, 800e3, 4e6, 8e6, 10e6, 20e6),
    (75, 50, 40, 25, 20, 10, 5, 4, 2, 1),
    (0.5, 0.65, 1.0, 2.0, 2.5, 5.0, 10.0, 12.5, 25.0, 50.0),
    (0, 7.5, 95, 895, 2_895, 22_895, 222_895, 422_895, 1_672_895, 6_672_895),
)
# A 2025 BTCUSDT variant hard-coded in a Next.js project (repository not identified).
BINANCE_2025_BTC = rows(
    (0, 300e3, 800e3, 3e6, 12e6, 70e6, 100e6, 230e6, 480e6, 600e6, 800e6, 1.2e9),
    (150, 100, 75, 50, 25, 20, 10, 5, 4, 3, 2, 1),
    (0.40, 0.50, 0.65, 1.00, 2.00, 2.50, 5.00, 10.0, 12.5, 15.0, 25.0, 50.0),
    (0, 300, 1_500, 12_000, 132_000, 482_000, 2_982_000, 14_482_000, 26_482_000, 41_482_000, 121_482_000, 421_482_000),
)

# ----------------------------------------------------------------------------------------------------- Bybit

# Bybit "Margin Parameters", BTCUSDT perpetual, isolated & cross: risk limits (caps), max leverage, MMR and
# the deduction column, which the recurrence reproduces.
_BYBIT_CAPS = (
    2e6,
    2.6e6,
    3.2e6,
    3.8e6,
    4.4e6,
    5e6,
    5.6e6,
    8.5e6,
    10e6,
    14e6,
    20e6,
    28e6,
    38e6,
    50e6,
    55e6,
    60e6,
    65e6,
    70e6,
    75e6,
    80e6,
)
BYBIT_2025_12_BTC = rows(
    (0,) + _BYBIT_CAPS[:-1],
    (100, 90, 80, 75, 70, 65, 55, 50, 45, 40, 35, 30, 25, 20, 19, 18, 17, 16, 15, 14),
    (0.5, 0.56, 0.63, 0.67, 0.71, 0.77, 0.91, 1.0, 1.3, 1.5, 1.6, 2.0, 2.5, 2.9, 3.0, 3.5, 3.6, 3.8, 4.0, 4.5),
    (
        0,
        1_200,
        3_020,
        4_300,
        5_820,
        8_460,
        15_460,
        20_500,
        46_000,
        66_000,
        80_000,
        160_000,
        300_000,
        452_000,
        502_000,
        777_000,
        837_000,
        967_000,
        1_107_000,
        1_482_000,
    ),
)
# Later payloads add a 0–300k tier at 150x / 0.33% below the same ladder; their first three tiers and
# deductions (0, 510, 1,710) are stated, the rest follows from the table above.
BYBIT_2026_09_BTC = rows(
    (0, 300e3) + _BYBIT_CAPS[:-1],
    (150,) + tuple(t.max_leverage for t in BYBIT_2025_12_BTC),
    (0.33,) + tuple(t.mmr_pct for t in BYBIT_2025_12_BTC),
)
if [t.maintenance_amount_usd for t in BYBIT_2026_09_BTC[:3]] != [0, 510, 1_710]:
    raise RuntimeError("BYBIT_2026_09_BTC: the stated deductions 0, 510, 1,710 do not follow from the recurrence")
# No ETHUSDT table was found: the BTC ladder at half the risk-limit values [INF].
BYBIT_2025_12_ETH = scaled(BYBIT_2025_12_BTC, 0.5)
BYBIT_2026_09_ETH = scaled(BYBIT_2026_09_BTC, 0.5)
# No SOLUSDT or AVAXUSDT risk-limit table was found either: Binance's tables for the same coins (2024-10) [INF].
BYBIT_2026_09_SOL = BINANCE_2024_10_SOL
BYBIT_2026_09_ALT = BINANCE_2024_10_ALT

# ------------------------------------------------------------------------------------------------------- OKX

# OKX /api/v5/public/position-tiers for the BTC-USDT and ETH-USDT swaps (freqtrade cache updated 2026-05-28):
# bounds in contracts; the first 15 of 99 tiers. BTC and ETH share the rate and leverage ladders. A position's
# tier follows its size, so the floors are kept in coins (OKX_2026_05_SIZE_FLOORS) and turned into USD at the
# price of the position (Pack.tier_rows); the USD tables below use a reference price, for display [INF].
# SOL-USDT and AVAX-USDT (the generic alt ALT) from the same cache: the first 15 tiers of each.
OKX_CONTRACTS_PER_COIN = {"BTC": 100, "ETH": 10, "SOL": 1, "ALT": 1}  # contract value 0.01 BTC, 0.1 ETH, 1 SOL, 1 AVAX
OKX_REF_PRICE_USD = {"BTC": 100_000.0, "ETH": 3_000.0, "SOL": 150.0, "ALT": 20.0}  # [INF] the USD tables' prices
_OKX_CAPS = {
    "BTC": (1_000, 5_000) + tuple(range(20_000, 260_001, 20_000)),
    "ETH": (5_000, 10_000) + tuple(range(25_000, 325_001, 25_000)),
    "SOL": (2_500, 10_000) + tuple(range(20_000, 260_001, 20_000)),
    "ALT": (4_800, 10_000) + tuple(range(18_000, 234_001, 18_000)),
}
_OKX_LEVS_MAJOR = (100, 66.66, 50, 40, 33.33, 28.57, 25, 22.22, 20, 18.18, 16.66, 15.38, 14.28, 13.33, 12.5)
_OKX_LEVS_ALT = (50, 40, 20, 18.18, 16.66, 15.38, 14.28, 13.33, 12.5, 11.76, 11.11, 10.52, 10, 9.52, 9.09)
_OKX_LEVS = {"BTC": _OKX_LEVS_MAJOR, "ETH": _OKX_LEVS_MAJOR, "SOL": _OKX_LEVS_ALT, "ALT": _OKX_LEVS_ALT}
_OKX_MMRS_MAJOR = (0.4, 0.5, 0.75) + tuple(1.25 + 0.5 * k for k in range(12))
_OKX_MMRS = {
    "BTC": _OKX_MMRS_MAJOR,
    "ETH": _OKX_MMRS_MAJOR,
    "SOL": (0.65, 1.0) + tuple(1.5 + 0.5 * k for k in range(13)),
    "ALT": (1.0, 1.5) + tuple(3.0 + 0.5 * k for k in range(13)),
}
OKX_2026_05_SIZE_FLOORS = {  # tier floors in coins: contracts / contracts per coin
    asset: tuple(c / OKX_CONTRACTS_PER_COIN[asset] for c in (0,) + caps[:-1]) for asset, caps in _OKX_CAPS.items()
}


def _okx(asset: str) -> tuple[TierRow, ...]:
    return rows(
        [f * OKX_REF_PRICE_USD[asset] for f in OKX_2026_05_SIZE_FLOORS[asset]], _OKX_LEVS[asset], _OKX_MMRS[asset]
    )


OKX_2026_05 = {asset: _okx(asset) for asset in _OKX_CAPS}
OKX_2026_05_BTC = OKX_2026_05["BTC"]
OKX_2026_05_ETH = OKX_2026_05["ETH"]

# ----------------------------------------------------------------------------------------------- Hyperliquid

# Hyperliquid margin tiers (mainnet, 2026 docs snapshot). MMR is half the initial margin at the tier's max
# leverage, i.e. 100 / (2 × max leverage) percent.
_HL_LEVELS = {
    "BTC": ((0, 40), (150e6, 20)),
    "ETH": ((0, 25), (100e6, 15)),
    "SOL": ((0, 20), (70e6, 10)),
    "ALT": ((0, 10), (20e6, 5)),  # AVAX's group (AAVE, ADA, AVAX, DOGE, LINK, SUI, ...)
}
HYPERLIQUID_2026_01 = {
    asset: rows([f for f, _ in ladder], [lv for _, lv in ladder], [100.0 / (2 * lv) for _, lv in ladder])
    for asset, ladder in _HL_LEVELS.items()
}

# Before 12 Mar 2025: BTC and ETH at 50x, one tier each [SEC: press reports of Hyperliquid's announcement of that
# day cutting them to 40x and 25x]; MMR 1% by the same half-of-initial-margin rule [DOC rule, INF values].
_HL_2024_LEVELS = {"BTC": ((0, 50),), "ETH": ((0, 50),)}
HYPERLIQUID_2024 = {
    asset: rows([f for f, _ in ladder], [lv for _, lv in ladder], [100.0 / (2 * lv) for _, lv in ladder])
    for asset, ladder in _HL_2024_LEVELS.items()
}


# ------------------------------------------------------------------------------------------------------ dYdX

# dYdX v4 liquidity tier 0 "Large-Cap" (BTC-USD, ETH-USD): initial margin 2%, maintenance fraction 60% of it, so
# MMF 1.2% and 50x; one tier (no size scaling of MMF; the open-interest scaling of IMF is off on this tier).
# Localnet/testnet genesis and docs.dydx.xyz "Margin"; launch genesis had 5% / 3% (pack notes).
DYDX_2026_03 = {asset: rows((0,), (50,), (1.2,)) for asset in ("BTC", "ETH")}
# SOL-USD and AVAX-USD (ALT) are on liquidity tier 1 ("Mid-Cap" in the mainnet genesis of 2023-10-26, "Small-Cap" in
# the localnet genesis at the pack's commit): initial margin 10%, maintenance fraction 50% → MMF 5%, 10x, one tier.
DYDX_2026_03.update({asset: rows((0,), (10,), (5.0,)) for asset in ("SOL", "ALT")})
# the Large-Cap tier in dYdX's mainnet launch genesis (26 Oct 2023): initial 5%, maintenance 60% of it
DYDX_2023_10 = {asset: rows((0,), (20,), (3.0,)) for asset in ("BTC", "ETH")}


def half_initial_rows(table: Sequence[TierRow], max_leverage: float) -> tuple[TierRow, ...]:
    """A Hyperliquid tier table for an asset whose maximum leverage is ``max_leverage``: the first tier at that
    leverage, every later one at the lower of its own and it, each tier's MMR half its initial margin at its
    leverage (``100 / (2 × leverage)`` percent) and the amounts from the recurrence."""
    levs = [float(max_leverage)] + [min(t.max_leverage, float(max_leverage)) for t in table[1:]]
    return rows([t.notional_floor_usd for t in table], levs, [100.0 / (2 * lv) for lv in levs])


ALL_TABLES = {
    "BINANCE_2021_03_BTC": BINANCE_2021_03_BTC,
    "BINANCE_2024_10_BTC": BINANCE_2024_10_BTC,
    "BINANCE_2024_10_ETH": BINANCE_2024_10_ETH,
    "BINANCE_2024_10_SOL": BINANCE_2024_10_SOL,
    "BINANCE_2024_10_ALT": BINANCE_2024_10_ALT,
    "BINANCE_2025_BTC": BINANCE_2025_BTC,
    "BYBIT_2025_12_BTC": BYBIT_2025_12_BTC,
    "BYBIT_2025_12_ETH": BYBIT_2025_12_ETH,
    "BYBIT_2026_09_BTC": BYBIT_2026_09_BTC,
    "BYBIT_2026_09_ETH": BYBIT_2026_09_ETH,
    **{f"OKX_2026_05_{a}": t for a, t in OKX_2026_05.items()},
    **{f"HYPERLIQUID_2026_01_{a}": t for a, t in HYPERLIQUID_2026_01.items()},
    "HYPERLIQUID_2024_BTC": HYPERLIQUID_2024["BTC"],
    "HYPERLIQUID_2024_ETH": HYPERLIQUID_2024["ETH"],
    "DYDX_2023_10_BTC": DYDX_2023_10["BTC"],
    "DYDX_2023_10_ETH": DYDX_2023_10["ETH"],
    **{f"DYDX_2026_03_{a}": t for a, t in DYDX_2026_03.items()},
}
for _name, _table in ALL_TABLES.items():  # the data must obey the rules every consumer assumes
    if _problems := tier_problems(_table):
        raise RuntimeError(f"{_name}: " + "; ".join(_problems))
del _name, _table
