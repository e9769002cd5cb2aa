"""Severity studies: the per-point means and t intervals over seeds (against numbers worked out by hand), failed
and undefined runs left out, the choice of x and groups, the figure, and `liqsim plot severity` on a real sweep's
folder."""

import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection

from sim.cli import main
from sim.config import mixes
from sim.errors import ScenarioError
from sim.report.plotkit import MIX_COLORS
from sim.studies.severity import METRICS, load_sweep, plot_severity, severity_table
from sim.studies.sweep import run_sweep

SMALL = {"population.n_positions": 3000, "scenario.duration_s": 240.0, "shock.start_s": 10.0, "shock.duration_s": 30.0}


def table(values, shocks=(-5.0, -10.0), mixes=("conservative", "degen"), status=None, column="adl.notional_usd"):
    """A results table like a sweep's: grid shock.size_pct × leverage_mix, len(values) // 4 seeds each."""
    rows = [(s, m) for s in shocks for m in mixes]
    seeds = len(values) // len(rows)
    frame = pd.DataFrame(
        {
            "run_id": [f"r{i:016x}" for i in range(len(values))],
            "seed": [k for _ in rows for k in range(seeds)],
            "shock.size_pct": [s for s, _ in rows for _ in range(seeds)],
            "population.leverage_mix": pd.array([m for _, m in rows for _ in range(seeds)], dtype="string"),
            "status": pd.array(status or ["ok"] * len(values), dtype="string"),
            "error": pd.array([None] * len(values), dtype="string"),
            "runtime_s": 0.01,
            column: values,
        }
    )
    return frame


def test_mean_and_t_interval_per_point_in_the_sweeps_group_order():
    values = [1.0, 2.0, 3.0, 10.0, 20.0, 30.0, 5.0, 5.0, 5.0, 7.0, 8.0, 9.0]
    sev = severity_table(table(values, mixes=("degen", "conservative"), shocks=(-10.0, -5.0)), "adl_notional")
    assert list(sev["group"]) == ["degen", "degen", "conservative", "conservative"]  # sweep order, x ascending
    assert list(sev["shock.size_pct"]) == [-10.0, -5.0, -10.0, -5.0]
    # degen at -10: 1, 2, 3: mean 2, sd 1; t(0.975, 2 df) = 4.302653 (see T_2 below), so the half-width is
    # 4.302653 / sqrt(3) = 2.484138: hi = 4.484138, and lo = -0.484138 clipped to 0 (notional cannot be negative)
    first = sev.iloc[0]
    assert (first["n"], first["mean"], first["sd"]) == (3, 2.0, 1.0)
    assert first["hi"] == pytest.approx(4.484138, rel=1e-6)
    assert first["lo"] == 0.0
    flat = sev.iloc[1]  # degen at -5: 5, 5, 5
    assert (flat["lo"], flat["mean"], flat["hi"]) == (5.0, 5.0, 5.0)
    wide = severity_table(
        table(values, mixes=("degen", "conservative"), shocks=(-10.0, -5.0)), "adl_notional", level=0.99
    )
    # t(0.995, 2 df) = 9.924843: half-width 9.924843 / sqrt(3) = 5.730111
    assert (wide["hi"] - wide["mean"]).iloc[0] == pytest.approx(5.730111, rel=1e-6)


# Student's t quantiles in closed form, worked by hand (and as printed in t tables): with 1 degree of freedom
# t(p) = tan(pi (p - 1/2)); with 2, t(p) = a sqrt(2 / (1 - a^2)), a = 2p - 1.
#   t(0.975, 1) = tan(0.475 pi)             = 12.70620  (tables: 12.706)
#   t(0.975, 2) = 0.95 sqrt(2 / 0.0975)     =  4.302653 (tables:  4.303)
#   t(0.995, 2) = 0.99 sqrt(2 / 0.0199)     =  9.924843 (tables:  9.925)
#   t(0.95, 2)  = 0.90 sqrt(2 / 0.19)       =  2.919986 (tables:  2.920)
@pytest.mark.parametrize(
    "metric, column, values, level, mean, sd, lo, hi",
    [
        # -3, -6, -12: mean -7, deviations 4, 1, -5, sd sqrt(42 / 2) = sqrt(21) = 4.582576; half-width
        # 2.919986 * sqrt(21) / sqrt(3) = 2.919986 * sqrt(7) = 7.725556; a signed metric is not clipped at 0
        ("realized_drawdown", "realized_drawdown_pct", [-3.0, -6.0, -12.0], 0.90, -7.0, 4.582576, -14.725556, 0.725556),
        # 1, 1.5: mean 1.25, sd 0.5 / sqrt(2) = 0.3535534; half-width 12.70620 * 0.3535534 / sqrt(2) = 3.176551
        ("amplification", "amplification", [1.0, 1.5], 0.95, 1.25, 0.3535534, -1.926551, 4.426551),
    ],
)
def test_the_interval_is_students_t_around_the_mean(metric, column, values, level, mean, sd, lo, hi):
    frame = table(values, shocks=(-5.0,), mixes=("balanced",), column=column)
    row = severity_table(frame, metric, level=level).iloc[0]
    assert row["n"] == len(values) and row["mean"] == pytest.approx(mean, rel=1e-12)
    assert row["sd"] == pytest.approx(sd, rel=1e-6)
    assert row["lo"] == pytest.approx(lo, rel=1e-6) and row["hi"] == pytest.approx(hi, rel=1e-6)


def test_failed_and_undefined_runs_are_left_out_and_counted_never_read_as_zero():
    values = [1.0, None, 3.0, 100.0]
    frame = table(
        values, shocks=(-5.0,), mixes=("balanced",), status=["ok", "ok", "ok", "failed"], column="amplification"
    )
    row = severity_table(frame, "amplification").iloc[0]
    assert (row["runs"], row["n"], row["failed"], row["undefined"], row["mean"]) == (4, 2, 1, 1, 2.0)
    one = severity_table(table([4.0], shocks=(-5.0,), mixes=("balanced",), column="amplification"), "amplification")
    assert one.iloc[0]["mean"] == 4.0 and math.isnan(one.iloc[0]["lo"]) and math.isnan(one.iloc[0]["sd"])


def test_fund_drawdown_is_start_less_lowest_balance():
    frame = table([0.0] * 4, shocks=(-5.0,), mixes=("balanced",), column="insurance_fund_usd.start")
    frame["insurance_fund_usd.start"] = 50e6
    frame["insurance_fund_usd.min"] = [50e6, 40e6, 45e6, 35e6]
    assert severity_table(frame, "fund_drawdown").iloc[0]["mean"] == 7.5e6


def test_x_and_groups_are_chosen_from_the_grid_or_named():
    frame = table([1.0] * 8)
    frame.insert(4, "market.venue", pd.array(["okx", "bybit"] * 4, dtype="string"))
    sev = severity_table(frame, "adl_notional")
    assert sev.attrs["x"] == "shock.size_pct" and sev.attrs["by"] == ["population.leverage_mix", "market.venue"]
    assert list(dict.fromkeys(sev["group"])) == [
        "conservative, okx",
        "conservative, bybit",
        "degen, okx",
        "degen, bybit",
    ]
    by_mix = severity_table(frame, "adl_notional", by="population.leverage_mix")
    assert list(by_mix["runs"]) == [2, 2, 2, 2]
    with pytest.raises(
        ScenarioError,
        match=r"x = 'market.venue': not a numeric grid key of this sweep; its numeric "
        r"grid keys are shock.size_pct",
    ):
        severity_table(frame, "adl_notional", x="market.venue")
    with pytest.raises(ScenarioError, match=r"by = 'seed': not a grid key"):
        severity_table(frame, "adl_notional", by="seed")
    with pytest.raises(ScenarioError, match=r"metric = 'loss': unknown; the severity metrics are liquidated_notional"):
        severity_table(frame, "loss")
    with pytest.raises(ScenarioError, match=r"level = 1.5: must be a probability in \(0, 1\)"):
        severity_table(frame, "adl_notional", level=1.5)
    no_shock = table([1.0] * 4, shocks=(-5.0,)).drop(columns="shock.size_pct")
    with pytest.raises(ScenarioError, match=r"x = None: the sweep's numeric grid keys are none"):
        severity_table(no_shock, "adl_notional")


def test_the_figure_has_a_panel_per_metric_and_bands_only_with_several_seeds():
    values = [1.0, 2.0, 3.0, 10.0, 20.0, 30.0, 5.0, 5.0, 5.0, 7.0, 8.0, 9.0]
    frame = table(values)
    for name in METRICS:
        if name != "adl_notional":
            frame[METRICS[name][2] if isinstance(METRICS[name][2], str) else METRICS[name][2][0]] = 1.0
    frame["insurance_fund_usd.min"] = 0.5
    fig = plot_severity(frame)
    drawn = [ax for ax in fig.axes if ax.lines]
    assert len(drawn) == len(METRICS) and len(fig.axes) == 6  # five panels and the legend's
    assert all(len(ax.lines) == 2 for ax in drawn)
    assert sum(isinstance(c, PolyCollection) for c in drawn[3].collections) == 2  # the ADL panel's bands
    one_seed = plot_severity(table([1.0, 2.0, 3.0, 4.0]), "adl_notional")
    assert len(one_seed.axes) == 1 and not any(isinstance(c, PolyCollection) for c in one_seed.axes[0].collections)


@pytest.fixture(scope="module")
def mix_sweep(tmp_path_factory, compiled):
    out = tmp_path_factory.mktemp("severity") / "sweep"
    run_sweep(
        None,
        {"shock.size_pct": [-6.0, -12.0], "population.leverage_mix": ["conservative", "degen"]},
        3,
        out,
        executor="serial",
        overrides=SMALL,
    )
    return out


def test_plot_severity_command_writes_the_figure_and_its_numbers(mix_sweep, capsys):
    assert main(["plot", "severity", str(mix_sweep)]) == 0
    assert "severity.png" in capsys.readouterr().out
    png, csv = mix_sweep / "severity.png", mix_sweep / "severity.csv"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    numbers = pd.read_csv(csv)
    assert len(numbers) == len(METRICS) * 2 * 2
    # every run has a value, but the multiplier where the static map liquidates nothing (it is undefined there)
    assert set(numbers[numbers["metric"] != "cascade_multiplier"]["n"]) == {3}
    liq = numbers[numbers["metric"] == "liquidated_notional"].set_index(["group", "shock.size_pct"])["mean"]
    for shock in (-6.0, -12.0):  # the degen crowd loses more of the same crash, at every size
        assert liq["degen", shock] > liq["conservative", shock]
    # a deeper shock liquidates no less (the degen crowd is nearly wiped out at both sizes once prices feed back)
    assert liq["degen", -12.0] > 0.95 * liq["degen", -6.0] and liq["conservative", -12.0] > liq["conservative", -6.0]
    # the sweep can run again into its folder; the figure it outdates is removed
    run_sweep(
        None,
        {"shock.size_pct": [-6.0, -12.0], "population.leverage_mix": ["conservative", "degen"]},
        3,
        mix_sweep,
        executor="serial",
        overrides=SMALL,
    )
    assert not png.exists() and not csv.exists()
    assert len(load_sweep(mix_sweep)) == 12


@pytest.mark.parametrize(
    "args, message",
    [
        (["nowhere"], "liqsim: error: nowhere: no such folder"),
        (["SWEEP", "--metric", "loss"], "liqsim: error: --metric = 'loss': unknown; the severity metrics are "),
        (["SWEEP", "--level", "95"], "liqsim: error: --level = 95.0: must be a probability in (0, 1)"),
        (["SWEEP", "--x", "population.leverage_mix"], "liqsim: error: --x = 'population.leverage_mix': not a numeric"),
        (["SWEEP", "--out", "fig.svg"], "liqsim: error: --out = 'fig.svg': must name a .png file"),
        (["EMPTY"], "holds no results.parquet: not a finished sweep's folder"),
    ],
)
def test_plot_severity_bad_input_is_one_message_and_exit_2(mix_sweep, tmp_path, capsys, args, message):
    args = [str(mix_sweep) if a == "SWEEP" else str(tmp_path) if a == "EMPTY" else a for a in args]
    assert main(["plot", "severity", *args]) == 2
    out = capsys.readouterr()
    assert out.out == "" and message in out.err and len(out.err.splitlines()) == 1
    assert not list(tmp_path.iterdir())


def test_the_shipped_study_plans_every_shock_size_under_every_named_mix():
    from pathlib import Path

    from sim.studies.sweep import plan_sweep

    plan = plan_sweep(Path(__file__).resolve().parents[1] / "scenarios" / "leverage_mix_severity.toml")
    assert plan.grid["population.leverage_mix"] == ["conservative", "balanced", "degen"]
    assert len(plan.grid["shock.size_pct"]) == 7 and len(plan.seeds) == 10 and len(plan.runs) == 210


def test_the_callers_index_order_and_filtering_do_not_change_the_numbers():
    values = [1.0, 2.0, 3.0, 10.0, 20.0, 30.0, 5.0, 5.0, 5.0, 7.0, 8.0, 9.0]
    frame = table(values, mixes=("degen", "conservative"), shocks=(-10.0, -5.0))
    plain = severity_table(frame, "adl_notional")
    shuffled = severity_table(frame.sample(frac=1.0, random_state=3), "adl_notional")
    for sev in (shuffled, severity_table(frame.sort_values("seed"), "adl_notional")):
        mine = sev.set_index(["group", "shock.size_pct"]).sort_index()
        assert (mine.index.get_level_values(0) == mine["population.leverage_mix"]).all()
        np.testing.assert_allclose(mine["mean"], plain.set_index(["group", "shock.size_pct"]).sort_index()["mean"])
    degen = severity_table(frame[frame["population.leverage_mix"] == "degen"], "adl_notional", by=[])
    assert list(degen["mean"]) == [2.0, 5.0] and list(degen["group"]) == ["all runs"] * 2
    doubled = severity_table(pd.concat([frame, frame]), "adl_notional")
    assert list(doubled["runs"]) == [6] * 4 and list(doubled["mean"]) == list(plain["mean"])


def test_no_interval_without_two_values_even_for_a_clipped_metric():
    one = severity_table(table([4.0, 5.0, 6.0, 7.0]), "adl_notional").iloc[0]  # conservative at -10%
    assert one["mean"] == 6.0 and math.isnan(one["lo"]) and math.isnan(one["hi"])
    failed = severity_table(table([4.0] * 4, status=["failed"] * 4), "adl_notional").iloc[0]
    assert math.isnan(failed["mean"]) and math.isnan(failed["lo"]) and failed["failed"] == 1


def test_curves_sharing_a_mix_share_its_colour_but_not_their_line():
    frame = table([1.0] * 8)
    frame.insert(4, "market.venue", pd.array(["okx", "bybit"] * 4, dtype="string"))
    fig = plot_severity(frame, "adl_notional")
    lines = {line.get_label(): line for line in fig.axes[0].lines}
    a, b = lines["degen, okx"], lines["degen, bybit"]
    assert a.get_color() == b.get_color() == MIX_COLORS["degen"]
    assert (a.get_linestyle(), a.get_marker()) != (b.get_linestyle(), b.get_marker())


def test_the_named_mixes_have_one_palette():
    """The severity curves take a named mix's colour from sim.report.plotkit, the palette the notebooks use too."""
    fig = plot_severity(table([1.0] * 8, mixes=("conservative", "balanced")), "adl_notional")
    colors = {line.get_label(): line.get_color() for line in fig.axes[0].lines}
    assert colors == {"conservative": MIX_COLORS["conservative"], "balanced": MIX_COLORS["balanced"]}
    assert set(MIX_COLORS) == set(mixes.NAMED)


def test_only_the_report_draws():
    """The severity tables are computed without matplotlib; the report module draws them."""
    code = "import sys, sim.studies.severity; assert 'matplotlib' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_tables_that_are_not_a_sweeps_are_refused_plainly():
    with pytest.raises(ScenarioError, match="not a sweep's results table"):
        plot_severity(table([1.0] * 4).drop(columns="status"))
    with pytest.raises(ScenarioError, match="has no runs"):
        severity_table(table([1.0] * 4).iloc[:0], "adl_notional")


def test_out_may_not_write_other_files_into_the_sweeps_folder(mix_sweep, capsys):
    before = sorted(p.name for p in mix_sweep.iterdir())
    csv = (mix_sweep / "results.csv").read_bytes()
    for name in ("results.png", "other.png"):
        assert main(["plot", "severity", str(mix_sweep), "--out", str(mix_sweep / name)]) == 2
        assert "only severity.png may be written" in capsys.readouterr().err
    assert sorted(p.name for p in mix_sweep.iterdir()) == before and (mix_sweep / "results.csv").read_bytes() == csv


def test_every_problem_with_the_arguments_is_reported_at_once(mix_sweep, tmp_path, capsys):
    args = ["--metric", "bogus", "--metric", "loss", "--x", "nope", "--level", "95", "--out", str(tmp_path / "f.svg")]
    assert main(["plot", "severity", str(mix_sweep), *args]) == 2
    err = capsys.readouterr().err.splitlines()
    assert [line.split(":")[2].strip() for line in err] == [
        "--metric = 'bogus'",
        "--metric = 'loss'",
        "--level = 95.0",
        "--x = 'nope'",
        f"--out = '{tmp_path / 'f.svg'}'",
    ]
    assert main(["plot", "severity", str(tmp_path / "nowhere"), "--metric", "bogus"]) == 2
    assert len(capsys.readouterr().err.splitlines()) == 2  # the folder and the metric
    assert not list(tmp_path.iterdir())


def test_out_never_writes_over_a_file_liqsim_cannot_prove_it_wrote(mix_sweep, tmp_path, capsys):
    (tmp_path / "fig.csv").write_text("my numbers")
    assert main(["plot", "severity", str(mix_sweep), "--out", str(tmp_path / "fig.png")]) == 2
    assert f"{tmp_path / 'fig.csv'}: exists and liqsim cannot prove it wrote it" in capsys.readouterr().err
    assert (
        sorted(p.name for p in tmp_path.iterdir()) == ["fig.csv"] and (tmp_path / "fig.csv").read_text() == "my numbers"
    )
    assert main(["plot", "severity", str(mix_sweep), "--out", str(tmp_path / "new.png"), "--quiet"]) == 0
    assert (
        main(["plot", "severity", str(mix_sweep), "--out", str(tmp_path / "new.png")]) == 2
    )  # not over its own either
    assert "new.png, " in capsys.readouterr().err
    # in the sweep's folder: its own figure is replaced, a figure put there by someone else is not
    assert main(["plot", "severity", str(mix_sweep), "--quiet"]) == 0
    assert main(["plot", "severity", str(mix_sweep), "--quiet"]) == 0
    (mix_sweep / "severity.png").write_bytes(b"someone else's picture")
    assert main(["plot", "severity", str(mix_sweep)]) == 2
    assert "severity.png: exists and liqsim cannot prove it wrote it" in capsys.readouterr().err
    assert (mix_sweep / "severity.png").read_bytes() == b"someone else's picture"
    (mix_sweep / "severity.png").unlink()
