"""Chunk arithmetic: output chunks of a chunked input, and the input pieces each output chunk reads.

Integers only: shared by :mod:`fftconv.dask` (one task per output chunk) and the
out-of-core runs (:mod:`fftconv._outofcore`).
"""

from __future__ import annotations

import itertools

import numpy as np

from fftconv._shapes.padding import index_runs, run_count, source_index

__all__ = ["boundaries", "output_chunks", "window_pieces", "chunk_slice", "slice_indices", "outer", "MAX_RUNS"]

#: One input chunk filling more runs of a window than this is read by a gather (:func:`window_pieces`).
MAX_RUNS = 16


def boundaries(chunks):
    """Cumulative boundaries ``[0, c0, c0 + c1, ..., n]`` of a chunk tuple."""
    return [0, *itertools.accumulate(chunks)]


def output_chunks(in_chunks, out_size, stride):
    """Output chunk sizes along one spatial axis: the input chunks divided by the stride.

    Each interior input boundary ``b`` becomes the output boundary
    ``ceil(b / stride)``, clipped to the output; empty chunks are dropped. So
    regular input chunks whose size divides by the stride give regular output
    chunks (as :meth:`dask.array.Array.to_zarr` wants).

    Examples
    --------
    >>> output_chunks((4, 4, 2), 10, 1)   # SAME, stride 1: the input chunks
    (4, 4, 2)
    >>> output_chunks((4, 4, 2), 5, 2)    # SAME, stride 2: halved
    (2, 2, 1)
    >>> output_chunks((4, 4, 4, 4), 10, 1)  # VALID, 7-tap kernel: the last chunks shrink
    (4, 4, 2)
    """
    if out_size == 0:
        return (0,)
    cuts = {min(-(-b // stride), out_size) for b in boundaries(in_chunks)[1:-1]}
    bounds = sorted(cuts | {0, out_size})
    return tuple(b - a for a, b in zip(bounds, bounds[1:]))


def window_pieces(in_chunks, o0, o1, stride, eff, pad_before, pad_after=0, mode="constant"):
    """The input pieces of the padded window of outputs ``[o0, o1)`` along one axis.

    The window is ``[o0 * s, (o1 - 1) * s + eff)`` in padded coordinates; its
    pads hold zeros (``mode="constant"``) or what :func:`numpy.pad` puts there
    in ``mode``, with ``pad_before`` and ``pad_after`` the pads of the whole axis.

    Returns
    -------
    length : int
        Window length.
    pieces : list of (chunk_index, dst_slice, src_slice)
        For each run of window positions that one input chunk fills: where it
        lands in the window and which part of the chunk it is (a reversed
        slice where the mode mirrors, a one-sample slice that broadcasts where
        it repeats an edge sample).  Positions in no piece are zeros.  Where
        one chunk fills more than :data:`MAX_RUNS` runs (pads many times
        longer than the array), its positions are one piece of two index
        arrays instead: a gather costs what its elements cost.

    Examples
    --------
    >>> window_pieces((3, 3), 0, 2, 1, 3, 1)   # outputs 0-1 of a SAME 3-tap kernel
    (4, [(0, slice(1, 4, None), slice(0, 3, None))])
    >>> length, pieces = window_pieces((2, 2, 2), 0, 1, 1, 5, 0)  # one output, three chunks
    >>> [(k, dst.start, dst.stop) for k, dst, src in pieces]
    [(0, 0, 2), (1, 2, 4), (2, 4, 5)]
    >>> window_pieces((3, 3), 0, 1, 1, 3, 1, 1, "wrap")  # the pad comes from the last chunk
    (3, [(1, slice(0, 1, None), slice(2, 3, None)), (0, slice(1, 3, None), slice(0, 2, None))])
    """
    n = sum(in_chunks)
    start = o0 * stride
    length = (o1 - o0 - 1) * stride + eff
    bounds = np.asarray(boundaries(in_chunks))
    if mode == "constant":
        src = np.arange(start - pad_before, start - pad_before + length)
        src[(src < 0) | (src >= n)] = -1
    else:
        src = source_index(n, pad_before, pad_after, mode)[start:start + length]
    chunk = np.where(src >= 0, np.searchsorted(bounds, src, side="right") - 1, -1)
    local = np.where(src >= 0, src - bounds[np.maximum(chunk, 0)], -1)
    cuts = (np.flatnonzero(np.diff(chunk)) + 1).tolist()  # stretches from one chunk (or zeros)
    pieces = []
    for a, b in zip([0, *cuts], [*cuts, length]):
        k = int(chunk[a])
        if k < 0:
            continue  # zeros: the window starts zeroed
        if run_count(local[a:b]) > MAX_RUNS:
            pieces.append((k, np.arange(a, b), local[a:b].copy()))
            continue
        for dst, count, first, step in index_runs(local[a:b]):
            pieces.append((k, slice(a + dst, a + dst + count), chunk_slice(first, count, step)))
    return length, pieces


def chunk_slice(first, count, step):
    """The slice of ``count`` samples from ``first`` in steps of ``step`` (0: one sample, broadcast)."""
    if step == 0 or count == 1:
        return slice(first, first + 1)
    if step == 1:
        return slice(first, first + count)
    stop = first + count * step
    return slice(first, stop if stop >= 0 else None, step)


def slice_indices(s, count):
    """The ``count`` chunk positions a :func:`chunk_slice` stands for (one repeated, for a
    one-sample slice that broadcasts), as an array."""
    if (s.step or 1) == 1 and s.stop == s.start + 1:
        return np.full(count, s.start)
    return s.start + (s.step or 1) * np.arange(count)


def outer(indices):
    """Spatial indices (slices and index arrays) as one open mesh of arrays, when any is an array:
    numpy then indexes their outer product, as it does a tuple of slices."""
    if not any(isinstance(i, np.ndarray) for i in indices):
        return indices
    nd = len(indices)
    return [(i if isinstance(i, np.ndarray) else np.arange(i.start, i.stop, i.step or 1)).reshape(
        [-1 if a == j else 1 for a in range(nd)]) for j, i in enumerate(indices)]
