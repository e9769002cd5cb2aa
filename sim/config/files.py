"""Readers for the three CSV data files a scenario may point at.

* positions (``population.file``): one trader position per row;
* book levels (``book.file``): the resting order book at the start;
* price path (``shock.file``): a replayed index path.

Each reader returns plain numpy arrays and raises :class:`sim.errors.ScenarioError` listing every bad
row at once (up to :data:`sim.errors.MAX_PROBLEMS`). A message names the file, the line, the column,
the bad value and what is allowed, e.g. ``pos.csv: line 7: size = '-2': must be a number > 0``.
Column names are case-insensitive; blank lines are skipped; a UTF-8 byte-order mark is ignored. A price
path may carry ``#`` comment lines (e.g. a header naming its source), which are skipped too.

The readers stream: a file is parsed :data:`CHUNK_ROWS` rows at a time, column by column, into arrays
allocated once for the file's number of lines, so reading costs little more than the arrays returned (a
positions file: 42 bytes a row) whatever the file's size, and only the first problems are kept as text.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from sim.config import memory
from sim.config.schema import file_problem
from sim.enums import CROSS, ISOLATED
from sim.errors import MAX_PROBLEMS, ScenarioError, shown

#: Seconds per unit of a replayed path's timestamps (``shock.time_unit``).
TIME_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}
_UNIT_NAMES = {"s": "seconds", "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds"}

#: Unix times of 1990-01-01 and 2100-01-01 in seconds. With ``time_unit = "auto"`` a first timestamp in this range
#: times one unit's size is a Unix time in that unit; one below the range's start in seconds is seconds from any
#: origin (a relative path); anything else has no unit to read it in.
EPOCH_S = (631_152_000.0, 4_102_444_800.0)

#: The longest path a run's int64 millisecond clock holds, in seconds (with room for the shock's start).
MAX_SPAN_S = (2**63 - 1) / 1000 - 86_400

#: Rows parsed at a time: their text is all a reader holds besides its output arrays.
CHUNK_ROWS = 1 << 14


def count_lines(path: str | Path) -> int:
    """The number of lines of a file, ended by ``\\n``, ``\\r\\n`` or ``\\r`` as the CSV reader reads them (a last
    one without its end counts): a bound on its rows, read without parsing."""
    n, last = 0, b"\n"
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            n += block.count(b"\n") + block.count(b"\r") - block.count(b"\r\n")
            n -= last == b"\r" and block[:1] == b"\n"  # a \r\n split between two blocks
            last = block[-1:]
    return n + (last not in (b"\n", b"\r"))


class _Number:
    """A finite float, optionally bounded below, and the words saying so."""

    def __init__(self, lo: float | None = None, lo_open: bool = False):
        self.lo, self.lo_open = lo, lo_open
        self.allowed = "must be a finite number" if lo is None else f"must be a number {'>' if lo_open else '≥'} {lo:g}"

    def bad(self, x: np.ndarray) -> np.ndarray:
        """Where parsed values break the rule (NaN and infinities included)."""
        out = ~np.isfinite(x)
        if self.lo is not None:
            with np.errstate(invalid="ignore"):
                out |= (x <= self.lo) if self.lo_open else (x < self.lo)
        return out


_FINITE = _Number()
_POSITIVE = _Number(0.0, lo_open=True)
_AT_LEAST_1 = _Number(1.0)
_AT_LEAST_0 = _Number(0.0)

_SIDE_WORDS = {"long": 1, "short": -1, "1": 1, "-1": -1, "+1": 1}
_BOOK_SIDES = {"bid": 1, "ask": -1}
_MODE_WORDS = {"isolated": ISOLATED, "cross": CROSS}


class _CsvTable:
    """A CSV file read in chunks of rows, with its problems collected.

    Header problems (missing, unknown, duplicate or conflicting columns) are raised at once because
    the rows cannot be read without a sound header. Rows of the wrong length are problems listed
    first, then cell problems in the order of the lines and, within a line, of ``order`` (the
    reader's order of checks); only the first :data:`MAX_PROBLEMS` of each are kept as text, the rest
    are counted. :meth:`finish` raises them.
    """

    def __init__(
        self,
        path: str | Path,
        required: Sequence[str],
        optional: Sequence[str] = (),
        one_of: Sequence[str] = (),
        comments: bool = False,
        order: Sequence[str] = (),
        row_bytes: int = 0,
    ):
        self.name = str(path)
        if (problem := file_problem(path, "a CSV file")) is not None:
            raise ScenarioError(f"{self.name}: {problem}")
        self.capacity = count_lines(path)  # at least the number of data rows
        room = memory.available()
        if isinstance(room, memory.Available) and self.capacity * row_bytes > room.bytes:
            raise ScenarioError(
                f"{self.name}: {self.capacity:,} lines would need about {memory.size(self.capacity * row_bytes)} "
                f"of memory to read, more than the {memory.size(room.bytes)} available ({room.source})"
            )
        self._rank = {c: i for i, c in enumerate(order)}
        self._shape: list[str] = []  # rows of the wrong length, in line order
        self._cells: list[tuple[int, int, str]] = []  # (line, rank, message), sorted and cut now and then
        self._more = 0  # problems counted but not kept
        self._file = open(path, newline="", encoding="utf-8-sig")  # closed when read through, or on a problem
        # a comment line is read as a blank one, so line numbers in messages stay the file's own
        source = (("\n" if line.lstrip().startswith("#") else line) for line in self._file) if comments else self._file
        self._reader = csv.reader(source)
        everything = [*required, *one_of, *optional]
        header = next(self._rows(), None)
        if header is None:
            self._file.close()
            raise ScenarioError(
                f"{self.name}: empty file; expected a header line with columns " + ", ".join(everything)
            )
        self.header_line, raw_header = header
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
            self._file.close()
            raise ScenarioError(problems)

    def _rows(self) -> Iterator[tuple[int, list[str]]]:
        """``(line number, cells)`` of the non-blank rows left; a file that cannot be read raises."""
        reader = self._reader
        try:
            for row in reader:
                if (row and row[0].strip()) or any(c.strip() for c in row):
                    yield reader.line_num, row
        except UnicodeDecodeError:
            self._file.close()
            raise ScenarioError(f"{self.name}: not a UTF-8 text file") from None
        except csv.Error as exc:
            self._file.close()
            raise ScenarioError(f"{self.name}: not a readable CSV file: {exc}") from None

    def chunks(self) -> Iterator[tuple[np.ndarray, dict[str, list[str]]]]:
        """The data rows, :data:`CHUNK_ROWS` at a time: their line numbers and each column's cells."""
        width, seen = len(self.columns), False
        lines: list[int] = []
        rows: list[list[str]] = []
        for line, row in self._rows():
            seen = True
            if len(row) != width:
                self._note_shape(
                    f"{self.name}: line {line}: {len(row)} fields, but the header "
                    f"has {width} ({', '.join(self.columns)})"
                )
                continue
            lines.append(line)
            rows.append(row)
            if len(rows) == CHUNK_ROWS:
                yield self._chunk(lines, rows)
                lines, rows = [], []
        self._file.close()
        if rows:
            yield self._chunk(lines, rows)
        if not seen:
            raise ScenarioError(f"{self.name}: no data rows after the header")

    def _chunk(self, lines: list[int], rows: list[list[str]]) -> tuple[np.ndarray, dict[str, list[str]]]:
        cols = list(zip(*rows))
        return np.array(lines, dtype=np.int64), {c: list(cols[j]) for j, c in enumerate(self.columns)}

    def _note_shape(self, message: str) -> None:
        if len(self._shape) < MAX_PROBLEMS:
            self._shape.append(message)
        else:
            self._more += 1

    def problem(self, line: int, column: str, text: str, allowed: str) -> None:
        """Record one bad cell."""
        self._cells.append(
            (int(line), self._rank.get(column, 0), f"{self.name}: line {line}: {column} = {shown(text)}: {allowed}")
        )
        if len(self._cells) > 4 * MAX_PROBLEMS:
            self._cut_cells()

    def problems_at(self, rows: np.ndarray, lines: np.ndarray, column: str, texts: Sequence[str], allowed) -> None:
        """Record the bad cells at positions ``rows`` (ascending) of a chunk; ``allowed`` is a text, or a function
        of the position giving it. Past the first :data:`MAX_PROBLEMS` they are only counted: no later one of
        the same check can come before them."""
        for i in rows[:MAX_PROBLEMS]:
            self.problem(lines[i], column, texts[i].strip(), allowed if isinstance(allowed, str) else allowed(i))
        self._more += max(0, len(rows) - MAX_PROBLEMS)

    def _cut_cells(self) -> None:
        self._cells.sort()
        self._more += max(0, len(self._cells) - MAX_PROBLEMS)
        del self._cells[MAX_PROBLEMS:]

    @property
    def has_problems(self) -> bool:
        return bool(self._shape or self._cells or self._more)

    def file_level(self, message: str) -> None:
        """Record a problem of the whole file."""
        self._note_shape(message)

    def finish(self) -> None:
        """Raise all collected problems, if any."""
        self._file.close()
        if not self.has_problems:
            return
        self._cut_cells()
        kept = self._shape + [m for _, _, m in self._cells]
        more = self._more + max(0, len(kept) - MAX_PROBLEMS)
        raise ScenarioError(kept[:MAX_PROBLEMS] + ([f"... and {more} more"] if more else []))


def _floats(
    t: _CsvTable,
    lines: np.ndarray,
    texts: list[str],
    column: str,
    rule: _Number,
    blank_ok: bool = False,
    check: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One column of a chunk as floats: ``(values, ok, blank)``.

    A blank cell is NaN and ``blank``; it is a problem unless ``blank_ok``. Only the cells where ``check`` is
    true (default: all) are parsed and may be problems; the others are NaN and not ok.
    """
    n = len(texts)
    idx = np.arange(n) if check is None else np.flatnonzero(check)
    sub = texts if check is None else [texts[i] for i in idx]
    x = np.full(n, np.nan)
    blank = np.zeros(n, bool)
    try:  # the common case: every cell a number, parsed at C speed
        x[idx] = np.fromiter(map(float, sub), np.float64, count=len(sub))
        unparsed = np.zeros(n, bool)
    except ValueError:
        unparsed = np.zeros(n, bool)
        for i, s in zip(idx, sub):
            try:
                x[i] = float(s)
            except ValueError:
                if s.strip():
                    unparsed[i] = True
                else:
                    blank[i] = True
    bad = unparsed.copy()
    bad[idx] |= rule.bad(x[idx]) & ~blank[idx]
    t.problems_at(np.flatnonzero(bad), lines, column, texts, rule.allowed)
    ok = np.zeros(n, bool)
    ok[idx] = ~bad[idx] & (~blank[idx] if not blank_ok else True)
    if not blank_ok:
        t.problems_at(np.flatnonzero(blank), lines, column, texts, "must not be blank")
    return x, ok, blank


def _words(
    t: _CsvTable, lines: np.ndarray, texts: list[str], column: str, mapping: dict[str, int], blank: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """One column of a chunk as codes of case-insensitive words: ``(codes, ok)``; a blank cell is ``blank`` if
    given, else a problem."""
    missing, empty = 127, 126
    table = {**mapping, "": empty if blank is None else blank}
    codes = np.fromiter((table.get(s.strip().lower(), missing) for s in texts), np.int8, count=len(texts))
    t.problems_at(np.flatnonzero(codes == missing), lines, column, texts, "must be one of " + ", ".join(mapping))
    t.problems_at(np.flatnonzero(codes == empty), lines, column, texts, "must not be blank")
    return codes, (codes != missing) & (codes != empty)


def _trimmed(arrays: dict[str, np.ndarray], n: int) -> dict[str, np.ndarray]:
    """The first ``n`` entries of arrays allocated for the file's lines, the rest given back."""
    for a in arrays.values():
        a.resize(n, refcheck=False)
    return arrays


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
    order = ("side", "size", "entry_price", "mode", "margin", "leverage", "wallet")
    t = _CsvTable(
        path, ("side", "size", "entry_price"), ("mode", "wallet"), ("margin", "leverage"), order=order, row_bytes=42
    )
    cap = t.capacity
    out: dict[str, np.ndarray] = {
        "side": np.empty(cap, np.int8),
        "size": np.empty(cap),
        "entry_price": np.empty(cap),
        "wallet": np.empty(cap),
        "mode": np.empty(cap, np.int8),
        "margin": np.empty(cap),
        "line": np.empty(cap, np.int64),
    }
    k = 0
    for lines, cols in t.chunks():
        n = len(lines)
        side, ok = _words(t, lines, cols["side"], "side", _SIDE_WORDS)
        size, ok_size, _ = _floats(t, lines, cols["size"], "size", _POSITIVE)
        entry, ok_entry, _ = _floats(t, lines, cols["entry_price"], "entry_price", _POSITIVE)
        if "mode" in cols:
            mode, ok_mode = _words(t, lines, cols["mode"], "mode", _MODE_WORDS, blank=ISOLATED)
        else:
            mode, ok_mode = np.full(n, ISOLATED, np.int8), np.ones(n, bool)
        if "margin" in cols:
            margin, ok_margin, _ = _floats(t, lines, cols["margin"], "margin", _POSITIVE)
        else:
            lev, ok_lev, _ = _floats(t, lines, cols["leverage"], "leverage", _AT_LEAST_1)
            ok_margin = ok_lev & ok_size & ok_entry
            margin = np.where(ok_margin, size * entry / np.where(ok_lev, lev, 1.0), np.nan)
        ok &= ok_size & ok_entry & ok_mode & ok_margin
        if "wallet" in cols:
            texts = cols["wallet"]
            given = np.fromiter((bool(s.strip()) for s in texts), bool, count=n)
            isolated_wallet = given & ok_mode & (mode == ISOLATED)
            t.problems_at(
                np.flatnonzero(isolated_wallet),
                lines,
                "wallet",
                texts,
                "must be blank for isolated rows (an isolated position's wallet is its margin)",
            )
            wallet, ok_wallet, blank = _floats(
                t, lines, texts, "wallet", _POSITIVE, blank_ok=True, check=~isolated_wallet
            )
            wallet = np.where(blank, margin, wallet)
            short = ok_mode & (mode == CROSS) & ok_wallet & ~blank & ok_margin & (wallet < margin)
            t.problems_at(
                np.flatnonzero(short),
                lines,
                "wallet",
                texts,
                lambda i, margin=margin: (
                    f"must be at least the row's margin ({margin[i]:.10g} USD) for a cross account"
                ),
            )
            ok &= ok_wallet & ~short
        else:
            wallet = margin
        m = int(ok.sum())
        for key, values in (
            ("side", side),
            ("size", size),
            ("entry_price", entry),
            ("wallet", wallet),
            ("mode", mode),
            ("margin", margin),
            ("line", lines),
        ):
            out[key][k : k + m] = values[ok]
        k += m
    t.finish()
    return _trimmed(out, k)


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
    t = _CsvTable(path, ("side", "price", "size"), order=("side", "price", "size"), row_bytes=25)
    cap = t.capacity
    out: dict[str, np.ndarray] = {"side": np.empty(cap, np.int8), "price": np.empty(cap), "size": np.empty(cap)}
    line_of = np.empty(cap, np.int64)
    k = 0
    for lines, cols in t.chunks():
        side, ok = _words(t, lines, cols["side"], "side", _BOOK_SIDES)
        price, ok_price, _ = _floats(t, lines, cols["price"], "price", _POSITIVE)
        size, ok_size, _ = _floats(t, lines, cols["size"], "size", _POSITIVE)
        ok &= ok_price & ok_size
        problem = _level_problems(side, price, ok, tick_size, start_price, range_pct)
        for text in set(problem[ok & (problem != "")]):
            t.problems_at(np.flatnonzero(ok & (problem == text)), lines, "price", cols["price"], str(text))
        ok &= problem == ""
        m = int(ok.sum())
        for key, values in (("side", side), ("price", price), ("size", size)):
            out[key][k : k + m] = values[ok]
        line_of[k : k + m] = lines[ok]
        k += m
    _trimmed(out, k)
    line_of.resize(k, refcheck=False)
    # a side listing a price (a tick) twice: every row after the first is a problem
    level = np.round(out["price"] / tick_size) if tick_size else out["price"]
    order = np.lexsort((line_of, level, out["side"]))
    again = np.zeros(k, bool)
    again[order[1:]] = (out["side"][order[1:]] == out["side"][order[:-1]]) & (level[order[1:]] == level[order[:-1]])
    if again.any():
        rows = np.flatnonzero(again)
        t.problems_at(
            np.arange(len(rows)),
            line_of[rows],
            "price",
            [f"{p:.15g}" for p in out["price"][rows[:MAX_PROBLEMS]]],
            lambda i: f"the {'bid' if out['side'][rows[i]] > 0 else 'ask'} side lists this price twice",
        )
        out = {key: values[~again] for key, values in out.items()}
    t.finish()
    return out


def _level_problems(
    side: np.ndarray,
    price: np.ndarray,
    ok: np.ndarray,
    tick: float | None,
    start: float | None,
    range_pct: float | None,
) -> np.ndarray:
    """What is wrong with each book level given the market settings ("" for nothing), the first rule broken."""
    out = np.full(len(side), "", dtype=object)

    def rule(broken: np.ndarray, text: str) -> None:
        out[broken & ok & (out == "")] = text

    with np.errstate(invalid="ignore"):
        if tick:
            ticks = price / tick
            rule(
                np.abs(ticks - np.round(ticks)) > 1e-6,
                f"must be a multiple of the tick size {tick:g} (market.tick_size_usd)",
            )
        if start is not None:
            rule(
                (side > 0) & (price >= start), f"a bid must be below the start price {start:g} (market.start_price_usd)"
            )
            rule(
                (side < 0) & (price <= start),
                f"an ask must be above the start price {start:g} (market.start_price_usd)",
            )
            if range_pct is not None:
                lo, hi = start * (1 - range_pct / 100), start * (1 + range_pct / 100)
                rule(
                    (price < lo) | (price > hi),
                    f"must lie within the book range {lo:.10g}–{hi:.10g} "
                    f"(market.start_price_usd ± book.range_pct = {range_pct:g}%)",
                )
    return out


def _time_class(stamp: float) -> str | None:
    """What ``time_unit = "auto"`` reads a first timestamp as: a unit of Unix time, ``"relative"`` seconds, or
    None when it fits neither."""
    for unit, scale in TIME_UNITS.items():
        if EPOCH_S[0] / scale <= stamp <= EPOCH_S[1] / scale:
            return unit
    return "relative" if stamp < EPOCH_S[0] else None


def _in_class(stamps: np.ndarray, time_class: str) -> np.ndarray:
    if time_class == "relative":
        return stamps < EPOCH_S[0]
    scale = TIME_UNITS[time_class]
    return (stamps >= EPOCH_S[0] / scale) & (stamps <= EPOCH_S[1] / scale)


def read_path_csv(path: str | Path, unit: str = "auto", volume: bool = False) -> dict[str, np.ndarray]:
    """Read a price path to replay, or a price history (``volume``).

    Columns: ``timestamp`` and ``price`` (USD, > 0); with ``volume``, an optional ``volume`` column (≥ 0, the volume
    traded since the row before; blank or absent is 0). At least two rows; timestamps may repeat (a jump) but never
    decrease. Lines whose first non-blank character is ``#`` are comments, anywhere in the file (a recorded path
    should name its source in them).

    Parameters
    ----------
    path : str or Path
        The CSV file.
    unit : str
        The timestamps' unit: ``"s"``, ``"ms"``, ``"us"``, ``"ns"``, or ``"auto"``: the first valid timestamp
        decides, a Unix time between 1990 and 2100 (:data:`EPOCH_S`) in one of those units, or seconds from any
        origin if it is below 1990 in seconds; every other timestamp must then lie in the same range (a file that
        mixes units is refused, and so is a first timestamp that fits no unit).

    Returns
    -------
    dict of numpy arrays
        ``t_s`` (float64 seconds from the first row), ``price`` (float64) and ``start_unix_s`` (the first row's
        unix time in seconds, a float: what a figure of the replay shows its clock time from); with ``volume`` also
        ``volume`` (float64) and ``has_volume`` (a 0-d bool array: whether the file has the column).

    Raises
    ------
    ScenarioError
        Listing every problem found, including a span longer than a run's millisecond clock holds.
    """
    t = _CsvTable(
        path,
        ("timestamp", "price"),
        ("volume",) if volume else (),
        comments=True,
        order=("timestamp", "price", "volume"),
        row_bytes=24 if volume else 16,
    )
    cap = t.capacity
    times, prices, lines_kept = np.empty(cap), np.empty(cap), np.empty(cap, np.int64)
    volumes = np.zeros(cap if volume else 0)
    has_volume = "volume" in t.columns
    time_class: str | None = None if unit == "auto" else unit  # fixed by the first good row in auto
    first: tuple[int, str] = (0, "")  # (line, text) of the first good row
    seen = False
    latest = -math.inf  # the latest timestamp accepted so far (in seconds)
    k = 0
    for lines, cols in t.chunks():
        stamp, ok, _ = _floats(t, lines, cols["timestamp"], "timestamp", _FINITE)
        price, ok_price, _ = _floats(t, lines, cols["price"], "price", _POSITIVE)
        ok &= ok_price
        vol = np.zeros(len(lines))
        if has_volume:
            vol, ok_vol, blank = _floats(t, lines, cols["volume"], "volume", _AT_LEAST_0, blank_ok=True)
            ok &= ok_vol | blank
            vol = np.where(blank, 0.0, vol)
        if not seen and ok.any():
            seen, i = True, int(np.argmax(ok))
            first = (int(lines[i]), cols["timestamp"][i].strip())
            if time_class is None and (time_class := _time_class(stamp[i])) is None:
                t.problems_at(
                    np.array([i]),
                    lines,
                    "timestamp",
                    cols["timestamp"],
                    "no unit fits it: it is no Unix time between 1990 and 2100 in seconds, milliseconds, "
                    "microseconds or nanoseconds, nor below 6.31e8 (seconds from any origin); set shock.time_unit "
                    "(s, ms, us or ns)",
                )
                time_class = "unknown"
        if unit == "auto" and time_class not in (None, "unknown"):
            astray = ok & ~_in_class(stamp, time_class)
            what = (
                "below 6.31e8, seconds from any origin"
                if time_class == "relative"
                else f"a Unix time between 1990 and 2100 in {_UNIT_NAMES[time_class]}"
            )
            t.problems_at(
                np.flatnonzero(astray),
                lines,
                "timestamp",
                cols["timestamp"],
                f"must be in the unit of the first timestamp (line {first[0]}: {first[1]}, {what}); a file that "
                "mixes units cannot be read (shock.time_unit sets one)",
            )
            ok &= ~astray
        seconds = stamp[ok] * TIME_UNITS.get(time_class or "s", 1.0)
        # a row earlier than every accepted one before it is refused (a refused row never raises the bar)
        before = np.maximum.accumulate(np.concatenate(([latest], seconds)))[:-1]
        early = seconds < before
        rows = np.flatnonzero(ok)
        t.problems_at(
            rows[early], lines, "timestamp", cols["timestamp"], "must not be earlier than the previous row's timestamp"
        )
        keep = ~early
        m = int(keep.sum())
        times[k : k + m] = seconds[keep]
        prices[k : k + m] = price[ok][keep]
        if volume:
            volumes[k : k + m] = vol[ok][keep]
        lines_kept[k : k + m] = lines[rows[keep]]
        if m:
            latest = max(latest, float(seconds[keep].max()))
        k += m
    if not t.has_problems and k < 2:
        t.file_level(f"{t.name}: needs at least 2 rows, found {k}")
    elif k >= 2 and times[k - 1] - times[0] > MAX_SPAN_S:
        t.file_level(
            f"{t.name}: the timestamps span {times[k - 1] - times[0]:.3g} s (line {lines_kept[0]} to line "
            f"{lines_kept[k - 1]}), more than a run's clock holds (int64 milliseconds: {MAX_SPAN_S:.3g} s); check "
            f"the unit ({_UNIT_NAMES.get(time_class or 's', 'seconds')}; shock.time_unit sets it)"
        )
    t.finish()
    times.resize(k, refcheck=False)
    prices.resize(k, refcheck=False)
    out = {"t_s": times - times[0], "price": prices, "start_unix_s": float(times[0])}
    if volume:
        volumes.resize(k, refcheck=False)
        out.update(volume=volumes, has_volume=np.array(has_volume))
    return out
