"""The README's check of the 10 October 2025 replay: who was deleveraged and when, against the public record.

    python docs/replay_check.py            # prints the Markdown table the README shows

Runs the shipped replay (``scenarios/replay_2025_10_10.toml``: entries along the recorded history with the survival
screen, heavy-tailed cross accounts) with arrivals at the calibrated rate, under Binance's rules (the replay's venue)
and under Hyperliquid's (the venue whose ADL is publicly reconstructed), and prints, for each: liquidated notional and
its long share; ADL notional, the deficit it covered and both overshoots (notional closed and winners' profit taken,
per dollar of deficit); the ADL'd accounts' effective leverage just before their first ADL fill (position × mark /
equity: median, 95th and 99th percentile); the share of the ADL notional borne by the largest 1% of them; and when
ADL started, relative to the first liquidation and to the last price's low.
"""

import numpy as np

import sim
from sim.enums import ADL, LIQUIDATION, PARTIAL, TAKEOVER, TRADER
from sim.metrics import adl_table

ARRIVALS = {"arrivals.rate_pct_per_h": 0.25}


def _check(venue):
    res = sim.run(sim.load_scenario("replay_2025_10_10", overrides={"market.venue": venue, **ARRIVALS}))
    s, fills, acc = res.summary, res.fills, res.accounts
    table = adl_table(fills, acc)
    table = table[table["kind"] == TRADER]
    adl = fills[fills["kind"] == ADL]
    row_of = {int(a): i for i, a in enumerate(acc["id"])}
    lev = []
    for r in table:
        first = adl[adl["account"] == r["account"]][0]
        q0 = abs(acc["position_start"][row_of[int(r["account"])]])
        if r["equity_before_usd"] > 0:
            lev.append(q0 * first["mark"] / r["equity_before_usd"])
    lev = np.array(lev)
    notional = np.sort(table["notional_usd"])[::-1]
    top = max(1, int(round(0.01 * notional.size)))
    forced = fills[np.isin(fills["kind"], (LIQUIDATION, PARTIAL, TAKEOVER))]
    t_low = float(res.series["t"][np.nanargmin(res.series["last"])])
    a = s["adl"]
    return {
        "liquidated": s["liquidated_notional_usd"]["total"],
        "long_share": s["long_share_of_liquidated"],
        "adl_usd": a["notional_usd"],
        "adl_fills": a["count"],
        "adl_accounts": int(table.size),
        "deficit": a["deficit_covered_usd"],
        "overshoot": a["overshoot"],
        "overshoot_profit": a.get("overshoot_profit"),
        "lev": np.percentile(lev, [50, 95, 99]) if lev.size else None,
        "top1": float(notional[:top].sum() / notional.sum()) if notional.size else None,
        "adl_after_first_liq_s": float(adl["t"][0] - forced["t"][0]) if adl.size and forced.size else None,
        "adl_vs_low_s": float(adl["t"][0] - t_low) if adl.size else None,
    }


def _usd(x):
    return "n/a" if x is None else (f"${x / 1e9:.2f}B" if abs(x) >= 1e9 else f"${x / 1e6:.1f}M")


def main():
    runs = {v: _check(v) for v in ("binance", "hyperliquid")}

    def row(name, fact, fmt):
        print(f"| {name} | {fact} | " + " | ".join(fmt(r) for r in runs.values()) + " |")

    print("| | 10 Oct 2025 (public record) | replay, Binance rules | replay, Hyperliquid rules |")
    print("|---|---|---:|---:|")
    row(
        "liquidated (long share)",
        "$19B all venues, 84–91% longs",
        lambda r: f"{_usd(r['liquidated'])} ({r['long_share']:.0%})",
    )
    row(
        "ADL notional (fills, accounts)",
        "Hyperliquid: $2.10B in 34,983 fills, 302+ accounts",
        lambda r: f"{_usd(r['adl_usd'])} ({r['adl_fills']:,}, {r['adl_accounts']:,})",
    )
    row("deficit ADL covered", "Hyperliquid: $23M of negative equity", lambda r: _usd(r["deficit"]))
    row(
        "overshoot: notional / profit taken per $ of deficit",
        "Hyperliquid: ~90× notional",
        lambda r: "n/a" if r["overshoot"] is None else f"{r['overshoot']:.0f}× / {r['overshoot_profit']:.1f}×",
    )
    row(
        "ADL'd accounts' leverage before ADL (median, p95, p99)",
        "Hyperliquid: 0.20×, 5.1×, 123× (per fill)",
        lambda r: "n/a" if r["lev"] is None else ", ".join(f"{x:.2g}×" for x in r["lev"]),
    )
    row(
        "largest 1% of ADL'd accounts' share of ADL notional",
        "most of it",
        lambda r: "n/a" if r["top1"] is None else f"{r['top1']:.0%}",
    )
    row(
        "first ADL after the first liquidation / after the last price's low",
        "Hyperliquid: 62 s after the first liquidation",
        lambda r: (
            "n/a"
            if r["adl_after_first_liq_s"] is None
            else f"{r['adl_after_first_liq_s']:,.0f} s / {r['adl_vs_low_s']:+,.0f} s".replace("-", "−")
        ),
    )


if __name__ == "__main__":
    main()
