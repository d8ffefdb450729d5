"""The embedded default backend: :mod:`scipy.fft` (pocketfft).

With ``out=`` the transforms write into the caller's array through pocketfft's
own binding, which scipy.fft's public functions call but do not expose with
an output argument.  That binding is private to scipy, so it is looked up
once and checked; where it is missing or different, ``out`` is filled by a
copy of the public functions' result instead.
"""

from __future__ import annotations

import inspect
import re

import numpy as np
import scipy.fft

from fftconv._runtime.arrays import (COMPLEX_TO_REAL, REAL_TO_COMPLEX, check_out, complex_dtype, real_dtype, resized,
                       spectrum_shape)


def _find_pocketfft():
    """scipy's pocketfft binding, if its transforms take the arguments used here; else None."""
    try:
        from scipy.fft._pocketfft import pypocketfft as pocketfft
    except ImportError:
        return None
    wanted = {"a", "axes", "forward", "inorm", "out", "nthreads"}
    for name, extra in (("r2c", set()), ("c2c", set()), ("c2r", {"lastsize"})):
        signature = (inspect.getdoc(getattr(pocketfft, name, None)) or "").split("\n", 1)[0]
        if not wanted | extra <= set(re.findall(r"(\w+):", signature)):
            return None
    return pocketfft


#: scipy's pocketfft binding when usable with ``out=``, else None.
POCKETFFT = _find_pocketfft()
_NO_NORM, _BY_N = 0, 2  # pocketfft's ``inorm``: none, or divide by the transformed length


class ScipyBackend:
    """Transforms through :mod:`scipy.fft`'s pocketfft.

    ``rfftn(a, axes, workers, shape=None, out=None)``,
    ``irfftn(a, shape, axes, workers, out=None, keep=None)`` and their
    complex-to-complex counterparts ``fftn`` and ``ifftn``: see
    :mod:`fftconv.backends`.  The inverses may overwrite ``a``; with ``keep``
    they run their last pass only over the kept rows.

    Examples
    --------
    >>> import numpy as np
    >>> from fftconv.backends._scipy import ScipyBackend
    >>> backend = ScipyBackend()
    >>> x = np.arange(12.0).reshape(4, 3)
    >>> spectrum = backend.rfftn(x, axes=(0, 1), workers=1)
    >>> y = np.empty((4, 3))
    >>> backend.irfftn(spectrum, (4, 3), axes=(0, 1), workers=1, out=y) is y
    True
    >>> bool(np.allclose(y, x))
    True
    """

    name = "scipy"
    #: pocketfft vectorises across lines: transforms over the leading axes suit it.
    batch_first = False
    #: pocketfft reads ``a`` and writes ``out`` through their strides, whatever they are.
    strided = True

    def rfftn(self, a, axes, workers, shape=None, out=None):
        if out is not None:
            lengths = [a.shape[ax] for ax in axes] if shape is None else shape
            check_out(out, a, spectrum_shape(resized(a.shape, axes, lengths), axes),
                      REAL_TO_COMPLEX[real_dtype(a)], contiguous=False)
        if shape is not None:
            return _fill(out, self._padded_rfftn(a, axes, workers, shape))
        if out is None or POCKETFFT is None or a.dtype not in REAL_TO_COMPLEX:
            return _fill(out, scipy.fft.rfftn(a, axes=axes, workers=workers))
        return POCKETFFT.r2c(a, axes=list(axes), forward=True, inorm=_NO_NORM, out=out, nthreads=workers)

    def fftn(self, a, axes, workers, shape=None, out=None):
        dtype = complex_dtype(a)
        if out is not None:
            lengths = [a.shape[ax] for ax in axes] if shape is None else shape
            check_out(out, a, resized(a.shape, axes, lengths), dtype, contiguous=False)
        if shape is not None:
            return _fill(out, _padded(scipy.fft.fft, a, axes, workers, shape))
        if out is None or POCKETFFT is None or a.dtype != dtype:
            return _fill(out, scipy.fft.fftn(a, axes=axes, workers=workers))
        return POCKETFFT.c2c(a, axes=list(axes), forward=True, inorm=_NO_NORM, out=out, nthreads=workers)

    def ifftn(self, a, axes, workers, out=None, keep=None):
        axes, dtype = list(axes), complex_dtype(a)
        if out is not None:
            check_out(out, a, a.shape, dtype, contiguous=False)
        if out is None or POCKETFFT is None or a.dtype != dtype or not a.flags.writeable:
            return _fill(out, scipy.fft.ifftn(a, axes=axes, workers=workers))
        # as irfftn: in place, each pass over what the later ones read, the last into ``out``
        kept = list(keep or [a.shape[ax] for ax in axes[:-1]])
        for i, axis in enumerate(axes[:-1]):
            rows = _leading(a, axes[:i], kept[:i])
            POCKETFFT.c2c(rows, axes=[axis], forward=False, inorm=_BY_N, out=rows, nthreads=workers)
        POCKETFFT.c2c(_leading(a, axes[:-1], kept), axes=axes[-1:], forward=False, inorm=_BY_N,
                      out=_leading(out, axes[:-1], kept), nthreads=workers)
        return out

    @staticmethod
    def _padded_rfftn(a, axes, workers, shape):
        return _padded(scipy.fft.rfft, a, axes, workers, shape)

    @staticmethod
    def extra_bytes(operand: int, result: int, *, padded: int = 0, first_pass: int = 0) -> int:
        """Transient bytes a transform needs beyond its operand and result: none (pocketfft
        works in place, with per-thread line buffers), but for a zero-padded transform
        (``rfftn(shape=...)``) the result of its pruned first pass."""
        return first_pass

    def irfftn(self, a, shape, axes, workers, out=None, keep=None):
        axes = list(axes)
        if out is not None:
            check_out(out, a, resized(a.shape, axes, shape), COMPLEX_TO_REAL[complex_dtype(a)],
                      contiguous=False)
        exact = [a.shape[ax] for ax in axes] == [*shape[:-1], shape[-1] // 2 + 1]
        direct = exact and a.flags.writeable and a.dtype in COMPLEX_TO_REAL
        if out is None or POCKETFFT is None or not direct:
            return _fill(out, scipy.fft.irfftn(a, s=shape, axes=axes, workers=workers,
                                               overwrite_x=True))
        # The complex passes in place, each over what the later passes read:
        # with ``keep``, the last pass runs on the kept rows only.
        kept = list(keep or shape[:-1])
        for i, axis in enumerate(axes[:-1]):
            rows = _leading(a, axes[:i], kept[:i])
            POCKETFFT.c2c(rows, axes=[axis], forward=False, inorm=_BY_N, out=rows, nthreads=workers)
        POCKETFFT.c2r(_leading(a, axes[:-1], kept), axes=axes[-1:], lastsize=shape[-1], forward=False,
                      inorm=_BY_N, out=_leading(out, axes[:-1], kept), nthreads=workers)
        return out

    def __repr__(self):
        return "ScipyBackend()"


def _padded(first, a, axes, workers, shape):
    """``a`` zero-padded to ``shape`` and transformed, ``first`` (rfft or fft) along the last axis:
    one axis at a time, last first, so that each pass runs only over the extent the earlier
    passes made nonzero."""
    out = first(a, n=shape[-1], axis=axes[-1], workers=workers)
    for axis, n in zip(axes[-2::-1], shape[-2::-1]):
        out = scipy.fft.fft(out, n=n, axis=axis, workers=workers, overwrite_x=True)
    return out


def _leading(a, axes, lengths):
    """The view of ``a`` cut to its first ``lengths`` entries along ``axes``."""
    index = [slice(None)] * a.ndim
    for axis, n in zip(axes, lengths):
        index[axis] = slice(n)
    return a[tuple(index)]


def _fill(out, result):
    """``result``, or ``out`` (already checked) holding it."""
    if out is None:
        return result
    np.copyto(out, result)
    return out
