"""Streaming FIR filtering with state: :class:`StreamConvolver`.

A stream arrives in chunks of any length; each call returns the next outputs of
``y[n] = sum_k h[k] x[n - k]`` (:func:`scipy.signal.lfilter`'s definition with
``a = 1``), as many as the chunk has samples, with no latency added.

How it runs: non-uniform partitioned overlap-save
--------------------------------------------------
The filter's taps are cut into consecutive *levels*; level ``j`` covers
``P_j`` partitions of ``B_j`` taps each, from tap ``o_j`` on, with block sizes
that grow along the filter (``B_{j+1}`` a power-of-two multiple of ``B_j``).
Each level runs uniformly partitioned overlap-save (UPOLS): when a block of
``B_j`` input samples is complete, the real FFT of its ``2 B_j`` samples
window (that block and the one before) enters the level's *frequency-domain
delay line*; the sum over partitions of delay-line spectra times the kept
filter spectra, transformed back, gives ``B_j`` outputs of the level at once.

* The first level (``o_0 = 0``) runs on every call: its windows hold the
  chunk itself, the part of a block that has not arrived yet read as zeros,
  so the outputs of a block that is not complete are exact for the samples
  that have arrived (a window's transform enters the delay line only once its
  block is complete). Or, where cheaper (chunks of a few samples), the first
  ``head`` taps run directly in the time domain on every call, and every
  level is a later one.
* A later level (``o_j >= B_j``) runs only on the calls that complete one of
  its blocks: the outputs it gives then lie at or after the end of that
  block, so they are added into an accumulator of future outputs, which the
  calls read as they reach them. Large partitions far along the filter cost
  few operations per sample; small ones near its start keep the latency at
  zero.

:func:`plan_stream` chooses the levels (or the direct method alone, for short
filters) from the filter length, the planned chunk length and the channels,
with the cost model of :data:`STREAM_COSTS`. The spectra are computed once per
stream dtype; chunks of any other length run on the same plan.

Trust rules
-----------
* NaN and Inf stay local. A chunk is scanned for samples that are not finite
  or too large for the transforms (:func:`~fftconv._engine.guards.overflow_limit`'s
  bound); those samples enter the transforms as zeros. A NaN marks the
  outputs ``[s, s + taps)`` that it reaches (every output channel it feeds) as
  NaN; an Inf or a huge finite value adds its own contribution ``x[s] * h``
  to those outputs directly, with IEEE arithmetic, as :func:`~scipy.signal.lfilter`
  does. Later outputs are as clean as if the sample had been 0.
* Exact zeros: an output whose window holds only zeros (``taps`` zero samples
  in a row on every input it reads) is exactly 0.
* Integer chunks with integer (or bool) filters: computed in float64 and
  rounded to the exact integers where a bound on the transforms' rounding
  error (:data:`INTEGER_ERROR_LIMIT`) allows it, else computed by float64
  direct sums, exact while they stay below ``2**53``.
* Chunks are never modified; every result is a new array.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import zlib

import numpy as np

from fftconv import _checks
from fftconv._runtime.threads import resolve_workers
from fftconv.backends import DEFAULT_BACKEND, available_backends, get_backend
from fftconv.backends import _ducc0, _scipy

__all__ = ["StreamConvolver", "StreamPlan", "Level", "plan_stream", "STREAM_COSTS"]

#: The stream planner's cost model, in seconds: ``fft_call`` per transform call, ``fft_point`` per
#: point and ``log2`` of the length per line of a real transform (twice that for complex), ``mac``
#: per complex multiply-add of the delay line (with its temporaries), ``op`` per other numpy call,
#: ``level`` of bookkeeping per level run, ``direct_call`` and ``direct_mac`` for one
#: :func:`numpy.convolve` (per call and per real multiply-add), ``cache_bytes`` above which a
#: transform's lines run ``cache_penalty`` times slower. Measured with ducc0 on the development
#: machine (2 cores, numpy 2.4, 2026-12-07): ``python benchmarks/bench_stream.py --sections costs``
#: fitted fft_call 2.2e-6, fft_point 3.8e-10, mac 9.8e-10, op 9.7e-7, direct_call 2.6e-6 and
#: direct_mac 1.25e-10 under a load of 10 on the 2 cores; ``fft_point`` is the value measured in a
#: quiet moment of the same day (1.8e-10 to 2.3e-10 for 1,024 to 65,536 points), rounded up.
#: Side by side, the plan chosen for 96,000 taps in blocks of 256 ran faster than six others.
STREAM_COSTS = {"fft_call": 2.0e-6, "fft_point": 0.25e-9, "mac": 1.0e-9, "op": 1.0e-6, "level": 6.0e-6,
                "direct_call": 1.2e-6, "direct_mac": 0.15e-9, "cache_bytes": 2**21, "cache_penalty": 2.0}
#: Rounding a float64 result to integers is trusted only below this bound on its error.
INTEGER_ERROR_LIMIT = 0.25
#: Headroom below ``finfo.max`` for the transforms' intermediate sums (as the guards keep).
OVERFLOW_MARGIN = 16.0
#: The smallest and largest partition the planner considers.
MIN_BLOCK, MAX_BLOCK = 16, 2**16
#: The longest direct-only filter, and the longest direct head, the planner considers.
MAX_DIRECT_TAPS = 4096
#: Delay lines up to this many bins are multiplied and summed in one pass (else partition by partition).
SMALL_PRODUCTS = 2**15
#: Rows the buffers keep beyond what one call needs, at least: they shift once per so many samples.
MIN_AHEAD = 4096
#: A call longer than this many samples (or four of the largest partitions) runs in pieces.
MAX_PIECE = 2**16
_KINDS = ("single", "channel", "mimo")
_NEVER = -(2**62)  # the time of a sample that never was


# -- the plan: pure arithmetic on shapes ----------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Level:
    """One level of a partitioned filter: ``partitions`` partitions of ``block`` taps from tap ``offset``."""

    block: int
    offset: int
    partitions: int

    @property
    def end(self) -> int:
        """The tap after the level's last (may pass the filter's end: those taps are zero)."""
        return self.offset + self.partitions * self.block


@dataclasses.dataclass(frozen=True)
class StreamPlan:
    """How a :class:`StreamConvolver` runs: a direct head, then levels of partitions.

    Attributes
    ----------
    taps : int
        The filter length.
    block_size : int
        The chunk length the plan was chosen for (any length runs on it).
    head : int
        Taps computed directly, in the time domain, on every call (0: the first
        level runs on every call instead; ``taps``: the direct method alone).
    levels : tuple of Level
        The partitioned levels, in tap order. A first level with ``offset == 0``
        runs on every call; the others when one of their blocks is complete.
    seconds_per_call : float
        The cost model's prediction for a chunk of ``block_size`` samples.
    """

    taps: int
    block_size: int
    head: int
    levels: tuple
    seconds_per_call: float

    @property
    def method(self) -> str:
        """``"direct"`` (no transforms), ``"partitioned"`` or ``"direct head + partitioned"``."""
        if not self.levels:
            return "direct"
        return "direct head + partitioned" if self.head else "partitioned"

    @property
    def partitions(self) -> tuple:
        """``((block, count), ...)`` of every level, in tap order."""
        return tuple((level.block, level.partitions) for level in self.levels)

    def realtime_factor(self, rate: float) -> float:
        """How many times faster than real time the predicted cost is for ``rate`` samples a second."""
        return self.block_size / rate / self.seconds_per_call

    def __repr__(self) -> str:
        parts = []
        if self.head:
            parts.append(f"direct {self.head} taps")
        parts += [f"{level.partitions} x {level.block}" + (" (every call)" if level.offset == 0 else "")
                  for level in self.levels]
        return (f"StreamPlan(taps={self.taps}, block_size={self.block_size}: {' + '.join(parts)}; "
                f"predicted {self.seconds_per_call * 1e6:.3g} us per call)")


def _transform_seconds(points: int, lines: int, itemsize: int, complex_: bool, costs) -> float:
    """One call transforming ``lines`` lines of ``points`` points."""
    work = costs["fft_point"] * points * math.log2(max(points, 2)) * lines * (2 if complex_ else 1)
    if points * lines * itemsize * 2 > costs["cache_bytes"]:
        work *= costs["cache_penalty"]
    return costs["fft_call"] + work


class _Costs:
    """The cost of one level's runs, for one stream's channels and dtype."""

    def __init__(self, lines_in, lines_out, pairs, itemsize, complex_, costs):
        self.lines_in, self.lines_out, self.pairs = lines_in, lines_out, pairs
        self.itemsize, self.complex, self.costs = itemsize, complex_, costs

    @functools.lru_cache(maxsize=4096)
    def window(self, block: int, partitions: int) -> float:
        """Transforms and delay-line products of one window (without the per-run overhead)."""
        c = self.costs
        points = 2 * block
        bins = points if self.complex else block + 1
        fft = (_transform_seconds(points, self.lines_in, self.itemsize, self.complex, c)
               + _transform_seconds(points, self.lines_out, self.itemsize, self.complex, c) - 2 * c["fft_call"])
        return fft + c["mac"] * partitions * bins * self.pairs

    def run(self, partitions: int) -> float:
        """The fixed cost of one run of a level (a batch of windows)."""
        c = self.costs
        return 2 * c["fft_call"] + 2 * partitions * c["op"] + c["level"]

    def later(self, block: int, partitions: int, n: int) -> float:
        """Seconds per call of ``n`` samples for a later level."""
        return min(1.0, n / block) * self.run(partitions) + n / block * self.window(block, partitions)

    def first(self, block: int, partitions: int, n: int) -> float:
        """Seconds per call of ``n`` samples for a first level (windows touched by every call)."""
        windows = n / block if n % block == 0 else (n - 1) / block + 1
        return self.run(partitions) + windows * self.window(block, partitions)

    def direct(self, taps: int, n: int) -> float:
        c = self.costs
        scale = 4 if self.complex else 1
        return self.pairs * (c["direct_call"] + scale * c["direct_mac"] * n * taps)


def plan_stream(taps: int, block_size: int, channels_in: int = 1, channels_out: int = 1, kind: str = "single",
                dtype="float64", costs=None) -> StreamPlan:
    """Choose how a stream of chunks of ``block_size`` samples is filtered by ``taps`` taps.

    Pure arithmetic on shapes (no data): every candidate is costed by
    :data:`STREAM_COSTS` and the cheapest per call wins. Candidates: the direct
    method alone (short filters); a first level of ``B`` taps per partition
    run on every call (``B`` the chunk length, its halves, doubles and the
    powers of two), or a direct head of ``H`` taps; then later levels whose
    blocks double (or more) along the filter, each as early as the zero-latency
    rule (``offset >= block``) allows, as many partitions as that leaves.

    Parameters
    ----------
    taps, block_size : int
        The filter length and the planned chunk length.
    channels_in, channels_out : int
        Channels of the chunks and of the outputs.
    kind : {"single", "channel", "mimo"}
        One filter for every channel, one per channel, or a full matrix.
    dtype : dtype
        The stream's compute dtype (complex dtypes run complex transforms).
    costs : dict, optional
        Replaces :data:`STREAM_COSTS`.

    Returns
    -------
    StreamPlan

    Examples
    --------
    >>> plan_stream(31, 256)
    StreamPlan(taps=31, block_size=256: direct 31 taps; predicted 2.39 us per call)
    >>> plan = plan_stream(96000, 256, 2, 2, "channel", "float32")
    >>> plan.method, plan.levels[0].offset, plan.levels[0].block
    ('partitioned', 0, 256)
    >>> sum(count * block for block, count in plan.partitions) >= 96000
    True
    """
    costs = dict(STREAM_COSTS if costs is None else costs)
    dtype = np.dtype(dtype)
    complex_ = dtype.kind == "c"
    pairs = channels_in * channels_out if kind == "mimo" else channels_in
    model = _Costs(channels_in, channels_out, pairs, dtype.itemsize, complex_, costs)
    n = block_size
    cap = max(MIN_BLOCK, min(MAX_BLOCK, 1 << max(taps - 1, 1).bit_length()))
    best = None

    def consider(seconds, head, levels):
        nonlocal best
        if best is None or seconds < best[0]:
            best = (seconds, head, levels)

    if taps <= MAX_DIRECT_TAPS:
        consider(model.direct(taps, n), taps, ())

    def later(o, b):
        return _later_levels_cached(o, b, taps, n, cap, model)

    # a first level of `b` taps per partition, on every call
    for b in _first_blocks(n, cap):
        for p in range(1, math.ceil(taps / b) + 1):
            first = Level(b, 0, p)
            seconds = model.first(b, p, n)
            if first.end >= taps:
                consider(seconds, 0, (first,))
                break
            if best is not None and seconds >= best[0]:
                break
            for b2 in _multiples(b, first.end, cap):
                rest_seconds, rest = later(first.end, b2)
                consider(seconds + rest_seconds, 0, (first, *rest))
    # a direct head of `h` taps, then later levels
    h = MIN_BLOCK
    while h < min(taps, MAX_DIRECT_TAPS + 1):
        seconds = model.direct(h, n)
        b = MIN_BLOCK
        while b <= h:
            rest_seconds, rest = later(h, b)
            consider(seconds + rest_seconds, h, rest)
            b *= 2
        h *= 2
    seconds, head, levels = best
    return StreamPlan(taps, n, head, tuple(levels), seconds)


def _first_blocks(n: int, cap: int) -> list:
    """First-level partitions to try: the chunk length, its halves and doubles, and the powers of two."""
    blocks = {1 << k for k in range(MIN_BLOCK.bit_length() - 1, cap.bit_length())}
    b = n
    while b >= MIN_BLOCK and b % 2 == 0:
        blocks.add(b)
        b //= 2
    b = n
    while MIN_BLOCK <= b <= max(cap, n):
        blocks.add(b)
        b *= 2
    return sorted(blk for blk in blocks if blk >= MIN_BLOCK)


def _multiples(b: int, limit: int, cap: int):
    """``b``, ``2b``, ``4b``, ... up to ``limit`` (the zero-latency rule) and ``cap`` (``b`` itself always)."""
    first = b
    while b <= limit and (b <= cap or b == first):
        yield b
        b *= 2


def _later_levels(o: int, b: int, taps: int, n: int, cap: int, model: _Costs):
    """The cheapest later levels covering taps ``[o, taps)``, the first of ``b`` taps per partition
    (``b <= o``): ``(seconds per call, levels)``. Each level holds as few partitions as the next
    one's zero-latency rule allows, or as many as reach the end."""
    finish = math.ceil((taps - o) / b)
    best = (model.later(b, finish, n), (Level(b, o, finish),))
    b2 = 2 * b
    while b2 <= cap:
        p = max(1, math.ceil((b2 - o) / b))
        if o + p * b >= taps:
            break
        rest_seconds, rest = _later_levels_cached(o + p * b, b2, taps, n, cap, model)
        seconds = model.later(b, p, n) + rest_seconds
        if seconds < best[0]:
            best = (seconds, (Level(b, o, p), *rest))
        b2 *= 2
    return best


@functools.lru_cache(maxsize=4096)
def _later_levels_cached(o, b, taps, n, cap, model):
    return _later_levels(o, b, taps, n, cap, model)


# -- transforms ---------------------------------------------------------------------------------

class _Transforms:
    """Forward and inverse transforms along axis 1 of ``(m, points, C)`` arrays, through a backend:
    ducc0's and scipy's pocketfft bindings directly where present (with ``out``, no checks: the
    arrays are the convolver's own, and a call costs microseconds), else the backend's
    ``rfftn``/``irfftn``/``fftn``/``ifftn``. ``forward(a, out)`` and ``inverse(spectra, points, out)``
    (which may overwrite ``spectra``) return ``out``."""

    def __init__(self, backend: str, complex_: bool, workers: int):
        self.name = backend
        self.complex = complex_
        self.workers = workers
        if backend == "ducc0" and _ducc0.HAVE_DUCC0:
            lib, extra = _ducc0._lib(), {"allow_overwriting_input": True}
        elif backend == "scipy" and _scipy.POCKETFFT is not None:
            lib, extra = _scipy.POCKETFFT, {}
        else:
            lib = None
        backend_ = get_backend(backend)
        axes = [1]

        def threads(a):
            return workers if a.size >= 2**16 else 1

        if lib is not None and complex_:
            c2c = lib.c2c

            def forward(a, out):
                return c2c(a, axes=axes, forward=True, inorm=0, out=out, nthreads=threads(a))

            def inverse(spectra, points, out):
                return c2c(spectra, axes=axes, forward=False, inorm=2, out=out, nthreads=threads(out))
        elif lib is not None:
            r2c, c2r = lib.r2c, lib.c2r

            def forward(a, out):
                return r2c(a, axes=axes, forward=True, inorm=0, out=out, nthreads=threads(a))

            def inverse(spectra, points, out):
                return c2r(spectra, axes=axes, lastsize=points, forward=False, inorm=2, out=out,
                           nthreads=threads(out), **extra)
        else:
            def forward(a, out):
                transform = backend_.fftn if complex_ else backend_.rfftn
                np.copyto(out, transform(a, axes=(1,), workers=threads(a)))
                return out

            def inverse(spectra, points, out):
                if complex_:
                    np.copyto(out, backend_.ifftn(spectra, axes=(1,), workers=threads(out)))
                else:
                    np.copyto(out, backend_.irfftn(spectra, (points,), axes=(1,), workers=threads(out)))
                return out
        self.forward, self.inverse = forward, inverse


# -- the convolver ------------------------------------------------------------------------------

class _LevelState:
    """One level's kept spectra, its delay line and the scratch of a one-window run."""

    def __init__(self, level: Level, spectra: np.ndarray, inverse_dtype: np.dtype):
        self.level = level
        self.block = level.block
        self.spectra = spectra  # (P, F, *pairs), partitions reversed: spectra[s] meets the window s
        self.inverse_dtype = inverse_dtype  # the stream's compute dtype: real or complex
        self.line = None  # (capacity, F, C_in): spectra of complete windows, oldest first
        self.end = level.partitions - 1  # line[end - P + 1 : end] are the last P - 1 windows (zeros at first)
        self.products = self.inverse = self.terms = None

    def allocate(self, channels_in: int, channels_out: int) -> None:
        """An empty delay line (zeros: the windows before the stream began), and the scratch of a
        one-window run: its products ``(1, F, C_out)``, its inverse ``(1, 2B, C_out)`` and the
        partitions' products ``(P, F, C_out)``."""
        P = self.level.partitions
        bins = 2 * self.block if self.inverse_dtype.kind == "c" else self.block + 1
        if self.line is None or self.line.shape[2] != channels_in:
            self.line = np.zeros((2 * P + 8, bins, channels_in), self.spectra.dtype)
            self.products = np.empty((1, bins, channels_out), self.spectra.dtype)
            self.inverse = np.empty((1, 2 * self.block, channels_out), self.inverse_dtype)
            self.terms = np.empty((P, bins, channels_out), self.spectra.dtype)
        else:
            self.line[...] = 0
        self.end = P - 1


class StreamConvolver:
    """Causal FIR filtering of a stream that arrives in chunks, with state.

    ``y[n] = sum_k filters[k] x[n - k]``, :func:`scipy.signal.lfilter`'s
    definition (``a = 1``): each call takes the next chunk of ``n`` samples
    (any ``n``, even 1) and returns the next ``n`` outputs, with no latency
    added; the outputs of any chunking, concatenated, equal one
    :func:`~scipy.signal.lfilter` call over the whole signal (within
    rounding: float64 1e-12, float32 1e-5 relative).

    Long filters run as non-uniform partitioned overlap-save with the filter
    spectra kept and a frequency-domain delay line (see
    :mod:`fftconv._ops.stream`), short ones directly; :attr:`plan` says which.

    Parameters
    ----------
    filters : array_like
        ``(taps,)``: one filter, for chunks ``(n,)`` or for every channel of
        chunks ``(n, C)``. ``(taps, C)``: one filter per channel, chunks and
        outputs ``(n, C)`` (a stereo impulse response). ``(taps, C_in, C_out)``:
        a filter matrix (MIMO), chunks ``(n, C_in)``, outputs ``(n, C_out)``,
        output ``o`` the sum over ``i`` of input ``i`` filtered by
        ``filters[:, i, o]``. Real or complex, finite. A copy is kept.
    block_size : int, optional
        The chunk length to plan for (the typical one; every length works).
        ``None``: the first chunk's length, planned at the first call.
    dtype : dtype, optional
        The chunks' dtype, to plan and transform the filters now; ``None``: the
        first chunk's. The stream computes in the promotion of it and the
        filters' dtype (float32 stays float32, integers and bools give float64,
        float16 runs in float32 and returns float16); a later chunk whose dtype
        would promote to something wider is a :class:`TypeError`.
    backend : {"auto", "scipy", "pyfftw", "ducc0"}
        The FFT backend (``"auto"``: the default backend, see :doc:`/backends`).
    workers : int, optional
        Threads for transforms of 65,536 points and more (small ones run on one).

    Raises
    ------
    ValueError
        ``filters`` of a bad shape, empty, or not finite; a bad ``block_size``,
        ``workers`` or ``backend``; a chunk of the wrong shape (at the call).
    TypeError
        Non-numeric filters or chunks, or a chunk whose dtype does not fit the stream.

    See Also
    --------
    firfilter : the same filter over a whole signal, with lfilter's ``zi``.

    Notes
    -----
    Integer chunks through integer (or bool) filters give exact integers (as
    float64), as long as the exact sums fit float64: the partitioned sums are
    rounded where a bound on their error allows it, else the call's outputs
    are computed by float64 direct sums. NaN in a chunk makes exactly the
    outputs within ``taps`` samples after it NaN (on the output channels it
    feeds); Inf gives lfilter's infinities; later outputs are clean.

    Examples
    --------
    >>> import numpy as np, scipy.signal, fftconv
    >>> rng = np.random.default_rng(0)
    >>> h, x = rng.standard_normal(1000), rng.standard_normal(5000)
    >>> stream = fftconv.StreamConvolver(h, block_size=256)
    >>> y = np.concatenate([stream(chunk) for chunk in np.array_split(x, 37)])
    >>> bool(np.allclose(y, scipy.signal.lfilter(h, 1.0, x)))
    True

    A stereo impulse response, one sample at a time, then a checkpoint:

    >>> stereo = fftconv.StreamConvolver(rng.standard_normal((300, 2)), block_size=1)
    >>> stereo(np.ones((1, 2))).shape
    (1, 2)
    >>> saved = stereo.get_state()
    >>> a = stereo(np.ones((5, 2)))
    >>> stereo.set_state(saved)
    >>> bool(np.array_equal(stereo(np.ones((5, 2))), a))
    True
    """

    def __init__(self, filters, block_size=None, *, dtype=None, backend="auto", workers=None):
        w = _checks.as_array("filters", filters)
        if w.ndim not in (1, 2, 3):
            raise ValueError(f"`filters` must be 1-D (taps,), 2-D (taps, C) or 3-D (taps, C_in, C_out); got "
                             f"ndim={w.ndim} with shape {w.shape}")
        if 0 in w.shape:
            raise ValueError(f"`filters` must have at least one tap and one channel; got shape {w.shape}")
        if w.dtype.kind in "fc" and not np.isfinite(w).all():
            raise ValueError("`filters` must be finite; it holds NaN or Inf")
        self._kind = _KINDS[w.ndim - 1]
        self.filters = w.copy()  # later changes to the caller's array must not leak in
        self.filters.flags.writeable = False
        self.taps = w.shape[0]
        if self._kind == "mimo":
            self._channels = (w.shape[1], w.shape[2])
        elif self._kind == "channel":
            self._channels = (w.shape[1], w.shape[1])
        else:
            self._channels = None  # set by the first chunk: (n,) or (n, C)
        self._block_size = None if block_size is None else _checks.check_positive_int("block_size", block_size)
        self._workers = resolve_workers(workers)
        if backend == "auto":
            backend = DEFAULT_BACKEND
        self._backend = _checks.check_backend(backend, available_backends())
        self._crc = zlib.crc32(np.ascontiguousarray(self.filters).tobytes())
        self._dtype = None  # (compute, output, integer) once known
        self._squeeze = None if self._kind == "single" else False  # True for (n,) chunks
        self._plan = None
        self._plan_dtype = None  # the compute dtype of the plan's spectra
        self._prepared = None  # True once the stream's buffers exist (its first chunk)
        self._accepted = set()  # chunk dtypes checked already
        if dtype is not None:
            _checks.check_dtype("dtype", dtype)
            self._set_dtype(np.dtype(dtype))
        if self._block_size is not None:  # plan and transform the filters now, not at the first chunk
            guess = self._dtype[0] if self._dtype else _checks.result_dtypes(w.dtype, w.dtype, ("filters",) * 2)[0]
            self._make_plan(guess)

    # -- public -----------------------------------------------------------------------------------

    @property
    def plan(self) -> StreamPlan | None:
        """The :class:`StreamPlan` (None until the block size and dtype are known)."""
        return self._plan

    @property
    def dtype(self) -> np.dtype | None:
        """The dtype of the outputs (None until the first chunk or ``dtype=``)."""
        return None if self._dtype is None else self._dtype[1]

    @property
    def latency(self) -> int:
        """Samples of latency added: always 0 (each call returns the outputs of its own samples)."""
        return 0

    @property
    def samples(self) -> int:
        """Samples filtered since construction or the last :meth:`reset`."""
        return 0 if self._prepared is None else self._t

    def reset(self) -> None:
        """Forget the stream: the next chunk starts a new one (the plan and spectra are kept)."""
        if self._prepared is not None:
            self._new_buffers()

    def __call__(self, chunk) -> np.ndarray:
        """Filter the next chunk: ``(n,)`` or ``(n, C_in)`` in, the next ``n`` outputs out."""
        x = chunk if type(chunk) is np.ndarray and chunk.dtype in self._accepted else \
            _checks.as_array("chunk", chunk)
        self._accept(x)
        n = x.shape[0]
        if self._squeeze:
            out = np.empty(n, self._dtype[1])
            x = x[:, None]
        else:
            out = np.empty((n, self._channels[1]), self._dtype[1])
        if n == 0:
            return out
        if self._prepared is None:
            if self._block_size is None:
                self._block_size = n
            self._start()
        out2 = out[:, None] if self._squeeze else out
        piece = self._piece
        if n <= piece:
            self._run(x, out2)
            return out
        for start in range(0, n, piece):
            self._run(x[start:start + piece], out2[start:start + piece])
        return out

    def get_state(self) -> dict:
        """A copy of the stream's state, to resume it later with :meth:`set_state`.

        A dict of numpy arrays and Python scalars (picklable): the samples
        filtered, the input history, each level's delay line, the accumulated
        future outputs, the pending NaN outputs; and what it belongs to (the
        filters' checksum, the dtype, the plan), checked on restoring. Before
        the first chunk the state is that of a new stream.
        """
        state = {"samples": self.samples, "filters_crc": self._crc, "filters_shape": self.filters.shape,
                 "dtype": None if self._dtype is None else str(self._dtype[0]),
                 "output_dtype": None if self._dtype is None else str(self._dtype[1]),
                 "integer": None if self._dtype is None else self._dtype[2],
                 "channels": self._channels, "squeeze": self._squeeze,
                 "plan": None if self._plan is None else (self._plan.block_size, self._plan.head,
                                                          tuple(dataclasses.astuple(v) for v in self._plan.levels))}
        if self._prepared is None:
            return state
        state.update({
            "input": self._xbuf[self._t - self._keep - self._xt: self._t - self._xt].copy(),
            "lines": [lv.line[lv.end - lv.level.partitions + 1: lv.end].copy() for lv in self._levels],
            "pending": self._acc[self._t - self._at: self._t - self._at + self._reach].copy(),
            "nan_runs": [list(r) for r in self._nan_runs],
            "last_nonzero": self._last_nonzero_now().copy(),
        })
        return state

    def set_state(self, state) -> None:
        """Resume the stream saved by :meth:`get_state` (of this convolver or of one built the same
        way: the same filters, ``block_size`` and dtype). The next call continues it exactly.

        Raises
        ------
        ValueError
            A state of other filters, another dtype or plan, or not a state.
        """
        if not isinstance(state, dict) or "filters_crc" not in state:
            raise ValueError(f"`state` must be a dict from StreamConvolver.get_state(); got "
                             f"{type(state).__name__}")
        if state["filters_crc"] != self._crc or tuple(state["filters_shape"]) != self.filters.shape:
            raise ValueError("`state` belongs to a stream with other filters; a state resumes only with "
                             "the same filters")
        if state["dtype"] is None:  # a stream that had not started
            self.reset()
            return
        if self._channels is None:  # one filter, no chunk yet: the state says how many channels
            self._squeeze = state["squeeze"]
            self._channels = tuple(state["channels"])
        if self._dtype is None:
            self._dtype = (np.dtype(state["dtype"]), np.dtype(state["output_dtype"]), bool(state["integer"]))
        if self._block_size is None and state["plan"] is not None:
            self._block_size = state["plan"][0]
        mine = (str(self._dtype[0]), str(self._dtype[1]), self._dtype[2], tuple(self._channels), self._squeeze)
        theirs = (state["dtype"], state["output_dtype"], state["integer"], tuple(state["channels"]),
                  state["squeeze"])
        if mine != theirs:
            raise ValueError(f"`state` belongs to a stream of dtype {theirs[1]} and channels {theirs[3]}; "
                             f"this one has dtype {mine[1]} and channels {mine[3]}")
        if state.get("input") is None:
            self.reset()
            return
        if self._prepared is None:
            self._start()
        if self._plan_key() != state["plan"]:
            raise ValueError(f"`state` was saved under another plan ({state['plan']}); build the "
                             f"convolver with block_size={state['plan'][0]} to resume it")
        self._new_buffers(start=int(state["samples"]))
        t = self._t
        self._xbuf[t - self._keep - self._xt: t - self._xt] = state["input"]
        for lv, line in zip(self._levels, state["lines"]):
            lv.line[lv.end - lv.level.partitions + 1: lv.end] = line
        self._acc[t - self._at: t - self._at + self._reach] = state["pending"]
        self._nan_runs = [tuple(r) for r in state["nan_runs"]]
        self._last_nonzero[...] = state["last_nonzero"]
        self._quiet = self._quiet_of(self._last_nonzero)

    def __repr__(self) -> str:
        dtype = "dtype from the first chunk" if self._dtype is None else str(self._dtype[1])
        return (f"StreamConvolver(filters {self.filters.shape} {self.filters.dtype}, {dtype}, "
                f"{self.samples} samples filtered; {self._plan!r})")

    # -- setup --------------------------------------------------------------------------------------

    def _set_dtype(self, dtype: np.dtype, integer=None) -> None:
        compute, out = _checks.result_dtypes(dtype, self.filters.dtype, ("chunk", "filters"))
        if integer is None:
            integer = dtype.kind in "biu" and self.filters.dtype.kind in "biu"
        self._dtype = (compute, out, bool(integer))

    def _accept(self, x: np.ndarray) -> None:
        """Check a chunk against the stream (its first one sets what was left open)."""
        if x.ndim not in (1, 2):
            raise ValueError(f"`chunk` must be 1-D (n,) or 2-D (n, C_in); got ndim={x.ndim} with shape {x.shape}")
        if self._channels is None:  # one filter: the first chunk says how many channels
            self._channels = (1, 1) if x.ndim == 1 else (x.shape[1], x.shape[1])
            self._squeeze = x.ndim == 1
        if (x.ndim == 1) != self._squeeze or (x.ndim == 2 and x.shape[1] != self._channels[0]):
            expected = "(n,)" if self._squeeze else f"(n, {self._channels[0]})"
            raise ValueError(f"`chunk` must have shape {expected} for this stream; got shape {x.shape}")
        if x.dtype in self._accepted:
            return
        if self._dtype is None:
            self._set_dtype(x.dtype)
        else:
            compute, _, integer = self._dtype
            promoted = _checks.result_dtypes(x.dtype, self.filters.dtype, ("chunk", "filters"))[0]
            if not np.can_cast(promoted, compute, "safe") or (integer and x.dtype.kind not in "biu"):
                kind = "integer " if integer else ""
                raise TypeError(f"`chunk` has dtype {x.dtype}, but this stream computes in {kind}{compute} "
                                f"(set by its first chunk or `dtype=`); pass chunks that fit it, or build "
                                f"another convolver")
        self._accepted.add(x.dtype)

    def _plan_key(self):
        return (self._plan.block_size, self._plan.head, tuple(dataclasses.astuple(v) for v in self._plan.levels))

    def _make_plan(self, compute: np.dtype) -> None:
        """Plan for ``block_size`` and transform the filters in ``compute``'s precision (a filter of
        shape ``(taps,)`` is planned for one channel until its first chunk says more)."""
        ci, co = self._channels or (1, 1)
        self._plan = plan_stream(self.taps, self._block_size, ci, co, self._kind, compute)
        self._plan_dtype = compute
        self._fft = _Transforms(self._backend, compute.kind == "c", self._workers)
        h = self._filters_as(compute)  # (K, ci', co') with ci' = co' = 1 for "single"
        self._h = h
        self._head = self._plan.head
        self._levels = [_LevelState(level, self._level_spectra(level, h), compute) for level in self._plan.levels]
        self._first = self._levels[0] if self._levels and self._levels[0].level.offset == 0 else None
        self._later = [lv for lv in self._levels if lv is not self._first]
        self._first_block = self._first.level.block if self._first is not None else 0
        largest = self._largest_block()
        self._keep = max(self.taps - 1, 2 * largest, self._head)  # input history kept before the next sample
        self._reach = self.taps + largest  # accumulated future outputs, from the next sample on
        self._h_peak = float(np.abs(h).max())
        self._piece = max(MAX_PIECE, 4 * largest)

    def _start(self) -> None:
        """At the first chunk (dtype and channels known): the plan in the stream's dtype, the buffers."""
        compute = self._dtype[0]
        if self._plan is None or self._plan_dtype != compute:
            self._make_plan(compute)
        self._limit = self._overflow_limit(self._h, compute)
        self._limit_squared = min(self._limit, math.sqrt(float(np.finfo(compute).max)) / 4) ** 2
        self._new_buffers()
        self._prepared = True

    def _largest_block(self) -> int:
        return max((level.block for level in self._plan.levels), default=1) if self._plan else 1

    def _filters_as(self, compute) -> np.ndarray:
        w = self.filters.astype(compute)
        if self._kind == "single":
            return w.reshape(-1, 1, 1)
        if self._kind == "channel":
            return w[:, :, None]  # (K, C, 1): channel c through its own filter
        return w

    def _level_spectra(self, level: Level, h: np.ndarray) -> np.ndarray:
        """A level's spectra: partition ``p`` (taps ``offset + p B`` on) zero-padded to ``2 B`` and
        transformed, stored reversed so that ``spectra[s]`` meets the ``s``-th of the last ``P`` windows:
        ``(P, F, C)`` per channel, ``(P, F, 1)`` for one filter; for a MIMO filter ``(F, P * C_in, C_out)``,
        row ``s * C_in + i`` the partition meeting window ``s`` from input ``i``."""
        B, P = level.block, level.partitions
        compute = h.dtype
        parts = np.zeros((P * B, *h.shape[1:]), compute)
        taps = h[level.offset: level.end]
        parts[:taps.shape[0]] = taps
        padded = np.zeros((P, 2 * B, *h.shape[1:]), compute)
        padded[:, :B] = parts.reshape(P, B, *h.shape[1:])
        flat = padded.reshape(P, 2 * B, -1)
        bins = 2 * B if compute.kind == "c" else B + 1
        spectra = np.empty((P, bins, flat.shape[2]), _complex_of(compute))
        self._fft.forward(flat, spectra)
        spectra = spectra.reshape(P, bins, *h.shape[1:])[::-1]
        if self._kind == "mimo":  # (F, P * C_in, C_out): one matrix product per bin does every partition
            return np.ascontiguousarray(spectra.transpose(1, 0, 2, 3)).reshape(bins, P * h.shape[1], h.shape[2])
        return np.ascontiguousarray(spectra[..., 0])

    def _overflow_limit(self, h, compute) -> float:
        """The largest input magnitude the transforms carry without overflow (guards' bound)."""
        gain = float(np.abs(h.astype(np.complex128 if compute.kind == "c" else np.float64)).sum(axis=0).max())
        points = 2 * self._largest_block()
        gain *= points * math.sqrt(points) * self._channels[0]
        largest = float(np.finfo(compute).max)
        return largest / (OVERFLOW_MARGIN * gain) if OVERFLOW_MARGIN * gain > 1 / largest else largest

    def _new_buffers(self, start: int = 0) -> None:
        """Empty state: zeros before the first sample, nothing pending."""
        compute = self._dtype[0]
        ci, co = self._channels
        self._t = start
        ahead = max(MIN_AHEAD, 4 * max(self._block_size, self._largest_block()))
        self._xbuf = np.zeros((2 * self._keep + ahead, ci), compute)
        self._xt = start - self._keep  # time of xbuf[0]
        self._acc = np.zeros((2 * self._reach + ahead, co), compute)
        self._at = start  # time of acc[0]
        for lv in self._levels:
            lv.allocate(ci, co)
        self._nan_runs = []  # (start, stop, output channel): outputs [start, stop) are NaN
        self._last_nonzero = np.full(ci, _NEVER, np.int64)  # per input channel: its last nonzero sample
        self._quiet = _NEVER  # the earliest (MIMO: latest) of them: no zero window before it + taps
        self._all_nonzero_at = None  # a time at which every channel was nonzero, not yet in the array

    # -- one call --------------------------------------------------------------------------------

    def _room(self, n: int) -> None:
        """Make room for ``n`` more samples: input up to ``t + n + B`` (zeros ahead), outputs to
        ``t + n + reach``. The buffers shift in place (their live rows to the front, zeros after)
        when full: a copy of their history every so many calls, no new memory."""
        t = self._t
        first = self._first_block
        if t + n + first - self._xt > self._xbuf.shape[0]:
            self._xbuf, self._xt = _shifted(self._xbuf, t - self._keep - self._xt, self._keep,
                                            2 * self._keep + max(MIN_AHEAD, 4 * (n + first))), t - self._keep
        if t + n + self._reach - self._at > self._acc.shape[0]:
            self._acc, self._at = _shifted(self._acc, t - self._at, self._reach,
                                           2 * self._reach + max(MIN_AHEAD, 4 * n)), t

    def _run(self, x: np.ndarray, out: np.ndarray) -> None:
        """The next ``len(x)`` outputs, for ``x`` ``(n, C_in)``, into ``out`` ``(n, C_out)``; advances
        the stream."""
        n = x.shape[0]
        t0 = self._t
        t1 = t0 + n
        self._room(n)
        xb = self._xbuf
        i0 = t0 - self._xt
        np.copyto(xb[i0:i0 + n], x, casting="unsafe")  # the chunk itself stays untouched
        self._scan(xb[i0:i0 + n], x, t0)
        y = self._run_first(t0, t1) if self._first is not None else self._direct(self._head, t0, t1)
        for lv in self._later:
            if t1 // lv.block != t0 // lv.block:  # the call completes one of its blocks
                self._run_later(lv, t0, t1)
        a0 = t0 - self._at
        np.add(y, self._acc[a0:a0 + n], out=out)  # rows before t1 are never written again
        self._t = t1
        if self._nan_runs:
            self._apply_nan(out, t0, t1)
        self._exact_zeros(out, x, t0, t1)
        if self._dtype[2]:
            self._integers(out, t0, t1)

    def _scan(self, xb: np.ndarray, x: np.ndarray, t0: int) -> None:
        """Samples that are not finite or too large for the transforms: out of the buffer, into
        the NaN runs (NaN) or the accumulator directly (Inf, huge values)."""
        if self._dtype[2]:
            return  # integers: finite, and far below any limit in float64
        flat = xb.reshape(-1)  # whole rows of the buffer: a view
        energy = np.vdot(flat, flat).real  # one BLAS pass (no numpy warnings); NaN, Inf, overflow fail below
        if energy <= self._limit_squared:  # every |x| <= limit
            return
        bad = ~(np.abs(xb) <= self._limit)
        if not bad.any():
            return
        rows, cols = np.nonzero(bad)
        values = x[rows, cols].astype(self._dtype[0]) if x.dtype != self._dtype[0] else x[rows, cols]
        xb[rows, cols] = 0
        K = self.taps
        h = self._h
        for r, c, v in zip(rows.tolist(), cols.tolist(), values):
            s = t0 + r
            outs = self._outputs_of(c)
            if np.isnan(v):
                for o in outs:
                    self._add_nan_run(s, s + K, o)
                continue
            a = s - self._at
            with np.errstate(invalid="ignore", over="ignore"):
                if self._kind == "mimo":
                    self._acc[a:a + K] += v * h[:, c, :]
                else:
                    self._acc[a:a + K, c] += v * h[:, 0 if self._kind == "single" else c, 0]

    def _outputs_of(self, c: int):
        return range(self._channels[1]) if self._kind == "mimo" else (c,)

    def _add_nan_run(self, start: int, stop: int, o: int) -> None:
        runs = self._nan_runs
        for i in range(len(runs) - 1, -1, -1):  # merge with a run of the same channel it meets
            s, e, c = runs[i]
            if c == o and start <= e and stop >= s:
                runs[i] = (min(s, start), max(e, stop), o)
                return
        runs.append((start, stop, o))

    def _apply_nan(self, y, t0, t1) -> None:
        kept = []
        for s, e, o in self._nan_runs:
            lo, hi = max(s, t0), min(e, t1)
            if lo < hi:
                y[lo - t0:hi - t0, o] = np.nan
            if e > t1:
                kept.append((s, e, o))
        self._nan_runs = kept

    def _quiet_of(self, last) -> int:
        return int(last.max() if self._kind == "mimo" else last.min())

    def _exact_zeros(self, y, x, t0, t1) -> None:
        """Outputs whose window holds only zeros on every input they read are 0, exactly."""
        if np.count_nonzero(x) == x.size:  # no zero in the chunk: no window ending here is all zeros
            self._quiet = self._all_nonzero_at = t1 - 1
            return
        K = self.taps
        quiet = self._quiet
        last = self._last_nonzero_now()
        times = np.arange(t0, t1)
        marks = np.where(x != 0, times[:, None], _NEVER)
        latest = np.maximum(np.maximum.accumulate(marks, axis=0), last)
        last[...] = latest[-1]
        self._quiet = self._quiet_of(last)
        if quiet > t1 - 1 - K:
            return  # no output of this call can have a zero window
        if self._kind == "mimo":
            y[latest.max(axis=1) <= times - K] = 0
        else:
            y[latest <= (times - K)[:, None]] = 0

    def _last_nonzero_now(self) -> np.ndarray:
        """Per input channel, the time of its last nonzero sample (kept lazily: the common call
        only notes that every channel's last sample was nonzero)."""
        if self._all_nonzero_at is not None:
            self._last_nonzero[...] = self._all_nonzero_at
            self._all_nonzero_at = None
        return self._last_nonzero

    def _integers(self, y, t0, t1) -> None:
        """Integer streams: ``y`` rounded where the error bound allows it, else exact direct sums."""
        if self._levels:
            span = self._xbuf[max(0, t1 - self.taps - 2 * self._largest_block() - self._xt): t1 - self._xt]
            largest = float(np.abs(span).max()) * self._h_peak
            error = 0.0
            for lv in self._levels:
                points = 2 * lv.level.block
                error += (8 * np.finfo(np.float64).eps * math.log2(points) * largest * points
                          * lv.level.partitions * self._channels[0])
            if error >= INTEGER_ERROR_LIMIT and largest * self.taps * self._channels[0] < 2**53:
                y[...] = self._direct(self.taps, t0, t1)
                return
        np.rint(y, out=y)  # direct float64 sums of integers are exact already

    def _direct(self, taps: int, t0: int, t1: int) -> np.ndarray:
        """``sum_{k < taps} h[k] x[n - k]`` for ``n`` in ``[t0, t1)``, by :func:`numpy.convolve`."""
        n = t1 - t0
        xb = self._xbuf
        seg = xb[t0 - taps + 1 - self._xt: t1 - self._xt]
        h = self._h[:taps]
        ci, co = self._channels
        y = np.zeros((n, co), self._dtype[0])
        if n == 0:
            return y
        if self._kind == "mimo":
            for i in range(ci):
                xi = seg[:, i]
                for o in range(co):
                    y[:, o] += np.convolve(xi, h[:, i, o], "valid")
        else:
            for c in range(ci):
                y[:, c] = np.convolve(seg[:, c], h[:, 0 if self._kind == "single" else c, 0], "valid")
        return y

    def _windows(self, block: int, q0: int, count: int) -> np.ndarray:
        """``count`` windows of ``2 block`` samples from time ``(q0 - 1) block``, ``block`` apart: a
        view of the input buffer (C-contiguous, so the windows are plain strides over it)."""
        xb = self._xbuf
        row = xb.strides[0]
        start = (q0 - 1) * block - self._xt
        if count == 1:
            return xb[start:start + 2 * block][None]
        return np.ndarray((count, 2 * block, xb.shape[1]), xb.dtype, buffer=xb, offset=start * row,
                          strides=(block * row, row, xb.strides[1]))

    def _spectra(self, lv: _LevelState, q0: int, count: int) -> np.ndarray:
        """The transforms of ``count`` windows into the delay line after its last complete one; returns
        the line from ``P - 1`` windows before them."""
        B, P = lv.level.block, lv.level.partitions
        if lv.end + count > lv.line.shape[0]:
            old = lv.line[lv.end - P + 1: lv.end]
            cap = max(lv.line.shape[0], 2 * (P + count))
            if cap > lv.line.shape[0]:
                lv.line = np.zeros((cap, *lv.line.shape[1:]), lv.line.dtype)
            lv.line[:P - 1] = old
            lv.end = P - 1
        out = lv.line[lv.end: lv.end + count]
        self._fft.forward(self._windows(B, q0, count), out)
        return lv.line[lv.end - P + 1: lv.end + count]

    def _products(self, lv: _LevelState, line: np.ndarray, count: int) -> np.ndarray:
        """``Y[i] = sum_s line[i + s] * spectra[s]`` for the ``count`` windows: ``(count, F, C_out)``
        (for one window, in the level's own buffer: it is transformed back at once)."""
        G = lv.spectra
        if self._kind == "mimo":  # per bin, (count, P * C_in) @ (P * C_in, C_out)
            P = lv.level.partitions
            _, bins, ci = line.shape
            if count == 1:
                stacked = line.transpose(1, 0, 2).reshape(bins, 1, P * ci)
            else:  # window i is line[i:i + P]: a strided view of the delay line, then one copy
                base = lv.line
                row = base.strides[0]
                windows = np.ndarray((count, P, bins, ci), base.dtype, buffer=base,
                                     offset=(lv.end - P + 1) * row, strides=(row, *base.strides))
                stacked = windows.transpose(2, 0, 1, 3).reshape(bins, count, P * ci)
            return np.matmul(stacked, G).transpose(1, 0, 2)
        P = G.shape[0]
        if count == 1:
            y = lv.products
            if P == 1:
                np.multiply(line, G, out=y)
            elif line.size <= SMALL_PRODUCTS:  # two numpy calls where a loop would take 2P
                np.multiply(line, G, out=lv.terms)
                np.add.reduce(lv.terms, axis=0, keepdims=True, out=y)
            else:
                tmp = lv.terms[0]
                np.multiply(line[0], G[0], out=y[0])
                for s in range(1, P):
                    np.multiply(line[s], G[s], out=tmp)
                    np.add(y[0], tmp, out=y[0])
            return y
        y = line[0:count] * G[0]
        if P > 1:
            tmp = np.empty_like(y)
            for s in range(1, P):
                np.multiply(line[s:s + count], G[s], out=tmp)
                y += tmp
        return y

    def _inverse(self, lv: _LevelState, spectra: np.ndarray) -> np.ndarray:
        """The last ``B`` samples of each window's inverse: ``(count * B, C_out)`` (overwrites
        ``spectra``; for one window, a view of the level's own buffer)."""
        count, B = spectra.shape[0], lv.block
        if count == 1:
            self._fft.inverse(spectra, 2 * B, lv.inverse)
            return lv.inverse[0, B:]
        out = np.empty((count, 2 * B, spectra.shape[2]), self._dtype[0])
        self._fft.inverse(spectra, 2 * B, out)
        return out[:, B:].reshape(count * B, -1)

    def _run_first(self, t0: int, t1: int) -> np.ndarray:
        """The first level over every window the call touches (the last one may be incomplete)."""
        lv = self._first
        B = lv.level.block
        qa, qb = t0 // B, (t1 - 1) // B
        count = qb - qa + 1
        line = self._spectra(lv, qa, count)
        y = self._inverse(lv, self._products(lv, line, count))
        lv.end += t1 // B - qa  # the complete windows stay in the line
        return y[t0 - qa * B: t1 - qa * B]

    def _run_later(self, lv: _LevelState, t0: int, t1: int) -> None:
        """A later level over the blocks the call completes: into the accumulator."""
        B, o = lv.level.block, lv.level.offset
        qa, qb = t0 // B, t1 // B
        count = qb - qa
        if count <= 0:
            return
        line = self._spectra(lv, qa, count)
        y = self._inverse(lv, self._products(lv, line, count))
        lv.end += count
        a = qa * B + o - self._at
        self._acc[a:a + count * B] += y


def _shifted(buffer: np.ndarray, start: int, rows: int, capacity: int) -> np.ndarray:
    """``buffer[start:start + rows]`` moved to the front of a buffer of at least ``capacity`` rows (the
    same one where it is large enough), zeros after."""
    if capacity <= buffer.shape[0]:
        buffer[:rows] = buffer[start:start + rows]  # numpy copies overlapping rows correctly
        buffer[rows:] = 0
        return buffer
    fresh = np.zeros((capacity, *buffer.shape[1:]), buffer.dtype)
    fresh[:rows] = buffer[start:start + rows]
    return fresh


def _complex_of(dtype: np.dtype) -> np.dtype:
    dtype = np.dtype(dtype)
    if dtype.kind == "c":
        return dtype
    return np.dtype(np.complex64 if dtype.itemsize <= 4 else np.complex128)
