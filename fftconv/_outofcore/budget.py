"""The memory bound of an out-of-core run, term by term, and chunks chosen for a budget."""

from __future__ import annotations

import itertools
import math
import re

import numpy as np

from fftconv import _checks
from fftconv._ops.forward import FilterBank
from fftconv._outofcore import shells
from fftconv._outofcore.job import KEPT_PLANS, StreamJob
from fftconv._outofcore.tables import _order, _spatial
from fftconv._shapes.chunks import boundaries, output_chunks

#: The process itself: Python, numpy, scipy, dask, zarr and fftconv imported (192 MiB of resident
#: memory measured on the development machine, 2026-12-07, numba and ducc0 loaded; a dask.distributed
#: worker process more).
BASE_BYTES = 256 * 2**20


_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9,
          "t": 10**12, "tb": 10**12, "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def parse_bytes(value, name: str = "memory") -> int:
    """A number of bytes from an int or a string such as ``"4GiB"``, ``"512 MiB"`` or ``"2e9"``.

    Examples
    --------
    >>> parse_bytes("4GiB"), parse_bytes("1.5 GB"), parse_bytes(1000)
    (4294967296, 1500000000, 1000)
    >>> parse_bytes("lots")
    Traceback (most recent call last):
    ...
    ValueError: `memory` must be a positive number of bytes, an int or a string such as '4GiB', '512MiB' or '2e9'; got 'lots'
    """
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        nbytes = int(value)
    else:
        match = re.fullmatch(r"\s*([0-9.]+(?:e[0-9]+)?)\s*([a-z]*)\s*", str(value).lower())
        unit = _UNITS.get(match.group(2)) if match else None
        try:
            nbytes = int(float(match.group(1)) * unit) if unit else -1
        except ValueError:
            nbytes = -1
    if nbytes <= 0:
        raise ValueError(f"`{name}` must be a positive number of bytes, an int or a string such as "
                         f"'4GiB', '512MiB' or '2e9'; got {value!r}")
    return nbytes


def _gib(nbytes: float) -> str:
    """A size for a message: ``"3.25 GiB"`` or ``"412 MiB"``."""
    return f"{nbytes / 2**30:.2f} GiB" if nbytes >= 2**30 else f"{nbytes / 2**20:.0f} MiB"


# -- the memory bound ------------------------------------------------------------------------------

def _spectrum_bytes(plan) -> int:
    """What a bound plan keeps per window shape: its filters' spectrum (or the filters themselves)."""
    settings = plan.settings.get(plan.method)
    geom = plan.run_geometry
    itemsize = np.dtype(plan.real_dtype).itemsize
    fft_shape = getattr(settings, "fft_shape", None)
    if fft_shape is None:
        return math.prod(plan.filters_shape) * itemsize
    freqs = math.prod(fft_shape[:-1]) * (fft_shape[-1] // 2 + 1)
    return freqs * settings.phases * geom.group_in * geom.out_channels * 2 * itemsize


def predicted_peak(job: StreamJob, workers: int, shells_bytes: int) -> dict:
    """The memory bound of ``job`` run by ``workers`` tasks at once in one process, term by term.

    ``peak = base + workers * (task + write) + shells + other_plans`` where
    ``task`` is the larger of ``2 * chunk + 2 * window`` (the home chunk, a
    neighbour read for its shell, the window and the slabs it reads) and
    ``window + engine`` (the engine's own predicted peak for one window: its
    output, the filters' spectrum and its transform buffers); ``write`` is
    ``2 * block``, an output block waiting for its write and the encoded copy
    the store makes of it; ``other_plans`` are the spectra kept for the other
    window shapes.
    """
    return _predict(job._bank, job.window_shapes(), job.in_chunks, job.channels_first, job.geom, job.dtype,
                    workers, shells_bytes, job.kept_plans)


def _predict(bank, window_shapes, in_chunks, channels_first, geom, dtype, workers, shells_bytes,
             kept_plans) -> dict:
    itemsize = dtype.itemsize
    chunk = max(in_chunks[0]) * math.prod(max(c) for c in _spatial(in_chunks, channels_first)) * \
        geom.in_channels * itemsize
    window = engine = 0
    spectra = []
    for shape in window_shapes:
        if 0 in shape:
            continue
        plan = bank.plan_for(shape, dtype)
        window = max(window, math.prod(shape) * itemsize)
        engine = max(engine, plan.peak_bytes)
        spectra.append(_spectrum_bytes(plan))
    spectra.sort(reverse=True)
    task = max(2 * chunk + 2 * window, window + engine)
    out_itemsize = _checks.result_dtypes(dtype, bank.filters.dtype)[1].itemsize
    first = 2 if channels_first else 1
    block = max(in_chunks[0]) * geom.out_channels * out_itemsize * math.prod(
        max(output_chunks(in_chunks[first + a], geom.out_spatial[a], geom.strides[a])) for a in range(geom.ndim))
    write = 2 * block
    others = sum(spectra[1:kept_plans])
    total = BASE_BYTES + workers * (task + write) + shells_bytes + others
    return {"peak": total, "base": BASE_BYTES, "workers": workers, "task": task, "write": write,
            "chunk": chunk, "window": window, "engine": engine, "shells": shells_bytes, "other_plans": others,
            "window_shapes": len(spectra)}


# -- choosing chunks for a budget --------------------------------------------------------------------

def _candidates(n: int, stride: int, base: int | None) -> list[int]:
    """Chunk sizes to try along one axis: multiples of ``base`` (the storage chunks) or round numbers,
    divisible by the stride, at most ``n``."""
    step = math.lcm(stride, base or 1)
    sizes = set()
    size = step
    while size < n:
        sizes.add(size)
        size = size * 2 if base is None or size >= 8 * step else size + step
    for m in (16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096,
              6144, 8192, 12288, 16384):
        if m % step == 0 and m < n:
            sizes.add(m)
    sizes.add(n)
    return sorted(sizes)


def choose_chunks(bank, input_shape, geom, channels_first, dtype, memory, workers, shells_bytes,
                  storage_chunks=None, kept_plans=KEPT_PLANS, name="memory"):
    """``(chunk shape, chunks, prediction)``: the largest chunks whose predicted peak fits ``memory``.

    Chunks are alike along the spatial axes (cubes, squares), divisible by the
    stride, made of whole storage chunks when ``storage_chunks`` (a chunk
    shape) is given, and leave at least ``workers`` blocks to run at once where
    the array allows. Batch chunks hold one image; channels are one chunk.
    """
    spatial = list(_spatial(input_shape, channels_first))
    base = list(_spatial(storage_chunks, channels_first)) if storage_chunks else [None] * len(spatial)
    per_axis = [_candidates(n, s, b) for n, s, b in zip(spatial, geom.strides, base)]
    tried = []
    for target in sorted({c for cands in per_axis for c in cands}):
        sizes = tuple(max([c for c in cands if c <= target] or [cands[0]]) for cands in per_axis)
        if tried and sizes == tried[-1][0]:
            continue
        chunks = _order((1,) * input_shape[0] if input_shape[0] else (0,),
                        [_regular(n, c) for n, c in zip(spatial, sizes)], (geom.in_channels,), channels_first)
        pred = _predict(bank, _window_shapes(chunks, geom, channels_first), chunks, channels_first, geom,
                        dtype, workers, shells_bytes, kept_plans)
        blocks = max(input_shape[0], 1) * math.prod(-(-n // c) if n else 1 for n, c in zip(spatial, sizes))
        tried.append((sizes, chunks, pred, blocks))
    fitting = [t for t in tried if t[2]["peak"] <= memory]
    if not fitting:
        sizes, _, pred, _ = tried[0]
        raise ValueError(
            f"`{name}`={_gib(memory)} is too small for this convolution with {workers} worker(s): the "
            f"smallest chunks tried, {sizes}, need about {_gib(pred['peak'])} ({_terms(pred)}); give "
            f"more memory or fewer workers")
    enough = [t for t in fitting if t[3] >= workers] or fitting
    sizes, chunks, pred, _ = max(enough, key=lambda t: math.prod(t[0]))
    shape = _order(1 if input_shape[0] else 0, sizes, geom.in_channels, channels_first)
    return shape, chunks, pred


def _regular(n: int, c: int) -> tuple:
    if n == 0:
        return (0,)
    return (c,) * (n // c) + ((n % c,) if n % c else ())


def _window_shapes(chunks, geom, channels_first) -> dict:
    first = 2 if channels_first else 1
    lengths = []
    for a in range(geom.ndim):
        ax_chunks = chunks[first + a]
        out = output_chunks(ax_chunks, geom.out_spatial[a], geom.strides[a])
        bounds = boundaries(out)
        lengths.append(sorted({(o1 - o0 - 1) * geom.strides[a] + geom.eff_kernel[a]
                               for o0, o1 in zip(bounds, bounds[1:]) if o1 > o0} or {0}))
    shapes = {}
    for nb in set(chunks[0]):
        for combo in itertools.product(*lengths):
            shapes[_order(nb, combo, geom.in_channels, channels_first)] = 1
    return shapes


def _terms(pred: dict) -> str:
    return (f"base {_gib(pred['base'])} + {pred['workers']} x (task {_gib(pred['task'])} + write "
            f"{_gib(pred['write'])}) + shells "
            f"{_gib(pred['shells'])} + other plans {_gib(pred['other_plans'])}")


# -- shapes of plain arrays -----------------------------------------------------------------------

#: data_format values of arrays without batch and channel axes: one image, one channel.
PLAIN_FORMATS = {1: "W", 2: "HW", 3: "DHW"}


def layout(input_shape, filters_shape, data_format, names=("input", "filters")):
    """``(full input shape, full filters shape, ndim, full data_format, plain)``.

    ``data_format`` ``"W"``, ``"HW"`` or ``"DHW"`` (or None with an input and
    filters of one and the same ndim, 1 to 3) mean a plain array and a plain
    kernel: they are seen as ``(1, *shape, 1)`` and ``(*kernel, 1, 1)``.
    Otherwise the layouts of :func:`fftconv.conv2d` and kin apply.
    """
    input_shape, filters_shape = tuple(input_shape), tuple(filters_shape)
    if data_format is None and len(input_shape) == len(filters_shape) and 1 <= len(input_shape) <= 3:
        data_format = PLAIN_FORMATS[len(input_shape)]
    if data_format in PLAIN_FORMATS.values():
        nd = len(data_format)
        for name, shape in zip(names, (input_shape, filters_shape)):
            if len(shape) != nd:
                raise ValueError(f"`{name}` must be {nd}-D for data_format={data_format!r} (a plain array "
                                 f"and a plain kernel); got shape {shape}")
        full_format = _checks.DATA_FORMATS[nd][0]
        return (1, *input_shape, 1), (*filters_shape, 1, 1), nd, full_format, True
    nd = len(filters_shape) - 2
    if nd not in (1, 2, 3):
        raise ValueError(f"`{names[1]}` must be 3-D, 4-D or 5-D (*kernel, C_in, C_out), or a plain kernel "
                         f"of the input's ndim; got shape {filters_shape}")
    return input_shape, filters_shape, nd, data_format or _checks.DATA_FORMATS[nd][0], False


def _options(strides, padding, data_format, dilations, groups, flip, method, backend, measure=False):
    return dict(strides=strides, padding="VALID", data_format=data_format, dilations=dilations,
                groups=groups, flip=flip, method=method, workers=1, measure=measure, backend=backend)


def _check_workers_count(workers, name: str = "workers") -> int:
    if workers is None:
        return _checks.CPUS
    return _checks.check_positive_int(name, workers)


# -- chunks for a budget -----------------------------------------------------------------------------

def chunks_for(shape, filters_shape, memory="4GiB", workers=None, strides=1, padding="VALID",
               data_format=None, dilations=1, *, groups=None, flip=False, padding_mode="constant",
               dtype="float32", storage_chunks=None, shells_in_memory=True, method="auto", backend="auto"):
    """Chunks for a convolution whose memory peak fits a budget, and that peak.

    Parameters
    ----------
    shape : tuple of int
        The input's shape, in ``data_format`` order; or a plain array's
        (``data_format`` ``"W"``, ``"HW"``, ``"DHW"``, or None with a plain
        kernel of the same ndim).
    filters_shape : tuple of int
        ``(*kernel, C_in / groups, C_out)``, or a plain kernel's shape.
    memory : int or str
        The budget of one process, in bytes or as ``"4GiB"``, ``"512MiB"``, ``"2e9"``.
    workers : int, optional
        Tasks run at once in one process (the threads of dask's threaded
        scheduler, or of one dask.distributed worker); default: the CPU count.
    strides, padding, data_format, dilations, groups, flip, padding_mode, method, backend
        As for :func:`fftconv.conv3d` and kin.
    dtype : dtype-like
        The input's dtype.
    storage_chunks : tuple of int, optional
        The chunk shape of the store the input is read from (a zarr array's
        ``chunks``): the chunks returned are made of whole storage chunks.
    shells_in_memory : bool
        True for the lazy dask functions (a cache of
        ``fftconv._outofcore.shells.SHELL_CACHE_BYTES`` per process), False for
        :func:`convolve_zarr` (its shells are files).

    Returns
    -------
    chunks : tuple of int
        A chunk shape for ``dask.array.from_zarr(..., chunks=chunks)`` or
        ``x.rechunk(chunks)``: one image per batch chunk, the spatial chunks
        alike (cubes, squares) and as large as fits, all channels in one chunk.
    peak : int
        The predicted peak resident memory of one process, in bytes
        (:doc:`/out_of_core` gives the formula).

    Raises
    ------
    ValueError
        Bad shapes or arguments (the messages of :func:`fftconv.conv3d`), or
        a budget too small for even the smallest chunks.

    Examples
    --------
    >>> import fftconv.dask
    >>> chunks, peak = fftconv.dask.chunks_for((2048, 2048, 2048), (15, 15, 15), memory="4GiB",
    ...                                        workers=2, padding="SAME")
    >>> chunks, peak <= 4 * 2**30
    ((256, 256, 256), True)
    """
    budget = parse_bytes(memory)
    workers = _check_workers_count(workers)
    full, wfull, nd, fmt, plain = layout(shape, filters_shape, data_format, ("shape", "filters_shape"))
    geom = _checks.check_geometry(full, wfull, nd, strides, padding, fmt, dilations, groups, flip,
                                  names=("shape", "filters_shape"), padding_mode=padding_mode)
    dtype = _checks.check_dtype("dtype", dtype)
    channels_first = fmt.startswith("NC")
    storage = None
    if storage_chunks is not None:
        storage = tuple(int(c) for c in storage_chunks)
        if len(storage) != len(shape) or min(storage) < 1:
            raise ValueError(f"`storage_chunks` must be {len(shape)} positive ints (a chunk shape of the "
                             f"input); got {storage_chunks!r}")
        storage = (1, *storage, 1) if plain else storage
    bank = FilterBank(np.zeros(wfull, dtype=np.float32 if dtype.kind != "c" else np.complex64),
                      **_options(geom.strides, padding, fmt, geom.dilations, geom.groups, geom.flip, method,
                                 backend))
    sizes, _, pred = choose_chunks(bank, full, geom, channels_first, dtype, budget, workers,
                                   shells.SHELL_CACHE_BYTES if shells_in_memory else 0, storage)
    return (sizes[1:-1] if plain else sizes), pred["peak"]
