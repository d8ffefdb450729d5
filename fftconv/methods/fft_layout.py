"""The FFT method's tiles: how a problem is cut into overlap-save tiles, and what each tiling costs.

Shapes only: :class:`TileLayout` and the rules that make one (polyphase
components, unread gaps, the circular layout for wrapped pads), and the cost
model that picks the cheapest (:func:`best_layout`). The execution of a
layout lives in :mod:`fftconv.methods.fft`.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass

import numpy as np
from scipy.fft import next_fast_len

from fftconv._shapes.geometry import ConvGeometry
from fftconv.methods.pricing import transform_seconds

__all__ = ["TileLayout", "make_layout", "circular_layout", "default_fft_shape", "phase_kernel",
           "active_phases", "unread_gaps", "complex_geometry", "fft_seconds", "filters_seconds",
           "candidate_fft_shapes", "best_layout", "FIRST_CALL_BUDGET", "CIRCULAR_MAX_ELEMENTS"]


#: The largest image (spatial points times input and output channels) run as one circular
#: correlation: about four chunks' worth of float32 buffers.
CIRCULAR_MAX_ELEMENTS = 2**23


@dataclass(frozen=True)
class TileLayout:
    """How the FFT method cuts a problem into tiles: shapes only.

    Attributes
    ----------
    phase_kernel : tuple of int
        Kernel length per axis after the polyphase split, ``ceil(eff / s)``.
    tile : tuple of int
        Outputs per tile along each axis.
    fft_shape : tuple of int
        Transform length per axis, ``tile + phase_kernel - 1``.
    tiles : tuple of int
        Number of tiles along each axis.
    active : tuple of tuple of int
        Per axis, the polyphase components that hold a kernel tap (all of
        ``range(s)`` unless the stride exceeds the kernel or shares a factor
        with the dilation).
    complex_pairs : bool
        The channels (in and out) are the ``(re, im)`` pairs of complex ones,
        transformed as complex values (see the module's description).
    circular : bool
        One circular correlation of each whole image (``fft_shape`` is the
        input's spatial shape, ``tile`` the output's): see
        :func:`circular_layout`.
    """

    phase_kernel: tuple[int, ...]
    tile: tuple[int, ...]
    fft_shape: tuple[int, ...]
    tiles: tuple[int, ...]
    active: tuple[tuple[int, ...], ...]
    complex_pairs: bool = False
    circular: bool = False

    @property
    def phases(self) -> int:
        """Number of polyphase components transformed: the product of the active ones per axis."""
        return math.prod(len(a) for a in self.active)

    @property
    def n_tiles(self) -> int:
        """Tiles per image."""
        return math.prod(self.tiles)


def phase_kernel(geom: ConvGeometry) -> tuple[int, ...]:
    """Kernel length per axis after the polyphase split: ``ceil(eff / s)``."""
    return tuple(-(-e // s) for e, s in zip(geom.eff_kernel, geom.strides))


def active_phases(geom: ConvGeometry) -> tuple[tuple[int, ...], ...]:
    """Per axis, the phases ``r < s`` that hold a tap: ``{t * d mod s : t < k}``.

    Examples
    --------
    >>> from fftconv._checks import check_geometry
    >>> g = check_geometry((1, 20, 20, 1), (2, 3, 1, 1), 2, (4, 2), "VALID", "NHWC", (1, 2), None, False)
    >>> active_phases(g)
    ((0, 1), (0,))
    """
    return tuple(tuple(sorted({t * d % s for t in range(k)}))
                 for k, d, s in zip(geom.kernel, geom.dilations, geom.strides))


def unread_gaps(geom: ConvGeometry) -> tuple[tuple[int, ...], ...]:
    """Per axis, padded positions inside the used extent, in a phase that holds a tap, that
    no output reads: the gaps a dilation larger than the outputs' span leaves between taps.

    The gather zeroes them, so that what no output reads never reaches a transform
    (a huge value there would spread over the tile by the FFT's rounding).

    Examples
    --------
    >>> from fftconv._checks import check_geometry
    >>> g = check_geometry((1, 4, 9, 1), (2, 3, 1, 1), 2, 1, "VALID", "NHWC", (3, 1), None, False)
    >>> unread_gaps(g)  # one output row reads rows 0 and 3
    ((1, 2), ())
    """
    return _unread_gaps(geom.out_spatial, geom.kernel, geom.dilations, geom.strides)


@functools.lru_cache(maxsize=256)
def _unread_gaps(outs, kernel, dilations, strides):
    gaps = []
    for o, k, d, s in zip(outs, kernel, dilations, strides):
        if o == 0 or d <= (o - 1) * s + 1:  # each tap's span reaches the next tap's: no gap
            gaps.append(())
            continue
        read = np.zeros((o - 1) * s + (k - 1) * d + 1, bool)
        for t in range(k):
            read[t * d:t * d + (o - 1) * s + 1:s] = True
        phases = {t * d % s for t in range(k)}
        gaps.append(tuple(int(p) for p in np.flatnonzero(~read) if p % s in phases))
    return tuple(gaps)


@functools.lru_cache(maxsize=256)
def _circular_gaps(geom: ConvGeometry) -> tuple[tuple[int, ...], ...]:
    """:func:`unread_gaps` for the circular layout: input samples (stride 1, positions taken
    modulo the image) that no output reads."""
    gaps = []
    for n, o, k, d, (lo, _) in zip(geom.spatial, geom.out_spatial, geom.kernel, geom.dilations, geom.pads):
        read = np.zeros(n, bool)
        for t in range(k):
            read[(np.arange(min(o, n)) - lo + t * d) % n] = True
        gaps.append(tuple(int(p) for p in np.flatnonzero(~read)))
    return tuple(gaps)


def make_layout(geom: ConvGeometry, fft_shape=None, complex_pairs: bool = False) -> TileLayout:
    """Tile a problem with the given FFT lengths (or :func:`default_fft_shape`).

    An FFT length of at least ``out + q - 1`` means one tile along that axis,
    a plain FFT convolution.  With ``complex_pairs`` the channels of ``geom``
    are the ``(re, im)`` pairs of a complex convolution's (their counts must
    be even), run with complex transforms.

    Examples
    --------
    >>> from fftconv._checks import check_geometry
    >>> g = check_geometry((1, 100, 100, 1), (9, 9, 1, 1), 2, 1, "VALID", "NHWC", 1, None, False)
    >>> make_layout(g, (32, 200)).tile
    (24, 92)
    """
    if complex_pairs and (geom.group_in % 2 or geom.group_out % 2):
        raise ValueError(f"complex pairs need even channel counts per group; got {geom.group_in} in "
                         f"and {geom.group_out} out")
    q = phase_kernel(geom)
    fft_shape = tuple(fft_shape or default_fft_shape(geom))
    tile, lengths, tiles = [], [], []
    for o, k, n in zip(geom.out_spatial, q, fft_shape):
        if n < k:
            raise ValueError(f"an FFT length of {n} cannot hold a phase kernel of {k}")
        t = min(n - k + 1, o)
        tile.append(t)
        lengths.append(min(n, next_fast_len(t + k - 1, real=True)) if t == o else n)
        tiles.append(-(-o // t))
    return TileLayout(q, tuple(tile), tuple(lengths), tuple(tiles), active_phases(geom), complex_pairs)


def circular_layout(geom: ConvGeometry, complex_pairs: bool = False) -> TileLayout | None:
    """The layout of a circular correlation of each whole image, where it applies; else None.

    It applies with ``padding_mode="wrap"``, stride 1, a fast FFT length
    (5-smooth) for every spatial size and images small enough that the
    buffers of one stay within :data:`CIRCULAR_MAX_ELEMENTS` (a whole image is
    transformed at once, where tiles bound the memory of a chunk): the
    wrap-padded input is periodic with
    the input's period, so output ``i`` along an axis with pads ``(lo, hi)``
    is sample ``(i - lo) mod n`` of the circular correlation of the unpadded
    input (:func:`_scatter_circular`), whatever the pads, the dilation or the
    kernel's length (a kernel longer than the input is folded onto it).

    Examples
    --------
    >>> from fftconv._checks import check_geometry
    >>> g = check_geometry((1, 64, 60, 1), (41, 41, 1, 1), 2, 1, "SAME", "NHWC", 1, None, False,
    ...                    padding_mode="wrap")
    >>> circular_layout(g).fft_shape, circular_layout(g).tile
    ((64, 60), (64, 60))
    """
    if geom.padding_mode != "wrap" or any(s != 1 for s in geom.strides):
        return None
    if any(next_fast_len(n, real=True) != n for n in geom.spatial):
        return None
    if math.prod(geom.spatial) * (geom.in_channels + geom.out_channels) > CIRCULAR_MAX_ELEMENTS:
        return None
    nd = geom.ndim
    return TileLayout(tuple(geom.eff_kernel), tuple(geom.out_spatial), tuple(geom.spatial), (1,) * nd,
                      ((0,),) * nd, complex_pairs, circular=True)


def complex_geometry(geom: ConvGeometry) -> ConvGeometry:
    """The complex convolution whose ``(re, im)`` channel pairs make up ``geom``'s channels.

    Examples
    --------
    >>> from fftconv._checks import check_geometry
    >>> g = check_geometry((1, 9, 4), (3, 4, 6), 1, 1, "VALID", "NWC", 1, None, False)
    >>> complex_geometry(g).filters_shape
    (3, 2, 3)
    """
    return dataclasses.replace(geom, in_channels=geom.in_channels // 2, out_channels=geom.out_channels // 2)


def default_fft_shape(geom: ConvGeometry) -> tuple[int, ...]:
    """A simple tiling rule, used when no plan chose one.

    Along each axis the whole output is one tile when that transform is at
    most ``max(8 q, 256)`` long; otherwise the FFT length is the fast length
    nearest ``max(4 q, 64)``, which keeps the overlap below a quarter.
    """
    shape = []
    for o, k in zip(geom.out_spatial, phase_kernel(geom)):
        whole = next_fast_len(o + k - 1, real=True)
        shape.append(whole if whole <= max(8 * k, 256) else next_fast_len(max(4 * k, 64), real=True))
    return tuple(shape)


# -- what a tiling costs ----------------------------------------------------------------------

def fft_seconds(geom: ConvGeometry, layout, itemsize: int, c, *, with_filters=True) -> float:
    """Predicted seconds of the FFT method with this tile layout (with or without the filters'
    transforms)."""
    bw = c["bandwidth"]
    flops_scale = 4 / itemsize  # float64 runs at half the float32 rate
    batch = geom.batch * layout.n_tiles
    k = layout.phases * geom.group_in
    freqs = math.prod(layout.fft_shape[:-1]) * (layout.fft_shape[-1] // 2 + 1)
    # transforms: a complex one of n points is two real ones, as the pairs of the embedding are
    line_bytes = itemsize * (2 if layout.complex_pairs else 1)  # a complex line holds twice the bytes
    t = transform_seconds(layout.fft_shape, batch * geom.groups * k, c, itemsize=line_bytes) / flops_scale
    t += transform_seconds(layout.fft_shape, batch * geom.out_channels, c, itemsize=line_bytes) / flops_scale
    if with_filters:
        t += filters_seconds(geom, layout, itemsize, c)
    k_mix, out_mix, og_mix = k, geom.out_channels, geom.group_out
    if layout.complex_pairs:  # complex channels mixed over the full grid of frequencies
        k_mix, out_mix, og_mix, freqs = k // 2, out_mix // 2, og_mix // 2, math.prod(layout.fft_shape)
    if k_mix == 1:  # a complex product per frequency: its multiply-adds, and its three complex
        # values (two read, one written) moved at `bandwidth`: the spectra are out of cache
        products = freqs * batch * out_mix
        t += 4 * products / c["elementwise_flops"] / flops_scale + products * 3 * 2 * line_bytes / bw
    else:
        rate = c["cgemm_flops"] * flops_scale * batch / (batch + c["cgemm_half_m"])
        t += freqs * geom.groups * (8 * batch * k_mix * og_mix / rate + c["cgemm_call"])
    reals = math.prod(layout.fft_shape) * batch
    traffic = reals * (geom.groups * k * 4 + geom.out_channels * 4) * itemsize
    return t + traffic / bw + c["fft_call_overhead"]


def candidate_fft_shapes(geom: ConvGeometry, limit: int = 6):
    """FFT lengths worth trying per axis: tilings from small tiles to one whole tile."""
    per_axis = []
    for o, q in zip(geom.out_spatial, phase_kernel(geom)):
        whole = next_fast_len(o + q - 1, real=True)
        sizes = {whole}
        for factor in (2, 3, 4, 6, 8, 12, 16, 24, 32):
            n = next_fast_len(factor * q + 16, real=True)
            if n < whole:
                sizes.add(n)
        per_axis.append(sorted(sizes)[-limit - 1:])
    return per_axis


#: A first call with new filters transforms them too; the planner keeps it within this many
#: times the steady-state call (the later calls find the spectrum kept, see fftconv._engine.spectra).
FIRST_CALL_BUDGET = 2.0


def best_layout(geom: ConvGeometry, itemsize: int, c, with_filters=True, complex_pairs=False):
    """The tile layout with the lowest predicted steady-state FFT cost, and that cost.

    The steady state is a call whose filters' spectrum is kept (a filter bank,
    or a loop of one-shot calls with the same filters). With ``with_filters``
    (one-shot calls) only layouts whose first call, filter transforms
    included, stays within :data:`FIRST_CALL_BUDGET` times their steady state
    compete; where none does, the one with the cheapest first call wins.
    The circular layout (:func:`fftconv.methods.fft.circular_layout`) competes
    where it applies.  ``complex_pairs``: see
    :func:`fftconv.methods.fft.make_layout`.
    """
    best, fallback = None, None
    layouts = [make_layout(geom, shape, complex_pairs) for shape in _product(candidate_fft_shapes(geom))]
    circular = circular_layout(geom, complex_pairs)
    for layout in layouts + ([circular] if circular is not None else []):
        steady = fft_seconds(geom, layout, itemsize, c, with_filters=False)
        if with_filters:
            first = steady + filters_seconds(geom, layout, itemsize, c)
            if fallback is None or first < fallback[2]:
                fallback = (layout, steady, first)
            if first > FIRST_CALL_BUDGET * steady:
                continue
        if best is None or steady < best[1]:
            best = (layout, steady)
    return best if best is not None else fallback[:2]


def filters_seconds(geom: ConvGeometry, layout, itemsize: int, c) -> float:
    """Predicted seconds of the filters' (pruned) transforms for this layout."""
    k = layout.phases * geom.group_in
    return transform_seconds(layout.fft_shape, geom.groups * k * geom.group_out, c,
                             layout.phase_kernel, itemsize) / (4 / itemsize)


def _product(per_axis):
    if not per_axis:
        yield ()
        return
    for head in per_axis[0]:
        for tail in _product(per_axis[1:]):
            yield (head, *tail)
