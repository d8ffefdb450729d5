"""Threads: how many a call uses, and fftconv's own pool for loops that release the GIL.

``workers`` follows scipy.fft's rules: ``None`` means the context default
(all CPUs unless :func:`set_workers` says otherwise); a negative value counts
back from the CPU count (``-1`` is all of them); 0 is an error.

The direct method's compiled taps loops (``"compiled"``) run ranges of output
rows at once on these threads (:func:`run_pieces`); transforms and GEMMs use
their libraries' own threads.  One pool per process, made at the first need,
with one thread per CPU.  A call made on one of the pool's own threads runs
its pieces there, one after another: waiting for the pool from inside it
could wait forever.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Callable
from concurrent.futures import ThreadPoolExecutor

from fftconv._checks import CPUS, check_workers

_pool = None
_lock = threading.Lock()
_local = threading.local()


def _mark_worker() -> None:
    _local.in_pool = True


def executor() -> ThreadPoolExecutor:
    """The pool (``CPUS`` threads), made at the first call.

    Examples
    --------
    >>> from fftconv._runtime.threads import executor
    >>> list(executor().map(abs, [-1, 2]))
    [1, 2]
    """
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=CPUS, thread_name_prefix="fftconv",
                                       initializer=_mark_worker)
        return _pool


def run_pieces(piece: Callable[[int], None], count: int) -> None:
    """Run ``piece(0)``, ..., ``piece(count - 1)``: on the pool, the caller running the first
    itself, or all on the calling thread where that is one of the pool's own.

    Examples
    --------
    >>> done = []
    >>> run_pieces(done.append, 3)
    >>> sorted(done)
    [0, 1, 2]
    """
    if count <= 1 or getattr(_local, "in_pool", False):
        for i in range(count):
            piece(i)
        return
    futures = [executor().submit(piece, i) for i in range(1, count)]
    try:
        piece(0)
    finally:
        for future in futures:
            future.result()


# -- how many threads a call uses (scipy.fft's rules) ----------------------------------------

_state = threading.local()  # the workers default of each thread


def get_workers() -> int:
    """The number of workers used when a call passes ``workers=None``.

    Examples
    --------
    >>> import fftconv
    >>> with fftconv.set_workers(1):
    ...     fftconv.get_workers()
    1
    """
    return getattr(_state, "workers", None) or CPUS


@contextlib.contextmanager
def set_workers(workers):
    """Context manager setting the default ``workers`` of this thread.

    Parameters
    ----------
    workers : int
        Positive, or negative to count back from the CPU count.
    """
    if workers is None:
        raise ValueError("`workers` for set_workers must be an int, not None")
    new = check_workers(workers)
    old = getattr(_state, "workers", None)
    _state.workers = new
    try:
        yield
    finally:
        _state.workers = old


def resolve_workers(workers) -> int:
    """Validate ``workers`` and replace ``None`` by the context default."""
    workers = check_workers(workers)
    return get_workers() if workers is None else workers
