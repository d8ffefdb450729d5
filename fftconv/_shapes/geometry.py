"""Shape arithmetic of a convolution: output sizes, padding, polyphase splits.

Everything here works on integers and tuples only; reading the padded input
itself is :mod:`fftconv._shapes.padding`'s job.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

__all__ = ["ConvGeometry", "same_pads", "output_size", "batch_row_chunks"]


def same_pads(n: int, k_eff: int, stride: int) -> tuple[int, int]:
    """TensorFlow's SAME padding for one axis.

    ``out = ceil(n / s)``; the total pad is ``max((out - 1) * s + eff - n, 0)``
    and the odd pixel goes to the end.

    Examples
    --------
    >>> same_pads(5, 3, 1)
    (1, 1)
    >>> same_pads(6, 4, 2)
    (1, 1)
    >>> same_pads(4, 4, 1)
    (1, 2)
    """
    out = -(-n // stride)
    total = max((out - 1) * stride + k_eff - n, 0)
    return total // 2, total - total // 2


def output_size(n: int, k_eff: int, stride: int, lo: int, hi: int) -> int:
    """Number of outputs along one axis of a padded, strided correlation.

    Returns a negative number when the effective kernel is longer than the
    padded input; the caller turns that into an error.

    Examples
    --------
    >>> output_size(7, 3, 2, 0, 0)
    3
    """
    span = n + lo + hi - k_eff
    return span // stride + 1 if span >= 0 else -1


@dataclass(frozen=True)
class ConvGeometry:
    """The shapes of one convolution, normalised to channels-last order.

    Attributes
    ----------
    batch : int
        Number of images (``N``).
    spatial : tuple of int
        Input sizes along the spatial axes.
    in_channels, out_channels, groups : int
        ``C_in``, ``C_out`` and the number of channel groups.
    kernel : tuple of int
        Filter sizes along the spatial axes (before dilation).
    strides, dilations : tuple of int
        One entry per spatial axis.
    pads : tuple of (int, int)
        Zeros before and after each spatial axis.
    out_spatial : tuple of int
        Output sizes along the spatial axes.
    flip : bool
        True convolution (kernel reversed) instead of cross-correlation.
    padding_mode : str
        How the pads are filled: one of :data:`fftconv._shapes.padding.MODES`.
    reach : tuple or None
        Where the filters are known: per spatial axis, ``(first, step, taps, carrying)``, the
        lattice of their non-zero taps and how many of its taps carry their weight
        (``fftconv._engine.cells.reach``); the accuracy guard's cells and windows follow it.
        None (shapes alone): the whole kernel.
    """

    batch: int
    spatial: tuple[int, ...]
    in_channels: int
    out_channels: int
    groups: int
    kernel: tuple[int, ...]
    strides: tuple[int, ...]
    dilations: tuple[int, ...]
    pads: tuple[tuple[int, int], ...]
    out_spatial: tuple[int, ...]
    flip: bool = False
    padding_mode: str = "constant"
    reach: tuple[tuple[int, int, int, int], ...] | None = None

    def __hash__(self) -> int:  # computed once: geometries key the plan caches, looked up per call
        value = self.__dict__.get("_hash")
        if value is None:
            value = self.__dict__["_hash"] = hash(tuple(getattr(self, f) for f in self.__dataclass_fields__))
        return value

    def __getstate__(self) -> dict:  # a str's hash differs between processes: never pickle it
        return {k: v for k, v in self.__dict__.items() if k != "_hash"}

    @property
    def ndim(self) -> int:
        """Number of spatial axes (1, 2 or 3)."""
        return len(self.spatial)

    @functools.cached_property
    def eff_kernel(self) -> tuple[int, ...]:
        """Dilated kernel extent ``(k - 1) * d + 1`` per axis."""
        return tuple((k - 1) * d + 1 for k, d in zip(self.kernel, self.dilations))

    @functools.cached_property
    def group_in(self) -> int:
        """Input channels per group (``filters.shape[-2]``)."""
        return self.in_channels // self.groups

    @functools.cached_property
    def group_out(self) -> int:
        """Output channels per group."""
        return self.out_channels // self.groups

    @functools.cached_property
    def used_extent(self) -> tuple[int, ...]:
        """Padded-input rows actually read: ``(out - 1) * s + eff`` per axis."""
        return tuple(
            (o - 1) * s + e for o, s, e in zip(self.out_spatial, self.strides, self.eff_kernel)
        )

    @functools.cached_property
    def input_shape(self) -> tuple[int, ...]:
        """Channels-last input shape ``(N, *spatial, C_in)``."""
        return (self.batch, *self.spatial, self.in_channels)

    @functools.cached_property
    def output_shape(self) -> tuple[int, ...]:
        """Channels-last output shape ``(N, *out_spatial, C_out)``."""
        return (self.batch, *self.out_spatial, self.out_channels)

    @functools.cached_property
    def filters_shape(self) -> tuple[int, ...]:
        """Filter shape ``(*kernel, C_in / groups, C_out)``."""
        return (*self.kernel, self.group_in, self.out_channels)

    @functools.cached_property
    def is_empty(self) -> bool:
        """True when the output has no elements (or nothing to sum over)."""
        return math.prod(self.output_shape) == 0

    @functools.cached_property
    def macs(self) -> int:
        """Multiply-adds of the direct method: one per output and filter tap."""
        return math.prod(self.output_shape) * math.prod(self.kernel) * self.group_in


def batch_row_chunks(batch: int, rows: int, rows_per_chunk: int):
    """Split ``batch`` images of ``rows`` rows into chunks of about ``rows_per_chunk`` rows.

    Whole images are grouped while one fits; otherwise each image is cut into
    row ranges.  Yields ``(n0, n1, r0, r1)``.

    Examples
    --------
    >>> list(batch_row_chunks(3, 4, 8))
    [(0, 2, 0, 4), (2, 3, 0, 4)]
    >>> list(batch_row_chunks(1, 5, 2))
    [(0, 1, 0, 2), (0, 1, 2, 4), (0, 1, 4, 5)]
    """
    rows_per_chunk = max(rows_per_chunk, 1)
    if rows_per_chunk >= rows:
        images = rows_per_chunk // max(rows, 1)
        for n0 in range(0, batch, images):
            yield n0, min(n0 + images, batch), 0, rows
        return
    for n in range(batch):
        for r0 in range(0, rows, rows_per_chunk):
            yield n, n + 1, r0, min(r0 + rows_per_chunk, rows)
