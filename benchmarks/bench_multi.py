"""Several markets with cross accounts across them: the multi-asset crash at 1M accounts over 3 instruments.

    python benchmarks/bench_multi.py                   # 1M accounts, each holding BTC, ETH and SOL
    python benchmarks/bench_multi.py --accounts 100000 --repeats 3

Prints one JSON document on stdout; progress notes go to stderr. In one process, after a first run that compiles or
loads the kernels: three Binance markets (BTC, ETH, SOL; the default flash crash's population, book and 300 s, the
index falling 8%, 14% and 22%), every trader row of each market in a cross account holding one row of each market
(``--accounts`` accounts, so 3 × that many rows), run by :func:`sim.multi.simulate_markets` ``--repeats`` times.
``simulate_s`` is the median of the runs (the markets' allocation, the lockstep loop, the account layer and the
wrap); building the populations (``prepare_s``) is apart; ``phases_s`` the median of each part of a run
(``simulate_markets(timings=...)``: start, loops, layer, python, end). Target (issue: accounts across instruments)
≤ 1.5 s.

A run writes about 1 GB of memory it has not touched before (the global position table, the account layer's
arrays, the band index, the fills and the account tables at the end). On the virtual machines this was developed
on, the host takes memory back about 2 s after the guest frees it, and writing such memory again costs 2.4 s per
GB instead of 0.2 s: ``fresh_gb_s`` measures it before the runs. ``--touch-gb 3`` writes 3 GB just before each
timed run, so that the run's first writes land on memory the host still backs: the run's own cost, as on a
machine that keeps memory.
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGET_S = 1.5
MARKETS = (
    ("BTC", "BTCUSDT", 121000.0, 0.001, -8.0, 1.0),
    ("ETH", "ETHUSDT", 4000.0, 0.01, -14.0, 1.6),
    ("SOL", "SOLUSDT", 200.0, 0.1, -22.0, 2.4),
)


def note(msg):
    print(f"[bench_multi] {msg}", file=sys.stderr, flush=True)


def fresh_gb_s():
    """Seconds to write 1 GB of memory the process has not touched, after 3 s idle: on a virtual machine whose
    host takes freed memory back, far more than the write itself, and a run pays it for every byte it touches
    first."""
    time.sleep(3.0)
    t = time.perf_counter()
    np.ones(125_000_000).sum()
    return time.perf_counter() - t


def build(n_accounts):
    """Three markets' inputs and every trader row in a three-row cross account."""
    import sim
    from sim import enums as E
    from sim.engine import prepare

    inputs = []
    for k, (asset, symbol, price, lot, drop, _) in enumerate(MARKETS):
        over = {
            "market.asset": asset,
            "market.symbol": symbol,
            "market.start_price_usd": price,
            "market.lot_size": lot,
            "shock.size_pct": drop,
            "scenario.seed": k,
            "population.n_positions": n_accounts,
            "population.cross_share": 0.0,
            "stops.share": 0.0,
            "topups.share": 0.0,
        }
        inputs.append(prepare(sim.load_scenario(None, overrides=over)))
    n = min(int(np.sum(inp.pos_kind == E.TRADER)) for inp in inputs)
    accts = []
    for inp in inputs:
        a = np.full(inp.pos_kind.size, -1, np.int64)
        a[np.flatnonzero(inp.pos_kind == E.TRADER)[:n]] = np.arange(n)
        accts.append(a)
    return inputs, accts, n


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--accounts", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument(
        "--touch-gb",
        type=float,
        default=0.0,
        help="write this many GB of fresh memory and free it just before each timed run (see the module docstring)",
    )
    args = ap.parse_args(argv)
    from sim import enums as E
    from sim.multi import simulate_markets

    out = {"load_average_start": os.getloadavg(), "accounts": args.accounts}
    t = time.perf_counter()
    inputs, accts, n = build(args.accounts)
    out["prepare_s"] = time.perf_counter() - t
    out["accounts_built"] = n
    weight = [w for *_, w in MARKETS]
    note(f"built 3 markets of {args.accounts} positions in {out['prepare_s']:.1f} s; first run (compiles) ...")
    first = simulate_markets(inputs, accts, E.ACCT_CROSS, weight=weight)
    times = []
    phases = []
    out["fresh_gb_s"] = fresh_gb_s()
    for r in range(args.repeats):
        if args.touch_gb > 0:
            np.ones(int(args.touch_gb * 1.25e8)).sum()
        phases.append({})
        t = time.perf_counter()
        res = simulate_markets(inputs, accts, E.ACCT_CROSS, weight=weight, timings=phases[-1])
        times.append(time.perf_counter() - t)
        note(f"run {r + 1}: {times[-1]:.3f} s")
    ca = res.accounts
    out["simulate_s"] = statistics.median(times)
    out["all_s"] = times
    out["phases_s"] = {k: statistics.median(p[k] for p in phases) for k in phases[0]}  # sim.multi: where it went
    out["rounds"] = int(res.rounds)
    out["accounts_liquidated"] = int(ca.n[5])
    out["rows_forced"] = int(ca.n[6])
    out["reallocations"] = int(ca.n[4])
    out["liquidated_usd"] = {
        asset: float(
            r.fills["qty"][np.isin(r.fills["kind"], (E.LIQUIDATION, E.PARTIAL, E.TAKEOVER))]
            @ r.fills["price"][np.isin(r.fills["kind"], (E.LIQUIDATION, E.PARTIAL, E.TAKEOVER))]
        )
        for (asset, *_), r in zip(MARKETS, res.markets)
    }
    out["same_as_first_run"] = all(a.fills.tobytes() == b.fills.tobytes() for a, b in zip(first.markets, res.markets))
    out["target"] = {"simulate_s": TARGET_S, "met": out["simulate_s"] <= TARGET_S}
    out["load_average_end"] = os.getloadavg()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
