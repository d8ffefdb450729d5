"""The cost model's shared primitives: seconds of a GEMM and of batched transforms, from shapes.

Each method prices itself (its ``plan`` and ``seconds``) from these and the
constants it is handed (:data:`fftconv._engine.constants.DEFAULT_CONSTANTS`, or
a calibration file's), all in seconds or per-second rates for float32.
"""

from __future__ import annotations

import math

__all__ = ["gemm_seconds", "line_slowdown", "transform_seconds", "LINE_CACHE_BYTES", "LINE_CACHE_EXPONENT",
           "TRANSFORM_CACHE_BYTES"]


def gemm_seconds(m, k, n, c, itemsize=4, complex_=False):
    """Seconds of an ``(m, k) x (k, n)`` GEMM under the rate model."""
    flops = (8 if complex_ else 2) * m * k * n
    rate = c["gemm_flops"] * (4 / itemsize) * k / (k + c["gemm_half_k"]) * n / (n + c["gemm_half_n"])
    return flops / rate



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


#: A multidimensional transform whose spectrum holds more bytes than this leaves the caches:
#: each of its passes (one per axis) then reads and writes it at ``bandwidth``. Without this
#: term, pricing the transforms' lines (``fft_line_overhead``) made a 4096x4096 image with a
#: 63x63 kernel plan one 4320x4320 tile (75 MB spectrum, 441 MiB peak); CPU times side by
#: side (2026-12-07, one thread, loaded machine): that tile 218 ms, 540x540 tiles 241 ms, the
#: 540x4320 strips planned with it 210 ms (114 MiB peak); a 2048x2048 image, 31x31: 768x2160
#: strips 34.8 ms, 270x270 tiles 39.5 ms; a 1536x1536 image, 45x45, whole (9.4 MB
#: spectrum) 16.3 ms, 576x1536 strips 17.7 ms.
TRANSFORM_CACHE_BYTES = 16 * 2**20


def transform_seconds(shape, count, c, nonzero=None, itemsize=4) -> float:
    """Seconds for ``count`` real transforms of ``shape`` (forward or inverse), float32 rates.

    With ``nonzero`` (a kernel zero-padded to ``shape``) the transform is
    pruned as the backends do it: the last axis first over the kernel's rows
    only, then each earlier axis over what the later ones filled.  Lines too
    long for the caches are priced by :func:`line_slowdown` (``itemsize`` is
    that of the real data), and multidimensional transforms too large for them
    by :data:`TRANSFORM_CACHE_BYTES`.
    """
    nonzero = [min(z, n) for z, n in zip(nonzero or shape, shape)]  # a longer kernel is folded
    flops, lines = 0.0, 0
    for axis, length in enumerate(shape):
        rows = math.prod(nonzero[:axis]) * math.prod(shape[axis + 1:])
        flops += rows * length * math.log2(max(length, 2)) * line_slowdown(length, itemsize)
        lines += rows
    flops *= 2.5 / 2  # a real transform is about half a complex one: 2.5 n log2 n / 2 when full
    streamed = 0.0
    spectrum_bytes = 2 * itemsize * math.prod(shape[:-1]) * (shape[-1] // 2 + 1)
    if len(shape) > 1 and spectrum_bytes > TRANSFORM_CACHE_BYTES:  # each pass reads and writes it
        streamed = 2 * len(shape) * spectrum_bytes / c["bandwidth"]
    return count * (flops / c["fft_flops"] + lines * c["fft_line_overhead"] + streamed)
