"""Rebuild ``alts_2025_10_10.csv``: BTC, ETH, SOL and AVAX prices over the window of ``btc_2025_10_10.csv``.

    python scenarios/data/derive_alts_2025_10_10.py DATA_DIR [--out FILE | --check]

``DATA_DIR`` holds these public files, unmodified, as committed in the public GitHub repository
aaronwu2017/TheGlory (commit 929fd9c3; the path in that repository after each name). The trade files are in
the tick-by-tick CSV layout of Tardis.dev (``exchange,symbol,timestamp,local_timestamp,id,side,price,amount``,
times in microseconds), from which that repository's author downloaded them; the exchanges' and Tardis.dev's
terms apply to the source data. The repository states no licence.

* ``BTCUSD_PERP-1m-2025-10-10.zip`` (``analysis/timeline/``): Binance's 1-minute index-price klines of the
  coin-margined BTCUSD perpetual, the source of ``btc_2025_10_10.csv``. BTC column.
* ``gemini_trades_2025-10-10_ETHUSD.csv.gz`` (``analysis/spotandFutures/ETH/gemini/``): Gemini spot ETH/USD
  trades. ETH column.
* ``gemini_trades_2025-10-10_SOLUSD.csv.gz`` (``analysis/spotandFutures/SOL/gemini/``): Gemini spot SOL/USD
  trades. SOL column.
* ``binance-delivery_trades_2025-10-10_AVAXUSD_PERP.csv.gz`` (``analysis/spotandFutures/coin_margined/``):
  trades of Binance's coin-margined AVAXUSD perpetual. AVAX column.
* ``coinbase_trades_2025-10-10_AVAX-USD.csv.gz`` (``analysis/spotandFutures/AVAX/coinbase/``): Coinbase spot
  AVAX-USD trades, only printed as a cross-check of the AVAX low.

Why these: the same repository also lists Binance's and Coinbase's ETH and SOL trade files and Binance's
coin-margined ETHUSD/SOLUSD perpetual trades, but their content is too large to be stored with it in the
public copies at hand; Gemini's are the only ETH and SOL trades available. Gemini is a thin venue: its
recorded feed has minutes without trades (SOL 18 of the 180, ETH 3), and its crash lows are far shallower
than Binance's (the script prints both sides of that in the summary; the owner should read ETH and SOL as
"a real path, shallower than the Binance one", not as Binance's path).

The file (rows are bars, in time order):

1. ``timestamp``: the bar's start in unix seconds (as in ``btc_2025_10_10.csv``); ``seconds``: its length.
   Bars are 1 minute from 20:00 to 23:00 UTC, except 10-second bars from 21:10 to 21:30 UTC (the crash
   minutes) for the three trade series; the BTC index has 1-minute bars only, so its cells are empty in the
   10-second rows (``btc_2025_10_10.csv`` holds BTC's finer path).
2. per coin, ``open,high,low,close`` of the trades in the bar (first, highest, lowest, last trade by the
   exchange's timestamp); all four empty for a bar without trades (nothing is filled in the file).
3. prices rounded to BTC 0.1, ETH 0.01, SOL 0.001, AVAX 0.001 USD.

The statistics in the header (and printed):

* drawdown: from each coin's 20:00 UTC level (the index bar's open; for trades, the last trade before 20:00:00)
  to its lowest price in the window (lowest index-bar low; lowest trade, to the second);
* beta: OLS slope of the coin's 1-minute log returns on BTC's (index closes), over the 180 minutes and over
  the crash hour 20:50-21:50 UTC (the 40 minutes of liquidations from 20:50 and the rebound to 21:50, as in
  ``derive_2025_10_10.py``), and, for comparison, over the calm lead-in 20:00-20:50 UTC. A coin's price at
  the end of a minute is its last trade before that end (so a minute without trades repeats the previous
  price); the first return starts from the 20:00 level.

Only the standard library and numpy are used.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import sys
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
OUT_FILE = HERE / "alts_2025_10_10.csv"

INDEX_ZIP = "BTCUSD_PERP-1m-2025-10-10.zip"
ETH_TRADES = "gemini_trades_2025-10-10_ETHUSD.csv.gz"
SOL_TRADES = "gemini_trades_2025-10-10_SOLUSD.csv.gz"
AVAX_TRADES = "binance-delivery_trades_2025-10-10_AVAXUSD_PERP.csv.gz"
AVAX_CHECK = "coinbase_trades_2025-10-10_AVAX-USD.csv.gz"

DAY_UNIX = int(datetime(2025, 10, 10, tzinfo=UTC).timestamp())
START = DAY_UNIX + 20 * 3600  # 20:00 UTC, the start of btc_2025_10_10.csv
END = START + 3 * 3600  # 23:00 UTC
FINE = (DAY_UNIX + 21 * 3600 + 10 * 60, DAY_UNIX + 21 * 3600 + 30 * 60)  # 21:10-21:30 UTC in 10-second bars
FINE_S = 10
CRASH_HOUR = (DAY_UNIX + 20 * 3600 + 50 * 60, DAY_UNIX + 21 * 3600 + 50 * 60)  # 20:50-21:50 UTC
LEAD_IN = (START, CRASH_HOUR[0])  # 20:00-20:50 UTC, before the cascade

COINS = ("btc", "eth", "sol", "avax")
DECIMALS = {"btc": 1, "eth": 2, "sol": 3, "avax": 3}
VENUE = {
    "btc": "Binance BTCUSD_PERP index price (1-minute klines)",
    "eth": "Gemini spot ETH/USD trades",
    "sol": "Gemini spot SOL/USD trades",
    "avax": "Binance coin-margined AVAXUSD perpetual trades",
}


@dataclass
class Series:
    """A price series: ``t`` (unix seconds) and ``p``; for the index, ``t`` are bar starts and ``ohlc`` the bars."""

    t: np.ndarray
    p: np.ndarray
    ohlc: np.ndarray | None = None


def read_trades(path: Path) -> Series:
    """Trades of a Tardis.dev-layout CSV, in exchange-timestamp order."""
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        rows = csv.reader(f)
        head = next(rows)
        it, ip = head.index("timestamp"), head.index("price")
        data = np.array([(int(r[it]), float(r[ip])) for r in rows if r])
    order = np.argsort(data[:, 0], kind="stable")
    return Series(t=data[order, 0] / 1e6, p=data[order, 1])


def read_index(path: Path) -> Series:
    """The 1-minute index klines: bar starts and (open, high, low, close)."""
    with zipfile.ZipFile(path) as z:
        (name,) = z.namelist()
        with z.open(name) as f:
            rows = [r for r in csv.reader(io.TextIOWrapper(f, encoding="utf-8"))][1:]
    bars = np.array([[int(r[0]) / 1000, *map(float, r[1:5])] for r in rows if r])
    return Series(t=bars[:, 0], p=bars[:, 4], ohlc=bars[:, 1:5])


def bar_starts() -> list[tuple[int, int]]:
    """(start, length) of every row: 1-minute bars, 10-second ones inside FINE."""
    out, t = [], START
    while t < END:
        step = FINE_S if FINE[0] <= t < FINE[1] else 60
        out.append((t, step))
        t += step
    return out


def trade_bar(s: Series, t0: float, t1: float) -> tuple[float, float, float, float] | None:
    """OHLC of the trades in [t0, t1), or None."""
    i, j = np.searchsorted(s.t, [t0, t1], side="left")
    if i == j:
        return None
    p = s.p[i:j]
    return p[0], p.max(), p.min(), p[-1]


def index_bar(s: Series, t0: float, length: int) -> tuple[float, float, float, float] | None:
    """The index bar starting at t0 (1-minute rows only)."""
    if length != 60:
        return None
    k = np.searchsorted(s.t, t0)
    if k >= len(s.t) or s.t[k] != t0:
        raise SystemExit(f"{INDEX_ZIP}: no bar at {t0}")
    return tuple(s.ohlc[k])


def level_at(s: Series, t: float) -> float:
    """Price at time t: the index bar's open at t, or the last trade before t (a trade at t opens the bar at t)."""
    if s.ohlc is not None:
        return float(s.ohlc[np.searchsorted(s.t, t), 0])
    k = np.searchsorted(s.t, t, side="left") - 1
    if k < 0:
        raise SystemExit("no trade before the window")
    return float(s.p[k])


def minute_closes(s: Series) -> np.ndarray:
    """The 20:00 level, then the price at each minute's end 20:01..23:00 (181 values)."""
    ends = np.arange(START + 60, END + 1, 60)
    if s.ohlc is not None:
        k = np.searchsorted(s.t, ends - 60)
        return np.concatenate([[level_at(s, START)], s.ohlc[k, 3]])
    # last trade strictly before the minute's end (the trade at hh:mm:00.000 opens the next bar)
    k = np.searchsorted(s.t, ends, side="left") - 1
    return np.concatenate([[level_at(s, START)], s.p[k]])


def window_low(s: Series) -> tuple[float, float]:
    """Lowest price in [START, END) and its time (index: the bar's start)."""
    w = (s.t >= START) & (s.t < END)
    if s.ohlc is not None:
        k = int(np.argmin(np.where(w, s.ohlc[:, 2], np.inf)))
        return float(s.ohlc[k, 2]), float(s.t[k])
    k = int(np.argmin(np.where(w, s.p, np.inf)))
    return float(s.p[k]), float(s.t[k])


def beta(y: np.ndarray, x: np.ndarray) -> tuple[float, float]:
    """OLS slope of y on x (with intercept) and the correlation."""
    xc, yc = x - x.mean(), y - y.mean()
    return float((xc * yc).sum() / (xc**2).sum()), float(np.corrcoef(x, y)[0, 1])


def clock(t: float, seconds: bool = True) -> str:
    d = datetime.fromtimestamp(t, tz=UTC)
    return d.strftime("%H:%M:%S" if seconds else "%H:%M")


def stats(series: dict[str, Series]) -> dict[str, dict]:
    """Drawdown to the low and the betas, coin by coin."""
    closes = {c: minute_closes(s) for c, s in series.items()}
    ret = {c: np.diff(np.log(v)) for c, v in closes.items()}
    minute_start = np.arange(START, END, 60)
    crash = (minute_start >= CRASH_HOUR[0]) & (minute_start < CRASH_HOUR[1])
    lead = (minute_start >= LEAD_IN[0]) & (minute_start < LEAD_IN[1])
    out = {}
    for c, s in series.items():
        level = level_at(s, START)
        low, at = window_low(s)
        row = {
            "level": level,
            "low": low,
            "at": at,
            "drawdown": low / level - 1,
            "minutes_without_trades": 0
            if s.ohlc is not None
            else int(sum(trade_bar(s, m, m + 60) is None for m in minute_start)),
        }
        row["beta"], row["corr"] = beta(ret[c], ret["btc"])
        row["beta_crash"], row["corr_crash"] = beta(ret[c][crash], ret["btc"][crash])
        row["beta_lead"], row["corr_lead"] = beta(ret[c][lead], ret["btc"][lead])
        out[c] = row
    return out


def header(st: dict[str, dict]) -> str:
    lines = [
        "BTC, ETH, SOL and AVAX prices, 10 October 2025, 20:00-23:00 UTC (the window of btc_2025_10_10.csv),",
        "for runs of several instruments. Sources (public GitHub repository aaronwu2017/TheGlory, commit 929fd9c3;",
        "tick data in Tardis.dev's CSV layout; the exchanges' and Tardis.dev's terms apply; no licence stated):",
        f"  BTC: {VENUE['btc']}, analysis/timeline/{INDEX_ZIP} (as btc_2025_10_10.csv);",
        f"  ETH: {VENUE['eth']}, analysis/spotandFutures/ETH/gemini/{ETH_TRADES};",
        f"  SOL: {VENUE['sol']}, analysis/spotandFutures/SOL/gemini/{SOL_TRADES};",
        f"  AVAX: {VENUE['avax']}, analysis/spotandFutures/coin_margined/{AVAX_TRADES}.",
        "Binance's ETH and SOL trade files are not available in the public copies, hence Gemini for them: a thin venue",
        "whose recorded feed has minutes without trades and whose ETH trades stall between about 3,680 and 3,825 from",
        "21:14 to 21:30 UTC while larger venues trade lower. Its lows are shallower than Binance's among the minima the",
        "same repository lists in exhibits/EXHIBIT C-7 (ETH: Binance spot 3,435.00, coin-margined 3,378.19, Coinbase",
        "3,510.00; SOL: 168.79, 137.21, 176.85; AVAX: 8.52, 6.02, 17.00): read ETH and SOL here as real paths of a thin",
        "venue, shallower than Binance's (ETH's also than Coinbase's).",
        "Derived by scenarios/data/derive_alts_2025_10_10.py (it rebuilds this file from those files). Rows are bars:",
        "timestamp = bar start, unix seconds; seconds = bar length: 60, or 10 from 21:10 to 21:30 UTC (BTC's index has",
        "1-minute bars only, so its cells are empty there; btc_2025_10_10.csv has its finer path). Per coin the bar's",
        "open/high/low/close of its trades (first/highest/lowest/last); empty when the bar had no trade. USD.",
        "Drawdown from the 20:00 UTC level (for trades, the last one before 20:00:00) to the window's low (its time;",
        "BTC: the index bar's start); OLS beta of the coin's 1-minute log returns on BTC's (correlation in brackets)",
        "over the whole window, the crash hour 20:50-21:50 UTC and the lead-in 20:00-20:50 UTC. A minute without trades",
        "repeats the last price; in the crash the alts' lows are not in BTC's minute and Gemini's trades stall, so the",
        "crash-hour betas are not betas of a calm market:",
    ]
    for c in COINS:
        r = st[c]
        d = DECIMALS[c]
        gaps = f"; {r['minutes_without_trades']} minutes without trades" if r["minutes_without_trades"] else ""
        lines.append(
            f"  {c.upper():4} {r['level']:.{d}f} -> {r['low']:.{d}f} ({r['drawdown'] * 100:+.1f}%) at "
            f"{clock(r['at'])} UTC; beta {r['beta']:.2f} ({r['corr']:.2f}), crash hour {r['beta_crash']:.2f} "
            f"({r['corr_crash']:.2f}), lead-in {r['beta_lead']:.2f} ({r['corr_lead']:.2f}){gaps}"
        )
    return "".join(f"# {line}\n" for line in lines)


def table(series: dict[str, Series]) -> str:
    cols = ["timestamp", "seconds"] + [f"{c}_{k}" for c in COINS for k in ("open", "high", "low", "close")]
    out = [",".join(cols)]
    for t0, length in bar_starts():
        cells = [str(t0), str(length)]
        for c in COINS:
            s = series[c]
            bar = index_bar(s, t0, length) if s.ohlc is not None else trade_bar(s, t0, t0 + length)
            d = DECIMALS[c]
            cells += [f"{x:.{d}f}" for x in bar] if bar is not None else ["", "", "", ""]
        out.append(",".join(cells))
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data_dir", type=Path, help="folder with the files listed in this script's docstring")
    ap.add_argument("--out", type=Path, default=OUT_FILE, help="where to write the CSV (default: next to this script)")
    ap.add_argument(
        "--check", action="store_true", help="compare with --out instead of writing it; exit 1 if it differs"
    )
    args = ap.parse_args(argv)

    series = {
        "btc": read_index(args.data_dir / INDEX_ZIP),
        "eth": read_trades(args.data_dir / ETH_TRADES),
        "sol": read_trades(args.data_dir / SOL_TRADES),
        "avax": read_trades(args.data_dir / AVAX_TRADES),
    }
    st = stats(series)
    text = header(st) + table(series)
    same = True
    if args.check:
        same = args.out.exists() and args.out.read_text(encoding="utf-8") == text
        print(f"{args.out}: {'identical to' if same else 'DIFFERS from'} the derived file")
    else:
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote {args.out} ({len(text.encode())} bytes)")
    for line in header(st).splitlines()[-4:]:
        print(line[2:])
    check = read_trades(args.data_dir / AVAX_CHECK)
    low, at = window_low(check)
    level = level_at(check, START)
    print(
        f"cross-check, Coinbase spot AVAX-USD: {level:.3f} -> {low:.3f} ({(low / level - 1) * 100:+.1f}%) at "
        f"{clock(at)} UTC"
    )
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
