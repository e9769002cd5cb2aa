"""Several instruments in one scenario, and the portfolios that hold them (docs/model.md §5.5, §6).

``[instruments.ETH]`` (``SOL``, ``ALT``, ``BTC``: a tier table of the venue's pack) lists an instrument of the
scenario's venue beside ``[market]``'s, which stays the first one; it gives the instrument's own price, tick, lot,
open interest and beta, and every other setting is the scenario's. :func:`market_scenarios` turns a scenario into
one single-market scenario per instrument, built with :meth:`Scenario.with_overrides`, so each is validated like a
user's (:func:`sim.config.scenario.load_scenario` builds them once to validate a scenario with instruments, every
problem named by the instrument's key). ``[portfolio]`` says how many traders hold several instruments in one cross account
(:func:`sim.world.portfolio.group_accounts` draws them, from :func:`portfolio_rng`).

An instrument may replay a recorded path of its own (``path_file``, ``path_column``, ``path_time``): :func:`check`
reads it onto the first market's clock (:func:`read_column_csv`, :func:`sim.world.price_paths.recorded_path`) and
keeps it in the table (``InstrumentTable.path``), which :func:`sim.multi.one_path` replays. With an account
snapshot as ``population.file``, each market takes the snapshot's rows of its asset and the snapshot's users are the
accounts (:func:`sim.world.portfolio.file_accounts`); ``portfolio.share`` must then be 0.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import math
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, cast

import numpy as np

from sim import venues
from sim.config import shipped
from sim.config.schema import BAD, Checker, as_number, fmt, num, setting, specs
from sim.errors import ScenarioError
from sim.world.streams import generator

_REQ = "required"


@dataclass(frozen=True)
class InstrumentTable:
    """``[instruments.<ASSET>]``: one more instrument of the venue."""

    start_price_usd: float | None = num(
        None,
        "(0, 1e9]",
        "USD",
        "Index, mark and last price at t = 0; unset with path_file = the recorded path's price at the run's start.",
        shown_default="required (unless path_file)",
    )
    tick_size_usd: float = num(
        None, "(0, 1e8]", "USD", "Price tick (at most a tenth of start_price_usd).", shown_default=_REQ
    )
    lot_size: float = num(None, "(0, 1e6]", "base units", "Quantity step of orders and positions.", shown_default=_REQ)
    open_interest_usd: float = num(
        None,
        "(0, 1e13]",
        "USD",
        "The instrument's open interest (its population.open_interest_usd); not with population.file (the "
        "snapshot's rows are the positions).",
        shown_default="required (unless population.file)",
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
        "beta × shock.size_pct; a GBM or replay moves it by beta × the first market's relative moves. A flow "
        "needs beta = 1; not with path_file.",
    )
    book_depth_usd_1pct: float | None = num(
        None,
        "(0, 1e13]",
        "USD per side",
        "Its book.depth_usd_1pct; unset = book.depth_usd_1pct × open_interest_usd / population.open_interest_usd "
        "(required with population.file).",
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
    path_file: str | None = setting(
        None,
        "path",
        "A CSV of recorded prices the instrument replays instead of the first market's path × beta (shock.kind = "
        "'replay'): a timestamp column in Unix seconds, on the clock of shock.file, and path_column; a blank cell (a "
        "bar without trades) keeps the last price. shock.rescale and shock.move_scale apply to it as to shock.file.",
        optional=True,
        shown_default="none: the first market's path × beta",
    )
    path_column: str | None = setting(
        None,
        "str",
        "The column of path_file to replay (USD); required with path_file.",
        optional=True,
        allowed="a column of path_file",
        shown_default="none",
    )
    path_time: str = setting(
        "timestamp",
        "str",
        "When a row's price holds: at its timestamp, or at the end of its bar (timestamp + the file's seconds column: "
        "for bar closes).",
        choices=("timestamp", "bar_end"),
    )
    path: dict[str, Any] | None = field(default=None, compare=False, repr=False)  # path_file as the run replays it

    def start_price(self) -> float:
        """The start price: start_price_usd, else the recorded path's price at the run's start."""
        if self.start_price_usd is not None:
            return float(self.start_price_usd)
        return float(self.path["start"]) if self.path is not None else math.nan


REQUIRED_KEYS = ("start_price_usd", "tick_size_usd", "lot_size", "open_interest_usd")
_UNLESS = {"start_price_usd": "path_file", "open_interest_usd": "population.file"}

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
        allowed="integer in [2, 1000] = weight ≥ 0",
        shown_default="`{2 = 1}`",
    )
    leverage_correlation: float = num(
        0.5,
        "[-1, 1]",
        "",
        "Rank correlation of the leverages of one account's positions (a Gaussian copula over each instrument's "
        "leverage ranks).",
    )
    side_correlation: float = num(
        0.0,
        "[-1, 1]",
        "",
        "How one account's positions go together in direction (a Gaussian copula over sides, as over leverages): "
        "1 = all long or all short as far as each instrument's long and short counts allow, −1 = hedged pairs, "
        "0 = each side drawn alone.",
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
    unless = {"path_file": "path_file" in value, "population.file": c.values.get("population.file") not in (None, BAD)}
    needed = [k for k in REQUIRED_KEYS if not unless.get(_UNLESS.get(k, ""), False)]
    for name in needed:
        if name not in value:
            c.fail(f"{key}.{name}", "missing; every instrument needs " + ", ".join(_needs(needed)))
    parsed = c.table(InstrumentTable, value, key)
    if len(c.problems) > before:
        return BAD
    return InstrumentTable(**parsed)


def _needs(needed: list[str]) -> list[str]:
    """The required keys as a message lists them, with the ones a setting makes optional named."""
    return [k if k in needed else f"{k} (unless {_UNLESS[k]})" for k in REQUIRED_KEYS if k in needed or k in _UNLESS]


#: The largest count a ``portfolio.instruments`` key may give (counts above the run's instruments are capped at their
#: number; this bound only keeps the count an integer the grouping's arrays hold).
MAX_COUNT = 1000


def read_counts(value: Any, key: str, fail: Any) -> Any:
    """``portfolio.instruments``: ``{count = weight}`` with integer counts ≥ 2 and weights ≥ 0, some positive."""
    if not isinstance(value, dict) or not value:
        return fail(key, "must be a table of instruments per account = weight, e.g. {2 = 0.6, 3 = 0.4}", value)
    found: dict[int, float] = {}
    bad = False
    for k, w in value.items():
        n = as_number(k if not isinstance(k, str) else _int(k), integer=True)
        if n is None or not 2 <= n <= MAX_COUNT:
            bad = fail(f"{key}.{k}", f"the key must be a number of instruments: an integer in [2, {MAX_COUNT}]") is BAD
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
    """A count written as a key: ASCII digits only (not `+3`, ` 2` or other scripts' digits, which ``int`` takes)."""
    return int(text) if text.isascii() and text.isdigit() else None


#: Bytes per position row that the account layer adds in a run of several instruments (sim.multi.cross_accounts):
#: the row's account, market, last forced tick and cause, its place in the forced list and its account's list, its
#: scratch (equity, margin, weight), its re-index heap entries (two per row, key, row, version), its band index
#: entries (two per row, 12 bytes each) and its places in the held list (three per row).
ACCOUNT_LAYER_BYTES = 8 + 2 + 8 + 1 + 8 + 8 + 24 + 48 + 24 + 24


def _check_memory(c: Checker, given: list[tuple[str, InstrumentTable]]) -> None:
    """Each instrument's market is checked alone (:func:`market_scenarios`); their sum must fit too. Refuses a run
    whose markets' position rows together need more memory than is available, naming population.n_positions."""
    from sim.config import memory

    v = c.values
    if v["population.file"] is not None or not c.ok("population.n_positions", "population.open_interest_usd"):
        return
    n0, oi0 = v["population.n_positions"], v["population.open_interest_usd"]
    rows = float(n0 + 1)
    for _, t in given:
        scaled = n0 * t.open_interest_usd / oi0 if oi0 > 0 else n0
        rows += (t.n_positions if t.n_positions is not None else max(1.0, round(min(scaled, 1e15)))) + 1
    each = memory.PER["position"] + ACCOUNT_LAYER_BYTES
    total = memory.FIXED + rows * each
    room = memory.available()
    if isinstance(room, str) or room is None or total <= room.bytes:
        return  # a bad limit is reported by the market's own check
    fit = int(float(f"{n0 * max(room.bytes - memory.FIXED, 0.0) / (rows * each):.3g}"))
    c.fail(
        "population.n_positions",
        f"with {len(given)} more instrument(s) a run holds about {rows:,.0f} position rows in all, about "
        f"{memory.size(total)} of memory ({each} B a row with the account layer), more than the "
        f"{memory.size(room.bytes)} available ({room.source}): population.n_positions must be at most about {fit:,} "
        "(the instruments' counts scale with it unless given)",
        c.given.get("population.n_positions", n0),
    )


def check(c: Checker, shock_path: dict[str, Any] | None = None) -> dict[str, InstrumentTable]:
    """The instruments against the rest of the scenario: each asset has a tier table in the venue's pack and is not
    market.asset; the shock can move them all; a snapshot's rows go to their coins' markets; each ``path_file`` is
    read onto the first market's clock (``shock_path``: shock.file as read). Runs after the venue check; returns the
    instruments whose table gained its recorded path."""
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
        return {}
    _check_memory(c, given)
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
    if kind == "replay" and v["shock.rescale"] is False and any(t.path_file is None for _, t in given):
        c.fail(
            "shock.rescale",
            "must be true with [instruments] that follow the first market's path (no path_file): each replays the "
            "path's moves from its own start price",
            False,
        )
    if v["book.file"] not in (None, BAD):
        c.fail(
            "book.file",
            "cannot be used with [instruments] yet (its rows are the first instrument's)",
            c.given["book.file"],
        )
    if v["population.file"] not in (None, BAD):
        _with_snapshot(c, given)
    return {asset: out for asset, t in given if (out := _recorded(c, asset, t, shock_path)) is not None}


def _with_snapshot(c: Checker, given: list[tuple[str, InstrumentTable]]) -> None:
    """``population.file`` with instruments: an account snapshot, whose rows of each instrument's coin are its
    positions and whose users are the accounts; no key may draw what the file gives."""
    from sim.config.schema import file_problem
    from sim.config.snapshot import is_snapshot

    v = c.values
    if file_problem(v["population.file"], "a CSV file") is not None:
        return  # the positions reader says what it is
    if not is_snapshot(v["population.file"]):
        c.fail(
            "population.file",
            "with [instruments] it must be an account snapshot (a szi column: each row goes to its coin's market); "
            "a positions file's rows are the first instrument's",
            c.given["population.file"],
        )
        return
    for asset, t in given:
        head = f"instruments.{asset}"
        for name in ("open_interest_usd", "n_positions"):
            if f"{head}.{name}" in c.given:
                c.fail(
                    f"{head}.{name}",
                    f"not with population.file: the snapshot's rows of {asset} are the instrument's positions; leave "
                    "it out",
                    c.given[f"{head}.{name}"],
                )
        if t.book_depth_usd_1pct is None:
            c.fail(
                f"{head}.book_depth_usd_1pct", "missing; required with population.file (no open interest to scale by)"
            )
    if v["portfolio.share"] not in (0.0, BAD):  # the other portfolio keys do nothing at share 0
        c.fail(
            "portfolio.share",
            "must be 0 with population.file: the snapshot's users are the accounts (a user's cross rows in several "
            "instruments are one cross account), none is drawn",
            c.given.get("portfolio.share", v["portfolio.share"]),
        )
    for key in ("stops.share", "topups.share"):
        if v[key] not in (0.0, BAD):
            c.fail(
                key,
                "must be 0 with population.file and [instruments]: a snapshot's cross accounts carry no stop-loss and "
                "no top-up reserve",
                c.given.get(key, v[key]),
            )


def _recorded(c: Checker, asset: str, t: InstrumentTable, shock_path: Any) -> InstrumentTable | None:
    """An instrument's ``path_file`` read and checked, put on the first market's clock: the table with its ``path``
    (run seconds, prices as replayed, start price), or None (no path_file, or a problem recorded)."""
    from sim.config.files import EPOCH_S
    from sim.world.market import replay_prices
    from sim.world.price_paths import recorded_path

    v, head = c.values, f"instruments.{asset}"

    def raw(name: str) -> Any:
        return c.given.get(f"{head}.{name}", getattr(t, name))

    if t.path_file is None:
        for name in ("path_column", "path_time"):
            if f"{head}.{name}" in c.given:
                c.fail(f"{head}.{name}", "only with path_file (the recorded path the instrument replays)", raw(name))
        return None
    if v["shock.kind"] != "replay":
        return _refuse(
            c,
            f"{head}.path_file",
            f"needs shock.kind = 'replay' (it is {v['shock.kind']!r}): the path is replayed on the clock of "
            "shock.file; leave it out to follow the first market's path × beta",
            raw("path_file"),
        )
    if f"{head}.beta" in c.given:
        c.fail(f"{head}.beta", "not used with path_file (the instrument replays its own recorded moves)", raw("beta"))
    if t.path_column is None:
        return _refuse(c, f"{head}.path_column", "missing; path_file needs the column of prices to replay")
    columns = csv_columns(t.path_file)
    if columns is not None:
        prices = [x for x in columns if x not in ("timestamp", "seconds")]
        if t.path_column.strip().lower() not in prices:
            what = f"not a price column of {t.path_file}; allowed: " + (", ".join(prices) or "none (no such column)")
            return _refuse(c, f"{head}.path_column", what, raw("path_column"))
        if t.path_time == "bar_end" and "seconds" not in columns:
            what = f"bar_end needs a seconds column (each bar's length) in {t.path_file}; allowed here: timestamp"
            return _refuse(c, f"{head}.path_time", what, raw("path_time"))
    rows = c.read(f"{head}.path_file", read_column_csv, column=t.path_column, bar_end=t.path_time == "bar_end")
    if rows is None or shock_path is None or not c.ok("shock.start_s", "shock.move_scale", "book.range_pct"):
        return None
    origin = float(shock_path["start_unix_s"])
    if not EPOCH_S[0] <= origin <= EPOCH_S[1]:
        what = "needs shock.file's timestamps in Unix time, so both files share one clock (shock.file's count from "
        return _refuse(c, f"{head}.path_file", what + "an origin of their own)", raw("path_file"))
    t_s, p = recorded_path(rows["unix_s"], rows["price"], origin - v["shock.start_s"])
    duration = v["scenario.duration_s"] if c.ok("scenario.duration_s") else math.inf
    if t_s.size == 0 or t_s[0] > duration or t_s[-1] < 0:
        what = f"no price of column {t.path_column} within the run (shock.file's clock, from shock.start_s)"
        return _refuse(c, f"{head}.path_file", what, raw("path_file"))
    start = p[0] if t.start_price_usd is None else t.start_price_usd
    if v["shock.rescale"] is False and abs(start / p[0] - 1.0) > 1e-9:
        return _refuse(
            c,
            f"{head}.start_price_usd",
            f"with shock.rescale = false it must be the path's price at the run's start, {p[0]:.10g} (path_column "
            f"{t.path_column}); leave it out, or set shock.rescale = true to scale the path to it",
            raw("start_price_usd"),
        )
    p = replay_prices(p, start, True, v["shock.move_scale"])
    inside = p[: int(np.searchsorted(t_s, duration, side="right")) + 1]  # to the first point past the end
    r = v["book.range_pct"]
    lo, hi = start * (1 - (r - 1) / 100), start * (1 + (r - 1) / 100)
    worst = inside.min() if inside.min() < lo else inside.max()
    if not lo <= worst <= hi:
        return _refuse(
            c,
            f"{head}.path_column",
            f"the recorded path reaches {worst:.10g} USD, outside the book ladder less its 1% margin ({lo:.10g}–"
            f"{hi:.10g} USD for book.range_pct = {fmt(r)}); {ladder_advice(worst, start)}",
            raw("path_column"),
        )
    return dataclasses.replace(t, path={"t_s": t_s, "price": p, "start": float(start)})


#: book.range_pct's largest value (sim.config.tables.BookTable).
RANGE_MAX_PCT = 95.0


def ladder_advice(worst: float, start: float) -> str:
    """What book.range_pct a path reaching ``worst`` from ``start`` needs, or that none can hold it."""
    need = abs(worst / start - 1) * 100 + 1
    if need <= RANGE_MAX_PCT:
        return f"book.range_pct would have to be at least {need:.4g}"
    return (
        f"it would take book.range_pct = {need:.4g}, beyond its largest value {fmt(RANGE_MAX_PCT)}: the path moves too "
        "far for any ladder; make the move smaller"
    )


def _refuse(c: Checker, key: str, message: str, value: Any = None) -> InstrumentTable | None:
    """Record a problem of a key and give None: the instrument has no recorded path."""
    c.fail(key, message) if value is None else c.fail(key, message, value)
    return None


def csv_columns(path: str) -> list[str] | None:
    """The header of a CSV file (its first line that is neither blank nor a ``#`` comment), lower case; None when
    the file cannot be read (its reader then says why)."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            for line in f:
                if line.strip() and not line.lstrip().startswith("#"):
                    return [x.strip().lower() for x in next(csv.reader([line]))]
    except (OSError, UnicodeDecodeError, csv.Error):
        return None
    return None


def read_column_csv(path: str, column: str, bar_end: bool = False) -> dict[str, np.ndarray]:
    """One price column of a CSV of bars or ticks: ``unix_s`` (each row's ``timestamp``, Unix seconds, plus its
    ``seconds`` when ``bar_end``) and ``price`` (USD; NaN where the cell is blank: no trade in the bar). Rows in
    time order; ``#`` lines are comments. Raises :class:`ScenarioError` listing every problem."""
    from sim.config import files

    col = column.strip().lower()
    need = ("timestamp", *(("seconds",) if bar_end else ()), col)
    others = [x for x in (csv_columns(path) or []) if x not in need]
    t = files._CsvTable(path, need, others, comments=True, order=need, row_bytes=24)
    stamps, prices = [], []
    latest = -math.inf
    for lines, cols in t.chunks():
        stamp, ok, _ = files._floats(t, lines, cols["timestamp"], "timestamp", files._FINITE)
        unix = ok & (stamp >= files.EPOCH_S[0]) & (stamp <= files.EPOCH_S[1])
        what = "must be a Unix time in seconds (between 1990 and 2100), on the clock of shock.file"
        t.problems_at(np.flatnonzero(ok & ~unix), lines, "timestamp", cols["timestamp"], what)
        begin = stamp  # a bar's start: not before the previous bar's end (bars do not overlap)
        if bar_end:
            length, ok_len, _ = files._floats(t, lines, cols["seconds"], "seconds", files._AT_LEAST_0)
            stamp, unix = stamp + length, unix & ok_len
        price, ok_p, blank = files._floats(t, lines, cols[col], col, files._POSITIVE, blank_ok=True)
        keep = unix & (ok_p | blank)
        before = np.maximum.accumulate(np.concatenate(([latest], stamp[keep])))[:-1]
        early = begin[keep] < before
        what = "must not be earlier than the previous row's" + (" end (timestamp + seconds)" if bar_end else "")
        t.problems_at(np.flatnonzero(keep)[early], lines, "timestamp", cols["timestamp"], what)
        if keep.any():
            latest = max(latest, float(stamp[keep].max()))
        stamps.append(stamp[keep])
        prices.append(np.where(blank, np.nan, price)[keep])
    t.finish()
    price = np.concatenate(prices)
    if not np.isfinite(price).any():
        raise ScenarioError(f"{path}: column {col} has no price (every cell is blank)")
    return {"unix_s": np.concatenate(stamps), "price": price}


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
    out = {
        **_single(),
        "scenario.name": f"{scn.scenario.name}-{asset}",
        "scenario.seed": instrument_seed(scn.scenario.seed, asset),
        "market.asset": asset,
        "market.symbol": t.symbol or symbol(scn.market.symbol, scn.market.asset, asset),
        "market.start_price_usd": t.start_price(),
        "market.tick_size_usd": t.tick_size_usd,
        "market.lot_size": t.lot_size,
        "market.tiers": None,  # the pack's table for the asset
    }
    if pop.file is None:
        ratio = t.open_interest_usd / pop.open_interest_usd if pop.open_interest_usd > 0 else 1.0
        scaled = pop.n_positions * ratio  # past the largest allowed, the check names instruments.<ASSET>.n_positions
        n = t.n_positions if t.n_positions is not None else max(1, int(round(min(scaled, 1e15))))
        depth = t.book_depth_usd_1pct if t.book_depth_usd_1pct is not None else book.depth_usd_1pct * ratio
        out.update({"population.open_interest_usd": t.open_interest_usd, "population.n_positions": n})
    else:  # a snapshot: the file's rows of the asset (the check requires the depth)
        depth = t.book_depth_usd_1pct
    out["book.depth_usd_1pct"] = depth
    if scn.shock.kind in ("gap", "ramp"):
        out["shock.size_pct"] = scn.shock.size_pct * t.beta
    if t.path is not None:  # its own recorded path replaces the replay at the run (sim.multi.one_path)
        out["shock.rescale"] = True
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
    if " (market.asset)" in problem:  # the instrument's asset is its market's market.asset: name the instrument
        return problem.replace(" (market.asset)", f" ({head})")
    return f"{problem} (in the market of {head})"


def market_scenarios(scn: S) -> list[S]:
    """One single-market scenario per instrument: ``scn``'s own market first (``scn`` without its instruments and
    portfolio), then each of ``[instruments]`` in the order BTC, ETH, SOL, ALT.

    An instrument's scenario is ``scn`` with its asset (the pack's tier table), symbol, start price, tick, lot, open
    interest, number of positions and book depth; a gap's or ramp's size times its beta; and a seed of its own
    (:func:`instrument_seed`), so its population, background flow and behaviour are drawn apart from the others'.
    With an account snapshot (``population.file``) each market's positions are the file's rows of its asset, a
    user's cross equity shared among its rows of every market (:func:`sim.config.snapshot.read_snapshot_csv`).
    Raises :class:`ScenarioError` with every problem, named by the instrument's keys.
    """
    from sim.config.snapshot import SNAPSHOT_RUN

    run = {scn.market.asset: scn.market.start_price_usd, **{a: t.start_price() for a, t in scn.instruments.items()}}
    token = SNAPSHOT_RUN.set(run)  # each market's snapshot rows of the others' coins are markets, not held still
    try:
        out = [scn.with_overrides(_single())]
        problems: list[str] = []
        for asset, t in scn.instruments.items():
            source = "override" if f"instruments.{asset}" in scn.overridden else (scn.source or "<dict>")
            try:
                out.append(scn.with_overrides(_overrides(scn, asset, t)))
            except ScenarioError as err:
                problems += [_renamed(p, source, asset, t) for p in err.problems]
    finally:
        SNAPSHOT_RUN.reset(token)
    if problems:
        raise ScenarioError(problems)
    if scn.population.file is not None:  # a snapshot: each user's cross rows in the run's assets share its account
        from sim.config.snapshot import read_snapshot_csv

        run = {m.market.asset: m.market.start_price_usd for m in out}
        for k, m in enumerate(out):
            rows = read_snapshot_csv(m.population.file, m.market.asset, m.market.start_price_usd, run=run)
            population = dataclasses.replace(m.population, positions=rows)
            out[k] = dataclasses.replace(cast(Any, m), population=population)
    return out


def portfolio_rng(scn: Any) -> np.random.Generator:
    """The generator :func:`sim.world.portfolio.group_accounts` draws a scenario's portfolios from: stream
    ``portfolio`` of ``portfolio.seed`` (unset: ``scenario.seed``)."""
    pf = scn.portfolio
    return generator(scn.scenario.seed if pf.seed is None else pf.seed, "portfolio")


def to_dict(value: Any, relative_to: Any = None) -> Any:
    """An instrument's table or the counts as TOML data (unset keys left out; ``path_file`` as
    :meth:`sim.config.scenario.Scenario.to_dict` writes data files)."""
    if isinstance(value, InstrumentTable):
        unused = ("beta",) if value.path_file is not None else ("path_time",)  # refused next to what is set
        out = {k: x for k in specs(InstrumentTable) if (x := getattr(value, k)) is not None and k not in unused}
        if "path_file" in out and relative_to is not None:
            out["path_file"] = shipped.portable(out["path_file"], relative_to)
        return out
    return {str(k): w for k, w in value}
