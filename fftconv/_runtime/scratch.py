"""Scratch memory kept between calls, one pool per thread.

A call of the FFT method moves its data through a few large temporaries per
chunk of tiles (the gathered tiles, their spectra, the mixed spectra, the
inverse transforms).  Allocated afresh each time, every one of them is
returned to the operating system when freed and faulted back in page by page
on the next use.  On the development machine keeping them made one-shot
``conv2d`` calls of the public large-kernel workloads 1.6-2x faster (medians of 11, three
alternating processes each: ``filterbank`` 44 -> 24 ms, ``manychannel``
30 -> 15 ms, ``bigimage`` 38 -> 22 ms; page faults per ``filterbank`` call
6 400 -> 380).

:func:`scratch` hands out arrays backed by buffers that stay with the calling
thread, one per named role, grown when a larger one is asked for.  A buffer
above :data:`MAX_KEPT_BYTES` is not kept, and after each call the largest
buffers are freed until at most :data:`KEEP_BYTES` remain.  Rules for callers: a scratch array
is only valid until the same thread asks for the same role again, and it is
never returned to a user.  :func:`release` frees the calling thread's buffers;
a thread's buffers are also freed when the thread ends.  What a thread keeps is
what its largest call needed: for the FFT method, the buffers of one chunk of
tiles (budgeted by :data:`fftconv.methods.fft.CHUNK_BYTES`); for the direct
method, a zero-padded copy of the input and the partial sums.
"""

from __future__ import annotations

import math
import threading

import numpy as np

__all__ = ["scratch", "release", "trim", "kept_bytes", "kept_buffers", "MAX_KEPT_BYTES", "KEEP_BYTES"]

#: Buffers larger than this are allocated per use instead of kept.
MAX_KEPT_BYTES = 256 * 2**20
#: After each call, a thread keeps at most this much scratch memory (the largest buffers go
#: first): calls on ordinary shapes keep theirs (a 4x256x256x3 * 31x31x3x16 layer keeps
#: 12 MiB), a 8192x8192 image does not keep 156 MiB.
KEEP_BYTES = 64 * 2**20

_ALIGN = 64  # bytes: every scratch array starts on a cache-line boundary
_local = threading.local()
#: Raised by :func:`release`: a thread whose pool is of an older generation drops it at its
#: next use (each thread changes only its own pool, so no pool is changed under a running call).
_generation = 0


def _pool() -> dict:
    pool = getattr(_local, "pool", None)
    if pool is None or _local.generation != _generation:
        pool = _local.pool = {}
        _local.generation = _generation
    return pool


def _aligned(nbytes: int) -> np.ndarray:
    raw = np.empty(nbytes + _ALIGN, dtype=np.uint8)
    start = -raw.ctypes.data % _ALIGN
    return raw[start:start + nbytes]


def scratch(role: str, shape, dtype) -> np.ndarray:
    """An uninitialised C-ordered array for ``role``, 64-byte aligned.

    Parameters
    ----------
    role : str
        Name of the temporary; arrays of different roles never overlap.
    shape : tuple of int
    dtype : dtype-like

    Returns
    -------
    ndarray
        Valid until this thread asks for ``role`` again.

    Examples
    --------
    >>> a = scratch("example", (3, 4), np.float32)
    >>> a.shape, a.dtype, a.flags.c_contiguous
    ((3, 4), dtype('float32'), True)
    >>> b = scratch("example", (2, 2), np.float32)  # the same memory, reused
    >>> bool(np.shares_memory(a, b))
    True
    >>> release()
    """
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes > MAX_KEPT_BYTES:
        return _aligned(nbytes).view(dtype).reshape(shape)
    pool = _pool()
    buf = pool.get(role)
    if buf is None or buf.nbytes < nbytes:
        pool.pop(role, None)  # free the smaller buffer before taking the larger one
        buf = pool[role] = _aligned(nbytes)
    return buf[:nbytes].view(dtype).reshape(shape)


def release() -> None:
    """Free the scratch buffers kept for the calling thread, and those of every other thread
    (fftconv's pool threads among them) at that thread's next use of scratch memory.

    Exported as ``fftconv.release_scratch``.  The next call that needs
    scratch memory allocates it again, in every thread.

    Examples
    --------
    >>> import fftconv
    >>> fftconv.release_scratch()
    >>> from fftconv._runtime.scratch import kept_bytes
    >>> kept_bytes()
    0
    """
    global _generation
    _generation += 1
    _pool()  # the calling thread's buffers dropped now; the others' at their next _pool()


def trim(limit: int | None = None) -> None:
    """Free the calling thread's largest scratch buffers until it keeps at most ``limit`` bytes
    (:data:`KEEP_BYTES` by default).  Run after every call."""
    limit = KEEP_BYTES if limit is None else limit
    pool = _pool()
    while pool and sum(buf.nbytes for buf in pool.values()) > limit:
        del pool[max(pool, key=lambda role: pool[role].nbytes)]


def kept_bytes() -> int:
    """Bytes of scratch memory kept for the calling thread."""
    return sum(buf.nbytes for buf in _pool().values())


def kept_buffers() -> list[np.ndarray]:
    """The scratch buffers kept for the calling thread (for tests of result ownership)."""
    return list(_pool().values())
