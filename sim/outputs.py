"""Writing results safely: one home for every file liqsim writes.

What a run, a comparison, a sweep and a severity study write, how a folder is recognised as liqsim's own before
anything in it is replaced, and how files and folders are written under a temporary name and renamed into place,
so an interrupted write never leaves half a result.
"""

import contextlib
import csv
import math
import os
import re
import secrets
import shutil
import tempfile
from pathlib import Path

import numpy as np

from sim import enums as E
from sim._version import __version__
from sim.errors import ScenarioError

#: Files of a severity study, written into its sweep's folder.
SEVERITY_FILES = ("severity.png", "severity.csv")
#: The temporary name of a file being written by :func:`write_atomic`.
TEMP_NAME = re.compile(r"^\..+\.tmp-\d+-[0-9a-f]+$")


def versions():
    """Versions of liqsim and the libraries that shape its numbers."""
    import numba

    return {"liqsim": __version__, "numpy": np.__version__, "numba": numba.__version__}


def json_ready(obj):
    """JSON-ready copy: tuples become lists, NaN/inf become None, NumPy scalars become Python ones."""
    if isinstance(obj, dict):
        return {k: json_ready(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_ready(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        v = float(obj)
        return v if math.isfinite(v) else None
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def label_columns(records, table):
    """Columns of a record array, with integer codes turned into names for people."""
    cols = {}
    for name in records.dtype.names:
        col = records[name]
        if name == "kind":
            names = E.FILL_KIND_NAMES if table == "fills" else E.ACCOUNT_KIND_NAMES
            col = np.array(names, dtype=object)[col]
        elif name == "mode" and table == "accounts":
            col = np.array(("",) + E.MODE_NAMES, dtype=object)[col + 1]
        elif name == "status" and table == "accounts":
            col = np.array(("",) + E.STATUS_NAMES, dtype=object)[col + 1]
        cols[name] = col
    return cols


#: What ``Result.save`` writes; a folder holding anything else is never replaced.
OUTPUT_FILES = frozenset(
    {"summary.json", "fills.csv", "series.csv", "accounts.csv", "adl.csv", "scenario.toml", "cascade.png"}
)


def _umask():
    """The process's file-creation mask (read by setting it and putting it back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_output_folder(target, allowed=OUTPUT_FILES, earlier="an earlier run's results"):
    """Refuse to overwrite a file, or a folder that holds anything but ``allowed`` (an earlier run's
    outputs; ``earlier`` names them in the message)."""
    if not target.exists():
        parent = target.parent
        while not parent.exists():
            parent = parent.parent
        if not parent.is_dir() or not os.access(parent, os.W_OK):
            raise ScenarioError(f"{target}: output folder: cannot be created ({parent} is not a writable folder)")
        return
    if not target.is_dir():
        raise ScenarioError(f"{target}: output folder: exists and is a file; choose another folder")
    foreign = sorted(p.name for p in target.iterdir() if p.name not in allowed)
    if foreign:
        shown = ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else "")
        raise ScenarioError(
            f"{target}: output folder: holds files liqsim did not write ({shown}); "
            f"choose an empty or new folder, or one with {earlier}"
        )


@contextlib.contextmanager
def atomic_folder(target):
    """Assemble a results folder under a temporary name beside ``target`` and rename it into place.

    Yields the temporary folder. An existing ``target`` is replaced only once the new folder is
    complete; on any error the temporary folder is removed and ``target`` is left as it was.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes it private; a results folder is an ordinary folder
    try:
        yield tmp
        old = None
        if target.exists():
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.replace(target, old)
        os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_csv(path, records, table):
    cols = label_columns(records, table)
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(cols.keys())
        writer.writerows(zip(*(c.tolist() for c in cols.values())))


def write_atomic(files: dict) -> None:
    """Write ``{path: write}``: ``write(tmp)`` on a temporary name beside each path, flushed to disk, then all
    renamed into place; if any write fails, none is renamed and the temporary files are removed."""
    tmps = {path: path.with_name(f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}") for path in files}
    try:
        for path, write in files.items():
            write(tmps[path])
            with open(tmps[path], "rb") as fh:
                os.fsync(fh.fileno())
        for path, tmp in tmps.items():
            os.replace(tmp, path)
    finally:
        for tmp in tmps.values():
            tmp.unlink(missing_ok=True)
