"""README study (c): 10 October 2025 driven by a fundamental shock smaller than the recorded fall.

    python docs/replay_endogenous.py       # prints the Markdown table the README shows

Runs ``scenarios/replay_2025_10_10_endogenous.toml`` (the recorded BTC index path as the *fundamental value*, its
moves scaled by ``shock.move_scale``, prices formed by Binance's index venues, the perp's hedgers and arbitrageurs)
for several scales, and prints for each: the fundamental value's fall, the index's, the perp's last price's and every
spot venue's low, against the recorded ones (the coin-margined BTCUSD index of Binance, 116,617 at 20:00 UTC, low
102,497 at 21:20; Binance's 5-minute USDⓈ-M BTCUSDT klines, low 101,878 at 21:20: see
scenarios/data/derive_2025_10_10.py), the share of the recorded fall the index reproduces, what was liquidated and
the cascade multiplier. The same with the imposed model (the recorded index imposed) is the first row.
"""

import sim

SCALES = (1.0, 0.75, 0.5)
START = 116_617.07123703  # the index at 20:00 UTC, the path's first price
RECORDED_INDEX_LOW = 102_497.48513403
RECORDED_USDT_LOW = 101_877.68981743


def _pct(low):
    return 100.0 * (low / START - 1.0)


def _row(res):
    s, fb = res.summary, res.summary["feedback"]
    p = s.get("prices")
    venues = p["venues"] if p else {}
    return {
        "fundamental": fb["move_pct"]["fundamental"],
        "index": fb["move_pct"]["index"],
        "last": fb["move_pct"]["last"],
        "venues": {k: v["low_pct"] for k, v in venues.items()},
        "liquidated": s["liquidated_notional_usd"]["total"],
        "multiplier": fb["cascade_multiplier"],
    }


def _range(venues):
    if not venues:
        return "—"
    lo, hi = min(venues.values()), max(venues.values())
    return f"{lo:+.1f}% to {hi:+.1f}%".replace("-", "−")


def _f(x):
    return f"{x:+.1f}%".replace("-", "−")


def main():
    recorded = _pct(RECORDED_INDEX_LOW)
    rows = [("recorded index, imposed", _row(sim.run(sim.load_scenario("replay_2025_10_10"))))]
    for scale in SCALES:
        scn = sim.load_scenario("replay_2025_10_10_endogenous", overrides={"shock.move_scale": scale})
        rows.append((f"endogenous, fundamental × {scale:g}", _row(sim.run(scn))))
    print("| run | fundamental low | index low | share of the recorded fall | perp last low | spot venues' lows "
          "| liquidated | cascade multiplier |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| 10 Oct 2025, recorded | — | {_f(recorded)} | 100% | {_f(_pct(RECORDED_USDT_LOW))} (USDT klines) | — | "
          "$19B all venues | — |")  # fmt: skip
    for name, r in rows:
        mult = "—" if r["multiplier"] is None else f"{r['multiplier']:.2f}×"
        print(
            f"| {name} | {_f(r['fundamental'])} | {_f(r['index'])} | {r['index'] / recorded:.0%} | {_f(r['last'])} | "
            f"{_range(r['venues'])} | ${r['liquidated'] / 1e9:.2f}B | {mult} |"
        )


if __name__ == "__main__":
    main()
