"""Reading the padded input: the one place where padding values come from.

A convolution reads its input as if it had been padded (by the ``pads`` that
``padding`` defines, filled as :func:`numpy.pad` fills them in
``padding_mode``) and then cut to the extent its outputs read, its *used
extent* ``(out - 1) * s + eff`` per axis.  :func:`read_padded` copies any
box of that virtual array, or an arithmetic progression of its rows along
each axis (a polyphase component), into a buffer, without ever making the
padded array.  Positions past the used extent read as zeros, so data that no
output reads never reaches a method.

Along one axis the positions read form *runs*: maximal stretches that come
from the input with one constant step (+1 inside, -1 where ``"reflect"``
mirrors, 0 where ``"edge"`` repeats a sample) or that are zeros.  A copy is
one strided numpy copy per combination of runs across the axes, while those
are few; pads many times longer than the axis (``"reflect"``, ``"symmetric"``
and ``"wrap"`` of a few samples into thousands) make many short runs, and
then the copy is one gather through each axis' index map
(:func:`source_index`), whose cost is that of the elements copied.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass

import numpy as np

__all__ = ["MODES", "ALIASES", "AxisRead", "axis_runs", "index_runs", "run_count", "read_padded", "source_index"]

#: :func:`numpy.pad`'s modes that fftconv accepts as ``padding_mode``.
MODES = ("constant", "reflect", "symmetric", "wrap", "edge")
#: torch's ``padding_mode`` names, and what they mean here.
ALIASES = {"zeros": "constant", "circular": "wrap", "replicate": "edge"}


@dataclass(frozen=True)
class AxisRead:
    """What to read along one spatial axis.

    Attributes
    ----------
    size : int
        Input length ``n``.
    pads : (int, int)
        Padding before and after.
    used : int
        Padded positions ``[0, used)`` are read by some output; later ones read as 0.
    start, step, count : int
        The padded positions ``start + j * step`` for ``j < count``.
    """

    size: int
    pads: tuple[int, int]
    used: int
    start: int
    step: int
    count: int


@functools.lru_cache(maxsize=64)
def source_index(n: int, before: int, after: int, mode: str) -> np.ndarray:
    """For each padded position, the input index it holds, or -1 for a zero.

    Exactly :func:`numpy.pad`'s rules, pads larger than the axis included.

    Examples
    --------
    >>> source_index(3, 2, 4, "reflect").tolist()
    [2, 1, 0, 1, 2, 1, 0, 1, 2]
    >>> source_index(3, 1, 1, "constant").tolist()
    [-1, 0, 1, 2, -1]
    """
    if mode == "constant" or n == 0:
        index = np.concatenate([np.full(before, -1), np.arange(n), np.full(after, -1)])
    else:
        index = np.pad(np.arange(n), (before, after), mode=mode)
    index = index.astype(np.int64)
    index.flags.writeable = False
    return index


def axis_runs(read: AxisRead, mode: str) -> list[tuple[int, int, int | None, int]]:
    """The runs of one axis: ``(dst_start, length, src_start, src_step)``, ``src_start``
    None for zeros.

    Examples
    --------
    >>> axis_runs(AxisRead(5, (2, 2), 9, 0, 1, 9), "constant")
    [(0, 2, None, 0), (2, 5, 0, 1), (7, 2, None, 0)]
    >>> axis_runs(AxisRead(5, (2, 2), 9, 0, 1, 9), "reflect")
    [(0, 3, 2, -1), (3, 4, 1, 1), (7, 2, 3, -1)]
    >>> axis_runs(AxisRead(5, (2, 2), 6, 1, 2, 4), "constant")   # rows 1, 3, 5, 7; 7 unread
    [(0, 1, None, 0), (1, 2, 1, 2), (3, 1, None, 0)]
    """
    if mode == "constant":
        return _constant_runs(read)
    return index_runs(_sources(read, mode))


def _sources(read: AxisRead, mode: str) -> np.ndarray:
    """The input index each position of ``read`` holds, -1 for a zero: ``O(count)`` once the
    axis' :func:`source_index` is made (``O(pads)``, cached)."""
    positions = read.start + read.step * np.arange(read.count)
    src = np.full(read.count, -1, dtype=np.int64)
    inside = (positions >= 0) & (positions < min(read.used, read.size + sum(read.pads)))
    src[inside] = source_index(read.size, *read.pads, mode)[positions[inside]]
    return src


def run_count(src: np.ndarray) -> int:
    """About how many runs :func:`index_runs` finds in ``src`` (within a factor of two): the places
    where the step or zero-ness changes, counted without a loop.

    Examples
    --------
    >>> run_count(np.array([2, 1, 0, 1, 2, -1, -1])), run_count(np.arange(100))
    (3, 1)
    """
    if len(src) < 3:
        return len(src)
    neg = src < 0
    d = np.diff(src)
    changes = (d[1:] != d[:-1]) & ~neg[1:-1] & ~neg[2:] & ~neg[:-2]
    return 1 + int(np.count_nonzero(neg[1:] != neg[:-1])) + int(np.count_nonzero(changes))


def _constant_runs(read: AxisRead):
    """Zero padding in closed form: zeros, one run from the input, zeros."""
    lo = read.pads[0]
    first_in = max(0, lo)  # padded positions holding input: [lo, lo + size), cut to the used extent
    stop_in = min(lo + read.size, read.used)
    # the j with start + j * step inside [first_in, stop_in)
    j0 = max(0, -(-(first_in - read.start) // read.step))
    j1 = min(read.count, max(0, -(-(stop_in - read.start) // read.step)))
    if j1 <= j0:
        return [(0, read.count, None, 0)] if read.count else []
    runs = [(0, j0, None, 0)] if j0 else []
    runs.append((j0, j1 - j0, read.start + j0 * read.step - lo, read.step))
    if j1 < read.count:
        runs.append((j1, read.count - j1, None, 0))
    return runs


def index_runs(src: np.ndarray):
    """Runs of an index array: stretches of zeros (-1) or of a constant step, as
    ``(dst_start, length, src_start or None, src_step)``.

    Examples
    --------
    >>> index_runs(np.array([2, 1, 0, 1, 2, -1, -1]))
    [(0, 3, 2, -1), (3, 2, 1, 1), (5, 2, None, 0)]
    """
    src = np.asarray(src, dtype=np.int64)
    runs, j, n = [], 0, len(src)
    neg = src < 0
    found = np.flatnonzero(~neg)  # where zero stretches end
    # a run from j with step src[j + 1] - src[j] ends at the first k >= j + 2 where the step
    # changes (d[k - 1] != d[k - 2]) or at the first zero after j: one search per run, no scan
    d = np.diff(src)
    breaks = np.union1d(np.flatnonzero(neg), np.flatnonzero(d[1:] != d[:-1]) + 2)
    values = src.tolist()
    while j < n:
        if values[j] < 0:
            i = int(np.searchsorted(found, j))
            k = int(found[i]) if i < len(found) else n
            runs.append((j, k - j, None, 0))
            j = k
            continue
        if j + 1 == n or values[j + 1] < 0:
            runs.append((j, 1, values[j], 1))
            j += 1
            continue
        i = int(np.searchsorted(breaks, j + 2))
        k = int(breaks[i]) if i < len(breaks) else n
        runs.append((j, k - j, values[j], values[j + 1] - values[j]))
        j = k
    return runs


def _src_slice(start: int, length: int, step: int) -> slice:
    if step == 0:
        return slice(start, start + 1)  # broadcast along the run
    stop = start + length * step
    return slice(start, stop if stop >= 0 else None, step)


def read_padded(x: np.ndarray, reads, out: np.ndarray, mode: str = "constant") -> np.ndarray:
    """Copy positions of the padded, used-extent-cut input into ``out``.

    Parameters
    ----------
    x : ndarray, shape (N, *spatial, C)
        The unpadded input, any layout and dtype.
    reads : sequence of AxisRead
        One per spatial axis.
    out : ndarray, shape (N, *counts, C)
        Receives the values (converted to its dtype); may be any strided view.
    mode : str
        One of :data:`MODES`.

    Returns
    -------
    out : ndarray

    Examples
    --------
    >>> x = np.arange(1, 4.0).reshape(1, 3, 1)
    >>> read = AxisRead(3, (1, 1), 5, 0, 1, 5)
    >>> read_padded(x, [read], np.empty((1, 5, 1)))[0, :, 0]
    array([0., 1., 2., 3., 0.])
    >>> read_padded(x, [read], np.empty((1, 5, 1)), "wrap")[0, :, 0]
    array([3., 1., 2., 3., 1.])
    """
    if mode == "constant":
        per_axis = [_constant_runs(r) for r in reads]
    else:
        sources = [_sources(r, mode) for r in reads]
        if math.prod(run_count(src) for src in sources) > max(GATHER_PIECES, out.size // GATHER_ELEMENTS):
            return _gather(x, sources, out)
        per_axis = [index_runs(src) for src in sources]
    for combo in itertools.product(*per_axis):
        dst = (slice(None), *(slice(d, d + n) for d, n, _, _ in combo))
        if any(src is None for _, _, src, _ in combo):
            out[dst] = 0
        else:
            src = (slice(None), *(_src_slice(s, n, st) for _, n, s, st in combo))
            np.copyto(out[dst], x[src], casting="unsafe")
    return out


#: :func:`read_padded` gathers through index maps when the strided copies would number more than
#: this, and more than one per :data:`GATHER_ELEMENTS` elements copied: a copy's fixed cost (about a
#: microsecond) is that of gathering some hundred elements.
GATHER_PIECES = 64
GATHER_ELEMENTS = 256


def _gather(x: np.ndarray, sources, out: np.ndarray) -> np.ndarray:
    """``out`` from ``x`` through one index map per spatial axis (-1: a zero), a gather whose
    cost is that of the elements copied, however the positions are laid out."""
    index = np.ix_(*(np.maximum(src, 0) for src in sources))
    np.copyto(out, x[(slice(None), *index)], casting="unsafe")
    for axis, src in enumerate(sources, start=1):
        zeros = src < 0
        if zeros.any():
            out[(slice(None),) * axis + (zeros,)] = 0
    return out


def box_reads(geom, starts, counts, steps=None):
    """:class:`AxisRead` per axis of ``geom`` for the boxes ``start + step * j``, ``j < count``."""
    steps = steps or (1,) * geom.ndim
    return [AxisRead(n, pads, used, a, st, c) for n, pads, used, a, st, c in
            zip(geom.spatial, geom.pads, geom.used_extent, starts, steps, counts)]
