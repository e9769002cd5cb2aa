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


# Run in the notebook's kernel after its last cell: every figure it drew (the notebooks draw on Figure objects, so
# they are found among the live objects), every axes with data checked for labels on both axes (a panel sharing an
# axis with a labelled one may leave its own blank) and for tick labels in matplotlib's 6×10⁰ form.
AXES_CHECK = """
import gc as _gc, json as _json, re as _re
from matplotlib.figure import Figure as _Figure
_problems, _figures = [], [o for o in _gc.get_objects() if isinstance(o, _Figure)]
for _fig in _figures:
    _fig.draw_without_rendering()
    for _ax in _fig.axes:
        if not _ax.axison or _ax.get_label() == "<colorbar>":
            continue
        _name = _ax.get_title(loc="left") or _ax.get_title() or _fig.get_suptitle() or "untitled"
        for _axis, _shared in (("x", _ax.get_shared_x_axes()), ("y", _ax.get_shared_y_axes())):
            _labels = [getattr(_o, f"get_{_axis}label")() for _o in _shared.get_siblings(_ax)]
            if not any(_l.strip() for _l in _labels):
                _problems.append(f"{_name[:60]!r}: no {_axis} label")
        _ticks = [_t.get_text() for _axis in (_ax.xaxis, _ax.yaxis) for _minor in (False, True)
                  for _t in _axis.get_ticklabels(minor=_minor)]
        _problems += [f"{_name[:60]!r}: tick {_t!r}" for _t in _ticks if _re.search(r"times ?10|×10|10\\^", _t)]
print("AXES-CHECK", _json.dumps({"figures": len(_figures), "problems": _problems}))
"""


@pytest.mark.slow  # about 20 s for the three (a Jupyter kernel each); CI runs them, `pytest -m "not slow"` does not
@pytest.mark.parametrize("name, figures", [(NAMES[0], 1), (NAMES[1], 2), (NAMES[2], 4)])
def test_a_notebook_runs_top_to_bottom(name, figures, tmp_path, compiled):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    values = small(name, tmp_path)
    assert set(values) <= {line.split("=")[0].strip() for line in nb.cells[at].source.splitlines() if "=" in line}
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell("\n".join(f"{k} = {json.dumps(v)}" for k, v in values.items())))
    nb.cells.append(nbformat.v4.new_code_cell(AXES_CHECK))
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= figures
    assert not [o for o in outputs if o.output_type == "stream" and o.name == "stderr" and "Traceback" in o.text]
    printed = "".join(o.text for o in nb.cells[-1].outputs if o.output_type == "stream")
    check = json.loads(printed.split("AXES-CHECK", 1)[1])
    assert check["figures"] >= figures
    assert check["problems"] == [], f"{name}: every axis labelled, with plain tick labels"
