"""Several instruments in one scenario, and the portfolios that hold them (docs/model.md §5.5, §6).

``[instruments.ETH]`` (``SOL``, ``ALT``, ``BTC``: a tier table of the venue's pack) lists an instrument of the
scenario's venue beside ``[market]``'s, which stays the first one; it gives the instrument's own price, tick, lot,
open interest and beta, and every other setting is the scenario's. :func:`market_scenarios` turns a scenario into
one single-market scenario per instrument, built with :meth:`Scenario.with_overrides`, so each is validated like a
user's (:func:`sim.config.scenario.load_scenario` builds them once to validate a scenario with instruments, every
problem named by the instrument's key). ``[portfolio]`` says how many traders hold several instruments in one cross account
(:func:`sim.world.portfolio.group_accounts` draws them, from :func:`portfolio_rng`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import numpy as np

from sim import venues
from sim.config.schema import BAD, Checker, as_number, fmt, num, setting, specs
from sim.errors import ScenarioError
from sim.world.streams import generator

_REQ = "required"


@dataclass(frozen=True)
class InstrumentTable:
    """``[instruments.<ASSET>]``: one more instrument of the venue."""

    start_price_usd: float = num(None, "(0, 1e9]", "USD", "Index, mark and last price at t = 0.", shown_default=_REQ)
    tick_size_usd: float = num(
        None, "(0, 1e8]", "USD", "Price tick (at most a tenth of start_price_usd).", shown_default=_REQ
    )
    lot_size: float = num(None, "(0, 1e6]", "base units", "Quantity step of orders and positions.", shown_default=_REQ)
    open_interest_usd: float = num(
        None,
        "(0, 1e13]",
        "USD",
        "The instrument's open interest (its population.open_interest_usd).",
        shown_default=_REQ,
    )
    n_positions: int | None = num(
        None,
        "[1, 50_000_000]",
        "positions",
        "Its number of trader positions; unset = population.n_positions × open_interest_usd / "
        "population.open_interest_usd.",
        kind="int",
        optional=True,
        shown_default="scaled by open interest",
    )
    beta: float = num(
        1.0,
        "[-10, 10]",
        "",
        "Its move per unit of the shock's relative move: a gap or ramp of shock.size_pct moves it by "
        "beta × shock.size_pct. Other shock kinds need beta = 1.",
    )
    book_depth_usd_1pct: float | None = num(
        None,
        "(0, 1e13]",
        "USD per side",
        "Its book.depth_usd_1pct; unset = book.depth_usd_1pct × open_interest_usd / population.open_interest_usd.",
        optional=True,
        shown_default="scaled by open interest",
    )
    symbol: str | None = setting(
        None,
        "str",
        "Contract name, for labels; unset = market.symbol with market.asset replaced by this asset.",
        optional=True,
        shown_default="from market.symbol",
    )


REQUIRED_KEYS = ("start_price_usd", "tick_size_usd", "lot_size", "open_interest_usd")

_INSTRUMENT_DOC = "An instrument beside [market]'s: see [instruments.<ASSET>] below."


def _instrument() -> Any:
    return setting(
        None, "instrument", _INSTRUMENT_DOC, type_name="table", optional=True, allowed="see below", shown_default="none"
    )


@dataclass(frozen=True)
class InstrumentsTable:
    """``[instruments]``: more instruments of the venue, one table per asset (``[instruments.ETH]``)."""

    BTC: InstrumentTable | None = _instrument()
    ETH: InstrumentTable | None = _instrument()
    SOL: InstrumentTable | None = _instrument()
    ALT: InstrumentTable | None = _instrument()

    def items(self) -> list[tuple[str, InstrumentTable]]:
        """The instruments given, as ``(asset, table)`` in the order of :data:`sim.venues.ASSETS`."""
        return [(a, t) for a in venues.ASSETS if (t := getattr(self, a)) is not None]


assert tuple(specs(InstrumentsTable)) == venues.ASSETS  # one table per asset a pack may have


@dataclass(frozen=True)
class PortfolioTable:
    """``[portfolio]``: traders holding several instruments in one cross account."""

    share: float = num(
        0.0,
        "[0, 1]",
        "fraction",
        "Target fraction of each instrument's cross-margin traders (population.cross_share; no stop, no top-up, not "
        "an arrival) in accounts holding several instruments; 0 = every account holds one. An instrument with more "
        "such traders than the others can pair with gets fewer (docs/model.md §5.5).",
    )
    instruments: tuple[tuple[int, float], ...] = setting(
        ((2, 1.0),),
        "counts",
        "How many instruments such an account holds → weight (normalised), e.g. {2 = 0.6, 3 = 0.4}; counts above "
        "the number of instruments hold them all.",
        type_name="table",
        allowed="integer ≥ 2 = weight ≥ 0",
        shown_default="`{2 = 1}`",
    )
    leverage_correlation: float = num(
        0.5,
        "[-1, 1]",
        "",
        "Rank correlation of the leverages of one account's positions (a Gaussian copula over each instrument's "
        "leverage ranks).",
    )
    seed: int | None = num(
        None,
        "[0, 2**63)",
        "",
        "Seed of the grouping's own random stream; unset = scenario.seed.",
        kind="int",
        optional=True,
        shown_default="scenario.seed",
    )

    def count_arrays(self, n_instruments: int) -> tuple[np.ndarray, np.ndarray]:
        """Instruments per account and their probabilities, counts capped at ``n_instruments``."""
        k = np.minimum(np.array([c for c, _ in self.instruments], np.int64), n_instruments)
        w = np.array([w for _, w in self.instruments], np.float64)
        ks = np.unique(k)
        p = np.array([w[k == x].sum() for x in ks])
        return ks, p / p.sum()


# ----------------------------------------------------------------------------------------------------- reading


def read_instrument(c: Checker, value: Any, key: str) -> Any:
    """``instruments.<ASSET>``: a table of :class:`InstrumentTable` keys, the required ones given."""
    if not isinstance(value, dict):
        return c.fail(key, f"must be a table ([{key}]) of " + ", ".join(specs(InstrumentTable)), value)
    before = len(c.problems)
    for name in REQUIRED_KEYS:
        if name not in value:
            c.fail(f"{key}.{name}", "missing; every instrument needs " + ", ".join(REQUIRED_KEYS))
    parsed = c.table(InstrumentTable, value, key)
    if len(c.problems) > before:
        return BAD
    return InstrumentTable(**parsed)


def read_counts(value: Any, key: str, fail: Any) -> Any:
    """``portfolio.instruments``: ``{count = weight}`` with integer counts ≥ 2 and weights ≥ 0, some positive."""
    if not isinstance(value, dict) or not value:
        return fail(key, "must be a table of instruments per account = weight, e.g. {2 = 0.6, 3 = 0.4}", value)
    found: dict[int, float] = {}
    bad = False
    for k, w in value.items():
        n = as_number(k if not isinstance(k, str) else _int(k), integer=True)
        if n is None or n < 2:
            bad = fail(f"{key}.{k}", "the key must be a number of instruments: an integer ≥ 2") is BAD
        elif isinstance(w, dict) or as_number(w) is None or w < 0:
            bad = fail(f"{key}.{k}", "the weight must be a number ≥ 0", w) is BAD
        elif n in found:
            bad = fail(f"{key}.{k}", f"the same count as {key}.{n}") is BAD
        else:
            found[int(n)] = float(w)
    if not bad and not 0 < sum(found.values()) < math.inf:
        bad = fail(key, "needs a positive, finite sum of weights (they are normalised)", value) is BAD
    return BAD if bad else tuple(sorted(found.items()))


def _int(text: str) -> Any:
    try:
        return int(text.strip())
    except ValueError:
        return None


def check(c: Checker) -> None:
    """The instruments against the rest of the scenario: each asset has a tier table in the venue's pack and is not
    market.asset; the shock can move them all; the data files are the first market's. Runs after the venue check."""
    v = c.values
    given = [(a, v[f"instruments.{a}"]) for a in venues.ASSETS if v[f"instruments.{a}"] not in (None, BAD)]
    if (
        v["portfolio.share"] not in (0.0, BAD)
        and not given
        and not any(v[f"instruments.{a}"] is BAD for a in venues.ASSETS)
    ):
        c.fail(
            "portfolio.share",
            "needs instruments beside [market]'s ([instruments.ETH], ...); allowed here: 0",
            c.given.get("portfolio.share", v["portfolio.share"]),
        )
    if not given:
        return
    if c.ok("market.venue", "market.venue_version", "market.asset"):
        try:
            pk = venues.pack(v["market.venue"], v["market.venue_version"])
        except (KeyError, ValueError):
            pk = None
        for asset, _ in given:
            if asset == v["market.asset"]:
                c.fail(f"instruments.{asset}", "is market.asset, the first instrument; list the other instruments")
            elif pk is not None and asset not in pk.tiers:
                c.fail(
                    f"instruments.{asset}",
                    f"the {pk.venue} {pk.version} pack has no tier table for it; allowed there: "
                    + ", ".join(a for a in pk.tiers if a != v["market.asset"]),
                )
    kind = v["shock.kind"]
    if kind == "flow":
        for asset, t in given:
            if t.beta != 1.0:
                c.fail(
                    f"instruments.{asset}.beta",
                    f"must be 1 with shock.kind = {kind!r} (a flow sends the same USD into every market, for now)",
                    c.given.get(f"instruments.{asset}.beta", t.beta),
                )
    if kind == "replay" and v["shock.rescale"] is False:
        c.fail(
            "shock.rescale",
            "must be true with [instruments]: each instrument replays the path's moves from its own start price",
            False,
        )
    for key in ("population.file", "book.file"):
        if v[key] not in (None, BAD):
            c.fail(key, "cannot be used with [instruments] yet (its rows are the first instrument's)", c.given[key])


# ------------------------------------------------------------------------------------------ market scenarios


class _Scn(Protocol):
    """What :func:`market_scenarios` needs of a scenario (:class:`sim.config.scenario.Scenario`)."""

    @property
    def scenario(self) -> Any: ...
    @property
    def market(self) -> Any: ...
    @property
    def population(self) -> Any: ...
    @property
    def book(self) -> Any: ...
    @property
    def shock(self) -> Any: ...
    @property
    def instruments(self) -> InstrumentsTable: ...
    @property
    def source(self) -> str | None: ...
    @property
    def overridden(self) -> frozenset[str]: ...

    def with_overrides(self: S, overrides: dict[str, Any]) -> S: ...


S = TypeVar("S", bound=_Scn)


def instrument_seed(seed: int, asset: str) -> int:
    """The seed of an instrument's market: a hash of the scenario's seed and the asset, in [0, 2**63)."""
    digest = hashlib.sha256(f"liqsim instrument {seed} {asset}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def symbol(market_symbol: str, market_asset: str, asset: str) -> str:
    """An instrument's contract name: the market's with its asset replaced (``BTCUSDT`` → ``ETHUSDT``)."""
    if market_asset and market_asset in market_symbol:
        return market_symbol.replace(market_asset, asset, 1)
    return f"{asset}-PERP"


def _single() -> dict[str, Any]:
    """Overrides that leave a scenario's first market alone: no instruments, no portfolio, no collateral (the
    accounts' holdings are the run of several's, :mod:`sim.world.collateral`)."""
    from sim.config.collateral import ASSETS

    drop = {f"instruments.{a}": None for a in venues.ASSETS} | {f"collateral.{a}": None for a in ASSETS}
    return {**drop, **{f"portfolio.{k}": None for k in specs(PortfolioTable)}}


def _overrides(scn: _Scn, asset: str, t: InstrumentTable) -> dict[str, Any]:
    """The overrides that make instrument ``asset``'s market of a scenario."""
    pop, book = scn.population, scn.book
    ratio = t.open_interest_usd / pop.open_interest_usd if pop.open_interest_usd > 0 else 1.0
    scaled = pop.n_positions * ratio  # past the largest allowed, the check names instruments.<ASSET>.n_positions
    n = t.n_positions if t.n_positions is not None else max(1, int(round(min(scaled, 1e15))))
    depth = t.book_depth_usd_1pct if t.book_depth_usd_1pct is not None else book.depth_usd_1pct * ratio
    out = {
        **_single(),
        "scenario.name": f"{scn.scenario.name}-{asset}",
        "scenario.seed": instrument_seed(scn.scenario.seed, asset),
        "market.asset": asset,
        "market.symbol": t.symbol or symbol(scn.market.symbol, scn.market.asset, asset),
        "market.start_price_usd": t.start_price_usd,
        "market.tick_size_usd": t.tick_size_usd,
        "market.lot_size": t.lot_size,
        "market.tiers": None,  # the pack's table for the asset
        "population.open_interest_usd": t.open_interest_usd,
        "population.n_positions": n,
        "book.depth_usd_1pct": depth,
    }
    if scn.shock.kind in ("gap", "ramp"):
        out["shock.size_pct"] = scn.shock.size_pct * t.beta
    return out


def _renamed(problem: str, source: str, asset: str, t: InstrumentTable) -> str:
    """A problem of an instrument's market, named by the instrument's keys where one of them set the value."""
    names = {
        "market.start_price_usd": "start_price_usd",
        "market.tick_size_usd": "tick_size_usd",
        "market.lot_size": "lot_size",
        "population.open_interest_usd": "open_interest_usd",
        "population.n_positions": "n_positions",
        "book.depth_usd_1pct": "book_depth_usd_1pct",
    }
    head = f"instruments.{asset}"
    if problem.startswith("override: shock.size_pct = "):
        value, _, rest = problem.removeprefix("override: shock.size_pct = ").partition(": ")
        return f"{source}: {head}.beta = {fmt(t.beta)}: shock.size_pct × beta = {value}: {rest}"
    for key, name in names.items():
        if problem.startswith(f"override: {key}"):
            rest = problem.removeprefix(f"override: {key}")
            for k, n in names.items():
                rest = rest.replace(k, f"{head}.{n}")
            return f"{source}: {head}.{name}{rest}"
    return f"{problem} (in the market of {head})"


def market_scenarios(scn: S) -> list[S]:
    """One single-market scenario per instrument: ``scn``'s own market first (``scn`` without its instruments and
    portfolio), then each of ``[instruments]`` in the order BTC, ETH, SOL, ALT.

    An instrument's scenario is ``scn`` with its asset (the pack's tier table), symbol, start price, tick, lot, open
    interest, number of positions and book depth; a gap's or ramp's size times its beta; and a seed of its own
    (:func:`instrument_seed`), so its population, background flow and behaviour are drawn apart from the others'.
    Raises :class:`ScenarioError` with every problem, named by the instrument's keys.
    """
    out = [scn.with_overrides(_single())]
    problems: list[str] = []
    for asset, t in scn.instruments.items():
        source = "override" if f"instruments.{asset}" in scn.overridden else (scn.source or "<dict>")
        try:
            out.append(scn.with_overrides(_overrides(scn, asset, t)))
        except ScenarioError as err:
            problems += [_renamed(p, source, asset, t) for p in err.problems]
    if problems:
        raise ScenarioError(problems)
    return out


def portfolio_rng(scn: Any) -> np.random.Generator:
    """The generator :func:`sim.world.portfolio.group_accounts` draws a scenario's portfolios from: stream
    ``portfolio`` of ``portfolio.seed`` (unset: ``scenario.seed``)."""
    pf = scn.portfolio
    return generator(scn.scenario.seed if pf.seed is None else pf.seed, "portfolio")


def to_dict(value: Any) -> Any:
    """An instrument's table or the counts as TOML data (unset keys left out)."""
    if isinstance(value, InstrumentTable):
        return {k: x for k, x in dataclasses.asdict(value).items() if x is not None}
    return {str(k): w for k, w in value}
