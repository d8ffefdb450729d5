"""What the FFT backends and the FFT method derive and check alike: dtypes, shapes, ``out``.

Pure numpy with no fftconv imports, so that every backend (whether or not its
FFT library is installed) and method can import it.
"""

from __future__ import annotations

import numpy as np

#: The complex dtype of each real precision's spectrum, and back.
REAL_TO_COMPLEX = {np.dtype(np.float32): np.dtype(np.complex64),
                   np.dtype(np.float64): np.dtype(np.complex128)}
COMPLEX_TO_REAL = {c: r for r, c in REAL_TO_COMPLEX.items()}


def real_dtype(a: np.ndarray) -> np.dtype:
    """float32 for float16/float32 input, float64 for other reals, as :mod:`scipy.fft` does."""
    if a.dtype.kind not in "biuf":
        raise TypeError(f"rfftn needs a real (bool, integer or floating) array; got dtype {a.dtype}")
    single = a.dtype.kind == "f" and a.dtype.itemsize <= 4
    return np.dtype(np.float32 if single else np.float64)


def complex_dtype(a: np.ndarray) -> np.dtype:
    """complex64 for complex64 (or float16/32) input, complex128 for other numbers."""
    if a.dtype.kind not in "biufc":
        raise TypeError(f"irfftn needs a numeric array; got dtype {a.dtype}")
    single = a.dtype.itemsize <= {"f": 4, "c": 8}.get(a.dtype.kind, 0)
    return np.dtype(np.complex64 if single else np.complex128)


def resized(shape, axes, lengths) -> tuple[int, ...]:
    """``shape`` with ``lengths`` along ``axes``.

    Examples
    --------
    >>> resized((4, 5, 6), (0, 2), (8, 3))
    (8, 5, 3)
    """
    shape = list(shape)
    for axis, n in zip(axes, lengths):
        shape[axis] = n
    return tuple(shape)


def spectrum_shape(shape, axes) -> tuple[int, ...]:
    """The shape of the real FFT over ``axes`` of an array of ``shape``: the last axis halved.

    Examples
    --------
    >>> spectrum_shape((4, 6, 3), (0, 1))
    (4, 4, 3)
    """
    return resized(shape, axes[-1:], [shape[axes[-1]] // 2 + 1])


def check_out(out, a: np.ndarray, shape, dtype, contiguous=True) -> np.ndarray:
    """``out`` if it can take a result of ``shape`` and ``dtype`` computed from ``a``, else ValueError.

    ``out`` must be writeable, apart from ``a``, and C-contiguous unless
    ``contiguous`` is False.
    """
    layout = "C-contiguous " if contiguous else ""
    if not (isinstance(out, np.ndarray) and out.shape == tuple(shape) and out.dtype == dtype
            and (out.flags.c_contiguous or not contiguous) and out.flags.writeable):
        raise ValueError(f"`out` must be a writeable {layout}array of shape {tuple(shape)} and dtype "
                         f"{dtype}; got {_describe(out)}")
    if np.may_share_memory(out, a):
        raise ValueError("`out` must not overlap the input array")
    return out


def _describe(x) -> str:
    """``x``'s type, or its shape, dtype and layout if it is an array."""
    if not isinstance(x, np.ndarray):
        return type(x).__name__
    layout = [name for name, bad in (("not C-contiguous", not x.flags.c_contiguous),
                                     ("read-only", not x.flags.writeable)) if bad]
    return ", ".join([f"shape {x.shape}", f"dtype {x.dtype}", *layout])


def owned(y: np.ndarray, dtype) -> np.ndarray:
    """``y`` as a C-contiguous, writeable array of ``dtype`` that owns its memory.

    ``y`` itself when it already is one, else a copy: the rule for every array
    fftconv returns, so that no result is a view of scratch memory or of
    another result.

    Examples
    --------
    >>> a = np.ones((2, 3))
    >>> owned(a, a.dtype) is a
    True
    >>> owned(a[:, :2], a.dtype).flags.owndata
    True
    """
    dtype = np.dtype(dtype)
    if y.dtype == dtype and y.flags.owndata and y.flags.c_contiguous and y.flags.writeable:
        return y
    out = np.empty(y.shape, dtype=dtype)
    np.copyto(out, y, casting="unsafe")
    return out


def magnitude(a: np.ndarray) -> int:
    """The largest ``|a|`` of an integer or bool array, exactly (``np.abs`` of the most
    negative int8/16/32/64 is negative).

    Examples
    --------
    >>> import numpy as np
    >>> magnitude(np.array([-128, 5], np.int8))
    128
    """
    if a.size == 0:
        return 0
    return max(abs(int(a.min())), abs(int(a.max())))
