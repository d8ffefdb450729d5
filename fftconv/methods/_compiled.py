"""Compiled loops for one input channel per group (depthwise layers, single-channel images).

numba is a dependency: the direct method's ``"compiled"`` strategy runs these
loops instead of numpy's elementwise passes (:func:`fftconv.methods.direct._taps`,
one pass over the whole output per kernel tap). Two loops, 1-D and 2-D alike
(a 1-D signal is an image one row high):

:func:`_single_rows` (one channel, or a few: each channel an image of its own)
    Each output row is computed in blocks of :data:`ROW_BLOCK` outputs. The
    kernel's taps are taken eight at a time: one pass over the block adds the
    eight taps' products into it, the innermost loop running along the row,
    which the compiler turns into 16-lane vector code (one load of each tap's
    input vector, its weight in a register, one load and one store of the
    output vector per eight multiply-adds). A column stride ``s`` first splits
    each row into its ``s`` phases (columns ``q, q + s, ...``), so that every
    tap reads a contiguous run and no output is computed only to be dropped.
:func:`_channel_rows` (:data:`CHANNELS_LAST_MIN` channels or more)
    The same passes of eight taps, the innermost loop along the channels of
    one output position (the weights of a tap are a vector too).

A depthwise layer with a channel multiplier ``M`` first repeats each input
channel ``M`` times (one copy of the padded input), and is then a layer of
``G * M`` channels with one output each.

Rows (or, for a single row, ranges of its columns) are split into ``workers``
pieces run by fftconv's own pool (:mod:`fftconv._runtime.threads`); the loops
release the GIL, so no OpenMP runtime of numba's meets another library's (torch's)
in one process. Without numba, or with ``FFTCONV_DISABLE=numba``
(:mod:`fftconv._runtime.switches`), nothing here is compiled, :data:`HAVE_NUMBA`
is False and the strategy is not offered: numpy's ``"taps"`` run instead.

**Exactness.** Each output is the sum of its window's products in the
compute dtype, in the filters' tap order. The only relaxation of IEEE
arithmetic allowed to the compiler is ``contract``: a product and the sum it
is added to may become one fused multiply-add, rounded once instead of twice.
That keeps every rule of the contract: a fused multiply-add returns NaN or
Inf exactly when its operands hold one or the product is ``0 * Inf`` (or the
sum overflows), so NaN and Inf stay in the outputs whose window holds them;
integer data (computed in float64) give exact products and sums while those
fit 2**53, whether fused or not; and fusing only removes roundings. No other
``fastmath`` flag is set: those let the compiler assume no NaN or Inf, or
reorder sums.

**No compilation on a first call.** The loops are compiled with
``cache=True``: the first process that calls one compiles it for its dtype
(about 1-2 s each) and numba stores the machine code beside this file
(``fftconv/methods/__pycache__/*.nbi, *.nbc``, in a source checkout and in an
installed package alike), or, where that folder is not writable, in
``$NUMBA_CACHE_DIR`` or numba's user-wide cache folder; later processes load
it in about 10 ms. Loading needs numba's CPU target, whose set-up took
0.4-0.8 s (measured 2026-12-01, loaded machine) and would land on every
process's first compiled call, so it is done here, at import, like the
import of numba itself; ``FFTCONV_DISABLE=numba`` spares a process both.
"""

from __future__ import annotations

import importlib.util
import math

import numpy as np

from fftconv._runtime.scratch import scratch
from fftconv._runtime.switches import DISABLED
from fftconv._runtime.threads import run_pieces

#: Multiply-adds below which the loops run on the calling thread alone: handing rows to
#: another thread costs tens of microseconds.
MIN_PIECE_WORK = 2**18

#: Outputs of one row block of :func:`_single_rows`: the block and the input it reads stay
#: in the L1 and L2 caches while every tap is added into it.
ROW_BLOCK = 2048

#: From this many channels (after a channel multiplier's repeat) the loop runs along the
#: channels of the channels-last arrays; with fewer, each channel is made an image of its own.
CHANNELS_LAST_MIN = 16


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

    #: The one relaxation of IEEE arithmetic the loops allow (see the module docstring).
    _CONTRACT = {"contract"}

    @numba.njit(nogil=True, cache=True, fastmath=_CONTRACT)
    def _single_rows(xs, ty, tq, tx, wts, out, sh, first, last, c0, c1):  # pragma: no cover - compiled
        """``out[n, r, o] = sum_t xs[n, r*sh + ty[t], tq[t], tx[t] + o] * wts[n % G, t]`` for the
        rows ``first <= n * OH + r < last`` and the columns ``c0 <= o < c1``: taps taken eight
        at a time, so each pass over a block of the output row loads and stores it once per
        eight multiply-adds (see the module docstring)."""
        oh_ = out.shape[1]
        nt = ty.shape[0]
        g_ = wts.shape[0]
        for task in range(first, last):
            n = task // oh_
            r = task - n * oh_
            y0 = r * sh
            orow = out[n, r]
            wrow = wts[n % g_]
            for b0 in range(c0, c1, ROW_BLOCK):
                b1 = min(b0 + ROW_BLOCK, c1)
                t = 0
                while t < nt:
                    s = min(nt - t, 8)
                    if s == 8:
                        v0 = xs[n, y0 + ty[t], tq[t], tx[t]:]
                        w0 = wrow[t]
                        v1 = xs[n, y0 + ty[t + 1], tq[t + 1], tx[t + 1]:]
                        w1 = wrow[t + 1]
                        v2 = xs[n, y0 + ty[t + 2], tq[t + 2], tx[t + 2]:]
                        w2 = wrow[t + 2]
                        v3 = xs[n, y0 + ty[t + 3], tq[t + 3], tx[t + 3]:]
                        w3 = wrow[t + 3]
                        v4 = xs[n, y0 + ty[t + 4], tq[t + 4], tx[t + 4]:]
                        w4 = wrow[t + 4]
                        v5 = xs[n, y0 + ty[t + 5], tq[t + 5], tx[t + 5]:]
                        w5 = wrow[t + 5]
                        v6 = xs[n, y0 + ty[t + 6], tq[t + 6], tx[t + 6]:]
                        w6 = wrow[t + 6]
                        v7 = xs[n, y0 + ty[t + 7], tq[t + 7], tx[t + 7]:]
                        w7 = wrow[t + 7]
                        if t == 0:
                            for o in range(b0, b1):
                                orow[o] = v0[o] * w0 + v1[o] * w1 + v2[o] * w2 + v3[o] * w3 + v4[o] * w4 + v5[o] * w5 + v6[o] * w6 + v7[o] * w7
                        else:
                            for o in range(b0, b1):
                                orow[o] = orow[o] + v0[o] * w0 + v1[o] * w1 + v2[o] * w2 + v3[o] * w3 + v4[o] * w4 + v5[o] * w5 + v6[o] * w6 + v7[o] * w7
                    elif s == 7:
                        v0 = xs[n, y0 + ty[t], tq[t], tx[t]:]
                        w0 = wrow[t]
                        v1 = xs[n, y0 + ty[t + 1], tq[t + 1], tx[t + 1]:]
                        w1 = wrow[t + 1]
                        v2 = xs[n, y0 + ty[t + 2], tq[t + 2], tx[t + 2]:]
                        w2 = wrow[t + 2]
                        v3 = xs[n, y0 + ty[t + 3], tq[t + 3], tx[t + 3]:]
                        w3 = wrow[t + 3]
                        v4 = xs[n, y0 + ty[t + 4], tq[t + 4], tx[t + 4]:]
                        w4 = wrow[t + 4]
                        v5 = xs[n, y0 + ty[t + 5], tq[t + 5], tx[t + 5]:]
                        w5 = wrow[t + 5]
                        v6 = xs[n, y0 + ty[t + 6], tq[t + 6], tx[t + 6]:]
                        w6 = wrow[t + 6]
                        if t == 0:
                            for o in range(b0, b1):
                                orow[o] = v0[o] * w0 + v1[o] * w1 + v2[o] * w2 + v3[o] * w3 + v4[o] * w4 + v5[o] * w5 + v6[o] * w6
                        else:
                            for o in range(b0, b1):
                                orow[o] = orow[o] + v0[o] * w0 + v1[o] * w1 + v2[o] * w2 + v3[o] * w3 + v4[o] * w4 + v5[o] * w5 + v6[o] * w6
                    elif s == 6:
                        v0 = xs[n, y0 + ty[t], tq[t], tx[t]:]
                        w0 = wrow[t]
                        v1 = xs[n, y0 + ty[t + 1], tq[t + 1], tx[t + 1]:]
                        w1 = wrow[t + 1]
                        v2 = xs[n, y0 + ty[t + 2], tq[t + 2], tx[t + 2]:]
                        w2 = wrow[t + 2]
                        v3 = xs[n, y0 + ty[t + 3], tq[t + 3], tx[t + 3]:]
                        w3 = wrow[t + 3]
                        v4 = xs[n, y0 + ty[t + 4], tq[t + 4], tx[t + 4]:]
                        w4 = wrow[t + 4]
                        v5 = xs[n, y0 + ty[t + 5], tq[t + 5], tx[t + 5]:]
                        w5 = wrow[t + 5]
                        if t == 0:
                            for o in range(b0, b1):
                                orow[o] = v0[o] * w0 + v1[o] * w1 + v2[o] * w2 + v3[o] * w3 + v4[o] * w4 + v5[o] * w5
                        else:
                            for o in range(b0, b1):
                                orow[o] = orow[o] + v0[o] * w0 + v1[o] * w1 + v2[o] * w2 + v3[o] * w3 + v4[o] * w4 + v5[o] * w5
                    elif s == 5:
                        v0 = xs[n, y0 + ty[t], tq[t], tx[t]:]
                        w0 = wrow[t]
                        v1 = xs[n, y0 + ty[t + 1], tq[t + 1], tx[t + 1]:]
                        w1 = wrow[t + 1]
                        v2 = xs[n, y0 + ty[t + 2], tq[t + 2], tx[t + 2]:]
                        w2 = wrow[t + 2]
                        v3 = xs[n, y0 + ty[t + 3], tq[t + 3], tx[t + 3]:]
                        w3 = wrow[t + 3]
                        v4 = xs[n, y0 + ty[t + 4], tq[t + 4], tx[t + 4]:]
                        w4 = wrow[t + 4]
                        if t == 0:
                            for o in range(b0, b1):
                                orow[o] = v0[o] * w0 + v1[o] * w1 + v2[o] * w2 + v3[o] * w3 + v4[o] * w4
                        else:
                            for o in range(b0, b1):
                                orow[o] = orow[o] + v0[o] * w0 + v1[o] * w1 + v2[o] * w2 + v3[o] * w3 + v4[o] * w4
                    elif s == 4:
                        v0 = xs[n, y0 + ty[t], tq[t], tx[t]:]
                        w0 = wrow[t]
                        v1 = xs[n, y0 + ty[t + 1], tq[t + 1], tx[t + 1]:]
                        w1 = wrow[t + 1]
                        v2 = xs[n, y0 + ty[t + 2], tq[t + 2], tx[t + 2]:]
                        w2 = wrow[t + 2]
                        v3 = xs[n, y0 + ty[t + 3], tq[t + 3], tx[t + 3]:]
                        w3 = wrow[t + 3]
                        if t == 0:
                            for o in range(b0, b1):
                                orow[o] = v0[o] * w0 + v1[o] * w1 + v2[o] * w2 + v3[o] * w3
                        else:
                            for o in range(b0, b1):
                                orow[o] = orow[o] + v0[o] * w0 + v1[o] * w1 + v2[o] * w2 + v3[o] * w3
                    elif s == 3:
                        v0 = xs[n, y0 + ty[t], tq[t], tx[t]:]
                        w0 = wrow[t]
                        v1 = xs[n, y0 + ty[t + 1], tq[t + 1], tx[t + 1]:]
                        w1 = wrow[t + 1]
                        v2 = xs[n, y0 + ty[t + 2], tq[t + 2], tx[t + 2]:]
                        w2 = wrow[t + 2]
                        if t == 0:
                            for o in range(b0, b1):
                                orow[o] = v0[o] * w0 + v1[o] * w1 + v2[o] * w2
                        else:
                            for o in range(b0, b1):
                                orow[o] = orow[o] + v0[o] * w0 + v1[o] * w1 + v2[o] * w2
                    elif s == 2:
                        v0 = xs[n, y0 + ty[t], tq[t], tx[t]:]
                        w0 = wrow[t]
                        v1 = xs[n, y0 + ty[t + 1], tq[t + 1], tx[t + 1]:]
                        w1 = wrow[t + 1]
                        if t == 0:
                            for o in range(b0, b1):
                                orow[o] = v0[o] * w0 + v1[o] * w1
                        else:
                            for o in range(b0, b1):
                                orow[o] = orow[o] + v0[o] * w0 + v1[o] * w1
                    elif s == 1:
                        v0 = xs[n, y0 + ty[t], tq[t], tx[t]:]
                        w0 = wrow[t]
                        if t == 0:
                            for o in range(b0, b1):
                                orow[o] = v0[o] * w0
                        else:
                            for o in range(b0, b1):
                                orow[o] = orow[o] + v0[o] * w0
                    t += s

    @numba.njit(nogil=True, cache=True, fastmath=_CONTRACT)
    def _channel_rows(xp, ty, tx, wts, out, sh, sw, first, last):  # pragma: no cover - compiled
        """``out[n, r, o, c] = sum_t xp[n, r*sh + ty[t], o*sw + tx[t], c] * wts[t, c]`` for the
        rows ``first <= n * OH + r < last``: taps eight at a time, the channels innermost."""
        oh_, ow_, c_ = out.shape[1:]
        nt = ty.shape[0]
        for task in range(first, last):
            n = task // oh_
            r = task - n * oh_
            y0 = r * sh
            orow = out[n, r]
            t = 0
            while t < nt:
                s = min(nt - t, 8)
                if s == 8:
                    x0 = xp[n, y0 + ty[t]]
                    j0 = tx[t]
                    w0 = wts[t]
                    x1 = xp[n, y0 + ty[t + 1]]
                    j1 = tx[t + 1]
                    w1 = wts[t + 1]
                    x2 = xp[n, y0 + ty[t + 2]]
                    j2 = tx[t + 2]
                    w2 = wts[t + 2]
                    x3 = xp[n, y0 + ty[t + 3]]
                    j3 = tx[t + 3]
                    w3 = wts[t + 3]
                    x4 = xp[n, y0 + ty[t + 4]]
                    j4 = tx[t + 4]
                    w4 = wts[t + 4]
                    x5 = xp[n, y0 + ty[t + 5]]
                    j5 = tx[t + 5]
                    w5 = wts[t + 5]
                    x6 = xp[n, y0 + ty[t + 6]]
                    j6 = tx[t + 6]
                    w6 = wts[t + 6]
                    x7 = xp[n, y0 + ty[t + 7]]
                    j7 = tx[t + 7]
                    w7 = wts[t + 7]
                    for o in range(ow_):
                        b = o * sw
                        if t == 0:
                            for c in range(c_):
                                orow[o, c] = x0[b + j0, c] * w0[c] + x1[b + j1, c] * w1[c] + x2[b + j2, c] * w2[c] + x3[b + j3, c] * w3[c] + x4[b + j4, c] * w4[c] + x5[b + j5, c] * w5[c] + x6[b + j6, c] * w6[c] + x7[b + j7, c] * w7[c]
                        else:
                            for c in range(c_):
                                orow[o, c] = orow[o, c] + x0[b + j0, c] * w0[c] + x1[b + j1, c] * w1[c] + x2[b + j2, c] * w2[c] + x3[b + j3, c] * w3[c] + x4[b + j4, c] * w4[c] + x5[b + j5, c] * w5[c] + x6[b + j6, c] * w6[c] + x7[b + j7, c] * w7[c]
                elif s == 7:
                    x0 = xp[n, y0 + ty[t]]
                    j0 = tx[t]
                    w0 = wts[t]
                    x1 = xp[n, y0 + ty[t + 1]]
                    j1 = tx[t + 1]
                    w1 = wts[t + 1]
                    x2 = xp[n, y0 + ty[t + 2]]
                    j2 = tx[t + 2]
                    w2 = wts[t + 2]
                    x3 = xp[n, y0 + ty[t + 3]]
                    j3 = tx[t + 3]
                    w3 = wts[t + 3]
                    x4 = xp[n, y0 + ty[t + 4]]
                    j4 = tx[t + 4]
                    w4 = wts[t + 4]
                    x5 = xp[n, y0 + ty[t + 5]]
                    j5 = tx[t + 5]
                    w5 = wts[t + 5]
                    x6 = xp[n, y0 + ty[t + 6]]
                    j6 = tx[t + 6]
                    w6 = wts[t + 6]
                    for o in range(ow_):
                        b = o * sw
                        if t == 0:
                            for c in range(c_):
                                orow[o, c] = x0[b + j0, c] * w0[c] + x1[b + j1, c] * w1[c] + x2[b + j2, c] * w2[c] + x3[b + j3, c] * w3[c] + x4[b + j4, c] * w4[c] + x5[b + j5, c] * w5[c] + x6[b + j6, c] * w6[c]
                        else:
                            for c in range(c_):
                                orow[o, c] = orow[o, c] + x0[b + j0, c] * w0[c] + x1[b + j1, c] * w1[c] + x2[b + j2, c] * w2[c] + x3[b + j3, c] * w3[c] + x4[b + j4, c] * w4[c] + x5[b + j5, c] * w5[c] + x6[b + j6, c] * w6[c]
                elif s == 6:
                    x0 = xp[n, y0 + ty[t]]
                    j0 = tx[t]
                    w0 = wts[t]
                    x1 = xp[n, y0 + ty[t + 1]]
                    j1 = tx[t + 1]
                    w1 = wts[t + 1]
                    x2 = xp[n, y0 + ty[t + 2]]
                    j2 = tx[t + 2]
                    w2 = wts[t + 2]
                    x3 = xp[n, y0 + ty[t + 3]]
                    j3 = tx[t + 3]
                    w3 = wts[t + 3]
                    x4 = xp[n, y0 + ty[t + 4]]
                    j4 = tx[t + 4]
                    w4 = wts[t + 4]
                    x5 = xp[n, y0 + ty[t + 5]]
                    j5 = tx[t + 5]
                    w5 = wts[t + 5]
                    for o in range(ow_):
                        b = o * sw
                        if t == 0:
                            for c in range(c_):
                                orow[o, c] = x0[b + j0, c] * w0[c] + x1[b + j1, c] * w1[c] + x2[b + j2, c] * w2[c] + x3[b + j3, c] * w3[c] + x4[b + j4, c] * w4[c] + x5[b + j5, c] * w5[c]
                        else:
                            for c in range(c_):
                                orow[o, c] = orow[o, c] + x0[b + j0, c] * w0[c] + x1[b + j1, c] * w1[c] + x2[b + j2, c] * w2[c] + x3[b + j3, c] * w3[c] + x4[b + j4, c] * w4[c] + x5[b + j5, c] * w5[c]
                elif s == 5:
                    x0 = xp[n, y0 + ty[t]]
                    j0 = tx[t]
                    w0 = wts[t]
                    x1 = xp[n, y0 + ty[t + 1]]
                    j1 = tx[t + 1]
                    w1 = wts[t + 1]
                    x2 = xp[n, y0 + ty[t + 2]]
                    j2 = tx[t + 2]
                    w2 = wts[t + 2]
                    x3 = xp[n, y0 + ty[t + 3]]
                    j3 = tx[t + 3]
                    w3 = wts[t + 3]
                    x4 = xp[n, y0 + ty[t + 4]]
                    j4 = tx[t + 4]
                    w4 = wts[t + 4]
                    for o in range(ow_):
                        b = o * sw
                        if t == 0:
                            for c in range(c_):
                                orow[o, c] = x0[b + j0, c] * w0[c] + x1[b + j1, c] * w1[c] + x2[b + j2, c] * w2[c] + x3[b + j3, c] * w3[c] + x4[b + j4, c] * w4[c]
                        else:
                            for c in range(c_):
                                orow[o, c] = orow[o, c] + x0[b + j0, c] * w0[c] + x1[b + j1, c] * w1[c] + x2[b + j2, c] * w2[c] + x3[b + j3, c] * w3[c] + x4[b + j4, c] * w4[c]
                elif s == 4:
                    x0 = xp[n, y0 + ty[t]]
                    j0 = tx[t]
                    w0 = wts[t]
                    x1 = xp[n, y0 + ty[t + 1]]
                    j1 = tx[t + 1]
                    w1 = wts[t + 1]
                    x2 = xp[n, y0 + ty[t + 2]]
                    j2 = tx[t + 2]
                    w2 = wts[t + 2]
                    x3 = xp[n, y0 + ty[t + 3]]
                    j3 = tx[t + 3]
                    w3 = wts[t + 3]
                    for o in range(ow_):
                        b = o * sw
                        if t == 0:
                            for c in range(c_):
                                orow[o, c] = x0[b + j0, c] * w0[c] + x1[b + j1, c] * w1[c] + x2[b + j2, c] * w2[c] + x3[b + j3, c] * w3[c]
                        else:
                            for c in range(c_):
                                orow[o, c] = orow[o, c] + x0[b + j0, c] * w0[c] + x1[b + j1, c] * w1[c] + x2[b + j2, c] * w2[c] + x3[b + j3, c] * w3[c]
                elif s == 3:
                    x0 = xp[n, y0 + ty[t]]
                    j0 = tx[t]
                    w0 = wts[t]
                    x1 = xp[n, y0 + ty[t + 1]]
                    j1 = tx[t + 1]
                    w1 = wts[t + 1]
                    x2 = xp[n, y0 + ty[t + 2]]
                    j2 = tx[t + 2]
                    w2 = wts[t + 2]
                    for o in range(ow_):
                        b = o * sw
                        if t == 0:
                            for c in range(c_):
                                orow[o, c] = x0[b + j0, c] * w0[c] + x1[b + j1, c] * w1[c] + x2[b + j2, c] * w2[c]
                        else:
                            for c in range(c_):
                                orow[o, c] = orow[o, c] + x0[b + j0, c] * w0[c] + x1[b + j1, c] * w1[c] + x2[b + j2, c] * w2[c]
                elif s == 2:
                    x0 = xp[n, y0 + ty[t]]
                    j0 = tx[t]
                    w0 = wts[t]
                    x1 = xp[n, y0 + ty[t + 1]]
                    j1 = tx[t + 1]
                    w1 = wts[t + 1]
                    for o in range(ow_):
                        b = o * sw
                        if t == 0:
                            for c in range(c_):
                                orow[o, c] = x0[b + j0, c] * w0[c] + x1[b + j1, c] * w1[c]
                        else:
                            for c in range(c_):
                                orow[o, c] = orow[o, c] + x0[b + j0, c] * w0[c] + x1[b + j1, c] * w1[c]
                elif s == 1:
                    x0 = xp[n, y0 + ty[t]]
                    j0 = tx[t]
                    w0 = wts[t]
                    for o in range(ow_):
                        b = o * sw
                        if t == 0:
                            for c in range(c_):
                                orow[o, c] = x0[b + j0, c] * w0[c]
                        else:
                            for c in range(c_):
                                orow[o, c] = orow[o, c] + x0[b + j0, c] * w0[c]
                t += s


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


def scratch_bytes(geom, itemsize: int) -> int:
    """Bytes of the scratch arrays :func:`run_taps` fills (kept after the call): the input
    repeated for a channel multiplier; with fewer than :data:`CHANNELS_LAST_MIN` channels,
    the channel-major copy of the input in column phases and the channel-major output."""
    channels = geom.groups * geom.group_out
    used = math.prod(geom.used_extent)
    total = geom.batch * used * channels * itemsize if geom.group_out > 1 else 0
    if channels < CHANNELS_LAST_MIN and (channels > 1 or geom.strides[-1] > 1):
        span = -(-geom.used_extent[-1] // geom.strides[-1]) * geom.strides[-1]
        total += geom.batch * channels * used // geom.used_extent[-1] * span * itemsize
        if channels > 1:
            total += math.prod(geom.output_shape) * itemsize
    return total


def run_taps(xp: np.ndarray, w: np.ndarray, geom, workers=None) -> np.ndarray:
    """The direct method's ``"compiled"`` strategy: ``xp`` the padded input's used extent,
    ``w`` the filters ``(*kernel, 1, C_out)``, one input channel per group, 1-D or 2-D.

    Returns a new channels-last output in ``w.dtype``.
    """
    g, m = geom.groups, geom.group_out
    channels = g * m
    result = np.empty(geom.output_shape, dtype=w.dtype)  # returned as it is: it owns its memory
    strides, dilations, kernel = tuple(geom.strides), tuple(geom.dilations), tuple(geom.kernel)
    if geom.ndim == 1:  # a row of height one
        xp, strides, dilations, kernel = xp[:, None], (1, *strides), (1, *dilations), (1, *kernel)
    out = result.reshape(geom.batch, -1, geom.out_spatial[-1], channels)
    if m > 1:  # each input channel repeated for its M outputs
        rep = scratch("repeated", (*xp.shape[:-1], g, m), w.dtype)
        np.copyto(rep, xp[..., None])
        xp = rep.reshape(*xp.shape[:-1], channels)
    xp = np.ascontiguousarray(xp, dtype=w.dtype)
    (sh, sw), (dh, dw) = strides, dilations
    taps = np.array(list(np.ndindex(*kernel)), dtype=np.int64).reshape(-1, 2)
    ty, tx = taps[:, 0] * dh, taps[:, 1] * dw
    weights = np.ascontiguousarray(w.reshape(-1, channels))  # (taps, C), in the taps' order
    work = math.prod(result.shape) * len(ty)
    if channels >= CHANNELS_LAST_MIN:
        rows = out.shape[0] * out.shape[1]
        pieces = min(workers or 1, rows, max(work // MIN_PIECE_WORK, 1))
        bounds = [rows * i // pieces for i in range(pieces + 1)]
        run_pieces(lambda i: _channel_rows(xp, ty, tx, weights, out, sh, sw, bounds[i], bounds[i + 1]),
                   pieces)
        return result
    # channels apart: (N * C, H, phases, W / phases), each column phase of a stride contiguous
    n, h, width = xp.shape[:3]
    span = -(-width // sw)
    if channels == 1 and sw == 1:
        images = xp.reshape(n, h, 1, width)
    else:
        images = scratch("phases", (n, channels, h, sw, span), w.dtype)
        for q in range(sw):
            cols = xp[:, :, q::sw]  # (N, H, <= span, C)
            np.copyto(images[:, :, :, q, :cols.shape[2]], cols.transpose(0, 3, 1, 2))
        images = images.reshape(n * channels, h, sw, span)
    tq, tx = tx % sw, tx // sw
    planes = out.reshape(*out.shape[:3]) if channels == 1 else scratch(
        "planes", (n, channels, *out.shape[1:3]), w.dtype)
    planes3 = planes.reshape(n * channels, *out.shape[1:3])
    rows, width_out = planes3.shape[0] * planes3.shape[1], planes3.shape[2]
    pieces = min(workers or 1, max(work // MIN_PIECE_WORK, 1))
    if rows >= pieces:
        bounds = [(rows * i // pieces, rows * (i + 1) // pieces, 0, width_out) for i in range(pieces)]
    else:  # one row, or a few: ranges of its columns
        cuts = [width_out * i // pieces // 16 * 16 for i in range(pieces)] + [width_out]
        bounds = [(0, rows, cuts[i], cuts[i + 1]) for i in range(pieces)]
    wts = np.ascontiguousarray(weights.T)  # (C, taps)
    run_pieces(lambda i: _single_rows(images, ty, tq, tx, wts, planes3, sh, *bounds[i]), pieces)
    if channels > 1:
        np.copyto(out, planes.transpose(0, 2, 3, 1))
    return result
