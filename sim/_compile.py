"""Which kernels a run will compile, progress while they compile, and how long compiling took.

Numba compiles a kernel the first time it is called with new argument types, unless the disk cache
(:mod:`sim._jit`) already holds it; a kernel it calls is compiled on the way, as part of the caller.
Every ``@jit`` kernel registers itself in :data:`sim._jit.KERNELS`, so the kernels a first run
compiles are known before they are: the entry kernels (called from Python) that are neither compiled
in this process nor cached on disk, and every kernel they call that is not inlined into its caller.

* :func:`pending` lists those entry kernels (empty: the next run compiles nothing);
* :func:`compile_progress` reports each kernel as Numba starts and finishes compiling it, as
  ``(done, total, name)``;
* :func:`compile_clock` measures the time spent compiling or loading kernels, so that a run's own
  time can leave it out.

Only kernels of this package are counted; the helper functions Numba compiles for them (NumPy
functions, built-ins) are part of their caller's time. Imports nothing but the standard library,
Numba and :mod:`sim._jit` (``import sim`` does not import it, so it does not load Numba).
"""

import threading
import time
from contextlib import contextmanager

from numba.core import event

from sim import _jit

_EVENT = "numba:compile"
_LOCK_EVENT = "numba:compiler_lock"


def _dispatchers():
    """Registered kernels by dispatcher object (id), compiled ones only (none when the JIT is disabled)."""
    return {id(k.fn): k for k in _jit.KERNELS.values() if hasattr(k.fn, "py_func")}


def _callees(kernel, by_id):
    """The registered kernels ``kernel`` calls by name, looking through the ones inlined into it."""
    out, stack, seen = [], [kernel], {kernel.name}
    while stack:
        k = stack.pop()
        fn = k.fn.py_func
        names = set(fn.__code__.co_names)
        for const in fn.__code__.co_consts:  # nested functions and comprehensions
            if hasattr(const, "co_names"):
                names.update(const.co_names)
        for name in names:
            callee = by_id.get(id(fn.__globals__.get(name)))
            if callee is None or callee.name in seen:
                continue
            seen.add(callee.name)
            if callee.inline == "always":
                stack.append(callee)  # its calls are its caller's
            else:
                out.append(callee)
    return out


def closure(kernel):
    """Names of the kernels compiled when ``kernel`` (a :class:`sim._jit.Kernel` or its name) is: itself and
    every kernel it calls directly or indirectly, except those inlined into their callers."""
    if isinstance(kernel, str):
        kernel = _jit.KERNELS[kernel]
    by_id = _dispatchers()
    names, stack = [kernel.name], [kernel]
    seen = {kernel.name}
    while stack:
        for callee in _callees(stack.pop(), by_id):
            if callee.name not in seen:
                seen.add(callee.name)
                names.append(callee.name)
                stack.append(callee)
    return names


def _compiled(kernel):
    """True when ``kernel`` has machine code in this process (compiled, or loaded from the disk cache)."""
    return bool(getattr(kernel.fn, "overloads", None))


def _cached(kernel):
    """True when the disk cache holds a compiled ``kernel`` for this machine and these sources (any argument
    types: a run that calls it with new ones compiles it again, which :func:`compile_progress` then counts)."""
    try:
        dispatcher = kernel.fn
        index = dispatcher._cache._cache_file._load_index()
        magic = dispatcher.targetctx.codegen().magic_tuple()
    except (AttributeError, OSError, EOFError, ValueError):  # no disk cache, or Numba's internals moved
        return False
    return any(isinstance(key, tuple) and len(key) > 1 and key[1] == magic for key in index)


def pending():
    """Names of the entry kernels (called from Python, not inlined) that the next run would compile: neither
    compiled in this process nor cached on disk. Empty when the JIT is disabled. Only the kernels of
    modules already imported are known (``import sim.engine`` imports them all)."""
    return [
        k.name
        for k in _jit.KERNELS.values()
        if k.entry and k.inline != "always" and hasattr(k.fn, "py_func") and not _compiled(k) and not _cached(k)
    ]


def to_compile(entries=None):
    """Names of every kernel that compiling ``entries`` (default :func:`pending`) compiles, each once: the
    union of their :func:`closure` less the kernels already compiled in this process."""
    names = []
    for entry in pending() if entries is None else entries:
        for name in closure(entry):
            if name not in names and not _compiled(_jit.KERNELS[name]):
                names.append(name)
    return names


def short_name(name):
    """``sim.kernels.loop.run_nb`` → ``run_nb``."""
    return name.rsplit(".", 1)[-1]


class _Progress:
    """Listener of Numba's compile events that counts this package's kernels."""

    def __init__(self, callback, total):
        self.callback = callback
        self.expected = None if total is None else set()
        self.total = total or 0
        self.done = 0
        self.finished = set()
        self.by_id = None

    def _kernel(self, ev):
        if self.by_id is None:
            self.by_id = _dispatchers()
        return self.by_id.get(id(ev.data["dispatcher"]))

    def on_start(self, ev):
        kernel = self._kernel(ev)
        if kernel is None:
            return
        if self.expected is None:  # the first compile: the kernels are imported by now
            self.expected = set(to_compile())
            self.total = len(self.expected)
        if kernel.name not in self.expected or kernel.name in self.finished:
            self.expected.add(kernel.name)  # not foreseen (new argument types, or not pending): count it
            self.total += 1
            self.finished.discard(kernel.name)
        self.callback(self.done, self.total, kernel.name)

    def on_end(self, ev):
        kernel = self._kernel(ev)
        if kernel is None:
            return
        self.done += 1
        self.finished.add(kernel.name)
        self.callback(self.done, self.total, kernel.name)

    def notify(self, ev):
        if ev.is_start:
            self.on_start(ev)
        elif ev.is_end:
            self.on_end(ev)


@contextmanager
def compile_progress(callback, total=None):
    """Call ``callback(done, total, name)`` whenever one of this package's kernels starts (``done`` kernels
    finished so far) and finishes compiling (``done`` counts it) inside the block.

    ``name`` is the kernel's ``module.qualname`` (:func:`short_name` shortens it). ``total`` is the number of
    kernels expected to compile: by default, at the first compile, :func:`to_compile` (the entry kernels
    neither compiled nor cached, with every kernel they call); a compile not foreseen adds one, so ``done``
    never passes ``total``, but a run that does not call every pending entry kernel ends below it. Nothing is
    called when nothing compiles (every kernel cached or compiled already). Cache loads are not compiles.

    The callback runs on the compiling thread while Numba holds its compiler lock: keep it short (write a
    line, no Numba calls). Example, a terminal status line::

        def show(done, total, name):
            sys.stderr.write(f"\\rcompiling kernels {done}/{total} {short_name(name)}")

        with compile_progress(show):
            sim.run(scenario)
    """
    if _jit.DISABLED:
        yield
        return
    listener = _Listener(_Progress(callback, total))
    with event.install_listener(_EVENT, listener):
        yield


class _Clock:
    """Wall time spent holding Numba's compiler lock (compiling or loading kernels), outermost holds only."""

    def __init__(self):
        self.seconds = 0.0
        self._depth = 0
        self._t0 = 0.0
        self._thread = threading.get_ident()

    def notify(self, ev):
        if threading.get_ident() != self._thread:
            return
        if ev.is_start:
            if self._depth == 0:
                self._t0 = time.perf_counter()
            self._depth += 1
        elif ev.is_end and self._depth > 0:
            self._depth -= 1
            if self._depth == 0:
                self.seconds += time.perf_counter() - self._t0


@contextmanager
def compile_clock():
    """Measure the wall time spent compiling kernels or loading them from the disk cache inside the block.

    Yields an object whose ``seconds`` grows as the block runs (read it at any point)::

        with compile_clock() as clock:
            run()
        compile_s = clock.seconds
    """
    clock = _Clock()
    if _jit.DISABLED:
        yield clock
        return
    with event.install_listener(_LOCK_EVENT, _Listener(clock)):
        yield clock


class _Listener(event.Listener):
    """Forwards Numba's start and end events to ``target.notify``."""

    def __init__(self, target):
        self.target = target

    def on_start(self, ev):
        self.target.notify(ev)

    def on_end(self, ev):
        self.target.notify(ev)
