"""What the command line shows while a command works, on stderr: the progress bar with its ETA, and the notices of
the engine's kernels compiling (:mod:`sim.cli` creates them for ``run``, ``compare``, ``sweep`` and ``warmup``)."""

import contextlib
import time


class _Progress:
    """A one-line progress bar with ETA on a terminal; silent otherwise. Time spent compiling kernels (measured by
    ``compiling``, a :class:`_Compiling`) is left out of the ETA: a first run must not promise an hour."""

    def __init__(self, stream, enabled, label="simulating", compiling=None):
        self.stream, self.enabled, self.label = stream, enabled, label
        self.compiling = compiling
        self.restart()

    def restart(self):
        """Start the ETA's clock now."""
        self.t0 = time.perf_counter()
        self.c0 = self.compiling.seconds() if self.compiling is not None else 0.0

    def __call__(self, fraction, note=""):
        if not self.enabled:
            return
        spent = 0.0
        if self.compiling is not None:
            self.compiling.end_line()
            spent = self.compiling.seconds() - self.c0
        elapsed = max(time.perf_counter() - self.t0 - spent, 0.0)
        eta = elapsed / fraction * (1.0 - fraction) if fraction > 0 else 0.0
        bar = "#" * int(30 * fraction)
        self.stream.write(f"\r  {self.label} [{bar:<30}] {100 * fraction:5.1f}%{note}  eta {eta:5.1f}s")
        self.stream.flush()
        if fraction >= 1.0:
            self.stream.write("\n")


class _Compiling:
    """Shows that the engine's kernels are compiling whenever they are (not only on a first run: a changed checkout,
    a new Numba or another machine compiles too), as kernels done out of kernels to compile: a live line on a
    terminal; a line when compiling starts and one when it ends otherwise. Also the compile clock of the command.

    Use as ``with _Compiling(sys.stderr, enabled) as compiling: ...``."""

    def __init__(self, stream, enabled):
        self.stream, self.enabled, self.tty = stream, enabled, enabled and stream.isatty()
        self.t0 = None
        self.last = (0, 0)
        self.open_line = False
        self._stack = contextlib.ExitStack()
        self._clock = None

    def __enter__(self):
        from sim._compile import compile_clock, compile_progress

        self._clock = self._stack.enter_context(compile_clock())
        if self.enabled:
            self._stack.enter_context(compile_progress(self))
        return self

    def __exit__(self, *exc):
        self._stack.close()
        if self.t0 is not None and exc[0] is None:
            self.end_line()
            done, total = self.last
            took = time.perf_counter() - self.t0
            self.stream.write(f"liqsim: compiled {done} kernels in {took:.0f} s; they are cached for later runs\n")
            self.stream.flush()
        elif self.open_line:
            self.stream.write("\n")
        return False

    def seconds(self):
        """Wall time spent compiling (or loading kernels) so far in this command."""
        return self._clock.seconds if self._clock is not None else 0.0

    def __call__(self, done, total, name):
        from sim._compile import short_name

        if self.t0 is None:
            self.t0 = time.perf_counter()
            self.stream.write(
                f"liqsim: compiling the engine ({total} kernels; once per install or change of it, "
                "cached for later runs)\n"
            )
        self.last = (done, total)
        if self.tty:
            took = time.perf_counter() - self.t0
            self.stream.write(f"\r  compiling [{done:>3}/{total:<3}] {short_name(name):<24} {took:5.1f}s")
            self.open_line = True
        self.stream.flush()

    def end_line(self):
        if self.open_line:
            self.stream.write("\n")
            self.open_line = False
