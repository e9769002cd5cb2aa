"""The same cascade under several venues' rules and ADL policies.

:func:`compare` runs one scenario once per (venue, ADL policy) pair, changing nothing but
``market.venue`` and ``adl.policy``: the seed, shock, book, fund and population settings stay the
same, so the runs differ only through the rules. Everything else a scenario sets applies to every
run, including single rules replaced in its ``[venue]`` table and an explicit ``market.tiers``
(which would then override each pack's own table). A ``market.venue_version`` belongs to one venue's
pack, so the other venues run their default version. The population is drawn from the same random
numbers in every run, but each venue caps leverage by its own tiers, so the largest positions can
carry a lower leverage on one venue than on another.

Every combination is validated before the first run starts, and all problems are reported at once
(a venue whose tier table allows less leverage than the population's mix, for example).
"""

import csv
import json
from dataclasses import dataclass

from sim import venues as V
from sim.enums import ADL_POLICY_NAMES
from sim.errors import ScenarioError
from sim.outputs import atomic_folder, claim, json_ready, naming

#: What :meth:`Comparison.save` writes (a folder holding only these and no marker looks like an older liqsim's).
COMPARISON_FILES = frozenset({"comparison.csv", "comparison.json", "comparison.png"})

#: Columns of :meth:`Comparison.table` after ``label``, ``venue`` and ``policy``: name and the path
#: of its value in a run's summary (see ``sim.metrics.summarize`` for units and meanings).
COLUMNS = (
    ("liquidated_long_usd", ("liquidated_notional_usd", "long")),
    ("liquidated_short_usd", ("liquidated_notional_usd", "short")),
    ("liquidated_total_usd", ("liquidated_notional_usd", "total")),
    ("long_share", ("long_share_of_liquidated",)),
    ("full_liquidations", ("liquidations", "full")),
    ("partial_liquidations", ("liquidations", "partial")),
    ("min_last_price", ("min_last_price",)),
    ("min_mark_price", ("min_mark_price",)),
    ("exogenous_drawdown_pct", ("exogenous_drawdown_pct",)),
    ("realized_drawdown_pct", ("realized_drawdown_pct",)),
    ("amplification", ("amplification",)),
    ("cascade_multiplier", ("feedback", "cascade_multiplier")),
    ("fund_start_usd", ("insurance_fund_usd", "start")),
    ("fund_min_usd", ("insurance_fund_usd", "min")),
    ("fund_end_marked_usd", ("insurance_fund_usd", "end_marked")),
    ("bad_debt_usd", ("bad_debt_usd",)),
    ("adl_notional_usd", ("adl", "notional_usd")),
    ("adl_overshoot", ("adl", "overshoot")),
    ("adl_accounts", ("adl", "accounts")),
    ("adl_haircut_usd", ("adl", "haircut_usd")),
    ("adl_gini_haircut_usd", ("adl", "gini_haircut_usd")),
    ("adl_gini_contracts", ("adl", "gini_contracts")),
    ("adl_gini_haircut_usd_side", ("adl", "gini_haircut_usd_side")),
    ("adl_gini_position_share_side", ("adl", "gini_position_share_side")),
    ("peak_liquidation_minute_usd", ("peak_liquidation_minute_usd",)),
    ("runtime_s", ("runtime_s",)),
)

#: Every column of :meth:`Comparison.table`, in order.
FIELDS = ("label", "venue", "policy") + tuple(name for name, _ in COLUMNS)


def parse_names(given, allowed, label):
    """Names from a comma-separated string or a sequence, each one of ``allowed``, in order, once each.

    Raises :class:`ScenarioError` (``"{label} = 'kraken': must be a comma-separated list of ..."``) for
    an unknown name or an empty list.
    """
    items = given.split(",") if isinstance(given, str) else list(given)
    names = [str(n).strip() for n in items]
    if not names or any(n not in allowed for n in names):
        shown = given if isinstance(given, str) else ",".join(names)
        raise ScenarioError(f"{label} = {shown!r}: must be a comma-separated list of {', '.join(allowed)}")
    return tuple(dict.fromkeys(names))


def _get(mapping, path):
    for key in path:
        mapping = mapping.get(key) if isinstance(mapping, dict) else None
    return mapping


@dataclass(frozen=True)
class Comparison:
    """Runs of one scenario under different venues and ADL policies.

    Attributes
    ----------
    scenario : sim.config.scenario.Scenario
        The base scenario, as given (resolved: every default filled in).
    labels : tuple of str
        One per run: the venue, the policy, or ``venue/policy`` when both vary.
    overrides : tuple of dict
        The dotted-key overrides that turned the base scenario into each run's scenario.
    results : tuple of sim.result.Result
        One per run, in the order of ``labels``.
    """

    scenario: object
    labels: tuple
    overrides: tuple
    results: tuple

    @property
    def venues(self):
        """The venue of each run, as its scenario has it."""
        return tuple(r.scenario.market.venue for r in self.results)

    @property
    def policies(self):
        """The ADL policy of each run, as its scenario has it."""
        return tuple(r.scenario.adl.policy for r in self.results)

    def table(self):
        """One dict per run with the keys of ``FIELDS``; money USD, prices USD, ``*_pct`` percent.

        Values come straight from each run's summary (None where the summary has none, e.g. the
        overshoot without an ADL deficit or a Gini without any ADL).
        """
        return [
            {
                "label": label,
                "venue": venue,
                "policy": policy,
                **{name: _get(res.summary, path) for name, path in COLUMNS},
            }
            for label, venue, policy, res in zip(self.labels, self.venues, self.policies, self.results)
        ]

    def plot(self, fig=None):
        """The comparison figure (:func:`sim.report.plots.plot_venue_comparison`); returns the Figure."""
        from sim.report.plots import plot_venue_comparison

        return plot_venue_comparison(self, fig=fig)

    def save(self, directory, plot=True):
        """Write comparison.csv, comparison.json (and comparison.png) into ``directory``, atomically.

        The folder is assembled under a temporary name beside ``directory`` and put in place in one step, with a
        ``.liqsim.json`` marker listing what was written (see :mod:`sim.outputs`). An existing folder is replaced
        only if it is empty or provably an earlier comparison's, and only once the new one is complete; anything
        else raises :class:`sim.errors.ScenarioError`. Returns the folder's resolved path.
        """
        with claim(directory, "comparison", COMPARISON_FILES) as target, atomic_folder(target, "comparison") as tmp:
            rows = self.table()
            with naming(target / "comparison.csv"), open(tmp / "comparison.csv", "w", newline="") as fh:
                writer = csv.writer(fh)
                writer.writerow(FIELDS)
                writer.writerows([("" if row[k] is None else row[k]) for k in FIELDS] for row in rows)
            with naming(target / "comparison.json"):
                (tmp / "comparison.json").write_text(json.dumps(json_ready(self._document(rows)), indent=2) + "\n")
            if plot:
                from sim.report.plots import COMPARISON_DPI

                with naming(target / "comparison.png"):
                    self.plot().savefig(tmp / "comparison.png", format="png", dpi=COMPARISON_DPI)
        return target

    def _document(self, rows):
        return {
            "scenario": self.scenario.scenario.name,
            "seed": self.scenario.scenario.seed,
            "table": rows,
            "runs": [
                {"label": label, "overrides": ov, "summary": res.summary, "timings": res.timings}
                for label, ov, res in zip(self.labels, self.overrides, self.results)
            ],
            "base_scenario": self.scenario.to_dict(),
            "versions": self.results[0].versions if self.results else {},
        }


def claim_comparison_folder(directory):
    """Claim a comparison's output folder before its runs (:func:`sim.outputs.claim`): a context manager that
    refuses a file, an unwritable place, a folder another process is writing, or one that is not empty or provably
    an earlier comparison's, and holds the folder's lock until it exits. Yields the resolved folder."""
    return claim(directory, "comparison", COMPARISON_FILES)


def run_overrides(scn, venues=None, policies=None):
    """Labels and overrides of every run, venue-major: ``[(label, {"market.venue": ..., "adl.policy": ...})]``."""
    venues = V.VENUES if venues is None else parse_names(venues, V.VENUES, "venues")
    policies = (scn.adl.policy,) if policies is None else parse_names(policies, ADL_POLICY_NAMES, "policies")
    out = []
    for venue in venues:
        for policy in policies:
            ov = {"market.venue": venue, "adl.policy": policy}
            if venue != scn.market.venue:  # a pack version belongs to one venue: the others run their default
                ov["market.venue_version"] = None
            both = len(venues) > 1 and len(policies) > 1
            label = f"{venue}/{policy}" if both else (policy if len(venues) == 1 < len(policies) else venue)
            out.append((label, ov))
    return out


def compare(scn, venues=None, policies=None, progress=None):
    """Run ``scn`` once per (venue, ADL policy) pair on the same seed and return a :class:`Comparison`.

    ``venues`` and ``policies`` are sequences of names or one comma-separated string; by default every
    venue (binance, bybit, okx, hyperliquid, dydx) under the scenario's own ADL policy (venue_queue,
    pro_rata or leverage_drain). ``progress``, if given, is called with the fraction of all the runs'
    simulated time done. Raises :class:`ScenarioError` for an unknown name, or with every problem of
    every combination that does not validate (each prefixed with its run's label) before any run.
    """
    from sim.engine import run

    plan, scenarios, problems = run_overrides(scn, venues, policies), [], []
    for label, ov in plan:
        try:
            scenarios.append(scn.with_overrides(ov))
        except ScenarioError as err:
            problems += [f"{label}: {p}" for p in err.problems]
    if problems:
        raise ScenarioError(problems)
    results, done, n = [], [0.0], len(scenarios)

    def report(fraction):  # over all runs; a run that ends early still closes its share
        done[0] = fraction
        if progress is not None:
            progress(fraction)

    for i, s in enumerate(scenarios):
        results.append(run(s, progress=lambda f, i=i: report((i + f) / n)))
        if done[0] < (i + 1) / n:
            report((i + 1) / n)
    return Comparison(scn, tuple(label for label, _ in plan), tuple(ov for _, ov in plan), tuple(results))
