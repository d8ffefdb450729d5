"""fftconv's own pool of threads, for loops that release the GIL.

The direct method's compiled taps loops (``"compiled"``) run ranges of output
rows at once on these threads; transforms and GEMMs use their libraries' own
threads.  One pool per process,
made at the first need, with one thread per CPU.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from ._checks import CPUS

_pool = None
_lock = threading.Lock()


def executor() -> ThreadPoolExecutor:
    """The pool (``CPUS`` threads), made at the first call.

    Examples
    --------
    >>> from fftconv._threads import executor
    >>> list(executor().map(abs, [-1, 2]))
    [1, 2]
    """
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=CPUS, thread_name_prefix="fftconv")
        return _pool
