"""The one place that sets Numba options.

Every kernel is compiled in nopython mode with ``fastmath`` off (results must be reproducible bit
for bit and match the pure-Python reference) and an on-disk cache, so a second process starts fast.

Numba checks a cached kernel only against its *own* file's timestamp, so a kernel that inlines a
function from another file would keep stale machine code after that file changed. The cache
therefore lives in a folder named after a fingerprint of every kernel source (plus the Numba
version): change any kernel and the next run compiles afresh. The folder is under
``$NUMBA_CACHE_DIR`` if set, else the user's cache folder (``$XDG_CACHE_HOME`` or ``~/.cache``).

Compile time. Numba compiles every kernel a kernel calls as a unit of its own and then optimises and
generates machine code for the whole tree below it again, so the cost of a first compile grows with
the number of kernels, the size of their calls and the number of times each is compiled. Three
choices here keep it down without changing the machine code of the hot paths:

* Only the kernels called from Python (``@jit(entry=True)``) get Numba's CPython wrapper, the code
  that unboxes Python arguments. The others are only ever called from kernels; their wrapper, which
  for a NamedTuple of arrays unboxes hundreds of fields, would be generated, optimised and
  compiled to machine code for nothing at every level of the call tree. Calling such a kernel from
  Python still works (tests, debugging): it goes through a twin compiled with a wrapper, uncached.
* No kernel gets the C-callable wrapper (first-class function support, unused).
* A kernel is compiled for the plain types of its arguments, never for literal values: Numba would
  otherwise compile ``f(x, 0)`` and ``f(x, n)`` (or ``g(True)`` and ``g(False)``) as separate
  functions, and types a loop counter first as the literal it starts from, then as an integer, so
  a call inside a loop compiled twice.

Run time. No kernel uses Numba's reference-counting runtime unless it allocates (``@jit(nrt=True)``: a few
set-up kernels called from Python). With it, every array a kernel receives (each array of a NamedTuple, at every
call that is not inlined) is counted with an atomic increment and decrement; in the event loop, where a book walk
or a fill takes tuples of dozens of arrays, that was about a third of a run. The event loop's kernels allocate
nothing (their sorts work in scratch arrays of the state), so nothing needs counting: the arrays belong to the
caller for the whole call. An allocation in a kernel without the runtime fails to compile.

Every kernel registers itself in :data:`KERNELS` (:mod:`sim._compile` reports compile progress with it).

Environment switches: ``LIQSIM_NO_CACHE=1`` turns the disk cache off; ``LIQSIM_DISABLE_JIT=1`` runs
the kernels as plain Python for debugging (very slow).
"""

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import numba
from numba.core import types
from numba.core.registry import CPUDispatcher

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


class Kernel(NamedTuple):
    """A registered kernel: ``name`` is ``module.qualname``; ``fn`` the dispatcher (the Python function when
    the JIT is disabled); ``inline`` Numba's inline option; ``entry`` whether Python calls it."""

    name: str
    fn: Callable[..., Any]
    inline: str
    entry: bool


#: Every ``@jit`` kernel, by ``module.qualname``, in the order they were defined.
KERNELS: dict[str, Kernel] = {}

#: Called as ``hook(dispatcher)`` whenever a kernel gains machine code for new argument types, compiled here or
#: loaded from the disk cache (:mod:`sim._compile` counts the kernels another process compiled with it).
READY_HOOKS: list[Callable[[Any], None]] = []


class _Dispatcher(CPUDispatcher):
    """A dispatcher that compiles for the plain (non-literal) types of its arguments."""

    def get_call_template(self, args, kws):
        args = tuple(types.unliteral(a) for a in args)
        kws = {k: types.unliteral(v) for k, v in kws.items()}
        return super().get_call_template(args, kws)

    def compile(self, sig):
        known = len(self.overloads)
        entry = super().compile(sig)
        if len(self.overloads) > known:
            for hook in list(READY_HOOKS):
                hook(self)
        return entry


class _InternalDispatcher(_Dispatcher):
    """A kernel compiled without the CPython wrapper: only kernels call it.

    A call from Python (which would jump through the missing wrapper) goes to a twin with a wrapper,
    compiled on first use and not cached (its cache files would share names with this kernel's)."""

    def __call__(self, *args, **kwargs):
        twin = self.__dict__.get("_python_twin")
        if twin is None:
            options = dict(self.targetoptions)
            options.pop("no_cpython_wrapper", None)
            twin = self._python_twin = _Dispatcher(py_func=self.py_func, locals={}, targetoptions=options)
        return twin(*args, **kwargs)


def compiled(kernel, *args):
    """Entry kernel ``kernel``'s machine code for the types of ``args`` (compiled, or loaded from the disk cache, now
    if it is not yet), to be called as ``f(*args)`` with arguments of exactly those types.

    A call through the dispatcher first works out the type of every argument to pick the machine code: for the event
    loop, whose state is over a hundred arrays in NamedTuples, about 30 µs a call before any unboxing. A caller that
    calls a kernel thousands of times with the same objects (the lockstep of several markets, at every oracle tick)
    looks the code up once. With the JIT disabled, or ``kernel`` not a dispatcher (a test's stand-in), ``kernel``
    itself."""
    if DISABLED or not isinstance(kernel, CPUDispatcher):
        return kernel
    return kernel.compile(tuple(kernel.typeof_pyval(a) for a in args))


def jit(fn=None, inline="never", entry=False, nrt=False):
    """Compile ``fn`` with the project's options (nopython, cached, no fastmath).

    ``entry=True`` marks a kernel called from Python (the engine, the calculator, tests); the others
    are compiled for calls from kernels only (see the module docstring).

    ``nrt=True`` is for a kernel that allocates arrays (Numba's runtime then counts references to every array it
    touches); every other kernel runs without it (see the module docstring), and an allocation in one fails to
    compile.

    ``@jit(inline="always")`` inlines a function into its callers at Numba's IR level. Kernels pass
    NamedTuples of arrays, which Numba flattens into hundreds of scalar arguments per call; for the
    functions called once per liquidation that calling cost was as large as the work itself.
    """
    if fn is None:
        return lambda f: jit(f, inline, entry, nrt)
    name = f"{fn.__module__}.{fn.__qualname__}"
    if DISABLED:
        KERNELS[name] = Kernel(name, fn, inline, entry)
        return fn
    options = dict(nopython=True, boundscheck=None, fastmath=False, nogil=True, inline=inline, no_cfunc_wrapper=True)
    options["_nrt"] = nrt
    if not entry:
        options["no_cpython_wrapper"] = True
    dispatcher = (_Dispatcher if entry else _InternalDispatcher)(py_func=fn, locals={}, targetoptions=options)
    if CACHE:
        # The cache locator is chosen when caching is enabled, so Numba's global setting is only
        # borrowed for that moment.
        previous = numba.config.CACHE_DIR
        numba.config.CACHE_DIR = CACHE_DIR or previous
        try:
            dispatcher.enable_caching()
        finally:
            numba.config.CACHE_DIR = previous
    KERNELS[name] = Kernel(name, dispatcher, inline, entry)
    return dispatcher
