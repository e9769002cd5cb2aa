"""Write ``hyperliquid_snapshot_example.csv``: a small, made-up account snapshot in liqsim's snapshot format.

    python scenarios/data/make_hyperliquid_snapshot.py [--out FILE]

The format flattens what Hyperliquid's public info endpoint returns for a user (request ``clearinghouseState``:
``assetPositions[].position`` with ``coin``, ``szi``, ``entryPx``, ``leverage {type, value}``, ``marginUsed``,
``positionValue``, ``maxLeverage``, ``liquidationPx``, ``unrealizedPnl``, and the account's
``crossMarginSummary.accountValue``; https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/info-endpoint)
into one CSV row per user and coin; ``sim/config/snapshot.py`` documents every column.

**No real user's data.** Users are numbered ``0xsim...``; sizes, entries and balances are drawn from a fixed seed.
The liquidation prices are computed with Hyperliquid's documented formula (Liquidations page,
https://hyperliquid.gitbook.io/hyperliquid-docs/trading/liquidations):
``liq_price = price − side·margin_available / position_size / (1 − l·side)``, ``l`` = the maintenance rate (half
the initial margin rate at the coin's maximum leverage), ``margin_available`` = account value (cross) or the
isolated margin, less the maintenance margin required; so a run that loads the file can be checked against them.
Only the standard library and numpy are used.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
OUT = HERE / "hyperliquid_snapshot_example.csv"
MARK = {"BTC": 121000.0, "ETH": 4350.0, "SOL": 222.0}
MAX_LEV = {"BTC": 40, "ETH": 25, "SOL": 20}  # Hyperliquid's first margin tier of each (Margin tiers page)
COLUMNS = (
    "user,coin,szi,entryPx,leverage_type,leverage_value,marginUsed,accountValue,positionValue,maxLeverage,"
    "liquidationPx,unrealizedPnl"
).split(",")


def _liq(side, q, mark, margin_available, l_rate):
    return mark - side * margin_available / q / (1.0 - l_rate * side)


def rows(seed: int = 20251010, users: int = 40, alt_users: int = 10) -> list[dict]:
    """Every row: ``users`` accounts with a BTC position (a cross one may hold ETH and SOL too), then ``alt_users``
    accounts without BTC (a cross one holds ETH, SOL or both, an isolated one ETH or SOL), drawn after the others so
    that adding them left the first ones as they were."""
    rng = np.random.default_rng(seed)
    out = []
    for u in range(users + alt_users):
        user = f"0xsim{u:04d}"
        cross = u % 3 != 0  # two in three accounts are cross
        if u < users:
            coins = ["BTC"] + ([c for c in ("ETH", "SOL") if rng.random() < 0.35] if cross else [])
        elif cross:
            coins = [c for c in ("ETH", "SOL") if rng.random() < 0.7] or ["ETH"]
        else:
            coins = ["ETH" if rng.random() < 0.5 else "SOL"]
        positions = []
        for coin in coins:
            side = 1 if rng.random() < 0.6 else -1
            lev = int(rng.choice([2, 3, 5, 10, 20, 40 if coin == "BTC" else MAX_LEV[coin]]))
            notional = 20000.0 * (1.0 - rng.random()) ** (-1.0 / 1.1)  # heavy-tailed, as real books are
            notional = min(notional, 40e6)
            entry = MARK[coin] * float(np.exp(rng.normal(0.0, 0.03)))
            q = round(notional / entry, 5 if coin == "BTC" else 3) or 0.001
            positions.append((coin, side, q, entry, lev))
        mms = {c: q * MARK[c] / (2.0 * MAX_LEV[c]) for c, _, q, _, _ in positions}
        upnl = {c: s * q * (MARK[c] - e) for c, s, q, e, _ in positions}
        im = sum(q * MARK[c] / lev for c, _, q, _, lev in positions)
        # a cross account holds spare cash beyond its margin: heavy-tailed, so a few hold many times it
        spare = im * 0.5 * ((1.0 - rng.random()) ** (-1.0 / 0.9) - 1.0)
        account = im + spare + (0.0 if cross else 0.0)
        if cross:
            account = max(account, 1.2 * sum(mms.values()) + 1.0)
        for coin, side, q, entry, lev in positions:
            mark, l_rate = MARK[coin], 1.0 / (2.0 * MAX_LEV[coin])
            if cross:
                avail = account - sum(mms.values())
                used = q * mark / lev
            else:
                used = q * entry / lev + upnl[coin]  # isolated: margin posted plus unrealised PnL
                if used <= mms[coin]:  # would already be past liquidation: post more margin
                    used = mms[coin] * 1.5
                avail = used - mms[coin]
            liq = _liq(side, q, mark, avail, l_rate)
            out.append(
                {
                    "user": user,
                    "coin": coin,
                    "szi": repr(side * q),
                    "entryPx": f"{entry:.1f}" if coin == "BTC" else f"{entry:.2f}",
                    "leverage_type": "cross" if cross else "isolated",
                    "leverage_value": lev,
                    "marginUsed": repr(round(used, 6)),
                    "accountValue": repr(round(account, 6)) if cross else repr(round(used, 6)),
                    "positionValue": repr(round(q * mark, 6)),
                    "maxLeverage": MAX_LEV[coin],
                    "liquidationPx": repr(round(liq, 6)) if liq > 0 else "",
                    "unrealizedPnl": repr(round(upnl[coin], 6)),
                }
            )
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    with open(args.out, "w", newline="") as f:
        f.write(
            "# A MADE-UP account snapshot in liqsim's snapshot format (sim/config/snapshot.py), written by\n"
            "# scenarios/data/make_hyperliquid_snapshot.py; no real user's data. Columns as Hyperliquid's info\n"
            "# endpoint names them (clearinghouseState); marks BTC 121000, ETH 4350, SOL 222. Users 0-39 hold BTC (a\n"
            "# cross one may hold ETH and SOL too), users 40-49 ETH and/or SOL only; an isolated user holds one coin.\n"
        )
        w = csv.DictWriter(f, COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows())


if __name__ == "__main__":
    main()
