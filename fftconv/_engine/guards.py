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
Accuracy (``method="auto"`` running FFTs)
    Every output within 100 times the direct method's error for that output
    (its window's ``sum |x| |w|``, the window's exact zeros counted at the mean
    magnitude of its non-zero samples).  :class:`RangeGuard` bounds the
    transforms' error per tile from the cell statistics of
    :mod:`fftconv._engine.cells` (one pass, shared with the checks above and
    the zero windows) and compares it with the faintest cells; tiles run in
    the call's precision, with float64 transforms, or are looked at output by
    output, the outputs the bound cannot vouch for summed directly
    (:func:`direct_outputs`, :func:`fftconv._engine.cells.window_sums`).  The
    bound, its statistics and the decision are derived in :doc:`numerics`.
Exact zeros
    An output whose window holds only zeros (within the filters' bounding box
    of non-zero taps) is exactly 0 whatever method ran; under ``auto``, so is
    one whose non-zero samples all meet zero taps.

Samples that no output reads never reach a transform: the used extent is
read through :mod:`fftconv._shapes.padding`, and the FFT gather zeroes the gaps a
dilation leaves between taps (:func:`fftconv.methods.fft.unread_gaps`).  The
overflow checks are taken over the used extent, gaps included: a huge value
in a gap is set aside like any other and reaches no output.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
from dataclasses import dataclass

import numpy as np

from fftconv._engine import cells as _cells
from fftconv._runtime.arrays import magnitude  # noqa: F401  (the guards' exact integer magnitudes)
from fftconv._shapes.geometry import ConvGeometry
from fftconv._shapes.padding import box_reads, source_index

__all__ = ["run_guarded", "window_any", "direct_outputs", "overflow_limit", "RangeGuard", "Verdict", "box_problem",
           "is_integer", "ACCURACY_FACTOR"]

#: Headroom kept below ``finfo.max`` by :func:`overflow_limit`.
OVERFLOW_MARGIN = 16.0


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
    return np.repeat(_cells.window_any(mask, geom), geom.group_out, axis=-1)


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
    size = np.abs(np.where(finite, x, 0))
    huge = size > limit
    return nonfinite, (huge if huge.any() else None), float(size.max())


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


# -- dynamic range -----------------------------------------------------------------------------

#: The contract (:doc:`numerics`): every output within this many times the direct method's
#: error for that output.
ACCURACY_FACTOR = 100.0
#: The error model of a tile of ``P``-point transforms (:doc:`numerics`): at every output of
#: output channel ``j`` the error is at most ``eps * sqrt(log2 P) * gain_j * (KAPPA_RMS * rms +
#: KAPPA_PEAK * peak)`` from the tile's transforms (``rms`` the root of the tile input's energy
#: per point, ``peak`` its largest magnitude) plus ``KAPPA_LOCAL * eps * sqrt(log2 P)`` times the
#: output's own sum ``|x| * |w|``.  Fitted by ``benchmarks/guard_calibration.py``, with margin.
KAPPA_RMS = 4.0
KAPPA_PEAK = 0.5
KAPPA_LOCAL = 2.0
#: A kernel whose weight rests on fewer taps than this (``(sum|w| / ||w||_2)**2``, the taps
#: that carry it) makes each output follow a few samples, which the cells' mean magnitudes
#: do not see: the direct method's error scale is taken that much smaller (:doc:`numerics`).
FULL_TAPS = 16.0


def precision(dtype) -> float:
    """The unit of a precision: ``finfo(dtype).eps``."""
    return float(np.finfo(dtype).eps)


@dataclass(frozen=True, eq=False)
class Verdict:
    """What the dynamic-range guard found for one input: per tile of the method's
    :class:`~fftconv.methods.base.Rounding` and channel group.

    Attributes
    ----------
    ratio : ndarray
        ``(N, *tiles, G)`` (three tile axes): the predicted worst ratio, over the tile's
        outputs, of an output's error with transforms in the call's precision to the
        direct method's error scale for that output, ``eps * sum |w| * m`` with ``m`` the
        mean magnitude of the non-zero samples of the faintest cell under its window.
    limit : float
        ``ratio`` within this is fine in the call's precision.
    wide_limit : float
        ``ratio`` within this is fine with float64 transforms (for a float32 call; 0 for a
        float64 one, which has no wider precision).
    """

    ratio: np.ndarray
    limit: float
    wide_limit: float

    @functools.cached_property
    def levels(self) -> np.ndarray:
        """Per tile: 0 where transforms in the call's precision are accurate enough, 1 where
        float64 transforms are needed, 2 where neither is (the reference method)."""
        return np.where(self.ratio <= self.limit, 0, np.where(self.ratio <= self.wide_limit, 1, 2))

    @functools.cached_property
    def worst(self) -> float:
        return float(self.ratio.max(initial=0.0))


class RangeGuard:
    """The dynamic-range guard of one bound plan: what depends on shapes and filters, computed
    once.

    From the cell statistics of an input (:func:`fftconv._engine.cells.cell_stats`: one pass,
    shared with the non-finite, huge-value and zero checks) it bounds, per tile of the
    method's :class:`~fftconv.methods.base.Rounding` and channel group,

    * the transforms' error at every output of the tile:
      ``eps * sqrt(log2 P) * gain_j * (KAPPA_RMS * rms + KAPPA_PEAK * peak)``, with the tile
      input's energy bounded by ``sum M * A`` over its cells and its peak by ``max M``;
    * the direct method's error scale at the outputs of the tile: ``eps * sum|w_j| * m``,
      ``m`` the smallest mean non-zero magnitude ``A / Z`` of a cell in the tile's input
      (cells of zeros do not count: :doc:`numerics`);

    and their ratio (:class:`Verdict`).  :meth:`refine` does the same per block of outputs,
    with the cells under each block's windows only.
    """

    def __init__(self, geom: ConvGeometry, rounding, filters: np.ndarray):
        self.geom, self.rounding = geom, rounding
        self.grid = _cells.cell_grid(geom)
        lead = 3 - geom.ndim
        unit = (np.array([0]), np.array([1]), np.array([0]), np.array([1]))
        self.tiles = [unit] * lead + [tuple(np.asarray(v, np.int64) for v in t) for t in rounding.tiles]
        self.tile_cells = [self.grid.cell_range(a, t[0], t[1]) for a, t in enumerate(self.tiles)]
        self.log = math.sqrt(math.log2(max(rounding.points, 2)))
        flat = np.abs(filters.reshape(-1, filters.shape[-1]).astype(np.float64))
        l1, l2 = flat.sum(axis=0), np.sqrt(np.square(flat).sum(axis=0))
        with np.errstate(divide="ignore", invalid="ignore"):
            # taps that carry the weight: (l1 / l2)**2 is n for n equal taps, 1 for a delta
            concentration = np.where(l1 > 0, np.minimum(1.0, (l1 / np.where(l2 > 0, l2, 1)) ** 2 / FULL_TAPS), 1.0)
            spread = np.where(l1 > 0, np.asarray(rounding.gains, np.float64) / (l1 * concentration), 0.0)
        self.spread = spread.reshape(geom.groups, geom.group_out).max(axis=1)  # per group
        with np.errstate(divide="ignore", invalid="ignore"):
            reach = np.where(l1 > 0, np.asarray(rounding.gains, np.float64) / np.where(l1 > 0, l1, 1), 0.0)
        self.reach = reach.reshape(geom.groups, geom.group_out).max(axis=1)  # gain over sum |w|, per group
        self.gains = np.asarray(rounding.gains, np.float64)
        self.points = float(rounding.points)

    def tile_stats(self, stats):
        """``(peak, energy, faint, scale)`` of each tile's input (:func:`~fftconv._engine.cells.region_stats`)."""
        scale = _power_of_two(float(stats[0].max(initial=0.0)))
        return (*_cells.region_stats(stats, self.grid, self.tile_cells, scale), scale)

    def _transform_error(self, tiles, eps: float = 1.0) -> np.ndarray:
        """Per tile and group, the transforms' error bound over ``gain``: ``eps * sqrt(log2 P) *
        (KAPPA_RMS * rms + KAPPA_PEAK * peak)``."""
        peak, energy, _, scale = tiles
        rms = scale * np.sqrt(energy / self.points)
        return eps * self.log * (KAPPA_RMS * rms + KAPPA_PEAK * peak)

    def assess(self, tiles, dtype) -> Verdict:
        """:class:`Verdict` of an input whose tiles have statistics ``tiles`` (:meth:`tile_stats`,
        of finite values below the overflow limit), for a call computed in ``dtype``."""
        error = self._transform_error(tiles) * self.spread
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(error > 0, error / tiles[2], 0.0)  # faint is inf where a tile holds only zeros
        return self._verdict(ratio, dtype)

    def tile_bound(self, tiles, dtype) -> np.ndarray:
        """``(N, *tiles, C_out)`` (three tile axes): the transforms' error bound at every output
        of each tile, for transforms in ``dtype``."""
        per_group = self._transform_error(tiles, precision(dtype))
        return np.repeat(per_group, self.geom.group_out, axis=-1) * self.gains

    def error_bound(self, tiles, dtype) -> np.ndarray:
        """``(N, *out_spatial, C_out)``: the transforms' error bound at each output, for
        transforms in ``dtype``."""
        return expand(self.tile_bound(tiles, dtype), [t[2:] for t in self.tiles], self.geom.out_spatial)

    def bound_at(self, tiles, dtype, index) -> np.ndarray:
        """:meth:`error_bound` at the outputs of the box ``index`` only: per axis of the grid
        (three), the output positions; ``(N, *lengths, C_out)``."""
        out = self.tile_bound(tiles, dtype)
        for axis, positions in enumerate(index):
            tile = np.searchsorted(self.tiles[axis][3], positions, side="right")  # out_hi of each tile
            out = np.take(out, tile, axis=axis + 1)
        return out

    def floor_ratio(self, tiles, least) -> np.ndarray:
        """The ratio of :class:`Verdict` for windows whose every non-zero sample is at least
        ``least`` ``(N, ..., G)`` (three axes): the worst tile's transform error over ``sum
        |w|`` times ``least``, a lower bound of the contract's scale ``D'`` (no
        concentration is assumed: every weight meets a sample of ``least`` or more)."""
        worst = self._transform_error(tiles).max(axis=(1, 2, 3))[:, None, None, None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(worst > 0, worst * self.reach / least, 0.0)

    def bound_points(self, tiles, dtype, points) -> np.ndarray:
        """:meth:`error_bound` at the outputs ``points`` only (per axis of the grid, three,
        ``(P,)`` positions): ``(N, P, C_out)``."""
        tile = [np.searchsorted(self.tiles[axis][3], positions, side="right")  # out_hi of each tile
                for axis, positions in enumerate(points)]
        return self.tile_bound(tiles, dtype)[:, tile[0], tile[1], tile[2], :]

    def _verdict(self, ratio, dtype) -> Verdict:
        eps = precision(dtype)
        wide = precision(np.float64) / eps
        limit = ACCURACY_FACTOR - KAPPA_LOCAL * self.log
        wide_limit = (ACCURACY_FACTOR - KAPPA_LOCAL * self.log * wide) / wide if wide < 1 else 0.0
        return Verdict(ratio, limit, wide_limit)

    def refine(self, stats, tiles, dtype, flagged: np.ndarray):
        """Per block of outputs in the ``flagged`` tiles: ``(blocks, verdict)``, where ``blocks``
        gives per axis the ``(lo, hi)`` output ranges of the blocks (three axes) and the
        :class:`Verdict`'s ratio is ``(N, *blocks, G)``: the transform error of the tiles a
        block touches over the direct method's error scale of the faintest cell under the
        block's windows (0 outside the flagged tiles)."""
        g = self.geom
        lead = 3 - g.ndim
        kernel = [1] * lead + list(g.eff_kernel)
        strides = [1] * lead + list(g.strides)
        outs = [1] * lead + list(g.out_spatial)
        error = np.where(flagged, self._transform_error(tiles) * self.spread, 0.0)
        blocks, cell_ranges, tile_ranges = [], [], []
        for axis in range(3):
            b = max(1, self.grid.members[axis] * self.grid.residues[axis] // strides[axis])
            lo = np.arange(0, outs[axis], b)
            hi = np.minimum(lo + b, outs[axis])
            blocks.append((lo, hi))
            cell_ranges.append(self.grid.cell_range(axis, lo * strides[axis],
                                                    (hi - 1) * strides[axis] + kernel[axis]))
            out_lo, out_hi = self.tiles[axis][2], self.tiles[axis][3]
            first = np.searchsorted(out_hi, lo, side="right")  # the tiles a block's outputs belong to
            last = np.maximum(np.searchsorted(out_lo, hi - 1, side="right") - 1, first)
            tile_ranges.append((first, last + 1))
        error = _cells.box_reduce(error, tile_ranges, np.maximum)  # the worst tile each block touches
        _, _, faint = _cells.region_stats(stats, self.grid, cell_ranges, tiles[3])
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(error > 0, error / faint, 0.0)
        return blocks, self._verdict(ratio, dtype)


def _power_of_two(value: float) -> float:
    """A power of two near ``value`` (1 for 0): dividing by it is exact."""
    return float(2.0 ** np.frexp(value)[1]) if value > 0 and math.isfinite(value) else 1.0


def expand(values: np.ndarray, ranges, shape) -> np.ndarray:
    """``(N, *shape, G)``: per output, the value of the box (of ``ranges``: per axis ``(lo, hi)``,
    three axes) that holds it; a read-only broadcast view where every axis has one box."""
    if all(len(lo) == 1 for lo, _ in ranges):
        return np.broadcast_to(values.reshape(values.shape[0], *([1] * len(shape)), values.shape[-1]),
                               (values.shape[0], *shape, values.shape[-1]))
    out = values
    for axis, (lo, hi) in enumerate(ranges):
        out = np.repeat(out, np.asarray(hi) - np.asarray(lo), axis=axis + 1)
    return out.reshape(out.shape[0], *shape, out.shape[-1])


# -- a box of outputs as a problem of its own -------------------------------------------------

def box_problem(geom: ConvGeometry, lo, hi):
    """The convolution that computes outputs ``[lo, hi)`` (per spatial axis) of ``geom``:
    ``(geometry, reads)``, the input being the padded input's positions that those outputs
    read (:func:`fftconv._shapes.padding.read_padded` with ``reads`` copies them), without
    pads of its own."""
    spatial = tuple((h - 1 - l) * s + e for l, h, s, e in zip(lo, hi, geom.strides, geom.eff_kernel))
    sub = dataclasses.replace(geom, spatial=spatial, pads=((0, 0),) * geom.ndim,
                              out_spatial=tuple(h - l for l, h in zip(lo, hi)), padding_mode="constant")
    reads = box_reads(geom, tuple(l * s for l, s in zip(lo, geom.strides)), spatial)
    return sub, reads


def boxes_of(mask: np.ndarray, tiles, lead: int):
    """Bounding boxes ``(lo, hi)`` (per spatial axis) of the True outputs of ``mask``
    ``(N, *out, G)``, one per tile (of ``tiles``: per axis ``(in_lo, in_hi, out_lo, out_hi)``,
    three axes) that holds any."""
    spatial = mask.any(axis=(0, -1))
    spatial = spatial.reshape((1,) * lead + spatial.shape)
    boxes = []
    for index in itertools.product(*(range(len(t[2])) for t in tiles)):
        box = tuple(slice(int(t[2][i]), int(t[3][i])) for t, i in zip(tiles, index))
        part = spatial[box]
        if not part.any():
            continue
        lo, hi = [], []
        for axis in range(3):
            hit = np.flatnonzero(part.any(axis=tuple(a for a in range(3) if a != axis)))
            lo.append(box[axis].start + int(hit[0]))
            hi.append(box[axis].start + int(hit[-1]) + 1)
        boxes.append((tuple(lo[lead:]), tuple(hi[lead:])))
    return boxes


# -- a few outputs summed from their windows -----------------------------------------------------

#: :func:`direct_outputs` gathers at most this many window values at once.
GATHER_VALUES = 2**21


def direct_outputs(y: np.ndarray, x: np.ndarray, filters: np.ndarray, geom: ConvGeometry,
                   mask: np.ndarray) -> None:
    """Set the outputs of ``y`` ``(N, *out, C_out)`` that ``mask`` ``(N, *out, G)`` selects
    (every output channel of a selected group) to their sums over their windows, in float64.

    ``x`` is the channels-last input, ``filters`` the real ``(*kernel, C_in / G, C_out)``
    filters as the method reads them (flipped if asked).  The windows are gathered through
    the pads as ``padding_mode`` fills them, a few thousand outputs at a time: the cost is
    that of the direct method on the selected outputs alone.

    Examples
    --------
    >>> from fftconv._checks import check_geometry
    >>> from fftconv.testing import reference_conv
    >>> g = check_geometry((1, 9, 2), (4, 2, 3), 1, 1, "SAME", "NWC", 1, None, False)
    >>> rng = np.random.default_rng(0)
    >>> x, w = rng.standard_normal((1, 9, 2)), rng.standard_normal((4, 2, 3))
    >>> y = np.zeros((1, 9, 3)); mask = np.zeros((1, 9, 1), bool); mask[0, [0, 5]] = True
    >>> direct_outputs(y, x, w, g, mask)
    >>> np.allclose(y[0, [0, 5]], reference_conv(x, w, padding="SAME")[0, [0, 5]])
    True
    """
    nd, gin, gout = geom.ndim, geom.group_in, geom.group_out
    sources = [source_index(n, lo, hi, geom.padding_mode)
               for n, (lo, hi) in zip(geom.spatial, geom.pads)]
    taps = np.stack(np.meshgrid(*(np.arange(k) * d for k, d in zip(geom.kernel, geom.dilations)),
                                indexing="ij"), axis=-1).reshape(-1, nd)  # (K, nd) offsets
    w = filters.reshape(len(taps), gin, geom.groups, gout).astype(np.float64)
    flat = x.reshape(-1)
    steps = np.array(x.strides) // x.itemsize if x.flags.c_contiguous else None
    if steps is None:
        flat, steps = np.ascontiguousarray(x).reshape(-1), np.array(_c_steps(x.shape))
    found = np.nonzero(mask)
    chunk = max(1, GATHER_VALUES // max(1, len(taps) * gin))
    for g in range(geom.groups):
        pick = found[-1] == g
        n_all = found[0][pick]
        outs_all = [f[pick] for f in found[1:-1]]
        w_g = np.ascontiguousarray(w[:, :, g, :]).reshape(-1, gout)
        for lo in range(0, len(n_all), chunk):
            n = n_all[lo:lo + chunk]
            outs = [o[lo:lo + chunk] for o in outs_all]
            offset, inside = (n * steps[0])[:, None], np.ones((len(n), len(taps)), bool)
            for axis, (o, s) in enumerate(zip(outs, geom.strides)):
                src = sources[axis][o[:, None] * s + taps[None, :, axis]]
                inside &= src >= 0
                offset = offset + np.maximum(src, 0) * steps[axis + 1]
            offset = offset[..., None] + (np.arange(g * gin, (g + 1) * gin) * steps[-1])  # (F, K, gin)
            values = np.take(flat, offset).astype(np.float64, copy=False)
            values[~inside] = 0
            y[(n, *outs, slice(g * gout, (g + 1) * gout))] = values.reshape(len(n), -1) @ w_g


def _c_steps(shape):
    """Element strides of a C-contiguous array of ``shape``."""
    return [math.prod(shape[i + 1:]) for i in range(len(shape))]
