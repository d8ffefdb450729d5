"""The FFT method: batched real-FFT overlap-save over tiles, channels mixed by GEMM.

How one call runs, over 1, 2 or 3 spatial axes:

1. **Polyphase strides.** With stride ``s`` the correlation
   ``y[o] = sum_j xp[o*s + j] w[j]`` splits over the ``s`` phases
   ``j = q*s + r`` into stride-1 correlations of the decimated input
   ``xp[m*s + r]`` with the decimated kernel ``w[q*s + r]``. The phase index
   joins the contracted channel axis, so a stride-``s`` problem becomes a
   stride-1 problem on a grid ``s`` times smaller per axis, with ``s**nd``
   times the channels, summed by the same GEMM. Dilation is a zero-inserted
   kernel, split into phases the same way. A phase that holds no tap (the
   stride is larger than the kernel, or dilation and stride share a factor)
   reads input samples that no output reads: it is dropped, neither
   gathered nor transformed.
2. **Tiles.** The output is cut into tiles of ``T`` outputs per axis; each
   reads ``L = T + q - 1`` decimated input samples (``q`` is the phase kernel
   length), and an FFT of length ``L`` yields its ``T`` valid outputs with no
   wrap-around (overlap-save). Tiles are read straight from a slab of the
   padded input, one polyphase component beside the other, made by
   :func:`fftconv._shapes.padding.read_padded` (so padding costs no copy of the
   whole input, and samples past the used extent read as zeros): as a
   strided view where the backend reads strides (``backend.strided``), else
   gathered into a contiguous buffer.
3. **One batched transform** of every tile, image and channel of a chunk,
   laid out batch-first, ``(tiles, channels, *L)``, so that each transform
   is contiguous (FFTW's layout), or batch-last, ``(*L, tiles, channels)``,
   which pocketfft vectorises across lines; see :func:`batch_first`.
4. **Channel mixing.** With one contracted channel per group (depthwise,
   single-channel images) it is an elementwise product along the contiguous
   frequencies.  Otherwise it is one complex GEMM per frequency (a batched
   ``matmul``) over ``(frequencies, tiles, groups, channels)`` spectra:
   batch-last spectra already are, batch-first ones are transposed to it
   and back.
5. **One batched inverse transform**, then the valid part of each tile is
   written to the output. Only the first ``T`` rows of a tile are valid, so
   the inverse's last pass runs over those alone (``keep``).

Chunks of tiles are processed one at a time, so memory stays bounded.

**Circular convolution.**  With ``padding_mode="wrap"`` and stride 1 the
padded input is periodic, so every output is a sample of the circular
correlation of the unpadded input with the kernel: one transform of each whole
image at its own size (when that is a fast FFT length), no pads gathered, the
kernel folded onto the image if it is longer, and the outputs read from the
result at their wrapped positions (:func:`circular_layout`).  The planner
weighs it against the tilings.

**Complex convolutions.**  A complex input with complex filters reaches the
method as its real embedding (:mod:`fftconv._engine.complex`), each channel a
``(re, im)`` pair.  A layout with ``complex_pairs`` views those pairs as the
complex values they are and runs the steps above with complex-to-complex
transforms over the full frequency grid and channels mixed as complex numbers:
a ``C -> O`` complex GEMM per frequency rather than the embedding's real
``2C -> 2O`` one over half the frequencies, which is twice the work.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from fftconv._shapes.geometry import ConvGeometry, batch_row_chunks
from fftconv._shapes.padding import AxisRead, read_padded
from fftconv._runtime.scratch import scratch
from fftconv._runtime.threads import blas_threads, in_pieces, run_pieces
from fftconv._runtime.arrays import COMPLEX_TO_REAL, REAL_TO_COMPLEX, magnitude, spectrum_shape
# the tile layout, made from shapes alone, is the planning side of this method
from fftconv.methods.fft_layout import (CIRCULAR_MAX_ELEMENTS, TileLayout, _circular_gaps,  # noqa: F401
                                        active_phases, circular_layout, complex_geometry, default_fft_shape,
                                        make_layout, phase_kernel, unread_gaps, best_layout, fft_seconds)
from fftconv.methods.base import Method, Rounding

#: Target size in bytes of the buffers of one chunk of tiles.
CHUNK_BYTES = 32 * 2**20
#: Transforms of fewer points than this per call (all tiles, channels and phases of the input)
#: run on one thread, whatever ``workers`` says: handing a tiny batch to a second thread costs
#: more than it saves (issue 19, scipy's backend: 6 us on one thread, 53 us on two).
SMALL_TRANSFORM_POINTS = 2**15


def transform_workers(geom: ConvGeometry, layout, workers):
    """The threads the transforms of one call get: ``workers``, or 1 below
    :data:`SMALL_TRANSFORM_POINTS`.

    Examples
    --------
    >>> from fftconv._checks import check_geometry
    >>> fir = check_geometry((1, 2000, 1), (15, 1, 1), 1, 1, "VALID", "NWC", 1, None, False)
    >>> transform_workers(fir, make_layout(fir), 2)
    1
    """
    points = geom.batch * layout.n_tiles * layout.phases * geom.in_channels * math.prod(layout.fft_shape)
    return 1 if points < SMALL_TRANSFORM_POINTS else workers


def _zero_positions(a, gaps, axis_of) -> None:
    """Zero ``a`` at each axis' gap positions (``axis_of(axis, position)``: the index of that
    position in ``a``, or None where ``a`` does not hold it)."""
    for axis, positions in enumerate(gaps):
        for p in positions:
            index = axis_of(axis, p)
            if index is not None:
                a[index] = 0


def _fold(taps: np.ndarray, lengths) -> np.ndarray:
    """Taps ``(G, K, Og, *q)`` wrapped onto ``lengths`` along each axis where ``q`` is longer:
    a circular correlation of period ``n`` sees tap ``j`` at ``j mod n``."""
    for axis, n in enumerate(lengths, start=3):
        q = taps.shape[axis]
        if q > n:
            m = -(-q // n)
            padded = np.zeros((*taps.shape[:axis], m * n, *taps.shape[axis + 1:]), taps.dtype)
            padded[(slice(None),) * axis + (slice(q),)] = taps
            taps = padded.reshape(*taps.shape[:axis], m, n, *taps.shape[axis + 1:]).sum(axis=axis)
    return taps


def complex_filters(w: np.ndarray) -> np.ndarray:
    """The complex filters ``(*kernel, C_in/G, C_out)`` of real ones embedded as pairs
    (:func:`fftconv._engine.complex.embed_filters`, ``"both"``): a new array."""
    out = np.empty((*w.shape[:-2], w.shape[-2] // 2, w.shape[-1] // 2), REAL_TO_COMPLEX[w.dtype])
    out.real, out.imag = w[..., 0::2, 0::2], w[..., 0::2, 1::2]  # input re -> output (re, im)
    return out


def complex_view(x: np.ndarray) -> np.ndarray:
    """A channels-last real input whose channels are ``(re, im)`` pairs, as complex values."""
    if x.dtype not in REAL_TO_COMPLEX:
        x = x.astype(np.float64)
    if x.strides[-1] != x.itemsize:
        x = np.ascontiguousarray(x)
    return x.view(REAL_TO_COMPLEX[x.dtype])


# -- filters ------------------------------------------------------------------

def phase_filters(w: np.ndarray, geom: ConvGeometry, layout: TileLayout) -> np.ndarray:
    """Dilated, polyphase-split filters, ``(G, P * C_in/G, C_out/G, *q)``.

    The contracted axis is ordered (phase, channel) to match the input tiles;
    only the active phases (:func:`active_phases`) are kept.
    """
    nd, g = geom.ndim, geom.groups
    q, s = layout.phase_kernel, geom.strides
    dilated = np.zeros((*[k * st for k, st in zip(q, s)], geom.group_in, geom.out_channels), w.dtype)
    dilated[tuple(slice(0, (k - 1) * d + 1, d) for k, d in zip(geom.kernel, geom.dilations))] = w
    split = dilated.reshape(*itertools.chain(*zip(q, s)), geom.group_in, g, geom.group_out)
    for axis, active in enumerate(layout.active):
        if len(active) < s[axis]:
            split = np.take(split, active, axis=2 * axis + 1)
    # (q0, s0, q1, s1, ..., Cg, G, Og) -> (G, s0, s1, ..., Cg, Og, q0, q1, ...)
    order = [2 * nd + 1, *range(1, 2 * nd, 2), 2 * nd, 2 * nd + 2, *range(0, 2 * nd, 2)]
    return split.transpose(order).reshape(g, layout.phases * geom.group_in, geom.group_out, *q)


def elementwise_mixing(geom: ConvGeometry, layout: TileLayout) -> bool:
    """Whether channels mix by elementwise products: one contracted channel per group."""
    return layout.phases * geom.group_in == 1


def batch_first(geom: ConvGeometry, layout: TileLayout, backend) -> bool:
    """Whether tiles are laid out ``(tiles, channels, *L)`` rather than ``(*L, tiles, channels)``.

    Batch-first makes every transform contiguous, which FFTW needs (it ran
    1024 strided 60x60 transforms 5x slower than contiguous ones).
    Batch-last hands pocketfft and ducc0 the layout they vectorise across
    lines: tiles are read straight from the channels-last slab and the
    inverse writes in the output's order, with no transposes, and the
    per-frequency GEMMs get their operands as they are.  With one contracted
    channel (depthwise, single-channel images) batch-last wins too wherever a
    channel axis is there to vectorise across (measured side by side with
    ducc0, 2026-11-30: a 2x128x128x32 depthwise 31x31 layer 16.5 -> 12.5 ms, a
    1024^2 image with four 63x63 filters 50.5 -> 42.7 ms); a lone channel in
    and out (1536^2, 45x45: 28.1 vs 32.3 ms) keeps contiguous transforms.
    """
    if getattr(backend, "batch_first", False):
        return True
    return elementwise_mixing(geom, layout) and geom.in_channels == 1 and geom.out_channels == 1


def prepare(w: np.ndarray, geom: ConvGeometry, layout: TileLayout, backend, workers=None):
    """The filters' conjugated spectrum, laid out for :func:`mix_channels`.

    ``(G, C_out/G, F)`` when :func:`elementwise_mixing`, else
    ``(F, G, K, C_out/G)`` with ``K = P * C_in/G``.  ``w`` is already flipped
    for true convolution and in the compute dtype.  With ``complex_pairs``
    the counts are those of the complex convolution
    (:func:`complex_geometry`).
    """
    if layout.complex_pairs:  # correlation with c is convolution with its reversal: conj(FFT(conj c))
        w, geom = np.conjugate(complex_filters(w)), complex_geometry(geom)
    transform = backend.fftn if layout.complex_pairs else backend.rfftn
    nd, g, k, og = geom.ndim, geom.groups, layout.phases * geom.group_in, geom.group_out
    taps = phase_filters(w, geom, layout)
    if layout.circular:
        taps = _fold(taps, layout.fft_shape)
    # the backend pads the kernel to the tile: only the kernel's own rows are transformed first
    if batch_first(geom, layout, backend):
        spectrum = transform(taps, tuple(range(3, 3 + nd)), workers, shape=layout.fft_shape)
        spectrum = spectrum.reshape(g, k, og, -1)
        spectrum = spectrum[:, 0] if k == 1 else np.ascontiguousarray(spectrum.transpose(3, 0, 1, 2))
    else:  # the transforms over the leading axes give (F, G, K, Og) as they are
        leading = np.ascontiguousarray(np.moveaxis(taps, range(3, 3 + nd), range(nd)))
        spectrum = transform(leading, tuple(range(nd)), workers, shape=layout.fft_shape)
        spectrum = spectrum.reshape(-1, g, k, og)
    return np.conjugate(spectrum, out=spectrum)


# -- inputs -------------------------------------------------------------------

def _gather_tiles(x, geom, layout, n0, n1, r0, r1, dtype, first, copy, workers=1):
    """Tiles ``r0:r1`` (along the first axis) of images ``n0:n1``, ready for the FFT.

    Returns a real array ``(n, *tile counts, G, *phases, C_in/G, *L)`` if
    ``first`` (see :func:`batch_first`), else ``(*L, n, *tile counts, G,
    *phases, C_in/G)``: a strided view of the zero-padded slab, or with
    ``copy`` a C-contiguous copy of it in scratch memory.
    """
    nd, s, t, lengths = geom.ndim, geom.strides, layout.tile, layout.fft_shape
    counts = (r1 - r0, *layout.tiles[1:])
    firsts = [r0 * t[0], *([0] * (nd - 1))]  # decimated index of the chunk's first sample per axis
    sizes = [(c - 1) * ti + n for c, ti, n in zip(counts, t, lengths)]  # decimated samples per axis
    phases = [len(a) for a in layout.active]
    # (n, M0, A0, M1, A1, ..., C): each spatial axis split into (decimated, active phase)
    gaps = unread_gaps(geom)
    slab = None if any(gaps) else _slab_view(x[n0:n1], geom, layout, firsts, sizes, dtype)
    if slab is None:
        slab = scratch("slab", (n1 - n0, *itertools.chain(*zip(sizes, phases)), geom.in_channels), dtype)
        in_pieces(lambda a, b: _read_slab(x[n0:n1], geom, layout, firsts, sizes, slab, a, b),
                  sizes[0], slab.size, workers)

        def slab_index(axis, p):  # padded position p = (first + j) * s + phase
            j, phase = p // s[axis] - firsts[axis], p % s[axis]
            if not 0 <= j < sizes[axis]:
                return None
            return (slice(None), *([slice(None)] * (2 * axis)), j, layout.active[axis].index(phase))

        _zero_positions(slab, gaps, slab_index)
    split = slab.reshape(*slab.shape[:-1], geom.groups, geom.group_in)
    axes = tuple(range(1, 2 * nd, 2))
    view = sliding_window_view(split, lengths, axis=axes)
    view = view[(slice(None), *itertools.chain(*((slice(None, None, ti), slice(None)) for ti in t)))]
    # view: (n, nt0, s0, nt1, s1, ..., G, Cg, L0, L1, ...) -> (n, nt..., G, s..., Cg, L...)
    last = 2 * nd + 3
    order = [0, *axes, 2 * nd + 1, *range(2, 2 * nd + 1, 2), 2 * nd + 2, *range(last, last + nd)]
    view = view.transpose(order)
    if not first:
        view = np.moveaxis(view, range(-nd, 0), range(nd))
    if not copy:
        return view
    buf = scratch("tiles", view.shape, dtype)
    np.copyto(buf, view)
    return buf


def _read_slab(x, geom, layout, firsts, sizes, slab, a, b):
    """Decimated rows ``a:b`` (along the first spatial axis) of the slab, from the padded input."""
    s, phases = geom.strides, [len(active) for active in layout.active]
    starts, counts = [f + (a if axis == 0 else 0) for axis, f in enumerate(firsts)], [b - a, *sizes[1:]]
    rows = slab[:, a:b]
    if all(p == si for p, si in zip(phases, s)):
        # every phase active: the slab (n, M0, s0, M1, s1, ..., C) is the padded box itself, read in
        # one pass (one copy per run of pads), not one strided pass per phase
        reads = [AxisRead(n, pads, used, f * si, 1, m * si) for n, pads, used, f, si, m in
                 zip(geom.spatial, geom.pads, geom.used_extent, starts, s, counts)]
        box = rows.reshape(rows.shape[0], *(m * si for m, si in zip(counts, s)), rows.shape[-1])
        read_padded(x, reads, box, geom.padding_mode)
        return
    for combo in itertools.product(*(enumerate(active) for active in layout.active)):
        reads = [AxisRead(n, pads, used, f * si + r, si, m) for (_, r), n, pads, used, f, si, m in
                 zip(combo, geom.spatial, geom.pads, geom.used_extent, starts, s, counts)]
        component = rows[(slice(None), *itertools.chain(*((slice(None), i) for i, _ in combo)))]
        read_padded(x, reads, component, geom.padding_mode)


def _circular_tiles(x, geom, n0, n1, dtype, first, copy):
    """:func:`_gather_tiles` for a circular layout: the images ``n0:n1`` themselves, one tile each,
    a view where ``x`` holds ``dtype`` and no ``copy`` is asked for."""
    nd = geom.ndim
    split = x[n0:n1].reshape(n1 - n0, *geom.spatial, geom.groups, geom.group_in)
    view = split.transpose(0, nd + 1, nd + 2, *range(1, nd + 1))  # (n, G, Cg, *L)
    view = view.reshape(n1 - n0, *([1] * nd), geom.groups, *([1] * nd), geom.group_in, *geom.spatial)
    if not first:
        view = np.moveaxis(view, range(-nd, 0), range(nd))
    gaps = _circular_gaps(geom)
    if not copy and x.dtype == dtype and not any(gaps):
        return view
    buf = scratch("tiles", view.shape, dtype)
    np.copyto(buf, view)
    spatial = range(nd) if not first else range(buf.ndim - nd, buf.ndim)
    _zero_positions(buf, gaps, lambda axis, p: (*([slice(None)] * spatial[axis]), p))
    return buf


def _slab_view(x, geom, layout, firsts, sizes, dtype):
    """The slab as a view of ``x`` itself, where the chunk reads only input samples that
    some output reads and ``x`` already holds the compute dtype; else None.

    Along each axis the slab holds decimated rows ``firsts .. firsts + sizes``
    of every active phase: a view when all ``s`` phases are active (rows
    ``[f s, (f + M) s)`` split into ``(M, s)``) or only one is.
    """
    if x.dtype != dtype or not x.dtype.isnative:
        return None
    index, shape = [slice(None)], [x.shape[0]]
    for n, (lo, _), used, s, active, f, m in zip(geom.spatial, geom.pads, geom.used_extent, geom.strides,
                                                 layout.active, firsts, sizes):
        if len(active) == s:
            start, stop = f * s, (f + m) * s  # padded positions of the whole region
            if start < lo or stop > min(lo + n, used):
                return None
            index.append(slice(start - lo, stop - lo))
            shape += [m, s]
        elif len(active) == 1:
            first, last = f * s + active[0], (f + m - 1) * s + active[0]
            if first < lo or last >= min(lo + n, used):
                return None
            index.append(slice(first - lo, last - lo + 1, s))
            shape += [m, 1]
        else:
            return None
    view = x[tuple(index)]
    return view.reshape(*shape, x.shape[-1]) if view.size else None


# -- channel mixing -----------------------------------------------------------

def mix_channels(spectra: np.ndarray, filters: np.ndarray, first: bool, workers=1) -> np.ndarray:
    """Per-frequency channel mixing of the spectra of one chunk, into scratch memory.

    Batch-first spectra ``(B, G, K, F)`` become ``(B, G, Og, F)``; batch-last
    ``(F, B, G, K)`` become ``(F, B, G, Og)``.  ``filters`` comes from
    :func:`prepare`: ``(G, Og, F)`` when ``K == 1`` (an elementwise product
    along the contiguous frequencies), else ``(F, G, K, Og)`` for one complex
    GEMM per frequency and group.  The frequencies (or, batch-first and
    elementwise, the tiles) are cut into pieces over ``workers`` threads.
    """
    dtype = np.result_type(spectra, filters)
    values = spectra.size + filters.size
    if not first:
        mixed = scratch("mixed", (*spectra.shape[:3], filters.shape[-1]), dtype)
        if spectra.shape[3] == 1:  # (F, B, G, 1) * (F, 1, G, Og): a broadcast product, no GEMM
            product = filters[:, None, :, 0, :]
            in_pieces(lambda a, b: np.multiply(spectra[a:b], product[a:b], out=mixed[a:b]),
                      len(spectra), values, workers)
        else:
            with blas_threads(1):  # the pieces are the threads
                in_pieces(lambda a, b: _mix_by_frequency(spectra[a:b], filters[a:b], mixed[a:b]),
                          len(spectra), values, workers)
        return mixed
    b, g, k, f = spectra.shape
    if k == 1:
        mixed = scratch("mixed", (b, *filters.shape), dtype)
        in_pieces(lambda p, q: np.multiply(spectra[p:q], filters[None], out=mixed[p:q]), b, values, workers)
        return mixed
    by_freq = scratch("by_frequency", (f, b, g, k), spectra.dtype)
    by_freq_mixed = scratch("mixed_by_frequency", (f, b, g, filters.shape[-1]), dtype)
    out = scratch("mixed", (b, g, filters.shape[-1], f), dtype)

    def piece(p, q):  # frequencies p:q: to (F, B, G, K), mixed, back to (B, G, Og, F)
        np.copyto(by_freq[p:q], spectra[..., p:q].transpose(3, 0, 1, 2))
        _mix_by_frequency(by_freq[p:q], filters[p:q], by_freq_mixed[p:q])
        np.copyto(out[..., p:q], by_freq_mixed[p:q].transpose(1, 2, 3, 0))

    with blas_threads(1):  # the pieces are the threads
        in_pieces(piece, f, values, workers)
    return out


def _mix_by_frequency(spectra, filters, out):
    """``(F, B, G, K) x (F, G, K, Og) -> (F, B, G, Og)`` into ``out``: batched complex GEMMs."""
    if spectra.shape[2] == 1:
        np.matmul(spectra[:, :, 0, :], filters[:, 0], out=out[:, :, 0, :])
    else:
        np.matmul(spectra.transpose(0, 2, 1, 3), filters, out=out.transpose(0, 2, 1, 3))
    return out


# -- outputs ------------------------------------------------------------------

def _scatter_tiles(tiles, out, layout, r0, r1):
    """Write the valid part of each tile into ``out`` (images of this chunk, all rows).

    ``tiles`` is ``(n, *tile counts, C_out, *L)``; the last tile along an axis
    may be cut short by the output's edge.
    """
    nd, t = len(layout.tile), layout.tile
    counts = (r1 - r0, *layout.tiles[1:])
    first = (r0, *([0] * (nd - 1)))
    sizes = out.shape[1:-1]
    parts = []
    for axis in range(nd):
        full = min(counts[axis], sizes[axis] // t[axis] - first[axis])
        axis_parts = [(0, full, t[axis])] if full > 0 else []
        if full < counts[axis]:
            axis_parts.append((full, 1, sizes[axis] - (first[axis] + full) * t[axis]))
        parts.append(axis_parts)
    # tiles (n, c0, c1, ..., O, l0, l1, ...) -> out (n, c0, l0, c1, l1, ..., O)
    order = [0, *itertools.chain(*((1 + i, nd + 2 + i) for i in range(nd))), nd + 1]
    for combo in itertools.product(*parts):
        src = tiles[(slice(None), *(slice(i0, i0 + n) for i0, n, _ in combo), slice(None),
                     *(slice(size) for _, _, size in combo))]
        dst_index = tuple(slice((f + i0) * ti, (f + i0) * ti + n * size)
                          for f, (i0, n, size), ti in zip(first, combo, t))
        dst = out[(slice(None), *dst_index)]
        dst = dst.reshape(dst.shape[0], *itertools.chain(*((n, size) for _, n, size in combo)),
                          dst.shape[-1])
        np.copyto(dst, src.transpose(order))


def _scatter_tiles_in_pieces(tiles, out, layout, r0, r1, workers):
    """:func:`_scatter_tiles` cut into pieces over ``workers`` threads: images, else rows of tiles."""
    if len(tiles) >= (workers or 1) or r1 - r0 == 1:
        in_pieces(lambda a, b: _scatter_tiles(tiles[a:b], out[a:b], layout, r0, r1), len(tiles), out.size,
                  workers)
    else:
        in_pieces(lambda a, b: _scatter_tiles(tiles[:, a:b], out, layout, r0 + a, r0 + b), r1 - r0,
                  out.size, workers)


def _scatter_circular(tiles, out, geom):
    """Write each output from the circular correlation ``tiles`` ``(n, 1.., C_out, *n)``: along an
    axis with pads ``(lo, hi)``, output ``i`` is sample ``(i - lo) mod n``, copied in runs."""
    nd = geom.ndim
    result = np.moveaxis(tiles[(slice(None), *([0] * nd))], 1, -1)  # (n, *spatial, C_out)
    if math.prod(size // n + 2 for size, n in zip(geom.out_spatial, geom.spatial)) > max(64, out.size // 256):
        # pads many periods long: one gather costs what the elements cost, not one copy per period
        index = np.ix_(*((np.arange(size) - lo) % n for size, n, (lo, _) in
                         zip(geom.out_spatial, geom.spatial, geom.pads)))
        np.copyto(out, result[(slice(None), *index)])
        return
    runs = []
    for size, n, (lo, _) in zip(geom.out_spatial, geom.spatial, geom.pads):
        axis_runs, i = [], 0
        while i < size:
            src = (i - lo) % n
            length = min(n - src, size - i)
            axis_runs.append((i, src, length))
            i += length
        runs.append(axis_runs)
    for combo in itertools.product(*runs):
        dst = (slice(None), *(slice(i, i + m) for i, _, m in combo))
        src = (slice(None), *(slice(j, j + m) for _, j, m in combo))
        np.copyto(out[dst], result[src])


def peak_bytes(geom: ConvGeometry, layout: TileLayout, itemsize: int, backend, final_copy: int = 0,
               kept_only: bool = False, input_as_is: bool = False) -> int:
    """Peak bytes :func:`prepare` and :func:`execute` allocate, the output included, followed
    by a copy of ``final_copy`` bytes (made while the scratch buffers are still kept).

    The mirror of their allocations, buffer by buffer: the filters' spectrum
    (and, while it is made, the dilated filters and the transform's
    intermediates), then the output and, per chunk of tiles (the largest
    chunk is the first), the slab, the tile copy (for backends that do not
    read strides), the spectra, the mixed spectra (and their by-frequency
    transposes, for batch-first GEMM mixing) and the inverse transforms.  With
    ``kept_only``: what is left once the call returns, its output, the
    spectrum and the scratch memory it keeps.  ``input_as_is`` says that the input
    arrives in the compute dtype (a circular layout then transforms it in place).
    """
    nd, c = geom.ndim, 2 * itemsize  # bytes of a complex value
    if layout.complex_pairs:  # complex values throughout, on the full grid of frequencies
        geom, itemsize = complex_geometry(geom), c
    k, og = layout.phases * geom.group_in, geom.group_out
    freqs = math.prod(_frequencies(layout.fft_shape, layout))
    spectrum = freqs * geom.groups * k * og * c
    taps = math.prod(q * st for q, st in zip(layout.phase_kernel, geom.strides)) * geom.group_in * \
        geom.out_channels * itemsize
    # the polyphase filters (and their batch-last copy), the zero-padded transform (pruned: its
    # first pass over the kernel's own rows only), then the batch-first reordering for GEMM mixing
    first = batch_first(geom, layout, backend)
    first_pass = spectrum * min(layout.phase_kernel[0], layout.fft_shape[0]) // layout.fft_shape[0] \
        if nd > 1 else 0
    padded_taps = geom.groups * k * og * math.prod(layout.fft_shape) * itemsize
    # the transform (with what the backend needs besides, a padded copy or a first pass), then,
    # once that is freed, the batch-first reordering for GEMM mixing beside the spectrum
    transform = spectrum + backend.extra_bytes(taps, spectrum, padded=padded_taps, first_pass=first_pass)
    making_spectrum = (1 if first else 2) * taps + max(transform, 2 * spectrum if first and k > 1 else 0)
    making_spectrum += taps if layout.complex_pairs else 0  # the complex filters, conjugated
    if layout.circular and any(q > n for q, n in zip(layout.phase_kernel, layout.fft_shape)):
        making_spectrum += taps  # the kernel folded onto the image
    n, rows = _largest_chunk(geom, layout, itemsize)
    counts = (rows, *layout.tiles[1:])
    tiles = n * math.prod(counts)
    sizes = [(ci - 1) * t + length for ci, t, length in zip(counts, layout.tile, layout.fft_shape)]
    chunk = n * math.prod(z * len(a) for z, a in zip(sizes, layout.active)) * geom.in_channels * itemsize
    points = math.prod(layout.fft_shape)
    real_in, spectra = tiles * geom.groups * k * points * itemsize, tiles * geom.groups * k * freqs * c
    mixed, real_out = tiles * geom.out_channels * freqs * c, tiles * geom.out_channels * points * itemsize
    # the buffers come in this order; each transform may need transient memory while it runs
    if layout.circular:  # no slab: the tiles are the input, copied where the backend or dtype asks
        forward = (0 if input_as_is and getattr(backend, "strided", False) else real_in) + spectra
    else:
        forward = chunk + (0 if getattr(backend, "strided", False) else real_in) + spectra
    allocated = forward + mixed + real_out
    if batch_first(geom, layout, backend) and not elementwise_mixing(geom, layout):
        allocated += tiles * freqs * (geom.groups * k + geom.out_channels) * c  # by-frequency transposes
    out = math.prod(geom.output_shape) * itemsize
    if kept_only:
        return spectrum + out + allocated
    chunk = max(forward + backend.extra_bytes(real_in, spectra),
                allocated + max(backend.extra_bytes(mixed, real_out), final_copy))
    return max(making_spectrum, spectrum + out + chunk)


def _largest_chunk(geom: ConvGeometry, layout: TileLayout, itemsize: int) -> tuple[int, int]:
    """``(images, tile rows)`` of the first (largest) chunk of :func:`execute`."""
    n0, n1, r0, r1 = next(batch_row_chunks(max(geom.batch, 1), layout.tiles[0],
                                           chunk_rows(geom, layout, itemsize)))
    return n1 - n0, r1 - r0


def chunk_rows(geom: ConvGeometry, layout: TileLayout, itemsize: int) -> int:
    """Tile rows (along the first axis) per chunk so that its buffers fit :data:`CHUNK_BYTES`."""
    per_tile = math.prod(layout.fft_shape) * itemsize * 3 * (
        layout.phases * geom.in_channels + geom.out_channels)
    per_row = per_tile * math.prod(layout.tiles[1:])
    return max(CHUNK_BYTES // max(per_row, 1), 1)


def execute(x, spectrum, geom: ConvGeometry, layout: TileLayout, backend, workers=None,
            dtype=np.float64):
    """Run the FFT method on a channels-last input; return a channels-last output.

    ``spectrum`` comes from :func:`prepare` for the same geometry and layout.
    With ``complex_pairs`` the input's and the output's channels are
    ``(re, im)`` pairs, computed as complex values in ``dtype``'s precision.
    """
    dtype = np.dtype(dtype)
    if layout.complex_pairs:
        y = _execute(complex_view(x), spectrum, complex_geometry(geom), layout, backend, workers,
                     REAL_TO_COMPLEX[dtype])
        return y.view(dtype)
    return _execute(x, spectrum, geom, layout, backend, workers, dtype)


def _execute(x, spectrum, geom, layout, backend, workers, dtype):
    """:func:`execute` in ``dtype``: real transforms for a real one, complex for a complex one."""
    nd, complex_ = geom.ndim, dtype.kind == "c"
    first = batch_first(geom, layout, backend)
    strided = getattr(backend, "strided", False)
    out = np.empty(geom.output_shape, dtype=dtype)
    for n0, n1, r0, r1 in batch_row_chunks(geom.batch, layout.tiles[0],
                                           chunk_rows(geom, layout, dtype.itemsize)):
        if layout.circular:
            tiles = _circular_tiles(x, geom, n0, n1, dtype, first, copy=not strided)
        else:
            tiles = _gather_tiles(x, geom, layout, n0, n1, r0, r1, dtype, first, copy=not strided,
                                  workers=workers)
        spatial = tuple(range(tiles.ndim - nd, tiles.ndim)) if first else tuple(range(nd))
        if complex_:
            spectra = backend.fftn(tiles, axes=spatial, workers=workers,
                                   out=scratch("spectra", tiles.shape, dtype))
        else:
            spectra = scratch("spectra", spectrum_shape(tiles.shape, spatial), REAL_TO_COMPLEX[dtype])
            spectra = backend.rfftn(tiles, axes=spatial, workers=workers, out=spectra)
        k = layout.phases * geom.group_in
        mixed = mix_channels(_flat_frequencies(spectra, nd, first, geom.groups, k), spectrum, first, workers)
        counts = (n1 - n0, r1 - r0, *layout.tiles[1:])
        if strided and not first:
            tiles = _inverse_blocked(mixed, counts, geom, layout, backend, workers)
        else:
            tiles = _inverse(mixed, counts, geom, layout, backend, workers, first)
        if layout.circular:
            _scatter_circular(tiles, out[n0:n1], geom)
        else:
            _scatter_tiles_in_pieces(tiles, out[n0:n1], layout, r0, r1, workers)
    return out


def _flat_frequencies(spectra, nd, first, groups, k):
    """Spectra with their frequency axes as one: ``(B, G, K, F)`` or ``(F, B, G, K)``."""
    if first:
        return spectra.reshape(-1, groups, k, math.prod(spectra.shape[-nd:]))
    return spectra.reshape(math.prod(spectra.shape[:nd]), -1, groups, k)


def _inverse(mixed, counts, geom, layout, backend, workers, first):
    """Inverse transforms of mixed spectra, as tiles ``(n, *tile counts, C_out, *L)``.

    ``counts`` is ``(images, *tiles per axis)`` of the chunk; batch-last tiles
    are returned as a view in that order.
    """
    nd, lengths, c_out = geom.ndim, layout.fft_shape, geom.out_channels
    freq_shape, result = _frequencies(lengths, layout), _result_dtype(mixed, layout)
    if first:
        mixed = mixed.reshape(-1, c_out, *freq_shape)
        tiles = _inverse_transform(backend, mixed, layout, tuple(range(2, 2 + nd)), workers,
                                   scratch("inverse", (*mixed.shape[:2], *lengths), result))
        return tiles.reshape(*counts, c_out, *lengths)
    mixed = mixed.reshape(*freq_shape, -1, c_out)
    tiles = _inverse_transform(backend, mixed, layout, tuple(range(nd)), workers,
                               scratch("inverse", (*lengths, *mixed.shape[nd:]), result))
    return np.moveaxis(tiles.reshape(*lengths, *counts, c_out), range(nd), range(-nd, 0))


def _frequencies(lengths, layout) -> tuple[int, ...]:
    """The spectrum's shape per tile: the last axis halved for real transforms."""
    return tuple(lengths) if layout.complex_pairs else (*lengths[:-1], lengths[-1] // 2 + 1)


def _result_dtype(mixed, layout) -> np.dtype:
    """The dtype of the inverse transforms of ``mixed``."""
    return mixed.dtype if layout.complex_pairs else COMPLEX_TO_REAL[mixed.dtype]


def kept_rows(layout: TileLayout) -> tuple[int, ...]:
    """The leading rows of each inverse transform, per axis but the last, that the scatter reads.

    Overlap-save reads the first ``tile`` rows of each tile; a circular
    correlation (``layout.circular``) reads output ``i`` from row
    ``(i - lo) mod n``, which may be any row: all are kept.
    """
    return tuple(layout.fft_shape[:-1]) if layout.circular else tuple(layout.tile[:-1])


def _inverse_transform(backend, mixed, layout, axes, workers, out):
    """The backend's inverse of ``mixed`` into ``out``, the last pass over the rows kept."""
    if layout.complex_pairs:
        return backend.ifftn(mixed, axes=axes, workers=workers, out=out, keep=kept_rows(layout))
    return backend.irfftn(mixed, layout.fft_shape, axes=axes, workers=workers, out=out,
                          keep=kept_rows(layout))


def _inverse_blocked(mixed, counts, geom, layout, backend, workers):
    """:func:`_inverse` of batch-last spectra by a backend that writes strided outputs.

    The tiles are a view ``(n, *tile counts, C_out, *L)`` of memory ordered
    ``(n, c0, L0, c1, L1, ..., C_out)``, as the channels-last output is, so
    that :func:`_scatter_tiles` copies runs of ``T * C_out`` contiguous values.
    pocketfft writes the lines of consecutive output channels together, so
    these writes are contiguous too.  (Batch-first spectra would write their
    lines ``C_out`` values apart; measured 2x slower on a 1024x1024 image.)
    """
    nd, lengths, c_out = geom.ndim, layout.fft_shape, geom.out_channels
    blocked = scratch("inverse", (counts[0], *itertools.chain(*zip(counts[1:], lengths)), c_out),
                      _result_dtype(mixed, layout))
    tiles = blocked.transpose(0, *range(1, 2 * nd, 2), 2 * nd + 1, *range(2, 2 * nd + 1, 2))
    mixed = mixed.reshape(*_frequencies(lengths, layout), *counts, c_out)
    _inverse_transform(backend, mixed, layout, tuple(range(nd)), workers,
                       np.moveaxis(tiles, range(-nd, 0), range(nd)))
    return tiles


# -- where the rounding spreads --------------------------------------------------------------

def rounding(geom: ConvGeometry, layout: TileLayout, spectrum: np.ndarray) -> Rounding:
    """The tiles of ``layout`` and the gains of the filters' spectrum (from :func:`prepare`).

    Tile ``i`` along an axis writes outputs ``[i T, (i + 1) T)`` and reads the padded
    positions ``[i T s, (i T + L) s)``: ``L`` decimated samples of every phase; a circular
    layout reads the whole used extent in one tile.  The gain of output channel ``j`` is
    ``sqrt(sum_k max_f |H_kj(f)|**2)`` over the ``K`` transformed channels of its group
    (phases times input channels), read from the prepared spectrum; for complex pairs the
    channels are complex, and the gain of a complex output channel serves both its parts.
    """
    tiles = []
    for axis, (o, s, used) in enumerate(zip(geom.out_spatial, geom.strides, geom.used_extent)):
        if layout.circular:
            tiles.append((np.array([0]), np.array([used]), np.array([0]), np.array([o])))
            continue
        t, length = layout.tile[axis], layout.fft_shape[axis]
        first = np.arange(layout.tiles[axis]) * t
        tiles.append((first * s, np.minimum((first + length) * s, used), first, np.minimum(first + t, o)))
    mags = np.abs(spectrum)
    if spectrum.ndim == 3:  # (G, Og, F): one transformed channel per group
        peak = mags.max(axis=-1)[:, None, :]  # (G, K=1, Og)
    else:  # (F, G, K, Og)
        peak = mags.max(axis=0)
    gains = np.sqrt((peak.astype(np.float64) ** 2).sum(axis=1)).reshape(-1)  # (G * Og,)
    if layout.complex_pairs:  # complex output q of a group is the real pair (2q, 2q + 1)
        gains = np.repeat(gains, 2)
    return Rounding(math.prod(layout.fft_shape), tuple(tiles), gains)


# -- integers ---------------------------------------------------------------------------

#: Rounding an FFT result to integers is trusted only below this error bound.
INTEGER_ERROR_LIMIT = 0.25


def integer_result_exact(x: np.ndarray, filters: np.ndarray, geom: ConvGeometry, layout) -> bool:
    """Whether rounding the float64 FFT result recovers the exact integer result.

    The bound: every output is a sum of ``taps * C_in/groups`` products of at
    most ``max|x| * max|w|``, and a transform of ``n`` points adds a relative
    error of at most ``8 * eps * log2(n)`` of the sum of magnitudes it carries.
    """
    if x.size == 0 or filters.size == 0:
        return True
    points = math.prod(layout.fft_shape)
    largest = float(magnitude(x)) * float(magnitude(filters))
    carried = largest * points * layout.phases * geom.group_in
    error = 8 * np.finfo(np.float64).eps * math.log2(max(points, 2)) * carried
    exact_sums = largest * math.prod(geom.kernel) * geom.group_in < 2**53
    return exact_sums and error < INTEGER_ERROR_LIMIT


# -- the method, as the engine sees it -------------------------------------------------------

class FFTMethod(Method):
    """Batched FFT overlap-save with channel GEMMs (see the module)."""

    name = "fft"
    costly_prepare = True  # every filter transformed
    local = False  # a transform spreads a NaN, and its rounding, over its tile
    integer_exact = False  # rounded to integers where integer_result_exact says that is exact
    uses_backend = True

    def plan(self, geom, itemsize, constants, *, reuse_filters=False, backend_speed=1.0, complex_pairs=False):
        if geom.is_empty:  # nothing to compute: the output is zeros
            return constants["fft_call_overhead"], None
        layout, t = best_layout(geom, itemsize, constants, with_filters=not reuse_filters,
                                complex_pairs=complex_pairs)
        overhead = constants["fft_call_overhead"]
        return overhead + backend_speed * (t - overhead), layout

    def settings(self, geom, options=None):
        options = options or {}
        return make_layout(geom, options.get("fft_shape"), options.get("complex_pairs", False))

    def seconds(self, geom, settings, itemsize, constants):
        return fft_seconds(geom, settings, itemsize, constants)

    def peak_bytes(self, geom, settings, itemsize, *, backend=None, final_copy=0, input_as_is=False,
                   contiguous_input=True, kept_only=False):
        return peak_bytes(geom, settings, itemsize, backend, final_copy, kept_only=kept_only,
                          input_as_is=input_as_is)

    def describe(self, settings):
        lay = settings
        return (f"fft tiles  {lay.tile} outputs per tile, fft shape {lay.fft_shape}, "
                f"{lay.n_tiles} tile(s) per image, {lay.phases} phase(s)")

    def prepare(self, filters, geom, settings, backend, workers):
        return prepare(filters, geom, settings, backend, transform_workers(geom, settings, workers))

    def execute(self, x, prepared, geom, settings, backend, workers, dtype):
        return execute(x, prepared, geom, settings, backend, transform_workers(geom, settings, workers), dtype)

    def gain(self, geom, settings):
        # a spectrum of P points reaches P times its largest input; an unnormalised inverse adds up to
        # sqrt(P) times the 2-norm of what it carries, over K mixed channels
        points = math.prod(settings.fft_shape)
        return points * math.sqrt(points) * settings.phases * geom.group_in

    def rounding(self, geom, settings, filters, prepared):
        return rounding(geom, settings, prepared)

    def integer_result_exact(self, x, filters, geom, settings):
        return integer_result_exact(x, filters, geom, settings)
