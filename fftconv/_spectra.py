"""Prepared filters kept across one-shot calls, keyed on the filters' content.

A loop that calls ``conv2d(x, w)`` with the same filters pays for their
transform on every call, though the result is the same each time.  This
module keeps what :meth:`fftconv.BoundPlan.prepared` computed (for the FFT
method, the filters' spectrum) for recently used filters, so that such a
loop gets most of a :class:`fftconv.FilterBank`'s gain without asking.

Safety first: an entry is found by the plan's identity, the filters' shape
and dtype and a fingerprint of a few sampled values, and then used only if
the filters are *equal* to the copy kept with it (:func:`numpy.array_equal`,
NaN equal to NaN): filters changed in place, or different filters that happen
to share a fingerprint, are prepared afresh.  The comparison costs one read
of the filters, far less than their transform.  Entries are dropped least
recently used first once their bytes (kept filters plus prepared arrays)
exceed :data:`MAX_BYTES`; prepared arrays are read-only.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

__all__ = ["MAX_BYTES", "lookup", "store", "clear", "kept_bytes"]

#: The cache's budget in bytes: kept filters plus their prepared forms.
MAX_BYTES = 256 * 2**20
#: Sampled values per fingerprint.
_SAMPLES = 64

_entries: OrderedDict = OrderedDict()
_lock = threading.Lock()
_size = 0


def _fingerprint(w: np.ndarray) -> bytes:
    flat = w.reshape(-1)
    step = max(len(flat) // _SAMPLES, 1)
    return flat[::step][:_SAMPLES].tobytes()


def _key(plan_key, w: np.ndarray, kind):
    return (plan_key, kind, w.shape, w.dtype.str, _fingerprint(w))


def lookup(plan_key, w: np.ndarray, kind):
    """The prepared filters stored for ``plan_key`` and ``kind`` whose filters equal ``w``, or None."""
    key = _key(plan_key, w, kind)
    with _lock:
        entry = _entries.get(key)
        if entry is None:
            return None
        _entries.move_to_end(key)
    filters, prepared, _ = entry
    return prepared if np.array_equal(filters, w, equal_nan=True) else None


def store(plan_key, w: np.ndarray, kind, prepared) -> None:
    """Keep ``prepared`` (made from ``w``) for later calls; ``w`` is copied."""
    global _size
    if isinstance(prepared, np.ndarray):
        prepared.flags.writeable = False  # shared by every call that finds it
    nbytes = w.nbytes + (prepared.nbytes if isinstance(prepared, np.ndarray) else 0)
    if nbytes > MAX_BYTES:
        return
    key = _key(plan_key, w, kind)
    with _lock:
        old = _entries.pop(key, None)
        if old is not None:
            _size -= old[2]
        _entries[key] = (w.copy(), prepared, nbytes)
        _size += nbytes
        while _size > MAX_BYTES and _entries:
            _size -= _entries.popitem(last=False)[1][2]


def clear() -> None:
    """Forget every kept spectrum (exported as ``fftconv.clear_spectrum_cache``)."""
    global _size
    with _lock:
        _entries.clear()
        _size = 0


def kept_bytes() -> int:
    """Bytes the cache holds now."""
    return _size
