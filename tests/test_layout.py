"""The shape of the house: data flows scenario → population → kernels → result → plots/CLI, and imports never
point back up. Checked from the source (lazy imports inside functions included), so a stray import fails CI.

Every module belongs to one layer of :data:`LAYERS`, found by the longest prefix of its dotted name. A module may
import from its own layer and the layers below it, never from a layer above; and no two modules may import each
other, directly or through others (a circle), even inside one layer. There is no list of exceptions.
"""

import ast
import re
import subprocess
import sys
from pathlib import Path

SIM = Path(__file__).resolve().parents[1] / "sim"

#: Bottom to top. A layer is a set of dotted prefixes; the longest prefix that matches a module places it.
LAYERS = [
    {
        "sim._version",
        "sim.enums",
        "sim.dtypes",
        "sim.errors",
        "sim._jit",
        "sim._compile",
        "sim.state",
    },  # codes, types, options
    {"sim.kernels"},  # the Numba kernels: arrays in, arrays out
    {"sim.world"},  # all randomness, drawn once from the seed: population, book profile, price paths
    {"sim.config.schema"},  # the key-spec machinery
    {"sim.venues"},  # the dated rule packs (data and small pure functions)
    {"sim.config"},  # scenario files in, validated
    {"sim.metrics", "sim.feedback"},  # pure functions over records
    {"sim.report"},  # pictures and maps of records (the only matplotlib users)
    {"sim.outputs"},  # writing files safely
    {"sim.result"},  # a finished run
    {
        "sim.engine",
        "sim.allocate",
        "sim.compiling",
        "sim.multi",
        "sim.multi_result",
    },  # run(scenario) -> Result; a run's state at its start; warm-up and the compile helper; several markets and their
    # results
    {"sim.calc", "sim.calc_account"},  # the liquidation calculators: one position, an account
    {"sim.studies"},  # many runs: comparisons, sweeps, severity studies
    {
        "sim.cli",
        "sim.cli_parser",
        "sim.cli_progress",
        "sim.cli_reports",
        "sim.__main__",
        "sim",
    },  # the faces: command line (its flags, progress display and reports) and the package's public names
]


def _module_name(path):
    rel = path.relative_to(SIM.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _layer(module):
    best, rank = -1, None
    for i, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, rank = len(prefix), i
    return rank


def _imports(path):
    """Dotted names of the ``sim`` modules a file imports (``from sim.x import y`` names ``sim.x.y`` when y is a
    module, else ``sim.x``)."""
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "sim" and not node.level:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                is_module = (SIM.parent / (sub.replace(".", "/") + ".py")).exists() or (
                    SIM.parent / sub.replace(".", "/")
                ).is_dir()
                found.add(sub if is_module else node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "sim")
    return found


def _graph():
    return {_module_name(p): _imports(p) for p in sorted(SIM.rglob("*.py"))}


def test_every_module_has_a_layer():
    missing = [m for m in _graph() if _layer(m) is None]
    assert not missing, f"modules without a layer (add them to LAYERS at their place in the flow): {missing}"


def test_imports_follow_the_data_flow():
    problems = []
    for module, imported in _graph().items():
        for target in sorted(imported):
            if target == "sim" and module != "sim":
                problems.append(f"{module} imports the package face `sim` (import the module that defines the name)")
            elif _layer(target) > _layer(module):
                problems.append(f"{module} (layer {_layer(module)}) imports {target} (layer {_layer(target)})")
    assert not problems, "\n".join(problems)


def test_no_circles():
    graph = _graph()
    edges = {m: {t for t in imported if t in graph and t != m} for m, imported in graph.items()}
    state, circles = {}, []

    def visit(node, stack):
        state[node] = "open"
        for nxt in sorted(edges[node]):
            if state.get(nxt) == "open":
                circles.append(" → ".join([*stack[stack.index(nxt) :], nxt]))
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    assert not circles, "\n".join(circles)


def test_the_layer_check_catches_an_upward_import(tmp_path, monkeypatch):
    """The check itself: a kernel importing the engine is reported."""
    fake = tmp_path / "sim"
    (fake / "kernels").mkdir(parents=True)
    (fake / "kernels" / "bad.py").write_text("from sim.engine import run\n")
    (fake / "engine.py").write_text("")
    monkeypatch.setattr(sys.modules[__name__], "SIM", fake)
    graph = _graph()
    assert graph["sim.kernels.bad"] == {"sim.engine"}
    assert _layer("sim.engine") > _layer("sim.kernels.bad")


def test_only_report_imports_matplotlib_and_only_cli_prints():
    for path in SIM.rglob("*.py"):
        text = path.read_text()
        module = _module_name(path)
        if not module.startswith("sim.report"):
            assert "import matplotlib" not in text and "from matplotlib" not in text, path
        # `python -m sim.config.scenario --markdown` prints the scenario reference
        if module not in ("sim.cli", "sim.config.schema", "sim.config.scenario"):
            assert not re.search(r"(?<![\w.])print\(", text), path


def test_modules_stay_small():
    # ~600 lines of the house style, counted after the formatter (which spreads long calls over lines)
    for path in SIM.rglob("*.py"):
        assert len(path.read_text().splitlines()) <= 800, f"{path} is too long; split it by concept"


def test_import_sim_compiles_nothing():
    code = "import sim, sys; print(any(m.startswith('numba') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_documented_module_names_work():
    code = (
        "import sim; print(sim.plots.plot_heatmaps.__name__, sim.sweep.run_sweep.__name__, "
        "sim.severity.severity_table.__name__, sim.compare.compare.__name__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["plot_heatmaps", "run_sweep", "severity_table", "compare"]
