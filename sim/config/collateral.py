"""Collateral held by cross accounts, and its own shock (docs/model.md §2.10, §6).

``[collateral.USDe]`` (``USDT``, ``USDC``, ``BTC``: the assets of the venue's collateral table,
:mod:`sim.venues.collateral`) says that a share of the scenario's cross accounts hold part of their margin in that
asset instead of USD (exchanged at its start price, then counted at the venue's ratio: a haircut), and how the
asset's price moves: a stablecoin keeps its peg unless ``move_pct`` is set (a depeg: down over ``duration_s`` from
``start_s``, back after ``back_s`` if given); BTC is valued at the BTC instrument's index (it must be one of the
scenario's instruments). :func:`sim.world.collateral.holdings` draws the holders and builds what the account layer
needs.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim import venues
from sim.config.schema import BAD, Checker, num, setting, specs

#: Collateral assets a scenario may name (each venue's table says which it takes).
ASSETS = ("USDT", "USDC", "USDe", "BTC")
#: Assets priced at 1 USD with a path of their own; the others follow an instrument's path.
DOLLARS = ("USDT", "USDC", "USDe")


@dataclass(frozen=True)
class HoldingTable:
    """``[collateral.<ASSET>]``: cross accounts posting part of their margin in this asset."""

    share: float = num(
        1.0, "(0, 1]", "fraction", "Fraction of the accounts of several instruments ([portfolio]) that hold it."
    )
    margin_share: float = num(
        0.5,
        "(0, 1]",
        "fraction",
        "Fraction of a holder's USD margin exchanged for this asset at its start price; the venue's ratio counts it at "
        "less (the sum over the assets an account holds may not exceed 1).",
    )
    ratio: float | None = num(
        None,
        "[0.01, 1]",
        "",
        "Collateral value ratio (1 − haircut); unset = the venue's table (tiered by amount where it is).",
        optional=True,
        shown_default="the venue's table",
    )
    move_pct: float = num(
        0.0,
        "(-100, 1000]",
        "%",
        "A stablecoin's move from its peg (a depeg: −35); 0 = it keeps its peg. BTC is valued at the BTC "
        "instrument's index.",
    )
    start_s: float = num(0.0, "≥ 0", "s", "When the move starts.")
    duration_s: float = num(60.0, "≥ 0", "s", "How long it takes (0: a gap).")
    back_s: float | None = num(
        None,
        "≥ 0",
        "s",
        "When the price starts back to its peg (over duration_s); unset = it stays off its peg.",
        optional=True,
        shown_default="stays",
    )


def _holding() -> Any:
    return setting(
        None,
        "holding",
        "Collateral in this asset: see [collateral.<ASSET>] below.",
        type_name="table",
        optional=True,
        allowed="see below",
        shown_default="none",
    )


@dataclass(frozen=True)
class CollateralTable:
    """``[collateral]``: one table per asset that cross accounts post as margin (``[collateral.USDe]``)."""

    USDT: HoldingTable | None = _holding()
    USDC: HoldingTable | None = _holding()
    USDe: HoldingTable | None = _holding()
    BTC: HoldingTable | None = _holding()

    def items(self) -> list[tuple[str, HoldingTable]]:
        """The assets given, as ``(asset, table)`` in the order of :data:`ASSETS`."""
        return [(a, t) for a in ASSETS if (t := getattr(self, a)) is not None]


assert tuple(specs(CollateralTable)) == ASSETS


#: Slack weight of a stablecoin that keeps its peg (its price barely moves); a moving asset's is 1, like BTC's.
PEGGED_WEIGHT = 0.05


def assets(scn: Any, names: list[str], inputs: list) -> list:
    """The scenario's ``[collateral]`` as :class:`sim.world.collateral.Asset` records: a stablecoin's own path, BTC
    the BTC market's index (its path, ``inputs[names.index("BTC")]``, gives the start price), the venue's table
    unless a ratio is given."""
    from sim.venues.collateral import table
    from sim.world.collateral import Asset, dollar_path

    rows = table(scn.market.venue, scn.market.venue_version)
    out = []
    for name, h in scn.collateral.items():
        if name in DOLLARS:
            t_s, price = (np.asarray(x, np.float64) for x in dollar_path(h))
            weight, market = (1.0 if h.move_pct != 0.0 else PEGGED_WEIGHT), -1
        else:
            market = names.index(name)
            inp = inputs[market]
            t_s, price, weight = inp.path_t / 1000.0, np.asarray(inp.path_p, np.float64), 1.0
        asset = Asset(
            ASSETS.index(name), h.share, h.margin_share, h.ratio, rows.get(name, ()), t_s, price, weight, market
        )
        out.append(asset)
    return out


def read_holding(c: Checker, value: Any, key: str) -> Any:
    """``collateral.<ASSET>``: a table of :class:`HoldingTable` keys."""
    if not isinstance(value, dict):
        return c.fail(key, f"must be a table ([{key}]) of " + ", ".join(specs(HoldingTable)), value)
    before = len(c.problems)
    parsed = c.table(HoldingTable, value, key)
    return BAD if len(c.problems) > before else HoldingTable(**parsed)


def to_dict(value: HoldingTable) -> dict[str, Any]:
    """A holding's table as TOML data (unset keys left out)."""
    return {k: x for k, x in dataclasses.asdict(value).items() if x is not None}


def check(c: Checker) -> None:
    """The collateral against the rest of the scenario: the venue takes the asset (or a ratio is given); the
    accounts that hold it exist (instruments and a portfolio, or cross-margin traders); BTC is an instrument and has
    no move of its own; an account's margin shares sum to at most 1. Runs after the instruments' check."""
    from sim.venues.collateral import TABLES

    v = c.values
    given = [(a, v[f"collateral.{a}"]) for a in ASSETS if v[f"collateral.{a}"] not in (None, BAD)]
    if not given:
        return
    listed = [a for a in venues.ASSETS if v[f"instruments.{a}"] is not None]
    if any(v[f"instruments.{a}"] is BAD for a in listed) or v["market.asset"] in listed:
        return  # an instrument's own problem is reported; the collateral is checked once the instruments are right
    assets = [v["market.asset"], *listed]
    if len(assets) == 1:
        c.fail(
            "collateral",
            "needs [instruments] (collateral is held by the cross accounts of a run of several instruments)",
            ", ".join(a for a, _ in given),
        )
        return
    if v["portfolio.share"] == 0.0 and v["population.file"] is None:
        c.fail(
            "collateral",
            "is held by accounts of several instruments, and there are none: needs portfolio.share above 0 (or an "
            "account snapshot, population.file)",
            ", ".join(a for a, _ in given),
        )
    elif v["population.cross_share"] == 0.0 and v["population.file"] is None:
        c.fail(
            "population.cross_share",
            "leaves no cross-margin traders to group into the accounts that hold the collateral ("
            + ", ".join(a for a, _ in given)
            + "); allowed: above 0 (up to 1), or no [collateral]",
            0.0,
        )
    table, version = None, None
    if c.ok("market.venue", "market.venue_version"):
        version = v["market.venue_version"] or venues.DEFAULTS.get(v["market.venue"])
        table = TABLES.get((str(v["market.venue"]), str(version)), {})
    for asset, h in given:
        if table is not None and asset not in table and h.ratio is None:
            taken = ", ".join(table) or "none"
            c.fail(
                f"collateral.{asset}",
                f"the {v['market.venue']} {version} pack does not take it as collateral (it takes "
                f"{taken}); give collateral.{asset}.ratio to study it anyway",
            )
        if asset not in DOLLARS:
            if asset not in assets:
                c.fail(
                    f"collateral.{asset}",
                    f"follows the {asset} instrument's path, and {asset} is not one of the scenario's instruments "
                    f"({', '.join(assets)})",
                )
            if h.move_pct != 0.0 or h.back_s is not None:
                c.fail(
                    f"collateral.{asset}.move_pct", f"{asset} moves with its instrument; allowed here: 0", h.move_pct
                )
    total = sum(h.margin_share for _, h in given)
    if total > 1.0 + 1e-12:
        c.fail(
            "collateral",
            f"the margin_share values sum to {total:g}: an account holding every asset would post more than its "
            "margin; allowed: a sum of at most 1",
        )
