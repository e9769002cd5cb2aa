"""The packs for people and for machines: plain-JSON records and the aligned table of ``liqsim venues``."""

from __future__ import annotations

import dataclasses

from sim.config.schema import fmt
from sim.venues.packs import ASSETS, DEFAULTS, all_packs, effective_trigger_mmr_pct, newest
from sim.venues.schema import Pack, Rules, TierRow


def _adl_trigger(r: Rules) -> str:
    if r.settle == "fillable":
        return "order filled 0, equity < 0"
    base = "vault can't take; equity < 0" if r.backstop_mm_fraction > 0 else "fund can't pay"
    return f"{base} or -{fmt(r.adl_drawdown_pct)}%/{fmt(r.adl_drawdown_window_h)}h" if r.adl_drawdown_pct else base


def _partial(r: Rules) -> str:
    if r.settle == "fillable":
        return f"per {fmt(r.block_s)}s block: {fmt(r.block_position_pct)}% >={r.block_position_min_usd:,.0f}"
    if r.partial_rule == "slices":
        return f"slices {fmt(r.slice_fraction * 100)}% >{r.slice_threshold_usd:,.0f}, {fmt(r.partial_cooldown_s)}s"
    if r.partial_rule == "to_tier":
        to = "to tier 1" if r.partial_tiers_down == 0 else f"-{r.partial_tiers_down} tiers"
        return f"to_tier >=T{r.partial_min_tier} {to}, {fmt(r.partial_cooldown_s)}s"
    if r.partial_rule == "none":
        return "none"
    return f"{r.partial_rule} >=T{r.partial_min_tier}"


def _mark(r: Rules) -> str:
    if r.mark_method == "oracle":
        return "oracle"
    if r.mark_method == "hyperliquid":
        return f"hyperliquid {fmt(r.mark_ema_slow_s)}/{fmt(r.mark_ema_fast_s)}s"
    return f"{r.mark_method} {fmt(r.mark_basis_window_s)}s"


def _row_dict(t: TierRow) -> dict:
    return dataclasses.asdict(t)


def venues_records() -> list[dict]:
    """One plain-JSON record per (venue, version), venue by venue, oldest version first.

    Each record has the venue, version, whether it is the default and the newest, the source, the BTC and
    ETH tier-1 rate and max leverage, the effective BTC trigger rate (tier-1 MMR plus the fee where the venue
    counts it), the key rules flattened (clearance fee, partial rule, settlement, mark, ADL trigger, ranking and
    price), and in full: ``rules``, ``tiers`` (asset → list of rows), ``notes``, and for a venue whose tiers are
    set in position size (OKX) ``tier_size_floors`` (asset → floors in coins) and ``tier_reference_price_usd``
    (asset → the price ``tiers`` is shown at); both are empty objects for USD-notional tiers. ``collateral``: asset
    → rows ``[floor in units, ratio]`` (:mod:`sim.venues.collateral`), empty where the version has no table. The
    per-asset tier-1 fields are None for an asset the version has no table for.
    """
    out = []
    for p in all_packs():
        r = p.rules
        rec = {
            "venue": p.venue,
            "version": p.version,
            "default": DEFAULTS[p.venue] == p.version,
            "newest": newest(p.venue) == p.version,
            "source": p.source,
        }
        for asset in ASSETS:  # None where the version has no table for the asset (SOL, ALT in older packs)
            rec[f"{asset.lower()}_tier1_mmr_pct"] = p.tiers[asset][0].mmr_pct if asset in p.tiers else None
            rec[f"{asset.lower()}_tier1_max_leverage"] = p.tiers[asset][0].max_leverage if asset in p.tiers else None
        rec.update(
            btc_trigger_mmr_pct=effective_trigger_mmr_pct(p, "BTC"),
            clearance_fee_pct=r.clearance_fee_pct,
            partial_rule=r.partial_rule,
            settle=r.settle,
            mark_method=r.mark_method,
            adl_trigger=_adl_trigger(r),
            adl_ranking=r.adl_ranking,
            adl_price=r.adl_price,
            rules=dataclasses.asdict(r),
            tiers={a: [_row_dict(t) for t in rows] for a, rows in p.tiers.items()},
            notes=list(p.notes),
            tier_size_floors={a: list(f) for a, f in p.size_floors.items()},
            tier_reference_price_usd=dict(p.reference_price_usd),
            collateral={a: [list(row) for row in rows] for a, rows in p.collateral.items()},
        )
        out.append(rec)
    return out


def _aligned(header: list[str], body: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(row[i]) for row in [header] + body) for i in range(len(header))]
    return [
        "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))).rstrip()
        for row in [header] + body
    ]


def _money(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.2f}"


def _tier_lines(rows: tuple[TierRow, ...], asset: str, size_floors: tuple[float, ...] | None) -> list[str]:
    body = [
        [
            str(n),
            _money(t.notional_floor_usd),
            fmt(t.max_leverage),
            f"{t.mmr_pct:.4g}",
            _money(t.maintenance_amount_usd),
        ]
        for n, t in enumerate(rows, start=1)
    ]
    header = ["tier", "floor USD", "max lev", "MMR %", "amount USD"]
    if size_floors is not None:  # set in size: the floor in coins first, the USD columns at the reference price
        header.insert(1, f"floor {asset}")
        for row, f in zip(body, size_floors):
            row.insert(1, f"{f:,.10g}")
    return _aligned(header, body, right=set(range(len(header))))


def _pack_detail(p: Pack) -> list[str]:
    flag = " (default)" if DEFAULTS[p.venue] == p.version else ""
    lines = ["", f"{p.venue} {p.version}{flag}", f"  source: {p.source}"]
    lines += [f"  - {note}" for note in p.notes]
    for asset, rows in p.tiers.items():
        if p.sized_in_coins(asset):
            title = (
                f"  {asset} tiers: set in position size; USD columns at {_money(p.reference_price_usd[asset])} "
                f"USD/{asset} (a position's own price moves the USD floors and amounts)"
            )
        else:
            title = f"  {asset} tiers:"
        lines += [title] + [f"    {line}" for line in _tier_lines(rows, asset, p.size_floors.get(asset))]
    if p.collateral:
        lines.append("  collateral (ratio by amount held, each slice at its tier's ratio):")
        for asset, ratios in p.collateral.items():
            cells = [f"{fmt(r)}" if len(ratios) == 1 else f"{fmt(f)}+: {fmt(r)}" for f, r in ratios]
            lines.append(f"    {asset:<5} " + ", ".join(cells))
    return lines


def _collateral(p: Pack) -> str:
    return " ".join(p.collateral) if p.collateral else "-"


def venues_text(verbose: bool = False) -> str:
    """A readable aligned table of every pack (``liqsim venues``); ``verbose`` adds notes and tier tables."""
    header = [
        "venue",
        "version",
        "BTC MMR %",
        "max lev",
        "trigger %",
        "fee %",
        "partial",
        "settle",
        "mark",
        "ADL trigger",
        "ADL ranking",
        "ADL price",
        "coins",
        "collateral",
    ]
    body = []
    for p in all_packs():
        r, t1 = p.rules, p.tiers["BTC"][0]
        star = "*" if DEFAULTS[p.venue] == p.version else ""
        body.append(
            [
                p.venue,
                p.version + star,
                fmt(t1.mmr_pct),
                fmt(t1.max_leverage),
                fmt(round(effective_trigger_mmr_pct(p), 10)),
                fmt(r.clearance_fee_pct),
                _partial(r),
                r.settle,
                _mark(r),
                _adl_trigger(r),
                r.adl_ranking,
                r.adl_price,
                " ".join(p.tiers),
                _collateral(p),
            ]
        )
    lines = _aligned(header, body, right={2, 3, 4, 5})
    lines += [
        "",
        "version = date of the source of the numbers; * = default, the newest (used when no version is given).",
        "BTC MMR and max lev are tier 1; trigger % adds the clearance fee where the venue counts it (OKX).",
        "coins: the tier tables of the version (ALT: a generic high-volatility alt, AVAX's numbers); collateral: the",
        "assets taken as margin with a haircut table (- = the quote currency only); --verbose lists both.",
    ]
    sized = sorted({p.venue for p in all_packs() if p.size_floors})
    if sized:
        lines.append(
            f"{', '.join(sized)}: tiers set in position size (contracts): a position's tier follows its "
            "size; --verbose lists them in USD at a stated reference price."
        )
    if verbose:
        for p in all_packs():
            lines += _pack_detail(p)
    return "\n".join(lines) + "\n"
