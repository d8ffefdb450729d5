"""How many threads fftconv's transforms use, with scipy.fft's rules.

``None`` means the context default (all CPUs unless :func:`set_workers` says
otherwise); a negative value counts back from the CPU count (``-1`` is all of
them); 0 is an error.
"""

from __future__ import annotations

import contextlib
import threading

from ._checks import CPUS, check_workers

_state = threading.local()


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
