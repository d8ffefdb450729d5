"""The Winograd method: F(2x2, 3x3) minimal filtering for dense 2-D layers with small kernels.

Each output tile of 2x2 positions reads a 4x4 tile of the padded input ``d``
(tiles overlap by two rows and columns). With the transform matrices of Lavin
and Gray (2016)::

    B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]
    G   = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]]
    A^T = [[1, 1, 1, 0], [0, 1, -1, -1]]

the tile's outputs are ``Y_j = A^T [sum_k (G w_kj G^T) * (B^T d_k B)] A``: the
16 elementwise products of a tile, summed over the input channels ``k``, are
16 matrix products ``(tiles, C_in) @ (C_in, C_out)``, one per point of the
4x4 transform, for 16 multiply-adds per 2x2 outputs and channel pair where the
direct method needs 36 (2.25x fewer).

**Running.** :meth:`WinogradMethod.prepare` transforms the filters once
(``U = G w G^T``, in float64, rounded once to the compute dtype; a bound plan
keeps it). :func:`execute` reads the padded input's used extent once through
:func:`fftconv._shapes.padding.read_padded` (every padding mode) into a buffer
whose extra last rows and columns, which only the dropped outputs of the
partial last tiles read, are zeros; then, chunk by chunk of tiles (each chunk's
transforms about the L2 cache), the input transform (compiled where numba is
installed, else numpy over strided views), one batched GEMM
(:func:`numpy.matmul` on ``(16, tiles, C_in) @ (16, C_in, C_out)``, BLAS on one
thread), and the output transform, which writes only the wanted outputs.
Chunks are shared by ``workers`` threads (:func:`fftconv._runtime.threads.run_shared`)
on layers large enough, as the direct method's GEMM strategies do.

**Where it runs.** 2-D, groups 1, stride 1, dilation 1, kernels of at most 3x3
taps (a smaller kernel is a 3x3 one with zero taps after it: the fold of taps
that read only pads, :mod:`fftconv._shapes.fold`, can shrink a 3x3 kernel on a
tiny input). Elsewhere :meth:`WinogradMethod.plan` prices it ``inf`` and
``method="winograd"`` raises ValueError naming what it cannot run.

**Accuracy.** The method is not local: the transforms mix a tile's 16 inputs,
so a NaN spreads over its tile's outputs, and an output's rounding error
follows the largest magnitudes of its tile rather than its own window's
products. Under ``method="auto"`` it runs beneath the dynamic-range guard like
the FFT: :meth:`WinogradMethod.rounding` hands the guard its tiles and gains,
from the bound derived in :doc:`numerics` ("Winograd tiles").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from fftconv._checks import CPUS
from fftconv._runtime.scratch import scratch
from fftconv._runtime.threads import blas_threads, chunk_threads, run_shared
from fftconv._shapes.geometry import ConvGeometry
from fftconv._shapes.padding import box_reads, read_padded
from fftconv.methods import _compiled
from fftconv.methods.base import Method, Rounding
from fftconv.methods.pricing import gemm_seconds

__all__ = ["WinogradMethod", "WinogradSettings", "fits", "unsupported", "execute", "transform_filters",
           "channel_gains", "rounding", "B_T", "G", "A_T"]

#: The transforms of F(2x2, 3x3) (see the module docstring): input, filter, output.
B_T = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], dtype=np.float64)
G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]], dtype=np.float64)
A_T = np.array([[1, 1, 1, 0], [0, 1, -1, -1]], dtype=np.float64)

#: Outputs per tile along each axis (m), taps (r), and points per transform along each axis (m + r - 1).
M, R, ALPHA = 2, 3, 4
POINTS = ALPHA * ALPHA

#: Bytes of one chunk's transformed inputs and products (``16 * tiles * (C_in + C_out)``):
#: about the L2 cache, so that the GEMM reads its operands back from cache.
CHUNK_BYTES = 2**20
#: Tiles per chunk at least (the GEMMs' row count: fewer run far below BLAS's peak rate).
MIN_CHUNK_TILES = 64


@dataclass(frozen=True)
class WinogradSettings:
    """The tiling of one geometry: Winograd tiles per axis and per chunk of the GEMMs."""

    tiles: tuple  # (rows, cols) of 2x2 output tiles per image
    chunk: int  # tiles per chunk


def unsupported(geom: ConvGeometry) -> str | None:
    """Why the method cannot run ``geom`` (None where it can).

    Examples
    --------
    >>> from fftconv._checks import check_geometry
    >>> from fftconv.methods.winograd import unsupported
    >>> g = check_geometry((1, 9, 9, 4), (3, 3, 4, 8), 2, 2, "SAME", "NHWC", 1, None, False)
    >>> unsupported(g)
    'it needs strides of 1; got strides=(2, 2)'
    """
    if geom.ndim != 2:
        return f"it runs 2-D convolutions only; got a {geom.ndim}-D one"
    if any(k > R for k in geom.kernel):
        return f"it runs kernels of at most 3x3 taps; got a kernel of {'x'.join(map(str, geom.kernel))} taps"
    if any(s != 1 for s in geom.strides):
        return f"it needs strides of 1; got strides={tuple(geom.strides)}"
    if any(d != 1 and k > 1 for d, k in zip(geom.dilations, geom.kernel)):
        return f"it needs dilations of 1; got dilations={tuple(geom.dilations)}"
    if geom.groups != 1:
        return f"it needs groups=1; got groups={geom.groups}"
    return None


def fits(geom: ConvGeometry) -> bool:
    """Whether the method can run ``geom`` (:func:`unsupported` finds no reason against)."""
    return unsupported(geom) is None


def _tiles(geom: ConvGeometry) -> tuple:
    return tuple(-(-o // M) for o in geom.out_spatial)


def make_settings(geom: ConvGeometry, itemsize: int = 4, chunk: int | None = None) -> WinogradSettings:
    tiles = _tiles(geom)
    total = geom.batch * math.prod(tiles)
    if chunk is None:
        per_tile = POINTS * (geom.in_channels + geom.out_channels) * itemsize
        chunk = max(MIN_CHUNK_TILES, CHUNK_BYTES // max(per_tile, 1))
    return WinogradSettings(tiles, int(max(1, min(chunk, max(total, 1)))))


def transform_filters(w: np.ndarray, dtype) -> np.ndarray:
    """``(16, C_in, C_out)``: ``G w G^T`` of each filter (``w`` real, ``(kh, kw, C_in, C_out)``
    with ``kh, kw <= 3``, flipped already), in float64 then rounded once to ``dtype``."""
    w3 = np.zeros((R, R, *w.shape[2:]), dtype=np.float64)
    w3[:w.shape[0], :w.shape[1]] = w
    u = np.einsum("ai,ijkl,bj->abkl", G, w3, G, optimize=True)
    return np.ascontiguousarray(u.reshape(POINTS, *w.shape[2:]), dtype=dtype)


# -- the transforms of the data ----------------------------------------------------------------

if _compiled.HAVE_NUMBA:
    import numba

    @numba.njit(nogil=True, cache=True)
    def _input_tiles(xb, v, t0, t1, th, tw):  # pragma: no cover - compiled
        """``v[t - t0, p, c]`` = point ``p`` of ``B^T d B`` for tiles ``t0 <= t < t1`` of ``xb``
        ``(N, 2 th + 2, 2 tw + 2, C)``; tiles in (image, row, column) order."""
        cin = xb.shape[3]
        per_image = th * tw
        for t in range(t0, t1):
            n = t // per_image
            r = t - n * per_image
            i = 2 * (r // tw)
            j = 2 * (r - (r // tw) * tw)
            q = t - t0
            # one loop per point: a store and four loads each, which LLVM vectorises along the
            # channels (one loop of 16 stores and 16 loads needs more run-time overlap checks than
            # it makes, and stayed scalar: 2.5x slower)
            for c in range(cin):
                v[q, 0, c] = (xb[n, i, j, c] - xb[n, i + 2, j, c]) - (xb[n, i, j + 2, c] - xb[n, i + 2, j + 2, c])
            for c in range(cin):
                v[q, 1, c] = (xb[n, i, j + 1, c] - xb[n, i + 2, j + 1, c]) + (xb[n, i, j + 2, c] - xb[n, i + 2, j + 2, c])
            for c in range(cin):
                v[q, 2, c] = (xb[n, i, j + 2, c] - xb[n, i + 2, j + 2, c]) - (xb[n, i, j + 1, c] - xb[n, i + 2, j + 1, c])
            for c in range(cin):
                v[q, 3, c] = (xb[n, i, j + 1, c] - xb[n, i + 2, j + 1, c]) - (xb[n, i, j + 3, c] - xb[n, i + 2, j + 3, c])
            for c in range(cin):
                v[q, 4, c] = (xb[n, i + 1, j, c] + xb[n, i + 2, j, c]) - (xb[n, i + 1, j + 2, c] + xb[n, i + 2, j + 2, c])
            for c in range(cin):
                v[q, 5, c] = (xb[n, i + 1, j + 1, c] + xb[n, i + 2, j + 1, c]) + (xb[n, i + 1, j + 2, c] + xb[n, i + 2, j + 2, c])
            for c in range(cin):
                v[q, 6, c] = (xb[n, i + 1, j + 2, c] + xb[n, i + 2, j + 2, c]) - (xb[n, i + 1, j + 1, c] + xb[n, i + 2, j + 1, c])
            for c in range(cin):
                v[q, 7, c] = (xb[n, i + 1, j + 1, c] + xb[n, i + 2, j + 1, c]) - (xb[n, i + 1, j + 3, c] + xb[n, i + 2, j + 3, c])
            for c in range(cin):
                v[q, 8, c] = (xb[n, i + 2, j, c] - xb[n, i + 1, j, c]) - (xb[n, i + 2, j + 2, c] - xb[n, i + 1, j + 2, c])
            for c in range(cin):
                v[q, 9, c] = (xb[n, i + 2, j + 1, c] - xb[n, i + 1, j + 1, c]) + (xb[n, i + 2, j + 2, c] - xb[n, i + 1, j + 2, c])
            for c in range(cin):
                v[q, 10, c] = (xb[n, i + 2, j + 2, c] - xb[n, i + 1, j + 2, c]) - (xb[n, i + 2, j + 1, c] - xb[n, i + 1, j + 1, c])
            for c in range(cin):
                v[q, 11, c] = (xb[n, i + 2, j + 1, c] - xb[n, i + 1, j + 1, c]) - (xb[n, i + 2, j + 3, c] - xb[n, i + 1, j + 3, c])
            for c in range(cin):
                v[q, 12, c] = (xb[n, i + 1, j, c] - xb[n, i + 3, j, c]) - (xb[n, i + 1, j + 2, c] - xb[n, i + 3, j + 2, c])
            for c in range(cin):
                v[q, 13, c] = (xb[n, i + 1, j + 1, c] - xb[n, i + 3, j + 1, c]) + (xb[n, i + 1, j + 2, c] - xb[n, i + 3, j + 2, c])
            for c in range(cin):
                v[q, 14, c] = (xb[n, i + 1, j + 2, c] - xb[n, i + 3, j + 2, c]) - (xb[n, i + 1, j + 1, c] - xb[n, i + 3, j + 1, c])
            for c in range(cin):
                v[q, 15, c] = (xb[n, i + 1, j + 1, c] - xb[n, i + 3, j + 1, c]) - (xb[n, i + 1, j + 3, c] - xb[n, i + 3, j + 3, c])

    @numba.njit(nogil=True, cache=True)
    def _output_tiles(m, y, t0, t1, th, tw):  # pragma: no cover - compiled
        """The outputs ``A^T m A`` of tiles ``t0 <= t < t1`` into ``y`` ``(N, H, W, C_out)``, the
        positions beyond ``H`` or ``W`` dropped."""
        cout = y.shape[3]
        h, w = y.shape[1], y.shape[2]
        per_image = th * tw
        for t in range(t0, t1):
            n = t // per_image
            r = t - n * per_image
            i = 2 * (r // tw)
            j = 2 * (r - (r // tw) * tw)
            q = t - t0
            down, right = i + 1 < h, j + 1 < w
            for c in range(cout):
                # rows: A^T m (2 x 4)
                s0 = m[q, 0, c] + m[q, 4, c] + m[q, 8, c]
                s1 = m[q, 1, c] + m[q, 5, c] + m[q, 9, c]
                s2 = m[q, 2, c] + m[q, 6, c] + m[q, 10, c]
                s3 = m[q, 3, c] + m[q, 7, c] + m[q, 11, c]
                u0 = m[q, 4, c] - m[q, 8, c] - m[q, 12, c]
                u1 = m[q, 5, c] - m[q, 9, c] - m[q, 13, c]
                u2 = m[q, 6, c] - m[q, 10, c] - m[q, 14, c]
                u3 = m[q, 7, c] - m[q, 11, c] - m[q, 15, c]
                y[n, i, j, c] = s0 + s1 + s2
                if right:
                    y[n, i, j + 1, c] = s1 - s2 - s3
                if down:
                    y[n, i + 1, j, c] = u0 + u1 + u2
                    if right:
                        y[n, i + 1, j + 1, c] = u1 - u2 - u3


def _tile_view(xb, th, tw):
    """``(N, th, tw, 4, 4, C)``: the overlapping 4x4 input tiles of ``xb`` (a view)."""
    n, _, _, c = xb.shape
    s = xb.strides
    return np.lib.stride_tricks.as_strided(xb, (n, th, tw, ALPHA, ALPHA, c),
                                           (s[0], 2 * s[1], 2 * s[2], s[1], s[2], s[3]), writeable=False)


def _input_numpy(xb, v, t0, t1, th, tw):
    """:func:`_input_tiles` in numpy: the tiles gathered, then ``B^T d B`` along each axis."""
    d = _tile_view(xb, th, tw).reshape(-1, ALPHA, ALPHA, xb.shape[3])[t0:t1]  # (T, 4, 4, C)
    rows = (d[:, 0] - d[:, 2], d[:, 1] + d[:, 2], d[:, 2] - d[:, 1], d[:, 1] - d[:, 3])  # each (T, 4, C)
    out = v.reshape(t1 - t0, ALPHA, ALPHA, xb.shape[3])
    for a, r in enumerate(rows):
        np.subtract(r[:, 0], r[:, 2], out=out[:, a, 0])
        np.add(r[:, 1], r[:, 2], out=out[:, a, 1])
        np.subtract(r[:, 2], r[:, 1], out=out[:, a, 2])
        np.subtract(r[:, 1], r[:, 3], out=out[:, a, 3])


def _output_numpy(m, y, t0, t1, th, tw):
    """:func:`_output_tiles` in numpy."""
    mm = m.reshape(t1 - t0, ALPHA, ALPHA, m.shape[-1])
    rows = (mm[:, 0] + mm[:, 1] + mm[:, 2], mm[:, 1] - mm[:, 2] - mm[:, 3])  # each (T, 4, C)
    h, w = y.shape[1:3]
    t = np.arange(t0, t1)
    img, rest = np.divmod(t, th * tw)
    i, j = np.divmod(rest, tw)
    for a, r in enumerate(rows):
        for b, col in enumerate((r[:, 0] + r[:, 1] + r[:, 2], r[:, 1] - r[:, 2] - r[:, 3])):
            rr, cc = 2 * i + a, 2 * j + b
            keep = (rr < h) & (cc < w)
            y[img[keep], rr[keep], cc[keep]] = col[keep]


def _transforms():
    if _compiled.HAVE_NUMBA:
        return _input_tiles, _output_tiles
    return _input_numpy, _output_numpy


# -- running -------------------------------------------------------------------------------------

def _padded_tiles(x, geom, tiles, dtype):
    """The padded input's used extent (read by :func:`read_padded`, every padding mode) in a
    buffer of ``2 * tiles + 2`` rows and columns, the rows and columns beyond it zeros."""
    n, c = geom.batch, geom.in_channels
    rows, cols = (M * t + 2 for t in tiles)
    buf = scratch("winograd input", (n, rows, cols, c), dtype)
    uh, uw = geom.used_extent
    buf[:, uh:] = 0
    buf[:, :uh, uw:] = 0
    read_padded(x, box_reads(geom, (0, 0), geom.used_extent), buf[:, :uh, :uw], geom.padding_mode)
    return buf


def threads_for(geom: ConvGeometry, workers) -> int:
    """Threads over which the chunks run: as the direct method's GEMM strategies decide."""
    flops = 2 * geom.batch * math.prod(geom.out_spatial) * math.prod(geom.kernel) * geom.in_channels \
        * geom.out_channels
    return chunk_threads(flops, workers)


def execute(x: np.ndarray, u: np.ndarray, geom: ConvGeometry, settings: WinogradSettings,
            workers=None) -> np.ndarray:
    """Convolve a channels-last input with the transformed filters ``u`` (:func:`transform_filters`);
    return a new channels-last output in ``u``'s dtype."""
    dtype = u.dtype
    th, tw = settings.tiles
    xb = _padded_tiles(x, geom, settings.tiles, dtype)
    y = np.empty(geom.output_shape, dtype=dtype)
    total, chunk = geom.batch * th * tw, settings.chunk
    threads = threads_for(geom, workers)
    if threads > 1:  # at least two chunks per thread where that leaves them MIN_CHUNK_TILES or more
        chunk = max(min(chunk, -(-total // (2 * threads))), min(MIN_CHUNK_TILES, chunk))
    starts = range(0, total, chunk)
    threads = threads if len(starts) >= 2 else 1
    forward, backward = _transforms()
    c_in, c_out = geom.in_channels, geom.out_channels

    def piece(k):
        t0 = starts[k]
        t1 = min(t0 + chunk, total)
        # (tiles, 16, C): each tile's points together (16 planes of one chunk apart would alias
        # in the L1 cache); the GEMMs read them as (16, tiles, C) with a row step of 16 C
        v = scratch("winograd points", (t1 - t0, POINTS, c_in), dtype)
        forward(xb, v, t0, t1, th, tw)
        m = scratch("winograd products", (t1 - t0, POINTS, c_out), dtype)
        np.matmul(v.transpose(1, 0, 2), u, out=m.transpose(1, 0, 2))
        backward(m, y, t0, t1, th, tw)

    with blas_threads(1):
        run_shared(piece, len(starts), threads)
    return y


# -- pricing and memory --------------------------------------------------------------------------

def seconds(geom: ConvGeometry, settings: WinogradSettings, itemsize: int, c) -> float:
    """Predicted seconds: the 16 GEMMs of every chunk at the GEMM model's rate, the transforms at
    ``winograd_transform_rate`` values per second (input and output values of the transforms,
    float32; float64 at half), the padded copy and the guard's statistics at ``bandwidth``, and
    ``fft_call_overhead`` (a call under the guards, as the FFT's)."""
    th, tw = settings.tiles
    total = geom.batch * th * tw
    chunks = -(-total // settings.chunk)
    gemm = POINTS * chunks * gemm_seconds(min(settings.chunk, total), geom.in_channels, geom.out_channels,
                                          c, itemsize)
    values = POINTS * total * (geom.in_channels + geom.out_channels)
    transforms = values / c["winograd_transform_rate"] * (itemsize / 4)
    padded = 2 * geom.batch * (M * th + 2) * (M * tw + 2) * geom.in_channels * itemsize / c["bandwidth"]
    # the dynamic-range guard under auto: the FFT's fixed cost per call (which counts its guards),
    # and its statistics of the input, about four copies' worth (0.1-0.8 ms measured, 1-11% of
    # the calls of 2x192x192x16 to 16x7x7x256 layers, tiles of 2x2 Winograd tiles)
    guard = 4 * geom.batch * math.prod(geom.spatial) * geom.in_channels * itemsize / c["bandwidth"]
    return c["winograd_gemm_factor"] * gemm + transforms + padded + guard + c["fft_call_overhead"]


def peak_bytes(geom: ConvGeometry, settings: WinogradSettings, itemsize: int, final_copy: int = 0,
               kept_only: bool = False) -> int:
    """The padded tiles' buffer, the transformed filters, the output, and per thread one chunk's
    transformed inputs and products (all but the output and filters kept in scratch)."""
    th, tw = settings.tiles
    padded = geom.batch * (M * th + 2) * (M * tw + 2) * geom.in_channels * itemsize
    filters = POINTS * geom.in_channels * geom.out_channels * itemsize
    chunk = POINTS * settings.chunk * (geom.in_channels + geom.out_channels) * itemsize * CPUS
    out = math.prod(geom.output_shape) * itemsize
    return padded + filters + chunk + out + (0 if kept_only else final_copy)


# -- accuracy -------------------------------------------------------------------------------------

#: Bound of ``|B^T d B|`` over the tile's largest ``|d|``: every row of ``|B^T|`` sums to 2.
INPUT_GROWTH = 4.0
#: The constant of the guard's error model of a tile (see :func:`rounding` and :doc:`numerics`):
#: the largest ratio of a measured error to the model with constant 1 was 0.069 (one input
#: channel, uniform positive data; 0.005-0.06 on normal, checkerboard, bright/faint, sparse-spike
#: and Cauchy data of 1-64 channels, float32), taken with a margin of about 3.6.
KAPPA_WINOGRAD = 0.25


def channel_gains(u: np.ndarray) -> np.ndarray:
    """``(C_in, C_out)``: per input channel ``k`` and output channel ``j``, :data:`INPUT_GROWTH`
    times ``max`` over the tile's four outputs of ``sum_p |A^T|_p |U_kjp| |A|_p`` (``U`` the
    transformed filters ``(16, C_in, C_out)``): the largest factor by which a tile of channel
    ``k`` with inputs at most ``peak`` reaches output ``j`` through the transforms' magnitudes,
    ``|A^T| (|U_kj| * |B^T| |d_k| |B|) |A| <= peak * channel_gains[k, j]``."""
    a = np.abs(A_T)
    mags = np.abs(u.astype(np.float64)).reshape(ALPHA, ALPHA, *u.shape[1:])
    per_output = np.einsum("ap,pqkj,bq->abkj", a, mags, a, optimize=True)  # (2, 2, C_in, C_out)
    return INPUT_GROWTH * per_output.reshape(M * M, *u.shape[1:]).max(axis=0)


#: Winograd tiles per guard tile along each axis: the guard's statistics of a block of
#: ``GUARD_GROUP**2`` tiles (their energy and peak, which bound each tile's) cost a quarter of
#: those of every tile (on 2x192x192x16 the guard took 17% of the call tile by tile).
GUARD_GROUP = 2


def rounding(geom: ConvGeometry, settings: WinogradSettings, u: np.ndarray) -> Rounding:
    """The guard's view of the method: tiles of :data:`GUARD_GROUP` Winograd tiles per axis (each
    Winograd tile reads 4x4 padded positions and writes 2x2 outputs), ``points = 16`` (the energy
    of a guard tile over 16 bounds every Winograd tile's in it), and gains ``KAPPA_WINOGRAD *
    sqrt(sum_k channel_gains[k, j]**2)``: the channels' worst-case factors combined as the FFT's
    spectra are (:doc:`numerics`, "Winograd tiles")."""
    tiles, step = [], M * GUARD_GROUP
    for o, used in zip(geom.out_spatial, geom.used_extent):
        first = np.arange(0, max(o, 1), step)
        tiles.append((first, np.minimum(first + step + R - 1, used), first, np.minimum(first + step, o)))
    gains = KAPPA_WINOGRAD * np.sqrt(np.square(channel_gains(u)).sum(axis=0))
    return Rounding(POINTS, tuple(tiles), gains)


# -- the method, as the engine sees it -------------------------------------------------------

class WinogradMethod(Method):
    """F(2x2, 3x3) Winograd tiles with batched GEMMs (see the module)."""

    name = "winograd"
    costly_prepare = True  # the filters transformed (16 / 9 of their size)
    local = False  # a tile's transforms mix its inputs: NaN and rounding spread over the tile
    integer_exact = False  # rounded to integers only where integer_result_exact says so

    def plan(self, geom, itemsize, constants, *, reuse_filters=False, backend_speed=1.0, complex_pairs=False):
        if not fits(geom):
            return math.inf, None
        settings = make_settings(geom, itemsize)
        if geom.kernel != (R, R):  # smaller kernels run by name only: a fraction of the direct GEMM's work
            return math.inf, settings
        if geom.is_empty:
            return constants["call_overhead"], settings
        t = seconds(geom, settings, itemsize, constants)
        if not reuse_filters:
            t += 2 * POINTS * geom.in_channels * geom.out_channels * itemsize / constants["bandwidth"]
        return t, settings

    def unsupported(self, geom):
        return unsupported(geom)

    def settings(self, geom, options=None):
        if not fits(geom):
            return None
        return make_settings(geom, chunk=(options or {}).get("chunk"))

    def seconds(self, geom, settings, itemsize, constants):
        return math.inf if settings is None else seconds(geom, settings, itemsize, constants)

    def peak_bytes(self, geom, settings, itemsize, *, backend=None, final_copy=0, input_as_is=False,
                   contiguous_input=True, kept_only=False):
        if settings is None:
            return 0
        return peak_bytes(geom, settings, itemsize, final_copy, kept_only)

    def describe(self, settings):
        if settings is None:
            return "winograd   (cannot run these shapes)"
        return f"winograd   F(2x2,3x3), {settings.tiles} tiles per image, {settings.chunk} per GEMM"

    def prepare(self, filters, geom, settings, backend, workers):
        return transform_filters(filters, filters.dtype)

    def execute(self, x, prepared, geom, settings, backend, workers, dtype):
        if geom.is_empty:
            return np.zeros(geom.output_shape, dtype=dtype)
        return execute(x, prepared, geom, settings, workers)

    def gain(self, geom, settings):
        # |B^T d B| <= 4 max|d|; |G w G^T| <= sum|w| per point; the output transform adds 3x3 points
        return INPUT_GROWTH * 9.0

    def rounding(self, geom, settings, filters, prepared):
        return rounding(geom, settings, prepared)

    def integer_result_exact(self, x, filters, geom, settings):
        return False  # the guards' exact integer path runs instead
