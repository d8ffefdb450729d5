"""Folding dilated kernels: taps that read the same samples become one tap.

Along one spatial axis, tap ``t`` of output ``o`` reads padded position
``o * s + t * d``, which holds an input sample or a zero (numpy.pad's rule,
:func:`fftconv._shapes.padding.source_index`). Collect, for each tap, the
input indices it reads across all outputs: its *pattern*, a row of
``out`` indices (-1 for a zero). Taps with the same pattern always meet the
same samples, so they act as one tap whose weight is their sum; a tap that
reads only zero pads (``padding_mode="constant"``) has the all-zero pattern.
When the dilation is much larger than the input, a kernel of any dilation has
only a few distinct patterns: the taps that land in the pads all read zeros
(or, for the other modes, the same mirrored or repeated samples).

The folded convolution lays the ``J`` patterns of an axis end to end: a
gathered input of ``J * out`` samples along that axis (the ``j``-th stretch
holding pattern ``j``), a kernel of ``J`` taps, dilation ``out``, stride 1 and
no pads. Output ``o`` of tap ``j`` then reads position ``j * out + o``, which
holds exactly what the original taps of pattern ``j`` read there. Its used
extent is ``J * out`` instead of ``(out - 1) * s + (k - 1) * d + 1``, so
neither its work nor its memory grows with the dilation. An axis is folded
only when it is dilated and folding at least halves its used extent: ordinary
convolutions are never changed.

Everything here is integer arithmetic on shapes and index maps.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass

import numpy as np

from fftconv._shapes.geometry import ConvGeometry
from fftconv._shapes.padding import source_index

__all__ = ["AxisFold", "Fold", "axis_patterns", "fold"]


@dataclass(frozen=True, eq=False)
class AxisFold:
    """One folded axis.

    Attributes
    ----------
    axis : int
        The spatial axis (0 for the first).
    sources : ndarray of int64, shape (J * out,)
        The gathered input along this axis: the input index at each position, -1 for a zero.
    taps : ndarray of int64, shape (k,)
        The pattern (the folded tap) of each original tap, in the order the taps are applied
        (after ``flip``).
    patterns : int
        ``J``, the folded kernel's size.
    """

    axis: int
    sources: np.ndarray
    taps: np.ndarray
    patterns: int


@dataclass(frozen=True, eq=False)
class Fold:
    """A geometry and the folded geometry that computes the same outputs.

    Attributes
    ----------
    original, folded : ConvGeometry
        The convolution asked for, and the one that runs (never flipped: the fold takes the
        filters in applied order).
    axes : tuple of AxisFold
        The folded axes; the others run as they are.
    """

    original: ConvGeometry
    folded: ConvGeometry
    axes: tuple

    def gather(self, x: np.ndarray, channels_first: bool = False) -> np.ndarray:
        """The folded convolution's input: ``x`` taken along each folded axis at its sources
        (zeros at -1). A new array; ``x`` is not modified."""
        offset = 2 if channels_first else 1
        for a in self.axes:
            x = np.take(x, np.maximum(a.sources, 0), axis=a.axis + offset)
            zeros = a.sources < 0
            if zeros.any():
                index = [slice(None)] * x.ndim
                index[a.axis + offset] = zeros
                x[tuple(index)] = 0
        return x

    def filters(self, w: np.ndarray) -> np.ndarray:
        """The folded filters: the original ``(*kernel, C_in / groups, C_out)`` filters (reversed
        first when the original is flipped), each folded axis summed per pattern. Integers and
        bools are summed exactly as int64; float16 as float32."""
        if self.original.flip:
            w = w[(slice(None, None, -1),) * self.original.ndim]
        if w.dtype.kind in "biu":
            w = w.astype(np.int64)
        elif w.dtype == np.float16:
            w = w.astype(np.float32)
        for a in self.axes:
            # each pattern's taps added up, and nothing else (a product with a one-hot matrix
            # would add 0 * Inf = NaN to the other patterns of a filter holding Inf)
            taps = np.moveaxis(w, a.axis, 0)
            summed = np.zeros((a.patterns, *taps.shape[1:]), dtype=w.dtype)
            np.add.at(summed, a.taps, taps)
            w = np.moveaxis(summed, 0, a.axis)
        return np.ascontiguousarray(w)


def axis_patterns(n: int, k: int, stride: int, dilation: int, pads: tuple[int, int], out: int,
                  mode: str) -> tuple[np.ndarray, np.ndarray]:
    """``(patterns, taps)`` of one axis: the distinct rows ``(J, out)`` of input indices the taps
    read (-1 for a zero), and the row of each of the ``k`` taps.

    Examples
    --------
    >>> patterns, taps = axis_patterns(3, 3, 1, 100, (100, 100), 3, "constant")   # SAME, dilation 100
    >>> patterns.tolist(), taps.tolist()       # the outer taps read only zeros
    ([[-1, -1, -1], [0, 1, 2]], [0, 1, 0])
    >>> axis_patterns(2, 2, 1, 50, (25, 25), 2, "edge")[0].tolist()   # edge: the first and last sample
    [[0, 0], [1, 1]]
    """
    lo, hi = pads
    positions = np.arange(out)[None, :] * stride + np.arange(k)[:, None] * dilation  # (k, out), padded
    if mode == "constant":
        index = positions - lo
        index[(index < 0) | (index >= n)] = -1
    else:
        index = source_index(n, lo, hi, mode)[positions]
    patterns, taps = np.unique(index, axis=0, return_inverse=True)
    return patterns, taps.reshape(-1)


@functools.lru_cache(maxsize=256)
def fold(geom: ConvGeometry) -> Fold | None:
    """The :class:`Fold` of ``geom``, or None when no axis gains: only dilated axes are looked at,
    and one is folded when its ``J * out`` positions are at most half its used extent.

    Examples
    --------
    >>> g = ConvGeometry(1, (10, 10), 1, 1, 1, (2, 2), (1, 1), (10000, 10000), ((5000, 5000),) * 2,
    ...                  (10, 10))
    >>> f = fold(g)
    >>> f.folded.spatial, f.folded.kernel, g.used_extent     # both taps of each axis read only zeros
    ((10, 10), (1, 1), (10010, 10010))
    """
    if geom.is_empty or all(d == 1 for d in geom.dilations):
        return None
    axes, spatial, kernel, strides, dilations, pads = [], [], [], [], [], []
    for axis, (n, k, s, d, p, out, used) in enumerate(zip(geom.spatial, geom.kernel, geom.strides,
                                                          geom.dilations, geom.pads, geom.out_spatial,
                                                          geom.used_extent)):
        if d > 1 and 2 * out <= used:
            patterns, taps = axis_patterns(n, k, s, d, p, out, geom.padding_mode)
            count = len(patterns)
            if 2 * count * out <= used:
                sources = patterns.reshape(-1)
                sources.flags.writeable = False
                taps.flags.writeable = False
                axes.append(AxisFold(axis, sources, taps, count))
                spatial.append(count * out)
                kernel.append(count)
                strides.append(1)
                dilations.append(out if count > 1 else 1)
                pads.append((0, 0))
                continue
        spatial.append(n)
        kernel.append(k)
        strides.append(s)
        dilations.append(d)
        pads.append(p)
    if not axes:
        return None
    mode = geom.padding_mode if any(lo or hi for lo, hi in pads) else "constant"
    folded = dataclasses.replace(geom, spatial=tuple(spatial), kernel=tuple(kernel), strides=tuple(strides),
                                 dilations=tuple(dilations), pads=tuple(pads), flip=False, padding_mode=mode)
    return Fold(geom, folded, tuple(axes))
