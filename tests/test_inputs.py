"""Inputs the schema allows that used to end in a traceback or an absurd run: huge values echoed in full, deep
nesting, data files that are folders or FIFOs, runs bigger than the machine's memory, lot sizes that rewrite open
interest, replay timestamps in the wrong unit; and a fuzz of the loader over every key.

The rule they all follow: a malformed scenario or argument is a :class:`sim.errors.ScenarioError` (exit status 2 on
the command line) with one message per problem naming the key, the bad value and what is allowed.
"""

import os
import signal
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from sim.cli import main
from sim.config import files, memory
from sim.config.files import read_book_csv, read_path_csv, read_positions_csv
from sim.config.scenario import load_scenario, parse_scenario
from sim.config.schema import specs
from sim.config.tables import TABLES
from sim.errors import MAX_SHOWN, ScenarioError, shown


def problems_of(fn, *args, **kw):
    """The problems a call raises (it must raise ScenarioError)."""
    with pytest.raises(ScenarioError) as info:
        fn(*args, **kw)
    return info.value.problems


DATA = Path(__file__).resolve().parent / "data"


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def cli_errors(capsys, argv):
    """Run the command line in this process; its exit status and its stderr lines (it must print no traceback)."""
    status = main(argv)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return status, err.splitlines()


# ----------------------------------------------------------------------------------------- echoed values


def test_a_huge_value_is_echoed_cut_with_its_length(tmp_path):
    big = "x" * 9_000_000
    (msg,) = problems_of(load_scenario, write(tmp_path / "s.toml", f'[scenario]\nname = "a {big}"\n'))
    assert msg.startswith(f"{tmp_path / 's.toml'}: scenario.name = 'a xxx") and len(msg) < 1000
    assert "… (9,000,002 characters): must be a non-empty string of letters" in msg
    # a huge key, a huge override and a huge table of weights are cut the same way
    (msg,) = problems_of(parse_scenario, {"market": {big: 1}})
    assert msg.startswith("<dict>: market.xxx") and "(9,000,007 characters): unknown key" in msg and len(msg) < 1500
    (msg,) = problems_of(load_scenario, None, {"market.lot_size": big})
    assert msg.startswith("override: market.lot_size = 'xxx") and len(msg) < 1000
    (msg,) = problems_of(load_scenario, None, {big: 1})
    assert msg.startswith("override: xxx") and len(msg) < 1000
    weights = {str(k): "w" for k in range(1, 100_000)}
    got = problems_of(parse_scenario, {"population": {"leverage_mix": weights}})
    assert len(got) == 101 and got[-1] == "... and 99899 more"  # one per bad weight, at most 100 listed


def test_shown_is_repr_for_ordinary_values():
    for value in (0.5, "0.1", True, {"2": 0}, [2, 10], {"mmr_pct": 1}, 2**63, None):
        assert shown(value) == repr(value)
    assert shown("y" * 1000) == repr("y" * MAX_SHOWN) + "… (1,000 characters)"
    assert shown(10**5000) == "<an integer of about 5,000 digits>"  # Python itself refuses to print it
    assert len(shown([list(range(10_000))] * 10_000)) < 4 * MAX_SHOWN + 50


def test_huge_values_on_the_command_line_are_cut(tmp_path, capsys):
    big = "z" * 9_000_000
    status, err = cli_errors(capsys, ["validate", "nope.toml", "--set", big])
    assert status == 2 and len(err) == 1 and err[0].startswith("liqsim: error: --set 'zzz") and len(err[0]) < 1000
    scn = write(tmp_path / "s.toml", "[scenario]\nname = 'ok'\n")
    status, err = cli_errors(capsys, ["validate", str(scn), "--set", f"scenario.description=1{big}", "--set", big])
    assert status == 2 and all(len(line) < 1000 for line in err)


def test_a_huge_csv_cell_is_cut(tmp_path):
    path = write(tmp_path / "book.csv", "side,price,size\nbid," + "9" * 100_000 + "x,1\n")
    (msg,) = problems_of(read_book_csv, path)
    assert msg.startswith(f"{path}: line 2: price = '999") and "(100,001 characters): must be a number > 0" in msg


# ------------------------------------------------------------------------------------------------ deep nesting


def nested(depth, leaf=1):
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


def test_deep_nesting_in_a_file_is_a_message_not_a_recursion_error(tmp_path):
    arrays = write(tmp_path / "a.toml", "[scenario]\ndescription = " + "[" * 500 + "]" * 500 + "\n")
    assert problems_of(load_scenario, arrays) == [
        f"{arrays}: arrays or inline tables nested too deeply to read; at most 16 levels are allowed"
    ]
    dotted = write(tmp_path / "d.toml", "[scenario]\n" + ".".join(["a"] * 600) + " = 1\n")
    (msg,) = problems_of(load_scenario, dotted)
    assert msg == f"{dotted}: scenario{'.a' * 15}: tables and arrays nested more than 16 levels deep; " + (
        "no scenario key takes more than a few"
    )
    inline = write(tmp_path / "i.toml", "[market]\ntiers = " + "[" * 40 + "]" * 40 + "\n")
    assert "market.tiers[0][0]" in problems_of(load_scenario, inline)[0]


def test_deep_nesting_in_overrides_and_dicts(tmp_path):
    (msg,) = problems_of(load_scenario, None, {"market.lot_size": "[" * 500 + "]" * 500})
    assert msg.startswith("override: market.lot_size = '[[[[") and msg.endswith("must be a number in (0, 1e6]")
    (msg,) = problems_of(load_scenario, None, {"market.tiers": nested(2000)})
    assert msg.startswith("override: market.tiers[0][0]") and "nested more than 16 levels deep" in msg
    (msg,) = problems_of(parse_scenario, {"population": {"leverage_mix": nested(5000)}})
    assert msg.startswith("<dict>: population.leverage_mix[0][0]")
    base = load_scenario(None)
    assert "nested more than 16" in problems_of(base.with_overrides, {"population.leverage_mix": nested(3000)})[0]


def test_deep_nesting_on_the_command_line(tmp_path, capsys):
    scn = write(tmp_path / "s.toml", "[scenario]\nname = 'ok'\n")
    deep = "[" * 600 + "]" * 600
    status, err = cli_errors(capsys, ["validate", str(scn), "--set", f"book.shape={deep}"])
    assert status == 2 and err == [f"liqsim: error: override: book.shape = {shown(deep)}: must be a number in (0, 5]"]
    status, err = cli_errors(capsys, ["sweep", str(scn), "--grid", f"book.shape=[1,{deep}]", "--out", str(tmp_path)])
    assert status == 2 and len(err) == 1 and "must be a number in (0, 5]" in err[0]


# ----------------------------------------------------------------------------------------- file kinds


@pytest.fixture
def no_blocking():
    """Fail a test that blocks (on opening a FIFO without a writer) instead of hanging the suite."""

    def blocked(signum, frame):
        raise AssertionError("blocked for 20 s: a FIFO was opened")

    old = signal.signal(signal.SIGALRM, blocked)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


@pytest.mark.parametrize(
    "key, extra",
    [("population.file", {}), ("book.file", {}), ("shock.file", {"shock.kind": "replay"})],
)
def test_a_folder_or_fifo_as_a_data_file_says_what_it_is(tmp_path, no_blocking, key, extra):
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    inside_a_file = tmp_path / "s.toml" / "x.csv"
    write(tmp_path / "s.toml", "")
    for path, problem in (
        (fifo, "is a FIFO (named pipe), not a CSV file"),
        (folder, "is a folder, not a CSV file"),
        (tmp_path / "none.csv", "no such file"),
        (inside_a_file, "no such file (a part of the path before the file name is a file, not a folder)"),
    ):
        (msg,) = problems_of(load_scenario, None, {key: str(path), **extra})
        assert msg == f"override: {key} = {str(path)!r}: {problem} ({path})"
    (msg,) = problems_of(read_book_csv, fifo)
    assert msg == f"{fifo}: is a FIFO (named pipe), not a CSV file"


def test_a_folder_or_fifo_as_the_scenario_file(tmp_path, capsys, no_blocking):
    fifo = tmp_path / "s.toml"
    os.mkfifo(fifo)
    assert problems_of(load_scenario, fifo) == [f"{fifo}: is a FIFO (named pipe), not a scenario file"]
    assert problems_of(load_scenario, tmp_path) == [f"{tmp_path}: is a folder, not a scenario file"]
    status, err = cli_errors(capsys, ["validate", str(fifo)])
    assert status == 2 and err == [f"liqsim: error: {fifo}: is a FIFO (named pipe), not a scenario file"]


def test_paths_that_cannot_name_a_file(tmp_path):
    (msg,) = problems_of(load_scenario, None, {"population.file": "a\0b.csv"})
    assert msg == "override: population.file = 'a\\x00b.csv': must be a file path (a string without NUL characters)"
    (msg,) = problems_of(load_scenario, None, {"book.file": "~no_such_user_here/b.csv"})
    assert msg.endswith("no such file (~no_such_user_here: no such user)")
    (msg,) = problems_of(load_scenario, None, {"book.file": "b" * 100_000})
    assert "cannot be read: File name too long" in msg and len(msg) < 1000
    assert problems_of(load_scenario, "a\0b.toml") == ["a\0b.toml: not a valid file path"]


# ---------------------------------------------------------------------------------------------- lean readers


def test_reading_a_positions_file_costs_little_more_than_its_arrays(tmp_path, monkeypatch):
    n = 50_000
    rows = "".join(f"{'long' if i % 3 else 'short'},0.{i % 97 + 1},12{i % 10}000,{i % 20 + 1},,\n" for i in range(n))
    path = write(tmp_path / "pos.csv", "side,size,entry_price,leverage,mode,wallet\n" + rows)
    monkeypatch.setattr(files, "CHUNK_ROWS", 512)
    tracemalloc.start()
    try:
        pos = read_positions_csv(path)
        kept, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(pos["side"]) == n and pos["line"][-1] == n + 1
    assert kept / n < 50 and peak / n < 70  # 42 bytes a row returned; the reader that kept every row took ~800


def test_problems_of_big_files_keep_the_line_order_and_count_the_rest(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "CHUNK_ROWS", 7)
    body = "".join(
        "long,1,100,10,,\n" if i % 5 else "long,-1,100,x,hedge,\n" for i in range(1000)
    )  # every fifth row: three bad cells
    path = write(tmp_path / "pos.csv", "side,size,entry_price,leverage,mode,wallet\n" + body + "long,1\n")
    got = problems_of(read_positions_csv, path)
    assert (
        got[0] == f"{path}: line 1002: 2 fields, but the header has 6 (side, size, entry_price, leverage, mode, wallet)"
    )
    assert got[1:4] == [
        f"{path}: line 2: size = '-1': must be a number > 0",
        f"{path}: line 2: mode = 'hedge': must be one of isolated, cross",
        f"{path}: line 2: leverage = 'x': must be a number ≥ 1",
    ]
    assert got[4].startswith(f"{path}: line 7: size") and got[20] == "... and 581 more"  # 1 + 200·3 − 20


def test_old_mac_line_ends_are_lines_too(tmp_path):
    path = tmp_path / "cr.csv"
    path.write_bytes(b"side,size,entry_price,margin\rlong,1,100,10\rshort,2,100,20\r\nlong,3,100,30")
    assert files.count_lines(path) == 4
    assert list(read_positions_csv(path)["line"]) == [2, 3, 4]


def test_book_duplicates_are_found_across_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "CHUNK_ROWS", 2)
    path = write(
        tmp_path / "b.csv", "side,price,size\nbid,99.9,1\nask,100.1,1\nbid,99.8,1\nask,100.10,2\nbid,99.90,3\n"
    )
    assert problems_of(read_book_csv, path, tick_size=0.1, start_price=100.0) == [
        f"{path}: line 5: price = '100.1': the ask side lists this price twice",
        f"{path}: line 6: price = '99.9': the bid side lists this price twice",
    ]
    levels = read_book_csv(write(tmp_path / "ok.csv", "side,price,size\nbid,99.9,1\nask,100.1,1\nbid,99.8,2\n"))
    assert list(levels["side"]) == [1, -1, 1] and list(levels["size"]) == [1, 1, 2]
    path = write(tmp_path / "p.csv", "timestamp,price\n# source\n0,1\n2,2\n1,3\n3,4\n")
    assert problems_of(read_path_csv, path) == [
        f"{path}: line 5: timestamp = '1': must not be earlier than the previous row's timestamp"
    ]
    path = read_path_csv(write(tmp_path / "q.csv", "timestamp,price\n# source\n0,1\n2,2\n\n2,3\n3,4\n"))
    assert list(path["t_s"]) == [0, 2, 2, 3] and list(path["price"]) == [1, 2, 3, 4]


# ------------------------------------------------------------------------------------------------------ memory


def test_a_run_bigger_than_the_memory_is_refused_before_it_allocates(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LIQSIM_MEMORY_LIMIT_GB", "8")
    (msg,) = problems_of(load_scenario, None, {"population.n_positions": 50_000_000})
    assert msg.startswith(
        "override: population.n_positions = 50000000: a run would need about 26.1 GB of memory (50,000,001 position "
        "rows × 516 B = 25.8 GB; 968,001 book levels × 56 B = 54 MB; 600 background orders × 220 B = 1 MB; "
    )
    assert msg.endswith(
        "more than the 8.0 GB available (set by LIQSIM_MEMORY_LIMIT_GB): population.n_positions must be at most "
        "about 15,000,000"
    )
    assert load_scenario(None, {"population.n_positions": 14_500_000}).population.n_positions == 14_500_000
    out = tmp_path / "out"
    status, err = cli_errors(capsys, ["run", "--set", "population.n_positions=50000000", "--out", str(out)])
    assert status == 2 and err == [f"liqsim: error: {msg}"] and not out.exists()
    # the other sizes a run allocates by: unwinds, samples, background orders, a GBM path
    monkeypatch.setenv("LIQSIM_MEMORY_LIMIT_GB", "1")
    for key, value, fix in (
        ("insurance_fund.unwind_interval_s", 0.001, "insurance_fund.unwind_interval_s must be at least about 0.0222"),
        ("output.sample_interval_s", 0.02, "output.sample_interval_s must be at least about 0.0318"),
        ("book.noise_rate_per_s", 200, "book.noise_rate_per_s must be at most about 35.2"),
    ):
        (msg,) = problems_of(load_scenario, None, {"scenario.duration_s": 86400, "shock.start_s": 60, key: value})
        assert msg.startswith(f"override: {key} = {value}: a run would need about ") and msg.endswith(fix)
    monkeypatch.setenv("LIQSIM_MEMORY_LIMIT_GB", "0.1")
    (msg,) = problems_of(load_scenario, None, {"population.n_positions": 1000})
    assert msg.startswith("<defaults>: market.tick_size_usd = 0.1: a run would need about 255 MB") and msg.endswith(
        "than the 100 MB available (set by LIQSIM_MEMORY_LIMIT_GB): the rest alone needs 201 MB"
    )


def test_a_positions_file_too_big_for_the_memory_is_refused_before_it_is_read(tmp_path, monkeypatch):
    # 100,000 lines, all of them malformed: a file that were read would report them
    path = write(tmp_path / "pos.csv", "side,size,entry_price,leverage\n" + "x\n" * 99_999)
    monkeypatch.setenv("LIQSIM_MEMORY_LIMIT_GB", "0.25")
    (msg,) = problems_of(load_scenario, None, {"population.file": str(path), "book.range_pct": 20})
    assert msg.startswith(
        f"override: population.file = '{path}': a run would need about 283 MB of memory (100,000 position rows × "
        "558 B = 56 MB; 484,001 book levels × 56 B = 27 MB;"
    )
    assert msg.endswith("a file of at most about 40,600 rows fits")
    monkeypatch.setenv("LIQSIM_MEMORY_LIMIT_GB", "0.001")  # the reader on its own refuses too
    assert problems_of(read_positions_csv, path) == [
        f"{path}: 100,000 lines would need about 4 MB of memory to read, more than the 1 MB available (set by "
        "LIQSIM_MEMORY_LIMIT_GB)"
    ]


@pytest.mark.parametrize("text", ["abc", "0", "-1", "inf", "nan"])
def test_the_memory_limit_variable_must_be_a_size(monkeypatch, text):
    monkeypatch.setenv("LIQSIM_MEMORY_LIMIT_GB", text)
    assert problems_of(load_scenario, None) == [
        f"LIQSIM_MEMORY_LIMIT_GB = {text!r}: must be a number > 0 (the GB of memory a run may use), or unset"
    ]


def test_the_system_gives_a_figure():
    room = memory.available()
    assert isinstance(room, memory.Available) and room.bytes > 0


def test_the_estimate_covers_what_a_run_allocates(compiled):
    """NumPy's peak allocation in a run (traced) stays under the estimate of sim.config.memory, and not far under:
    an array added to the engine without its share in the estimate fails here."""
    import sim

    n = 200_000
    scn = load_scenario(None, {"population.n_positions": n, "book.range_pct": 12, "shock.size_pct": -10})
    levels = 2 * 0.12 * 121000 / 0.1 + 1
    per = memory.PER
    estimate = (n + 1) * per["position"] + levels * per["book level"] + 600 * per["background order"]
    estimate += 301 * (per["sample"] + per["oracle tick"]) + 61 * per["unwind"]
    tracemalloc.start()
    try:
        sim.run(scn)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert 0.6 * estimate < peak < estimate


# ------------------------------------------------------------------------------------------------- lot size


def drawn_open_interest(scn, lot):
    """The open interest of the population the engine draws with ``market.lot_size = lot``, in USD."""
    from dataclasses import replace

    from sim.world.population import generate
    from sim.world.streams import generator

    market = replace(scn.market, lot_size=lot)
    pop = generate(scn.population, market, generator(0, "population"))
    traders = pop.kind == 0
    sides = [pop.size[traders & (pop.side == s)].sum() for s in (1, -1)]
    return max(sides) * market.start_price_usd


def test_a_lot_that_rewrites_the_open_interest_is_refused(capsys):
    (msg,) = problems_of(load_scenario, None, {"market.lot_size": 100, "book.noise_rate_per_s": 0})
    assert msg == (
        "override: market.lot_size = 100: rounding every position's size to whole lots of 1.21e7 USD (at "
        "market.start_price_usd), at least one each, would make the open interest about 7.26e11 USD instead of 8e9 "
        "(90.8 times as much) with population.open_interest_usd = 8e9 over population.n_positions = 100000; it may "
        "move it by at most 1%: market.lot_size must be at most about 0.303"
    )
    status, err = cli_errors(capsys, ["validate", "scenarios/calm.toml", "--set", "market.lot_size=1e6"])
    assert status == 2 and len(err) == 2 and all("market.lot_size = 1000000.0: rounding every" in m for m in err)
    assert "open interest about 7.26e15 USD instead of 8e9 (908000 times as much)" in err[0]
    # the estimate is the generator's own result: +30% at 1 BTC, and within 1% at the largest lot allowed
    scn = load_scenario(None, {"market.lot_size": 0.3, "book.noise_rate_per_s": 0})
    assert drawn_open_interest(scn, 1.0) == pytest.approx(8e9 * 1.30, rel=0.01)
    assert drawn_open_interest(scn, 0.3) == pytest.approx(8e9, rel=0.01)
    (msg,) = problems_of(load_scenario, None, {"market.lot_size": 1, "book.noise_rate_per_s": 0})
    assert "would make the open interest about 1.04e10 USD instead of 8e9 (+30%)" in msg
    # a small open interest over many positions makes the lot coarse too; sizes as drawn (0) are checked as well
    (msg,) = problems_of(load_scenario, None, {"population.open_interest_usd": 1e6, "population.n_positions": 10**5})
    assert "would make the open interest about 7.4e6 USD instead of 1e6 (7.4 times as much)" in msg
    assert msg.endswith("market.lot_size must be at most about 3.79e-05")
    (msg,) = problems_of(load_scenario, None, {"population.open_interest_usd": 0, "market.lot_size": 0.01})
    assert "would make the open interest about 8.2e7 USD instead of 3.59e7 (2.28 times as much)" in msg


def test_a_lot_that_rewrites_the_background_orders_is_refused(tmp_path):
    (msg,) = problems_of(load_scenario, None, {"book.noise_notional_median_usd": 50})
    assert msg == (
        "<defaults>: market.lot_size = 0.001: rounding every background order's size to whole lots of 121 USD (at "
        "market.start_price_usd), at least one each, would move their mean notional (+72%) with "
        "book.noise_notional_median_usd = 50; it may move it by at most 1%: market.lot_size must be at most about "
        "0.00015"
    )
    assert load_scenario(None, {"book.noise_notional_median_usd": 50, "market.lot_size": 0.00015})
    assert load_scenario(None, {"book.noise_notional_median_usd": 50, "book.noise_rate_per_s": 0})


# ---------------------------------------------------------------------------------------------- replay units


def replay(tmp_path, stamps, unit=None, name="path.csv"):
    """The path a replay scenario reads from a file of these timestamps (prices 100, 95, 90, ...)."""
    rows = "".join(f"{t},{100 - 5 * i}\n" for i, t in enumerate(stamps))
    path = write(tmp_path / name, "timestamp,price\n" + rows)
    over = {"shock.kind": "replay", "shock.file": str(path), **({"shock.time_unit": unit} if unit else {})}
    return path, over


def test_replay_timestamps_in_any_unit_of_unix_time(tmp_path):
    seconds = [1760130000, 1760130030, 1760130090]
    for scale, unit in ((1, "s"), (10**3, "ms"), (10**6, "us"), (10**9, "ns")):
        _, over = replay(tmp_path, [t * scale for t in seconds], name=f"{unit}.csv")
        path = load_scenario(None, over).shock.path
        assert list(path["t_s"]) == [0, 30, 90], unit  # microseconds and nanoseconds were read as milliseconds
        _, over = replay(tmp_path, [t * scale for t in seconds], unit, name=f"{unit}_set.csv")
        assert list(load_scenario(None, over).shock.path["t_s"]) == [0, 30, 90]
    _, over = replay(tmp_path, [0, 30, 90])  # seconds from any origin
    assert list(load_scenario(None, over).shock.path["t_s"]) == [0, 30, 90]
    _, over = replay(tmp_path, [0, 30000, 90000], "ms")  # relative milliseconds need the unit
    assert list(load_scenario(None, over).shock.path["t_s"]) == [0, 30, 90]


def test_replay_timestamps_that_fit_no_unit_or_mix_units_are_refused(tmp_path):
    path, over = replay(tmp_path, [5e10, 5e10 + 30])
    (msg,) = problems_of(load_scenario, None, over)
    assert msg == (
        f"{path}: line 2: timestamp = '50000000000.0': no unit fits it: it is no Unix time between 1990 and 2100 in "
        "seconds, milliseconds, microseconds or nanoseconds, nor below 6.31e8 (seconds from any origin); set "
        "shock.time_unit (s, ms, us or ns)"
    )
    path, over = replay(tmp_path, [1760130000000, 1760130030000, 1760130090000000])
    (msg,) = problems_of(load_scenario, None, over)
    assert msg == (
        f"{path}: line 4: timestamp = '1760130090000000': must be in the unit of the first timestamp (line 2: "
        "1760130000000, a Unix time between 1990 and 2100 in milliseconds); a file that mixes units cannot be read "
        "(shock.time_unit sets one)"
    )
    path, over = replay(tmp_path, [0, 30, 1760130090])
    (msg,) = problems_of(load_scenario, None, over)
    assert msg.startswith(f"{path}: line 4: timestamp = '1760130090': must be in the unit of the first timestamp")
    assert "(line 2: 0, below 6.31e8, seconds from any origin)" in msg


def test_a_replay_span_past_the_millisecond_clock_is_an_error_not_a_warning(tmp_path):
    import warnings

    path, over = replay(tmp_path, [0, 30 * 10**9, 9 * 10**18], "s")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (msg,) = problems_of(load_scenario, None, over)
    assert msg == (
        f"{path}: the timestamps span 9e+18 s (line 2 to line 4), more than a run's clock holds (int64 milliseconds: "
        "9.22e+15 s); check the unit (seconds; shock.time_unit sets it)"
    )
    (msg,) = problems_of(load_scenario, None, {"shock.time_unit": "minutes"})
    assert msg == "override: shock.time_unit = 'minutes': must be one of auto, s, ms, us, ns"


# ----------------------------------------------------------------------------------------------------- fuzz

KEYS = sorted((t, k) for t, cls in TABLES.items() for k in specs(cls))

_leaves = st.one_of(
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.sampled_from([0, 1, -1, 2**63, 2**63 - 1, 10**400, 50_000_000, 10**13]),
    st.floats(),  # NaN and infinities included
    st.sampled_from([0.0, -0.0, 1e-300, 5e-324, 1e300, 1e13, 0.001, 0.999999, 86400.0]),
    st.text(max_size=20),
    st.sampled_from(["", "x" * 100_000, "a\0b", "~nobody_here/x", "1e6", "inf", "nan", "{2=1}", "[1,2]", "ramp"]),
    st.sampled_from(["replay", "gbm", "gap", "none", "balanced", "degen", "hyperliquid", "okx", "bybit", "binance"]),
    st.dates(),
    st.datetimes(),
    st.times(),
)
_values = st.recursive(
    _leaves,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12,
)
_tables = st.dictionaries(
    st.sampled_from(KEYS).map(lambda tk: tk[0]),
    st.one_of(
        st.dictionaries(st.sampled_from([k for _, k in KEYS] + ["nope"]), _values, max_size=6),
        _values,
    ),
    max_size=5,
)


def returns_or_refuses(fn, *args):
    try:
        fn(*args)
    except ScenarioError as err:
        assert err.problems and all(isinstance(p, str) and p for p in err.problems)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(raw=_tables, extra=st.dictionaries(st.sampled_from(KEYS), _values, max_size=6))
def test_fuzz_parse_scenario_returns_or_refuses(raw, extra):
    for (table, key), value in extra.items():
        if isinstance(raw.get(table, {}), dict):
            raw.setdefault(table, {})[key] = value
    returns_or_refuses(parse_scenario, raw)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    overrides=st.dictionaries(
        st.one_of(st.sampled_from(KEYS).map(".".join), st.text(max_size=12)),
        st.one_of(_values, st.text(max_size=30), st.text(alphabet="[]{}=,.0123456789e-\"' ab", max_size=40)),
        max_size=5,
    )
)
def test_fuzz_overrides_return_or_refuse(overrides):
    returns_or_refuses(load_scenario, None, overrides)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=_tables, text=st.text(alphabet="[]{}=.,\"'#\n abcdefgkstuvxyz_0123456789-+:", max_size=200))
def test_fuzz_toml_files_return_or_refuse(tmp_path_factory, raw, text):
    import tomli_w

    try:
        text = tomli_w.dumps(raw)  # the tables as a file, where TOML can hold them
    except (TypeError, ValueError):
        pass
    path = tmp_path_factory.mktemp("fuzz") / "s.toml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    returns_or_refuses(load_scenario, path)


def _in_range(spec):
    """Values a key's own checks accept (mostly), so the checks that tie keys together run."""
    if spec.kind in ("float", "int"):
        lo = spec.lo if isinstance(spec.lo, (int, float)) else -1e15
        hi = spec.hi if isinstance(spec.hi, (int, float)) else 1e15
        if spec.kind == "int":
            return st.integers(int(lo), int(min(hi, 2**63 - 1)))
        return st.one_of(st.floats(lo, hi), st.sampled_from([lo, hi, (lo + hi) / 2]), st.floats(lo, min(hi, lo + 1)))
    if spec.choices:
        return st.sampled_from(spec.choices)
    if spec.kind == "bool":
        return st.booleans()
    if spec.kind == "path":
        return st.sampled_from([str(DATA / n) for n in ("scn_positions.csv", "scn_book.csv", "scn_path.csv")])
    if spec.kind == "mix":
        weights = st.dictionaries(st.sampled_from(["1", "2.5", "10", "50", "100", "200"]), st.floats(0, 10), min_size=1)
        return st.one_of(st.sampled_from(["balanced", "degen"]), weights)
    if spec.kind == "tiers":
        keys = {"notional_floor_usd": st.floats(0, 1e9), "max_leverage": st.floats(1, 200), "mmr_pct": st.floats(0, 50)}
        return st.lists(st.fixed_dictionaries(keys), min_size=1, max_size=3)
    return st.text(max_size=10)


_SPECS = [(t, k, spec) for t, cls in TABLES.items() for k, spec in specs(cls).items()]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pairs=st.lists(
        st.sampled_from(_SPECS).flatmap(lambda tks: _in_range(tks[2]).map(lambda v: (tks[0], tks[1], v))), max_size=5
    )
)
@example(pairs=[("population", "size_tail_alpha", 0.015625)])  # found by a local run: n ** (1 / alpha) overflowed
def test_fuzz_values_in_range_return_or_refuse(pairs):
    raw = {}
    for table, key, value in pairs:
        raw.setdefault(table, {})[key] = value
    returns_or_refuses(parse_scenario, raw)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    header=st.sampled_from(
        ["side,size,entry_price,leverage,mode,wallet\n", "side,size,entry_price,margin\n", "side,price,size\n", ""]
        + ["timestamp,price\n", "# source\ntimestamp,price\n"]
    ),
    body=st.text(alphabet='longshrtbidakcrsi,.-+0123456789eE \n\r"#x\x00\u2028', max_size=200),
    reader=st.sampled_from(["positions", "book", "book on the market", "path", "path in s", "path in ns"]),
)
def test_fuzz_csv_readers_return_or_refuse(tmp_path_factory, header, body, reader):
    path = tmp_path_factory.mktemp("csv") / "f.csv"
    with open(path, "w", newline="") as f:
        f.write(header + body)
    read = {
        "positions": read_positions_csv,
        "book": read_book_csv,
        "book on the market": lambda p: read_book_csv(p, tick_size=0.1, start_price=100.0, range_pct=40),
        "path": read_path_csv,
        "path in s": lambda p: read_path_csv(p, unit="s"),
        "path in ns": lambda p: read_path_csv(p, unit="ns"),
    }[reader]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(files, "CHUNK_ROWS", 3)  # chunk boundaries everywhere
        returns_or_refuses(read, path)
