"""The shipped scenarios: found by name, and data-file paths that do not depend on where liqsim is installed.

The scenarios live in ``scenarios/`` at the top of the repository (``*.toml`` and their data in ``data/``). A wheel
installs that folder as ``sim/scenarios/``; a checkout (``pip install -e .``) reads it in place. :func:`folder` finds
whichever there is, so ``liqsim run calm`` and ``load_scenario("calm")`` work in both.

A data-file key may name a file of that folder as ``shipped:RELATIVE/PATH`` (e.g. ``shipped:data/btc_2025_10_10.csv``).
A run's saved ``scenario.toml`` writes its data files that way when they are shipped ones, and relative to the
run's own folder otherwise (:func:`portable`), so that it holds no absolute path of the machine that wrote it and
reruns wherever liqsim is installed.
"""

from __future__ import annotations

import os
from pathlib import Path

#: The prefix of a data-file path that names a file of the shipped scenarios' folder.
PREFIX = "shipped:"

_PACKAGE = Path(__file__).resolve().parents[1]  # sim/


def folder() -> Path | None:
    """The shipped scenarios' folder: ``sim/scenarios`` in an installed wheel, else ``scenarios/`` of the checkout
    this package runs from; None when neither is there."""
    installed = _PACKAGE / "scenarios"
    if installed.is_dir():
        return installed
    checkout = _PACKAGE.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "scenarios").is_dir():
        return checkout / "scenarios"
    return None


def names() -> list[str]:
    """The names of the shipped scenarios (their files' names without ``.toml``), sorted."""
    where = folder()
    return sorted(p.stem for p in where.glob("*.toml")) if where else []


def scenario_file(name: str) -> Path | None:
    """The file of the shipped scenario called ``name`` (a bare name such as ``calm``), or None."""
    where = folder()
    if where is None or name not in names():
        return None
    return where / f"{name}.toml"


def resolve_reference(value: str) -> str | None:
    """The absolute path a ``shipped:`` data-file reference names (existing or not), or None for any other text."""
    if not value.startswith(PREFIX):
        return None
    where = folder()
    rel = value[len(PREFIX) :]
    return str(((where or _PACKAGE / "scenarios") / rel).resolve())


def portable(path: str, relative_to: str | Path) -> str:
    """A data file's path as a scenario file in ``relative_to`` should hold it: ``shipped:...`` for a file of the
    shipped scenarios' folder, else relative to that folder (absolute only where no relative path exists, e.g. on
    another Windows drive)."""
    target = Path(path).resolve()
    where = folder()
    if where is not None and target.is_relative_to(where.resolve()):
        return PREFIX + target.relative_to(where.resolve()).as_posix()
    try:
        return Path(os.path.relpath(target, Path(relative_to).resolve())).as_posix()
    except ValueError:
        return str(target)
