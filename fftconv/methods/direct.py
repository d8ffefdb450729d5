"""The direct method: sliding-window views contracted with BLAS.

Five strategies, all reading one padded copy of the input (or the input itself, where
no output reads a pad):

``"shifted"`` (stride 1, one group, kernels of 4 or more rows, at most
:data:`SHIFTED_MAX_CHANNELS` input channels)
    Flatten the padded batch to a ``(rows, C_in)`` matrix and gather, for each
    row, the ``kw`` taps along the last axis (a ``kw``-fold copy instead of
    im2col's ``kh * kw``-fold one). Each remaining tap is then a contiguous,
    shifted slice of that matrix, so one GEMM per tap with ``K = kw * C_in``,
    accumulated in place by BLAS (``beta=1``), computes every output
    position; outputs that wrap across a row or image edge are cropped at the
    end. Slower than im2col at 3x3, where im2col's single GEMM with
    ``K = 9 * C_in`` runs closer to peak, and with more than a few input
    channels: kh GEMMs of the short ``K = kw * C_in``, each reading and
    writing the partial sums, against one of ``K = kh * kw * C_in``.
``"im2col"`` (any stride, dilation and groups)
    A strided view ``(N, *out, *kernel, C_in)`` of the padded input, with stride
    and dilation applied inside the view, is copied chunk by chunk into a patch
    matrix of at most :data:`CHUNK_BYTES` and contracted with one GEMM per
    chunk. With groups, the padded input is first copied group-major (each
    group's channels together, one pass over the input), so that each patch
    row copies runs of ``kw * C_in/G`` values; one batched GEMM over the group
    axis (:func:`numpy.matmul`) then writes every group's results into one
    buffer, whose columns are copied to the output.
``"taps"`` (one input channel per group: depthwise, or single-channel images)
    No contraction is left, so each tap is an elementwise multiply-add over a
    strided view.
``"compiled"`` (the same shapes, 1-D and 2-D; only with numba, not disabled)
    The taps' loops compiled (:mod:`fftconv.methods._compiled`): nine taps
    added per pass over a block of an output row held in cache, in vector
    code along the row; or, with 16 channels and more, along the channels, in
    register blocks of four outputs that share each input column they read.
    Preferred to ``"taps"`` wherever it runs.
``"rows"`` (one input and one output channel, a kernel along the last axis only)
    :func:`numpy.correlate` per row: short FIR filters on a few signals, where
    the other strategies' fixed costs dominate (single 1-D signals run
    ``"compiled"`` where numba is there: its fixed cost is lower still).
``"lines"`` (a kernel along one axis, few channels mixed per group; only with numba)
    Compiled 1-D passes (:mod:`fftconv.methods._lines`): each output line stays
    in cache while every tap is added into it, along contiguous memory. The
    low-rank method's passes, and FIR filters over many lines.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.linalg import blas

from fftconv._shapes.geometry import ConvGeometry, batch_row_chunks
from fftconv._shapes.padding import box_reads, read_padded
from fftconv._runtime.scratch import scratch
from fftconv._runtime.threads import blas_threads, chunk_threads, run_shared
from fftconv.methods.pricing import gemm_seconds
from fftconv.methods import _compiled, _lines
from fftconv.methods.base import Method

#: The shifted strategy is chosen for at most this many input channels. Measured side by side
#: (2026-12-07, 2 threads, OpenBLAS at its full rate, medians of 7 interleaved calls), it ran
#: 1.02-2.1x slower than im2col on 12 of 12 layers of 8-128 input channels (5x5-11x11, 14-512
#: pixels), and 0.72-1.43x im2col's time on four of 2-4 channels.
SHIFTED_MAX_CHANNELS = 4

#: Target size in bytes of one chunk of patches (and, for "shifted", its partial
#: sums): about the L2 cache, so that BLAS reads them back from cache. Measured
#: on 3x3/5x5/9x9 CNN shapes: 1 MiB ran 1.5-2.5x faster than 4-16 MiB.
CHUNK_BYTES = 2**20

#: The strategies this installation runs ("compiled" and "lines" only with numba).
STRATEGIES = ("shifted", "im2col", "taps", "rows") + (("compiled", "lines") if _compiled.HAVE_NUMBA else ())

#: The lines strategy mixes at most this many ``C_in/G * C_out/G`` channel pairs per group; more
#: are a GEMM's work (im2col).
LINES_MAX_MIX = 16
#: Where the lines strategy mixes channels, each multiply-add costs this many times one of a
#: single-channel pass (2-2.5x measured side by side, 2026-12, 1024x1024 float32, 31 taps).
LINES_MIX_COST = 2.0


def fits(strategy: str, geom: ConvGeometry) -> bool:
    """Whether ``strategy`` can run these shapes (see the module docstring).

    Examples
    --------
    >>> from fftconv._checks import check_geometry
    >>> fir = check_geometry((1, 2000, 1), (3, 1, 1), 1, 1, "VALID", "NWC", 1, None, False)
    >>> [s for s in ("shifted", "im2col", "taps", "rows") if fits(s, fir)]
    ['shifted', 'im2col', 'taps', 'rows']
    """
    if strategy == "taps":
        return geom.group_in == 1
    if strategy == "compiled":
        return _compiled.HAVE_NUMBA and geom.group_in == 1 and geom.ndim <= 2
    if strategy == "shifted":
        return geom.groups == 1 and all(s == 1 for s in geom.strides)
    if strategy == "lines":
        return _lines.fits(geom)
    if strategy == "rows":
        return (geom.in_channels == geom.out_channels == 1 and geom.strides[-1] == 1
                and geom.dilations[-1] == 1 and all(k == 1 for k in geom.kernel[:-1]))
    return strategy == "im2col"


def choose_strategy(geom: ConvGeometry) -> str:
    """Pick the direct strategy for these shapes (see the module docstring)."""
    if geom.ndim == 1 and geom.in_channels == geom.out_channels == 1 and fits("compiled", geom):
        return "compiled"  # FIR filters of single signals: the least fixed cost per call, 3-63 taps
    if fits("rows", geom) and geom.kernel[-1] <= ROWS_MAX_TAPS and _row_count(geom) <= ROWS_MAX_COUNT:
        return "rows"
    if fits("lines", geom) and geom.group_in * geom.group_out <= LINES_MAX_MIX:
        return "lines"
    if geom.group_in == 1:
        return "compiled" if fits("compiled", geom) else "taps"
    if (geom.groups == 1 and all(s == 1 for s in geom.strides) and _shift_overhead(geom) < 1.5
            and math.prod(geom.kernel[:-1]) >= 4 and geom.in_channels <= SHIFTED_MAX_CHANNELS):
        return "shifted"
    return "im2col"


def seconds(geom: ConvGeometry, itemsize: int, c, strategy=None) -> float:
    """Predicted seconds of the direct method with ``strategy`` (or its own choice)."""
    strategy = strategy or choose_strategy(geom)
    bw = c["bandwidth"] * (4 / itemsize)
    outputs = geom.batch * math.prod(geom.out_spatial)
    taps = math.prod(geom.kernel)
    pad_copy = 2 * geom.batch * math.prod(geom.used_extent) * geom.in_channels * itemsize / c["bandwidth"]
    if strategy == "compiled" and _compiled.reads_unpadded(geom):  # the loops read the input itself
        pad_copy = 0
    if strategy == "taps":
        work = 3 * outputs * taps * geom.out_channels
        t = work / c["elementwise_flops"] / (4 / itemsize) + work * itemsize / bw
    elif strategy == "compiled":
        t = _compiled.seconds(geom, itemsize, c)
    elif strategy == "lines":  # compiled 1-D passes: each output line in cache, contiguous runs
        t = 2 * outputs * taps * geom.group_in * geom.out_channels / c["lines_flops"] / (4 / itemsize)
        if geom.group_in * geom.group_out > 1:  # channels mixed: a gather or a transpose per line
            t *= LINES_MIX_COST
        t += (geom.batch * math.prod(geom.used_extent) * geom.in_channels
              + outputs * geom.out_channels) * itemsize / bw
    elif strategy == "rows":  # numpy's compiled 1-D loop, one call per row
        t = 2 * outputs * taps / c["elementwise_flops"] / (4 / itemsize)
    elif strategy == "shifted":
        rows = geom.batch * math.prod(geom.used_extent)
        k = geom.kernel[-1] * geom.in_channels
        t = math.prod(geom.kernel[:-1]) * gemm_seconds(rows, k, geom.out_channels, c, itemsize)
        t += 2 * rows * k * itemsize / bw
    else:
        k = taps * geom.group_in
        t = geom.groups * gemm_seconds(outputs, k, geom.group_out, c, itemsize)
        t += 2 * outputs * k * geom.groups * itemsize / bw
        if geom.groups > 1:  # thin GEMMs over the group axis, and the group-major copy of the input
            t *= 1 + c["grouped_thin_n"] / geom.group_out
            t += pad_copy
    return t + pad_copy / (4 / itemsize) + c["call_overhead"]


def _shift_overhead(geom: ConvGeometry) -> float:
    """Computed / wanted outputs of the shifted strategy (wrapped rows and columns)."""
    return math.prod(geom.used_extent) / max(math.prod(geom.out_spatial), 1)


def peak_bytes(geom: ConvGeometry, strategy: str, itemsize: int, final_copy: int = 0,
               input_as_is: bool = False, contiguous_input: bool = True, kept_only: bool = False,
               workers: int | None = None) -> int:
    """Peak bytes :func:`execute` allocates, its output included, followed by a copy of
    ``final_copy`` bytes (made while the scratch buffers are still kept).

    The mirror of its allocations, phase by phase: the padded input (none where
    :func:`reads_input_in_place` and ``input_as_is``, an input in the compute
    dtype and, for the shifted strategy, ``contiguous_input``), then the strategy's
    partial sums and patch chunks (one chunk at a time), then the output.
    With ``kept_only``: what is left once the call returns, its output and the
    scratch memory it keeps.  ``workers``: the call's threads (the im2col strategy's chunks
    depend on them; None: one).
    """
    in_place = input_as_is and reads_input_in_place(geom)
    if strategy in ("shifted", "compiled", "lines"):  # these read a C-contiguous used extent only
        in_place = in_place and contiguous_input and _used_extent_is_contiguous(geom)
    padded_size = geom.batch * math.prod(geom.used_extent) * geom.in_channels * itemsize
    padded = 0 if in_place else padded_size
    out = math.prod(geom.output_shape) * itemsize
    if strategy == "taps":  # the output, and the products of one tile in scratch (kept)
        tile = _outputs_in_chunk(geom, _taps_rows(geom, itemsize)) * geom.out_channels * itemsize
        return padded + out + tile + (0 if kept_only else final_copy)
    if strategy == "compiled" and _compiled.reads_unpadded(geom):  # the input read where it is, or
        # made contiguous in the compute dtype (the whole input, not its used extent), and the output
        unpadded = 0 if input_as_is and contiguous_input else (geom.batch * math.prod(geom.spatial)
                                                                * geom.in_channels * itemsize)
        return unpadded + out + (0 if kept_only else final_copy)
    if strategy == "compiled":  # the output, and the copies _compiled.run_taps makes in scratch
        return padded + out + _compiled.scratch_bytes(geom, itemsize) + (0 if kept_only else final_copy)
    if strategy == "lines":  # the output, per thread one line transposed (channels mixed along the
        axis = _lines.pass_axis(geom)  # last axis), and the samples of the other axes' strides first
        line = 0
        gathered = geom.batch * geom.used_extent[axis] * geom.in_channels * itemsize * math.prod(
            o for a, o in enumerate(geom.out_spatial) if a != axis)
        strided = gathered if _lines.strided_elsewhere(geom) else 0
        if axis == geom.ndim - 1 and not geom.groups == geom.group_in == geom.group_out == 1:
            line = 2 * (geom.used_extent[axis] * geom.in_channels + geom.out_spatial[axis]) * itemsize
        elif axis < geom.ndim - 1 and not geom.group_in == geom.group_out == 1:  # the channel-major
            # copy of the input, and per thread one output row channel-major
            inner = math.prod(geom.out_spatial[axis + 1:])
            line = gathered + 2 * inner * geom.out_channels * itemsize
        return padded + strided + out + line + final_copy
    if strategy == "rows":  # the output, and numpy's result for one row before it is copied there
        row = 0 if geom.ndim == 1 and geom.batch == 1 else geom.out_spatial[-1] * itemsize
        return padded + out + (0 if kept_only else max(row, final_copy))
    if strategy == "shifted":  # partial sums over the padded grid; the output is cut from them at the end
        rows = geom.batch * math.prod(geom.used_extent)
        kw, c_in = geom.kernel[-1], geom.in_channels
        steps = np.cumprod((1, *geom.used_extent[:0:-1]))[::-1]
        reach = int(np.dot(np.subtract(geom.kernel[:-1], 1) * geom.dilations[:-1], steps[:-1]))
        step = max(CHUNK_BYTES // (itemsize * (geom.out_channels + kw * c_in)), reach, 1)
        patches = min(step + reach + (kw - 1) * geom.dilations[-1], rows) * kw * c_in * itemsize
        sums = rows * geom.out_channels * itemsize
        if kept_only:
            return padded + sums + out
        return padded + sums + max(patches, out + final_copy)
    # im2col: with groups, the padded input again in group-major order (kept in scratch); the
    # output; then per chunk the patch matrix and the GEMMs' results, each thread's kept in its
    # scratch (:func:`_im2col_chunks`: with threads, chunks of at most 1 / threads of the budget)
    grouped = 0 if geom.groups == 1 else padded_size
    bytes_per_output = math.prod(geom.kernel) * geom.in_channels * itemsize
    threads, chunks = _im2col_chunks(geom, bytes_per_output, gemm_threads(geom, workers))
    count = threads * max(n for _, n in chunks)
    patches = count * bytes_per_output
    results = count * geom.out_channels * itemsize
    if kept_only:
        return padded + grouped + out + results + patches
    return padded + grouped + out + results + patches + final_copy


def prepare(w: np.ndarray, geom: ConvGeometry, dtype) -> np.ndarray:
    """Filters in the compute dtype, as a C-contiguous array of the HWIO shape."""
    return np.ascontiguousarray(w, dtype=dtype)


def execute(x: np.ndarray, w: np.ndarray, geom: ConvGeometry, *, strategy=None,
            workers=None) -> np.ndarray:
    """Run the direct method on a channels-last input; return a channels-last output.

    ``w`` comes from :func:`prepare` (already flipped for true convolution).
    ``workers``: the threads of the compiled loops, and of the GEMM strategies' chunks on
    layers large enough (:func:`gemm_threads`); BLAS itself runs on one
    thread (:func:`fftconv._runtime.threads.blas_threads`).
    """
    strategy = strategy or choose_strategy(geom)
    if strategy == "compiled":
        return _run_compiled(x, w, geom, workers)[0]
    return _run_numpy(x, w, geom, strategy, workers)


def execute_checked(x: np.ndarray, w: np.ndarray, geom: ConvGeometry, *, strategy=None,
                    workers=None) -> tuple[np.ndarray, float]:
    """:func:`execute`, and a number that is finite if every output is: the outputs' sum (the
    compiled loops sum each block of outputs while it is in cache)."""
    strategy = strategy or choose_strategy(geom)
    if strategy == "compiled":
        y, total = _run_compiled(x, w, geom, workers)
        return y, (y.sum() if total is None else total)
    y = _run_numpy(x, w, geom, strategy, workers)
    return y, y.sum()


def _run_compiled(x, w, geom, workers):
    if not _compiled.reads_unpadded(geom):  # else the loops skip the pads
        x = _padded_input(x, geom, w.dtype, contiguous=True)
    return _compiled.run_taps(x, w, geom, workers)


def _run_numpy(x, w, geom, strategy, workers):
    xp = _padded_input(x, geom, w.dtype, contiguous=strategy in ("shifted", "lines"))
    if strategy == "lines":
        return _lines.run_lines(xp, w, geom, workers)
    if strategy in ("shifted", "im2col"):
        with blas_threads(1):
            return _RUN[strategy](xp, w, geom, gemm_threads(geom, workers))
    return _RUN[strategy](xp, w, geom)


def gemm_threads(geom: ConvGeometry, workers) -> int:
    """Threads over which the GEMM strategies (shifted, im2col) run their chunks: ``workers``
    (at most the CPUs) for :data:`~fftconv._runtime.threads.CHUNK_THREADS_MIN_FLOPS` or more
    (``2 * outputs * taps * C_in/G * C_out``), else 1: below that, handing chunks to another
    thread costs more than it saves (:func:`~fftconv._runtime.threads.chunk_threads`).

    BLAS itself runs on one thread inside these strategies, and the threads take the chunks
    one by one (:func:`fftconv._runtime.threads.run_shared`). OpenBLAS's own threads wait on
    each other in lockstep: on a 2-core machine shared with other work, 3x3-9x9 layers of
    0.005-5 GFLOP ran 0.9-60x slower on two BLAS threads than on one (2026-12-07), where
    chunks shared this way never ran slower than 1.5x one thread under the same load.

    Examples
    --------
    >>> from fftconv._checks import check_geometry
    >>> small = check_geometry((1, 32, 32, 16), (3, 3, 16, 16), 2, 1, "SAME", "NHWC", 1, None, False)
    >>> large = check_geometry((8, 64, 64, 32), (3, 3, 32, 64), 2, 1, "SAME", "NHWC", 1, None, False)
    >>> gemm_threads(small, 2), gemm_threads(large, 2), gemm_threads(large, 1)
    (1, 2, 1)
    """
    flops = 2 * geom.batch * math.prod(geom.out_spatial) * math.prod(geom.kernel) * geom.group_in * geom.out_channels
    return chunk_threads(flops, workers)


def reads_input_in_place(geom: ConvGeometry) -> bool:
    """Whether the used extent lies inside the input (no padding read), so that an input in
    the compute dtype is read where it is, with no padded copy."""
    return _in_place_index(geom) is not None


@functools.lru_cache(maxsize=256)
def _in_place_index(geom: ConvGeometry):
    """The index of the used extent in the input where it reads no padding, else None."""
    if not all(lo <= 0 and used - lo <= n for (lo, _), used, n in zip(geom.pads, geom.used_extent, geom.spatial)):
        return None
    return (slice(None), *(slice(-lo, used - lo) for (lo, _), used in zip(geom.pads, geom.used_extent)))


def _used_extent_is_contiguous(geom: ConvGeometry) -> bool:
    """Whether the used extent of a C-contiguous input is a C-contiguous view: every axis
    after the first one it cuts is whole."""
    whole = [lo == 0 and used == n for (lo, _), used, n in zip(geom.pads, geom.used_extent, geom.spatial)]
    return all(whole[1:]) and (geom.batch == 1 or whole[0])


def _padded_input(x, geom, dtype, contiguous=False):
    """The used extent of the padded input: a view of ``x`` where it reads no padding and ``x``
    holds the compute dtype (C-contiguous too when asked), else a copy in scratch memory."""
    index = _in_place_index(geom)
    if index is not None and x.dtype == dtype and x.dtype.isnative:
        view = x[index]
        if not contiguous or view.flags.c_contiguous:
            return view
    buf = scratch("padded", (geom.batch, *geom.used_extent, geom.in_channels), dtype)
    return read_padded(x, box_reads(geom, (0,) * geom.ndim, geom.used_extent), buf, geom.padding_mode)


def _shifted(xp, w, geom, threads=1):
    spatial, c_in, c_out = xp.shape[1:-1], geom.in_channels, geom.out_channels
    flat = xp.reshape(-1, c_in)
    steps = np.cumprod((1, *spatial[:0:-1]))[::-1]  # flat rows per step along each axis
    offsets = [int(np.dot(np.multiply(tap, geom.dilations[:-1]), steps[:-1]))
               for tap in np.ndindex(*geom.kernel[:-1])]
    kw, dw = geom.kernel[-1], geom.dilations[-1]
    span = (kw - 1) * dw
    weights = w.reshape(-1, kw * c_in, c_out)  # one GEMM operand per leading tap
    gemm = blas.sgemm if w.dtype == np.float32 else blas.dgemm
    acc = scratch("sums", (flat.shape[0], c_out), w.dtype)
    acc.fill(0)
    valid = flat.shape[0] - offsets[-1] - span
    step = max(CHUNK_BYTES // (w.itemsize * (c_out + kw * c_in)), offsets[-1], 1)
    reach = offsets[-1] + span
    # with threads, one chunk per thread at a time, all of them in one chunk's memory: each of
    # at least `reach` rows, so that the rows a chunk reads beyond its own stay under half its copy
    shared = min(step, valid) + reach
    if threads > 1 and shared // threads - reach >= max(offsets[-1], 1) and valid > shared // threads - reach:
        step = shared // threads - reach
    else:
        threads = 1

    def chunk(r0):
        r1 = min(r0 + step, valid)
        # row r of `patches` holds the kw taps along the last axis at flat row r0 + r
        win = sliding_window_view(flat[r0:r1 + reach], span + 1, axis=0)[..., ::dw]
        patches = np.ascontiguousarray(win.transpose(0, 2, 1)).reshape(-1, kw * c_in)
        out_t = acc[r0:r1].T  # Fortran-ordered view: BLAS accumulates into it in place
        for offset, tap in zip(offsets, weights):
            gemm(1.0, tap.T, patches[offset:offset + r1 - r0].T, beta=1.0, c=out_t,
                 overwrite_c=True)

    starts = range(0, valid, step)  # one chunk's patches at a time per thread
    run_shared(lambda i: chunk(starts[i]), len(starts), threads)
    acc = acc.reshape(*xp.shape[:-1], c_out)
    out = np.empty(geom.output_shape, dtype=w.dtype)  # the sums stay in scratch; the result is new
    np.copyto(out, acc[(slice(None), *(slice(o) for o in geom.out_spatial))])
    return out


def _windows(xp, geom, lead=0):
    """View ``(*lead axes, N, *out, *kernel, C_in)`` of the padded input (``lead`` axes before
    the batch axis): strides and dilation inside."""
    nd, first = geom.ndim, lead + 1
    view = sliding_window_view(xp, geom.eff_kernel, axis=tuple(range(first, first + nd)))
    view = view[(*(slice(None),) * first, *(slice(None, None, s) for s in geom.strides), slice(None),
                 *(slice(None, None, d) for d in geom.dilations))]
    return np.moveaxis(view, first + nd, -1)


def _im2col(xp, w, geom, threads=1):
    g, cg, og = geom.groups, geom.group_in, geom.group_out
    k = math.prod(geom.kernel)
    # (G, K * C_in/G, C_out/G): the weights of each group as one GEMM operand
    wg = w.reshape(k, cg, g, og).transpose(2, 0, 1, 3).reshape(g, k * cg, og)
    win = _windows(_group_major(xp, g), geom, lead=1)  # (G, N, *out, *kernel, C_in/G)
    out = np.empty(geom.output_shape, dtype=w.dtype)
    threads, chunks = _im2col_chunks(geom, k * geom.in_channels * w.itemsize, threads)

    def chunk(i):
        index, count = chunks[i]
        part = win[(slice(None), *index)]
        # the patches in a buffer kept by the thread (scratch): no pages faulted in per chunk, and
        # the call's peak does not depend on whether the threads' chunks overlap in time
        patches = scratch("patches", (g, count, k * cg), w.dtype)
        np.copyto(patches.reshape(part.shape), part)
        res = np.matmul(patches, wg, out=scratch("results", (g, count, og), w.dtype))
        # the columns of each group into the output (not written there by the GEMM itself: with
        # a strided output, OpenBLAS's threads share cache lines and ran 10x slower)
        out[index] = (res.transpose(1, 0, 2) if g > 1 else res).reshape(out[index].shape)

    run_shared(chunk, len(chunks), threads)  # one chunk's patches at a time per thread
    return out


def _im2col_chunks(geom, bytes_per_output, threads) -> tuple:
    """``(threads, chunks)`` of the im2col strategy (:func:`_row_chunks`): with threads, one chunk
    per thread at a time, all of them within the largest chunk of one; where that leaves too
    few chunks to share, one thread and chunks of the whole budget."""
    rows = _largest_chunk(geom, bytes_per_output) // threads // max(math.prod(geom.out_spatial[1:]), 1)
    chunks = list(_row_chunks(geom, bytes_per_output, rows)) if threads > 1 and rows >= 1 else []
    if len(chunks) < 2 * threads:
        return 1, list(_row_chunks(geom, bytes_per_output))
    return threads, chunks


def _group_major(xp, groups):
    """``(G, N, *spatial, C_in/G)``: the padded input with each group's channels together, so
    that a patch row of one group copies runs of ``kw * C_in/G`` values, not of ``C_in/G``
    (one pass over the input instead of a transpose of every patch, ``kh * kw`` times larger).
    One group: a view."""
    split = xp.reshape(*xp.shape[:-1], groups, -1)
    if groups == 1:
        return np.moveaxis(split, -2, 0)
    out = scratch("grouped", (groups, *xp.shape[:-1], split.shape[-1]), xp.dtype)
    np.copyto(out, np.moveaxis(split, -2, 0))
    return out


def _row_chunks(geom, bytes_per_output, rows=None):
    """Yield ``(index, n_outputs)`` chunks of (batch, first output axis) under the budget (or of
    ``rows`` rows of the first output axis, whole images where those hold one or more)."""
    inner = math.prod(geom.out_spatial[1:])
    if rows is None:
        rows = CHUNK_BYTES // max(inner * bytes_per_output, 1)
    for n0, n1, r0, r1 in batch_row_chunks(geom.batch, geom.out_spatial[0], rows):
        yield (slice(n0, n1), slice(r0, r1)), (n1 - n0) * (r1 - r0) * inner


def _largest_chunk(geom, bytes_per_output) -> int:
    """Outputs in the largest chunk :func:`_row_chunks` yields (whole images, or rows of one)."""
    inner = math.prod(geom.out_spatial[1:])
    return _outputs_in_chunk(geom, max(CHUNK_BYTES // max(inner * bytes_per_output, 1), 1))


def _outputs_in_chunk(geom, rows) -> int:
    """Output positions in the largest chunk of :func:`~fftconv._shapes.geometry.batch_row_chunks`
    with ``rows`` rows per chunk."""
    inner, out_rows = math.prod(geom.out_spatial[1:]), geom.out_spatial[0]
    if rows >= out_rows:
        return min(rows // max(out_rows, 1), geom.batch) * out_rows * inner
    return rows * inner


#: Bytes of one output tile of the taps strategy: every tap is added into a tile (and its
#: products formed in a tile of scratch) while both stay in the L2 cache.
TAPS_TILE_BYTES = 2**18


def _taps(xp, w, geom):
    g, m = geom.groups, geom.group_out
    result = np.empty(geom.output_shape, dtype=w.dtype)
    if m == 1:  # one output per group: a product per channel, no broadcast axis
        out, taps, expand = result, w.reshape(-1, g), False
    else:
        out, taps, expand = result.reshape(*geom.output_shape[:-1], g, m), w.reshape(-1, g, m), True
    views, s0 = _tap_views(geom), geom.strides[0]
    for n0, n1, r0, r1 in batch_row_chunks(geom.batch, geom.out_spatial[0], _taps_rows(geom, w.itemsize)):
        tile = out[n0:n1, r0:r1]
        tmp = scratch("products", tile.shape, tile.dtype)
        for i, (_, first, *rest) in enumerate(views):  # the tap's samples for this tile's rows
            view = xp[(slice(n0, n1), slice(first.start + r0 * s0, first.start + (r1 - 1) * s0 + 1, s0), *rest)]
            if expand:
                view = view[..., None]
            np.multiply(view, taps[i], out=tile if i == 0 else tmp)
            if i:
                tile += tmp
    return result


def _taps_rows(geom, itemsize) -> int:
    """Output rows (along the first spatial axis) of one tile of the taps strategy."""
    return max(TAPS_TILE_BYTES // max(math.prod(geom.out_spatial[1:]) * geom.out_channels * itemsize, 1), 1)


@functools.lru_cache(maxsize=64)
def _tap_views(geom: ConvGeometry) -> tuple:
    """Per kernel tap, the index of the padded input's samples it multiplies (stride and
    dilation applied), in the filters' tap order."""
    return tuple((slice(None), *(slice(t * d, t * d + (o - 1) * s + 1, s) for t, d, o, s in
                                 zip(tap, geom.dilations, geom.out_spatial, geom.strides)))
                 for tap in np.ndindex(*geom.kernel))


#: The rows strategy runs :func:`numpy.correlate` once per row: at most this many rows, and at
#: most this many taps (numpy's unrolled loop for short kernels; longer ones run a dot per output).
ROWS_MAX_TAPS = 8
ROWS_MAX_COUNT = 16


def _row_count(geom: ConvGeometry) -> int:
    """Rows the rows strategy correlates: one per image and position along the leading axes."""
    return geom.batch * math.prod(geom.out_spatial[:-1])


def _rows(xp, w, geom):
    """One input and one output channel, a kernel along the last axis only: each row of the
    input correlated with the kernel by :func:`numpy.correlate` (a compiled loop; numpy
    unrolls it for kernels of up to 8 taps)."""
    kernel = w.reshape(-1)
    if geom.ndim == 1 and geom.batch == 1:  # one signal: numpy's result is the output
        out = np.correlate(xp[0, :, 0], kernel, "valid")
        out.shape = geom.output_shape  # in place: the result keeps owning its memory
        return out
    lead = tuple(slice(None, None, s) for s in geom.strides[:-1])
    src = xp[(slice(None), *lead, slice(None), 0)]  # (N, *out[:-1], used width)
    out = np.empty(geom.output_shape, dtype=w.dtype)
    for row, signal in zip(out.reshape(-1, geom.out_spatial[-1]), src.reshape(-1, src.shape[-1])):
        row[...] = np.correlate(signal, kernel, "valid")
    return out


_RUN = {"shifted": _shifted, "im2col": _im2col, "taps": _taps, "rows": _rows}


# -- the method, as the engine sees it -------------------------------------------------------

class DirectMethod(Method):
    """Sliding-window views contracted with BLAS, or taps added one by one (see the module)."""

    name = "direct"
    costly_prepare = False  # the filters themselves
    local = True
    integer_exact = True
    peak_uses_workers = True  # each thread keeps its im2col chunk's patches

    def plan(self, geom, itemsize, constants, *, reuse_filters=False, backend_speed=1.0, complex_pairs=False):
        strategy = choose_strategy(geom)
        if geom.is_empty:  # nothing to compute: the output is zeros
            return constants["call_overhead"], strategy
        return seconds(geom, itemsize, constants, strategy), strategy

    def settings(self, geom, options=None):
        return (options or {}).get("strategy") or choose_strategy(geom)

    def seconds(self, geom, settings, itemsize, constants):
        return seconds(geom, itemsize, constants, settings)

    def peak_bytes(self, geom, settings, itemsize, *, backend=None, final_copy=0, input_as_is=False,
                   contiguous_input=True, kept_only=False, workers=None):
        return peak_bytes(geom, settings, itemsize, final_copy, input_as_is=input_as_is,
                          contiguous_input=contiguous_input, kept_only=kept_only, workers=workers)

    def describe(self, settings):
        return f"direct     strategy {settings!r}"

    def prepare(self, filters, geom, settings, backend, workers):
        return filters

    def execute(self, x, prepared, geom, settings, backend, workers, dtype):
        return execute(x, prepared, geom, strategy=settings, workers=workers)

    def execute_checked(self, x, prepared, geom, settings, backend, workers, dtype):
        return execute_checked(x, prepared, geom, strategy=settings, workers=workers)

    def gain(self, geom, settings):
        return 1.0  # partial sums of products: at most |x| * sum|w|
