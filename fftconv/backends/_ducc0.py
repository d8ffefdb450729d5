"""The default backend: ducc0's FFTs (a dependency of fftconv).

ducc0 (the "distinctly useful code collection" of the Max Planck Institute
for Astrophysics) transforms arrays of any strides with no planning step, in
as many threads as asked, and writes into ``out``.  So this backend, like the
scipy one, reads tiles as strided views and writes the inverse straight into
the output's memory order, and it prunes the same way: a zero-padded
filter transform runs its first pass over the kernel's own rows only, and an
inverse runs its last pass over the rows overlap-save keeps.

The module imports without ducc0 (:data:`HAVE_DUCC0` is then False), so that
fftconv still runs, on scipy's transforms, where ducc0 cannot be imported.  Where it is,
ducc0 is imported with fftconv (10 ms), not inside a user's first call.
"""

from __future__ import annotations

import importlib.util

import numpy as np

from fftconv._runtime.arrays import (COMPLEX_TO_REAL, REAL_TO_COMPLEX, check_out, complex_dtype, real_dtype, resized,
                       spectrum_shape)


def _find_ducc0() -> bool:
    try:
        return importlib.util.find_spec("ducc0") is not None
    except (ImportError, ValueError):
        return False


#: Whether ducc0 is installed; fftconv registers the backend only then.
HAVE_DUCC0 = _find_ducc0()
_NO_NORM, _BY_N = 0, 2  # ducc0's ``inorm``: none, or divide by the transformed length
if HAVE_DUCC0:
    import ducc0.fft as _fft
else:  # pragma: no cover - exercised only without the extra
    _fft = None


def _lib():
    """``ducc0.fft``."""
    return _fft


class Ducc0Backend:
    """Transforms through :mod:`ducc0.fft`: any strides, no planning, pruned passes.

    ``rfftn(a, axes, workers, shape=None, out=None)``,
    ``irfftn(a, shape, axes, workers, out=None, keep=None)`` and their
    complex-to-complex counterparts ``fftn`` and ``ifftn``: see
    :mod:`fftconv.backends`.  The inverses overwrite ``a``.

    Examples
    --------
    >>> import numpy as np
    >>> from fftconv.backends import BACKENDS
    >>> backend = BACKENDS.get("ducc0", BACKENDS["scipy"])
    >>> x = np.arange(12.0).reshape(4, 3)
    >>> y = backend.irfftn(backend.rfftn(x, axes=(0, 1), workers=1), (4, 3), axes=(0, 1), workers=1)
    >>> bool(np.allclose(y, x))
    True
    """

    name = "ducc0"
    #: ducc0 vectorises across lines whatever their order: the method keeps pocketfft's layout.
    batch_first = False
    #: ducc0 reads ``a`` and writes ``out`` through their strides.
    strided = True

    def rfftn(self, a, axes, workers, shape=None, out=None):
        return self._forward("r2c", a, axes, workers, shape, out)

    def fftn(self, a, axes, workers, shape=None, out=None):
        return self._forward("c2c", a, axes, workers, shape, out)

    def _forward(self, kind, a, axes, workers, shape, out):
        """:meth:`rfftn` (``kind="r2c"``) or :meth:`fftn` (``"c2c"``)."""
        a = np.asarray(a)
        axes = list(axes)
        real = kind == "r2c"
        dtype = REAL_TO_COMPLEX[real_dtype(a)] if real else complex_dtype(a)
        lengths = [a.shape[ax] for ax in axes] if shape is None else list(shape)
        result_shape = resized(a.shape, axes, lengths)
        result_shape = spectrum_shape(result_shape, axes) if real else result_shape
        if out is not None:
            check_out(out, a, result_shape, dtype, contiguous=False)
        else:
            out = np.empty(result_shape, dtype)
        if 0 in a.shape:
            out[...] = 0
            return out
        operand = real_dtype(a) if real else dtype
        a = a if a.dtype == operand else a.astype(operand)
        transform = getattr(_lib(), kind)
        if shape is None:
            return transform(a, axes=axes, forward=True, inorm=_NO_NORM, out=out, nthreads=workers)
        return _padded(transform, a, axes, lengths, out, workers)

    def irfftn(self, a, shape, axes, workers, out=None, keep=None):
        axes = list(axes)
        dtype = complex_dtype(a)
        result_shape = resized(a.shape, axes, shape)
        if out is not None:
            check_out(out, a, result_shape, COMPLEX_TO_REAL[dtype], contiguous=False)
        else:
            out = np.empty(result_shape, COMPLEX_TO_REAL[dtype])
        expected = [*shape[:-1], shape[-1] // 2 + 1]
        if [a.shape[ax] for ax in axes] != expected or a.dtype != dtype or not a.flags.writeable:
            a = _fit(np.asarray(a, dtype=dtype), axes, expected)
        kept = list(keep or shape[:-1])
        # the complex passes in place, each over what the later passes read; the last over kept
        # rows; each divides by its own length, so together by their product
        for i, axis in enumerate(axes[:-1]):
            rows = a[_leading_index(a.ndim, axes[:i], kept[:i])]
            _lib().c2c(rows, axes=[axis], forward=False, inorm=_BY_N, out=rows, nthreads=workers)
        _lib().c2r(a[_leading_index(a.ndim, axes[:-1], kept)], axes=axes[-1:], lastsize=shape[-1],
                   forward=False, inorm=_BY_N, out=out[_leading_index(out.ndim, axes[:-1], kept)],
                   nthreads=workers, allow_overwriting_input=True)
        return out

    def ifftn(self, a, axes, workers, out=None, keep=None):
        axes = list(axes)
        dtype = complex_dtype(a)
        if out is not None:
            check_out(out, a, a.shape, dtype, contiguous=False)
        else:
            out = np.empty(a.shape, dtype)
        if a.dtype != dtype or not a.flags.writeable:
            a = np.array(a, dtype=dtype)
        # as irfftn: in place, each pass over what the later ones read, the last into ``out``
        kept = list(keep or [a.shape[ax] for ax in axes[:-1]])
        for i, axis in enumerate(axes[:-1]):
            rows = a[_leading_index(a.ndim, axes[:i], kept[:i])]
            _lib().c2c(rows, axes=[axis], forward=False, inorm=_BY_N, out=rows, nthreads=workers)
        _lib().c2c(a[_leading_index(a.ndim, axes[:-1], kept)], axes=axes[-1:], forward=False, inorm=_BY_N,
                   out=out[_leading_index(out.ndim, axes[:-1], kept)], nthreads=workers)
        return out

    @staticmethod
    def extra_bytes(operand: int, result: int, *, padded: int = 0, first_pass: int = 0) -> int:
        """Transient bytes beyond operand and result: for a zero-padded transform, its last
        axis padded (at most the first pass's size), else none."""
        return first_pass

    def __repr__(self):
        return "Ducc0Backend()"


def _padded(first, a, axes, lengths, out, workers):
    """``a`` zero-padded to ``lengths`` along ``axes`` and transformed into ``out``, ``first``
    (``r2c`` or ``c2c``) along the last axis: that axis first over the input's own rows, then
    each earlier axis over what the later ones filled, in place in ``out``."""
    cut = [min(n, a.shape[ax]) for ax, n in zip(axes, lengths)]
    a = a[_leading_index(a.ndim, axes, cut)]
    region = out[_leading_index(out.ndim, axes[:-1], cut[:-1])]
    padded_last = np.zeros(resized(a.shape, axes[-1:], lengths[-1:]), a.dtype)
    padded_last[_leading_index(a.ndim, axes[-1:], cut[-1:])] = a
    first(padded_last, axes=axes[-1:], forward=True, inorm=_NO_NORM, out=region, nthreads=workers)
    for i in range(len(axes) - 2, -1, -1):
        view = out[_leading_index(out.ndim, axes[:i], cut[:i])]
        tail = view[_tail_index(view.ndim, axes[i], cut[i])]
        tail[...] = 0
        _lib().c2c(view, axes=[axes[i]], forward=True, inorm=_NO_NORM, out=view, nthreads=workers)
    return out


def _leading_index(ndim, axes, lengths):
    index = [slice(None)] * ndim
    for axis, n in zip(axes, lengths):
        index[axis] = slice(n)
    return tuple(index)


def _tail_index(ndim, axis, start):
    index = [slice(None)] * ndim
    index[axis] = slice(start, None)
    return tuple(index)


def _fit(a, axes, lengths):
    """A writeable copy of ``a`` cut or zero-padded at the end of ``axes`` to ``lengths``."""
    out = np.zeros(resized(a.shape, axes, lengths), a.dtype)
    common = tuple(slice(min(m, n)) for m, n in zip(a.shape, out.shape))
    out[common] = a[common]
    return out
