"""How much memory a run needs and how much the machine has, so a run that cannot fit is refused before it
allocates anything (:func:`sim.config.resource_checks.check_resources`).

The estimate adds up the arrays the engine allocates (:mod:`sim.engine`: ``prepare``, ``_wrap``; :mod:`sim.allocate`;
:mod:`sim.world`), item by item, as bytes per position row, per book level, per background order and so on
(:data:`PER`). The per-position figure was checked against runs of 10⁵–3·10⁶ positions: the peak of NumPy's
allocations under tracemalloc was 380 bytes a position with a mild shock and 462 in a crash that liquidated a third
of the book (the Numba kernels add about 16 more); the peak resident memory was 283–370 bytes a position. Zeroed
arrays a run never touches take no physical memory, so the estimate is an upper bound for most runs.

The memory available is the system's own figure (psutil's available memory, else the free
pages where psutil cannot tell), unless the environment variable ``LIQSIM_MEMORY_LIMIT_GB`` sets it.
"""

from __future__ import annotations

import os
from typing import NamedTuple

from sim.dtypes import ACCOUNT_DTYPE, FILL_DTYPE, SERIES_DTYPE
from sim.state import N_SERIES_COLS, allocate_fills

GB = 1e9

#: The environment variable that sets the memory a run may use, in GB (10⁹ bytes), instead of the system's figure.
ENV = "LIQSIM_MEMORY_LIMIT_GB"

_FILL_COLUMNS = sum(c.itemsize for c in allocate_fills(1))  # the fill buffer's bytes per fill (75)

#: Bytes per item of what a run allocates.
PER = {
    # per position row: the inputs (side 1, size 8, entry 8, wallet 8, kind 1, mode 1, leverage 8, stop 8,
    # reserve 8, delay 8) 59; the engine's own columns (size, wallet, lp, bp, key, version, eligible, cooldown,
    # reserve, tu_due 8 each, status 1) 81; the trigger index (ids and order 8 each, three heaps of two rows 48,
    # deferred, rank, rank_score 8 each, pending top-ups 24, dYdX's window and waiting list 8 each) 136; the start
    # liquidation prices 8 and the accounts table; fills: the buffer of n/4 grown to n/2 in a deep cascade, and
    # packed (75 + 88)/2; and 55 for the
    # kernels' and the summary's working arrays (ADL ranking, sorting, summary columns)
    "position": 59 + 81 + 136 + 8 + ACCOUNT_DTYPE.itemsize + (_FILL_COLUMNS + FILL_DTYPE.itemsize) // 2 + 55,
    # per arrival candidate (sim.world.arrivals): a position row, and its time, draw and leverage (8 each) with the
    # draws that make them (about 5 arrays of 8)
    "arrival": 0,  # set below, from "position"
    # per row of a positions file, besides the run's: the arrays read (side 1, size, entry, wallet 8 each, mode 1,
    # margin, line 8 each), kept with the scenario
    "file row": 42,
    # per book level: bid and ask sizes and touch times (4 × 8), the two profiles (8 per level: each covers half the
    # ladder) and their temporaries while drawn (16)
    "book level": 32 + 8 + 16,
    # per background order: its time, side and size (17), its fill in the buffer and packed (75 + 88), and the
    # blocks it is drawn in (measured: 197 in all)
    "background order": 220,
    # per sample: the series buffer and its packed copy (96 each), and the summary's copies (measured: 219)
    "sample": N_SERIES_COLS * 8 + SERIES_DTYPE.itemsize + 48,
    # per insurance-fund unwind: its slot in the fill buffer, and packed if it fills
    "unwind": _FILL_COLUMNS + FILL_DTYPE.itemsize,
    # per oracle tick: the rolling peak of the fund's equity (a time and a value) for the ADL drawdown trigger
    "oracle tick": 16,
    # per point of a GBM path: the path (16) and the draws and sums that make it (about 10 arrays)
    "GBM point": 100,
    # per row of a replayed path: read (16), in seconds and rescaled (16), in milliseconds (16), and the reached part
    "path row": 64,
}

PER["arrival"] = PER["position"] + 24 + 40

#: What a run needs whatever its size: the compiled kernels loaded, writing the outputs.
FIXED = 200e6


class Available(NamedTuple):
    """Bytes a run may use and where that figure comes from (for messages)."""

    bytes: float
    source: str


def _system_available() -> Available | None:
    """The system's available memory: psutil's figure where it is installed (on Linux, MemAvailable: free memory
    plus the caches the kernel can drop), else the free pages; None where neither is known."""
    try:
        import psutil  # a dependency; guarded so a broken install still gets the free pages
    except ImportError:
        pass
    else:
        try:
            return Available(float(psutil.virtual_memory().available), "the system's available memory")
        except (OSError, RuntimeError, AttributeError):
            pass
    try:
        return Available(float(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")), "the system's free memory")
    except (ValueError, OSError, AttributeError):
        return None


def available() -> Available | str | None:
    """The memory a run may use: :data:`ENV` if set, else the system's available memory. A message (str) if
    :data:`ENV` is not a number of GB > 0; None if the system gives no figure."""
    given = os.environ.get(ENV, "").strip()
    if not given:
        return _system_available()
    try:
        gb = float(given)
    except ValueError:
        gb = float("nan")
    if not 0 < gb < float("inf"):
        return f"{ENV} = {given[:50]!r}: must be a number > 0 (the GB of memory a run may use), or unset"
    return Available(gb * GB, f"set by {ENV}")


def size(n_bytes: float) -> str:
    """Bytes for people: ``15.2 GB``, ``340 MB``."""
    return f"{n_bytes / GB:.1f} GB" if n_bytes >= 0.95 * GB else f"{max(n_bytes / 1e6, 1):.0f} MB"
