"""The crowd study (README study (a)): one fundamental shock, one run per crowd, endogenous prices."""

import pytest

import sim
from sim.studies.crowds import crowd_study


def test_each_crowd_runs_under_endogenous_prices_and_the_table_reads_its_summary(compiled):
    scn = sim.load_scenario(None, overrides={"population.n_positions": 1500, "scenario.duration_s": 200.0})
    study = crowd_study(scn, mixes=("conservative", "degen"))
    rows = {r["mix"]: r for r in study.table()}
    assert set(rows) == {"conservative", "degen"}
    for name, res in study.results.items():
        assert res.scenario.prices.model == "endogenous"
        assert res.scenario.population.leverage_mix == name
        assert rows[name]["liquidated_usd"] == res.summary["liquidated_notional_usd"]["total"]
    # the crowd sets the drawdown: the levered one drags the index further below the same fundamental shock
    assert rows["degen"]["index_low_pct"] < rows["conservative"]["index_low_pct"]
    assert rows["degen"]["fundamental_pct"] == pytest.approx(rows["conservative"]["fundamental_pct"])
    fig = study.plot()
    assert len(fig.axes) == 2 and len(fig.axes[0].lines) == 3  # the fundamental value and one index per crowd


def test_an_unknown_mix_is_refused():
    with pytest.raises(ValueError, match="unknown leverage mix"):
        crowd_study(sim.load_scenario(None), mixes=("yolo",))
