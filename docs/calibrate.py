"""Calibration of the endogenous price model (``prices.model = "endogenous"``) against published measures.

    python docs/calibrate.py            # the Markdown tables of docs/calibration.md (about a minute)
    python docs/calibrate.py --json     # the same numbers as JSON
    python docs/calibrate.py --quick    # fewer points and a smaller crowd (for a look, not for the page)

Two measures, both with the scenario defaults of ``[prices]`` (docs/calibration.md says where each figure comes from):

1. **Impact.** ``shock.kind = "flow"`` sells Q USD evenly over T seconds into the spot venues of Binance's index (and,
   in a second table, into the perp), with a crowd too small to liquidate anything. The index's largest move is set
   against the square-root law of metaorder impact, ``I = Y·σ·√(Q/V)``, with BTC's daily volatility σ and daily spot
   volume V of 2025. Y and V are known to a factor of about 2 to 3, so the law is a band: from ``Y = 1`` with
   ``V = $20B`` to ``Y = 3`` with ``V = $10B``. The model must lie in that band, within ``TOLERANCE``, wherever the law
   was measured: flows between a quarter of and the whole market's volume rate (participation 0.25 to 1).
2. **Realized over fundamental.** The default crash and a few other shocks are run with the calibrated defaults; the
   index's largest move over the fundamental value's (the move that would have happened with no forced flow) is set
   against the same ratio in documented liquidation events: the lowest price over the level the price settled at
   once the cascade was over. 10 October 2025 is measured here from the Binance index data shipped with liqsim.
"""

import argparse
import csv
import json
import math
import sys
from pathlib import Path

import numpy as np

import sim

ROOT = Path(__file__).resolve().parent.parent

#: BTC's daily realized volatility in 2025 (K33 Research, via Gate News, January 2026): 2.24%.
SIGMA_DAILY = 0.0224
#: BTC spot volume a day on the centralised venues, 2025: $10-20B (the middle of the range is the reference).
VOLUME_LOW_USD, VOLUME_USD, VOLUME_HIGH_USD = 10e9, 15e9, 20e9
#: The square-root law's prefactor: of order one in the literature, about 3 by Talos's published cost of a BTC order.
Y_LOW, Y_HIGH = 1.0, 3.0
#: How far outside the law's band the model may fall in the law's domain (a factor).
TOLERANCE = 1.25
#: Participation (flow over the market's volume rate) where the law is compared.
DOMAIN = (0.25, 1.0)
#: Realized over fundamental move in documented liquidation events (the range docs/calibration.md derives).
EVENT_RATIO = (2.0, 3.6)

SIZES = (10e6, 30e6, 100e6, 300e6, 1e9)
DURATIONS = (10.0, 60.0, 300.0, 900.0, 3600.0)
AFTER_S = 600.0  # how long a flow run goes on once the flow has stopped


def law_bp(q_usd, y=1.0, volume_usd=VOLUME_USD):
    """The square-root law's impact of selling ``q_usd``, in basis points."""
    return 1e4 * y * SIGMA_DAILY * math.sqrt(q_usd / volume_usd)


def band_bp(q_usd):
    """The law's band for ``q_usd``: (Y = 1 with the larger volume, Y = 3 with the smaller), basis points."""
    return law_bp(q_usd, Y_LOW, VOLUME_HIGH_USD), law_bp(q_usd, Y_HIGH, VOLUME_LOW_USD)


def participation(q_usd, duration_s):
    """The flow's rate over the market's volume rate."""
    return q_usd / duration_s / (VOLUME_USD / 86_400.0)


def in_band(q_usd, peak_bp, tolerance=TOLERANCE):
    lo, hi = band_bp(q_usd)
    return lo / tolerance <= peak_bp <= hi * tolerance


def flow(q_usd, duration_s, into="spot", **overrides):
    """Sell ``q_usd`` over ``duration_s`` into ``into``; the index's largest move, its move when the flow stops and
    ``AFTER_S`` later (basis points, positive down), and what was liquidated (USD: the crowd is kept too small to
    matter)."""
    start = 5.0
    over = {
        "prices.model": "endogenous",
        "shock.kind": "flow",
        "shock.flow_usd": -q_usd,
        "shock.flow_into": into,
        "shock.start_s": start,
        "shock.duration_s": duration_s,
        "scenario.duration_s": start + duration_s + AFTER_S,
        "population.n_positions": 200,
        "population.open_interest_usd": 1e6,
        "book.noise_rate_per_s": 0.0,
        **overrides,
    }
    res = sim.run(sim.load_scenario(None, overrides=over))
    s = res.spot_series()
    idx, t = s["index"], s["t"]
    move = lambda p: -1e4 * (p / idx[0] - 1.0)  # noqa: E731
    stop = min(int(np.searchsorted(t, start + duration_s)), idx.size - 1)
    return {
        "peak_bp": move(idx.min()),
        "end_bp": move(idx[stop]),
        "after_bp": move(idx[-1]),
        "liquidated_usd": res.summary["liquidated_notional_usd"]["total"],
    }


def impact_table(sizes=SIZES, durations=DURATIONS, **overrides):
    rows = []
    for q in sizes:
        for d in durations:
            m = flow(q, d, **overrides)
            eta = participation(q, d)
            lo, hi = band_bp(q)
            rows.append(
                {
                    "q_usd": q,
                    "t_s": d,
                    "participation": eta,
                    **m,
                    "law_bp": law_bp(q),
                    "band_bp": (lo, hi),
                    "ratio": m["peak_bp"] / law_bp(q),
                    "in_domain": DOMAIN[0] <= eta <= DOMAIN[1],
                    "in_band": in_band(q, m["peak_bp"]),
                }
            )
    return rows


def participation_lines(etas=(0.25, 1.0), sizes=(10e6, 30e6, 100e6, 300e6), **overrides):
    """Flows at a fixed participation (bigger ones last longer, as metaorders do): the model's move against the law and
    the exponent of Q fitted along each line (the law's: 1/2)."""
    out = []
    for eta in etas:
        durations = [q / (eta * VOLUME_USD / 86_400.0) for q in sizes]
        peaks = [flow(q, d, **overrides)["peak_bp"] for q, d in zip(sizes, durations)]
        slope = float(np.polyfit(np.log(sizes), np.log(peaks), 1)[0])
        out.append(
            {
                "participation": eta,
                "points": [
                    {"q_usd": q, "t_s": d, "peak_bp": p, "law_bp": law_bp(q), "in_band": in_band(q, p)}
                    for q, d, p in zip(sizes, durations, peaks)
                ],
                "exponent": slope,
            }
        )
    return out


def perp_table(sizes=(100e6, 1e9), durations=(60.0, 300.0)):
    """The same sales sent into the perp's book: they reach spot through the perp makers' hedges and the basis
    arbitrageurs."""
    return [{"q_usd": q, "t_s": d, **flow(q, d, into="perp")} for q in sizes for d in durations]


def sweeps():
    """One market order on Binance's BTC spot book alone, by the book's formula (docs/model.md §1.6): the mid moves
    ``1%·(Q/D)^(1/shape)``; and the depth the calibrated book holds within 10 bp. Against Amberdata's measures of
    BTC/FDUSD (Jul-Aug 2025): a $10M market order moves it more than 50 bp; $3.5M rests within 10 bp."""
    from sim.config.prices import PricesTable
    from sim.world.spot import DEPTH_USD

    shape, depth = PricesTable().shape, DEPTH_USD["binance"]
    return {
        "shape": shape,
        "depth_usd_1pct": depth,
        "move_10m_bp": 100.0 * (10e6 / depth) ** (1.0 / shape),
        "depth_10bp_usd": depth * 0.1**shape,
    }


def _series(name):
    rows = [r for r in open(ROOT / "scenarios" / "data" / name) if not r.startswith("#")]
    return [(int(a), float(b)) for a, b in list(csv.reader(rows))[1:]]


def events():
    """Realized over fundamental moves of documented liquidation events.

    10 October 2025, from Binance's index data in scenarios/data: the level just before the tariff post (14:55 UTC,
    the last 5-minute close before 14:57), the low, the level the price settled at (the mean from 22:00 to 23:00 UTC)
    and the time the transient took to halve after the low (the last sample below the halfway level).
    19 May 2021: the figures docs/model.md §9.3 restates (about $43.9k, a low near $30k, back to about $40k)."""
    hist, crash = _series("btc_history_2025_10_05_10.csv"), _series("btc_2025_10_10.csv")
    news = 1760108100  # 10 Oct 2025 14:55 UTC
    before = next(p for t, p in hist if t == news)
    t_low, low = min(crash, key=lambda r: r[1])
    settled = float(np.mean([p for t, p in crash if 1760133600 <= t <= 1760137200]))
    half = 0.5 * (low + settled)
    below = [t for t, p in crash if t > t_low and p < half]
    oct_2025 = {
        "event": "10 Oct 2025 (Binance BTC index)",
        "before_usd": before,
        "low_usd": low,
        "settled_usd": settled,
        "low_pct": 100 * (low / before - 1),
        "settled_pct": 100 * (settled / before - 1),
        "ratio": (low / before - 1) / (settled / before - 1),
        "half_recovery_min": ((max(below) if below else t_low) - t_low) / 60.0,
    }
    may_2021 = {"event": "19 May 2021 (press figures)", "before_usd": 43_900.0, "low_usd": 30_000.0}
    may_2021["settled_usd"] = 40_000.0
    may_2021["low_pct"] = 100 * (30_000.0 / 43_900.0 - 1)
    may_2021["settled_pct"] = 100 * (40_000.0 / 43_900.0 - 1)
    may_2021["ratio"] = may_2021["low_pct"] / may_2021["settled_pct"]
    return [oct_2025, may_2021]


SHOCKS = (
    ("default crash: -10% over 60 s", {}),
    ("-5% over 60 s", {"shock.size_pct": -5.0}),
    ("-10% gap", {"shock.kind": "gap"}),
    ("-10% over 600 s", {"shock.duration_s": 600.0, "scenario.duration_s": 900.0}),
    ("default crash, no hedgers or arbitrageurs", {"prices.hedge_share": 0.0, "prices.arb_capital_usd": 0.0}),
    ("default crash, resilience_s = 30 (the value before calibration)", {"prices.resilience_s": 30.0}),
)


def crash(n_positions, **overrides):
    """The default crash under endogenous prices: the index's move over the fundamental value's, the cascade
    multiplier, and how far the transient has decayed by the end of the run."""
    res = sim.run(
        sim.load_scenario(
            None, overrides={"prices.model": "endogenous", "population.n_positions": n_positions, **overrides}
        )
    )
    f = res.summary["feedback"]
    idx = res.spot_series()["index"]
    return {
        "fundamental_pct": f["move_pct"]["fundamental"],
        "index_pct": f["move_pct"]["index"],
        "ratio": f["move_pct"]["index"] / f["move_pct"]["fundamental"],
        "cascade_multiplier": f["cascade_multiplier"],
        "end_pct": 100 * (idx[-1] / idx[0] - 1),
    }


def crash_table(n_positions):
    return [{"shock": name, **crash(n_positions, **over)} for name, over in SHOCKS]


def compute(quick=False):
    sizes, durations = ((10e6, 100e6, 1e9), (60.0, 300.0, 3600.0)) if quick else (SIZES, DURATIONS)
    return {
        "inputs": {
            "sigma_daily": SIGMA_DAILY,
            "volume_usd": [VOLUME_LOW_USD, VOLUME_USD, VOLUME_HIGH_USD],
            "y": [Y_LOW, Y_HIGH],
            "tolerance": TOLERANCE,
            "domain": list(DOMAIN),
            "event_ratio": list(EVENT_RATIO),
        },
        "impact": impact_table(sizes, durations),
        "lines": participation_lines(),
        "perp": perp_table(),
        "sweeps": sweeps(),
        "events": events(),
        "crash": crash_table(3000 if quick else 20_000),
    }


def _m(x):
    return f"${x / 1e9:g}B" if x >= 1e9 else f"${x / 1e6:g}M"


def _t(s):
    return f"{s / 60:g} min" if s >= 60 else f"{s:g} s"


def markdown(r):
    out = ["### Impact of a sale into the spot venues", ""]
    out.append(
        "| Q | T | participation | peak (bp) | at the flow's end | 10 min later | law, Y = 1 (bp) | band (bp) "
        "| peak / law | in the law's domain | in the band |"
    )
    out.append("|---|---|---|---|---|---|---|---|---|---|---|")
    for x in r["impact"]:
        lo, hi = x["band_bp"]
        dom = "yes" if x["in_domain"] else "no"
        ok = ("yes" if x["in_band"] else "**no**") if x["in_domain"] else ("yes" if x["in_band"] else "no")
        out.append(
            f"| {_m(x['q_usd'])} | {_t(x['t_s'])} | {x['participation']:.2g} | {x['peak_bp']:.1f} "
            f"| {x['end_bp']:.1f} | {x['after_bp']:.1f} | {x['law_bp']:.1f} | {lo:.1f}–{hi:.1f} | {x['ratio']:.2f} "
            f"| {dom} | {ok} |"
        )
    out += ["", "### At a fixed participation (larger sales last longer)", ""]
    out.append("| participation | Q: peak (bp) / law's band (bp) | fitted exponent of Q (law: 0.5) |")
    out.append("|---|---|---|")
    for line in r["lines"]:
        pts = "; ".join(
            f"{_m(p['q_usd'])} over {_t(p['t_s'])}: {p['peak_bp']:.1f} / {band_bp(p['q_usd'])[0]:.1f}–"
            f"{band_bp(p['q_usd'])[1]:.1f}"
            for p in line["points"]
        )
        out.append(f"| {line['participation']:g} | {pts} | {line['exponent']:.2f} |")
    out += ["", "### The same sales into the perp", ""]
    out.append("| Q | T | index peak (bp) | at the flow's end | 10 min later |")
    out.append("|---|---|---|---|---|")
    for x in r["perp"]:
        out.append(
            f"| {_m(x['q_usd'])} | {_t(x['t_s'])} | {x['peak_bp']:.1f} | {x['end_bp']:.1f} | {x['after_bp']:.1f} |"
        )
    w = r["sweeps"]
    out += ["", "### One market order on Binance's book alone (the book's formula)", ""]
    out.append("| | calibrated book | Amberdata, BTC/FDUSD, Jul–Aug 2025 |")
    out.append("|---|---|---|")
    out.append(f"| a $10M market order moves the mid | {w['move_10m_bp']:.0f} bp | more than 50 bp |")
    out.append(f"| depth within 10 bp | ${w['depth_10bp_usd'] / 1e6:.1f}M | $3.5M |")
    out += ["", "### Documented events: the low over the level the price settled at", ""]
    out.append("| event | before | low | settled | low (%) | settled (%) | ratio | transient halved in |")
    out.append("|---|---|---|---|---|---|---|---|")
    for e in r["events"]:
        half = f"{e['half_recovery_min']:.1f} min" if "half_recovery_min" in e else "—"
        out.append(
            f"| {e['event']} | {e['before_usd']:,.0f} | {e['low_usd']:,.0f} | {e['settled_usd']:,.0f} "
            f"| {e['low_pct']:.1f} | {e['settled_pct']:.1f} | {e['ratio']:.2f} | {half} |"
        )
    out += ["", "### Realized over fundamental, endogenous prices", ""]
    out.append("| shock | fundamental (%) | index low (%) | ratio | cascade multiplier | index at the end (%) |")
    out.append("|---|---|---|---|---|---|")
    for c in r["crash"]:
        out.append(
            f"| {c['shock']} | {c['fundamental_pct']:.1f} | {c['index_pct']:.1f} | {c['ratio']:.2f} "
            f"| {c['cascade_multiplier']:.2f} | {c['end_pct']:.1f} |"
        )
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print JSON instead of Markdown")
    ap.add_argument("--quick", action="store_true", help="fewer points and a smaller crowd")
    a = ap.parse_args(argv)
    r = compute(a.quick)
    sys.stdout.write((json.dumps(r, indent=1, default=float) if a.json else markdown(r)) + "\n")


if __name__ == "__main__":
    main()
