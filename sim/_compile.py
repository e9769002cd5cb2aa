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

import os
import subprocess
import sys
import threading
import time
from contextlib import contextmanager

import numba
from numba.core import event, types

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
    """Counts this package's kernels as they compile here (Numba's compile events), as they load from the disk
    cache after a helper process compiled them (:data:`sim._jit.READY_HOOKS`), or as the helper reports them."""

    def __init__(self, callback, total):
        self.callback = callback
        self.expected = None if total is None else set()
        self.total = total or 0
        self.done = 0
        self.finished = set()
        self.by_helper = set()  # compiled by the helper: a second compile here is not counted again
        self.by_id = None
        self.lock = threading.RLock()

    def _kernel(self, dispatcher):
        if self.by_id is None:
            self.by_id = _dispatchers()
        return self.by_id.get(id(dispatcher))

    def _foresee(self):
        if self.expected is None:  # the first compile: the kernels are imported by now
            self.expected = set(to_compile())
            self.total = len(self.expected)

    def on_start(self, ev):
        kernel = self._kernel(ev.data["dispatcher"])
        if kernel is None or kernel.name in self.by_helper:
            return
        with self.lock:
            self._foresee()
            if kernel.name not in self.expected or kernel.name in self.finished:
                self.expected.add(kernel.name)  # not foreseen (new argument types, or not pending): count it
                self.total += 1
                self.finished.discard(kernel.name)
            self.callback(self.done, self.total, kernel.name)

    def on_end(self, ev):
        kernel = self._kernel(ev.data["dispatcher"])
        if kernel is None or kernel.name in self.by_helper:
            return
        with self.lock:
            self.done += 1
            self.finished.add(kernel.name)
            self.callback(self.done, self.total, kernel.name)

    def ready(self, name, helper=False):
        """``name`` has machine code, compiled by the helper (``helper``) or loaded here from the disk cache."""
        with self.lock:
            if helper:
                self._foresee()
            if self.expected is None or name not in self.expected or name in self.finished:
                return  # a load not foreseen is not a compile; a kernel counts once
            self.done += 1
            self.finished.add(name)
            if helper:
                self.by_helper.add(name)
            self.callback(self.done, self.total, name)

    def on_ready(self, dispatcher):
        kernel = self._kernel(dispatcher)
        if kernel is not None:
            self.ready(kernel.name)

    def notify(self, ev):
        if ev.is_start:
            self.on_start(ev)
        elif ev.is_end:
            self.on_end(ev)


#: The progress counters of the open :func:`compile_progress` blocks (a helper's reports go to each).
_ACTIVE: list[_Progress] = []

#: Names of the kernels helper processes reported compiled in this process's lifetime, in order.
HELPER_COMPILED: list[str] = []


@contextmanager
def compile_progress(callback, total=None):
    """Call ``callback(done, total, name)`` whenever one of this package's kernels starts (``done`` kernels
    finished so far) and finishes compiling (``done`` counts it) inside the block.

    ``name`` is the kernel's ``module.qualname`` (:func:`short_name` shortens it). ``total`` is the number of
    kernels expected to compile: by default, at the first compile, :func:`to_compile` (the entry kernels
    neither compiled nor cached, with every kernel they call); a compile not foreseen adds one, so ``done``
    never passes ``total``, but a run that does not call every pending entry kernel ends below it. Nothing is
    called when nothing compiles (every kernel cached or compiled already). Cache loads are not compiles,
    except of the kernels a :class:`Helper` process compiled meanwhile: those count once, as the helper
    finishes each or as they load here, whichever comes first.

    The callback runs while Numba holds its compiler lock, on the compiling thread or on the thread that
    reads the helper's reports: keep it short (write a line, no Numba calls). Example, a terminal status
    line::

        def show(done, total, name):
            sys.stderr.write(f"\\rcompiling kernels {done}/{total} {short_name(name)}")

        with compile_progress(show):
            sim.run(scenario)
    """
    if _jit.DISABLED:
        yield
        return
    progress = _Progress(callback, total)
    listener = _Listener(progress)
    _ACTIVE.append(progress)
    _jit.READY_HOOKS.append(progress.on_ready)
    try:
        with event.install_listener(_EVENT, listener):
            yield
    finally:
        _ACTIVE.remove(progress)
        _jit.READY_HOOKS.remove(progress.on_ready)


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


# ----------------------------------------------------------------------------------- a helper process
#
# Numba compiles one kernel at a time per process, and the kernels the event loop calls (about half of a cold
# warm-up) are compiled while the loop's own code is being typed. A second process that compiles them from the
# other end of the loop, with the argument types the loop will call them with, puts the second core to work:
# the first process loads each one from the disk cache when it gets there instead of compiling it. Where the
# two meet, one kernel may be compiled by both; nothing else changes (the cache holds the same machine code
# either way).

#: Types of the kernels' parameters that are not the loop's named state, by parameter name: a name means the same
#: thing, and has the same type, in every kernel. tests/test_compile.py checks them against what Numba compiles.
PARAM_TYPES = {
    **dict.fromkeys(
        ("t", "i", "j", "n", "n_pos", "kind", "side", "ticks", "a", "b", "a_top", "stamp", "prio", "seq", "idx"),
        types.int64,
    ),
    **dict.fromkeys(("ver", "i_a", "i_b", "open_code", "trader_code", "t_stop", "k", "v", "who"), types.int64),
    **dict.fromkeys(("keep", "fundamental", "basis", "prev"), types.float64),
    **dict.fromkeys(
        ("dq", "fair", "half_life", "k_a", "k_b", "key", "limit", "mark", "pct", "price", "q0", "qty", "r", "target"),
        types.float64,
    ),
    **dict.fromkeys(("tick", "x"), types.float64),
    "is_bid": types.boolean,
    "hk": types.float64[::1],  # a row of the trigger heap
    "hi": types.int64[::1],
    "hv": types.int64[::1],
}


def ordered_callees(kernel):
    """Names of the kernels ``kernel`` (or its name) calls directly, looking through the ones inlined into it, in
    the order their calls appear in its code: the order in which Numba types (and so compiles) them."""
    if isinstance(kernel, str):
        kernel = _jit.KERNELS[kernel]
    by_id = _dispatchers()
    out, seen = [], {kernel.name}

    def visit(k):
        code = k.fn.py_func.__code__
        names = list(code.co_names)
        for const in code.co_consts:  # nested functions and comprehensions
            if hasattr(const, "co_names"):
                names.extend(const.co_names)
        for name in dict.fromkeys(names):
            callee = by_id.get(id(k.fn.py_func.__globals__.get(name)))
            if callee is None or callee.name in seen:
                continue
            seen.add(callee.name)
            if callee.inline == "always":
                visit(callee)
            else:
                out.append(callee.name)

    visit(kernel)
    return out


def signature(kernel, values):
    """The argument types of ``kernel`` (or its name) from its parameter names: ``values`` gives the objects of
    the named state (``{"pos": ..., "p": ...}``, typed by Numba as a run passes them), :data:`PARAM_TYPES` the
    others. None when a parameter is neither."""
    if isinstance(kernel, str):
        kernel = _jit.KERNELS[kernel]
    code = kernel.fn.py_func.__code__
    out = []
    for name in code.co_varnames[: code.co_argcount]:
        if name in values:
            out.append(types.unliteral(numba.typeof(values[name])))
        elif name in PARAM_TYPES:
            out.append(PARAM_TYPES[name])
        else:
            return None
    return tuple(out)


@contextmanager
def plain_python():
    """Within the block, every kernel of this package is its Python function wherever a loaded module of the package
    holds it, so calling the package's code compiles nothing (a helper process prepares its tiny run this way: the
    set-up kernels are the parent's to compile, and a kernel's types do not depend on how its inputs were made).
    Nothing may be compiled inside the block: a kernel typed there would see Python functions as its callees."""
    by_id = {id(k.fn): k for k in _jit.KERNELS.values() if hasattr(k.fn, "py_func")}
    swapped = []
    for module in list(sys.modules.values()):
        spec = getattr(module, "__spec__", None)  # a module run with ``python -m`` is __main__ by name only
        name = spec.name if spec is not None else getattr(module, "__name__", "")
        if name != "sim" and not name.startswith("sim."):
            continue
        space = vars(module)
        for attr, value in list(space.items()):
            if id(value) in by_id:
                swapped.append((space, attr, value))
                space[attr] = value.py_func
    try:
        yield
    finally:
        for space, attr, value in swapped:
            space[attr] = value


@contextmanager
def reporting(report):
    """Within the block, ``report(name)`` as each of this package's kernels finishes compiling, callees included
    (nothing when ``report`` is None)."""
    by_id = _dispatchers()

    class _Report:
        def notify(self, ev):
            kernel = by_id.get(id(ev.data["dispatcher"]))
            if ev.is_end and kernel is not None and report is not None:
                report(kernel.name)

    with event.install_listener(_EVENT, _Listener(_Report())):
        yield


def compile_kernels(names, values, report=None):
    """Compile the kernels ``names`` in that order for the argument types :func:`signature` gives (skipping those
    it cannot type and those already compiled); ``report(name)`` as each of this package's kernels finishes,
    callees included."""
    with reporting(report):
        for name in names:
            kernel = _jit.KERNELS[name]
            sig = signature(kernel, values)
            if sig is not None and sig not in kernel.fn.overloads:
                kernel.fn.compile(sig)


def helper_wanted(root):
    """True when a helper process would shorten compiling ``root`` (a kernel's name): the JIT and the disk cache
    are on, ``root`` is neither compiled nor cached, this process may use two CPUs or more, and
    ``LIQSIM_COMPILE_HELPER`` is not ``0``."""
    if _jit.DISABLED or _jit.CACHE_DIR is None or os.environ.get("LIQSIM_COMPILE_HELPER", "1") in ("0", "no", "false"):
        return False
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    kernel = _jit.KERNELS.get(root)
    return cpus >= 2 and kernel is not None and not _compiled(kernel) and not _cached(kernel)


class Helper:
    """A child process (``argv``) that compiles kernels into the shared disk cache and writes the name of each
    on its standard output as it finishes; the names go to every open :func:`compile_progress` block. The
    child is stopped by :meth:`stop` (or dies with this process, if it sets that up itself)."""

    def __init__(self, argv, env=None):
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            text=True,
        )
        self.thread = threading.Thread(target=self._read, name="liqsim-compile-helper", daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            name = line.strip()
            if name in _jit.KERNELS:
                HELPER_COMPILED.append(name)
                for progress in list(_ACTIVE):
                    progress.ready(name, helper=True)

    def stop(self):
        """Stop the child if it is still compiling (the parent needs nothing more from it) and wait for it."""
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.thread.join(timeout=5)
        self.proc.stdout.close()
