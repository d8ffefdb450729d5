"""Compiled loops for one input channel per group (depthwise layers, single-channel images).

The optional extra ``fftconv[numba]``: with numba installed, the direct
method's ``"compiled"`` strategy runs these loops instead of numpy's
elementwise passes (:func:`fftconv.methods.direct._taps`, one pass over the
whole output per kernel tap).  Each output row is one task of a parallel loop:
it stays in the L1 cache while every tap is added into it, and the innermost
loop runs along the contiguous channels, which the compiler vectorises.
Without numba nothing here is compiled, :data:`HAVE_NUMBA` is False and the
strategy is not offered.

The arithmetic is that of the numpy loops: each output is the sum, in tap
order, of its window's products, in the compute dtype, with IEEE semantics
(no ``fastmath``), so NaN and Inf stay in the outputs whose window holds them.
Measured on the development machine (2 cores, shared, load 3.7, 2026-11-30),
4x56x56x128 float32 depthwise layers, SAME: 3x3 12 ms, 7x7 25 ms, 13x13 54 ms,
against numpy's elementwise passes at 32, 319 and 1066 ms.
"""

from __future__ import annotations

import importlib.util

import numpy as np


def _find_numba() -> bool:
    try:
        return importlib.util.find_spec("numba") is not None
    except (ImportError, ValueError):  # a broken install, or numba set to None in sys.modules
        return False


#: Whether numba is installed: the ``"compiled"`` strategy exists only then.
HAVE_NUMBA = _find_numba()

if HAVE_NUMBA:
    import numba

    @numba.njit(parallel=True, nogil=True, cache=True)
    def _one_per_group(xp, w, out, sh, sw, dh, dw):  # pragma: no cover - compiled
        """``out (N, OH, OW, G) = sum_ij xp[n, r*sh + i*dh, o*sw + j*dw, g] * w[i, j, g]``."""
        n_, oh_, ow_, g_ = out.shape
        kh_, kw_ = w.shape[0], w.shape[1]
        for task in numba.prange(n_ * oh_):
            n = task // oh_
            r = task - n * oh_
            dst = out[n, r]
            dst[:] = 0
            for i in range(kh_):
                row = xp[n, r * sh + i * dh]
                for j in range(kw_):
                    tap = w[i, j]
                    for o in range(ow_):
                        src = row[o * sw + j * dw]
                        d = dst[o]
                        for c in range(g_):
                            d[c] += src[c] * tap[c]

    @numba.njit(parallel=True, nogil=True, cache=True)
    def _several_per_group(xp, w, out, sh, sw, dh, dw):  # pragma: no cover - compiled
        """As :func:`_one_per_group`, with ``M`` outputs per group: ``out (N, OH, OW, G, M)``,
        ``w (KH, KW, G, M)``."""
        n_, oh_, ow_, g_, m_ = out.shape
        kh_, kw_ = w.shape[0], w.shape[1]
        for task in numba.prange(n_ * oh_):
            n = task // oh_
            r = task - n * oh_
            dst = out[n, r]
            dst[:] = 0
            for i in range(kh_):
                row = xp[n, r * sh + i * dh]
                for j in range(kw_):
                    tap = w[i, j]
                    for o in range(ow_):
                        src = row[o * sw + j * dw]
                        d = dst[o]
                        for c in range(g_):
                            v = src[c]
                            for q in range(m_):
                                d[c, q] += v * tap[c, q]


def run_taps(xp: np.ndarray, w: np.ndarray, geom, workers=None) -> np.ndarray:
    """The direct method's ``"compiled"`` strategy: ``xp`` the padded input's used extent,
    ``w`` the filters ``(*kernel, 1, C_out)``, one input channel per group, 1-D or 2-D.

    Returns a new channels-last output in ``w.dtype``.
    """
    g, m = geom.groups, geom.group_out
    xp = np.ascontiguousarray(xp)
    w = np.ascontiguousarray(w)
    result = out = np.empty(geom.output_shape, dtype=w.dtype)  # returned as it is: it owns its memory
    strides, dilations = tuple(geom.strides), tuple(geom.dilations)
    if geom.ndim == 1:  # a row of height one
        xp, out, w = xp[:, None], out[:, None], w[None]
        strides, dilations = (1, *strides), (1, *dilations)
    kernel = w.shape[:2]
    if workers is not None:
        numba.set_num_threads(max(1, min(int(workers), numba.config.NUMBA_NUM_THREADS)))
    if m == 1:
        _one_per_group(xp, w.reshape(*kernel, g), out, *strides, *dilations)
    else:
        _several_per_group(xp, w.reshape(*kernel, g, m), out.reshape(*out.shape[:-1], g, m),
                           *strides, *dilations)
    return result
