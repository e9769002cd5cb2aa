"""The kernel registry, compile progress and compile time (sim._jit, sim._compile), and that a run's own time leaves
compiling out."""

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from numba.core import types

import sim
import sim.compiling
import sim.engine  # imports every kernel module of a single-market run ...
import sim.multi  # ... and sim.multi the account layer's
from sim import _compile, _jit

ROOT = Path(__file__).resolve().parent.parent


# ------------------------------------------------------------------------------------------------
# the registry and the static call graph (the package's own kernels; nothing compiled)
# ------------------------------------------------------------------------------------------------


def test_every_kernel_registers_itself():
    defined = set()
    for path in sorted((ROOT / "sim" / "kernels").glob("*.py")):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and any(
                (isinstance(d, ast.Name) and d.id == "jit")
                or (isinstance(d, ast.Call) and isinstance(d.func, ast.Name) and d.func.id == "jit")
                for d in node.decorator_list
            ):
                defined.add(f"sim.kernels.{path.stem}.{node.name}")
    assert defined and defined <= set(_jit.KERNELS)


def test_kernels_called_from_python_are_entry_kernels():
    # a kernel without the CPython wrapper still works from Python, but through an uncached twin compiled in every
    # process: every kernel the package's Python code imports must be marked entry=True
    imported = set()
    for path in (ROOT / "sim").rglob("*.py"):
        if "kernels" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sim.kernels."):
                imported.update(f"{node.module}.{a.name}" for a in node.names if a.name.endswith("_nb"))
    assert imported
    assert {name for name in imported if not _jit.KERNELS[name].entry} == set()


def test_closure_follows_calls_through_inlined_kernels():
    names = [_compile.short_name(n) for n in _compile.closure("sim.kernels.loop.run_nb")]
    assert names[0] == "run_nb"
    # called directly, called from an inlined function (liquidate_nb -> _full_nb -> walk_nb), called two levels down
    assert {
        "oracle_nb",
        "adl_begin_nb",
        "walk_nb",
        "close_at_fill_nb",
        "init_prices_nb",
        "order_by_key_into_nb",
    } <= set(names)
    assert "liquidate_nb" not in names and "record_nb" not in names  # inlined into their callers
    assert len(names) == len(set(names))


def test_the_event_loop_runs_without_reference_counting():
    """Every kernel the event loop calls is compiled without Numba's reference-counting runtime (sim._jit): with it,
    the counting of the arrays passed to each kernel was about a third of a run. Kernels that allocate keep it, and
    the loop calls none of them (an allocation without the runtime would not compile)."""
    tree = _compile.closure("sim.kernels.loop.run_nb")
    assert [n for n in tree if _jit.KERNELS[n].fn.targetoptions.get("_nrt", True)] == []
    allocating = {n for n, k in _jit.KERNELS.items() if k.fn.targetoptions.get("_nrt", True)}
    assert {"sim.kernels.heap.order_by_key_nb", "sim.kernels.heap.split_sides_nb"} <= allocating


def test_every_compiled_kernel_is_reached_from_an_entry_kernel():
    # sim.warmup() compiles the kernels a run calls from Python; every other (not inlined) kernel must be among
    # what they call, or a later run would compile it
    reached = set()
    for k in _jit.KERNELS.values():
        if k.entry and k.inline != "always":
            reached.update(_compile.closure(k))
    compiled = {k.name for k in _jit.KERNELS.values() if k.inline != "always"}
    assert compiled - reached == set()


# ------------------------------------------------------------------------------------------------
# progress and clock on a few kernels of the test's own, compiled without the disk cache
# ------------------------------------------------------------------------------------------------


def _leaf(x):
    return x + 1.0


def _middle(x):
    return LEAF(x) * 2.0  # noqa: F821 (set by the fixture)


def _inlined(x):
    return LEAF(x) - 1.0  # noqa: F821


def _top(x):
    return MIDDLE(x) + INLINED(x)  # noqa: F821


@pytest.fixture
def toy(monkeypatch):
    """Fresh kernels top -> middle -> leaf, top -> inlined (inline="always") -> leaf, alone in the registry (so that
    the package's own kernels, compiled or not, do not count) and compiled without the disk cache."""
    if _jit.DISABLED:
        pytest.skip("the JIT is disabled")
    monkeypatch.setattr(_jit, "KERNELS", {})
    monkeypatch.setattr(_jit, "CACHE", False)
    g = globals()
    monkeypatch.setitem(g, "LEAF", _jit.jit(_leaf))
    monkeypatch.setitem(g, "INLINED", _jit.jit(_inlined, inline="always"))
    monkeypatch.setitem(g, "MIDDLE", _jit.jit(_middle))
    monkeypatch.setitem(g, "TOP", _jit.jit(_top, entry=True))
    return {name: f"{__name__}.{name}" for name in ("_top", "_middle", "_inlined", "_leaf")}


def test_progress_counts_each_kernel_of_the_package_once(toy):
    assert _compile.closure(toy["_top"]) == [toy["_top"], toy["_middle"], toy["_leaf"]]
    assert toy["_top"] in _compile.pending()
    calls = []
    with _compile.compile_clock() as clock, _compile.compile_progress(lambda *a: calls.append(a)):
        assert TOP(1.0) == (2.0 * 2.0) + (2.0 - 1.0)  # noqa: F821
    assert toy["_top"] not in _compile.pending()
    # each kernel reported when it starts and when it ends; the inlined one is part of its caller
    assert [(d, n.rsplit(".", 1)[-1]) for d, _, n in calls] == [
        (0, "_top"),
        (0, "_middle"),
        (0, "_leaf"),
        (1, "_leaf"),
        (2, "_middle"),
        (3, "_top"),
    ]
    assert all(t == 3 for _, t, _ in calls)
    assert clock.seconds > 0.0

    # compiled: nothing more is reported, and calling takes no compile time
    with _compile.compile_clock() as clock, _compile.compile_progress(lambda *a: calls.append(a)):
        TOP(2.0)  # noqa: F821
    assert len(calls) == 6 and clock.seconds == 0.0


def test_a_compile_not_foreseen_raises_the_total(toy):
    MIDDLE.compile((types.float64,))  # noqa: F821  compiles middle and leaf: only top is left
    assert _compile.to_compile() == [toy["_top"]]
    calls = []
    with _compile.compile_progress(lambda *a: calls.append(a)):
        TOP(1.0)  # noqa: F821
        MIDDLE.compile((types.int64,))  # noqa: F821  new argument types: middle and leaf again, not foreseen
    names = [(d, t, n.rsplit(".", 1)[-1]) for d, t, n in calls]
    assert names == [
        (0, 1, "_top"),
        (1, 1, "_top"),
        (1, 2, "_middle"),
        (1, 3, "_leaf"),
        (2, 3, "_leaf"),
        (3, 3, "_middle"),
    ]


def test_a_kernel_without_the_cpython_wrapper_can_be_called_from_python(toy):
    assert LEAF.targetoptions.get("no_cpython_wrapper")  # noqa: F821
    assert LEAF(1.5) == 2.5  # noqa: F821  through the twin


# ------------------------------------------------------------------------------------------------
# a run's timings
# ------------------------------------------------------------------------------------------------


def test_the_helpers_argument_types_are_those_the_event_loop_compiles(compiled):
    # the helper process compiles each kernel the loop calls for types read off parameter names; a wrong type would
    # compile a kernel nobody calls (time lost, nothing else). The disk cache's index of each such kernel holds the
    # argument types a run compiled it for: exactly one entry, the one the helper would compile.

    inp = sim.engine.prepare(sim.compiling._warmup_scenario())
    values = sim.compiling.loop_state(inp)
    plan = _compile.ordered_callees("sim.kernels.loop.run_nb")
    assert len(plan) > 10 and "sim.kernels.loop.oracle_nb" in plan
    magic = _jit.KERNELS["sim.kernels.loop.run_nb"].fn.targetctx.codegen().magic_tuple()
    for name in plan:
        kernel = _jit.KERNELS[name]
        sig = _compile.signature(kernel, values)
        assert sig is not None, name
        index = kernel.fn._cache._cache_file._load_index()
        compiled = [key[0] for key in index if key[1] == magic]
        assert compiled == [sig], name
    assert _compile.signature("sim.kernels.loop.run_nb", {}) is None  # state it is not given: no guess


def test_the_helper_starts_only_when_it_would_help(compiled, monkeypatch):
    monkeypatch.setenv("LIQSIM_COMPILE_HELPER", "1")
    assert not _compile.helper_wanted("sim.kernels.loop.run_nb")  # compiled already
    monkeypatch.setattr(_compile, "_compiled", lambda kernel: False)
    monkeypatch.setattr(_compile, "_cached", lambda kernel: False)
    assert _compile.helper_wanted("sim.kernels.loop.run_nb") == (len(os.sched_getaffinity(0)) >= 2)
    monkeypatch.setenv("LIQSIM_COMPILE_HELPER", "0")
    assert not _compile.helper_wanted("sim.kernels.loop.run_nb")


def test_helper_reports_count_once_with_the_kernels_loaded_here(toy):
    # a kernel the helper compiled counts when the helper reports it, not again when it loads (or compiles) here
    calls = []
    with _compile.compile_progress(lambda *a: calls.append(a)):
        for progress in _compile._ACTIVE:
            progress.ready(toy["_leaf"], helper=True)
            progress.ready(toy["_leaf"], helper=True)
            progress.ready("not.a.kernel", helper=True)
        TOP(1.0)  # noqa: F821  compiles top and middle here; leaf again too (no cache): not counted twice
    names = [(d, t, n.rsplit(".", 1)[-1]) for d, t, n in calls]
    assert names[0] == (1, 3, "_leaf")
    assert names[-1] == (3, 3, "_top")
    assert all(d <= t == 3 for d, t, _ in names)


def test_run_time_leaves_compiling_out(compiled):
    scn = sim.load_scenario(None, overrides={"population.n_positions": 500, "scenario.duration_s": 60.0})
    res = sim.run(scn)  # every kernel is loaded by now: nothing is compiled or read from the cache
    t = res.timings
    assert t["compile_s"] == 0.0
    assert t["prepare_s"] + t["simulate_s"] + t["compile_s"] == pytest.approx(t["total_s"])
    assert res.summary["runtime_s"] == pytest.approx(t["total_s"] - t["compile_s"])


@pytest.mark.slow
def test_a_cold_warmup_reports_every_kernel_it_compiles(tmp_path):
    """In a fresh process with an empty cache: the progress starts at once, ends at done == total, and afterwards
    nothing is left to compile; a second process finds everything cached."""
    code = (
        "import json, sim, sim.engine\n"
        "from sim import _compile\n"
        "pending = _compile.pending()\n"
        "calls = []\n"
        "res = sim.warmup(progress=lambda *a: calls.append(a))\n"
        "print(json.dumps({'pending': pending, 'calls': calls, 'left': _compile.pending(),"
        " 'helper': _compile.HELPER_COMPILED,"
        " 'compile_s': res.timings['compile_s'], 'total_s': res.timings['total_s']}))\n"
    )
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path), "PYTHONPATH": str(ROOT), "LIQSIM_COMPILE_HELPER": "1"}
    env.pop("LIQSIM_NO_CACHE", None)
    if env.get("LIQSIM_DISABLE_JIT"):
        pytest.skip("the JIT is disabled")

    def child():
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])

    cold = child()
    assert "sim.kernels.loop.run_nb" in cold["pending"]
    done, total, _ = cold["calls"][-1]
    assert done == total == len({name for _, _, name in cold["calls"]}) > 30
    assert all(d <= t for d, t, _ in cold["calls"]) and cold["calls"][0][0] == 0
    assert cold["left"] == []
    assert cold["compile_s"] > 0.5 * cold["total_s"]
    # on two cores or more a helper process compiled part of the event loop's kernels (and, for warm-up, set-up
    # kernels after them, while this process generates the loop's code), counted as they came
    if len(os.sched_getaffinity(0)) >= 2:
        loop_calls = set(_compile.closure("sim.kernels.loop.run_nb"))
        assert set(cold["helper"]) & loop_calls
        assert set(cold["helper"]) <= {name for _, _, name in cold["calls"]}

    warm = child()
    assert warm["pending"] == [] and warm["calls"] == [] and warm["left"] == []


# ------------------------------------------------------------------------------------------------
# what the command line shows
# ------------------------------------------------------------------------------------------------


def test_the_cli_says_when_kernels_compile_and_how_many(toy):
    import io

    from sim.cli_progress import _Compiling

    stream = io.StringIO()
    with _Compiling(stream, True) as compiling:
        TOP(1.0)  # noqa: F821
    text = stream.getvalue()
    assert text.startswith("liqsim: compiling the engine (3 kernels")
    assert "compiled 3 kernels in" in text
    assert compiling.seconds() > 0.0

    stream = io.StringIO()  # nothing compiles: nothing is said
    with _Compiling(stream, True):
        TOP(2.0)  # noqa: F821
    assert stream.getvalue() == ""


def test_the_progress_bars_eta_leaves_compiling_out():
    import io
    import time

    from sim.cli_progress import _Progress

    class Compiling:
        spent = 0.0

        def seconds(self):
            return self.spent

        def end_line(self):
            pass

    stream, compiling = io.StringIO(), Compiling()
    stream.isatty = lambda: True
    bar = _Progress(stream, True, compiling=compiling)
    bar.t0 -= 61.0  # a minute has passed since the bar started, all of it compiling
    compiling.spent = 60.0
    bar(0.02)
    eta = float(stream.getvalue().rsplit("eta", 1)[1].rstrip("s"))
    assert 0.0 < eta < 100.0  # about 49 s for the 1 s of simulating so far, not 50 minutes
    assert time.perf_counter() - bar.t0 >= 61.0


def test_warmup_with_everything_cached_says_so(compiled, capsys):
    from sim.cli import main

    assert main(["warmup"]) == 0
    assert "nothing to do" in capsys.readouterr().out
