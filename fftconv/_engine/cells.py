"""Cell statistics of a convolution's input: the one pass the guards share.

The padded input's used extent is cut into *cells*.  Along each spatial axis a
cell is ``b`` consecutive samples of one residue class modulo the dilation
``d`` (the samples one output's window reads along an axis are ``d`` apart),
and a cell holds every channel of one channel group.  One pass over the input
(:func:`cell_stats`) gives, per cell,

``M``
    the largest magnitude: exact (a maximum neither rounds nor overflows), and 0
    exactly where the cell holds only zeros;
``A``
    the sum of magnitudes (accumulated in the input's precision over the cell's
    rows, then in float64): finite below the overflow limit of
    :func:`fftconv._engine.guards.overflow_limit`, whose gain exceeds any cell's
    size; a NaN or an infinity anywhere in the cell makes it non-finite;
``Z``
    the number of samples that are not zero.

``b`` is at most ``(k + 1) // 2`` for a kernel of ``k`` taps along the axis, so
every window holds at least one whole cell of the residue class it reads: a
window holds only zeros only where some cell does (``M == 0``).

:func:`region_stats` reduces the cells over boxes of cells (a tile's input,
the windows of a block of outputs): the peak ``max M``, the energy bound
``sum M * A`` of the box (``sum x**2 <= max|x| * sum|x|``; computed on ``M`` and
``A`` divided by a power of two, so that it neither overflows nor loses small
values) and the faintest non-zero cell, ``min A / Z`` over cells with ``Z > 0``:
the mean magnitude of its non-zero samples.
:func:`zero_windows` finds, exactly, the outputs whose window holds only zeros.

With numba installed (the ``fftconv[numba]`` extra) the passes are compiled
loops run on fftconv's threads (:func:`fftconv._runtime.threads.run_pieces`),
vectorised along whole contiguous rows.  Without numba, numpy computes the
same values more slowly.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from fftconv._runtime.threads import in_pieces, run_pieces
from fftconv._shapes.geometry import ConvGeometry
from fftconv._shapes.padding import box_reads, read_padded, source_index
from fftconv.methods import _compiled

__all__ = ["CellGrid", "cell_grid", "cell_stats", "region_stats", "zero_windows", "stats_bytes",
           "window_sums", "nonzero_box", "reach", "lattice3", "box_reduce", "nonzero_table", "nonzero_floor", "follows_reach", "support", "tap_lists", "support_zeros", "window_any",
           "may_have_zero_windows", "MAX_CELL_FRACTION", "ENERGY_FLOOR"]

#: Cells are grown (up to half a window) until there are at most this fraction of the used
#: extent's points, so that the work on them stays small beside the pass over the input.
MAX_CELL_FRACTION = 1 / 64
#: Filters whose weight rests on few of their taps (:func:`reach`) get cells of at most half
#: those taps, but never more cells than this fraction of the used points.
FINEST_CELL_FRACTION = 1 / 8
#: A filter's footprint is thin along an axis where the runs of non-zero taps that hold its
#: weight are at most this many times shorter than its lattice (:func:`reach`).
THIN_RUNS = 4
#: A reach above this fraction of the kernel counts as the whole kernel.
NARROW_REACH = 3 / 4
#: ... and never fewer cells than this (a grid of this size is a few hundred kilobytes).
FINEST_CELLS = 2**14
#: :func:`reach` leaves out the taps at the kernel's ends that hold at most this share of
#: the filters' weight.
REACH_SHARE = 1 / 64
#: Passes over fewer input samples than this run on one thread.
MIN_PIECE_SAMPLES = 2**18
#: The same for the passes that cost about ten times as much a sample as the statistics' (the
#: zero windows' running counts, the faintest non-zero sample per cell: 3-10 ns against 0.8 ns
#: on the development machine, 2026-12-07): a piece of this many samples takes about 0.1-0.3
#: ms, far above the tens of microseconds a hand-off to another thread costs.
SLOW_PIECE_SAMPLES = 2**15

#: The numpy statistics and zero-window passes (no numba) work in slabs of about this
#: fraction of the padded input's samples (at least :data:`NUMPY_SLAB_SAMPLES`), so that
#: their float64 copies stay a small part of a call's memory.
NUMPY_SLAB_FRACTION = 1 / 32
NUMPY_SLAB_SAMPLES = 4096


@dataclass(frozen=True, eq=False)
class CellGrid:
    """How the used extent of one geometry is cut into cells (three axes: 1-D and 2-D
    problems get leading axes of length one).

    Attributes
    ----------
    members : tuple of int
        ``b`` per axis: samples of one residue class per cell.
    residues : tuple of int
        ``d`` per axis: the dilation, times the step of the filters' lattice of non-zero taps
        where the geometry knows it (``geom.reach``).
    counts : tuple of int
        Cells per residue class, per axis; the grid has ``d * count`` cells along an
        axis, residue-major (cell ``r * count + c``).
    positions : tuple of ndarray
        Per axis, ``(d * count, b)`` int64: the padded positions of each cell's members,
        -1 past the used extent.
    sources : tuple of ndarray
        Per axis, ``(used,)`` int64: the input index each padded position holds, -1 for a zero.
    cell_of : tuple of ndarray
        Per axis, ``(used,)`` int64: the cell of each padded position.
    run : tuple of int
        Along the last axis, ``(lo, hi, s)``: padded positions ``[lo, hi)`` hold input
        samples ``[s, s + hi - lo)`` (the inside of the input).
    extra : ndarray
        Along the last axis, the other padded positions that hold input samples (the pads
        of modes other than zeros).
    """

    members: tuple
    residues: tuple
    counts: tuple
    positions: tuple
    sources: tuple
    cell_of: tuple
    run: tuple
    extra: np.ndarray

    @property
    def shape(self) -> tuple:
        """Cells per axis (all residues)."""
        return tuple(d * c for d, c in zip(self.residues, self.counts))

    def cell_range(self, axis: int, lo, hi):
        """Cells (of any residue: ``[c0, c1)`` within each) holding padded positions ``[lo, hi)``
        of ``axis``, for arrays of ``lo`` and ``hi``."""
        d, b = self.residues[axis], self.members[axis]
        lo, hi = np.asarray(lo), np.asarray(hi)
        return (lo // d) // b, np.maximum((np.maximum(hi, lo + 1) - 1) // d // b + 1, (lo // d) // b + 1)


def axes3(geom: ConvGeometry):
    """``(kernel, dilations, used extents, input sizes, pads)`` per axis, with leading unit axes
    up to three."""
    lead = 3 - geom.ndim
    return ([1] * lead + list(geom.kernel), [1] * lead + list(geom.dilations),
            [1] * lead + list(geom.used_extent), [1] * lead + list(geom.spatial),
            [(0, 0)] * lead + list(geom.pads))


@functools.lru_cache(maxsize=64)
def cell_grid(geom: ConvGeometry) -> CellGrid:
    """The cells of ``geom``: ``b = max(1, t // 4)`` per axis, grown up to ``(t + 1) // 2``
    while the grid holds more than :data:`MAX_CELL_FRACTION` of the used points (and more
    than 256 cells).

    ``t`` is the kernel's size ``k``, or, where the geometry knows where the filters' weight
    lies (``geom.reach``, :func:`reach`), the count of taps that carry it, and the cells
    follow the lattice of the non-zero taps (residues modulo ``d * step``): a small filter
    stored in a large array, a narrow Gaussian in a wide stamp, or a comb whose taps are
    ``step`` apart, gets cells small enough (or far enough apart) that a faint region under its
    weight holds a whole cell.  Such a grid is grown past ``(t + 1) // 2`` (up to half the
    lattice's taps) only while it holds more than :data:`FINEST_CELL_FRACTION` of the used
    points and more than :data:`FINEST_CELLS` cells.

    Examples
    --------
    >>> from fftconv._checks import check_geometry
    >>> g = check_geometry((1, 100, 1), (21, 1, 1), 1, 1, "SAME", "NWC", 1, None, False)
    >>> grid = cell_grid(g)
    >>> grid.members[-1], grid.shape[-1]
    (5, 24)
    """
    _, dil, used, sizes, pads = axes3(geom)
    lattice = lattice3(geom)
    dil = [d * step for d, (_, step, _, _) in zip(dil, lattice)]  # the weight's samples are d * step apart
    members = _members(used, lattice)
    counts, positions, sources, cell_of = [], [], [], []
    for u, d, b, n, (lo, hi) in zip(used, dil, members, sizes, pads):
        count = max(1, -(-(-(-u // d)) // b))
        m = np.arange(count * b)
        pos = (m[None, :] * d + np.arange(d)[:, None]).reshape(d, count, b)  # [r, c, i]
        pos = np.where(pos < u, pos, -1).reshape(d * count, b)
        p = np.arange(u)
        counts.append(count)
        positions.append(pos.astype(np.int64))
        sources.append(source_index(n, lo, hi, "constant" if geom.padding_mode == "constant" else
                                    geom.padding_mode)[:u].astype(np.int64))
        cell_of.append(((p % d) * count + (p // d) // b).astype(np.int64))
    last = sources[-1]
    lo_in, hi_in = max(0, pads[-1][0]), min(pads[-1][0] + sizes[-1], used[-1])
    run = (lo_in, max(lo_in, hi_in), max(0, lo_in - pads[-1][0]))
    outside = np.ones(used[-1], bool)
    outside[lo_in:hi_in] = False
    extra = np.flatnonzero(outside & (last >= 0)).astype(np.int64)
    return CellGrid(tuple(members), tuple(dil), tuple(counts), tuple(positions), tuple(sources),
                    tuple(cell_of), run, extra)


def _compiled_dtype(x: np.ndarray) -> np.ndarray:
    """``x`` in float32 or float64, native byte order, for the compiled loops (a copy only for
    other dtypes: float16, integers, big-endian arrays)."""
    if x.dtype in (np.float32, np.float64) and x.dtype.isnative:
        return x
    return x.astype(np.float32 if x.dtype.kind == "f" and x.dtype.itemsize <= 4 else np.float64)


def _x5(x: np.ndarray) -> np.ndarray:
    """A channels-last input with three spatial axes (leading ones of length one added)."""
    return x.reshape(x.shape[0], *([1] * (4 - x.ndim + 1)), *x.shape[1:]) if x.ndim < 5 else x


# -- the pass over the input ------------------------------------------------------------------

def cell_stats(x: np.ndarray, geom: ConvGeometry, workers: int = 1):
    """``(M, A, Z)``: per cell of :func:`cell_grid` and channel group, the largest magnitude,
    the sum of magnitudes and the count of non-zero samples, each ``(N, *grid.shape, G)``
    float64 (the grid's three axes).

    ``x`` is the channels-last input ``(N, *spatial, C_in)``, any layout; its pads are read
    as ``geom.padding_mode`` fills them.  Non-zero samples are counted by a second pass,
    made only where some cell holds only zeros; otherwise ``Z`` counts the input samples
    of each cell (the pads left out), which is exact where no sample is zero and
    otherwise undercounts nothing but scattered zeros.

    Examples
    --------
    >>> from fftconv._checks import check_geometry
    >>> g = check_geometry((1, 8, 1), (4, 1, 1), 1, 1, "VALID", "NWC", 1, None, False)
    >>> x = np.array([0, 0, 3, -4, 0, 0, 0, 0.5]).reshape(1, 8, 1)
    >>> [s.ravel().tolist() for s in cell_stats(x, g)]
    [[0.0, 0.0, 3.0, 4.0, 0.0, 0.0, 0.0, 0.5], [0.0, 0.0, 3.0, 4.0, 0.0, 0.0, 0.0, 0.5], [0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0]]
    """
    grid = cell_grid(geom)
    shape = (x.shape[0], *grid.shape, geom.groups)
    if not (_compiled.HAVE_NUMBA and x.size):
        return _stats_numpy(x, geom, grid)
    x = _compiled_dtype(x)
    x5 = _x5(x)
    if x5.shape[4] > 1 and x5.strides[3] != x5.strides[4] * x5.shape[4]:
        x5 = np.ascontiguousarray(x5)  # rows of (last axis, channels) must be one strided axis
    rows = x5.reshape(*x5.shape[:3], -1)
    M, A, Z = np.zeros(shape), np.zeros(shape), np.zeros(shape)  # Z stays 0 unless counted
    if geom.ndim == 1 and geom.groups == 1 and grid.residues[2] == 1 and grid.extra.size == 0:
        return _signal_stats(rows[:, 0, 0], grid, geom, workers, M, A, Z)
    tasks = x.shape[0] * grid.shape[0] * grid.shape[1]
    runs = grid.members[2] if grid.residues[2] == 1 else 0
    args = (rows, x.shape[-1], grid.positions[0], grid.positions[1], grid.sources[0], grid.sources[1],
            grid.sources[2], grid.cell_of[2], runs, *grid.run, grid.extra)
    in_pieces(lambda a, b: _stats_loop(*args, False, M, A, Z, a, b), tasks, x.size, workers, MIN_PIECE_SAMPLES)
    if ((M == 0) & (sizes(geom)[None, ..., None] > 0)).any():  # some cell of input samples holds only zeros
        M[...], A[...], Z[...] = 0, 0, 0
        in_pieces(lambda a, b: _stats_loop(*args, True, M, A, Z, a, b), tasks, x.size, workers, MIN_PIECE_SAMPLES)
    else:
        Z = np.broadcast_to(sizes(geom)[None, ..., None], shape)
    return M, A, Z


def _signal_stats(rows, grid, geom, workers, M, A, Z):
    """:func:`cell_stats` of a 1-D input with one channel group and no dilation: each cell is
    one contiguous run of each row, reduced in one pass (no per-position accumulators),
    the cells shared among the workers."""
    cells = grid.shape[2]
    pieces = min(max(1, workers), max(1, rows.size // MIN_PIECE_SAMPLES), cells)
    bounds = [cells * i // pieces for i in range(pieces + 1)]
    lo, hi, start = grid.run
    views = (M[:, 0, 0, :, 0], A[:, 0, 0, :, 0], Z[:, 0, 0, :, 0])

    def piece(i, count):
        _signal_loop(rows, rows.shape[1] // max(1, geom.spatial[0]), grid.members[2], lo, hi, start, count,
                     *views, bounds[i], bounds[i + 1])

    run_pieces(lambda i: piece(i, False), pieces)
    if ((M == 0) & (sizes(geom)[None, ..., None] > 0)).any():
        run_pieces(lambda i: piece(i, True), pieces)
    else:
        Z = np.broadcast_to(sizes(geom)[None, ..., None], M.shape)
    return M, A, Z


@functools.lru_cache(maxsize=64)
def _sizes(geom: ConvGeometry) -> np.ndarray:
    grid = cell_grid(geom)
    per_axis = []
    for axis in range(3):
        inside = (grid.sources[axis] >= 0).astype(np.int64)
        per_axis.append(np.array([inside[p[p >= 0]].sum() for p in grid.positions[axis]], np.float64))
    out = per_axis[0][:, None, None] * per_axis[1][None, :, None] * per_axis[2][None, None, :] * geom.group_in
    out.flags.writeable = False
    return out


def stats_bytes(geom: ConvGeometry) -> int:
    """Bytes of :func:`cell_stats`' arrays ``M``, ``A`` and ``Z``."""
    grid = cell_grid(geom)
    return 3 * 8 * geom.batch * math.prod(grid.shape) * geom.groups


def may_have_zero_windows(stats, geom: ConvGeometry, taps=None) -> bool:
    """Whether some output's window may hold only zeros: where a cell holds only zeros, or
    where the zero pads can hold a whole window (of the kernel's ``taps``, :func:`support`).
    (Every window of the whole kernel holds a whole cell of the residue class it reads; a
    narrower support may also meet the zeros of cells that are not all zeros, which these
    statistics do not see.)"""
    taps = tuple(map(tuple, taps)) if taps else None
    return bool(((stats[0] == 0) & (sizes(geom)[None, ..., None] > 0)).any() or _pads_hold_windows(geom, taps))


@functools.lru_cache(maxsize=64)
def _pads_hold_windows(geom: ConvGeometry, taps=None) -> bool:
    """Whether some output's window lies wholly in zero pads (``padding_mode="constant"``)."""
    if geom.padding_mode != "constant":
        return False
    taps = taps or tuple((0, k) for k in geom.kernel)
    for o, s, d, (t0, t1), (lo, _), n in zip(geom.out_spatial, geom.strides, geom.dilations, taps, geom.pads,
                                            geom.spatial):
        if t1 <= t0:
            return True  # filters of zeros
        starts = np.arange(o) * s + t0 * d
        if ((starts + (t1 - 1 - t0) * d < lo) | (starts >= lo + n)).any():
            return True
    return False


def sizes(geom: ConvGeometry) -> np.ndarray:
    """Input samples per cell (pads that hold zeros left out), ``grid.shape``, over a group's
    channels."""
    return _sizes(geom)


def _stats_numpy(x, geom, grid):
    """:func:`cell_stats` with numpy, in slabs of whole cells along the first spatial axis (and
    of whole images), so that its float64 temporaries stay near :data:`NUMPY_SLAB_FRACTION` of
    the padded input's samples: each slab's padded samples are copied, then reduced by reshapes."""
    lead, n = 3 - geom.ndim, x.shape[0]
    M, A, Z = (np.zeros((n, *grid.shape, geom.groups)) for _ in range(3))
    d, b, count = grid.residues[lead], grid.members[lead], grid.counts[lead]
    used = geom.used_extent
    per_cell = b * d * math.prod(used[1:]) * x.shape[-1]  # one image's samples in one cell's slab
    budget = max(NUMPY_SLAB_SAMPLES, int(n * math.prod(used) * x.shape[-1] * NUMPY_SLAB_FRACTION))
    cells = max(1, min(count, budget // per_cell))
    images = max(1, budget // (per_cell * count)) if cells == count else 1
    for i0 in range(0, n, images):
        i1 = min(n, i0 + images)
        for c0 in range(0, count, cells):
            c1 = min(count, c0 + cells)
            p0, p1 = c0 * b * d, min(c1 * b * d, used[0])
            if p0 >= p1:
                break  # the cells left lie past the used extent: they stay empty
            reads = box_reads(geom, (p0, *(0,) * (geom.ndim - 1)), (p1 - p0, *used[1:]))
            slab = read_padded(x[i0:i1], reads, np.empty((i1 - i0, p1 - p0, *used[1:], x.shape[-1])),
                               geom.padding_mode)
            parts = _slab_stats(slab, grid, lead, c1 - c0, geom.groups)
            head = (slice(i0, i1), *(slice(None),) * lead)
            for r in range(d):  # the slab's cells of residue r: r * (c1 - c0) + j -> r * count + c0 + j
                mine = (slice(None), *(slice(None),) * lead, slice(r * (c1 - c0), (r + 1) * (c1 - c0)))
                for out, part in zip((M, A, Z), parts):
                    out[(*head, slice(r * count + c0, r * count + c1))] = part[mine]
    return M, A, Z


def _slab_stats(slab, grid, axis0, count0, groups):
    """``(M, A, Z)`` of the padded samples ``slab``, whose axis ``axis0`` of the grid holds
    ``count0`` cells per residue starting at a cell boundary."""
    mag = np.abs(_x5(slab), out=_x5(slab))
    for axis in range(3):
        d, b = grid.residues[axis], grid.members[axis]
        count = count0 if axis == axis0 else grid.counts[axis]
        a = np.moveaxis(mag, axis + 1, -1)
        full = np.zeros((*a.shape[:-1], count * b * d))
        full[..., :a.shape[-1]] = a
        # position p = (c * b + i) * d + r  ->  [c, i, r]  ->  cell r * count + c, member i
        full = full.reshape(*a.shape[:-1], count, b, d).swapaxes(-1, -3).swapaxes(-1, -2)
        mag = np.moveaxis(full.reshape(*a.shape[:-1], d * count * b), -1, axis + 1)
    n, (b0, b1, b2) = mag.shape[0], grid.members
    s0, s1, s2 = (mag.shape[1 + a] // grid.members[a] for a in range(3))
    blocks = mag.reshape(n, s0, b0, s1, b1, s2, b2, groups, -1)
    axes = (2, 4, 6, 8)
    finite = np.where(np.isnan(blocks), 0.0, blocks)
    return finite.max(axis=axes), blocks.sum(axis=axes), np.count_nonzero(blocks, axis=axes).astype(np.float64)


# -- reductions over boxes of cells ------------------------------------------------------------

#: The smallest term of :func:`region_stats`' energy sums (see there).
ENERGY_FLOOR = 2.0 ** -1000


def region_stats(stats, grid: CellGrid, ranges, scale: float):
    """Per box of cells: ``(peak, energy, faint)``, each ``(N, *boxes, G)`` float64.

    ``ranges`` gives, per axis, ``(lo, hi)`` arrays of cell indices (within each residue
    class: every residue is included); box ``(i, j, k)`` is the product of the ranges.
    ``peak`` is ``max M``; ``energy`` is ``sum (M / scale) * (A / scale)``, an upper bound
    of ``sum x**2 / scale**2`` in which a term below :data:`ENERGY_FLOOR` counts as that
    floor (so that no value 500 binary orders below ``scale`` is lost to underflow);
    ``faint`` is ``min A / Z`` over the cells with ``Z > 0`` (infinite where there is none).
    """
    M, A, Z = stats
    (lo0, hi0), (lo1, hi1), (lo2, hi2) = [(np.ascontiguousarray(lo, np.int64), np.ascontiguousarray(hi, np.int64))
                                          for lo, hi in ranges]
    shape = (M.shape[0], len(lo0), len(lo1), len(lo2), M.shape[-1])
    peak, energy, faint = np.zeros(shape), np.zeros(shape), np.full(shape, np.inf)
    if _compiled.HAVE_NUMBA:
        _region_loop(M, A, Z, lo0, hi0, lo1, hi1, lo2, hi2, np.array(grid.residues, np.int64),
                     np.array(grid.counts, np.int64), 1.0 / scale, peak, energy, faint)
        return peak, energy, faint
    with np.errstate(under="ignore"):
        terms = (M / scale) * (A / scale)
    terms = np.where(M > 0, np.maximum(terms, ENERGY_FLOOR), 0.0)
    mean = np.divide(A, Z, out=np.full(A.shape, np.inf), where=Z > 0)
    out = []
    for a, op, identity in [(M, np.maximum, 0.0), (terms, np.add, 0.0), (mean, np.minimum, np.inf)]:
        for axis, (lo, hi) in enumerate(zip((lo0, lo1, lo2), (hi0, hi1, hi2))):
            d, count = grid.residues[axis], grid.counts[axis]
            a = a.reshape(*a.shape[:axis + 1], d, count, *a.shape[axis + 2:])
            a = op.reduce(a, axis=axis + 1)  # every residue
            a = np.stack([op.reduce(np.take(a, np.arange(l, min(h, count)), axis=axis + 1), axis=axis + 1,
                                    initial=identity) for l, h in zip(lo, hi)], axis=axis + 1)
        out.append(a)
    return tuple(out)


# -- outputs whose window holds only zeros -------------------------------------------------------

def zero_windows(x: np.ndarray, geom: ConvGeometry, taps=None, workers: int = 1) -> np.ndarray:
    """``(N, *out_spatial, G)`` bool: True where an output's window (over its group's channels,
    pads as ``padding_mode`` fills them) holds only zeros.

    ``taps`` gives per spatial axis the ``(lo, hi)`` range of the kernel's taps that are not
    zero in some channel (:func:`support`): samples under taps outside it are not read (an
    output whose non-zero samples all meet zero taps is exactly 0 too).  Compiled, the
    outputs are cut into up to ``workers`` pieces along the middle axis of the grid (the
    rows of a 2-D input), run on fftconv's threads.

    Examples
    --------
    >>> from fftconv._checks import check_geometry
    >>> g = check_geometry((1, 8, 1), (3, 1, 1), 1, 1, "SAME", "NWC", 1, None, False)
    >>> x = np.zeros((1, 8, 1)); x[0, 2] = 1
    >>> zero_windows(x, g)[0, :, 0].astype(int).tolist()
    [1, 0, 0, 0, 1, 1, 1, 1]
    >>> zero_windows(x, g, taps=[(2, 3)])[0, :, 0].astype(int).tolist()  # the last tap alone
    [1, 0, 1, 1, 1, 1, 1, 1]
    """
    taps = taps or [(0, k) for k in geom.kernel]
    lead = 3 - geom.ndim
    kernel = [1] * lead + [hi - lo for lo, hi in taps]
    shifts = [0] * lead + [lo * d for (lo, _), d in zip(taps, geom.dilations)]
    if _compiled.HAVE_NUMBA and x.size:
        x = _compiled_dtype(x)
        grid = cell_grid(geom)
        _, dil, _, _, _ = axes3(geom)
        strides = [1] * lead + list(geom.strides)
        outs = [1] * lead + list(geom.out_spatial)
        zero = np.empty((x.shape[0], *outs, geom.groups), np.uint8)
        src = [np.ascontiguousarray(s[shift:]) for s, shift in zip(grid.sources, shifts)]
        args = (_x5(x), src[0], src[1], src[2], geom.groups, np.array(kernel, np.int64), np.array(dil, np.int64),
                np.array(strides, np.int64), zero)
        # in pieces along the middle axis of the outputs
        in_pieces(lambda a, b: _zero_loop(*args, a, b), outs[1], x.size, workers, SLOW_PIECE_SAMPLES)
        return zero.view(bool).reshape(x.shape[0], *geom.out_spatial, geom.groups)
    found = window_any(x, geom, kernel[lead:], shifts[lead:])
    return np.logical_not(found, out=found)


def window_any(samples: np.ndarray, geom: ConvGeometry, kernel=None, shifts=None) -> np.ndarray:
    """``(N, *out, G)`` bool: whether some non-zero sample of ``samples`` ``(N, *spatial, C_in)``
    (any dtype; a bool mask too) in an output's channel group lies under its window (pads read
    as ``padding_mode`` fills them), the window of ``kernel`` taps (default ``geom.kernel``)
    starting ``shifts`` padded positions after the usual start.

    Counted by summed-area sums, one image and one block of output rows at a time, so that
    the temporaries stay near :data:`NUMPY_SLAB_FRACTION` of the samples.

    Examples
    --------
    >>> from fftconv._checks import check_geometry
    >>> g = check_geometry((1, 7, 1), (3, 1, 1), 1, 1, "SAME", "NWC", 1, None, False)
    >>> x = np.zeros((1, 7, 1)); x[0, 3] = 2.5
    >>> window_any(x, g)[0, :, 0].astype(int).tolist()
    [0, 0, 1, 1, 1, 0, 0]
    """
    kernel = kernel or geom.kernel
    shifts = shifts or (0,) * geom.ndim
    n, out, channels = samples.shape[0], geom.out_spatial, samples.shape[-1]
    found = np.empty((n, *out, geom.groups), bool)
    per_row = math.prod(geom.used_extent[1:]) * channels  # padded samples of one row
    span = (kernel[0] - 1) * geom.dilations[0] + 1  # padded rows one output row reads
    budget = max(NUMPY_SLAB_SAMPLES, int(n * math.prod(geom.used_extent) * channels * NUMPY_SLAB_FRACTION))
    rows = max(1, (budget // per_row - span) // geom.strides[0] + 1, span // geom.strides[0])  # rows read twice at most
    for i in range(n):
        for o0 in range(0, out[0], rows):
            o1 = min(out[0], o0 + rows)
            p0 = o0 * geom.strides[0] + shifts[0]
            extent = ((o1 - o0 - 1) * geom.strides[0] + span,
                      *(u - t for u, t in zip(geom.used_extent[1:], shifts[1:])))
            block = read_padded(samples[i:i + 1], box_reads(geom, (p0, *shifts[1:]), extent),
                                np.empty((1, *extent, channels), samples.dtype), geom.padding_mode)
            block = (block != 0).reshape(*block.shape[:-1], geom.groups, -1).any(axis=-1).view(np.int8)
            for axis, (k, d, s, o) in enumerate(zip(kernel, geom.dilations, geom.strides,
                                                    (o1 - o0, *out[1:])), start=1):
                block = _window_sums(block, axis, k, d, s, o)
            found[i:i + 1, o0:o1] = block > 0
    return found


def _window_sums(a: np.ndarray, axis: int, k: int, d: int, s: int, out: int) -> np.ndarray:
    """Along ``axis``: ``sum_{t < k} a[o * s + t * d]`` for ``o < out``, by a cumulative sum
    over the samples ``d`` apart."""
    n = a.shape[axis]
    pad = -n % d
    a = np.moveaxis(a, axis, 0)
    a = np.concatenate([a, np.zeros((pad, *a.shape[1:]), a.dtype)]) if pad else a
    rows = a.reshape(-1, d, *a.shape[1:])  # rows[i, r] = a[i * d + r]
    c = np.concatenate([np.zeros((1, *rows.shape[1:]), a.dtype), np.cumsum(rows, axis=0)])
    start = np.arange(out) * s  # window [start, start + (k - 1) * d] in steps of d
    first, phase = np.divmod(start, d)
    sums = c[first + k, phase] - c[first, phase]
    return np.moveaxis(sums, 0, axis)


def box_reduce(values: np.ndarray, ranges, ufunc=np.minimum) -> np.ndarray:
    """``ufunc``'s reduction (minima by default) of ``values`` ``(N, n0, n1, n2, G)`` over boxes:
    per product of the per-axis ``(lo, hi)`` ranges (an empty range reads one value),
    ``(N, r0, r1, r2, G)``."""
    out = values
    for axis, (lo, hi) in enumerate(ranges):
        n = out.shape[axis + 1]
        padded = np.concatenate([out, np.take(out, [0], axis=axis + 1)], axis=axis + 1)  # hi may be n
        first = np.minimum(lo, n - 1)  # (an empty range's value is not read)
        pairs = np.stack([first, np.clip(hi, first + 1, n)], axis=1).reshape(-1)
        out = np.take(ufunc.reduceat(padded, pairs, axis=axis + 1), np.arange(0, len(pairs), 2), axis=axis + 1)
    return out


def reach(filters: np.ndarray, ndim: int) -> tuple | None:
    """Per spatial axis, where the weight of ``filters`` ``(*kernel, C_in / G, C_out)`` lies:
    ``(first, step, taps, carrying)``, the non-zero taps (of any channel) lying on the lattice
    ``first + j * step``, ``j < taps``, and ``carrying``, how many consecutive lattice taps a
    window's weight is held in, the least of

    * per pair of input and output channels, the run of lattice taps left once each end has
      shed the taps that hold at most :data:`REACH_SHARE` / 2 of that pair's ``sum |w|``
      (summed over the other axes): a small filter stored in a large array, a narrow
      Gaussian, one filter of a bank of mixed sizes, a filter on one input channel of many;
    * the runs of consecutive non-zero taps along the axis (over every position of the other
      axes and every pair of channels): the longest length such that the runs at least that
      long hold all but :data:`REACH_SHARE` of the weight, where that is at most
      1 / :data:`THIN_RUNS` of the lattice's taps (a ring's thickness, the two ends of an
      echo, a line's width; a disc's, whose short runs hold little weight, is not thin);

    or ``taps`` where that is more than :data:`NARROW_REACH` of them.  None where every axis is
    the whole kernel (``(0, 1, k, k)``), or for filters of zeros or not finite.

    Examples
    --------
    >>> w = np.zeros((31, 31, 1, 1)); w[13:18, 13:18] = 1 / 25  # a 5x5 box stored in 31x31
    >>> reach(w, 2)
    ((13, 1, 5, 5), (13, 1, 5, 5))
    >>> g = np.exp(-(np.arange(33) - 16.0) ** 2 / 2)  # a Gaussian of sigma 1 in 33 taps
    >>> reach(np.outer(g, g)[..., None, None], 2)[0]
    (0, 1, 33, 5)
    >>> comb = np.zeros((31, 31, 1, 1)); comb[::2, ::2] = 1  # taps on every other sample
    >>> reach(comb, 2)
    ((0, 2, 16, 16), (0, 2, 16, 16))
    >>> bank = np.ones((31, 31, 1, 2)); bank[..., 1] = w[..., 0]  # a 31x31 box and the 5x5 one
    >>> reach(bank, 2)
    ((0, 1, 31, 5), (0, 1, 31, 5))
    >>> echo = np.zeros((40, 1, 1)); echo[:6] = echo[-6:] = 1  # two runs of six taps
    >>> reach(echo, 1)
    ((0, 1, 40, 6),)
    >>> reach(np.ones((3, 3, 1, 1)), 2) is None
    True
    """
    kernel = filters.shape[:ndim]
    flat = np.abs(filters.reshape(*kernel, -1), dtype=np.float64)  # (*kernel, pairs of channels)
    if not np.isfinite(flat).all():
        return None
    footprints = None if (flat != 0).all() else _footprints(flat)  # (no zero tap: one run of all)
    out = []
    for axis in range(ndim):
        profiles = flat.sum(axis=tuple(a for a in range(ndim) if a != axis))  # (k, pairs)
        hits = np.flatnonzero(profiles.any(axis=1))
        if not hits.size:
            return None
        first = int(hits[0])
        step = max(1, int(np.gcd.reduce(hits - first)) if hits.size > 1 else 1)
        taps = (int(hits[-1]) - first) // step + 1
        rows = slice(first, first + (taps - 1) * step + 1, step)
        lattice = profiles[rows]
        lattice = lattice[:, lattice.sum(axis=0) > 0]  # (taps, pairs with weight)
        # per pair, the run left once each end sheds at most half the share of its weight
        totals = lattice.sum(axis=0)
        shed = REACH_SHARE / 2 * totals * (1 + 1e-12)
        lo = np.argmax(np.cumsum(lattice, axis=0) > shed, axis=0)
        hi = taps - np.argmax(np.cumsum(lattice[::-1], axis=0) > shed, axis=0)
        carrying = int(max(1, (hi - lo).min()))
        runs = taps if footprints is None else _run_reach(np.moveaxis(footprints, axis, 0)[rows])
        if runs * THIN_RUNS <= taps:  # a thin footprint (a ring, an echo, a line), not a disc's rim
            carrying = min(carrying, runs)
        # a reach near all the taps (a disc's thin ends, a wide Gaussian) keeps their cells
        out.append((first, step, taps, carrying if carrying <= NARROW_REACH * taps else taps))
    if all(r == (0, 1, k, k) for r, k in zip(out, kernel)):
        return None
    return tuple(out)


def _footprints(flat: np.ndarray) -> np.ndarray:
    """``(*kernel, F)``: the weights ``flat`` ``(*kernel, pairs)`` added up over the pairs of
    channels with one footprint (where their taps are not zero), one column per distinct
    footprint: the runs of non-zero taps are those of each footprint, with their weights."""
    pairs = flat.reshape(-1, flat.shape[-1])
    marks = np.ascontiguousarray(np.packbits(pairs != 0, axis=0).T)  # (pairs, bytes)
    _, group = np.unique(marks.view(np.dtype((np.void, marks.shape[1]))).ravel(), return_inverse=True)
    group = group.ravel()
    order = np.argsort(group, kind="stable")
    starts = np.flatnonzero(np.diff(group[order], prepend=-1))
    return np.add.reduceat(pairs[:, order], starts, axis=1).reshape(*flat.shape[:-1], -1)


def _run_reach(weights: np.ndarray) -> int:
    """The longest length ``L`` such that the runs of consecutive non-zero taps along the first
    axis of ``weights`` (``(taps, ...)``, magnitudes) that are at least ``L`` long hold all but
    :data:`REACH_SHARE` of their sum."""
    w = weights.reshape(weights.shape[0], -1).T  # (fibres, taps): runs in order, fibre by fibre
    on = w > 0
    edge = np.zeros((on.shape[0], 1), bool)
    rising = np.nonzero(on & ~np.concatenate([edge, on[:, :-1]], axis=1))
    falling = np.nonzero(on & ~np.concatenate([on[:, 1:], edge], axis=1))
    before = np.concatenate([np.zeros((w.shape[0], 1)), np.cumsum(w, axis=1)], axis=1)
    length = falling[1] - rising[1] + 1
    weight = before[falling[0], falling[1] + 1] - before[rising[0], rising[1]]
    held = np.cumsum(np.bincount(length, weights=weight)[::-1])  # by length, the longest first
    enough = np.searchsorted(held, (1 - REACH_SHARE) * held[-1] * (1 - 1e-12))  # the lengths needed
    return int(len(held) - 1 - min(enough, len(held) - 1))


@functools.lru_cache(maxsize=64)
def lattice3(geom: ConvGeometry) -> tuple:
    """Per axis of the grid (three), ``(first, step, taps, carrying)``: the lattice of the
    filters' non-zero taps and the taps that carry their weight (``geom.reach``, :func:`reach`),
    which the cells and the windows the guard judges follow; the whole kernel where it is None,
    and for leading axes.  Where cells of half the carrying taps would number more than
    :data:`FINEST_CELL_FRACTION` of the used points (and :data:`FINEST_CELLS`), as for a filter
    of one or two taps in a large array over a large input, the windows are the whole kernel's
    and the cells grow up to half of it."""
    lead = 3 - geom.ndim
    kernel = [1] * lead + list(geom.kernel)
    if geom.reach is None:
        return tuple((0, 1, k, k) for k in kernel)
    lattice, _, fits = _reach_grid(geom)
    if fits:
        return lattice
    return tuple((0, 1, k, min(c, k)) for k, (_, _, _, c) in zip(kernel, lattice))


def _reach_grid(geom: ConvGeometry) -> tuple:
    """``(lattice, members, fits)``: the reach per axis of the grid, the members per cell
    :func:`_members` gives it, and whether that grid is within the finest budget."""
    lattice = tuple([(0, 1, 1, 1)] * (3 - geom.ndim) + [tuple(r) for r in geom.reach])
    _, _, used, _, _ = axes3(geom)
    members = _members(used, lattice)
    fits = math.prod(-(-u // b) for u, b in zip(used, members)) <= \
        max(FINEST_CELLS, math.prod(used) * FINEST_CELL_FRACTION)
    return lattice, members, fits


@functools.lru_cache(maxsize=256)
def follows_reach(geom: ConvGeometry) -> bool:
    """Whether the guard's cells follow the filters' reach: at most half its carrying taps
    per cell on every axis.  False where it has one (``geom.reach``) but cells that fine
    would be too many for the input (a thin footprint, such as a line or the single-tap runs
    of a comb, over a large input): the cells then grow past it, or are the whole kernel's
    (:func:`lattice3`), and cannot see a faint region as narrow as the footprint
    (:doc:`numerics`)."""
    if geom.reach is None:
        return False
    lattice, members, fits = _reach_grid(geom)
    return fits and all(b <= max(1, (c + 1) // 2) for b, (_, _, _, c) in zip(members, lattice))


def _members(used, lattice) -> list:
    """``b`` per axis: ``max(1, t // 4)`` of the carrying taps ``t``, grown up to ``(t + 1) // 2``
    while the grid holds more than :data:`MAX_CELL_FRACTION` of the used points (and 256 cells),
    then up to half the lattice's taps while it holds more than :data:`FINEST_CELL_FRACTION`
    of them (and :data:`FINEST_CELLS`)."""
    members = [max(1, c // 4) for *_, c in lattice]
    cells = lambda: math.prod(-(-u // b) for u, b in zip(used, members))  # noqa: E731
    for caps, budget in (([max(1, (c + 1) // 2) for *_, c in lattice], max(256, math.prod(used) * MAX_CELL_FRACTION)),
                         ([max(1, (t + 1) // 2) for _, _, t, _ in lattice],
                          max(FINEST_CELLS, math.prod(used) * FINEST_CELL_FRACTION))):
        while cells() > budget:
            growable = [a for a in range(3) if members[a] < caps[a]]
            if not growable:
                break
            a = max(growable, key=lambda a: used[a] / members[a])
            members[a] = min(caps[a], 2 * members[a])
    return members


def support(filters: np.ndarray, ndim: int) -> list:
    """Per spatial axis, ``(lo, hi)``: the range of taps where some channel of ``filters``
    ``(*kernel, C_in / G, C_out)`` is not zero (``(0, 0)`` for filters of zeros).

    Examples
    --------
    >>> w = np.zeros((5, 3, 1, 1)); w[1, 2] = w[3, 2] = 1
    >>> support(w, 2)
    [(1, 4), (2, 3)]
    """
    nonzero = filters.reshape(*filters.shape[:ndim], -1) != 0
    out = []
    for axis in range(ndim):
        hit = np.flatnonzero(nonzero.any(axis=tuple(a for a in range(ndim + 1) if a != axis)))
        out.append((int(hit[0]), int(hit[-1]) + 1) if hit.size else (0, 0))
    return out


# -- a few outputs summed from their windows ------------------------------------------------------

def compiled() -> bool:
    """Whether the compiled loops run (numba present and not switched off)."""
    return _compiled.HAVE_NUMBA


def nonzero_box(stats, geom: ConvGeometry):
    """``(3, 2)`` int64: per axis (three), the padded positions ``[lo, hi)`` that hold every
    non-zero sample, from the cells with ``M > 0`` (a box around them, at the cells' grain,
    within the input: for ``padding_mode="constant"``, every position of the box holds an
    input sample)."""
    grid = cell_grid(geom)
    M = stats[0]
    box = np.zeros((3, 2), np.int64)
    for axis in range(3):
        alive = (M > 0).any(axis=tuple(a for a in range(M.ndim) if a != axis + 1))
        pos = grid.positions[axis][alive]
        pos = pos[pos >= 0]
        inside = np.flatnonzero(grid.sources[axis] >= 0)  # zero pads hold no sample
        lo = max(int(pos.min()), int(inside[0])) if pos.size and inside.size else 0
        hi = min(int(pos.max()) + 1, int(inside[-1]) + 1) if pos.size and inside.size else 0
        box[axis] = (lo, max(lo, hi))
    return box


def _selected(found, geom: ConvGeometry, stats):
    """The outputs ``found`` (indices into ``(N, *out, G)`` as :func:`numpy.nonzero` gives them),
    for the compiled loops: ``(outs, box)``, ``outs`` ``(F, 5)`` their ``(n, o0, o1, o2, g)`` on
    three axes, and ``box`` the padded positions worth reading per axis (the box of the
    non-zero samples under zero pads, :func:`nonzero_box`; every one otherwise)."""
    lead = 3 - geom.ndim
    outs = np.zeros((len(found[0]), 5), np.int64)
    outs[:, 0] = found[0]
    for axis in range(geom.ndim):
        outs[:, 1 + lead + axis] = found[1 + axis]
    outs[:, 4] = found[-1]
    box = nonzero_box(stats, geom) if geom.padding_mode == "constant" else \
        np.array([[0, len(s)] for s in cell_grid(geom).sources], np.int64)
    return outs, box


def window_sums(x: np.ndarray, filters: np.ndarray, geom: ConvGeometry, found, stats,
                workers: int = 1) -> np.ndarray:
    """``(F, C_out / G)`` float64: for each of the outputs ``found`` (``F`` indices into ``(N,
    *out, G)``, as :func:`numpy.nonzero` gives them), its sum over its window of ``x * w`` (the
    direct method's sums, in float64).

    Compiled: taps are clipped to the box of the non-zero samples (:func:`nonzero_box`), so
    an output whose window barely reaches the data costs what it reads.  Without numba,
    :func:`fftconv._engine.guards.direct_outputs`' gather does the same in numpy.
    """
    outs, box = _selected(found, geom, stats)
    lead, count = 3 - geom.ndim, len(outs)
    kernel, dil, _, _, _ = axes3(geom)
    strides = [1] * lead + list(geom.strides)
    grid = cell_grid(geom)
    w = np.ascontiguousarray(filters, np.float64).reshape(*kernel, geom.group_in, -1)
    sums = np.zeros((count, geom.group_out))
    args = (_x5(_compiled_dtype(x)), w, grid.sources[0], grid.sources[1], grid.sources[2], box,
            np.array(kernel, np.int64), np.array(dil, np.int64), np.array(strides, np.int64), outs,
            geom.group_in, geom.group_out, sums)
    pieces = max(1, min(workers, count // 64))
    bounds = [count * i // pieces for i in range(pieces + 1)]
    run_pieces(lambda i: _sums_loop(*args, bounds[i], bounds[i + 1]), pieces)
    return sums


def tap_lists(filters: np.ndarray, geom: ConvGeometry):
    """``(offsets, taps)``: per output channel ``j``, the non-zero weights of its filter are rows
    ``offsets[j]:offsets[j + 1]`` of ``taps`` ``(T, 4)``: the tap's index on three axes, then
    the input channel within the group."""
    lead = 3 - geom.ndim
    nonzero = filters != 0  # (*kernel, C_in / G, C_out)
    offsets, rows = [0], []
    for j in range(nonzero.shape[-1]):
        hit = np.argwhere(nonzero[..., j])
        rows.append(np.concatenate([np.zeros((len(hit), lead), np.int64), hit], axis=1))
        offsets.append(offsets[-1] + len(hit))
    taps = np.concatenate(rows).astype(np.int64) if rows else np.zeros((0, 4), np.int64)
    return np.array(offsets, np.int64), taps


def support_zeros(x: np.ndarray, geom: ConvGeometry, tap_list, mask: np.ndarray, stats) -> np.ndarray:
    """Of the outputs ``mask`` ``(N, *out, C_out)`` selects, those (same shape) whose filter
    meets no non-zero sample: every non-zero sample of the window lies under a zero weight of
    its input channel (an exact 0 by the definition).  Compiled (taps outside the box of non-zero samples are not
    looked at, and a window stops at its first non-zero sample); without numba, none."""
    out = np.zeros(mask.shape, bool)
    if not mask.any():
        return out
    if not _compiled.HAVE_NUMBA:
        return _support_zeros_numpy(x, geom, tap_list, mask)
    found = np.nonzero(mask)
    outs, box = _selected(found, geom, stats)
    lead = 3 - geom.ndim
    _, dil, _, _, _ = axes3(geom)
    strides = [1] * lead + list(geom.strides)
    grid = cell_grid(geom)
    zero = np.zeros(len(outs), np.uint8)
    _support_loop(_x5(_compiled_dtype(x)), grid.sources[0], grid.sources[1], grid.sources[2], box,
                  np.array(dil, np.int64), np.array(strides, np.int64), tap_list[0], tap_list[1], outs,
                  geom.group_in, geom.group_out, zero)
    out[found] = zero.view(bool)
    return out


def _support_zeros_numpy(x, geom, tap_list, mask):
    """:func:`support_zeros` with numpy: each selected output's taps gathered, per output channel."""
    offsets, taps = tap_list
    lead = 3 - geom.ndim
    sources = [source_index(n, lo, hi, geom.padding_mode) for n, (lo, hi) in zip(geom.spatial, geom.pads)]
    out = np.zeros(mask.shape, bool)
    for j in range(mask.shape[-1]):
        found = np.nonzero(mask[..., j])
        if not len(found[0]):
            continue
        g = j // geom.group_out
        rows = taps[offsets[j]:offsets[j + 1], lead:]  # (T, nd + 1): the tap per axis, the input channel
        hit = np.zeros(len(found[0]), bool)
        step = max(1, NUMPY_SLAB_SAMPLES * 64 // max(1, len(rows)))  # gathered values at once
        for start in range(0, len(found[0]), step):
            part = [f[start:start + step] for f in found]
            inside, index = np.ones((len(part[0]), len(rows)), bool), [part[0][:, None]]
            for axis, (s, d) in enumerate(zip(geom.strides, geom.dilations)):
                src = sources[axis][part[1 + axis][:, None] * s + rows[None, :, axis] * d]
                inside &= src >= 0
                index.append(np.maximum(src, 0))
            values = x[(*index, g * geom.group_in + rows[None, :, -1])]  # (F, T): each weight's own channel
            hit[start:start + step] = ((values != 0) & inside).any(axis=-1)
        out[(*found, np.full(len(found[0]), j))] = ~hit
    return out


def nonzero_table(x: np.ndarray, geom: ConvGeometry) -> np.ndarray:
    """``(N, S0 + 1, S1 + 1, S2 + 1, G)`` int: the summed-area table of the input's non-zero
    values per channel group (three spatial axes, leading ones of length one added): entry
    ``[n, i, j, k, g]`` counts the non-zero values of group ``g`` at input positions below
    ``(i, j, k)``.  One compiled pass; without numba, numpy's cumulative sums.

    Examples
    --------
    >>> from fftconv._checks import check_geometry
    >>> g = check_geometry((1, 5, 1), (3, 1, 1), 1, 1, "SAME", "NWC", 1, None, False)
    >>> nonzero_table(np.array([0, 2.0, 0, 0, -1]).reshape(1, 5, 1), g)[0, 1, 1, :, 0].tolist()
    [0, 0, 1, 1, 1, 2]
    """
    x5 = _x5(x)
    groups = geom.groups
    kind = np.int32 if x.size < 2**31 else np.int64
    table = np.zeros((x5.shape[0], *(n + 1 for n in x5.shape[1:4]), groups), kind)
    if _compiled.HAVE_NUMBA and x.size:
        _table_loop(_x5(_compiled_dtype(x)), groups, table)
        return table
    counts = np.count_nonzero(x5.reshape(*x5.shape[:4], groups, -1), axis=-1).astype(kind)
    table[:, 1:, 1:, 1:] = counts.cumsum(axis=1, dtype=kind).cumsum(axis=2, dtype=kind).cumsum(axis=3, dtype=kind)
    return table


def nonzero_floor(x: np.ndarray, geom: ConvGeometry, workers: int = 1):
    """``(N, *grid.shape, G)`` float64: per cell of :func:`cell_grid` and channel group, the
    smallest magnitude among its non-zero samples (infinite for a cell of zeros), for zero
    pads (``padding_mode="constant"``) and with numba; None otherwise.  One compiled pass
    over the input, its rows cut into up to ``workers`` pieces, each with a floor of its own
    (a cell's samples may lie in two pieces), the least of them taken.

    Examples
    --------
    >>> from fftconv._checks import check_geometry
    >>> g = check_geometry((1, 8, 1), (4, 1, 1), 1, 1, "VALID", "NWC", 1, None, False)
    >>> floor = nonzero_floor(np.array([0, 0, 3, -4, 0, 0, 0, 0.5]).reshape(1, 8, 1), g)
    >>> floor is None or floor.ravel().tolist() == [np.inf, np.inf, 3.0, 4.0, np.inf, np.inf, np.inf, 0.5]
    True
    """
    if not (_compiled.HAVE_NUMBA and geom.padding_mode == "constant"):
        return None
    grid = cell_grid(geom)
    _, _, used, _, pads = axes3(geom)
    x5 = _x5(_compiled_dtype(x))
    shape = (x.shape[0], *grid.shape, geom.groups)
    args = (x5, np.array([p[0] for p in pads], np.int64), np.array(used, np.int64), *grid.cell_of, geom.group_in)
    floors = []

    def piece(first, last):
        floor = np.full(shape, np.inf)
        _floor_loop(*args, floor, first, last)
        floors.append(floor)

    in_pieces(piece, math.prod(x5.shape[:3]), x.size, workers, SLOW_PIECE_SAMPLES)
    return floors[0] if len(floors) == 1 else np.minimum.reduce(floors)


# -- compiled loops ---------------------------------------------------------------------------------

if _compiled.HAVE_NUMBA:
    import numba

    _FAST = {"reassoc", "contract", "nsz", "arcp"}  # no "nnan": a NaN or an infinity must reach A

    @numba.njit(nogil=True, cache=True)
    def _stats_loop(x, chans, pos0, pos1, src0, src1, src2, cell2, runs2, lo2, hi2, s2, extra2, count, M, A, Z,
                    first, last):  # pragma: no cover - compiled
        """Cell statistics of the tasks ``first <= (n * cells0 + k0) * cells1 + k1 < last``.

        ``x`` is ``(N, S0, S1, S2 * C)``: each row (last spatial axis and channels) is
        contiguous.  The rows of one pair of cells along the first two axes are accumulated
        per position of the last axis (one vectorised pass per row, in the input's
        precision), then folded into that axis' cells and the channel groups in float64.
        Non-zero samples are counted (``Z``) only with ``count``.
        """
        cells0, cells1 = pos0.shape[0], pos1.shape[0]
        used2 = src2.shape[0]
        per = chans // M.shape[4]
        cm = np.zeros(used2 * chans, x.dtype)
        ca = np.zeros(used2 * chans, x.dtype)
        cz = np.zeros(used2 * chans, np.int32)
        width = (hi2 - lo2) * chans
        base, off = s2 * chans, lo2 * chans
        pending = np.empty((4, 2), np.int64)  # rows waiting to be accumulated four at a time
        quads = not count and extra2.shape[0] == 0
        for task in range(first, last):
            n = task // (cells0 * cells1)
            k0 = (task // cells1) % cells0
            k1 = task % cells1
            seen = False
            waiting = 0
            for i0 in range(pos0.shape[1]):
                p0 = pos0[k0, i0]
                if p0 < 0 or src0[p0] < 0:
                    continue
                for i1 in range(pos1.shape[1]):
                    p1 = pos1[k1, i1]
                    if p1 < 0 or src1[p1] < 0:
                        continue
                    if not seen:
                        cm[:] = 0
                        ca[:] = 0
                        cz[:] = 0
                        seen = True
                    if quads:
                        pending[waiting, 0], pending[waiting, 1] = src0[p0], src1[p1]
                        waiting += 1
                        if waiting == 4:
                            _accumulate4(x[n, pending[0, 0], pending[0, 1]][base:base + width],
                                         x[n, pending[1, 0], pending[1, 1]][base:base + width],
                                         x[n, pending[2, 0], pending[2, 1]][base:base + width],
                                         x[n, pending[3, 0], pending[3, 1]][base:base + width],
                                         cm[off:off + width], ca[off:off + width])
                            waiting = 0
                        continue
                    row = x[n, src0[p0], src1[p1]]
                    if count:
                        _accumulate(row[base:base + width], cm[off:off + width], ca[off:off + width],
                                    cz[off:off + width])
                    else:
                        _accumulate2(row[base:base + width], cm[off:off + width], ca[off:off + width])
                    for e in range(extra2.shape[0]):
                        q = extra2[e] * chans
                        s = src2[extra2[e]] * chans
                        _accumulate(row[s:s + chans], cm[q:q + chans], ca[q:q + chans], cz[q:q + chans])
            for r in range(waiting):
                _accumulate2(x[n, pending[r, 0], pending[r, 1]][base:base + width], cm[off:off + width],
                             ca[off:off + width])
            if seen:
                _fold(cm, ca, cz, chans, per, cell2, runs2, M[n, k0, k1], A[n, k0, k1], Z[n, k0, k1])

    @numba.njit(nogil=True, cache=True, fastmath=_FAST)
    def _accumulate4(r0, r1, r2, r3, cm, ca):  # pragma: no cover - compiled
        """:func:`_accumulate2` of four rows at once (one load and store of the accumulators)."""
        for j in range(r0.shape[0]):
            a0, a1, a2, a3 = abs(r0[j]), abs(r1[j]), abs(r2[j]), abs(r3[j])
            m = max(max(a0, a1), max(a2, a3))
            c = cm[j]
            cm[j] = m if m > c else c
            ca[j] += (a0 + a1) + (a2 + a3)

    @numba.njit(nogil=True, cache=True, fastmath=_FAST)
    def _accumulate(row, cm, ca, cz):  # pragma: no cover - compiled
        """Elementwise: the largest magnitude, the sum of magnitudes, the count of non-zeros
        (views without offsets: with offsets in the loop, LLVM does not vectorise it)."""
        for j in range(row.shape[0]):
            v = abs(row[j])
            c = cm[j]
            cm[j] = v if v > c else c
            ca[j] += v
            cz[j] += np.int32(v != 0)

    @numba.njit(nogil=True, cache=True, fastmath=_FAST)
    def _accumulate2(row, cm, ca):  # pragma: no cover - compiled
        """:func:`_accumulate` without the count."""
        for j in range(row.shape[0]):
            v = abs(row[j])
            c = cm[j]
            cm[j] = v if v > c else c
            ca[j] += v

    @numba.njit(nogil=True, cache=True, fastmath=_FAST)
    def _fold(cm, ca, cz, chans, per, cell2, runs, M, A, Z):  # pragma: no cover - compiled
        """Positions and channels into the cells of the last axis and the groups, ``(cells2, G)``;
        with ``runs`` (no dilation), cell ``k`` is positions ``[k * runs, (k + 1) * runs)``."""
        used = cm.shape[0] // chans
        if runs > 0 and per == chans:  # one group: each cell is one contiguous run
            for k in range(M.shape[0]):
                i0, i1 = k * runs * chans, min((k + 1) * runs, used) * chans
                sm, sa, sz = cm[i0:i1], ca[i0:i1], cz[i0:i1]  # views: the loop vectorises
                m, a, z = M[k, 0], 0.0, 0
                for i in range(sm.shape[0]):
                    v = np.float64(sm[i])
                    m = v if v > m else m
                    a += np.float64(sa[i])
                    z += sz[i]
                M[k, 0] = m
                A[k, 0] += a
                Z[k, 0] += z
            return
        for q in range(used):
            k = cell2[q]
            for c in range(chans):
                g = c // per
                i = q * chans + c
                v = np.float64(cm[i])
                if v > M[k, g]:
                    M[k, g] = v
                A[k, g] += np.float64(ca[i])
                Z[k, g] += cz[i]

    @numba.njit(nogil=True, cache=True)
    def _region_loop(M, A, Z, lo0, hi0, lo1, hi1, lo2, hi2, residues, counts, inv, peak, energy,
                     faint):  # pragma: no cover - compiled
        """:func:`region_stats` as loops over each box's cells."""
        groups = M.shape[4]
        floor = 2.0 ** -1000
        for n in range(M.shape[0]):
            for t0 in range(lo0.shape[0]):
                for t1 in range(lo1.shape[0]):
                    for t2 in range(lo2.shape[0]):
                        for r0 in range(residues[0]):
                            for c0 in range(lo0[t0], min(hi0[t0], counts[0])):
                                k0 = r0 * counts[0] + c0
                                for r1 in range(residues[1]):
                                    for c1 in range(lo1[t1], min(hi1[t1], counts[1])):
                                        k1 = r1 * counts[1] + c1
                                        for r2 in range(residues[2]):
                                            for c2 in range(lo2[t2], min(hi2[t2], counts[2])):
                                                k2 = r2 * counts[2] + c2
                                                for g in range(groups):
                                                    m = M[n, k0, k1, k2, g]
                                                    if m > 0:
                                                        if m > peak[n, t0, t1, t2, g]:
                                                            peak[n, t0, t1, t2, g] = m
                                                        a = A[n, k0, k1, k2, g]
                                                        energy[n, t0, t1, t2, g] += max((m * inv) * (a * inv), floor)
                                                        mean = a / Z[n, k0, k1, k2, g]
                                                        if mean < faint[n, t0, t1, t2, g]:
                                                            faint[n, t0, t1, t2, g] = mean

    @numba.njit(nogil=True, cache=True)
    def _zero_loop(x, src0, src1, src2, groups, kernel, dil, strides, zero, first, last):  # pragma: no cover
        """``zero[n, o0, o1, o2, g] = 1`` where the window holds only zeros, else 0, for the
        outputs ``first <= o1 < last`` along the middle axis (a piece of the work: pieces
        share nothing but ``zero``, whose parts they write apart).

        Separable running counts of non-zero samples: along the last axis per row, then
        along the middle axis and the first one as the rows stream by, each with a ring of
        running sums per residue class (``k * d + 1`` rows), so that nothing of the size of
        the input or the output is allocated but ``zero`` itself.
        """
        chans = x.shape[4]
        per = chans // groups
        u0, u1, u2 = src0.shape[0], src1.shape[0], src2.shape[0]
        o0n, o1n, o2n = zero.shape[1], zero.shape[2], zero.shape[3]
        k0, k1, k2 = kernel[0], kernel[1], kernel[2]
        d0, d1, d2 = dil[0], dil[1], dil[2]
        s0, s1, s2 = strides[0], strides[1], strides[2]
        inner = o2n * groups
        width = o1n * inner
        pref2 = np.zeros((u2 + d2, groups), np.int32)
        row = np.zeros(inner, np.int32)  # one input row's counts per output position along the last axis
        ring1 = np.zeros((k1 * d1 + 1, inner), np.int32)
        cols = np.zeros(width, np.uint8)  # one position along the first axis: any non-zero per (o1, o2, g)
        direct0 = k0 == 1 and d0 == 1 and s0 == 1
        ring0 = np.zeros((1, 1) if direct0 else (k0 * d0 + 1, width), np.int32)
        r1, r0 = ring1.shape[0], ring0.shape[0]
        begin = first * s1  # the piece's windows read rows [begin, end) of the middle axis
        end = min(u1, (last - 1) * s1 + (k1 - 1) * d1 + 1)
        lo, hi = first * inner, last * inner  # the piece's part of a plane of outputs
        for n in range(x.shape[0]):
            for p0 in range(u0):
                cols[:] = 0
                if src0[p0] >= 0:
                    for p1 in range(begin, end):
                        row[:] = 0
                        if src1[p1] >= 0:
                            hits = 0
                            for q in range(u2):
                                s = src2[q]
                                for g in range(groups):
                                    hit = 0
                                    if s >= 0:
                                        for c in range(g * per, (g + 1) * per):
                                            if x[n, src0[p0], src1[p1], s, c] != 0:
                                                hit = 1
                                                break
                                    pref2[q + d2, g] = pref2[q, g] + hit
                                    hits += hit
                            if hits:
                                for o in range(o2n):
                                    a, e = o * s2, o * s2 + k2 * d2
                                    for g in range(groups):
                                        row[o * groups + g] = pref2[e, g] - pref2[a, g]
                        # running sums along the middle axis, per residue class
                        slot, prev = p1 % r1, (p1 - d1) % r1
                        for i in range(inner):
                            ring1[slot, i] = row[i] + (ring1[prev, i] if p1 - begin >= d1 else 0)
                        e1 = p1 - (k1 - 1) * d1
                        if e1 >= begin and e1 % s1 == 0 and e1 // s1 < last:
                            o1 = e1 // s1
                            before = e1 - d1
                            for i in range(inner):
                                cols[o1 * inner + i] = ring1[slot, i] - (ring1[before % r1, i] if before >= begin else 0) > 0
                if direct0:
                    if p0 < o0n:  # (a support narrower than the kernel leaves positions past the last output)
                        flat = zero[n, p0].reshape(-1)
                        for i in range(lo, hi):
                            flat[i] = cols[i] == 0
                    continue
                slot, prev = p0 % r0, (p0 - d0) % r0
                for i in range(lo, hi):
                    ring0[slot, i] = cols[i] + (ring0[prev, i] if p0 >= d0 else 0)
                e0 = p0 - (k0 - 1) * d0
                if e0 >= 0 and e0 % s0 == 0 and e0 // s0 < o0n:
                    o0 = e0 // s0
                    before = e0 - d0
                    flat = zero[n, o0].reshape(-1)
                    for i in range(lo, hi):
                        flat[i] = ring0[slot, i] - (ring0[before % r0, i] if before >= 0 else 0) == 0

    @numba.njit(nogil=True, cache=True, fastmath=_FAST)
    def _sums_loop(x, w, src0, src1, src2, box, kernel, dil, strides, outs, gin, gout, sums, first,
                   last):  # pragma: no cover - compiled
        """``sums[f] = sum over the window of outs[f] (n, o0, o1, o2, g) of x * w``, in float64,
        over the taps whose padded position lies in ``box`` (per axis ``[lo, hi)``, every
        position in it holding an input sample: ``src >= 0``)."""
        ranges = np.empty((3, 2), np.int64)
        for f in range(first, last):
            n, g = outs[f, 0], outs[f, 4]
            for a in range(3):
                base = outs[f, 1 + a] * strides[a]
                ranges[a, 0] = max(0, -((base - box[a, 0]) // dil[a]))  # first tap at or after box[a, 0]
                ranges[a, 1] = min(kernel[a], -((base - box[a, 1]) // dil[a]))  # ... at or after box[a, 1]
            b2 = outs[f, 3] * strides[2]
            t2a, t2b = ranges[2, 0], ranges[2, 1]
            if t2b <= t2a:
                continue
            first2 = src2[b2 + t2a * dil[2]]
            # a run of input samples d apart (no reflected pad inside): read without the index map
            affine = src2[b2 + (t2b - 1) * dil[2]] - first2 == (t2b - 1 - t2a) * dil[2]
            for t0 in range(ranges[0, 0], ranges[0, 1]):
                i0 = src0[outs[f, 1] * strides[0] + t0 * dil[0]]
                for t1 in range(ranges[1, 0], ranges[1, 1]):
                    i1 = src1[outs[f, 2] * strides[1] + t1 * dil[1]]
                    row = x[n, i0, i1]
                    for c in range(gin):
                        for j in range(gout):
                            acc = 0.0
                            if affine:
                                for t2 in range(t2a, t2b):
                                    acc += np.float64(row[first2 + (t2 - t2a) * dil[2], g * gin + c]) * \
                                        w[t0, t1, t2, c, g * gout + j]
                            else:
                                for t2 in range(t2a, t2b):
                                    acc += np.float64(row[src2[b2 + t2 * dil[2]], g * gin + c]) * \
                                        w[t0, t1, t2, c, g * gout + j]
                            sums[f, j] += acc

    @numba.njit(nogil=True, cache=True, fastmath=_FAST)
    def _signal_loop(rows, chans, runs, lo, hi, start, count, M, A, Z, first, last):  # pragma: no cover
        """Cells ``[first, last)`` of each row: cell ``k`` is padded positions ``[k runs,
        (k + 1) runs)``, of which ``[lo, hi)`` hold input samples ``start + p - lo``."""
        for n in range(rows.shape[0]):
            row = rows[n]
            for k in range(first, last):
                p0, p1 = max(k * runs, lo), min((k + 1) * runs, hi)
                if p1 <= p0:
                    continue
                j0, j1 = (p0 - lo + start) * chans, (p1 - lo + start) * chans
                if count:
                    z = 0
                    for j in range(j0, j1):
                        z += row[j] != 0
                    Z[n, k] = z
                m = abs(row[j0])
                a = m
                for j in range(j0 + 1, j1):
                    v = abs(row[j])
                    m = max(m, v)
                    a += v
                M[n, k] = m
                A[n, k] = a


    @numba.njit(nogil=True, cache=True)
    def _support_loop(x, src0, src1, src2, box, dil, strides, offsets, taps, outs, gin, gout,
                      zero):  # pragma: no cover - compiled
        """``zero[f] = 1`` where no tap of output channel ``outs[f, 4]`` (rows of ``taps``) meets a
        non-zero sample of its group in the window of ``outs[f]``."""
        for f in range(outs.shape[0]):
            j = outs[f, 4]
            g = j // gout
            hit = False
            for r in range(offsets[j], offsets[j + 1]):
                p0 = outs[f, 1] * strides[0] + taps[r, 0] * dil[0]
                p1 = outs[f, 2] * strides[1] + taps[r, 1] * dil[1]
                p2 = outs[f, 3] * strides[2] + taps[r, 2] * dil[2]
                if p0 < box[0, 0] or p0 >= box[0, 1] or p1 < box[1, 0] or p1 >= box[1, 1] or \
                        p2 < box[2, 0] or p2 >= box[2, 1]:
                    continue
                i0, i1, i2 = src0[p0], src1[p1], src2[p2]
                if i0 < 0 or i1 < 0 or i2 < 0:
                    continue
                if x[outs[f, 0], i0, i1, i2, g * gin + taps[r, 3]] != 0:
                    hit = True
                    break
            zero[f] = 0 if hit else 1

    @numba.njit(nogil=True, cache=True)
    def _table_loop(x, groups, table):  # pragma: no cover - compiled
        """:func:`nonzero_table`: each row's running count plus the table's rows above it."""
        per = x.shape[4] // groups
        for n in range(x.shape[0]):
            for i in range(x.shape[1]):
                for j in range(x.shape[2]):
                    for g in range(groups):
                        run = 0
                        for k in range(x.shape[3]):
                            for c in range(g * per, (g + 1) * per):
                                if x[n, i, j, k, c] != 0:
                                    run += 1
                            table[n, i + 1, j + 1, k + 1, g] = run + table[n, i, j + 1, k + 1, g] + \
                                table[n, i + 1, j, k + 1, g] - table[n, i, j, k + 1, g]

    @numba.njit(nogil=True, cache=True)
    def _floor_loop(x, lo, used, cell0, cell1, cell2, per, floor, first, last):  # pragma: no cover - compiled
        """:func:`nonzero_floor` over the rows ``first <= (n * S0 + i0) * S1 + i1 < last`` of ``x``:
        input sample ``i`` lies at padded position ``i + lo``.  Along a row, the least non-zero
        magnitude of each run of samples in one cell is kept in a register and written once."""
        s0, s1 = x.shape[1], x.shape[2]
        width = min(x.shape[3], used[2] - lo[2])
        for task in range(first, last):
            n = task // (s0 * s1)
            i0 = task // s1 - n * s0
            i1 = task - (n * s0 + i0) * s1
            if i0 + lo[0] >= used[0] or i1 + lo[1] >= used[1]:
                continue
            k0, k1 = cell0[i0 + lo[0]], cell1[i1 + lo[1]]
            for g in range(floor.shape[4]):
                run, least = -1, np.inf
                for i2 in range(width):
                    k2 = cell2[i2 + lo[2]]
                    if k2 != run:
                        if run >= 0 and least < floor[n, k0, k1, run, g]:
                            floor[n, k0, k1, run, g] = least
                        run, least = k2, np.inf
                    for c in range(g * per, (g + 1) * per):
                        v = abs(np.float64(x[n, i0, i1, i2, c]))
                        if v != 0 and v < least:
                            least = v
                if run >= 0 and least < floor[n, k0, k1, run, g]:
                    floor[n, k0, k1, run, g] = least
