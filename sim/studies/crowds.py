"""The same fundamental shock under several crowds (README study (a), docs/model.md §1.6).

:func:`crowd_study` runs one scenario once per named leverage mix (``population.leverage_mix``) under endogenous
prices, changing nothing else, so the runs differ only through the crowd. Under the imposed model the index is the
shock path whatever the crowd does; here the crowd's own forced orders reach the index through the hedgers and
arbitrageurs, so the drawdown itself differs by crowd. :meth:`CrowdStudy.table` gives, per crowd, the index's and
the last price's lows, the liquidated notional, the static counterfactual and the cascade multiplier.
"""

from dataclasses import dataclass

from sim.config.mixes import NAMED

DEFAULT_MIXES = ("conservative", "balanced", "degen")


@dataclass(frozen=True)
class CrowdStudy:
    """One run per crowd: ``results[name]`` is a :class:`sim.result.Result`."""

    scenario: object
    results: dict

    def table(self):
        """Per crowd: ``mix``, ``fundamental_pct``, ``index_low_pct``, ``last_low_pct``, ``liquidated_usd``,
        ``static_usd``, ``cascade_multiplier``, ``endogenous_share_of_index_move``."""
        rows = []
        for name, res in self.results.items():
            s = res.summary
            fb = s["feedback"]
            rows.append(
                {
                    "mix": name,
                    "fundamental_pct": fb["move_pct"]["fundamental"],
                    "index_low_pct": fb["move_pct"]["index"],
                    "last_low_pct": fb["move_pct"]["last"],
                    "liquidated_usd": s["liquidated_notional_usd"]["total"],
                    "static_usd": fb["static_liquidated_usd"],
                    "cascade_multiplier": fb["cascade_multiplier"],
                    "endogenous_share_of_index_move": fb["endogenous_share_of_move"]["index"],
                }
            )
        return rows

    def plot(self, fig=None):
        """Index paths against the fundamental value, and cumulative liquidations, one colour per crowd."""
        from sim.report.crowds import plot_crowds

        return plot_crowds(self, fig=fig)


def crowd_study(scn, mixes=DEFAULT_MIXES, progress=None):
    """Run ``scn`` once per mix in ``mixes`` (names of ``sim.config.mixes``) with ``prices.model = "endogenous"``."""
    from sim.engine import run

    unknown = [m for m in mixes if m not in NAMED]
    if unknown:
        raise ValueError(f"unknown leverage mix(es) {', '.join(unknown)}; named mixes: {', '.join(NAMED)}")
    results = {}
    for k, name in enumerate(mixes):
        results[name] = run(scn.with_overrides({"population.leverage_mix": name, "prices.model": "endogenous"}))
        if progress is not None:
            progress((k + 1) / len(mixes))
    return CrowdStudy(scn, results)
