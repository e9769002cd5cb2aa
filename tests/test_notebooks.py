"""The notebooks: kept without outputs, and executed top to bottom at small sizes (the cell tagged
``parameters`` is followed by one that makes them small), every figure drawn."""

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
SCENARIOS = NOTEBOOKS.parent / "scenarios"
NAMES = ["01_quickstart.ipynb", "02_leverage_mix_severity.ipynb", "03_anatomy_of_a_cascade.ipynb"]


def small(name, tmp_path):
    """The small sizes each notebook runs with here (its own defaults are the real study's)."""
    return {
        "01_quickstart.ipynb": {"N_POSITIONS": 5000},
        "02_leverage_mix_severity.ipynb": {
            "SCENARIO": str(SCENARIOS / "leverage_mix_severity.toml"),
            "SHOCKS": [-4.0, -12.0],
            "SEEDS": 2,
            "N_POSITIONS": 3000,
            "OUT": str(tmp_path / "sweep"),
        },
        "03_anatomy_of_a_cascade.ipynb": {"SCENARIO": str(SCENARIOS / "venue_comparison.toml"), "N_POSITIONS": 20000},
    }[name]


def test_the_notebooks_are_the_three_and_stored_without_outputs():
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == NAMES
    for name in NAMES:
        nb = nbformat.read(NOTEBOOKS / name, as_version=4)
        nbformat.validate(nb)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(c.outputs == [] and c.execution_count is None for c in code), f"{name}: strip the outputs"
        assert [c for c in code if "parameters" in c.metadata.get("tags", [])], f"{name}: no parameters cell"
        assert set(nb.metadata) <= {"kernelspec", "language_info"}, name


@pytest.mark.slow  # about 20 s for the three (a Jupyter kernel each); CI runs them, `pytest -m "not slow"` does not
@pytest.mark.parametrize("name, figures", [(NAMES[0], 1), (NAMES[1], 2), (NAMES[2], 4)])
def test_a_notebook_runs_top_to_bottom(name, figures, tmp_path, compiled):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    values = small(name, tmp_path)
    assert set(values) <= {line.split("=")[0].strip() for line in nb.cells[at].source.splitlines() if "=" in line}
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell("\n".join(f"{k} = {json.dumps(v)}" for k, v in values.items())))
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= figures
    assert not [o for o in outputs if o.output_type == "stream" and o.name == "stderr" and "Traceback" in o.text]
