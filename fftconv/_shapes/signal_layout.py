"""How a :func:`scipy.signal.convolve`-style call maps onto fftconv's engine: pure integer arithmetic.

scipy.signal convolves two arrays of the same number of dimensions along
``axes`` and broadcasts along the others. Every output of every mode is a
piece of the *full* convolution: along each axis, the outputs
``[start, start + length)`` of the full one (:func:`window`). The engine
(:func:`fftconv.conv1d` / ``conv2d`` / ``conv3d`` with ``flip=True``) computes
``y[o] = sum_u x[o + k - 1 - lo - u] * w[u]``, i.e. output ``o`` of the engine is
output ``o + k - 1 - lo`` of the full convolution of ``x`` and ``w``, so the
window is reached with ``lo = k - 1 - start`` zeros before and as many after as
make ``length`` outputs (:func:`conv_axis`).

Each axis is one of five kinds (:func:`layout`):

``"conv"``
    in ``axes`` and longer than 1 in both arrays: a spatial axis of the engine;
``"in1"``, ``"in2"``
    longer than 1 in one array only (a broadcast axis, or an axis of ``axes``
    along which one array has one sample, which scipy also treats as a
    broadcast): the other array's single sample meets each of its samples.
    With pads that are not zeros, an axis of ``axes`` where ``in1`` has one
    sample is no broadcast (numpy.pad repeats that sample into every pad):
    :func:`fftconv.convolve` sums ``in2`` along it before the layout is made.
    Along the engine's input it becomes the batch ``N``; along the engine's
    filters, extra output channels per input channel (``M``, as a depthwise
    multiplier);
``"both"``
    not in ``axes``, equally long in both: paired samples, the engine's
    channels ``C`` with ``groups=C`` (a different kernel for each);
``"none"``
    one sample in both.

Convolution is commutative, so either array may be the engine's filters:
the one that leaves fewer filter taps is (for ``"valid"``, the smaller one).
With a ``padding_mode`` other than zeros the pads hold samples of ``in1``,
which then stays the input (``"valid"`` has no pads). With zeros, filter taps
that would only ever meet pads are cut away, and so are input samples that no
output reads: ``"same"`` with a kernel far larger than the input then costs
what the overlap costs.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

__all__ = ["window", "conv_axis", "SignalLayout", "layout"]


def window(mode: str, p: int, q: int, conv: bool = True) -> tuple[int, int]:
    """``(start, length)`` of one axis' outputs within the full convolution of ``p`` and ``q``
    samples (``conv``), or within the broadcast of ``p`` and ``q`` samples (not ``conv``).

    scipy's rules: ``"full"`` is everything; ``"same"`` is ``p`` outputs centred as
    ``scipy.signal._signaltools._centered`` centres them (the extra output of an even
    difference goes to the end); ``"valid"`` is the ``|p - q| + 1`` outputs where one array
    covers the other. A broadcast axis is kept whole, except by ``"same"``, which keeps
    ``in1``'s ``p`` samples (centred in the same way).

    Examples
    --------
    >>> window("full", 10, 4), window("same", 10, 4), window("valid", 10, 4)
    ((0, 13), (1, 10), (3, 7))
    >>> window("same", 10, 5), window("valid", 4, 10), window("same", 1, 4, conv=False)
    ((2, 10), (3, 7), (1, 1))
    """
    if not conv:
        whole = max(p, q)
        return ((whole - p) // 2, p) if mode == "same" else (0, whole)
    full = p + q - 1
    if mode == "full":
        return 0, full
    length = p if mode == "same" else abs(p - q) + 1
    return (full - length) // 2, length


def conv_axis(n: int, k: int, start: int, length: int, zeros: bool):
    """The engine's reads along one convolution axis: ``((x0, x1), (u0, u1), (lo, hi))``.

    Outputs ``[start, start + length)`` of the full convolution of ``n`` input samples with
    ``k`` filter taps come from the input samples ``[x0, x1)``, the taps ``[u0, u1)`` (in
    filter order) and ``lo``, ``hi`` pads. With ``zeros`` (the pads hold zeros), taps that
    only ever meet pads and samples that no output reads are cut away; otherwise the pads
    hold samples and nothing is cut.

    Examples
    --------
    >>> conv_axis(100, 5, 0, 104, True)          # "full": k - 1 pads on each side
    ((0, 100), (0, 5), (4, 4))
    >>> conv_axis(100, 4, 1, 100, True)          # "same", even kernel: 2 before, 1 after
    ((0, 100), (0, 4), (2, 1))
    >>> conv_axis(10, 1000, 499, 10, True)       # "same", kernel 100x the input: 19 taps meet it
    ((0, 10), (490, 509), (9, 9))
    >>> conv_axis(1000, 10, 499, 10, True)       # the same outputs, roles swapped: 19 samples read
    ((490, 509), (0, 10), (0, 0))
    """
    lo = k - 1 - start
    t0, t1 = 0, k  # taps in padded order: tap t reads padded position o + t, and is filter tap k - 1 - t
    if zeros:
        t0, t1 = max(0, lo - length + 1), min(k, lo + n)
    lo -= t0
    taps = t1 - t0
    hi = length + taps - 1 - n - lo
    x0, x1 = 0, n
    if lo < 0:
        x0, lo = -lo, 0
    if hi < 0:
        x1, hi = n + hi, 0
    return (x0, x1), (k - t1, k - t0), (lo, hi)


@dataclass(frozen=True)
class SignalLayout:
    """What :func:`layout` decided for one pair of shapes.

    Attributes
    ----------
    out_shape : tuple of int
        The result's shape.
    kinds : tuple of str
        Each axis' kind (see the module docstring).
    windows : tuple of (int, int)
        Each axis' ``(start, length)``: of the full convolution along ``"conv"`` axes, else
        the samples kept of the array longer than 1 there.
    swapped : bool
        True when ``in2`` is the engine's input and ``in1`` its filters.
    conv_axes : tuple of int
        The ``"conv"`` axes, in order: the engine's spatial axes.
    x_crop, w_crop, pads : tuple
        Per convolution axis: the input's samples ``(x0, x1)``, the filters' taps ``(u0, u1)``
        and the pads ``(lo, hi)`` (:func:`conv_axis`).
    """

    out_shape: tuple
    kinds: tuple
    windows: tuple
    swapped: bool
    conv_axes: tuple
    x_crop: tuple
    w_crop: tuple
    pads: tuple

    def batch_axes(self) -> tuple[int, ...]:
        """Axes along which only the engine's input varies: its batch ``N``."""
        return tuple(i for i, kind in enumerate(self.kinds) if kind == ("in2" if self.swapped else "in1"))

    def multiplier_axes(self) -> tuple[int, ...]:
        """Axes along which only the engine's filters vary: output channels per input channel."""
        return tuple(i for i, kind in enumerate(self.kinds) if kind == ("in1" if self.swapped else "in2"))

    def channel_axes(self) -> tuple[int, ...]:
        """Axes along which both vary, paired: the engine's channels (one group each)."""
        return tuple(i for i, kind in enumerate(self.kinds) if kind == "both")

    @property
    def kernel_taps(self) -> int:
        """Filter taps per output (after cropping)."""
        taps = 1
        for u0, u1 in self.w_crop:
            taps *= u1 - u0
        return taps


@functools.lru_cache(maxsize=512)
def layout(shape1: tuple, shape2: tuple, axes: tuple, mode: str, zeros: bool,
           swap_allowed: bool = True) -> SignalLayout:
    """Map a call on arrays of ``shape1`` and ``shape2`` onto the engine.

    ``shape1`` and ``shape2`` are non-empty and checked
    (:func:`fftconv._checks.check_signal_shapes`); ``axes`` are the checked convolution
    axes. ``zeros``: the pads hold zeros (``padding_mode="constant"``). The engine's input
    is the array whose (cropped) kernel would be larger, unless ``swap_allowed`` is False
    or the pads hold ``in1``'s samples.

    Examples
    --------
    >>> lay = layout((3, 256, 256), (1, 15, 15), (1, 2), "same", True)
    >>> lay.kinds, lay.out_shape, lay.pads, lay.swapped
    (('in1', 'conv', 'conv'), (3, 256, 256), ((7, 7), (7, 7)), False)
    >>> layout((20,), (1000,), (0,), "full", True).swapped      # the longer one is the input
    True
    """
    kinds, windows, out = [], [], []
    for axis, (p, q) in enumerate(zip(shape1, shape2)):
        in_axes = axis in axes
        if in_axes and p > 1 and q > 1:
            kind = "conv"
        elif p > 1 and q > 1:
            kind = "both"
        else:
            kind = "in1" if p > 1 else ("in2" if q > 1 else "none")
        start, length = window(mode, p, q, conv=in_axes)
        if kind in ("both", "none"):
            start = 0
        kinds.append(kind)
        windows.append((start, length))
        out.append(length)
    conv_axes = tuple(i for i, kind in enumerate(kinds) if kind == "conv")

    def engine(swapped):
        reads = [conv_axis(shape2[a] if swapped else shape1[a], shape1[a] if swapped else shape2[a],
                           *windows[a], zeros) for a in conv_axes]
        return tuple(zip(*reads)) if reads else ((), (), ())

    if mode == "valid":  # no pads: the larger array is the input (scipy swaps them too)
        swapped = any(shape2[a] > shape1[a] for a in conv_axes)
        x_crop, w_crop, pads = engine(swapped)
    else:
        swapped = False
        x_crop, w_crop, pads = engine(False)
        if swap_allowed and zeros:
            other = engine(True)
            if _taps(other[1]) < _taps(w_crop):
                swapped, (x_crop, w_crop, pads) = True, other
    return SignalLayout(tuple(out), tuple(kinds), tuple(windows), swapped, conv_axes, x_crop, w_crop, pads)


def _taps(crops) -> int:
    taps = 1
    for u0, u1 in crops:
        taps *= u1 - u0
    return taps
