"""Where a sweep's runs run: a local pool of "spawn" worker processes that die with their parent and survive a
worker's death (:func:`run_pool`), or a Dask cluster (:func:`dask_client`, :func:`run_dask`).

A task is ``task(shared, *args)`` returning a record (a dict with ``status``); a task that cannot be run is
recorded with :func:`failed`, never raised.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import sys
from collections import deque
from concurrent.futures import ALL_COMPLETED, FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from sim.errors import ScenarioError
from sim.outputs import die_with_parent


def failed(err: BaseException | str, runtime: float) -> dict:
    """A failed run's record: the error as one line (``Type: message``), its runtime, no metrics."""
    text = err if isinstance(err, str) else f"{type(err).__name__}: {err}"
    return {"status": "failed", "error": "; ".join(text.splitlines()), "runtime_s": runtime, "metrics": {}}


_SHARED = None  # what a pool worker's tasks share (the base scenario), sent once per process


def _pool_start(started, shared, parent=None) -> None:
    """A pool worker's start-up; the ``started`` count tells workers that cannot start from runs that die. Ctrl-C
    is left to the parent, which stops the sweep (an idle worker would print a traceback); the worker dies with its
    parent (``parent``: its pid), so a killed sweep leaves no worker behind."""
    global _SHARED
    if parent is not None:
        die_with_parent(parent)
    _SHARED = shared
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with started.get_lock():
        started.value += 1


def _pool_task(task, *args):
    return task(_SHARED, *args)


def run_pool(jobs: list, workers: int, on_done, task, shared=None) -> None:
    """Run ``task(shared, *args)`` for every ``(key, args)`` of ``jobs`` in a "spawn" process pool (``shared`` sent
    once per worker); ``on_done(key, record)`` as each finishes. At most ``workers`` tasks are in flight, so when a
    worker dies (the pool breaks) the runs it may have held are known: they run again one at a time in a pool of
    one, and only a run whose worker dies while it runs alone is failed. Pools whose workers die before they start
    are not blamed on any run; the second in a row fails the runs left.

    The workers do not run the main module again as "spawn" otherwise would (:func:`main_hidden`), so a script
    without an ``if __name__ == "__main__":`` guard works; they die with this process (:func:`die_with_parent`),
    and an exception here (Ctrl-C, SIGTERM turned into one) ends them before it goes on."""
    suspects: deque = deque()
    queue, stalls = deque(jobs), 0
    context = multiprocessing.get_context("spawn")
    while queue or suspects:
        alone = bool(suspects)
        todo, size, started = suspects if alone else queue, 1 if alone else min(workers, len(queue)), context.Value("i")
        pool = ProcessPoolExecutor(
            size, mp_context=context, initializer=_pool_start, initargs=(started, shared, os.getpid())
        )
        running: dict = {}
        broken = False
        try:
            while todo or running:
                while todo and not broken and len(running) < size:
                    try:
                        with main_hidden():  # the pool starts its workers as tasks are submitted
                            fut = pool.submit(_pool_task, task, *todo[0][1])
                        running[fut] = todo.popleft()
                    except BrokenProcessPool:  # a worker died while on_done was busy
                        broken = True
                if not running:
                    break
                done, _ = wait(running, return_when=ALL_COMPLETED if broken else FIRST_COMPLETED)
                for fut in done:
                    job = running.pop(fut)
                    try:
                        record = fut.result()
                    except BrokenProcessPool:
                        broken = True
                        if not (alone and started.value):  # run it again, alone (as it was if no worker started)
                            (suspects if started.value else todo).append(job)
                            continue
                        record = failed(
                            "BrokenProcessPool: its worker process died while running it alone "
                            "(killed, out of memory or crashed)",
                            0.0,
                        )
                    except Exception as err:  # noqa: BLE001 - e.g. a result that could not be sent back
                        record = failed(err, 0.0)
                    on_done(job[0], record)
        except BaseException:
            workers_now = list(getattr(pool, "_processes", None) or {})  # pids; read before shutdown clears them
            pool.shutdown(wait=False, cancel_futures=True)
            for pid in workers_now:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGTERM)
            raise
        pool.shutdown(wait=not broken)
        if (stalls := stalls + 1 if broken and not started.value else 0) >= 2:
            while suspects or queue:
                on_done(
                    (suspects or queue).popleft()[0],
                    failed("BrokenProcessPool: the worker processes cannot start (their error is printed above)", 0.0),
                )


@contextlib.contextmanager
def main_hidden():
    """Hide the main module from the "spawn" start method while worker processes start: spawn would run a script's
    top-level code again in every worker (as ``__mp_main__``), and a script that calls :func:`run_sweep` without an
    ``if __name__ == "__main__":`` guard would start a sweep in each of them. Workers need nothing from the main
    module: what they run lives in this package."""
    main = sys.modules.get("__main__")
    saved = {k: main.__dict__[k] for k in ("__file__", "__spec__") if main is not None and k in main.__dict__}
    try:
        if main is not None:
            main.__dict__.pop("__file__", None)
            if "__spec__" in saved:
                main.__spec__ = None
        yield
    finally:
        if main is not None:
            main.__dict__.update(saved)


@contextlib.contextmanager
def dask_client(workers: int, scheduler: str | None):
    """A client of the Dask cluster at ``scheduler``, or of a local cluster of ``workers`` one-thread processes
    that closes with it; raises :class:`ScenarioError` without ``distributed`` or when the address fails."""
    try:
        import distributed
    except ImportError:
        raise ScenarioError("--executor dask needs dask.distributed: pip install 'liqsim[dask]'") from None
    if scheduler:
        try:
            client = distributed.Client(scheduler, timeout="10s")
        except (OSError, TimeoutError, ValueError) as err:
            raise ScenarioError(f"--scheduler = {scheduler!r}: cannot connect: {err}") from None
    else:  # the workers inherit SIGINT ignored, so Ctrl-C reaches only this process, which closes the cluster, and
        # distributed's logging at CRITICAL (unless set), so closing them mid-run prints no traceback or warning
        previous, added = None, "DASK_LOGGING__DISTRIBUTED" not in os.environ
        with contextlib.suppress(ValueError):  # only the main thread may set a signal handler
            previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "critical")
        try:
            with main_hidden():
                # The scheduler always serves HTTP (port 8787 unless told otherwise; dashboard_address=None does
                # not stop it): a free loopback port and no dashboard, so a busy 8787 neither warns nor clashes.
                client = distributed.Client(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address="127.0.0.1:0",
                    scheduler_kwargs={"dashboard": False},
                )
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
            if added:
                os.environ.pop("DASK_LOGGING__DISTRIBUTED", None)
    try:
        yield client
    finally:  # quietly: distributed would log each task cancelled by Ctrl-C
        log = logging.getLogger("distributed")
        level = log.level
        log.setLevel(logging.CRITICAL + 1)
        with contextlib.suppress(Exception):
            client.close()
        log.setLevel(level)


def run_dask(client, task, base, jobs: list, on_done) -> None:
    """Run ``task(base, *args)`` for every ``(key, args)`` of ``jobs`` on a Dask cluster (``base`` scattered to every
    worker once); ``on_done(key, record)`` as each finishes, a lost task recorded as failed."""
    import distributed

    shared = client.scatter(base, broadcast=True)
    futures = {client.submit(task, shared, *args, pure=False): key for key, args in jobs}
    for fut in distributed.as_completed(futures):
        try:
            record = fut.result()
        except Exception as err:  # noqa: BLE001 - a killed worker, a lost connection
            record = failed(err, 0.0)
        on_done(futures[fut], record)
        fut.release()
