"""The one place that sets Numba options.

Every kernel is compiled with ``nopython`` semantics, ``fastmath`` off (results must be bit-for-bit
reproducible and match the pure-Python reference) and an on-disk cache so a second process starts
fast. ``LIQSIM_NO_CACHE=1`` turns the cache off (useful when a cache directory is read-only).
``LIQSIM_DISABLE_JIT=1`` runs the kernels as plain Python for debugging (very slow).
"""

import os

import numba

CACHE = os.environ.get("LIQSIM_NO_CACHE", "") not in ("1", "true", "yes")
DISABLED = os.environ.get("LIQSIM_DISABLE_JIT", "") in ("1", "true", "yes")


def jit(fn):
    """Compile ``fn`` with the project's options (nopython, cached, no fastmath)."""
    if DISABLED:
        return fn
    return numba.njit(cache=CACHE, fastmath=False, nogil=True)(fn)
