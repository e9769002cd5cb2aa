"""The text the command line prints when a command is done: the calculator's answer, a run's summary and a
comparison's table. Each function returns the text; :mod:`sim.cli`, the only module that prints, prints it."""


def _calc_text(res):
    """The calculator's answer as a few aligned lines."""

    def usd(x):
        if x is None:
            return "none"
        return f"{x:,.2f}" if x == 0 or abs(x) >= 1 else f"{x:.6g}"  # small prices keep their digits

    lev = f" {res['leverage']:.4g}x" if res["leverage"] is not None else ""
    rows = [
        ("position", f"{res['side']} {res['size']:g} {res['asset']} at {usd(res['entry'])}, {res['mode']}{lev}"),
        ("venue", f"{res['venue']}, rules of {res['version']}"),
    ]
    if res["liquidated_at_any_price"]:
        rows.append(
            (
                "liquidation price",
                "0.00: liquidated at any price (the equity is at or below the maintenance margin even at a price of 0)",
            )
        )
    elif res["liquidation_price"] is None:
        rows.append(("liquidation price", "none: not liquidated at any positive price"))
    else:
        fee = res["trigger_mmr_pct"] - res["mmr"]
        where = "on the entry value" if res["margin_basis"] == "entry" else "at the liquidation price"
        tier = "one tier (--mmr)" if res["tier"] is None else f"tier {res['tier']}"
        rows += [
            ("liquidation price", usd(res["liquidation_price"])),
            ("distance from entry", f"{res['distance_pct']:+.2f}%"),
            ("maintenance margin", f"{usd(res['maintenance_margin'])} USD {where}"),
            (
                "tier, MMR",
                f"{tier}, {res['mmr']:g}%" + (f" (the trigger adds the {fee:.4g}% clearance fee)" if fee else ""),
            ),
        ]
    if res["bankruptcy_price"] == 0:
        rows.append(
            ("bankruptcy price", "0.00: bankrupt at any price (the equity is at or below 0 even at a price of 0)")
        )
    else:
        rows.append(("bankruptcy price", usd(res["bankruptcy_price"])))
    if res["initial_margin"] is not None:
        rows.append(("initial margin", f"{usd(res['initial_margin'])} USD"))
    if res["below_maintenance_at_entry"] and not res["liquidated_at_any_price"]:
        rows.append(("note", "below maintenance already at the entry price: liquidated at once"))
    return "\n".join(f"  {label:<20} {value}" for label, value in rows)


def _share(x):
    return "n/a" if x is None else f"{100 * x:.0f}%"


def _money(x):
    return "n/a" if x is None else f"${x / 1e6:,.1f}M"


def _differs(a, b):
    """True when two dollar figures differ by more than the $0.1M the summary shows."""
    return a is not None and b is not None and abs(a - b) >= 5e4


def _pct(x):
    return "n/a" if x is None else f"{x:+.2f}%"


def _multi_text(res, out):
    """A run of several instruments: the totals, one line per instrument, then where the files went."""
    s, c = res.summary, res.contagion
    scn = res.scenario
    lines = [
        f"liqsim: {scn.scenario.name}: {len(res.names)} instruments, {s['n_positions']:,} positions, seed {res.seed}, "
        f"{s['runtime_s']:.2f} s; {scn.market.venue} rules ({scn.market.venue_version}), ADL {scn.adl.policy}",
        f"  liquidated   {_money(s['liquidated_usd'])}, of it cross-asset {_money(s['cross_asset_usd'])} "
        f"({100 * s['cross_asset_share']:.1f}%)"
        + (f", collateral-driven {_money(s['collateral_driven_usd'])}" if res.collateral else "")
        + f"; {c['accounts_liquidated']:,} accounts liquidated; bad debt {_money(s['bad_debt_usd'])}",
    ]
    for r in res.instruments():
        lines.append(
            f"  {r['instrument']:<12} last low {_pct(r['low_pct'])}, liquidated {_money(r['liquidated_usd'])}, "
            f"cross-asset {100 * r['cross_asset_share']:.1f}%"
            + (f", collateral-driven {_money(r['collateral_driven_usd'])}" if r["collateral_driven_usd"] > 0 else "")
        )
    lines.append(f"  written to   {out}")
    return "\n".join(lines)


def _run_text(res, out):
    """A run's headline numbers as a few aligned lines, then where the files went."""
    s = res.summary
    liq = s["liquidated_notional_usd"]
    fund = s["insurance_fund_usd"]
    amp = s["amplification"]
    lines = [
        f"liqsim: {res.scenario.scenario.name}: {s['n_positions']:,} positions, seed {res.seed}, {s['runtime_s']:.2f} s; "
        f"{res.scenario.market.venue} rules ({res.scenario.market.venue_version}), ADL {res.scenario.adl.policy}",
        f"  liquidated   {_money(liq['total'])} (long {_money(liq['long'])}, short {_money(liq['short'])}); "
        f"{s['liquidations']['full']:,} full, {s['liquidations']['partial']:,} partial, {s['waves']} wave(s)",
        f"  price        shock {_pct(s['exogenous_drawdown_pct'])}, last low {_pct(s['realized_drawdown_pct'])}"
        + (f" (amplification {amp:.2f}x)" if amp is not None else ""),
        f"  fund         {_money(fund['start'])} -> min {_money(fund['min'])} -> {_money(fund['end'])}"
        + (
            f" (at the final mark {_money(fund['end_marked'])})"
            if _differs(fund.get("end_marked"), fund["end"])
            else ""
        )
        + "; "
        f"ADL {s['adl']['count']:,} fills, {_money(s['adl']['notional_usd'])}; bad debt {_money(s['bad_debt_usd'])}",
    ]
    fb = s.get("feedback") or {}
    if fb.get("cascade_multiplier") is not None:
        moved = fb["endogenous_share_of_move"]
        lines.append(
            f"  feedback     {fb['cascade_multiplier']:.3f}x the static map ({_money(fb['static_liquidated_usd'])}); "
            f"the cascade caused {_share(fb['endogenous_share'])} of forced closes, {_share(moved['last'])} of the "
            f"last price's move, {_share(moved['mark'])} of the mark's"
        )
    b = s.get("behaviour") or {}
    if b.get("stop_fills") or b.get("topups") or b.get("funding_settlements"):
        lines.append(
            f"  traders      stops {b['stop_fills']:,} fills, {_money(b['stop_notional_usd'])}; top-ups "
            f"{b['topups']:,}, {_money(b['topup_usd'])}; funding {b['funding_settlements']} settlement(s), "
            f"traders paid {_money(b['funding_paid_by_traders_usd'])}"
        )
    if "arrivals" in b:
        lines.append(f"  arrivals     {b['arrivals']:,} positions opened, {_money(b['arrival_notional_usd'])}")
    lines.append(f"  written to   {out}")
    return "\n".join(lines)


def _compare_text(cmp, out):
    """One aligned line per run, then where the files went."""

    def gini(x):
        return "n/a" if x is None else f"{x:.2f}"

    head = ("run", "liquidated", "long", "last low", "fund min", "ADL", "overshoot", "Gini paid", "Gini side")
    rows = [
        (
            r["label"],
            _money(r["liquidated_total_usd"]),
            "n/a" if r["long_share"] is None else f"{100 * r['long_share']:.0f}%",
            _pct(r["realized_drawdown_pct"]),
            _money(r["fund_min_usd"]),
            _money(r["adl_notional_usd"]),
            "n/a" if r["adl_overshoot"] is None else f"{r['adl_overshoot']:.1f}x",
            gini(r["adl_gini_haircut_usd"]),
            gini(r["adl_gini_position_share_side"]),
        )
        for r in cmp.table()
    ]
    widths = [max(len(row[k]) for row in [head, *rows]) for k in range(len(head))]
    s = cmp.scenario
    lines = [
        f"liqsim: {s.scenario.name}: {len(rows)} runs, {s.population.n_positions:,} positions, "
        f"seed {s.scenario.seed}, {sum(r.timings['total_s'] for r in cmp.results):.2f} s"
    ]
    lines += [
        "  " + "  ".join(c.ljust(w) if k == 0 else c.rjust(w) for k, (c, w) in enumerate(zip(row, widths)))
        for row in [head, *rows]
    ]
    lines.append(f"  written to {out}")
    return "\n".join(lines)
