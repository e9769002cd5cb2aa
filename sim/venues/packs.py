"""The venue rule packs: each venue's rules at each dated version, with provenance notes.

Sources and tags follow ``docs/model.md`` (§2–§3 the rules, §11 the tags and the source list): [DOC] the
venue says so, [CODE] open-source code or fixtures encode it, [SEC] a secondary source, [INF] our inference,
[VER] we recomputed it. Every rule a pack cannot source is marked [INF] in its notes.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from sim.venues import collateral as C
from sim.venues import tables as T
from sim.venues.schema import Pack, Rules, TierRow

VENUES = ("binance", "bybit", "okx", "hyperliquid", "dydx")
#: Every pack has BTC and ETH tables; the newest pack of every venue (and Binance's 2024-10, whose snapshot has
#: them) also SOL and ALT, a generic high-volatility alt whose numbers are AVAX's (ALT_COIN).
CORE_ASSETS = ("BTC", "ETH")
ASSETS = ("BTC", "ETH", "SOL", "ALT")
#: ALT's tables are those of AVAX: a mid-cap layer-1 listed as a USDT (USDC) perpetual on all five venues, in the
#: middle of each venue's alt ladder (Binance 75x, OKX 50x, Hyperliquid's 10x group, dYdX's tier-1 10x), with about
#: twice SOL's volatility and a fall of 70% or more in the 10 Oct 2025 crash (docs/model.md §9.2).
ALT_COIN = "AVAX"

# The version pack(venue) returns: the newest one documented, as the issue asks. Binance's "2025" and Bybit's
# "2026-09" tables are also the most weakly sourced (a hard-coded web project, test fixtures quoting the API,
# neither repository identified: [SEC]/[CODE]) and their ETH tables fall back to older ones; their notes say so,
# and the older versions stay available (market.venue_version, calc --version) for sensitivity runs.
DEFAULTS = {"binance": "2025", "bybit": "2026-09", "okx": "2025-05", "hyperliquid": "2026-01", "dydx": "2026-03"}

# Rules shared by the centralised venues: bankruptcy-price settlement with an insurance fund, no backstop
# vault, no fixed slices (slice_fraction 1 = a "slice" would be the whole position), no EMA mark.
_CEX = dict(
    liquidation_band_pct=1.0,
    settle="bankruptcy",
    backstop_mm_fraction=0.0,
    slice_threshold_usd=0.0,
    slice_fraction=1.0,
    mark_ema_slow_s=0.0,
    mark_ema_fast_s=0.0,
    adl_drawdown_window_h=8.0,
    funding_interval_h=8.0,
    funding_interest_pct=0.01,
    funding_clamp_pct=0.05,
    funding_price="mark",
    stop_trigger="last",
)

# Funding and stops on the venues with no source for them (Bybit, OKX; docs/model.md §2.7, §5.3).
_FUNDING_INF = (
    "[INF] funding: sources cover only Binance's and Hyperliquid's (docs/model.md §2.7); Binance's formula, 8 h "
    "interval, payments at the mark, equal premium weights and a cap of 0.75 × tier-1 MMR are assumed. "
    "Stops trigger on the last price (the venue's API default trigger type; docs/model.md §5.3)."
)

# liquidation_band_pct = 1 on the centralised venues has no source; every CEX pack says so.
_BAND_NOTE = (
    "[INF] liquidation_band_pct 1% is liqsim's assumption, not a venue's number: the older Binance page "
    "says liquidation orders are issued at the bankruptcy price (Liquidation Protocols), and BitMEX says its fund "
    "aggresses the book when the bankruptcy price cannot be filled (docs/model.md §3.4); the band lets a full "
    "liquidation's IOC fill up to 1% beyond bankruptcy while the fund pays the gap."
)

_RECURRENCE = (
    "[DOC] MM = notional × MMR − amount, amount_n = amount_(n−1) + floor_n × (MMR_n − MMR_(n−1)) "
    "(Binance COIN-M liquidation-price FAQ; Bybit Margin Parameters page; Hyperliquid margin tiers); "
    "amounts here are computed by it"
)


def _make(
    venue: str,
    version: str,
    source: str,
    rules: dict[str, Any],
    tiers: dict[str, tuple[TierRow, ...]],
    notes: list[str],
    size_floors: dict[str, tuple[float, ...]] | None = None,
    reference_price_usd: dict[str, float] | None = None,
    mmr_from_max_leverage: bool = False,
) -> Pack:
    if rules.get("settle") == "bankruptcy":  # a centralised venue
        notes = notes + [_BAND_NOTE]
    notes = notes + list(C.NOTES.get((venue, version), ()))
    return Pack(
        venue,
        version,
        source,
        Rules(**rules),
        MappingProxyType(dict(tiers)),
        tuple(notes),
        MappingProxyType(dict(size_floors or {})),
        MappingProxyType(dict(reference_price_usd or {})),
        mmr_from_max_leverage,
        C.table(venue, version),
    )


# --------------------------------------------------------------------------------------------------- Binance


def _binance(
    version: str,
    source: str,
    btc: tuple[TierRow, ...],
    basis_window_s: float,
    inventory_pct: float,
    notes: list[str],
    adl_drawdown_pct: float = 0.0,
    alts: dict[str, tuple[TierRow, ...]] | None = None,
) -> Pack:
    rules = dict(
        _CEX,
        clearance_fee_pct=0.5,
        trigger_includes_fee=False,
        mm_basis="mark",
        partial_rule="step_down_ioc",
        partial_min_tier=2,
        partial_tiers_down=0,
        partial_cooldown_s=0.0,
        mark_method="binance",
        mark_basis_window_s=basis_window_s,
        max_inventory_pct=inventory_pct,
        adl_drawdown_pct=adl_drawdown_pct,
        adl_drawdown_window_h=8.0,
        adl_ranking="leverage_pnl",
        adl_price="bankruptcy",
        adl_trigger="capacity",
        funding_cap_pct=0.3,
        funding_weighting="linear",
    )
    common = [
        _RECURRENCE + " [VER against every stated amount].",
        "[DOC] clearance fee 0.5%: the newer 'up to 0.5%' figure (API-doc copy of the Insurance Fund page); the "
        "older Zendesk page gave 0.3% for BTCUSDT (0.5% on other perps; docs/model.md §3.4); newer pages: per symbol, "
        "no numbers.",
        "[DOC] trigger: margin ratio MM / margin balance reaches 100% at the mark; orders cancelled, one large IOC "
        "reduces the position, else takeover at bankruptcy (Liquidation Protocols FAQ).",
        "[INF] how far that IOC reduces is not published: step_down_ioc reduces to the lower tier that satisfies "
        "MM, as Bybit and BitMEX state (docs/model.md §3.3).",
        "[DOC] fund net-notional cap: 100% of the fund (current Insurance Fund page), 20% (older API-doc copy).",
        "[DOC] mark = median(index × (1 + funding × t / interval), index + MA(mid − index), last); MA window "
        "1 min, 30 s from 2025-09-18 (announcement of 2025-09-16).",
        "[SEC] ADL ranking: the developer-forum formula max(0, uPnL)/max(1, wallet) × MM/equity; [DOC] closed at "
        "the bankruptcy price of the liquidated order, only when the fund cannot take the position.",
        "[DOC] adl_trigger capacity: the fund takes over bankrupt positions and ADL follows when it 'cannot accept' "
        "one (ADL page, Insurance Fund page), which its documented net-notional cap decides, so a solvent "
        "remainder past the cap is deleveraged; the summary reports that ADL under 'capacity', apart from ADL "
        "for a deficit (docs/model.md §3.7).",
        "[DOC] funding: F = P + clamp(0.01% − P, ±0.05%) per 8 h, paid as F × interval/8 (since 2025-09-18; the same "
        "for BTCUSDT's 8 h interval before), capped at ±0.75 × tier-1 MMR = ±0.30% for BTCUSDT/ETHUSDT, premium "
        "samples weighted linearly, payment = mark × size × rate (Funding Rates FAQ; docs/model.md §10, TV7, TV8). "
        "[INF] the premium is sampled from the book's mid, not impact prices (docs/engine.md §9).",
        "[INF] stops trigger on the last price (the API's default working type, CONTRACT_PRICE; docs/model.md §5.3).",
    ]
    tiers = {"BTC": btc, "ETH": T.BINANCE_2024_10_ETH, **(alts or {})}
    return _make("binance", version, source, rules, tiers, notes + common)


_BINANCE_ALTS = {"SOL": T.BINANCE_2024_10_SOL, "ALT": T.BINANCE_2024_10_ALT}
_ALT_NOTE = (
    "ALT is a generic high-volatility alt whose numbers are AVAX's: a mid-cap listed on all five venues "
    "(sim.venues.packs.ALT_COIN)."
)


def _binance_packs() -> tuple[Pack, ...]:
    return (
        _binance(
            "2021-03",
            "gist highfestiva/b71e76f51eed84d56c1be8ebbcc286b5 (BTCUSDT brackets from the Binance UI, 2021-03) [CODE]",
            T.BINANCE_2021_03_BTC,
            60.0,
            20.0,
            [
                "[CODE] BTC caps, rates and amounts from the 2021-03 gist; [INF] max leverages 125/100/50/20/"
                "10/5/4/3/2/1 are assumed, no source found (the usual ladder of the time).",
                "[INF] ETH: no 2021 ETHUSDT table found; the 2024-10 ETH table is reused.",
                "[INF] fund cap 20% (the older API-doc copy) and a 60 s mark basis window for this era.",
                "[DOC] the same older API-doc copy: if the fund loses 7.5% in 8 h it leaves the market (a limit "
                "order within 2.5% of the market price, back after 8 h) with ADL meanwhile (docs/model.md §3.5) → "
                "adl_drawdown_pct 7.5 over 8 h; [INF] read as a drawdown from the rolling 8-h peak, the exit "
                "order and the 8-h pause are not modelled.",
            ],
            adl_drawdown_pct=7.5,
        ),
        _binance(
            "2024-10",
            "freqtrade binance_leverage_tiers.json, commit 3d9514d2 (2024-10-24) [CODE]",
            T.BINANCE_2024_10_BTC,
            60.0,
            100.0,
            [
                "[CODE] BTCUSDT, ETHUSDT, SOLUSDT and AVAXUSDT (ALT) tiers from the freqtrade snapshot of "
                "2024-10-24 (freqtrade/exchange/binance_leverage_tiers.json). " + _ALT_NOTE,
                "[INF] mark basis window 60 s: the 30 s window starts 2025-09-18, after this snapshot.",
            ],
            alts=_BINANCE_ALTS,
        ),
        _binance(
            "2025",
            "a Next.js project hard-coding 'Real BTCUSDT leverage brackets from Binance API' "
            "(repository not identified) [SEC]",
            T.BINANCE_2025_BTC,
            30.0,
            100.0,
            [
                "[SEC] BTC tiers (0–300k at 150x) from a project whose repository was not identified; "
                "internally consistent with the recurrence [VER]. The default as the newest version, though "
                "the most weakly sourced: 2024-10 is the newest with a named source.",
                "[INF] ETH: no 2025 ETHUSDT table found; the 2024-10 ETH table is reused.",
                "[INF] SOL and ALT (AVAX): no 2025 tables found; the 2024-10 ones are reused. " + _ALT_NOTE,
            ],
            alts=_BINANCE_ALTS,
        ),
    )


# ----------------------------------------------------------------------------------------------------- Bybit

_BYBIT_RULES = dict(
    _CEX,
    clearance_fee_pct=0.055,
    trigger_includes_fee=False,
    mm_basis="entry",
    partial_rule="step_down_fok",
    partial_min_tier=2,
    partial_tiers_down=0,
    partial_cooldown_s=0.0,
    mark_method="binance",
    mark_basis_window_s=300.0,
    max_inventory_pct=100.0,
    adl_drawdown_pct=30.0,
    adl_ranking="pnl_leverage",
    adl_price="bankruptcy",
    adl_trigger="deficit",
    funding_cap_pct=0.375,
    funding_weighting="equal",
)
_BYBIT_NOTES = [
    _RECURRENCE + "; Bybit's published deductions match it [VER].",
    "[INF] ETH: no ETHUSDT risk-limit table found; the BTC ladder at half the risk-limit values (the 1% ETH base "
    "rate of the old risk-limit page is for inverse contracts).",
    "[DOC] isolated USDT: LP = EP ∓ (IM − MM)/Q with MM = Q × EP × MMR − deduction, so MM is on entry value "
    "(docs/model.md §10, TV11: 1 BTC at 20,000, 50x, MMR 0.5% → LP 19,700; 'Liquidation Price (USDT Contract)').",
    "[DOC] Unified Trading Account isolated mode also adds the estimated closing fee to IM and MM; not modelled "
    "(trigger_includes_fee false, as for the Standard account).",
    "[SEC] no separate clearance fee: the position is closed at bankruptcy and the taker fee is charged on that "
    "value (mobie.io restatement of Bybit's fee FAQ); 0.055% = non-VIP USDT-perp taker (refeshop.com restatement "
    "of Bybit's fee page, 2024-07).",
    "[DOC] tier 2 and up: lower the risk limit, cancel orders, then one FillOrKill for the value above the lower "
    "tier that meets MM; else takeover at bankruptcy ('Liquidation Process (USDT Contract)').",
    "[DOC] mark = median(index × (1 + funding × t / 8), index + 5-min MA of (bid1 + ask1)/2 − index sampled each "
    "second, last) ('Mark Price Calculation (Perpetual Contract)', 2024-10-16): the binance form, 300 s window.",
    "[SEC] ADL trigger: pooled funds from 2025-12-19 with a 30% drawdown over a rolling 8 h (announcement "
    "summaries); a 2025-11-05 ADL page words it as 100% of the period's peak balance. Parameterised.",
    "[SEC] ADL ranking: Bybit's formula table was cut off in the copy read; the BitMEX form (PnL% × effective "
    "leverage) used by Bybit-lineage venues. [DOC] closed at the liquidated order's bankruptcy price.",
    "[DOC] adl_trigger deficit: ADL when liquidations cause losses beyond margins and the fund is insufficient "
    "('What is Auto-Deleveraging (ADL)'); no inventory cap is published, so none limits takeovers "
    "(max_inventory_pct 100 applies only if a scenario sets adl_trigger = capacity [INF]).",
    _FUNDING_INF + " Tier-1 MMR 0.5% → cap ±0.375%.",
]


def _bybit_packs() -> tuple[Pack, ...]:
    return (
        _make(
            "bybit",
            "2025-12",
            "Bybit Margin Parameters page, BTCUSDT (bybitx.global/pt-PT/announcement-info/"
            "margin-parameters mirror, undated) [DOC]; ADL pool rule of 2025-12-19 [SEC]",
            _BYBIT_RULES,
            {"BTC": T.BYBIT_2025_12_BTC, "ETH": T.BYBIT_2025_12_ETH},
            [
                "[DOC] BTC: 20 risk-limit tiers (2,000,000 at 100x / 0.5% … 80,000,000 at 14x / 4.5%) with "
                "deductions; the page is undated, its tier-1 limit 2,000,000 also appears in Bybit position "
                "payloads of 2023-10 (API docs example) and 2024-06 [CODE]. Version = date of the ADL rule.",
            ]
            + _BYBIT_NOTES,
        ),
        _make(
            "bybit",
            "2026-09",
            "/v5/market/risk-limit BTCUSDT payloads quoted in test fixtures of 2026-09-17 and "
            "2026-10-01 (repositories not identified) [CODE]",
            _BYBIT_RULES,
            {
                "BTC": T.BYBIT_2026_09_BTC,
                "ETH": T.BYBIT_2026_09_ETH,
                "SOL": T.BYBIT_2026_09_SOL,
                "ALT": T.BYBIT_2026_09_ALT,
            },
            [
                "[CODE] BTC tiers 1–3: 0–300k 150x 0.33%, to 2M 100x 0.5% (deduction 510), to 2.6M 90x 0.56% "
                "(1,710); [INF] above 2.6M the 2025-12 ladder (deductions +510). The default as the newest "
                "version, though the most weakly sourced: the fixtures' repositories were not identified; 2025-12 "
                "is the newest with a named source.",
                "[INF] SOL and ALT (AVAX): no SOLUSDT or AVAXUSDT risk-limit table found; Binance's 2024-10 tables for "
                "the same coins (a peer venue's ladder for the coin, closer than Bybit's BTC ladder scaled). "
                + _ALT_NOTE,
            ]
            + _BYBIT_NOTES,
        ),
    )


# ------------------------------------------------------------------------------------------------------- OKX

_OKX_NOTES = [
    "[CODE] tiers: /api/v5/public/position-tiers for the BTC-USDT and ETH-USDT swaps as cached by freqtrade/ccxt, "
    "updated 2026-05-28 (loveolu/crypto-strategy-research, user_data/data/okx/futures/leverage_tiers_USDT.json).",
    "[CODE] first 15 of 99 tiers; later ones keep adding 20,000 (BTC) / 25,000 (ETH) contracts and 0.5% MMR. "
    "BTC and ETH share the rate and leverage ladders.",
    "[CODE] bounds are in contracts (0.01 BTC, 0.1 ETH per contract): the engine and the calculator keep the "
    "floors and maintenance amounts in coins and read a position's tier from its size (MM = price × (size × MMR "
    "− amount)). [INF] The USD tables listed here, and the population's leverage caps, are at 100,000 USD/BTC "
    "and 3,000 USD/ETH (a scenario: its start price).",
    "[INF] OKX publishes no maintenance deduction (its tier MMR applies to the whole position); the continuous "
    "recurrence is used as for the other venues, so MM does not jump at tier bounds.",
    _FUNDING_INF + " Tier-1 MMR 0.4% → cap ±0.30%.",
    "[DOC] liquidation when the margin ratio falls to 100%, the liquidation fee counted with MM ('Tiered "
    "maintenance margin ratio rules', updated 2025-05-16) → trigger_includes_fee.",
    "[SEC] clearance = taker-fee-tier rate × contract value (third-party restatements); 0.05% = base-tier "
    "USDT-perp taker (xlog.app restatement of OKX fees).",
    "[DOC] after a partial the position is frozen about 1 minute, then re-checked (hc article 360020411711) → "
    "60 s cooldown.",
    "[DOC] mark = spot index + moving average of the basis (okx.com/learn/mark-price-and-index-price-of-margined-"
    "contracts); [INF] window 300 s (not published).",
    "[DOC] ADL when the fund falls 30% in a straight line from its 8-h peak (early-liquidation page); ranking "
    "PnL% × effective leverage (ADL page, Aug 2025); at the mark, at bankruptcy once the fund is nearly empty.",
    "[DOC] adl_trigger deficit: ADL when the fund's value drops sharply (the drawdown rule) or it cannot cover a "
    "loss ('Automatic-Deleveraging'); no inventory cap is published, so none limits takeovers "
    "(max_inventory_pct 100 applies only if a scenario sets adl_trigger = capacity [INF]).",
]


def _okx(version: str, source: str, tiers_down: int, notes: list[str], assets: tuple[str, ...] = CORE_ASSETS) -> Pack:
    rules = dict(
        _CEX,
        clearance_fee_pct=0.05,
        trigger_includes_fee=True,
        mm_basis="mark",
        partial_rule="to_tier",
        partial_min_tier=3,
        partial_tiers_down=tiers_down,
        partial_cooldown_s=60.0,
        mark_method="index_basis",
        mark_basis_window_s=300.0,
        max_inventory_pct=100.0,
        adl_drawdown_pct=30.0,
        adl_ranking="pnl_leverage",
        adl_price="mark",
        adl_trigger="deficit",
        funding_cap_pct=0.3,
        funding_weighting="equal",
    )
    return _make(
        "okx",
        version,
        source,
        rules,
        {a: T.OKX_2026_05[a] for a in assets},
        notes + _OKX_NOTES,
        size_floors={a: T.OKX_2026_05_SIZE_FLOORS[a] for a in assets},
        reference_price_usd={a: T.OKX_REF_PRICE_USD[a] for a in assets},
    )


def _okx_packs() -> tuple[Pack, ...]:
    return (
        _okx(
            "2020",
            "OKX hc article 360020411711 'Forced Partial or Full Liquidation' (legacy, undated) [DOC]; tiers "
            "from the 2026-05-28 snapshot [CODE]",
            0,
            [
                "[DOC] legacy rule: at tier 3 or above, liquidate down to tier 1 (docs/model.md §10, TV23: "
                "15,000 swaps, tier-1 max 2,000 → close 13,000).",
                "[INF] the legacy page gives no BTC tier table and no date ('2020' is approximate); the 2026-05 "
                "snapshot is reused.",
            ],
        ),
        _okx(
            "2025-05",
            "OKX 'Tiered maintenance margin ratio rules' (updated 2025-05-16) [DOC] as restated by third "
            "parties [SEC]; tiers from the 2026-05-28 snapshot [CODE]",
            2,
            [
                "[SEC] current rule as restated from the 2025 page: at tier 3 or above, reduce by the contracts "
                "needed to drop two tiers, re-check, repeat; full liquidation once tier-1 requirements break.",
                "[CODE] SOL-USDT and AVAX-USDT (ALT) swaps from the same 2026-05-28 cache, first 15 tiers: SOL 2,500 "
                "contracts at 50x / 0.65%, to 10,000 at 40x / 1%, then steps of 20,000 from 20x / 1.5% (+0.5% each); "
                "AVAX 4,800 at 50x / 1%, to 10,000 at 40x / 1.5%, then steps of 18,000 from 20x / 3% (+0.5%). "
                "Contract value 1 SOL (SOL-USDC-SWAP instrument record, ctVal 1, lot 0.01 [CODE]) and 1 AVAX [INF: the "
                "tiers' 0.1-contract steps; the instrument record was not read]. [INF] USD tables shown at 150 USD/SOL "
                "and 20 USD/AVAX. " + _ALT_NOTE,
            ],
            assets=ASSETS,
        ),
    )


# ----------------------------------------------------------------------------------------------- Hyperliquid


_HL_RULES = dict(
    clearance_fee_pct=0.0,
    liquidation_band_pct=0.0,
    trigger_includes_fee=False,
    mm_basis="mark",
    partial_rule="slices",
    partial_min_tier=1,
    partial_tiers_down=0,
    partial_cooldown_s=30.0,
    slice_threshold_usd=100_000.0,
    slice_fraction=0.2,
    settle="fill",
    backstop_mm_fraction=2.0 / 3.0,
    mark_method="hyperliquid",
    mark_basis_window_s=0.0,
    mark_ema_slow_s=150.0,
    mark_ema_fast_s=30.0,
    max_inventory_pct=100.0,
    adl_drawdown_pct=0.0,
    adl_drawdown_window_h=8.0,
    adl_ranking="hyperliquid",
    adl_price="previous_mark",
    adl_trigger="deficit",
    funding_interval_h=1.0,
    funding_interest_pct=0.01,
    funding_clamp_pct=0.05,
    funding_cap_pct=4.0,
    funding_price="index",
    funding_weighting="equal",
    stop_trigger="mark",
)
_HL_NOTES = [
    "[DOC] no clearance fee; liquidation orders go to the book for the full size and the trader "
    "keeps what is left (settle = fill).",
    "[DOC] positions above 100k USDC are sent as 20% slices; after a partial, 30 s during which "
    "liquidation orders are for the whole position.",
    "[DOC] below 2/3 of maintenance margin the liquidator vault (part of HLP) takes the position and its margin over.",
    "[DOC] mark = median(oracle + 150 s EMA of (mid − oracle), median(bid, ask, last), CEX perp "
    "mids), with the 30 s EMA of the book median when only two exist; [INF] the CEX term is not "
    "modelled.",
    "[DOC] ADL when an account or isolated position goes negative; rank (mark/entry) × notional / "
    "account value; closed at the previous mark (older text: previous oracle).",
    "[DOC] adl_trigger deficit: only an account under water at the mark is deleveraged; the vault takes every "
    "account with equity left, whatever its size (no inventory limit: max_inventory_pct applies only if a "
    "scenario sets adl_trigger = capacity), and ADL never closes winners against a solvent book.",
    "[INF] liquidation_band_pct and mark_basis_window_s are unused here (settle = fill; the mark uses the two EMAs).",
    "[DOC] funding: an 8-hour rate P + clamp(0.01% − P, ±0.05%) paid hourly at 1/8, capped at 4% "
    "per hour, premium averaged over the hour, payment = size × oracle price × rate (funding.md); "
    "[INF] the premium is sampled from the book's mid, not impact prices.",
    "[DOC] TP/SL orders trigger on the mark (robust-price-indices.md).",
    "[DOC] MMR = half the initial margin at the asset's max leverage, 1 / (2 × max leverage) (margining.md); "
    "`liqsim calc --max-leverage L` derives the rates from L.",
]


def _hyperliquid_packs() -> tuple[Pack, ...]:
    return (
        _make(
            "hyperliquid",
            "2024",
            "Hyperliquid docs (margining, liquidations, auto-deleveraging) [DOC]; BTC and ETH at 50x until "
            "2025-03-12, when Hyperliquid cut them to 40x and 25x, as reported by the press [SEC]",
            _HL_RULES,
            T.HYPERLIQUID_2024,  # BTC and ETH only: no dated source for SOL or alts before the 2026 tiers
            [
                "[SEC] BTC and ETH max leverage 50x until 2025-03-12 (press reports of Hyperliquid's "
                "announcement after the 50x ETH liquidation of that day: BTC to 40x, ETH to 25x, 'to raise "
                "maintenance margin for large positions') → MMR 1% [DOC rule, INF value].",
                "[INF] one tier per asset: the tiers for large positions came with that change; none is "
                "documented before it.",
                "[DOC] the ADL page of the time: 'closed at the previous oracle price'; [INF] modelled as the "
                "previous mark, as the current text says.",
                "[INF] the liquidator vault had no published cap before the JELLY episode (2025-03-26); none is "
                "applied (adl_trigger deficit).",
            ]
            + _HL_NOTES,
            mmr_from_max_leverage=True,
        ),
        _make(
            "hyperliquid",
            "2026-01",
            "Hyperliquid docs (vaniiiii/hyperliquid-docs mirror: liquidations.md, "
            "margin-tiers.md, auto-deleveraging.md, robust-price-indices.md; snapshot commits Jan–May 2026) "
            "[DOC]",
            _HL_RULES,
            T.HYPERLIQUID_2026_01,
            [
                "[DOC] tiers: BTC 0–150M USDC 40x, above 20x; ETH 0–100M 25x, above 15x; SOL 0–70M 20x, above 10x; "
                "ALT (AVAX's group: AAVE, ADA, AVAX, DOGE, LINK, SUI, ...) 0–20M 10x, above 5x (margin-tiers.md, "
                "commits of 2026-01 to 2026-04); MMR = half the initial margin at the tier's max leverage [DOC rule, "
                "INF values]; deductions by the Binance recurrence [DOC]. " + _ALT_NOTE,
                "[SEC] after March 2025 the liquidator vault has 'a tight cap (small % of HLP)' and 'ADL will be "
                "triggered if the Liquidator loses above a certain threshold'; [INF] neither number is "
                "published: no cap and no loss threshold are modelled.",
            ]
            + _HL_NOTES,
            mmr_from_max_leverage=True,
        ),
    )


# ------------------------------------------------------------------------------------------------------ dYdX

# The public sources of the dYdX pack (docs/model.md §2.8): the v4-chain code at commit 84d4664 (2026-03-04, the
# same logic as release protocol/v9.6.1), its genesis files and the docs.dydx.xyz pages built from
# dydxprotocol/v4-documentation.
_V4 = "https://github.com/dydxprotocol/v4-chain/blob/84d4664bae71e3a077adaac67fb77ad19cd28d30/protocol/"

_DYDX_RULES = dict(
    clearance_fee_pct=1.5,
    liquidation_band_pct=0.0,
    trigger_includes_fee=False,
    mm_basis="mark",
    partial_rule="none",
    partial_min_tier=1,
    partial_tiers_down=0,
    partial_cooldown_s=0.0,
    slice_threshold_usd=0.0,
    slice_fraction=1.0,
    settle="fillable",
    backstop_mm_fraction=0.0,
    mark_method="oracle",
    mark_basis_window_s=0.0,
    mark_ema_slow_s=0.0,
    mark_ema_fast_s=0.0,
    max_inventory_pct=100.0,
    adl_drawdown_pct=0.0,
    adl_drawdown_window_h=8.0,
    adl_ranking="random",
    adl_price="bankruptcy",
    adl_trigger="deficit",
    funding_interval_h=1.0,
    funding_interest_pct=0.0,
    funding_clamp_pct=0.0,
    funding_cap_pct=100.0,
    funding_cap_margin_factor=6.0,
    funding_price="index",
    funding_weighting="equal",
    stop_trigger="mark",
    fillable_smmr=1.5,
    fillable_ba=1.0,
    liquidation_fee_cap=True,
    block_s=1.0,
    block_position_pct=10.0,
    block_position_min_usd=1_000.0,
    block_account_usd=100_000.0,
    block_fund_loss_usd=1_000_000.0,
    market_type="cross",
    block_liquidations=50,
    block_deleveragings=10,
    deleverage_holders=500,
)
_DYDX_NOTES = [
    "[CODE] rule, [SEC] values: margin: liquidity tier 0 'Large-Cap' (BTC-USD, ETH-USD): IMF 2%, maintenance "
    "fraction 60% of it → MMF 1.2%, 50x; MMF does not scale with size or open interest, and the tier's "
    "open-interest scaling of IMF is off (upper cap 0) (" + _V4 + "x/perpetuals/types/liquidity_tier.go, "
    "lib/lib.go). The 2% is in no mainnet file read: it is in the repository's sample pre-genesis and localnet "
    "script (scripts/genesis/sample_pregenesis.json, testing/genesis.sh), changed from 5% by commit a9a116c "
    "'Update large cap params in genesis' (2024-10-02), and in a community parameter table "
    "(docs.dydx.community); the mainnet launch genesis (testing/mainnet/genesis.json, 2023-10-26) has 5% / 3% "
    "(maintenance_fraction_ppm 600,000), the pack dydx 2023-10. Which one the chain runs today was not verified.",
    "[CODE] margin is measured at the oracle price, with no separate mark price (x/perpetuals/lib/lib.go) → "
    "mark_method oracle (mark = index). An account is liquidatable when TNC < TMMR (lib/margin/risk.go); with one "
    "position per account TNC = the position's equity and TMMR its maintenance margin. [INF] equality (TNC = "
    "TMMR, not liquidatable on dYdX) is liquidated here as on the other venues; it has measure zero in float prices.",
    "[CODE] liquidation (x/clob/keeper/liquidations.go): an IOC order at the fillable price P·(1 ∓ ABR·SMMR·MMF), "
    "ABR = clamp(BA·(1 − TNC/TMMR), 0, 1), BA = 1, SMMR = 1.5 (mainnet genesis spread_to_maintenance_margin_ratio_ppm "
    "1,500,000; docs.dydx.xyz/concepts/trading/liquidations: '1.5 × MMR'), filled at the makers' prices, no trading "
    "fee for the liquidated side. The chain rounds the limit to whole ticks, up for a sell, down for a buy "
    "(ConvertFillablePriceToSubticks); [INF] liqsim keeps it unrounded, which fills the same tick-grid levels.",
    "[CODE] insurance fund per fill: ifd = what the trader receives − what it would receive at its bankruptcy "
    "price; ifd < 0: the fund pays −ifd, only if its balance covers it (else the fill is refused and matching "
    "stops); ifd > 0: the fund takes min(ifd, 1.5% of the fill's notional) (max_liquidation_fee_ppm 15,000, "
    "genesis) and the trader keeps the rest (liquidations.go, deleveraging.go IsValidInsuranceFundDelta). [INF] a "
    "book level stands for many maker orders: a fill the fund can pay only part of fills that part.",
    "[CODE] per-block limits (x/clob/types/liquidations_config.go, mainnet genesis; live values not verified): an "
    "order closes at most max(10% of the position's notional, 1,000 USDC), the whole position when that is all of "
    "it; at most 100,000 USDC of notional per account per block; the fund pays at most 1,000,000 USDC per account "
    "per block. Each (account, market) is liquidated at most once per block. [INF] block time 1 s (the node's "
    "TimeoutCommit is 500 ms, cmd/dydxprotocold/cmd/config.go; blocks take about 1 s): a position left open is tried "
    "again a block later; the default oracle tick (1 s) is one block.",
    "[CODE] node caps per block (x/clob/flags/flags.go defaults; node settings, not consensus): at most 50 "
    "liquidation orders, to a window of the liquidatable accounts from a pseudo-random place, sent most under water "
    "first (|fillable − oracle| / oracle, then notional, descending; liquidations.go SortLiquidationOrders); at most "
    "10 deleveragings; at most 500 holders walked by one. [INF] the list of liquidatable accounts in id order; ties "
    "in id order where the chain uses the order hash.",
    "[CODE] deleveraging (x/clob/keeper/deleveraging.go): an account whose liquidation order filled nothing in a "
    "block and whose TNC < 0 is deleveraged in full, at its own bankruptcy price, against the opposite side's "
    "holders from a pseudo-random start, cyclically (no ranking by profit or leverage; docs.dydx.xyz/concepts/"
    "trading/contract-loss-mechanism: 'randomly chosen offsetting positions'), each giving min(remaining, its "
    "size); the fund pays nothing (adl_trigger deficit, adl_ranking random, adl_price bankruptcy). An account with "
    "TNC ≥ 0 whose order did not fill waits for the next block. "
    "[CODE] every walk of a block starts from the same draw (x/clob/keeper/random.go: a generator seeded with the "
    "previous block's time), modulo the open holders; what the holders walked do not take stays on the account for "
    "a later block (OffsetSubaccountPerpetualPosition): the fund never takes a position over. [INF] the draw comes "
    "from the run's seed, one a block; a counterparty must stay solvent at the mark and at that price (the chain's "
    "collateral check on it is not modelled); a deleveraging follows its account's order at once.",
    "[CODE] isolated markets have their own insurance fund, cross markets share one (x/perpetuals/keeper/"
    "perpetual.go, docs.dydx.xyz/concepts/trading/isolated-markets); BTC and ETH are cross. With one market per "
    "run market_type only chooses the fund's starting balance (insurance_fund.initial_usd or "
    "isolated_initial_usd). [INF] an isolated market's own liquidity tier and default_funding_ppm are not "
    "modelled (market.tiers can set a tier; no key sets a default funding).",
    "[CODE] funding (x/perpetuals/keeper/perpetual.go MaybeProcessNewFundingTickEpoch, x/perpetuals/funding/"
    "funding.go, types/liquidity_tier.go GetMaxAbsFundingClampPpm): each hour (funding-tick epoch 3,600 s, "
    "genesis) an 8-hour rate = the premium averaged over the hour + default_funding_ppm (0 for BTC and ETH, "
    "genesis), clamped to ±funding_rate_clamp_factor_ppm (6,000,000 = 600%, genesis) × (IMF − MMF) of the "
    "market's liquidity tier, paid pro rata over the hour (1/8 of it) at the oracle price: with IMF 2% and MMF "
    "1.2% a cap of 4.8% per 8 h, 0.6% an hour (funding_cap_margin_factor 6; funding_cap_pct 100 = no other cap). "
    "[INF] the premium is sampled from the book's mid at every oracle tick, not from the validators' per-minute "
    "median of impact-price votes with its tails removed; stops trigger on the oracle price.",
    "[INF] liquidation_band_pct, partial_rule, the mark windows and max_inventory_pct are unused here (the fillable "
    "price, the per-block limits and deleveraging replace them; the fund never takes positions over).",
]


def _dydx_packs() -> tuple[Pack, ...]:
    return (
        _make(
            "dydx",
            "2023-10",
            "dydxprotocol/v4-chain mainnet launch genesis (protocol/testing/mainnet/genesis.json, 2023-10-26) for the "
            "margins; the rules as in dydx 2026-03 (commit 84d4664) [CODE]",
            _DYDX_RULES,
            T.DYDX_2023_10,
            [
                "[CODE] margin: liquidity tier 0 'Large-Cap' (BTC-USD, ETH-USD) in the mainnet launch genesis "
                "(" + _V4 + "testing/mainnet/genesis.json): initial_margin_ppm 50,000 (5%, 20x), "
                "maintenance_fraction_ppm 600,000 → MMF 3%; funding's cap 6 × (5% − 3%) = 12% per 8 h, 1.5% an "
                "hour. Kept to compare with dydx 2026-03's 2% / 1.2%, which a 2024 commit put in the repository's "
                "sample genesis.",
                "[INF] every other rule is dydx 2026-03's (the launch genesis has the same liquidation config: "
                "fee cap 15,000 ppm, SMMR 1,500,000 ppm, block limits 10% / 1,000 / 100,000 / 1,000,000 USDC); the "
                "code of October 2023 was not compared with commit 84d4664.",
            ]
            + _DYDX_NOTES[1:],
        ),
        _make(
            "dydx",
            "2026-03",
            "dydxprotocol/v4-chain at commit 84d4664 (2026-03-04; the logic of release protocol/v9.6.1), its "
            "genesis files, and docs.dydx.xyz (dydxprotocol/v4-documentation) [CODE][DOC]",
            _DYDX_RULES,
            T.DYDX_2026_03,
            _DYDX_NOTES
            + [
                "[CODE] SOL-USD and AVAX-USD (ALT) are on liquidity tier 1: initial margin 10%, maintenance fraction "
                "50% → MMF 5%, 10x, one tier ('Mid-Cap' in the mainnet genesis of 2023-10-26, 'Small-Cap' with the "
                "same fractions in testing/genesis.sh at the pack's commit); a governance move of SOL to the 5% / 3% "
                "tier was not verified. Less liquid alts are on tier 2 'Long-Tail' (20% / 10%, 5x). Both markets are "
                "cross. " + _ALT_NOTE,
            ],
        ),
    )


# ---------------------------------------------------------------------------------------------------- lookup

_PACKS: dict[str, tuple[Pack, ...]] = {
    "binance": _binance_packs(),
    "bybit": _bybit_packs(),
    "okx": _okx_packs(),
    "hyperliquid": _hyperliquid_packs(),
    "dydx": _dydx_packs(),
}


def _check_venue(venue: str) -> None:
    if venue not in _PACKS:
        raise ValueError(f"unknown venue {venue!r}; allowed: {', '.join(VENUES)}")


def versions(venue: str) -> tuple[str, ...]:
    """The dated versions of a venue's pack, oldest first."""
    _check_venue(venue)
    return tuple(p.version for p in _PACKS[venue])


def newest(venue: str) -> str:
    """The most recent version of a venue's pack (not necessarily the default, see ``DEFAULTS``)."""
    return versions(venue)[-1]


def pack(venue: str, version: str | None = None) -> Pack:
    """A venue's rule pack: the given version, or ``DEFAULTS[venue]``.

    Raises
    ------
    ValueError
        For an unknown venue or version; the message names it and lists the allowed ones.
    """
    _check_venue(venue)
    version = DEFAULTS[venue] if version is None else version
    for p in _PACKS[venue]:
        if p.version == version:
            return p
    raise ValueError(
        f"unknown {venue} version {version!r}; allowed: {', '.join(versions(venue))} (default {DEFAULTS[venue]})"
    )


def all_packs() -> tuple[Pack, ...]:
    """Every pack, venue by venue in ``VENUES`` order, each venue's oldest first."""
    return tuple(p for v in VENUES for p in _PACKS[v])


def effective_trigger_mmr_pct(p: Pack, asset: str = "BTC") -> float:
    """Tier-1 maintenance rate plus the clearance fee where the venue counts it in the trigger (OKX), percent."""
    return p.tiers[asset][0].mmr_pct + (p.rules.clearance_fee_pct if p.rules.trigger_includes_fee else 0.0)
