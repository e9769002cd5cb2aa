"""Sweeps: one scenario run over a grid of values and several seeds, in parallel, resumable.

A sweep is a base scenario (a file or the built-in defaults, with ``--set`` overrides), a grid and a number
of seeds N: every combination of the grid's values (keys in the order given, the last varying fastest) runs
once per seed ``scenario.seed, ..., scenario.seed + N - 1``, each a scenario of its own validated like ``--set``
values (with a GBM shock, every seed's path too), all before any run starts.

**Grid values.** ``--grid KEY=[V1, V2, ...]`` (:func:`parse_grid`): the items are split at the commas outside
quotes, brackets and braces, and each is read like ``--set KEY=V``: a TOML value (``1e6``, ``{2 = 0.5}``) or,
if it is not one or the key holds a string, plain text (``[binance, okx]``); without the brackets, a list of
one. In Python: ``{"table.key": [value, ...]}`` or the ``--grid`` texts. A scenario file's ``[sweep]`` table
holds ``seeds`` and a ``grid`` table of ``"table.key" = [values]`` (data-file paths as in the file's tables:
``~`` expanded, relative to the file); ``--grid`` replaces the file's values of its key, ``--seeds`` its seeds.

**Run ids** are ``r`` and 16 hex digits of the SHA-256 of the run's parameters (the grid values as the validated
scenario holds them: ``1`` and ``1.0`` are one run) and seed. **Output folder**: ``runs/<run id>.json``, one
record per finished run (parameters, seed, status, error, runtime, worker, settings hash, versions, metrics);
``sweep.toml``, the base scenario as given (data-file paths made absolute) and its ``[sweep]`` table, which
plans the same runs; ``results.parquet`` and ``results.csv``, one row per run in grid then seed order:
``run_id``, ``seed``, one column per grid key (tables and arrays as JSON text), ``status`` (``ok``/``failed``),
``error``, ``runtime_s`` (the run's wall time in its worker), then every summary metric with dotted names
(``adl.notional_usd``), arrays as JSON text, integers kept integers. ``liqsim plot severity`` adds ``severity.png`` and ``severity.csv``
(:mod:`sim.studies.severity`); a sweep run again into the folder removes them with the tables it outdates.

**Resume, failures, atomicity.** Files are written under temporary names and renamed into place; the tables
are removed as a sweep starts and written together at its end. Rerun into its folder, a sweep skips the runs
recorded ``ok`` unless their settings hash (the resolved scenario with its venue pack version and data files'
contents, less seed, name, description, ``output.dir``, ``output.plot``) or liqsim, NumPy or Numba versions
differ. The folder is marked as a sweep's as the sweep starts (``.liqsim.json``, listing the files written into
it with their sizes and hashes) and locked while it runs (:mod:`sim.outputs`); a folder that is not empty or
provably a sweep's (:func:`check_sweep_folder`), or one another process is writing, is refused before anything
runs. A run that raises is recorded with its error; when a worker process dies, the runs it may have held run
again one at a time, and only one whose worker dies while it runs alone is recorded as failed. The pool's workers
die with the sweep's process, however it ends.

**Executors.** ``local`` (default): a pool of ``workers`` processes (default: every core) started with "spawn"
(Numba and threads do not mix with fork). ``dask``: the ``distributed`` cluster at ``scheduler``, or a local
cluster of ``workers`` one-thread processes; workers must import this package and see the data files.
``serial``: one run after another in this process. Every executor gives the same numbers.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import itertools
import json
import math
import multiprocessing
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import tomli_w

from sim.config import mixes
from sim.config.scenario import TABLES, Scenario, load_scenario, output_name, scenario_file
from sim.config.schema import as_number, override_value, read_toml, specs
from sim.errors import ScenarioError, capped
from sim.outputs import (
    SEVERITY_FILES,
    TEMP_NAME,
    check_folder,
    claim,
    json_ready,
    new_marker,
    read_marker,
    update_marker,
    versions,
    write_atomic,
    write_marker,
)
from sim.studies.executors import dask_client, failed, run_dask, run_pool

EXECUTORS = ("local", "dask", "serial")
#: Largest number of runs in one sweep (a typo like ``--seeds 1e9`` is caught before anything starts).
MAX_RUNS = 1_000_000
#: What a sweep folder may hold, besides its marker; a folder holding anything else is never written into.
SWEEP_FILES = frozenset({"sweep.toml", "results.parquet", "results.csv", "runs", *SEVERITY_FILES})
#: Keys left out of a run's settings hash: they label a run without changing its numbers (the seed is in its id).
_LABELS = ("scenario.seed", "scenario.name", "scenario.description", "output.dir", "output.plot")
_RECORD = re.compile(r"^r[0-9a-f]{16}\.json$")
#: The sub-folder of a sweep folder checked by name and type only: its records come and go over the sweep's life.
LOOSE = {"runs": _RECORD}


@dataclass(frozen=True)
class Run:
    """One run: its id, its grid values as the validated scenario holds them (``params``, which it runs with), its
    seed, its settings hash."""

    run_id: str
    params: dict
    seed: int
    settings: str


@dataclass(frozen=True)
class Plan:
    """A validated sweep: base scenario, grid (validated values per key), seeds, runs in table order, source."""

    base: Scenario
    grid: dict
    seeds: tuple
    runs: tuple
    source: str | None


def _spec(key: str):
    table, _, name = key.partition(".")
    return specs(TABLES[table]).get(name) if table in TABLES else None


def parse_grid(texts: list[str]) -> tuple[dict, list[str]]:
    """``--grid KEY=[V1, V2, ...]`` texts as ``({KEY: [item texts]}, problems)``."""
    grid, problems = {}, []
    for text in texts:
        key, sep, body = (part.strip() for part in text.partition("="))
        items, problem = (
            _split(body)
            if sep and key and body
            else (None, "expected dotted.key=[value, ...], e.g. population.long_share=[0.5,0.6]")
        )
        if problem or key in grid:
            problems.append(
                f"--grid {text!r}: {problem}"
                if problem
                else f"--grid {key}: given twice; give each key once, with all its values"
            )
        else:
            grid[key] = items
    return grid, problems


def _split(body: str) -> tuple[list[str] | None, str | None]:
    """The items of ``[V1, V2, ...]`` (a value without the brackets is one item), or the problem with it."""
    if not body.startswith("["):
        return [body], None
    items, closers, quote, start = [], [], None, 1
    for i, ch in enumerate(body):
        if quote:  # inside a string: only its closing quote counts (TOML escapes \" in "...")
            quote = None if ch == quote and (quote == "'" or body[i - 1] != "\\") else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            closers.append("]" if ch == "[" else "}")
        elif ch in "]}":
            if not closers or closers.pop() != ch:
                break
            if not closers:  # the list's own closing bracket: it must end the text
                items.append(body[start:i].strip())
                problem = (
                    f"text after the closing ']': {body[i + 1 :]!r}"
                    if body[i + 1 :]
                    else "needs at least one value"
                    if items == [""]
                    else "an empty value between commas"
                    if "" in items
                    else None
                )
                return (None if problem else items), problem
        elif ch == "," and len(closers) == 1:
            items.append(body[start:i].strip())
            start = i + 1
    return None, "unbalanced quotes or brackets (each [, { and quote needs its closing ], } or quote)"


def _flat_grid(data: dict, prefix: str, out: dict, problems: list[str], where: str) -> None:
    folder = Path(where).resolve().parent  # data-file paths: ``~`` expanded, relative to the file's folder
    for k, v in data.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            _flat_grid(v, f"{key}.", out, problems, where)
        elif isinstance(v, list):
            out[key] = [
                str(p if (p := Path(x).expanduser()).is_absolute() else (folder / p).resolve())
                if isinstance(x, str) and x and (spec := _spec(key)) is not None and spec.kind == "path"
                else x
                for x in v
            ]
        else:
            problems.append(f"{where}: sweep.grid.{key} = {v!r}: must be an array of values, e.g. [0.5, 0.6]")


def read_sweep_table(path: str | Path) -> tuple[dict, int | None, list[str]] | None:
    """The ``[sweep]`` table of a scenario file: ``(grid, seeds, problems)``; None without one. Data-file paths
    are read as in the file's tables (``~`` expanded, relative to the file's folder). A file that cannot be read
    gives no problems here (loading the scenario reports them)."""
    try:
        raw = read_toml(scenario_file(path))  # a shipped scenario's name reads its file
    except ScenarioError:
        return None
    grid: dict[str, list]
    table, grid, problems = raw.get("sweep"), {}, []
    if table is None:
        return None
    if not isinstance(table, dict):
        return grid, None, [f"{path}: sweep: must be a table ([sweep])"]
    problems += [f"{path}: sweep.{k}: unknown key; allowed: grid, seeds" for k in table if k not in ("grid", "seeds")]
    seeds = table.get("seeds")
    if seeds is not None and ((n := as_number(seeds, integer=True)) is None or n < 1):
        problems.append(f"{path}: sweep.seeds = {seeds!r}: must be an integer ≥ 1")
        seeds = None
    if not isinstance(table.get("grid", {}), dict):
        problems.append(f'{path}: sweep.grid = {table["grid"]!r}: must be a table of "table.key" = [values]')
    else:
        _flat_grid(table.get("grid", {}), "", grid, problems, str(path))
    return grid, None if seeds is None else int(seeds), problems


def run_id(params: dict, seed: int) -> str:
    """The stable id of a run: ``r`` and 16 hex digits of the SHA-256 of its canonical parameters and seed."""
    text = json.dumps({"params": params, "seed": seed}, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return "r" + hashlib.sha256(text.encode()).hexdigest()[:16]


def _whole(value, flag: str, problems: list[str]) -> int | None:
    """A count ≥ 1 given as a number or its text (``10``, ``1e3``); None after noting a problem."""
    x = value
    with contextlib.suppress(ValueError):
        x = (float(value) if re.search(r"[.eE]", value) else int(value)) if isinstance(value, str) else value
    if (n := as_number(x, integer=True)) is not None and n >= 1:
        return cast(int, n)  # an integer: integer=True
    problems.append(f"{flag} = {value!r}: must be a whole number ≥ 1")
    return None


def _rewrite(problem: str, labels: dict[str, str], combo: str) -> str:
    """A combination's problem in the grid's words (``--grid KEY = value: ...``), else prefixed with the combination."""
    for key, label in labels.items():
        head = f"override: {key}"
        if problem.startswith(head) and problem[len(head) : len(head) + 1] in (" ", ".", ":", "["):
            return label + problem[len(head) :]
    return f"{combo}: {problem}" if combo else problem


def plan_sweep(
    scenario: str | Path | Scenario | None = None,
    grid: dict | list | None = None,
    seeds: int | str | None = None,
    overrides: dict | None = None,
) -> Plan:
    """Validate a sweep and expand it into runs; raises :class:`ScenarioError` with every problem at once.

    ``scenario`` is a file (its ``[sweep]`` table is read), None for the built-in defaults, or a
    :class:`Scenario`; ``grid`` (``{"table.key": [values]}`` or ``--grid`` texts) and ``seeds`` (a number or
    its text) replace the file's; ``overrides`` are ``--set`` values applied to the base scenario.
    """
    problems: list[str]
    file_grid: dict[str, list]
    problems, labels, file_grid, file_seeds = [], {}, {}, None
    is_path = scenario is not None and not isinstance(scenario, Scenario)
    if is_path:
        file_grid, file_seeds, problems = read_sweep_table(cast(str | Path, scenario)) or ({}, None, [])
        labels = {k: f"{scenario}: sweep.grid.{k}" for k in file_grid}
    if isinstance(grid, (list, tuple)):
        grid, more = parse_grid(grid)
        problems += more
    try:
        base = (
            scenario.with_overrides(overrides or {})
            if isinstance(scenario, Scenario)
            else load_scenario(scenario, overrides=overrides)
        )
    except ScenarioError as err:
        base, problems = None, problems + err.problems
    if base is not None:
        from sim.engine import refuse_several

        try:
            refuse_several(base, "liqsim sweep and sim.run_sweep")
        except ScenarioError as err:
            base, problems = None, problems + err.problems
    given = dict(file_grid)
    for key, values in (grid or {}).items():
        labels[str(key)], given[str(key)] = f"--grid {key}", values
    usable = {}  # the keys whose values can be tried, so a broken key does not hide the others' problems
    for key, values in given.items():
        problem = (
            f" = {values!r}: must be a list of values, e.g. [0.5, 0.6]"
            if not isinstance(values, (list, tuple))
            else ": cannot be a grid key; the seeds are scenario.seed, scenario.seed + 1, ... (set the first "
            "with --set scenario.seed=S and their number with --seeds N)"
            if key == "scenario.seed"
            else " = []: needs at least one value"
            if not values
            else ": None is not a value (numbers, strings, booleans, arrays and tables are)"
            if any(v is None for v in values)
            else None
        )
        if problem:
            problems.append(labels[key] + problem)
        else:
            usable[key] = [
                override_value(v, spec) if isinstance(v, str) and (spec := _spec(key)) else v for v in values
            ]
    n_seeds = _whole(seeds if seeds is not None else file_seeds or 1, "--seeds", problems) or 1
    if base is None:
        raise ScenarioError(capped(problems))
    if (n_runs := math.prod(len(v) for v in usable.values()) * n_seeds) > MAX_RUNS:
        raise ScenarioError(
            capped(
                problems
                + [
                    f"{'--grid × ' if n_runs > n_seeds else ''}--seeds: too many runs: {n_runs // n_seeds:,} combination(s) "
                    f"× {n_seeds:,} seed(s) = {n_runs:,}; at most {MAX_RUNS:,} are allowed"
                ]
            )
        )
    if (first := base.scenario.seed) + n_seeds > 2**63:
        problems.append(
            f"--seeds = {n_seeds}: the last seed, scenario.seed + {n_seeds - 1} = {first + n_seeds - 1}, "
            "must be below 2**63"
        )
        n_seeds = 1
    source = str(scenario) if is_path else None if scenario is None else cast(Scenario, scenario).source
    return _expand(base, usable, given, labels, tuple(range(first, first + n_seeds)), source, problems)


def _settings(resolved: dict, digests: dict) -> str:
    """16 hex digits of the SHA-256 of a scenario's resolved settings (``to_dict()``, less ``_LABELS``) and its data
    files' contents (``digests`` caches them by path); a named leverage mix counts with its weights."""
    data = {t: {k: v for k, v in values.items() if f"{t}.{k}" not in _LABELS} for t, values in resolved.items()}
    for table, values in data.items():
        for key, value in values.items():
            if (spec := _spec(f"{table}.{key}")) is not None and spec.kind == "path":
                if value not in digests:
                    digests[value] = hashlib.sha256(Path(value).read_bytes()).hexdigest()
                values[key] = [value, digests[value]]
            elif spec is not None and spec.kind == "mix" and isinstance(value, str):  # a named mix: its weights too
                values[key] = [value, mixes.text(mixes.pairs(value))]
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def _expand(
    base: Scenario, typed: dict, given: dict, labels: dict, seeds: tuple, source: str | None, problems: list
) -> Plan:
    """Validate every combination (every seed too where the seed enters validation) and list the runs; raise
    with ``problems`` and those found here."""
    seen: dict[str, dict[str, int]]
    digests: dict[str, str]
    combos, seen, digests = [], {k: {} for k in typed}, {}
    for index in itertools.product(*(range(len(v)) for v in typed.values())):
        ov = {k: typed[k][j] for k, j in zip(typed, index)}
        combo = ", ".join(f"{labels[k].rpartition(': ')[2]} = {v!r}" for k, v in ov.items())
        try:
            scn = base.with_overrides(ov)
        except ScenarioError as err:
            problems += [_rewrite(p, labels, combo) for p in err.problems]
            continue
        for s in seeds[1:] if scn.shock.kind == "gbm" else ():  # the GBM path, drawn from the seed, must fit the book
            try:
                scn.with_overrides({"scenario.seed": s})
            except ScenarioError as err:
                problems += [f"{combo or 'the scenario'}, seed {s}: {p}" for p in err.problems]
        resolved = scn.to_dict()  # values as the scenario holds them, in TOML form (mixes as tables)
        params = {k: resolved[k.partition(".")[0]].get(k.partition(".")[2]) for k in ov}
        for k, j in zip(typed, index):
            if (first := seen[k].setdefault(json.dumps(params[k], sort_keys=True), j)) != j:  # shown as given
                a, b = (v if isinstance(v, str) else repr(v) for v in (given[k][first], given[k][j]))
                same = f"{a} is listed twice" if a == b else f"{a} and {b} are the same value ({params[k]!r})"
                problems.append(f"{labels[k]}: {same}; list each value once")
        combos.append((params, _settings(resolved, digests)))
    if problems:
        raise ScenarioError(capped(list(dict.fromkeys(problems))))
    runs = tuple(Run(run_id(params, s), params, s, h) for params, h in combos for s in seeds)
    if len({r.run_id for r in runs}) != len(runs):  # 64 bits: not expected to happen, but runs must not share files
        raise RuntimeError("two runs of this sweep have the same run id; please report the grid")
    grid = {k: list({json.dumps(p[k], sort_keys=True): p[k] for p, _ in combos}.values()) for k in typed}
    return Plan(base, grid, seeds, runs, source)


def flatten(summary: dict, prefix: str = "") -> dict:
    """A run's summary as flat ``{"section.key": value}`` metrics: arrays as JSON text, NaN as None; the
    summary's own ``runtime_s`` is left out (the table has the run's wall time)."""
    out = {}
    for key, value in summary.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, f"{name}."))
        elif isinstance(value, (list, tuple, np.ndarray)):
            out[name] = json.dumps(json_ready(list(value)))
        elif name != "runtime_s":
            out[name] = json_ready(value)
    return out


def execute(base: Scenario, params: dict, seed: int) -> dict:
    """One run's record, also saying where (a Dask worker's address, else the process id) and with what versions it
    ran; a failure is returned as a record, never raised."""
    t0, where = time.perf_counter(), {"worker": f"pid {os.getpid()}", "versions": versions()}
    if "distributed" in sys.modules:
        with contextlib.suppress(ValueError):  # raised outside a Dask worker
            where["worker"] = sys.modules["distributed"].get_worker().address
    try:
        from sim.engine import run

        res = run(base.with_overrides({**params, "scenario.seed": seed}))
        return {
            "status": "ok",
            "error": None,
            "runtime_s": time.perf_counter() - t0,
            **where,
            "metrics": flatten(res.summary),
        }
    except Exception as err:  # noqa: BLE001 - any failure of one run is that run's result
        return {**failed(err, time.perf_counter() - t0), **where}


# ---------------------------------------------------------------------------------------------------- files


def _load_run(path: Path, rid: str) -> dict | None:
    """A saved run record, or None when it is missing, unreadable or not this run's."""
    with contextlib.suppress(OSError, ValueError):
        if isinstance(rec := json.loads(path.read_text()), dict) and rec.get("run_id") == rid and "status" in rec:
            return rec
    return None


def check_sweep_folder(target: Path) -> None:
    """Refuse a file, or a folder that is not empty or provably a sweep's: its marker (written as the sweep starts)
    of kind sweep, every file in it one the marker lists with the size and hash it lists (``sweep.toml``, the
    tables, the severity figure and numbers), and ``runs/`` a folder of run records only (``r`` + 16 hex digits +
    ``.json``, regular files); temporary files of an interrupted write are allowed (they are removed as a sweep
    starts). See :func:`sim.outputs.check_folder`."""
    check_folder(target, "sweep", SWEEP_FILES, LOOSE)


def claim_sweep_folder(directory):
    """Claim a sweep's folder (:func:`sim.outputs.claim`): check it, prove it writable and hold its lock until the
    context exits; yields the resolved folder. ``liqsim plot severity`` claims it too while it writes into it."""
    return claim(directory, "sweep", SWEEP_FILES, LOOSE, inside=True)


def _spec_text(plan: Plan, executor: str, folder: Path) -> str:
    """``sweep.toml`` in ``folder``: the base scenario as given (``to_dict()`` would pin every default, and some clash
    with grid keys: ``population.n_positions`` with ``population.file``), data-file paths as a saved run's (shipped
    data as ``shipped:...``, others relative to the folder), and the sweep."""
    data = {t: values for t, values in copy.deepcopy(cast(Any, plan.base._origin).raw).items() if t in TABLES}
    name = output_name(plan.base)  # a file without a name keeps its folder's: `liqsim sweep DIR/sweep.toml` resumes
    if "name" not in data.get("scenario", {}) and re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        data.setdefault("scenario", {})["name"] = name
    resolved = plan.base.to_dict(relative_to=folder)
    for table, values in data.items():
        for key in values:
            if (spec := _spec(f"{table}.{key}")) is not None and spec.kind == "path" and resolved[table].get(key):
                values[key] = resolved[table][key]
    data["sweep"], n, seeds = {"seeds": len(plan.seeds), "grid": plan.grid}, len(plan.runs), plan.seeds
    return "\n".join(
        [
            "# liqsim sweep: the base scenario as given and its [sweep] table; `liqsim sweep sweep.toml` reruns it.",
            f"# source: {plan.source or 'the built-in defaults'}",
            f"# runs: {n} = {n // len(seeds)} combination(s) x {len(seeds)} seed(s); seeds {seeds[0]}..{seeds[-1]}",
            f"# executor: {executor}",
            "# versions: " + ", ".join(f"{k} {v}" for k, v in versions().items()),
            "",
            tomli_w.dumps(data),
        ]
    )


def _column(name: str, values: list):
    """One table column: integers stay integers (nullable), numbers are float64, text is a string column."""
    import pandas as pd

    present = [v for v in values if v is not None]
    if name in ("run_id", "status", "error"):
        return pd.array(values, dtype="string")
    if present and all(isinstance(v, bool) for v in present):
        return pd.array(values, dtype="boolean")
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return pd.array(values, dtype="Int64")
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
    return pd.array(
        [v if isinstance(v, str) or v is None else json.dumps(v, sort_keys=True) for v in values], dtype="string"
    )


def results_table(plan: Plan, records: dict):
    """The sweep's table (a pandas DataFrame) from ``{run_id: record}``, one row per run in plan order."""
    import pandas as pd

    fixed = ["run_id", "seed", *plan.grid, "status", "error", "runtime_s"]
    rows = [
        {
            "run_id": r.run_id,
            "seed": r.seed,
            **r.params,
            **{k: rec.get(k) for k in fixed[-3:]},
            **{f"summary.{m}" if m in fixed else m: v for m, v in rec.get("metrics", {}).items()},
        }
        for r in plan.runs
        for rec in [records[r.run_id]]
    ]
    names = dict.fromkeys([*fixed, *(k for row in rows for k in row)])
    return pd.DataFrame({name: _column(name, [row.get(name) for row in rows]) for name in names})


def check_executor(executor: str, workers: int | str | None, scheduler: str | None) -> tuple[int | None, list]:
    """``(workers, problems)`` of the executor settings (``workers`` a number or its text)."""
    problems = []
    if executor not in EXECUTORS:
        problems.append(f"--executor = {executor!r}: must be one of {', '.join(EXECUTORS)}")
    if scheduler is not None and executor != "dask":
        problems.append(f"--scheduler = {scheduler!r}: needs --executor dask")
    if (
        workers is not None
        and (workers := _whole(workers, "--workers", problems))
        and (executor == "serial" or scheduler is not None)
    ):
        problems.append(
            f"--workers = {workers}: "
            + (
                "--executor serial runs in this process"
                if executor == "serial"
                else "the cluster at --scheduler has its own workers"
            )
            + "; --workers is for --executor "
            "local, or dask without --scheduler"
        )
    return cast(int | None, workers), problems  # a number once checked


def run_sweep(
    scenario: str | Path | Scenario | None = None,
    grid: dict | list | None = None,
    seeds: int | str | None = None,
    out: str | Path | None = None,
    executor: str = "local",
    workers: int | str | None = None,
    scheduler: str | None = None,
    overrides: dict | None = None,
    progress=None,
):
    """Run a sweep (see the module's docs) and return its table, a pandas DataFrame with one row per run.

    ``scenario``, ``grid``, ``seeds``, ``overrides``: as :func:`plan_sweep`. ``out``: the folder (default
    ``runs/<name>-sweep``, the name as :func:`sim.config.scenario.output_name` gives it: ``scenario.name`` if set,
    else the file's stem). ``workers`` (a number or its text): processes of the local pool or local Dask
    cluster (default: every core). ``progress(finished, total)`` is called with 0 as the first run is sent, then
    as each run of this call finishes. The table's ``attrs``: ``out``, ``ran`` and ``failed`` (by this call),
    ``skipped``, ``redone``. Raises :class:`ScenarioError`, naming the flags, for every bad argument at once, and
    for a folder that is not empty or provably a sweep's, or that another process is writing. Works from a plain
    script without an ``if __name__ == "__main__":`` guard on the local executor (its workers do not run the
    script again); called while a spawned process starts (a Dask worker running such a script), it raises
    RuntimeError saying so.
    """
    if getattr(multiprocessing.current_process(), "_inheriting", False):
        raise RuntimeError(
            "run_sweep was called while a worker process was starting: the script that calls it runs again in "
            "every worker process started with 'spawn' (Dask's among them); put the call under "
            '`if __name__ == "__main__":`'
        )
    workers, problems = check_executor(executor, workers, scheduler)
    progress = progress or (lambda done, total: None)
    try:
        plan = plan_sweep(scenario, grid, seeds, overrides)
    except ScenarioError as err:
        raise ScenarioError(capped(problems + err.problems)) from None
    if problems:
        raise ScenarioError(problems)
    with claim_sweep_folder(out or Path("runs") / f"{output_name(plan.base)}-sweep") as target:
        return _run_claimed(plan, target, executor, workers, scheduler, progress)


def _run_claimed(plan: Plan, target: Path, executor: str, workers: int | None, scheduler: str | None, progress):
    """:func:`run_sweep` once its folder is claimed (checked, and locked until this returns)."""
    runs_dir, now = target / "runs", versions()
    records = {r.run_id: _load_run(runs_dir / f"{r.run_id}.json", r.run_id) for r in plan.runs}
    old = {
        r.run_id: (rec.get("settings"), rec.get("versions")) != (r.settings, now)  # True: ok, but outdated
        for r in plan.runs
        if (rec := records[r.run_id] or {}).get("status") == "ok"
    }
    todo = [r for r in plan.runs if old.get(r.run_id, True)]
    if todo and scheduler is None:
        _compile_once()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    n, counts, jobs = workers or cores, {"ok": 0, "failed": 0}, [(r.run_id, (r.params, r.seed)) for r in todo]
    where = {
        "local": f"local, {n} worker processes",
        "serial": "serial, in this process",
        "dask": f"dask, scheduler {scheduler}" if scheduler else f"dask, local cluster of {n} workers",
    }[executor]
    with dask_client(n, scheduler) if todo and executor == "dask" else contextlib.nullcontext() as client:
        runs_dir.mkdir(parents=True, exist_ok=True)
        if read_marker(target)[0] is None:  # a new or empty folder: liqsim's from now on
            write_marker(target, new_marker("sweep"))
        outdated = ("results.parquet", "results.csv", *SEVERITY_FILES)
        for stale in (
            *(p for d in (target, runs_dir) for p in d.iterdir() if TEMP_NAME.match(p.name)),
            *(target / name for name in outdated),
        ):
            stale.unlink(missing_ok=True)  # an interrupted write of an earlier sweep (the lock says whose); outdated
        update_marker(target, drop=outdated)
        write_atomic({target / "sweep.toml": lambda p: p.write_text(_spec_text(plan, where, target))}, folder=target)
        by_id = {r.run_id: r for r in todo}

        def on_done(rid: str, record: dict) -> None:
            run = by_id[rid]
            record = {"run_id": rid, "seed": run.seed, "params": run.params, "settings": run.settings, **record}
            write_atomic({runs_dir / f"{rid}.json": lambda p: p.write_text(json.dumps(record, indent=1) + "\n")})
            records[rid] = record
            counts[record["status"]] += 1
            progress(sum(counts.values()), len(todo))

        if todo:
            progress(0, len(todo))
            if client is not None:
                run_dask(client, execute, plan.base, jobs, on_done)
            elif executor == "local":
                run_pool(jobs, n, on_done, execute, shared=plan.base)
            else:
                for key, args in jobs:
                    on_done(key, execute(plan.base, *args))
    table = results_table(plan, records)
    write_atomic(
        {
            target / "results.parquet": lambda p: table.to_parquet(p, index=False, engine="pyarrow"),
            target / "results.csv": lambda p: table.to_csv(p, index=False),
        },
        folder=target,
    )
    table.attrs.update(
        out=str(target),
        ran=sum(counts.values()),
        failed=counts["failed"],
        skipped=len(plan.runs) - len(todo),
        redone=sum(old.values()),
    )
    return table


def _compile_once() -> None:
    """Compile the kernels here when a run would compile any, so the workers load them instead of each compiling
    them (the same kernels, once per worker)."""
    from sim._compile import pending
    from sim._jit import CACHE_DIR

    if CACHE_DIR is not None and pending():
        from sim.compiling import warmup

        warmup()
