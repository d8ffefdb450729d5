"""The cost model: predicted seconds of each method, from shapes alone.

Nothing here touches an array. :func:`estimate` prices the direct method
(multiply-adds at a GEMM rate that depends on the matrix sizes, plus the bytes
its patches move) and the FFT method (every forward, inverse and filter
transform at its real FFT size, ``n log2 n``, plus the per-frequency complex
GEMM, plus the memory traffic of gathering tiles, spectra and outputs),
choosing the FFT tile shape that minimises the FFT cost.

Unlike :func:`scipy.signal.choose_conv_method`, batch and channel axes are
not counted as convolution axes: they multiply the number of transforms and
the GEMM sizes, and overlap-save tiling is one of the candidates.

The constants live in :data:`fftconv._engine.constants.DEFAULT_CONSTANTS` (also
importable from here), with the machine, date and command that fitted them;
:mod:`fftconv.calibration` fits them on the user's machine, and a calibration
file overrides them.
"""

from __future__ import annotations

import math

from scipy.fft import next_fast_len

from fftconv._engine.constants import DEFAULT_CONSTANTS
from fftconv._shapes.geometry import ConvGeometry
from fftconv.methods import direct as _direct
from fftconv.methods import fft as _fft

def gemm_seconds(m, k, n, c, itemsize=4, complex_=False):
    """Seconds of an ``(m, k) x (k, n)`` GEMM under the rate model."""
    flops = (8 if complex_ else 2) * m * k * n
    rate = c["gemm_flops"] * (4 / itemsize) * k / (k + c["gemm_half_k"]) * n / (n + c["gemm_half_n"])
    return flops / rate


def direct_seconds(geom: ConvGeometry, itemsize: int, c, strategy=None) -> float:
    """Predicted seconds of the direct method with ``strategy`` (or its own choice)."""
    strategy = strategy or _direct.choose_strategy(geom)
    bw = c["bandwidth"] * (4 / itemsize)
    outputs = geom.batch * math.prod(geom.out_spatial)
    taps = math.prod(geom.kernel)
    pad_copy = 2 * geom.batch * math.prod(geom.used_extent) * geom.in_channels * itemsize / c["bandwidth"]
    if strategy == "taps":
        work = 3 * outputs * taps * geom.out_channels
        t = work / c["elementwise_flops"] / (4 / itemsize) + work * itemsize / bw
    elif strategy == "compiled":  # each output row in cache while every tap is added into it
        t = 2 * outputs * taps * geom.out_channels / c["compiled_flops"] / (4 / itemsize)
        t += outputs * geom.out_channels * itemsize / bw
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


#: A line of a transform whose working set (``2 * itemsize`` bytes per point for a real
#: line: the line and its spectrum) exceeds this many bytes runs slower, by
#: ``(bytes / LINE_CACHE_BYTES) ** LINE_CACHE_EXPONENT`` (see :func:`line_slowdown`).
LINE_CACHE_BYTES = 2**18
LINE_CACHE_EXPONENT = 1 / 3


def line_slowdown(length: int, itemsize: int = 4) -> float:
    """How much slower per ``n log2 n`` a 1-D line of ``length`` points transforms than a short one.

    Long lines leave the core's caches. Batched 1-D real transforms on the
    development machine (2026-11-30, 2 threads, scipy and ducc0, ``python
    benchmarks/bench_engine.py --sections lines``, two runs on a loaded
    machine) ran 1.7-3.4x slower per ``n log2 n`` at 2**20 float32 points than
    at 2048, and float64 2.0-2.1x slower at 2**18 and 3.3-4.1x at 2**20;
    shorter lines varied between runs within 1.0-1.6x. End to end, a 1e6-sample
    float32 signal with 4001 taps ran 1.57x slower on tiles of 129600 than of
    32768 (31.4 against 20.0 ms). The cube root of the working set over
    256 KiB follows these within about 30%. Rows of 2-D and 3-D tiles are far
    shorter: the factor is 1 there. ``itemsize`` is that of the real data
    (twice it for complex lines).

    Examples
    --------
    >>> [round(line_slowdown(n), 2) for n in (4096, 32768, 129600, 2**20)]
    [1.0, 1.0, 1.58, 3.17]
    """
    return max(2 * itemsize * length / LINE_CACHE_BYTES, 1.0) ** LINE_CACHE_EXPONENT


def transform_seconds(shape, count, c, nonzero=None, itemsize=4) -> float:
    """Seconds for ``count`` real transforms of ``shape`` (forward or inverse), float32 rates.

    With ``nonzero`` (a kernel zero-padded to ``shape``) the transform is
    pruned as the backends do it: the last axis first over the kernel's rows
    only, then each earlier axis over what the later ones filled.  Lines too
    long for the caches are priced by :func:`line_slowdown` (``itemsize`` is
    that of the real data).
    """
    nonzero = [min(z, n) for z, n in zip(nonzero or shape, shape)]  # a longer kernel is folded
    flops, lines = 0.0, 0
    for axis, length in enumerate(shape):
        rows = math.prod(nonzero[:axis]) * math.prod(shape[axis + 1:])
        flops += rows * length * math.log2(max(length, 2)) * line_slowdown(length, itemsize)
        lines += rows
    flops *= 2.5 / 2  # a real transform is about half a complex one: 2.5 n log2 n / 2 when full
    return count * (flops / c["fft_flops"] + lines * c["fft_line_overhead"])


def fft_seconds(geom: ConvGeometry, layout, itemsize: int, c, *, with_filters=True) -> float:
    """Predicted seconds of the FFT method with this tile layout (with or without the filters'
    transforms)."""
    bw = c["bandwidth"]
    flops_scale = 4 / itemsize  # float64 runs at half the float32 rate
    batch = geom.batch * layout.n_tiles
    k = layout.phases * geom.group_in
    freqs = math.prod(layout.fft_shape[:-1]) * (layout.fft_shape[-1] // 2 + 1)
    # transforms: a complex one of n points is two real ones, as the pairs of the embedding are
    line_bytes = itemsize * (2 if layout.complex_pairs else 1)  # a complex line holds twice the bytes
    t = transform_seconds(layout.fft_shape, batch * geom.groups * k, c, itemsize=line_bytes) / flops_scale
    t += transform_seconds(layout.fft_shape, batch * geom.out_channels, c, itemsize=line_bytes) / flops_scale
    if with_filters:
        t += filters_seconds(geom, layout, itemsize, c)
    k_mix, out_mix, og_mix = k, geom.out_channels, geom.group_out
    if layout.complex_pairs:  # complex channels mixed over the full grid of frequencies
        k_mix, out_mix, og_mix, freqs = k // 2, out_mix // 2, og_mix // 2, math.prod(layout.fft_shape)
    if k_mix == 1:
        t += 4 * freqs * batch * out_mix / c["elementwise_flops"] / flops_scale
    else:
        rate = c["cgemm_flops"] * flops_scale * batch / (batch + c["cgemm_half_m"])
        t += freqs * geom.groups * (8 * batch * k_mix * og_mix / rate + c["cgemm_call"])
    reals = math.prod(layout.fft_shape) * batch
    traffic = reals * (geom.groups * k * 4 + geom.out_channels * 4) * itemsize
    return t + traffic / bw + c["fft_call_overhead"]


def candidate_fft_shapes(geom: ConvGeometry, limit: int = 6):
    """FFT lengths worth trying per axis: tilings from small tiles to one whole tile."""
    per_axis = []
    for o, q in zip(geom.out_spatial, _fft.phase_kernel(geom)):
        whole = next_fast_len(o + q - 1, real=True)
        sizes = {whole}
        for factor in (2, 3, 4, 6, 8, 12, 16, 24, 32):
            n = next_fast_len(factor * q + 16, real=True)
            if n < whole:
                sizes.add(n)
        per_axis.append(sorted(sizes)[-limit - 1:])
    return per_axis


#: A first call with new filters transforms them too; the planner keeps it within this many
#: times the steady-state call (the later calls find the spectrum kept, see fftconv._engine.spectra).
FIRST_CALL_BUDGET = 2.0


def best_fft_layout(geom: ConvGeometry, itemsize: int, c, with_filters=True, complex_pairs=False):
    """The tile layout with the lowest predicted steady-state FFT cost, and that cost.

    The steady state is a call whose filters' spectrum is kept (a filter bank,
    or a loop of one-shot calls with the same filters). With ``with_filters``
    (one-shot calls) only layouts whose first call, filter transforms
    included, stays within :data:`FIRST_CALL_BUDGET` times their steady state
    compete; where none does, the one with the cheapest first call wins.
    The circular layout (:func:`fftconv.methods.fft.circular_layout`) competes
    where it applies.  ``complex_pairs``: see
    :func:`fftconv.methods.fft.make_layout`.
    """
    best, fallback = None, None
    layouts = [_fft.make_layout(geom, shape, complex_pairs) for shape in _product(candidate_fft_shapes(geom))]
    circular = _fft.circular_layout(geom, complex_pairs)
    for layout in layouts + ([circular] if circular is not None else []):
        steady = fft_seconds(geom, layout, itemsize, c, with_filters=False)
        if with_filters:
            first = steady + filters_seconds(geom, layout, itemsize, c)
            if fallback is None or first < fallback[2]:
                fallback = (layout, steady, first)
            if first > FIRST_CALL_BUDGET * steady:
                continue
        if best is None or steady < best[1]:
            best = (layout, steady)
    return best if best is not None else fallback[:2]


def filters_seconds(geom: ConvGeometry, layout, itemsize: int, c) -> float:
    """Predicted seconds of the filters' (pruned) transforms for this layout."""
    k = layout.phases * geom.group_in
    return transform_seconds(layout.fft_shape, geom.groups * k * geom.group_out, c,
                             layout.phase_kernel, itemsize) / (4 / itemsize)


def _product(per_axis):
    if not per_axis:
        yield ()
        return
    for head in per_axis[0]:
        for tail in _product(per_axis[1:]):
            yield (head, *tail)


def estimate(geom: ConvGeometry, itemsize: int, constants=None, *, reuse_filters=False, fft_speed=1.0,
             complex_pairs=False):
    """Predicted seconds per method, with the FFT layout and direct strategy chosen.

    The FFT method's figure is its steady state, with the filters' spectrum
    kept (as a filter bank, or a loop of one-shot calls with the same filters,
    finds it); without ``reuse_filters`` (one-shot calls) its layout is also
    chosen so that a first call, which transforms the filters, stays within
    :data:`FIRST_CALL_BUDGET` times that. ``fft_speed`` scales the FFT method's
    work (not its fixed cost per call) for a backend faster or slower than the
    one the constants were fitted on.  ``complex_pairs`` says that ``geom`` is
    the real embedding of a complex convolution with complex filters, whose
    channels the FFT method runs as complex values
    (:func:`fftconv.methods.fft.make_layout`).

    Returns ``({"direct": s, "fft": s}, {"fft": layout, "direct": strategy})``.
    """
    c = {**DEFAULT_CONSTANTS, **(constants or {})}
    strategy = _direct.choose_strategy(geom)
    if geom.is_empty:  # nothing to compute: the output is zeros, whichever method
        return {"direct": c["call_overhead"], "fft": c["fft_call_overhead"]}, {"direct": strategy, "fft": None}
    layout, t_fft = best_fft_layout(geom, itemsize, c, with_filters=not reuse_filters,
                                    complex_pairs=complex_pairs)
    t_fft = c["fft_call_overhead"] + fft_speed * (t_fft - c["fft_call_overhead"])
    return ({"direct": direct_seconds(geom, itemsize, c, strategy), "fft": t_fft},
            {"direct": strategy, "fft": layout})
