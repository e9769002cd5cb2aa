"""The picture of one cascade under several venues' rules or ADL policies (``liqsim compare``).

Across venues the cascade itself differs, so the four panels follow it: cumulative liquidations, longs against
shorts, the last price against each run's index, and who paid (fund and ADL). Across ADL policies on one venue the
cascade is usually the same in every run (ADL closes winners against bankrupt positions away from the book, so
prices, liquidations and the fund do not move), and only who pays differs; the panels then show that: how much of
each holder's position ADL closed, how concentrated the haircut was, at what leverage the payers stood, and the
cascade once, with a note saying whether it was the same in every run.

Runs are told apart by colour and by line style and marker, so two runs that print the same curve (Binance and Bybit
often do) still show as two lines.
"""

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, LogLocator

from sim import metrics
from sim.enums import ADL, TRADER
from sim.report.legends import place_legends
from sim.report.plotkit import (
    _get,
    _price_formatter,
    _style,
    _summary,
    _usd,
    fmt_pct,
    plain_log_ticks,
    scenario_name,
    shock_label,
)
from sim.report.timeaxis import time_axis, time_window

#: One colour per venue, kept in every panel and every comparison picture.
VENUE_COLORS = {"binance": "#d4a000", "bybit": "#1f77b4", "okx": "#333333", "hyperliquid": "#17a398", "dydx": "#6b4fbb"}
#: Line style and marker of each venue: runs that draw the same curve stay apart.
VENUE_LINES = {
    "binance": ("-", "o"),
    "bybit": ("--", "s"),
    "okx": ("-.", "^"),
    "hyperliquid": (":", "D"),
    "dydx": ("-", "v"),
}
#: Colours of the ADL policies when a comparison holds one venue only.
POLICY_COLORS = {"venue_queue": "#4c72b0", "pro_rata": "#55a868", "leverage_drain": "#c44e52"}
#: Line styles, bar hatches and markers of the ADL policies.
POLICY_STYLES = {"venue_queue": ("-", None, "o"), "pro_rata": ("--", "//", "s"), "leverage_drain": (":", "..", "^")}
_SPARE_COLORS = ("#e377c2", "#8c564b", "#bcbd22", "#9467bd", "#7f7f7f")
_SPARE_LINES = (("-", "o"), ("--", "s"), ("-.", "^"), (":", "D"), ("-", "v"))

COMPARISON_FIGSIZE = (14.0, 8.0)  # inches; 1680 x 960 px at COMPARISON_DPI
COMPARISON_DPI = 120


def _policies_only(venues, policies):
    return len(set(venues)) == 1 and len(set(policies)) > 1


def _run_styles(venues, policies):
    """Per run: ``(colour, line style, hatch, marker, line width)``.

    The colour, line style and marker follow the venue (the policy when one venue is compared across policies);
    when venues and policies both vary, the line style and the bars' hatch follow the policy. Earlier runs are drawn
    wider, so a later run on the same curve shows on top of them.
    """
    by_policy = _policies_only(venues, policies)
    both = not by_policy and len(set(policies)) > 1
    spare_colors, spare_lines = iter(_SPARE_COLORS * 4), iter(_SPARE_LINES * 4)
    palette, lines, out = {}, {}, []
    for i, (venue, policy) in enumerate(zip(venues, policies)):
        key = policy if by_policy else venue
        if key not in palette:
            palette[key] = (POLICY_COLORS if by_policy else VENUE_COLORS).get(key) or next(spare_colors)
            known = (POLICY_STYLES[key][0], POLICY_STYLES[key][2]) if by_policy and key in POLICY_STYLES else None
            lines[key] = known or (None if by_policy else VENUE_LINES.get(key)) or next(spare_lines)
        ls, marker = lines[key]
        policy_ls, hatch, _ = POLICY_STYLES.get(policy, ("-", None, None))
        width = 3.2 - 1.6 * i / max(1, len(venues) - 1)
        out.append((palette[key], policy_ls if both else ls, hatch if both else None, marker, width))
    return out


def _line(ax, x, y, style, label=None, markers=True, order=0, **kw):
    color, ls, _, marker, width = style
    ax.plot(
        x,
        y,
        color=color,
        ls=ls,
        lw=width,
        marker=marker if markers else None,
        ms=5,
        markevery=(0.02 * order, 0.1),
        mec="white",
        mew=0.5,
        label=label,
        zorder=2 + 0.1 * order,
        **kw,
    )


def _gini(x):
    return "n/a" if x is None else f"{x:.2f}"


def _signed_usd(x):
    return "n/a" if x is None else ("+" if x >= 0 else "−") + _usd(abs(x))


def _usd_axis(ax):
    ax.yaxis.set_major_formatter(FuncFormatter(lambda x, _pos: _usd(x) if x else "0"))


def _extremes_note(rows, key):
    vals = [(r[key], r["label"]) for r in rows if r.get(key) is not None]
    if not vals:
        return "n/a"
    (lo, lo_label), (hi, hi_label) = min(vals), max(vals)
    if _usd(lo) == _usd(hi):
        return f"{_usd(lo)} in every run"
    return f"{_usd(lo)} ({lo_label}) to {_usd(hi)} ({hi_label})"


# --------------------------------------------------------------------------------------------
# Panels across venues


def _plot_cumulative(ax, results, labels, styles, window):
    for i, (res, label, style) in enumerate(zip(results, labels, styles)):
        s = res.series
        total = _get(_summary(res), "liquidated_notional_usd", "total")
        _line(ax, s["t"], s["liquidated_notional_usd"], style, f"{label}: {_usd(total)}", order=i)
    time_axis(ax, window)
    ax.set_ylim(bottom=0)
    _usd_axis(ax)
    ax.set_ylabel("liquidated notional, cumulative (USD)")
    ax.legend(fontsize=9, framealpha=0.9)
    _style(ax)


def _plot_sides(ax, rows, styles):
    x = np.arange(len(rows))
    width = 0.38
    for i, (row, style) in enumerate(zip(rows, styles)):
        color, hatch = style[0], style[2]
        for dx, key, alpha, h in (
            (-width / 2, "liquidated_long_usd", 0.95, hatch),
            (width / 2, "liquidated_short_usd", 0.35, "xx"),
        ):
            value = row.get(key) or 0.0
            ax.bar(x[i] + dx, value, width, color=color, alpha=alpha, hatch=h, edgecolor="white" if h else color)
            ax.annotate(
                _usd(value),
                (x[i] + dx, value),
                xytext=(0, 2),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=8,
            )
    _bar_axis(ax, rows, styles)
    ax.margins(y=0.3)
    ax.set_ylabel("liquidated notional (USD)")
    ax.legend(
        handles=[
            Patch(color="0.45", label="longs liquidated"),
            Patch(facecolor="0.45", alpha=0.35, hatch="xx", edgecolor="white", label="shorts liquidated"),
        ],
        ncol=2,
        fontsize=9,
        framealpha=0.9,
    )


def _bar_axis(ax, rows, styles):
    ax.set_xticks(
        np.arange(len(rows)),
        [r["label"] for r in rows],
        fontsize=9,
        rotation=20 if len(rows) > 4 else 0,
        ha="right" if len(rows) > 4 else "center",
    )
    for tick, style in zip(ax.get_xticklabels(), styles):
        tick.set_color(style[0])
    ax.margins(y=0.15)
    _usd_axis(ax)
    _style(ax)


def _plot_last(ax, results, labels, styles, window, same=False):
    """Last price per run against its index (dotted); ``same``: the runs' prices are one, drawn once."""
    arrays = []
    shown = results[:1] if same else results
    for i, (res, label, style) in enumerate(zip(shown, labels, styles)):
        s = res.series
        color = "0.25" if same else style[0]
        ax.plot(s["t"], s["index"], color=color, ls=":", lw=1.1, alpha=0.8)
        low = _summary(res).get("min_last_price")
        pct = _summary(res).get("realized_drawdown_pct")
        name = "every run" if same else label
        text = f"{name}: low {'n/a' if low is None else f'{low:,.0f}'} ({fmt_pct(pct)})"
        if same:
            ax.plot(s["t"], s["last"], color="0.25", lw=1.6, label=text)
        else:
            _line(ax, s["t"], s["last"], style, text, order=i)
        last = np.asarray(s["last"], dtype=float)
        if np.isfinite(last).any():
            k = int(np.nanargmin(last))
            ax.plot([s["t"][k]], [last[k]], ls="none", marker="v", ms=9, color=color, mec="black", mew=0.6, zorder=5)
        arrays += [s["index"], s["last"]]
    ax.plot([], [], color="0.45", ls=":", lw=1.1, label="index (dotted)" + ("" if same else ", per run"))
    time_axis(ax, window)
    if arrays:
        ax.yaxis.set_major_formatter(_price_formatter(*arrays))
    ax.set_ylabel("last price (USD)")
    ax.legend(fontsize=9, framealpha=0.9)
    _style(ax)


def _plot_who_paid(ax, rows, styles):
    """Fund drawdown and ADL notional per run on a log scale (they differ by orders of magnitude)."""
    x = np.arange(len(rows))
    width = 0.38
    amounts = []
    for i, (row, style) in enumerate(zip(rows, styles)):
        color, hatch = style[0], style[2]
        start, low = row.get("fund_start_usd"), row.get("fund_min_usd")
        drawdown = max(0.0, start - low) if start is not None and low is not None else 0.0
        adl = row.get("adl_notional_usd") or 0.0
        for dx, value, alpha in ((-width / 2, drawdown, 0.45), (width / 2, adl, 0.95)):
            if value > 0:
                ax.bar(x[i] + dx, value, width, color=color, alpha=alpha, hatch=hatch, edgecolor="white")
        over, gini = row.get("adl_overshoot"), row.get("adl_gini_haircut_usd")
        end = row.get("fund_end_marked_usd")
        change = None if end is None or start is None else end - start
        amounts.append(
            (
                drawdown,
                adl,
                "\n".join(
                    (
                        f"fund low −{_usd(drawdown)}",
                        f"fund end {_signed_usd(change)}",
                        f"ADL {_usd(adl)}",
                        f"haircut {_usd(row.get('adl_haircut_usd'))}",
                        f"overshoot {'n/a' if over is None else f'{over:.1f}x'}",
                        f"Gini {_gini(gini)} ($)",
                        f"Gini {_gini(row.get('adl_gini_contracts'))} (qty)",
                    )
                ),
            )
        )
    positive = [v for d, a, _ in amounts for v in (d, a) if v > 0]
    floor = 10 ** np.floor(np.log10(min(positive) / 3)) if positive else 1e3
    top = max(positive) if positive else 1e4
    ax.set_yscale("log")
    for i, (drawdown, adl, note) in enumerate(amounts):
        ax.annotate(
            note,
            (x[i], max(drawdown, adl, floor)),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=7.5 if len(rows) <= 4 else 7,  # five notes side by side must not touch
            linespacing=1.1,
        )
    _bar_axis(ax, rows, styles)
    ax.set_ylim(floor, top * 150)  # _bar_axis sets margins; keep the room the notes need
    ax.yaxis.set_major_locator(LogLocator(base=10))
    ax.set_ylabel("USD (log scale)")


# --------------------------------------------------------------------------------------------
# Panels across ADL policies: who paid


def _adl_tables(results):
    """Each run's ADL table, trader accounts only (the synthetic residual counterparty stands for many)."""
    return [t[t["kind"] == TRADER] for t in (metrics.adl_table(res.fills, res.accounts) for res in results)]


def _paid_side(tables):
    sides = np.concatenate([t["position_side"] for t in tables]) if tables else np.zeros(0)
    sides = sides[sides != 0]
    return int(np.sign(np.sum(sides))) if len(sides) else 0


def _plot_position_closed(ax, results, tables, labels, styles):
    """Every holder of the deleveraged side, ranked by the share of its position ADL closed."""
    side = _paid_side(tables)
    drawn = False
    for i, (res, table, label, style) in enumerate(zip(results, tables, labels, styles)):
        acc = res.accounts
        holders = acc[(acc["kind"] == TRADER) & (np.sign(acc["position_start"]) == side)] if side else acc[:0]
        if not len(holders) or not len(table):
            continue
        share = np.zeros(len(holders))
        where = np.searchsorted(holders["id"], table["account"])
        ok = (where < len(holders)) & (holders["id"][np.minimum(where, len(holders) - 1)] == table["account"])
        share[where[ok]] = np.nan_to_num(table["position_share"][ok])
        share = np.sort(np.clip(100.0 * share, 0.0, 100.0))[::-1]
        rank = 100.0 * (np.arange(len(share)) + 0.5) / len(share)
        touched = 100.0 * np.count_nonzero(share > 0) / len(share)
        text = f"{label}: {np.count_nonzero(share > 0):,} of {len(share):,} ({touched:.0f}%) deleveraged"
        _line(ax, rank, share, style, text, order=i, drawstyle="steps-mid")
        drawn = True
    if drawn:
        ax.set_xlim(0, 100)
        ax.set_ylim(-2, 110)
        ax.legend(fontsize=9, framealpha=0.9)
    else:
        ax.text(0.5, 0.5, "no ADL", transform=ax.transAxes, ha="center", va="center", color="0.4")
    who = {1: "long", -1: "short"}.get(side, "")
    ax.set_xlabel(f"{who} holders, ranked by the share closed (% of the side's trader accounts)")
    ax.set_ylabel("position closed by ADL (%)")
    _style(ax)


def _plot_adl_concentration(ax, tables, labels, styles):
    """Share of the ADL haircut (or, without one, of the contracts) borne by the k hardest-hit trader accounts."""
    drawn = False
    what = "haircut"
    if all(np.maximum(t["haircut_usd"], 0.0).sum() <= 0 for t in tables):
        what = "contracts"
    for i, (table, label, style) in enumerate(zip(tables, labels, styles)):
        paid = np.maximum(table["haircut_usd"], 0.0) if what == "haircut" else table["contracts"]
        if len(paid) == 0 or paid.sum() <= 0:
            continue
        share = 100.0 * np.cumsum(np.sort(paid)[::-1]) / paid.sum()
        g = metrics.gini(paid)
        _line(ax, np.arange(1, len(share) + 1), share, style, f"{label}: Gini {_gini(g)}", order=i)
        drawn = True
    if drawn:
        ax.set_xscale("log")
        plain_log_ticks(ax.xaxis)
        ax.legend(fontsize=9, framealpha=0.9)
    else:
        ax.text(0.5, 0.5, "no ADL", transform=ax.transAxes, ha="center", va="center", color="0.4")
    ax.set_ylim(0, 102)
    ax.set_xlabel("ADL'd trader accounts, hardest hit first (count, log scale)")
    ax.set_ylabel(f"share of the ADL {what} (%)")
    _style(ax)
    return what


def adl_leverage(result, table):
    """Leverage of each ADL'd account of ``table`` just before its first ADL fill: |position| × mark / equity, from
    the tape (its position at the start plus its fills before that one); NaN where its equity was not positive."""
    fills, acc = result.fills, result.accounts
    if not len(table) or not len(acc):
        return np.full(len(table), np.nan)
    ids = table["account"]
    adl = fills["kind"] == ADL
    first = np.full(len(ids), len(fills))
    rows = np.flatnonzero(adl)
    pos_of = np.searchsorted(ids, fills["account"][rows])
    hit = (pos_of < len(ids)) & (ids[np.minimum(pos_of, len(ids) - 1)] == fills["account"][rows])
    np.minimum.at(first, pos_of[hit], rows[hit])
    where = np.searchsorted(acc["id"], ids)
    position = acc["position_start"][np.minimum(where, len(acc) - 1)].astype(float)
    mine = np.searchsorted(ids, fills["account"])
    mine_ok = (mine < len(ids)) & (ids[np.minimum(mine, len(ids) - 1)] == fills["account"])
    before = mine_ok & (np.arange(len(fills)) < first[np.minimum(mine, len(ids) - 1)])
    np.add.at(position, mine[before], (fills["side"][before] * fills["qty"][before]).astype(float))
    mark = fills["mark"][np.minimum(first, len(fills) - 1)]
    equity = table["equity_before_usd"]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(equity > 0, np.abs(position) * mark / equity, np.nan)


def _plot_paid_by_leverage(ax, results, tables, labels, styles):
    """Cumulative share of the haircut paid by the ADL'd accounts up to each leverage."""
    drawn = False
    for i, (res, table, label, style) in enumerate(zip(results, tables, labels, styles)):
        lev = adl_leverage(res, table)
        paid = np.maximum(table["haircut_usd"], 0.0)
        keep = np.isfinite(lev) & (lev > 0) & (paid > 0)
        if not keep.any():
            continue
        order = np.argsort(lev[keep], kind="stable")
        x, w = lev[keep][order], paid[keep][order]
        share = 100.0 * np.cumsum(w) / w.sum()
        median = x[np.searchsorted(share, 50.0)]
        _line(ax, x, share, style, f"{label}: half the haircut paid above {median:.1f}×", order=i)
        drawn = True
    if drawn:
        ax.set_xscale("log")
        plain_log_ticks(ax.xaxis, "×")
        ax.legend(fontsize=9, framealpha=0.9)
    else:
        ax.text(0.5, 0.5, "no ADL", transform=ax.transAxes, ha="center", va="center", color="0.4")
    ax.set_ylim(0, 102)
    ax.set_xlabel("leverage just before ADL (|position| × mark / equity, log scale)")
    ax.set_ylabel("share of the haircut paid at or below it (%)")
    _style(ax)


def same_cascade(results, rtol=1e-9):
    """True when every run printed the same prices, liquidations and fund balance (to float rounding)."""
    first = results[0].series
    for res in results[1:]:
        s = res.series
        if len(s) != len(first):
            return False
        for key in ("index", "mark", "last", "fund_balance", "liquidated_notional_usd"):
            if not np.allclose(s[key], first[key], rtol=rtol, atol=1e-6, equal_nan=True):
                return False
    return True


# --------------------------------------------------------------------------------------------
# The figure


def comparison_title(comparison):
    """The head line: scenario (with its overrides), shock, seed and what varies across the runs."""
    results = list(comparison.results)
    base = getattr(comparison, "scenario", None)
    scn = base if base is not None else (getattr(results[0], "scenario", None) if results else None)
    head = scenario_name(scn, "liqsim comparison")
    shock = getattr(scn, "shock", None)
    if shock is not None:
        head += f"  ·  shock: {shock_label(shock)}"
    if results:
        head += f"  ·  seed {getattr(results[0], 'seed', '?')}"
    venues = list(dict.fromkeys(comparison.venues))
    policies = list(dict.fromkeys(comparison.policies))
    if len(venues) == 1 and len(policies) > 1:
        what = f"ADL policies on {venues[0]}"
    elif len(policies) > 1:
        what = "venues × ADL policies"
    else:
        what = f"venues' rules (ADL {policies[0]})" if policies else "venues' rules"
    return f"{head}  ·  the same cascade under {len(results)} {what}"


def plot_venue_comparison(comparison, fig=None):
    """Four panels over the runs of a comparison (``sim.studies.compare.Comparison``); returns the Figure.

    Across venues: (a) cumulative liquidated notional against time, one line per run; (b) liquidated longs and
    shorts per run; (c) last price per run (index dotted, lowest last marked); (d) who paid: the insurance fund's
    drawdown and the ADL notional per run, annotated with the ADL overshoot and the Gini of the haircuts.

    Across ADL policies on one venue: (a) every holder of the deleveraged side, ranked by the share of its position
    ADL closed; (b) the share of the haircut borne by the k hardest-hit accounts; (c) the share of the haircut paid
    at or below each leverage; (d) the cascade, drawn once when it was the same in every run (the title says so).

    One colour, line style and marker per venue (per policy when a single venue is compared across ADL policies).
    ``comparison`` needs ``labels``, ``results``, ``venues``, ``policies`` and ``table()``. Draws on ``fig``
    (expected empty) or a new 14 x 8 inch Figure.
    """
    if fig is None:
        fig = Figure(figsize=COMPARISON_FIGSIZE, layout="constrained")
    elif fig.get_layout_engine() is None:
        fig.set_layout_engine("constrained")
    results, labels, rows = list(comparison.results), list(comparison.labels), comparison.table()
    styles = _run_styles(comparison.venues, comparison.policies)
    axes = fig.subplots(2, 2)
    window = time_window(results)
    if _policies_only(comparison.venues, comparison.policies):
        tables = _adl_tables(results)
        _plot_position_closed(axes[0, 0], results, tables, labels, styles)
        axes[0, 0].set_title("(a) how much of each holder's position ADL closed", loc="left", fontsize=11)
        what = _plot_adl_concentration(axes[0, 1], tables, labels, styles)
        axes[0, 1].set_title(f"(b) {what} share of the k hardest-hit accounts", loc="left", fontsize=11)
        _plot_paid_by_leverage(axes[1, 0], results, tables, labels, styles)
        axes[1, 0].set_title("(c) at what leverage the payers stood", loc="left", fontsize=11)
        same = same_cascade(results)
        _plot_last(axes[1, 1], results, labels, styles, window, same=same)
        row = rows[0]
        over = row.get("adl_overshoot")
        numbers = (
            f"liquidated {_usd(row.get('liquidated_total_usd'))}, ADL {_usd(row.get('adl_notional_usd'))}"
            f" ({'n/a' if over is None else f'{over:.1f}×'} the deficit), fund low "
            f"−{_usd((row.get('fund_start_usd') or 0.0) - (row.get('fund_min_usd') or 0.0))}"
        )
        axes[1, 1].set_title(
            f"(d) the cascade, the same under every policy:\n{numbers}"
            if same
            else "(d) the cascade: last price (▼ lowest) against each run's index",
            loc="left",
            fontsize=11,
        )
    else:
        _plot_cumulative(axes[0, 0], results, labels, styles, window)
        axes[0, 0].set_title(
            f"(a) liquidated over time: {_extremes_note(rows, 'liquidated_total_usd')}", loc="left", fontsize=11
        )
        _plot_sides(axes[0, 1], rows, styles)
        axes[0, 1].set_title(
            f"(b) longs vs shorts: longs {_extremes_note(rows, 'liquidated_long_usd')}", loc="left", fontsize=11
        )
        _plot_last(axes[1, 0], results, labels, styles, window)
        axes[1, 0].set_title("(c) last price (▼ lowest) against each run's index", loc="left", fontsize=11)
        _plot_who_paid(axes[1, 1], rows, styles)
        axes[1, 1].set_title(
            "(d) who paid: fund drawdown (light), ADL notional at the mark (dark)", loc="left", fontsize=11
        )
    fig.suptitle(comparison_title(comparison), fontsize=14, fontweight="bold")
    place_legends(fig)
    return fig
