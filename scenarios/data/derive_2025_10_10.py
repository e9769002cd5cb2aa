"""Rebuild ``btc_2025_10_10.csv`` and print the book calibration of ``replay_2025_10_10.toml``.

    python scenarios/data/derive_2025_10_10.py DATA_DIR [--out FILE | --check]

``DATA_DIR`` holds Binance's public market-data files for the 10 October 2025 crash, unmodified, as
committed in the public GitHub repository aaronwu2017/TheGlory (commit 929fd9c3); Binance's terms of use
apply to them. This script reads three of them:

* ``BTCUSD_PERP-1m-2025-10-10.zip``: 1-minute index-price klines of the coin-margined BTCUSD perpetual
  (60 one-second samples a bar; the finest price series of the set). It gives the price path.
* ``BTCUSDT-5m-2025-10-10.zip``: 5-minute USDⓈ-M BTCUSDT klines, only to print their low as a cross-check.
* ``BTCUSDT-bookDepth-2025-10-10.csv``: cumulative BTCUSDT order-book depth within ±1..±5% of mid, about
  every 30 s. It gives ``book.depth_usd_1pct`` and ``book.shape``, and the depth during the crash.

The path (written as ``timestamp,price``, timestamps in unix seconds, so a replay keeps the clock time of its
start; below, times are in seconds from 20:00:00 UTC):

1. the bars opening from 20:00 to 22:59 UTC (180 bars, 50 minutes of lead-in before the 20:50 start of the
   40 minutes that held 70% of the day's liquidations, the crash, the rebound and an hour after it);
2. the first row is the first bar's open at t = 0; every bar then ends with its close at its end (+60 s);
3. a bar whose high−low range is at least 0.3% of its open also gets its high and low inside it, at +20 s
   and +40 s, in the order of the shortest path through open, high, low and close: high first in a bar that
   closes below its open, low first otherwise (the usual backtesting convention); an extreme equal to the
   bar's open or close is left out, since the line through its neighbours already passes there. Quieter
   bars keep their close only: their intrabar swings are under 0.3%;
4. the open itself is not a row: it is the index's next one-second sample after the previous bar's close;
5. prices are rounded to 0.1 USD, BTCUSDT's tick.

Only the standard library and numpy are used, so anyone with the files can check the shipped path.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
PATH_FILE = HERE / "btc_2025_10_10.csv"

INDEX_ZIP = "BTCUSD_PERP-1m-2025-10-10.zip"
USDT_5M_ZIP = "BTCUSDT-5m-2025-10-10.zip"
DEPTH_CSV = "BTCUSDT-bookDepth-2025-10-10.csv"

DAY = datetime(2025, 10, 10, tzinfo=UTC)
PATH_START_MIN = 20 * 60  # 20:00 UTC
PATH_START_UNIX = int(DAY.timestamp()) + PATH_START_MIN * 60  # 2025-10-10 20:00:00 UTC in unix seconds
PATH_BARS = 180  # to 23:00 UTC
ACTIVE_RANGE_PCT = 0.3  # bars with at least this high-low range keep their high and low

# Normal hours for the book: from midnight to the tariff post of 14:57 UTC that started the sell-off
# (docs/model.md §9.2). A stale bid at about 121,363 sits in the book from 15:30 on (see stale_bid_report), so
# every band after that is measured from a mid it pushes up; the morning is the clean calibration window.
NORMAL_END_MIN = 14 * 60 + 57
# The crash, for the depth minima: Amberdata's 40 minutes of liquidations from 20:50 UTC, and the rebound
# to 21:50.
CRASH_MIN = (20 * 60 + 50, 21 * 60 + 50)
BANDS = (1, 2, 3, 4, 5)

HEADER = """\
# BTC index price, 10 October 2025, 20:00-23:00 UTC: the crash of 21:10-21:27 UTC with 50 minutes of
# lead-in and 100 minutes after the low. Replayed by scenarios/replay_2025_10_10.toml.
# Source: Binance public market data, file BTCUSD_PERP-1m-2025-10-10.zip (1-minute index-price klines of
# the coin-margined BTCUSD perpetual, 60 one-second samples a bar), as committed in the public GitHub
# repository aaronwu2017/TheGlory, commit 929fd9c3. Binance's terms of use apply to the source data.
# Derived by scenarios/data/derive_2025_10_10.py (it rebuilds this file from those files): the first bar's
# open at t = 0, then each bar's close at its end (+60 s); a bar with a high-low range of at least 0.3% of
# its open also gets its high and low at +20 s and +40 s (high first if it closed below its open, low
# first otherwise; an extreme equal to the open or close is left out). Prices rounded to 0.1 USD.
# timestamp: unix time in seconds (1760126400 is 2025-10-10 20:00:00 UTC, the path's start); price: USD.
"""


def _zip_rows(path: Path) -> list[list[str]]:
    """The rows of the one CSV inside a Binance zip, header dropped."""
    with zipfile.ZipFile(path) as z:
        (name,) = z.namelist()
        with z.open(name) as f:
            rows = list(csv.reader(io.TextIOWrapper(f, encoding="utf-8")))
    return [r for r in rows[1:] if r]


def _minute_of_day(ms: int) -> int:
    """Minutes since 00:00 UTC on 10 October 2025 of a millisecond timestamp."""
    return (ms - int(DAY.timestamp() * 1000)) // 60_000


def index_bars(data_dir: Path) -> np.ndarray:
    """The 1-minute index bars of 10 Oct as an array of (minute of day, open, high, low, close)."""
    rows = _zip_rows(data_dir / INDEX_ZIP)
    return np.array([[_minute_of_day(int(r[0])), *map(float, r[1:5])] for r in rows])


def derive_path(bars: np.ndarray) -> list[tuple[int, float]]:
    """The replay path ``[(seconds from the path start, price)]`` by the rule of the module docstring."""
    window = bars[(bars[:, 0] >= PATH_START_MIN) & (bars[:, 0] < PATH_START_MIN + PATH_BARS)]
    if len(window) != PATH_BARS or not np.array_equal(window[:, 0], PATH_START_MIN + np.arange(PATH_BARS)):
        raise SystemExit(f"{INDEX_ZIP}: expected {PATH_BARS} consecutive bars from 20:00 UTC")
    rows = [(0, round(window[0, 1], 1))]
    for minute, o, h, l, c in window:
        t = int(minute - PATH_START_MIN) * 60
        if (h - l) / o * 100 >= ACTIVE_RANGE_PCT:
            first, second = (h, l) if c < o else (l, h)
            for dt, x in ((20, first), (40, second)):
                if x != o and x != c:
                    rows.append((t + dt, round(x, 1)))
        rows.append((t + 60, round(c, 1)))
    return rows


def path_text(rows: list[tuple[int, float]]) -> str:
    """The CSV file: source header, column names, rows (``rows`` in seconds from the path's start, written as unix
    seconds)."""
    return HEADER + "timestamp,price\n" + "".join(f"{PATH_START_UNIX + t},{p:.1f}\n" for t, p in rows)


def _clock(minute: float) -> str:
    return f"{int(minute) // 60:02d}:{int(minute) % 60:02d}"


def read_depth(data_dir: Path) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Depth snapshots: timestamps, minute of day, and (n, 2, 5) arrays of notional and weighted average
    price, side 0 = bids (−1..−5%), side 1 = asks (+1..+5%)."""
    snaps: dict[str, dict[int, tuple[float, float]]] = {}
    with open(data_dir / DEPTH_CSV, newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            stamp = r["timestamp"].strip()  # one timestamp has a leading space
            snaps.setdefault(stamp, {})[int(r["percentage"])] = (float(r["notional"]), float(r["weighted_avg_price"]))
    stamps = [s for s in sorted(snaps) if len(snaps[s]) == 10]
    notional = np.array([[[snaps[s][side * k][0] for k in BANDS] for side in (-1, 1)] for s in stamps])
    wavg = np.array([[[snaps[s][side * k][1] for k in BANDS] for side in (-1, 1)] for s in stamps])
    minute = np.array([int(s[11:13]) * 60 + int(s[14:16]) + int(s[17:19]) / 60 for s in stamps])
    return stamps, minute, notional, wavg


def shape_fit(cum: np.ndarray) -> np.ndarray:
    """Least-squares exponent of cum(x) ∝ x^shape over the bands x = 1..5% (last axis), in logs."""
    x = np.log(np.array(BANDS, dtype=float))
    y = np.log(cum)
    xc = x - x.mean()
    return ((y - y.mean(axis=-1, keepdims=True)) * xc).sum(axis=-1) / (xc**2).sum()


def calibrate(data_dir: Path) -> dict:
    """Book calibration and crash depth from the depth file (printed by main)."""
    stamps, minute, notional, wavg = read_depth(data_dir)
    # a bid band whose weighted price is at or above the +1% asks' holds a level above the asks: the stale bid
    crossed = wavg[:, 0, 0] >= wavg[:, 1, 0]
    normal = minute < NORMAL_END_MIN
    assert not crossed[normal].any()
    bid1, ask1 = notional[normal, 0, 0], notional[normal, 1, 0]
    both = notional[normal].mean(axis=1)  # the two sides' average, band by band
    out = {
        "normal_snapshots": int(normal.sum()),
        "bid_1pct": float(np.median(bid1)),
        "ask_1pct": float(np.median(ask1)),
        "depth_usd_1pct": float(np.median(both[:, 0])),
        "shape_bid": float(np.median(shape_fit(notional[normal, 0]))),
        "shape_ask": float(np.median(shape_fit(notional[normal, 1]))),
        "shape": float(np.median(shape_fit(both))),
        "median_bands": np.median(both, axis=0),
        "crossed_by_hour": [int(crossed[(minute // 60) == h].sum()) for h in range(24)],
        "snapshots_by_hour": [int(((minute // 60) == h).sum()) for h in range(24)],
        "first_crossed": stamps[int(np.argmax(crossed))],
    }
    crash = (minute >= CRASH_MIN[0]) & (minute < CRASH_MIN[1])
    normal_bands = np.median(notional[normal], axis=0)
    minima = []
    for side, sign in ((1, "+"), (0, "-")):
        for j, k in enumerate(BANDS):
            series = np.where(crash, notional[:, side, j], np.inf)
            i = int(np.argmin(series))
            # a bid band priced above the +1% asks is dominated by the stale bid (alone it reads ~2.1M)
            stale = crash & (wavg[:, side, j] >= wavg[:, 1, 0]) if side == 0 else np.zeros_like(crash)
            rest = np.where(crash & ~stale, notional[:, side, j], np.inf)
            r = int(np.argmin(rest))
            minima.append((f"{sign}{k}%", normal_bands[side, j], notional[i, side, j], stamps[i][11:],
                           int(stale.sum()), int(crash.sum()), rest[r], stamps[r][11:]))
    out["crash_minima"] = minima
    evening = (minute >= PATH_START_MIN) & (minute < CRASH_MIN[0])
    out["evening_ask_1pct"] = float(np.median(notional[evening, 1, 0]))
    out["evening_shape_ask"] = float(np.median(shape_fit(notional[evening, 1])))
    return out


def usdt_5m_low(data_dir: Path) -> tuple[float, str]:
    """The 10 Oct low of the 5-minute BTCUSDT klines and the bar it is in."""
    rows = _zip_rows(data_dir / USDT_5M_ZIP)
    i = min(range(len(rows)), key=lambda j: float(rows[j][3]))
    return float(rows[i][3]), _clock(_minute_of_day(int(rows[i][0])))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data_dir", type=Path, help="folder with the Binance files listed in this script's docstring")
    ap.add_argument("--out", type=Path, default=PATH_FILE, help="where to write the path CSV (default: next to this script)")
    ap.add_argument("--check", action="store_true", help="compare with --out instead of writing it; exit 1 if it differs")
    args = ap.parse_args(argv)

    bars = index_bars(args.data_dir)
    rows = derive_path(bars)
    text = path_text(rows)
    same = True
    if args.check:
        same = args.out.exists() and args.out.read_text(encoding="utf-8") == text
        print(f"{args.out}: {'identical to' if same else 'DIFFERS from'} the derived path")
    else:
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote {args.out}")

    t = np.array([r[0] for r in rows])
    p = np.array([r[1] for r in rows])
    day_low = bars[:, 3].min()
    low_bar = _clock(bars[np.argmin(bars[:, 3]), 0])
    u_low, u_bar = usdt_5m_low(args.data_dir)
    print(f"path: {len(rows)} rows over {t[-1]} s; first {p[0]:,.1f}, low {p.min():,.1f} at "
          f"{_clock(PATH_START_MIN + t[np.argmin(p)] / 60)}:{t[np.argmin(p)] % 60:02d} UTC, last {p[-1]:,.1f}")
    print(f"  1-minute index low of the day {day_low:,.1f} (bar {low_bar}); 5-minute BTCUSDT low "
          f"{u_low:,.2f} (bar {u_bar})")
    print(f"  from the first price: low {(p.min() / p[0] - 1) * 100:+.2f}%, last {(p[-1] / p[0] - 1) * 100:+.2f}%")

    cal = calibrate(args.data_dir)
    print(f"book, {cal['normal_snapshots']} snapshots 00:00-{_clock(NORMAL_END_MIN)} UTC (before the tariff post):")
    print(f"  median notional within 1%: bids {cal['bid_1pct'] / 1e6:.1f}M, asks {cal['ask_1pct'] / 1e6:.1f}M, "
          f"both sides' average {cal['depth_usd_1pct'] / 1e6:.1f}M  -> book.depth_usd_1pct")
    print(f"  shape (cumulative depth within x% ∝ x^shape, fit over 1..5%): bids {cal['shape_bid']:.3f}, "
          f"asks {cal['shape_ask']:.3f}, both sides' average {cal['shape']:.3f}  -> book.shape")
    bands = cal["median_bands"]
    fitted = bands[0] * np.array(BANDS, dtype=float) ** cal["shape"]
    print("  median cumulative bands (both sides' average) vs fit: "
          + ", ".join(f"{k}% {b / 1e6:.0f}M/{f / 1e6:.0f}M" for k, b, f in zip(BANDS, bands, fitted)))
    print(f"stale bid: first seen {cal['first_crossed']}; snapshots whose -1% band lies above the +1% asks, by hour "
          f"from 15:00: {cal['crossed_by_hour'][15:]} of {cal['snapshots_by_hour'][15:]}")
    print(f"  after it every band is measured from a mid it pushes up: 20:00-20:50 the +1% band reads "
          f"{cal['evening_ask_1pct'] / 1e6:.0f}M with shape {cal['evening_shape_ask']:.2f} (morning: "
          f"{cal['ask_1pct'] / 1e6:.0f}M, {cal['shape_ask']:.2f})")
    print(f"crash ({_clock(CRASH_MIN[0])}-{_clock(CRASH_MIN[1])} UTC) minima vs the normal-hours median "
          "(ask bands over-, bid bands under-state the real depth, see above):")
    for band, normal, low, at, stale, n, rest, rest_at in cal["crash_minima"]:
        extra = ""
        if band.startswith("-"):
            extra = f"; {stale} of {n} snapshots dominated by the stale bid"
            if np.isfinite(rest):
                extra += f", the others' minimum {rest / 1e6:.1f}M at {rest_at} ({(rest / normal - 1) * 100:+.0f}%)"
        print(f"  {band:>4}: {low / 1e6:7.1f}M at {at} (normal {normal / 1e6:6.1f}M, {(low / normal - 1) * 100:+.0f}%){extra}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
