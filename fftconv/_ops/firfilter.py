"""scipy.signal's FIR filter with state, planned: :func:`firfilter`.

``firfilter(b, x, axis, zi)`` is ``scipy.signal.lfilter(b, 1.0, x, axis, zi)``: the
same definition, shapes, dtypes, ``zi`` convention and return values. scipy
runs it as one :func:`numpy.convolve` per line. Here a filter of at most
:data:`NUMPY_TAPS` taps does the same (numpy's loop is the fastest way for
them); a longer one runs as one :func:`fftconv.convolve` along ``axis``, whose
planner picks the direct or the FFT method for the filter length and the
batch. ``zi`` is added to the first ``len(b) - 1`` outputs of the full
convolution, as scipy does.
"""

from __future__ import annotations

import numbers

import numpy as np

from fftconv import _checks
from fftconv._ops.signal import convolve

__all__ = ["firfilter", "NUMPY_TAPS"]

#: Filters of at most this many taps run :func:`numpy.convolve` line by line (lfilter's own loop).
#: Side by side on the development machine (2026-12-07, 2 cores under a load of 10, float64, lines
#: of 4,000 to 100,000 samples, one and eight lines), numpy's loop ran as fast as lfilter and faster
#: than fftconv.convolve up to 128 taps; from 256 taps fftconv.convolve ran 1.5-3x faster.
NUMPY_TAPS = 128


def firfilter(b, x, axis=-1, zi=None):
    """Filter ``x`` along ``axis`` with the FIR filter ``b``: :func:`scipy.signal.lfilter` with ``a = 1``.

    ``y[n] = sum_k b[k] x[n - k]`` along ``axis`` (samples before the first are
    zero), plus ``zi[n]`` for ``n < len(b) - 1`` when ``zi`` is given; ``zf`` holds
    what the filter still owes the next samples, so that filtering a signal in
    blocks, each block's ``zf`` the next block's ``zi``, gives the outputs of one
    call. Planned per call: up to :data:`NUMPY_TAPS` taps, numpy's loop line by
    line (as lfilter runs it); longer filters, the direct or the FFT method,
    whichever :func:`fftconv.convolve`'s planner predicts faster.

    Parameters
    ----------
    b : array_like
        The filter taps, 1-D and not empty (a scalar counts as one tap).
    x : array_like
        The signal, at least 1-D; every line along ``axis`` is filtered.
    axis : int
        The axis to filter along (default -1).
    zi : array_like, optional
        Initial state, of ``x``'s shape with ``len(b) - 1`` along ``axis``; other
        axes may have size 1 to broadcast (scipy's rule). ``None``: zeros, and only
        ``y`` is returned.

    Returns
    -------
    y : ndarray
        ``x``'s shape, of ``numpy.result_type(b, 1.0, x, zi)`` as in scipy: float64
        for real inputs (float32, float16, integers and bools included), complex128
        for complex ones. Integer ``b`` and ``x`` give exact integers (computed in
        float64 and rounded where the rounding is provably exact, else by direct
        float64 sums), as long as the exact sums fit float64.
    zf : ndarray
        Only with ``zi``: the final state, ``zi``'s full shape.

    Raises
    ------
    ValueError
        ``b`` not 1-D or empty; ``x`` 0-d; ``zi`` of the wrong shape; ``axis`` out
        of range (:class:`numpy.exceptions.AxisError`, a ValueError, as scipy raises).
    TypeError
        Non-numeric arrays, or dtypes scipy runs but fftconv does not (longdouble, object).

    See Also
    --------
    StreamConvolver : the same filter over a stream of chunks, with its state kept.
    fftconv.convolve

    Notes
    -----
    NaN and Inf stay local. Up to :data:`NUMPY_TAPS` taps the outputs are
    lfilter's, infinities included; for longer filters an output whose window
    holds a NaN or an Inf is NaN (where lfilter may give an infinity), and
    every other output is as if they were not there (see :doc:`/numerics`).

    Examples
    --------
    >>> import numpy as np, scipy.signal, fftconv
    >>> fftconv.firfilter([1.0, 0.5], [1.0, 2.0, 3.0])
    array([1. , 2.5, 4. ])
    >>> y, zf = fftconv.firfilter([1.0, 0.5], [1.0, 2.0, 3.0], zi=[10.0])
    >>> y, zf
    (array([11. ,  2.5,  4. ]), array([1.5]))

    A long filter over a signal in two blocks, the state carried between them:

    >>> rng = np.random.default_rng(0)
    >>> taps, x = rng.standard_normal(2001), rng.standard_normal((2, 20000))
    >>> zi = np.zeros((2, 2000))
    >>> y1, zi = fftconv.firfilter(taps, x[:, :7000], zi=zi)
    >>> y2, zi = fftconv.firfilter(taps, x[:, 7000:], zi=zi)
    >>> bool(np.allclose(np.concatenate([y1, y2], axis=1), scipy.signal.lfilter(taps, 1.0, x)))
    True
    """
    b = np.atleast_1d(_checks.as_array("b", b))
    x = _checks.as_array("x", x)
    if b.ndim != 1 or b.size == 0:
        raise ValueError(f"`b` must be a non-empty 1-D array of filter taps; got shape {b.shape}")
    if x.ndim == 0:
        raise ValueError("`x` must be at least 1-D; got a 0-d array")
    axis = _check_axis(axis, x.ndim)
    taps = b.shape[0]
    if zi is not None:
        zi = _check_zi(_checks.as_array("zi", zi), x.shape, axis, taps)
    dtype = np.result_type(b.dtype, np.float64, x.dtype, *(() if zi is None else (zi.dtype,)))
    full = _full(b, x, axis, dtype)
    n = x.shape[axis]
    if zi is not None:
        full[_along(x.ndim, axis, slice(0, taps - 1))] += zi
    y = full[_along(x.ndim, axis, slice(0, n))].copy()  # owned, C-contiguous
    if zi is None:
        return y
    return y, full[_along(x.ndim, axis, slice(n, None))].copy()


def _check_axis(axis, ndim: int) -> int:
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"`axis` must be an int; got {type(axis).__name__} {axis!r}")
    if not -ndim <= axis < ndim:
        raise np.exceptions.AxisError(f"`axis` must be from {-ndim} to {ndim - 1} for `x` of ndim={ndim}; "
                                      f"got {axis}")
    return int(axis) % ndim


def _check_zi(zi: np.ndarray, shape, axis: int, taps: int) -> np.ndarray:
    """``zi`` as a view of the expected shape: ``x``'s with ``taps - 1`` along ``axis``, size-1 axes
    elsewhere broadcast (scipy's rule)."""
    expected = tuple(taps - 1 if i == axis else n for i, n in enumerate(shape))
    if zi.ndim != len(shape):
        raise ValueError(f"`zi` must have as many dimensions as `x` (ndim={len(shape)}), with shape "
                         f"{expected}; got ndim={zi.ndim} with shape {zi.shape}")
    fits = all(z == e or (i != axis and z == 1) for i, (z, e) in enumerate(zip(zi.shape, expected)))
    if not fits:
        raise ValueError(f"`zi` must have shape {expected} (len(b) - 1 = {taps - 1} along axis {axis}, size 1 "
                         f"allowed on the other axes); got shape {zi.shape}")
    return np.broadcast_to(zi, expected)


def _along(ndim: int, axis: int, index) -> tuple:
    return tuple(index if i == axis else slice(None) for i in range(ndim))


def _full(b: np.ndarray, x: np.ndarray, axis: int, dtype: np.dtype) -> np.ndarray:
    """The full convolution along ``axis`` (``n + taps - 1`` samples), a new array of ``dtype``."""
    taps = b.shape[0]
    shape = tuple(n + taps - 1 if i == axis else n for i, n in enumerate(x.shape))
    if x.size == 0:
        return np.zeros(shape, dtype)
    if taps <= NUMPY_TAPS:  # lfilter's own loop, in its dtype (float64 sums of integers are exact)
        lines = np.moveaxis(x, axis, -1)
        full = np.empty((*lines.shape[:-1], shape[axis]), dtype)
        kernel = b.astype(dtype)
        flat_in, flat_out = lines.reshape(-1, lines.shape[-1]), full.reshape(-1, shape[axis])
        for line, row in zip(flat_in, flat_out):
            row[...] = np.convolve(line.astype(dtype, copy=False), kernel)
        return np.moveaxis(full, -1, axis)
    integer = b.dtype.kind in "biu" and x.dtype.kind in "biu"
    work = np.int64 if integer else dtype  # int64 in, exact int64 out (fftconv's integer rule)
    kernel = b.astype(work, copy=False).reshape(tuple(taps if i == axis else 1 for i in range(x.ndim)))
    full = convolve(x.astype(work, copy=False), kernel, mode="full", axes=axis)
    return full.astype(dtype) if full.dtype != dtype or not full.flags.owndata else full
