"""Writing results safely: one home for every file liqsim writes.

**Marker.** Every folder liqsim writes (a run's, a comparison's, a sweep's) holds :data:`MARKER`, ``.liqsim.json``:
what wrote it (``kind``: run, comparison, sweep or instruments (a run of several); the liqsim version; when; the process id and command) and
``files``, the size and SHA-256 of every file it wrote there. An existing folder is replaced, or written into, only
when it is provably liqsim's (:func:`check_folder`): empty, or its marker is readable and of the same kind and every
entry in the folder is a regular file the marker lists, with the size and hash listed (a listed file may be
missing: removing a file destroys nothing of the user's). A sweep's ``runs/`` is the exception, as its records come
and go over the sweep's life: it may hold only run records (``r`` + 16 hex digits + ``.json``, regular files).
Anything else, a folder without the marker included (such as one an older liqsim wrote), is refused with what was
found; liqsim never deletes what it cannot prove it wrote.

**Lock.** A writer holds ``.NAME.lock`` beside the folder (``fcntl.flock``; the file holds its pid, command and
since when) from its checks to its last write (:func:`claim`); a second writer is refused at once, naming the
holder. Before anything runs, :func:`claim` also proves the place writable: it creates the parent folder, the lock
and a probe file there (and in the folder itself where files are written into it).

**Swap.** A run's or a comparison's folder is assembled as ``.NAME.tmp-PID-HEX`` beside the target (holding a
marker from its first moment) and put in place in one step: where the kernel and filesystem offer it,
``renameat2(RENAME_EXCHANGE)`` exchanges it with the old folder; elsewhere the old folder is first renamed
``.NAME.old-PID-HEX`` and the new one renamed into place, so a crash between the two leaves the old results
under that name, and the next writer of that folder puts them back (:func:`recover`). The old folder is then
removed, its marker last. The next writer into the same parent folder removes the temporaries a killed writer
left: those of its own folder (it holds the lock, so nobody else is writing them) and others' whose process is no
longer alive; only folders named by liqsim's pattern that hold a liqsim marker (or nothing) are touched.

Files written over time into a sweep's folder go through :func:`write_atomic`: under a temporary name, flushed to
disk, then renamed, the marker listing the new content before the rename and dropping the old after it.
"""

import contextlib
import csv
import ctypes
import ctypes.util
import errno
import functools
import hashlib
import json
import math
import os
import re
import secrets
import shlex
import shutil
import signal
import stat
import sys
import time
from pathlib import Path

import numpy as np

from sim import enums as E
from sim._version import __version__
from sim.errors import ScenarioError

#: The marker file of every folder liqsim writes.
MARKER = ".liqsim.json"
#: What a marker's ``kind`` may be.
KINDS = ("run", "comparison", "sweep", "instruments")
#: Files of a severity study, written into its sweep's folder.
SEVERITY_FILES = ("severity.png", "severity.csv")
#: The temporary name of a file being written by :func:`write_atomic`.
TEMP_NAME = re.compile(r"^\..+\.tmp-\d+-[0-9a-f]+$")
#: A folder being assembled (``tmp``) or an old one being replaced (``old``), beside its target ``name``.
TEMP_FOLDER = re.compile(r"^\.(?P<name>.+)\.(?P<what>tmp|old)-(?P<pid>\d+)-[0-9a-f]+$")
#: What ``Result.save`` writes (a folder holding only these and no marker looks like an older liqsim's run).
OUTPUT_FILES = frozenset(
    {"summary.json", "fills.csv", "series.csv", "accounts.csv", "adl.csv", "spot.csv", "scenario.toml", "cascade.png"}
)
_HINT = "liqsim never deletes what it cannot prove it wrote: move or remove it yourself, or choose another folder"
#: A folder kind as messages name it.
_KIND_NAMES = {"run": "run", "comparison": "comparison", "sweep": "sweep", "instruments": "run of several instruments"}


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


def write_csv(path, records, table):
    """A record array as CSV, codes as names; NaN is written ``nan`` (as in ``series.csv`` when a book side is
    empty)."""
    cols = label_columns(records, table)
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(cols.keys())
        writer.writerows(zip(*(c.tolist() for c in cols.values())))


@contextlib.contextmanager
def naming(path):
    """Name ``path`` in an OSError raised while writing it (a full disk raises one that names no file)."""
    try:
        yield
    except OSError as err:
        raise OSError(err.errno, err.strerror or str(err), str(path)) from err


# ---------------------------------------------------------------------------------------------- the marker


def command():
    """The command line of this process, as a person would type it (for the lock and the marker)."""
    argv = list(sys.argv) or ["python"]
    head = argv[0]
    if head.endswith("__main__.py") and Path(head).parent.name == "sim":
        head = "python -m sim"
    elif Path(head).name == "liqsim":
        head = "liqsim"
    text = " ".join([head, shlex.join(argv[1:])]).strip()
    return text if len(text) <= 300 else text[:297] + "..."


def _now():
    return time.strftime("%Y-%m-%d %H:%M:%S %z")


def new_marker(kind, files=None):
    """A marker document for a ``kind`` folder listing ``files`` (``{name: {"size", "sha256"}}``)."""
    assert kind in KINDS, kind
    return {
        "kind": kind,
        "liqsim": __version__,
        "written": _now(),
        "pid": os.getpid(),
        "command": command(),
        "files": dict(files or {}),
    }


def digest(path, sync=False):
    """``{"size", "sha256"}`` of a file (flushed to disk first with ``sync``)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        if sync:
            os.fsync(fh.fileno())
        while chunk := fh.read(1 << 20):
            h.update(chunk)
        size = fh.tell()
    return {"size": size, "sha256": h.hexdigest()}


def read_marker(folder):
    """``(marker, problem)``: the folder's marker as a dict, or None and why (None, None without one)."""
    path = Path(folder) / MARKER
    if not os.path.lexists(path):
        return None, None
    if not path.is_file() or path.is_symlink():
        return None, f"its {MARKER} is not a file liqsim wrote"
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        return None, f"its {MARKER} cannot be read ({err})"
    if not isinstance(doc, dict) or doc.get("kind") not in KINDS or not isinstance(doc.get("files", {}), dict):
        return None, f"its {MARKER} is not a liqsim marker"
    return doc, None


def write_marker(folder, doc):
    """Write a folder's marker atomically."""
    path = Path(folder) / MARKER
    write_atomic({path: lambda p: p.write_text(json.dumps(doc, indent=1) + "\n")})


def update_marker(folder, files=None, pending=None, drop=()):
    """Set ``files`` entries, ``pending`` ones (content a file may also hold while it is being renamed into place)
    and drop names, in the folder's marker."""
    doc, problem = read_marker(folder)
    if doc is None:
        raise ScenarioError(f"{folder}: {problem or f'has no {MARKER}'}; {_HINT}")
    doc["files"].update(files or {})
    doc["pending"] = {**doc.get("pending", {}), **(pending or {})}
    for name in drop:
        doc["files"].pop(name, None)
        doc["pending"].pop(name, None)
    for name in files or {}:
        doc["pending"].pop(name, None)
    if not doc["pending"]:
        del doc["pending"]
    doc.update(updated=_now(), liqsim=__version__)
    write_marker(folder, doc)


def unchanged(folder, name):
    """True when ``folder/name`` is a regular file that the folder's marker lists, with the size and hash listed."""
    doc, _ = read_marker(folder)
    path = Path(folder) / name
    if doc is None or not os.path.lexists(path) or not stat.S_ISREG(os.lstat(path).st_mode):
        return False
    entries = [e for e in (doc.get("files", {}).get(name), doc.get("pending", {}).get(name)) if isinstance(e, dict)]
    return any(e.get("size") == os.lstat(path).st_size for e in entries) and digest(path) in entries


def _shown(names):
    names = sorted(names)
    return ", ".join(names[:6]) + (f", ... ({len(names)} in all)" if len(names) > 6 else "")


def _entry(path):
    """A folder entry as shown in messages: a folder with a trailing /."""
    return path.name + ("/" if path.is_dir() and not path.is_symlink() else "")


def _not_ours(target, kind, expected, loose):
    """Why ``target`` (an existing, non-empty folder) is not provably a liqsim ``kind`` folder; None if it is."""
    entries = sorted(target.iterdir())
    doc, problem = read_marker(target)
    if doc is None:
        shown = _shown(_entry(p) for p in entries)
        if problem:
            return f"{problem} (it holds {shown})"
        if all((p.name in loose) == p.is_dir() and (p.name in expected or p.name in loose) for p in entries):
            return (
                f"holds {shown} but no {MARKER} marker: it looks like the output of an older liqsim (which wrote no "
                "marker), and liqsim replaces only folders it can prove it wrote"
            )
        return f"holds files liqsim did not write ({shown}) and no {MARKER} marker"
    if doc["kind"] != kind:
        return (
            f"holds a liqsim {_KIND_NAMES[doc['kind']]} ({MARKER}), not a {_KIND_NAMES[kind]}, and liqsim replaces a "
            "folder only with one of the same kind"
        )
    listed, pending = doc.get("files", {}), doc.get("pending", {})
    foreign, changed = [], []
    for path in entries:
        name, mode = path.name, os.lstat(path).st_mode
        if name == MARKER:
            continue
        if name in loose:  # a folder whose entries are checked by name and type only
            if not stat.S_ISDIR(mode):
                changed.append(f"{name} (not a folder, unlike a {kind}'s {name}/)")
                continue
            foreign += [
                f"{name}/{_entry(p)}"
                for p in sorted(path.iterdir())
                if not (stat.S_ISREG(os.lstat(p).st_mode) and (loose[name].match(p.name) or TEMP_NAME.match(p.name)))
            ]
        elif loose and TEMP_NAME.match(name) and stat.S_ISREG(mode):
            continue  # a write interrupted in a folder written over time; removed under the lock
        elif name not in listed and name not in pending:
            foreign.append(_entry(path))
        elif not stat.S_ISREG(mode):
            changed.append(f"{_entry(path)} (liqsim wrote a file there)")
        else:
            sizes = {e.get("size") for e in (listed.get(name), pending.get(name)) if isinstance(e, dict)}
            if os.lstat(path).st_size not in sizes or digest(path) not in (listed.get(name), pending.get(name)):
                changed.append(name)
    found = []
    if foreign:
        found.append(f"holds files liqsim did not write ({_shown(foreign)})")
    if changed:
        found.append(f"holds files changed since liqsim wrote them ({_shown(changed)})")
    return "; ".join(found) or None


def check_folder(target, kind, expected=frozenset(), loose=None):
    """Raise :class:`ScenarioError` unless ``target`` may be written as a liqsim ``kind`` folder: absent, empty, or
    provably liqsim's (see the module's docs). ``expected``: the names such a folder holds (for the message about a
    folder without a marker); ``loose``: ``{name: pattern}`` of sub-folders whose entries are checked by name only."""
    target = Path(target)
    if not os.path.lexists(target):
        return
    if target.is_symlink() or not target.is_dir():
        what = "a symbolic link" if target.is_symlink() else "a file"
        raise ScenarioError(f"{target}: output folder: exists and is {what}; choose another folder")
    if not any(target.iterdir()):
        return
    found = _not_ours(target, kind, expected, loose or {})
    if found:
        hint = "move or remove it yourself, or choose another folder" if found.endswith("same kind") else _HINT
        raise ScenarioError(f"{target}: output folder: {found}; {hint}")


# ---------------------------------------------------------------------------------------------------- the lock

_HELD: dict[str, list[int]] = {}  # lock path -> [fd, count]: the locks this process holds (re-entrant)


def lock_path(target):
    """The lock file of an output folder: ``.NAME.lock`` beside it."""
    target = Path(target)
    return target.with_name(f".{target.name}.lock")


def _holder(fd):
    """Who holds a lock, from its file (which its holder fills in just after taking it)."""
    for _ in range(20):
        with contextlib.suppress(OSError, ValueError):
            doc = json.loads(os.pread(fd, 4096, 0).decode())
            return f"pid {doc['pid']}, `{doc['command']}`, since {doc['since']}"
        time.sleep(0.05)
    return "its pid could not be read"


@contextlib.contextmanager
def folder_lock(target, what=None):
    """Hold the lock of the output folder ``target`` (re-entrant within a process); raise :class:`ScenarioError`
    naming the holder when another process holds it. The lock file is removed when the lock is let go."""
    import fcntl

    path = lock_path(target)
    key = str(path)
    if key in _HELD:
        _HELD[key][1] += 1
        try:
            yield
        finally:
            _HELD[key][1] -= 1
        return
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        except OSError as err:
            raise ScenarioError(
                f"{target}: output folder: cannot write in {path.parent} ({err.strerror}); choose another folder"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise ScenarioError(
                f"{target}: output folder: in use by another liqsim ({holder}); wait for it to finish, "
                "or choose another folder"
            ) from None
        try:  # its last holder may have removed the file between our open and our lock: then lock the new one
            same = os.path.samestat(os.stat(path), os.fstat(fd))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        doc = {"pid": os.getpid(), "command": what or command(), "since": _now()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(doc).encode(), 0)
        _HELD[key] = [fd, 1]
        yield
    finally:
        _HELD.pop(key, None)
        with contextlib.suppress(OSError):
            os.unlink(path)  # while still holding it; a waiting process notices and locks afresh
        os.close(fd)


# ------------------------------------------------------------------------------------------ claim and probe


def _make_parent(target):
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        above = parent
        while not above.exists():
            above = above.parent
        reason = f"{above} is not a folder" if not above.is_dir() else f"{err.filename or above}: {err.strerror}"
        raise ScenarioError(f"{target}: output folder: cannot be created ({reason})") from None


def _probe(target, folder):
    """Create, write, flush and remove a small file in ``folder``, or raise naming what failed."""
    # named like a temporary file, so that one a kill left in a sweep's folder is removed as the next sweep starts
    path = Path(folder) / f".{Path(target).name}.probe.tmp-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        with open(path, "wb") as fh:
            fh.write(b"liqsim probe\n")
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as err:
        raise ScenarioError(
            f"{target}: output folder: cannot write in {folder} ({err.strerror}); choose another folder"
        ) from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)


@contextlib.contextmanager
def claim(target, kind, expected=frozenset(), loose=None, inside=False):
    """Everything before a liqsim ``kind`` folder is written, and the lock held while it is: the parent created,
    the folder's lock taken, hidden old results put back and stale temporaries removed (:func:`recover`), the folder
    checked (:func:`check_folder`) and the places written proved writable (the parent, and with ``inside`` the
    folder and its ``loose`` sub-folders). Yields the resolved target. Re-entrant: a caller may claim a folder
    before a run and the save claims it again."""
    target = Path(target).expanduser().resolve()
    _make_parent(target)
    with folder_lock(target):
        recover(target)
        check_folder(target, kind, expected, loose)
        _probe(target, target.parent)
        if target.is_dir():
            if not os.access(target, os.W_OK | os.X_OK):
                raise ScenarioError(f"{target}: output folder: is not writable; choose another folder")
            for folder in [target, *(target / name for name in loose or {})] if inside else []:
                if folder.is_dir():
                    _probe(target, folder)
        yield target


# ---------------------------------------------------------------------------------------------------- the swap


@functools.cache
def libc():
    """The C library (for ``renameat2`` and ``prctl``), or None where it cannot be loaded."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
    except OSError:
        return None


def die_with_parent(parent: int) -> None:
    """Have the kernel send this process SIGTERM when its parent dies, however it dies (Linux's
    ``prctl(PR_SET_PDEATHSIG)``; elsewhere nothing), and exit now if the parent is already gone. For the helper
    processes liquidation runs start: a sweep's pool workers, the compile helper."""
    prctl = getattr(libc(), "prctl", None)
    if prctl is not None:
        prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG = 1
    if os.getppid() != parent:  # it died before the line above took effect
        os._exit(1)


_AT_FDCWD, _RENAME_EXCHANGE = -100, 2


def exchange(a, b):
    """Exchange two paths in one step (``renameat2(RENAME_EXCHANGE)``); False where the C library, kernel or
    filesystem does not offer it (nothing is changed then)."""
    fn = getattr(libc(), "renameat2", None)
    if fn is None:
        return False
    fn.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint)
    fn.restype = ctypes.c_int
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _hidden(target, what):
    return target.with_name(f".{target.name}.{what}-{os.getpid()}-{secrets.token_hex(4)}")


def swap(tmp, target):
    """Put the complete folder ``tmp`` at ``target``; returns the path that now holds the old folder (None if there
    was none). One exchange where offered; else the old folder is renamed ``.NAME.old-PID-HEX`` first, then the
    new one into place: a crash between the two leaves both findable, and :func:`recover` puts the old one back."""
    if not os.path.lexists(target):
        os.rename(tmp, target)
        return None
    if exchange(tmp, target):
        return tmp
    old = _hidden(target, "old")
    os.rename(target, old)
    os.rename(tmp, target)
    return old


def remove_tree(path):
    """Remove a liqsim folder, its marker last, so a removal cut short is still recognised and finished later."""
    path = Path(path)
    for entry in path.iterdir():
        if entry.name == MARKER:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    with contextlib.suppress(FileNotFoundError):
        (path / MARKER).unlink()
    path.rmdir()


def _alive(pid):
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover(target):
    """Under ``target``'s lock: put back old results that a crash between the two renames of :func:`swap` left
    hidden (``.NAME.old-PID-HEX`` while ``target`` is missing), and remove liqsim's temporaries in the parent: those
    of ``target`` (nobody else writes them while the lock is held) and other folders' whose process is gone. Only
    folders named by liqsim's pattern that hold a liqsim marker, or nothing, are touched."""
    target = Path(target)
    for path in sorted(target.parent.iterdir()):
        m = TEMP_FOLDER.match(path.name)
        if not m or path.is_symlink() or not path.is_dir():
            continue
        own = m["name"] == target.name
        if not own and _alive(int(m["pid"])):
            continue
        with contextlib.suppress(OSError):
            if read_marker(path)[0] is None and any(path.iterdir()):
                continue  # not provably liqsim's
            if m["what"] == "old" and not os.path.lexists(path.with_name(m["name"])):
                if own:
                    os.rename(path, target)  # the old results, back where they were
                continue  # another folder's: its own next writer puts them back
            remove_tree(path)


@contextlib.contextmanager
def atomic_folder(target, kind):
    """Assemble a liqsim ``kind`` folder as ``.NAME.tmp-PID-HEX`` beside ``target`` (claimed by the caller) and put it
    in place with :func:`swap`. Yields the temporary folder; when the body is done, every file in it is flushed to
    disk and listed in its marker. On any error the temporary folder is removed and ``target`` is left as it was."""
    target = Path(target)
    tmp = _hidden(target, "tmp")
    os.mkdir(tmp)
    try:
        write_marker(tmp, new_marker(kind))  # recognisable as liqsim's from the first moment
        yield tmp
        files = {}
        for path in sorted(tmp.rglob("*")):
            if path.name != MARKER and path.is_file():
                with naming(target / path.relative_to(tmp)):
                    files[str(path.relative_to(tmp))] = digest(path, sync=True)
        with naming(target / MARKER):
            write_marker(tmp, new_marker(kind, files))
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        old = swap(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            remove_tree(tmp)
        raise
    if old is not None:
        with contextlib.suppress(OSError):  # left for the next writer to remove (it carries its marker)
            remove_tree(old)


# ---------------------------------------------------------------------------------------------------- files


def write_atomic(files: dict, folder=None) -> None:
    """Write ``{path: write}``: ``write(tmp)`` on a temporary name beside each path, flushed to disk, then all
    renamed into place; if any write fails, none is renamed and the temporary files are removed. ``folder``: the
    liqsim folder whose marker lists these files (by name): it lists the new content before the renames (as a
    content the file may also hold) and drops the old after them, so the folder stays provably liqsim's throughout."""
    tmps = {path: path.with_name(f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}") for path in files}
    try:
        sums = {}
        for path, write in files.items():
            with naming(path):
                write(tmps[path])
                sums[path.name] = digest(tmps[path], sync=True)
        if folder is not None:
            update_marker(folder, pending=sums)
        for path, tmp in tmps.items():
            os.replace(tmp, path)
        if folder is not None:
            update_marker(folder, files=sums)
    finally:
        for tmp in tmps.values():
            tmp.unlink(missing_ok=True)


def write_new(files: dict) -> None:
    """Write ``{path: write}`` like :func:`write_atomic`, but never over an existing file: each is put in place with
    a hard link, which fails if the name exists (a check and a rename where the filesystem has no hard links).
    Raises :class:`ScenarioError` naming an existing file; none of the files is then left in place."""
    tmps = {path: path.with_name(f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}") for path in files}
    placed = []
    try:
        for path, write in files.items():
            with naming(path):
                write(tmps[path])
                digest(tmps[path], sync=True)
        for path, tmp in tmps.items():
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise ScenarioError(f"{path}: exists; {_HINT}") from None
            except OSError as err:
                if err.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.ENOSYS):
                    raise
                if os.path.lexists(path):
                    raise ScenarioError(f"{path}: exists; {_HINT}") from None
                os.replace(tmp, path)
            placed.append((path, tmp))
    except BaseException:
        for path, tmp in placed:  # only what this call put there
            with contextlib.suppress(OSError):
                if not tmp.exists() or os.path.samestat(os.stat(path), os.stat(tmp)):
                    path.unlink()
        raise
    finally:
        for tmp in tmps.values():
            tmp.unlink(missing_ok=True)
