"""Pictures of a run (with its colours and formats in :mod:`sim.report.plotkit`, the only modules that import
matplotlib).

Everything draws on :class:`matplotlib.figure.Figure` objects directly: no pyplot state, no
``show()``, no changes to global rcParams, so it works headless and inside other programs.

``result`` is any object with attributes ``fills`` (``FILL_DTYPE``), ``series`` (``SERIES_DTYPE``),
``summary`` (the dict of :func:`sim.metrics.summarize`) and ``scenario`` (with
``.scenario.name``, ``.shock.kind`` and ``.shock.size_pct``). Axes-level functions take
``(result, ax=None)``, draw on ``ax`` (or on a new Figure) and return the Axes.
"""

import math
import os
import uuid

import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator

from sim import metrics
from sim.enums import ADL, STOP, TRADER
from sim.report import heatmaps
from sim.report.plotkit import (  # noqa: F401 (fmt_usd, fmt_pct and the colours are part of this module's face)
    CASCADE_DPI,
    CASCADE_FIGSIZE,
    FUND_COLOR,
    INDEX_COLOR,
    LAST_COLOR,
    LONG_COLOR,
    MARK_COLOR,
    SHORT_COLOR,
    USD_PER_M,
    _axes,
    _get,
    _price_formatter,
    _style,
    _summary,
    fmt_pct,
    fmt_usd,
)

# --------------------------------------------------------------------------------------------
# Panels


def plot_prices(result, ax=None):
    """Index (dashed), mark (thick) and last (thin) in USD against time (s); the min last is marked."""
    ax = _axes(ax)
    s = result.series
    t = s["t"]
    ax.plot(t, s["index"], color=INDEX_COLOR, lw=1.2, ls="--", label="index")
    ax.plot(t, s["mark"], color=MARK_COLOR, lw=2.4, label="mark")
    ax.plot(t, s["last"], color=LAST_COLOR, lw=0.8, label="last")
    last = np.asarray(s["last"], dtype=float)
    if np.isfinite(last).any():
        k = int(np.nanargmin(last))
        ax.plot(
            [t[k]],
            [last[k]],
            ls="none",
            marker="v",
            ms=10,
            color="black",
            label=f"min last {last[k]:,.2f}",
        )
    ax.set_ylabel("price (USD)")
    ax.yaxis.set_major_formatter(_price_formatter(s["index"], s["mark"], s["last"]))
    ax.legend(loc="upper right", fontsize=10, framealpha=0.9)
    _style(ax)
    return ax


def plot_liquidation_tape(result, ax=None, bin_s=1.0):
    """Liquidated notional per ``bin_s`` seconds in $M, stacked: longs (red) below shorts (green); traders' own
    stop-loss orders, when the run has any, as a black outline over the same bins.

    Uses the liquidated-side rule of :mod:`sim.metrics` (ADL fills count for the bankrupt side).
    """
    ax = _axes(ax)
    edges, long_usd, short_usd = metrics.liquidation_bins(result.fills, bin_s)
    if len(long_usd):
        long_m = long_usd / USD_PER_M
        total_m = (long_usd + short_usd) / USD_PER_M
        ax.stairs(
            long_m, edges, fill=True, color=LONG_COLOR, alpha=0.9, label=f"longs liquidated ({fmt_usd(long_usd.sum())})"
        )
        ax.stairs(
            total_m,
            edges,
            baseline=long_m,
            fill=True,
            color=SHORT_COLOR,
            alpha=0.9,
            label=f"shorts liquidated ({fmt_usd(short_usd.sum())})",
        )
        stops = result.fills[result.fills["kind"] == STOP]
        if len(stops):
            usd = stops["qty"] * stops["price"]
            ax.stairs(
                np.histogram(stops["t"], edges, weights=usd)[0] / USD_PER_M,
                edges,
                color="black",
                lw=1.2,
                label=f"stop orders filled ({fmt_usd(usd.sum())})",
            )
        ax.set_ylim(bottom=0)
        ax.legend(loc="upper right", fontsize=10, framealpha=0.9)
    else:
        ax.text(0.5, 0.5, "no liquidations", transform=ax.transAxes, ha="center", va="center", color="0.4")
    ax.set_ylabel(f"liquidated per {bin_s:g} s ($M)")
    _style(ax)
    return ax


def plot_insurance_fund(result, ax=None):
    """Insurance-fund balance in $M against time (s), its start level dotted, ADL fills marked ``x``."""
    ax = _axes(ax)
    s = result.series
    balance_m = s["fund_balance"] / USD_PER_M
    ax.plot(s["t"], balance_m, color=FUND_COLOR, lw=1.8, label="fund balance")
    start = _get(_summary(result), "insurance_fund_usd", "start")
    if start is None and len(s):
        start = float(s["fund_balance"][0])
    if start is not None:
        ax.axhline(start / USD_PER_M, color="0.45", ls=":", lw=1.2, label="start")
    adl = result.fills[result.fills["kind"] == ADL]
    if len(adl):
        if len(s):
            y = np.interp(adl["t"], s["t"], s["fund_balance"])
        else:
            y = np.full(len(adl), start if start is not None else 0.0)
        ax.plot(
            adl["t"],
            y / USD_PER_M,
            ls="none",
            marker="x",
            ms=7,
            mew=1.5,
            color="black",
            label=f"ADL fills ({len(adl)})",
        )
    ax.set_ylabel("insurance fund ($M)")
    ax.ticklabel_format(axis="y", style="plain", useOffset=False)
    ax.legend(loc="upper right", fontsize=10, framealpha=0.9)
    _style(ax)
    return ax


# --------------------------------------------------------------------------------------------
# The cascade picture


def shock_label(shock):
    """``ramp -10%`` for a gap or ramp (the only kinds ``size_pct`` applies to), else the kind alone."""
    kind = getattr(shock, "kind", "?")
    size = getattr(shock, "size_pct", None)
    return f"{kind} {size:g}%" if kind in ("gap", "ramp") and size is not None else str(kind)


def cascade_title(result):
    """Two title lines: scenario and shock, then the key figures of the summary."""
    scn = getattr(result, "scenario", None)
    name = getattr(getattr(scn, "scenario", None), "name", None) or "liqsim run"
    shock = getattr(scn, "shock", None)
    head = str(name)
    if shock is not None:
        head += f"  ·  shock: {shock_label(shock)}"
    sm = _summary(result)
    total = _get(sm, "liquidated_notional_usd", "total")
    share = sm.get("long_share_of_liquidated")
    liq = f"liquidated {fmt_usd(total)}"
    if share is not None:
        liq += f" ({100 * share:.0f}% longs)"
    min_last = sm.get("min_last_price")
    min_txt = "n/a" if min_last is None else f"{min_last:,.2f}"
    moves = (
        f"min last {min_txt} ({fmt_pct(sm.get('realized_drawdown_pct'))}) vs exogenous "
        f"{fmt_pct(sm.get('exogenous_drawdown_pct'))}"
    )
    amp = sm.get("amplification")
    if amp is not None:
        moves += f" (x{amp:.2f})"
    adl = f"ADL {fmt_usd(_get(sm, 'adl', 'notional_usd'))}"
    bad = f"bad debt {fmt_usd(sm.get('bad_debt_usd'))}"
    return head, "   |   ".join((liq, moves, adl, bad))


def plot_cascade(result, fig=None):
    """The three-panel cascade picture (prices, liquidation tape, insurance fund) on a shared time axis.

    Draws on ``fig`` (expected empty) or on a new 16 x 10 inch Figure, and returns the Figure.
    """
    if fig is None:
        fig = Figure(figsize=CASCADE_FIGSIZE, layout="constrained")
    elif fig.get_layout_engine() is None:
        fig.set_layout_engine("constrained")
    axes = fig.subplots(3, 1, sharex=True, gridspec_kw={"height_ratios": [3.0, 2.0, 1.5]})
    plot_prices(result, axes[0])
    plot_liquidation_tape(result, axes[1])
    plot_insurance_fund(result, axes[2])
    axes[-1].set_xlabel("time since start of run (s)")
    head, figures = cascade_title(result)
    fig.suptitle(head, fontsize=17, fontweight="bold")
    # matplotlib reads the text between two "$" as mathematics: show dollar signs as themselves
    axes[0].set_title(figures.replace("$", r"\$"), fontsize=12, loc="left", color="0.2")
    times = np.concatenate((result.series["t"], result.fills["t"]))
    times = times[np.isfinite(times)]
    if len(times) and times.max() > times.min():
        axes[-1].set_xlim(float(times.min()), float(times.max()))
    return fig


def save_cascade_png(result, path):
    """Draw :func:`plot_cascade` and write it as a 1600 x 1000 px PNG at ``path``, atomically.

    The image is written to a temporary name in the same folder and moved over ``path`` with
    ``os.replace``; the temporary file is removed if anything fails. Returns ``path``.
    """
    fig = plot_cascade(result)
    folder = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "xb") as fh:
            fig.savefig(fh, format="png", dpi=CASCADE_DPI)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


# --------------------------------------------------------------------------------------------
# One cascade under several venues' rules or ADL policies

#: One colour per venue, kept in every panel and every comparison picture.
VENUE_COLORS = {"binance": "#d4a000", "bybit": "#1f77b4", "okx": "#333333", "hyperliquid": "#17a398"}
#: Colours of the ADL policies when a comparison holds one venue only.
POLICY_COLORS = {"venue_queue": "#4c72b0", "pro_rata": "#55a868", "leverage_drain": "#8172b2"}
#: Line styles and bar hatches of the ADL policies when both venues and policies vary.
POLICY_STYLES = {"venue_queue": ("-", None), "pro_rata": ("--", "//"), "leverage_drain": (":", "..")}
_SPARE_COLORS = ("#e377c2", "#8c564b", "#bcbd22", "#9467bd", "#7f7f7f")

COMPARISON_FIGSIZE = (14.0, 8.0)  # inches; 1680 x 960 px at COMPARISON_DPI
COMPARISON_DPI = 120


def _run_styles(venues, policies):
    """(colour, line style, hatch) of each run: colour by venue, by policy when there is one venue."""
    by_policy = len(set(venues)) == 1 and len(set(policies)) > 1
    spare = iter(_SPARE_COLORS * 4)
    palette = {}
    out = []
    for venue, policy in zip(venues, policies):
        key = policy if by_policy else venue
        if key not in palette:
            known = POLICY_COLORS if by_policy else VENUE_COLORS
            palette[key] = known.get(key) or next(spare)
        ls, hatch = POLICY_STYLES.get(policy, ("-", None)) if len(set(policies)) > 1 and not by_policy else ("-", None)
        out.append((palette[key], ls, hatch))
    return out


def _active_window(results, share=0.99):
    """Time span (s) from the first run's ``1 - share`` to the last run's ``share`` of its liquidated
    notional, with room either side; None without liquidations.

    The odd position tipped over by background flow before the shock and the tail of late, small
    liquidations are left out, so the cascade itself fills the panel.
    """
    lo, hi = np.inf, -np.inf
    for res in results:
        notional = metrics.liquidated_notional(res.fills)
        keep = notional > 0
        if not keep.any():
            continue
        t, usd = res.fills["t"][keep], notional[keep]
        order = np.argsort(t, kind="stable")
        t, cum = t[order], np.cumsum(usd[order])
        at = np.minimum(np.searchsorted(cum, np.array([1.0 - share, share]) * cum[-1]), len(t) - 1)
        lo, hi = min(lo, float(t[at[0]])), max(hi, float(t[at[1]]))
    if not np.isfinite(lo):
        return None
    pad = max(5.0, 0.25 * (hi - lo))
    return lo - pad, hi + pad


def _usd(x):
    """:func:`fmt_usd` with the dollar escaped, so two amounts in one text never start mathtext."""
    return fmt_usd(x).replace("$", r"\$")


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


def _plot_cumulative(ax, results, labels, styles, window):
    for res, label, (color, ls, _) in zip(results, labels, styles):
        s = res.series
        total = _get(_summary(res), "liquidated_notional_usd", "total")
        ax.plot(s["t"], s["liquidated_notional_usd"], color=color, ls=ls, lw=2.0, label=f"{label}: {_usd(total)}")
    if window is not None:
        ax.set_xlim(max(0.0, window[0]), window[1])
    ax.set_ylim(bottom=0)
    _usd_axis(ax)
    ax.set_xlabel("time since start of run (s)")
    ax.set_ylabel("liquidated notional, cumulative")
    ax.legend(loc="lower right", fontsize=9, framealpha=0.9)
    _style(ax)


def _plot_sides(ax, rows, styles):
    x = np.arange(len(rows))
    width = 0.38
    for i, (row, (color, _, hatch)) in enumerate(zip(rows, styles)):
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
    ax.set_ylabel("liquidated notional")
    ax.legend(
        handles=[
            Patch(color="0.45", label="longs liquidated"),
            Patch(facecolor="0.45", alpha=0.35, hatch="xx", edgecolor="white", label="shorts liquidated"),
        ],
        loc="upper center",
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
    for tick, (color, _, _) in zip(ax.get_xticklabels(), styles):
        tick.set_color(color)
    ax.margins(y=0.15)
    _usd_axis(ax)
    _style(ax)


def _plot_adl_concentration(ax, results, labels, styles):
    """Share of the ADL haircut (or, without one, of the contracts) borne by the k hardest-hit trader
    accounts (the synthetic residual counterparty is left out, as in the summary's Ginis)."""
    drawn = False
    what = "haircut"
    tables = [t[t["kind"] == TRADER] for t in (metrics.adl_table(res.fills, res.accounts) for res in results)]
    if all(np.maximum(t["haircut_usd"], 0.0).sum() <= 0 for t in tables):
        what = "contracts"
    for table, label, (color, ls, _) in zip(tables, labels, styles):
        paid = np.maximum(table["haircut_usd"], 0.0) if what == "haircut" else table["contracts"]
        if len(paid) == 0 or paid.sum() <= 0:
            continue
        share = 100.0 * np.cumsum(np.sort(paid)[::-1]) / paid.sum()
        g = metrics.gini(paid)
        ax.plot(
            np.arange(1, len(share) + 1),
            share,
            color=color,
            ls=ls,
            lw=2.0,
            label=f"{label}: {len(paid):,} accounts, Gini {_gini(g)}",
        )
        drawn = True
    if drawn:
        ax.set_xscale("log")
        ax.legend(loc="lower right", fontsize=9, framealpha=0.9)
    else:
        ax.text(0.5, 0.5, "no ADL", transform=ax.transAxes, ha="center", va="center", color="0.4")
    ax.set_ylim(0, 102)
    ax.set_xlabel("ADL'd trader accounts, hardest hit first")
    ax.set_ylabel(f"share of the ADL {what} (%)")
    _style(ax)
    return what


def _plot_last(ax, results, labels, styles, window):
    arrays = []
    for res, label, (color, ls, _) in zip(results, labels, styles):
        s = res.series
        ax.plot(s["t"], s["index"], color=color, ls=":", lw=0.9, alpha=0.7)
        low = _summary(res).get("min_last_price")
        pct = _summary(res).get("realized_drawdown_pct")
        ax.plot(
            s["t"],
            s["last"],
            color=color,
            ls=ls,
            lw=1.3,
            label=f"{label}: low {'n/a' if low is None else f'{low:,.0f}'} ({fmt_pct(pct)})",
        )
        last = np.asarray(s["last"], dtype=float)
        if np.isfinite(last).any():
            k = int(np.nanargmin(last))
            ax.plot([s["t"][k]], [last[k]], ls="none", marker="v", ms=8, color=color, mec="black", mew=0.6)
        arrays += [s["index"], s["last"]]
    ax.plot([], [], color="0.45", ls=":", lw=0.9, label="index (dotted, per run)")
    if window is not None:
        ax.set_xlim(max(0.0, window[0]), window[1])
    if arrays:
        ax.yaxis.set_major_formatter(_price_formatter(*arrays))
    ax.set_xlabel("time since start of run (s)")
    ax.set_ylabel("last price (USD)")
    ax.legend(loc="upper right", fontsize=9, framealpha=0.9)
    _style(ax)


def _plot_who_paid(ax, rows, styles):
    """Fund drawdown and ADL notional per run on a log scale (they differ by orders of magnitude)."""
    x = np.arange(len(rows))
    width = 0.38
    amounts = []
    for i, (row, (color, _, hatch)) in enumerate(zip(rows, styles)):
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
                        f"Gini {_gini(gini)} ($), {_gini(row.get('adl_gini_contracts'))} (qty)",
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
            fontsize=7.5,
            linespacing=1.1,
        )
    _bar_axis(ax, rows, styles)
    ax.set_ylim(floor, top * 60)  # _bar_axis sets margins; keep the room the notes need
    ax.yaxis.set_major_locator(LogLocator(base=10))
    ax.set_ylabel("USD (log scale)")


def comparison_title(comparison):
    """The head line: scenario, shock, seed and what varies across the runs."""
    results = list(comparison.results)
    scn = getattr(results[0], "scenario", None) if results else None
    name = getattr(getattr(scn, "scenario", None), "name", None) or "liqsim comparison"
    shock = getattr(scn, "shock", None)
    head = str(name)
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

    (a) cumulative liquidated notional against time, one line per run; (b) liquidated longs and
    shorts per run, or, when one venue is compared across ADL policies (the cascade is then the same
    in every run and only who is deleveraged differs), the share of the ADL haircut borne by the k
    hardest-hit accounts; (c) last price per run (index dotted, lowest last marked) against time; (d) who
    paid: the insurance fund's drawdown and the ADL notional per run, annotated with the ADL
    overshoot and the Gini of the haircuts. One colour per venue (per policy when a single venue is
    compared across ADL policies). ``comparison`` needs ``labels``, ``results``, ``venues``,
    ``policies`` and ``table()``. Draws on ``fig`` (expected empty) or a new 14 x 8 inch Figure.
    """
    if fig is None:
        fig = Figure(figsize=COMPARISON_FIGSIZE, layout="constrained")
    elif fig.get_layout_engine() is None:
        fig.set_layout_engine("constrained")
    results, labels, rows = list(comparison.results), list(comparison.labels), comparison.table()
    styles = _run_styles(comparison.venues, comparison.policies)
    axes = fig.subplots(2, 2)
    window = _active_window(results)
    _plot_cumulative(axes[0, 0], results, labels, styles, window)
    axes[0, 0].set_title(
        f"(a) liquidated over time: {_extremes_note(rows, 'liquidated_total_usd')}", loc="left", fontsize=11
    )
    if len(set(comparison.venues)) == 1 and len(set(comparison.policies)) > 1:
        what = _plot_adl_concentration(axes[0, 1], results, labels, styles)
        axes[0, 1].set_title(
            f"(b) who was deleveraged: {what} share of the k hardest-hit accounts", loc="left", fontsize=11
        )
    else:
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
    return fig


# --------------------------------------------------------------------------------------------
# Liquidation heatmaps (sim.report.heatmaps): what was liquidatable before the shock, and what was liquidated

HEATMAP_FIGSIZE = (16.0, 9.0)  # inches
WITHIN_PCT = 10.0  # the predictive panel's title totals what a move of this size would liquidate


def _start_price(result):
    """``scenario.market.start_price_usd``, else the first index sample."""
    market = getattr(getattr(result, "scenario", None), "market", None)
    return getattr(market, "start_price_usd", None) or float(result.series["index"][0])


def _window_pct(result, start):
    """(below, above) in % of the start price: 1.25 x the run's largest move of mark, last or a liquidation
    fill, rounded up to 5 %, on the side it moved to; ``WITHIN_PCT`` on the other side and at least."""
    s, fills = result.series, result.fills
    prices = np.concatenate((s["mark"], s["last"], fills["price"][metrics.liquidation_mask(fills)]))
    move = metrics.move_pct(prices, start) or 0.0
    wide = max(WITHIN_PCT, 5.0 * math.ceil(1.25 * abs(move) / 5.0))
    return (wide, WITHIN_PCT) if move < 0 else (WITHIN_PCT, wide)


def _extreme_prices(result, start, min_pct):
    """(label, price, colour, style) of the start price and the run's extreme mark and last (lowest in a fall),
    each if it moved at least ``min_pct`` % from the start."""
    sm, out = _summary(result), [(f"start {start:,.0f}", start, "black", "--")]
    for key, low, color in (("mark", "min_mark_price", MARK_COLOR), ("last", "min_last_price", LAST_COLOR)):
        move = metrics.move_pct(np.append(result.series[key], sm.get(low) or np.nan), start)
        if move is not None and abs(move) >= min_pct:
            price, word = start * (1.0 + move / 100.0), "lowest" if move < 0 else "highest"
            out.append((f"{word} {key} {price:,.0f} ({fmt_pct(move)})", price, color, ":"))
    return out


def plot_predictive_heatmap(result, ax=None, bin_pct=0.25, range_pct=None):
    """Liquidatable notional per price level before the shock (``sim.report.heatmaps.predictive_heatmap``).

    Horizontal bars of ``bin_pct`` % of the start price, longs (red) and shorts (green) stacked, over
    ``range_pct`` % either side of the start (by default the run's move with room to spare); dashed
    line at the start price, dotted at the run's extreme mark and last. Needs ``result.accounts``.
    """
    ax = _axes(ax, figsize=(6.0, 8.0))
    start = _start_price(result)
    below, above = (range_pct, range_pct) if range_pct else _window_pct(result, start)
    lo, hi = start * (1 - below / 100.0), start * (1 + above / 100.0)
    hm = heatmaps.predictive_heatmap(result.accounts, start, bin_pct, max(below, above, WITHIN_PCT))
    seen = (hm.edges[1:] > lo) & (hm.edges[:-1] < hi)
    low, height, longs, shorts = hm.edges[:-1][seen], np.diff(hm.edges)[seen], hm.long_usd[seen], hm.short_usd[seen]
    ax.barh(low, longs, height, align="edge", color=LONG_COLOR, label="longs")
    ax.barh(low, shorts, height, left=longs, align="edge", color=SHORT_COLOR, label="shorts")
    for label, price, color, ls in _extreme_prices(result, start, bin_pct):
        ax.axhline(price, color=color, ls=ls, lw=1.4, label=label)
    ax.set_ylim(lo, hi)
    ax.set_xlim(0, 1.5 * max(1.0, (longs + shorts).max(initial=0.0)))  # room for the legend
    ax.xaxis.set_major_locator(MaxNLocator(4))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: _usd(x) if x else "0"))
    ax.set_xlabel(f"liquidatable per {bin_pct:g}% ({_usd(hm.edges[1] - hm.edges[0])}) price level")
    ax.set_ylabel("liquidation price at the start (USD)")
    ax.yaxis.set_major_formatter(_price_formatter(hm.edges))
    longs, shorts = heatmaps.liquidatable_within(hm, WITHIN_PCT)
    ax.set_title(
        f"before the shock, liquidatable within ±{WITHIN_PCT:g}%:\nlongs {_usd(longs)}, shorts {_usd(shorts)}",
        loc="left",
        fontsize=11,
    )
    ax.legend(loc="best", fontsize=9, framealpha=0.9)
    _style(ax)
    return ax


def plot_historical_heatmap(result, ax=None, bin_s=5.0, bin_pct=0.25):
    """Liquidated notional by time and fill price (``sim.report.heatmaps.historical_heatmap``) on a log colour
    scale: longs in reds, shorts in greens, empty cells white; last (black) and mark (blue) on top. The
    time axis is zoomed to the cascade (99 % of the liquidated notional, with room either side).
    """
    ax = _axes(ax)
    hm = heatmaps.historical_heatmap(result.fills, _start_price(result), bin_s, bin_pct)
    peak = max(hm.long_usd.max(initial=0.0), hm.short_usd.max(initial=0.0))
    for values, cmap, who in ((hm.long_usd, "Reds", "longs"), (hm.short_usd, "Greens", "shorts")):
        if values.any():
            mesh = ax.pcolormesh(
                hm.t_edges,
                hm.price_edges,
                np.ma.masked_less_equal(values.T, 0.0),
                cmap=cmap,
                norm=LogNorm(peak / 1e3, peak),
            )
            bar = ax.figure.colorbar(mesh, ax=ax, pad=0.01, fraction=0.05, aspect=40)
            bar.set_label(f"{who} liquidated per cell")
            bar.ax.yaxis.set_major_formatter(FuncFormatter(lambda x, _pos: _usd(x)))
    if peak == 0:
        ax.text(0.5, 0.8, "no liquidations", transform=ax.transAxes, ha="center", va="center", color="0.4")
    s = result.series
    ax.plot(s["t"], s["last"], color="black", lw=0.9, label="last")
    ax.plot(s["t"], s["mark"], color=MARK_COLOR, lw=1.2, ls="--", label="mark")
    window = _active_window([result])
    if window is not None:
        ax.set_xlim(max(0.0, window[0]), min(window[1], float(s["t"][-1]) if len(s) else window[1]))
    ax.set_xlabel("time since start of run (s)")
    ax.set_ylabel("fill price (USD)")
    cell = _usd(hm.start_price * bin_pct / 100.0)
    ax.set_title(
        f"where and when: longs {_usd(hm.long_usd.sum())}, shorts {_usd(hm.short_usd.sum())} liquidated,\n"
        f"per {bin_s:g} s × {bin_pct:g}% ({cell}) cell",
        loc="left",
        fontsize=11,
    )
    ax.legend(loc="upper right", fontsize=9, framealpha=0.9)
    _style(ax)
    return ax


def plot_heatmaps(result, fig=None, bin_s=5.0, bin_pct=0.25):
    """The predictive heatmap (left) and the historical one (right) on a shared price axis; returns the
    Figure (``fig``, expected empty, or a new 16 x 9 inch one)."""
    if fig is None:
        fig = Figure(figsize=HEATMAP_FIGSIZE, layout="constrained")
    elif fig.get_layout_engine() is None:
        fig.set_layout_engine("constrained")
    left, right = fig.subplots(1, 2, sharey=True, width_ratios=[1.0, 2.2])
    plot_predictive_heatmap(result, left, bin_pct)
    plot_historical_heatmap(result, right, bin_s, bin_pct)
    left.set_ylabel("price (USD)")
    right.set_ylabel("")
    head, figures = cascade_title(result)
    n = _summary(result).get("n_positions")
    head += "" if n is None else f"  ·  {n:,} positions"
    fig.suptitle(f"{head}\n{figures}".replace("$", r"\$"), fontsize=13)
    return fig
