"""Guards that keep every method as trustworthy as the direct one on any data.

:func:`run_guarded` wraps one method's run (a callable handed in by the plan;
nothing here calls back into the public API) and applies these rules:

Non-finite inputs
    An FFT spreads one NaN or Inf over a whole tile; the direct method keeps
    it inside the outputs whose window holds it (with IEEE results, as
    TensorFlow).  Non-local methods follow the direct one: non-finite inputs
    are replaced by zeros, the method runs, and the outputs whose window
    (within its channel group) holds one are set to NaN.
Values too large for the method
    A finite value so large that the method's intermediate sums could
    overflow (:func:`overflow_limit`: ``finfo.max`` over the transform's or
    the GEMM's worst-case gain) is treated the same way, except that the
    outputs it reaches are then computed in float64 with the input scaled by
    a power of two (exact), so an output whose exact value is finite comes
    back finite and correct.
Integer inputs
    When both arrays hold integers (or bools) the exact result is an integer.
    The FFT result is rounded to it when a bound on its rounding error stays
    below a quarter (:func:`integer_fft_is_exact`); otherwise the direct
    method runs, whose float64 sums are exact below ``2**53``.
Dynamic range (``method="auto"`` running FFTs)
    The FFT's absolute error in a tile is set by the energy of the tile's
    input, the direct method's by the magnitudes under each output's window.
    :func:`dynamic_range_risk` compares the two from block sums of ``|x|`` and
    ``x**2``. Where an output's error could exceed about 100 times the
    direct method's, a float32 call runs its FFTs in float64; where even
    float64 FFTs could not keep it so (a range of about 1e9 beyond that: a
    1e20 missing-data value beside data of order 1e2), and for float64 calls,
    the direct method runs instead (see :doc:`numerics`).

Samples that no output reads never reach a transform: the used extent is
read through :mod:`fftconv._shapes.padding`, and the FFT gather zeroes the gaps a
dilation leaves between taps (:func:`fftconv.methods.fft.unread_gaps`).  The
statistics here are taken over the used extent, gaps included: a huge value
in a gap is set aside like any other and reaches no output, though under
``auto`` it may move the dynamic-range guard to float64 or to the direct
method, which changes outputs by their rounding only.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from fftconv._runtime.arrays import magnitude  # noqa: F401  (the guards' exact integer magnitudes)
from fftconv._shapes.geometry import ConvGeometry
from fftconv._shapes.padding import box_reads, read_padded, source_index

__all__ = ["run_guarded", "window_any", "overflow_limit",
           "dynamic_range_risk", "filter_spread", "is_integer"]

#: Headroom kept below ``finfo.max`` by :func:`overflow_limit`.
OVERFLOW_MARGIN = 16.0
#: :func:`dynamic_range_risk` flags a call whose predicted worst output error is
#: above this many times the direct method's.  Fitted on the 144 cases of
#: ``benchmarks/guard_calibration.py`` (2026-11-30; see :doc:`numerics`).
DYNAMIC_RANGE_LIMIT = 10.0
#: How much smaller float64 FFTs' rounding errors are than float32's: eps(float64) / eps(float32).
FLOAT64_GAIN = float(np.finfo(np.float64).eps / np.finfo(np.float32).eps)
#: The dynamic-range guard's blocks are a quarter of the kernel wide, and at least this.
MIN_BLOCK = 4
#: Tile-by-block matrices of the dynamic-range guard with more entries than this are kept sparse.
DENSE_TILE_MATRIX = 2**16


def is_integer(dtype) -> bool:
    """True for integer and bool dtypes."""
    return np.dtype(dtype).kind in "iub"


# -- which outputs a set of input samples reaches ---------------------------------------

def window_any(mask: np.ndarray, geom: ConvGeometry) -> np.ndarray:
    """Outputs ``(N, *out, C_out)`` whose window holds a True of ``mask`` ``(N, *spatial, C_in)``.

    The mask is reduced over each group's channels, read through the padding
    (so ``padding_mode`` is followed), and counted over every output's
    strided, dilated window by summed-area sums: one cumulative sum per axis.

    Examples
    --------
    >>> from fftconv._checks import check_geometry
    >>> g = check_geometry((1, 7, 1), (3, 1, 2), 1, 1, "SAME", "NWC", 1, None, False)
    >>> m = np.zeros((1, 7, 1), bool); m[0, 3] = True
    >>> window_any(m, g)[0, :, 0].astype(int).tolist()
    [0, 0, 1, 1, 1, 0, 0]
    """
    per_group = mask.reshape(*mask.shape[:-1], geom.groups, geom.group_in).any(axis=-1)
    counts = np.empty((geom.batch, *geom.used_extent, geom.groups), dtype=np.int64)
    read_padded(per_group, box_reads(geom, (0,) * geom.ndim, geom.used_extent), counts,
                geom.padding_mode)
    for axis, (k, d, s, o) in enumerate(zip(geom.kernel, geom.dilations, geom.strides,
                                            geom.out_spatial), start=1):
        counts = _window_sums(counts, axis, k, d, s, o)
    return np.repeat(counts > 0, geom.group_out, axis=-1)


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


# -- overflow ------------------------------------------------------------------------------

def overflow_limit(gain: float, dtype, w_abs_sum: float) -> float:
    """The largest input magnitude that cannot overflow a method's intermediate sums.

    ``gain`` is the method's bound of its intermediates over
    ``|x| * sum|w|`` (:meth:`fftconv.methods.base.Method.gain`): 1 for the
    direct method, whose partial sums are bounded by ``|x| * sum|w|``;
    ``P**1.5 * K`` for FFTs of ``P`` points mixing ``K`` channels (a spectrum
    reaches ``P`` times its largest input, and an unnormalised inverse adds up
    to ``sqrt(P)`` times the 2-norm of what it carries). The limit keeps
    :data:`OVERFLOW_MARGIN` of headroom below ``finfo(dtype).max``.
    """
    gain = float(w_abs_sum) * gain
    largest = float(np.finfo(dtype).max)
    return largest / (OVERFLOW_MARGIN * gain) if OVERFLOW_MARGIN * gain > 1 / largest else largest


@functools.lru_cache(maxsize=256)
def _used_index(geom: ConvGeometry) -> tuple:
    """The index of the part of an input that some output reads (whole axes for padding modes
    other than zeros, whose pads may repeat any sample)."""
    if geom.padding_mode != "constant":
        return (Ellipsis,)
    return _inside_index(geom)


def _inside_index(geom: ConvGeometry) -> tuple:
    """The index of the input samples that lie inside the used extent (the pads left out)."""
    return (slice(None), *(slice(max(0, -lo), max(0, min(n, used - lo)))
                           for n, (lo, _), used in zip(geom.spatial, geom.pads, geom.used_extent)))


def _used_input(x: np.ndarray, geom: ConvGeometry) -> np.ndarray:
    """The part of ``x`` that some output reads."""
    return x[_used_index(geom)]


def _special(x: np.ndarray, limit: float):
    """``(nonfinite mask or None, huge mask or None, largest finite magnitude)``.

    A min and a max decide the usual case (no mask at all) without a temporary.
    """
    if x.size == 0:
        return None, None, 0.0
    lo, hi = x.min(), x.max()
    if np.isfinite(lo) and np.isfinite(hi) and max(-float(lo), float(hi)) <= limit:
        return None, None, 0.0
    finite = np.isfinite(x)
    nonfinite = None if finite.all() else ~finite
    magnitude = np.abs(np.where(finite, x, 0))
    huge = magnitude > limit
    return nonfinite, (huge if huge.any() else None), float(magnitude.max())


def run_guarded(run, x: np.ndarray, geom: ConvGeometry, limit: float, dtype, *,
                local: bool = False, result=None) -> np.ndarray:
    """``run(x)`` with non-finite and too-large inputs handled as the module says.

    ``run(x, dtype=None)`` computes the method on a channels-last input (in
    ``dtype`` when given, else the plan's); ``limit`` comes from
    :func:`overflow_limit`.  A ``local`` method (the direct one) keeps
    non-finite values where they are: IEEE arithmetic already confines them.
    ``result`` is ``run(x)`` where the caller already has it (it is returned
    unless a huge value needs the outputs it reaches recomputed).
    """
    nonfinite, huge, largest = _special(_used_input(x, geom), limit)
    if local:
        nonfinite = None
    if nonfinite is None and huge is None:
        return run(x) if result is None else result
    nonfinite = _full_mask(nonfinite, x, geom, np.isfinite, invert=True)
    huge = _full_mask(huge, x, geom, lambda a: np.abs(np.where(np.isfinite(a), a, 0)) > limit)
    special = nonfinite if huge is None else (huge if nonfinite is None else nonfinite | huge)
    y = run(np.where(special, 0, x))
    if huge is not None:
        # the outputs that read a huge value, in float64 from an input scaled by 2**-e (exact)
        e = max(0, math.ceil(math.log2(largest / _limit64(limit, dtype))))
        scaled = np.ldexp(np.where(nonfinite, 0, x) if nonfinite is not None else x, -e)
        reached = window_any(huge, geom)
        with np.errstate(over="ignore"):  # an exact value beyond y's dtype is rightly infinite there
            y[reached] = np.ldexp(run(scaled, np.float64)[reached], e)
    if nonfinite is not None:
        y[window_any(nonfinite, geom)] = np.nan
    return y


def _limit64(limit: float, dtype) -> float:
    """The same limit for a float64 run: the gain is unchanged, only ``finfo.max`` grows."""
    return limit * (float(np.finfo(np.float64).max) / float(np.finfo(dtype).max))


def _full_mask(found, x, geom, test, invert=False):
    """A mask over the whole of ``x`` when ``found`` (over the used part) says there is one."""
    if found is None:
        return None
    mask = test(x)
    return ~mask if invert else mask


# -- integers -------------------------------------------------------------------------------

# -- dynamic range -----------------------------------------------------------------------------

def filter_spread(w: np.ndarray) -> float:
    """``max_o ||w_o||_2 / ||w_o||_1`` over output channels: 1 for one tap, ``1/sqrt(n)`` for a box of n.

    It converts the input energy that sets an FFT's error into the magnitude
    scale that sets the direct method's (see :func:`dynamic_range_risk`).
    """
    flat = np.abs(w.reshape(-1, w.shape[-1]).astype(np.float64))
    l1 = flat.sum(axis=0)
    l2 = np.sqrt(np.square(flat).sum(axis=0))
    ratios = l2[l1 > 0] / l1[l1 > 0]
    return float(ratios.max()) if ratios.size else 0.0


class RangeGuard:
    """The dynamic-range check of one plan: everything that depends on shapes, computed once.

    :meth:`squares` makes one pass over the input (``x**2`` summed over blocks
    about a quarter of a kernel wide, in padded coordinates, per channel
    group); :meth:`is_ordinary` tells from those sums alone that the input
    holds no NaN, Inf or value above an overflow limit (so the call needs no
    other scan), and :meth:`risk` predicts the worst ratio of an output's FFT
    error to its direct-method error:

    * per tile, the FFT's absolute error is about
      ``eps * sqrt(log2 P) * rms(tile input) * ||w||_2`` for ``P``-point
      transforms;
    * at output ``o``, the direct method's is about ``eps * m(o) * ||w||_1``,
      where ``m(o)``, the input's magnitude under the window, is taken as the
      RMS over the blocks lying wholly inside it (the smallest over the tile's
      outputs, axis by axis);
    * ``||w||_2 / ||w||_1`` is :func:`filter_spread`.

    The ratio is ``inf`` where a window holds only zeros in a tile with energy.

    The one pass sums the input samples inside the used extent.  Pads filled
    by ``padding_mode`` (other than zeros) repeat input samples, so their
    blocks get the sums of the blocks their samples come from (the wrapped
    edge's blocks for ``"wrap"``), each source block's sum spread evenly over
    its samples: exact where a pad copies whole blocks, an average within a
    block otherwise.  No second pass over the input, no padded copy.
    """

    def __init__(self, geom: ConvGeometry, layout, filters=None):
        self.geom, self.layout = geom, layout
        self.profiles = _marginals(filters, geom)
        self.blocks = [max(MIN_BLOCK, e // 4) for e in geom.eff_kernel]
        # with one channel group, the channels are summed along with the last spatial axis:
        # blocks of b columns of (W, C) are blocks of b * C values of the flattened W * C axis
        self.fold = geom.in_channels if geom.groups == 1 else 1
        self.axes = []
        for axis, b in enumerate(self.blocks):
            n, (lo, _), used = geom.spatial[axis], geom.pads[axis], geom.used_extent[axis]
            n_blocks = -(-used // b)
            offset = max(0, -lo) + lo  # padded position of the first used input row
            rows = max(0, min(n, used - lo)) - max(0, -lo)
            scale = self.fold if axis == geom.ndim - 1 else 1
            head = min(-offset % b, rows) * scale
            full = (rows * scale - head) // (b * scale)
            split = (offset // b, head, full, rows * scale - head - full * b * scale)
            self.axes.append((n_blocks, split, self._tile_matrix(axis, n_blocks),
                              self._window_blocks(axis, n_blocks)))
        self.pad_sources = [_pad_sources(geom, axis, b, n_blocks)
                            for axis, (b, (n_blocks, *_)) in enumerate(zip(self.blocks, self.axes))]
        self.used = _inside_index(geom)  # the pads count as zeros: see the class docstring
        self.region = math.prod(n * s for n, s in zip(layout.fft_shape, geom.strides)) * geom.group_in
        self.log_points = math.sqrt(math.log2(max(math.prod(layout.fft_shape), 2)))

    def _tile_matrix(self, axis, n_blocks):
        """``(tiles, blocks)``: 1 where a block overlaps a tile's input region; sparse when
        large (a long signal has thousands of tiles and blocks, each tile a few of them)."""
        t, length, s, b = (self.layout.tile[axis], self.layout.fft_shape[axis], self.geom.strides[axis],
                           self.blocks[axis])
        starts = [(i * t * s) // b for i in range(self.layout.tiles[axis])]
        stops = [max(lo, min(-(-((i * t + length) * s) // b), n_blocks)) for i, lo in enumerate(starts)]
        if len(starts) * n_blocks <= DENSE_TILE_MATRIX:
            m = np.zeros((len(starts), n_blocks))
            for i, (lo, hi) in enumerate(zip(starts, stops)):
                m[i, lo:hi] = 1
            return m
        from scipy import sparse

        rows = np.repeat(np.arange(len(starts)), np.subtract(stops, starts))
        cols = np.concatenate([np.arange(lo, hi) for lo, hi in zip(starts, stops)])
        return sparse.csr_matrix((np.ones(len(cols)), (rows, cols)), shape=(len(starts), n_blocks))

    def _window_blocks(self, axis, n_blocks):
        """``(weights, sizes, starts, tile_starts)``: a window starting in block ``j`` weighs
        block ``j + delta`` by ``weights[delta]`` (the kernel's ``|w|`` along this axis);
        ``sizes`` are the blocks' lengths, ``starts`` the number of blocks where windows
        start, ``tile_starts`` each tile's first such block."""
        g, b = self.geom, self.blocks[axis]
        s, d, used = g.strides[axis], g.dilations[axis], g.used_extent[axis]
        sizes = np.maximum(np.minimum(b, used - b * np.arange(n_blocks)), 1)  # the last may be short
        starts = (g.out_spatial[axis] - 1) * s // b + 1
        # tap t of a window starting mid-block j lands in block j + (b // 2 + t * d) // b
        offsets = (b // 2 + np.arange(g.kernel[axis]) * d) // b
        weights = np.bincount(offsets, weights=self.profiles[axis])
        weights = weights / weights.sum() if weights.sum() > 0 else np.full(len(weights), 1 / len(weights))
        tile_starts = [(i * self.layout.tile[axis] * s) // b for i in range(self.layout.tiles[axis])]
        return weights, sizes.astype(np.float64), starts, tile_starts

    def squares(self, x: np.ndarray) -> np.ndarray:
        """``x**2`` summed over blocks and group channels: ``(N, *blocks, G)``, in float64 if
        ``x`` is wider than float32 or float32 overflowed.  One read of ``x``: the first axis'
        blocks are squared and summed by :func:`numpy.einsum`, the rest on arrays ``b`` times
        smaller."""
        used = x[self.used]
        single = x.dtype.kind == "f" and x.dtype.itemsize <= 4
        sums = self._block_sums(used, np.float32 if single else np.float64)
        if single and not np.isfinite(sums).all():
            wide = self._block_sums(used, np.float64)
            sums = wide if np.isfinite(wide).all() else sums
        return sums.reshape(*sums.shape[:-1], self.geom.groups, -1).sum(axis=-1)

    def _block_sums(self, a, dtype):
        fold = self.fold > 1 and a.strides[-2] == a.strides[-1] * a.shape[-1]  # a view, no copy
        if fold:
            a = a.reshape(*a.shape[:-2], -1, 1)
        for axis, (n_blocks, split, _, _) in enumerate(self.axes, start=1):
            b = self.blocks[axis - 1] * (self.fold if axis == self.geom.ndim else 1)
            if axis == self.geom.ndim and self.fold > 1 and not fold:
                a = a.reshape(*a.shape[:-2], -1, 1)  # fold now, on the smaller array
                fold = True
            a = _axis_sums(a, axis, b, n_blocks, split, dtype, square=axis == 1)
        return a

    def padded(self, squares: np.ndarray) -> np.ndarray:
        """The block sums of the padded input from those of :meth:`squares` (the same array
        when the pads are zeros)."""
        for axis, sources in enumerate(self.pad_sources, start=1):
            if sources is not None:
                rows, cols, weights = sources
                moved = np.moveaxis(squares, axis, 0)
                out = moved.copy()
                np.add.at(out, rows, moved[cols] * weights.reshape(-1, *([1] * (moved.ndim - 1))))
                squares = np.moveaxis(out, 0, axis)
        return squares

    @staticmethod
    def is_ordinary(squares: np.ndarray, limit: float) -> bool:
        """True when the sums prove every input value finite and at most ``limit`` in magnitude."""
        return bool(np.isfinite(squares).all()) and float(squares.max(initial=0.0)) <= limit * limit

    def risk(self, squares: np.ndarray, spread: float) -> float:
        """The predicted worst ratio of an output's FFT error to its direct-method error."""
        if spread == 0 or squares.size == 0:
            return 0.0
        tiles = local = self.padded(squares.astype(np.float64))
        for axis, (_, _, overlap, window) in enumerate(self.axes, start=1):
            tiles = _along(overlap, tiles, axis)
            local = np.minimum.reduceat(_window_means(local, axis, *window[:3]), window[3], axis=axis)
        rms = np.sqrt(tiles / self.region)
        local_rms = np.sqrt(local / self.geom.group_in)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(rms > 0, rms * spread * self.log_points / local_rms, 0.0)
        return float(np.max(ratio)) if ratio.size else 0.0


def _pad_sources(geom: ConvGeometry, axis: int, b: int, n_blocks: int):
    """Along ``axis``, where the pads' blocks take their sums from: ``(rows, cols, weights)``,
    block ``rows[i]`` getting ``weights[i]`` times block ``cols[i]``'s sum; None for zero pads.

    A pad sample at padded position ``p`` holds input sample ``s`` (numpy.pad's rule,
    :func:`~fftconv._shapes.padding.source_index`), which the one pass counted in block
    ``(s + lo) // b`` among that block's ``count`` samples: block ``p // b`` gets
    ``1 / count`` of that block's sum.
    """
    n, (lo, hi), used = geom.spatial[axis], geom.pads[axis], geom.used_extent[axis]
    if geom.padding_mode == "constant" or not (lo or hi) or n == 0:
        return None
    inside = np.arange(max(lo, 0), min(lo + n, used))
    counts = np.bincount(inside // b, minlength=n_blocks)
    positions = np.arange(used)
    pads = positions[(positions < lo) | (positions >= lo + n)]
    sources = source_index(n, lo, hi, geom.padding_mode)[pads] + lo
    counted = (sources >= max(lo, 0)) & (sources < min(lo + n, used))
    pairs, repeats = np.unique(np.stack([pads[counted] // b, sources[counted] // b]), axis=1,
                               return_counts=True)
    if pairs.size == 0:
        return None
    return pairs[0], pairs[1], repeats / counts[pairs[1]]


def _marginals(filters, geom: ConvGeometry):
    """Per spatial axis, ``sum |w|`` over every other axis: the kernel's profile along it
    (uniform without filters)."""
    if filters is None:
        return [np.ones(k) for k in geom.kernel]
    a = np.abs(filters.astype(np.float64, copy=False))
    nd = geom.ndim
    return [a.sum(axis=tuple(i for i in range(a.ndim) if i != axis)) for axis in range(nd)]


def _window_means(a, axis, weights, sizes, starts):
    """Along ``axis``: for each block ``j < starts`` where windows start, the kernel-weighted
    mean ``sum_delta weights[delta] * a[j + delta] / sizes[j + delta]`` (a banded product,
    as a few shifted adds)."""
    a = a.swapaxes(axis, -1) / sizes  # swapaxes: moveaxis costs 20 us on these tiny arrays
    out = np.zeros((*a.shape[:-1], starts))
    for delta, weight in enumerate(weights):
        n = min(starts, a.shape[-1] - delta)
        if n > 0 and weight:
            out[..., :n] += weight * a[..., delta:delta + n]
    return out.swapaxes(axis, -1)


def _along(matrix, a, axis):
    """``matrix @ a`` along ``axis`` of ``a`` (matmul: tensordot's overhead is 20x on tiny arrays);
    ``matrix`` may be a scipy.sparse matrix."""
    moved = a.swapaxes(axis, -1)
    if isinstance(matrix, np.ndarray):
        return (moved @ matrix.T).swapaxes(axis, -1)
    flat = np.asarray(moved.reshape(-1, moved.shape[-1]) @ matrix.T)
    return flat.reshape(*moved.shape[:-1], matrix.shape[0]).swapaxes(axis, -1)


def _axis_sums(a, axis, b, n_blocks, split, dtype, square=False):
    """Sums along ``axis`` of ``a`` (squared first if ``square``) over blocks of ``b`` rows:
    ``split = (first block, head rows, full blocks, tail rows)``."""
    first, head, full, tail = split
    before, after = a.shape[:axis], a.shape[axis + 1:]
    out = np.zeros((*before, n_blocks, *after), dtype=dtype)
    at = (slice(None),) * axis  # index prefix reaching `axis`

    def total(part, axis_sum):
        if square:
            return np.square(part, dtype=dtype).sum(axis=axis_sum)
        return part.sum(axis=axis_sum, dtype=dtype)

    if head:
        out[(*at, first)] += total(a[(*at, slice(0, head))], axis)
    start = first + (head > 0)
    if full:
        body = a[(*at, slice(head, head + full * b))].reshape(*before, full, b, *after)
        acc = out[(*at, slice(start, start + full))]
        if square:  # one read, no squared copy
            letters = "abcdefghij"[:body.ndim]
            acc += np.einsum(f"{letters},{letters}->{letters.replace(letters[axis + 1], '')}", body, body,
                             dtype=dtype)
        elif 1 < math.prod(after) < 16:  # numpy reduces a short innermost run slowly
            for k in range(b):
                acc += body[(*at, slice(None), k)]
        else:
            acc += body.sum(axis=axis + 1)
    if tail:
        out[(*at, start + full)] += total(a[(*at, slice(head + full * b, None))], axis)
    return out


def dynamic_range_risk(x: np.ndarray, geom: ConvGeometry, layout, spread: float, filters=None) -> float:
    """:meth:`RangeGuard.risk` of ``x``, for a one-off check (plans keep their :class:`RangeGuard`)."""
    if spread == 0 or x.size == 0:
        return 0.0
    guard = RangeGuard(geom, layout, filters)
    return guard.risk(guard.squares(x), spread)
