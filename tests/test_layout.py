"""The shape of the house: data flows scenario → population → kernels → result → plots/CLI, and
imports never point back up. Checked from the source, so a stray import fails CI."""

import ast
import re
from pathlib import Path

SIM = Path(__file__).resolve().parents[1] / "sim"

# what each module may import from the package (besides itself)
ALLOWED = {
    "enums": set(),
    "dtypes": set(),
    "_jit": set(),
    "errors": set(),
    "state": set(),
    "kernels": {"enums", "state", "_jit", "kernels"},
    "files": {"errors", "enums"},
    "_schema": {"errors", "files"},
    "venues": {"errors", "_schema", "venues"},
    "_scenario_docs": set(),
    "paths": set(),
    "behaviour": {"enums", "_schema"},
    "mixes": {"_schema"},
    "scenario": {"errors", "files", "_schema", "venues", "_scenario_docs", "paths", "behaviour", "mixes"},
    "population": {"enums", "kernels"},
    "market": {"paths"},
    "engine": {"enums", "state", "dtypes", "kernels", "market", "population", "metrics", "result"},
    "metrics": {"enums", "dtypes"},
    "heatmaps": {"enums", "metrics"},
    "result": {"enums", "errors", "metrics", "heatmaps", "plots", "__init__"},
    "calc": {"enums", "errors", "kernels", "venues"},
    "_plotkit": set(),
    "plots": {"enums", "metrics", "heatmaps", "dtypes", "_plotkit"},
    "compare": {"errors", "enums", "venues", "engine", "result", "plots"},
    "sweep": {"errors", "_schema", "scenario", "result", "engine", "_jit", "__init__", "severity", "mixes"},
    "severity": {"errors", "_plotkit", "sweep"},
    "cli": {
        "errors",
        "scenario",
        "engine",
        "result",
        "_jit",
        "calc",
        "venues",
        "compare",
        "enums",
        "sweep",
        "severity",
        "__init__",
    },
    "__init__": {"errors", "scenario", "engine", "result"},
    "__main__": {"cli"},
}


def _sim_imports(path):
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "sim":
            parts = node.module.split(".")
            if len(parts) == 1:  # from sim import x: a submodule, or a name defined in __init__
                found.update(
                    a.name if (SIM / f"{a.name}.py").exists() or (SIM / a.name).is_dir() else "__init__"
                    for a in node.names
                )
            else:
                found.add(parts[1])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "sim":
                    found.add(parts[1] if len(parts) > 1 else "__init__")
    return found


def _module_key(path):
    rel = path.relative_to(SIM)
    return rel.parts[0] if rel.parts[0] in ("kernels", "venues") else rel.stem


def test_imports_follow_the_data_flow():
    problems = []
    for path in sorted(SIM.rglob("*.py")):
        key = _module_key(path)
        assert key in ALLOWED, f"new module {path.name}: add it to ALLOWED with its place in the flow"
        extra = _sim_imports(path) - ALLOWED[key] - {key}
        if extra:
            problems.append(f"{path.relative_to(SIM.parent)} imports {sorted(extra)}")
    assert not problems, "\n".join(problems)


def test_only_plots_imports_matplotlib_and_only_cli_prints():
    for path in SIM.rglob("*.py"):
        text = path.read_text()
        if path.name not in ("plots.py", "_plotkit.py", "severity.py"):  # severity draws the sweeps' figures
            assert "import matplotlib" not in text and "from matplotlib" not in text, path
        if path.name not in ("cli.py", "_schema.py", "scenario.py"):
            assert not re.search(r"(?<![\w.])print\(", text), path


def test_modules_stay_small():
    for path in SIM.rglob("*.py"):
        assert len(path.read_text().splitlines()) <= 650, f"{path} is too long; split it by concept"


def test_import_sim_compiles_nothing():
    import subprocess
    import sys

    code = "import sim, sys; print(any(m.startswith('numba') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
