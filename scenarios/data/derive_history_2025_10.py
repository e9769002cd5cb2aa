"""Rebuild ``btc_history_2025_10_05_10.csv``: the BTC price history before the replay of 10 October 2025.

    python scenarios/data/derive_history_2025_10.py DATA_DIR [--out FILE | --check]

``DATA_DIR`` holds Binance's public 5-minute BTCUSDT price klines for 5 to 10 October 2025 (files
``BTCUSDT-5m-2025-10-DD.zip``, DD = 05 … 10), unmodified, as committed in the public GitHub repository
aaronwu2017/TheGlory (commit 929fd9c3, folder ``analysis/etf/data/binance data``; the 10 October file's name there
ends in ``" .zip"``, which this script also accepts); Binance's terms of use apply to them. Their volume columns
are 0 and each bar holds 300 one-second samples: they are price (index or mark) klines, not trades, so the history
has no volume column and entries along it are weighted by time.

The history runs from 5 Oct 00:00 UTC to 10 Oct 20:00:00 UTC, the replay's t = 0 (the 4 October file is missing
from the source). Every three 5-minute bars make a 15-minute bar; its high and low keep the extremes of the three
(which is what the survival screen needs); the first row is the first bar's open; each bar then adds its high and
low at +5 and +10 minutes (high first in a bar that closes below its open, low first otherwise) and its close at
+15 minutes. Prices are rounded to 0.1 USD.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "btc_history_2025_10_05_10.csv"
DAYS = ("05", "06", "07", "08", "09", "10")
START_MS = 1759622400000  # 2025-10-05 00:00:00 UTC
END_MS = 1760126400000  # 2025-10-10 20:00:00 UTC, the replay's start
HEADER = """\
# BTC price before the replay of 10 October 2025: 5 Oct 00:00 UTC to 10 Oct 20:00 UTC (the replay's t = 0), the
# history a replay's population draws its entries along (scenarios/replay_2025_10_10.toml, population.history_file).
# Source: Binance public market data, 5-minute BTCUSDT price klines BTCUSDT-5m-2025-10-05.zip ... -10.zip (volume
# fields 0, 300 one-second samples a bar: index or mark price klines), as committed in the public GitHub repository
# aaronwu2017/TheGlory, commit 929fd9c3. Binance's terms of use apply to the source data.
# Derived by scenarios/data/derive_history_2025_10.py: 15-minute bars (three 5-minute bars each); the first bar's
# open, then each bar's high and low at +5 and +10 min (high first if it closed below its open) and its close at
# +15 min. Prices rounded to 0.1 USD. timestamp: unix time in seconds; price: USD.
"""


def _bars(data_dir: Path) -> list[tuple[int, float, float, float, float]]:
    out = []
    for day in DAYS:
        path = data_dir / f"BTCUSDT-5m-2025-10-{day}.zip"
        if not path.exists():
            path = data_dir / f"BTCUSDT-5m-2025-10-{day} .zip"
        with zipfile.ZipFile(path) as z:
            text = z.read(z.namelist()[0]).decode()
        for row in csv.reader(io.StringIO(text)):
            if row and row[0].isdigit() and START_MS <= int(row[0]) < END_MS:
                out.append((int(row[0]), *(float(x) for x in row[1:5])))
    return sorted(out)


def rows(data_dir: Path) -> list[tuple[int, float]]:
    bars = _bars(data_dir)
    out = [(bars[0][0] // 1000, bars[0][1])]
    for k in range(0, len(bars) - 2, 3):
        three = bars[k : k + 3]
        t0, o, c = three[0][0] // 1000, three[0][1], three[-1][4]
        hi, lo = max(b[2] for b in three), min(b[3] for b in three)
        first, second = (hi, lo) if c < o else (lo, hi)
        out += [(t0 + 300, first), (t0 + 600, second), (t0 + 900, c)]
    return [(t, round(p, 1)) for t, p in out]


def text(data_dir: Path) -> str:
    return HEADER + "timestamp,price\n" + "".join(f"{t},{p:.1f}\n" for t, p in rows(data_dir))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--check", action="store_true", help="compare with the shipped file instead of writing")
    args = ap.parse_args(argv)
    new = text(args.data_dir)
    if args.check:
        same = OUT.read_text() == new
        print("matches" if same else "differs", file=sys.stderr)
        return 0 if same else 1
    args.out.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
