"""Run independent column kernels on a few threads.

numpy's sorts, gathers and ufunc loops and pandas' hash tables release the
GIL, so the independent steps of building a large event log (coding one
column while another is parsed, sorting the two halves of the journeys) run
side by side on threads. Small inputs (below :data:`MIN_EVENTS` rows) and
machines with one core run everything inline, in order.

The number of threads is the number of cores this process may use, capped
at 4; the environment variable ``TOUCHPOINT_NUM_THREADS`` overrides it
(``1`` turns threading off; values beyond the machine are capped, with a
warning). Only pure array work goes to a thread: nothing
there warns, reads warning filters or calls back into user code.
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any, TypeVar

__all__ = ["MAX_ENV_THREADS", "MIN_EVENTS", "inline", "n_blocks", "n_threads", "run"]

T = TypeVar("T")

#: Fewer rows than this are worked inline: a thread's start-up costs more.
MIN_EVENTS = 1 << 20

_MAX_THREADS = 4
_pools: dict[int, ThreadPoolExecutor] = {}  # by worker count; one in practice
_pool_lock = threading.Lock()
_local = threading.local()


def _forget_pools_after_fork() -> None:
    """A forked child has none of the parent's threads: never hand it their pool."""
    global _pool_lock  # noqa: PLW0603 - a fresh lock: the parent's may be held
    _pools.clear()
    _pool_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pools_after_fork)


def n_threads() -> int:
    """Threads the kernels may use (``TOUCHPOINT_NUM_THREADS``, else the usable cores, <= 4).

    ``TOUCHPOINT_NUM_THREADS`` above :data:`MAX_ENV_THREADS` or the usable cores
    (whichever is larger) is capped there, with a warning: more threads than
    cores only add start-up cost and memory.
    """
    cores = _usable_cores()
    env = os.environ.get("TOUCHPOINT_NUM_THREADS", "").strip()
    if env:
        return _env_threads(env, cores)
    return max(min(cores, _MAX_THREADS), 1)


#: The most threads ``TOUCHPOINT_NUM_THREADS`` may ask for on a machine of few cores.
MAX_ENV_THREADS = 16


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


@functools.lru_cache(maxsize=8)
def _env_threads(env: str, cores: int) -> int:
    """``TOUCHPOINT_NUM_THREADS`` as a thread count (warned about once per value)."""
    import warnings

    from touchpoint.exceptions import TouchpointWarning

    try:
        asked = int(env)
    except ValueError:
        warnings.warn(
            f"TOUCHPOINT_NUM_THREADS={env!r} is not an integer; using 1 thread.",
            TouchpointWarning,
            stacklevel=4,
        )
        return 1
    cap = max(cores, MAX_ENV_THREADS)
    if asked > cap:
        warnings.warn(
            f"TOUCHPOINT_NUM_THREADS={asked} is more than this machine can use; "
            f"using {cap} threads (the larger of {MAX_ENV_THREADS} and its {cores} cores).",
            TouchpointWarning,
            stacklevel=4,
        )
        return cap
    return max(asked, 1)


def n_blocks(n_rows: int) -> int:
    """Blocks to split ``n_rows`` of array work into: the threads, or 1 below :data:`MIN_EVENTS`."""
    return n_threads() if n_rows >= MIN_EVENTS else 1


def _executor(workers: int) -> ThreadPoolExecutor:
    with _pool_lock:
        pool = _pools.get(workers)
        if pool is None:
            pool = _pools[workers] = ThreadPoolExecutor(workers, thread_name_prefix="touchpoint")
        return pool


@contextlib.contextmanager
def inline() -> Iterator[None]:
    """Run every :func:`run` on the calling thread inside the block.

    For callers that are already one of many parallel tasks (a Dask
    partition): more threads would only compete for the same cores.
    """
    before = getattr(_local, "worker", False)
    _local.worker = True
    try:
        yield
    finally:
        _local.worker = before


def _in_worker(fn: Callable[[], T]) -> T:
    _local.worker = True
    try:
        return fn()
    finally:
        _local.worker = False


def run(tasks: Sequence[Callable[[], Any]], n_rows: int, *, inline: int = 0) -> list[Any]:
    """Results of ``tasks`` in order, run side by side when ``n_rows`` is large.

    Task ``inline`` runs on the calling thread (give it the one that may
    warn). Every task finishes before this returns; the first in list order
    that raised re-raises here, so errors are the same as when the tasks run
    one after another. Inside a worker (a nested call) everything runs inline.
    """
    threads = n_threads()
    if len(tasks) < 2 or threads < 2 or n_rows < MIN_EVENTS or getattr(_local, "worker", False):
        return [task() for task in tasks]
    pool = _executor(threads - 1)
    futures: dict[int, Future[Any]] = {
        i: pool.submit(_in_worker, task) for i, task in enumerate(tasks) if i != inline
    }
    mine: Any = None
    error: BaseException | None = None
    try:
        mine = tasks[inline]()
    except BaseException as exc:  # re-raised after the others finished
        error = exc
    wait(futures.values())
    results: list[Any] = []
    for i in range(len(tasks)):
        failed = error if i == inline else futures[i].exception()
        if failed is not None:
            raise failed
        results.append(mine if i == inline else futures[i].result())
    return results
