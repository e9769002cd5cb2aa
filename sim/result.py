"""The result of a run: records, series, summary and the scenario that produced them.

A :class:`Result` describes itself (resolved scenario, seed, library versions, timings), turns into
pandas DataFrames for notebooks, draws its cascade picture and saves to a
folder atomically: everything is written under a temporary name and renamed into place, so a crash
never leaves a half-written output folder.
"""

import json
from dataclasses import dataclass, field

import numpy as np

from sim import metrics
from sim.outputs import OUTPUT_FILES, atomic_folder, claim, json_ready, label_columns, naming, write_csv
from sim.report import heatmaps


def writer(target, tmp):
    """``put(name, write)``: ``write(path)`` of file ``name`` in the folder being assembled (``tmp``), an error
    naming it under its final place (``target``)."""

    def put(name, write):
        with naming(target / name):
            write(tmp / name)

    return put


def summary_document(res):
    """What ``summary.json`` holds for a run (or a run of several instruments): what ran, the summary, timings and
    versions."""
    mk = res.scenario.market
    return {
        "scenario": res.scenario.scenario.name,
        "seed": res.seed,
        "venue": mk.venue,
        "venue_version": mk.venue_version,
        "adl_policy": res.scenario.adl.policy,
        **res.summary,
        "timings": res.timings,
        "versions": res.versions,
    }


@dataclass(frozen=True)
class Result:
    """A finished run.

    Attributes
    ----------
    scenario : sim.config.scenario.Scenario
        The resolved scenario (all defaults filled in).
    summary : dict
        Headline figures (see ``sim.metrics.summarize``), JSON-ready.
    fills : ndarray of sim.dtypes.FILL_DTYPE
        The tape: one record per order execution.
    series : ndarray of sim.dtypes.SERIES_DTYPE
        Time series sampled every ``output.sample_interval_s``.
    accounts : ndarray of sim.dtypes.ACCOUNT_DTYPE
        One row per account of every kind (traders, counterparty, maker, noise, fund, fee).
    """

    scenario: object
    summary: dict
    fills: np.ndarray = field(repr=False)
    series: np.ndarray = field(repr=False)
    accounts: np.ndarray = field(repr=False)
    seed: int = 0
    versions: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    spot: dict | None = field(default=None, repr=False)  # endogenous prices: the spot venues (sim.world.spot.ledger)

    def adl_table(self):
        """Who paid for auto-deleveraging: one ``sim.metrics.ADL_DTYPE`` row per ADL'd account.

        Computed from the records on each call (see ``sim.metrics.adl_table``); empty without ADL.
        """
        return metrics.adl_table(self.fills, self.accounts)

    def predictive_heatmap(self, bin_pct=0.25, range_pct=None):
        """Liquidatable notional by price level before the shock, longs and shorts.

        A ``sim.report.heatmaps.PredictiveHeatmap`` of the starting trader positions, on bins of ``bin_pct`` %
        of the start price (see ``sim.report.heatmaps.predictive_heatmap``).
        """
        return heatmaps.predictive_heatmap(self.accounts, self.scenario.market.start_price_usd, bin_pct, range_pct)

    def historical_heatmap(self, bin_s=5.0, bin_pct=0.25):
        """Liquidated notional by fill time (``bin_s`` s bins) and fill price (``bin_pct`` % bins).

        A ``sim.report.heatmaps.HistoricalHeatmap`` of the tape (see ``sim.report.heatmaps.historical_heatmap``).
        """
        return heatmaps.historical_heatmap(self.fills, self.scenario.market.start_price_usd, bin_s, bin_pct)

    def spot_series(self):
        """Endogenous prices: the index and every spot venue's mid at the samples, one record per sample (columns
        ``t``, ``index``, then one per venue); None under the imposed model."""
        if self.spot is None:
            return None
        names = list(self.spot["names"])
        k = len(self.spot["t"])
        out = np.zeros(k, np.dtype([("t", "f8"), ("index", "f8")] + [(n, "f8") for n in names]))
        out["t"] = self.spot["t"]
        out["index"] = self.series["index"][:k]
        for v, n in enumerate(names):
            out[n] = self.spot["mid"][:k, v]
        return out

    def to_frames(self):
        """``{"fills", "series", "accounts", "adl"}`` as pandas DataFrames (codes as names).

        ``adl`` is :meth:`adl_table`, one row per ADL'd account (no rows without ADL).
        """
        import pandas as pd  # a dependency, imported here so that `import sim` stays light

        frames = {
            table: pd.DataFrame(label_columns(getattr(self, table), table)) for table in ("fills", "series", "accounts")
        }
        frames["adl"] = pd.DataFrame(label_columns(self.adl_table(), "adl"))
        return frames

    def plot(self, fig=None):
        """The cascade picture (prices, liquidation tape, insurance fund); returns the Figure."""
        from sim.report.plots import plot_cascade

        return plot_cascade(self, fig=fig)

    def save(self, directory, plot=True, accounts=False):
        """Write summary.json, fills.csv, series.csv, adl.csv, scenario.toml (and cascade.png) atomically.

        ``adl.csv`` is :meth:`adl_table` (who paid for auto-deleveraging; only a header without ADL).

        The folder is assembled under a temporary name beside ``directory`` and put in place in one step, with a
        ``.liqsim.json`` marker listing what was written (see :mod:`sim.outputs`). An existing folder is replaced
        only if it is empty or provably an earlier run's (its marker lists exactly what it holds), and only once the
        new one is complete; anything else raises :class:`sim.errors.ScenarioError`, as does a folder another
        process is writing. Returns the folder's resolved path.
        """
        with claim(directory, "run", OUTPUT_FILES) as target, atomic_folder(target, "run") as tmp:
            put = writer(target, tmp)
            put("summary.json", lambda p: p.write_text(json.dumps(json_ready(summary_document(self)), indent=2) + "\n"))
            for table, records in self.tables(accounts):
                put(f"{table}.csv", lambda p, r=records, t=table: write_csv(p, r(), t))
            put("scenario.toml", lambda p: p.write_text(self.scenario.to_toml(relative_to=target)))
            if plot:
                from sim.report.plots import save_cascade_png

                put("cascade.png", lambda p: save_cascade_png(self, p))
        return target

    def tables(self, accounts=False):
        """The run's CSV tables as ``(name, records)``, ``records()`` making the record array when it is written:
        fills, series, adl, spot (endogenous prices only) and, with ``accounts``, accounts."""
        out = [("fills", lambda: self.fills), ("series", lambda: self.series), ("adl", self.adl_table)]
        if self.spot is not None:
            out.append(("spot", self.spot_series))
        if accounts:
            out.append(("accounts", lambda: self.accounts))
        return out

    def _repr_html_(self):
        s = self.summary
        liq = s["liquidated_notional_usd"]
        rows = [
            ("scenario", self.scenario.scenario.name),
            (
                "venue",
                f"{self.scenario.market.venue} {self.scenario.market.venue_version or ''}, "
                f"ADL {self.scenario.adl.policy}",
            ),
            ("positions", f"{s['n_positions']:,}"),
            ("liquidated", f"${(liq['total'] or 0) / 1e6:,.1f}M (long ${(liq['long'] or 0) / 1e6:,.1f}M)"),
            ("min last / exogenous", f"{s['realized_drawdown_pct']:.2f}% / {s['exogenous_drawdown_pct']:.2f}%"),
            ("ADL notional", f"${(s['adl']['notional_usd'] or 0) / 1e6:,.1f}M"),
            ("bad debt", f"${s['bad_debt_usd']:,.0f}"),
            ("runtime", f"{s['runtime_s']:.2f} s"),
        ]
        body = "".join(f"<tr><th style='text-align:left'>{k}</th><td>{v}</td></tr>" for k, v in rows)
        return f"<table><caption>liqsim Result</caption>{body}</table>"
