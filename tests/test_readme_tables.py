"""The README's tables that a script prints are the script's output, verbatim (the replay's ADL re-check)."""

import contextlib
import io
import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_replay_check_table_is_what_docs_replay_check_prints(compiled):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        runpy.run_path(str(ROOT / "docs" / "replay_check.py"), run_name="__main__")
    rows = [line for line in out.getvalue().splitlines() if line.startswith("|")]
    assert len(rows) == 9
    readme = (ROOT / "README.md").read_text()
    missing = [row for row in rows if row not in readme]
    assert not missing, "the README's table differs from `python docs/replay_check.py`:\n" + "\n".join(missing)


@pytest.mark.slow
def test_the_endogenous_replay_table_is_what_docs_replay_endogenous_prints(compiled):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        runpy.run_path(str(ROOT / "docs" / "replay_endogenous.py"), run_name="__main__")
    rows = [line for line in out.getvalue().splitlines() if line.startswith("|")]
    assert len(rows) == 7
    readme = (ROOT / "README.md").read_text()
    missing = [row for row in rows if row not in readme]
    assert not missing, "the README's table differs from `python docs/replay_endogenous.py`:\n" + "\n".join(missing)
