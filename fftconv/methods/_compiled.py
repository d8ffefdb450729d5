"""Compiled loops for one input channel per group (depthwise layers, single-channel images).

numba is a dependency: the direct method's ``"compiled"`` strategy runs these
loops instead of numpy's elementwise passes (:func:`fftconv.methods.direct._taps`,
one pass over the whole output per kernel tap). Two loops, 1-D and 2-D alike
(a 1-D signal is an image one row high):

:func:`_single_rows` (one channel, or a few: each channel an image of its own)
    Each output row is computed in blocks of :data:`ROW_BLOCK` outputs. The
    kernel's taps are taken up to nine at a time: one pass over the block adds
    the nine taps' products into it, the innermost loop running along the row,
    which the compiler turns into 16-lane vector code. On the development
    machine (AMD Zen 4, numba 0.68) the loop of a pass is one ``vmovups`` load
    of a tap's input vector, a ``vfmadd231ps`` on ``zmm`` registers per
    further tap with its input read from memory and its weight broadcast in a
    register, and one store of the output vector: per 16 outputs and nine
    taps, ten loads, nine fused multiply-adds and one store. A 3x3 kernel
    takes one pass, a 9x9 kernel nine. A column stride ``s`` first splits each
    row into its ``s`` phases (columns ``q, q + s, ...``), so that every tap
    reads a contiguous run and no output is computed only to be dropped.
    With one channel, no column stride and zero padding, the loop reads the
    unpadded input itself (:func:`reads_unpadded`), where the outputs beside
    a column pad are few (3x3 and 5x5 kernels on a 1024-wide image, any 1-D
    signal): per output row only the kernel rows that fall on input rows,
    every column in the vector passes wherever their reads stay inside the
    input, and the columns whose windows reach into a column pad computed
    again after them, one output at a time over the taps on input columns.
    That saves the padded copy (0.15-0.5 ms of a 0.5 ms 3x3 loop on a
    1024^2 image). Elsewhere the loop reads a padded copy
    (:func:`fftconv._shapes.padding.read_padded`).
:func:`_channel_rows` (:data:`CHANNELS_LAST_MIN` channels or more)
    The innermost loop runs along the channels of the channels-last arrays
    (contiguous), in register blocks of :data:`CHANNEL_BLOCK` outputs of one
    row: per pass of up to eight taps of one kernel row and per vector of
    channels, the block's outputs and the taps' weights are loaded into
    registers, each input column the pass reads is loaded once and
    multiplied into every output of the block that reads it (at stride 1, a
    column serves up to four outputs), and the outputs are stored. A 7-tap
    pass over a block is 28 fused multiply-adds for 10 input loads, 7 weight
    loads and 4 loads and stores of the outputs (on the development machine,
    ``zmm`` vectors of 16 channels); the loop it replaced loaded an input and
    a weight per multiply-add. Strides that are one or two dilation steps
    (stride 1 or 2 without dilation, stride = dilation, ...) block consecutive
    outputs; stride 1 with a dilation ``d`` blocks every ``d``-th output (each
    phase of the outputs reads its own columns). The loop reads the unpadded
    input for zero padding without a channel multiplier (:func:`reads_unpadded`):
    kernel rows on row pads are skipped; in a block beside a column pad, the
    taps that all its outputs read on input columns run in the block, and the
    taps before and after them (on the pad for some outputs) one output at a
    time, in the filters' order, like every tap of the outputs outside the
    blocks (a row's last few, other strides), with the previous loop's body
    (an input and a weight loaded per multiply-add). Each row's outputs are
    summed while in cache for the engine's finite check.
    Square kernels of 3, 5 and 7 taps take their whole window in one pass
    over a block where every tap reads input samples (unit step 1 or 2): the
    block's outputs are loaded and stored once, and the block's set-up (its
    taps on input columns, the branch of its pass) is paid once, not once per
    kernel row and pass. The loop is compiled with its arrays declared apart
    (:func:`_apart`): LLVM otherwise checks at run time, before each vector
    loop, that a block's stores do not overlap its loads, which over 64 or 96
    channels cost about as much as the loop. On the development machine
    (AMD EPYC, Zen 4, 2026-12-07, one thread, float32, VALID) the loop runs
    8 GMAC/s at 3x3 (8x56x56x96: it streams the input and output), 18 at 7x7
    and 21 at 15x15: 14%, 31% and 36% of one core's fused multiply-add peak
    (16 float32 multiply-adds per cycle at 3.63 GHz, 58 GMAC/s); torch's
    depthwise kernel (oneDNN) ran 21-34 GMAC/s per core there (36-59%).

The two loops are written out by ``tools/gen_compiled.py`` in a checkout of the
repository (numba does not unroll a pass of several taps by itself, so each pass length is
a branch of its own): the text between the ``BEGIN GENERATED`` and ``END GENERATED``
lines is that script's output. To change a loop, edit the script and run
``python tools/gen_compiled.py``; ``tests/test_compiled_source.py`` fails when the block
and the script disagree.

A depthwise layer with a channel multiplier ``M`` first repeats each input
channel ``M`` times (one copy of the padded input), and is then a layer of
``G * M`` channels with one output each.

Rows (or, for a single row, ranges of its columns) are split into ``workers``
pieces run by fftconv's own pool (:mod:`fftconv._runtime.threads`); the loops
release the GIL, so no OpenMP runtime of numba's meets another library's (torch's)
in one process. Without numba, or with ``FFTCONV_DISABLE=numba``
(:mod:`fftconv._runtime.switches`), nothing here is compiled, :data:`HAVE_NUMBA`
is False and the strategy is not offered: numpy's ``"taps"`` run instead.

**Exactness.** Each output is the sum of its own window's products in the
compute dtype, in the filters' tap order, and nothing else (read unpadded, the
products of the taps on zero padding are left out of the sum rather than added
as zeros). The only
relaxation of IEEE arithmetic allowed to the compiler is ``contract``: a
product and the sum it is added to may become one fused multiply-add,
rounded once instead of twice. That keeps every rule of the contract: an
output still reads only its window, so NaN and Inf stay in the outputs
whose window holds them (a fused multiply-add is NaN where an operand is, or
for ``0 * Inf`` and opposite infinities, as the separate operations are);
integer data (computed in float64) give exact products and sums while those
fit 2**53, fused or not; and fusing only removes roundings (the error bound
of a sum of products stands). No other ``fastmath`` flag is set on the
loops: those let the compiler assume there is no NaN or Inf, or reorder the
sums. Only :func:`_total`, the sum of each block of outputs that tells the
engine whether every output is finite (in place of a second pass over the
output), may reorder its additions: any order of them is NaN or Inf where a
summand is.

**No compilation on a first call.** The loops are compiled with
``cache=True``: the first process that calls one compiles it for its dtype
(7 s for :func:`_single_rows`, 15 s for :func:`_channel_rows`, float32, on
the loaded development machine, 2026-12-07: each holds a vector loop per
number of taps in a pass, and the channel loop one per block kind too) and numba stores the machine code beside this file
(``fftconv/methods/__pycache__/*.nbi, *.nbc``, in a source checkout and in an
installed package alike), or, where that folder is not writable, in
``$NUMBA_CACHE_DIR`` or numba's user-wide cache folder; later processes load
it in about 10 ms. Loading needs numba's CPU target, whose set-up took
0.4-0.8 s (measured 2026-12-01, loaded machine) and would land on every
process's first compiled call, so it is done here, at import, like the
import of numba itself; ``FFTCONV_DISABLE=numba`` spares a process both.
"""

from __future__ import annotations

import functools
import importlib.util
import math

import numpy as np

from fftconv._runtime.scratch import scratch
from fftconv._shapes.padding import box_reads, read_padded
from fftconv._runtime.switches import DISABLED
from fftconv._runtime.threads import run_pieces, run_shared

#: Multiply-adds below which the loops run on the calling thread alone: handing rows to
#: another thread costs tens of microseconds.
MIN_PIECE_WORK = 2**18

#: With more than one thread, the loop along the channels cuts its rows into this many ranges per
#: thread, taken one by one (:func:`fftconv._runtime.threads.run_shared`): on a machine shared
#: with other work, fixed halves waited on the slower core.
SHARES_PER_THREAD = 4

#: Outputs of one row block of :func:`_single_rows`: the block and the input it reads stay
#: in the L1 and L2 caches while every tap is added into it.
ROW_BLOCK = 2048

#: Taps per pass of :func:`_single_rows` and of :func:`_channel_rows` (one kernel row's):
#: the longest pass each loop has a branch for (``tools/gen_compiled.py`` writes them); and the
#: outputs of one register block of :func:`_channel_rows`.
SINGLE_TAPS, CHANNEL_TAPS, CHANNEL_BLOCK = 9, 8, 4

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

    def _apart(**options):
        """``numba.njit(**options)`` for a loop whose array arguments never share memory: the
        compiler is told so (LLVM's ``noalias`` on each pointer argument, numba's own flag for
        its parallel loops), and drops the run-time checks of overlap it would put before each
        vector loop. ``_channel_rows`` enters its vector loop once per block of outputs and pass,
        over as few as 16 channels, where those checks cost as much as the loop (the 7x7
        depthwise loop ran 1.3x faster without them, 2026-12-07). Where numba's compiler
        classes differ from those this was written for, a plain ``njit``: the same loop, slower."""
        try:
            from numba.core.compiler import CompilerBase, DefaultPassBuilder
        except ImportError:  # pragma: no cover - another numba
            return numba.njit(**options)

        class Apart(CompilerBase):
            def define_pipelines(self):
                self.state.flags.noalias = True
                return [DefaultPassBuilder.define_nopython_pipeline(self.state)]

        return numba.njit(pipeline_class=Apart, **options)

    @numba.njit(nogil=True, cache=True, fastmath={"reassoc"})
    def _total(a):  # pragma: no cover - compiled
        """The sum of ``a``, in float64, in any order (vector code): a check that is finite if and
        only if every value is, unless the sum of finite values overflows. Reassociation is the
        only relaxation: NaN and Inf are still propagated by every order of the sums."""
        s = 0.0
        for i in range(a.shape[0]):
            s += a[i]
        return s

    # BEGIN GENERATED by tools/gen_compiled.py (edit the script, not this block)
    @numba.njit(nogil=True, cache=True, fastmath=_CONTRACT)
    def _single_rows(xf, offsets, wts, out, image_step, row_step,  # pragma: no cover - compiled
                     first, last, c0, c1, tap_lo, tap_hi, inner_lo, inner_hi, kw, dw, left, width):
        """``out[n, r, o] = sum_t xf[n * image_step + r * row_step + offsets[t] + o] * wts[n % G, t]``
        for the rows ``first <= n * OH + r < last`` and the columns ``c0 <= o < c1``, over the taps
        ``tap_lo[r] <= t < tap_hi[r]`` (whole kernel rows) whose column ``o + (t % kw) * dw - left`` is in
        ``[0, width)`` (every tap's, for ``inner_lo <= o < inner_hi``): taps taken up to
        nine at a time (a 3x3 kernel in one pass), so each pass over a block of the output
        row loads and stores it once per nine multiply-adds (see the module docstring).
        Returns the sum of the outputs computed (by :func:`_total`, each block while in cache):
        finite if and only if they are, unless the sum of finite outputs overflows."""
        oh_ = out.shape[1]
        g_ = wts.shape[0]
        lo = min(max(c0, inner_lo), c1)
        hi = max(min(c1, inner_hi), lo)
        total = 0.0
        for task in range(first, last):
            n = task // oh_
            r = task - n * oh_
            wrow = wts[n % g_]
            t0, t1 = tap_lo[r], tap_hi[r]
            row = n * image_step + r * row_step
            a, b = lo, hi
            if t1 > t0 and row + offsets[t0] + c0 >= 0 and row + offsets[t1 - 1] + c1 <= xf.shape[0]:
                a, b = c0, c1  # every column in the vector passes (reading in bounds), the edges redone
            elif t1 <= t0:  # every kernel row reads a row pad
                out[n, r, lo:hi] = 0
            for b0 in range(a, b, ROW_BLOCK):
                size = min(ROW_BLOCK, b - b0)
                orow = out[n, r, b0:b0 + size]
                base = row + b0
                t = t0
                while t < t1:
                    s = min(t1 - t, 9)
                    if s == 9:
                        v0 = xf[base + offsets[t]:]
                        w0 = wrow[t]
                        v1 = xf[base + offsets[t + 1]:]
                        w1 = wrow[t + 1]
                        v2 = xf[base + offsets[t + 2]:]
                        w2 = wrow[t + 2]
                        v3 = xf[base + offsets[t + 3]:]
                        w3 = wrow[t + 3]
                        v4 = xf[base + offsets[t + 4]:]
                        w4 = wrow[t + 4]
                        v5 = xf[base + offsets[t + 5]:]
                        w5 = wrow[t + 5]
                        v6 = xf[base + offsets[t + 6]:]
                        w6 = wrow[t + 6]
                        v7 = xf[base + offsets[t + 7]:]
                        w7 = wrow[t + 7]
                        v8 = xf[base + offsets[t + 8]:]
                        w8 = wrow[t + 8]
                        if t == t0:
                            for o in range(size):
                                orow[o] = (v0[o] * w0 + v1[o] * w1 + v2[o] * w2 + v3[o] * w3 + v4[o] * w4
                                           + v5[o] * w5 + v6[o] * w6 + v7[o] * w7 + v8[o] * w8)
                        else:
                            for o in range(size):
                                orow[o] = (orow[o] + v0[o] * w0 + v1[o] * w1 + v2[o] * w2 + v3[o] * w3
                                           + v4[o] * w4 + v5[o] * w5 + v6[o] * w6 + v7[o] * w7 + v8[o] * w8)
                    elif s == 8:
                        v0 = xf[base + offsets[t]:]
                        w0 = wrow[t]
                        v1 = xf[base + offsets[t + 1]:]
                        w1 = wrow[t + 1]
                        v2 = xf[base + offsets[t + 2]:]
                        w2 = wrow[t + 2]
                        v3 = xf[base + offsets[t + 3]:]
                        w3 = wrow[t + 3]
                        v4 = xf[base + offsets[t + 4]:]
                        w4 = wrow[t + 4]
                        v5 = xf[base + offsets[t + 5]:]
                        w5 = wrow[t + 5]
                        v6 = xf[base + offsets[t + 6]:]
                        w6 = wrow[t + 6]
                        v7 = xf[base + offsets[t + 7]:]
                        w7 = wrow[t + 7]
                        if t == t0:
                            for o in range(size):
                                orow[o] = (v0[o] * w0 + v1[o] * w1 + v2[o] * w2 + v3[o] * w3 + v4[o] * w4
                                           + v5[o] * w5 + v6[o] * w6 + v7[o] * w7)
                        else:
                            for o in range(size):
                                orow[o] = (orow[o] + v0[o] * w0 + v1[o] * w1 + v2[o] * w2 + v3[o] * w3
                                           + v4[o] * w4 + v5[o] * w5 + v6[o] * w6 + v7[o] * w7)
                    elif s == 7:
                        v0 = xf[base + offsets[t]:]
                        w0 = wrow[t]
                        v1 = xf[base + offsets[t + 1]:]
                        w1 = wrow[t + 1]
                        v2 = xf[base + offsets[t + 2]:]
                        w2 = wrow[t + 2]
                        v3 = xf[base + offsets[t + 3]:]
                        w3 = wrow[t + 3]
                        v4 = xf[base + offsets[t + 4]:]
                        w4 = wrow[t + 4]
                        v5 = xf[base + offsets[t + 5]:]
                        w5 = wrow[t + 5]
                        v6 = xf[base + offsets[t + 6]:]
                        w6 = wrow[t + 6]
                        if t == t0:
                            for o in range(size):
                                orow[o] = (v0[o] * w0 + v1[o] * w1 + v2[o] * w2 + v3[o] * w3 + v4[o] * w4
                                           + v5[o] * w5 + v6[o] * w6)
                        else:
                            for o in range(size):
                                orow[o] = (orow[o] + v0[o] * w0 + v1[o] * w1 + v2[o] * w2 + v3[o] * w3
                                           + v4[o] * w4 + v5[o] * w5 + v6[o] * w6)
                    elif s == 6:
                        v0 = xf[base + offsets[t]:]
                        w0 = wrow[t]
                        v1 = xf[base + offsets[t + 1]:]
                        w1 = wrow[t + 1]
                        v2 = xf[base + offsets[t + 2]:]
                        w2 = wrow[t + 2]
                        v3 = xf[base + offsets[t + 3]:]
                        w3 = wrow[t + 3]
                        v4 = xf[base + offsets[t + 4]:]
                        w4 = wrow[t + 4]
                        v5 = xf[base + offsets[t + 5]:]
                        w5 = wrow[t + 5]
                        if t == t0:
                            for o in range(size):
                                orow[o] = (v0[o] * w0 + v1[o] * w1 + v2[o] * w2 + v3[o] * w3 + v4[o] * w4
                                           + v5[o] * w5)
                        else:
                            for o in range(size):
                                orow[o] = (orow[o] + v0[o] * w0 + v1[o] * w1 + v2[o] * w2 + v3[o] * w3
                                           + v4[o] * w4 + v5[o] * w5)
                    elif s == 5:
                        v0 = xf[base + offsets[t]:]
                        w0 = wrow[t]
                        v1 = xf[base + offsets[t + 1]:]
                        w1 = wrow[t + 1]
                        v2 = xf[base + offsets[t + 2]:]
                        w2 = wrow[t + 2]
                        v3 = xf[base + offsets[t + 3]:]
                        w3 = wrow[t + 3]
                        v4 = xf[base + offsets[t + 4]:]
                        w4 = wrow[t + 4]
                        if t == t0:
                            for o in range(size):
                                orow[o] = v0[o] * w0 + v1[o] * w1 + v2[o] * w2 + v3[o] * w3 + v4[o] * w4
                        else:
                            for o in range(size):
                                orow[o] = (orow[o] + v0[o] * w0 + v1[o] * w1 + v2[o] * w2 + v3[o] * w3
                                           + v4[o] * w4)
                    elif s == 4:
                        v0 = xf[base + offsets[t]:]
                        w0 = wrow[t]
                        v1 = xf[base + offsets[t + 1]:]
                        w1 = wrow[t + 1]
                        v2 = xf[base + offsets[t + 2]:]
                        w2 = wrow[t + 2]
                        v3 = xf[base + offsets[t + 3]:]
                        w3 = wrow[t + 3]
                        if t == t0:
                            for o in range(size):
                                orow[o] = v0[o] * w0 + v1[o] * w1 + v2[o] * w2 + v3[o] * w3
                        else:
                            for o in range(size):
                                orow[o] = orow[o] + v0[o] * w0 + v1[o] * w1 + v2[o] * w2 + v3[o] * w3
                    elif s == 3:
                        v0 = xf[base + offsets[t]:]
                        w0 = wrow[t]
                        v1 = xf[base + offsets[t + 1]:]
                        w1 = wrow[t + 1]
                        v2 = xf[base + offsets[t + 2]:]
                        w2 = wrow[t + 2]
                        if t == t0:
                            for o in range(size):
                                orow[o] = v0[o] * w0 + v1[o] * w1 + v2[o] * w2
                        else:
                            for o in range(size):
                                orow[o] = orow[o] + v0[o] * w0 + v1[o] * w1 + v2[o] * w2
                    elif s == 2:
                        v0 = xf[base + offsets[t]:]
                        w0 = wrow[t]
                        v1 = xf[base + offsets[t + 1]:]
                        w1 = wrow[t + 1]
                        if t == t0:
                            for o in range(size):
                                orow[o] = v0[o] * w0 + v1[o] * w1
                        else:
                            for o in range(size):
                                orow[o] = orow[o] + v0[o] * w0 + v1[o] * w1
                    elif s == 1:
                        v0 = xf[base + offsets[t]:]
                        w0 = wrow[t]
                        if t == t0:
                            for o in range(size):
                                orow[o] = v0[o] * w0
                        else:
                            for o in range(size):
                                orow[o] = orow[o] + v0[o] * w0
                    t += s
                total += _total(orow[max(lo - b0, 0):max(min(hi - b0, size), 0)])
            for a, b in ((c0, lo), (hi, c1)):  # the columns whose windows reach into a pad
                for o in range(a, b):
                    j0 = min(max(-((o - left) // dw), 0), kw)  # the kernel columns whose input
                    j1 = min(max(-((o - left - width) // dw), j0), kw)  # column is in [0, width)
                    out[n, r, o] = 0
                    acc = out[n, r, o]  # a zero of the output's dtype
                    for i in range(t0, t1, kw):
                        for t in range(i + j0, i + j1):
                            acc += xf[row + offsets[t] + o] * wrow[t]
                    out[n, r, o] = acc
                    total += acc
        return total

    @numba.njit(nogil=True, cache=True, fastmath=_CONTRACT)
    def _channel_taps(xp, wts, out, n, r, o, y, i, j, j1, xb, dw):  # pragma: no cover - compiled
        """``out[n, r, o, c] += sum_j xp[n, y, xb + j * dw, c] * wts[i, j, c]`` for the taps
        ``j <= t < j1`` of kernel row ``i``, in passes of up to eight, the channels innermost."""
        while j < j1:
            s = min(j1 - j, 8)
            b = xb + j * dw
            if s == 8:
                for c in range(out.shape[3]):
                    out[n, r, o, c] = (out[n, r, o, c] + xp[n, y, b, c] * wts[i, j, c]
                                       + xp[n, y, b + dw, c] * wts[i, j + 1, c]
                                       + xp[n, y, b + 2 * dw, c] * wts[i, j + 2, c]
                                       + xp[n, y, b + 3 * dw, c] * wts[i, j + 3, c]
                                       + xp[n, y, b + 4 * dw, c] * wts[i, j + 4, c]
                                       + xp[n, y, b + 5 * dw, c] * wts[i, j + 5, c]
                                       + xp[n, y, b + 6 * dw, c] * wts[i, j + 6, c]
                                       + xp[n, y, b + 7 * dw, c] * wts[i, j + 7, c])
            elif s == 7:
                for c in range(out.shape[3]):
                    out[n, r, o, c] = (out[n, r, o, c] + xp[n, y, b, c] * wts[i, j, c]
                                       + xp[n, y, b + dw, c] * wts[i, j + 1, c]
                                       + xp[n, y, b + 2 * dw, c] * wts[i, j + 2, c]
                                       + xp[n, y, b + 3 * dw, c] * wts[i, j + 3, c]
                                       + xp[n, y, b + 4 * dw, c] * wts[i, j + 4, c]
                                       + xp[n, y, b + 5 * dw, c] * wts[i, j + 5, c]
                                       + xp[n, y, b + 6 * dw, c] * wts[i, j + 6, c])
            elif s == 6:
                for c in range(out.shape[3]):
                    out[n, r, o, c] = (out[n, r, o, c] + xp[n, y, b, c] * wts[i, j, c]
                                       + xp[n, y, b + dw, c] * wts[i, j + 1, c]
                                       + xp[n, y, b + 2 * dw, c] * wts[i, j + 2, c]
                                       + xp[n, y, b + 3 * dw, c] * wts[i, j + 3, c]
                                       + xp[n, y, b + 4 * dw, c] * wts[i, j + 4, c]
                                       + xp[n, y, b + 5 * dw, c] * wts[i, j + 5, c])
            elif s == 5:
                for c in range(out.shape[3]):
                    out[n, r, o, c] = (out[n, r, o, c] + xp[n, y, b, c] * wts[i, j, c]
                                       + xp[n, y, b + dw, c] * wts[i, j + 1, c]
                                       + xp[n, y, b + 2 * dw, c] * wts[i, j + 2, c]
                                       + xp[n, y, b + 3 * dw, c] * wts[i, j + 3, c]
                                       + xp[n, y, b + 4 * dw, c] * wts[i, j + 4, c])
            elif s == 4:
                for c in range(out.shape[3]):
                    out[n, r, o, c] = (out[n, r, o, c] + xp[n, y, b, c] * wts[i, j, c]
                                       + xp[n, y, b + dw, c] * wts[i, j + 1, c]
                                       + xp[n, y, b + 2 * dw, c] * wts[i, j + 2, c]
                                       + xp[n, y, b + 3 * dw, c] * wts[i, j + 3, c])
            elif s == 3:
                for c in range(out.shape[3]):
                    out[n, r, o, c] = (out[n, r, o, c] + xp[n, y, b, c] * wts[i, j, c]
                                       + xp[n, y, b + dw, c] * wts[i, j + 1, c]
                                       + xp[n, y, b + 2 * dw, c] * wts[i, j + 2, c])
            elif s == 2:
                for c in range(out.shape[3]):
                    out[n, r, o, c] = (out[n, r, o, c] + xp[n, y, b, c] * wts[i, j, c]
                                       + xp[n, y, b + dw, c] * wts[i, j + 1, c])
            elif s == 1:
                for c in range(out.shape[3]):
                    out[n, r, o, c] = out[n, r, o, c] + xp[n, y, b, c] * wts[i, j, c]
            j += s

    @_apart(nogil=True, cache=True, fastmath=_CONTRACT)  # out, xp and wts never overlap
    def _channel_rows(xp, wts, out, sh, sw, dh, dw, top, left, unit, ostep, first, last):  # pragma: no cover
        """``out[n, r, o, c] = sum_ij xp[n, r*sh + i*dh - top, o*sw + j*dw - left, c] * wts[i, j, c]``
        over the taps that land inside ``xp``, for the rows ``first <= n * OH + r < last``: the
        outputs in blocks of 4, ``ostep`` apart, whose input columns are ``unit`` dilation steps
        apart from one output to the next (1 or 2; 0: every output alone), the taps that all of a
        block's outputs read on input columns in passes of up to eight over the block, the
        others one output at a time; the channels innermost. Returns the sum of the outputs (by
        :func:`_total`, each row while in cache)."""
        oh_, ow_, c_ = out.shape[1:]
        h_, w_ = xp.shape[1], xp.shape[2]
        kh_, kw_ = wts.shape[0], wts.shape[1]
        total = 0.0
        for task in range(first, last):
            n = task // oh_
            r = task - n * oh_
            out[n, r] = 0
            y0 = r * sh - top
            i0 = min(max(-(y0 // dh), 0), kh_)  # the kernel rows on input rows: [i0, i1)
            i1 = min(max(-((y0 - h_) // dh), i0), kh_)
            for p in range(ostep):  # per phase of the outputs
                ob = p
                while ob < ow_:
                    size = min(4, (ow_ - 1 - ob) // ostep + 1) if unit else 1
                    ja = jb = kw_  # the taps every output of the block reads on input columns
                    if size == 4:
                        ja = min(max(-((ob * sw - left) // dw), 0), kw_)
                        jb = min(max(-(((ob + 3 * ostep) * sw - left - w_) // dw), ja), kw_)
                        if jb == ja:  # none: each output alone
                            ja = jb = kw_
                    whole = ja == 0 and jb == kw_ and i0 == 0 and i1 == kh_ and kh_ == kw_
                    xb = ob * sw - left
                    if whole and unit == 1 and kw_ == 3:
                        for c in range(c_):
                            a0 = out[n, r, ob, c]
                            a1 = out[n, r, ob + ostep, c]
                            a2 = out[n, r, ob + 2 * ostep, c]
                            a3 = out[n, r, ob + 3 * ostep, c]
                            w0 = wts[0, 0, c]
                            w1 = wts[0, 1, c]
                            w2 = wts[0, 2, c]
                            x0 = xp[n, y0, xb, c]
                            a0 = a0 + x0 * w0
                            x1 = xp[n, y0, xb + dw, c]
                            a0 = a0 + x1 * w1
                            a1 = a1 + x1 * w0
                            x2 = xp[n, y0, xb + 2 * dw, c]
                            a0 = a0 + x2 * w2
                            a1 = a1 + x2 * w1
                            a2 = a2 + x2 * w0
                            x3 = xp[n, y0, xb + 3 * dw, c]
                            a1 = a1 + x3 * w2
                            a2 = a2 + x3 * w1
                            a3 = a3 + x3 * w0
                            x4 = xp[n, y0, xb + 4 * dw, c]
                            a2 = a2 + x4 * w2
                            a3 = a3 + x4 * w1
                            x5 = xp[n, y0, xb + 5 * dw, c]
                            a3 = a3 + x5 * w2
                            w0 = wts[1, 0, c]
                            w1 = wts[1, 1, c]
                            w2 = wts[1, 2, c]
                            x0 = xp[n, y0 + dh, xb, c]
                            a0 = a0 + x0 * w0
                            x1 = xp[n, y0 + dh, xb + dw, c]
                            a0 = a0 + x1 * w1
                            a1 = a1 + x1 * w0
                            x2 = xp[n, y0 + dh, xb + 2 * dw, c]
                            a0 = a0 + x2 * w2
                            a1 = a1 + x2 * w1
                            a2 = a2 + x2 * w0
                            x3 = xp[n, y0 + dh, xb + 3 * dw, c]
                            a1 = a1 + x3 * w2
                            a2 = a2 + x3 * w1
                            a3 = a3 + x3 * w0
                            x4 = xp[n, y0 + dh, xb + 4 * dw, c]
                            a2 = a2 + x4 * w2
                            a3 = a3 + x4 * w1
                            x5 = xp[n, y0 + dh, xb + 5 * dw, c]
                            a3 = a3 + x5 * w2
                            w0 = wts[2, 0, c]
                            w1 = wts[2, 1, c]
                            w2 = wts[2, 2, c]
                            x0 = xp[n, y0 + 2 * dh, xb, c]
                            a0 = a0 + x0 * w0
                            x1 = xp[n, y0 + 2 * dh, xb + dw, c]
                            a0 = a0 + x1 * w1
                            a1 = a1 + x1 * w0
                            x2 = xp[n, y0 + 2 * dh, xb + 2 * dw, c]
                            a0 = a0 + x2 * w2
                            a1 = a1 + x2 * w1
                            a2 = a2 + x2 * w0
                            x3 = xp[n, y0 + 2 * dh, xb + 3 * dw, c]
                            a1 = a1 + x3 * w2
                            a2 = a2 + x3 * w1
                            a3 = a3 + x3 * w0
                            x4 = xp[n, y0 + 2 * dh, xb + 4 * dw, c]
                            a2 = a2 + x4 * w2
                            a3 = a3 + x4 * w1
                            x5 = xp[n, y0 + 2 * dh, xb + 5 * dw, c]
                            a3 = a3 + x5 * w2
                            out[n, r, ob, c] = a0
                            out[n, r, ob + ostep, c] = a1
                            out[n, r, ob + 2 * ostep, c] = a2
                            out[n, r, ob + 3 * ostep, c] = a3
                    elif whole and unit == 2 and kw_ == 3:
                        for c in range(c_):
                            a0 = out[n, r, ob, c]
                            a1 = out[n, r, ob + ostep, c]
                            a2 = out[n, r, ob + 2 * ostep, c]
                            a3 = out[n, r, ob + 3 * ostep, c]
                            w0 = wts[0, 0, c]
                            w1 = wts[0, 1, c]
                            w2 = wts[0, 2, c]
                            x0 = xp[n, y0, xb, c]
                            a0 = a0 + x0 * w0
                            x1 = xp[n, y0, xb + dw, c]
                            a0 = a0 + x1 * w1
                            x2 = xp[n, y0, xb + 2 * dw, c]
                            a0 = a0 + x2 * w2
                            a1 = a1 + x2 * w0
                            x3 = xp[n, y0, xb + 3 * dw, c]
                            a1 = a1 + x3 * w1
                            x4 = xp[n, y0, xb + 4 * dw, c]
                            a1 = a1 + x4 * w2
                            a2 = a2 + x4 * w0
                            x5 = xp[n, y0, xb + 5 * dw, c]
                            a2 = a2 + x5 * w1
                            x6 = xp[n, y0, xb + 6 * dw, c]
                            a2 = a2 + x6 * w2
                            a3 = a3 + x6 * w0
                            x7 = xp[n, y0, xb + 7 * dw, c]
                            a3 = a3 + x7 * w1
                            x8 = xp[n, y0, xb + 8 * dw, c]
                            a3 = a3 + x8 * w2
                            w0 = wts[1, 0, c]
                            w1 = wts[1, 1, c]
                            w2 = wts[1, 2, c]
                            x0 = xp[n, y0 + dh, xb, c]
                            a0 = a0 + x0 * w0
                            x1 = xp[n, y0 + dh, xb + dw, c]
                            a0 = a0 + x1 * w1
                            x2 = xp[n, y0 + dh, xb + 2 * dw, c]
                            a0 = a0 + x2 * w2
                            a1 = a1 + x2 * w0
                            x3 = xp[n, y0 + dh, xb + 3 * dw, c]
                            a1 = a1 + x3 * w1
                            x4 = xp[n, y0 + dh, xb + 4 * dw, c]
                            a1 = a1 + x4 * w2
                            a2 = a2 + x4 * w0
                            x5 = xp[n, y0 + dh, xb + 5 * dw, c]
                            a2 = a2 + x5 * w1
                            x6 = xp[n, y0 + dh, xb + 6 * dw, c]
                            a2 = a2 + x6 * w2
                            a3 = a3 + x6 * w0
                            x7 = xp[n, y0 + dh, xb + 7 * dw, c]
                            a3 = a3 + x7 * w1
                            x8 = xp[n, y0 + dh, xb + 8 * dw, c]
                            a3 = a3 + x8 * w2
                            w0 = wts[2, 0, c]
                            w1 = wts[2, 1, c]
                            w2 = wts[2, 2, c]
                            x0 = xp[n, y0 + 2 * dh, xb, c]
                            a0 = a0 + x0 * w0
                            x1 = xp[n, y0 + 2 * dh, xb + dw, c]
                            a0 = a0 + x1 * w1
                            x2 = xp[n, y0 + 2 * dh, xb + 2 * dw, c]
                            a0 = a0 + x2 * w2
                            a1 = a1 + x2 * w0
                            x3 = xp[n, y0 + 2 * dh, xb + 3 * dw, c]
                            a1 = a1 + x3 * w1
                            x4 = xp[n, y0 + 2 * dh, xb + 4 * dw, c]
                            a1 = a1 + x4 * w2
                            a2 = a2 + x4 * w0
                            x5 = xp[n, y0 + 2 * dh, xb + 5 * dw, c]
                            a2 = a2 + x5 * w1
                            x6 = xp[n, y0 + 2 * dh, xb + 6 * dw, c]
                            a2 = a2 + x6 * w2
                            a3 = a3 + x6 * w0
                            x7 = xp[n, y0 + 2 * dh, xb + 7 * dw, c]
                            a3 = a3 + x7 * w1
                            x8 = xp[n, y0 + 2 * dh, xb + 8 * dw, c]
                            a3 = a3 + x8 * w2
                            out[n, r, ob, c] = a0
                            out[n, r, ob + ostep, c] = a1
                            out[n, r, ob + 2 * ostep, c] = a2
                            out[n, r, ob + 3 * ostep, c] = a3
                    elif whole and unit == 1 and kw_ == 5:
                        for c in range(c_):
                            a0 = out[n, r, ob, c]
                            a1 = out[n, r, ob + ostep, c]
                            a2 = out[n, r, ob + 2 * ostep, c]
                            a3 = out[n, r, ob + 3 * ostep, c]
                            w0 = wts[0, 0, c]
                            w1 = wts[0, 1, c]
                            w2 = wts[0, 2, c]
                            w3 = wts[0, 3, c]
                            w4 = wts[0, 4, c]
                            x0 = xp[n, y0, xb, c]
                            a0 = a0 + x0 * w0
                            x1 = xp[n, y0, xb + dw, c]
                            a0 = a0 + x1 * w1
                            a1 = a1 + x1 * w0
                            x2 = xp[n, y0, xb + 2 * dw, c]
                            a0 = a0 + x2 * w2
                            a1 = a1 + x2 * w1
                            a2 = a2 + x2 * w0
                            x3 = xp[n, y0, xb + 3 * dw, c]
                            a0 = a0 + x3 * w3
                            a1 = a1 + x3 * w2
                            a2 = a2 + x3 * w1
                            a3 = a3 + x3 * w0
                            x4 = xp[n, y0, xb + 4 * dw, c]
                            a0 = a0 + x4 * w4
                            a1 = a1 + x4 * w3
                            a2 = a2 + x4 * w2
                            a3 = a3 + x4 * w1
                            x5 = xp[n, y0, xb + 5 * dw, c]
                            a1 = a1 + x5 * w4
                            a2 = a2 + x5 * w3
                            a3 = a3 + x5 * w2
                            x6 = xp[n, y0, xb + 6 * dw, c]
                            a2 = a2 + x6 * w4
                            a3 = a3 + x6 * w3
                            x7 = xp[n, y0, xb + 7 * dw, c]
                            a3 = a3 + x7 * w4
                            w0 = wts[1, 0, c]
                            w1 = wts[1, 1, c]
                            w2 = wts[1, 2, c]
                            w3 = wts[1, 3, c]
                            w4 = wts[1, 4, c]
                            x0 = xp[n, y0 + dh, xb, c]
                            a0 = a0 + x0 * w0
                            x1 = xp[n, y0 + dh, xb + dw, c]
                            a0 = a0 + x1 * w1
                            a1 = a1 + x1 * w0
                            x2 = xp[n, y0 + dh, xb + 2 * dw, c]
                            a0 = a0 + x2 * w2
                            a1 = a1 + x2 * w1
                            a2 = a2 + x2 * w0
                            x3 = xp[n, y0 + dh, xb + 3 * dw, c]
                            a0 = a0 + x3 * w3
                            a1 = a1 + x3 * w2
                            a2 = a2 + x3 * w1
                            a3 = a3 + x3 * w0
                            x4 = xp[n, y0 + dh, xb + 4 * dw, c]
                            a0 = a0 + x4 * w4
                            a1 = a1 + x4 * w3
                            a2 = a2 + x4 * w2
                            a3 = a3 + x4 * w1
                            x5 = xp[n, y0 + dh, xb + 5 * dw, c]
                            a1 = a1 + x5 * w4
                            a2 = a2 + x5 * w3
                            a3 = a3 + x5 * w2
                            x6 = xp[n, y0 + dh, xb + 6 * dw, c]
                            a2 = a2 + x6 * w4
                            a3 = a3 + x6 * w3
                            x7 = xp[n, y0 + dh, xb + 7 * dw, c]
                            a3 = a3 + x7 * w4
                            w0 = wts[2, 0, c]
                            w1 = wts[2, 1, c]
                            w2 = wts[2, 2, c]
                            w3 = wts[2, 3, c]
                            w4 = wts[2, 4, c]
                            x0 = xp[n, y0 + 2 * dh, xb, c]
                            a0 = a0 + x0 * w0
                            x1 = xp[n, y0 + 2 * dh, xb + dw, c]
                            a0 = a0 + x1 * w1
                            a1 = a1 + x1 * w0
                            x2 = xp[n, y0 + 2 * dh, xb + 2 * dw, c]
                            a0 = a0 + x2 * w2
                            a1 = a1 + x2 * w1
                            a2 = a2 + x2 * w0
                            x3 = xp[n, y0 + 2 * dh, xb + 3 * dw, c]
                            a0 = a0 + x3 * w3
                            a1 = a1 + x3 * w2
                            a2 = a2 + x3 * w1
                            a3 = a3 + x3 * w0
                            x4 = xp[n, y0 + 2 * dh, xb + 4 * dw, c]
                            a0 = a0 + x4 * w4
                            a1 = a1 + x4 * w3
                            a2 = a2 + x4 * w2
                            a3 = a3 + x4 * w1
                            x5 = xp[n, y0 + 2 * dh, xb + 5 * dw, c]
                            a1 = a1 + x5 * w4
                            a2 = a2 + x5 * w3
                            a3 = a3 + x5 * w2
                            x6 = xp[n, y0 + 2 * dh, xb + 6 * dw, c]
                            a2 = a2 + x6 * w4
                            a3 = a3 + x6 * w3
                            x7 = xp[n, y0 + 2 * dh, xb + 7 * dw, c]
                            a3 = a3 + x7 * w4
                            w0 = wts[3, 0, c]
                            w1 = wts[3, 1, c]
                            w2 = wts[3, 2, c]
                            w3 = wts[3, 3, c]
                            w4 = wts[3, 4, c]
                            x0 = xp[n, y0 + 3 * dh, xb, c]
                            a0 = a0 + x0 * w0
                            x1 = xp[n, y0 + 3 * dh, xb + dw, c]
                            a0 = a0 + x1 * w1
                            a1 = a1 + x1 * w0
                            x2 = xp[n, y0 + 3 * dh, xb + 2 * dw, c]
                            a0 = a0 + x2 * w2
                            a1 = a1 + x2 * w1
                            a2 = a2 + x2 * w0
                            x3 = xp[n, y0 + 3 * dh, xb + 3 * dw, c]
                            a0 = a0 + x3 * w3
                            a1 = a1 + x3 * w2
                            a2 = a2 + x3 * w1
                            a3 = a3 + x3 * w0
                            x4 = xp[n, y0 + 3 * dh, xb + 4 * dw, c]
                            a0 = a0 + x4 * w4
                            a1 = a1 + x4 * w3
                            a2 = a2 + x4 * w2
                            a3 = a3 + x4 * w1
                            x5 = xp[n, y0 + 3 * dh, xb + 5 * dw, c]
                            a1 = a1 + x5 * w4
                            a2 = a2 + x5 * w3
                            a3 = a3 + x5 * w2
                            x6 = xp[n, y0 + 3 * dh, xb + 6 * dw, c]
                            a2 = a2 + x6 * w4
                            a3 = a3 + x6 * w3
                            x7 = xp[n, y0 + 3 * dh, xb + 7 * dw, c]
                            a3 = a3 + x7 * w4
                            w0 = wts[4, 0, c]
                            w1 = wts[4, 1, c]
                            w2 = wts[4, 2, c]
                            w3 = wts[4, 3, c]
                            w4 = wts[4, 4, c]
                            x0 = xp[n, y0 + 4 * dh, xb, c]
                            a0 = a0 + x0 * w0
                            x1 = xp[n, y0 + 4 * dh, xb + dw, c]
                            a0 = a0 + x1 * w1
                            a1 = a1 + x1 * w0
                            x2 = xp[n, y0 + 4 * dh, xb + 2 * dw, c]
                            a0 = a0 + x2 * w2
                            a1 = a1 + x2 * w1
                            a2 = a2 + x2 * w0
                            x3 = xp[n, y0 + 4 * dh, xb + 3 * dw, c]
                            a0 = a0 + x3 * w3
                            a1 = a1 + x3 * w2
                            a2 = a2 + x3 * w1
                            a3 = a3 + x3 * w0
                            x4 = xp[n, y0 + 4 * dh, xb + 4 * dw, c]
                            a0 = a0 + x4 * w4
                            a1 = a1 + x4 * w3
                            a2 = a2 + x4 * w2
                            a3 = a3 + x4 * w1
                            x5 = xp[n, y0 + 4 * dh, xb + 5 * dw, c]
                            a1 = a1 + x5 * w4
                            a2 = a2 + x5 * w3
                            a3 = a3 + x5 * w2
                            x6 = xp[n, y0 + 4 * dh, xb + 6 * dw, c]
                            a2 = a2 + x6 * w4
                            a3 = a3 + x6 * w3
                            x7 = xp[n, y0 + 4 * dh, xb + 7 * dw, c]
                            a3 = a3 + x7 * w4
                            out[n, r, ob, c] = a0
                            out[n, r, ob + ostep, c] = a1
                            out[n, r, ob + 2 * ostep, c] = a2
                            out[n, r, ob + 3 * ostep, c] = a3
                    elif whole and unit == 2 and kw_ == 5:
                        for c in range(c_):
                            a0 = out[n, r, ob, c]
                            a1 = out[n, r, ob + ostep, c]
                            a2 = out[n, r, ob + 2 * ostep, c]
                            a3 = out[n, r, ob + 3 * ostep, c]
                            w0 = wts[0, 0, c]
                            w1 = wts[0, 1, c]
                            w2 = wts[0, 2, c]
                            w3 = wts[0, 3, c]
                            w4 = wts[0, 4, c]
                            x0 = xp[n, y0, xb, c]
                            a0 = a0 + x0 * w0
                            x1 = xp[n, y0, xb + dw, c]
                            a0 = a0 + x1 * w1
                            x2 = xp[n, y0, xb + 2 * dw, c]
                            a0 = a0 + x2 * w2
                            a1 = a1 + x2 * w0
                            x3 = xp[n, y0, xb + 3 * dw, c]
                            a0 = a0 + x3 * w3
                            a1 = a1 + x3 * w1
                            x4 = xp[n, y0, xb + 4 * dw, c]
                            a0 = a0 + x4 * w4
                            a1 = a1 + x4 * w2
                            a2 = a2 + x4 * w0
                            x5 = xp[n, y0, xb + 5 * dw, c]
                            a1 = a1 + x5 * w3
                            a2 = a2 + x5 * w1
                            x6 = xp[n, y0, xb + 6 * dw, c]
                            a1 = a1 + x6 * w4
                            a2 = a2 + x6 * w2
                            a3 = a3 + x6 * w0
                            x7 = xp[n, y0, xb + 7 * dw, c]
                            a2 = a2 + x7 * w3
                            a3 = a3 + x7 * w1
                            x8 = xp[n, y0, xb + 8 * dw, c]
                            a2 = a2 + x8 * w4
                            a3 = a3 + x8 * w2
                            x9 = xp[n, y0, xb + 9 * dw, c]
                            a3 = a3 + x9 * w3
                            x10 = xp[n, y0, xb + 10 * dw, c]
                            a3 = a3 + x10 * w4
                            w0 = wts[1, 0, c]
                            w1 = wts[1, 1, c]
                            w2 = wts[1, 2, c]
                            w3 = wts[1, 3, c]
                            w4 = wts[1, 4, c]
                            x0 = xp[n, y0 + dh, xb, c]
                            a0 = a0 + x0 * w0
                            x1 = xp[n, y0 + dh, xb + dw, c]
                            a0 = a0 + x1 * w1
                            x2 = xp[n, y0 + dh, xb + 2 * dw, c]
                            a0 = a0 + x2 * w2
                            a1 = a1 + x2 * w0
                            x3 = xp[n, y0 + dh, xb + 3 * dw, c]
                            a0 = a0 + x3 * w3
                            a1 = a1 + x3 * w1
                            x4 = xp[n, y0 + dh, xb + 4 * dw, c]
                            a0 = a0 + x4 * w4
                            a1 = a1 + x4 * w2
                            a2 = a2 + x4 * w0
                            x5 = xp[n, y0 + dh, xb + 5 * dw, c]
                            a1 = a1 + x5 * w3
                            a2 = a2 + x5 * w1
                            x6 = xp[n, y0 + dh, xb + 6 * dw, c]
                            a1 = a1 + x6 * w4
                            a2 = a2 + x6 * w2
                            a3 = a3 + x6 * w0
                            x7 = xp[n, y0 + dh, xb + 7 * dw, c]
                            a2 = a2 + x7 * w3
                            a3 = a3 + x7 * w1
                            x8 = xp[n, y0 + dh, xb + 8 * dw, c]
                            a2 = a2 + x8 * w4
                            a3 = a3 + x8 * w2
                            x9 = xp[n, y0 + dh, xb + 9 * dw, c]
                            a3 = a3 + x9 * w3
                            x10 = xp[n, y0 + dh, xb + 10 * dw, c]
                            a3 = a3 + x10 * w4
                            w0 = wts[2, 0, c]
                            w1 = wts[2, 1, c]
                            w2 = wts[2, 2, c]
                            w3 = wts[2, 3, c]
                            w4 = wts[2, 4, c]
                            x0 = xp[n, y0 + 2 * dh, xb, c]
                            a0 = a0 + x0 * w0
                            x1 = xp[n, y0 + 2 * dh, xb + dw, c]
                            a0 = a0 + x1 * w1
                            x2 = xp[n, y0 + 2 * dh, xb + 2 * dw, c]
                            a0 = a0 + x2 * w2
                            a1 = a1 + x2 * w0
                            x3 = xp[n, y0 + 2 * dh, xb + 3 * dw, c]
                            a0 = a0 + x3 * w3
                            a1 = a1 + x3 * w1
                            x4 = xp[n, y0 + 2 * dh, xb + 4 * dw, c]
                            a0 = a0 + x4 * w4
                            a1 = a1 + x4 * w2
                            a2 = a2 + x4 * w0
                            x5 = xp[n, y0 + 2 * dh, xb + 5 * dw, c]
                            a1 = a1 + x5 * w3
                            a2 = a2 + x5 * w1
                            x6 = xp[n, y0 + 2 * dh, xb + 6 * dw, c]
                            a1 = a1 + x6 * w4
                            a2 = a2 + x6 * w2
                            a3 = a3 + x6 * w0
                            x7 = xp[n, y0 + 2 * dh, xb + 7 * dw, c]
                            a2 = a2 + x7 * w3
                            a3 = a3 + x7 * w1
                            x8 = xp[n, y0 + 2 * dh, xb + 8 * dw, c]
                            a2 = a2 + x8 * w4
                            a3 = a3 + x8 * w2
                            x9 = xp[n, y0 + 2 * dh, xb + 9 * dw, c]
                            a3 = a3 + x9 * w3
                            x10 = xp[n, y0 + 2 * dh, xb + 10 * dw, c]
                            a3 = a3 + x10 * w4
                            w0 = wts[3, 0, c]
                            w1 = wts[3, 1, c]
                            w2 = wts[3, 2, c]
                            w3 = wts[3, 3, c]
                            w4 = wts[3, 4, c]
                            x0 = xp[n, y0 + 3 * dh, xb, c]
                            a0 = a0 + x0 * w0
                            x1 = xp[n, y0 + 3 * dh, xb + dw, c]
                            a0 = a0 + x1 * w1
                            x2 = xp[n, y0 + 3 * dh, xb + 2 * dw, c]
                            a0 = a0 + x2 * w2
                            a1 = a1 + x2 * w0
                            x3 = xp[n, y0 + 3 * dh, xb + 3 * dw, c]
                            a0 = a0 + x3 * w3
                            a1 = a1 + x3 * w1
                            x4 = xp[n, y0 + 3 * dh, xb + 4 * dw, c]
                            a0 = a0 + x4 * w4
                            a1 = a1 + x4 * w2
                            a2 = a2 + x4 * w0
                            x5 = xp[n, y0 + 3 * dh, xb + 5 * dw, c]
                            a1 = a1 + x5 * w3
                            a2 = a2 + x5 * w1
                            x6 = xp[n, y0 + 3 * dh, xb + 6 * dw, c]
                            a1 = a1 + x6 * w4
                            a2 = a2 + x6 * w2
                            a3 = a3 + x6 * w0
                            x7 = xp[n, y0 + 3 * dh, xb + 7 * dw, c]
                            a2 = a2 + x7 * w3
                            a3 = a3 + x7 * w1
                            x8 = xp[n, y0 + 3 * dh, xb + 8 * dw, c]
                            a2 = a2 + x8 * w4
                            a3 = a3 + x8 * w2
                            x9 = xp[n, y0 + 3 * dh, xb + 9 * dw, c]
                            a3 = a3 + x9 * w3
                            x10 = xp[n, y0 + 3 * dh, xb + 10 * dw, c]
                            a3 = a3 + x10 * w4
                            w0 = wts[4, 0, c]
                            w1 = wts[4, 1, c]
                            w2 = wts[4, 2, c]
                            w3 = wts[4, 3, c]
                            w4 = wts[4, 4, c]
                            x0 = xp[n, y0 + 4 * dh, xb, c]
                            a0 = a0 + x0 * w0
                            x1 = xp[n, y0 + 4 * dh, xb + dw, c]
                            a0 = a0 + x1 * w1
                            x2 = xp[n, y0 + 4 * dh, xb + 2 * dw, c]
                            a0 = a0 + x2 * w2
                            a1 = a1 + x2 * w0
                            x3 = xp[n, y0 + 4 * dh, xb + 3 * dw, c]
                            a0 = a0 + x3 * w3
                            a1 = a1 + x3 * w1
                            x4 = xp[n, y0 + 4 * dh, xb + 4 * dw, c]
                            a0 = a0 + x4 * w4
                            a1 = a1 + x4 * w2
                            a2 = a2 + x4 * w0
                            x5 = xp[n, y0 + 4 * dh, xb + 5 * dw, c]
                            a1 = a1 + x5 * w3
                            a2 = a2 + x5 * w1
                            x6 = xp[n, y0 + 4 * dh, xb + 6 * dw, c]
                            a1 = a1 + x6 * w4
                            a2 = a2 + x6 * w2
                            a3 = a3 + x6 * w0
                            x7 = xp[n, y0 + 4 * dh, xb + 7 * dw, c]
                            a2 = a2 + x7 * w3
                            a3 = a3 + x7 * w1
                            x8 = xp[n, y0 + 4 * dh, xb + 8 * dw, c]
                            a2 = a2 + x8 * w4
                            a3 = a3 + x8 * w2
                            x9 = xp[n, y0 + 4 * dh, xb + 9 * dw, c]
                            a3 = a3 + x9 * w3
                            x10 = xp[n, y0 + 4 * dh, xb + 10 * dw, c]
                            a3 = a3 + x10 * w4
                            out[n, r, ob, c] = a0
                            out[n, r, ob + ostep, c] = a1
                            out[n, r, ob + 2 * ostep, c] = a2
                            out[n, r, ob + 3 * ostep, c] = a3
                    elif whole and unit == 1 and kw_ == 7:
                        for c in range(c_):
                            a0 = out[n, r, ob, c]
                            a1 = out[n, r, ob + ostep, c]
                            a2 = out[n, r, ob + 2 * ostep, c]
                            a3 = out[n, r, ob + 3 * ostep, c]
                            w0 = wts[0, 0, c]
                            w1 = wts[0, 1, c]
                            w2 = wts[0, 2, c]
                            w3 = wts[0, 3, c]
                            w4 = wts[0, 4, c]
                            w5 = wts[0, 5, c]
                            w6 = wts[0, 6, c]
                            x0 = xp[n, y0, xb, c]
                            a0 = a0 + x0 * w0
                            x1 = xp[n, y0, xb + dw, c]
                            a0 = a0 + x1 * w1
                            a1 = a1 + x1 * w0
                            x2 = xp[n, y0, xb + 2 * dw, c]
                            a0 = a0 + x2 * w2
                            a1 = a1 + x2 * w1
                            a2 = a2 + x2 * w0
                            x3 = xp[n, y0, xb + 3 * dw, c]
                            a0 = a0 + x3 * w3
                            a1 = a1 + x3 * w2
                            a2 = a2 + x3 * w1
                            a3 = a3 + x3 * w0
                            x4 = xp[n, y0, xb + 4 * dw, c]
                            a0 = a0 + x4 * w4
                            a1 = a1 + x4 * w3
                            a2 = a2 + x4 * w2
                            a3 = a3 + x4 * w1
                            x5 = xp[n, y0, xb + 5 * dw, c]
                            a0 = a0 + x5 * w5
                            a1 = a1 + x5 * w4
                            a2 = a2 + x5 * w3
                            a3 = a3 + x5 * w2
                            x6 = xp[n, y0, xb + 6 * dw, c]
                            a0 = a0 + x6 * w6
                            a1 = a1 + x6 * w5
                            a2 = a2 + x6 * w4
                            a3 = a3 + x6 * w3
                            x7 = xp[n, y0, xb + 7 * dw, c]
                            a1 = a1 + x7 * w6
                            a2 = a2 + x7 * w5
                            a3 = a3 + x7 * w4
                            x8 = xp[n, y0, xb + 8 * dw, c]
                            a2 = a2 + x8 * w6
                            a3 = a3 + x8 * w5
                            x9 = xp[n, y0, xb + 9 * dw, c]
                            a3 = a3 + x9 * w6
                            w0 = wts[1, 0, c]
                            w1 = wts[1, 1, c]
                            w2 = wts[1, 2, c]
                            w3 = wts[1, 3, c]
                            w4 = wts[1, 4, c]
                            w5 = wts[1, 5, c]
                            w6 = wts[1, 6, c]
                            x0 = xp[n, y0 + dh, xb, c]
                            a0 = a0 + x0 * w0
                            x1 = xp[n, y0 + dh, xb + dw, c]
                            a0 = a0 + x1 * w1
                            a1 = a1 + x1 * w0
                            x2 = xp[n, y0 + dh, xb + 2 * dw, c]
                            a0 = a0 + x2 * w2
                            a1 = a1 + x2 * w1
                            a2 = a2 + x2 * w0
                            x3 = xp[n, y0 + dh, xb + 3 * dw, c]
                            a0 = a0 + x3 * w3
                            a1 = a1 + x3 * w2
                            a2 = a2 + x3 * w1
                            a3 = a3 + x3 * w0
                            x4 = xp[n, y0 + dh, xb + 4 * dw, c]
                            a0 = a0 + x4 * w4
                            a1 = a1 + x4 * w3
                            a2 = a2 + x4 * w2
                            a3 = a3 + x4 * w1
                            x5 = xp[n, y0 + dh, xb + 5 * dw, c]
                            a0 = a0 + x5 * w5
                            a1 = a1 + x5 * w4
                            a2 = a2 + x5 * w3
                            a3 = a3 + x5 * w2
                            x6 = xp[n, y0 + dh, xb + 6 * dw, c]
                            a0 = a0 + x6 * w6
                            a1 = a1 + x6 * w5
                            a2 = a2 + x6 * w4
                            a3 = a3 + x6 * w3
                            x7 = xp[n, y0 + dh, xb + 7 * dw, c]
                            a1 = a1 + x7 * w6
                            a2 = a2 + x7 * w5
                            a3 = a3 + x7 * w4
                            x8 = xp[n, y0 + dh, xb + 8 * dw, c]
                            a2 = a2 + x8 * w6
                            a3 = a3 + x8 * w5
                            x9 = xp[n, y0 + dh, xb + 9 * dw, c]
                            a3 = a3 + x9 * w6
                            w0 = wts[2, 0, c]
                            w1 = wts[2, 1, c]
                            w2 = wts[2, 2, c]
                            w3 = wts[2, 3, c]
                            w4 = wts[2, 4, c]
                            w5 = wts[2, 5, c]
                            w6 = wts[2, 6, c]
                            x0 = xp[n, y0 + 2 * dh, xb, c]
                            a0 = a0 + x0 * w0
                            x1 = xp[n, y0 + 2 * dh, xb + dw, c]
                            a0 = a0 + x1 * w1
                            a1 = a1 + x1 * w0
                            x2 = xp[n, y0 + 2 * dh, xb + 2 * dw, c]
                            a0 = a0 + x2 * w2
                            a1 = a1 + x2 * w1
                            a2 = a2 + x2 * w0
                            x3 = xp[n, y0 + 2 * dh, xb + 3 * dw, c]
                            a0 = a0 + x3 * w3
                            a1 = a1 + x3 * w2
                            a2 = a2 + x3 * w1
                            a3 = a3 + x3 * w0
                            x4 = xp[n, y0 + 2 * dh, xb + 4 * dw, c]
                            a0 = a0 + x4 * w4
                            a1 = a1 + x4 * w3
                            a2 = a2 + x4 * w2
                            a3 = a3 + x4 * w1
                            x5 = xp[n, y0 + 2 * dh, xb + 5 * dw, c]
                            a0 = a0 + x5 * w5
                            a1 = a1 + x5 * w4
                            a2 = a2 + x5 * w3
                            a3 = a3 + x5 * w2
                            x6 = xp[n, y0 + 2 * dh, xb + 6 * dw, c]
                            a0 = a0 + x6 * w6
                            a1 = a1 + x6 * w5
                            a2 = a2 + x6 * w4
                            a3 = a3 + x6 * w3
                            x7 = xp[n, y0 + 2 * dh, xb + 7 * dw, c]
                            a1 = a1 + x7 * w6
                            a2 = a2 + x7 * w5
                            a3 = a3 + x7 * w4
                            x8 = xp[n, y0 + 2 * dh, xb + 8 * dw, c]
                            a2 = a2 + x8 * w6
                            a3 = a3 + x8 * w5
                            x9 = xp[n, y0 + 2 * dh, xb + 9 * dw, c]
                            a3 = a3 + x9 * w6
                            w0 = wts[3, 0, c]
                            w1 = wts[3, 1, c]
                            w2 = wts[3, 2, c]
                            w3 = wts[3, 3, c]
                            w4 = wts[3, 4, c]
                            w5 = wts[3, 5, c]
                            w6 = wts[3, 6, c]
                            x0 = xp[n, y0 + 3 * dh, xb, c]
                            a0 = a0 + x0 * w0
                            x1 = xp[n, y0 + 3 * dh, xb + dw, c]
                            a0 = a0 + x1 * w1
                            a1 = a1 + x1 * w0
                            x2 = xp[n, y0 + 3 * dh, xb + 2 * dw, c]
                            a0 = a0 + x2 * w2
                            a1 = a1 + x2 * w1
                            a2 = a2 + x2 * w0
                            x3 = xp[n, y0 + 3 * dh, xb + 3 * dw, c]
                            a0 = a0 + x3 * w3
                            a1 = a1 + x3 * w2
                            a2 = a2 + x3 * w1
                            a3 = a3 + x3 * w0
                            x4 = xp[n, y0 + 3 * dh, xb + 4 * dw, c]
                            a0 = a0 + x4 * w4
                            a1 = a1 + x4 * w3
                            a2 = a2 + x4 * w2
                            a3 = a3 + x4 * w1
                            x5 = xp[n, y0 + 3 * dh, xb + 5 * dw, c]
                            a0 = a0 + x5 * w5
                            a1 = a1 + x5 * w4
                            a2 = a2 + x5 * w3
                            a3 = a3 + x5 * w2
                            x6 = xp[n, y0 + 3 * dh, xb + 6 * dw, c]
                            a0 = a0 + x6 * w6
                            a1 = a1 + x6 * w5
                            a2 = a2 + x6 * w4
                            a3 = a3 + x6 * w3
                            x7 = xp[n, y0 + 3 * dh, xb + 7 * dw, c]
                            a1 = a1 + x7 * w6
                            a2 = a2 + x7 * w5
                            a3 = a3 + x7 * w4
                            x8 = xp[n, y0 + 3 * dh, xb + 8 * dw, c]
                            a2 = a2 + x8 * w6
                            a3 = a3 + x8 * w5
                            x9 = xp[n, y0 + 3 * dh, xb + 9 * dw, c]
                            a3 = a3 + x9 * w6
                            w0 = wts[4, 0, c]
                            w1 = wts[4, 1, c]
                            w2 = wts[4, 2, c]
                            w3 = wts[4, 3, c]
                            w4 = wts[4, 4, c]
                            w5 = wts[4, 5, c]
                            w6 = wts[4, 6, c]
                            x0 = xp[n, y0 + 4 * dh, xb, c]
                            a0 = a0 + x0 * w0
                            x1 = xp[n, y0 + 4 * dh, xb + dw, c]
                            a0 = a0 + x1 * w1
                            a1 = a1 + x1 * w0
                            x2 = xp[n, y0 + 4 * dh, xb + 2 * dw, c]
                            a0 = a0 + x2 * w2
                            a1 = a1 + x2 * w1
                            a2 = a2 + x2 * w0
                            x3 = xp[n, y0 + 4 * dh, xb + 3 * dw, c]
                            a0 = a0 + x3 * w3
                            a1 = a1 + x3 * w2
                            a2 = a2 + x3 * w1
                            a3 = a3 + x3 * w0
                            x4 = xp[n, y0 + 4 * dh, xb + 4 * dw, c]
                            a0 = a0 + x4 * w4
                            a1 = a1 + x4 * w3
                            a2 = a2 + x4 * w2
                            a3 = a3 + x4 * w1
                            x5 = xp[n, y0 + 4 * dh, xb + 5 * dw, c]
                            a0 = a0 + x5 * w5
                            a1 = a1 + x5 * w4
                            a2 = a2 + x5 * w3
                            a3 = a3 + x5 * w2
                            x6 = xp[n, y0 + 4 * dh, xb + 6 * dw, c]
                            a0 = a0 + x6 * w6
                            a1 = a1 + x6 * w5
                            a2 = a2 + x6 * w4
                            a3 = a3 + x6 * w3
                            x7 = xp[n, y0 + 4 * dh, xb + 7 * dw, c]
                            a1 = a1 + x7 * w6
                            a2 = a2 + x7 * w5
                            a3 = a3 + x7 * w4
                            x8 = xp[n, y0 + 4 * dh, xb + 8 * dw, c]
                            a2 = a2 + x8 * w6
                            a3 = a3 + x8 * w5
                            x9 = xp[n, y0 + 4 * dh, xb + 9 * dw, c]
                            a3 = a3 + x9 * w6
                            w0 = wts[5, 0, c]
                            w1 = wts[5, 1, c]
                            w2 = wts[5, 2, c]
                            w3 = wts[5, 3, c]
                            w4 = wts[5, 4, c]
                            w5 = wts[5, 5, c]
                            w6 = wts[5, 6, c]
                            x0 = xp[n, y0 + 5 * dh, xb, c]
                            a0 = a0 + x0 * w0
                            x1 = xp[n, y0 + 5 * dh, xb + dw, c]
                            a0 = a0 + x1 * w1
                            a1 = a1 + x1 * w0
                            x2 = xp[n, y0 + 5 * dh, xb + 2 * dw, c]
                            a0 = a0 + x2 * w2
                            a1 = a1 + x2 * w1
                            a2 = a2 + x2 * w0
                            x3 = xp[n, y0 + 5 * dh, xb + 3 * dw, c]
                            a0 = a0 + x3 * w3
                            a1 = a1 + x3 * w2
                            a2 = a2 + x3 * w1
                            a3 = a3 + x3 * w0
                            x4 = xp[n, y0 + 5 * dh, xb + 4 * dw, c]
                            a0 = a0 + x4 * w4
                            a1 = a1 + x4 * w3
                            a2 = a2 + x4 * w2
                            a3 = a3 + x4 * w1
                            x5 = xp[n, y0 + 5 * dh, xb + 5 * dw, c]
                            a0 = a0 + x5 * w5
                            a1 = a1 + x5 * w4
                            a2 = a2 + x5 * w3
                            a3 = a3 + x5 * w2
                            x6 = xp[n, y0 + 5 * dh, xb + 6 * dw, c]
                            a0 = a0 + x6 * w6
                            a1 = a1 + x6 * w5
                            a2 = a2 + x6 * w4
                            a3 = a3 + x6 * w3
                            x7 = xp[n, y0 + 5 * dh, xb + 7 * dw, c]
                            a1 = a1 + x7 * w6
                            a2 = a2 + x7 * w5
                            a3 = a3 + x7 * w4
                            x8 = xp[n, y0 + 5 * dh, xb + 8 * dw, c]
                            a2 = a2 + x8 * w6
                            a3 = a3 + x8 * w5
                            x9 = xp[n, y0 + 5 * dh, xb + 9 * dw, c]
                            a3 = a3 + x9 * w6
                            w0 = wts[6, 0, c]
                            w1 = wts[6, 1, c]
                            w2 = wts[6, 2, c]
                            w3 = wts[6, 3, c]
                            w4 = wts[6, 4, c]
                            w5 = wts[6, 5, c]
                            w6 = wts[6, 6, c]
                            x0 = xp[n, y0 + 6 * dh, xb, c]
                            a0 = a0 + x0 * w0
                            x1 = xp[n, y0 + 6 * dh, xb + dw, c]
                            a0 = a0 + x1 * w1
                            a1 = a1 + x1 * w0
                            x2 = xp[n, y0 + 6 * dh, xb + 2 * dw, c]
                            a0 = a0 + x2 * w2
                            a1 = a1 + x2 * w1
                            a2 = a2 + x2 * w0
                            x3 = xp[n, y0 + 6 * dh, xb + 3 * dw, c]
                            a0 = a0 + x3 * w3
                            a1 = a1 + x3 * w2
                            a2 = a2 + x3 * w1
                            a3 = a3 + x3 * w0
                            x4 = xp[n, y0 + 6 * dh, xb + 4 * dw, c]
                            a0 = a0 + x4 * w4
                            a1 = a1 + x4 * w3
                            a2 = a2 + x4 * w2
                            a3 = a3 + x4 * w1
                            x5 = xp[n, y0 + 6 * dh, xb + 5 * dw, c]
                            a0 = a0 + x5 * w5
                            a1 = a1 + x5 * w4
                            a2 = a2 + x5 * w3
                            a3 = a3 + x5 * w2
                            x6 = xp[n, y0 + 6 * dh, xb + 6 * dw, c]
                            a0 = a0 + x6 * w6
                            a1 = a1 + x6 * w5
                            a2 = a2 + x6 * w4
                            a3 = a3 + x6 * w3
                            x7 = xp[n, y0 + 6 * dh, xb + 7 * dw, c]
                            a1 = a1 + x7 * w6
                            a2 = a2 + x7 * w5
                            a3 = a3 + x7 * w4
                            x8 = xp[n, y0 + 6 * dh, xb + 8 * dw, c]
                            a2 = a2 + x8 * w6
                            a3 = a3 + x8 * w5
                            x9 = xp[n, y0 + 6 * dh, xb + 9 * dw, c]
                            a3 = a3 + x9 * w6
                            out[n, r, ob, c] = a0
                            out[n, r, ob + ostep, c] = a1
                            out[n, r, ob + 2 * ostep, c] = a2
                            out[n, r, ob + 3 * ostep, c] = a3
                    elif whole and unit == 2 and kw_ == 7:
                        for c in range(c_):
                            a0 = out[n, r, ob, c]
                            a1 = out[n, r, ob + ostep, c]
                            a2 = out[n, r, ob + 2 * ostep, c]
                            a3 = out[n, r, ob + 3 * ostep, c]
                            w0 = wts[0, 0, c]
                            w1 = wts[0, 1, c]
                            w2 = wts[0, 2, c]
                            w3 = wts[0, 3, c]
                            w4 = wts[0, 4, c]
                            w5 = wts[0, 5, c]
                            w6 = wts[0, 6, c]
                            x0 = xp[n, y0, xb, c]
                            a0 = a0 + x0 * w0
                            x1 = xp[n, y0, xb + dw, c]
                            a0 = a0 + x1 * w1
                            x2 = xp[n, y0, xb + 2 * dw, c]
                            a0 = a0 + x2 * w2
                            a1 = a1 + x2 * w0
                            x3 = xp[n, y0, xb + 3 * dw, c]
                            a0 = a0 + x3 * w3
                            a1 = a1 + x3 * w1
                            x4 = xp[n, y0, xb + 4 * dw, c]
                            a0 = a0 + x4 * w4
                            a1 = a1 + x4 * w2
                            a2 = a2 + x4 * w0
                            x5 = xp[n, y0, xb + 5 * dw, c]
                            a0 = a0 + x5 * w5
                            a1 = a1 + x5 * w3
                            a2 = a2 + x5 * w1
                            x6 = xp[n, y0, xb + 6 * dw, c]
                            a0 = a0 + x6 * w6
                            a1 = a1 + x6 * w4
                            a2 = a2 + x6 * w2
                            a3 = a3 + x6 * w0
                            x7 = xp[n, y0, xb + 7 * dw, c]
                            a1 = a1 + x7 * w5
                            a2 = a2 + x7 * w3
                            a3 = a3 + x7 * w1
                            x8 = xp[n, y0, xb + 8 * dw, c]
                            a1 = a1 + x8 * w6
                            a2 = a2 + x8 * w4
                            a3 = a3 + x8 * w2
                            x9 = xp[n, y0, xb + 9 * dw, c]
                            a2 = a2 + x9 * w5
                            a3 = a3 + x9 * w3
                            x10 = xp[n, y0, xb + 10 * dw, c]
                            a2 = a2 + x10 * w6
                            a3 = a3 + x10 * w4
                            x11 = xp[n, y0, xb + 11 * dw, c]
                            a3 = a3 + x11 * w5
                            x12 = xp[n, y0, xb + 12 * dw, c]
                            a3 = a3 + x12 * w6
                            w0 = wts[1, 0, c]
                            w1 = wts[1, 1, c]
                            w2 = wts[1, 2, c]
                            w3 = wts[1, 3, c]
                            w4 = wts[1, 4, c]
                            w5 = wts[1, 5, c]
                            w6 = wts[1, 6, c]
                            x0 = xp[n, y0 + dh, xb, c]
                            a0 = a0 + x0 * w0
                            x1 = xp[n, y0 + dh, xb + dw, c]
                            a0 = a0 + x1 * w1
                            x2 = xp[n, y0 + dh, xb + 2 * dw, c]
                            a0 = a0 + x2 * w2
                            a1 = a1 + x2 * w0
                            x3 = xp[n, y0 + dh, xb + 3 * dw, c]
                            a0 = a0 + x3 * w3
                            a1 = a1 + x3 * w1
                            x4 = xp[n, y0 + dh, xb + 4 * dw, c]
                            a0 = a0 + x4 * w4
                            a1 = a1 + x4 * w2
                            a2 = a2 + x4 * w0
                            x5 = xp[n, y0 + dh, xb + 5 * dw, c]
                            a0 = a0 + x5 * w5
                            a1 = a1 + x5 * w3
                            a2 = a2 + x5 * w1
                            x6 = xp[n, y0 + dh, xb + 6 * dw, c]
                            a0 = a0 + x6 * w6
                            a1 = a1 + x6 * w4
                            a2 = a2 + x6 * w2
                            a3 = a3 + x6 * w0
                            x7 = xp[n, y0 + dh, xb + 7 * dw, c]
                            a1 = a1 + x7 * w5
                            a2 = a2 + x7 * w3
                            a3 = a3 + x7 * w1
                            x8 = xp[n, y0 + dh, xb + 8 * dw, c]
                            a1 = a1 + x8 * w6
                            a2 = a2 + x8 * w4
                            a3 = a3 + x8 * w2
                            x9 = xp[n, y0 + dh, xb + 9 * dw, c]
                            a2 = a2 + x9 * w5
                            a3 = a3 + x9 * w3
                            x10 = xp[n, y0 + dh, xb + 10 * dw, c]
                            a2 = a2 + x10 * w6
                            a3 = a3 + x10 * w4
                            x11 = xp[n, y0 + dh, xb + 11 * dw, c]
                            a3 = a3 + x11 * w5
                            x12 = xp[n, y0 + dh, xb + 12 * dw, c]
                            a3 = a3 + x12 * w6
                            w0 = wts[2, 0, c]
                            w1 = wts[2, 1, c]
                            w2 = wts[2, 2, c]
                            w3 = wts[2, 3, c]
                            w4 = wts[2, 4, c]
                            w5 = wts[2, 5, c]
                            w6 = wts[2, 6, c]
                            x0 = xp[n, y0 + 2 * dh, xb, c]
                            a0 = a0 + x0 * w0
                            x1 = xp[n, y0 + 2 * dh, xb + dw, c]
                            a0 = a0 + x1 * w1
                            x2 = xp[n, y0 + 2 * dh, xb + 2 * dw, c]
                            a0 = a0 + x2 * w2
                            a1 = a1 + x2 * w0
                            x3 = xp[n, y0 + 2 * dh, xb + 3 * dw, c]
                            a0 = a0 + x3 * w3
                            a1 = a1 + x3 * w1
                            x4 = xp[n, y0 + 2 * dh, xb + 4 * dw, c]
                            a0 = a0 + x4 * w4
                            a1 = a1 + x4 * w2
                            a2 = a2 + x4 * w0
                            x5 = xp[n, y0 + 2 * dh, xb + 5 * dw, c]
                            a0 = a0 + x5 * w5
                            a1 = a1 + x5 * w3
                            a2 = a2 + x5 * w1
                            x6 = xp[n, y0 + 2 * dh, xb + 6 * dw, c]
                            a0 = a0 + x6 * w6
                            a1 = a1 + x6 * w4
                            a2 = a2 + x6 * w2
                            a3 = a3 + x6 * w0
                            x7 = xp[n, y0 + 2 * dh, xb + 7 * dw, c]
                            a1 = a1 + x7 * w5
                            a2 = a2 + x7 * w3
                            a3 = a3 + x7 * w1
                            x8 = xp[n, y0 + 2 * dh, xb + 8 * dw, c]
                            a1 = a1 + x8 * w6
                            a2 = a2 + x8 * w4
                            a3 = a3 + x8 * w2
                            x9 = xp[n, y0 + 2 * dh, xb + 9 * dw, c]
                            a2 = a2 + x9 * w5
                            a3 = a3 + x9 * w3
                            x10 = xp[n, y0 + 2 * dh, xb + 10 * dw, c]
                            a2 = a2 + x10 * w6
                            a3 = a3 + x10 * w4
                            x11 = xp[n, y0 + 2 * dh, xb + 11 * dw, c]
                            a3 = a3 + x11 * w5
                            x12 = xp[n, y0 + 2 * dh, xb + 12 * dw, c]
                            a3 = a3 + x12 * w6
                            w0 = wts[3, 0, c]
                            w1 = wts[3, 1, c]
                            w2 = wts[3, 2, c]
                            w3 = wts[3, 3, c]
                            w4 = wts[3, 4, c]
                            w5 = wts[3, 5, c]
                            w6 = wts[3, 6, c]
                            x0 = xp[n, y0 + 3 * dh, xb, c]
                            a0 = a0 + x0 * w0
                            x1 = xp[n, y0 + 3 * dh, xb + dw, c]
                            a0 = a0 + x1 * w1
                            x2 = xp[n, y0 + 3 * dh, xb + 2 * dw, c]
                            a0 = a0 + x2 * w2
                            a1 = a1 + x2 * w0
                            x3 = xp[n, y0 + 3 * dh, xb + 3 * dw, c]
                            a0 = a0 + x3 * w3
                            a1 = a1 + x3 * w1
                            x4 = xp[n, y0 + 3 * dh, xb + 4 * dw, c]
                            a0 = a0 + x4 * w4
                            a1 = a1 + x4 * w2
                            a2 = a2 + x4 * w0
                            x5 = xp[n, y0 + 3 * dh, xb + 5 * dw, c]
                            a0 = a0 + x5 * w5
                            a1 = a1 + x5 * w3
                            a2 = a2 + x5 * w1
                            x6 = xp[n, y0 + 3 * dh, xb + 6 * dw, c]
                            a0 = a0 + x6 * w6
                            a1 = a1 + x6 * w4
                            a2 = a2 + x6 * w2
                            a3 = a3 + x6 * w0
                            x7 = xp[n, y0 + 3 * dh, xb + 7 * dw, c]
                            a1 = a1 + x7 * w5
                            a2 = a2 + x7 * w3
                            a3 = a3 + x7 * w1
                            x8 = xp[n, y0 + 3 * dh, xb + 8 * dw, c]
                            a1 = a1 + x8 * w6
                            a2 = a2 + x8 * w4
                            a3 = a3 + x8 * w2
                            x9 = xp[n, y0 + 3 * dh, xb + 9 * dw, c]
                            a2 = a2 + x9 * w5
                            a3 = a3 + x9 * w3
                            x10 = xp[n, y0 + 3 * dh, xb + 10 * dw, c]
                            a2 = a2 + x10 * w6
                            a3 = a3 + x10 * w4
                            x11 = xp[n, y0 + 3 * dh, xb + 11 * dw, c]
                            a3 = a3 + x11 * w5
                            x12 = xp[n, y0 + 3 * dh, xb + 12 * dw, c]
                            a3 = a3 + x12 * w6
                            w0 = wts[4, 0, c]
                            w1 = wts[4, 1, c]
                            w2 = wts[4, 2, c]
                            w3 = wts[4, 3, c]
                            w4 = wts[4, 4, c]
                            w5 = wts[4, 5, c]
                            w6 = wts[4, 6, c]
                            x0 = xp[n, y0 + 4 * dh, xb, c]
                            a0 = a0 + x0 * w0
                            x1 = xp[n, y0 + 4 * dh, xb + dw, c]
                            a0 = a0 + x1 * w1
                            x2 = xp[n, y0 + 4 * dh, xb + 2 * dw, c]
                            a0 = a0 + x2 * w2
                            a1 = a1 + x2 * w0
                            x3 = xp[n, y0 + 4 * dh, xb + 3 * dw, c]
                            a0 = a0 + x3 * w3
                            a1 = a1 + x3 * w1
                            x4 = xp[n, y0 + 4 * dh, xb + 4 * dw, c]
                            a0 = a0 + x4 * w4
                            a1 = a1 + x4 * w2
                            a2 = a2 + x4 * w0
                            x5 = xp[n, y0 + 4 * dh, xb + 5 * dw, c]
                            a0 = a0 + x5 * w5
                            a1 = a1 + x5 * w3
                            a2 = a2 + x5 * w1
                            x6 = xp[n, y0 + 4 * dh, xb + 6 * dw, c]
                            a0 = a0 + x6 * w6
                            a1 = a1 + x6 * w4
                            a2 = a2 + x6 * w2
                            a3 = a3 + x6 * w0
                            x7 = xp[n, y0 + 4 * dh, xb + 7 * dw, c]
                            a1 = a1 + x7 * w5
                            a2 = a2 + x7 * w3
                            a3 = a3 + x7 * w1
                            x8 = xp[n, y0 + 4 * dh, xb + 8 * dw, c]
                            a1 = a1 + x8 * w6
                            a2 = a2 + x8 * w4
                            a3 = a3 + x8 * w2
                            x9 = xp[n, y0 + 4 * dh, xb + 9 * dw, c]
                            a2 = a2 + x9 * w5
                            a3 = a3 + x9 * w3
                            x10 = xp[n, y0 + 4 * dh, xb + 10 * dw, c]
                            a2 = a2 + x10 * w6
                            a3 = a3 + x10 * w4
                            x11 = xp[n, y0 + 4 * dh, xb + 11 * dw, c]
                            a3 = a3 + x11 * w5
                            x12 = xp[n, y0 + 4 * dh, xb + 12 * dw, c]
                            a3 = a3 + x12 * w6
                            w0 = wts[5, 0, c]
                            w1 = wts[5, 1, c]
                            w2 = wts[5, 2, c]
                            w3 = wts[5, 3, c]
                            w4 = wts[5, 4, c]
                            w5 = wts[5, 5, c]
                            w6 = wts[5, 6, c]
                            x0 = xp[n, y0 + 5 * dh, xb, c]
                            a0 = a0 + x0 * w0
                            x1 = xp[n, y0 + 5 * dh, xb + dw, c]
                            a0 = a0 + x1 * w1
                            x2 = xp[n, y0 + 5 * dh, xb + 2 * dw, c]
                            a0 = a0 + x2 * w2
                            a1 = a1 + x2 * w0
                            x3 = xp[n, y0 + 5 * dh, xb + 3 * dw, c]
                            a0 = a0 + x3 * w3
                            a1 = a1 + x3 * w1
                            x4 = xp[n, y0 + 5 * dh, xb + 4 * dw, c]
                            a0 = a0 + x4 * w4
                            a1 = a1 + x4 * w2
                            a2 = a2 + x4 * w0
                            x5 = xp[n, y0 + 5 * dh, xb + 5 * dw, c]
                            a0 = a0 + x5 * w5
                            a1 = a1 + x5 * w3
                            a2 = a2 + x5 * w1
                            x6 = xp[n, y0 + 5 * dh, xb + 6 * dw, c]
                            a0 = a0 + x6 * w6
                            a1 = a1 + x6 * w4
                            a2 = a2 + x6 * w2
                            a3 = a3 + x6 * w0
                            x7 = xp[n, y0 + 5 * dh, xb + 7 * dw, c]
                            a1 = a1 + x7 * w5
                            a2 = a2 + x7 * w3
                            a3 = a3 + x7 * w1
                            x8 = xp[n, y0 + 5 * dh, xb + 8 * dw, c]
                            a1 = a1 + x8 * w6
                            a2 = a2 + x8 * w4
                            a3 = a3 + x8 * w2
                            x9 = xp[n, y0 + 5 * dh, xb + 9 * dw, c]
                            a2 = a2 + x9 * w5
                            a3 = a3 + x9 * w3
                            x10 = xp[n, y0 + 5 * dh, xb + 10 * dw, c]
                            a2 = a2 + x10 * w6
                            a3 = a3 + x10 * w4
                            x11 = xp[n, y0 + 5 * dh, xb + 11 * dw, c]
                            a3 = a3 + x11 * w5
                            x12 = xp[n, y0 + 5 * dh, xb + 12 * dw, c]
                            a3 = a3 + x12 * w6
                            w0 = wts[6, 0, c]
                            w1 = wts[6, 1, c]
                            w2 = wts[6, 2, c]
                            w3 = wts[6, 3, c]
                            w4 = wts[6, 4, c]
                            w5 = wts[6, 5, c]
                            w6 = wts[6, 6, c]
                            x0 = xp[n, y0 + 6 * dh, xb, c]
                            a0 = a0 + x0 * w0
                            x1 = xp[n, y0 + 6 * dh, xb + dw, c]
                            a0 = a0 + x1 * w1
                            x2 = xp[n, y0 + 6 * dh, xb + 2 * dw, c]
                            a0 = a0 + x2 * w2
                            a1 = a1 + x2 * w0
                            x3 = xp[n, y0 + 6 * dh, xb + 3 * dw, c]
                            a0 = a0 + x3 * w3
                            a1 = a1 + x3 * w1
                            x4 = xp[n, y0 + 6 * dh, xb + 4 * dw, c]
                            a0 = a0 + x4 * w4
                            a1 = a1 + x4 * w2
                            a2 = a2 + x4 * w0
                            x5 = xp[n, y0 + 6 * dh, xb + 5 * dw, c]
                            a0 = a0 + x5 * w5
                            a1 = a1 + x5 * w3
                            a2 = a2 + x5 * w1
                            x6 = xp[n, y0 + 6 * dh, xb + 6 * dw, c]
                            a0 = a0 + x6 * w6
                            a1 = a1 + x6 * w4
                            a2 = a2 + x6 * w2
                            a3 = a3 + x6 * w0
                            x7 = xp[n, y0 + 6 * dh, xb + 7 * dw, c]
                            a1 = a1 + x7 * w5
                            a2 = a2 + x7 * w3
                            a3 = a3 + x7 * w1
                            x8 = xp[n, y0 + 6 * dh, xb + 8 * dw, c]
                            a1 = a1 + x8 * w6
                            a2 = a2 + x8 * w4
                            a3 = a3 + x8 * w2
                            x9 = xp[n, y0 + 6 * dh, xb + 9 * dw, c]
                            a2 = a2 + x9 * w5
                            a3 = a3 + x9 * w3
                            x10 = xp[n, y0 + 6 * dh, xb + 10 * dw, c]
                            a2 = a2 + x10 * w6
                            a3 = a3 + x10 * w4
                            x11 = xp[n, y0 + 6 * dh, xb + 11 * dw, c]
                            a3 = a3 + x11 * w5
                            x12 = xp[n, y0 + 6 * dh, xb + 12 * dw, c]
                            a3 = a3 + x12 * w6
                            out[n, r, ob, c] = a0
                            out[n, r, ob + ostep, c] = a1
                            out[n, r, ob + 2 * ostep, c] = a2
                            out[n, r, ob + 3 * ostep, c] = a3
                    else:
                        for i in range(i0, i1):
                            y = y0 + i * dh
                            for k in range(size if ja > 0 else 0):  # the taps before them, one
                                b = (ob + k * ostep) * sw - left  # output at a time
                                j0 = min(max(-(b // dw), 0), kw_)  # the output's taps on input columns
                                j1 = min(max(-((b - w_) // dw), j0), min(ja, kw_))
                                if j1 > j0:
                                    _channel_taps(xp, wts, out, n, r, ob + k * ostep, y, i, j0, j1, b, dw)
                            j = ja
                            while j < jb:
                                s = min(jb - j, 8)
                                xb = ob * sw + j * dw - left
                                if unit == 1 and s == 8:
                                    for c in range(c_):
                                        a0 = out[n, r, ob, c]
                                        a1 = out[n, r, ob + ostep, c]
                                        a2 = out[n, r, ob + 2 * ostep, c]
                                        a3 = out[n, r, ob + 3 * ostep, c]
                                        w0 = wts[i, j, c]
                                        w1 = wts[i, j + 1, c]
                                        w2 = wts[i, j + 2, c]
                                        w3 = wts[i, j + 3, c]
                                        w4 = wts[i, j + 4, c]
                                        w5 = wts[i, j + 5, c]
                                        w6 = wts[i, j + 6, c]
                                        w7 = wts[i, j + 7, c]
                                        x0 = xp[n, y, xb, c]
                                        a0 = a0 + x0 * w0
                                        x1 = xp[n, y, xb + dw, c]
                                        a0 = a0 + x1 * w1
                                        a1 = a1 + x1 * w0
                                        x2 = xp[n, y, xb + 2 * dw, c]
                                        a0 = a0 + x2 * w2
                                        a1 = a1 + x2 * w1
                                        a2 = a2 + x2 * w0
                                        x3 = xp[n, y, xb + 3 * dw, c]
                                        a0 = a0 + x3 * w3
                                        a1 = a1 + x3 * w2
                                        a2 = a2 + x3 * w1
                                        a3 = a3 + x3 * w0
                                        x4 = xp[n, y, xb + 4 * dw, c]
                                        a0 = a0 + x4 * w4
                                        a1 = a1 + x4 * w3
                                        a2 = a2 + x4 * w2
                                        a3 = a3 + x4 * w1
                                        x5 = xp[n, y, xb + 5 * dw, c]
                                        a0 = a0 + x5 * w5
                                        a1 = a1 + x5 * w4
                                        a2 = a2 + x5 * w3
                                        a3 = a3 + x5 * w2
                                        x6 = xp[n, y, xb + 6 * dw, c]
                                        a0 = a0 + x6 * w6
                                        a1 = a1 + x6 * w5
                                        a2 = a2 + x6 * w4
                                        a3 = a3 + x6 * w3
                                        x7 = xp[n, y, xb + 7 * dw, c]
                                        a0 = a0 + x7 * w7
                                        a1 = a1 + x7 * w6
                                        a2 = a2 + x7 * w5
                                        a3 = a3 + x7 * w4
                                        x8 = xp[n, y, xb + 8 * dw, c]
                                        a1 = a1 + x8 * w7
                                        a2 = a2 + x8 * w6
                                        a3 = a3 + x8 * w5
                                        x9 = xp[n, y, xb + 9 * dw, c]
                                        a2 = a2 + x9 * w7
                                        a3 = a3 + x9 * w6
                                        x10 = xp[n, y, xb + 10 * dw, c]
                                        a3 = a3 + x10 * w7
                                        out[n, r, ob, c] = a0
                                        out[n, r, ob + ostep, c] = a1
                                        out[n, r, ob + 2 * ostep, c] = a2
                                        out[n, r, ob + 3 * ostep, c] = a3
                                elif unit == 1 and s == 7:
                                    for c in range(c_):
                                        a0 = out[n, r, ob, c]
                                        a1 = out[n, r, ob + ostep, c]
                                        a2 = out[n, r, ob + 2 * ostep, c]
                                        a3 = out[n, r, ob + 3 * ostep, c]
                                        w0 = wts[i, j, c]
                                        w1 = wts[i, j + 1, c]
                                        w2 = wts[i, j + 2, c]
                                        w3 = wts[i, j + 3, c]
                                        w4 = wts[i, j + 4, c]
                                        w5 = wts[i, j + 5, c]
                                        w6 = wts[i, j + 6, c]
                                        x0 = xp[n, y, xb, c]
                                        a0 = a0 + x0 * w0
                                        x1 = xp[n, y, xb + dw, c]
                                        a0 = a0 + x1 * w1
                                        a1 = a1 + x1 * w0
                                        x2 = xp[n, y, xb + 2 * dw, c]
                                        a0 = a0 + x2 * w2
                                        a1 = a1 + x2 * w1
                                        a2 = a2 + x2 * w0
                                        x3 = xp[n, y, xb + 3 * dw, c]
                                        a0 = a0 + x3 * w3
                                        a1 = a1 + x3 * w2
                                        a2 = a2 + x3 * w1
                                        a3 = a3 + x3 * w0
                                        x4 = xp[n, y, xb + 4 * dw, c]
                                        a0 = a0 + x4 * w4
                                        a1 = a1 + x4 * w3
                                        a2 = a2 + x4 * w2
                                        a3 = a3 + x4 * w1
                                        x5 = xp[n, y, xb + 5 * dw, c]
                                        a0 = a0 + x5 * w5
                                        a1 = a1 + x5 * w4
                                        a2 = a2 + x5 * w3
                                        a3 = a3 + x5 * w2
                                        x6 = xp[n, y, xb + 6 * dw, c]
                                        a0 = a0 + x6 * w6
                                        a1 = a1 + x6 * w5
                                        a2 = a2 + x6 * w4
                                        a3 = a3 + x6 * w3
                                        x7 = xp[n, y, xb + 7 * dw, c]
                                        a1 = a1 + x7 * w6
                                        a2 = a2 + x7 * w5
                                        a3 = a3 + x7 * w4
                                        x8 = xp[n, y, xb + 8 * dw, c]
                                        a2 = a2 + x8 * w6
                                        a3 = a3 + x8 * w5
                                        x9 = xp[n, y, xb + 9 * dw, c]
                                        a3 = a3 + x9 * w6
                                        out[n, r, ob, c] = a0
                                        out[n, r, ob + ostep, c] = a1
                                        out[n, r, ob + 2 * ostep, c] = a2
                                        out[n, r, ob + 3 * ostep, c] = a3
                                elif unit == 1 and s == 6:
                                    for c in range(c_):
                                        a0 = out[n, r, ob, c]
                                        a1 = out[n, r, ob + ostep, c]
                                        a2 = out[n, r, ob + 2 * ostep, c]
                                        a3 = out[n, r, ob + 3 * ostep, c]
                                        w0 = wts[i, j, c]
                                        w1 = wts[i, j + 1, c]
                                        w2 = wts[i, j + 2, c]
                                        w3 = wts[i, j + 3, c]
                                        w4 = wts[i, j + 4, c]
                                        w5 = wts[i, j + 5, c]
                                        x0 = xp[n, y, xb, c]
                                        a0 = a0 + x0 * w0
                                        x1 = xp[n, y, xb + dw, c]
                                        a0 = a0 + x1 * w1
                                        a1 = a1 + x1 * w0
                                        x2 = xp[n, y, xb + 2 * dw, c]
                                        a0 = a0 + x2 * w2
                                        a1 = a1 + x2 * w1
                                        a2 = a2 + x2 * w0
                                        x3 = xp[n, y, xb + 3 * dw, c]
                                        a0 = a0 + x3 * w3
                                        a1 = a1 + x3 * w2
                                        a2 = a2 + x3 * w1
                                        a3 = a3 + x3 * w0
                                        x4 = xp[n, y, xb + 4 * dw, c]
                                        a0 = a0 + x4 * w4
                                        a1 = a1 + x4 * w3
                                        a2 = a2 + x4 * w2
                                        a3 = a3 + x4 * w1
                                        x5 = xp[n, y, xb + 5 * dw, c]
                                        a0 = a0 + x5 * w5
                                        a1 = a1 + x5 * w4
                                        a2 = a2 + x5 * w3
                                        a3 = a3 + x5 * w2
                                        x6 = xp[n, y, xb + 6 * dw, c]
                                        a1 = a1 + x6 * w5
                                        a2 = a2 + x6 * w4
                                        a3 = a3 + x6 * w3
                                        x7 = xp[n, y, xb + 7 * dw, c]
                                        a2 = a2 + x7 * w5
                                        a3 = a3 + x7 * w4
                                        x8 = xp[n, y, xb + 8 * dw, c]
                                        a3 = a3 + x8 * w5
                                        out[n, r, ob, c] = a0
                                        out[n, r, ob + ostep, c] = a1
                                        out[n, r, ob + 2 * ostep, c] = a2
                                        out[n, r, ob + 3 * ostep, c] = a3
                                elif unit == 1 and s == 5:
                                    for c in range(c_):
                                        a0 = out[n, r, ob, c]
                                        a1 = out[n, r, ob + ostep, c]
                                        a2 = out[n, r, ob + 2 * ostep, c]
                                        a3 = out[n, r, ob + 3 * ostep, c]
                                        w0 = wts[i, j, c]
                                        w1 = wts[i, j + 1, c]
                                        w2 = wts[i, j + 2, c]
                                        w3 = wts[i, j + 3, c]
                                        w4 = wts[i, j + 4, c]
                                        x0 = xp[n, y, xb, c]
                                        a0 = a0 + x0 * w0
                                        x1 = xp[n, y, xb + dw, c]
                                        a0 = a0 + x1 * w1
                                        a1 = a1 + x1 * w0
                                        x2 = xp[n, y, xb + 2 * dw, c]
                                        a0 = a0 + x2 * w2
                                        a1 = a1 + x2 * w1
                                        a2 = a2 + x2 * w0
                                        x3 = xp[n, y, xb + 3 * dw, c]
                                        a0 = a0 + x3 * w3
                                        a1 = a1 + x3 * w2
                                        a2 = a2 + x3 * w1
                                        a3 = a3 + x3 * w0
                                        x4 = xp[n, y, xb + 4 * dw, c]
                                        a0 = a0 + x4 * w4
                                        a1 = a1 + x4 * w3
                                        a2 = a2 + x4 * w2
                                        a3 = a3 + x4 * w1
                                        x5 = xp[n, y, xb + 5 * dw, c]
                                        a1 = a1 + x5 * w4
                                        a2 = a2 + x5 * w3
                                        a3 = a3 + x5 * w2
                                        x6 = xp[n, y, xb + 6 * dw, c]
                                        a2 = a2 + x6 * w4
                                        a3 = a3 + x6 * w3
                                        x7 = xp[n, y, xb + 7 * dw, c]
                                        a3 = a3 + x7 * w4
                                        out[n, r, ob, c] = a0
                                        out[n, r, ob + ostep, c] = a1
                                        out[n, r, ob + 2 * ostep, c] = a2
                                        out[n, r, ob + 3 * ostep, c] = a3
                                elif unit == 1 and s == 4:
                                    for c in range(c_):
                                        a0 = out[n, r, ob, c]
                                        a1 = out[n, r, ob + ostep, c]
                                        a2 = out[n, r, ob + 2 * ostep, c]
                                        a3 = out[n, r, ob + 3 * ostep, c]
                                        w0 = wts[i, j, c]
                                        w1 = wts[i, j + 1, c]
                                        w2 = wts[i, j + 2, c]
                                        w3 = wts[i, j + 3, c]
                                        x0 = xp[n, y, xb, c]
                                        a0 = a0 + x0 * w0
                                        x1 = xp[n, y, xb + dw, c]
                                        a0 = a0 + x1 * w1
                                        a1 = a1 + x1 * w0
                                        x2 = xp[n, y, xb + 2 * dw, c]
                                        a0 = a0 + x2 * w2
                                        a1 = a1 + x2 * w1
                                        a2 = a2 + x2 * w0
                                        x3 = xp[n, y, xb + 3 * dw, c]
                                        a0 = a0 + x3 * w3
                                        a1 = a1 + x3 * w2
                                        a2 = a2 + x3 * w1
                                        a3 = a3 + x3 * w0
                                        x4 = xp[n, y, xb + 4 * dw, c]
                                        a1 = a1 + x4 * w3
                                        a2 = a2 + x4 * w2
                                        a3 = a3 + x4 * w1
                                        x5 = xp[n, y, xb + 5 * dw, c]
                                        a2 = a2 + x5 * w3
                                        a3 = a3 + x5 * w2
                                        x6 = xp[n, y, xb + 6 * dw, c]
                                        a3 = a3 + x6 * w3
                                        out[n, r, ob, c] = a0
                                        out[n, r, ob + ostep, c] = a1
                                        out[n, r, ob + 2 * ostep, c] = a2
                                        out[n, r, ob + 3 * ostep, c] = a3
                                elif unit == 1 and s == 3:
                                    for c in range(c_):
                                        a0 = out[n, r, ob, c]
                                        a1 = out[n, r, ob + ostep, c]
                                        a2 = out[n, r, ob + 2 * ostep, c]
                                        a3 = out[n, r, ob + 3 * ostep, c]
                                        w0 = wts[i, j, c]
                                        w1 = wts[i, j + 1, c]
                                        w2 = wts[i, j + 2, c]
                                        x0 = xp[n, y, xb, c]
                                        a0 = a0 + x0 * w0
                                        x1 = xp[n, y, xb + dw, c]
                                        a0 = a0 + x1 * w1
                                        a1 = a1 + x1 * w0
                                        x2 = xp[n, y, xb + 2 * dw, c]
                                        a0 = a0 + x2 * w2
                                        a1 = a1 + x2 * w1
                                        a2 = a2 + x2 * w0
                                        x3 = xp[n, y, xb + 3 * dw, c]
                                        a1 = a1 + x3 * w2
                                        a2 = a2 + x3 * w1
                                        a3 = a3 + x3 * w0
                                        x4 = xp[n, y, xb + 4 * dw, c]
                                        a2 = a2 + x4 * w2
                                        a3 = a3 + x4 * w1
                                        x5 = xp[n, y, xb + 5 * dw, c]
                                        a3 = a3 + x5 * w2
                                        out[n, r, ob, c] = a0
                                        out[n, r, ob + ostep, c] = a1
                                        out[n, r, ob + 2 * ostep, c] = a2
                                        out[n, r, ob + 3 * ostep, c] = a3
                                elif unit == 1 and s == 2:
                                    for c in range(c_):
                                        a0 = out[n, r, ob, c]
                                        a1 = out[n, r, ob + ostep, c]
                                        a2 = out[n, r, ob + 2 * ostep, c]
                                        a3 = out[n, r, ob + 3 * ostep, c]
                                        w0 = wts[i, j, c]
                                        w1 = wts[i, j + 1, c]
                                        x0 = xp[n, y, xb, c]
                                        a0 = a0 + x0 * w0
                                        x1 = xp[n, y, xb + dw, c]
                                        a0 = a0 + x1 * w1
                                        a1 = a1 + x1 * w0
                                        x2 = xp[n, y, xb + 2 * dw, c]
                                        a1 = a1 + x2 * w1
                                        a2 = a2 + x2 * w0
                                        x3 = xp[n, y, xb + 3 * dw, c]
                                        a2 = a2 + x3 * w1
                                        a3 = a3 + x3 * w0
                                        x4 = xp[n, y, xb + 4 * dw, c]
                                        a3 = a3 + x4 * w1
                                        out[n, r, ob, c] = a0
                                        out[n, r, ob + ostep, c] = a1
                                        out[n, r, ob + 2 * ostep, c] = a2
                                        out[n, r, ob + 3 * ostep, c] = a3
                                elif unit == 1 and s == 1:
                                    for c in range(c_):
                                        a0 = out[n, r, ob, c]
                                        a1 = out[n, r, ob + ostep, c]
                                        a2 = out[n, r, ob + 2 * ostep, c]
                                        a3 = out[n, r, ob + 3 * ostep, c]
                                        w0 = wts[i, j, c]
                                        x0 = xp[n, y, xb, c]
                                        a0 = a0 + x0 * w0
                                        x1 = xp[n, y, xb + dw, c]
                                        a1 = a1 + x1 * w0
                                        x2 = xp[n, y, xb + 2 * dw, c]
                                        a2 = a2 + x2 * w0
                                        x3 = xp[n, y, xb + 3 * dw, c]
                                        a3 = a3 + x3 * w0
                                        out[n, r, ob, c] = a0
                                        out[n, r, ob + ostep, c] = a1
                                        out[n, r, ob + 2 * ostep, c] = a2
                                        out[n, r, ob + 3 * ostep, c] = a3
                                elif unit == 2 and s == 8:
                                    for c in range(c_):
                                        a0 = out[n, r, ob, c]
                                        a1 = out[n, r, ob + ostep, c]
                                        a2 = out[n, r, ob + 2 * ostep, c]
                                        a3 = out[n, r, ob + 3 * ostep, c]
                                        w0 = wts[i, j, c]
                                        w1 = wts[i, j + 1, c]
                                        w2 = wts[i, j + 2, c]
                                        w3 = wts[i, j + 3, c]
                                        w4 = wts[i, j + 4, c]
                                        w5 = wts[i, j + 5, c]
                                        w6 = wts[i, j + 6, c]
                                        w7 = wts[i, j + 7, c]
                                        x0 = xp[n, y, xb, c]
                                        a0 = a0 + x0 * w0
                                        x1 = xp[n, y, xb + dw, c]
                                        a0 = a0 + x1 * w1
                                        x2 = xp[n, y, xb + 2 * dw, c]
                                        a0 = a0 + x2 * w2
                                        a1 = a1 + x2 * w0
                                        x3 = xp[n, y, xb + 3 * dw, c]
                                        a0 = a0 + x3 * w3
                                        a1 = a1 + x3 * w1
                                        x4 = xp[n, y, xb + 4 * dw, c]
                                        a0 = a0 + x4 * w4
                                        a1 = a1 + x4 * w2
                                        a2 = a2 + x4 * w0
                                        x5 = xp[n, y, xb + 5 * dw, c]
                                        a0 = a0 + x5 * w5
                                        a1 = a1 + x5 * w3
                                        a2 = a2 + x5 * w1
                                        x6 = xp[n, y, xb + 6 * dw, c]
                                        a0 = a0 + x6 * w6
                                        a1 = a1 + x6 * w4
                                        a2 = a2 + x6 * w2
                                        a3 = a3 + x6 * w0
                                        x7 = xp[n, y, xb + 7 * dw, c]
                                        a0 = a0 + x7 * w7
                                        a1 = a1 + x7 * w5
                                        a2 = a2 + x7 * w3
                                        a3 = a3 + x7 * w1
                                        x8 = xp[n, y, xb + 8 * dw, c]
                                        a1 = a1 + x8 * w6
                                        a2 = a2 + x8 * w4
                                        a3 = a3 + x8 * w2
                                        x9 = xp[n, y, xb + 9 * dw, c]
                                        a1 = a1 + x9 * w7
                                        a2 = a2 + x9 * w5
                                        a3 = a3 + x9 * w3
                                        x10 = xp[n, y, xb + 10 * dw, c]
                                        a2 = a2 + x10 * w6
                                        a3 = a3 + x10 * w4
                                        x11 = xp[n, y, xb + 11 * dw, c]
                                        a2 = a2 + x11 * w7
                                        a3 = a3 + x11 * w5
                                        x12 = xp[n, y, xb + 12 * dw, c]
                                        a3 = a3 + x12 * w6
                                        x13 = xp[n, y, xb + 13 * dw, c]
                                        a3 = a3 + x13 * w7
                                        out[n, r, ob, c] = a0
                                        out[n, r, ob + ostep, c] = a1
                                        out[n, r, ob + 2 * ostep, c] = a2
                                        out[n, r, ob + 3 * ostep, c] = a3
                                elif unit == 2 and s == 7:
                                    for c in range(c_):
                                        a0 = out[n, r, ob, c]
                                        a1 = out[n, r, ob + ostep, c]
                                        a2 = out[n, r, ob + 2 * ostep, c]
                                        a3 = out[n, r, ob + 3 * ostep, c]
                                        w0 = wts[i, j, c]
                                        w1 = wts[i, j + 1, c]
                                        w2 = wts[i, j + 2, c]
                                        w3 = wts[i, j + 3, c]
                                        w4 = wts[i, j + 4, c]
                                        w5 = wts[i, j + 5, c]
                                        w6 = wts[i, j + 6, c]
                                        x0 = xp[n, y, xb, c]
                                        a0 = a0 + x0 * w0
                                        x1 = xp[n, y, xb + dw, c]
                                        a0 = a0 + x1 * w1
                                        x2 = xp[n, y, xb + 2 * dw, c]
                                        a0 = a0 + x2 * w2
                                        a1 = a1 + x2 * w0
                                        x3 = xp[n, y, xb + 3 * dw, c]
                                        a0 = a0 + x3 * w3
                                        a1 = a1 + x3 * w1
                                        x4 = xp[n, y, xb + 4 * dw, c]
                                        a0 = a0 + x4 * w4
                                        a1 = a1 + x4 * w2
                                        a2 = a2 + x4 * w0
                                        x5 = xp[n, y, xb + 5 * dw, c]
                                        a0 = a0 + x5 * w5
                                        a1 = a1 + x5 * w3
                                        a2 = a2 + x5 * w1
                                        x6 = xp[n, y, xb + 6 * dw, c]
                                        a0 = a0 + x6 * w6
                                        a1 = a1 + x6 * w4
                                        a2 = a2 + x6 * w2
                                        a3 = a3 + x6 * w0
                                        x7 = xp[n, y, xb + 7 * dw, c]
                                        a1 = a1 + x7 * w5
                                        a2 = a2 + x7 * w3
                                        a3 = a3 + x7 * w1
                                        x8 = xp[n, y, xb + 8 * dw, c]
                                        a1 = a1 + x8 * w6
                                        a2 = a2 + x8 * w4
                                        a3 = a3 + x8 * w2
                                        x9 = xp[n, y, xb + 9 * dw, c]
                                        a2 = a2 + x9 * w5
                                        a3 = a3 + x9 * w3
                                        x10 = xp[n, y, xb + 10 * dw, c]
                                        a2 = a2 + x10 * w6
                                        a3 = a3 + x10 * w4
                                        x11 = xp[n, y, xb + 11 * dw, c]
                                        a3 = a3 + x11 * w5
                                        x12 = xp[n, y, xb + 12 * dw, c]
                                        a3 = a3 + x12 * w6
                                        out[n, r, ob, c] = a0
                                        out[n, r, ob + ostep, c] = a1
                                        out[n, r, ob + 2 * ostep, c] = a2
                                        out[n, r, ob + 3 * ostep, c] = a3
                                elif unit == 2 and s == 6:
                                    for c in range(c_):
                                        a0 = out[n, r, ob, c]
                                        a1 = out[n, r, ob + ostep, c]
                                        a2 = out[n, r, ob + 2 * ostep, c]
                                        a3 = out[n, r, ob + 3 * ostep, c]
                                        w0 = wts[i, j, c]
                                        w1 = wts[i, j + 1, c]
                                        w2 = wts[i, j + 2, c]
                                        w3 = wts[i, j + 3, c]
                                        w4 = wts[i, j + 4, c]
                                        w5 = wts[i, j + 5, c]
                                        x0 = xp[n, y, xb, c]
                                        a0 = a0 + x0 * w0
                                        x1 = xp[n, y, xb + dw, c]
                                        a0 = a0 + x1 * w1
                                        x2 = xp[n, y, xb + 2 * dw, c]
                                        a0 = a0 + x2 * w2
                                        a1 = a1 + x2 * w0
                                        x3 = xp[n, y, xb + 3 * dw, c]
                                        a0 = a0 + x3 * w3
                                        a1 = a1 + x3 * w1
                                        x4 = xp[n, y, xb + 4 * dw, c]
                                        a0 = a0 + x4 * w4
                                        a1 = a1 + x4 * w2
                                        a2 = a2 + x4 * w0
                                        x5 = xp[n, y, xb + 5 * dw, c]
                                        a0 = a0 + x5 * w5
                                        a1 = a1 + x5 * w3
                                        a2 = a2 + x5 * w1
                                        x6 = xp[n, y, xb + 6 * dw, c]
                                        a1 = a1 + x6 * w4
                                        a2 = a2 + x6 * w2
                                        a3 = a3 + x6 * w0
                                        x7 = xp[n, y, xb + 7 * dw, c]
                                        a1 = a1 + x7 * w5
                                        a2 = a2 + x7 * w3
                                        a3 = a3 + x7 * w1
                                        x8 = xp[n, y, xb + 8 * dw, c]
                                        a2 = a2 + x8 * w4
                                        a3 = a3 + x8 * w2
                                        x9 = xp[n, y, xb + 9 * dw, c]
                                        a2 = a2 + x9 * w5
                                        a3 = a3 + x9 * w3
                                        x10 = xp[n, y, xb + 10 * dw, c]
                                        a3 = a3 + x10 * w4
                                        x11 = xp[n, y, xb + 11 * dw, c]
                                        a3 = a3 + x11 * w5
                                        out[n, r, ob, c] = a0
                                        out[n, r, ob + ostep, c] = a1
                                        out[n, r, ob + 2 * ostep, c] = a2
                                        out[n, r, ob + 3 * ostep, c] = a3
                                elif unit == 2 and s == 5:
                                    for c in range(c_):
                                        a0 = out[n, r, ob, c]
                                        a1 = out[n, r, ob + ostep, c]
                                        a2 = out[n, r, ob + 2 * ostep, c]
                                        a3 = out[n, r, ob + 3 * ostep, c]
                                        w0 = wts[i, j, c]
                                        w1 = wts[i, j + 1, c]
                                        w2 = wts[i, j + 2, c]
                                        w3 = wts[i, j + 3, c]
                                        w4 = wts[i, j + 4, c]
                                        x0 = xp[n, y, xb, c]
                                        a0 = a0 + x0 * w0
                                        x1 = xp[n, y, xb + dw, c]
                                        a0 = a0 + x1 * w1
                                        x2 = xp[n, y, xb + 2 * dw, c]
                                        a0 = a0 + x2 * w2
                                        a1 = a1 + x2 * w0
                                        x3 = xp[n, y, xb + 3 * dw, c]
                                        a0 = a0 + x3 * w3
                                        a1 = a1 + x3 * w1
                                        x4 = xp[n, y, xb + 4 * dw, c]
                                        a0 = a0 + x4 * w4
                                        a1 = a1 + x4 * w2
                                        a2 = a2 + x4 * w0
                                        x5 = xp[n, y, xb + 5 * dw, c]
                                        a1 = a1 + x5 * w3
                                        a2 = a2 + x5 * w1
                                        x6 = xp[n, y, xb + 6 * dw, c]
                                        a1 = a1 + x6 * w4
                                        a2 = a2 + x6 * w2
                                        a3 = a3 + x6 * w0
                                        x7 = xp[n, y, xb + 7 * dw, c]
                                        a2 = a2 + x7 * w3
                                        a3 = a3 + x7 * w1
                                        x8 = xp[n, y, xb + 8 * dw, c]
                                        a2 = a2 + x8 * w4
                                        a3 = a3 + x8 * w2
                                        x9 = xp[n, y, xb + 9 * dw, c]
                                        a3 = a3 + x9 * w3
                                        x10 = xp[n, y, xb + 10 * dw, c]
                                        a3 = a3 + x10 * w4
                                        out[n, r, ob, c] = a0
                                        out[n, r, ob + ostep, c] = a1
                                        out[n, r, ob + 2 * ostep, c] = a2
                                        out[n, r, ob + 3 * ostep, c] = a3
                                elif unit == 2 and s == 4:
                                    for c in range(c_):
                                        a0 = out[n, r, ob, c]
                                        a1 = out[n, r, ob + ostep, c]
                                        a2 = out[n, r, ob + 2 * ostep, c]
                                        a3 = out[n, r, ob + 3 * ostep, c]
                                        w0 = wts[i, j, c]
                                        w1 = wts[i, j + 1, c]
                                        w2 = wts[i, j + 2, c]
                                        w3 = wts[i, j + 3, c]
                                        x0 = xp[n, y, xb, c]
                                        a0 = a0 + x0 * w0
                                        x1 = xp[n, y, xb + dw, c]
                                        a0 = a0 + x1 * w1
                                        x2 = xp[n, y, xb + 2 * dw, c]
                                        a0 = a0 + x2 * w2
                                        a1 = a1 + x2 * w0
                                        x3 = xp[n, y, xb + 3 * dw, c]
                                        a0 = a0 + x3 * w3
                                        a1 = a1 + x3 * w1
                                        x4 = xp[n, y, xb + 4 * dw, c]
                                        a1 = a1 + x4 * w2
                                        a2 = a2 + x4 * w0
                                        x5 = xp[n, y, xb + 5 * dw, c]
                                        a1 = a1 + x5 * w3
                                        a2 = a2 + x5 * w1
                                        x6 = xp[n, y, xb + 6 * dw, c]
                                        a2 = a2 + x6 * w2
                                        a3 = a3 + x6 * w0
                                        x7 = xp[n, y, xb + 7 * dw, c]
                                        a2 = a2 + x7 * w3
                                        a3 = a3 + x7 * w1
                                        x8 = xp[n, y, xb + 8 * dw, c]
                                        a3 = a3 + x8 * w2
                                        x9 = xp[n, y, xb + 9 * dw, c]
                                        a3 = a3 + x9 * w3
                                        out[n, r, ob, c] = a0
                                        out[n, r, ob + ostep, c] = a1
                                        out[n, r, ob + 2 * ostep, c] = a2
                                        out[n, r, ob + 3 * ostep, c] = a3
                                elif unit == 2 and s == 3:
                                    for c in range(c_):
                                        a0 = out[n, r, ob, c]
                                        a1 = out[n, r, ob + ostep, c]
                                        a2 = out[n, r, ob + 2 * ostep, c]
                                        a3 = out[n, r, ob + 3 * ostep, c]
                                        w0 = wts[i, j, c]
                                        w1 = wts[i, j + 1, c]
                                        w2 = wts[i, j + 2, c]
                                        x0 = xp[n, y, xb, c]
                                        a0 = a0 + x0 * w0
                                        x1 = xp[n, y, xb + dw, c]
                                        a0 = a0 + x1 * w1
                                        x2 = xp[n, y, xb + 2 * dw, c]
                                        a0 = a0 + x2 * w2
                                        a1 = a1 + x2 * w0
                                        x3 = xp[n, y, xb + 3 * dw, c]
                                        a1 = a1 + x3 * w1
                                        x4 = xp[n, y, xb + 4 * dw, c]
                                        a1 = a1 + x4 * w2
                                        a2 = a2 + x4 * w0
                                        x5 = xp[n, y, xb + 5 * dw, c]
                                        a2 = a2 + x5 * w1
                                        x6 = xp[n, y, xb + 6 * dw, c]
                                        a2 = a2 + x6 * w2
                                        a3 = a3 + x6 * w0
                                        x7 = xp[n, y, xb + 7 * dw, c]
                                        a3 = a3 + x7 * w1
                                        x8 = xp[n, y, xb + 8 * dw, c]
                                        a3 = a3 + x8 * w2
                                        out[n, r, ob, c] = a0
                                        out[n, r, ob + ostep, c] = a1
                                        out[n, r, ob + 2 * ostep, c] = a2
                                        out[n, r, ob + 3 * ostep, c] = a3
                                elif unit == 2 and s == 2:
                                    for c in range(c_):
                                        a0 = out[n, r, ob, c]
                                        a1 = out[n, r, ob + ostep, c]
                                        a2 = out[n, r, ob + 2 * ostep, c]
                                        a3 = out[n, r, ob + 3 * ostep, c]
                                        w0 = wts[i, j, c]
                                        w1 = wts[i, j + 1, c]
                                        x0 = xp[n, y, xb, c]
                                        a0 = a0 + x0 * w0
                                        x1 = xp[n, y, xb + dw, c]
                                        a0 = a0 + x1 * w1
                                        x2 = xp[n, y, xb + 2 * dw, c]
                                        a1 = a1 + x2 * w0
                                        x3 = xp[n, y, xb + 3 * dw, c]
                                        a1 = a1 + x3 * w1
                                        x4 = xp[n, y, xb + 4 * dw, c]
                                        a2 = a2 + x4 * w0
                                        x5 = xp[n, y, xb + 5 * dw, c]
                                        a2 = a2 + x5 * w1
                                        x6 = xp[n, y, xb + 6 * dw, c]
                                        a3 = a3 + x6 * w0
                                        x7 = xp[n, y, xb + 7 * dw, c]
                                        a3 = a3 + x7 * w1
                                        out[n, r, ob, c] = a0
                                        out[n, r, ob + ostep, c] = a1
                                        out[n, r, ob + 2 * ostep, c] = a2
                                        out[n, r, ob + 3 * ostep, c] = a3
                                elif unit == 2 and s == 1:
                                    for c in range(c_):
                                        a0 = out[n, r, ob, c]
                                        a1 = out[n, r, ob + ostep, c]
                                        a2 = out[n, r, ob + 2 * ostep, c]
                                        a3 = out[n, r, ob + 3 * ostep, c]
                                        w0 = wts[i, j, c]
                                        x0 = xp[n, y, xb, c]
                                        a0 = a0 + x0 * w0
                                        x1 = xp[n, y, xb + dw, c]
                                        x2 = xp[n, y, xb + 2 * dw, c]
                                        a1 = a1 + x2 * w0
                                        x3 = xp[n, y, xb + 3 * dw, c]
                                        x4 = xp[n, y, xb + 4 * dw, c]
                                        a2 = a2 + x4 * w0
                                        x5 = xp[n, y, xb + 5 * dw, c]
                                        x6 = xp[n, y, xb + 6 * dw, c]
                                        a3 = a3 + x6 * w0
                                        out[n, r, ob, c] = a0
                                        out[n, r, ob + ostep, c] = a1
                                        out[n, r, ob + 2 * ostep, c] = a2
                                        out[n, r, ob + 3 * ostep, c] = a3
                                j += s
                            for k in range(size if ja < jb < kw_ else 0):  # the taps after them
                                b = (ob + k * ostep) * sw - left
                                j1 = min(max(-((b - w_) // dw), 0), kw_)
                                if j1 > jb:
                                    _channel_taps(xp, wts, out, n, r, ob + k * ostep, y, i, jb, j1, b, dw)
                    ob += size * ostep
            total += _total(out[n, r].reshape(-1))
        return total
    # END GENERATED

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


#: Pricing of the loop along the channels (:func:`seconds`), fitted with
#: ``compiled_channel_flops`` on 2026-12-07 to side-by-side direct/FFT timings of 20 depthwise
#: shapes (see :data:`fftconv._engine.constants.DEFAULT_CONSTANTS`): the fixed cost of one pass
#: over a block, per output position, in multiply-adds (LLVM's run-time overlap checks and the
#: loop's set-up: with 32 channels, two vectors of 16, they weigh as much as 5 more channels'
#: work); and the exponent of the column stride by which a strided layer costs more per
#: multiply-add, in the FFT model's frame: the loop itself ran 1.1-1.45x slower per multiply-add
#: at stride 2 (measured alone), six stride-2 shapes of 128 channels fitted 1.6 (3.0x; there
#: the direct method wins by 5x and more), and 1.3 (2.5x) puts depthwise 21x21 on 64 channels
#: (direct 1.65x faster, one thread) and 31x31 on 32 channels (the FFT 1.9x faster) at stride 2
#: on the side measured.
CHANNEL_PASS_COST, CHANNEL_STRIDE_EXPONENT = 175, 1.3


def seconds(geom, itemsize: int, c) -> float:
    """Predicted seconds of :func:`run_taps` (the padded copy and the call's fixed cost aside).

    The multiply-adds, plus two per output and pass (the load and store
    of the output block, in cache), at ``compiled_flops / 2`` per second, or
    ``compiled_channel_flops / 2`` for the loop along the channels (float32; float64 at half
    the rate; there also :data:`CHANNEL_PASS_COST` per output position and pass, and the whole
    times the column stride to the power :data:`CHANNEL_STRIDE_EXPONENT`), plus the copies
    :func:`scratch_bytes` counts at ``bandwidth``. The row loop
    also pays ``compiled_pass_overhead`` per pass over each block of an output row (the
    pass's set-up and the vector loop's remainder: what makes narrow output rows, such as a
    stride's, slow per multiply-add); its column phases of a stride ``s`` read the input
    ``s`` times (each phase's copy reads every cache line of it), and its copies to and from
    the channel-major layout of several channels take :data:`TRANSPOSE_COST` times a plain
    copy.
    """
    channels = geom.groups * geom.group_out
    positions = geom.batch * math.prod(geom.out_spatial)
    outputs = positions * channels
    taps = math.prod(geom.kernel)
    fixed = 0.0
    if channels >= CHANNELS_LAST_MIN:  # passes of up to eight taps of one kernel row
        passes = math.prod(geom.kernel[:-1]) * -(-geom.kernel[-1] // CHANNEL_TAPS)
        work = (outputs * (taps + 2 * passes) + positions * passes * CHANNEL_PASS_COST) * geom.strides[-1] ** (
            CHANNEL_STRIDE_EXPONENT)
        t = 2 * work / c["compiled_channel_flops"] / (4 / itemsize)
    else:  # passes of up to nine taps, over each block of ROW_BLOCK outputs of each row
        passes = -(-taps // SINGLE_TAPS)
        blocks = outputs // geom.out_spatial[-1] * -(-geom.out_spatial[-1] // ROW_BLOCK)
        fixed = blocks * passes * c["compiled_pass_overhead"]
        if geom.strides[-1] > 1:  # the phases' further reads of the input
            fixed += ((geom.strides[-1] - 1) * geom.batch * channels * math.prod(geom.used_extent)
                      * itemsize / c["bandwidth"])
        t = 2 * outputs * (taps + 2 * passes) / c["compiled_flops"] / (4 / itemsize)
    copies = 2 * scratch_bytes(geom, itemsize) / c["bandwidth"]
    if 1 < channels < CHANNELS_LAST_MIN:
        copies *= TRANSPOSE_COST
    return t + fixed + copies


#: How many times a plain copy of the same bytes :func:`run_taps`' copies to and from the
#: channel-major layout take (a channel multiplier's repeat, the transpose into the column
#: phases, the transpose back to channels-last): numpy's inner loop runs along 2 to 15
#: channels. Timed on one thread (2026-12-07, numpy 2.4, images of 256^2-2048^2 with 2-8
#: channels) against a contiguous copy of the same array: the repeat and the copy back
#: 1.1-30x, the transpose into phases 1.1-5x; a 2048^2 image with 11x11 filters to 4 outputs
#: spent 45 ms of its 156 in them, where ``bandwidth`` alone priced them at 7 ms.
TRANSPOSE_COST = 4


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


#: The unpadded input is read (:func:`reads_unpadded`) where the multiply-adds of the output
#: columns whose windows reach into a column pad (computed one output at a time, a chain of
#: dependent fused multiply-adds: about 1.5 ns each) number at most 1/8 of the samples a padded
#: copy would move (about 0.2-0.5 ns each), measured 2026-12-07 on 1024^2 images: 3x3 and 5x5
#: kernels read the input unpadded, 7x7 and larger take the padded copy.
EDGE_WORK_PER_SAMPLE = 1 / 8


@functools.lru_cache(maxsize=256)
def reads_unpadded(geom) -> bool:
    """Whether :func:`run_taps` reads the unpadded input itself: one channel, no column
    stride, zero padding, and the outputs beside a column pad few enough (see
    :data:`EDGE_WORK_PER_SAMPLE`). The windows' taps on padding are then skipped, and no padded
    copy is made."""
    if geom.ndim > 2 or geom.group_in != 1 or geom.padding_mode != "constant":
        return False
    if geom.groups * geom.group_out >= CHANNELS_LAST_MIN:  # the loop along the channels skips the
        return geom.group_out == 1  # pads itself (a channel multiplier first repeats a padded copy)
    if geom.groups * geom.group_out != 1 or geom.strides[-1] != 1:
        return False
    inner_lo, inner_hi = _unpadded_layout(geom)[3:5]
    edges = inner_lo + geom.out_spatial[-1] - inner_hi
    rows = geom.batch * math.prod(geom.out_spatial[:-1])
    return edges * rows * math.prod(geom.kernel) <= EDGE_WORK_PER_SAMPLE * geom.batch * math.prod(geom.used_extent)


@functools.lru_cache(maxsize=64)
def _unpadded_layout(geom):
    """What :func:`_single_rows` needs to read an unpadded one-channel input ``(N, H, W)``
    (a 1-D input: ``H = 1``): each tap's offset from its output's position, the taps of
    each output row that read input rows, the output columns whose windows lie inside the
    input's columns, and the steps between images and between output rows."""
    pads, kernel, dil, spatial = geom.pads, geom.kernel, geom.dilations, geom.spatial
    if geom.ndim == 1:
        pads, kernel, dil, spatial = ((0, 0), *pads), (1, *kernel), (1, *dil), (1, *spatial)
    (top, _), (left, _) = pads
    (kh, kw), (dh, dw), (h, width) = kernel, dil, spatial
    sh = geom.strides[0] if geom.ndim == 2 else 1
    oh, ow = (geom.out_spatial if geom.ndim == 2 else (1, *geom.out_spatial))
    i, j = np.divmod(np.arange(kh * kw, dtype=np.int64), kw)  # each tap's kernel row and column
    offsets = (i * dh - top) * width + j * dw - left
    first_row = np.arange(oh, dtype=np.int64) * sh - top  # input row of each output row's kernel row 0
    rows_lo = np.clip(-(first_row // dh), 0, kh)  # kernel rows from ceil(-first / dh) ...
    rows_hi = np.clip(-((first_row - h) // dh), rows_lo, kh)  # ... up to ceil((h - first) / dh)
    inner_lo = min(max(left, 0), ow)
    inner_hi = min(max(width - (kw - 1) * dw + left, inner_lo), ow)
    return (offsets, rows_lo * kw, rows_hi * kw, inner_lo, inner_hi, kw, dw, left, width,
            h * width, sh * width)


def run_taps(x: np.ndarray, w: np.ndarray, geom, workers=None) -> np.ndarray:
    """The direct method's ``"compiled"`` strategy: ``x`` the padded input's used extent
    (where :func:`reads_unpadded`: the unpadded input, any layout and dtype; it is padded here
    where the filters hold NaN or Inf), ``w`` the
    filters ``(*kernel, 1, C_out)``, one input channel per group, 1-D or 2-D.

    Returns a new channels-last output in ``w.dtype``, and the sum of its values where the
    loop found it (a check that is finite if and only if every output is, unless that sum of
    finite outputs overflows), else None.
    """
    result = np.empty(geom.output_shape, dtype=w.dtype)  # returned as it is: it owns its memory
    unpadded = reads_unpadded(geom)
    if unpadded and not np.isfinite(w).all():
        # a NaN or Inf tap times a padding zero is NaN, as in a padded copy: so read from one
        # (outside the memory model, made for finite filters)
        buf = scratch("padded", (geom.batch, *geom.used_extent, geom.in_channels), w.dtype)
        x = read_padded(x, box_reads(geom, (0,) * geom.ndim, geom.used_extent), buf)
        unpadded = False
    g, m = geom.groups, geom.group_out
    channels = g * m
    if unpadded and channels < CHANNELS_LAST_MIN:
        layout = _unpadded_layout(geom)
        offsets, tap_lo, tap_hi = layout[:3]
        xf = np.ascontiguousarray(x, dtype=w.dtype).reshape(-1)  # read as it is where it can be
        planes3 = result.reshape(geom.batch, len(tap_lo), -1)
        wts = w.reshape(1, -1)
        return result, _run_rows(xf, offsets, wts, planes3, layout[-2:], layout[1:-2], workers)
    xp = x
    strides, dilations, kernel = tuple(geom.strides), tuple(geom.dilations), tuple(geom.kernel)
    pads = geom.pads if unpadded else ((0, 0),) * geom.ndim
    if geom.ndim == 1:  # a row of height one
        xp, strides, dilations, kernel = xp[:, None], (1, *strides), (1, *dilations), (1, *kernel)
        pads = ((0, 0), *pads)
    out = result.reshape(geom.batch, -1, geom.out_spatial[-1], channels)
    if m > 1:  # each input channel repeated for its M outputs
        rep = scratch("repeated", (*xp.shape[:-1], g, m), w.dtype)
        np.copyto(rep, xp[..., None])
        xp = rep.reshape(*xp.shape[:-1], channels)
    xp = np.ascontiguousarray(xp, dtype=w.dtype)
    (sh, sw), (dh, dw) = strides, dilations
    rows_of_taps, cols_of_taps = np.divmod(np.arange(math.prod(kernel), dtype=np.int64), kernel[1])
    ty, tx = rows_of_taps * dh, cols_of_taps * dw  # each tap's offsets, in the filters' order
    weights = np.ascontiguousarray(w.reshape(-1, channels))  # (taps, C), in the taps' order
    if channels >= CHANNELS_LAST_MIN:
        wts = weights.reshape(*kernel, channels)
        return result, _run_channels(xp, wts, out, (sh, sw), (dh, dw), pads, workers)
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
    offsets = (ty * sw + tx % sw) * span + tx // sw  # of each tap's first sample in an image
    planes = out.reshape(*out.shape[:3]) if channels == 1 else scratch(
        "planes", (n, channels, *out.shape[1:3]), w.dtype)
    planes3 = planes.reshape(n * channels, *out.shape[1:3])
    every = (np.zeros(out.shape[1], np.int64), np.full(out.shape[1], len(ty), np.int64),
             0, out.shape[2], 1, 0, 0, 1)  # every tap of every row, every column inside
    total = _run_rows(images.reshape(-1), offsets, np.ascontiguousarray(weights.T), planes3,
                      (h * sw * span, sh * sw * span), every, workers)
    if channels > 1:
        np.copyto(out, planes.transpose(0, 2, 3, 1))
    return result, total


def channel_blocks(sw: int, dw: int) -> tuple:
    """How :func:`_channel_rows` blocks an output row: ``(unit, ostep)``.

    Register blocks of :data:`CHANNEL_BLOCK` outputs ``ostep`` apart, whose input columns are
    ``unit`` (1 or 2) dilation steps apart from one output to the next: a stride that is one or
    two dilation steps (``unit = sw / dw``, ``ostep = 1``), or stride 1 with a dilation
    (``ostep = dw``: each phase of the outputs reads its own columns). Other strides (``unit =
    0``) run every output alone.

    Examples
    --------
    >>> channel_blocks(1, 1), channel_blocks(2, 1), channel_blocks(1, 3), channel_blocks(3, 1)
    ((1, 1), (2, 1), (1, 3), (0, 1))
    """
    if sw % dw == 0 and sw // dw in (1, 2):
        return sw // dw, 1
    if sw == 1:
        return 1, dw
    return 0, 1


def _run_channels(xp, wts, out, strides, dilations, pads, workers):
    """:func:`_channel_rows` over the rows of ``out`` ``(N, OH, OW, C)`` on up to ``workers``
    threads, each taking the next of :data:`SHARES_PER_THREAD` ranges of rows per thread as it
    finishes one (a thread slowed by other work on its core takes fewer); the outputs' sum.
    ``xp`` is read with ``pads`` of zeros around it."""
    (sh, sw), (dh, dw), ((top, _), (left, _)) = strides, dilations, pads
    work = out.size * wts.shape[0] * wts.shape[1]
    rows = out.shape[0] * out.shape[1]
    threads = min(workers or 1, rows, max(work // MIN_PIECE_WORK, 1))
    pieces = min(rows, threads * SHARES_PER_THREAD) if threads > 1 else 1
    bounds = [rows * i // pieces for i in range(pieces + 1)]
    blocks = channel_blocks(sw, dw)
    totals = [0.0] * pieces
    run_shared(lambda i: totals.__setitem__(i, _channel_rows(xp, wts, out, sh, sw, dh, dw, top, left, *blocks,
                                                             bounds[i], bounds[i + 1])), pieces, threads)
    return sum(totals)


def _run_rows(xf, offsets, wts, planes3, steps, edges, workers):
    """:func:`_single_rows` over the rows of ``planes3`` ``(images, OH, OW)``, split into
    ``workers`` pieces (ranges of rows, or of a single row's columns); the outputs' sum."""
    rows, width_out = planes3.shape[0] * planes3.shape[1], planes3.shape[2]
    pieces = min(workers or 1, max(planes3.size * len(offsets) // MIN_PIECE_WORK, 1))
    if rows >= pieces:
        bounds = [(rows * i // pieces, rows * (i + 1) // pieces, 0, width_out) for i in range(pieces)]
    else:  # one row, or a few: ranges of its columns
        cuts = [width_out * i // pieces // 16 * 16 for i in range(pieces)] + [width_out]
        bounds = [(0, rows, cuts[i], cuts[i + 1]) for i in range(pieces)]
    totals = [0.0] * pieces
    run_pieces(lambda i: totals.__setitem__(i, _single_rows(xf, offsets, wts, planes3, *steps, *bounds[i],
                                                            *edges)), pieces)
    return sum(totals)
