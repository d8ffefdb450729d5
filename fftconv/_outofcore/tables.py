"""Where each output block's window comes from, along one spatial axis: integer tables only."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fftconv._shapes.chunks import boundaries, output_chunks, window_pieces

#: Where a piece of a window is read: the block's home chunk, or a neighbour's low or high slab.
HOME, LOW, HIGH = 0, 1, 2


@dataclass(frozen=True)
class AxisPlan:
    """Where each output chunk's window comes from along one spatial axis.

    Attributes
    ----------
    sizes : tuple of int
        Input chunk sizes; ``bounds`` their cumulative boundaries.
    out_chunks : tuple of int
        Output chunk sizes (:func:`fftconv._shapes.chunks.output_chunks`).
    windows : tuple
        Per output chunk ``(length, home, pieces)``: the window's length, the
        input chunk that fills most of it (None when no input is read), and
        ``(chunk, dst, src, side, src_in_slab)`` per piece, ``side`` being
        :data:`HOME`, :data:`LOW` (the piece lies in the chunk's low slab) or
        :data:`HIGH`, and ``src_in_slab`` the source slice within that slab.
    low, high : tuple of int
        Per input chunk, the thickness of its low and high slab (0: not read).
    homes, reads, low_reads, high_reads : tuple of int
        Per input chunk, the number of output chunks that have it as home,
        that read it at all, that read its low slab and its high slab.
    """

    sizes: tuple
    bounds: tuple
    out_chunks: tuple
    windows: tuple
    low: tuple
    high: tuple
    homes: tuple
    reads: tuple
    low_reads: tuple
    high_reads: tuple

    def slab_reads(self, k: int, side: int) -> int:
        return (self.low_reads if side == LOW else self.high_reads)[k]


def _slice_range(n: int, src):
    """The chunk positions ``src`` reads: a range for a slice, the array itself for a gather."""
    return src if isinstance(src, np.ndarray) else range(n)[src]


def _count(dst) -> int:
    """How many window positions a piece fills (``dst`` a slice, or an index array for a gather)."""
    return len(dst) if isinstance(dst, np.ndarray) else dst.stop - dst.start


def _shifted(src, n: int, offset: int):
    """``src`` (a slice or index array into a length-``n`` chunk) as positions among the chunk's
    samples from ``offset`` on."""
    if isinstance(src, np.ndarray):
        return src - offset
    r = _slice_range(n, src)
    stop = r.stop - offset
    return slice(r.start - offset, stop if stop >= 0 else None, r.step)


def plan_axis(in_chunks, out_size: int, stride: int, eff: int, pads, mode: str) -> AxisPlan:
    """The :class:`AxisPlan` of one spatial axis.

    A piece from a chunk other than the home chunk lies near one of that
    chunk's ends (a window reaches into a neighbour by at most its halo); it is
    assigned to the nearer end, and the slab at that end is made as thick as
    the deepest piece assigned to it. Chunks smaller than the halo simply get
    slabs as thick as themselves.

    Examples
    --------
    >>> ax = plan_axis((4, 4, 4), 12, 1, 3, (1, 1), "constant")   # SAME, a 3-tap kernel
    >>> ax.out_chunks, ax.low, ax.high
    ((4, 4, 4), (0, 1, 1), (1, 1, 0))
    >>> length, home, pieces = ax.windows[1]   # outputs 4..7 read inputs 3..8
    >>> length, home, [(k, side) for k, dst, src, side, _ in pieces]
    (6, 1, [(0, 2), (1, 0), (2, 1)])
    """
    sizes = tuple(int(c) for c in in_chunks)
    n = len(sizes)
    out = output_chunks(sizes, out_size, stride)
    out_bounds = boundaries(out)
    low, high = [0] * n, [0] * n
    homes, reads, low_reads, high_reads = [0] * n, [0] * n, [0] * n, [0] * n
    raw_windows = []
    for o0, o1 in zip(out_bounds, out_bounds[1:]):
        if o1 == o0:
            raw_windows.append((0, None, []))
            continue
        length, raw = window_pieces(sizes, o0, o1, stride, eff, pads[0], pads[1], mode)
        filled = {}
        for k, dst, _ in raw:
            filled[k] = filled.get(k, 0) + _count(dst)
        home = min(filled, key=lambda k: (-filled[k], k)) if filled else None
        raw_windows.append((length, home, raw))
        for k, _, src in raw:
            if k != home:
                r = _slice_range(sizes[k], src)
                depth_low, depth_high = max(r) + 1, sizes[k] - min(r)
                if depth_low <= depth_high:
                    low[k] = max(low[k], depth_low)
                else:
                    high[k] = max(high[k], depth_high)
    windows = []
    for length, home, raw in raw_windows:
        pieces, sides = [], set()
        for k, dst, src in raw:
            if k == home:
                pieces.append((k, dst, src, HOME, src))
                continue
            r = _slice_range(sizes[k], src)
            if max(r) < low[k] and (max(r) + 1 <= sizes[k] - min(r) or high[k] == 0):
                pieces.append((k, dst, src, LOW, src))
                sides.add((k, LOW))
            else:
                pieces.append((k, dst, src, HIGH, _shifted(src, sizes[k], sizes[k] - high[k])))
                sides.add((k, HIGH))
        if home is not None:
            homes[home] += 1
        for k in {p[0] for p in pieces}:
            reads[k] += 1
        for k, side in sides:
            (low_reads if side == LOW else high_reads)[k] += 1
        windows.append((length, home, tuple(pieces)))
    return AxisPlan(sizes, tuple(boundaries(sizes)), out, tuple(windows), tuple(low), tuple(high),
                    tuple(homes), tuple(reads), tuple(low_reads), tuple(high_reads))


def _slab_index(ndim_all: int, axis: int, side: int, thickness: int, size: int) -> tuple:
    index = [slice(None)] * ndim_all
    index[axis] = slice(0, thickness) if side == LOW else slice(size - thickness, size)
    return tuple(index)


def _order(batch, spatial, channels, channels_first):
    """A ``(batch, *spatial, channels)`` triple in data_format order, as a tuple."""
    if channels_first:
        return (batch, channels, *spatial)
    return (batch, *spatial, channels)


def _spatial(chunks, channels_first):
    return chunks[2:] if channels_first else chunks[1:-1]
