"""Complex convolutions as exact real ones: the embedding every method runs.

A complex correlation ``y = sum x[i + k] * w[k]`` (no conjugation, as
TensorFlow's and torch's) is a real correlation of real arrays built from the
real and imaginary parts, so each method, present or future, runs complex
data without knowing it.  Which embedding depends on what is complex:

``"input"`` (complex input, real filters)
    The real and imaginary parts are extra batch entries: ``2N`` real images,
    the first ``N`` the real parts.  ``y = conv(re x, w) + i conv(im x, w)``.
``"filters"`` (real input, complex filters)
    The real and imaginary filters are extra output channels: output channel
    ``o`` of a group becomes the pair ``(2o, 2o + 1)`` = ``(re, im)``.
``"both"``
    Per group, each input channel becomes the pair ``(re, im)`` and each
    filter tap the block ``[[wr, wi], [-wi, wr]]`` (rows: input part, columns:
    output part), giving the output pair ``(re, im)``:
    ``re y = xr * wr - xi * wi``, ``im y = xr * wi + xi * wr``.

The pairs sit next to each other in memory, as numpy stores a complex
number, so a contiguous complex input is its ``"both"`` embedding without a
copy, and the real result of the ``"filters"`` and ``"both"`` embeddings is
the complex result's memory.  Every output is a sum of the same products as
the complex sum, so the accuracy is that of a real convolution in the same
precision (float32 for complex64, float64 for complex128).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from numpy.lib.stride_tricks import as_strided

from fftconv._shapes.geometry import ConvGeometry

__all__ = ["KINDS", "embedding", "real_dtype", "embedded_geometry", "embed_input", "embed_filters",
           "combine", "accepts"]

#: The embeddings, by what is complex.
KINDS = ("input", "filters", "both")

_REAL = {np.dtype(np.complex64): np.dtype(np.float32), np.dtype(np.complex128): np.dtype(np.float64)}


def embedding(input_dtype, filters_dtype) -> str | None:
    """The embedding for these dtypes: None when neither is complex.

    Examples
    --------
    >>> embedding(np.complex64, np.float32), embedding(np.float32, np.complex128)
    ('input', 'filters')
    >>> embedding(np.complex64, np.complex64), embedding(np.float32, np.int8)
    ('both', None)
    """
    x, w = np.dtype(input_dtype).kind == "c", np.dtype(filters_dtype).kind == "c"
    return {(True, False): "input", (False, True): "filters", (True, True): "both"}.get((x, w))


def real_dtype(dtype) -> np.dtype:
    """The real precision a complex (or real) compute dtype runs in.

    Examples
    --------
    >>> real_dtype(np.complex64), real_dtype(np.float64)
    (dtype('float32'), dtype('float64'))
    """
    dtype = np.dtype(dtype)
    return _REAL.get(dtype, dtype)


def accepts(kind: str | None, input_dtype, filters_dtype) -> bool:
    """Whether arrays of these dtypes can run through ``kind``: a complex array where the
    embedding expects a real one cannot (a real one where it expects complex can: its
    imaginary part is zero)."""
    x, w = np.dtype(input_dtype).kind == "c", np.dtype(filters_dtype).kind == "c"
    return not ((x and kind not in ("input", "both")) or (w and kind not in ("filters", "both")))


def embedded_geometry(geom: ConvGeometry, kind: str | None) -> ConvGeometry:
    """The real convolution that ``kind`` runs for the complex one of ``geom``.

    Examples
    --------
    >>> from fftconv._checks import check_geometry
    >>> g = check_geometry((3, 8, 2), (3, 2, 4), 1, 1, "SAME", "NWC", 1, None, False)
    >>> [embedded_geometry(g, k).input_shape for k in KINDS]
    [(6, 8, 2), (3, 8, 2), (3, 8, 4)]
    >>> [embedded_geometry(g, k).filters_shape for k in KINDS]
    [(3, 2, 4), (3, 2, 8), (3, 4, 8)]
    """
    if kind is None:
        return geom
    if kind == "input":
        return dataclasses.replace(geom, batch=2 * geom.batch)
    channels = 2 if kind == "both" else 1
    return dataclasses.replace(geom, in_channels=channels * geom.in_channels,
                               out_channels=2 * geom.out_channels)


def embed_input(x: np.ndarray, kind: str | None) -> np.ndarray:
    """A channels-last input ``(N, *spatial, C)`` as the real input of ``kind``.

    A view where the memory allows it (read-only then), else a new array; a
    real input is returned as it is, and so is a complex one given to
    ``"both"`` with a contiguous channel axis.  A real input given to an
    embedding for complex ones gets a zero imaginary part.
    """
    if kind is None or kind == "filters":
        return x
    if x.dtype.kind != "c":
        x = x.astype(np.result_type(x.dtype, np.complex64))
    parts = _parts(x)  # (N, *spatial, C, 2): (re, im) of each value, a view
    if kind == "both":
        n = x.shape[-1]
        if parts.strides[-2] == 2 * parts.strides[-1]:
            return as_strided(parts, (*x.shape[:-1], 2 * n), (*parts.strides[:-2], parts.strides[-1]),
                              writeable=False)
        return parts.reshape(*x.shape[:-1], 2 * n)
    if x.shape[0] == 1:  # the two parts as two images of one, without a copy
        return as_strided(parts[..., 0], (2, *x.shape[1:]), (parts.strides[-1], *x.strides[1:]),
                          writeable=False)
    return np.concatenate([parts[..., 0], parts[..., 1]])


def _parts(x: np.ndarray) -> np.ndarray:
    """``(*shape, 2)``: the real and imaginary parts of complex ``x`` along a last axis, a view."""
    real = x.real
    return as_strided(real, (*x.shape, 2), (*x.strides, real.itemsize), writeable=False)


def embed_filters(w: np.ndarray, kind: str | None, groups: int, dtype) -> np.ndarray:
    """Filters ``(*kernel, C_in/G, C_out)`` as the real filters of ``kind``, a new array in ``dtype``.

    Examples
    --------
    >>> w = np.array([[[1 + 2j]]])                   # one tap, one channel in and out
    >>> embed_filters(w, "both", 1, np.float64)[0]   # rows: input (re, im); columns: output (re, im)
    array([[ 1.,  2.],
           [-2.,  1.]])
    >>> embed_filters(w, "filters", 1, np.float64)[0]
    array([[1., 2.]])
    """
    if kind is None or kind == "input":
        return np.array(w, dtype=dtype, order="C")
    wr, wi = np.real(w), np.imag(w)
    if kind == "filters":
        return np.ascontiguousarray(np.stack([wr, wi], axis=-1), dtype=dtype).reshape(
            *w.shape[:-1], 2 * w.shape[-1])
    out = np.empty((*w.shape[:-1], 2, w.shape[-1], 2), dtype=dtype)  # (..., c, part in, o, part out)
    out[..., 0, :, 0] = wr
    out[..., 1, :, 0] = -wi
    out[..., 0, :, 1] = wi
    out[..., 1, :, 1] = wr
    return out.reshape(*w.shape[:-2], 2 * w.shape[-2], 2 * w.shape[-1])


def combine(y: np.ndarray, kind: str | None, dtype) -> np.ndarray:
    """The complex result ``(N, *out, C_out)`` in ``dtype`` from the real result of ``kind``.

    For ``"filters"`` and ``"both"`` a C-contiguous real result is viewed as
    complex (its channel pairs are the complex values), and where it already
    is the real view of a complex array of the result's shape (the FFT
    method's complex pairs), that array is returned; for ``"input"`` the two
    halves of the batch are written into a new array.
    """
    if kind is None:
        return y
    if kind == "input":
        n = y.shape[0] // 2
        out = np.empty((n, *y.shape[1:]), dtype=dtype)
        out.real, out.imag = y[:n], y[n:]
        return out
    base = y.base  # the FFT method's complex pairs: the complex array it computed, viewed as real
    if (isinstance(base, np.ndarray) and base.dtype == dtype and base.flags.owndata and y.flags.c_contiguous
            and base.shape == (*y.shape[:-1], y.shape[-1] // 2) and base.ctypes.data == y.ctypes.data):
        return base
    if y.flags.c_contiguous and y.dtype == real_dtype(dtype):
        return y.view(dtype)
    pairs = y.reshape(*y.shape[:-1], -1, 2)
    out = np.empty(pairs.shape[:-1], dtype=dtype)
    out.real, out.imag = pairs[..., 0], pairs[..., 1]
    return out


def extra_parts(geom: ConvGeometry, kind: str | None, itemsize: int, channels_first: bool = False):
    """``(embedded input, channels-first result)``: the two parts of :func:`extra_bytes`, the
    first freed once the real run has read it, the second made after it."""
    if kind is None:
        return 0, 0
    complex_size = 2 * itemsize
    x = geom.batch * math.prod(geom.spatial) * geom.in_channels * complex_size
    y = math.prod(geom.output_shape) * complex_size
    copied_in = (kind == "input" and geom.batch > 1) or (kind == "both" and channels_first)
    return x * copied_in, y * (kind == "input" and channels_first)


def extra_bytes(geom: ConvGeometry, kind: str | None, itemsize: int, channels_first: bool = False) -> int:
    """Bytes the embedding allocates beside the real run, for C-contiguous arrays: the embedded
    input where it is a copy (the parts of a batch of several images; a channels-first input's
    channel pairs), and the complex result of ``"input"`` when it is copied again to
    channels-first order.  The result's own copy (or, for ``"input"``, its assembly) is the
    run's final copy (see :func:`fftconv._engine.plan.predicted_peak_bytes`)."""
    if kind is None:
        return 0
    complex_size = 2 * itemsize
    x = geom.batch * math.prod(geom.spatial) * geom.in_channels * complex_size
    y = math.prod(geom.output_shape) * complex_size
    copied_in = (kind == "input" and geom.batch > 1) or (kind == "both" and channels_first)
    return x * copied_in + y * (kind == "input" and channels_first)
