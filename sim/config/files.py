"""Readers for the three CSV data files a scenario may point at.

* positions (``population.file``): one trader position per row;
* book levels (``book.file``): the resting order book at the start;
* price path (``shock.file``): a replayed index path.

Each reader returns plain numpy arrays and raises :class:`sim.errors.ScenarioError` listing every bad
row at once (up to :data:`sim.errors.MAX_PROBLEMS`). A message names the file, the line, the column,
the bad value and what is allowed, e.g. ``pos.csv: line 7: size = '-2': must be a number > 0``.
Column names are case-insensitive; blank lines are skipped; a UTF-8 byte-order mark is ignored. A price
path may carry ``#`` comment lines (e.g. a header naming its source), which are skipped too.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sim.config.schema import file_problem
from sim.enums import CROSS, ISOLATED
from sim.errors import ScenarioError, capped, shown

_REQUIRED = object()  # marks a cell that may not be blank

# Unix times above this are taken as milliseconds: 1e11 s is the year 5138, 1e11 ms is 1973.
MS_THRESHOLD = 1e11


class _Bad(Exception):
    """A cell that does not parse; the message says what is allowed."""


def _number(lo: float | None = None, lo_open: bool = False) -> Callable[[str], float]:
    """Parser for a finite float, optionally bounded below."""
    if lo is None:
        allowed = "must be a finite number"
    else:
        allowed = f"must be a number {'>' if lo_open else '≥'} {lo:g}"

    def parse(text: str) -> float:
        try:
            x = float(text)
        except ValueError:
            raise _Bad(allowed) from None
        if not math.isfinite(x) or (lo is not None and (x <= lo if lo_open else x < lo)):
            raise _Bad(allowed)
        return x

    return parse


def _choice(mapping: dict[str, int]) -> Callable[[str], int]:
    """Parser for one of a few case-insensitive words."""
    allowed = "must be one of " + ", ".join(mapping)

    def parse(text: str) -> int:
        try:
            return mapping[text.lower()]
        except KeyError:
            raise _Bad(allowed) from None

    return parse


_positive = _number(0.0, lo_open=True)
_side_word = _choice({"long": 1, "short": -1, "1": 1, "-1": -1, "+1": 1})
_book_side = _choice({"bid": 1, "ask": -1})
_mode_word = _choice({"isolated": ISOLATED, "cross": CROSS})


class _CsvTable:
    """A CSV file read into ``(line number, {column: text})`` rows, with its problems collected.

    Header problems (missing, unknown, duplicate or conflicting columns) are raised at once because
    the rows cannot be read without a sound header; cell problems are collected by :meth:`cell` and
    raised by :meth:`finish`.
    """

    def __init__(
        self,
        path: str | Path,
        required: Sequence[str],
        optional: Sequence[str] = (),
        one_of: Sequence[str] = (),
        comments: bool = False,
    ):
        self.name = str(path)
        self.problems: list[str] = []
        p = Path(path)
        if (problem := file_problem(p, "a CSV file")) is not None:
            raise ScenarioError(f"{self.name}: {problem}")
        try:
            with open(p, newline="", encoding="utf-8-sig") as f:
                # a comment line is read as a blank one, so line numbers in messages stay the file's own
                source = (("\n" if line.lstrip().startswith("#") else line) for line in f) if comments else f
                reader = csv.reader(source)
                lines = [(reader.line_num, row) for row in reader if any(c.strip() for c in row)]
        except UnicodeDecodeError:
            raise ScenarioError(f"{self.name}: not a UTF-8 text file") from None
        except csv.Error as exc:
            raise ScenarioError(f"{self.name}: not a readable CSV file: {exc}") from None
        everything = [*required, *one_of, *optional]
        if not lines:
            raise ScenarioError(
                f"{self.name}: empty file; expected a header line with columns " + ", ".join(everything)
            )
        self.header_line, raw_header = lines[0]
        self.columns = [c.strip().lower() for c in raw_header]
        where = f"{self.name}: line {self.header_line}"
        problems = []
        for c in sorted({c for c in self.columns if self.columns.count(c) > 1}):
            problems.append(f"{where}: column {shown(c)} appears more than once")
        for c in self.columns:
            if c not in everything:
                problems.append(f"{where}: unknown column {shown(c)}; allowed: " + ", ".join(everything))
        missing = [c for c in required if c not in self.columns]
        if missing:
            problems.append(f"{where}: missing column(s) " + ", ".join(missing) + "; required: " + ", ".join(required))
        if one_of and sum(c in self.columns for c in one_of) != 1:
            problems.append(f"{where}: needs exactly one of the columns " + " or ".join(one_of))
        if problems:
            raise ScenarioError(problems)
        self.rows: list[tuple[int, dict[str, str]]] = []
        for line, row in lines[1:]:
            if len(row) != len(self.columns):
                self.problems.append(
                    f"{self.name}: line {line}: {len(row)} fields, but the header "
                    f"has {len(self.columns)} ({', '.join(self.columns)})"
                )
                continue
            self.rows.append((line, {c: v.strip() for c, v in zip(self.columns, row)}))
        if not self.rows and not self.problems:
            raise ScenarioError(f"{self.name}: no data rows after the header")

    def cell(
        self, line: int, row: dict[str, str], column: str, parse: Callable[[str], Any], default: Any = _REQUIRED
    ) -> Any:
        """Parse one cell; on failure record the problem and return None."""
        text = row.get(column, "")
        if text == "":
            if default is not _REQUIRED:
                return default
            self.problem(line, column, text, "must not be blank")
            return None
        try:
            return parse(text)
        except _Bad as bad:
            self.problem(line, column, text, str(bad))
            return None

    def problem(self, line: int, column: str, text: str, allowed: str) -> None:
        """Record one bad cell."""
        self.problems.append(f"{self.name}: line {line}: {column} = {shown(text)}: {allowed}")

    def finish(self) -> None:
        """Raise all collected problems, if any."""
        if self.problems:
            raise ScenarioError(capped(self.problems))


def read_positions_csv(path: str | Path) -> dict[str, np.ndarray]:
    """Read trader positions.

    Columns (header required, any order): ``side`` (``long``/``short`` or ``1``/``-1``), ``size`` (base
    units, > 0), ``entry_price`` (USD, > 0) and exactly one of ``margin`` (USD, > 0) or ``leverage``
    (≥ 1; the margin is then ``size·entry_price/leverage``). Optional: ``mode`` (``isolated`` or
    ``cross``; blank means isolated) and ``wallet`` (USD; cross rows only: the cross account's whole
    balance, at least the row's margin; blank means the margin).

    Parameters
    ----------
    path : str or Path
        The CSV file.

    Returns
    -------
    dict of numpy arrays
        ``side`` (int8, ±1), ``size``, ``entry_price``, ``wallet`` (float64; the margin for isolated
        rows), ``mode`` (int8, 0 isolated / 1 cross), ``margin`` (float64; the row's own margin, given
        or ``size·entry_price/leverage``, equal to ``wallet`` for isolated rows) and ``line`` (int64, the
        row's line number in the file, for messages), one entry per row.

    Raises
    ------
    ScenarioError
        Listing every problem found.
    """
    t = _CsvTable(path, ("side", "size", "entry_price"), ("mode", "wallet"), ("margin", "leverage"))
    at_least_1 = _number(1.0)
    out: dict[str, list] = {
        "side": [],
        "size": [],
        "entry_price": [],
        "wallet": [],
        "mode": [],
        "margin": [],
        "line": [],
    }
    for line, row in t.rows:
        side = t.cell(line, row, "side", _side_word)
        size = t.cell(line, row, "size", _positive)
        entry = t.cell(line, row, "entry_price", _positive)
        mode = t.cell(line, row, "mode", _mode_word, default=ISOLATED)
        if "margin" in row:
            margin = t.cell(line, row, "margin", _positive)
        else:
            lev = t.cell(line, row, "leverage", at_least_1)
            margin = None if lev is None or size is None or entry is None else size * entry / lev
        if mode == ISOLATED and row.get("wallet"):
            t.problem(
                line,
                "wallet",
                row["wallet"],
                "must be blank for isolated rows (an isolated position's wallet is its margin)",
            )
            continue
        wallet = t.cell(line, row, "wallet", _positive, default=margin)
        if mode == CROSS and wallet is not None and margin is not None and wallet < margin:
            t.problem(
                line,
                "wallet",
                row["wallet"],
                f"must be at least the row's margin ({margin:.10g} USD) for a cross account",
            )
            continue
        values = (side, size, entry, wallet, mode, margin, line)
        if any(v is None for v in values):
            continue
        for key, v in zip(out, values):
            out[key].append(v)
    t.finish()
    return {
        "side": np.array(out["side"], dtype=np.int8),
        "size": np.array(out["size"], dtype=np.float64),
        "entry_price": np.array(out["entry_price"], dtype=np.float64),
        "wallet": np.array(out["wallet"], dtype=np.float64),
        "mode": np.array(out["mode"], dtype=np.int8),
        "margin": np.array(out["margin"], dtype=np.float64),
        "line": np.array(out["line"], dtype=np.int64),
    }


def read_book_csv(
    path: str | Path,
    *,
    tick_size: float | None = None,
    start_price: float | None = None,
    range_pct: float | None = None,
) -> dict[str, np.ndarray]:
    """Read resting order-book levels.

    Columns: ``side`` (``bid`` or ``ask``), ``price`` (USD, > 0), ``size`` (base units, > 0).

    Parameters
    ----------
    path : str or Path
        The CSV file.
    tick_size : float, optional
        If given, every price must be a whole number of ticks (within 1e-6 ticks) and no side may
        list the same tick twice.
    start_price : float, optional
        If given, bids must lie below it and asks above it.
    range_pct : float, optional
        With ``start_price``: prices must lie within ``start_price·(1 ± range_pct/100)``.

    Returns
    -------
    dict of numpy arrays
        ``side`` (int8, +1 bid / −1 ask), ``price`` and ``size`` (float64).

    Raises
    ------
    ScenarioError
        Listing every problem found.
    """
    t = _CsvTable(path, ("side", "price", "size"))
    seen: set[tuple[int, float]] = set()
    sides, prices, sizes = [], [], []
    for line, row in t.rows:
        side = t.cell(line, row, "side", _book_side)
        price = t.cell(line, row, "price", _positive)
        size = t.cell(line, row, "size", _positive)
        if side is None or price is None or size is None:
            continue
        problem = _level_problem(side, price, tick_size, start_price, range_pct)
        level = (side, round(price / tick_size) if tick_size else price)
        if problem is None and level in seen:
            problem = f"the {'bid' if side > 0 else 'ask'} side lists this price twice"
        if problem is not None:
            t.problem(line, "price", row["price"], problem)
            continue
        seen.add(level)
        sides.append(side)
        prices.append(price)
        sizes.append(size)
    t.finish()
    return {
        "side": np.array(sides, dtype=np.int8),
        "price": np.array(prices, dtype=np.float64),
        "size": np.array(sizes, dtype=np.float64),
    }


def _level_problem(
    side: int, price: float, tick: float | None, start: float | None, range_pct: float | None
) -> str | None:
    """What is wrong with one book level given the market settings, or None."""
    if tick:
        ticks = price / tick
        if abs(ticks - round(ticks)) > 1e-6:
            return f"must be a multiple of the tick size {tick:g} (market.tick_size_usd)"
    if start is not None:
        if side > 0 and price >= start:
            return f"a bid must be below the start price {start:g} (market.start_price_usd)"
        if side < 0 and price <= start:
            return f"an ask must be above the start price {start:g} (market.start_price_usd)"
        if range_pct is not None:
            lo, hi = start * (1 - range_pct / 100), start * (1 + range_pct / 100)
            if not lo <= price <= hi:
                return (
                    f"must lie within the book range {lo:.10g}–{hi:.10g} "
                    f"(market.start_price_usd ± book.range_pct = {range_pct:g}%)"
                )
    return None


def read_path_csv(path: str | Path) -> dict[str, np.ndarray]:
    """Read a price path to replay.

    Columns: ``timestamp`` (unix time in seconds, or in milliseconds when it is above 1e11; the first
    valid row decides the unit for the whole file) and ``price`` (USD, > 0). At least two rows;
    timestamps may repeat (a jump) but never decrease. Lines whose first non-blank character is ``#``
    are comments, anywhere in the file (a recorded path should name its source in them).

    Parameters
    ----------
    path : str or Path
        The CSV file.

    Returns
    -------
    dict of numpy arrays
        ``t_s`` (float64 seconds from the first row) and ``price`` (float64).

    Raises
    ------
    ScenarioError
        Listing every problem found.
    """
    t = _CsvTable(path, ("timestamp", "price"), comments=True)
    finite = _number()
    times, prices = [], []
    scale = None  # seconds per timestamp unit, fixed by the first good row
    previous = None
    for line, row in t.rows:
        stamp = t.cell(line, row, "timestamp", finite)
        price = t.cell(line, row, "price", _positive)
        if stamp is None or price is None:
            continue
        if scale is None:
            scale = 1e-3 if stamp > MS_THRESHOLD else 1.0
        seconds = stamp * scale
        if previous is not None and seconds < previous:
            t.problem(line, "timestamp", row["timestamp"], "must not be earlier than the previous row's timestamp")
            continue
        previous = seconds
        times.append(seconds)
        prices.append(price)
    if not t.problems and len(times) < 2:
        t.problems.append(f"{t.name}: needs at least 2 rows, found {len(times)}")
    t.finish()
    ts = np.array(times, dtype=np.float64)
    return {"t_s": ts - ts[0], "price": np.array(prices, dtype=np.float64)}
