"""The README's tables that a script prints are the script's output, verbatim (the replay's ADL re-check, and the
replay driven by a scaled fundamental value under prices formed by flows, the multi-asset crash)."""

import contextlib
import io
import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
@pytest.mark.parametrize("script, n_rows", [("replay_check.py", 9), ("replay_endogenous.py", 7), ("multi_asset.py", 6)])
def test_the_readme_table_is_what_the_script_prints(compiled, script, n_rows):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        runpy.run_path(str(ROOT / "docs" / script), run_name="__main__")
    rows = [line for line in out.getvalue().splitlines() if line.startswith("|")]
    assert len(rows) == n_rows
    readme = (ROOT / "README.md").read_text()
    if script == "multi_asset.py":  # its lines of counts too
        rows += [line for line in out.getvalue().splitlines() if line and not line.startswith("|")]
    missing = [row for row in rows if row not in readme]
    assert not missing, f"the README's table differs from `python docs/{script}`:\n" + "\n".join(missing)
