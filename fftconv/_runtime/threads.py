"""Threads: how many a call uses, and fftconv's own pool for loops that release the GIL.

``workers`` follows scipy.fft's rules: ``None`` means the context default
(all CPUs unless :func:`set_workers` says otherwise); a negative value counts
back from the CPU count (``-1`` is all of them); 0 is an error.

The direct method's compiled taps loops (``"compiled"``) run ranges of output
rows at once on these threads (:func:`run_pieces`), and so do its GEMMs, in
chunks (:func:`run_shared`); the transforms use their libraries' own threads.
One pool per process, made at the first need, with one thread per CPU.  A call
made on one of the pool's own threads runs its pieces there, one after
another: waiting for the pool from inside it could wait forever.

BLAS (numpy's and scipy's OpenBLAS) runs on one thread inside the direct
method's GEMMs and the FFT method's channel mixing (:func:`blas_threads`),
which split their work over these threads instead: OpenBLAS's own threads,
added to fftconv's, oversubscribe the cores, and on a machine other work
shares they wait on each other in lockstep (a 5x5 layer on 8x48x48x3 ran 50-70x
slower on two BLAS threads than on one). The filter gradient's tap GEMMs give
BLAS the call's ``workers`` from :data:`BLAS_THREADS_MIN_FLOPS` up
(:func:`gemm_blas_threads`), one thread below.
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


#: Copies and products of fewer values than this per piece run on the calling thread alone:
#: handing a piece to another thread costs tens of microseconds.
PIECE_VALUES = 2**17


def in_pieces(work, length: int, values: int, workers, per_piece: int | None = None) -> None:
    """``work(start, stop)`` over ``range(length)`` cut into at most ``workers`` pieces of at
    least ``per_piece`` (:data:`PIECE_VALUES` by default) of the ``values`` moved, run on
    fftconv's pool (:func:`run_pieces`).

    The FFT method's transforms run on ``workers`` threads of their own; the copies and
    products between them (the gather, the channel mixing, the scatter) would otherwise run
    on one; the guards' passes over the input are cut the same way.

    Examples
    --------
    >>> done = []
    >>> in_pieces(lambda a, b: done.append((a, b)), 10, 2**20, 2)
    >>> sorted(done)
    [(0, 5), (5, 10)]
    """
    count = max(1, min(workers or 1, length, values // (per_piece or PIECE_VALUES)))
    if count == 1:
        work(0, length)
        return
    bounds = [length * i // count for i in range(count + 1)]
    run_pieces(lambda i: work(bounds[i], bounds[i + 1]), count)


def run_shared(piece: Callable[[int], None], count: int, workers: int) -> None:
    """Run ``piece(0)``, ..., ``piece(count - 1)`` on at most ``workers`` threads of the pool (the
    caller one of them), each taking the next index as it finishes one: a thread slowed by other
    work on its core takes fewer pieces, where :func:`run_pieces`'s fixed shares would wait on it.

    Examples
    --------
    >>> done = []
    >>> run_shared(done.append, 5, 2)
    >>> sorted(done)
    [0, 1, 2, 3, 4]
    """
    indices, lock = iter(range(count)), threading.Lock()

    def drain(_):
        while True:
            with lock:
                i = next(indices, None)
            if i is None:
                return
            piece(i)

    run_pieces(drain, max(1, min(workers, count)))


# -- BLAS's own threads -----------------------------------------------------------------------

_blas = None  # threadpoolctl's controllers of the BLAS libraries loaded, found at the first need
_blas_lock = threading.Lock()
_blas_asked: list = []  # the thread counts asked by the blocks of blas_threads now running
_blas_saved: list = []  # the libraries' thread counts before the first of them
_blas_now: list = []  # the counts blas_threads has set

#: BLAS may use more than one thread (the call's ``workers``) for GEMMs of this many flops or
#: more (:func:`gemm_blas_threads`); smaller ones, and every GEMM of a call with ``workers=1``,
#: run on one.
BLAS_THREADS_MIN_FLOPS = 2e8


def _blas_libraries() -> list:
    """threadpoolctl's controller of each BLAS library loaded (numpy's and scipy's), found once
    (a search of the loaded libraries costs ~0.3 ms); empty where threadpoolctl finds none."""
    global _blas
    if _blas is None:
        try:
            from threadpoolctl import ThreadpoolController
            found = ThreadpoolController().select(user_api="blas").lib_controllers
        except Exception:  # noqa: BLE001  (a BLAS threadpoolctl cannot drive: left as it is)
            found = []
        _blas = list(found)
    return _blas


def _set_blas(libs, now, counts) -> list:
    """Set each library's thread count from ``now`` to ``counts`` (where they differ); return
    ``counts``. threadpoolctl lets one Python thread at a time set OpenBLAS's (pthreads) count,
    the others' calls doing nothing: this thread takes that right for the change and gives it
    back (the caller holds ``_blas_lock``)."""
    for lib, old, n in zip(libs, now, counts):
        if old != n:
            release = getattr(type(lib), "clear_controlling_thread", None)
            if release is not None:
                release(force=True)
            lib.set_num_threads(n)
            if release is not None:
                release()
    return counts


@contextlib.contextmanager
def blas_threads(threads: int = 1):
    """Hold every BLAS library to at most ``threads`` threads inside the block (never more than
    it had), then restore the thread counts it had, after an exception too.

    Blocks may nest and may run in several threads at once (the BLAS thread count is one per
    process): the first to enter reads the counts, each holds them to the fewest any running
    block asks for, and the last to leave restores them. A block costs 5-20 microseconds (the
    counts are read and set through :mod:`threadpoolctl`'s controllers, found once per process).

    Examples
    --------
    >>> from threadpoolctl import threadpool_info
    >>> with blas_threads(1):
    ...     all(lib["num_threads"] == 1 for lib in threadpool_info() if lib["user_api"] == "blas")
    True
    """
    global _blas_saved, _blas_now
    libs = _blas_libraries()
    threads = max(int(threads), 1)
    with _blas_lock:
        if not _blas_asked:
            _blas_saved = _blas_now = [lib.get_num_threads() for lib in libs]
        _blas_asked.append(threads)
        _blas_now = _set_blas(libs, _blas_now, [min(n, min(_blas_asked)) for n in _blas_saved])
    try:
        yield
    finally:
        with _blas_lock:
            _blas_asked.remove(threads)
            _blas_now = _set_blas(libs, _blas_now, [min(n, min(_blas_asked, default=n)) for n in _blas_saved])


#: The direct method's and Winograd's chunks of GEMM work are shared over the call's
#: ``workers`` (fftconv's threads, BLAS on one thread each: :func:`chunk_threads`) from this
#: many flops up. Measured side by side (2026-12-07, 2 threads, a machine shared with other
#: work, OpenBLAS at its full rate, medians of 9 interleaved calls): ten im2col layers of
#: 14-161 MFLOP ran 0.62-0.99x their one-thread time shared (1x14x14x128 5x5 -> 128: 1.96 ->
#: 1.38 ms), none slower; at the former threshold, BLAS's own, they all ran on one thread.
CHUNK_THREADS_MIN_FLOPS = 2e7


def chunk_threads(flops: float, workers) -> int:
    """Threads of fftconv's pool that share a call's chunks of GEMM work of ``flops`` in all:
    1 with one worker or below :data:`CHUNK_THREADS_MIN_FLOPS`, else ``workers`` (at most the
    CPUs).

    Examples
    --------
    >>> chunk_threads(1e6, 2), chunk_threads(1e8, 2), chunk_threads(1e8, 1)
    (1, 2, 1)
    """
    return 1 if flops < CHUNK_THREADS_MIN_FLOPS else min(max(int(workers or 1), 1), CPUS)


def gemm_blas_threads(flops: float, workers) -> int:
    """The BLAS threads for GEMMs of ``flops`` in a call with ``workers``: 1 with one worker or
    below :data:`BLAS_THREADS_MIN_FLOPS`, else ``workers``.

    Examples
    --------
    >>> gemm_blas_threads(1e6, 2), gemm_blas_threads(1e10, 2), gemm_blas_threads(1e10, 1)
    (1, 2, 1)
    """
    return 1 if flops < BLAS_THREADS_MIN_FLOPS else max(int(workers or 1), 1)


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
