"""A run of several instruments: each instrument's :class:`sim.result.Result`, the cross accounts' contagion, one
output folder and one picture (docs/engine.md §13, docs/outputs.md).

``sim.run`` and ``liqsim run`` come here for a scenario with ``[instruments]``: :func:`run` runs every market in
lockstep (:func:`sim.multi.run_scenario`) and builds one single-market ``Result`` per instrument from its part of
the run, summarised exactly as a single-market run is, plus the contagion section (:func:`sim.multi.contagion`) and
each forced close's cause. :meth:`MultiResult.save` writes one folder, ``kind = "instruments"`` in its marker: the
whole run's ``summary.json``, ``instruments.csv`` (one line per instrument), ``scenario.toml``, ``cascade.png``, and
per instrument ``fills_<ASSET>.csv``, ``series_<ASSET>.csv``, ``adl_<ASSET>.csv`` (``spot_<ASSET>.csv`` with
endogenous prices; ``accounts_<ASSET>.csv`` and ``cross_rows.csv`` on request).
"""

import json
import time
from dataclasses import dataclass, field

import numpy as np

from sim import enums as E
from sim.outputs import atomic_folder, claim, json_ready, write_csv
from sim.result import summary_document, writer

#: A forced close's cause, by code (``enums.CAUSE_NAMES``): a row of no cross account; a row whose own loss was the
#: largest part of its account's; one forced by the account's other positions (cross-asset); one forced by the
#: collateral.
CAUSES = E.CAUSE_NAMES
#: Files of every instruments folder; the per-instrument ones are :func:`instrument_files`.
FIXED_FILES = ("summary.json", "instruments.csv", "scenario.toml", "cascade.png", "cross_rows.csv")
_PER_INSTRUMENT = ("fills", "series", "adl", "spot", "accounts")
CROSS_ROW_DTYPE = np.dtype([("instrument", "U8"), ("id", "i8"), ("cross_account", "i8"), ("cause", "U17")])
INSTRUMENT_DTYPE = np.dtype(
    [
        ("instrument", "U8"),
        ("symbol", "U24"),
        ("beta", "f8"),
        ("start_price", "f8"),
        ("low_pct", "f8"),
        ("positions", "i8"),
        ("in_cross_accounts", "i8"),
        ("liquidated_usd", "f8"),
        ("in_cross_accounts_usd", "f8"),
        ("cross_asset_usd", "f8"),
        ("cross_asset_share", "f8"),
        ("collateral_driven_usd", "f8"),
        ("adl_usd", "f8"),
        ("bad_debt_usd", "f8"),
    ]
)


def instrument_files(names):
    """Every name an instruments folder of these instruments may hold (for :func:`sim.outputs.claim`)."""
    return frozenset(FIXED_FILES) | {f"{t}_{n}.csv" for t in _PER_INSTRUMENT for n in names}


@dataclass(frozen=True)
class MultiResult:
    """A finished run of several instruments.

    Attributes
    ----------
    scenario : sim.config.scenario.Scenario
        The scenario as given (with its ``[instruments]``).
    names : tuple of str
        The instruments, ``market.asset`` first.
    markets : dict
        Instrument → :class:`sim.result.Result` of its market (its scenario is that market's own, as
        :func:`sim.config.instruments.market_scenarios` builds it; its account ids are its own rows).
    contagion : dict
        :func:`sim.multi.contagion`: per instrument liquidated notional, the part in cross accounts, cross-asset and
        collateral-driven liquidations; accounts liquidated, episodes, re-sharings, rounds.
    cross_rows : ndarray of CROSS_ROW_DTYPE
        Every position row of a cross account: its instrument, id (its market's account id), cross account and the
        cause of its first forced close (one of ``CAUSES[1:]``; empty for a row never forced).
    collateral : dict
        Collateral asset → ``(t_s, price)``, the path it was valued on (none without collateral).
    """

    scenario: object
    names: tuple
    markets: dict
    contagion: dict
    cross_rows: np.ndarray = field(repr=False)
    collateral: dict = field(default_factory=dict, repr=False)
    seed: int = 0
    versions: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)

    @property
    def summary(self):
        """The whole run's headline figures: totals, the contagion section, and one line per instrument."""
        table = self.instruments()
        liq = float(table["liquidated_usd"].sum())
        return {
            "instruments": list(self.names),
            "n_positions": int(table["positions"].sum()),
            "liquidated_usd": liq,
            "cross_asset_usd": float(table["cross_asset_usd"].sum()),
            "cross_asset_share": float(table["cross_asset_usd"].sum()) / liq if liq > 0 else 0.0,
            "collateral_driven_usd": float(table["collateral_driven_usd"].sum()),
            "bad_debt_usd": float(table["bad_debt_usd"].sum()),
            "runtime_s": self.timings.get("prepare_s", 0.0) + self.timings.get("simulate_s", 0.0),
            "contagion": self.contagion,
            "markets": {n: self.markets[n].summary for n in self.names},
        }

    def instruments(self):
        """One record per instrument (``INSTRUMENT_DTYPE``): its move, positions, liquidations and their causes
        (``beta`` NaN for an instrument on its own recorded path, which no beta scales)."""
        out = np.zeros(len(self.names), INSTRUMENT_DTYPE)
        betas = dict(self.scenario.instruments.items())
        for i, name in enumerate(self.names):
            res, c = self.markets[name], self.contagion["markets"][name]
            s = res.summary
            out[i]["instrument"] = name
            out[i]["symbol"] = res.scenario.market.symbol
            own = name in betas and getattr(betas[name], "path_file", None) is not None  # its own recorded path
            out[i]["beta"] = np.nan if own else (betas[name].beta if name in betas else 1.0)
            out[i]["start_price"] = res.scenario.market.start_price_usd
            out[i]["low_pct"] = s["realized_drawdown_pct"]
            out[i]["positions"] = s["n_positions"]
            out[i]["in_cross_accounts"] = int(np.sum(self.cross_rows["instrument"] == name))
            for key in ("liquidated_usd", "in_cross_accounts_usd", "cross_asset_usd", "cross_asset_share"):
                out[i][key] = c[key]
            out[i]["collateral_driven_usd"] = c["collateral_driven_usd"]
            out[i]["adl_usd"] = s["adl"]["notional_usd"] or 0.0
            out[i]["bad_debt_usd"] = s["bad_debt_usd"]
        return out

    def forced(self, name):
        """Forced closes of instrument ``name``: time (s), notional (USD) and cause (index into ``CAUSES``)."""
        f = self.markets[name].fills
        sel = np.isin(f["kind"], E.FORCED_KINDS)
        rows = self.cross_rows[(self.cross_rows["instrument"] == name) & (self.cross_rows["cause"] != "")]
        code = np.zeros(f.size, np.int64)  # by account id (a market's ids are its rows, then its other accounts)
        lookup = np.zeros(int(f["account"].max(initial=-1)) + 1, np.int64)
        keep = rows["id"] < lookup.size
        lookup[rows["id"][keep]] = [CAUSES.index(c) for c in rows["cause"][keep]]
        code[sel] = lookup[f["account"][sel]]
        return f["t"][sel], f["qty"][sel] * f["price"][sel], code[sel]

    def to_frames(self):
        """``{"instruments", "cross_rows"}`` and each instrument's frames (``"BTC"``: ``Result.to_frames()``)."""
        import pandas as pd

        frames = {"instruments": pd.DataFrame(self.instruments()), "cross_rows": pd.DataFrame(self.cross_rows)}
        frames.update({n: self.markets[n].to_frames() for n in self.names})
        return frames

    def plot(self, fig=None):
        """The instruments picture: every instrument's mark, its liquidations over time, and their causes."""
        from sim.report.instruments import plot_instruments

        return plot_instruments(self, fig=fig)

    def save(self, directory, plot=True, accounts=False):
        """Write the run's folder (see the module's docs) atomically, as :meth:`sim.result.Result.save` does a
        single run's; ``accounts`` adds ``accounts_<ASSET>.csv`` and ``cross_rows.csv``. Returns the folder."""
        files = instrument_files(self.names)
        with claim(directory, "instruments", files) as target, atomic_folder(target, "instruments") as tmp:
            put = writer(target, tmp)
            put("summary.json", lambda p: p.write_text(json.dumps(json_ready(summary_document(self)), indent=2) + "\n"))
            put("instruments.csv", lambda p: write_csv(p, self.instruments(), "instruments"))
            for name in self.names:
                for table, records in self.markets[name].tables(accounts):
                    put(f"{table}_{name}.csv", lambda p, r=records, t=table: write_csv(p, r(), t))
            if accounts:
                put("cross_rows.csv", lambda p: write_csv(p, self.cross_rows, "cross_rows"))
            put("scenario.toml", lambda p: p.write_text(self.scenario.to_toml(relative_to=target)))
            if plot:
                from sim.report.instruments import save_instruments_png

                put("cascade.png", lambda p: save_instruments_png(self, p))
        return target

    def _repr_html_(self):
        rows = "".join(
            f"<tr><td>{r['instrument']}</td><td>{r['low_pct']:.1f}%</td><td>${r['liquidated_usd'] / 1e6:,.1f}M</td>"
            f"<td>{100 * r['cross_asset_share']:.1f}%</td><td>${r['collateral_driven_usd'] / 1e6:,.1f}M</td></tr>"
            for r in self.instruments()
        )
        head = "<tr><th>instrument</th><th>last low</th><th>liquidated</th><th>cross-asset</th><th>collateral</th></tr>"
        name = self.scenario.scenario.name
        return f"<table><caption>liqsim MultiResult: {name}</caption>{head}{rows}</table>"


def _cross_rows(multi):
    """Every position row of a cross account (``MultiResult.cross_rows``), from the account layer's state at the end
    (``CrossAccounts.why``: 0 for a row never forced)."""
    ca, lo = multi.raw.accounts, multi.raw.lo
    member = np.flatnonzero(ca.row_acct >= 0)
    out = np.zeros(member.size, CROSS_ROW_DTYPE)
    m = np.searchsorted(lo, member, side="right") - 1
    out["instrument"] = np.asarray(multi.names)[m]
    out["id"] = member - lo[m]
    out["cross_account"] = ca.row_acct[member]
    out["cause"] = np.asarray(("",) + CAUSES[1:])[ca.why[member]]
    return out


def _collateral_paths(scn, cl):
    """Each collateral asset's path from the account layer's state (named by the scenario's ``[collateral]``)."""
    names = [a for a, _ in scn.collateral.items()] or [f"collateral {c}" for c in range(cl.path_n.size)]
    return {
        n: (cl.path_t[c, : cl.path_n[c]] / 1000.0, cl.path_p[c, : cl.path_n[c]].copy()) for c, n in enumerate(names)
    }


def run(scn, progress=None, collateral=None):
    """Run a scenario with ``[instruments]`` end to end and return a :class:`MultiResult`."""
    from sim._compile import compile_clock
    from sim.engine import result
    from sim.multi import run_scenario
    from sim.outputs import versions

    with compile_clock() as clock:  # compiling or loading kernels is not the run's time
        t0 = time.perf_counter()
        multi = run_scenario(scn, progress=progress, collateral=collateral)
        t_run = time.perf_counter()
    compile_s = clock.seconds
    total = t_run - t0
    timings = {"prepare_s": 0.0, "simulate_s": total - compile_s, "compile_s": compile_s, "total_s": total}
    markets = {
        name: result(s, inp, raw, timings)
        for name, s, inp, raw in zip(multi.names, multi.scenarios, multi.inputs, multi.raw.markets)
    }
    return MultiResult(
        scenario=scn,
        names=tuple(multi.names),
        markets=markets,
        contagion=multi.contagion,
        cross_rows=_cross_rows(multi),
        collateral=_collateral_paths(scn, multi.raw.collateral),
        seed=scn.scenario.seed,
        versions=versions(),
        timings=timings,
    )
