"""A convolution layer's forward pass and its two gradients, for the framework edges.

:mod:`fftconv.torch` and :mod:`fftconv.jax` hand numpy arrays (views of their
tensors, in the framework's own layout) to the three functions here:

* :func:`forward` is :func:`~fftconv.conv2d` (or 1-D, 3-D) with explicit
  ``(before, after)`` pads filled in ``padding_mode``;
* :func:`input_gradient` is :func:`~fftconv.conv2d_backprop_input`;
* :func:`filter_gradient` is :func:`~fftconv.conv2d_backprop_filter`.

The gradient ops know zero pads only.  With another ``padding_mode`` the
forward reads the padded input without making it (:mod:`fftconv._shapes.padding`),
and the gradients treat the layer as the padding map ``P`` followed by a VALID
convolution: the filter gradient correlates the padded input ``P x`` with the
output gradient, and the input gradient is the VALID transpose folded back
through ``P``'s adjoint (:func:`fold_pads`), which adds every padded sample's
gradient onto the input sample it copies.

Filters are ``(*kernel, C_in / groups, C_out)`` as everywhere in fftconv; a
view (a framework's ``(C_out, C_in / groups, *kernel)`` weights transposed) is
read as it is.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from fftconv._ops.filter_gradient import conv1d_backprop_filter, conv2d_backprop_filter, conv3d_backprop_filter
from fftconv._ops.forward import conv1d, conv2d, conv3d
from fftconv._ops.transpose import conv1d_backprop_input, conv2d_backprop_input, conv3d_backprop_input
from fftconv._shapes.padding import ALIASES, source_index

__all__ = ["LayerGeometry", "forward", "input_gradient", "filter_gradient", "pad_input", "fold_pads"]

_FORWARD = {1: conv1d, 2: conv2d, 3: conv3d}
_INPUT_GRADIENT = {1: conv1d_backprop_input, 2: conv2d_backprop_input, 3: conv3d_backprop_input}
_FILTER_GRADIENT = {1: conv1d_backprop_filter, 2: conv2d_backprop_filter, 3: conv3d_backprop_filter}


@dataclass(frozen=True)
class LayerGeometry:
    """One layer's options, already checked by the edge that builds it.

    Attributes
    ----------
    strides, dilations : tuple of int
        One per spatial axis.
    pads : tuple of (int, int)
        ``(before, after)`` per spatial axis, both non-negative.
    groups : int
    padding_mode : str
        :func:`numpy.pad`'s name or torch's (``"zeros"``, ``"circular"``, ``"replicate"``).
    data_format : str
        fftconv's name of the arrays' layout: ``"NCHW"``, ``"NHWC"``, ``"NCW"``, ...
    method : str
        fftconv's ``method``.
    """

    strides: tuple
    pads: tuple
    dilations: tuple
    groups: int
    padding_mode: str = "constant"
    data_format: str = "NCHW"
    method: str = "auto"

    @property
    def ndim(self) -> int:
        return len(self.strides)

    @property
    def mode(self) -> str:
        """``padding_mode`` in :func:`numpy.pad`'s terms."""
        return ALIASES.get(self.padding_mode, self.padding_mode)

    @property
    def spatial_axes(self) -> tuple[int, ...]:
        first = 2 if self.data_format.startswith("NC") else 1
        return tuple(range(first, first + self.ndim))

    @property
    def copies_pads(self) -> bool:
        """Whether some pad holds copies of input samples (not zeros)."""
        return self.mode != "constant" and any(lo or hi for lo, hi in self.pads)

    def _options(self, pads) -> dict:
        return dict(strides=self.strides, padding=[tuple(p) for p in pads], data_format=self.data_format,
                    dilations=self.dilations, groups=self.groups, method=self.method)

    def padded_shape(self, shape) -> tuple[int, ...]:
        shape = list(shape)
        for axis, (lo, hi) in zip(self.spatial_axes, self.pads):
            shape[axis] += lo + hi
        return tuple(shape)


_NO_PADS = {n: ((0, 0),) * n for n in (1, 2, 3)}


def forward(x: np.ndarray, w: np.ndarray, g: LayerGeometry) -> np.ndarray:
    """``y = conv(pad(x), w)``: the layer's output, an array of its own.

    Examples
    --------
    >>> g = LayerGeometry((1,), ((1, 1),), (1,), 1, "circular", "NCW")
    >>> forward(np.arange(4.0).reshape(1, 1, 4), np.ones((3, 1, 1)), g)[0, 0]
    array([4., 3., 6., 5.])
    """
    return _FORWARD[g.ndim](x, w, padding_mode=g.mode, **g._options(g.pads))


def input_gradient(x_shape, w: np.ndarray, dy: np.ndarray, g: LayerGeometry) -> np.ndarray:
    """The gradient of the layer's output with respect to ``x`` (of ``x_shape``), for ``dy``.

    Examples
    --------
    >>> g = LayerGeometry((1,), ((1, 1),), (1,), 1, "circular", "NCW")
    >>> input_gradient((1, 1, 4), np.ones((3, 1, 1)), np.eye(4)[None, :1], g)[0, 0]
    array([1., 1., 0., 1.])
    """
    grad = _INPUT_GRADIENT[g.ndim]
    if not g.copies_pads:
        return grad(tuple(x_shape), w, dy, **g._options(g.pads))
    dxp = grad(g.padded_shape(x_shape), w, dy, **g._options(_NO_PADS[g.ndim]))
    return fold_pads(dxp, x_shape, g)


def filter_gradient(x: np.ndarray, w_shape, dy: np.ndarray, g: LayerGeometry) -> np.ndarray:
    """The gradient of the layer's output with respect to its filters ``(*kernel, C_in / groups, C_out)``.

    Examples
    --------
    >>> g = LayerGeometry((1,), ((1, 1),), (1,), 1, "replicate", "NCW")
    >>> filter_gradient(np.arange(4.0).reshape(1, 1, 4), (3, 1, 1), np.ones((1, 1, 4)), g)[:, 0, 0]
    array([3., 6., 9.])
    """
    grad = _FILTER_GRADIENT[g.ndim]
    if not g.copies_pads:
        return grad(x, tuple(w_shape), dy, **g._options(g.pads))
    return grad(pad_input(x, g), tuple(w_shape), dy, **g._options(_NO_PADS[g.ndim]))


def pad_input(x: np.ndarray, g: LayerGeometry) -> np.ndarray:
    """``x`` padded along its spatial axes as ``numpy.pad`` pads it in ``g.padding_mode``."""
    pads = [(0, 0)] * x.ndim
    for axis, pair in zip(g.spatial_axes, g.pads):
        pads[axis] = tuple(pair)
    return np.pad(x, pads, mode=g.mode)


def fold_pads(dxp: np.ndarray, x_shape, g: LayerGeometry) -> np.ndarray:
    """The adjoint of :func:`pad_input`: each padded sample's gradient added onto its source.

    ``dxp`` has the padded shape; the result has ``x_shape`` and owns its memory.

    Examples
    --------
    >>> g = LayerGeometry((1,), ((2, 1),), (1,), 1, "reflect", "NCW")
    >>> fold_pads(np.arange(1.0, 7.0).reshape(1, 1, 6), (1, 1, 3), g)[0, 0]
    array([ 3., 12.,  6.])
    """
    out = dxp
    for axis, (lo, hi) in zip(g.spatial_axes, g.pads):
        n = x_shape[axis]
        if not (lo or hi):
            continue
        source = source_index(n, lo, hi, g.mode)
        folded = np.array(_take(out, axis, slice(lo, lo + n)))
        for j in itertools.chain(range(lo), range(lo + n, lo + n + hi)):
            if source[j] >= 0:
                folded[_at(axis, source[j])] += out[_at(axis, j)]
        out = folded
    return out if out is not dxp else np.array(dxp)


def _at(axis: int, index) -> tuple:
    return (slice(None),) * axis + (index,)


def _take(a: np.ndarray, axis: int, index) -> np.ndarray:
    return a[_at(axis, index)]
