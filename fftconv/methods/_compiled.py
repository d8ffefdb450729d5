"""Compiled loops for one input channel per group (depthwise layers, single-channel images).

numba is a dependency: the direct
method's ``"compiled"`` strategy runs these loops instead of numpy's
elementwise passes (:func:`fftconv.methods.direct._taps`, one pass over the
whole output per kernel tap).  Each output row is one task:
it stays in the L1 cache while every tap is added into it, and the innermost
loop runs along the contiguous channels, which the compiler vectorises.  The
loops are serial and release the GIL: ``workers`` threads of fftconv's own
pool (:mod:`fftconv._runtime.threads`) run ranges of rows, so that no OpenMP runtime
of numba's meets another library's (torch's) in one process.
Without numba, or with ``FFTCONV_DISABLE=numba`` (:mod:`fftconv._runtime.switches`), nothing
here is compiled, :data:`HAVE_NUMBA` is False and the strategy is not offered: numpy's
``"taps"`` run instead.

**No compilation on a first call.**  The loops are compiled with
``cache=True``: the first process that calls one compiles it for its dtype
(about 1 s each) and numba stores the machine code beside this file
(``fftconv/methods/__pycache__/*.nbi, *.nbc``, in a source checkout and in an
installed package alike), or, where that folder is not writable, in
``$NUMBA_CACHE_DIR`` or numba's user-wide cache folder; later processes load
it in about 10 ms.  Loading needs numba's CPU target, whose set-up took
0.4-0.8 s (measured 2026-12-01, loaded machine) and would land on every
process's first compiled call, so it is done here, at import, like the
import of numba itself; ``FFTCONV_DISABLE=numba`` spares a process both.

Each output is the sum of its window's products in the compute dtype, with
IEEE semantics (no ``fastmath``), so NaN and Inf stay in the outputs whose
window holds them; with several channels, taps along a row are added four at
a time (their sum first: one load and store of the output per four taps,
which ran 1.2-1.4x faster), so the rounding differs from numpy's tap-by-tap
order within the spec's tolerances.
Measured on the development machine (2 cores shared with other work, load 2.7,
one thread, 2026-11-30; ``bench_small.py --threads 1 --parts depthwise``),
4x56x56x128 float32 depthwise layers, SAME: 3x3 6.6 ms, 7x7 15.3 ms, 13x13
33 ms, against 16, 94 and 374 ms for numpy's elementwise passes over the whole
output (before their row tiles) and 4.3, 7.1 and 18 ms for torch.
"""

from __future__ import annotations

import importlib.util
import math

import numpy as np

from fftconv._runtime.switches import DISABLED
from fftconv._runtime.threads import run_pieces

#: Multiply-adds below which the loops run on the calling thread alone: handing rows to
#: another thread costs tens of microseconds.
MIN_PIECE_WORK = 2**18


def _find_numba() -> bool:
    try:
        return importlib.util.find_spec("numba") is not None
    except (ImportError, ValueError):  # a broken install, or numba set to None in sys.modules
        return False


#: Whether numba is installed and not disabled (``FFTCONV_DISABLE=numba``, read once at import):
#: the ``"compiled"`` strategy exists only then.
HAVE_NUMBA = "numba" not in DISABLED and _find_numba()

if HAVE_NUMBA:
    import numba

    @numba.njit(nogil=True, cache=True)
    def _one_per_group(xp, w, out, sh, sw, dh, dw, first, last):  # pragma: no cover - compiled
        """``out (N, OH, OW, G) = sum_ij xp[n, r*sh + i*dh, o*sw + j*dw, g] * w[i, j, g]`` for
        the output rows ``first <= n * OH + r < last``."""
        oh_, ow_, g_ = out.shape[1:]
        kh_, kw_ = w.shape[0], w.shape[1]
        for task in range(first, last):
            n = task // oh_
            r = task - n * oh_
            for o in range(ow_):
                for c in range(g_):
                    out[n, r, o, c] = 0
            for i in range(kh_):
                y = r * sh + i * dh
                for j in range(kw_):
                    if g_ == 1:  # one channel: the loop along the row is the one to vectorise
                        t = w[i, j, 0]
                        for o in range(ow_):
                            out[n, r, o, 0] += xp[n, y, o * sw + j * dw, 0] * t
                    elif j % 4 == 0 and j + 4 <= kw_:  # four taps per pass over the row's outputs
                        for o in range(ow_):
                            x0 = o * sw + j * dw
                            for c in range(g_):
                                out[n, r, o, c] += (
                                    (xp[n, y, x0, c] * w[i, j, c] + xp[n, y, x0 + dw, c] * w[i, j + 1, c])
                                    + (xp[n, y, x0 + 2 * dw, c] * w[i, j + 2, c]
                                       + xp[n, y, x0 + 3 * dw, c] * w[i, j + 3, c]))
                    elif j >= kw_ - kw_ % 4:  # the last taps of the row, one at a time
                        for o in range(ow_):
                            x0 = o * sw + j * dw
                            for c in range(g_):
                                out[n, r, o, c] += xp[n, y, x0, c] * w[i, j, c]

    @numba.njit(nogil=True, cache=True)
    def _several_per_group(xp, w, out, sh, sw, dh, dw, first, last):  # pragma: no cover - compiled
        """As :func:`_one_per_group`, with ``M`` outputs per group: ``out (N, OH, OW, G, M)``,
        ``w (KH, KW, G, M)``."""
        oh_, ow_, g_, m_ = out.shape[1:]
        kh_, kw_ = w.shape[0], w.shape[1]
        for task in range(first, last):
            n = task // oh_
            r = task - n * oh_
            for o in range(ow_):
                for c in range(g_):
                    for q in range(m_):
                        out[n, r, o, c, q] = 0
            for i in range(kh_):
                y = r * sh + i * dh
                for j in range(kw_):
                    for o in range(ow_):
                        x0 = o * sw + j * dw
                        for c in range(g_):
                            v = xp[n, y, x0, c]
                            for q in range(m_):
                                out[n, r, o, c, q] += v * w[i, j, c, q]


    def _load_target() -> None:
        """Initialise numba's CPU target now: loading a loop from numba's cache does that first
        (0.4-0.8 s on the development machine), which would otherwise land on the first call of a
        compiled plan in every process."""
        try:
            from numba.core.registry import cpu_target
        except ImportError:  # pragma: no cover - numba moved it: the first compiled call pays instead
            return
        cpu_target.target_context.refresh()

    _load_target()


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
    kernel, rows = w.shape[:2], out.shape[0] * out.shape[1]
    if m == 1:
        args = (xp, w.reshape(*kernel, g), out, *strides, *dilations)
        loop = _one_per_group
    else:
        args = (xp, w.reshape(*kernel, g, m), out.reshape(*out.shape[:-1], g, m), *strides, *dilations)
        loop = _several_per_group
    pieces = min(workers or 1, rows, max(math.prod(result.shape) * math.prod(kernel) // MIN_PIECE_WORK, 1))
    if pieces <= 1:
        loop(*args, 0, rows)
    else:  # rows in ``pieces`` ranges, one per thread (the loops release the GIL)
        bounds = [rows * i // pieces for i in range(pieces + 1)]
        run_pieces(lambda i: loop(*args, bounds[i], bounds[i + 1]), pieces)
    return result
