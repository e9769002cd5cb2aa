"""The one place that sets Numba options.

Every kernel is compiled in nopython mode with ``fastmath`` off (results must be reproducible bit
for bit and match the pure-Python reference) and an on-disk cache, so a second process starts fast.

Numba checks a cached kernel only against its *own* file's timestamp, so a kernel that inlines a
function from another file would keep stale machine code after that file changed. The cache
therefore lives in a folder named after a fingerprint of every kernel source (plus the Numba
version): change any kernel and the next run compiles afresh. The folder is under
``$NUMBA_CACHE_DIR`` if set, else the user's cache folder (``$XDG_CACHE_HOME`` or ``~/.cache``).

Environment switches: ``LIQSIM_NO_CACHE=1`` turns the disk cache off; ``LIQSIM_DISABLE_JIT=1`` runs
the kernels as plain Python for debugging (very slow).
"""

import hashlib
import os
from pathlib import Path

import numba

CACHE = os.environ.get("LIQSIM_NO_CACHE", "") not in ("1", "true", "yes")
DISABLED = os.environ.get("LIQSIM_DISABLE_JIT", "") in ("1", "true", "yes")

_PKG = Path(__file__).resolve().parent
_SOURCES = ("_jit.py", "enums.py", "state.py", "kernels")


def _fingerprint():
    digest = hashlib.sha256(numba.__version__.encode())
    for name in _SOURCES:
        path = _PKG / name
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(file.name.encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def _cache_dir():
    base = os.environ.get("NUMBA_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "liqsim"
    )
    path = os.path.join(base, f"kernels-{_fingerprint()}")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError:
        return None  # not writable: fall back to Numba's default location
    return path


CACHE_DIR = _cache_dir() if CACHE and not DISABLED else None


def jit(fn=None, inline="never"):
    """Compile ``fn`` with the project's options (nopython, cached, no fastmath).

    ``@jit(inline="always")`` inlines a function into its callers at Numba's IR level. Kernels pass
    NamedTuples of arrays, which Numba flattens into hundreds of scalar arguments per call; for the
    functions called once per liquidation that calling cost was as large as the work itself.
    """
    if fn is None:
        return lambda f: jit(f, inline)
    if DISABLED:
        return fn
    if not CACHE:
        return numba.njit(cache=False, fastmath=False, nogil=True, inline=inline)(fn)
    # The cache locator is chosen when the dispatcher is created, so Numba's global setting is
    # only borrowed for the duration of the decoration.
    previous = numba.config.CACHE_DIR
    numba.config.CACHE_DIR = CACHE_DIR or previous
    try:
        return numba.njit(cache=True, fastmath=False, nogil=True, inline=inline)(fn)
    finally:
        numba.config.CACHE_DIR = previous
