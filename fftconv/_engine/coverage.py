"""What each output's window covers, at the grain of the cells: the outputs that the cell
statistics cannot vouch for by themselves.

The dynamic-range guard judges a window by the cells under it
(:mod:`fftconv._engine.cells`): the faintest of them stands for the window's own
samples.  That holds where the window holds some cell whole and its filter weighs
those samples.  Three kinds of window escape it, and their outputs are checked one by
one (:class:`fftconv._engine.plan.BoundPlan`):

* windows beside pads wider than a cell, which hold no cell's input samples whole
  (:func:`partial_windows`: a band along the rims);
* windows that meet non-zero cells but hold none of them whole, beside cells of
  zeros inside the input: a mask, a zero frame (:func:`thin_windows`);
* windows whose filter puts a small share of its weight on input samples, the rest
  on zero pads: a disc's corner beside explicit pads (:func:`tap_fractions`).

The last two group outputs into *classes* per axis (outputs whose windows meet the
same cells, or the same taps, along that axis), so that the work is on the classes'
product, far smaller than the output; :func:`class_points` lists the outputs of the
classes that need a look.
"""

from __future__ import annotations

import functools
import itertools

import numpy as np

from fftconv._engine.cells import axes3, box_reduce, cell_grid, lattice3, nonzero_table, sizes
from fftconv._shapes.geometry import ConvGeometry

__all__ = ["partial_windows", "window_reads", "window_classes", "thin_windows", "tap_fractions",
           "class_points", "nonzero_counts", "thin_floor"]


def _out_axes(geom: ConvGeometry):
    """``(strides, outputs)`` per axis of the grid (three: leading axes of length one)."""
    lead = 3 - geom.ndim
    return [1] * lead + list(geom.strides), [1] * lead + list(geom.out_spatial)


def _weighted_windows(geom: ConvGeometry):
    """Per axis of the grid (three), ``(start, taps)``: the padded position of each output's
    first weighted sample, ``(out,)``, and how many samples of its residue class (modulo the
    grid's residues) the window reads from there: the lattice of the filters' non-zero taps
    where the geometry knows it (:func:`fftconv._engine.cells.lattice3`), else the kernel."""
    strides, outs = _out_axes(geom)
    _, dil, _, _, _ = axes3(geom)
    return [(np.arange(o) * s + first * d, taps)
            for o, s, d, (first, _, taps, _) in zip(outs, strides, dil, lattice3(geom))]


@functools.lru_cache(maxsize=64)
def partial_windows(geom: ConvGeometry) -> tuple:
    """Per axis of the grid (three), ``(out,)`` bool: True where an output's window holds,
    along that axis, not every input sample of any one cell: where it holds only part of
    each cell it meets (a window that reaches the input by a few samples, beside wide pads).

    The guard judges a window by the faintest cell under it.  A window that holds all the
    input samples of some cell is judged by samples of its own; one that holds none whole
    may be far fainter than every cell it shares with its neighbours, so these outputs (a
    band along the rims, where pads are wider than a cell) are checked one by one.

    Examples
    --------
    >>> from fftconv._checks import check_geometry
    >>> g = check_geometry((1, 20, 1), (11, 1, 1), 1, 1, [(10, 10)], "NWC", 1, None, False)
    >>> cell_grid(g).members[-1], partial_windows(g)[-1].nonzero()[0].tolist()  # of 30 outputs
    (2, [0, 29])
    >>> g = check_geometry((1, 20, 1), (11, 1, 1), 1, 1, "SAME", "NWC", 1, None, False)
    >>> partial_windows(g)[-1].any()
    np.False_
    """
    grid = cell_grid(geom)
    _, outs = _out_axes(geom)
    found = []
    for axis, (start, k) in enumerate(_weighted_windows(geom)):
        d, b, count = grid.residues[axis], grid.members[axis], grid.counts[axis]
        holds = np.concatenate([grid.sources[axis] >= 0, [False]])
        pos = grid.positions[axis].reshape(d, count, b)  # -1 past the used extent
        inside = holds[pos]  # [r, c, i]: member i of cell (r, c) holds an input sample
        member = np.arange(count)[:, None] * b + np.arange(b)[None, :]  # member index within the residue
        first = np.where(inside, member, np.iinfo(np.int64).max).min(axis=-1)  # (d, count)
        last = np.where(inside, member, -1).max(axis=-1)
        r, m0 = start % d, start // d  # the window's residue, and its members [m0, m0 + k) there
        part = np.ones(outs[axis], bool)
        for residue in range(d):
            mine = r == residue
            cells = first[residue] < np.iinfo(np.int64).max  # cells holding input samples
            lo, hi = first[residue][cells], last[residue][cells]
            c = np.searchsorted(lo, m0[mine])  # the first such cell starting in the window
            ok = c < len(lo)
            ok[ok] = hi[c[ok]] < m0[mine][ok] + k
            part[mine] = ~ok
        part.flags.writeable = False
        found.append(part)
    return tuple(found)


@functools.lru_cache(maxsize=64)
def has_partial_windows(geom: ConvGeometry) -> bool:
    """Whether some output's window holds no whole cell along some axis (:func:`partial_windows`)."""
    return any(p.any() for p in partial_windows(geom))


@functools.lru_cache(maxsize=64)
def window_reads(geom: ConvGeometry) -> tuple:
    """Per axis of the grid (three), ``(out,)`` int64: the taps of each output's window that
    fall on input samples (not on zero pads); their product over the axes is what the
    direct sums of :func:`window_sums` read for that output (per channel pair)."""
    kernel, dil, _, _, _ = axes3(geom)
    strides, outs = _out_axes(geom)
    grid = cell_grid(geom)
    found = []
    for axis in range(3):
        holds = np.concatenate([(grid.sources[axis] >= 0).astype(np.int64), np.zeros(1, np.int64)])
        taps = np.arange(outs[axis])[:, None] * strides[axis] + np.arange(kernel[axis])[None, :] * dil[axis]
        reads = holds[np.minimum(taps, len(holds) - 1)].sum(axis=1)
        reads.flags.writeable = False
        found.append(reads)
    return tuple(found)


@functools.lru_cache(maxsize=64)
def window_classes(geom: ConvGeometry) -> tuple:
    """Per axis of the grid (three), ``(classes, cells)``: ``classes`` ``(out,)`` int64, the class
    of each output, and ``cells`` ``(n, 4)`` int64, per class, the cells ``[lo, hi)`` along
    the axis (indices of the grid: the window's residue class) whose members the windows
    hold whole, then the cells ``[lo, hi)`` they meet at all.

    Examples
    --------
    >>> from fftconv._checks import check_geometry
    >>> g = check_geometry((1, 14, 1), (9, 1, 1), 1, 1, "VALID", "NWC", 1, None, False)
    >>> classes, cells = window_classes(g)[-1]   # cells of 2 samples, 6 outputs
    >>> classes.tolist()
    [0, 1, 2, 3, 4, 5]
    >>> cells.tolist()   # output 1 reads samples 1-9: cells 1-4 whole, and cell 0 in part
    [[0, 4, 0, 5], [1, 5, 0, 5], [1, 5, 1, 6], [2, 6, 1, 6], [2, 6, 2, 7], [3, 7, 2, 7]]
    """
    grid = cell_grid(geom)
    found = []
    for axis, (start, k) in enumerate(_weighted_windows(geom)):
        d, b, count = grid.residues[axis], grid.members[axis], grid.counts[axis]
        held = (grid.positions[axis] >= 0).sum(axis=1).reshape(d, count)  # members of each cell
        end = np.arange(count)[None, :] * b + held  # one past each cell's last member
        r, m0 = start % d, start // d  # the window reads members [m0, m0 + k) of residue r
        hi = np.empty_like(m0)
        for residue in range(d):
            mine = r == residue
            hi[mine] = np.searchsorted(end[residue], m0[mine] + k, side="right")
        lo = -(-m0 // b)
        key = np.stack([lo, np.maximum(hi, lo), m0 // b, np.minimum((m0 + k - 1) // b + 1, count)], axis=1)
        key += (r * count)[:, None]
        cells, classes = np.unique(key, axis=0, return_inverse=True)
        classes = classes.reshape(-1).astype(np.int64)
        classes.flags.writeable = cells.flags.writeable = False
        found.append((classes, cells))
    return tuple(found)


def _box_counts(prefix: np.ndarray, ranges) -> np.ndarray:
    """Sums over boxes of the array whose inclusive prefix sums (one leading zero per axis)
    along axes 1-3 are ``prefix`` ``(N, n0 + 1, n1 + 1, n2 + 1, G)``: per product of the
    per-axis ``(lo, hi)`` ranges, ``(N, r0, r1, r2, G)``."""
    total = 0
    for corner in itertools.product((0, 1), repeat=3):
        index = np.ix_(*(ranges[a][corner[a]] for a in range(3)))
        sign = -1 if (3 - sum(corner)) % 2 else 1
        total = total + sign * prefix[:, index[0], index[1], index[2], :]
    return total


def thin_windows(stats, geom: ConvGeometry, gaps: bool = False):
    """The classes of outputs (:func:`window_classes`) whose windows meet cells holding non-zero
    samples but hold none of them whole: ``(N, n0, n1, n2, G)`` bool, or None where some cell
    of input samples holding only zeros is needed for one and there is none.

    Beside cells of zeros inside the input (a mask, a zero frame), such a window's non-zero
    samples are a few in cells it shares with brighter neighbours: the faintest cell under it
    does not stand for them.  With ``gaps`` (filters with zero taps inside their bounding box:
    a disc, a ring), so are the windows that meet a cell of zeros at all: the whole cells they
    hold may lie under zero taps while their weight meets a few faint samples beside the zeros.

    Examples
    --------
    >>> from fftconv._checks import check_geometry
    >>> from fftconv._engine.cells import cell_stats
    >>> g = check_geometry((1, 24, 1), (9, 1, 1), 1, 1, "VALID", "NWC", 1, None, False)
    >>> x = np.zeros((1, 24, 1)); x[0, 15:] = 1.0        # cells of 2 samples; ones from sample 15
    >>> classes, _ = window_classes(g)[-1]
    >>> thin = thin_windows(cell_stats(x, g), g)
    >>> np.flatnonzero(thin[0, 0, 0, classes, 0]).tolist()  # samples 6-14 meet cell 7 (14, 15) in part
    [6]
    """
    M = stats[0]
    holding = M > 0
    empty = ~holding & (sizes(geom)[None, ..., None] > 0)  # cells of input samples, all zeros
    if holding.all() or not empty.any():
        return None  # no cell of input samples holds only zeros: only the rims leave such windows
    def counts(cells, first):  # per class, the cells of ``cells`` held whole (first=0) or met (2)
        prefix = np.zeros((M.shape[0], *(n + 1 for n in M.shape[1:4]), M.shape[-1]), np.int64)
        prefix[:, 1:, 1:, 1:] = cells.cumsum(axis=1).cumsum(axis=2).cumsum(axis=3)
        return [c[:, *np.ix_(*index), :] for c, index in (_per_class(prefix, geom, f, _box_counts) for f in first)]

    held, met = counts(holding, (0, 2))
    thin = (met > 0) & (held == 0)
    if gaps:  # and (filters with gaps) the windows that meet a cell of zeros at all
        thin |= (met > 0) & (counts(empty, (2,))[0] > 0)
    return thin


@functools.lru_cache(maxsize=64)
def _class_ranges(geom: ConvGeometry, first: int):
    """Per axis, the distinct cell ranges (columns ``first``, ``first + 1`` of
    :func:`window_classes`' cells) and the index of each class's range among them."""
    keys, index = zip(*(np.unique(c[:, first:first + 2], axis=0, return_inverse=True)
                        for _, c in window_classes(geom)))
    return [(k[:, 0], k[:, 1]) for k in keys], [i.reshape(-1) for i in index]


def _per_class(values, geom: ConvGeometry, first: int, reduce):
    """``reduce(values, ranges)`` over the distinct cell ranges of :func:`_class_ranges`, and
    per axis the index of each class's range."""
    ranges, index = _class_ranges(geom, first)
    return reduce(values, ranges), index


def thin_floor(floor: np.ndarray, geom: ConvGeometry) -> np.ndarray:
    """``(N, n0, n1, n2, G)``: per product of :func:`window_classes`, the smallest non-zero
    magnitude in the cells the windows meet, from the cells' ``floor``
    (:func:`fftconv._engine.cells.nonzero_floor`): a lower bound of every non-zero sample a
    window holds, so that ``sum |w|`` times it bounds the contract's scale ``D'`` of the
    output from below (:doc:`numerics`)."""
    least, index = _per_class(floor, geom, 2, box_reduce)
    return least[:, *np.ix_(*index), :]


def tap_fractions(filters: np.ndarray, geom: ConvGeometry):
    """``(classes, share, taps)``, or None where every tap of every window lands on an input
    sample (no zero pads): per axis of the grid (three), ``(out,)`` int64, each output's class
    by the taps of its window that land on input samples; per product of classes ``(n0, n1,
    n2)``, ``share``, the least over output channels of the part of a filter's ``sum |w|``
    on those taps (1 for a filter of zeros), and ``taps``, the least over output channels of
    that weight over its largest tap there: how many taps carry it (infinite where it is 0).

    Examples
    --------
    >>> from fftconv._checks import check_geometry
    >>> g = check_geometry((1, 6, 1), (3, 1, 1), 1, 1, "SAME", "NWC", 1, None, False)
    >>> classes, share, taps = tap_fractions(np.array([1.0, 2.0, 1.0]).reshape(3, 1, 1), g)
    >>> share[0, 0, classes[-1]].tolist()   # the first and last windows miss a weight of 1 in 4
    [0.75, 1.0, 1.0, 1.0, 1.0, 0.75]
    >>> taps[0, 0, classes[-1]].tolist()
    [1.5, 2.0, 2.0, 2.0, 2.0, 1.5]
    """
    if geom.padding_mode != "constant" or not any(lo or hi for lo, hi in geom.pads):
        return None
    kernel, dil, _, sizes, pads = axes3(geom)
    strides, outs = _out_axes(geom)
    classes, ranges = [], []
    for k, d, n, (p, _), s, o in zip(kernel, dil, sizes, pads, strides, outs):
        start = np.arange(o) * s
        lo = np.clip(-((start - p) // d), 0, k)  # the first tap at or after padded position p
        hi = np.clip(-((start - p - n) // d), 0, k)
        key, index = np.unique(np.stack([lo, np.maximum(hi, lo)], axis=1), axis=0, return_inverse=True)
        classes.append(index.reshape(-1).astype(np.int64))
        ranges.append((key[:, 0], key[:, 1]))
    weight = np.abs(np.asarray(filters, np.float64)).reshape(*kernel, -1, filters.shape[-1]).sum(axis=3)
    prefix = np.zeros((1, *(k + 1 for k in kernel), weight.shape[-1]))
    prefix[0, 1:, 1:, 1:] = weight.cumsum(axis=0).cumsum(axis=1).cumsum(axis=2)
    total = prefix[0, -1, -1, -1]
    on_input = _box_counts(prefix, ranges)[0]
    largest = box_reduce(weight[None], ranges, np.maximum)[0]
    e0, e1, e2 = ((hi <= lo) for lo, hi in ranges)  # windows with no tap on input samples
    empty = e0[:, None, None] | e1[None, :, None] | e2[None, None, :]
    largest = np.where(empty[..., None], 0.0, largest)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, on_input / np.where(total > 0, total, 1.0), 1.0)
        taps = np.where(largest > 0, on_input / np.where(largest > 0, largest, 1.0), np.inf)
    return tuple(classes), np.clip(share, 0.0, 1.0).min(axis=-1), taps.min(axis=-1)


def class_points(chosen: np.ndarray, classes) -> tuple:
    """The outputs of the chosen products of classes: per axis of the grid (three), ``(P,)``
    int64 positions, ``chosen`` ``(n0, n1, n2)`` bool over products of the per-axis
    ``classes`` (each ``(out,)``, as :func:`window_classes` and :func:`tap_fractions` give)."""
    picks = np.argwhere(chosen)  # (T, 3)
    members, starts, counts = [], [], []
    for c in classes:
        order = np.argsort(c, kind="stable")
        n = np.bincount(c, minlength=chosen.shape[len(members)])
        members.append(order)
        starts.append(np.concatenate([[0], np.cumsum(n)[:-1]]))
        counts.append(n)
    sizes = np.stack([counts[a][picks[:, a]] for a in range(3)], axis=1)  # (T, 3) outputs per class
    per = sizes.prod(axis=1)
    if not per.sum():
        return tuple(np.zeros(0, np.int64) for _ in range(3))
    pick = np.repeat(np.arange(len(picks)), per)
    local = np.arange(int(per.sum())) - np.repeat(np.cumsum(per) - per, per)
    out = []
    for axis in (2, 1, 0):
        n = sizes[pick, axis]
        out.append(members[axis][starts[axis][picks[pick, axis]] + local % n])
        local = local // n
    return tuple(out[::-1])


def nonzero_counts(x: np.ndarray, geom: ConvGeometry, points):
    """``(N, P, G)`` int64: at the outputs ``points`` (per axis of the grid, three, ``(P,)``
    positions), the non-zero values (samples times channels of the group) that each window
    holds, from summed-area tables of the input; None for a dilated geometry or pads that
    are not zeros (where the windows are not boxes of input samples).

    Examples
    --------
    >>> from fftconv._checks import check_geometry
    >>> g = check_geometry((1, 8, 1), (3, 1, 1), 1, 1, "SAME", "NWC", 1, None, False)
    >>> x = np.array([0, 0, 5, 0, 7, 1, 0, 0.0]).reshape(1, 8, 1)
    >>> nonzero_counts(x, g, (np.zeros(8, int), np.zeros(8, int), np.arange(8)))[0, :, 0].tolist()
    [0, 1, 1, 2, 2, 2, 1, 0]
    """
    if geom.padding_mode != "constant" or any(d != 1 for d in geom.dilations):
        return None
    table = nonzero_table(x, geom)
    kernel, _, _, sizes, pads = axes3(geom)
    strides, _ = _out_axes(geom)
    bounds = []
    for p, k, n, (lo, _), s in zip(points, kernel, sizes, pads, strides):
        start = np.asarray(p, np.int64) * s - lo  # the window's first input index (may be a pad)
        bounds.append((np.clip(start, 0, n), np.clip(start + k, 0, n)))
    flat = table.reshape(table.shape[0], -1, table.shape[-1])  # (one gather per corner, on flat indices)
    s1, s2 = table.shape[2], table.shape[3]
    rows = [[b * s1 for b in bounds[0]], bounds[1]]
    total = np.zeros((table.shape[0], len(points[0]), table.shape[-1]), np.int64)
    for c0, c1 in itertools.product((0, 1), repeat=2):
        plane = (rows[0][c0] + rows[1][c1]) * s2
        sign = 1 if (c0 + c1) % 2 == 0 else -1  # the corner (1, 1, 1) counts +1
        total += sign * flat[:, plane + bounds[2][1], :]
        total -= sign * flat[:, plane + bounds[2][0], :]
    return total
