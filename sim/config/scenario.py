"""Scenarios: TOML files turned into validated, frozen dataclasses.

A scenario has one TOML table per dataclass below (``[scenario]``, ``[market]``, ...). Every key is a dataclass field
whose ``metadata["spec"]`` (a :class:`sim.config.schema.Spec`) carries its type, unit, allowed range and doc;
validation, overrides, :meth:`Scenario.to_dict` and the reference in ``scenarios/README.md``
(:func:`sim.config.docs.schema_markdown`, printed by ``python -m sim.config.scenario --markdown``) are all driven by
those specs, so adding a key means adding one field. The generic machinery (specs, type and range checks, bounds on
products of keys, TOML reading, applying overrides, docs tables) is in :mod:`sim.config.schema`; this module holds the
tables, the rules that tie keys together (including the positions file against the market) and loading. Whether a run
fits the machine and whether the lot size fits the sizes drawn are checked in :mod:`sim.config.resource_checks` and
:mod:`sim.config.lot_checks`.

Validation collects every problem before raising one :class:`sim.errors.ScenarioError`; a message reads
``"{source}: {dotted.key} = {value!r}: {what is allowed}"``, where ``source`` is the file, or ``override`` for a
value that came from :func:`load_scenario`'s ``overrides``.
"""

from __future__ import annotations

import copy
import dataclasses
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
import tomli_w

from sim import venues
from sim.config import (
    behaviour,
    collateral,
    docs,
    files,
    instruments,
    lot_checks,
    mixes,
    population_checks,
    prices,
    resource_checks,
    shipped,
    snapshot,
)
from sim.config.collateral import CollateralTable
from sim.config.instruments import InstrumentsTable, PortfolioTable
from sim.config.schema import (
    BAD,
    Checker,
    Spec,
    apply_overrides,
    deep_problem,
    fmt,
    read_toml,
    specs,
    too_deep,
)
from sim.config.tables import (
    GENERATED,
    TABLES,
    AdlTable,
    BookTable,
    InsuranceFundTable,
    MarketTable,
    OutputTable,
    PopulationTable,
    ScenarioTable,
    ShockTable,
    Tier,
)
from sim.errors import ScenarioError
from sim.world.market import replay_prices
from sim.world.price_paths import gbm_path

if sys.argv[:1] == ["-m"]:
    # `python -m sim.config.scenario --markdown`: runpy imports the package first, which imports this module, and then
    # warns that it will run a second copy as __main__. That copy only prints the docs, so the warning is noise.
    # (sys.argv[0] is "-m" only while `python -m` is locating its module.)
    warnings.filterwarnings("ignore", r"'sim\.config\.scenario' found in sys\.modules", RuntimeWarning)


@dataclass(frozen=True)
class _Origin:
    """The raw input a scenario was built from, so overrides are validated exactly like the file."""

    raw: dict
    base_dir: str | None
    overridden: frozenset[str]


@dataclass(frozen=True)
class Scenario:
    """A validated scenario: one frozen dataclass per TOML table.

    ``source`` names where it came from (the file as given, ``<defaults>`` or ``<dict>``); it, the origin kept for
    :meth:`with_overrides` and the data-file arrays take no part in comparisons.
    """

    scenario: ScenarioTable = field(default_factory=ScenarioTable)
    market: MarketTable = field(default_factory=MarketTable)
    venue: venues.VenueTable = field(default_factory=venues.VenueTable)
    population: PopulationTable = field(default_factory=PopulationTable)
    stops: behaviour.StopsTable = field(default_factory=behaviour.StopsTable)
    topups: behaviour.TopUpsTable = field(default_factory=behaviour.TopUpsTable)
    arrivals: behaviour.ArrivalsTable = field(default_factory=behaviour.ArrivalsTable)
    book: BookTable = field(default_factory=BookTable)
    shock: ShockTable = field(default_factory=ShockTable)
    prices: prices.PricesTable = field(default_factory=prices.PricesTable)
    funding: behaviour.FundingTable = field(default_factory=behaviour.FundingTable)
    insurance_fund: InsuranceFundTable = field(default_factory=InsuranceFundTable)
    adl: AdlTable = field(default_factory=AdlTable)
    output: OutputTable = field(default_factory=OutputTable)
    instruments: InstrumentsTable = field(default_factory=InstrumentsTable)
    portfolio: PortfolioTable = field(default_factory=PortfolioTable)
    collateral: CollateralTable = field(default_factory=CollateralTable)
    source: str | None = field(default=None, compare=False)
    _origin: _Origin | None = field(default=None, compare=False, repr=False)

    def to_dict(self, relative_to: str | Path | None = None) -> dict[str, dict[str, Any]]:
        """Plain data for TOML: every key, tiers with maintenance amounts, data-file paths absolute; or, with
        ``relative_to`` (the folder the TOML will be written in), as that file should hold them: ``shipped:...``
        for a shipped scenario's data, else relative to that folder (:func:`sim.config.shipped.portable`).

        Unset optional keys are left out (TOML has no null), and so are the synthetic-population keys when
        ``population.file`` is set and the synthetic history's volatility when ``population.history_file`` is (they
        may not be set together), and ``market.index_coupling`` under the endogenous price model (likewise).
        """
        out: dict[str, dict[str, Any]] = {}
        for name, cls in TABLES.items():
            obj, table = getattr(self, name), {}
            for key, spec in specs(cls).items():
                value = getattr(obj, key)
                if value is None or (cls is PopulationTable and self._unused(key)):
                    continue
                if name == "market" and key == "index_coupling" and self.prices.model == "endogenous":
                    continue  # the imposed model's key, refused next to the endogenous one
                if spec.kind == "path" and relative_to is not None:
                    value = shipped.portable(value, relative_to)
                elif spec.kind == "tiers":
                    value = [{k: getattr(t, k) for k in specs(Tier)} for t in value]
                elif spec.kind == "mix" and not isinstance(value, str):  # a named mix stays its name
                    value = {mixes.lev_key(lev): w for lev, w in value}
                elif spec.kind in ("instrument", "counts"):
                    value = instruments.to_dict(value, relative_to)
                elif spec.kind == "holding":
                    value = collateral.to_dict(value)
                table[key] = value
            out[name] = table
        return out

    def _unused(self, key: str) -> bool:
        """A population key that may not be written next to the population's data files."""
        pop = self.population
        return bool(pop.file and key in GENERATED) or bool(pop.history_file and key == "entry_volatility_pct_per_day")

    @property
    def overridden(self) -> frozenset[str]:
        """The ``table.key`` names whose values came from overrides (``--set``, ``overrides=``, :meth:`with_overrides`)
        rather than from the file or the defaults."""
        return self._origin.overridden if self._origin is not None else frozenset()

    def rules(self) -> venues.Rules:
        """The venue rules in force: the pack's, with every key set in ``[venue]`` replacing its value."""
        return venues.resolve(self.market.pack(), self.venue)

    def to_toml(self, relative_to: str | Path | None = None) -> str:
        """The scenario as TOML text that :func:`load_scenario` reads back to an equal scenario; give the folder the
        text will be saved in as ``relative_to`` to write no absolute path (see :meth:`to_dict`)."""
        return tomli_w.dumps(self.to_dict(relative_to))

    def with_overrides(self, overrides: dict[str, Any]) -> Scenario:
        """A copy with ``table.key`` values replaced, validated exactly like :func:`load_scenario`."""
        origin = self._origin or _Origin(self.to_dict(), None, frozenset())
        raw, overridden, problems = apply_overrides(origin.raw, overrides, TABLES)
        return _build(raw, self.source or "<dict>", origin.base_dir, origin.overridden | overridden, problems)


# -------------------------------------------------------------------------------------------------- validation


class _Checker(Checker):
    """The generic checker plus the scenario's own kinds: ``market.tiers`` and ``population.leverage_mix``."""

    moved = {
        "market.funding_interval_h": "set venue.funding_interval_h instead (each venue pack has its own "
        "interval; Hyperliquid pays hourly)"
    }

    def coerce(self, spec: Spec, value: Any, key: str) -> Any:
        if spec.kind == "path" and isinstance(value, str) and (path := shipped.resolve_reference(value)) is not None:
            return path  # a shipped scenario's data file, wherever liqsim is installed
        return super().coerce(spec, value, key)

    def custom(self, spec: Spec, value: Any, key: str) -> Any:
        if spec.kind == "instrument":
            return instruments.read_instrument(self, value, key)
        if spec.kind == "counts":
            return instruments.read_counts(value, key, self.fail)
        if spec.kind == "holding":
            return collateral.read_holding(self, value, key)
        return self.tiers(value, key) if spec.kind == "tiers" else mixes.check(value, key, self.fail)

    def tiers(self, value: Any, key: str) -> Any:
        """``market.tiers``: an array of tier tables obeying the ordering and maintenance-amount rules."""
        if not isinstance(value, list) or not value:
            return self.fail(key, "must be a non-empty array of tables ([[market.tiers]])", value)
        before = len(self.problems)
        rows = [self.table(Tier, t, f"{key}[{i}]") for i, t in enumerate(value)]
        if len(self.problems) > before:
            return BAD

        def raw(i: int, name: str) -> Any:  # messages show values as written
            return self.given.get(f"{key}[{i}].{name}", rows[i][name])

        if rows[0]["notional_floor_usd"] != 0:
            self.fail(f"{key}[0].notional_floor_usd", "the first tier must start at 0", raw(0, "notional_floor_usd"))
        rules = (
            ("notional_floor_usd", lambda a, b: b > a, "greater than"),
            ("mmr_pct", lambda a, b: b >= a, "at least"),
            ("max_leverage", lambda a, b: b <= a, "at most"),
        )
        for i, t in enumerate(rows):
            for name, ok, rule in rules if i else ():
                if not ok(rows[i - 1][name], t[name]):
                    self.fail(
                        f"{key}[{i}].{name}",
                        f"must be {rule} {key}[{i - 1}].{name} = {fmt(rows[i - 1][name])}",
                        raw(i, name),
                    )
            if t["mmr_pct"] >= 100.0 / t["max_leverage"]:
                self.fail(
                    f"{key}[{i}].mmr_pct",
                    f"must be below 100 / max_leverage = {fmt(100 / t['max_leverage'])}"
                    ", or a position opened at the tier's maximum leverage would start below maintenance",
                    raw(i, "mmr_pct"),
                )
        if len(self.problems) > before:
            return BAD
        tiers, cum = [], 0.0
        for i, t in enumerate(rows):
            if i:
                cum += t["notional_floor_usd"] * (t["mmr_pct"] - rows[i - 1]["mmr_pct"]) / 100.0
            given = t["maintenance_amount_usd"]
            if given is not None and abs(given - cum) > max(0.01, 1e-9 * abs(cum)):
                self.fail(
                    f"{key}[{i}].maintenance_amount_usd",
                    f"expected {cum:.12g} from cum[n] = cum[n-1] + "
                    "floor[n]·(MMR[n] − MMR[n-1]) with cum[0] = 0 (MMR as a fraction)",
                    raw(i, "maintenance_amount_usd"),
                )
            tiers.append(Tier(**{**t, "maintenance_amount_usd": cum if given is None else given}))
        return tuple(tiers) if len(self.problems) == before else BAD


def _cross_checks(c: _Checker) -> dict[str, dict[str, Any]]:
    """Rules tying keys of different tables together; returns extra field values (the data files' arrays)."""
    extra: dict[str, dict[str, Any]]
    v, extra = c.values, {"population": {}, "book": {}, "shock": {}, "instruments": {}}
    # bounds set by other keys, now that every key has been read; with no shock its start time is unused
    c.check_refs(TABLES, skip={"shock.start_s"} if v["shock.kind"] == "none" else set())
    resource_checks.check_resources(c)
    lot_checks.check_lot(c)
    tiers = _check_venue(c)
    given = [a for a in venues.ASSETS if v[f"instruments.{a}"] is not None]
    if not given:  # with instruments, a snapshot is read once their start prices are known (below)
        _population(c, extra, tiers, None)
    if c.ok("market.tick_size_usd", "market.start_price_usd", "book.range_pct"):
        levels = c.read(
            "book.file",
            files.read_book_csv,
            tick_size=v["market.tick_size_usd"],
            start_price=v["market.start_price_usd"],
            range_pct=v["book.range_pct"],
        )
        extra["book"] = {"levels": levels} if levels is not None else {}
    kind = v["shock.kind"]
    if kind == "replay" and v["shock.file"] is None:
        c.fail("shock.kind", "replay needs shock.file (a CSV with columns timestamp,price)", kind)
    elif kind not in ("replay", BAD) and v["shock.file"] not in (None, BAD):
        c.fail("shock.file", f"only allowed with shock.kind = 'replay' (it is {kind!r})", c.given["shock.file"])
    elif (
        kind == "replay" and (path := c.read("shock.file", files.read_path_csv, unit=v["shock.time_unit"])) is not None
    ):
        extra["shock"] = {"path": path}
    _check_shock_range(c, extra["shock"].get("path"))
    _check_prices(c)
    extra["instruments"] = instruments.check(c, extra["shock"].get("path"))
    if given and (run := _run_prices(c, given, extra["instruments"])) is not None:
        _population(c, extra, tiers, run)  # (not read while an instrument has a problem: its rows' market is unknown)
    collateral.check(c)
    return extra


def _run_prices(c: _Checker, given: list[str], recorded: dict[str, Any]) -> dict[str, float] | None:
    """Every market of the run, asset → start price (an instrument's recorded path gives its own), for reading a
    snapshot; None if a start price is not known (a problem recorded elsewhere)."""
    v = c.values
    if any(v[f"instruments.{a}"] is BAD for a in given):
        return None
    run = {v["market.asset"]: v["market.start_price_usd"]}
    for a in given:
        run[a] = recorded.get(a, v[f"instruments.{a}"]).start_price()
    return run if all(isinstance(p, float) and np.isfinite(p) for p in run.values()) else None


def _population(c: _Checker, extra: dict[str, dict[str, Any]], tiers: Any, run: dict[str, float] | None) -> None:
    """``population.file`` read and checked (a snapshot's rows of ``market.asset``, its users' cross equity shared
    among their rows of ``run``'s markets), or the drawn population's keys against the tiers."""
    v = c.values
    if v["population.file"] is not None:
        for key in (f"population.{name}" for name in GENERATED if f"population.{name}" in c.given):
            c.fail(key, "cannot be set together with population.file (the positions come from the file)", c.given[key])
        if c.ok("population.file") and snapshot.is_snapshot(v["population.file"]):
            positions = (
                c.read(
                    "population.file",
                    snapshot.read_snapshot_csv,
                    asset=v["market.asset"],
                    start_price=v["market.start_price_usd"],
                    run=run if run is not None else snapshot.SNAPSHOT_RUN.get(),
                )
                if c.ok("market.asset", "market.start_price_usd")
                else None
            )
        elif run is None:
            positions = c.read("population.file", files.read_positions_csv)
        else:  # with instruments only a snapshot is taken (refused by sim.config.instruments.check)
            positions = None
        if positions is not None:
            extra["population"] = {"positions": positions, "n_positions": len(positions["side"])}
            if c.ok("market.start_price_usd") and tiers is not None:
                c.problems.extend(
                    population_checks.position_problems(
                        positions, v["population.file"], v["market.start_price_usd"], tiers
                    )
                )
    else:
        population_checks.mixes_fit(c, tiers)
        extra["population"] = population_checks.history(c)


def _check_prices(c: _Checker) -> None:
    """The endogenous model's keys against the rest: a flow into spot needs spot venues; the index coupling belongs to
    the imposed model; an outage names a constituent of the set in force."""
    from sim.world import spot  # the venue sets (the world layer reads the config, not the reverse at import)

    v = c.values
    endogenous = v["prices.model"] == "endogenous"
    if v["shock.kind"] == "flow" and v["shock.flow_into"] in ("spot", "both") and v["prices.model"] == "imposed":
        c.fail(
            "shock.flow_into",
            "needs prices.model = 'endogenous' (the imposed model has no spot venues); allowed here: 'perp'",
            v["shock.flow_into"],
        )
    if endogenous and "market.index_coupling" in c.given:
        c.fail(
            "market.index_coupling",
            "is not used by prices.model = 'endogenous': the index is made from the spot venues' prices, which the "
            "perp's hedgers and arbitrageurs move (see [prices]); leave it out",
            c.given["market.index_coupling"],
        )
    if v["prices.outage_venue"] and c.ok("prices.constituents", "market.venue", "prices.outage_venue"):
        names = spot.venue_set(v["prices.constituents"], v["market.venue"])[0]
        if v["prices.outage_venue"] not in names:
            c.fail(
                "prices.outage_venue",
                "not a constituent of the set in force; allowed: " + ", ".join(names),
                v["prices.outage_venue"],
            )
        elif not endogenous:
            c.fail("prices.outage_venue", "needs prices.model = 'endogenous'", v["prices.outage_venue"])


def _check_venue(c: _Checker) -> tuple[Tier, ...] | None:
    """The pack version must exist and the resolved rules hang together; returns the tiers in force."""
    v = c.values
    if not c.ok("market.venue", "market.venue_version", "market.asset", "market.tiers"):
        return None
    venue, version = v["market.venue"], v["market.venue_version"]
    if version is not None and version not in venues.versions(venue):
        c.fail(
            "market.venue_version",
            f"not a version of the {venue} pack; allowed: " + ", ".join(venues.versions(venue)),
            c.given["market.venue_version"],
        )
        return None
    pk = venues.pack(venue, version)
    if v["market.tiers"] is None and v["market.asset"] not in pk.tiers:  # SOL, ALT: the newest packs only
        where = f"the {venue} {pk.version} pack has no tier table for it; allowed there: {', '.join(pk.tiers)}"
        c.fail("market.asset", where + " (or give [[market.tiers]])", c.given.get("market.asset", v["market.asset"]))
        return None
    price = v["market.start_price_usd"] if c.ok("market.start_price_usd") else MarketTable.start_price_usd
    market = MarketTable(
        venue=venue, venue_version=version, asset=v["market.asset"], tiers=v["market.tiers"], start_price_usd=price
    )
    names = [f.name for f in dataclasses.fields(venues.VenueTable)]
    if all(c.ok(f"venue.{n}") for n in names):
        rules = venues.resolve(market.pack(), venues.VenueTable(**{n: v[f"venue.{n}"] for n in names}))
        for problem in venues.rules_problems(rules):  # e.g. a mark method without its averaging windows
            # blame a key the user set among those the problem names, else the first one named
            named = sorted((n for n in names if n in problem), key=problem.index)
            name = next((n for n in named if f"venue.{n}" in c.given), named[0])
            text = problem.split(": ", 1)[1] if problem.startswith(f"{name} = ") and ": " in problem else problem
            origin = "" if f"venue.{name}" in c.given else f" (the {venue} pack's value; set it in [venue])"
            c.fail(f"venue.{name}", text + origin, c.given.get(f"venue.{name}", getattr(rules, name)))
        tiers = market.tier_table()
        fee = rules.clearance_fee_pct if rules.trigger_includes_fee else 0.0
        for k, t in enumerate(tiers):
            if fee and t.mmr_pct + fee >= 100.0 / t.max_leverage:
                key = (
                    "venue.clearance_fee_pct" if "venue.clearance_fee_pct" in c.given else "venue.trigger_includes_fee"
                )
                c.fail(
                    key,
                    f"with the fee counted in the trigger, tier {k + 1}'s MMR + fee = {fmt(t.mmr_pct + fee)}% "
                    f"must stay below 100 / max_leverage = {fmt(100.0 / t.max_leverage)}%, or a position opened "
                    "at that leverage starts past its trigger",
                    c.given.get(key, v[key]),
                )
                break
        if (
            "venue.partial_min_tier" in c.given
            and rules.partial_rule in ("step_down_ioc", "step_down_fok", "to_tier")
            and rules.partial_min_tier > len(tiers)
        ):
            c.fail(
                "venue.partial_min_tier",
                f"must be at most the number of tiers ({len(tiers)}) for partial_rule "
                f"{rules.partial_rule!r}, or partial liquidation never applies (set partial_rule = 'none' for "
                "that)",
                c.given.get("venue.partial_min_tier", rules.partial_min_tier),
            )
        if (rules.settle == "fill" or rules.partial_rule == "slices") and rules.backstop_mm_fraction <= 0:
            key = next(
                (k for k in ("venue.backstop_mm_fraction", "venue.settle", "venue.partial_rule") if k in c.given),
                "venue.backstop_mm_fraction",
            )
            c.fail(
                key,
                "settlement at the fill and slices need a backstop (venue.backstop_mm_fraction > 0): an "
                "order that cannot fill before bankruptcy would otherwise leave the position open under water",
                c.given.get(key, v[key]),
            )
        return tiers
    return market.tier_table()


_GBM_KEYS = (
    "start_s",
    "volatility_pct_per_day",
    "drift_pct_per_day",
    "jump_rate_per_h",
    "jump_mean_pct",
    "jump_sd_pct",
    "step_s",
)


def _check_shock_range(c: _Checker, path: dict[str, np.ndarray] | None) -> None:
    """The index path must stay inside the book ladder with a margin of 1 percentage point."""
    v = c.values
    if not c.ok("market.start_price_usd", "book.range_pct", "shock.kind", "shock.size_pct"):
        return
    p0, r, kind = v["market.start_price_usd"], v["book.range_pct"], v["shock.kind"]
    if kind in ("gap", "ramp"):
        key, shown, prices = "shock.size_pct", v["shock.size_pct"], np.array([p0 * (1 + v["shock.size_pct"] / 100)])
    elif kind == "replay" and path is not None:
        key, shown = "shock.file", c.given["shock.file"]
        scale = v["shock.move_scale"] if c.ok("shock.move_scale") else 1.0
        prices = replay_prices(path["price"], p0, v["shock.rescale"] is True, scale)
    elif (
        kind == "gbm"
        and not c.problems
        and c.ok(*(f"shock.{k}" for k in _GBM_KEYS), "scenario.duration_s", "scenario.seed")
    ):
        # the same draw the run makes (the seed's own stream), so a run never leaves the ladder
        shock = ShockTable(**{k: v[f"shock.{k}"] for k in _GBM_KEYS})
        prices = gbm_path(shock, p0, v["scenario.duration_s"], v["scenario.seed"])[1]
        key = "shock.volatility_pct_per_day"
        shown = c.given.get(key, v[key])
    else:
        return
    lo, hi = p0 * (1 - (r - 1) / 100), p0 * (1 + (r - 1) / 100)
    worst = prices.min() if prices.min() < lo else prices.max()
    if not lo <= worst <= hi:
        c.fail(
            key,
            f"the index path reaches {worst:.10g} USD, outside the book ladder less its 1% margin "
            f"({lo:.10g}–{hi:.10g} USD for book.range_pct = {fmt(r)}); {instruments.ladder_advice(worst, p0)}",
            shown,
        )


def _build(
    raw: Any, source: str, base_dir: str | None, overridden: frozenset[str], problems: list[str] | None = None
) -> Scenario:
    """Validate raw data and build the scenario, raising every problem at once."""
    c = _Checker(source, base_dir, overridden)
    c.problems.extend(problems or [])
    if not isinstance(raw, dict):
        raise ScenarioError(c.problems + [f"{source}: the scenario must be a table of tables"])
    for k in raw:
        if k not in TABLES and k != "sweep":  # a sweep's own table, read by sim.studies.sweep
            c.fail(k, "unknown table; allowed: " + ", ".join(sorted([*TABLES, "sweep"])))
    parsed = {name: c.table(cls, raw.get(name, {}), name) for name, cls in TABLES.items()}
    extra = _cross_checks(c)
    if c.problems:
        raise ScenarioError(c.problems)
    if parsed["market"]["venue_version"] is None:  # pin the pack, so a saved scenario reruns the same rules
        parsed["market"]["venue_version"] = venues.DEFAULTS[parsed["market"]["venue"]]
    tables = {name: cls(**{**parsed[name], **extra.get(name, {})}) for name, cls in TABLES.items()}
    scn = Scenario(**tables, source=source, _origin=_Origin(raw, base_dir, overridden))
    if scn.instruments.items():  # each instrument's market, validated like a user's scenario
        instruments.market_scenarios(scn)
    return scn


def parse_scenario(data: dict, source: str = "<dict>", base_dir: str | Path | None = None) -> Scenario:
    """Validate already-parsed scenario data (tables as dicts, as :mod:`tomllib` returns them; absent keys take
    their defaults). ``source`` names the input in messages; relative file paths resolve against ``base_dir``
    (default: the current directory). Raises :class:`ScenarioError` listing every problem found."""
    if (where := too_deep(data)) is not None:
        raise ScenarioError(deep_problem(source, where))
    return _build(copy.deepcopy(data), source, None if base_dir is None else str(base_dir), frozenset())


def scenario_file(path: str | Path) -> Path:
    """The file a scenario argument names: the path itself when it exists (a path wins over a name), else the
    shipped scenario of that name (``calm``: ``scenarios/calm.toml``). Raises :class:`ScenarioError` for a bare
    name that is neither, listing the shipped names."""
    p = Path(path)
    if p.exists():
        return p
    if (file := shipped.scenario_file(str(path))) is not None:
        return file
    if len(p.parts) == 1 and p.suffix != ".toml":
        raise ScenarioError(
            f"{path}: no such file, nor a shipped scenario; the shipped ones: " + ", ".join(shipped.names())
        )
    return p  # reading it reports the missing file


def load_scenario(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> Scenario:
    """Load and validate a scenario file, or a shipped scenario by name (``"calm"``; a file of that name wins; see
    :func:`scenario_file`), or None: the built-in defaults, i.e. ``btc_flash_crash``, with optional
    ``{"table.key": value}`` overrides. A string value is read as a TOML value (``"1e6"``, ``"true"``, ``"{2 =
    0.5}"``), or kept as a plain string if it is not one or the key holds a string; None puts the key back to its
    default; relative file paths given here resolve against the current directory. Raises
    :class:`ScenarioError` listing every problem found (file, TOML syntax, keys, types, ranges, consistency, data
    files)."""
    if path is None:
        raw, source, base_dir = {}, "<defaults>", None
    else:
        file = scenario_file(path)
        raw, source, base_dir = read_toml(file), str(path), str(file.resolve().parent)
    raw, overridden, problems = apply_overrides(raw, overrides or {}, TABLES)
    return _build(raw, source, base_dir, overridden, problems)


def output_name(scn: Scenario) -> str:
    """The name of a scenario's default output folders (``runs/<name>``, ``runs/<name>-sweep``): ``scenario.name``
    when the file or an override sets it, else the scenario file's stem; the built-in defaults (and scenarios built
    from a dict) take ``scenario.name``, whose default is ``btc_flash_crash``."""
    origin = scn._origin
    named = origin is None or "name" in (origin.raw.get("scenario") or {})
    from_file = origin is not None and scn.source and origin.base_dir == str(Path(scn.source).resolve().parent)
    return scn.scenario.name if named or not from_file else Path(cast(str, scn.source)).stem


def _main(argv: list[str]) -> int:
    if argv == ["--markdown"]:
        sys.stdout.write(docs.schema_markdown())
        return 0
    sys.stderr.write("usage: python -m sim.config.scenario --markdown\n")
    return 2


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
